"""Every bad input of issue 10, as one table: what a user does, and the message they must see.

The Python API raises ``ValidationError`` naming the parameter (and whose parameter it
is) before anything is built or added to a network; parameter files that are missing,
foreign, incomplete or from another network are one ``ValidationError`` naming the file;
nothing a user saved is overwritten or lost. The command line's own table (each bad
option: exit status 2, one line, nothing written) is ``tests/test_bench.py``; the hostile
parameter files (truncated, pickled, oversized members...) are ``tests/test_paramfile.py``.
"""

import os
import zipfile

import numpy as np
import nengo
import pytest
from nengo.exceptions import ValidationError

import nengo_lmu
from nengo_lmu import LMU, LegendreMemory, backends, dl, io, maths, statistics

TRAINED = os.path.join(os.path.dirname(nengo_lmu.__file__), "gui", "trained_lmu.npz")
A4, B4 = maths.legendre_ss(4, 0.1)


def _lmu(**kwargs):
    return LMU(8, 4, 0.1, output_dimensions=1, seed=0, **kwargs)


API = [
    # (what the user wrote, the call, the message: parameter named, with its owner)
    ("theta as a string", lambda: LegendreMemory(4, "0.1", 100), r"LegendreMemory\.theta: must be a finite number > 0"),
    ("a zero synapse", lambda: LegendreMemory(4, 0.1, 100, synapse=nengo.Lowpass(0)), r"LegendreMemory\.synapse: "),
    ("an infinite synapse", lambda: LegendreMemory(4, 0.1, 100, synapse=np.inf), r"LegendreMemory\.synapse: "),
    ("n_std nan", lambda: LegendreMemory(4, 0.1, 100, n_std=np.nan), r"LegendreMemory\.n_std: "),
    ("order 0", lambda: LegendreMemory(0, 0.1, 100), r"LegendreMemory\.order: must be an integer >= 1"),
    ("fewer neurons than coefficients", lambda: LegendreMemory(4, 0.1, 3), r"LegendreMemory\.n_neurons: "),
    ("fractional dimensions", lambda: LegendreMemory(4, 0.1, 100, dimensions=1.5), r"LegendreMemory\.dimensions: "),
    ("an unknown neuron name", lambda: LegendreMemory(4, 0.1, 100, neuron_type="foo"), r"LegendreMemory\.neuron_type: "),
    ("infinite input band", lambda: LegendreMemory(4, 0.1, 100, input_statistics=(np.inf, 0.5)),
     r"LegendreMemory\.input_statistics: "),
    ("an unknown mapping", lambda: LegendreMemory(4, 0.1, 100, mapping="x"), r"LegendreMemory\.mapping: must be one of"),
    ("negative impulse length", lambda: maths.impulse_response(A4, B4, 0.001, -1), r"impulse_response\.n_steps: "),
    ("theta as a string (maths)", lambda: maths.legendre_ss(4, "1"), r"legendre_ss\.theta: "),
    ("a zero time step", lambda: maths.discretize(A4, B4, 0.0), r"discretize\.dt: "),
    ("a delay outside the window", lambda: maths.legendre_readout(4, 1.5), r"legendre_readout\.r: must lie in \[0, 1\]"),
    ("no example input", lambda: statistics.Measured(np.zeros((0, 3))), r"Measured\.u: "),
    ("measure too long", lambda: statistics.measure(lambda t: 0.0, duration=301.0),
     r"measure\.duration: must be at most 300 s"),
    ("LMU theta as a string", lambda: LMU(8, 4, "0.1"), r"LMU\.theta: must be a finite number > 0"),
    ("fractional units", lambda: LMU(2.5, 4, 0.1), r"LMU\.units: must be an integer"),
    ("a negative rate scale", lambda: LMU(8, 4, 0.1, firing_rate_scale=-1), r"LMU\.firing_rate_scale: "),
    ("a nan hidden synapse", lambda: LMU(8, 4, 0.1, hidden_synapse=np.nan), r"LMU\.hidden_synapse: "),
    ("a kernel of the wrong shape", lambda: LMU(8, 4, 0.1, params={"W_m": np.zeros((3, 3))}), r"LMU\.params: W_m must have shape"),
    ("zero epochs", lambda: dl.fit(_lmu(), np.zeros((4, 10, 1)), np.zeros((4, 1)), epochs=0), r"fit\.epochs: "),
    ("nan training data", lambda: dl.fit(_lmu(), np.full((4, 10, 1), np.nan), np.zeros((4, 1))), r"x: contains NaN"),
    ("a zero simulator step", lambda: backends.simulator(nengo.Network(), dt=0), r"simulator\.dt: "),
    ("an unknown backend", lambda: backends.simulator(nengo.Network(), "gpu"), r"simulator\.backend: must be one of"),
]


