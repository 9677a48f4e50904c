import re

import numpy as np
import pytest
import scipy.interpolate
import scipy.signal
from nengo.exceptions import ValidationError

from nengo_lmu import discretize, legendre_readout, legendre_ss, maths, principle3


@pytest.mark.parametrize("order", [1, 3, 6])
def test_legendre_ss_is_pade_of_delay(order):
    theta = 0.7
    A, B = legendre_ss(order, theta)
    C = legendre_readout(order, 1.0)
    # Taylor series of exp(-theta s), then the [order-1 / order] Padé approximant
    taylor = [(-theta) ** k / np.math.factorial(k) for k in range(2 * order)]
    p, q = scipy.interpolate.pade(taylor, order, order - 1)
    for s in [0.3j, 1.0 + 2j, 5j, -0.2 + 0.1j]:
        ours = C @ np.linalg.solve(s * np.eye(order) - A, B)
        assert np.allclose(ours, p(s) / q(s), rtol=1e-6)


def test_legendre_ss_matches_paper_formula():
    order, theta = 5, 2.0
    A, B = legendre_ss(order, theta)
    for i in range(order):
        assert np.isclose(B[i, 0], (2 * i + 1) * (-1) ** i / theta)
        for j in range(order):
            expected = -1 if i < j else (-1) ** (i - j + 1)
            assert np.isclose(A[i, j], (2 * i + 1) * expected / theta)


def test_readout_recovers_delayed_input(rng):
    order, theta, dt = 12, 0.5, 1e-3
    A, B = legendre_ss(order, theta)
    Ad, Bd = discretize(A, B, dt)
    t = np.arange(4000) * dt
    u = np.sin(2 * np.pi * 1.3 * t + rng.uniform(0, 2 * np.pi)) * np.cos(2 * np.pi * 0.4 * t)
    m, states = np.zeros(order), []
    for x in u:
        m = Ad @ m + Bd[:, 0] * x
        states.append(m)
    states = np.array(states)
    r = np.array([0.0, 0.25, 0.5, 1.0])
    y = states @ legendre_readout(order, r).T
    for k, rk in enumerate(r):
        target = maths.delayed(u, int(round(rk * theta / dt)))
        assert maths.nrmse(y[1000:, k], target[1000:]) < 0.02


def test_readout_shapes():
    assert legendre_readout(5, 0.3).shape == (5,)
    assert legendre_readout(5, [0.1, 0.9, 1.0]).shape == (3, 5)
    # P_i(1) = 1 and P_i(-1) = (-1)^i
    assert np.allclose(legendre_readout(4, 1.0), 1)
    assert np.allclose(legendre_readout(4, 0.0), [1, -1, 1, -1])


def test_discretize_matches_scipy():
    A, B = legendre_ss(6, 0.2)
    Ad, Bd = discretize(A, B, 1e-3)
    ref = scipy.signal.cont2discrete((A, B, np.eye(6), np.zeros((6, 1))), 1e-3, method="zoh")
    assert np.allclose(Ad, ref[0], atol=1e-12) and np.allclose(Bd, ref[1], atol=1e-12)
    Ae, Be = discretize(A, B, 1e-3, method="euler")
    assert np.allclose(Ae, np.eye(6) + 1e-3 * A) and np.allclose(Be, 1e-3 * B)


def test_euler_refused_outside_stability_with_smallest_theta():
    order, dt = 6, 1e-3
    with pytest.raises(ValidationError, match=r"smallest stable theta is ([0-9.e-]+)") as info:
        discretize(*legendre_ss(order, 0.005), dt, method="euler")
    theta_min = float(re.search(r"smallest stable theta is ([0-9.e-]+)", str(info.value)).group(1))
    assert theta_min > 0.005
    # the reported bound is tight: just above it is stable, just below it is refused
    Ad, _ = discretize(*legendre_ss(order, theta_min * 1.001), dt, method="euler")
    assert np.max(np.abs(np.linalg.eigvals(Ad))) < 1
    with pytest.raises(ValidationError, match="smallest stable theta"):
        discretize(*legendre_ss(order, theta_min * 0.999), dt, method="euler")
    # a non-Legendre system gets the time-scale factor instead
    with pytest.raises(ValidationError, match="slow the system down by a factor"):
        discretize(np.array([[-3000.0, 1.0], [0.0, -5.0]]), np.ones(2), dt, method="euler")


def test_principle3_continuous_formula():
    A, B = legendre_ss(4, 0.3)
    A_h, B_h = principle3(A, B, 0.05)
    assert np.allclose(A_h, 0.05 * A + np.eye(4)) and np.allclose(B_h, 0.05 * B)


