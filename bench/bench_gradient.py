"""Benchmark: where the reverse-mode gradient's cost comes from, on the full model of
bench_full.py (breast cascade + bone vicious cycle + denosumab + zoledronic acid).

bench_full.py reports the gradient of a fitting loss as a multiple of one forward solve
(issue 6 asks for at most 5). This script separates the integrator from the right-hand
side. Each arm is compiled once in one process and timed in alternating rounds (the order
flips every round); it prints medians and ratios:

* ``rhs``: the right-hand side alone (with simulate's division rewrite,
  ``seedsoil.solvers.reciprocal``), ``--evals`` evaluations in a ``fori_loop`` whose state moves
  each iteration; against one VJP with respect to state and parameters per iteration.
  The ratio is what one reverse stage costs against one forward stage at best.
* three integrations of one problem, forward and ``jax.grad`` with respect to all
  parameters: 66 segments of 28 days (as many as bench_full's Q4W segments) from the
  default run's state at day 560, Tsit5, a loss on every segment's end state. It stands in
  for bench_full's solve and differs from it: no doses, inputs frozen at their day-0
  values (no gradient through them), days 560 to 2,408, the first perturbed parameter set.

  - ``diffrax PID``: ``diffrax.diffeqsolve`` per segment, rtol 1e-6, atol 1e-9,
    ``RecursiveCheckpointAdjoint(checkpoints=32)`` (``simulate``'s settings);
  - ``diffrax constant``: the same with 12 constant steps per segment (the PID controller
    accepts about 10 per segment and rejects one or two);
  - ``lax.scan of Tsit5.step``: the same 12 steps per segment as a ``lax.scan`` over
    diffrax's own ``Tsit5.step``; reverse mode stores every step's residuals, so nothing
    is recomputed and no loop bookkeeping is differentiated.

If the scan's gradient costs what diffrax's does, diffrax's loop, checkpoints and step
control add little to the gradient. What the scan's gradient spends beyond six VJPs of the
right-hand side per step (the reverse of the Runge-Kutta combinations, residual storage,
loop overhead) is not separated here.

    .venv/bin/python bench/bench_gradient.py          # 6 rounds (~3 min on 2 cores)
"""

from __future__ import annotations

import argparse
import sys
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import diffrax as dfx  # noqa: E402
import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402

from bench import bench_full as B  # noqa: E402
from bench.timing import alternating_medians  # noqa: E402
from seedsoil.solvers.reciprocal import reciprocal_divisions  # noqa: E402

SEGMENTS, DAYS, STEPS = 66, 28.0, 12


def problem():
    """(field(t, y, p), y0, p): the full model's right-hand side with its inputs frozen at
    day 0 and no infusion, the default run's state at day 560, the first perturbed set."""
    model = B.MODEL
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        sol = B.solve()
    y0 = jnp.asarray(np.asarray(sol.ys)[int(np.searchsorted(B.TIMES, 560.0))])
    p = jnp.asarray(B.perturbed_values(1)[0])
    forcing = jnp.concatenate([jnp.zeros(model.n_states), model.input_vector(0.0, p)])
    rhs = reciprocal_divisions(model.vector_field)

    def field(t, y, q):
        return rhs(t, y, q, forcing)

    return field, y0, p


def rhs_arms(field, y0, evals: int):
    """Forward evaluations and VJPs of the right-hand side, ``evals`` per call."""

    @jax.jit
    def forward(p):
        def body(i, y):
            return y + 1e-12 * field(1.0 * i, y, p)

        return jax.lax.fori_loop(0, evals, body, y0)

    @jax.jit
    def vjp(p):
        def body(i, c):
            y, ct, gp = c
            _, pull = jax.vjp(lambda yy, pp: field(1.0 * i, yy, pp), y, p)
            gy, dp = pull(ct)
            return y + 1e-12 * gy, ct + 1e-12 * gy, gp + dp

        return jax.lax.fori_loop(0, evals, body, (y0, jnp.full_like(y0, 1e-3), jnp.zeros_like(p)))[2]

    return forward, vjp


