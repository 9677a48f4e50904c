"""The mathematics of the Legendre Memory Unit, as pure numpy/scipy functions.

Nothing here builds a network: the functions return matrices, and the networks in
:mod:`nengo_lmu.networks` wire them up.  Conventions:

* The memory is the linear ODE ``dm/dt = A m + B u`` of order ``d`` and window ``theta``
  (Voelker, Kajić & Eliasmith, 2019), the Padé [d-1/d] approximant of a pure delay.
* Its state holds the last ``theta`` seconds of ``u`` in shifted Legendre polynomials:
  ``u(t - r theta) ≈ sum_i P_i(2 r - 1) m_i(t)`` for ``r`` in ``[0, 1]``.
* Discrete systems step as ``m[k+1] = Ad m[k] + Bd u[k]``.
"""

import numpy as np
import scipy.linalg
import scipy.special
from nengo.exceptions import ValidationError

from . import validation

DISCRETIZE_METHODS = ("zoh", "euler")


def check_system(A, B):
    """Validate a state-space pair, returning ``(A, B)`` as 2-D float arrays.

    ``A`` must be square (d x d) and ``B`` have d rows; a 1-D ``B`` is read as one column.
    """
    A = np.asarray(A, dtype=float)
    B = np.asarray(B, dtype=float)
    if A.ndim != 2 or A.shape[0] != A.shape[1]:
        raise ValidationError(
            f"must be a square 2-D matrix (got shape {A.shape})", attr="A"
        )
    if B.ndim == 1:
        B = B[:, None]
    if B.ndim != 2 or B.shape[0] != A.shape[0]:
        raise ValidationError(
            f"must have {A.shape[0]} rows to match A {A.shape} (got shape {B.shape})",
            attr="B",
        )
    return A, B


def legendre_ss(order, theta):
    """Continuous-time LMU memory matrices ``(A, B)``.

    Parameters
    ----------
    order : int
        Number of Legendre coefficients ``d`` held by the memory.
    theta : float
        Length of the window, in seconds (or in steps, if time is counted in steps).

    Returns
    -------
    A : (order, order) ndarray
    B : (order, 1) ndarray
        ``dm/dt = A m + B u`` is the Padé [d-1/d] approximant of a delay of ``theta``.
    """
    order = validation.integer(order, "order", where="legendre_ss")
    theta = validation.positive(theta, "theta", where="legendre_ss")
    q = np.arange(order)
    scale = (2 * q + 1)[:, None] / theta
    i, j = np.meshgrid(q, q, indexing="ij")
    A = scale * np.where(i < j, -1.0, (-1.0) ** (i - j + 1))
    B = scale * ((-1.0) ** q)[:, None]
    return A, B


def legendre_readout(order, r):
    """Rows ``C`` with ``u(t - r theta) ≈ C @ m``.

    Parameters
    ----------
    order : int
        Order of the memory.
    r : float or array_like
        Delay(s) as a fraction of the window ``theta``, each in ``[0, 1]``.

    Returns
    -------
    C : ndarray
        Shape ``(order,)`` for a scalar ``r``, ``(len(r), order)`` for an array.
    """
    order = validation.integer(order, "order", where="legendre_readout")
    try:
        r_arr = np.asarray(r, dtype=float)
    except (TypeError, ValueError):
        r_arr = np.array([np.nan])  # refused below, with the value given
    if r_arr.ndim > 1:
        raise validation.error(
            f"must be a scalar or 1-D array (got shape {r_arr.shape})", "r", where="legendre_readout"
        )
    if not np.all(np.isfinite(r_arr)) or np.any((r_arr < 0) | (r_arr > 1)):
        raise validation.error(
            f"must lie in [0, 1] (a fraction of theta); got {r!r}", "r", where="legendre_readout"
        )
    x = 2 * r_arr[..., None] - 1
    return scipy.special.eval_legendre(np.arange(order), x)


