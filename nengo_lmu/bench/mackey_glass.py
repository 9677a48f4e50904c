"""``nengo-lmu mackey-glass``: the LMU against an LSTM of equal size on Mackey-Glass prediction.

:func:`run` trains both through the same protocol (:data:`MACKEY_GLASS_PROTOCOL`), the LMU
through NengoDL (:mod:`nengo_lmu.dl`), and reports their test NRMSE per seed.
:func:`run_chip` (``nengo-lmu mackey-glass-chip``) trains the same LMU, fine-tunes it for
the chip and deploys it on the bit-true Loihi emulator, the memory on the host and on the
chip (:mod:`nengo_lmu.deploy`, task ``mackey-glass``).
"""

import time

import numpy as np

from .. import validation
from . import (MAX_ORDER, MAX_STEPS, Command, Option, arguments, check_output, log, read_file, save_figure, save_json,
               save_params, values)

WHERE = "mackey_glass"


MACKEY_GLASS_PROTOCOL = (
    "Same data, budget and selection procedure for both models. One Mackey-Glass series "
    "(--data-seed), normalised with the training part's mean and std; the first "
    "(0.7 - valid_fraction) of it trains (whole minibatches of windows), the next "
    "valid_fraction validates, the last 0.3 tests (windows never straddle two parts). Both models see the same --window samples "
    "and predict --horizon steps ahead, with the same epochs, minibatch size, Adam and "
    "cosine decay to 0, MSE loss. The LSTM (Keras defaults, last state -> Dense(1)) has "
    "--lstm-units units; the LMU's hidden units are set so that its parameter count is "
    "within 1% of the LSTM's. The learning rate of each model is chosen independently "
    "from the same grid (--lrs) by validation NRMSE with the first seed; every seed is "
    "then trained at that rate and the test NRMSE is reported per seed, with mean and "
    "sample std. The test part is used for nothing but these reported figures. The LMU's "
    "order and theta defaults were picked by validation NRMSE in preliminary runs."
)


def _stats(values):
    values = np.asarray(values, dtype=float)
    return float(values.mean()), float(values.std(ddof=1)) if len(values) > 1 else 0.0


def train_lmu(x, y, units, order, theta, learning_rate, seed, epochs, batch_size, dt=0.001, hardware=None):
    """The benchmark's LMU (ReLU, input to hidden, linear readout) trained on windows ``x, y``.

    Adam from ``learning_rate`` with cosine decay to 0 over ``epochs``, MSE loss, through
    NengoDL (:func:`nengo_lmu.dl.fit`, ``hardware`` passed on). Returns ``(lmu, history)``.
    """
    import tensorflow as tf

    from ..lmu import LMU

    tf.random.set_seed(seed)
    lmu = LMU(units, order, theta * dt, input_to_hidden=True, output_dimensions=1, dt=dt, neuron_type="relu",
              seed=seed)
    return lmu, fine_tune(lmu, x, y, learning_rate, seed, epochs, batch_size, hardware)


def fine_tune(lmu, x, y, learning_rate, seed, epochs, batch_size, hardware=None):
    """Train ``lmu`` further as :func:`train_lmu` does (``hardware``: hardware-aware); its history."""
    import tensorflow as tf

    from .. import dl

    tf.random.set_seed(seed)
    schedule = dl.cosine_decay(learning_rate, epochs, len(x), batch_size)
    return dl.fit(lmu, x, y, epochs=epochs, batch_size=batch_size, loss="mse", learning_rate=schedule, verbose=0,
                  hardware=hardware)


