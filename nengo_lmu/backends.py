"""One entry point for every simulator backend; each backend is imported only when used."""

from nengo.exceptions import ValidationError

BACKENDS = ("nengo", "dl", "loihi-sim", "loihi")


def simulator(network, backend="nengo", dt=0.001, progress_bar=False, **kwargs):
    """Build ``network`` on ``backend`` and return the simulator.

    Parameters
    ----------
    backend : {"nengo", "dl", "loihi-sim", "loihi"}
        ``nengo`` is the reference simulator, ``dl`` NengoDL, ``loihi-sim`` the
        nengo-loihi emulator and ``loihi`` the chip (needs nxsdk).
    """
    if backend not in BACKENDS:
        raise ValidationError(f"must be one of {BACKENDS} (got {backend!r})", "backend", "simulator")
    if backend == "nengo":
        import nengo

        return nengo.Simulator(network, dt=dt, progress_bar=progress_bar, **kwargs)
    if backend == "dl":
        import nengo_dl

        return nengo_dl.Simulator(network, dt=dt, progress_bar=progress_bar, **kwargs)
    from . import loihi

    target = "sim" if backend == "loihi-sim" else "loihi"
    return loihi.Simulator(network, target=target, dt=dt, progress_bar=progress_bar, **kwargs)


def run_steps(sim, n_steps, progress=False, desc=None, chunks=100):
    """``sim.run_steps(n_steps)`` in about ``chunks`` pieces, with a tqdm progress bar.

    Works for every backend (nengo-loihi has no progress bar of its own); with
    ``progress=False`` it is one ``run_steps`` call.
    """
    n_steps = int(n_steps)
    if not progress:
        sim.run_steps(n_steps)
        return
    from tqdm import tqdm

    chunk = max(1, -(-n_steps // chunks))
    with tqdm(total=n_steps, unit="step", desc=desc, leave=False) as bar:
        done = 0
        while done < n_steps:
            steps = min(chunk, n_steps - done)
            sim.run_steps(steps)
            done += steps
            bar.update(steps)
