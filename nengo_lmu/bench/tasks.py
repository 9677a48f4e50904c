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

from . import (
    Command, UsageError, _fresh_path, add_progress_arguments, save_figure, save_json, settings, show_progress,
)

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
    parser.add_argument("--memory-neurons", type=int, default=50, help="spiking memory: neurons per coefficient")
    parser.add_argument(
        "--memory-neuron-type", default="spiking-relu", choices=("lif", "lif-rate", "relu", "spiking-relu", "poisson"),
        help="spiking memory: neuron type (rate types measure the decoding floor without spike noise; "
        "LIF at 200-400 Hz measured 10%% accuracy: too few spikes for an order-256 memory)",
    )
    parser.add_argument("--memory-synapse", type=float, default=0.05, help="spiking memory: lowpass synapse (s)")
    parser.add_argument(
        "--memory-mapping", default="discrete", choices=("auto", "discrete", "continuous"),
        help="spiking memory: principle-3 mapping. 'continuous' (what 'auto' picks for LIF when stable) is "
        "forward Euler of the memory: unstable at order 256 with 784 steps (|1 + dt lambda| "
        "up to 3.4 per step at one step per pixel)",
    )
    parser.add_argument(
        "--memory-readout", default="synaptic", choices=("decoded", "synaptic"),
        help="spiking memory: what the hidden layer reads (LegendreMemory state_readout): "
        "the filtered drive of the memory neurons, or their unfiltered decoded spikes",
    )
    parser.add_argument(
        "--memory-scales", default="data", choices=("data", "white"),
        help="spiking memory: state scaling from the exact memory run on 500 training digits "
        "(n_std x each coefficient's RMS), or from white noise with the data's RMS",
    )
    parser.add_argument("--memory-reg", type=float, default=0.01, help="spiking memory: LstsqL2 decoder regularization")
    parser.add_argument(
        "--memory-max-rate", type=float, default=10000.0,
        help="spiking memory: max firing rates drawn from [r/2, r] Hz, i.e. up to r * dt spikes per "
        "neuron per step (0: nengo's default 200-400 Hz)",
    )
    parser.add_argument(
        "--memory-noise", type=float, default=0.0,
        help="noise-aware fine-tuning: if > 0, measure the spiking memory's final-state error on "
        "--noise-digits training digits, then fine-tune the hidden layer (e_x held) with Gaussian "
        "noise of this many times that per-coefficient std added to the memory; all time-domain "
        "runs then use the fine-tuned parameters (saved as psmnist-params-noise.npz)",
    )
    parser.add_argument("--noise-digits", type=int, default=100, help="training digits to measure the memory error on")
    parser.add_argument("--finetune-epochs", type=int, default=3, help="noise-aware fine-tuning epochs")
    parser.add_argument("--finetune-lr", type=float, default=2e-4, help="fine-tuning Adam learning rate (cosine decay)")
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
    _positive(args, "memory_synapse", "memory_reg", "finetune_lr")
    _positive_int(args, "noise_digits", "finetune_epochs")
    if not (np.isfinite(args.memory_noise) and args.memory_noise >= 0):
        raise UsageError(f"--memory-noise must be >= 0 (got {args.memory_noise})")
    if args.hidden_synapse < 0:
        raise UsageError(f"--hidden-synapse must be >= 0 (got {args.hidden_synapse})")
    if not (np.isfinite(args.memory_max_rate) and args.memory_max_rate >= 0):
        raise UsageError(f"--memory-max-rate must be >= 0 (got {args.memory_max_rate})")
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
    results = {
        "task": "psmnist", "args": settings(args),
        "n_parameters": lmu.n_trainable,
    }
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
        lmu.save_params(params_path, metadata={"task": "psmnist"})
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
    if args.memory_noise > 0:
        results["noise_finetune"] = _noise_finetune(args, lmu, dt, (x_train, y_train), (x_valid, y_valid), (x_test, y_test))
    xs, ys = x_test[:n], y_test[:n]
    runs = {
        "rate": lmu,
        "spiking_hidden": lmu.with_neurons(
            nengo.SpikingRectifiedLinear(), firing_rate_scale=args.firing_rate_scale,
            hidden_synapse=args.hidden_synapse or None, dt=dt / k,
        ),
        "spiking_memory": lmu.with_neurons(memory=_psmnist_memory(args, lmu, x_train, dt), dt=dt / k),
    }
    results["time_domain"] = {}
    for name, net in runs.items():
        start = time.perf_counter()
        avg = 1 if name == "rate" else args.average_last
        steps = 1 if name == "rate" else k
        x_run = np.repeat(xs, steps, axis=1) if steps > 1 else xs
        extra = {}
        if name == "spiking_memory" and avg == 1:
            # one run gives the output and the memory's final state, compared with the exact one
            out, state = _run_with_state(net, x_run, args.batch_size)
            acc = float(np.mean(np.argmax(out, axis=1) == ys))
            extra["memory_error"] = _memory_error(lmu, xs, state)
            extra["memory"] = {
                k_: v for k_, v in net.memory_config.items() if k_ not in ("neuron_type", "solver", "ensemble_kwargs", "scales")
            }
            extra["memory"].update(
                neuron_type=repr(net.memory.neuron_type), mapping=net.memory.mapping, scales=args.memory_scales,
                reg=args.memory_reg, max_rate=args.memory_max_rate or "200-400 Hz (nengo default)",
            )
        else:
            acc = dl.evaluate(net, x_run, ys, formulation="step", average_last=avg)["accuracy"]
        secs = time.perf_counter() - start
        results["time_domain"][name] = {
            "accuracy": acc, "n_digits": n, "seconds": secs, "average_last": avg, "steps_per_sample": steps, **extra,
        }
        _log(f"time domain, {name}: {acc:.4f} on the first {n} test digits ({secs:.0f} s)")
        if "memory_error" in extra:
            e = extra["memory_error"]
            _log(f"  memory final state vs exact: relative error {e['relative_total']:.3g} (median per "
                 f"coefficient {e['relative_median']:.3g}); hidden input relative error {e['hidden_input_relative']:.3g}")

    results["keras_lmu_rnn"] = keras_lmu_speed(args.order, args.units, args.batch_size, args.keras_batches, x_train)
    _log(f"keras-lmu (rnn mode) training: {results['keras_lmu_rnn']['samples_per_s']:.1f} samples/s")
    results["json"] = save_json(results, args.out_dir, "psmnist")
    if "history" in results:
        results["figure"] = _history_figure(results["history"], args.out_dir)
    return results