@pytest.mark.parametrize("what, call, message", API, ids=[row[0] for row in API])
def test_api_misuse_names_the_parameter(what, call, message):
    with pytest.raises(ValidationError, match=message) as info:
        call()
    assert "str." not in str(info.value)  # never "str.theta": the owner is named


def test_loihi_simulator_refuses_a_zero_time_step():
    loihi = pytest.importorskip("nengo_lmu.loihi")
    with pytest.raises(ValidationError, match=r"Simulator\.dt: must be a finite number > 0"):
        loihi.Simulator(nengo.Network(), dt=0)


@pytest.mark.parametrize("make", [LegendreMemory, lambda *a, **k: LMU(8, *a[:2], **k)])
def test_a_failed_constructor_leaves_the_enclosing_network_unchanged(make):
    with nengo.Network() as net:
        with pytest.raises(ValidationError):
            make(4, "0.1", 100) if make is LegendreMemory else make(4, "0.1")
    assert net.networks == [] and net.all_objects == []


@pytest.mark.parametrize("dt", [0.002, 0.0005])
def test_a_simulator_step_other_than_the_memorys_is_refused(dt):
    with nengo.Network() as net:
        LegendreMemory(4, 0.1, 100, dt=0.001)
    with pytest.raises(ValidationError, match=rf"dt={dt:g} s differs from the dt=0.001 s"):
        nengo.Simulator(net, dt=dt, progress_bar=False)


# --- parameter files ------------------------------------------------------------------


def _copy_without(tmp_path, member):
    """The shipped trained network's file, less one member."""
    path = tmp_path / f"without-{member}.npz"
    with zipfile.ZipFile(TRAINED) as src, zipfile.ZipFile(path, "w") as dst:
        for info in src.infolist():
            if info.filename != f"{member}.npy":
                dst.writestr(info, src.read(info))
    return str(path)


@pytest.mark.parametrize("member", ["W_m", "b", "e_x", "W_o"])
def test_a_file_missing_a_parameter_is_refused(member, tmp_path):
    path = _copy_without(tmp_path, member)
    with pytest.raises(ValidationError, match=rf"{path}.*{member}"):
        LMU.load(path)


def test_a_file_with_only_a_signature_is_refused(tmp_path):
    path = tmp_path / "signature-only.npz"
    with zipfile.ZipFile(TRAINED) as src, zipfile.ZipFile(path, "w") as dst:
        for info in src.infolist():
            if info.filename.startswith("__"):
                dst.writestr(info, src.read(info))
    with pytest.raises(ValidationError, match=str(path)):
        LMU.load(str(path))


def test_a_file_from_another_window_is_refused(tmp_path):
    saved = LMU.load(TRAINED)
    other = LMU(saved.units, saved.order, 2 * saved.theta, output_dimensions=1)
    with pytest.raises(ValidationError, match="theta"):
        other.load_params(TRAINED)


def test_saving_never_overwrites_unless_asked(tmp_path):
    lmu = _lmu()
    path = str(tmp_path / "params.npz")
    lmu.save_params(path)
    before = open(path, "rb").read()
    with pytest.raises(ValidationError, match="exists; pass overwrite=True"):
        _lmu(params={"b": np.ones(8)}).save_params(path)
    assert open(path, "rb").read() == before
    assert _lmu(params={"b": np.ones(8)}).save_params(path, new_name=True) == str(tmp_path / "params-1.npz")
    _lmu(params={"b": np.ones(8)}).save_params(path, overwrite=True)
    assert np.all(LMU.load(path).params["b"] == 1)


def test_a_save_interrupted_midway_leaves_the_previous_file(tmp_path, monkeypatch):
    lmu = _lmu()
    path = str(tmp_path / "params.npz")
    lmu.save_params(path)
    before = open(path, "rb").read()

    def dies_midway(f, **members):
        f.write(b"PK\x03\x04 half a zip")
        raise KeyboardInterrupt  # the process is killed while writing

    monkeypatch.setattr(np, "savez", dies_midway)
    with pytest.raises(KeyboardInterrupt):
        lmu.save_params(path, overwrite=True)
    assert open(path, "rb").read() == before
    assert os.listdir(tmp_path) == ["params.npz"]  # no temporary file left behind


def test_an_output_directory_that_cannot_be_written_is_refused_first(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    with pytest.raises(ValidationError, match="exists and is not a directory"):
        io.check_output_dir(blocker)
    with pytest.raises(ValidationError, match="cannot write into"):
        io.check_output_dir(blocker / "results")
