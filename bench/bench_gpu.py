"""Benchmark on an accelerator (issue 6): the full model of bench_full.py (breast cascade +
bone vicious cycle + denosumab + zoledronic acid, five years, denosumab 120 mg Q4W, rtol
1e-6, atol 1e-9, 66 saves) swept over 10^5 .. 10^6 perturbed parameter sets on one GPU,
with the CPU peers measured in the same run on the same machine's CPU cores.

What runs, in one process, against a wall-clock budget (``--budget`` seconds; a stage that
would not fit is skipped and the table says so):

* header: the device as JAX names it, versions of jax, diffrax, equinox;
* in the background, on the CPU (children with ``JAX_PLATFORMS=cpu``, so they leave the GPU
  alone): scipy ``solve_ivp`` LSODA over ``--n-scipy`` sets (bench_full.scipy_solver), and
  libroadrunner CVODE Adams (its faster method on this model, see README) on the exported
  SBML over as many sets as ``--rr-budget`` seconds allow, when libroadrunner imports;
* seedsoil single trajectory on the GPU: first call (compile), then median of repeats;
* ``seedsoil.solvers.sweep`` with ``--chunk`` members per compiled ``vmap`` batch: one chunk (its
  first call: compile + solve), then each N of ``--batches`` whose predicted time (chunks x
  the last measured time of one chunk) fits in what is left of the budget; per-member
  time, members solved, peak GPU memory (``memory_stats``);
* accuracy: member 0 of the GPU sweep against scipy LSODA on the same parameter set (error
  relative to each output's range);
* the gradient of bench_full's fitting loss, as a multiple of one forward solve, if time
  is left.

    python bench/bench_gpu.py --batches 100000 1000000 --chunk 25000 --budget 330 --json out.json
    JAX_PLATFORMS=cpu python bench/bench_gpu.py --batches 64 --chunk 32 --budget 120   # dry run on a CPU
"""

from __future__ import annotations

import argparse
import importlib.metadata
import importlib.util
import json
import os
import subprocess
import sys
import textwrap
import threading
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402

from bench import bench_full as bf  # noqa: E402
from bench.timing import median_time, scale_rel_err  # noqa: E402
from seedsoil.solvers import sweep  # noqa: E402

_T0 = time.perf_counter()
CPU_ENV = {"JAX_PLATFORMS": "cpu", "TF_CPP_MIN_LOG_LEVEL": "3"}


def elapsed() -> float:
    return time.perf_counter() - _T0


def log(msg: str) -> None:
    print(f"[{elapsed():7.1f} s] {msg}", file=sys.stderr, flush=True)


def version(pkg: str) -> str:
    try:
        return importlib.metadata.version(pkg)
    except importlib.metadata.PackageNotFoundError:
        return "?"


SCIPY_CODE = """
import json, sys, time
import numpy as np
sys.path.insert(0, ".")
from bench import bench_full as bf
run = bf.scipy_solver("LSODA")
vals = bf.perturbed_values(N)
run(vals[0])  # jit the right-hand side once
t = time.perf_counter()
ys = [run(v) for v in vals]
dt = (time.perf_counter() - t) / len(vals)
ok = int(sum(np.isfinite(y).all() for y in ys))
print(json.dumps(dict(per_s=dt, ok=ok, n=len(vals), ys0=ys[0].tolist())))
"""


def scipy_peer(n: int, limit_s: float, result: dict) -> None:
    """scipy LSODA loop in a CPU child; fills ``result``."""
    code = textwrap.dedent(SCIPY_CODE).replace("N)", f"{int(n)})")
    try:
        res = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                             timeout=limit_s, env={**os.environ, **CPU_ENV})
        if res.returncode != 0:
            result.update(why=res.stderr.strip().splitlines()[-1][:300] if res.stderr else "failed")
        else:
            result.update(json.loads(res.stdout.strip().splitlines()[-1]))
    except subprocess.TimeoutExpired:
        result.update(why=f"did not finish within {limit_s:.0f} s")


def rr_peer(n: int, limit_s: float, budget_s: float, backend: str, result: dict) -> None:
    if importlib.util.find_spec("roadrunner") is None:
        result.update(stage="skipped", why="libroadrunner not installed")
        return
    result.update(bf.roadrunner_bench(n, limit_s, budget_s, backend, modes=("Adams",), env=CPU_ENV))


