"""Benchmark: divisions as products with reciprocals (``SolverOptions.reciprocals``, the
default) against the model's plain divisions (``reciprocals=False``), on the full model of
bench_full.py (breast cascade + bone vicious cycle + denosumab + zoledronic acid, five
years, denosumab 120 mg Q4W, rtol 1e-6, atol 1e-9).

Both settings are compiled in one process and timed in alternating rounds (the order
flips every round, so drift in the machine's speed hits both alike); each round times:

* one forward solve of bench_full's fitting loss, at the first perturbed parameter set
  (wall and process CPU time: XLA may spread a large fusion over both cores);
* its gradient with respect to all parameters there (reverse mode);
* a vmapped sweep of ``--batch`` perturbed parameter sets (bench_full's perturbations).

It prints medians and the ratio reciprocals / plain for each, and the largest relative
difference between the two settings' losses, gradients and sweep outputs.

    .venv/bin/python bench/bench_reciprocal.py              # 8 rounds, batch 64 (~5 min on 2 cores)
    SEEDSOIL_BENCH_MODEL=bone-drugs .venv/bin/python bench/bench_reciprocal.py
"""

from __future__ import annotations

import argparse
import sys
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402

from bench import bench_full as B  # noqa: E402
from bench.timing import alternating_medians  # noqa: E402
from seedsoil.solvers import simulate  # noqa: E402

SETTINGS = {"reciprocals": True, "plain division": False}


def build(reciprocals: bool, target: np.ndarray):
    """The fitting loss, its gradient and a batched solve with one setting, compiled."""
    t_log, t_vol = jnp.log10(1.0 + target[:, 0]), jnp.asarray(target[:, 1])
    opts = dict(regimen=B.REGIMEN, rtol=B.RTOL, atol=B.ATOL, throw=False, reciprocals=reciprocals)
    times = jnp.asarray(B.TIMES)

    @jax.jit
    def loss(values):
        sol = simulate(B.MODEL, times, params=values, **opts)
        return jnp.sum((jnp.log10(1.0 + B.burden(sol)) - t_log) ** 2) + jnp.sum(((sol[B.OUT[1]] - t_vol) / 10.0) ** 2)

    @jax.jit
    def batch(values):
        sol = simulate(B.MODEL, times, params=values, **opts)
        return jnp.stack([B.burden(sol), sol[B.OUT[1]], sol[B.OUT[2]]], -1)

    return {"forward": loss, "gradient": jax.jit(jax.grad(loss)), "sweep": batch}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rounds", type=int, default=8)
    ap.add_argument("--batch", type=int, default=64)
    a = ap.parse_args()

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        target = B.outputs(B.solve())
    vb = jnp.asarray(B.perturbed_values(a.batch))
    v1 = vb[0]  # a perturbed set: at the defaults the loss and its gradient are zero
    inputs = {"forward": v1, "gradient": v1, "sweep": vb}
    fns = {name: build(flag, target) for name, flag in SETTINGS.items()}
    first = {name: {k: np.asarray(f(inputs[k])) for k, f in fs.items()} for name, fs in fns.items()}  # compile

    arms = {name: {k: (lambda f=f, x=inputs[k]: jax.block_until_ready(f(x))) for k, f in fs.items()}
            for name, fs in fns.items()}
    wall, cpu = alternating_medians(arms, a.rounds)

    print(f"# {B.MODEL.name}: {a.rounds} alternating rounds, sweep of {a.batch}; {jax.devices()[0].device_kind}, "
          f"jax {jax.__version__}")
    print("| measure | reciprocals (ms) | plain division (ms) | ratio |")
    print("|---|---:|---:|---:|")
    for k in inputs:
        per = a.batch if k == "sweep" else 1
        for label, d in (("wall", wall), ("CPU", cpu)):
            r_, p_ = (d[name][k] / per * 1e3 for name in SETTINGS)
            unit = " per member" if per > 1 else ""
            print(f"| {k}{unit}, {label} | {r_:.3g} | {p_:.3g} | {r_ / p_:.3f} |")
    gr = {name: wall[name]["gradient"] / wall[name]["forward"] for name in SETTINGS}
    print(f"| gradient / forward | {gr['reciprocals']:.3g} | {gr['plain division']:.3g} | |")
    for k in inputs:
        x, y = first["reciprocals"][k], first["plain division"][k]
        err = float(np.max(np.abs(x - y)) / max(float(np.max(np.abs(y))), 1e-300))
        print(f"# {k}: largest difference between the settings, relative to the largest value: {err:.2g}")


if __name__ == "__main__":
    main()