@pytest.mark.parametrize("tau", [0.002, 0.05, 0.3])
def test_principle3_discrete_reproduces_zoh(tau, rng):
    # nengo's lowpass loop: x[k+1] = a x[k] + (1 - a) (A_h x[k] + B_h u[k])
    dt = 1e-3
    A, B = legendre_ss(5, 0.1)
    A_h, B_h = principle3(A, B, tau, dt=dt)
    Ad, Bd = discretize(A, B, dt)
    assert np.allclose(maths.implemented_system(A_h, B_h, tau, dt)[0], Ad, atol=1e-12)
    a = np.exp(-dt / tau)
    x = m = np.zeros(5)
    for u in rng.standard_normal(300):
        x = a * x + (1 - a) * (A_h @ x + B_h[:, 0] * u)
        m = Ad @ m + Bd[:, 0] * u
    assert np.allclose(x, m, atol=1e-8)


def test_white_noise_covariance_matches_simulation():
    import nengo

    # order 10 over 0.1 s with 5 Hz input: the top coefficients are tiny, and the held
    # input's steps dominate them, which only the dt-aware covariance captures
    order, theta, dt = 10, 0.1, 1e-3
    A, B = legendre_ss(order, theta)
    cov = maths.white_noise_covariance(A, B, high=5, rms=0.3, dt=dt)
    Ad, Bd = discretize(A, B, dt)
    stds = []
    for seed in range(4):
        u = nengo.processes.WhiteSignal(30.0, high=5, rms=0.3, seed=seed).run(30.0, dt=dt)[:, 0]
        m, states = np.zeros(order), []
        for x in u:
            m = Ad @ m + Bd[:, 0] * x
            states.append(m)
        stds.append(np.std(states[1000:], axis=0))
    assert np.allclose(np.mean(stds, axis=0), np.sqrt(np.diag(cov)), rtol=0.15)
    continuous = maths.white_noise_covariance(A, B, high=5, rms=0.3)
    assert np.allclose(np.diag(continuous)[:4], np.diag(cov)[:4], rtol=0.05)
    assert np.sqrt(continuous[-1, -1]) < 0.5 * np.mean(stds, axis=0)[-1]


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: legendre_ss(0, 1.0), "order.*integer >= 1"),
        (lambda: legendre_ss(2.5, 1.0), "order.*integer >= 1"),
        (lambda: legendre_ss(3, 0.0), "theta.*> 0"),
        (lambda: legendre_ss(3, -1.0), "theta.*> 0"),
        (lambda: legendre_readout(3, 1.5), r"r.*\[0, 1\]"),
        (lambda: legendre_readout(3, [0.2, -0.1]), r"r.*\[0, 1\]"),
        (lambda: legendre_readout(3, np.zeros((2, 2))), "r.*1-D"),
        (lambda: discretize(*legendre_ss(3, 1.0), 1e-3, method="tustin"), "method.*one of"),
        (lambda: discretize(*legendre_ss(3, 1.0), 0.0), "dt.*> 0"),
        (lambda: discretize(np.ones((3, 2)), np.ones(3), 1e-3), "A.*square"),
        (lambda: discretize(np.eye(3), np.ones(2), 1e-3), "B.*3 rows"),
        (lambda: principle3(np.eye(2), np.ones((3, 1)), 0.1), "B.*2 rows"),
        (lambda: principle3(*legendre_ss(3, 1.0), tau=0), "tau.*> 0"),
        (lambda: legendre_ss(3, "0.1"), "legendre_ss.theta.*finite number > 0"),
        (lambda: legendre_ss(3, np.nan), "theta.*finite number > 0"),
        (lambda: maths.impulse_response(*legendre_ss(3, 1.0), 1e-3, n_steps=-1), "impulse_response.n_steps"),
        (lambda: maths.white_noise_covariance(*legendre_ss(3, 1.0), high=np.inf), "high.*finite"),
        (lambda: maths.state_scales(np.eye(3), n_std=np.nan), "n_std.*finite number > 0"),
        (lambda: maths.memory_band(0, 1.0), "memory_band.order"),
        (lambda: maths.wiener_readout(3, 0.1, 1.2, 5.0, 1e-3), "r.*in \\[0, 1\\]"),
        (lambda: maths.wiener_readout(3, 0.1, 1.0, 0.0, 1e-3), "wiener_readout.high"),
        (lambda: maths.wiener_readout(3, 0.1, 1.0, 5.0, 1e-3, state_noise=np.ones(2)), "state_noise.*shape"),
        (lambda: maths.least_squares_readout(np.eye(3), np.ones((1, 2))), "cross_cov.*3 columns"),
        (lambda: maths.least_squares_readout(np.eye(3), np.ones(3), prior=np.ones(2)), "prior.*shape"),
    ],
)
def test_bad_input_messages(call, match):
    with pytest.raises(ValidationError, match=match):
        call()


def test_zoh_states_match_the_discretized_system(rng):
    A, B = legendre_ss(5, 0.05)
    u = rng.randn(3, 40, 2)
    states = list(maths.zoh_states(A, B, u, 0.001))
    Ad, Bd = discretize(A, B, 0.001)
    m = np.zeros(5)
    for k in range(40):  # sequence 1, channel 1, stepped by hand
        m = Ad @ m + Bd[:, 0] * u[1, k, 1]
    assert len(states) == 40 and states[-1].shape == (3, 2, 5)
    assert np.allclose(states[-1][1, 1], m, atol=1e-12)