def memory_band(order, theta):
    """The band, in Hz, that a memory of ``order`` coefficients over ``theta`` seconds holds.

    ``order / (2 pi theta)``: the Padé [d-1/d] delay of :func:`legendre_ss` is accurate for
    angular frequencies ``omega`` with ``omega theta < order`` (its phase error grows
    quickly past that), i.e. up to ``order / (2 pi)`` cycles per window.
    """
    order = validation.integer(order, "order", where="memory_band")
    return order / (2 * np.pi * validation.positive(theta, "theta", where="memory_band"))


def discretize(A, B, dt, method="zoh"):
    """Discretize ``dm/dt = A m + B u`` with time step ``dt``.

    Parameters
    ----------
    A, B : array_like
        Continuous-time system.
    dt : float
        Time step, in the units of the system's time.
    method : {"zoh", "euler"}
        ``"zoh"`` is exact for inputs held constant over each step;
        ``"euler"`` is forward Euler, ``Ad = I + dt A``, and is refused when that step
        is unstable.

    Returns
    -------
    Ad, Bd : ndarray
        ``m[k+1] = Ad m[k] + Bd u[k]``.
    """
    A, B = check_system(A, B)
    dt = validation.positive(dt, "dt", where="discretize")
    validation.choice(method, DISCRETIZE_METHODS, "method", where="discretize")
    d = A.shape[0]
    if method == "euler":
        scale = euler_min_time_scale(A, dt)
        if scale > 1:
            theta = _legendre_theta(A)
            hint = (
                f"the smallest stable theta is {theta * scale:.6g} (got {theta:.6g})"
                if theta is not None
                else f"slow the system down by a factor of at least {scale:.6g}"
            )
            raise ValidationError(
                f"Euler step dt={dt:g} is outside the stability region: {hint}; "
                "or use method='zoh'",
                "method",
            )
        return np.eye(d) + dt * A, dt * B
    # exact zero-order hold: expm of the augmented matrix [[A, B], [0, 0]] * dt
    M = np.zeros((d + B.shape[1],) * 2)
    M[:d, :d] = A
    M[:d, d:] = B
    E = scipy.linalg.expm(M * dt)
    return E[:d, :d], E[:d, d:]


def euler_min_time_scale(A, dt):
    """Smallest factor ``s`` such that Euler with step ``dt`` is stable for ``A / s``.

    ``I + dt A / s`` has all eigenvalues inside the unit circle iff, for each eigenvalue
    ``z = dt * lambda``, ``s > |z|^2 / (-2 Re z)``.  Returns ``inf`` if ``A`` itself has
    an eigenvalue with non-negative real part.
    """
    z = np.linalg.eigvals(np.asarray(A, dtype=float)) * dt
    if np.any(z.real >= 0):
        return np.inf
    return float(np.max(np.abs(z) ** 2 / (-2 * z.real)))


def _legendre_theta(A):
    """``theta`` if ``A`` is ``legendre_ss(len(A), theta)[0]``, else None."""
    if A.shape[0] < 1 or A[0, 0] >= 0:
        return None
    theta = -1.0 / A[0, 0]
    if np.allclose(A, legendre_ss(A.shape[0], theta)[0], rtol=1e-9, atol=0):
        return theta
    return None


def principle3(A, B, tau, dt=None):
    """Map ``dm/dt = A m + B u`` onto a lowpass synapse of time constant ``tau``.

    NEF principle 3: feeding ``x`` back through ``A_h`` and ``u`` in through ``B_h``, both
    filtered by the synapse ``1 / (tau s + 1)``, makes ``x`` follow the desired dynamics.

    Parameters
    ----------
    A, B : array_like
        Continuous-time system to implement.
    tau : float
        Time constant of the lowpass synapse on both the recurrent and input connections.
    dt : float or None
        ``None`` gives the continuous mapping ``A_h = tau A + I``, ``B_h = tau B``.
        A number gives the exact discrete mapping for nengo's zero-order-hold lowpass
        ``y[k] = a y[k-1] + (1 - a) x[k]``, ``a = exp(-dt / tau)``: with a recurrent
        loop (which adds one step of delay) the state follows the ZOH discretization
        of the system exactly, whatever ``tau``.

    Returns
    -------
    A_h, B_h : ndarray
        Recurrent and input transforms.
    """
    A, B = check_system(A, B)
    tau = validation.positive(tau, "tau", where="principle3")
    if dt is None:
        return tau * A + np.eye(A.shape[0]), tau * B
    dt = validation.positive(dt, "dt", where="principle3")
    Ad, Bd = discretize(A, B, dt, method="zoh")
    a = np.exp(-dt / tau)
    return (Ad - a * np.eye(A.shape[0])) / (1 - a), Bd / (1 - a)


