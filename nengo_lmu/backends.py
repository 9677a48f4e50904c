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
