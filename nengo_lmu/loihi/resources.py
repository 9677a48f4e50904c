"""What a network needs on Loihi cores, without running it, as a table read at a glance."""

import re
import textwrap
import warnings
from collections import OrderedDict

import nengo

from .. import validation
from . import compat
from .build import make_model

#: cores on one Loihi chip (nengo-loihi's allocators place one block per core)
CORES_PER_CHIP = 128

#: each core's limits, under nengo-loihi's names (``synapses`` counts bits of memory)
LIMITS = OrderedDict(
    [
        ("compartments", compat.MAX_COMPARTMENTS),
        ("in-axons", compat.MAX_IN_AXONS),
        ("out-axons", compat.MAX_OUT_AXONS),
        ("synapses", compat.MAX_SYNAPSE_BITS),
    ]
)

#: each resource as the report names it, in the table's heading and its limits line alike
RESOURCE_NAMES = OrderedDict(
    [
        ("compartments", "compartments"),
        ("in-axons", "in-axons"),
        ("out-axons", "out-axons"),
        ("synapses", "synapse bits"),
    ]
)

#: what each kind of block (one per core) is for; nengo-loihi adds the last two itself
BLOCK_KINDS = OrderedDict(
    [
        ("neurons", "an ensemble's neurons, one compartment each"),
        (
            "to host",
            "a value the host reads from the chip every step (a connection or probe from "
            "an ensemble on the chip to the host): 2 non-spiking compartments per "
            "dimension, holding its positive and negative parts",
        ),
        (
            "decode",
            "spiking on/off decode neurons carrying a decoded value from one ensemble to "
            "another on the chip (a decoded connection; weights=True avoids them)",
        ),
        ("other", "a block nengo-loihi made for another purpose"),
    ]
)


def resources(network, dt=0.001, cores_per_chip=CORES_PER_CHIP, remove_passthrough=False, input_ranges=None):
    """What ``network`` needs on Loihi, without running it; or what a built simulator uses.

    ``network`` is a ``nengo.Network``, built here the way
    :class:`~nengo_lmu.loihi.Simulator` builds it (including nengo-loihi's splitting of
    large blocks over cores), or an already built :class:`~nengo_lmu.loihi.Simulator`,
    whose own model is read (no second build; the other arguments are then unused).

    Returns
    -------
    Resources
        ``blocks`` (one row per core: a short ``label`` naming the nengo object the
        block was built for, its ``kind`` (see ``BLOCK_KINDS``), compartments, in-axons,
        out-axons, synapses (bits of synapse memory), and ``overflow``, the limits it
        exceeds), ``total``, ``cores``, ``chips`` and ``fits`` (on one chip).
        ``str()`` gives a table.
    """
    if isinstance(network, nengo.Network):
        model = make_model(network, dt=dt, input_ranges=input_ranges)
        model.validation_level = compat.ValidationLevel.NONE
        namer = name_blocks(model, network)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model.build(network, discretize=False, remove_passthrough=remove_passthrough)
    else:
        model = getattr(network, "model", None)
        namer = getattr(model, "nengo_lmu_block_namer", None)
        if namer is None:
            raise validation.error(
                f"must be a nengo.Network or a built nengo_lmu.loihi.Simulator (got {network!r})",
                "network",
                where="resources",
            )
    rows = []
    for block, (label, kind) in zip(model.blocks, namer.labels(model.blocks)):
        use = block.utilization()
        row = OrderedDict(label=label, kind=kind)
        row.update((k, int(v[0])) for k, v in use.items())
        row["overflow"] = [k for k, v in use.items() if v[0] > v[1]]
        rows.append(row)
    return Resources(rows, cores_per_chip)


def name_blocks(model, network):
    """Name ``model``'s blocks after ``network``'s objects as they are built (see
    :class:`_BlockNamer`); kept as ``model.nengo_lmu_block_namer`` for :func:`resources`."""
    namer = _BlockNamer(model, network)
    previous = model.build_callback

    def build_callback(obj):
        if previous is not None:
            previous(obj)
        namer.built(obj)

    model.build_callback = build_callback
    model.nengo_lmu_block_namer = namer
    return namer


def object_names(network):
    """``{object: short name}`` for the ensembles, nodes and probes in ``network``.

    An object is named by the attribute of its network that holds it (``lmu.hidden``:
    "hidden"), else by its label, else by its type; objects in subnetworks are prefixed
    by the subnetwork's name, found the same way ("memory x[3]").
    """
    names = {}

    def visit(net, prefix):
        attributes = {
            id(value): key
            for key, value in vars(net).items()
            if not key.startswith("_") and isinstance(value, (nengo.base.NengoObject, nengo.Network))
        }
        for obj in net.ensembles + net.nodes + net.probes:
            names[obj] = prefix + (attributes.get(id(obj)) or obj.label or type(obj).__name__.lower())
        for sub in net.networks:
            own = attributes.get(id(sub)) or sub.label
            visit(sub, f"{prefix}{own} " if own else prefix)

    visit(network, "")
    return names