def implemented_system(A_h, B_h, tau, dt):
    """The discrete system ``(Ad, Bd)`` that a lowpass loop with transforms ``A_h, B_h`` runs.

    Inverse of :func:`principle3` with ``dt``: nengo's lowpass loop steps as
    ``x[k+1] = (a I + (1 - a) A_h) x[k] + (1 - a) B_h u[k]``, ``a = exp(-dt / tau)``,
    whichever mapping produced ``A_h`` and ``B_h``.
    """
    A_h, B_h = check_system(A_h, B_h)
    dt = validation.positive(dt, "dt", where="implemented_system")
    a = np.exp(-dt / validation.positive(tau, "tau", where="implemented_system"))
    return a * np.eye(A_h.shape[0]) + (1 - a) * A_h, (1 - a) * B_h


def impulse_response(A, B, dt, n_steps, method="zoh"):
    """Discrete impulse response of the state: ``h[k] = Ad^k Bd``, shape ``(n_steps, d, p)``.

    The state's response to a whole sequence is its convolution with ``h``:
    ``m[k+1] = sum_j h[k - j] u[j]``.  Computed by repeated squaring-free stepping, which
    is exact to rounding for the stable systems used here.
    """
    n_steps = validation.integer(n_steps, "n_steps", low=0, where="impulse_response")
    Ad, Bd = discretize(A, B, dt, method=method)
    out = np.empty((n_steps,) + Bd.shape)
    x = Bd
    for k in range(n_steps):
        out[k] = x
        x = Ad @ x
    return out


def zoh_states(A, B, u, dt):
    """Yield the exact (zero-order-hold) state after each step of the inputs ``u``.

    ``u`` is ``(n, n_steps, k)``: ``n`` sequences of ``k`` channels, each driving its own
    copy of the single-input system ``(A, B)`` from rest. Each yielded array is
    ``(n, k, d)``, the states after one more step.
    """
    A, B = check_system(A, B)
    Ad, Bd = discretize(A, B, dt)
    u = np.asarray(u, dtype=float)
    m = np.zeros(u.shape[:1] + u.shape[2:] + (A.shape[0],))
    for k in range(u.shape[1]):
        m = m @ Ad.T + u[:, k, :, None] * Bd[:, 0]
        yield m


def _state_response(A, B, s):
    """``H(s) = (s I - A)^{-1} B`` at every point of the 1-D complex array ``s``.

    Returns ``(d, len(s), p)``. With the Schur form ``A = Z T Z^H`` (``Z`` unitary,
    ``T`` upper triangular) this is ``Z (s I - T)^{-1} Z^H B``: one back substitution
    over the rows of ``T``, vectorised over ``s``, ``O(d^2)`` per point and
    ``O(d len(s))`` memory instead of a dense solve per point.
    """
    d = A.shape[0]
    T, Z = scipy.linalg.schur(A.astype(complex), output="complex")
    Bz = Z.conj().T @ B  # (d, p)
    G = np.zeros((d, len(s), B.shape[1]), dtype=complex)
    for i in range(d - 1, -1, -1):
        rhs = Bz[i][None, :] + np.tensordot(T[i, i + 1 :], G[i + 1 :], axes=(0, 0))
        G[i] = rhs / (s - T[i, i])[:, None]
    return np.tensordot(Z, G, axes=(1, 0))


def _band_points(high, n_freqs):
    """Frequencies (Hz) and trapezoidal weights over ``[0, high]``."""
    freqs = np.linspace(0, high, n_freqs)
    w = np.full(n_freqs, high / (n_freqs - 1))
    w[[0, -1]] /= 2
    return freqs, w


