"""Training through NengoDL: formulation parity, keras-lmu import, bad input."""

import os
import warnings

import nengo
import numpy as np
import pytest
from nengo.exceptions import ValidationError

from nengo_lmu import dl, maths
from nengo_lmu.lmu import LMU

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::UserWarning")


def small_lmu(**kwargs):
    args = dict(units=8, order=6, theta=0.015, input_dimensions=2, memory_d=3, input_to_hidden=True,
                output_dimensions=3, seed=2)
    args.update(kwargs)
    return LMU(**args)


def test_parallel_matches_step(rng):
    lmu = small_lmu()
    lmu.set_params({"b": 0.3 * rng.randn(8), "b_o": rng.randn(3)}, partial=True)
    x = rng.randn(20, 25, 2)
    parallel = dl.predict(lmu, x, "parallel", batch_size=10)
    step = dl.predict(lmu, x, "step", batch_size=10)
    assert parallel.shape == (20, 3)
    assert np.abs(parallel - step).max() <= 1e-4


def test_parallel_and_step_train_alike(rng):
    """The same data, seed and optimizer give the same trained weights either way."""
    x, y = rng.randn(40, 12, 2), rng.randint(0, 3, 40)
    trained = {}
    for form in ("parallel", "step"):
        lmu = small_lmu()
        history = dl.fit(lmu, x, y, epochs=2, batch_size=20, loss="sparse_ce", learning_rate=0.01,
                         l2=1e-3, formulation=form)
        assert history["formulation"] == form and len(history["loss"]) == 2
        trained[form] = lmu.get_params()
    initial = small_lmu().params
    for name in initial:
        assert not np.allclose(trained["parallel"][name], initial[name]), name
        assert np.allclose(trained["parallel"][name], trained["step"][name], atol=1e-4), name


def test_fit_learns_and_runs_on_nengo(rng):
    """Learn the window's mean; the trained values then run in the reference simulator."""
    lmu = LMU(16, 4, 0.01, output_dimensions=1, input_to_hidden=True, seed=0)
    x = rng.uniform(-1, 1, size=(200, 10, 1))
    y = x.mean(axis=1)
    history = dl.fit(lmu, x, y, epochs=20, batch_size=20, learning_rate=0.01)
    assert history["formulation"] == "parallel"
    assert history["loss"][-1] < 0.3 * history["loss"][0]
    with nengo.Network() as net:
        stim = nengo.Node(nengo.processes.PresentInput(x[0], lmu.dt))
        nengo.Connection(stim, lmu.input, synapse=None)
        probe = nengo.Probe(lmu.output, synapse=None)
    net.networks.append(lmu)
    with nengo.Simulator(net, dt=lmu.dt, progress_bar=False) as sim:
        sim.run_steps(10)
    assert np.allclose(sim.data[probe][-1], dl.predict(lmu, x[:1], batch_size=1)[0], atol=1e-4)


def test_recurrent_cell_trains_step_by_step(rng):
    lmu = small_lmu(hidden_to_memory=True)
    x, y = rng.randn(20, 8, 2), rng.randn(20, 3)
    assert dl.fit(lmu, x, y, batch_size=10)["formulation"] == "step"
    with pytest.raises(ValidationError, match="parallel formulation needs a cell without"):
        dl.fit(lmu, x, y, batch_size=10, formulation="parallel")
    y_seq = rng.randn(20, 8, 3)
    assert dl.fit(small_lmu(), x, y_seq, batch_size=10)["formulation"] == "step"
    with pytest.raises(ValidationError, match="only has the last step"):
        dl.fit(small_lmu(), x, y_seq, batch_size=10, formulation="parallel")


def test_spiking_prediction_close_to_rates(rng):
    """Spiking hidden neurons, scaled up, approach the rate network with the same synapse."""
    lmu = small_lmu(units=30, input_to_hidden=False)
    lmu.set_params({"b": 0.5 + 0.1 * rng.randn(30)}, partial=True)
    x = np.repeat(rng.uniform(0, 1, size=(10, 6, 2)), 5, axis=1)
    rate = lmu.with_neurons(hidden_synapse=0.003)
    spiking = rate.with_neurons(nengo.SpikingRectifiedLinear(), firing_rate_scale=3000)
    expected = dl.predict(rate, x, "step", batch_size=10)
    out = dl.predict(spiking, x, batch_size=10)
    assert 0 < maths.nrmse(out, expected) < 0.15
    with pytest.raises(ValidationError, match="rate-mode only"):
        dl.predict(spiking, x, "parallel", batch_size=10)
    with pytest.raises(ValidationError, match="train in rate mode"):
        dl.fit(spiking, x, expected, batch_size=10)


