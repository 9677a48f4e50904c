"""Benchmarks of the LMU cell on the paper's tasks: psMNIST, Mackey-Glass, capacity.

Each command trains (through NengoDL, :mod:`nengo_lmu.dl`) or builds its network,
prints its figures, saves them as JSON (and a figure) in ``out_dir`` and returns them.
From Python::

    from nengo_lmu.bench import tasks
    results = tasks.run("psmnist", epochs=12, out_dir="results")

Timings are wall-clock on whatever machine runs them, recorded next to the figures.
"""

import argparse
import os
import time

import numpy as np

from . import Command, UsageError, _fresh_path, save_figure, save_json

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # TensorFlow's C++ chatter


def _positive_int(args, *names):
    for name in names:
        v = getattr(args, name)
        if isinstance(v, bool) or not isinstance(v, int) or v < 1:
            raise UsageError(f"--{name.replace('_', '-')} must be an integer >= 1 (got {v!r})")


def _positive(args, *names):
    for name in names:
        v = getattr(args, name)
        if not (isinstance(v, (int, float)) and np.isfinite(v) and v > 0):
            raise UsageError(f"--{name.replace('_', '-')} must be a number > 0 (got {v!r})")


def _log(msg):
    print(msg, flush=True)


# --- psMNIST ------------------------------------------------------------------------


def psmnist_arguments(parser):
    parser.add_argument("--units", type=int, default=380, help="hidden ReLU units (380: 101,471 parameters)")
    parser.add_argument("--order", type=int, default=256, help="order d of the memory")
    parser.add_argument("--epochs", type=int, default=15, help="training epochs (parallel formulation)")
    parser.add_argument("--batch-size", type=int, default=100, help="minibatch size")
    parser.add_argument("--lr", type=float, default=1e-3, help="initial Adam learning rate (cosine decay to 0)")
    parser.add_argument("--l2", type=float, default=1e-4, help="L2 penalty on the hidden kernels")
    parser.add_argument(
        "--input-scale", type=float, default=30.0,
        help="initial e_x: scales the memory up to where ReLUs with Glorot weights learn fast",
    )
    parser.add_argument("--n-train", type=int, default=50000, help="training images used (of 50,000)")
    parser.add_argument("--n-spiking", type=int, default=1000, help="test digits run in the time domain")
    parser.add_argument("--firing-rate-scale", type=float, default=1000.0, help="spiking hidden: rate scaling")
    parser.add_argument(
        "--hidden-synapse", type=float, default=0.0,
        help="spiking hidden: output lowpass in s (0: none; the readout is trained for the last step only)",
    )
    parser.add_argument("--average-last", type=int, default=1, help="spiking: average the output over the last steps")
    parser.add_argument(
        "--steps-per-sample", type=int, default=1,
        help="spiking runs: simulator steps per pixel (dt / k; the held input makes the "
        "memory exact at every pixel boundary, and spikes get k steps per pixel)",
    )
    parser.add_argument("--memory-neurons", type=int, default=50, help="spiking memory: LIF neurons per coefficient")
    parser.add_argument("--keras-batches", type=int, default=2, help="timed keras-lmu batches (rnn mode)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the initial weights")
    parser.add_argument("--params", default=None, help="skip training: load these parameters (.npz)")


