"""Loading and simulating an exported document with libroadrunner (CVODE)."""

from __future__ import annotations

import numpy as np

from ...models.base import Model, flat_labels
from ._document import _roles

_BACKENDS = {"mcjit": (0, None), "lljit": (1, 0)}  # Config.LLVM_BACKEND, LLJIT_OPTIMIZATION_LEVEL


def roadrunner_load(sbml: str, backend: str = "mcjit"):
    """A ``roadrunner.RoadRunner`` for an SBML document, compiled with the LLVM JIT ``backend``.

    ``"mcjit"`` is libroadrunner 2.10's default (what ``roadrunner.RoadRunner(sbml)``
    gives). ``"lljit"`` (LLVM ORC LLJIT, optimisation level 0) compiles large documents
    several times faster (the performance page of the docs gives the times for the full
    bone-metastasis model) at the same simulation speed, but has crashed (segmentation
    fault in ``RoadRunner.__init__``) in long-lived processes that had already compiled
    other models and JAX programs, such as pytest workers: use it in a fresh process, as
    the benchmark does. libroadrunner's configuration is process-wide: it is set for
    this load and restored after it.
    """
    import roadrunner

    if backend not in _BACKENDS:
        raise ValueError(f"backend must be one of {sorted(_BACKENDS)}; got {backend!r}")
    cfg = roadrunner.Config
    keys = (cfg.LLVM_BACKEND, cfg.LLJIT_OPTIMIZATION_LEVEL)
    saved = [cfg.getValue(k) for k in keys]
    try:
        for k, v in zip(keys, _BACKENDS[backend]):
            if v is not None:
                cfg.setValue(k, v)
        return roadrunner.RoadRunner(sbml)
    finally:
        for k, v in zip(keys, saved):
            cfg.setValue(k, v)


def roadrunner_simulate(
    sbml: str,
    times,
    *,
    model: Model | None = None,
    rtol: float = 1e-10,
    atol: float = 1e-14,
    max_steps: int = 10**6,
    backend: str = "mcjit",
) -> dict[str, np.ndarray]:
    """Simulate an exported document with libroadrunner (CVODE) at ``times`` (days).

    ``backend`` is the LLVM JIT that compiles the document (see :func:`roadrunner_load`).

    Returns ``{label: values at times}`` for every state, input and observable element
    (labelled as everywhere else: ``C``, ``D[bone]``, ``R[3]``), plus ``"time"``. With ``model`` given,
    array elements are reassembled: ``{name: (len(times), *shape)}`` for each state,
    input and observable of the model, as ``Solution[name]`` gives them.
    """
    times = np.asarray(times, dtype=float)
    roles = [r for r in _roles(sbml) if r[1] in ("state", "input", "observable")]
    rr = roadrunner_load(sbml, backend)
    rr.setIntegrator("cvode")
    rr.integrator.relative_tolerance = rtol
    rr.integrator.absolute_tolerance = atol
    rr.integrator.maximum_num_steps = max_steps
    out = np.asarray(rr.simulate(times=times.tolist(), selections=["time"] + [sid for sid, _, _ in roles]))
    res = {"time": out[:, 0]}
    for k, (_, _, label) in enumerate(roles):
        res[label] = out[:, k + 1]
    if model is None:
        return res
    full = {"time": res["time"]}
    for specs in (model.states, model.inputs, model.observable_specs):
        for s in specs:
            if s.shape == ():
                if s.name in res:
                    full[s.name] = res[s.name]
            else:
                cols = [res.get(label) for label in flat_labels([s])]
                if all(c is not None for c in cols):
                    full[s.name] = np.stack(cols, axis=-1).reshape((len(times),) + tuple(s.shape))
    return full
