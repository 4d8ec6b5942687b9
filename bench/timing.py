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


def scale_rel_err(x: np.ndarray, ref: np.ndarray) -> float:
    """Worst state of max_t |x - ref| / max_t |ref|; arrays (..., time, state)."""
    x, ref = np.asarray(x), np.asarray(ref)
    scale = np.maximum(np.max(np.abs(ref), axis=-2, keepdims=True), 1e-300)
    return float(np.max(np.abs(x - ref) / scale))