def run(window=32, horizon=15, order=8, theta=20.0, lstm_units=25, epochs=20, batch_size=32,
        lrs=(0.01, 0.02, 0.04, 0.08), seeds=(0, 1, 2), n_samples=6000, valid_fraction=0.15, data_seed=0,
        out_dir="results", overwrite=False):
    """LMU (through NengoDL) vs an LSTM of equal parameter count, ``horizon``-step-ahead prediction.

    Writes ``mackey-glass.json`` and ``mackey-glass.png``; returns the JSON's content with
    ``"files"``.
    """
    # --- every argument and the output directory, before any work
    def integer(value, attr, high, low=1):
        return validation.integer(value, attr, low=low, high=high, where=WHERE)

    window = integer(window, "window", high=10_000)
    horizon = integer(horizon, "horizon", high=10_000)
    order = integer(order, "order", high=MAX_ORDER)
    theta = validation.number(theta, "theta", low=0, high=window, low_open=True, where=WHERE)
    lstm_units = integer(lstm_units, "lstm_units", high=10_000)
    epochs = integer(epochs, "epochs", high=10_000)
    batch_size = integer(batch_size, "batch_size", high=100_000)
    lrs = values(lrs, "lrs", lambda v, a: validation.positive(v, a, where=WHERE), where=WHERE)
    seeds = values(seeds, "seeds", lambda v, a: integer(v, a, low=0, high=None), where=WHERE)
    n_samples = integer(n_samples, "n_samples", high=MAX_STEPS)
    valid_fraction = validation.number(valid_fraction, "valid_fraction", low=0, high=0.6, low_open=True,
                                       high_open=True, where=WHERE)
    data_seed = integer(data_seed, "data_seed", low=0, high=None)
    n = n_samples
    split_valid, split_test = int((0.7 - valid_fraction) * n), int(0.7 * n)
    shortest = min(split_valid, split_test - split_valid, n - split_test)
    if shortest < window + horizon + batch_size:
        raise validation.error(
            f"{n} is too short: every part (train / valid / test) needs at least window + horizon + "
            f"batch size = {window + horizon + batch_size} samples",
            "n_samples", where=WHERE,
        )
    h = lstm_units
    lstm_params = 4 * (h * (h + 1) + h) + h + 1
    # LMU with input_to_hidden and a linear readout: units * (order + 3) + 2 parameters
    units = max(1, round((lstm_params - 2) / (order + 3)))
    lmu_params = units * (order + 3) + 2
    if abs(lmu_params - lstm_params) > 0.01 * lstm_params:
        raise validation.error(
            f"no LMU of order {order} is within 1% of the LSTM's {lstm_params} parameters "
            f"(closest: {lmu_params}); lower --order or raise --lstm-units",
            "order", where=WHERE,
        )
    out_dir = check_output(out_dir, overwrite, where=WHERE)

    import tensorflow as tf

    from .. import data, dl, maths

    tf.get_logger().setLevel("ERROR")  # retracing notes from predicting in a loop
    start_all = time.perf_counter()
    series = data.mackey_glass_parts(n, valid_fraction, seed=data_seed)
    mean, std = series["mean"], series["std"]
    parts = {name: data.mackey_glass_windows(series[name], window, horizon) for name in ("train", "valid", "test")}
    # whole minibatches only (NengoDL's minibatch size is fixed), for both models alike
    n_train = len(parts["train"][0]) - len(parts["train"][0]) % batch_size
    parts["train"] = tuple(a[:n_train] for a in parts["train"])
    x_train, y_train = parts["train"]
    x_eval = np.concatenate([parts["valid"][0], parts["test"][0]])  # one prediction pass for both
    n_valid = len(parts["valid"][0])
    dt = 0.001

    def split(pred):
        return {"valid": pred[:n_valid], "test": pred[n_valid:]}

    def schedule(lr):  # a fresh schedule per run, identical for both models
        return dl.cosine_decay(lr, epochs, len(x_train), batch_size)

    def train_lmu_(lr, seed):
        lmu, hist = train_lmu(x_train, y_train, units, order, theta, lr, seed, epochs, batch_size, dt)
        assert lmu.n_trainable == lmu_params
        return split(dl.predict(lmu, x_eval, batch_size=256)), hist["seconds"], hist["loss"][-1]

    def train_lstm(lr, seed):
        tf.random.set_seed(seed)
        inp = tf.keras.Input((window, 1))
        out = tf.keras.layers.Dense(1)(tf.keras.layers.LSTM(h)(inp))
        model = tf.keras.Model(inp, out)
        assert model.count_params() == lstm_params
        model.compile(tf.optimizers.Adam(schedule(lr)), "mse")
        start = time.perf_counter()
        hist = model.fit(x_train, y_train, epochs=epochs, batch_size=batch_size, verbose=0, shuffle=True)
        secs = time.perf_counter() - start
        return split(model.predict(x_eval, batch_size=256, verbose=0)), secs, float(hist.history["loss"][-1])

    models = {
        "lmu": {
            "train": train_lmu_, "n_parameters": lmu_params,
            "architecture": {
                "units": units, "order": order, "theta_steps": theta, "neuron_type": "relu",
                "input_to_hidden": True, "hidden_to_hidden": False, "readout": "linear, 1 output",
                "trained": "NengoDL, parallel formulation",
            },
        },
        "lstm": {
            "train": train_lstm, "n_parameters": lstm_params,
            "architecture": {"units": h, "layer": "keras.layers.LSTM (defaults)", "readout": "Dense(1)"},
        },
    }
    results = {
        "task": "mackey-glass", "args": arguments(run, locals()), "protocol": MACKEY_GLASS_PROTOCOL,
        "n_windows": {k: len(v[0]) for k, v in parts.items()},
        "normalisation": {"mean": float(mean), "std": float(std), "from": "training part"},
        "lr_grid": lrs, "seeds": seeds, "selection_seed": seeds[0],
    }
    log(
        f"Mackey-Glass, {horizon} steps ahead from {window}: LMU {lmu_params} parameters "
        f"({units} units, order {order}, theta {theta:g}), LSTM {lstm_params} ({h} units); "
        f"{len(x_train)} / {results['n_windows']['valid']} / {results['n_windows']['test']} windows"
    )

    def record(name, lr, seed):
        preds, secs, loss = models[name]["train"](lr, seed)
        run = {
            "seed": seed, "lr": lr, "valid_nrmse": maths.nrmse(preds["valid"], parts["valid"][1]),
            "test_nrmse": maths.nrmse(preds["test"], parts["test"][1]), "train_seconds": secs,
            "final_train_loss": loss,
        }
        log(f"  {name.upper():4s} seed {seed} lr {lr:g}: valid NRMSE {run['valid_nrmse']:.5f}, "
             f"test {run['test_nrmse']:.5f} ({secs:.0f} s)")
        return run, preds["test"]

    first_preds = {}
    for name, model in models.items():
        log(f"{name.upper()}: learning rate search on validation (seed {seeds[0]})")
        search = [record(name, lr, seeds[0]) for lr in lrs]
        best = min(range(len(search)), key=lambda i: search[i][0]["valid_nrmse"])
        lr = lrs[best]
        first_preds[name] = search[best][1]
        runs = [search[best][0]]
        for seed in seeds[1:]:
            runs.append(record(name, lr, seed)[0])
        test = [r["test_nrmse"] for r in runs]
        mean_, std_ = _stats(test)
        results[name] = {
            "n_parameters": model["n_parameters"], "architecture": model["architecture"],
            "lr_search": [{"lr": r["lr"], "valid_nrmse": r["valid_nrmse"], "test_nrmse": r["test_nrmse"],
                           "train_seconds": r["train_seconds"]} for r, _ in search],
            "chosen_lr": lr, "runs": runs, "test_nrmse": test,
            "test_nrmse_mean": mean_, "test_nrmse_std": std_,
            "train_seconds_total": float(sum(r["train_seconds"] for r, _ in search)
                                         + sum(r["train_seconds"] for r in runs[1:])),
        }
        log(f"{name.upper()} (lr {lr:g}): test NRMSE {mean_:.5f} +- {std_:.5f} over seeds {seeds}")

    lmu_test, lstm_test = results["lmu"]["test_nrmse"], results["lstm"]["test_nrmse"]
    results["lmu_better"] = results["lmu"]["test_nrmse_mean"] < results["lstm"]["test_nrmse_mean"]
    results["lmu_better_every_seed"] = all(a < b for a, b in zip(lmu_test, lstm_test))
    results["parameter_ratio"] = lmu_params / lstm_params
    results["total_seconds"] = time.perf_counter() - start_all
    log(
        f"test NRMSE, mean +- std over {len(seeds)} seeds: LMU {results['lmu']['test_nrmse_mean']:.5f} +- "
        f"{results['lmu']['test_nrmse_std']:.5f}, LSTM {results['lstm']['test_nrmse_mean']:.5f} +- "
        f"{results['lstm']['test_nrmse_std']:.5f}; LMU lower: {results['lmu_better']} (mean), "
        f"{results['lmu_better_every_seed']} (every seed); {results['total_seconds']:.0f} s in all"
    )
    json_path = save_json(results, out_dir, "mackey-glass", overwrite)

    from matplotlib.figure import Figure

    fig = Figure(figsize=(10, 4.2))
    grid = fig.add_gridspec(2, 2, width_ratios=[3, 1], height_ratios=[1, 1.3], wspace=0.3)
    ax, ex, bx = fig.add_subplot(grid[0, 0]), fig.add_subplot(grid[1, 0]), fig.add_subplot(grid[:, 1])
    k = slice(0, 400)
    y_test = parts["test"][1]
    ax.plot(y_test[k, 0], "k", lw=1.5)
    ax.set_ylabel("target")
    ax.set_title(f"{horizon}-step-ahead prediction, test part (normalised)", fontsize=9)
    ax.tick_params(labelbottom=False)
    for name in ("lmu", "lstm"):
        ex.plot(first_preds[name][k, 0] - y_test[k, 0], lw=1, label=f"{name.upper()} (seed {seeds[0]})")
    ex.set_xlabel("test window")
    ex.set_ylabel("prediction - target")
    ex.legend(fontsize=8)
    for i, name in enumerate(("lmu", "lstm")):
        r = results[name]
        bx.plot(np.full(len(r["test_nrmse"]), i), r["test_nrmse"], "o", alpha=0.6)
        bx.errorbar(i + 0.15, r["test_nrmse_mean"], yerr=r["test_nrmse_std"], fmt="k_", capsize=3)
    bx.set_xticks([0, 1], [f"LMU\n{lmu_params}", f"LSTM\n{lstm_params}"])
    bx.set_xlim(-0.5, 1.5)
    bx.set_ylabel("test NRMSE")
    bx.set_title("per seed, mean +- std", fontsize=9)
    results["figure"] = save_figure(fig, out_dir, "mackey-glass", overwrite)
    results["json"] = json_path
    results["files"] = [json_path, results["figure"]]
    return results


