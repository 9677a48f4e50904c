"""Training :class:`nengo_lmu.LMU` networks through NengoDL.

The only module of the package that imports NengoDL / TensorFlow (on first use).

Two formulations, with identical outputs on identical weights:

``"parallel"``
    For cells whose memory input does not depend on the past (no ``e_h``, no ``e_m``)
    and without ``W_h``, the memory is a fixed linear filter of the input, so its
    state after a whole sequence is one matrix product with its impulse response
    (:func:`nengo_lmu.maths.impulse_response`). The training network presents the
    sequence as one vector in a single NengoDL timestep; a ``TensorNode`` computes the
    memory and the hidden layer is an ordinary ensemble of rate neurons. Only the last
    step's output is available, so targets are one per sequence.
``"step"``
    The :class:`.LMU` network itself, run one sample per simulator step. Needed for
    recurrent cells and for per-step targets; far slower on CPUs.

Usage::

    lmu = LMU(units=380, order=256, theta=784 * 0.001, output_dimensions=10)
    history = fit(lmu, x_train, y_train, epochs=10, loss="sparse_ce")
    acc = evaluate(lmu, x_test, y_test)["accuracy"]
    lmu.save_params("psmnist.npz")
    # spiking hidden neurons, read at the last step (a final-step readout is only
    # trained for that step, so no output filter: the scale sets spikes per step)
    spiking = lmu.with_neurons(nengo.SpikingRectifiedLinear(), firing_rate_scale=1000)
    y = predict(spiking, x_test[:1000], formulation="step")

``x`` is always ``(n_sequences, n_steps, input_dimensions)``; targets are
``(n_sequences, output_dimensions)`` (the last step) or, step formulation only,
``(n_sequences, n_steps, output_dimensions)``. ``fit`` writes the trained values into
the network (:meth:`.LMU.set_params`), so the same object then runs on any backend.
"""

import warnings

import numpy as np
import nengo
from nengo.exceptions import ValidationError

from . import maths

FORMULATIONS = ("auto", "parallel", "step")
LOSSES = ("mse", "sparse_ce")


def parallel_possible(lmu):
    """True if the parallel-in-time formulation is exact for ``lmu``."""
    return not lmu.recurrent and not lmu.paths["hidden_to_hidden"]


def _formulation(lmu, formulation, per_step_targets=False):
    if formulation not in FORMULATIONS:
        raise ValidationError(f"must be one of {FORMULATIONS} (got {formulation!r})", "formulation", "fit")
    if formulation == "auto":
        return "parallel" if parallel_possible(lmu) and not per_step_targets else "step"
    if formulation == "parallel":
        if not parallel_possible(lmu):
            raise ValidationError(
                "the parallel formulation needs a cell without hidden->memory, "
                "memory->memory and hidden->hidden paths; use 'step'",
                "formulation",
                "fit",
            )
        if per_step_targets:
            raise ValidationError(
                "the parallel formulation only has the last step's output; give one "
                "target per sequence or use 'step'",
                "formulation",
                "fit",
            )
    return formulation


def check_data(lmu, x, y=None, n_steps=None, name="x"):
    """Validate and convert training / test data, before any building or training.

    Returns ``x`` as float32 ``(n, n_steps, input_dimensions)`` and ``y`` as float32
    ``(n, out)`` or ``(n, n_steps, out)`` (or None).
    """
    x = np.asarray(x, dtype=np.float32)
    if x.ndim == 2 and lmu.input_dimensions == 1:
        x = x[:, :, None]
    if x.ndim != 3 or x.shape[2] != lmu.input_dimensions:
        raise ValidationError(
            f"must have shape (n_sequences, n_steps, {lmu.input_dimensions}) "
            f"(got {x.shape})",
            name,
            "data",
        )
    if x.shape[0] < 1 or x.shape[1] < 1:
        raise ValidationError(f"is empty (shape {x.shape})", name, "data")
    if n_steps is not None and x.shape[1] != n_steps:
        raise ValidationError(f"must have {n_steps} steps per sequence (got {x.shape[1]})", name, "data")
    if not np.all(np.isfinite(x)):
        bad = int(np.sum(~np.all(np.isfinite(x), axis=(1, 2))))
        raise ValidationError(f"contains NaN or inf (in {bad} sequences)", name, "data")
    if y is None:
        return x, None
    y = np.asarray(y, dtype=np.float32)
    out_d = lmu.output_dimensions or lmu.units
    if y.ndim == 1:
        y = y[:, None]
    if y.shape[0] != x.shape[0]:
        raise ValidationError(
            f"has {y.shape[0]} targets for {x.shape[0]} input sequences", "y", "data"
        )
    if not (
        (y.ndim == 2 and y.shape[1] in (1, out_d))
        or (y.ndim == 3 and y.shape[1:] == (x.shape[1], out_d))
    ):
        raise ValidationError(
            f"must have shape (n, {out_d}), (n, 1) class labels, or (n, {x.shape[1]}, "
            f"{out_d}) per-step targets (got {y.shape})",
            "y",
            "data",
        )
    if not np.all(np.isfinite(y)):
        raise ValidationError("contains NaN or inf", "y", "data")
    return x, y