@pytest.mark.parametrize("recurrent", [False, True])
def test_from_keras_matches(recurrent, rng):
    tf = pytest.importorskip("tensorflow")
    keras_lmu = pytest.importorskip("keras_lmu")
    x = rng.randn(8, 12, 2).astype(np.float32)
    if recurrent:
        options = dict(hidden_to_memory=True, memory_to_memory=True, input_to_hidden=True)
        cell = tf.keras.layers.SimpleRNNCell(5)
    else:
        options, cell = {}, tf.keras.layers.Dense(5, activation="relu")
    layer = keras_lmu.LMU(memory_d=3, order=4, theta=6, hidden_cell=cell, return_sequences=True, **options)
    expected = layer(x).numpy()
    lmu = LMU.from_keras(layer)
    assert lmu.recurrent == recurrent and lmu.paths["hidden_to_hidden"] == recurrent
    assert np.abs(dl.predict(lmu, x, "step", batch_size=8, final_only=False) - expected).max() <= 1e-4
    if not recurrent:
        assert np.abs(dl.predict(lmu, x, "parallel", batch_size=8) - expected[:, -1]).max() <= 1e-4


def test_from_keras_refuses_unsupported():
    tf = pytest.importorskip("tensorflow")
    keras_lmu = pytest.importorskip("keras_lmu")
    layer = keras_lmu.LMU(memory_d=1, order=4, theta=6, hidden_cell=tf.keras.layers.Dense(3), use_bias=True)
    layer.build((None, 5, 1))
    with pytest.raises(ValidationError, match=r"unsupported keras-lmu options: \['use_bias'\]"):
        LMU.from_keras(layer)
    with pytest.raises(ValidationError, match="must be a keras_lmu.LMU layer"):
        LMU.from_keras(tf.keras.layers.Dense(3))


def test_bad_data_refused_before_training(rng):
    lmu = small_lmu()
    x, y = rng.randn(20, 8, 2), rng.randn(20, 3)
    with pytest.raises(ValidationError, match=r"x: must have shape \(n_sequences, n_steps, 2\)"):
        dl.fit(lmu, x[:, :, :1], y)
    bad = x.copy()
    bad[3, 2, 1] = np.nan
    with pytest.raises(ValidationError, match=r"contains NaN or inf \(in 1 sequences\)"):
        dl.fit(lmu, bad, y)
    with pytest.raises(ValidationError, match="has 19 targets for 20 input sequences"):
        dl.fit(lmu, x, y[:19])
    with pytest.raises(ValidationError, match=r"y: must have shape \(n, 3\)"):
        dl.fit(lmu, x, rng.randn(20, 4))
    with pytest.raises(ValidationError, match="must have 8 steps per sequence"):
        dl.fit(lmu, x, y, validation_data=(x[:, :5], y))
    with pytest.raises(ValidationError, match="y: contains NaN"):
        dl.fit(lmu, x, np.full_like(y, np.nan))
    with pytest.raises(ValidationError, match="sparse_ce needs integer class labels"):
        dl.fit(lmu, x, y, loss="sparse_ce")
    with pytest.raises(ValidationError, match="formulation: must be one of"):
        dl.fit(lmu, x, y, formulation="fast")
    with pytest.raises(ValidationError, match="epochs: must be an integer"):
        dl.fit(lmu, x, y, epochs=0)
    with pytest.raises(ValidationError, match="l2: must be a finite number >= 0"):
        dl.fit(lmu, x, y, l2=-1)


def test_partial_batch_warns(rng):
    lmu = small_lmu()
    x, y = rng.randn(25, 6, 2), rng.randn(25, 3)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        history = dl.fit(lmu, x, y, batch_size=10)
    assert history["n_trained"] == 20
    assert any("training on 20 of 25 sequences" in str(w.message) for w in caught)
    assert dl.predict(lmu, x, batch_size=10).shape == (25, 3)  # predictions are padded, not cut


def _final_memory(lmu, x):
    """The exact final memory state (memory-major), numpy."""
    Ad, Bd = maths.discretize(*maths.legendre_ss(lmu.order, lmu.theta), lmu.dt)
    m = np.zeros((len(x), lmu.memory_d, lmu.order))
    for t in range(x.shape[1]):
        u = x[:, t] @ lmu.params["e_x"].T
        m = m @ Ad.T + u[:, :, None] * Bd[:, 0]
    return m.reshape(len(x), -1)


