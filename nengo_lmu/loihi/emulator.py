"""A faster step for nengo-loihi's emulator: same arithmetic, spikes routed in bulk."""

import numpy as np
import scipy.sparse


class FastEmulatorStep:
    """The nengo-loihi emulator's step, with spike routing as one sparse product.

    nengo-loihi's emulator delivers spikes one Python object at a time (a ``Spike``
    per spike per axon, then one fancy-indexed add each), which dominates its run
    time for recurrent weight matrices. All routing here is fixed after the build, so
    it folds into one sparse matrix from spiking compartments (and input axons) to
    the compartments they drive; the integer (or, for ``simreal``, float) sums are
    the same, and every other part of the step is nengo-loihi's own code.

    Only models without learning and without population (convolutional) axons are
    eligible; :meth:`attach` leaves other emulators unchanged and returns False.
    """

    def __init__(self, emulator):
        self.emulator = emulator
        info = emulator.block_info
        n = info.n_compartments
        dtype = np.int64 if info.dtype == np.int32 else np.float64
        slices = {syn: sl for syn, sl in emulator.synapses.items()}

        def routing(axons, n_sources, source_start):
            rows, cols, vals = [], [], []
            for axon in axons:
                syn = axon.target
                for c in range(n_sources):
                    a = axon.map_axon(np.array([c]))[0]
                    if a < 0:
                        continue
                    base = syn.axon_compartment_base(a)
                    if base is None:
                        continue
                    w, idx = syn.axon_weights_indices(a, atom=0)
                    rows.append(np.full(len(idx), source_start + c))
                    cols.append(slices[syn].start + base + idx)
                    vals.append(np.asarray(w, dtype=dtype))
            if not rows:
                return scipy.sparse.csr_matrix((n, max(n_sources + source_start, 1)), dtype=dtype)
            rows, cols, vals = (np.concatenate(x) for x in (rows, cols, vals))
            # (target, source): input = matrix @ spikes
            return scipy.sparse.csr_matrix(
                (vals, (cols, rows)), shape=(n, source_start + n_sources), dtype=dtype
            )

        recurrent = scipy.sparse.csr_matrix((n, n), dtype=dtype)
        for block, sl in info.slices.items():
            m = routing(block.axons, block.n_neurons, sl.start)
            m.resize((n, n))
            recurrent = recurrent + m
        self.n = n
        self.recurrent = recurrent.tocsc()
        # all host inputs in one matrix: input i's neurons are sources offsets[i]...
        self.input_offsets = np.cumsum([0] + [inp.n_neurons for inp in emulator.inputs])
        inputs = scipy.sparse.csr_matrix((n, max(self.input_offsets[-1], 1)), dtype=dtype)
        for inp, offset in zip(emulator.inputs, self.input_offsets):
            m = routing(inp.axons, inp.n_neurons, offset)
            m.resize(inputs.shape)
            inputs = inputs + m
        self.inputs = inputs.tocsc()
        self.dtype = info.dtype

    def _drive(self, matrix, sources):
        """``matrix[:, sources].sum(axis=1)``, summing only the stored entries needed."""
        starts = matrix.indptr[sources]
        lengths = matrix.indptr[np.asarray(sources) + 1] - starts
        total = lengths.sum()
        if total == 0:
            return 0
        offsets = np.repeat(starts - np.cumsum(lengths) + lengths, lengths)
        picked = offsets + np.arange(total)
        # float64 sums of integer weights are exact (far below 2**53)
        return np.bincount(
            matrix.indices[picked], weights=matrix.data[picked], minlength=self.n
        )

    @staticmethod
    def eligible(emulator):
        synapses = [s for s, _ in emulator.synapses.items()]
        axons = [a for a, _ in emulator.axons.items()]
        axons += [a for inp in emulator.inputs for a in inp.axons]
        return (
            all(not s.learning and s.pop_type == 0 for s in synapses)
            and all(a.compartment_atoms is None or not np.any(a.compartment_atoms) for a in axons)
            and all(hasattr(inp, "n_neurons") for inp in emulator.inputs)
        )

    @classmethod
    def attach(cls, emulator):
        """Replace ``emulator.step`` on this instance (not the class) if eligible."""
        if not cls.eligible(emulator):
            return False
        emulator.step = cls(emulator)
        return True

    def __call__(self):
        emu = self.emulator
        emu.t += 1
        comp = emu.compartment
        comp.advance_input()
        drive = self._drive(self.recurrent, np.flatnonzero(comp.spiked))
        if emu.t >= 2:  # input spikes take one time-step to arrive (as in nengo-loihi)
            sources = [
                offset + np.asarray(inp.spike_idxs(emu.t - 1), dtype=int)
                for inp, offset in zip(emu.inputs, self.input_offsets)
            ]
            if sources:
                drive = drive + self._drive(self.inputs, np.concatenate(sources))
        if not np.isscalar(drive):
            if self.dtype == np.int32:
                drive = drive.astype(np.int64)  # then wrap to int32 as the chip's sum would
            comp.input[0] += drive.astype(self.dtype)
        comp.update(emu.rng)
        emu.probes.update(emu.t, comp)
