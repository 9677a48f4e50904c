"""``nengo-lmu deploy``: run a trained LMU, spiking, step by step on a backend.

The wiring is :mod:`nengo_lmu.deploy`; this module is its command line. It loads a
parameter file saved by :meth:`.LMU.save_params` (``nengo-lmu psmnist`` writes
``psmnist-params.npz``) or, without ``--params``, first trains the small demo network
of :func:`nengo_lmu.deploy.train_demo` (and saves its parameters next to the results).
It writes

* ``deploy-<task>-<backend>.json``: the deployed network's figure (``nrmse`` or
  ``accuracy``), the trained rate network's on the same data (``reference``), the Loihi
  resources (Loihi backends), timings and settings;
* ``deploy-<task>-<backend>.png`` (window-rms): output against target.
"""

import os

from . import (
    Command, UsageError, _fresh_path, add_progress_arguments, check_backend_available, save_figure, save_json,
    show_progress,
)

BACKEND_HELP = {
    "nengo": "the nengo reference simulator",
    "dl": "NengoDL",
    "loihi-sim": "the Loihi emulator (hidden neurons on the chip)",
    "loihi": "a Loihi board (needs nxsdk)",
}


def add_arguments(parser):
    from ..backends import BACKENDS
    from ..deploy import DEMO, NEURONS, TASKS

    g = parser.add_argument_group("the trained network")
    g.add_argument(
        "--params", metavar="FILE", default=None,
        help="parameter file (.npz) saved by LMU.save_params, e.g. psmnist-params.npz "
        "from 'nengo-lmu psmnist'; default: train the small window-rms demo network "
        f"first (about {DEMO['epochs']} epochs, under a minute) and save it in --out-dir",
    )
    g.add_argument(
        "--task", choices=["auto"] + sorted(TASKS), default="auto",
        help="the task to test on: "
        + "; ".join(f"{k}: {v['help']}" for k, v in TASKS.items())
        + ". 'auto' reads it from the file's metadata, or takes psmnist for a psMNIST-"
        "sized network (default: %(default)s)",
    )
    g.add_argument(
        "--demo-epochs", type=int, metavar="EPOCHS", default=DEMO["epochs"],
        help="training epochs of the demo network (without --params) (default: %(default)s)",
    )
    g = parser.add_argument_group("deployment")
    g.add_argument(
        "--backend", choices=BACKENDS, default="nengo",
        help="where to run: " + "; ".join(f"{k}: {v}" for k, v in BACKEND_HELP.items())
        + " (default: %(default)s)",
    )
    g.add_argument(
        "--neurons", choices=NEURONS, default="spiking",
        help="hidden neurons: 'rate' as trained, or 'spiking' (ReLU to spiking ReLU); "
        "Loihi needs spiking (default: %(default)s)",
    )
    g.add_argument(
        "--firing-rate-scale", type=float, metavar="S", default=1000.0,
        help="spiking: the hidden neurons fire this many times their trained rate "
        "(more spikes, less noise; Loihi fires at most once per step, 1/dt) "
        "(default: %(default)s)",
    )
    g.add_argument(
        "--hidden-synapse", type=float, metavar="TAU", default=None,
        help="lowpass time constant (s) on the hidden neurons' outputs; 0 for none; "
        "default: the task's (window-rms 0.05, psmnist none)",
    )
    g.add_argument(
        "--memory-neurons", type=int, metavar="N", default=0,
        help="0: the exact memory; N: a spiking LIF memory of N neurons per coefficient "
        "(default: %(default)s)",
    )
    g = parser.add_argument_group("test data")
    g.add_argument(
        "--n-test", type=int, metavar="N", default=None,
        help="test size: window-rms, steps of test signal (default "
        f"{TASKS['window-rms']['n_test']}); psmnist, test digits presented back to back "
        f"(default {TASKS['psmnist']['n_test']})",
    )
    g.add_argument(
        "--seed", type=int, metavar="SEED", default=0,
        help="seed of the test signal and of the demo network (default: %(default)s)",
    )
    add_progress_arguments(parser)


