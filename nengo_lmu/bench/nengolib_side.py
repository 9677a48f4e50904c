"""The nengolib side of :mod:`nengo_lmu.bench.against_nengolib`.

Run by the python of a separate nengolib environment (nengo 2.8, nengolib 0.5.2), never
imported by nengo_lmu: it imports only numpy, nengo and nengolib. Usage::

    python nengolib_side.py jobs.json

``jobs.json`` is ``{"jobs": [job, ...]}``; each job is a dict with ``id``, ``input`` (path
of a ``.npy`` of the input samples, one per ``dt``), ``order``, ``n_neurons``, ``theta``,
``high``, ``rms``, ``period`` (the ``WhiteSignal`` statistics that produced the input,
described to ``RollingWindow`` as its ``process``), ``dt``, ``seed`` and ``output`` (path
of the ``.npy`` to write: the ``RollingWindow`` output probed through a 10 ms lowpass).
The metric is computed by the caller, with the same code as for nengo_lmu's side.
One line of JSON per finished job goes to stdout.
"""

import json
import sys
import time

import numpy as np


def run_job(job):
    import nengo
    from nengolib.networks import RollingWindow

    u = np.load(job["input"]).astype(float).ravel()
    dt = float(job["dt"])
    n = len(u)
    process = nengo.processes.WhiteSignal(
        float(job["period"]), high=float(job["high"]), rms=float(job["rms"]), seed=int(job.get("signal_seed", 1))
    )

    def present(t):
        return u[min(max(int(round(t / dt)) - 1, 0), n - 1)]

    with nengo.Network(seed=int(job["seed"])) as model:
        stim = nengo.Node(present)
        rw = RollingWindow(
            theta=float(job["theta"]),
            n_neurons=int(job["n_neurons"]),
            process=process,
            dimensions=int(job["order"]),
            dt=dt,
            neuron_type=nengo.LIF(),
        )
        nengo.Connection(stim, rw.input, synapse=None)
        probe = nengo.Probe(rw.output, synapse=float(job.get("probe_synapse", 0.01)))
    t0 = time.time()
    with nengo.Simulator(model, dt=dt, progress_bar=False) as sim:
        t1 = time.time()
        sim.run_steps(n)
    t2 = time.time()
    np.save(job["output"], sim.data[probe][:, 0])
    return {"id": job["id"], "build_s": t1 - t0, "run_s": t2 - t1, "nengo": nengo.__version__}


def main(argv):
    import nengolib

    with open(argv[1]) as f:
        jobs = json.load(f)["jobs"]
    for job in jobs:
        result = run_job(job)
        result["nengolib"] = nengolib.__version__
        print(json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
