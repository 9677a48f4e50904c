"""Constructor arguments that make a Legendre memory accurate on Loihi."""

import math

import nengo
import numpy as np

from .. import networks, validation

#: the largest value of the chip's 12-bit decay registers
MAX_DECAY = 2**12 - 1

#: a Loihi neuron fires at most once per time step (its inter-spike interval is a whole
#: number of steps)
MAX_SPIKES_PER_STEP = 1

#: steps by which a network with its memory on the host and its hidden layer on the chip
#: answers later than the trained network (the first response of its output to an input
#: impulse, measured on the emulator by tests/test_loihi.py): host-to-chip spikes, the
#: chip's input synapse, chip-to-host; ``dl.Hardware(delay_steps=...)`` trains for it
HOST_MEMORY_LAG_STEPS = 3


def chip_neuron_type(neuron_type):
    """The nengo-loihi type that runs ``neuron_type`` on the chip, with the chip's rate curve.

    ``RectifiedLinear`` and ``SpikingRectifiedLinear`` become
    ``nengo_loihi.LoihiSpikingRectifiedLinear``; ``LIFRate`` and ``LIF`` become
    ``nengo_loihi.LoihiLIF`` with the same ``tau_rc`` and ``tau_ref``. Their ``rates`` are
    the chip's: a whole number of steps between spikes (at most one spike per step), so
    the rate is a staircase of the current, not the smooth curve of the nengo type. Under
    NengoDL they train with that staircase forward and the smooth curve's gradient
    (nengo-extras' builders). Raises ``ValidationError`` for a type the chip cannot run.
    """
    from nengo_loihi import LoihiLIF, LoihiSpikingRectifiedLinear

    if isinstance(neuron_type, (LoihiLIF, LoihiSpikingRectifiedLinear)):
        return neuron_type
    if isinstance(neuron_type, (nengo.RectifiedLinear, nengo.SpikingRectifiedLinear)):
        return LoihiSpikingRectifiedLinear(amplitude=neuron_type.amplitude)
    if isinstance(neuron_type, (nengo.LIFRate, nengo.LIF)):
        return LoihiLIF(tau_rc=neuron_type.tau_rc, tau_ref=neuron_type.tau_ref, amplitude=neuron_type.amplitude)
    raise validation.error(
        f"Loihi runs ReLU and LIF neurons only (got {neuron_type}); train with nengo.RectifiedLinear() "
        "or nengo.LIFRate()",
        "neuron_type",
        where="chip_neuron_type",
    )


def chip_synapse_decay(tau, dt=0.001):
    """The per-step decay of a Lowpass synapse ``tau`` as the chip implements it.

    nengo-loihi stores ``1 - exp(-dt / tau)`` in a 12-bit register and the chip decays
    the synaptic current as ``u[k] = u[k-1] * (4095 - decay_u) / 4096`` (see
    ``nengo_loihi.builder.discretize``); this is that ratio, to pass as
    ``LegendreMemory(synapse_decay=...)``.

    Parameters
    ----------
    tau : float
        Synapse time constant in seconds, > 0.
    dt : float
        Time step in seconds, > 0.

    Returns
    -------
    float
        ``a`` in ``u[k] = a u[k-1] + (1 - a) x[k]``.
    """
    tau = validation.positive(tau, "tau", where="chip_synapse_decay")
    dt = validation.positive(dt, "dt", where="chip_synapse_decay")
    decay_u = float(np.clip(np.round(-math.expm1(-dt / tau) * MAX_DECAY - 1), 0, MAX_DECAY))
    return (MAX_DECAY - decay_u) / (MAX_DECAY + 1)


def longest_synapse(dt=0.001):
    """The longest Lowpass time constant (s) the chip implements at time step ``dt``.

    The chip's slowest synaptic decay is its 12-bit register at 0, ``u[k] = u[k-1] *
    4095 / 4096`` (:func:`chip_synapse_decay` of any longer ``tau``); that is a time
    constant of about ``4096 dt``. nengo-loihi refuses a ``tau`` much longer than that
    ("Current (U) scaling is required").
    """
    dt = validation.positive(dt, "dt", where="longest_synapse")
    return -dt / math.log(MAX_DECAY / (MAX_DECAY + 1))


