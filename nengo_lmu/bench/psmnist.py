"""``nengo-lmu psmnist``: the LMU on permuted sequential MNIST, trained through NengoDL.

:func:`run` trains the paper's psMNIST LMU (or loads its parameters), tests it in rate
mode and in the time domain (spiking hidden neurons; a spiking memory), optionally
fine-tunes it with noise matched to its spiking memory's error, and times keras-lmu on the
same model. From Python::

    from nengo_lmu import bench

    results = bench.psmnist.run(epochs=12, out_dir="results")   # or bench.run("psmnist", ...)

Timings are wall-clock on whatever machine runs them, recorded next to the figures.
"""

import time

import numpy as np

from .. import validation
from ..networks import MAPPINGS, STATE_READOUTS
from . import (
    MAX_NEURONS, MAX_ORDER, Command, Option, arguments, check_output, log, read_file, save_figure, save_json,
    save_params,
)

WHERE = "psmnist"
DT = 0.001
#: training images in the psMNIST training split
N_TRAIN = 50_000
#: test images in the psMNIST test split
N_TEST = 10_000
MEMORY_NEURON_TYPES = ("lif", "lif-rate", "relu", "spiking-relu", "poisson")


def run(
    units=380,
    order=256,
    epochs=15,
    batch_size=100,
    lr=1e-3,
    l2=1e-4,
    input_scale=30.0,
    n_train=N_TRAIN,
    n_spiking=1000,
    firing_rate_scale=1000.0,
    hidden_synapse=0.0,
    average_last=1,
    steps_per_sample=1,
    memory_neurons=50,
    memory_neuron_type="spiking-relu",
    memory_synapse=0.05,
    memory_mapping="discrete",
    memory_readout="synaptic",
    memory_scales="data",
    memory_reg=0.01,
    memory_max_rate=10000.0,
    memory_noise=0.0,
    noise_digits=100,
    finetune_epochs=3,
    finetune_lr=2e-4,
    keras_batches=2,
    seed=0,
    params=None,
    out_dir="results",
    overwrite=False,
):
    """Train the LMU on psMNIST through NengoDL; test it in rate mode and spiking.

    The options are those of ``nengo-lmu psmnist --help``. Writes ``psmnist.json``,
    ``psmnist-params.npz`` and ``psmnist-training.png`` (when it trains), and
    ``psmnist-params-noise.npz`` (with ``memory_noise > 0``); returns the JSON's content
    with ``"files"``.

    ``n_spiking=0`` skips the time-domain runs, ``keras_batches=0`` the keras-lmu timing:
    then it only trains and tests in rate mode, writing the parameter file to deploy
    (``nengo-lmu deploy --params psmnist-params.npz --backend loihi-sim --readout-steps
    50``, :func:`nengo_lmu.deploy.hold_readout`).
    """
    import nengo

    from .. import data, dl
    from ..lmu import LMU

    # --- every argument, the data, the parameter file and the output directory, before any work
    def integer(value, attr, low=1, high=None):
        return validation.integer(value, attr, low=low, high=high, where=WHERE)

    def number(value, attr, low=0, low_open=True):
        return validation.number(value, attr, low=low, low_open=low_open, where=WHERE)

    units = integer(units, "units", high=MAX_NEURONS)
    order = integer(order, "order", high=MAX_ORDER)
    epochs = integer(epochs, "epochs", high=10_000)
    n_train = integer(n_train, "n_train", high=N_TRAIN)
    batch_size = integer(batch_size, "batch_size", high=n_train)
    n_spiking = integer(n_spiking, "n_spiking", low=0, high=N_TEST)
    steps_per_sample = integer(steps_per_sample, "steps_per_sample", high=100)
    average_last = integer(average_last, "average_last", high=784 * steps_per_sample)
    memory_neurons = integer(memory_neurons, "memory_neurons", high=MAX_NEURONS // order)
    noise_digits = integer(noise_digits, "noise_digits", high=n_train)
    finetune_epochs = integer(finetune_epochs, "finetune_epochs", high=10_000)
    keras_batches = integer(keras_batches, "keras_batches", low=0, high=1000)
    seed = integer(seed, "seed", low=0)
    lr, finetune_lr = number(lr, "lr"), number(finetune_lr, "finetune_lr")
    input_scale, firing_rate_scale = number(input_scale, "input_scale"), number(firing_rate_scale, "firing_rate_scale")
    memory_synapse, memory_reg = number(memory_synapse, "memory_synapse"), number(memory_reg, "memory_reg")
    l2, hidden_synapse = number(l2, "l2", low_open=False), number(hidden_synapse, "hidden_synapse", low_open=False)
    memory_max_rate = number(memory_max_rate, "memory_max_rate", low_open=False)
    memory_noise = number(memory_noise, "memory_noise", low_open=False)
    validation.choice(memory_neuron_type, MEMORY_NEURON_TYPES, "memory_neuron_type", where=WHERE)
    validation.choice(memory_mapping, MAPPINGS, "memory_mapping", where=WHERE)
    validation.choice(memory_readout, STATE_READOUTS, "memory_readout", where=WHERE)
    validation.choice(memory_scales, ("data", "white"), "memory_scales", where=WHERE)
    data.mnist_path()  # the data package is installed (MissingDataError says how to install it)
    lmu = LMU(
        units, order, 784 * DT, output_dimensions=10, dt=DT, seed=seed,
        params={"e_x": [[input_scale]]}, label="psMNIST LMU",
    )
    if params is not None:
        read_file(lmu.load_params, params)
    out_dir = check_output(out_dir, overwrite, where=WHERE)
    settings = arguments(run, locals())
    memory = dict(neurons=memory_neurons, neuron_type=memory_neuron_type, synapse=memory_synapse,
                  mapping=memory_mapping, readout=memory_readout, scales=memory_scales, reg=memory_reg,
                  max_rate=memory_max_rate)

    x_train, y_train = data.psmnist("train", n=n_train)
    x_valid, y_valid = data.psmnist("valid")
    x_test, y_test = data.psmnist("test")
    results = {"task": "psmnist", "args": settings, "n_parameters": lmu.n_trainable}
    files = []
    log(f"psMNIST: order {order}, {units} ReLU units, {lmu.n_trainable} trainable parameters")

    if params is None:
        history = dl.fit(
            lmu, x_train, y_train, epochs=epochs, batch_size=batch_size, loss="sparse_ce",
            learning_rate=dl.cosine_decay(lr, epochs, len(x_train), batch_size), l2=l2,
            validation_data=(x_valid, y_valid), verbose=2,
        )
        results["history"] = history
        results["train_seconds"] = history["seconds"]
        results["train_samples_per_s"] = history["n_trained"] * epochs / history["seconds"]
        log(f"trained in {history['seconds']:.1f} s ({results['train_samples_per_s']:.0f} samples/s)")
        results["params_file"] = save_params(lmu, out_dir, "psmnist-params", {"task": "psmnist"}, overwrite)
        files.append(results["params_file"])
    else:
        results["params_file"] = params

    start = time.perf_counter()
    results["test_accuracy"] = dl.evaluate(lmu, x_test, y_test)["accuracy"]
    results["test_seconds"] = time.perf_counter() - start
    results["valid_accuracy"] = dl.evaluate(lmu, x_valid, y_valid)["accuracy"]
    log(f"test accuracy (rate, parallel): {results['test_accuracy']:.4f}; valid {results['valid_accuracy']:.4f}")

    k = steps_per_sample
    if memory_noise > 0:
        finetune = dict(noise=memory_noise, digits=noise_digits, epochs=finetune_epochs, lr=finetune_lr, l2=l2,
                        batch_size=batch_size, steps_per_sample=k)
        results["noise_finetune"] = _noise_finetune(
            lmu, memory, finetune, (x_train, y_train), (x_valid, y_valid), (x_test, y_test), out_dir, overwrite
        )
        files.append(results["noise_finetune"]["params_file"])
    xs, ys = x_test[:n_spiking], y_test[:n_spiking]
    runs = {
        "rate": lmu,
        "spiking_hidden": lmu.with_neurons(
            nengo.SpikingRectifiedLinear(), firing_rate_scale=firing_rate_scale,
            hidden_synapse=hidden_synapse or None, dt=DT / k,
        ),
        "spiking_memory": lmu.with_neurons(memory=spiking_memory(lmu, x_train, **memory), dt=DT / k),
    } if n_spiking else {}
    results["time_domain"] = {}
    for name, net in runs.items():
        start = time.perf_counter()
        avg = 1 if name == "rate" else average_last
        steps = 1 if name == "rate" else k
        x_run = np.repeat(xs, steps, axis=1) if steps > 1 else xs
        extra = {}
        if name == "spiking_memory" and avg == 1:
            # one run gives the output and the memory's final state, compared with the exact one
            out, state = dl.predict(net, x_run, formulation="step", batch_size=batch_size, return_state=True)
            acc = float(np.mean(np.argmax(out, axis=1) == ys))
            extra["memory_error"] = _memory_error(lmu, xs, state)
            extra["memory"] = {
                k_: v for k_, v in net.memory_config.items()
                if k_ not in ("neuron_type", "solver", "ensemble_kwargs", "scales")
            }
            extra["memory"].update(
                neuron_type=repr(net.memory.neuron_type), mapping=net.memory.mapping, scales=memory_scales,
                reg=memory_reg, max_rate=memory_max_rate or "200-400 Hz (nengo default)",
            )
        else:
            acc = dl.evaluate(net, x_run, ys, formulation="step", average_last=avg)["accuracy"]
        secs = time.perf_counter() - start
        results["time_domain"][name] = {
            "accuracy": acc, "n_digits": n_spiking, "seconds": secs, "average_last": avg,
            "steps_per_sample": steps, **extra,
        }
        log(f"time domain, {name}: {acc:.4f} on the first {n_spiking} test digits ({secs:.0f} s)")
        if "memory_error" in extra:
            e = extra["memory_error"]
            log(f"  memory final state vs exact: relative error {e['relative_total']:.3g} (median per "
                f"coefficient {e['relative_median']:.3g}); hidden input relative error "
                f"{e['hidden_input_relative']:.3g}")

    if keras_batches:
        results["keras_lmu_rnn"] = keras_lmu_speed(order, units, batch_size, keras_batches, x_train)
        log(f"keras-lmu (rnn mode) training: {results['keras_lmu_rnn']['samples_per_s']:.1f} samples/s")
    if "history" in results:
        results["figure"] = save_figure(_history_figure(results["history"]), out_dir, "psmnist-training", overwrite)
        files.append(results["figure"])
    results["json"] = save_json(results, out_dir, "psmnist", overwrite)
    results["files"] = files + [results["json"]]
    return results


def _noise_finetune(lmu, memory, finetune, train, valid, test, out_dir, overwrite):
    """Fine-tune ``lmu`` in place with noise matched to its spiking memory's measured error.

    ``memory`` holds :func:`spiking_memory`'s settings; ``finetune`` the noise scale, the
    training digits it is measured on, epochs, learning rate, L2, batch size and steps
    per sample.
    """
    from .. import dl

    start = time.perf_counter()
    k, x_train = finetune["steps_per_sample"], train[0]
    xs = x_train[-finetune["digits"] :]  # training digits: the test digits stay unseen
    net = lmu.with_neurons(memory=spiking_memory(lmu, x_train, **memory), dt=DT / k)
    x_run = np.repeat(xs, k, axis=1) if k > 1 else xs
    _, state = dl.predict(net, x_run, formulation="step", batch_size=finetune["batch_size"], return_state=True)
    err = _memory_error(lmu, xs, state)
    sigma = finetune["noise"] * np.asarray(err["std_per_coefficient"])
    log(f"noise-aware fine-tuning: memory error on {len(xs)} training digits {err['relative_total']:.3g} "
        f"(relative); noise std {finetune['noise']} x measured ({time.perf_counter() - start:.0f} s)")
    history = dl.fit(
        lmu, *train, epochs=finetune["epochs"], batch_size=finetune["batch_size"], loss="sparse_ce",
        learning_rate=dl.cosine_decay(finetune["lr"], finetune["epochs"], len(x_train), finetune["batch_size"]),
        l2=finetune["l2"],
        validation_data=valid, verbose=2, memory_noise=sigma,
    )
    out = {
        "train_memory_error": {k_: v for k_, v in err.items() if k_ != "std_per_coefficient"},
        "noise_std": [float(v) for v in sigma],
        "history": history,
        "params_file": save_params(lmu, out_dir, "psmnist-params-noise", {"task": "psmnist"}, overwrite),
        "test_accuracy": dl.evaluate(lmu, *test)["accuracy"],
        "valid_accuracy": dl.evaluate(lmu, *valid)["accuracy"],
        "seconds": time.perf_counter() - start,
    }
    log(f"fine-tuned ({out['seconds']:.0f} s): test accuracy (rate, parallel) {out['test_accuracy']:.4f}; "
        f"valid {out['valid_accuracy']:.4f}")
    return out


def spiking_memory(lmu, x_train, neurons=50, neuron_type="spiking-relu", synapse=0.05, mapping="discrete",
                   readout="synaptic", scales="data", reg=0.01, max_rate=10000.0):
    """The ``LegendreMemory`` arguments of ``lmu``'s spiking memory (``memory`` of
    :meth:`.LMU.with_neurons`), ``neurons`` per coefficient.

    ``scales="data"`` scales each coefficient by the exact memory's states over 500
    training digits, ``"white"`` by white noise with the data's RMS; ``max_rate`` > 0 draws
    maximum firing rates from ``[max_rate / 2, max_rate]`` Hz (0: nengo's 200-400 Hz).
    """
    import nengo

    from ..deploy import memory_statistics
    from ..networks import data_scales, neuron_type_from_name

    e_x = lmu.params["e_x"][0, 0]
    white = memory_statistics(lmu, x_train[:2000])
    mem = dict(
        n_neurons=neurons * lmu.order,
        neuron_type=neuron_type_from_name(neuron_type),
        synapse=synapse,
        mapping=mapping,
        state_readout=readout,
        # permuted pixels are close to white: white noise up to Nyquist with the data's RMS
        # (as a pair: these settings are saved with the results, as JSON)
        input_statistics=(white.high, white.rms),
        solver=nengo.solvers.LstsqL2(reg=reg),
    )
    if scales == "data":
        # the memory's input is e_x x: its exact states over training digits, every 7th step
        mem["scales"] = data_scales(e_x * x_train[:500], lmu.order, lmu.theta, DT, stride=7)
    if max_rate > 0:
        mem["ensemble_kwargs"] = dict(max_rates=nengo.dists.Uniform(max_rate / 2, max_rate))
    return mem


def _memory_error(lmu, x, state):
    """The spiking memory's final state ``state`` against the exact one, for the sequences ``x``."""
    exact = lmu.final_memory_state(x)
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


def _history_figure(history):
    from matplotlib.figure import Figure

    fig = Figure(figsize=(5, 3.5))
    ax = fig.add_subplot()
    for key in ("accuracy", "val_accuracy"):
        if key in history:
            ax.plot(np.arange(1, len(history[key]) + 1), history[key], label=key)
    ax.set_xlabel("epoch")
    ax.set_ylabel("accuracy")
    ax.legend()
    return fig


COMMANDS = {
    "psmnist": Command(
        help="train the LMU on psMNIST through NengoDL; test rate and spiking",
        run=run,
        options=(
            Option("units", int, "hidden ReLU units (380: 101,471 parameters)"),
            Option("order", int, "order d of the memory"),
            Option("epochs", int, "training epochs (parallel formulation)"),
            Option("batch_size", int, "minibatch size"),
            Option("lr", float, "initial Adam learning rate (cosine decay to 0)"),
            Option("l2", float, "L2 penalty on the hidden kernels"),
            Option("input_scale", float, "initial e_x: scales the memory up to where ReLUs with Glorot weights "
                   "learn fast"),
            Option("n_train", int, f"training images used (of {N_TRAIN:,})"),
            Option("n_spiking", int, f"test digits run in the time domain (of {N_TEST:,}; 0: none)"),
            Option("firing_rate_scale", float, "spiking hidden: rate scaling"),
            Option("hidden_synapse", float, "spiking hidden: output lowpass in s (0: none; the readout is trained "
                   "for the last step only)"),
            Option("average_last", int, "spiking: average the output over the last steps"),
            Option("steps_per_sample", int, "spiking runs: simulator steps per pixel (dt / k; the held input makes "
                   "the memory exact at every pixel boundary, and spikes get k steps per pixel)"),
            Option("memory_neurons", int, "spiking memory: neurons per coefficient"),
            Option("memory_neuron_type", str, "spiking memory: neuron type (rate types measure the decoding floor "
                   "without spike noise; LIF at 200-400 Hz measured 10%% accuracy: too few spikes for an "
                   "order-256 memory)", choices=MEMORY_NEURON_TYPES),
            Option("memory_synapse", float, "spiking memory: lowpass synapse (s)"),
            Option("memory_mapping", str, "spiking memory: principle-3 mapping. 'continuous' (what 'auto' picks "
                   "for LIF when stable) is forward Euler of the memory: unstable at order 256 with 784 steps "
                   "(|1 + dt lambda| up to 3.4 per step at one step per pixel)", choices=MAPPINGS),
            Option("memory_readout", str, "spiking memory: what the hidden layer reads (LegendreMemory "
                   "state_readout): the filtered drive of the memory neurons, or their unfiltered decoded spikes",
                   choices=STATE_READOUTS),
            Option("memory_scales", str, "spiking memory: state scaling from the exact memory run on 500 training "
                   "digits (n_std x each coefficient's RMS), or from white noise with the data's RMS",
                   choices=("data", "white")),
            Option("memory_reg", float, "spiking memory: LstsqL2 decoder regularization"),
            Option("memory_max_rate", float, "spiking memory: max firing rates drawn from [r/2, r] Hz, i.e. up to "
                   "r * dt spikes per neuron per step (0: nengo's default 200-400 Hz)"),
            Option("memory_noise", float, "noise-aware fine-tuning: if > 0, measure the spiking memory's "
                   "final-state error on --noise-digits training digits, then fine-tune the hidden layer (e_x "
                   "held) with Gaussian noise of this many times that per-coefficient std added to the memory; "
                   "all time-domain runs then use the fine-tuned parameters (saved as psmnist-params-noise.npz)"),
            Option("noise_digits", int, "training digits to measure the memory error on"),
            Option("finetune_epochs", int, "noise-aware fine-tuning epochs"),
            Option("finetune_lr", float, "fine-tuning Adam learning rate (cosine decay)"),
            Option("keras_batches", int, "timed keras-lmu batches (rnn mode; 0: none)"),
            Option("seed", int, "seed of the initial weights"),
            Option("params", str, "skip training: load these parameters (.npz, from LMU.save_params)"),
        ),
    ),
}