def phase_windows(series, window, horizon, substeps, synapse_samples, per_sample=2, seed=0):
    """Training windows for a network whose output is read through a lowpass while samples are held.

    Deployed with each sample held many chip steps, the memory moves all through the
    sample, and the output lowpass (``synapse_samples`` samples long) averages the
    network's outputs over that path, not its output at the sample's end. These windows
    show the network the path: ``series`` held ``substeps`` steps per sample, windows of
    ``window * substeps`` steps ending ``p`` substeps into sample ``j``, ``per_sample``
    phases ``p`` per sample drawn with the lowpass's weight on them, each with sample
    ``j``'s target ``series[j + horizon]``. Train a network with its ``theta`` stretched
    ``substeps`` times on them (the memory's states at each phase are then those of the
    deployed, stretched memory; ZOH input is discretised exactly at any step).

    Returns
    -------
    x : (n, window * substeps, 1) float32
    y : (n, 1) float32
    """
    rng = np.random.RandomState(seed)
    held = np.repeat(np.asarray(series, dtype=np.float32), substeps)
    phases = np.arange(1, substeps + 1)
    weights = np.exp(-(substeps - phases) / (synapse_samples * substeps)) if synapse_samples else phases == substeps
    weights = weights / weights.sum()
    ends, targets = [], []
    for j in range(window - 1, len(series) - horizon):
        for p in rng.choice(phases, size=per_sample, p=weights):
            if j * substeps + p >= window * substeps:  # the window starts within the series
                ends.append(j * substeps + p)
                targets.append(series[j + horizon])
    ends = np.asarray(ends)
    idx = ends[:, None] - window * substeps + np.arange(window * substeps)[None, :]
    order = rng.permutation(len(ends))
    return held[idx[order]][:, :, None], np.asarray(targets, dtype=np.float32)[order, None]


