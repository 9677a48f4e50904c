"""Parameter files and LMU argument checks: every hostile file and misuse is one
ValidationError naming what is wrong; saves are atomic and never overwrite silently."""

import io as pyio
import json
import os
import pickle
import zipfile

import nengo
import numpy as np
import pytest
from nengo.exceptions import ValidationError

import nengo_lmu
from nengo_lmu import io, paramfile
from nengo_lmu.lmu import LMU, from_network, to_network

TRAINED = os.path.join(os.path.dirname(nengo_lmu.__file__), "gui", "trained_lmu.npz")


def small(**kwargs):
    args = dict(units=5, order=4, theta=0.01, output_dimensions=3, input_to_hidden=True, seed=0)
    args.update(kwargs)
    return LMU(**args)


def npy_bytes(array):
    buffer = pyio.BytesIO()
    np.lib.format.write_array(buffer, np.asanyarray(array), allow_pickle=True)
    return buffer.getvalue()


def write_zip(path, members):
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as z:
        for name, data in members.items():
            z.writestr(name + ".npy", data if isinstance(data, bytes) else npy_bytes(data))


def members_of(lmu, **changes):
    """The members of ``lmu``'s parameter file, with ``changes`` (None removes one)."""
    members = {"__signature__": np.array(json.dumps(lmu.signature())), **lmu.params}
    for name, value in changes.items():
        if value is None:
            members.pop(name)
        else:
            members[name] = value
    return members


def test_roundtrip_and_signature(tmp_path):
    lmu = small()
    path = lmu.save_params(tmp_path / "p.npz", metadata={"task": "x"})
    loaded = LMU.load(path)
    assert loaded.signature() == lmu.signature() and loaded.metadata == {"task": "x"}
    assert all(np.array_equal(loaded.params[k], v) for k, v in lmu.params.items())
    signature = lmu.signature()
    assert set(signature) == set(paramfile.FIELDS)
    assert (signature["theta_steps"], signature["dt"], signature["discretizer"]) == (10.0, 0.001, "zoh")
    # the neuron type is rebuilt from the file
    tanh = small(neuron_type=nengo.Tanh(tau_ref=1.0))
    tanh.save_params(tmp_path / "t.npz")
    assert LMU.load(tmp_path / "t.npz").neuron_type == nengo.Tanh(tau_ref=1.0)


def test_previous_format_still_read():
    """The shipped GUI network is a format-1 file (window in __theta__, no dt)."""
    lmu = LMU.load(TRAINED)
    assert (lmu.units, lmu.order, lmu.dt, lmu.theta) == (64, 6, 0.001, pytest.approx(0.5))
    assert lmu.metadata["window"] == 500
    lmu.load_params(TRAINED)  # what format 1 does not record is not compared


def test_save_refuses_to_overwrite_and_is_atomic(tmp_path, monkeypatch):
    path = tmp_path / "p.npz"
    first = small()
    first.save_params(path)
    with pytest.raises(ValidationError, match="exists; pass overwrite=True"):
        small(seed=1).save_params(path)
    before = path.read_bytes()

    def interrupted(f, **members):
        f.write(b"PK\x03\x04 half a file")
        raise KeyboardInterrupt

    monkeypatch.setattr(np, "savez", interrupted)
    with pytest.raises(KeyboardInterrupt):
        small(seed=1).save_params(path, overwrite=True)
    monkeypatch.undo()
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["p.npz"]  # no temporary file left behind
    small(seed=1).save_params(path, overwrite=True)
    assert not np.array_equal(LMU.load(path).params["W_m"], first.params["W_m"])
    with pytest.raises(ValidationError, match="metadata: must be a dict"):
        first.save_params(tmp_path / "m.npz", metadata=["task"])
    with pytest.raises(ValidationError, match="metadata: must be JSON-serialisable"):
        first.save_params(tmp_path / "m.npz", metadata={"x": object()})
    assert not (tmp_path / "m.npz").exists()


@pytest.mark.parametrize(
    "changes, message",
    [
        (dict(W_m=None), r"lacks parameter\(s\) \['W_m'\]"),
        (dict(b=None, e_x=None, W_o=None), r"lacks parameter\(s\) \['W_o', 'b', 'e_x'\]"),
        (dict(e_x=None, W_x=None, W_m=None, b=None, W_o=None, b_o=None), "lacks parameter"),
        (dict(extra=np.zeros(3)), r"unknown member\(s\) \['extra'\]"),
        (dict(W_m=np.zeros((4, 5))), r"member 'W_m' has shape \(4, 5\) \(expected \(5, 4\)\)"),
        (dict(W_m=np.zeros((5, 4), dtype=np.int64)), "member 'W_m' has dtype int64"),
        (dict(W_m=np.array([None] * 20, dtype=object).reshape(5, 4)), "member 'W_m' holds pickled objects"),
        (dict(__signature__=np.array("{not json")), "member '__signature__' is not valid JSON"),
        (dict(__signature__=np.array("[1, 2]")), "is not a JSON object"),
        (dict(__signature__=None), r"not an LMU parameter file \(no signature\)"),
    ],
)
def test_hostile_members_refused(tmp_path, changes, message):
    path = tmp_path / "bad.npz"
    write_zip(path, members_of(small(), **changes))
    with pytest.raises(ValidationError, match=message) as info:
        LMU.load(path)
    assert str(path) in str(info.value)
    with pytest.raises(ValidationError, match=message):
        small().load_params(path)