class _BlockNamer:
    """Names each block after the object of ``network`` whose build made it.

    nengo-loihi labels a block with ``str()`` of an internal object (for example
    ``<Connection from <Ensemble 'x[0]'> to <Node (unlabeled) at 0x...>>``). A build
    callback sees every object that is built; the blocks added since the previous object
    of ``network`` belong to this one, and get its short name as their label, so that
    nengo-loihi's splitting labels their pieces ``name[indices]``.
    """

    def __init__(self, model, network):
        self.model = model
        self.names = object_names(network)
        named = (nengo.Ensemble, nengo.Connection, nengo.Probe)
        self.objects = {obj for obj in network.all_objects if isinstance(obj, named)}
        self.kinds = {}  # label given -> kind
        self.n_named = 0

    def built(self, obj):
        if obj not in self.objects:
            return  # made by nengo-loihi while building one of the network's objects
        for block in list(self.model.blocks)[self.n_named:]:
            label = self._unique(self._name(obj))
            block.label = label
            self.kinds[label] = self._kind(obj)
        self.n_named = len(self.model.blocks)

    def _name(self, obj):
        if isinstance(obj, nengo.Connection):
            return f"{self._name(obj.pre_obj)} -> {self._name(obj.post_obj)}"
        if isinstance(obj, nengo.Probe):
            return f"probe of {self._name(obj.obj)}"
        if isinstance(obj, nengo.ensemble.Neurons):
            return f"{self._name(obj.ensemble)} neurons"
        return self.names.get(obj, type(obj).__name__.lower())

    def _unique(self, label):
        n = 1
        unique = label
        while unique in self.kinds:
            n += 1
            unique = f"{label} #{n}"
        return unique

    def _kind(self, obj):
        if isinstance(obj, nengo.Ensemble):
            return "neurons"
        if isinstance(obj, nengo.Probe):
            return "to host"
        post = compat.base_obj(obj.post)
        if isinstance(post, (nengo.Ensemble, nengo.Node)) and not self.model.split.on_chip(post):
            return "to host"
        if isinstance(obj.pre_obj, nengo.Ensemble) and isinstance(obj.post_obj, nengo.Ensemble):
            return "decode"
        return "other"

    def labels(self, blocks):
        """``(label, kind)`` of each block; a split block's pieces are "name, core k/n"."""
        pieces = OrderedDict()  # name -> split pieces, in order
        for block in blocks:
            label = str(block.label)
            if label not in self.kinds:
                base = max((k for k in self.kinds if label.startswith(k + "[")), key=len, default=None)
                if base is not None:
                    pieces.setdefault(base, []).append(block)
        part = {block: (base, i + 1, len(p)) for base, p in pieces.items() for i, block in enumerate(p)}
        for block in blocks:
            if block in part:
                base, i, n = part[block]
                yield f"{base}, core {i}/{n}", self.kinds[base]
            elif str(block.label) in self.kinds:
                yield str(block.label), self.kinds[str(block.label)]
            else:  # not made for an object of the network: nengo-loihi's label, shortened
                yield re.sub(r" at 0x[0-9a-f]+|[<>]", "", str(block.label)), "other"


class Resources:
    """A network's use of Loihi cores; see :func:`resources`."""

    def __init__(self, blocks, cores_per_chip=CORES_PER_CHIP):
        self.blocks = blocks
        self.total = OrderedDict((k, sum(b[k] for b in blocks)) for k in LIMITS)
        self.cores = len(blocks)
        self.cores_per_chip = cores_per_chip
        self.chips = max(1, -(-self.cores // cores_per_chip))
        self.overflows = [b for b in blocks if b["overflow"]]
        self.fits = not self.overflows and self.cores <= cores_per_chip

    def kinds(self):
        """``{kind: what it is for}`` for the kinds of block used here (see ``BLOCK_KINDS``)."""
        used = {b.get("kind", "other") for b in self.blocks}
        return OrderedDict((k, v) for k, v in BLOCK_KINDS.items() if k in used)

    def as_dict(self):
        return {
            "cores": self.cores,
            "chips": self.chips,
            "fits_one_chip": self.fits,
            "total": dict(self.total),
            "limits_per_core": dict(LIMITS),
            "resource_names": dict(RESOURCE_NAMES),
            "block_kinds": dict(self.kinds()),
            "blocks": [dict(b) for b in self.blocks],
        }

    def __str__(self):
        width = max([len("block"), len("total")] + [len(b["label"]) for b in self.blocks])
        kind_width = max([len("kind")] + [len(b.get("kind", "")) for b in self.blocks])
        heads = list(RESOURCE_NAMES.values())

        def line(label, kind, counts, flag=""):
            cells = " ".join(f"{c:>{len(h)}}" for c, h in zip(counts, heads))
            return f"{label:{width}s}  {kind:{kind_width}s}  {cells}{flag}".rstrip()

        lines = [line("block", "kind", heads)]
        def exceeded(b):
            return ", ".join(RESOURCE_NAMES[k] for k in b["overflow"])

        for b in self.blocks:
            flag = f"  OVERFLOW: {exceeded(b)}" if b["overflow"] else ""
            lines.append(line(b["label"], b.get("kind", ""), [b[k] for k in LIMITS], flag))
        lines.append(line("total", "", list(self.total.values())))
        lines.append("per-core limits: " + ", ".join(f"{RESOURCE_NAMES[k]} {v}" for k, v in LIMITS.items()))
        for kind, purpose in self.kinds().items():
            lines.append(textwrap.fill(f"{kind}: {purpose}", 88, subsequent_indent="    "))
        if self.overflows:
            names = "; ".join(f"{b['label']} ({exceeded(b)})" for b in self.overflows)
            lines.append(f"does NOT fit: {len(self.overflows)} block(s) exceed a core: {names}")
        else:
            lines.append(
                f"{self.cores} cores on {self.chips} chip(s) of {self.cores_per_chip} cores: "
                + ("fits on one chip" if self.fits else f"needs {self.chips} chips")
            )
        return "\n".join(lines)