def test_memory_band():
    # the Pade delay holds omega theta < order, i.e. order / (2 pi) cycles per window
    assert maths.memory_band(6, 0.2) == pytest.approx(6 / (2 * np.pi * 0.2))
    for order in (6, 12, 24):
        theta = 0.5
        A, B = legendre_ss(order, theta)
        C = legendre_readout(order, 1.0)

        def error(f):
            s = 2j * np.pi * f
            return abs((C @ np.linalg.solve(s * np.eye(order) - A, B))[0] - np.exp(-s * theta))

        assert error(maths.memory_band(order, theta)) < 0.01
        assert error(2 * maths.memory_band(order, theta)) > 0.5


def _held_delay_errors(order, theta, high, readouts, dt=1e-3, seconds=20.0, seed=3):
    """NRMSE of each readout of the exact memory against the held input ``theta`` earlier:
    the state after sample ``k`` against the mean of samples ``k - steps`` and
    ``k - steps + 1`` (the held input at that step's end minus ``theta``)."""
    import nengo

    u = nengo.processes.WhiteSignal(seconds, high=high, rms=0.3, seed=seed).run(seconds, dt=dt)[:, 0]
    states = np.array([m[0, 0] for m in maths.zoh_states(*legendre_ss(order, theta), u[None, :, None], dt)])
    steps = int(round(theta / dt))
    target = 0.5 * (maths.delayed(u, steps) + maths.delayed(u, steps - 1))
    keep = slice(int(1.0 / dt), None)
    return [maths.nrmse(states[keep] @ C, target[keep]) for C in readouts]


def test_wiener_readout_beats_the_polynomials_on_a_band_limited_input():
    """Order 2 over the whole band it holds: the Wiener readout, measured on a run of the
    exact memory, has about half the polynomials' error (issue 11)."""
    order, theta = 2, 0.3
    high = maths.memory_band(order, theta)
    legendre = legendre_readout(order, 1.0)
    wiener = maths.wiener_readout(order, theta, 1.0, high, 1e-3)
    err_legendre, err_wiener = _held_delay_errors(order, theta, high, [legendre, wiener])
    assert err_wiener < 0.7 * err_legendre


def test_wiener_readout_times_the_delay_like_the_polynomials():
    """On an input far slower than the band both readouts are the held input theta
    earlier, to well under the half step a timing slip would cost."""
    order, theta = 4, 0.05
    high = 0.3 * maths.memory_band(order, theta)
    legendre = legendre_readout(order, 1.0)
    wiener = maths.wiener_readout(order, theta, 1.0, high, 1e-3)
    err_legendre, err_wiener = _held_delay_errors(order, theta, high, [legendre, wiener])
    half_step_slip = np.pi * high * 1e-3  # about the NRMSE of a half-step timing error
    assert err_legendre < 0.2 * half_step_slip
    assert err_wiener < 0.2 * half_step_slip


@pytest.mark.parametrize("order", [2, 4, 8])
def test_wiener_readout_with_the_legendre_prior_is_the_polynomials_for_slow_inputs(order):
    theta = 0.1
    r = np.array([1.0, 0.5, 0.0])
    legendre = legendre_readout(order, r)
    slow = 0.01 * maths.memory_band(order, theta)
    C = maths.wiener_readout(order, theta, r, slow, 1e-3, state_noise=np.full(order, 1e-6), prior=legendre)
    assert C.shape == (3, order)
    assert np.allclose(C, legendre, atol=2e-3)
    # and a scalar r gives one row
    assert maths.wiener_readout(order, theta, 1.0, slow, 1e-3).shape == (order,)


def test_least_squares_readout_between_wiener_and_prior(rng):
    d = 4
    X = rng.standard_normal((d, d))
    cov = X @ X.T + np.eye(d)
    cross = rng.standard_normal((2, d))
    prior = rng.standard_normal((2, d))
    wiener = np.linalg.solve(cov, cross.T).T
    assert np.allclose(maths.least_squares_readout(cov, cross), wiener, atol=1e-8)
    # little noise: the Wiener estimate; overwhelming noise: the prior
    assert np.allclose(maths.least_squares_readout(cov, cross, np.full(d, 1e-9), prior), wiener, atol=1e-6)
    assert np.allclose(maths.least_squares_readout(cov, cross, np.full(d, 1e9), prior), prior, atol=1e-6)
    # it minimises E|C m - y|^2 + (C - C0) N (C - C0)^T: the gradient vanishes
    N = np.diag(rng.uniform(0.5, 2, d))
    C = maths.least_squares_readout(cov, cross, N, prior)
    assert np.allclose(C @ cov - cross + (C - prior) @ N, 0, atol=1e-10)