def psmnist(args):
    """Train the LMU on psMNIST through NengoDL; test it in rate mode and spiking."""
    import nengo

    from .. import data, dl
    from ..lmu import LMU

    _positive_int(args, "units", "order", "epochs", "batch_size", "n_train", "n_spiking", "average_last", "memory_neurons", "steps_per_sample")
    _positive(args, "lr", "input_scale", "firing_rate_scale")
    if args.hidden_synapse < 0:
        raise UsageError(f"--hidden-synapse must be >= 0 (got {args.hidden_synapse})")
    if args.l2 < 0:
        raise UsageError(f"--l2 must be >= 0 (got {args.l2})")
    if args.params is not None and not os.path.exists(args.params):
        raise UsageError(f"--params: no such file {args.params!r}")
    dt = 0.001
    x_train, y_train = data.psmnist("train", n=min(args.n_train, 50000))
    x_valid, y_valid = data.psmnist("valid")
    x_test, y_test = data.psmnist("test")
    lmu = LMU(
        args.units, args.order, 784 * dt, output_dimensions=10, dt=dt, seed=args.seed,
        params={"e_x": [[args.input_scale]]}, label="psMNIST LMU",
    )
    results = {"task": "psmnist", "args": vars(args), "n_parameters": lmu.n_trainable}
    _log(f"psMNIST: order {args.order}, {args.units} ReLU units, {lmu.n_trainable} trainable parameters")

    if args.params is None:
        import tensorflow as tf

        steps = args.epochs * (len(x_train) // args.batch_size)
        lr = tf.keras.optimizers.schedules.CosineDecay(args.lr, steps)
        history = dl.fit(
            lmu, x_train, y_train, epochs=args.epochs, batch_size=args.batch_size, loss="sparse_ce",
            learning_rate=lr, l2=args.l2, validation_data=(x_valid, y_valid), verbose=2,
        )
        results["history"] = history
        results["train_seconds"] = history["seconds"]
        results["train_samples_per_s"] = history["n_trained"] * args.epochs / history["seconds"]
        _log(f"trained in {history['seconds']:.1f} s ({results['train_samples_per_s']:.0f} samples/s)")
        params_path = _fresh_path(os.path.join(args.out_dir, "psmnist-params.npz"))
        os.makedirs(args.out_dir, exist_ok=True)
        lmu.save_params(params_path)
        results["params_file"] = params_path
    else:
        lmu.load_params(args.params)
        results["params_file"] = args.params

    start = time.perf_counter()
    results["test_accuracy"] = dl.evaluate(lmu, x_test, y_test)["accuracy"]
    results["test_seconds"] = time.perf_counter() - start
    results["valid_accuracy"] = dl.evaluate(lmu, x_valid, y_valid)["accuracy"]
    _log(f"test accuracy (rate, parallel): {results['test_accuracy']:.4f}; valid {results['valid_accuracy']:.4f}")

    n, k = args.n_spiking, args.steps_per_sample
    xs, ys = x_test[:n], y_test[:n]
    runs = {
        "rate": lmu,
        "spiking_hidden": lmu.with_neurons(
            nengo.SpikingRectifiedLinear(), firing_rate_scale=args.firing_rate_scale,
            hidden_synapse=args.hidden_synapse or None, dt=dt / k,
        ),
        "spiking_memory": lmu.with_neurons(
            memory=dict(
                n_neurons=args.memory_neurons * args.order,
                neuron_type=nengo.LIF(),
                synapse=0.05,
                input_statistics=_psmnist_statistics(x_train, dt, abs(lmu.params["e_x"][0, 0])),
            ),
            dt=dt / k,
        ),
    }
    results["time_domain"] = {}
    for name, net in runs.items():
        start = time.perf_counter()
        avg = 1 if name == "rate" else args.average_last
        steps = 1 if name == "rate" else k
        x_run = np.repeat(xs, steps, axis=1) if steps > 1 else xs
        acc = dl.evaluate(net, x_run, ys, formulation="step", average_last=avg)["accuracy"]
        secs = time.perf_counter() - start
        results["time_domain"][name] = {
            "accuracy": acc, "n_digits": n, "seconds": secs, "average_last": avg, "steps_per_sample": steps,
        }
        _log(f"time domain, {name}: {acc:.4f} on the first {n} test digits ({secs:.0f} s)")

    results["keras_lmu_rnn"] = keras_lmu_speed(args.order, args.units, args.batch_size, args.keras_batches, x_train)
    _log(f"keras-lmu (rnn mode) training: {results['keras_lmu_rnn']['samples_per_s']:.1f} samples/s")
    results["json"] = save_json(results, args.out_dir, "psmnist")
    if "history" in results:
        results["figure"] = _history_figure(results["history"], args.out_dir)
    return results


def _psmnist_statistics(x_train, dt, e_x):
    """White-noise statistics for the spiking memory: flat up to Nyquist, the data's RMS.

    Permuted pixels are close to white; the memory's input is ``e_x x`` (trained ``e_x``).
    """
    return (0.5 / dt, float(np.sqrt(np.mean(x_train[:2000] ** 2))) * e_x)


def keras_lmu_speed(order, units, batch_size, n_batches, x_train):
    """Training throughput of the same model in keras-lmu 0.7, RNN (step-by-step) mode."""
    import keras_lmu
    import tensorflow as tf

    cell = keras_lmu.LMUCell(
        memory_d=1, order=order, theta=784, hidden_cell=tf.keras.layers.Dense(units, activation="relu"),
    )
    inp = tf.keras.Input((784, 1))
    out = tf.keras.layers.Dense(10)(tf.keras.layers.RNN(cell)(inp))
    model = tf.keras.Model(inp, out)
    model.compile(tf.optimizers.Adam(1e-3), tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    x, y = x_train[: batch_size * (n_batches + 1)], np.zeros(batch_size * (n_batches + 1), dtype=np.int32)
    model.train_on_batch(x[:batch_size], y[:batch_size])  # compile / warm up, untimed
    start = time.perf_counter()
    for k in range(1, n_batches + 1):
        model.train_on_batch(x[k * batch_size : (k + 1) * batch_size], y[k * batch_size : (k + 1) * batch_size])
    secs = time.perf_counter() - start
    return {"samples_per_s": n_batches * batch_size / secs, "seconds": secs, "samples": n_batches * batch_size}


def _history_figure(history, out_dir, name="psmnist-training"):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5, 3.5))
    for key in ("accuracy", "val_accuracy"):
        if key in history:
            ax.plot(np.arange(1, len(history[key]) + 1), history[key], label=key)
    ax.set_xlabel("epoch")
    ax.set_ylabel("accuracy")
    ax.legend()
    return save_figure(fig, out_dir, name)


