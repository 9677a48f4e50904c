"""Where a Legendre memory's state scaling comes from: one strategy per source.

A spiking :class:`~nengo_lmu.networks.LegendreMemory` holds each Legendre coefficient
``m_i`` in neurons of radius 1 as ``x_i = m_i / s_i``; the scales ``s`` are ``n_std``
standard deviations of each coefficient under the input the memory will see. Those
standard deviations come from one of three strategies, each answering
:meth:`InputStatistics.scales` ``(order, theta, dt, n_std)``:

:class:`WhiteNoise`
    Band-limited white noise of band ``high`` and RMS ``rms``: the state's stationary
    covariance (:func:`nengo_lmu.maths.white_noise_covariance`). The default.
:class:`Measured`
    Example inputs: the RMS of each coefficient of the exact memory run over them.
:class:`FixedScales`
    Scales given outright.

Each also says what it knows of the input itself, ``high`` (Hz) and ``rms`` (None when
unknown), which backends size their input paths from (the Loihi input encoders).
:func:`from_argument` turns what users pass as ``LegendreMemory(input_statistics=...)``
(None, a ``nengo.processes.WhiteSignal``, a ``(high, rms)`` pair or a strategy) into a
strategy.
"""

import functools

import numpy as np
import nengo

from . import maths, validation

#: the RMS of the default white-noise input
DEFAULT_RMS = 0.5


#: a memory's range covers its input switching on from rest, a step of this many RMS...
SWITCH_ON_RMS = 1.0
#: ...where that takes at most this many times the coefficient's stationary range
SWITCH_ON_CAP = 2.0


def with_switch_on(scales, order, theta, dt, rms):
    """``scales`` widened so that each coefficient also holds its input switching on.

    A memory scaled for the stationary statistics of a slow input gives its high
    coefficients small ranges; an input that starts from rest at a value of the order of
    its RMS (a step at switch-on) drives them far out of range (issue 11: a step of 0.2
    RMS drove coefficients 5-8 of an order-16 memory over 1 s to 10-890 standard
    deviations), and what the clipped coefficients lose feeds the lower ones through the
    memory's dynamics, so the output is wrong for a whole window after every switch-on.
    Each scale becomes at least ``SWITCH_ON_RMS * rms`` times the coefficient's peak
    response to a unit step (:func:`~nengo_lmu.maths.step_response_peak`), but never
    more than ``SWITCH_ON_CAP`` times the stationary scale: a wider range costs precision
    in the steady state (issue 11, the grid against nengolib: uncapped, the worst ratio
    rose from 0.85 to 0.96; capped at 2, 0.76, and the switch-on config fell from 0.85 to
    0.66). Where the input never switches on within the scored run the wider ranges only
    cost: the trained window-rms LMU with its memory on the Loihi emulator went from
    0.050-0.055 to 0.060, config L1 from 0.070 to 0.075 (README).
    """
    peak = _switch_on_peak(int(order), float(theta), float(dt))
    scales = np.asarray(scales, dtype=float)
    return np.maximum(scales, np.minimum(SWITCH_ON_RMS * float(rms) * peak, SWITCH_ON_CAP * scales))


@functools.lru_cache(maxsize=32)
def _switch_on_peak(order, theta, dt):
    A, B = maths.legendre_ss(order, theta)
    peak = maths.step_response_peak(A, B, dt, int(np.ceil(1.5 * theta / dt)) + 2)
    peak.flags.writeable = False
    return peak


class InputStatistics:
    """What a memory's input is like, as far as its state scaling is concerned.

    Attributes
    ----------
    high : float or None
        The input's band limit in Hz, if known.
    rms : float or None
        The input's RMS, if known.
    """

    high = None
    rms = None
    #: whether :meth:`delay_readout` gives a readout (else it returns None)
    has_delay_readout = False

    def scales(self, order, theta, dt, n_std):
        """The ``order`` per-coefficient scales ``s`` (``x = m / s``), all > 0.

        ``n_std`` standard deviations of each coefficient of the memory of ``order``
        and window ``theta`` (s), stepped at ``dt`` (s), map onto the radius.
        """
        raise NotImplementedError

    def delay_readout(self, order, theta, dt, r, state_noise=None, prior=None):
        """Rows ``C`` estimating ``u(t - r theta) ≈ C @ m(t)`` under this input, or None.

        The least-squares readout of the memory's state for this input
        (:func:`nengo_lmu.maths.least_squares_readout`; ``state_noise`` and ``prior``
        as there), shape ``(len(r), order)``; None when the strategy knows too little
        of the input (then the Legendre polynomials are the readout).
        """
        return None

    def __repr__(self):
        return f"{type(self).__name__}(high={self.high!r}, rms={self.rms!r})"