def gpu_peak_mb() -> float | None:
    stats = jax.devices()[0].memory_stats() or {}
    peak = stats.get("peak_bytes_in_use")
    return None if peak is None else peak / 2**20


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--batches", type=int, nargs="*", default=[100_000, 1_000_000])
    ap.add_argument("--chunk", type=int, default=25_000, help="members per compiled vmap batch")
    ap.add_argument("--budget", type=float, default=330.0, help="wall-clock seconds for the whole run")
    ap.add_argument("--n-scipy", type=int, default=3)
    ap.add_argument("--rr-budget", type=float, default=40.0)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--chunk-seconds", type=float, default=None,
                    help="one chunk's solve time measured by an earlier run on the same device (else the first "
                         "call, compile included, bounds it)")
    ap.add_argument("--rr-backend", default="lljit", choices=("lljit", "mcjit"))
    ap.add_argument("--json", default=None, help="also write the figures here")
    a = ap.parse_args()
    rep: dict = dict(device=str(jax.devices()[0]), device_kind=jax.devices()[0].device_kind,
                     platform=jax.default_backend(), cpus=os.cpu_count(),
                     versions={p: version(p) for p in ("jax", "jaxlib", "diffrax", "equinox", "numpy", "scipy")},
                     model=dict(name=bf.MODEL.name, states=bf.MODEL.n_states,
                                params=int(bf.MODEL.params.values.shape[-1]),
                                years=bf.YEARS, saves=len(bf.TIMES), doses=int(bf.REGIMEN.n_events)),
                     budget_s=a.budget, chunk=a.chunk, rr_backend=a.rr_backend)

    def dump() -> None:  # after every stage, so that a run cut short still leaves its figures
        if a.json:
            Path(a.json).write_text(json.dumps(rep, indent=1, default=str))

    log(f"{rep['device_kind']} ({rep['platform']}), {rep['versions']}")
    dump()

    # CPU peers, in the background
    scipy_res: dict = {}
    rr_res: dict = {}
    peers = [threading.Thread(target=scipy_peer, args=(a.n_scipy, 0.8 * a.budget, scipy_res), daemon=True),
             threading.Thread(target=rr_peer, args=(1000, 0.8 * a.budget, a.rr_budget, a.rr_backend, rr_res),
                              daemon=True)]
    for th in peers:
        th.start()

    # single trajectory
    t = time.perf_counter()
    bf.solve()
    rep["single_first_call_s"] = time.perf_counter() - t
    rep["single_s"], _ = median_time(bf.solve, a.repeats)
    log(f"single: first call {rep['single_first_call_s']:.1f} s, then {1e3 * rep['single_s']:.0f} ms")
    dump()

    # sweeps
    opts = dict(keep=bf.OUT, chunk_size=a.chunk, rtol=bf.RTOL, atol=bf.ATOL)
    vals_chunk = bf.perturbed_values(a.chunk)
    t = time.perf_counter()
    res0 = sweep(bf.MODEL, bf.TIMES, vals_chunk, bf.REGIMEN, **opts)  # compiles the chunk shape
    rep["chunk_first_call_s"] = t_chunk = time.perf_counter() - t  # an upper bound on one chunk's solve
    if a.chunk_seconds:
        t_chunk = a.chunk_seconds
    rep["chunk_ok"], rep["gpu_peak_mb_chunk"] = int(res0.ok.sum()), gpu_peak_mb()
    log(f"chunk of {a.chunk}: first call (compile + solve) {t_chunk:.1f} s, peak {rep['gpu_peak_mb_chunk']} MB")
    member0 = bf.outputs(res0)[0]
    del res0
    rep["sweeps"] = {}
    dump()
    for n in a.batches:
        predicted = -(-n // a.chunk) * t_chunk
        left = a.budget - elapsed() - 20.0
        if predicted > left:
            rep["sweeps"][n] = dict(skipped=f"predicted {predicted:.0f} s > {left:.0f} s left of the budget")
            log(f"sweep {n}: {rep['sweeps'][n]['skipped']}")
            continue
        vals = bf.perturbed_values(n)
        t = time.perf_counter()
        res = sweep(bf.MODEL, bf.TIMES, vals, bf.REGIMEN, **opts)
        dt = time.perf_counter() - t
        t_chunk = dt / -(-n // a.chunk)  # measured: the next prediction uses it
        rep["sweeps"][n] = dict(seconds=dt, per_member_s=dt / n, ok=int(res.ok.sum()), gpu_peak_mb=gpu_peak_mb())
        log(f"sweep {n}: {dt:.1f} s, {1e6 * dt / n:.1f} us / member, {res.ok.sum()}/{n} solved")
        del res
        dump()

    # gradient, if time is left
    if a.budget - elapsed() > 90.0:
        loss, grad = bf.loss_and_grad()
        v0 = jnp.asarray(bf.MODEL.params.values)
        t = time.perf_counter()
        jax.block_until_ready(loss(v0))
        jax.block_until_ready(grad(v0))
        rep["gradient_compile_s"] = time.perf_counter() - t
        t_loss, _ = median_time(lambda: jax.block_until_ready(loss(v0)), a.repeats)
        t_grad, g = median_time(lambda: jax.block_until_ready(grad(v0)), a.repeats)
        rep["gradient"] = dict(loss_s=t_loss, grad_s=t_grad, ratio=t_grad / t_loss,
                               finite=bool(np.all(np.isfinite(np.asarray(g)))))
        log(f"gradient: {t_grad / t_loss:.2f} x forward")
    else:
        rep["gradient"] = dict(skipped="no time left in the budget")
    dump()

    # peers
    for th in peers:
        th.join(timeout=max(1.0, a.budget - elapsed() - 5.0))
    if "ys0" in scipy_res:
        ys0 = np.asarray(scipy_res.pop("ys0"))
        ref = bf.outputs(_as_solution(ys0))
        rep["accuracy_vs_lsoda"] = scale_rel_err(member0, ref)
    rep["scipy"] = scipy_res
    rep["roadrunner"] = {k: v for k, v in rr_res.items() if k != "out0"}
    dump()
    report(rep)


def _as_solution(ys: np.ndarray) -> dict:
    """The model's observables along scipy's state trajectory (``model.observe``, the
    same functions seedsoil saves), keyed as a Solution is, for ``bench_full.outputs``."""
    model = bf.MODEL
    p = jnp.asarray(bf.perturbed_values(1)[0])
    t = jnp.asarray(bf.TIMES)
    u = jax.vmap(lambda s: model.input_vector(s, p))(t)
    obs = jax.vmap(model.observe, in_axes=(0, 0, None, 0))(t, jnp.asarray(ys), p, u)
    return {k: np.asarray(v) for k, v in obs.items()}


def report(rep: dict) -> None:
    print(f"# {rep['device_kind']} ({rep['platform']}), {rep['cpus']} CPU cores; "
          f"{', '.join(f'{k} {v}' for k, v in rep['versions'].items())}")
    m = rep["model"]
    print(f"# model {m['name']}: {m['states']} states, {m['params']} parameters; {m['years']} years, "
          f"{m['saves']} saves, {m['doses']} doses; chunk {rep['chunk']} members per vmap")
    print()
    print("| method | ms / trajectory | solved | / seedsoil's fastest sweep |")
    print("|---|---:|---:|---:|")
    best = min((s["per_member_s"] for s in rep["sweeps"].values() if "per_member_s" in s),
               default=rep["chunk_first_call_s"] / rep["chunk"])  # an upper bound if no sweep ran
    dev = rep["device_kind"]
    rows = [(f"seedsoil Tsit5 on {dev}, single trajectory", rep["single_s"], "1/1")]
    for n, s in rep["sweeps"].items():
        if "per_member_s" in s:
            rows.append((f"seedsoil Tsit5 on {dev}, sweep of {n:,}", s["per_member_s"], f"{s['ok']}/{n}"))
    sc = rep["scipy"]
    if "per_s" in sc:
        rows.append((f"scipy LSODA on CPU, loop over {sc['n']}", sc["per_s"], f"{sc['ok']}/{sc['n']}"))
    rr = rep["roadrunner"]
    if "modes" in rr:  # also when the child was stopped after its loops
        for mode, r in rr["modes"].items():
            rows.append((f"libroadrunner CVODE {mode} on CPU, single", r["single"], "1/1"))
            rows.append((f"libroadrunner CVODE {mode} on CPU, loop over {r['n']}", r["loop"], f"{r['ok']}/{r['n']}"))
    for name, sec, solved in rows:
        print(f"| {name} | {1e3 * sec:.3g} | {solved} | {sec / best:.3g} |")
    print()
    for n, s in rep["sweeps"].items():
        if "skipped" in s:
            print(f"# sweep of {n:,}: skipped, {s['skipped']}")
        else:
            print(f"# sweep of {n:,}: {s['seconds']:.1f} s, peak GPU memory {s['gpu_peak_mb']} MB")
    print(f"# first calls: single trajectory {rep['single_first_call_s']:.1f} s (compile + solve), one chunk "
          f"{rep['chunk_first_call_s']:.1f} s (compile + solve); chunk peak GPU memory {rep['gpu_peak_mb_chunk']} MB")
    g = rep["gradient"]
    print(f"# gradient / forward solve on {rep['device_kind']}: {g['ratio']:.3g} (finite: {g['finite']}; "
          f"compile {rep['gradient_compile_s']:.0f} s)" if "ratio" in g
          else f"# gradient: {g['skipped']}")
    if "accuracy_vs_lsoda" in rep:
        print(f"# sweep member 0 vs scipy LSODA, error relative to each output's range: "
              f"{rep['accuracy_vs_lsoda']:.2g}")
    if "per_s" not in sc:
        print(f"# scipy: {sc.get('why', 'not finished')}")
    if "load_s" in rr:
        print(f"# libroadrunner: SBML export {rr['export_s']:.1f} s, load {rr['load_s']:.1f} s ({rep['rr_backend']})")
    if rr.get("stage") != "done":
        print(f"# libroadrunner: {rr.get('why', rr.get('stage', 'not finished'))}")


if __name__ == "__main__":
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        main()