# --- the parallel training network ------------------------------------------------------


def _memory_kernel(lmu, n_steps):
    """``K`` with ``m[T-1] = sum_t K[t] u[t]``: the impulse response, time-reversed."""
    A, B = maths.legendre_ss(lmu.order, lmu.theta)
    h = maths.impulse_response(A, B, lmu.dt, n_steps)[:, :, 0]  # (T, order)
    return np.ascontiguousarray(h[::-1]).astype(np.float32)


def _memory_noise(lmu, memory_noise):
    """``memory_noise`` checked and as a float32 ``(mem, mem)`` matrix ``L`` (noise ``L z``)."""
    if memory_noise is None:
        return None
    mem = lmu.memory_d * lmu.order
    noise = np.asarray(memory_noise, dtype=float)
    if noise.ndim == 0:
        noise = np.full(mem, float(noise))
    if noise.shape == (mem,) and (noise >= 0).all():
        noise = np.diag(noise)
    if noise.shape != (mem, mem) or not np.all(np.isfinite(noise)):
        raise ValidationError(
            f"must be a standard deviation >= 0, {mem} of them (one per memory coefficient), "
            f"or a ({mem}, {mem}) matrix L (noise L z, z standard normal); got shape {noise.shape}",
            "memory_noise",
            "fit",
        )
    return noise.astype(np.float32)


def _parallel_memory_layer(lmu, n_steps, noise=None):
    import tensorflow as tf

    kernel = _memory_kernel(lmu, n_steps)
    in_d, md, order = lmu.input_dimensions, lmu.memory_d, lmu.order
    e_x = lmu.params.get("e_x")

    class ParallelMemory(tf.keras.layers.Layer):
        """Final memory state of every sequence: ``m = sum_t K[t] (e_x x[t])``."""

        def build(self, input_shape):
            self.kernel = tf.constant(kernel)
            self.e_x = (
                None
                if e_x is None
                else self.add_weight(
                    name="e_x",
                    shape=e_x.shape,
                    initializer=tf.constant_initializer(e_x),
                    # with memory noise e_x is held: the noise is matched to this input scale
                    trainable=noise is None,
                )
            )

        def call(self, inputs, training=None):
            x = tf.reshape(inputs, (-1, n_steps, in_d))
            u = x if self.e_x is None else tf.einsum("bti,ji->btj", x, self.e_x)
            m = tf.einsum("btj,tk->bjk", u, self.kernel)
            m = tf.reshape(m, (-1, md * order))
            if noise is None or training is None:
                return m
            # training only: Gaussian noise L z on the state (e.g. a spiking memory's error)
            z = tf.random.normal(tf.shape(m), dtype=m.dtype)
            return m + tf.cast(training, m.dtype) * tf.matmul(z, tf.constant(noise.T))

    return ParallelMemory()


def _weight_probes(net, conns):
    """Probes on the hidden layer's kernels (for the L2 penalty), last value only."""
    import nengo_dl

    probes = []
    with net:
        nengo_dl.configure_settings(keep_history=True)
        for name in ("W_x", "W_h", "W_m"):
            if name in conns:
                probe = nengo.Probe(conns[name], "weights", label=f"{name} weights")
                net.config[probe].keep_history = False
                probes.append(probe)
    return probes