#: the deployments :func:`run_chip` runs: the memory on the host (exact) or on the chip (spiking)
CHIP_MEMORY = ("host", "chip")


def run_chip(params=None, firing_rate_scale=300.0, hardware_epochs=40, hardware_learning_rate=1e-4,
             steps_per_sample=1000, hidden_synapse=0.0002, memory="host,chip", memory_neurons=50, n_test=200,
             attribute=False, learning_rate=0.02, readout_substeps=10, neurons_per_unit=None, weight_bits=None,
             seed=0, out_dir="results", overwrite=False):
    """The benchmark's LMU deployed on the bit-true Loihi emulator (``loihi-sim``).

    Trains the LMU of :func:`run` (its defaults: order 8, ``theta`` 20 steps, 248 ReLU
    units, 32-step windows, 15 steps ahead; one ``seed`` at ``learning_rate``), then
    fine-tunes it hardware-aware (:class:`nengo_lmu.dl.Hardware`, the chip's rate curve
    at ``firing_rate_scale``) for ``hardware_epochs``; or loads ``params`` (a parameter
    file with the ``mackey-glass`` metadata) and deploys it as it is. With
    ``readout_substeps`` (0: off) both trainings are readout-aware: on windows that end
    at sub-sample phases weighted like the output lowpass (:func:`phase_windows`), so
    that the lowpassed output, not the output at the sample's end, is the target. It deploys the
    network (:func:`nengo_lmu.deploy.deploy`, task ``mackey-glass``: the first ``n_test``
    samples of the test part as one stream) with the hidden layer on the chip and each
    ``memory`` in turn: ``host`` (the exact memory on the host) and ``chip`` (a spiking
    memory of ``memory_neurons`` neurons per coefficient feeding the hidden neurons on
    the chip). Each sample is held ``steps_per_sample`` chip steps; ``hidden_synapse``
    is the output lowpass in seconds of sample time (``steps_per_sample`` times longer
    on the chip). ``neurons_per_unit`` chip neurons run each hidden unit, and the
    fine-tuning trains each unit as them (``dl.Hardware(neurons_per_unit=...)``); None:
    one, or a file's as it was trained; ``weight_bits`` trains the hidden layer's input
    weights in the fine-tuning for a grid of that many bits (``dl.Hardware(weight_bits=...)``;
    None: full precision). Writes ``mackey-glass-chip.json`` (and the parameter file, when
    trained); returns its content with ``"files"``.

    Each deployment's ``nrmse`` is against the target through the same lowpass (the
    deployment's convention, :func:`nengo_lmu.deploy.score`); ``nrmse_raw`` against the
    target itself, as the rate network is scored.
    """
    from .. import deploy, dl
    from ..lmu import LMU

    # --- every argument, the file and the output directory, before any work
    firing_rate_scale = validation.positive(firing_rate_scale, "firing_rate_scale", where=WHERE)
    hardware_epochs = validation.integer(hardware_epochs, "hardware_epochs", low=0, high=10_000, where=WHERE)
    hardware_learning_rate = validation.positive(hardware_learning_rate, "hardware_learning_rate", where=WHERE)
    steps_per_sample = deploy.check_steps_per_sample(steps_per_sample, where=WHERE)
    hidden_synapse = validation.non_negative(hidden_synapse, "hidden_synapse", where=WHERE)
    memory = values(memory, "memory", lambda v, a: validation.choice(v, CHIP_MEMORY, a, where=WHERE), where=WHERE)
    memory_neurons = validation.integer(memory_neurons, "memory_neurons", high=10_000, where=WHERE)
    attribute = validation.boolean(attribute, "attribute", where=WHERE)
    learning_rate = validation.positive(learning_rate, "learning_rate", where=WHERE)
    readout_substeps = validation.integer(readout_substeps, "readout_substeps", low=0, high=100, where=WHERE)
    seed = validation.integer(seed, "seed", low=0, high=None, where=WHERE)
    weight_bits = dl.check_weight_bits(weight_bits, where=WHERE)
    if weight_bits and (params is not None or not hardware_epochs):
        raise validation.error("is trained by the hardware-aware fine-tuning: give --hardware-epochs and no "
                               "--params (a file keeps its own training)", "weight_bits", where=WHERE)
    lmu = None
    if params is not None:
        lmu = read_file(LMU.load, params)
        deploy.task_of(lmu, "mackey-glass")
    neurons_per_unit = deploy.deployed_neurons_per_unit(lmu, neurons_per_unit, where=WHERE)
    metadata = dict(deploy.MACKEY_GLASS, seed=seed) if lmu is None else lmu.metadata
    n_test = deploy.mackey_glass_test(metadata, n_test=n_test)["n_steps"]
    if n_test * steps_per_sample * len(memory) > MAX_STEPS:
        raise validation.error(
            f"{len(memory)} run(s) of n_test={n_test} samples at {steps_per_sample} steps each are more than "
            f"{MAX_STEPS} steps; lower n_test to {MAX_STEPS // (steps_per_sample * len(memory))}",
            "n_test", where=WHERE,
        )
    out_dir = check_output(out_dir, overwrite, where=WHERE)

    from .. import data

    start_all = time.perf_counter()
    results = {"task": "mackey-glass-chip", "args": arguments(run_chip, locals()), "files": []}
    test = deploy.mackey_glass_test(metadata)  # the whole test part, for the rate network's figures
    if lmu is None:
        defaults = Command("", run).defaults()
        parts = data.mackey_glass_parts(defaults["n_samples"], defaults["valid_fraction"], defaults["data_seed"])
        batch = defaults["batch_size"]

        def whole(x, y):  # whole minibatches
            return x[: len(x) - len(x) % batch], y[: len(y) - len(y) % batch]

        def train(x, y, substeps, what):
            log(f"training {what} (seed {seed}, learning rate {learning_rate:g}, {defaults['epochs']} epochs, "
                f"{len(x)} windows of {x.shape[1]} steps)")
            lmu, history = train_lmu(x, y, 248, defaults["order"], defaults["theta"] * substeps, learning_rate,
                                     seed, defaults["epochs"], batch)
            rate = lmu.with_neurons(theta=lmu.theta / substeps)  # on the samples' own time scale
            figure = deploy.reference(rate, "mackey-glass", test, deploy.exact_states(rate, test["x"]))[0]["nrmse"]
            log(f"  test NRMSE {figure:.5f} on the stream, as a rate network ({history['seconds']:.0f} s)")
            return lmu, {"train_seconds": history["seconds"], "test_nrmse_stream": figure}

        # the benchmark's network, the reference the deployed figures are compared with
        x, y = whole(*data.mackey_glass_windows(parts["train"], defaults["window"], defaults["horizon"]))
        lmu, results["rate_network"] = train(x, y, 1, "the benchmark's rate network")
        substeps = readout_substeps or 1
        if readout_substeps:
            x, y = whole(*phase_windows(parts["train"], defaults["window"], defaults["horizon"], substeps,
                                        hidden_synapse / lmu.dt, seed=seed))
            lmu, results["readout_aware_network"] = train(x, y, substeps, "the readout-aware network")
        if hardware_epochs:
            hardware = dl.Hardware("loihi", firing_rate_scale=firing_rate_scale, neurons_per_unit=neurons_per_unit,
                                   weight_bits=weight_bits)
            history = fine_tune(lmu, x, y, hardware_learning_rate, seed, hardware_epochs, batch, hardware)
            results["hardware_training"] = {"seconds": history["seconds"], "final_loss": history["loss"][-1]}
            log(f"  fine-tuned on the chip's rate curve at scale {firing_rate_scale:g}, {neurons_per_unit} neuron(s) "
                f"per unit ({history['seconds']:.0f} s)")
        trained = getattr(lmu, "metadata", None) or {}  # fit records the hardware settings there
        lmu = lmu.with_neurons(theta=lmu.theta / substeps)
        lmu.metadata = dict(trained, task="mackey-glass", readout_substeps=readout_substeps, **metadata)
        results["params_file"] = save_params(lmu, out_dir, "mackey-glass-chip-params", lmu.metadata, overwrite)
        results["files"].append(results["params_file"])
    else:
        results["params_file"] = params
    results["deployments"] = {}
    for where in memory:
        log(f"deploying on loihi-sim, memory on the {where}: {n_test} samples x {steps_per_sample} steps")
        out = deploy.deploy(
            lmu, "mackey-glass", backend="loihi-sim", memory=where, memory_neurons=memory_neurons * (where == "chip"),
            steps_per_sample=steps_per_sample, hidden_synapse=hidden_synapse or None, n_test=n_test,
            attribute=attribute, seed=seed, neurons_per_unit=neurons_per_unit,
        )
        out["nrmse_raw"] = deploy.score("mackey-glass", out["y"], out["test"])["nrmse"]
        out["resources"] = out["resources"].as_dict()
        if "rate_network" in results:  # the deployed figure against the rate network's before fine-tuning
            out["ratio_to_rate_network"] = out["nrmse_raw"] / results["rate_network"]["test_nrmse_stream"]
        results["deployments"][where] = {k: v for k, v in out.items() if k not in ("y", "test")}
        log(f"  NRMSE {out['nrmse']:.5f} (raw target {out['nrmse_raw']:.5f}); trained rate network "
            f"{out['reference']['nrmse']:.5f}; {out['steps_per_s']:.0f} steps/s, "
            f"{steps_per_sample * lmu.dt * 1000:g} ms of chip time per sample\n" + deploy.format_report(out["report"]))
    results["total_seconds"] = time.perf_counter() - start_all
    results["json"] = save_json(results, out_dir, "mackey-glass-chip", overwrite)
    results["files"].append(results["json"])
    return results


