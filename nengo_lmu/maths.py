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
    freqs = np.linspace(0, high, n_freqs)
    if dt is None:
        s = 2j * np.pi * freqs
    else:
        A, B = discretize(A, B, dt)
        s = np.exp(2j * np.pi * freqs * dt)
    # H[f] = (s I - A)^{-1} B for every frequency. With the Schur form A = Z T Z^H
    # (Z unitary, T upper triangular) this is Z (s I - T)^{-1} Z^H B: one back
    # substitution over the rows of T, vectorised over frequencies, O(d^2) per frequency
    # and O(d * n_freqs) memory instead of a dense solve per frequency.
    T, Z = scipy.linalg.schur(A.astype(complex), output="complex")
    Bz = Z.conj().T @ B  # (d, p)
    G = np.zeros((d, n_freqs, B.shape[1]), dtype=complex)
    for i in range(d - 1, -1, -1):
        rhs = Bz[i][None, :] + np.tensordot(T[i, i + 1 :], G[i + 1 :], axes=(0, 0))
        G[i] = rhs / (s - T[i, i])[:, None]
    # trapezoidal rule over [0, high] of H S H^*
    w = np.full(n_freqs, high / (n_freqs - 1))
    w[[0, -1]] /= 2
    M = G.reshape(d, -1)  # (d, n_freqs * p)
    cov_z = (M * np.repeat(w, B.shape[1])[None, :]) @ M.conj().T
    # two-sided spectrum rms^2 / (2 high) on [-high, high]: twice the integral over [0, high]
    cov = (Z @ cov_z @ Z.conj().T).real / high * rms**2
    return 0.5 * (cov + cov.T)


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
