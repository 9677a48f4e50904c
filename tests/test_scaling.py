"""The O(d / sqrt(m)) law, measured: the spiking memory's error against the ideal memory of
the same order, swept over neurons m (8x) and orders d, for LIF and Poisson neurons."""

import numpy as np
import pytest

from nengo_lmu.bench.scaling import fit_scaling, plot_scaling, scaling_sweep

N_NEURONS = (200, 400, 800, 1600)
ORDERS = (2, 4, 8)
ORDER_FIXED, N_FIXED = 4, 800


@pytest.mark.parametrize("neuron_type", ["lif", "poisson"])
def test_error_scales_as_d_over_sqrt_m(neuron_type, report):
    sweep = scaling_sweep(neuron_type, N_NEURONS, ORDERS, ORDER_FIXED, N_FIXED, seeds=(0, 1), duration=3.0)
    fit = fit_scaling(sweep, ORDER_FIXED, N_FIXED)
    report(f"error ∝ m^{fit['m_exponent']:.3f}, ∝ d^{fit['d_exponent']:.3f}, error ≈ {fit['c']:.3f} d/√m")
    assert -0.65 <= fit["m_exponent"] <= -0.35
    assert fit["d_exponent"] <= 1.4
    # more neurons never hurt by more than noise, and the law's constant is finite
    errors_m = np.array(sweep["m"])[:, 1]
    assert errors_m[-1] < errors_m[0]
    assert 0 < fit["c"] < 10
    fig = plot_scaling({neuron_type: {"sweep": sweep, "fit": fit}}, ORDER_FIXED, N_FIXED)
    assert len(fig.axes) == 2 and len(fig.axes[0].lines) == 3