def _parallel_network(lmu, n_steps, memory_noise=None):
    """NengoDL network computing the LMU's last-step output from a whole sequence."""
    import nengo_dl

    p = lmu.params
    s = lmu.firing_rate_scale
    layer = _parallel_memory_layer(lmu, n_steps, memory_noise)
    conns = {}
    with nengo.Network(seed=lmu.seed, label="LMU (parallel in time)") as net:
        nengo_dl.configure_settings(trainable=None, stateful=False)
        net.config[nengo.Connection].trainable = False
        net.config[nengo.Ensemble].trainable = False
        inp = nengo.Node(np.zeros(n_steps * lmu.input_dimensions), label="sequence")
        mem = nengo_dl.TensorNode(
            layer, shape_in=(n_steps * lmu.input_dimensions,), shape_out=(lmu.memory_d * lmu.order,),
            pass_time=False, label="memory",
        )
        nengo.Connection(inp, mem, synapse=None)
        hidden = nengo.Ensemble(
            lmu.units, 1, neuron_type=lmu.neuron_type, gain=nengo.dists.Choice([s]), bias=s * p["b"], label="h"
        )
        net.config[hidden.neurons].trainable = True
        conns["W_m"] = nengo.Connection(mem, hidden.neurons, transform=p["W_m"], synapse=None)
        if "W_x" in p:
            last = inp[(n_steps - 1) * lmu.input_dimensions :]
            conns["W_x"] = nengo.Connection(last, hidden.neurons, transform=p["W_x"], synapse=None)
        if lmu.output_dimensions is None:
            out = nengo.Node(size_in=lmu.units)
            nengo.Connection(hidden.neurons, out, transform=1.0 / s, synapse=None)
        else:
            out = nengo.Node(size_in=lmu.output_dimensions, label="y")
            conns["W_o"] = nengo.Connection(hidden.neurons, out, transform=p["W_o"] / s, synapse=None)
            one = nengo.Node(1.0)
            conns["b_o"] = nengo.Connection(one, out, transform=p["b_o"][:, None], synapse=None)
        for conn in conns.values():
            net.config[conn].trainable = True
        probe = nengo.Probe(out, synapse=None)
    return net, inp, probe, conns, hidden, layer


def _wrapper_seed(lmu):
    return None if lmu.seed is None else (lmu.seed + 7919) % 2**31


def _step_network(lmu, probe_synapse=None):
    """A wrapper feeding data into ``lmu`` and probing its output; ``lmu`` is not copied."""
    import nengo_dl

    # a seed of its own: equal seeds would give the probe the seed of an LMU connection,
    # which NengoDL then takes for a probe connection and freezes
    with nengo.Network(seed=_wrapper_seed(lmu), label="LMU (step by step)") as net:
        nengo_dl.configure_settings(trainable=None, stateful=False)
        net.config[nengo.Connection].trainable = False
        net.config[nengo.Ensemble].trainable = False
        inp = nengo.Node(np.zeros(lmu.input_dimensions), label="x")
        nengo.Connection(inp, lmu.input, synapse=None)
        probe = nengo.Probe(lmu.output, synapse=probe_synapse)
    net.networks.append(lmu)
    net.config[lmu.hidden.neurons].trainable = True
    for conn in lmu.param_connections.values():
        net.config[conn].trainable = True
    return net, inp, probe


def _read_params(lmu, sim, conns, hidden, layer=None):
    """Trained values from a NengoDL simulator, in :attr:`.LMU.params` units."""
    s = lmu.firing_rate_scale
    names = list(conns)
    values = sim.get_nengo_params([conns[n] for n in names] + [hidden])
    params = {}
    for name, v in zip(names, values[:-1]):
        # size-1 transforms come back as scalars: restore the declared shapes
        t = np.reshape(np.asarray(v["transform"], dtype=float), lmu.param_shapes[name])
        if name in ("e_h", "W_h", "W_o"):
            params[name] = t * s
        else:
            params[name] = t
    params["b"] = np.asarray(values[-1]["bias"], dtype=float) / s
    if layer is not None and layer.e_x is not None:
        params["e_x"] = layer.e_x.numpy().astype(float)
    return params