def check_arguments(args):
    """Everything that can be checked before any training or simulation.

    Returns the loaded network (None: the demo is to be trained) and its task.
    """
    from nengo.exceptions import ValidationError

    from .. import data
    from ..deploy import task_of
    from ..lmu import LMU

    if not args.firing_rate_scale > 0:
        raise UsageError(f"--firing-rate-scale must be > 0 (got {args.firing_rate_scale})")
    if args.hidden_synapse is not None and args.hidden_synapse < 0:
        raise UsageError(f"--hidden-synapse must be >= 0 (got {args.hidden_synapse})")
    if args.memory_neurons < 0:
        raise UsageError(f"--memory-neurons must be >= 0 (got {args.memory_neurons})")
    if args.n_test is not None and args.n_test < 1:
        raise UsageError(f"--n-test must be >= 1 (got {args.n_test})")
    if args.demo_epochs < 1:
        raise UsageError(f"--demo-epochs must be >= 1 (got {args.demo_epochs})")
    if args.backend in ("loihi-sim", "loihi") and args.neurons != "spiking":
        raise UsageError(f"--backend {args.backend} runs spiking neurons only; drop --neurons rate")
    check_backend_available(args.backend)
    task = None if args.task == "auto" else args.task
    lmu = None
    if args.params is None:
        task = task or "window-rms"
        if task != "window-rms":
            raise UsageError(f"--task {task} needs --params (the demo network is window-rms)")
    else:
        try:
            lmu = LMU.load(args.params)
            task = task_of(lmu, task)
        except ValidationError as e:
            raise UsageError(f"--params {args.params}: {e.args[0]}") from None
        except KeyError as e:
            raise UsageError(f"--params {args.params}: malformed signature (no {e})") from None
    if task == "psmnist":
        try:
            data.mnist_path()
        except data.MissingDataError as e:
            raise UsageError(str(e)) from None
    if task == "window-rms" and args.n_test is not None:
        from ..deploy import DEMO

        window = DEMO["window"] if lmu is None else lmu.metadata.get("window", round(lmu.theta / lmu.dt))
        if args.n_test <= 2 * window:
            raise UsageError(
                f"--n-test must exceed two windows of the memory ({2 * window} steps) (got {args.n_test})"
            )
    return lmu, task


def plot(results, seconds=5.0):
    """Output against target over the last ``seconds`` of a window-rms run."""
    import numpy as np
    import nengo
    from matplotlib.figure import Figure

    test, y = results["test"], results["y"]
    dt = test["dt"]
    t = dt * np.arange(1, len(y) + 1)
    keep = t > t[-1] - seconds
    synapse = results["settings"]["hidden_synapse"]
    target = test["y"] if synapse is None else nengo.Lowpass(synapse).filt(test["y"], dt=dt, y0=0)
    fig = Figure(figsize=(9, 4), layout="constrained")
    ax = fig.subplots()
    ax.plot(t[keep], test["u"][keep], color="0.8", lw=0.8, label="input u(t)")
    ax.plot(t[keep], y[keep], color="tab:red", lw=1.2,
            label=f"{results['neurons']} LMU on {results['backend']} (NRMSE {results['nrmse']:.3f})")
    ax.plot(t[keep], target[keep], "k--", lw=1.5, label="target: RMS over the window")
    ax.set_xlabel("time (s)")
    ax.legend(loc="upper left", fontsize=8)
    ax.set_title(f"Trained LMU deployed: {results['settings']['units']} hidden neurons, "
                 f"order {results['settings']['order']}")
    return fig


def run(args):
    from .. import deploy

    lmu, task = check_arguments(args)
    args.progress = show_progress(args)
    out = {"command": "deploy"}
    if lmu is None:
        print(f"no --params: training the {task} demo network through NengoDL first", flush=True)
        callbacks = None
        if args.progress:
            from tqdm.keras import TqdmCallback

            callbacks = [TqdmCallback(epochs=args.demo_epochs, verbose=0, desc="training")]
        lmu, history = deploy.train_demo(epochs=args.demo_epochs, seed=args.seed, callbacks=callbacks)
        os.makedirs(args.out_dir, exist_ok=True)
        path = _fresh_path(os.path.join(args.out_dir, f"deploy-{task}-params.npz"))
        lmu.save_params(path, metadata=lmu.metadata)
        out.update(params_file=path, train_seconds=history["seconds"], train_loss=history["loss"][-1])
        print(f"trained in {history['seconds']:.1f} s (final loss {history['loss'][-1]:.2e}); saved {path}")
    else:
        out["params_file"] = args.params
    synapse = "task" if args.hidden_synapse is None else (args.hidden_synapse or None)
    results = deploy.deploy(
        lmu, task, backend=args.backend, neurons=args.neurons, firing_rate_scale=args.firing_rate_scale,
        hidden_synapse=synapse, memory_neurons=args.memory_neurons, n_test=args.n_test, seed=args.seed,
        progress=args.progress,
    )
    metric = "nrmse" if "nrmse" in results else "accuracy"
    ref = results["reference"]
    print(f"{task}, {args.neurons} on {args.backend}: {metric} {results[metric]:.4f}"
          + (f" (trained rate network: {ref[metric]:.4f})" if ref else "")
          + (f"; hidden neurons up to {results['peak_rate_hz']:.0f} Hz" if "peak_rate_hz" in results else "")
          + f"; {results['steps_per_s']:.0f} steps/s")
    if "resources" in results:
        print(results["resources"])
        results["resources"] = results["resources"].as_dict()
    name = f"deploy-{task}-{args.backend}"
    if task == "window-rms":
        out["figure"] = save_figure(plot(results), args.out_dir, name)
    saved = {k: v for k, v in results.items() if k not in ("y", "test")}
    out.update(saved)
    out["json"] = save_json(out, args.out_dir, name)
    return out


COMMANDS = {
    "deploy": Command(
        help="run a trained LMU (a parameter file, or a quickly trained demo) with spiking "
        "neurons on nengo, NengoDL or Loihi; score it and report Loihi resources",
        add_arguments=add_arguments,
        run=run,
    ),
}