# --- Mackey-Glass -------------------------------------------------------------------


def mackey_glass_arguments(parser):
    parser.add_argument("--window", type=int, default=128, help="input window (steps)")
    parser.add_argument("--horizon", type=int, default=15, help="prediction horizon (steps)")
    parser.add_argument("--order", type=int, default=12, help="LMU memory order")
    parser.add_argument("--theta", type=float, default=24.0, help="LMU window (steps)")
    parser.add_argument("--lstm-units", type=int, default=25, help="LSTM units; the LMU is sized to match its parameters")
    parser.add_argument("--epochs", type=int, default=30, help="epochs, the same for both")
    parser.add_argument("--batch-size", type=int, default=32, help="minibatch size, the same for both")
    parser.add_argument("--lr", type=float, default=1e-2, help="initial Adam learning rate (cosine decay to 0), the same for both")
    parser.add_argument("--n-samples", type=int, default=6000, help="length of the series (70%% train, 30%% test)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the series and the weights")


def mackey_glass(args):
    """LMU (through NengoDL) vs an LSTM of equal parameter count, 15-step-ahead prediction."""
    import tensorflow as tf

    from .. import data, dl, maths
    from ..lmu import LMU

    _positive_int(args, "window", "horizon", "order", "lstm_units", "epochs", "batch_size", "n_samples")
    _positive(args, "theta", "lr")
    if args.theta > args.window:
        raise UsageError(f"--theta ({args.theta}) must not exceed --window ({args.window})")
    series = data.mackey_glass(args.n_samples, seed=args.seed)
    split = int(0.7 * len(series))
    mean, std = series[:split].mean(), series[:split].std()
    series = (series - mean) / std
    x_train, y_train = data.mackey_glass_windows(series[:split], args.window, args.horizon)
    x_test, y_test = data.mackey_glass_windows(series[split:], args.window, args.horizon)

    h = args.lstm_units
    lstm_params = 4 * (h * (h + 1) + h) + h + 1
    units = max(1, round((lstm_params - 2) / (args.order + 3)))
    dt = 0.001
    lmu = LMU(
        units, args.order, args.theta * dt, input_to_hidden=True, output_dimensions=1, dt=dt,
        neuron_type="relu", seed=args.seed,
    )
    results = {"task": "mackey-glass", "args": vars(args), "n_train": len(x_train), "n_test": len(x_test)}
    _log(f"Mackey-Glass: LMU {lmu.n_trainable} parameters, LSTM {lstm_params}")

    def schedule():  # one fresh schedule per model, identical for both
        steps = args.epochs * (len(x_train) // args.batch_size)
        return tf.keras.optimizers.schedules.CosineDecay(args.lr, steps)

    hist = dl.fit(
        lmu, x_train, y_train, epochs=args.epochs, batch_size=args.batch_size, loss="mse",
        learning_rate=schedule(), verbose=0,
    )
    pred_lmu = dl.predict(lmu, x_test)
    results["lmu"] = {
        "nrmse": maths.nrmse(pred_lmu, y_test), "n_parameters": lmu.n_trainable,
        "train_seconds": hist["seconds"], "final_train_loss": hist["loss"][-1],
    }
    _log(f"LMU  NRMSE {results['lmu']['nrmse']:.4f} ({hist['seconds']:.0f} s)")

    tf.random.set_seed(args.seed)
    inp = tf.keras.Input((args.window, 1))
    out = tf.keras.layers.Dense(1)(tf.keras.layers.LSTM(h)(inp))
    model = tf.keras.Model(inp, out)
    assert model.count_params() == lstm_params
    model.compile(tf.optimizers.Adam(schedule()), "mse")
    start = time.perf_counter()
    keras_hist = model.fit(x_train, y_train, epochs=args.epochs, batch_size=args.batch_size, verbose=0, shuffle=True)
    secs = time.perf_counter() - start
    pred_lstm = model.predict(x_test, batch_size=256, verbose=0)
    results["lstm"] = {
        "nrmse": maths.nrmse(pred_lstm, y_test), "n_parameters": lstm_params,
        "train_seconds": secs, "final_train_loss": float(keras_hist.history["loss"][-1]),
    }
    _log(f"LSTM NRMSE {results['lstm']['nrmse']:.4f} ({secs:.0f} s)")
    results["lmu_better"] = results["lmu"]["nrmse"] < results["lstm"]["nrmse"]
    results["json"] = save_json(results, args.out_dir, "mackey-glass")

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 3))
    k = slice(0, 400)
    ax.plot(y_test[k, 0], "k", label="target")
    ax.plot(pred_lmu[k, 0], label=f"LMU ({results['lmu']['nrmse']:.3f})")
    ax.plot(pred_lstm[k, 0], label=f"LSTM ({results['lstm']['nrmse']:.3f})")
    ax.set_xlabel("test window")
    ax.legend(fontsize=8)
    results["figure"] = save_figure(fig, args.out_dir, "mackey-glass")
    return results