# --- losses -------------------------------------------------------------------------


def _keras_loss(loss, final_only):
    import tensorflow as tf

    if callable(loss):
        fn = loss
    elif loss == "mse":
        fn = tf.keras.losses.MeanSquaredError()
    elif loss == "sparse_ce":
        fn = tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    else:
        raise ValidationError(f"must be one of {LOSSES} or a callable (got {loss!r})", "loss", "fit")
    if not final_only:
        return fn

    def final_step_loss(y_true, y_pred):
        return fn(y_true[:, -1], y_pred[:, -1])

    return final_step_loss


def _sum_of_squares(y_true, y_pred):
    import tensorflow as tf

    flat = tf.reshape(y_pred, (tf.shape(y_pred)[0], -1))
    return tf.reduce_mean(tf.reduce_sum(tf.square(flat), axis=1))


def _keras_metrics(loss, final_only):
    import tensorflow as tf

    if loss != "sparse_ce":
        return []
    acc = tf.keras.metrics.sparse_categorical_accuracy
    if not final_only:
        return [acc]

    def accuracy(y_true, y_pred):
        return acc(y_true[:, -1], y_pred[:, -1])

    return [accuracy]


def _batches(n, batch_size):
    if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
        raise ValidationError(f"must be an integer >= 1 (got {batch_size!r})", "batch_size", "fit")
    return min(int(batch_size), n)


def _pad(x, batch):
    """Pad the first axis to a multiple of ``batch`` (NengoDL's batch size is fixed)."""
    extra = (-len(x)) % batch
    if extra:
        x = np.concatenate([x, np.repeat(x[-1:], extra, axis=0)])
    return x


# --- public API ---------------------------------------------------------------------