def integration_arms(field, y0):
    """name -> loss(p) over the segments, returning (loss, steps), three ways."""
    term, solver = dfx.ODETerm(field), dfx.Tsit5()
    pid = dfx.PIDController(rtol=B.RTOL, atol=B.ATOL, pcoeff=0.0, icoeff=1.0)

    def over_segments(step_segment):
        """loss(p) -> (loss, (accepted, rejected) steps over all segments)."""

        def loss(p):
            def seg(y, k):
                y1, steps = step_segment(y, k * DAYS, (k + 1) * DAYS, p)
                return y1, (jnp.sum(jnp.log1p(jnp.abs(y1)) ** 2), steps)

            terms, steps = jax.lax.scan(seg, y0, jnp.arange(float(SEGMENTS)))[1]
            return jnp.sum(terms), jnp.sum(steps, axis=0)

        return loss

    def diffrax_segment(controller, dt0):
        def step_segment(y, ta, tb, p):
            sol = dfx.diffeqsolve(term, solver, ta, tb, dt0, y, args=p, saveat=dfx.SaveAt(t1=True),
                                  stepsize_controller=controller, max_steps=4096, throw=False,
                                  adjoint=dfx.RecursiveCheckpointAdjoint(checkpoints=32))
            return sol.ys[-1], jnp.stack([sol.stats["num_accepted_steps"], sol.stats["num_rejected_steps"]])

        return step_segment

    def scan_segment(y, ta, tb, p):
        h = (tb - ta) / STEPS

        def step(c, i):
            y, state = c
            y1, _, _, state, _ = solver.step(term, ta + i * h, ta + (i + 1) * h, y, p, state, False)
            return (y1, state), None

        (y1, _), _ = jax.lax.scan(step, (y, solver.init(term, ta, tb, y, p)), jnp.arange(float(STEPS)))
        return y1, jnp.array([STEPS, 0])

    return {
        "diffrax PID": over_segments(diffrax_segment(pid, None)),
        "diffrax constant": over_segments(diffrax_segment(dfx.ConstantStepSize(), DAYS / STEPS)),
        "lax.scan of Tsit5.step": over_segments(scan_segment),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rounds", type=int, default=6)
    ap.add_argument("--evals", type=int, default=2000, help="right-hand-side evaluations per timed call")
    a = ap.parse_args()

    field, y0, p = problem()
    fwd, vjp = rhs_arms(field, y0, a.evals)
    fns = {"rhs": {"forward": fwd, "gradient": vjp}}
    for name, loss in integration_arms(field, y0).items():
        fns[name] = {"forward": jax.jit(loss), "gradient": jax.jit(jax.grad(loss, has_aux=True))}
    steps, grads = {}, {}
    for name, fs in fns.items():  # compile; keep the step counts and the gradients to compare
        out = fs["forward"](p)
        steps[name] = np.asarray(out[1]) if isinstance(out, tuple) else None
        grad = fs["gradient"](p)
        grads[name] = np.asarray(grad[0] if isinstance(grad, tuple) else grad)

    arms = {name: {k: (lambda f=f: jax.block_until_ready(f(p))) for k, f in fs.items()} for name, fs in fns.items()}
    med, _ = alternating_medians(arms, a.rounds)

    print(f"# bench_gradient: {B.MODEL_NAME} model, {B.MODEL.n_states} states, {p.shape[0]} parameters; "
          f"{a.rounds} alternating rounds, medians; jax {jax.__version__}, diffrax {dfx.__version__}")
    print()
    print("| arm | steps accepted + rejected | forward | gradient (VJP for rhs) | gradient / forward |")
    print("|---|---:|---:|---:|---:|")
    per = f"us per evaluation, {a.evals} per call"
    f_, g_ = med["rhs"]["forward"] / a.evals * 1e6, med["rhs"]["gradient"] / a.evals * 1e6
    print(f"| right-hand side ({per}) | | {f_:.1f} | {g_:.1f} | {g_ / f_:.2f} |")
    for name in list(fns)[1:]:
        f_, g_ = med[name]["forward"] * 1e3, med[name]["gradient"] * 1e3
        acc, rej = steps[name]
        print(f"| {name}, ms ({SEGMENTS} x {DAYS:g} d) | {acc} + {rej} | {f_:.1f} | {g_:.1f} | {g_ / f_:.2f} |")
    print()
    d, s = med["diffrax constant"], med["lax.scan of Tsit5.step"]
    print(f"diffrax constant / lax.scan, same {SEGMENTS * STEPS} steps: forward {d['forward'] / s['forward']:.2f}, "
          f"gradient {d['gradient'] / s['gradient']:.2f}")
    ref = grads["lax.scan of Tsit5.step"]
    err = np.max(np.abs(grads["diffrax constant"] - ref)) / np.max(np.abs(ref))
    print(f"largest difference between the two fixed-step gradients, relative to the largest entry: {err:.1e}")


if __name__ == "__main__":
    main()