def white_noise_covariance(A, B, high, rms=1.0, dt=None, n_freqs=4000):
    """Stationary covariance of the state driven by band-limited white noise.

    The input has a flat power spectrum from 0 to ``high`` Hz and RMS ``rms``, the
    statistics of :class:`nengo.processes.WhiteSignal`.  The covariance is
    ``integral H(f) S H(f)^* df`` with ``H(f) = (2 pi i f I - A)^{-1} B``, or, when
    ``dt`` is given, the response of the zero-order-hold system sampled every ``dt``,
    ``H(f) = (exp(2 pi i f dt) I - Ad)^{-1} Bd``: the held input's steps excite the
    high-order coefficients far more than a smooth signal would.

    Returns
    -------
    cov : (d, d) ndarray
    """
    A, B = check_system(A, B)
    high = validation.positive(high, "high", where="white_noise_covariance")
    rms = validation.positive(rms, "rms", where="white_noise_covariance")
    n_freqs = validation.integer(n_freqs, "n_freqs", low=2, where="white_noise_covariance")
    d = A.shape[0]
    freqs, w = _band_points(high, n_freqs)
    if dt is None:
        s = 2j * np.pi * freqs
    else:
        A, B = discretize(A, B, dt)
        s = np.exp(2j * np.pi * freqs * dt)
    M = _state_response(A, B, s).reshape(d, -1)  # (d, n_freqs * p)
    # trapezoidal rule over [0, high] of H S H^*; the two-sided spectrum rms^2 / (2 high)
    # on [-high, high] is twice the integral over [0, high]
    cov = ((M * np.repeat(w, B.shape[1])[None, :]) @ M.conj().T).real / high * rms**2
    return 0.5 * (cov + cov.T)