def fit(
    lmu,
    x,
    y,
    epochs=1,
    batch_size=100,
    loss="mse",
    optimizer=None,
    learning_rate=1e-3,
    formulation="auto",
    validation_data=None,
    l2=0.0,
    verbose=0,
    callbacks=None,
    memory_noise=None,
):
    """Train ``lmu``'s parameters through NengoDL, then write them into ``lmu``.

    Parameters
    ----------
    lmu : LMU
        Trained in rate mode: its neuron type must have a rate (non-spiking) response,
        and its memory must be exact (``memory=None``).
    x : array_like, shape (n, n_steps, input_dimensions)
        Input sequences.
    y : array_like
        ``(n, out)`` targets at the last step, ``(n,)`` integer labels with
        ``loss="sparse_ce"``, or ``(n, n_steps, out)`` per-step targets (``"step"``).
    epochs, batch_size : int
        Passes over the data and sequences per minibatch (the remainder of ``n`` that
        does not fill a minibatch is left out of training, with a warning).
    loss : {"mse", "sparse_ce"} or callable
        ``"sparse_ce"`` is softmax cross-entropy on integer labels (outputs are logits).
    optimizer : tf.keras.optimizers.Optimizer or None
        Default Adam with ``learning_rate`` (a float or a Keras schedule).
    formulation : {"auto", "parallel", "step"}
        ``"auto"`` is parallel whenever it is exact (see module docstring).
    validation_data : (x, y) or None
        Evaluated after every epoch (in the same formulation).
    l2 : float
        Weight of an L2 penalty (sum of squares) on the hidden kernels ``W_x, W_h, W_m``.
    memory_noise : float, array_like or None
        Noise-aware training (parallel formulation): Gaussian noise added to the memory
        state on every training example, never when evaluating. A standard deviation
        (all coefficients), one per coefficient (``memory_d * order``), or a square
        matrix ``L`` (noise ``L z``, covariance ``L L^T``), e.g. matched to a spiking
        memory's measured error, so the hidden layer learns to tolerate it. The input
        encoders ``e_x`` are then held fixed (scaling the memory up would otherwise
        outgrow noise that is matched to the memory at its present scale).

    Returns
    -------
    history : dict
        Keras' per-epoch ``loss`` (and ``accuracy``, ``val_*``), plus ``formulation``,
        ``n_trained``, ``n_parameters`` and ``seconds`` (training wall time).
    """
    import time

    x, y = check_data(lmu, x, y)
    per_step = y.ndim == 3
    form = _formulation(lmu, formulation, per_step_targets=per_step)
    if isinstance(epochs, bool) or not isinstance(epochs, (int, np.integer)) or epochs < 1:
        raise ValidationError(f"must be an integer >= 1 (got {epochs!r})", "epochs", "fit")
    if lmu.neuron_type.spiking or lmu.memory_config is not None:
        raise ValidationError(
            "train in rate mode: a rate neuron type and the exact memory (memory=None); "
            "convert afterwards with lmu.with_neurons(...)",
            "lmu",
            "fit",
        )
    if not (np.isscalar(l2) and np.isfinite(l2) and l2 >= 0):
        raise ValidationError(f"must be a number >= 0 (got {l2!r})", "l2", "fit")
    if loss == "sparse_ce" and y.shape[-1] != 1:
        raise ValidationError("sparse_ce needs integer class labels, shape (n,)", "y", "fit")
    if validation_data is not None:
        vx, vy = check_data(lmu, *validation_data, n_steps=x.shape[1], name="validation x")
    noise = _memory_noise(lmu, memory_noise)
    if noise is not None and form != "parallel":
        raise ValidationError("memory noise needs the parallel formulation", "memory_noise", "fit")
    batch = _batches(len(x), batch_size)
    n_used = len(x) - len(x) % batch
    if n_used < len(x):
        warnings.warn(f"training on {n_used} of {len(x)} sequences (whole minibatches of {batch})")
    loss_fn = _keras_loss(loss, final_only=form == "step" and not per_step)
    metrics = _keras_metrics(loss, final_only=form == "step" and not per_step)
    opt = _optimizer(optimizer, learning_rate)

    context = _simulator(lmu, x.shape[1], form, batch, l2=l2, memory_noise=noise)
    with context as (sim, inp, probe, read):
        losses, weights = {probe: loss_fn}, {probe: 1.0}
        for wp in context.weight_probes:
            losses[wp], weights[wp] = _sum_of_squares, float(l2)
        sim.compile(
            optimizer=opt, loss=losses, loss_weights=weights,
            metrics={probe: metrics} if metrics else None,
        )

        def targets(y_, n):
            t = {probe: _as_target(y_[:n], form, x.shape[1])}
            t.update({wp: np.zeros((n, 1, 1), np.float32) for wp in context.weight_probes})
            return t

        data_x = _as_input(x[:n_used], form)
        data_y = targets(y, n_used)
        val = None
        if validation_data is not None:
            n_val = len(vx) - len(vx) % batch
            val = ({inp: _as_input(vx[:n_val], form)}, targets(vy, n_val))
        start = time.perf_counter()
        hist = sim.fit(
            {inp: data_x}, data_y, epochs=int(epochs), validation_data=val,
            verbose=verbose, callbacks=callbacks, shuffle=True,
        )
        seconds = time.perf_counter() - start
        trained = read()
    lmu.set_params(trained)
    history = {_clean_key(k): [float(v) for v in vals] for k, vals in hist.history.items()}
    history.update(formulation=form, n_trained=n_used, n_parameters=lmu.n_trainable, seconds=seconds)
    return history


def _clean_key(key):
    # NengoDL prefixes metrics with the probe's name ("probe_accuracy"); "loss" is the total
    if key.endswith("accuracy"):
        return ("val_" if key.startswith("val_") else "") + "accuracy"
    return key


def _optimizer(optimizer, learning_rate):
    import tensorflow as tf

    if optimizer is not None:
        return optimizer
    return tf.optimizers.Adam(learning_rate)


def _as_input(x, form):
    if form == "parallel":
        return x.reshape(len(x), 1, -1)
    return x


def _as_target(y, form, n_steps):
    if form == "parallel":
        return y.reshape(len(y), 1, -1) if y.ndim == 2 else y
    if y.ndim == 3:
        return y
    # the step formulation's loss reads only the last step
    out = np.zeros((len(y), n_steps, y.shape[-1]), dtype=np.float32)
    out[:, -1] = y
    return out