def test_memory_noise_training(rng):
    """Noise on the memory changes training only, never evaluation."""
    x, y = rng.randn(40, 12, 2), rng.randint(0, 3, 40)
    trained = {}
    for name, noise in (("none", None), ("noisy", np.full(18, 2.0))):
        lmu = small_lmu()
        dl.fit(lmu, x, y, epochs=2, batch_size=20, loss="sparse_ce", learning_rate=0.01, memory_noise=noise)
        trained[name] = lmu.get_params()
    # evaluation is noise-free: the same outputs as the equations (no noise at all)
    h = np.maximum(_final_memory(lmu, x[:10]) @ lmu.params["W_m"].T + x[:10, -1] @ lmu.params["W_x"].T
                   + lmu.params["b"], 0)
    expected = h @ lmu.params["W_o"].T + lmu.params["b_o"]
    assert np.abs(dl.predict(lmu, x[:10], "parallel", batch_size=10) - expected).max() <= 1e-3
    assert not np.allclose(trained["none"]["W_m"], trained["noisy"]["W_m"], atol=1e-3)
    assert np.allclose(trained["noisy"]["e_x"], small_lmu().params["e_x"], atol=1e-6)  # held with noise
    # a scalar, a vector and a matrix L all become L
    assert np.allclose(dl._memory_noise(lmu, 0.5), 0.5 * np.eye(18))
    assert np.allclose(dl._memory_noise(lmu, np.arange(18.0)), np.diag(np.arange(18.0)))
    L = rng.randn(18, 18)
    assert np.allclose(dl._memory_noise(lmu, L), L)
    for bad in (np.ones(5), -1.0, np.full((18, 18), np.inf)):
        with pytest.raises(ValidationError, match="one per memory coefficient"):
            dl.fit(small_lmu(), x, y, loss="sparse_ce", batch_size=20, memory_noise=bad)
    with pytest.raises(ValidationError, match="needs the parallel formulation"):
        dl.fit(small_lmu(), x, y, loss="sparse_ce", batch_size=20, memory_noise=0.1, formulation="step")


def test_predict_returns_the_memory_state(rng):
    """The probed memory state is the exact one, in both formulations, final or per step."""
    lmu = small_lmu()
    x = rng.randn(6, 10, 2)
    exact = lmu.final_memory_state(x)
    for form in ("parallel", "step"):
        out, state = dl.predict(lmu, x, form, batch_size=4, return_state=True)
        assert out.shape == (6, 3) and np.abs(state - exact).max() <= 1e-4, form
        assert np.abs(out - dl.predict(lmu, x, form, batch_size=4)).max() <= 1e-6
    out, states = dl.predict(lmu, x, "step", batch_size=6, final_only=False, return_state=True)
    assert states.shape == (6, 10, 18)
    assert np.abs(states - np.stack(list(lmu.memory_states(x)), axis=1)).max() <= 1e-4


def test_argument_errors_name_the_function(rng):
    lmu = small_lmu()
    x, y = rng.randn(20, 8, 2), rng.randn(20, 3)
    for call, message in [
        (lambda: dl.fit(lmu, x, y, batch_size=0), r"fit.batch_size: must be an integer >= 1"),
        (lambda: dl.fit(lmu, x, y, learning_rate=np.nan), "fit.learning_rate: must be a finite number > 0"),
        (lambda: dl.fit(lmu, x, y, loss="mae"), r"fit.loss: must be one of \('mse', 'sparse_ce'\)"),
        (lambda: dl.fit(lmu, x, y, l2=np.nan), "fit.l2"),
        (lambda: dl.fit(lmu, x, y, validation_data=x), r"fit.validation_data: must be a pair"),
        (lambda: dl.fit(lmu, x, y, formulation=3), "fit.formulation: must be one of"),
        (lambda: dl.fit("lmu", x, y), "data.lmu: must be an LMU network"),
        (lambda: dl.predict(lmu, x, batch_size=2.5), "predict.batch_size"),
        (lambda: dl.predict(lmu, x, final_only="no"), "predict.final_only: must be True or False"),
        (lambda: dl.predict(lmu, x, return_state=1), "predict.return_state: must be True or False"),
        (lambda: dl.predict(lmu, x, probe_synapse=-0.1), "predict.probe_synapse"),
        (lambda: dl.evaluate(lmu, x, y, average_last=0), r"evaluate.average_last: must be an integer in \[1, 8\]"),
    ]:
        with pytest.raises(ValidationError, match=message):
            call()
