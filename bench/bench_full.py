"""Benchmark: the full model (breast cascade + bone vicious cycle + denosumab + zoledronic
acid), five years, denosumab 120 mg Q4W, seedsoil against scipy and libroadrunner.

Measured in one process run (subprocesses for compile and memory), same machine, same
tolerances (rtol 1e-6, atol 1e-9), saving every 28 days (66 points):

* seedsoil single trajectory, warm (median of repeats);
* seedsoil batched: ``seedsoil.solvers.sweep`` over N perturbed parameter sets (default 1,000 and
  10,000; six parameters times lognormal factors, sigma 0.1, fixed seed), time / N, with
  chunks of 256 solved as one ``vmap`` and as ``lax.map`` (``vmap_size=1``: members in
  sequence inside one compiled function, each with its own step count);
* scipy ``solve_ivp`` (LSODA and BDF with the JAX-jitted right-hand side and Jacobian of
  the same model, split at every dose): a loop over the first ``--n-scipy`` sets;
* libroadrunner (CVODE) on the SBML that ``seedsoil.solvers.sbml.export`` writes for the same model
  and regimen (skipped, and said so, if the exporter is not available): load time, one
  trajectory, a loop over ``--n-rr`` sets (``reset()`` and set the perturbed parameters),
  each with CVODE's BDF (roadrunner's default) and Adams (``integrator.stiff = False``,
  the non-stiff method, as seedsoil's explicit Tsit5 for these non-stiff models); the
  targets are checked against the faster of the two;
* the gradient of a least-squares loss on log bone burden and bone volume with respect to
  all free parameters (``jax.grad`` through the solve, reverse mode), as a multiple of one
  warm forward solve;
* compile time in a fresh Python process: cold (empty persistent cache) and warm (JAX's
  persistent compilation cache and the kept traced program of ``seedsoil.solvers.programs``, both
  filled by the cold run); first call, and first call less a second (warm) call;
* peak resident memory of a fresh process running a streamed sweep (``out=`` a directory,
  ``keep_in_memory=False``) of 10^3 .. 10^5 members over ``--memory-days`` (default 28
  days, so that 10^5 members fit in minutes on two cores; memory does not depend on the
  horizon's length beyond the saved points).

Targets (issue 6, on the project's 2-core machine): batched per-trajectory time at most
1/10 of libroadrunner's; single trajectory at most 2x libroadrunner's; gradient at most
5x a forward solve; cold compile under 10 s, warm under 1 s; memory flat in N. The table
prints the measured figure whether or not a target is met.

    .venv/bin/python bench/bench_full.py            # full run (tens of minutes on 2 cores)
    .venv/bin/python bench/bench_full.py --quick    # a few minutes: N = 200, fewer repeats
    SEEDSOIL_BENCH_MODEL=bone-drugs .venv/bin/python bench/bench_full.py   # without the cascade

libroadrunner 2.10 inlines every assignment rule into every use when it compiles a model;
the exporter writes the cascade's large shared expressions (the quasi-steady CTC pool,
which sums re-seeding over every size bin and enters every organ) as let-chains of
function definitions so that nothing is compiled twice (solvers/sbml/_emit.py). The document is
compiled with libroadrunner's LLJIT backend (``roadrunner_load``; ``--rr-backend mcjit``
for its default). The libroadrunner loop runs ``--n-rr`` sets or as many as
``--rr-budget`` seconds allow (at least two).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import textwrap
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402

from bench.timing import median_time, run_staged, scale_rel_err  # noqa: E402
from seedsoil.models import Link, compose
from seedsoil.models.bone import HUMAN_BONE, bone_metastasis, vicious_cycle  # noqa: E402
from seedsoil.models.drugs import XGEVA_Q4W, denosumab, zoledronic_acid
from seedsoil.solvers import from_schedule, simulate, sweep  # noqa: E402
from tests.reference.scipy_piecewise import solve_piecewise  # noqa: E402

YEARS = 5
T_END = YEARS * 365.0
TIMES = np.arange(0.0, T_END + 1e-9, 28.0)
RTOL, ATOL = 1e-6, 1e-9
SIGMA, SEED = 0.1, 0
#: Which model: "full" (default) or "bone-drugs" (the full model without the cascade: the
#: vicious cycle with its own tumour state, denosumab and zoledronic acid; the largest part
#: that libroadrunner loads, see solvers/sbml/__init__.py). Children of this script inherit it.
MODEL_NAME = os.environ.get("SEEDSOIL_BENCH_MODEL", "full")


def bone_drugs():
    """Vicious cycle (human values, own tumour state) + denosumab + zoledronic acid."""
    return compose(
        {"bone": vicious_cycle().with_params(**HUMAN_BONE), "denosumab": denosumab("bone_metastases"),
         "za": zoledronic_acid()},
        [Link("denosumab", "RANKL_occupancy", "bone", "rankl_inhibition"),
         Link("za", "osteoclast_kill", "bone", "za_effect")],
        stiff=False,  # as the full model (models/bone/disease.py): explicit while ZA is not given
    )


if MODEL_NAME == "full":
    MODEL = bone_metastasis("breast")
    PERTURBED = ("cascade.r_P", "cascade.shed_rate", "cascade.a_met[bone]", "cascade.kappa[bone]", "bone.g_T",
                 "denosumab.CL")
    OUT = ("cascade.metastatic_burden", "bone.bone_mass", "bone.uNTx")
    BONE = MODEL.part("cascade").organs.index("bone")  # the burden observable is per organ
elif MODEL_NAME == "bone-drugs":
    MODEL = bone_drugs()
    PERTURBED = ("bone.r_T", "bone.K_T", "bone.g_T", "bone.k_RL", "denosumab.CL", "denosumab.ka")
    OUT = ("bone.T", "bone.bone_volume", "bone.CTX")
    BONE = None  # the tumour is a scalar state
else:
    raise SystemExit(f"SEEDSOIL_BENCH_MODEL must be 'full' or 'bone-drugs'; got {MODEL_NAME!r}")
SOLVER = "Kvaerno5" if MODEL.stiff else "Tsit5"  # simulate's default for the model
REGIMEN = from_schedule(XGEVA_Q4W, part="denosumab", count=int(T_END // 28) + 1)


def parse_args() -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="small run (N = 200, 3 scipy sets, no 10^5 memory point)")
    ap.add_argument("--batches", type=int, nargs="*", default=None, help="batch sizes (default 1000 10000)")
    ap.add_argument("--n-scipy", type=int, default=None, help="sets looped with scipy (default 5)")
    ap.add_argument("--n-rr", type=int, default=None, help="sets looped with libroadrunner (default 100)")
    ap.add_argument("--memory", type=int, nargs="*", default=None, help="streamed sweep sizes (default 1e3 1e4 1e5)")
    ap.add_argument("--memory-days", type=float, default=28.0, help="horizon of the memory sweeps (days)")
    ap.add_argument("--repeats", type=int, default=None)
    ap.add_argument("--rr-limit", type=float, default=900.0, help="seconds allowed for SBML export + roadrunner")
    ap.add_argument("--rr-budget", type=float, default=120.0, help="seconds for the libroadrunner loop (>= 2 sets)")
    ap.add_argument("--rr-backend", default="lljit", choices=("lljit", "mcjit"), help="libroadrunner LLVM JIT")
    a = ap.parse_args()
    a.batches = a.batches or ([200] if a.quick else [1000, 10000])
    a.n_scipy = a.n_scipy or (2 if a.quick else 5)
    a.n_rr = a.n_rr or (10 if a.quick else 100)
    a.memory = a.memory or ([1000, 3000] if a.quick else [1000, 10000, 100000])
    a.repeats = a.repeats or (3 if a.quick else 5)
    return a


# ------------------------------------------------------------------------------ helpers
_T0 = time.perf_counter()


def log(msg: str) -> None:
    """Progress on stderr (the table goes to stdout)."""
    print(f"[{time.perf_counter() - _T0:7.1f} s] {msg}", file=sys.stderr, flush=True)


def perturbed_values(n: int) -> np.ndarray:
    """``(n, n_params)``: defaults with the PERTURBED entries times lognormal factors."""
    names = MODEL.params.flat_names()
    idx = [names.index(k) for k in PERTURBED]
    values = np.repeat(np.asarray(MODEL.params.values)[None, :], n, axis=0)
    rng = np.random.default_rng(SEED)
    values[:, idx] *= np.exp(SIGMA * rng.standard_normal((n, len(idx))))
    return values


def outputs(sol) -> np.ndarray:
    """(..., time, 3): bone burden, bone volume, CTX."""
    return np.stack([burden(sol), np.asarray(sol[OUT[1]]), np.asarray(sol[OUT[2]])], -1)


def burden(sol):
    """Tumour cells in bone, (..., time)."""
    b = sol[OUT[0]]
    return b if BONE is None else b[..., BONE]


def run_child(code: str, env: dict | None = None) -> dict:
    """Run ``code`` in a fresh interpreter at the repository root; it prints one JSON line."""
    res = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], cwd=ROOT, capture_output=True, text=True,
                         env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", **(env or {})}, timeout=3600)
    if res.returncode != 0:
        raise RuntimeError(res.stderr[-3000:])
    return json.loads(res.stdout.strip().splitlines()[-1])


# ------------------------------------------------------------------------------ seedsoil
def solve(values=None):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        sol = simulate(MODEL, TIMES, params=values, regimen=REGIMEN, rtol=RTOL, atol=ATOL, throw=False)
    return jax.block_until_ready(sol)


def loss_and_grad():
    """Least squares on log10 bone burden and bone volume against the default run
    (a fitting loss), differentiated with respect to every parameter entry."""
    target = outputs(solve())
    t_log, t_vol = jnp.log10(1.0 + target[:, 0]), jnp.asarray(target[:, 1])
    model, times, reg = MODEL, jnp.asarray(TIMES), REGIMEN

    @jax.jit
    def loss(values):
        sol = simulate(model, times, params=values, regimen=reg, rtol=RTOL, atol=ATOL, throw=False)
        return jnp.sum((jnp.log10(1.0 + burden(sol)) - t_log) ** 2) + jnp.sum(((sol[OUT[1]] - t_vol) / 10.0) ** 2)

    return loss, jax.jit(jax.grad(loss))


# ------------------------------------------------------------------------------ scipy
def scipy_solver(method: str):
    """solve_ivp on the model's own vector field (jitted; jitted Jacobian for implicit
    methods), split at every dose so that each bolus is applied exactly."""
    n = MODEL.n_states
    dose_at = np.asarray(REGIMEN.event_time)
    dose_amount = np.asarray(REGIMEN.event_amount)
    slot = MODEL.state_layout["denosumab.depot"][0]  # flat index (array states come first)

    def field(t, y, p):  # no infusions; the inputs are the model's own (scheduled) values
        return MODEL.vector_field(t, y, p, jnp.concatenate([jnp.zeros(n), MODEL.input_vector(t, p)]))

    f = jax.jit(field)
    jac = jax.jit(jax.jacfwd(field, argnums=1))

    def run(values) -> np.ndarray:
        p = jnp.asarray(values)

        def dose(t, y):
            y[slot] += dose_amount[dose_at == t].sum()
            return y

        kw = dict(method=method, rtol=RTOL, atol=ATOL, jump=dose)
        if method != "RK45":
            kw["jac"] = lambda t, y: np.asarray(jac(t, y, p))
        try:
            return solve_piecewise(lambda t, y: np.asarray(f(t, y, p)), np.asarray(MODEL.y0), TIMES,
                                   switches=dose_at, **kw)
        except AssertionError:  # the solver failed: counted, not hidden
            return np.full((len(TIMES), n), np.nan)

    return run


# ------------------------------------------------------------------------------ roadrunner
RR_CODE = """
import json, sys, time, dataclasses
import numpy as np
sys.path.insert(0, ".")
t = time.perf_counter()
from bench.bench_full import MODEL, REGIMEN, TIMES, T_END, PERTURBED, RTOL, ATOL, perturbed_values, outputs
from seedsoil.solvers.sbml import export, roadrunner_load, roadrunner_simulate
sbml = export(MODEL, regimen=REGIMEN)
t_export = time.perf_counter() - t
print(json.dumps(dict(stage="exported", export_s=t_export, kb=len(sbml) / 1e3)), flush=True)
t = time.perf_counter()
rr = roadrunner_load(sbml, "BACKEND")
t_load = time.perf_counter() - t
print(json.dumps(dict(stage="loaded", export_s=t_export, kb=len(sbml) / 1e3, load_s=t_load)), flush=True)
rr.integrator.relative_tolerance = RTOL
rr.integrator.absolute_tolerance = ATOL
vals = perturbed_values(N_RR)
names = MODEL.params.flat_names()
import libsbml
doc = libsbml.readSBMLFromString(sbml).getModel()
by_name = {doc.getParameter(i).getName(): doc.getParameter(i).getId() for i in range(doc.getNumParameters())}
ids = {n: by_name[n] for n in PERTURBED}  # the exporter names each parameter by its flat label
modes = {}
for mode, stiff in MODES:  # ("BDF", True): roadrunner's default; ("Adams", False): the non-stiff method
    rr.integrator.stiff = stiff
    rr.reset()
    t = time.perf_counter()
    rr.simulate(times=list(TIMES))
    single = time.perf_counter() - t
    ok, done, t = 0, 0, time.perf_counter()
    for v in vals:
        if done >= 2 and time.perf_counter() - t > BUDGET:
            break
        done += 1
        rr.reset()
        for k, sid in ids.items():
            rr[sid] = float(v[names.index(k)])
        try:
            rr.simulate(times=list(TIMES)); ok += 1
        except RuntimeError:
            pass
    for k, sid in ids.items():  # back to the defaults
        rr[sid] = float(MODEL.params.values[names.index(k)])
    modes[mode] = dict(single=single, loop=(time.perf_counter() - t) / done, ok=ok, n=done)
    print(json.dumps(dict(stage=f"ran {mode}", export_s=t_export, kb=len(sbml) / 1e3, load_s=t_load, modes=modes)),
          flush=True)