class _simulator:
    """Context manager: a NengoDL simulator of ``lmu`` in either formulation."""

    def __init__(self, lmu, n_steps, form, batch, probe_synapse=None, l2=0, memory_noise=None):
        self.args = (lmu, n_steps, form, batch, probe_synapse)
        self.l2 = l2
        self.memory_noise = memory_noise
        self.weight_probes = []

    def __enter__(self):
        import nengo_dl

        lmu, n_steps, form, batch, probe_synapse = self.args
        if form == "parallel":
            net, inp, probe, conns, hidden, layer = _parallel_network(lmu, n_steps, self.memory_noise)
            read = lambda: _read_params(lmu, self.sim, conns, hidden, layer)  # noqa: E731
        else:
            net, inp, probe = _step_network(lmu, probe_synapse)
            conns = lmu.param_connections
            read = lambda: _read_params(lmu, self.sim, lmu.param_connections, lmu.hidden)  # noqa: E731
        if self.l2 > 0:
            self.weight_probes = _weight_probes(net, conns)
        self.sim = nengo_dl.Simulator(
            net, dt=lmu.dt, minibatch_size=batch, progress_bar=False, seed=lmu.seed
        )
        self.sim.__enter__()
        return self.sim, inp, probe, read

    def __exit__(self, *exc):
        return self.sim.__exit__(*exc)


def predict(lmu, x, formulation="auto", batch_size=100, final_only=True, probe_synapse=None):
    """Outputs of ``lmu`` for the sequences ``x``, run through NengoDL.

    Parameters
    ----------
    formulation : {"auto", "parallel", "step"}
        ``"step"`` runs the network in the time domain, one sample per step, with its
        own neuron types (spiking neurons spike, a spiking memory is used) — the way
        to test a converted network. ``"auto"`` is parallel when exact and the network
        is in rate mode.
    final_only : bool
        Return ``(n, out)`` at the last step; otherwise ``(n, n_steps, out)``
        (step formulation only).
    probe_synapse : Synapse or None
        Filter on the output probe (step formulation).

    Returns
    -------
    ndarray
    """
    x, _ = check_data(lmu, x)
    rate_mode = not lmu.neuron_type.spiking and lmu.memory_config is None
    if formulation == "auto" and not rate_mode:
        formulation = "step"
    form = _formulation(lmu, formulation, per_step_targets=not final_only)
    if form == "parallel" and not rate_mode:
        raise ValidationError(
            "the parallel formulation is rate-mode only (exact memory, rate neurons)",
            "formulation",
            "predict",
        )
    batch = _batches(len(x), batch_size)
    xp = _pad(x, batch)
    with _simulator(lmu, x.shape[1], form, batch, probe_synapse) as (sim, inp, probe, _):
        n_steps = 1 if form == "parallel" else x.shape[1]
        out = sim.predict({inp: _as_input(xp, form)}, n_steps=n_steps, verbose=0)[probe]
    out = out[: len(x)]
    return out[:, -1] if final_only else out


def evaluate(lmu, x, y, formulation="auto", batch_size=100, average_last=1, probe_synapse=None):
    """Accuracy (integer labels) or NRMSE (real targets) of ``lmu`` on ``(x, y)``.

    ``average_last`` > 1 averages the output over the last that many steps (step
    formulation), which smooths a spiking network's output.

    Returns
    -------
    dict
        ``{"accuracy": ...}`` for integer labels, else ``{"nrmse": ..., "mse": ...}``.
    """
    x, y = check_data(lmu, x, y)
    if average_last > 1:
        out = predict(lmu, x, "step", batch_size, final_only=False, probe_synapse=probe_synapse)
        out = out[:, -int(average_last):].mean(axis=1)
    else:
        out = predict(lmu, x, formulation, batch_size, probe_synapse=probe_synapse)
    labels = np.asarray(y)
    out_d = lmu.output_dimensions or lmu.units
    if labels.ndim == 2 and labels.shape[1] == 1 and out_d > 1:
        return {"accuracy": float(np.mean(np.argmax(out, axis=-1) == labels[:, 0]))}
    target = labels if labels.ndim == 2 else labels[:, -1]
    return {"nrmse": maths.nrmse(out, target), "mse": float(np.mean((out - target) ** 2))}