def memory_options(neuron_type="loihi-lif", gain=5.0, intercepts=(-0.5, 0.9), **overrides):
    """Constructor arguments that make a ``LegendreMemory`` accurate on Loihi.

    Parameters
    ----------
    neuron_type : NeuronType or str
        A type the chip runs: ``"loihi-lif"`` (``nengo_loihi.LoihiLIF``, the default)
        or ``"loihi-relu"``. On ``nengo.Simulator`` these types reproduce the chip's
        rate quantisation, so the reference run is the same network.
    gain : float
        The one gain of every neuron (per ensemble, through ``ensemble_kwargs``).
        The chip quantises all the weights into a core on one grid, whose step is set
        by the core's largest bias; weights are proportional to the post neuron's gain,
        so a spread of gains leaves the low-gain neurons with weights that round to
        nothing. A constant gain keeps every neuron's weights on the same footing.
    intercepts : (low, high)
        Intercepts are uniform over this range (through the biases). A narrow range
        of mostly positive intercepts keeps the biases, hence the weight grid, small
        and the spike counts (which set how small each weight is) moderate.
    **overrides
        Any other ``LegendreMemory`` argument; these win. ``ensemble_kwargs`` are
        merged into the ones made here.

    Returns
    -------
    dict
        ``neuron_type``, ``weights=True`` (neuron-to-neuron recurrence: no decode
        neurons), ``synapse_decay=chip_synapse_decay`` (mapping for the chip's decay),
        ``feedthrough=False`` (the input then reaches the host only through the chip,
        so nengo-loihi can precompute it), ``n_std=2.0`` (each coefficient's
        radius is 2 standard deviations: with these neurons that measured lower error
        than 2.5, where spike noise is larger relative to the signal, or 1.5, where the
        state saturates) and ``ensemble_kwargs``.
    """
    neuron_type = networks.neuron_type_from_name(neuron_type)
    gain = validation.positive(gain, "gain", where="memory_options")
    try:
        low, high = (float(v) for v in intercepts)
    except (TypeError, ValueError):
        low = high = None
    if low is None or not -1 <= low < high < 1:
        raise validation.error(
            f"must be a pair (low, high) with -1 <= low < high < 1 (got {intercepts!r})",
            "intercepts",
            where="memory_options",
        )
    # the input current at which a neuron starts firing: 1 for LIF types, 0 for ReLU
    threshold = 1.0 if isinstance(neuron_type, (nengo.LIF, nengo.LIFRate)) else 0.0
    ensemble_kwargs = {
        "gain": nengo.dists.Choice([gain]),
        "bias": nengo.dists.Uniform(threshold - high * gain, threshold - low * gain),
    }
    ensemble_kwargs.update(overrides.pop("ensemble_kwargs", None) or {})
    options = {
        "neuron_type": neuron_type,
        "weights": True,
        "synapse_decay": chip_synapse_decay,
        "feedthrough": False,
        "n_std": 2.0,
        "ensemble_kwargs": ensemble_kwargs,
    }
    options.update(overrides)
    return options


class LegendreMemory(networks.LegendreMemory):
    """A :class:`nengo_lmu.networks.LegendreMemory` whose defaults are :func:`memory_options`.

    The same network (and wiring) as on every other backend; only the constructor's
    defaults differ. Keyword arguments override them: those of :func:`memory_options`
    (``neuron_type``, ``gain``, ``intercepts``), ``ensemble_kwargs`` (merged into the
    options' ones) and any other ``LegendreMemory`` argument.
    """

    #: arguments that go through memory_options(); the others override its result
    _OPTION_NAMES = ("neuron_type", "gain", "intercepts", "ensemble_kwargs")

    def __init__(self, order, theta, n_neurons=None, **kwargs):
        options = memory_options(**{k: kwargs.pop(k) for k in self._OPTION_NAMES if k in kwargs})
        options.update(kwargs)
        super().__init__(order, theta, n_neurons, **options)