class WhiteNoise(InputStatistics):
    """Band-limited white noise: flat spectrum up to ``high`` Hz, RMS ``rms``.

    The statistics of ``nengo.processes.WhiteSignal(high=high, rms=rms)``
    (:meth:`from_process`).
    """

    has_delay_readout = True

    def __init__(self, high, rms=DEFAULT_RMS):
        self.high = validation.positive(high, "high", self)
        self.rms = validation.positive(rms, "rms", self)

    @classmethod
    def from_process(cls, process):
        """The statistics of a ``nengo.processes.WhiteSignal``."""
        return cls(process.high, process.rms)

    @classmethod
    def default(cls, order, theta):
        """The statistics a memory is designed for when none are given.

        White noise of RMS 0.5 over the memory's whole band,
        :func:`~nengo_lmu.maths.memory_band` ``= order / (2 pi theta)`` Hz: the fastest
        input the memory holds, so no coefficient saturates on any input of at most
        that band and RMS. Slower inputs are held less accurately than with their own
        statistics, because the high coefficients keep the range the fastest input
        needs, and its output reads the Legendre polynomials, not the least-squares
        readout that given statistics get: up to several times the error of the right
        statistics on inputs at a tenth of the band (issue 11, ``nengo-lmu accuracy
        --against statistics``; the figures are in the README). When the input is
        slower or its RMS known, pass its statistics, or :func:`measure` them on a run
        of it.

        Before issue 11 the default was ``pi`` times that band (``order / (2 theta)``
        Hz), which measured 1.1-6x the error of this one.
        """
        return cls(maths.memory_band(order, theta), DEFAULT_RMS)

    def covariance(self, order, theta, dt):
        """The state's stationary covariance under this input (read-only, memoised)."""
        return _state_covariance(int(order), float(theta), self.high, self.rms, float(dt))

    def scales(self, order, theta, dt, n_std):
        """``n_std`` standard deviations of the stationary state, widened to hold the
        input switching on (:func:`with_switch_on`)."""
        return with_switch_on(maths.state_scales(self.covariance(order, theta, dt), n_std), order, theta, dt,
                              self.rms)

    def delay_readout(self, order, theta, dt, r, state_noise=None, prior=None):
        """The Wiener readout for this white noise (:func:`nengo_lmu.maths.wiener_readout`)."""
        return np.atleast_2d(maths.wiener_readout(order, theta, np.atleast_1d(r), self.high, dt, self.rms,
                                                  state_noise=state_noise, prior=prior))


@functools.lru_cache(maxsize=16)
def _state_covariance(order, theta, high, rms, dt):
    # a network and its variants (LMU.with_neurons) share it; at high orders it takes seconds
    A, B = maths.legendre_ss(order, theta)
    cov = maths.white_noise_covariance(A, B, high, rms, dt=dt)
    cov.flags.writeable = False
    return cov