out0 = outputs(roadrunner_simulate(sbml, TIMES, model=MODEL, rtol=RTOL, atol=ATOL,
                                   backend="BACKEND")).tolist()
print(json.dumps(dict(stage="done", export_s=t_export, kb=len(sbml) / 1e3, load_s=t_load, modes=modes, out0=out0)))
"""


def roadrunner_bench(n_rr: int, limit_s: float, budget_s: float, backend: str,
                     modes: tuple[str, ...] = ("BDF", "Adams"), env: dict | None = None) -> dict:
    """Export the model to SBML and run it in libroadrunner in a child process, so that a
    load which does not finish within ``limit_s`` is reported instead of hanging the run.
    ``modes``: CVODE's BDF (roadrunner's default) and/or Adams; ``env``: extra variables
    for the child (``JAX_PLATFORMS=cpu`` beside a GPU run)."""
    stiff = {"BDF": True, "Adams": False}
    code = (RR_CODE.replace("N_RR", str(int(n_rr))).replace("BUDGET", repr(float(budget_s)))
            .replace("BACKEND", backend).replace("MODES", repr(tuple((m, stiff[m]) for m in modes))))
    return run_staged(code, ROOT, limit_s, env)


# ------------------------------------------------------------------------------ main
def main() -> None:
    a = parse_args()
    print(f"# {platform.platform()}, {os.cpu_count()} CPUs, jax {jax.__version__}, devices {jax.devices()}")
    print(f"# model {MODEL.name}: {MODEL.n_states} states, {MODEL.params.values.shape[-1]} parameters; "
          f"{YEARS} years, {len(TIMES)} saves, {REGIMEN.n_events} doses; rtol {RTOL}, atol {ATOL}")
    rows = []

    # single trajectory
    log("single trajectory")
    solve()  # compile
    single, _ = median_time(solve, a.repeats)
    rows.append((f"seedsoil {SOLVER}, single trajectory", single, "1/1"))

    # batched
    log("batched sweeps")
    per = {}
    for n in a.batches:
        vals = perturbed_values(n)
        for vs, how in ((None, "vmap"), (1, "lax.map, vmap_size=1")):
            opts = dict(keep=OUT, chunk_size=min(n, 256), rtol=RTOL, atol=ATOL, vmap_size=vs)
            sweep(MODEL, TIMES, vals[: min(n, 256)], REGIMEN, **opts)  # compile the chunk shape
            t = time.perf_counter()
            res = sweep(MODEL, TIMES, vals, REGIMEN, **opts)
            per[(n, vs)] = (time.perf_counter() - t) / n
            rows.append((f"seedsoil {SOLVER}, sweep of {n} ({how})", per[(n, vs)], f"{int(res.ok.sum())}/{n}"))
    batched = min(t for (n, _), t in per.items() if n == max(a.batches))  # the faster mode at the largest N

    # scipy
    log("scipy")
    scipy_rows = {}
    vals = perturbed_values(a.n_scipy)
    for method in ("LSODA", "BDF"):
        run = scipy_solver(method)
        run(vals[0])  # jit the right-hand side and Jacobian once
        t = time.perf_counter()
        ys = [run(v) for v in vals]
        dt = (time.perf_counter() - t) / len(vals)
        ok = sum(np.isfinite(y).all() for y in ys)
        rows.append((f"scipy {method}, loop over {len(vals)}", dt, f"{ok}/{len(vals)}"))
        scipy_rows[method] = ys

    # roadrunner
    log("libroadrunner")
    rr = roadrunner_bench(a.n_rr, a.rr_limit, a.rr_budget, a.rr_backend)
    rr_single = rr_loop = None
    why = rr.get("why", "")
    if "export_s" in rr:
        print(f"# SBML export of {MODEL.name}: {rr['export_s']:.1f} s, {rr.get('kb', float('nan')):.0f} kB")
    if rr["stage"] == "done":
        print(f"# libroadrunner load (SBML -> LLVM, {a.rr_backend}): {rr['load_s']:.1f} s")
        for mode, m in rr["modes"].items():
            rows.append((f"libroadrunner CVODE {mode}, single", m["single"], "1/1"))
            rows.append((f"libroadrunner CVODE {mode}, loop over {m['n']}", m["loop"], f"{m['ok']}/{m['n']}"))
        best = min(rr["modes"], key=lambda k: rr["modes"][k]["loop"])  # compare with roadrunner's faster method
        rr_single, rr_loop = rr["modes"][best]["single"], rr["modes"][best]["loop"]
    else:
        print(f"# libroadrunner: {why}")

    # gradient
    log("gradient")
    loss, grad = loss_and_grad()
    v0 = jnp.asarray(MODEL.params.values)
    jax.block_until_ready(loss(v0))
    jax.block_until_ready(grad(v0))
    t_loss, _ = median_time(lambda: jax.block_until_ready(loss(v0)), a.repeats)
    t_grad, g = median_time(lambda: jax.block_until_ready(grad(v0)), a.repeats)
    finite = bool(np.all(np.isfinite(np.asarray(g))))

    # compile cold / warm in fresh processes
    log("compile cold/warm")
    code = """
        import time, json, os
        t = time.perf_counter()
        import dataclasses, numpy as np, jax
        from bench.bench_full import MODEL, REGIMEN, TIMES
        from seedsoil.solvers import simulate, trace_count
        t_import = time.perf_counter() - t
        t = time.perf_counter()
        jax.block_until_ready(simulate(MODEL, TIMES, regimen=REGIMEN))
        first = time.perf_counter() - t
        t = time.perf_counter()
        jax.block_until_ready(simulate(MODEL, TIMES, regimen=REGIMEN))
        print(json.dumps(dict(import_s=t_import, first_call_s=first, second_call_s=time.perf_counter() - t,
                              traces=trace_count())))
    """
    with tempfile.TemporaryDirectory() as cache:
        cold = run_child(code, {"SEEDSOIL_CACHE_DIR": cache})
        warm = run_child(code, {"SEEDSOIL_CACHE_DIR": cache})

    # memory of streamed sweeps
    log("memory")
    mem = {}
    for n in a.memory:
        code = f"""
            import json, resource, tempfile, numpy as np
            from bench.bench_full import MODEL as m, OUT
            from seedsoil.solvers import sweep
            v = np.repeat(np.asarray(m.params.values)[None], {n}, 0)
            with tempfile.TemporaryDirectory() as d:
                r = sweep(m, np.linspace(0.0, {a.memory_days}, 5), v, keep=(OUT[1],), chunk_size=1000,
                          out=d, keep_in_memory=False)
            print(json.dumps(dict(peak_mb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                                  ok=int(r.ok.sum()))))
        """
        t = time.perf_counter()
        mem[n] = run_child(code) | {"seconds": time.perf_counter() - t}

    # ---- report
    print()
    print("| method | ms / trajectory | solved | / seedsoil batched | / seedsoil single |")
    print("|---|---:|---:|---:|---:|")
    for name, sec, solved in rows:
        print(f"| {name} | {1e3 * sec:.3g} | {solved} | {sec / batched:.3g} | {sec / single:.3g} |")
    print()
    print("| check | measured | target | met |")
    print("|---|---:|---:|:---:|")
    if rr_loop is not None:
        print(f"| batched / libroadrunner loop ({best}) | {batched / rr_loop:.3g} | <= 0.1 | "
              f"{'yes' if batched / rr_loop <= 0.1 else 'no'} |")
        print(f"| single / libroadrunner single ({best}) | {single / rr_single:.3g} | <= 2 | "
              f"{'yes' if single / rr_single <= 2 else 'no'} |")
    else:
        print(f"| vs libroadrunner | n/a: {why} | | |")
    print(f"| gradient / forward solve ({v0.shape[0]} parameters{'' if finite else ', NON-FINITE'}) | "
          f"{t_grad / t_loss:.3g} | <= 5 | {'yes' if t_grad / t_loss <= 5 else 'no'} |")
    print(f"| cold compile (first call, fresh process, empty cache) | {cold['first_call_s']:.3g} s | < 10 s | "
          f"{'yes' if cold['first_call_s'] < 10 else 'no'} |")
    print(f"| warm compile (first call, fresh process, persistent cache) | {warm['first_call_s']:.3g} s | < 1 s | "
          f"{'yes' if warm['first_call_s'] < 1 else 'no'} |")
    print(f"| warm start less the solve (first call - second call) | "
          f"{warm['first_call_s'] - warm['second_call_s']:.3g} s | < 1 s | "
          f"{'yes' if warm['first_call_s'] - warm['second_call_s'] < 1 else 'no'} |")
    peaks = [m["peak_mb"] for m in mem.values()]
    print(f"| peak memory, streamed sweep of {', '.join(f'{n:g}' for n in mem)} | "
          f"{', '.join(f'{p:.0f}' for p in peaks)} MB | flat | {'yes' if max(peaks) < 1.2 * min(peaks) else 'no'} |")
    print()
    member0 = np.asarray(solve(perturbed_values(1)[0]).ys)
    if "out0" in rr:
        print(f"# libroadrunner vs seedsoil, default parameters, {', '.join(OUT)}: worst error relative to its "
              f"range {scale_rel_err(np.asarray(rr['out0']), outputs(solve())):.2g}")
    for method, ys in scipy_rows.items():
        print(f"# scipy {method} vs seedsoil, set 0, worst state, error relative to its range: "
              f"{scale_rel_err(ys[0], member0):.2g}")
    for n, m in mem.items():
        print(f"# memory sweep {n}: {m['ok']}/{n} solved in {m['seconds']:.0f} s, peak {m['peak_mb']:.0f} MB")
    print(f"# import {cold['import_s']:.2f} s (cold) / {warm['import_s']:.2f} s (warm); traces in the warm "
          f"process: {warm['traces']} (0: the kept program was loaded, solvers/programs.py)")


if __name__ == "__main__":
    main()
