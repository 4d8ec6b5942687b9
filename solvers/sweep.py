"""Batched sweeps over many parameter sets, in fixed-size chunks.

``sweep(model, times, samples)`` evaluates a model for N parameter sets by calling the
vmapped :func:`~solvers.simulate.simulate` on chunks of ``chunk_size`` members. Every chunk
has the same shape (the last one is padded by repeating its final member, and the padding
is dropped), so one compiled function serves the whole sweep, and only the requested
outputs are kept, so memory grows with N times the kept outputs, not with the solver's
internal state. Failed members never poison the others: they are reported by index with
their reason, and their outputs are NaN.
"""

from __future__ import annotations

import sys
import warnings
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import jax.numpy as jnp
import numpy as np
from jaxtyping import ArrayLike

from models.base import Model

from .regimen import Regimen
from .simulate import STATUS, simulate

__all__ = ["SweepResult", "sweep"]


class SweepResult:
    """Outputs of a sweep: ``result["C"]`` has shape ``(N, len(times), ...)``.

    Attributes:
        times: the save times.
        code: per-member status code (index into :data:`~solvers.simulate.STATUS`).
        outputs: ``{name: array}`` of the kept states, inputs or observables.
    """

    def __init__(self, times: np.ndarray, outputs: dict[str, np.ndarray], code: np.ndarray):
        self.times, self.outputs, self.code = times, outputs, code

    def __getitem__(self, name: str) -> np.ndarray:
        try:
            return self.outputs[name]
        except KeyError:
            raise KeyError(f"{name!r} was not kept; kept: {list(self.outputs)}") from None

    @property
    def ok(self) -> np.ndarray:
        return self.code == 0

    @property
    def status(self) -> np.ndarray:
        return np.asarray(STATUS, dtype=object)[self.code]

    def failures(self) -> list[tuple[int, str]]:
        """``[(member index, reason), ...]`` of the members whose solve failed."""
        return [(int(i), STATUS[int(self.code[i])]) for i in np.flatnonzero(self.code)]


def _values(model: Model, samples) -> np.ndarray:
    """An ``(N, n_params)`` matrix from a ``{name: (N,) values}`` mapping or a matrix."""
    if isinstance(samples, Mapping):
        lengths = {k: np.shape(v)[0] for k, v in samples.items() if np.ndim(v) >= 1}
        if not lengths or len(set(lengths.values())) != 1:
            raise ValueError(f"samples must give every parameter the same number of values; got {lengths}")
        n = next(iter(lengths.values()))
        batch = model.params.replace(**{k: jnp.broadcast_to(jnp.asarray(v, dtype=jnp.float64), (n,) + np.shape(v)[1:])
                                        for k, v in samples.items()})
        return np.asarray(batch.values)
    values = np.asarray(samples, dtype=np.float64)
    model.params.with_values(values)  # checks shape and bounds, naming the bad value
    if values.ndim != 2:
        raise ValueError(f"samples must be a mapping or an (N, {model.params.values.shape[-1]}) matrix")
    return values


def sweep(
    model: Model,
    times: ArrayLike,
    samples: Mapping[str, ArrayLike] | ArrayLike,
    regimen: Regimen | None = None,
    *,
    keep: Sequence[str] | None = None,
    chunk_size: int = 256,
    progress: bool = False,
    on_chunk: Callable[[int, SweepResult], Any] | None = None,
    **solve_options,
) -> SweepResult:
    """Evaluate ``model`` at ``times`` for every parameter set in ``samples``.

    Args:
        model, times, regimen: as for :func:`~solvers.simulate.simulate` (one regimen for
            all members).
        samples: ``{parameter name: N values}`` (other parameters keep their defaults) or
            an ``(N, n_params)`` matrix of full parameter vectors.
        keep: names of states, inputs or observables to keep (default: every observable,
            or every state when the model declares none).
        chunk_size: members per compiled batch (memory per chunk ~ chunk_size x outputs).
        progress: print ``chunk i/n`` to stderr.
        on_chunk: called as ``on_chunk(start_index, chunk_result)`` after each chunk, e.g.
            to write results to disk as they are produced.
        **solve_options: ``solver``, ``rtol``, ``atol``, ``max_steps`` ... of ``simulate``.

    Returns:
        A :class:`SweepResult`; failed members are listed by ``failures()`` (never raised)
        and their outputs are NaN.
    """
    if not (isinstance(chunk_size, int) and chunk_size >= 1):
        raise ValueError(f"chunk_size must be a positive integer; got {chunk_size!r}")
    values = _values(model, samples)
    n = values.shape[0]
    keep = tuple(keep) if keep is not None else (model.observable_names or model.state_names)
    n_chunks = -(-n // chunk_size)
    outputs: dict[str, list[np.ndarray]] = {k: [] for k in keep}
    codes = []
    for c in range(n_chunks):
        chunk = values[c * chunk_size:(c + 1) * chunk_size]
        real = chunk.shape[0]
        if real < chunk_size:  # pad with the last member: same shape, same compiled function
            chunk = np.concatenate([chunk, np.repeat(chunk[-1:], chunk_size - real, axis=0)])
        with warnings.catch_warnings():  # failures are collected and reported by member index below
            warnings.filterwarnings("ignore", message=".*trajectories failed", category=RuntimeWarning)
            sol = simulate(model, times, params=chunk, regimen=regimen, throw=False, **solve_options)
        part = {k: np.asarray(sol[k])[:real] for k in keep}
        code = np.asarray(sol.code)[:real]
        for k in keep:
            outputs[k].append(part[k])
        codes.append(code)
        if on_chunk is not None:
            on_chunk(c * chunk_size, SweepResult(np.asarray(sol.ts), part, code))
        if progress:
            print(f"sweep {model.name}: chunk {c + 1}/{n_chunks}", file=sys.stderr)
    return SweepResult(np.asarray(times, dtype=float), {k: np.concatenate(v) for k, v in outputs.items()},
                       np.concatenate(codes))