class Measured(InputStatistics):
    """Statistics measured on example inputs ``u`` of the memory.

    The scales are ``n_std`` times the RMS (about zero, so a mean counts) of each
    coefficient of the exact (zero-order-hold) memory run over every sequence of ``u``
    from rest, over all its steps: what to use when the input is far from white noise.

    Parameters
    ----------
    u : array_like, shape (n_sequences, n_steps) or (n_sequences, n_steps, k)
        The memory's input (already multiplied by any input encoder), one step per
        ``dt``; ``k`` channels are ``k`` more examples of the one input a memory's
        scales are shared by.
    stride : int
        Use every ``stride``-th time step (the memory is still run on all of them).
    high : float or None
        The input's band limit in Hz, if known (a summary, not used for the scales).
    continuing : bool
        False: each sequence starts from rest, as a dataset's sequences do (their
        start-up transient counts). True: each sequence is a stretch of a signal that
        went on before it, so the memory starts in the steady state of the sequence's
        first value (as though that value had been held for a whole window) and the
        first window (``theta``) of each sequence is left out of the statistics, the
        memory's warm-up from that guessed past: the stationary statistics, without the
        start-up step that otherwise inflates the high coefficients' scales by up to
        100x (:func:`measure` uses this). Issue 11: counting the warm-up, 10 s of a
        0.85 Hz input gave an order-16 memory over 0.3 s high coefficients 27-200x the
        stationary ones (the held first value's kink), and 1.8x the error of the right
        statistics.

    Attributes
    ----------
    rms : float
        The RMS of ``u``.
    """

    def __init__(self, u, stride=1, high=None, continuing=False, margin=1.0, delay_readout=False):
        u = np.asarray(u, dtype=float)
        if u.ndim == 2:
            u = u[:, :, None]
        if u.ndim != 3 or u.size == 0 or not np.all(np.isfinite(u)):
            raise validation.error(
                f"must be finite, shape (n_sequences, n_steps) or (n_sequences, n_steps, k) "
                f"(got shape {u.shape})",
                "u",
                self,
            )
        self.u = u
        self.stride = validation.integer(stride, "stride", self)
        self.high = None if high is None else validation.positive(high, "high", self)
        self.rms = float(np.sqrt(np.mean(u**2)))
        self.continuing = validation.boolean(continuing, "continuing", self)
        self.margin = validation.positive(margin, "margin", self)
        if self.margin < 1:
            raise validation.error(f"must be >= 1 (got {margin!r})", "margin", self)
        self.has_delay_readout = validation.boolean(delay_readout, "delay_readout", self)
        self._coefficient_rms = {}
        self._moments = {}

    def _states(self, order, theta, dt):
        """The exact memory's state after each step of every sequence, ``(n, k, d)`` each."""
        A, B = maths.legendre_ss(order, theta)
        states = maths.zoh_states(A, B, self.u, dt)
        if self.continuing:
            # from the steady state of the first value, m = -A^-1 B u[0]: by
            # linearity the zero-state response plus the free decay of that state
            Ad, _ = maths.discretize(A, B, dt)
            m0 = self.u[:, 0, :, None] * -np.linalg.solve(A, B)[:, 0]  # (n, k, d)
            states = (m + (m0 := m0 @ Ad.T) for m in states)
        return states

    def warmup_steps(self, theta, dt):
        """Steps left out at the start of each sequence: a window (``theta / dt``) for a
        ``continuing`` signal, at most half of it; none from rest (the start-up counts)."""
        if not self.continuing:
            return 0
        return min(int(round(float(theta) / float(dt))), self.u.shape[1] // 2)

    def coefficient_rms(self, order, theta, dt):
        """The RMS of each of the ``order`` coefficients over the inputs (memoised)."""
        key = (int(order), float(theta), float(dt))
        if key not in self._coefficient_rms:
            sq, count = np.zeros(int(order)), 0
            skip = self.warmup_steps(theta, dt)
            for t, m in enumerate(self._states(order, theta, dt)):
                if t >= skip and t % self.stride == 0:
                    sq += np.sum(m**2, axis=(0, 1))
                    count += m.shape[0] * m.shape[1]
            self._coefficient_rms[key] = np.sqrt(np.maximum(sq / count, 1e-12))
        return self._coefficient_rms[key]

    def readout_moments(self, order, theta, dt, r):
        """``(E[m m^T], E[y m^T])`` over the inputs, ``y`` the input ``r theta`` earlier.

        The state after a step and the held input ``r theta`` before that step's end
        (the pairing :func:`nengo_lmu.maths.legendre_readout` and
        :func:`nengo_lmu.maths.wiener_readout` use): ``r theta / dt - 1/2`` samples
        before the step's sample, interpolated linearly; before the first sample the
        input was the first value (``continuing``) or zero. Shapes ``(d, d)`` and
        ``(len(r), d)``; memoised.
        """
        r = np.atleast_1d(np.asarray(r, dtype=float))
        key = (int(order), float(theta), float(dt), tuple(r))
        if key not in self._moments:
            lag = r * float(theta) / float(dt) - 0.5  # samples before the latest one
            first = self.u[:, 0, :] if self.continuing else np.zeros_like(self.u[:, 0, :])
            mm, ym, count = np.zeros((int(order), int(order))), np.zeros((len(r), int(order))), 0
            skip = self.warmup_steps(theta, dt)
            for k, m in enumerate(self._states(order, theta, dt)):
                if k < skip or k % self.stride:
                    continue
                pos = k - lag
                lo = np.floor(pos).astype(int)
                frac = (pos - lo)[None, None, :]
                def at(i):
                    return np.where(i[None, None, :] >= 0, self.u[:, np.clip(i, 0, k), :].transpose(0, 2, 1),
                                    first[:, :, None])  # (n, channels, len(r))
                y = (1 - frac) * at(lo) + frac * at(np.minimum(lo + 1, k))
                mm += np.einsum("nci,ncj->ij", m, m)
                ym += np.einsum("ncr,ncj->rj", y, m)
                count += m.shape[0] * m.shape[1]
            self._moments[key] = (mm / count, ym / count)
        return self._moments[key]

    def delay_readout(self, order, theta, dt, r, state_noise=None, prior=None):
        """The least-squares readout over these inputs (:meth:`readout_moments`), or None
        unless made with ``delay_readout=True``."""
        if not self.has_delay_readout:
            return None
        cov, cross = self.readout_moments(order, theta, dt, r)
        return maths.least_squares_readout(cov, cross, state_noise, prior)

    def scales(self, order, theta, dt, n_std):
        """``n_std`` times the margin times each coefficient's RMS; for a ``continuing``
        signal widened to hold it switching on (:func:`with_switch_on`; from rest the
        start-up is in the statistics already)."""
        scales = float(n_std) * self.margin * self.coefficient_rms(order, theta, dt)
        return with_switch_on(scales, order, theta, dt, self.rms) if self.continuing else scales

    def white_noise(self, high=None):
        """White noise with this input's RMS, up to ``high`` (default: :attr:`high`) Hz."""
        return WhiteNoise(self.high if high is None else high, self.rms)


#: seconds :func:`measure` runs a process or function first, to estimate its band
MEASURE_FIRST_SECONDS = 10.0
#: at most this many seconds of a process or function are run by :func:`measure`
MAX_MEASURE_SECONDS = 300.0
#: :func:`measure` runs a process or function until it has seen this many independent
#: samples of it (``2 duration high``): margin ``1 + 2 / sqrt(200) = 1.14``. Issue 11:
#: stretches of 100 samples of white noise had RMS 10 % apart (one 22 % below the
#: input's, and its memory had 1.6x the error of the right statistics)
MEASURE_SAMPLES = 200
#: states used by :func:`measure`'s statistics at most (every ``stride``-th step beyond)
MEASURE_MAX_STATES = 100_000


def measure(signal, duration=None, dt=0.001, high=None):
    """Statistics measured on a run of the real input: the one call for a memory whose
    input's statistics are unknown.

    ``LegendreMemory(..., input_statistics=measure(signal))``. The exact memory runs over
    ``signal`` as a stretch of a continuing signal (:class:`Measured` with
    ``continuing=True``, its first window left out as warm-up): its coefficients' RMS,
    enlarged by :func:`measurement_margin` (room for a longer run of the input to be
    larger than this one, which a short run of a slow input easily underestimates), give
    the scales, and the states and the input give the least-squares delay readout
    (``delay_readout=True``, which ``readout="auto"`` uses).

    A process or a function is run for ``duration`` seconds; by default (None) until it
    has shown :data:`MEASURE_SAMPLES` independent samples (``2 duration band``, its band
    estimated by :func:`rice_bandwidth` on a first :data:`MEASURE_FIRST_SECONDS` s), at
    least those 10 s and at most :data:`MAX_MEASURE_SECONDS` (300 s): a 0.64 Hz input is
    run for about 160 s, one of 0.33 Hz or slower for 300 s, one of 10 Hz or more for 10
    s. That takes seconds of computing, and the margin is then about 1.14. A periodic
    process (a ``nengo.processes.WhiteSignal`` repeats after its ``period``) shows nothing
    new after one period: give ``duration`` or a period that long. Samples (an array) are
    used as they are, all of them.

    Issue 11 (``nengo-lmu accuracy --against statistics``): on band-limited white inputs
    (RMS 0.3) at 0.1, 0.3 and 1 of the band of memories of orders 4, 8 and 16 over 0.3 s,
    100 LIF neurons per coefficient, learning from another stretch of the input, 3 seeds;
    the figures are in the README.

    Parameters
    ----------
    signal : nengo.Process, callable or array_like
        The input: a process, a function of time ``t`` (sampled at ``dt, 2 dt, ...``,
        like a ``nengo.Node`` output), or samples one per ``dt``.
    duration : float or None
        Seconds of a process or function to run (None: long enough, see above).
    dt : float
        The memory's time step.
    high : float or None
        The input's band limit in Hz, if known (kept for the backends).
    """
    dt = validation.positive(dt, "dt", where="measure")
    if duration is not None:
        duration = validation.positive(duration, "duration", where="measure")
        if duration > MAX_MEASURE_SECONDS:
            raise validation.error(f"must be at most {MAX_MEASURE_SECONDS:g} s (got {duration!r})", "duration",
                                   where="measure")

    def first(seconds):  # the signal's samples over its first ``seconds``
        n = int(round(seconds / dt))
        if isinstance(signal, nengo.Process):
            return np.asarray(signal.run_steps(n, dt=dt), dtype=float)
        return np.asarray([np.ravel(signal(dt * (k + 1))) for k in range(n)], dtype=float)

    if isinstance(signal, nengo.Process) or callable(signal):
        u = first(duration if duration is not None else MEASURE_FIRST_SECONDS)
        if duration is None:
            band = rice_bandwidth(u.reshape(len(u), -1), dt)
            wanted = min(MEASURE_SAMPLES / (2 * max(band, 1e-12)), MAX_MEASURE_SECONDS)
            if wanted > MEASURE_FIRST_SECONDS:
                u = first(wanted)
    else:
        u = np.asarray(signal, dtype=float)
    if u.ndim == 1:
        u = u[:, None]
    stride = max(1, len(u) // MEASURE_MAX_STATES)
    return Measured(u.T[:, :, None], stride=stride, high=high, continuing=True, delay_readout=True,
                    margin=measurement_margin(u, dt))


def rice_bandwidth(u, dt):
    """The band (Hz) of white noise with the RMS and RMS slope of the samples ``u``.

    For a flat spectrum on ``[0, high]``, ``E[u'^2] = (2 pi)^2 high^2 E[u^2] / 3`` (Rice),
    so ``high = sqrt(3) rms(u') / (2 pi rms(u))``, with ``u'`` the sample differences over
    ``dt`` (axis 0). It uses every sample, so it needs no frequency resolution: a few
    periods of a slow input suffice.
    """
    u = np.asarray(u, dtype=float)
    dt = validation.positive(dt, "dt", where="rice_bandwidth")
    if u.shape[0] < 2:
        raise validation.error(f"needs at least 2 samples (got shape {u.shape})", "u", where="rice_bandwidth")
    rms = np.sqrt(np.mean(u**2))
    slope = np.sqrt(np.mean((np.diff(u, axis=0) / dt) ** 2))
    return float(np.sqrt(3) * slope / (2 * np.pi * max(rms, 1e-300)))


def measurement_margin(u, dt, n_sigma=2.0):
    """How much to enlarge scales measured on the samples ``u`` (one per ``dt``) so that a
    longer run of the same input rarely exceeds them: ``1 + n_sigma / sqrt(n)``, ``n =
    2 duration high`` the number of independent samples of a signal of band ``high``
    (:func:`rice_bandwidth`) in ``duration``, the RMS estimate's relative error being
    about ``1 / sqrt(n)``.

    Issue 11: scales from 10 s of a 0.2-0.4 Hz white input (two to four periods) were
    1.3-1.6x too small for another stretch of it, and the memories' error rose 8-20x.
    """
    u = np.asarray(u, dtype=float)
    n = 2 * u.shape[0] * dt * max(rice_bandwidth(u, dt), 1e-300)
    return float(1 + n_sigma / np.sqrt(max(n, 1e-300)))


class FixedScales(InputStatistics):
    """Scales given outright: ``order`` finite numbers > 0 (they include any ``n_std``).

    ``high`` and ``rms`` may say what the input is like, for the backends that need it.
    """

    def __init__(self, scales, high=None, rms=None):
        self.given = np.asarray(scales, dtype=float)
        if self.given.ndim != 1 or not np.all(np.isfinite(self.given) & (self.given > 0)):
            raise validation.error(
                f"must be finite numbers > 0, one per coefficient (got {scales!r})", "scales", self
            )
        self.high = None if high is None else validation.positive(high, "high", self)
        self.rms = None if rms is None else validation.positive(rms, "rms", self)

    def scales(self, order, theta, dt, n_std):
        if self.given.shape != (order,):
            raise validation.error(
                f"must be {order} finite numbers > 0 (got shape {self.given.shape})", "scales", self
            )
        return self.given.copy()


def from_argument(value, order, theta, attr="input_statistics", obj=None):
    """The strategy for what a user passed as ``input_statistics``.

    ``None``: :meth:`WhiteNoise.default` for ``order`` and ``theta``; a
    ``nengo.processes.WhiteSignal``: its band and RMS; a pair ``(high_hz, rms)``:
    white noise; an :class:`InputStatistics`: itself.
    """
    if value is None:
        return WhiteNoise.default(order, theta)
    if isinstance(value, InputStatistics):
        return value
    if isinstance(value, nengo.processes.WhiteSignal):
        return WhiteNoise.from_process(value)
    try:
        high, rms = value
        ok = all(validation.is_number(v) and np.isfinite(v) and v > 0 for v in (high, rms))
    except (TypeError, ValueError):
        ok = False
    if not ok:
        raise validation.error(
            "must be a nengo.processes.WhiteSignal, a pair (high_hz, rms) of finite numbers "
            "> 0, a strategy (WhiteNoise, Measured, FixedScales) or None; "
            f"got {value!r}",
            attr,
            obj,
        )
    return WhiteNoise(high, rms)
