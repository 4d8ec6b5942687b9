"""Timing and accuracy helpers shared by the benchmarks."""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
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


def run_staged(code: str, cwd, limit_s: float, env: dict | None = None) -> dict:
    """Run ``code`` in a fresh Python process that prints one JSON object per stage reached
    (the last line is the result). Returns that last object; if the process fails or runs
    past ``limit_s`` seconds, the last stage it reached with ``stage`` set to ``"failed"``
    or ``"timeout"`` and ``why`` saying what happened, instead of raising or hanging."""
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", **(env or {})}

    def last(out: str) -> dict:
        return json.loads(out.strip().splitlines()[-1]) if out.strip() else {}

    try:
        res = subprocess.run([sys.executable, "-c", code], cwd=cwd, capture_output=True, text=True,
                             timeout=limit_s, env=env)
    except subprocess.TimeoutExpired as exc:
        out = exc.stdout.decode() if isinstance(exc.stdout, bytes) else (exc.stdout or "")
        stage = last(out)
        return dict(stage, stage="timeout", why=f"did not finish within {limit_s:.0f} s after stage "
                                                f"'{stage.get('stage', 'start')}'")
    if res.returncode != 0:
        return dict(last(res.stdout), stage="failed", why=(res.stderr.strip().splitlines()[-1][:300]
                                                           if res.stderr.strip()
                                                           else f"exit code {res.returncode}, no message"))
    return last(res.stdout)