def wiener_readout(order, theta, r, high, dt, rms=1.0, synapse=None, state_noise=None, prior=None, n_freqs=4000):
    """Rows ``C`` giving the least-squares estimate ``u(t - r theta) ≈ C @ m(t)`` for a
    band-limited white input: a Wiener readout of the memory's state.

    :func:`legendre_readout` evaluates the Legendre polynomials: exact for the inputs the
    order-``d`` memory holds exactly; for any other its error is the Padé delay's plus
    the truncated coefficients'. When the input's statistics are known the best linear
    estimate is ``C = E[u(t - r theta) m(t)^T] (Sigma_m + Sigma_noise)^{-1}``,
    ``Sigma_m = E[m m^T]``: it weights the coefficients by what they carry of that
    input, which over inputs near the memory's band is much closer than the
    polynomials (issue 11, the exact memory of order 2 on white input over its whole
    band ``order / (2 pi theta)``, theta 0.05-1 s: 0.55-0.80x their error); for inputs
    far slower than the band it is the polynomials.

    The state and the target are those :func:`legendre_readout` relates: the memory is
    the zero-order-hold system stepped every ``dt`` (:func:`discretize`), driven by the
    input held over each step, and ``m(t)`` at the end of a step estimates that held
    input ``r theta`` earlier (half a step before the latest sample, plus ``r theta``).
    The expectations are over white noise with a flat spectrum on ``[0, high]`` Hz and
    RMS ``rms`` (``nengo.processes.WhiteSignal``), in closed form in the frequency
    domain; the delay is exact, not rounded to steps.

    Parameters
    ----------
    order : int
        Order of the memory.
    theta : float
        Its window, in seconds.
    r : float or array_like
        Delay(s) as fractions of ``theta``, each in ``[0, 1]``.
    high : float
        The input's band limit, in Hz.
    dt : float
        The time step the memory runs at.
    rms : float
        The input's RMS: only its ratio to ``state_noise`` matters.
    synapse : float or None
        Time constant (s) of a lowpass applied to both the readout and the delayed
        input it is compared with (e.g. a probe's): it weights the input's spectrum
        by the filter's power gain. None: no filter.
    state_noise : (order, order) array_like, (order,) array_like or None
        Covariance of noise added to the state (a spiking memory's), in Legendre
        coordinates; a 1-D array is its diagonal. It also keeps the solve well posed
        where the input hardly excites some directions of the state (high orders, slow
        inputs). None: no noise, only a ridge of ``1e-10 trace(Sigma_m) / order``.
    prior : array_like or None
        A readout to fall back on where the noise swamps the signal (see
        :func:`least_squares_readout`), e.g. :func:`legendre_readout` of the same ``r``.
        None: zero.
    n_freqs : int
        Frequency points of the integrals (trapezoidal rule).

    Returns
    -------
    C : ndarray
        Shape ``(order,)`` for a scalar ``r``, ``(len(r), order)`` for an array.
    """
    where = dict(where="wiener_readout")
    order = validation.integer(order, "order", **where)
    theta = validation.positive(theta, "theta", **where)
    legendre_readout(order, r)  # validates r
    r_arr = np.asarray(r, dtype=float)
    high = validation.positive(high, "high", **where)
    dt = validation.positive(dt, "dt", **where)
    rms = validation.positive(rms, "rms", **where)
    if synapse is not None:
        synapse = validation.positive(synapse, "synapse", **where)
    n_freqs = validation.integer(n_freqs, "n_freqs", low=2, **where)
    A, B = legendre_ss(order, theta)
    Ad, Bd = discretize(A, B, dt)
    freqs, w = _band_points(high, n_freqs)
    z = np.exp(2j * np.pi * freqs * dt)
    # the state at the end of the step whose input is the latest sample u[k]:
    # m[k + 1] = z (z I - Ad)^{-1} Bd u[k]
    H = _state_response(Ad, Bd, z)[:, :, 0] * z[None, :]  # (d, n_freqs)
    # the held input r theta before the end of that step: the hold delays the samples
    # by half a step and filters them by sinc(f dt)
    lag = np.atleast_1d(r_arr)[:, None] * theta - dt / 2
    target = np.exp(-2j * np.pi * freqs[None, :] * lag) * np.sinc(freqs * dt)[None, :]  # (k, n)
    if synapse is not None:
        a = np.exp(-dt / synapse)  # nengo's zero-order-hold lowpass, (1 - a) / (z - a)
        w = w * np.abs((1 - a) / (z - a)) ** 2
    scale = rms**2 / high
    cov = ((H * w[None, :]) @ H.conj().T).real * scale
    cross = ((H * w[None, :]) @ target.conj().T).real * scale  # (d, k): E[m u(t - r theta)]
    C = least_squares_readout(cov, cross.T, state_noise, prior)
    return C[0] if r_arr.ndim == 0 else C


def least_squares_readout(state_cov, cross_cov, state_noise=None, prior=None):
    """The linear readout ``C`` minimising ``E[|C (m + n) - y|^2]`` from second moments.

    ``C = (E[y m^T] + C0 N) (Sigma_m + N)^{-1}``: the least-squares estimate of ``y``
    from the state ``m`` plus independent noise ``n`` of covariance ``N``, when the
    readout's prior is ``C0`` (the solution of ``min E[|C m - y|^2] + (C - C0) N
    (C - C0)^T``). With ``C0 = 0`` it is the Wiener estimate; with ``C0`` the Legendre
    polynomials it keeps them in the directions where the noise swamps the signal, so
    it never reads the noise much more than they do.

    Parameters
    ----------
    state_cov : (d, d) array_like
        ``Sigma_m = E[m m^T]``.
    cross_cov : (k, d) array_like
        ``E[y m^T]``, one row per output.
    state_noise : (d, d) array_like, (d,) array_like or None
        ``N`` (a 1-D array is its diagonal). None: a ridge of ``1e-10 trace(Sigma_m) / d``
        only, to keep the solve well posed.
    prior : (k, d) or (d,) array_like or None
        ``C0``. None: zero.

    Returns
    -------
    C : (k, d) ndarray
    """
    where = dict(where="least_squares_readout")
    cov = np.asarray(state_cov, dtype=float)
    if cov.ndim != 2 or cov.shape[0] != cov.shape[1] or not np.all(np.isfinite(cov)):
        raise validation.error(f"must be a finite square 2-D matrix (got shape {cov.shape})", "state_cov", **where)
    d = cov.shape[0]
    cross = np.atleast_2d(np.asarray(cross_cov, dtype=float))
    if cross.shape[1] != d or not np.all(np.isfinite(cross)):
        raise validation.error(f"must be finite with {d} columns (got shape {cross.shape})", "cross_cov", **where)
    if state_noise is None:
        noise = np.eye(d) * 1e-10 * max(np.trace(cov), 1e-300) / d
    else:
        noise = np.asarray(state_noise, dtype=float)
        if noise.ndim == 1:
            noise = np.diag(noise)
        if noise.shape != (d, d) or not np.all(np.isfinite(noise)):
            raise validation.error(
                f"must be finite, shape ({d},) or ({d}, {d}) (got shape {noise.shape})", "state_noise", **where
            )
    rhs = cross.T
    if prior is not None:
        prior = np.atleast_2d(np.asarray(prior, dtype=float))
        if prior.shape not in ((1, d), cross.shape) or not np.all(np.isfinite(prior)):
            raise validation.error(
                f"must be finite, shape ({d},) or {cross.shape} (got shape {prior.shape})", "prior", **where
            )
        rhs = rhs + noise @ prior.T
    return scipy.linalg.solve(0.5 * (cov + cov.T) + noise, rhs, assume_a="sym").T


