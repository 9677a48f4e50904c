#!/usr/bin/env python
"""Run the LMU delay network (config L1 by default) on a Loihi board or the emulator.

The same network, the same metrics, whatever the backend::

    python hardware/run_delay.py --backend loihi-sim      # nengo-loihi emulator (bit-true)
    python hardware/run_delay.py --backend loihi          # a board (needs nxsdk)
    SLURM=1 PARTITION=loihi python hardware/run_delay.py --backend loihi   # INRC cloud

Prints the chip resources, the delay NRMSE (10 ms lowpass on output and delayed
target, t > 1 s; ``nengo_lmu.maths.delay_nrmse``), the wall-clock steps per second,
and with ``--reference`` the same network's NRMSE on the ``nengo`` backend and the ratio.
``--json PATH`` saves the figures (a new file: an existing one is never overwritten).
"""

import argparse
import sys

#: the backends of nengo_lmu.backends.BACKENDS that run nengo-loihi
LOIHI_BACKENDS = ("loihi-sim", "loihi-simreal", "loihi")


def main(argv=None):
    from nengo_lmu.quiet import quiet_startup

    quiet_startup()
    from nengo.exceptions import ValidationError

    from nengo_lmu import backends, io
    from nengo_lmu.backends import BACKENDS
    from nengo_lmu.bench import loihi as bench_loihi

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backend", choices=LOIHI_BACKENDS, default="loihi-sim",
                        help="; ".join(f"{k}: {BACKENDS[k]}" for k in LOIHI_BACKENDS))
    parser.add_argument("--duration", type=float, default=10.0, help="simulated seconds (scored after 1 s)")
    parser.add_argument("--order", type=int, default=6, help="Legendre order")
    parser.add_argument("--n-neurons", type=int, default=600, help="neurons in the memory")
    parser.add_argument("--theta", type=float, default=0.3, help="delay / window, s")
    parser.add_argument("--seed", type=int, default=0, help="network seed")
    parser.add_argument("--no-precompute", action="store_true",
                        help="step host and chip together instead of precomputing the input")
    parser.add_argument("--reference", action="store_true",
                        help="also run the nengo backend (the reference simulator) and print the ratio")
    parser.add_argument("--json", metavar="PATH", help="write the figures as JSON (a new file)")
    args = parser.parse_args(argv)
    try:
        # every argument, the backend and the output file, before any work
        order, n_neurons, theta = bench_loihi.check_network(args.order, args.n_neurons, args.theta, "run_delay")
        bench_loihi.check_duration(args.duration, "duration", "run_delay", low=bench_loihi.T_SKIP)
        backends.check_backend(args.backend, where="run_delay")
        if args.json:
            io.check_output_file(args.json, attr="json")
    except ValidationError as e:
        if e.attr == "json":
            parser.error(f"--json: {e.args[0]}")  # exits with status 2
        print(f"error: {e}", file=sys.stderr)
        return 2

    config = dict(bench_loihi.L1, order=order, n_neurons=n_neurons, theta=theta, seed=args.seed)
    net, probes = bench_loihi.delay_network(**config)
    from nengo_lmu import loihi

    res = loihi.resources(net)
    print(res)
    figures = {"config": config, "duration": args.duration, "resources": res.as_dict()}
    precompute = False if args.no_precompute else None
    r = bench_loihi.run_delay(net, probes, args.backend, args.duration, precompute=precompute)
    figures[args.backend] = r
    print(f"backend={args.backend} NRMSE={r['nrmse']:.4f} steps/s={r['steps_per_s']:.0f} "
          f"precompute={r['precompute']}")
    if args.reference:
        ref = bench_loihi.run_delay(net, probes, "nengo", args.duration)
        figures["nengo"] = ref
        figures["ratio_to_nengo"] = r["nrmse"] / ref["nrmse"]
        print(f"backend=nengo NRMSE={ref['nrmse']:.4f} ratio={figures['ratio_to_nengo']:.3f}")
    if args.json:
        import json

        text = json.dumps(figures, indent=2, default=float)
        io.write_atomic(args.json, lambda f: f.write(text.encode()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