def _noise_finetune(args, lmu, dt, train, valid, test):
    """Fine-tune ``lmu`` in place with noise matched to its spiking memory's measured error."""
    import tensorflow as tf

    from .. import dl

    start = time.perf_counter()
    k, x_train = args.steps_per_sample, train[0]
    xs = x_train[-args.noise_digits :]  # training digits: the test digits stay unseen
    net = lmu.with_neurons(memory=_psmnist_memory(args, lmu, x_train, dt), dt=dt / k)
    _, state = _run_with_state(net, np.repeat(xs, k, axis=1) if k > 1 else xs, args.batch_size)
    err = _memory_error(lmu, xs, state)
    sigma = args.memory_noise * np.asarray(err["std_per_coefficient"])
    _log(f"noise-aware fine-tuning: memory error on {len(xs)} training digits {err['relative_total']:.3g} "
         f"(relative); noise std {args.memory_noise} x measured ({time.perf_counter() - start:.0f} s)")
    steps = args.finetune_epochs * (len(x_train) // args.batch_size)
    history = dl.fit(
        lmu, *train, epochs=args.finetune_epochs, batch_size=args.batch_size, loss="sparse_ce",
        learning_rate=tf.keras.optimizers.schedules.CosineDecay(args.finetune_lr, steps), l2=args.l2,
        validation_data=valid, verbose=2, memory_noise=sigma,
    )
    path = _fresh_path(os.path.join(args.out_dir, "psmnist-params-noise.npz"))
    os.makedirs(args.out_dir, exist_ok=True)
    lmu.save_params(path, metadata={"task": "psmnist"})
    out = {
        "train_memory_error": {k_: v for k_, v in err.items() if k_ != "std_per_coefficient"},
        "noise_std": [float(v) for v in sigma],
        "history": history,
        "params_file": path,
        "test_accuracy": dl.evaluate(lmu, *test)["accuracy"],
        "valid_accuracy": dl.evaluate(lmu, *valid)["accuracy"],
        "seconds": time.perf_counter() - start,
    }
    _log(f"fine-tuned ({out['seconds']:.0f} s): test accuracy (rate, parallel) {out['test_accuracy']:.4f}; "
         f"valid {out['valid_accuracy']:.4f}; saved {path}")
    return out


def _psmnist_memory(args, lmu, x_train, dt):
    """The spiking memory's ``LegendreMemory`` arguments from the command's options."""
    import nengo

    from ..networks import data_scales, neuron_type_from_name

    e_x = abs(lmu.params["e_x"][0, 0])
    mem = dict(
        n_neurons=args.memory_neurons * args.order,
        neuron_type=neuron_type_from_name(args.memory_neuron_type),
        synapse=args.memory_synapse,
        mapping=args.memory_mapping,
        state_readout=args.memory_readout,
        input_statistics=_psmnist_statistics(x_train, dt, e_x),
        solver=nengo.solvers.LstsqL2(reg=args.memory_reg),
    )
    if args.memory_scales == "data":
        # the memory's input is e_x x: its exact states over training digits, every 7th step
        mem["scales"] = data_scales(lmu.params["e_x"][0, 0] * x_train[:500], args.order, lmu.theta, dt, stride=7)
    if args.memory_max_rate > 0:
        r = args.memory_max_rate
        mem["ensemble_kwargs"] = dict(max_rates=nengo.dists.Uniform(r / 2, r))
    return mem


def _run_with_state(net, x, batch_size):
    """Time-domain run of ``net``: final outputs and final memory states, ``(n, out), (n, mem)``."""
    import nengo
    import nengo_dl

    from .. import dl

    batch = min(batch_size, len(x))
    wnet, inp, probe = dl._step_network(net)
    with wnet:
        nengo_dl.configure_settings(keep_history=True)
        state = nengo.Probe(net.memory.state, synapse=None)
        wnet.config[state].keep_history = False
        wnet.config[probe].keep_history = False
    xp = dl._pad(np.asarray(x, dtype=np.float32), batch)
    with nengo_dl.Simulator(wnet, dt=net.dt, minibatch_size=batch, progress_bar=False, seed=net.seed) as sim:
        out = sim.predict({inp: xp}, n_steps=x.shape[1], verbose=0)
    return out[probe][: len(x), -1], out[state][: len(x), -1]


def _memory_error(lmu, x, state):
    """The spiking memory's final state ``state`` against the exact one, for the sequences ``x``."""
    from .. import dl

    kernel = dl._memory_kernel(lmu, x.shape[1]).astype(float)
    exact = lmu.params["e_x"][0, 0] * np.einsum("nt,tk->nk", x[:, :, 0], kernel)
    err = state - exact
    per_coef = np.sqrt(np.mean(err**2, axis=0) / np.mean(exact**2, axis=0))
    W = lmu.params["W_m"]
    return {
        "relative_total": float(np.sqrt(np.sum(err**2) / np.sum(exact**2))),
        "relative_median": float(np.median(per_coef)),
        "relative_by_order": {int(i): float(per_coef[i]) for i in (0, 1, 2, 10, 100, lmu.order - 1) if i < lmu.order},
        "hidden_input_relative": float(np.sqrt(np.sum((err @ W.T) ** 2) / np.sum((exact @ W.T) ** 2))),
        "std_per_coefficient": [float(v) for v in np.std(err, axis=0)],
    }


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
    from matplotlib.figure import Figure

    fig = Figure(figsize=(5, 3.5))
    ax = fig.add_subplot()
    for key in ("accuracy", "val_accuracy"):
        if key in history:
            ax.plot(np.arange(1, len(history[key]) + 1), history[key], label=key)
    ax.set_xlabel("epoch")
    ax.set_ylabel("accuracy")
    ax.legend()
    return save_figure(fig, out_dir, name)


# --- Mackey-Glass -------------------------------------------------------------------


def _number_list(kind, low_ok):
    """An argparse type: comma-separated numbers of ``kind`` (all > 0, or >= 0 if ``low_ok``)."""

    def parse(text):
        try:
            values = [kind(v) for v in text.split(",") if v.strip()]
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a comma-separated list of {kind.__name__}s: {text!r}")
        if not values:
            raise argparse.ArgumentTypeError(f"empty list: {text!r}")
        if any(not np.isfinite(v) or v < 0 or (v == 0 and not low_ok) for v in values):
            raise argparse.ArgumentTypeError(f"every value must be {'>= 0' if low_ok else '> 0'}: {text!r}")
        if len(set(values)) != len(values):
            raise argparse.ArgumentTypeError(f"repeated value in {text!r}")
        return values

    parse.__name__ = f"{kind.__name__} list"
    return parse


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


def mackey_glass_arguments(parser):
    parser.add_argument("--window", type=int, default=32, help="input window (steps), the same for both")
    parser.add_argument("--horizon", type=int, default=15, help="prediction horizon (steps)")
    parser.add_argument("--order", type=int, default=8, help="LMU memory order")
    parser.add_argument("--theta", type=float, default=20.0, help="LMU memory window (steps), at most --window")
    parser.add_argument("--lstm-units", type=int, default=25, help="LSTM units; the LMU is sized to match its parameters")
    parser.add_argument("--epochs", type=int, default=20, help="epochs, the same for both")
    parser.add_argument("--batch-size", type=int, default=32, help="minibatch size, the same for both")
    parser.add_argument(
        "--lrs", type=_number_list(float, False), default="0.01,0.02,0.04,0.08",
        help="grid of initial Adam learning rates (cosine decay to 0), searched for each "
        "model on the validation part with the first seed (comma-separated)",
    )
    parser.add_argument(
        "--seeds", type=_number_list(int, True), default="0,1,2",
        help="seeds of the initial weights and minibatch order, the same for both (comma-separated)",
    )
    parser.add_argument("--n-samples", type=int, default=6000, help="length of the series (the last 30%% tests)")
    parser.add_argument(
        "--valid-fraction", type=float, default=0.15,
        help="fraction of the series, just before the test part, that validates (picks the learning rate)",
    )
    parser.add_argument("--data-seed", type=int, default=0, help="seed of the series' initial history")


def _stats(values):
    values = np.asarray(values, dtype=float)
    return float(values.mean()), float(values.std(ddof=1)) if len(values) > 1 else 0.0


def mackey_glass(args):
    """LMU (through NengoDL) vs an LSTM of equal parameter count, ``horizon``-step-ahead prediction."""
    _positive_int(args, "window", "horizon", "order", "lstm_units", "epochs", "batch_size", "n_samples")
    _positive(args, "theta", "valid_fraction")
    if args.theta > args.window:
        raise UsageError(f"--theta ({args.theta}) must not exceed --window ({args.window})")
    if not args.valid_fraction < 0.6:
        raise UsageError(f"--valid-fraction must be < 0.6 (got {args.valid_fraction})")
    n = args.n_samples
    split_valid, split_test = int((0.7 - args.valid_fraction) * n), int(0.7 * n)
    shortest = min(split_valid, split_test - split_valid, n - split_test)
    if shortest < args.window + args.horizon + args.batch_size:
        raise UsageError(
            f"--n-samples {n} is too short: every part (train / valid / test) needs at least "
            f"window + horizon + batch size = {args.window + args.horizon + args.batch_size} samples"
        )
    h = args.lstm_units
    lstm_params = 4 * (h * (h + 1) + h) + h + 1
    # LMU with input_to_hidden and a linear readout: units * (order + 3) + 2 parameters
    units = max(1, round((lstm_params - 2) / (args.order + 3)))
    lmu_params = units * (args.order + 3) + 2
    if abs(lmu_params - lstm_params) > 0.01 * lstm_params:
        raise UsageError(
            f"no LMU of order {args.order} is within 1% of the LSTM's {lstm_params} parameters "
            f"(closest: {lmu_params}); lower --order or raise --lstm-units"
        )

    import tensorflow as tf

    from .. import data, dl, maths
    from ..lmu import LMU

    tf.get_logger().setLevel("ERROR")  # retracing notes from predicting in a loop
    start_all = time.perf_counter()
    series = data.mackey_glass(n, seed=args.data_seed)
    mean, std = series[:split_valid].mean(), series[:split_valid].std()
    series = (series - mean) / std
    parts = {
        "train": data.mackey_glass_windows(series[:split_valid], args.window, args.horizon),
        "valid": data.mackey_glass_windows(series[split_valid:split_test], args.window, args.horizon),
        "test": data.mackey_glass_windows(series[split_test:], args.window, args.horizon),
    }
    # whole minibatches only (NengoDL's minibatch size is fixed), for both models alike
    n_train = len(parts["train"][0]) - len(parts["train"][0]) % args.batch_size
    parts["train"] = tuple(a[:n_train] for a in parts["train"])
    x_train, y_train = parts["train"]
    x_eval = np.concatenate([parts["valid"][0], parts["test"][0]])  # one prediction pass for both
    n_valid = len(parts["valid"][0])
    dt = 0.001

    def split(pred):
        return {"valid": pred[:n_valid], "test": pred[n_valid:]}

    def schedule(lr):  # a fresh schedule per run, identical for both models
        steps = args.epochs * (len(x_train) // args.batch_size)
        return tf.keras.optimizers.schedules.CosineDecay(lr, steps)

    def train_lmu(lr, seed):
        tf.random.set_seed(seed)
        lmu = LMU(
            units, args.order, args.theta * dt, input_to_hidden=True, output_dimensions=1, dt=dt,
            neuron_type="relu", seed=seed,
        )
        assert lmu.n_trainable == lmu_params
        hist = dl.fit(
            lmu, x_train, y_train, epochs=args.epochs, batch_size=args.batch_size, loss="mse",
            learning_rate=schedule(lr), verbose=0,
        )
        return split(dl.predict(lmu, x_eval, batch_size=256)), hist["seconds"], hist["loss"][-1]

    def train_lstm(lr, seed):
        tf.random.set_seed(seed)
        inp = tf.keras.Input((args.window, 1))
        out = tf.keras.layers.Dense(1)(tf.keras.layers.LSTM(h)(inp))
        model = tf.keras.Model(inp, out)
        assert model.count_params() == lstm_params
        model.compile(tf.optimizers.Adam(schedule(lr)), "mse")
        start = time.perf_counter()
        hist = model.fit(x_train, y_train, epochs=args.epochs, batch_size=args.batch_size, verbose=0, shuffle=True)
        secs = time.perf_counter() - start
        return split(model.predict(x_eval, batch_size=256, verbose=0)), secs, float(hist.history["loss"][-1])

    models = {
        "lmu": {
            "train": train_lmu, "n_parameters": lmu_params,
            "architecture": {
                "units": units, "order": args.order, "theta_steps": args.theta, "neuron_type": "relu",
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
        "task": "mackey-glass", "args": settings(args), "protocol": MACKEY_GLASS_PROTOCOL,
        "n_windows": {k: len(v[0]) for k, v in parts.items()},
        "normalisation": {"mean": float(mean), "std": float(std), "from": "training part"},
        "lr_grid": args.lrs, "seeds": args.seeds, "selection_seed": args.seeds[0],
    }
    _log(
        f"Mackey-Glass, {args.horizon} steps ahead from {args.window}: LMU {lmu_params} parameters "
        f"({units} units, order {args.order}, theta {args.theta:g}), LSTM {lstm_params} ({h} units); "
        f"{len(x_train)} / {results['n_windows']['valid']} / {results['n_windows']['test']} windows"
    )

    def record(name, lr, seed):
        preds, secs, loss = models[name]["train"](lr, seed)
        run = {
            "seed": seed, "lr": lr, "valid_nrmse": maths.nrmse(preds["valid"], parts["valid"][1]),
            "test_nrmse": maths.nrmse(preds["test"], parts["test"][1]), "train_seconds": secs,
            "final_train_loss": loss,
        }
        _log(f"  {name.upper():4s} seed {seed} lr {lr:g}: valid NRMSE {run['valid_nrmse']:.5f}, "
             f"test {run['test_nrmse']:.5f} ({secs:.0f} s)")
        return run, preds["test"]

    first_preds = {}
    for name, model in models.items():
        _log(f"{name.upper()}: learning rate search on validation (seed {args.seeds[0]})")
        search = [record(name, lr, args.seeds[0]) for lr in args.lrs]
        best = min(range(len(search)), key=lambda i: search[i][0]["valid_nrmse"])
        lr = args.lrs[best]
        first_preds[name] = search[best][1]
        runs = [search[best][0]]
        for seed in args.seeds[1:]:
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
        _log(f"{name.upper()} (lr {lr:g}): test NRMSE {mean_:.5f} +- {std_:.5f} over seeds {args.seeds}")

    lmu_test, lstm_test = results["lmu"]["test_nrmse"], results["lstm"]["test_nrmse"]
    results["lmu_better"] = results["lmu"]["test_nrmse_mean"] < results["lstm"]["test_nrmse_mean"]
    results["lmu_better_every_seed"] = all(a < b for a, b in zip(lmu_test, lstm_test))
    results["parameter_ratio"] = lmu_params / lstm_params
    results["total_seconds"] = time.perf_counter() - start_all
    _log(
        f"test NRMSE, mean +- std over {len(args.seeds)} seeds: LMU {results['lmu']['test_nrmse_mean']:.5f} +- "
        f"{results['lmu']['test_nrmse_std']:.5f}, LSTM {results['lstm']['test_nrmse_mean']:.5f} +- "
        f"{results['lstm']['test_nrmse_std']:.5f}; LMU lower: {results['lmu_better']} (mean), "
        f"{results['lmu_better_every_seed']} (every seed); {results['total_seconds']:.0f} s in all"
    )
    results["json"] = save_json(results, args.out_dir, "mackey-glass")

    from matplotlib.figure import Figure

    fig = Figure(figsize=(10, 4.2))
    grid = fig.add_gridspec(2, 2, width_ratios=[3, 1], height_ratios=[1, 1.3], wspace=0.3)
    ax, ex, bx = fig.add_subplot(grid[0, 0]), fig.add_subplot(grid[1, 0]), fig.add_subplot(grid[:, 1])
    k = slice(0, 400)
    y_test = parts["test"][1]
    ax.plot(y_test[k, 0], "k", lw=1.5)
    ax.set_ylabel("target")
    ax.set_title(f"{args.horizon}-step-ahead prediction, test part (normalised)", fontsize=9)
    ax.tick_params(labelbottom=False)
    for name in ("lmu", "lstm"):
        ex.plot(first_preds[name][k, 0] - y_test[k, 0], lw=1, label=f"{name.upper()} (seed {args.seeds[0]})")
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
    add_progress_arguments(parser)


def capacity(args):
    """An untrained LMU memory read out at several delays over a long window."""
    _positive_int(args, "order", "theta_steps", "delays", "windows", "spiking_neurons", "spiking_theta_steps")
    _positive(args, "cycles")
    if args.windows < 2:
        raise UsageError("--windows must be >= 2 (the first window is the memory filling up)")
    results = {"task": "capacity", "args": settings(args)}
    progress = show_progress(args)
    rate = capacity_nrmse(
        args.order, args.theta_steps, args.delays, args.cycles, args.windows, None, args.seed, progress=progress
    )
    results["rate"] = rate
    _log(f"capacity, exact memory, order {args.order}, theta {args.theta_steps} steps: NRMSE {rate['nrmse']}")
    spk = capacity_nrmse(
        args.order, args.spiking_theta_steps, args.delays, args.cycles, args.windows,
        args.spiking_neurons * args.order, args.seed, progress=progress,
    )
    results["spiking"] = spk
    _log(f"capacity, spiking LIF memory ({spk['n_neurons']} neurons), theta {args.spiking_theta_steps} "
         f"steps: NRMSE {spk['nrmse']}")
    results["json"] = save_json(results, args.out_dir, "capacity")
    return results


def capacity_nrmse(order, theta_steps, delays, cycles, windows, n_neurons=None, seed=0, dt=0.001, progress=False):
    """NRMSE per delay of a :class:`.LegendreMemory` (exact if ``n_neurons`` is None).

    The input is white noise band-limited to ``cycles`` per window; errors are measured
    after the first window (once every delay has input behind it).
    """
    import nengo

    from .. import data, maths
    from ..backends import run_steps
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
        run_steps(sim, n_steps, progress=progress, desc=f"order {order}, {n_steps} steps")
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