# --- capacity -----------------------------------------------------------------------


def capacity_arguments(parser):
    parser.add_argument("--order", type=int, default=100, help="memory order")
    parser.add_argument("--theta-steps", type=int, default=100000, help="window (steps)")
    parser.add_argument("--delays", type=int, default=5, help="delays equally spaced over [0, theta]")
    parser.add_argument(
        "--cycles", type=float, default=25.0,
        help="input band limit in cycles per window (order 100 resolves up to about order/pi = 32)",
    )
    parser.add_argument("--windows", type=int, default=3, help="simulated length, in windows (the first is skipped)")
    parser.add_argument("--spiking-neurons", type=int, default=100, help="spiking memory: LIF neurons per coefficient")
    parser.add_argument("--spiking-theta-steps", type=int, default=10000, help="spiking memory: window (steps)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the input")


def capacity(args):
    """An untrained LMU memory read out at several delays over a long window."""
    _positive_int(args, "order", "theta_steps", "delays", "windows", "spiking_neurons", "spiking_theta_steps")
    _positive(args, "cycles")
    if args.windows < 2:
        raise UsageError("--windows must be >= 2 (the first window is the memory filling up)")
    results = {"task": "capacity", "args": vars(args)}
    rate = capacity_nrmse(args.order, args.theta_steps, args.delays, args.cycles, args.windows, None, args.seed)
    results["rate"] = rate
    _log(f"capacity, exact memory, order {args.order}, theta {args.theta_steps} steps: NRMSE {rate['nrmse']}")
    spk = capacity_nrmse(
        args.order, args.spiking_theta_steps, args.delays, args.cycles, args.windows,
        args.spiking_neurons * args.order, args.seed,
    )
    results["spiking"] = spk
    _log(f"capacity, spiking LIF memory ({spk['n_neurons']} neurons), theta {args.spiking_theta_steps} "
         f"steps: NRMSE {spk['nrmse']}")
    results["json"] = save_json(results, args.out_dir, "capacity")
    return results