def state_scales(cov, n_std=2.5):
    """Per-dimension scale that maps ``n_std`` standard deviations onto radius 1.

    Dividing each coordinate by its scale makes every dimension use the neurons' whole
    range under the given input statistics, whatever the order and theta.
    """
    cov = np.asarray(cov, dtype=float)
    if cov.ndim != 2 or cov.shape[0] != cov.shape[1]:
        raise validation.error(f"must be a square 2-D matrix (got shape {cov.shape})", "cov", where="state_scales")
    n_std = validation.positive(n_std, "n_std", where="state_scales")
    return n_std * np.sqrt(np.maximum(np.diag(cov), 1e-12))


def step_response_peak(A, B, dt, n_steps):
    """The largest magnitude each state reaches after a unit step input from rest.

    The exact (zero-order-hold) system ``(A, B)`` stepped at ``dt`` for ``n_steps`` steps
    with input 1: what a memory at rest holds when its input switches on. For a Legendre
    memory the step fills the window within ``theta`` and the state then settles at
    ``(1, 0, ..., 0)``, so ``theta / dt`` steps (and a few more) see the peaks.
    """
    n_steps = validation.integer(n_steps, "n_steps", where="step_response_peak")
    # the state after k + 1 steps of a unit input is the sum of the first k + 1 impulse responses
    steps = np.cumsum(impulse_response(A, B, dt, n_steps)[:, :, 0], axis=0)
    return np.abs(steps).max(axis=0)


def delayed(signal, steps):
    """``signal`` delayed by ``steps`` samples along axis 0, zero before the start."""
    signal = np.asarray(signal, dtype=float)
    if steps <= 0:
        return signal.copy()
    out = np.zeros_like(signal)
    out[steps:] = signal[:-steps]
    return out


def nrmse(actual, target, axis=None):
    """Root-mean-square error normalised by the target's RMS."""
    actual, target = np.asarray(actual, float), np.asarray(target, float)
    return float(np.sqrt(np.mean((actual - target) ** 2, axis=axis) / np.mean(target**2, axis=axis)))


def delay_nrmse(u, y, delay, dt, synapse=0.01, t_skip=1.0):
    """The benchmark error of a delay network's output.

    ``y`` (already probed through ``synapse``) against ``u`` delayed by ``delay`` seconds
    and filtered by the same lowpass, over ``t > t_skip``; ``u`` and ``y`` are sampled at
    ``dt`` from ``t = dt``.
    """
    from nengo import Lowpass

    steps = int(round(delay / dt))
    target = delayed(u, steps)
    if synapse:
        target = Lowpass(synapse).filt(target, dt=dt, y0=0)
    t = dt * np.arange(1, len(u) + 1)
    keep = t > t_skip
    return nrmse(y[keep], target[keep])