def test_signature_only_and_bad_signatures(tmp_path):
    lmu = small()
    path = tmp_path / "sig.npz"
    write_zip(path, {"__signature__": np.array(json.dumps(lmu.signature()))})
    with pytest.raises(ValidationError, match="lacks parameter"):
        LMU.load(path)
    for change, message in [
        (dict(units="5"), r"makes no network \(LMU.units: must be an integer"),
        (dict(discretizer="euler"), "LMU.discretizer: must be 'zoh'"),
        (dict(theta_steps=float("-1")), "theta_steps: must be a finite number > 0"),
        (dict(paths={"input_encoders": True}), "LMU.paths: must name the paths"),
        (dict(params={"W_m": [50000, 40000]}), "declares parameters"),
        (dict(version=3), "has format version 3"),
    ]:
        signature = dict(lmu.signature(), **change)
        write_zip(path, members_of(lmu, __signature__=np.array(json.dumps(signature))))
        with pytest.raises(ValidationError, match=message):
            LMU.load(path)
    signature = lmu.signature()
    del signature["dt"]
    write_zip(path, members_of(lmu, __signature__=np.array(json.dumps(signature))))
    with pytest.raises(ValidationError, match=r"signature lacking \['dt'\]"):
        LMU.load(path)


def test_oversized_member_refused_without_inflating(tmp_path, monkeypatch):
    """A few kB of zip declaring a huge array is refused from its header and directory."""
    path = tmp_path / "big.npz"
    huge = np.zeros((5, 4 * 2_000_000))  # 320 MB inflated, a few hundred kB deflated
    write_zip(path, members_of(small(), W_m=huge))
    assert os.path.getsize(path) < 1_000_000
    read = []
    original = zipfile.ZipExtFile.read
    monkeypatch.setattr(zipfile.ZipExtFile, "read", lambda self, n=-1: read.append(n) or original(self, n))
    with pytest.raises(ValidationError, match="member 'W_m' is oversized"):
        LMU.load(path)
    assert all(0 <= n < 1_000_000 for n in read)  # never asked for the whole member
    # a member whose stored size exceeds what its header declares
    padded = npy_bytes(np.zeros((5, 4))) + b"\0" * 1000
    write_zip(path, members_of(small(), W_m=padded))
    with pytest.raises(ValidationError, match="member 'W_m' is oversized"):
        LMU.load(path)


