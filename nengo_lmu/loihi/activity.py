"""What a run on the emulator did on the chip: synaptic operations, neuron updates, and an
energy estimate from them."""

#: Energy per operation on Loihi, in pJ, as quoted for Davies et al., "Loihi: A Neuromorphic
#: Manycore Processor with On-Chip Learning", IEEE Micro 38(1), 2018, Table 1: a synaptic
#: spike operation (one weight applied to a delivered spike) and an active neuron
#: (compartment) update. These figures were NOT checked against the paper's text here (no
#: copy was at hand); check them before quoting an estimate.
ENERGY_PJ = {"synaptic_op": 23.6, "neuron_update": 52.0}


def activity(sim):
    """Chip operations of a run of a :class:`~nengo_lmu.loihi.Simulator` on the emulator.

    Counted by :class:`~nengo_lmu.loihi.FastEmulatorStep` while the emulator ran.

    Returns
    -------
    dict or None
        ``steps``, ``synaptic_ops_per_step`` (weights applied to delivered spikes, from
        chip neurons and host inputs alike), ``neuron_updates_per_step`` (every
        compartment, every step: an upper bound, the chip spends less on idle ones) and
        ``energy_per_step_nj``, an ESTIMATE: those counts times :data:`ENERGY_PJ`, which
        leaves out static power, host I/O and the chip's spike routing between cores.
        None if the run was not counted (a board, or an emulator without the fast step).
    """
    step = getattr(sim.sims.get("emulator"), "step", None)
    if not hasattr(step, "synaptic_ops") or step.steps == 0:
        return None
    synops = step.synaptic_ops / step.steps
    updates = step.neuron_updates / step.steps
    return {
        "steps": step.steps,
        "synaptic_ops_per_step": synops,
        "neuron_updates_per_step": updates,
        "energy_per_step_nj": (synops * ENERGY_PJ["synaptic_op"] + updates * ENERGY_PJ["neuron_update"]) / 1e3,
        "energy_pj_per_op": dict(ENERGY_PJ),
        "energy_is": "an estimate from published per-operation figures (Davies et al., IEEE Micro 2018)",
    }