def capacity_nrmse(order, theta_steps, delays, cycles, windows, n_neurons=None, seed=0, dt=0.001):
    """NRMSE per delay of a :class:`.LegendreMemory` (exact if ``n_neurons`` is None).

    The input is white noise band-limited to ``cycles`` per window; errors are measured
    after the first window (once every delay has input behind it).
    """
    import nengo

    from .. import data, maths
    from ..networks import LegendreMemory

    theta = theta_steps * dt
    n_steps = windows * theta_steps
    u, targets, r = data.capacity(n_steps, theta_steps, delays, high=cycles / theta, dt=dt, seed=seed)
    spiking = n_neurons is not None
    with nengo.Network(seed=seed) as net:
        inp = nengo.Node(nengo.processes.PresentInput(u[:, None], dt))
        mem = LegendreMemory(
            order, theta, n_neurons=n_neurons, neuron_type=nengo.LIF() if spiking else None, dt=dt,
            input_statistics=(cycles / theta, 0.5),
        )
        nengo.Connection(inp, mem.input, synapse=None)
        readout = mem.add_readout(r)
        probe = nengo.Probe(readout, synapse=0.01 if spiking else None)
    start = time.perf_counter()
    with nengo.Simulator(net, dt=dt, progress_bar=False) as sim:
        sim.run_steps(n_steps)
    secs = time.perf_counter() - start
    y = sim.data[probe]
    if spiking:
        targets = nengo.Lowpass(0.01).filt(targets, dt=dt, y0=0)
    keep = slice(theta_steps, None)
    errors = [maths.nrmse(y[keep, i], targets[keep, i]) for i in range(len(r))]
    return {
        "delays": r.tolist(), "nrmse": [round(e, 4) for e in errors], "order": order,
        "theta_steps": theta_steps, "n_neurons": n_neurons, "cycles_per_window": cycles,
        "seconds": secs,
    }


COMMANDS = {
    "psmnist": Command("train the LMU on psMNIST through NengoDL; test rate and spiking", psmnist_arguments, psmnist),
    "mackey-glass": Command("LMU vs equal-size LSTM on Mackey-Glass prediction", mackey_glass_arguments, mackey_glass),
    "capacity": Command("untrained LMU memory read at 5 delays over 100,000 steps", capacity_arguments, capacity),
}


def run(name, **kwargs):
    """Run benchmark ``name`` from Python with the CLI's defaults, overridden by ``kwargs``."""
    if name not in COMMANDS:
        raise UsageError(f"unknown benchmark {name!r}; one of {sorted(COMMANDS)}")
    parser = argparse.ArgumentParser(prog=name)
    COMMANDS[name].add_arguments(parser)
    args = parser.parse_args([])
    args.out_dir = "results"  # the CLI adds --out-dir to every command
    for key, value in kwargs.items():
        if not hasattr(args, key):
            raise UsageError(f"{name} has no option {key!r}")
        setattr(args, key, value)
    return COMMANDS[name].run(args)