def test_unreadable_files_refused(tmp_path):
    good = small().save_params(tmp_path / "good.npz")
    data = open(good, "rb").read()
    cases = {
        "missing.npz": (None, "no such file"),
        "junk.npz": (b"not a zip at all", "is not an .npz file"),
        "truncated.npz": (data[: len(data) // 2], "is not an .npz file, or is damaged"),
        "empty.npz": (b"", "is not an .npz file"),
    }
    for name, (content, message) in cases.items():
        if content is not None:
            (tmp_path / name).write_bytes(content)
        with pytest.raises(ValidationError, match=message) as info:
            LMU.load(tmp_path / name)
        assert name in str(info.value)
    with pytest.raises(ValidationError, match="cannot be read"):
        LMU.load(tmp_path)  # a directory
    # a zip of other things, and a pickle where an .npy should be
    with zipfile.ZipFile(tmp_path / "foreign.npz", "w") as z:
        z.writestr("readme.txt", "hello")
    with pytest.raises(ValidationError, match=r"is not an .npz file \(member 'readme.txt'\)"):
        LMU.load(tmp_path / "foreign.npz")
    write_zip(tmp_path / "pickle.npz", members_of(small(), W_m=pickle.dumps(np.zeros((5, 4)))))
    with pytest.raises(ValidationError, match="damaged"):
        LMU.load(tmp_path / "pickle.npz")
    np.savez(tmp_path / "other.npz", W_m=np.zeros((3, 2)))
    with pytest.raises(ValidationError, match="not an LMU parameter file"):
        LMU.load(tmp_path / "other.npz")


def test_load_params_refuses_a_different_network(tmp_path):
    path = small().save_params(tmp_path / "p.npz")
    for other, differ in [
        (small(theta=0.02), "theta_steps"),
        (small(theta=0.02, dt=0.002), "dt"),
        (small(neuron_type=nengo.Tanh(tau_ref=1.0)), "neuron_type"),
        (small(hidden_to_hidden=True), "params', 'paths"),
    ]:
        with pytest.raises(ValidationError, match=rf"different network \(differs in \['{differ}'\]"):
            other.load_params(path)
    small(firing_rate_scale=50.0).load_params(path)  # parameters are stored unscaled
    # load may choose another dt: the window keeps its length in steps
    assert LMU.load(path, dt=0.002).theta == pytest.approx(0.02)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(theta="0.1"), r"LMU.theta: must be a finite number > 0 \(got '0.1'\)"),
        (dict(theta=np.nan), "LMU.theta: must be a finite number > 0"),
        (dict(units=2.5), r"LMU.units: must be an integer >= 1 \(got 2.5\)"),
        (dict(units=True), "LMU.units: must be an integer"),
        (dict(order=0), "LMU.order: must be an integer >= 1"),
        (dict(dt=0), "LMU.dt: must be a finite number > 0"),
        (dict(dt=np.inf), "LMU.dt: must be a finite number > 0"),
        (dict(output_dimensions=0), "LMU.output_dimensions: must be an integer"),
        (dict(firing_rate_scale=-1), "LMU.firing_rate_scale: must be a finite number > 0"),
        (dict(firing_rate_scale=np.nan), "LMU.firing_rate_scale"),
        (dict(hidden_synapse=-1), "LMU.hidden_synapse: must be a finite number >= 0"),
        (dict(hidden_synapse=np.nan), "LMU.hidden_synapse"),
        (dict(hidden_synapse=nengo.Lowpass(np.inf)), "LMU.hidden_synapse: must be None"),
        (dict(hidden_synapse="fast"), "LMU.hidden_synapse: must be None"),
        (dict(input_to_hidden="yes"), "LMU.input_to_hidden: must be True or False"),
        (dict(neuron_type="tanh-ish"), "LMU.neuron_type: must be"),
        (dict(memory=dict(n_neuron=10)), r"LMU.memory: unknown LegendreMemory argument\(s\) \['n_neuron'\]"),
        (dict(params={"W_m": np.zeros((4, 5))}), r"LMU.params: W_m must have shape \(5, 4\)"),
        (dict(params={"W_m": "zeros"}), "LMU.params: W_m must"),
        (dict(params=[1, 2]), "LMU.params: must be a dict"),
        (dict(params={"b": np.full(5, np.inf)}), "LMU.params: b contains NaN or inf"),
    ],
)
def test_misuse_refused_before_joining_a_network(kwargs, message):
    with nengo.Network() as net:
        with pytest.raises(ValidationError, match=message):
            small(**kwargs)
    assert net.networks == [] and net.all_objects == []


def test_failed_memory_leaves_no_partial_network():
    """A memory that refuses its arguments while being built: the LMU is removed again."""
    with nengo.Network() as net:
        with pytest.raises(ValidationError):
            small(memory=dict(n_neurons=-5, neuron_type=nengo.LIF()))
    assert net.networks == []


def test_scaling_rule_roundtrips(rng):
    lmu = small(firing_rate_scale=40.0, hidden_to_hidden=True, hidden_to_memory=True)
    for name, shape in lmu.param_shapes.items():
        value = rng.randn(*shape)
        held = to_network(name, value, 40.0)
        assert np.allclose(from_network(name, held, 40.0, shape), value), name
    # what the network holds is the parameter through the rule
    assert np.allclose(lmu.param_connections["W_h"].transform.init, lmu.params["W_h"] / 40.0)
    assert np.allclose(lmu.param_connections["W_m"].transform.init, lmu.params["W_m"])
    assert np.allclose(lmu.hidden.bias, 40.0 * lmu.params["b"])


def test_final_memory_state_matches_the_steps(rng):
    lmu = LMU(3, 5, 0.02, input_dimensions=2, memory_d=2, seed=0)
    x = rng.randn(4, 30, 2)
    last = list(lmu.memory_states(x))[-1]
    assert np.allclose(lmu.final_memory_state(x), last, atol=1e-12)
    assert lmu.memory_kernel(30).shape == (30, 5)
    with pytest.raises(ValidationError, match=r"LMU.x: must have shape \(n_sequences, n_steps, 2\)"):
        lmu.final_memory_state(x[:, :, :1])
    with pytest.raises(ValidationError, match="LMU.final_memory_state: the memory input depends"):
        LMU(3, 5, 0.02, memory_to_memory=True).final_memory_state(x[:, :, :1])
    with pytest.raises(ValidationError, match="LMU.n_steps: must be an integer"):
        lmu.memory_kernel(0)


def test_io_write_atomic_is_what_saves_use(tmp_path, monkeypatch):
    calls = []
    original = io.write_atomic
    monkeypatch.setattr(io, "write_atomic", lambda *a, **k: calls.append(a[0]) or original(*a, **k))
    small().save_params(tmp_path / "p.npz")
    assert calls == [tmp_path / "p.npz"]
