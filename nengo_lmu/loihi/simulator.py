"""The Loihi simulator: nengo-loihi's, built with nengo_lmu's rules and a faster emulator."""

import nengo_loihi

from .. import validation
from . import compat
from .build import make_model
from .emulator import FastEmulatorStep
from .resources import name_blocks

#: nengo-loihi's targets: the bit-true emulator, the emulator in floating point, a board
TARGETS = ("sim", "simreal", "loihi")


def check_target(target):
    """``target`` if it is one of :data:`TARGETS` that can run on this machine.

    Raises ``ValidationError`` (naming ``target``) for an unknown target, and an
    ``ImportError`` that says what to do for ``"loihi"`` without Intel's nxsdk: call it
    before any long work that the run would follow.
    """
    validation.choice(target, TARGETS, "target", where="Simulator")
    if target == "loihi" and not compat.HAS_NXSDK:
        raise ImportError(
            "target='loihi' needs Intel's nxsdk, which is missing (not importable) on "
            "this machine; target='sim' runs the same network on the nengo-loihi "
            "emulator, and hardware/README.md explains how to run on a board"
        )
    return target


class Simulator(nengo_loihi.Simulator):
    """``nengo_loihi.Simulator``, building ``network`` with nengo_lmu's Loihi rules.

    Nothing here changes nengo's or nengo-loihi's global defaults or builder registry:
    the rules (see :mod:`nengo_lmu.loihi`) come with the model from :func:`make_model`.

    Parameters
    ----------
    network : nengo.Network
        Any network; memories made with :func:`memory_options` are the accurate ones.
    target : {"sim", "simreal", "loihi"}
        ``"sim"``: the emulator, bit-true to the chip's integer arithmetic;
        ``"simreal"``: the emulator in floating point (no quantisation);
        ``"loihi"``: a Loihi board, through nxsdk.
    dt : float
        Time step, in seconds, > 0. Memories must have been made for this ``dt``.
    precompute : bool or None
        Run host inputs ahead of the chip when they do not depend on its output
        (much faster). None: whenever possible.
    progress_bar : None or False
        nengo-loihi has no progress bar; anything true is ignored.
    remove_passthrough : bool
        nengo-loihi's option to compile passthrough nodes away. Off by default: with
        it, a probed passthrough node with no outgoing connection (such as a memory's
        ``output``) silently loses its input in nengo-loihi 1.1, and a memory built
        with ``weights=True`` has no passthrough node inside its on-chip loop anyway.
    fast_emulator : bool
        On the emulator, route spikes with :class:`FastEmulatorStep` (same arithmetic,
        several times faster). ``sim.fast_emulator`` says whether it was used.
    input_ranges : dict or None
        ``{connection: k}``: host-to-chip connections into neurons whose input reaches
        ``k`` (a number or one per dimension) in absolute value, so that nengo-loihi's
        one-spike-per-step input encoders do not saturate past 1; see
        :func:`lmu_input_ranges` for an :class:`~nengo_lmu.lmu.LMU`. Memories made
        with :func:`memory_options` get theirs from their input statistics.
    **kwargs
        Passed to ``nengo_loihi.Simulator`` (``seed``, ``hardware_options``, ...).

    Attributes
    ----------
    fast_emulator : bool
        Whether the emulator steps with :class:`FastEmulatorStep`.
    """

    def __init__(
        self,
        network,
        target="sim",
        dt=0.001,
        precompute=None,
        progress_bar=None,
        remove_passthrough=False,
        fast_emulator=True,
        input_ranges=None,
        **kwargs,
    ):
        # nengo_loihi.Simulator.__del__ reads this, also when a check below fails
        self.closed = True
        check_target(target)
        dt = validation.positive(dt, "dt", type(self))
        model = make_model(network, dt=dt, input_ranges=input_ranges)
        name_blocks(model, network)  # so that resources(sim) reads this very build
        # nengo-loihi's "tau_s is already set" warnings are kept: they mean that a block
        # gets inputs with different synapses, and all of them will use the longest
        super().__init__(
            network,
            dt=dt,
            target=target,
            model=model,
            precompute=precompute,
            remove_passthrough=remove_passthrough,
            **kwargs,
        )
        emulator = self.sims.get("emulator")
        self.fast_emulator = bool(
            fast_emulator and emulator is not None and FastEmulatorStep.attach(emulator)
        )
