"""``nengo-lmu deploy``: run a trained LMU, spiking, step by step on a backend.

The wiring is :mod:`nengo_lmu.deploy`; :func:`run` is its command. It loads a parameter
file saved by :meth:`.LMU.save_params` (``nengo-lmu psmnist`` writes
``psmnist-params.npz``) or, without ``params``, first trains the small demo network of
:func:`nengo_lmu.deploy.train_demo` (and saves its parameters next to the results). It
writes

* ``deploy-<task>-<backend>.json``: the deployed network's figure (``nrmse`` or
  ``accuracy``), the trained rate network's on the same data, its output through the
  same output synapse (``reference``, :func:`nengo_lmu.deploy.reference`), the Loihi
  resources (Loihi backends), timings and settings;
* ``deploy-<task>-<backend>.png`` (window-rms): output against target.
"""

from .. import validation
from ..backends import BACKENDS, check_backend, is_loihi
from ..dl import HARDWARE, Hardware, check_weight_bits
from ..deploy import MEMORY_SCALES
from ..lmu import MEMORY_SYNAPSE
from . import MAX_STEPS, Command, Option, check_output, read_file, save_figure, save_json, save_params, show_progress

WHERE = "deploy"


def run(params=None, task="auto", demo_epochs=30, backend="nengo", neurons="spiking", firing_rate_scale=None,
        hidden_synapse=None, memory_neurons=0, n_test=None, seed=0, progress=None, out_dir="results",
        overwrite=False, memory=None, attribute=False, hardware="none", steps_per_sample=1,
        readout_steps=0, delay_steps=0, neurons_per_unit=None, spiking_steps=0, memory_scale="rms",
        memory_synapse=None, weight_bits=None):
    """Deploy a trained LMU (``params``, or the demo network trained first) on ``backend``.

    ``hidden_synapse=None`` takes the task's (window-rms 0.05 s, psmnist none), 0 none;
    ``memory_neurons=0`` keeps the exact memory, N makes it spiking with N neurons per
    coefficient; ``memory="chip"`` (with ``memory_neurons``) deploys the whole network, the
    spiking memory feeding the hidden neurons neuron to neuron, ``"host"`` the exact memory
    (:func:`nengo_lmu.deploy.convert`); ``steps_per_sample`` holds each input sample for that
    many simulator steps (chip time per sample ``steps_per_sample * dt``); ``readout_steps``
    (psmnist) holds each digit's last pixel and memory state that many steps and scores the
    output averaged over them (:func:`nengo_lmu.deploy.hold_readout`); ``hardware="loihi"`` fine-tunes the demo network for
    the chip after training it (:func:`nengo_lmu.deploy.train_demo`; a ``params`` file keeps
    its own training), ``delay_steps`` steps early for an output that reaches the host that
    late (``dl.Hardware(delay_steps=...)``), and with ``spiking_steps`` then spike-aware
    over that many last steps of each sequence, its output through the deployment's hidden
    synapse (``dl.Hardware(spiking_steps=..., synapse=...)``); ``neurons_per_unit`` spiking neurons run each
    hidden unit (:attr:`nengo_lmu.LMU.neurons_per_unit`; None: a file's as trained, else one), and
    ``hardware="loihi"`` trains the demo's units as that many chip neurons
    (``dl.Hardware(neurons_per_unit=...)``), and with ``weight_bits`` its hidden layer's
    input weights for a grid of that many bits (``dl.Hardware(weight_bits=...)``; None:
    full precision); ``memory_scale`` sets a spiking
    memory's range from the input's RMS, its loudest window or each coefficient's peak
    (:func:`nengo_lmu.deploy.memory_statistics`) and ``memory_synapse`` its synapse (s);
    ``n_test`` is the test size (window-rms: steps;
    psmnist: digits). Every
    argument, the parameter file, the data and ``out_dir`` are checked before any
    training. Returns the JSON's content with ``"files"``.
    """
    from .. import data, deploy
    from ..lmu import LMU

    # --- every argument, the file, the data and the output directory, before any training
    validation.choice(task, ("auto",) + tuple(deploy.TASKS), "task", where=WHERE)
    demo_epochs = validation.integer(demo_epochs, "demo_epochs", high=10_000, where=WHERE)
    check_backend(backend, where=WHERE)
    validation.choice(neurons, deploy.NEURONS, "neurons", where=WHERE)
    if is_loihi(backend) and neurons != "spiking":
        raise validation.error(f"backend {backend} runs spiking neurons only; drop --neurons rate", "neurons",
                               where=WHERE)
    if firing_rate_scale is not None:
        firing_rate_scale = validation.positive(firing_rate_scale, "firing_rate_scale", where=WHERE)
    if hidden_synapse is not None:
        hidden_synapse = validation.non_negative(hidden_synapse, "hidden_synapse", where=WHERE)
    memory_neurons = validation.integer(memory_neurons, "memory_neurons", low=0, high=10_000, where=WHERE)
    if memory is not None:
        deploy.check_memory(memory, memory_neurons, where=WHERE)
    attribute = validation.boolean(attribute, "attribute", where=WHERE)
    validation.choice(memory_scale, MEMORY_SCALES, "memory_scale", where=WHERE)
    memory_synapse = deploy.check_memory_synapse(memory_synapse, memory_neurons, backend, where=WHERE)
    steps_per_sample = deploy.check_steps_per_sample(steps_per_sample, where=WHERE)
    readout_steps = deploy.check_readout_steps(readout_steps, where=WHERE)
    if readout_steps and (memory_neurons or steps_per_sample > 1):
        raise validation.error("a held readout needs the exact memory and one step per sample: drop "
                               "--memory-neurons / --steps-per-sample", "readout_steps", where=WHERE)
    validation.choice(hardware, ("none",) + HARDWARE, "hardware", where=WHERE)
    if hardware != "none" and params is not None:
        # a file holds weights, not its training data and settings (psmnist: hours of training)
        raise validation.error("trains the demo network only, not a --params file: drop --hardware to deploy "
                               "the file as trained (one fine-tuned with nengo_lmu.dl.fit(..., hardware='loihi') "
                               "keeps its chip settings), or drop --params", "hardware", where=WHERE)
    delay_steps = validation.integer(delay_steps, "delay_steps", low=0, high=1000, where=WHERE)
    spiking_steps = validation.integer(spiking_steps, "spiking_steps", low=0, high=deploy.DEMO["window"] * 2,
                                       where=WHERE)
    weight_bits = check_weight_bits(weight_bits, where=WHERE)
    for name, value in (("delay_steps", delay_steps), ("spiking_steps", spiking_steps),
                        ("weight_bits", weight_bits)):
        if value and hardware == "none":
            raise validation.error("is trained by hardware-aware fine-tuning: add --hardware loihi", name,
                                   where=WHERE)
    if n_test is not None:
        n_test = validation.integer(n_test, "n_test", high=MAX_STEPS, where=WHERE)
    if n_test is not None and n_test * steps_per_sample > MAX_STEPS:
        raise validation.error(f"with n_test={n_test} the run would take {n_test * steps_per_sample} steps, "
                               f"more than {MAX_STEPS}; nearest that fits: {max(MAX_STEPS // n_test, 1)}",
                               "steps_per_sample", where=WHERE)
    seed = validation.integer(seed, "seed", low=0, where=WHERE)
    progress = show_progress(progress)
    task = None if task == "auto" else task
    lmu = None
    if params is None:
        task = task or "window-rms"
        if task != "window-rms":
            raise validation.error(f"{task} needs --params (the demo network is window-rms)", "task", where=WHERE)
    else:
        lmu = read_file(LMU.load, params)
        task = deploy.task_of(lmu, task)
    neurons_per_unit = deploy.deployed_neurons_per_unit(lmu, neurons_per_unit, where=WHERE)
    if readout_steps and task != "psmnist":
        raise validation.error(f"a readout period is for psmnist (digits), not {task}", "readout_steps",
                               where=WHERE)
    if task == "psmnist":
        data.mnist_path()  # the data package is installed (MissingDataError says how to install it)
    if task == "window-rms" and n_test is not None:
        window = deploy.DEMO["window"] if lmu is None else lmu.metadata.get("window", round(lmu.theta / lmu.dt))
        if n_test <= 2 * window:
            raise validation.error(f"must exceed two windows of the memory ({2 * window} steps) (got {n_test})",
                                   "n_test", where=WHERE)
    out_dir = check_output(out_dir, overwrite, where=WHERE)

    out = {"command": "deploy"}
    files = []
    if lmu is None:
        print(f"no --params: training the {task} demo network through NengoDL first", flush=True)
        callbacks = None
        if progress:
            from tqdm.keras import TqdmCallback

            callbacks = [TqdmCallback(epochs=demo_epochs, verbose=0, desc="training")]
        lmu, history = deploy.train_demo(epochs=demo_epochs, seed=seed, callbacks=callbacks,
                                         hardware=None if hardware == "none" else Hardware(
                                             hardware, firing_rate_scale=firing_rate_scale or 1000.0,
                                             delay_steps=delay_steps, spiking_steps=spiking_steps,
                                             neurons_per_unit=neurons_per_unit,
                                             weight_bits=weight_bits,
                                             # the output's synapse in training is the deployment's
                                             synapse=deploy.TASKS[task]["hidden_synapse"]
                                             if hidden_synapse is None else hidden_synapse or None))
        path = save_params(lmu, out_dir, f"deploy-{task}-params", lmu.metadata, overwrite)
        files.append(path)
        out.update(params_file=path, train_seconds=history["seconds"], train_loss=history["loss"][-1])
        print(f"trained in {history['seconds']:.1f} s (final loss {history['loss'][-1]:.2e})")
    else:
        out["params_file"] = params
    synapse = "task" if hidden_synapse is None else (hidden_synapse or None)
    results = deploy.deploy(
        lmu, task, backend=backend, neurons=neurons, firing_rate_scale=firing_rate_scale,
        hidden_synapse=synapse, memory_neurons=memory_neurons, n_test=n_test, seed=seed, progress=progress,
        memory=memory, attribute=attribute, steps_per_sample=steps_per_sample, readout_steps=readout_steps,
        neurons_per_unit=neurons_per_unit, memory_scale=memory_scale, memory_synapse=memory_synapse,
    )
    metric = "nrmse" if "nrmse" in results else "accuracy"
    ref = results["reference"]
    compared = f" (trained rate network: {ref[metric]:.4f})" if ref else ""
    metrics = results.get("report", {}).get("metrics", {})
    trained = metrics.get("trained")
    if ref and trained is not None and trained != ref[metric]:
        # hardware-aware training trained the chip's rate curves, not ReLU rates
        compared = f" (as trained, on the chip's rate curves: {trained:.4f}; as ReLU rates: {ref[metric]:.4f})"
    elif ref and "trained" in metrics and trained is None:
        # spike-aware training trained the chip's spikes: no rate figure is the trained network's
        chip = f"on the chip's rate curves: {metrics['chip_rates']:.4f}; " if "chip_rates" in metrics else ""
        compared = f" (trained spike-aware; {chip}as ReLU rates: {ref[metric]:.4f})"
    plain = results.get("plain_reference")
    if plain:
        # the baseline of a hardware-aware network: the plainly trained one it started from
        ratio = f"{results[metric] / plain[metric]:.1f}x " if metric == "nrmse" else ""
        compared += f" ({ratio}the plainly trained rate network's {plain[metric]:.4f})"
    print(f"{task}, {neurons} on {backend}: {metric} {results[metric]:.4f}" + compared
          + (f"; hidden neurons up to {results['peak_rate_hz']:.0f} Hz" if "peak_rate_hz" in results else "")
          + f"; {results['steps_per_s']:.0f} steps/s"
          + (f" ({steps_per_sample} per sample)" if steps_per_sample > 1 else "")
          + (f"; output averaged over a {readout_steps}-step readout per digit" if readout_steps else ""))
    if "report" in results:
        print(deploy.format_report(results["report"]))
    if "resources" in results:
        print(results["resources"])
        results["resources"] = results["resources"].as_dict()
    name = f"deploy-{task}-{backend}"
    if task == "window-rms":
        out["figure"] = save_figure(plot(results), out_dir, name, overwrite)
        files.append(out["figure"])
    out.update({k: v for k, v in results.items() if k not in ("y", "test")})
    out["json"] = save_json(out, out_dir, name, overwrite)
    out["files"] = files + [out["json"]]
    return out


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


