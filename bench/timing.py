"""Timing and accuracy helpers shared by the benchmarks."""

from __future__ import annotations

import statistics
import time

import numpy as np


def median_time(fn, repeats: int) -> tuple[float, object]:
    """Median wall time (s) of ``fn()`` over ``repeats`` calls, and the last result."""
    ts, out = [], None
    for _ in range(repeats):
        t = time.perf_counter()
        out = fn()
        ts.append(time.perf_counter() - t)
    return statistics.median(ts), out


def alternating_medians(arms: dict[str, dict[str, object]], rounds: int) -> tuple[dict, dict]:
    """Time every ``arms[name][measure]()`` once per round, the arms in order on even rounds
    and reversed on odd ones, so drift in the machine's speed hits them alike. Returns the
    median wall and process-CPU seconds, each as ``{name: {measure: s}}``. Each callable
    must block until its result is ready."""
    wall = {name: {k: [] for k in fs} for name, fs in arms.items()}
    cpu = {name: {k: [] for k in fs} for name, fs in arms.items()}
    for r in range(rounds):
        for name in (list(arms) if r % 2 == 0 else list(arms)[::-1]):
            for k, f in arms[name].items():
                t, c = time.perf_counter(), time.process_time()
                f()
                wall[name][k].append(time.perf_counter() - t)
                cpu[name][k].append(time.process_time() - c)
    med = lambda d: {n: {k: statistics.median(v) for k, v in m.items()} for n, m in d.items()}  # noqa: E731
    return med(wall), med(cpu)


def scale_rel_err(x: np.ndarray, ref: np.ndarray) -> float:
    """Worst state of max_t |x - ref| / max_t |ref|; arrays (..., time, state)."""
    x, ref = np.asarray(x), np.asarray(ref)
    scale = np.maximum(np.max(np.abs(ref), axis=-2, keepdims=True), 1e-300)
    return float(np.max(np.abs(x - ref) / scale))