COMMANDS = {
    "mackey-glass": Command(
        help="LMU vs equal-size LSTM on Mackey-Glass prediction",
        run=run,
        options=(
            Option("window", int, "input window (steps), the same for both"),
            Option("horizon", int, "prediction horizon (steps)"),
            Option("order", int, "LMU memory order"),
            Option("theta", float, "LMU memory window (steps), at most --window"),
            Option("lstm_units", int, "LSTM units; the LMU is sized to match its parameters"),
            Option("epochs", int, "epochs, the same for both"),
            Option("batch_size", int, "minibatch size, the same for both"),
            Option("lrs", list, "grid of initial Adam learning rates (cosine decay to 0), searched for each "
                   "model on the validation part with the first seed (comma-separated)"),
            Option("seeds", list, "seeds of the initial weights and minibatch order, the same for both "
                   "(comma-separated)"),
            Option("n_samples", int, "length of the series (the last 30%% tests)"),
            Option("valid_fraction", float, "fraction of the series, just before the test part, that validates "
                   "(picks the learning rate)"),
            Option("data_seed", int, "seed of the series' initial history"),
        ),
    ),
    "mackey-glass-chip": Command(
        help="the Mackey-Glass LMU trained hardware-aware and deployed on the bit-true Loihi emulator, "
        "memory on the host and on the chip",
        run=run_chip,
        options=(
            Option("params", str, "parameter file (.npz) with the mackey-glass metadata (a previous run's "
                   "mackey-glass-chip-params.npz), deployed as it is; default: train it first"),
            Option("firing_rate_scale", float, "hidden neurons fire this many times their trained rate; the "
                   "fine-tuning trains the chip's rate curve at this scale"),
            Option("hardware_epochs", int, "epochs of hardware-aware fine-tuning (0: none)"),
            Option("hardware_learning_rate", float, "initial Adam learning rate of the fine-tuning (cosine decay)"),
            Option("steps_per_sample", int, "chip steps each input sample is held (1 ms each)"),
            Option("hidden_synapse", float, "output lowpass (s of sample time; 0 for none)"),
            Option("memory", list, "deployments, comma-separated: host (exact memory on the host), chip "
                   "(spiking memory on the chip)"),
            Option("memory_neurons", int, "spiking memory's neurons per coefficient (memory on the chip)"),
            Option("n_test", int, "samples of the test part streamed (the first window is not scored)"),
            Option("attribute", bool, "add intermediate runs to each report (float emulator; exact memory)"),
            Option("learning_rate", float, "initial Adam learning rate of the rate network's training"),
            Option("readout_substeps", int, "readout-aware training: windows end at this many sub-sample phases, "
                   "weighted like the output lowpass, each with the sample's target (0: at sample ends only)"),
            Option("neurons_per_unit", int, "chip neurons running each hidden unit (gains spread below the "
                   "unit's, outputs summed); the fine-tuning trains each unit as them; default: 1, or as many as "
                   "the --params file was trained for"),
            Option("weight_bits", int, "the fine-tuning trains the hidden layer's input weights for a grid of "
                   "this many bits, sign included (8: the chip's); default: full precision"),
            Option("seed", int, "seed of the initial weights and minibatch order"),
        ),
    ),
}