COMMANDS = {
    "deploy": Command(
        help="run a trained LMU (a parameter file, or a quickly trained demo) with spiking "
        "neurons on nengo, NengoDL or Loihi; score it, and on the Loihi backends report its chip resources",
        run=run,
        options=(
            Option("params", str, "parameter file (.npz) saved by LMU.save_params, e.g. psmnist-params.npz "
                   "from 'nengo-lmu psmnist'; default: train the small window-rms demo network first (30 "
                   "epochs, about 6 s; the whole command about 20 s) and save it in --out-dir", group="the trained network"),
            Option("task", str, "the task to test on: window-rms (the quick demo), mackey-glass (a file from "
                   "'nengo-lmu mackey-glass-chip') or psmnist; 'auto' reads it from the file's metadata, or takes "
                   "psmnist for a psMNIST-sized network",
                   choices=("auto", "psmnist", "window-rms", "mackey-glass"), group="the trained network"),
            Option("demo_epochs", int, "training epochs of the demo network (without --params)",
                   group="the trained network"),
            Option("hardware", str, "'loihi': then fine-tune the demo network on the chip's rates at "
                   "--firing-rate-scale (hardware-aware training, nengo_lmu.dl.Hardware); not with --params "
                   "(fine-tune a file's network with nengo_lmu.dl.fit(..., hardware='loihi'))",
                   choices=("none",) + HARDWARE,
                   group="the trained network"),
            Option("delay_steps", int, "with --hardware loihi: train the demo network to answer this many "
                   "steps early, for an output that reaches the host that late (memory on the host: 3, "
                   "nengo_lmu.loihi.HOST_MEMORY_LAG_STEPS); default 0", group="the trained network"),
            Option("spiking_steps", int, "with --hardware loihi: then fine-tune the demo network spike-aware: "
                   "the chip's spiking neurons forward, their rate curve's gradient backward, over this many last "
                   "steps of each training sequence, the output through --hidden-synapse (about 2 min at 400); "
                   "default 0: rates only", group="the trained network"),
            Option("weight_bits", int, "with --hardware loihi: train the demo network's hidden-layer input "
                   "weights for a grid of this many bits, sign included (8: the chip's; "
                   "nengo_lmu.dl.Hardware(weight_bits=...)); default: full precision",
                   group="the trained network"),
            Option("backend", str, "where to run: " + "; ".join(f"{k}: {v}" for k, v in BACKENDS.items()),
                   choices=tuple(BACKENDS), group="deployment"),
            Option("neurons", str, "hidden neurons: 'rate' as trained, or 'spiking' (ReLU to spiking ReLU); "
                   "Loihi needs spiking", choices=("rate", "spiking"), group="deployment"),
            Option("firing_rate_scale", float, "spiking: the hidden neurons fire this many times their trained "
                   "rate (more spikes, less noise; Loihi fires at most once per step, 1/dt); default: the scale the "
                   "file was trained for (hardware-aware training), else 1000", group="deployment"),
            Option("hidden_synapse", float, "lowpass time constant (s) on the hidden neurons' outputs; 0 for "
                   "none; default: the task's (window-rms 0.05, psmnist none)", group="deployment"),
            Option("neurons_per_unit", int, "spiking neurons running each hidden unit (ReLU units): gains "
                   "spread below the unit's, outputs summed, so the same rates with less spike noise; with "
                   "--hardware loihi the demo is trained for them; default: as many as the file was trained "
                   "for, else 1",
                   group="deployment"),
            Option("memory_neurons", int, "0: the exact memory; N: a spiking memory of N neurons per "
                   "coefficient (LIF; on Loihi the chip's options)", group="deployment"),
            Option("memory_scale", str, "a spiking memory's range: 'rms', from the test input's RMS; 'window', "
                   "from its loudest memory window (for inputs whose loudness drifts; give the memory more "
                   "neurons); 'peak', each coefficient's from the largest value the exact memory's state "
                   "reaches on the test input", choices=MEMORY_SCALES, group="deployment"),
            Option("memory_synapse", float, f"a spiking memory's synapse (s); default {MEMORY_SYNAPSE} (window-rms "
                   "on the Loihi emulator measured 0.1-0.2 better)", group="deployment"),
            Option("memory", str, "where the memory runs: 'chip', a spiking memory (give --memory-neurons) "
                   "feeding the hidden neurons neuron to neuron, on Loihi the whole network on the chip; "
                   "'host', the exact memory (on Loihi on the host, the hidden layer on the chip)",
                   choices=("host", "chip"), group="deployment"),
            Option("attribute", bool, "Loihi: add intermediate runs to the report (float emulator; exact memory "
                   "on the host when --memory chip), to attribute the loss; one build and run each",
                   group="deployment"),
            Option("steps_per_sample", int, "simulator steps per input sample (default 1): each sample is "
                   "held this long, the memory's window and the hidden synapse stretched to match, the output "
                   "read at each sample's last step; more steps give the hidden neurons (at most one spike per "
                   "step on Loihi) more spikes per sample", group="deployment"),
            Option("readout_steps", int, "psmnist: after each digit hold its last pixel and the (exact, host) "
                   "memory's state this many steps and score the output averaged over them (spike counts, "
                   "at most one spike per step on Loihi, instead of one step's spikes); default 0: the last "
                   "step", group="deployment"),
            Option("n_test", int, "test size: window-rms, steps of test signal (default 10000); mackey-glass, "
                   "samples of the test part (default all); psmnist, test digits presented back to back (default 100)", group="test data"),
            Option("seed", int, "seed of the test signal, of the demo network and of the deployed network's build", group="test data"),
        ),
    ),
}
