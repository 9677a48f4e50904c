#!/usr/bin/env python
"""Run the LMU delay network (config L1 by default) on a Loihi board or the emulator.

The same network, the same metrics, whatever the target::

    python hardware/run_delay.py --target sim            # nengo-loihi emulator
    python hardware/run_delay.py --target loihi          # a board (needs nxsdk)
    SLURM=1 PARTITION=loihi python hardware/run_delay.py --target loihi   # INRC cloud

Prints the chip resources, the delay NRMSE (10 ms lowpass on output and delayed
target, t > 1 s; ``nengo_lmu.maths.delay_nrmse``), the wall-clock steps per second,
and with ``--reference`` the same network's NRMSE on ``nengo.Simulator`` and the ratio.
``--json PATH`` saves the figures (a new file: an existing one is never overwritten).
"""

import argparse
import json
import os
import sys


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--target", choices=("sim", "simreal", "loihi"), default="sim",
                        help="sim: bit-true emulator; simreal: float emulator; loihi: board")
    parser.add_argument("--duration", type=float, default=10.0, help="simulated seconds (scored after 1 s)")
    parser.add_argument("--order", type=int, default=6, help="Legendre order")
    parser.add_argument("--n-neurons", type=int, default=600, help="neurons in the memory")
    parser.add_argument("--theta", type=float, default=0.3, help="delay / window, s")
    parser.add_argument("--seed", type=int, default=0, help="network seed")
    parser.add_argument("--no-precompute", action="store_true",
                        help="step host and chip together instead of precomputing the input")
    parser.add_argument("--reference", action="store_true",
                        help="also run nengo.Simulator and print the ratio")
    parser.add_argument("--json", metavar="PATH", help="write the figures as JSON")
    args = parser.parse_args(argv)
    if args.duration <= 1.0:
        parser.error("--duration must exceed 1 s (the first second is not scored)")
    if args.json and os.path.exists(args.json):
        parser.error(f"--json {args.json!r} exists; give a new path (nothing is overwritten)")

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    from nengo_lmu import loihi
    from nengo_lmu.bench.loihi import L1, delay_network, run_delay

    try:
        loihi._check_target(args.target)
    except ImportError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2

    config = dict(L1, order=args.order, n_neurons=args.n_neurons, theta=args.theta, seed=args.seed)
    net, probes = delay_network(**config)
    res = loihi.resources(net)
    print(res)
    figures = {"config": config, "duration": args.duration, "resources": res.as_dict()}
    precompute = False if args.no_precompute else None
    r = run_delay(net, probes, args.target, args.duration, precompute=precompute)
    figures[args.target] = r
    print(f"target={args.target} NRMSE={r['nrmse']:.4f} steps/s={r['steps_per_s']:.0f} "
          f"precompute={r['precompute']}")
    if args.reference:
        ref = run_delay(net, probes, "ref", args.duration)
        figures["ref"] = ref
        figures["ratio_to_ref"] = r["nrmse"] / ref["nrmse"]
        print(f"target=ref NRMSE={ref['nrmse']:.4f} ratio={figures['ratio_to_ref']:.3f}")
    if args.json:
        with open(args.json, "x") as f:
            json.dump(figures, f, indent=2, default=float)
    return 0


if __name__ == "__main__":
    sys.exit(main())
