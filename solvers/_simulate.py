"""Simulate any model with dosing events: one jitted function per model structure.

The solve is split at every event (dose, scaling, infusion start/stop, model
breakpoint): between two events the right-hand side is smooth and the inputs are
constant, so the adaptive solver never steps over a dose. A ``lax.scan`` runs over the
sorted stops -- every event and every save time -- and each step integrates to the next
stop with ``diffrax.diffeqsolve``, then applies the event or records the state there
(with ``step_to_saves=False`` the stops are the events only, and diffrax's dense output
gives the saves in between).
Event times are data, not structure, so any parameters and any regimen with the same
number of events reuse one compiled function, and ``jax.vmap`` batches over either.
Top-level calls keep that function on disk (:mod:`seedsoil.solvers.programs`), so a new Python
session reuses it without tracing or compiling again.

Default solver: chosen from the model's ``stiff`` flag. Non-stiff models (the three
literature bone models, the cascade with quasi-steady CTCs) get ``Tsit5`` (explicit
5th-order Runge-Kutta); stiff ones get ``Kvaerno5`` (L-stable ESDIRK) with the PID
coefficients diffrax recommends for implicit methods. Default tolerances rtol 1e-6,
atol 1e-9. An implicit method on a non-stiff model takes more steps and is no more
accurate; the measurements behind this choice are on the performance page of the docs.
"""

from __future__ import annotations

import contextlib
import dataclasses
import numbers
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from functools import partial
from typing import Any

import diffrax as dfx
import equinox as eqx
import jax
import jax.numpy as jnp
import jax.scipy.linalg
import numpy as np
from jaxtyping import Array, ArrayLike, Float, Int

from .._config import require_x64
from ..models.base import (
    Model,
    Params,
    UnknownNameError,
    View,
    as_numbers,
    flat_labels,
    is_concrete,
    output_shape,
    resolve_name,
    resolve_output,
)
from . import programs
from .reciprocal import reciprocal_divisions
from .regimen import Regimen

__all__ = ["simulate", "Solution", "SolveError", "SolverOptions", "STATUS", "trace_count"]


class _Default:
    """Marks a solver keyword that was not given (so ``options=`` or the default applies)."""

    def __repr__(self) -> str:
        return "<default>"


#: Default of every solver keyword of ``simulate``, ``sweep``, ... : "not given".
DEFAULT: Any = _Default()

#: Meaning of ``Solution.code`` (and the strings of ``Solution.status``).
STATUS = (
    "success",
    "max_steps_reached",
    "step_size_too_small",
    "nonlinear_solver_failed",
    "nonfinite_state",
    "solver_error",
    "nonfinite_output",  # the states are finite, but an input or observable is not (e.g. a ratio over 0)
)

_SOLVERS = {
    "kvaerno5": dfx.Kvaerno5,
    "kvaerno4": dfx.Kvaerno4,
    "kvaerno3": dfx.Kvaerno3,
    "tsit5": dfx.Tsit5,
    "dopri5": dfx.Dopri5,
    "dopri8": dfx.Dopri8,
}

_ADJOINTS = {"reverse": dfx.RecursiveCheckpointAdjoint, "forward": dfx.ForwardMode}

_TRACES = [0]


def trace_count() -> int:
    """How many times the simulation core has been traced (compiled) in this process."""
    return _TRACES[0]


class SolveError(RuntimeError):
    """Raised by :func:`simulate` (``throw=True``) when a trajectory fails; names which."""


@dataclass(frozen=True)
class SolverOptions:
    """Numerical settings (static: changing them compiles a new function).

    One ``SolverOptions`` travels through every entry point (``simulate``, ``sweep``,
    ``local_sensitivity``, ``morris``, ``sobol``, ``FitProblem``) as ``options=``; their
    solver keywords (``rtol=...``) are still accepted and win over the same field of
    ``options`` (see :func:`resolve_options`).

    Attributes:
        solver: one of ``tsit5``, ``dopri5``, ``dopri8`` (explicit) or ``kvaerno5``,
            ``kvaerno4``, ``kvaerno3`` (implicit, for stiff models); ``None`` (default):
            ``kvaerno5`` for a model flagged ``stiff``, else ``tsit5``.
        rtol, atol: tolerances of the PID step-size controller (> 0). ``None`` (default):
            the caller's default, filled in by :func:`resolve_options` -- ``simulate``,
            ``sweep`` and the sensitivities use rtol 1e-6, atol 1e-9; a ``FitProblem`` rtol
            1e-8, atol 1e-10.
        max_steps: step budget of each segment (between two stops).
        step_to_saves: end a solver segment on every save time (default), so saved
            values are as accurate as the tolerances say and each save costs one segment
            end; ``False`` interpolates between steps with the solver's dense output,
            which is of lower order than its steps (Kvaerno5's is third order): fewer
            steps when saves are dense, less accurate saved values.
        adjoint: ``"reverse"`` (default; ``jax.grad``/``jacrev`` by checkpointed
            backpropagation through the solver) or ``"forward"`` (``jax.jvp``/``jacfwd``,
            cheaper when parameters are few).
        checkpoints: for ``adjoint="reverse"``, how many solver states each segment keeps
            for the backward pass (diffrax's ``RecursiveCheckpointAdjoint``). A segment of
            ``n`` steps with at least ``n`` checkpoints recomputes each step once; with
            ``c < n``, a few times more (treeverse, Stumm and Walther 2010: about ``r``
            times where ``C(c + r, r) >= n``). Every checkpoint costs a copy of the solver
            state in every segment, whether used or not, and the solve is split at every
            save and event, so segments are short (about 22 Tsit5 steps between the
            monthly saves of the full bone-metastasis model). Default 32; ``None`` gives
            diffrax's default for ``max_steps`` (about ``sqrt(2 max_steps)`` copies). The
            gradient is the same, bit for bit, whatever the count; only its time changes
            (measured on the performance page).
        vmap_size: how a batch is solved. ``None`` (default): all members in one
            ``jax.vmap``, which steps every member until the slowest has finished. An
            integer ``k``: ``jax.lax.map`` with ``batch_size=k``, i.e. groups of ``k``
            vmapped members one after the other inside the same compiled function;
            ``k = 1`` solves members sequentially, each with its own step count (for
            members whose step counts differ widely). The results agree to rounding
            either way, and ``k = 1`` gives each member the bits of its single solve;
            which is faster depends on the model and the machine (the performance page
            compares both).

            A member of a vmapped batch may differ from the same parameter set solved
            alone, or in a batch of another size, in its last digits: at most 1e-10
            relative to the output's largest value (tested; measured up to 6e-12), far
            below the solver tolerance. XLA's CPU backend computes the batch's
            Runge-Kutta stage combinations, one matrix-vector product over every member's
            states, four rows at a time with fused multiply-adds, and a lone remainder row
            with a separate multiply and add, so one member's state can be rounded
            differently depending on the batch size and the state count (the step-size
            controller then carries that ulp into a slightly different step sequence).
            The same members in the same batch size, or the same sweep ``chunk_size``,
            give identical bits every time. (``tests/test_batch_invariance.py``; the
            sweeps page says more.)
        reciprocals: evaluate the right-hand side with every division as a product with a
            reciprocal (default; :mod:`seedsoil.solvers.reciprocal`: the same values to rounding, a
            faster forward solve and fewer kernels in the reverse pass, see the performance
            page), or ``False`` for the model's plain divisions.
        exact_linear: carry the states a model declares as an autonomous linear block
            (:attr:`~seedsoil.models.base.Model.linear_states`, e.g. a drug's linear
            disposition) exactly between stops, ``y_L(t) = expm(A (t - t_a)) y_L(t_a)`` plus
            the infusion's integral, and step only the other states (default); ``False``
            steps every state. The exact block takes away the step-size limit of a fast linear
            phase: an explicit solver is no longer held to zoledronic acid's 0.24-h
            stability limit for months after a dose (performance page).
    """

    solver: str | None = None
    rtol: float | None = None
    atol: float | None = None
    max_steps: int = 100_000
    step_to_saves: bool = True
    adjoint: str = "reverse"
    vmap_size: int | None = None
    checkpoints: int | None = 32
    reciprocals: bool = True
    exact_linear: bool = True

    def __post_init__(self):
        for name in ("max_steps", "vmap_size", "checkpoints"):  # np.int64(4) and friends as plain ints (static)
            v = getattr(self, name)
            if isinstance(v, numbers.Integral) and not isinstance(v, (bool, np.bool_)):
                object.__setattr__(self, name, int(v))
        if not isinstance(self.step_to_saves, (bool, np.bool_)):
            raise ValueError(f"step_to_saves must be True or False; got {self.step_to_saves!r}")
        object.__setattr__(self, "step_to_saves", bool(self.step_to_saves))
        if self.adjoint not in _ADJOINTS:
            raise ValueError(f"unknown adjoint {self.adjoint!r}; choose one of {sorted(_ADJOINTS)}")
        if self.solver is not None and self.solver not in _SOLVERS:
            raise ValueError(f"unknown solver {self.solver!r}; choose one of {sorted(_SOLVERS)}")
        for name in ("rtol", "atol"):
            v = getattr(self, name)
            if v is not None and not (isinstance(v, (int, float, np.floating, np.integer))
                                      and not isinstance(v, (bool, np.bool_)) and np.isfinite(v) and v > 0):
                raise ValueError(f"{name} must be a finite number > 0; got {v!r}")
        if not (isinstance(self.max_steps, int) and not isinstance(self.max_steps, bool) and self.max_steps > 0):
            raise ValueError(f"max_steps must be a positive integer; got {self.max_steps!r}")
        if self.vmap_size is not None and not (isinstance(self.vmap_size, int) and not isinstance(self.vmap_size, bool)
                                               and self.vmap_size > 0):
            raise ValueError(f"vmap_size must be None or a positive integer; got {self.vmap_size!r}")
        for name in ("reciprocals", "exact_linear"):
            if not isinstance(getattr(self, name), bool):
                raise ValueError(f"{name} must be True or False; got {getattr(self, name)!r}")
        if self.checkpoints is not None and not (isinstance(self.checkpoints, int)
                                                 and not isinstance(self.checkpoints, bool) and self.checkpoints > 0):
            raise ValueError(f"checkpoints must be None or a positive integer; got {self.checkpoints!r}")


#: Tolerances of ``simulate``, ``sweep`` and the sensitivities where neither ``options`` nor a
#: keyword sets them (``SolverOptions(rtol=None)``: "the caller's default").
_SIMULATE_DEFAULTS = {"rtol": 1e-6, "atol": 1e-9}


def resolve_options(model: Model, options: SolverOptions | None = None, defaults: Mapping[str, Any] | None = None,
                    **overrides: Any) -> SolverOptions:
    """The one :class:`SolverOptions` of a call, with every field concrete: ``options``
    (default ``SolverOptions(**defaults)``), with every keyword that was given (not :data:`DEFAULT`)
    replacing its field -- a keyword wins over ``options`` -- then each field still ``None``
    that ``defaults`` names (the caller's defaults, e.g. a fit's tighter tolerances) taken
    from ``defaults``, ``rtol``/``atol`` still ``None`` from ``simulate``'s defaults (1e-6,
    1e-9), and ``solver=None`` chosen from the model's ``stiff`` flag (a keyword
    ``solver=None`` counts as not given: it is the automatic choice, so it keeps
    ``options.solver``). ``TypeError`` names an unknown setting; ``ValueError`` a bad value."""
    if options is not None and not isinstance(options, SolverOptions):
        raise TypeError(f"options must be a SolverOptions; got {type(options).__name__}")
    fields = SolverOptions.__dataclass_fields__
    unknown = [k for k in list(overrides) + list(defaults or {}) if k not in fields]
    if unknown:
        raise TypeError(f"unknown solver setting(s) {unknown}; SolverOptions has {list(fields)}")
    opts = options if options is not None else SolverOptions(**dict(defaults or {}))
    given = {k: v for k, v in overrides.items() if v is not DEFAULT and not (k == "solver" and v is None)}
    if given:
        opts = dataclasses.replace(opts, **given)
    fill = {k: v for k, v in {**_SIMULATE_DEFAULTS, **dict(defaults or {})}.items() if getattr(opts, k) is None}
    if fill:
        opts = dataclasses.replace(opts, **fill)
    if opts.solver is None:
        opts = dataclasses.replace(opts, solver="kvaerno5" if model.stiff else "tsit5")
    return opts


# --------------------------------------------------------------------------------------
# Result
# --------------------------------------------------------------------------------------
class Solution(eqx.Module):
    """Saved trajectory: ``sol["C"]`` is state, input or observable ``C`` at ``sol.ts``.

    Shapes: ``(T, *shape)`` for one trajectory, ``(batch, T, *shape)`` for a batch, where
    ``ts`` is ``(T,)`` (shared save times) or ``(batch, T)`` (save times per member). One
    entry of the first axis of an array-valued output by label or position
    (``sol["metastatic_burden[bone]"]``, ``sol["D[0]"]``, a composite's
    ``sol["cascade.metastatic_burden[bone]"]``) drops that axis; names are resolved by
    :func:`~seedsoil.models.base.resolve_output`, as everywhere. ``status`` gives
    ``"success"`` or why not, per trajectory; ``code`` the same as integers indexing
    :data:`STATUS`.
    """

    ts: Float[Array, "*batch t"]
    ys: Float[Array, "*batch t n"]
    inputs: Float[Array, "*batch t m"]
    observables: dict[str, Array]
    code: Int[Array, "*batch"]
    state_layout: tuple = eqx.field(static=True)
    input_layout: tuple = eqx.field(static=True)
    model_name: str = eqx.field(static=True, default="")
    #: the model's output declarations (states, inputs, observables), for names and entry labels
    output_specs: tuple = eqx.field(static=True, default=())

    def keys(self) -> tuple[str, ...]:
        return (
            tuple(n for n, *_ in self.state_layout)
            + tuple(n for n, *_ in self.input_layout)
            + tuple(self.observables)
        )

    def _whole(self, name: str) -> Array | None:
        for layout, arr in ((self.state_layout, self.ys), (self.input_layout, self.inputs)):
            for key, start, stop, shape in layout:
                if key == name:
                    x = arr[..., start:stop]
                    return x.reshape(x.shape[:-1] + shape)
        return self.observables.get(name)

    def __getitem__(self, name: str) -> Array:
        if not self.output_specs:  # a Solution built by hand: whole outputs only
            x = self._whole(name)
            if x is None:
                raise KeyError(f"{self.model_name}: no output {name!r}; known: {list(self.keys())}")
            return x
        spec, entry = resolve_output(self.output_specs, name, owner=self.model_name)
        x = self._whole(spec.name)
        if entry is None:
            return x
        return x[(Ellipsis, entry) + (slice(None),) * (len(spec.shape) - 1)]

    @property
    def ok(self) -> np.ndarray:
        """Boolean success mask (a scalar array for one trajectory)."""
        return np.asarray(self.code) == 0

    @property
    def status(self) -> np.ndarray | str:
        """``"success"`` or the reason of failure, per trajectory."""
        codes = np.asarray(self.code)
        names = np.asarray(STATUS, dtype=object)[codes]
        return str(names) if codes.ndim == 0 else names

    def failures(self) -> list[tuple[int, str]]:
        """``[(batch index, reason), ...]`` of the failed trajectories."""
        codes = np.atleast_1d(np.asarray(self.code))
        return [(int(i), STATUS[int(codes[i])]) for i in np.flatnonzero(codes)]


# --------------------------------------------------------------------------------------
# Numerical core (one trajectory; vmapped for batches)
# --------------------------------------------------------------------------------------
def _result_code(result) -> Int[Array, ""]:
    R = dfx.RESULTS
    nonlinear = (
        (result == R.nonlinear_divergence)
        | (result == R.nonlinear_max_steps_reached)
        | (result == R.singular)
        | (result == R.breakdown)
        | (result == R.stagnation)
        | (result == R.conlim)
    )
    return jnp.select(
        [result == R.successful, result == R.max_steps_reached, result == R.dt_min_reached, nonlinear,
         (result == R.nonfinite) | (result == R.nonfinite_input)],
        [0, 1, 2, 3, 4],
        5,
    )


#: A segment that runs out of steps is reported as ``nonfinite_state`` (code 4), not
#: ``max_steps_reached``, when its last state is not finite or some entry has grown past
#: ``_BLOWUP`` times ``max(1, |that entry at the segment's start|)``: the solution was
#: running off to infinity (a finite-time blow-up), where the step size shrinks towards the
#: float resolution of ``t`` and the step budget runs out before the state overflows.
_BLOWUP = 1e6


def _diverged(y_start: Array, y_end: Array) -> Array:
    """True when ``y_end`` is non-finite or has blown up from ``y_start`` (see :data:`_BLOWUP`)."""
    grown = jnp.abs(y_end) > _BLOWUP * jnp.maximum(jnp.abs(y_start), 1.0)
    return ~jnp.all(jnp.isfinite(y_end)) | jnp.any(grown)


def _classify(code: Array, y_start: Array, y_end: Array) -> Array:
    """``code`` of one segment, with ``max_steps_reached`` turned into ``nonfinite_state`` when
    the state diverged (:func:`_diverged`)."""
    return jnp.where((code == 1) & _diverged(y_start, y_end), 4, code)


def _field(t, y, args):
    """The model's right-hand side as it wrote it."""
    model, p, forcing = args
    return model.vector_field(t, y, p, forcing)


def _field_reciprocals(t, y, args):
    """The model's right-hand side, divisions evaluated as products with reciprocals
    (:mod:`seedsoil.solvers.reciprocal`; ``SolverOptions.reciprocals``)."""
    model, p, forcing = args
    return reciprocal_divisions(model.vector_field)(t, y, p, forcing)


def _propagate(A: Array, b: Array, y_lin: Array, tau: Array) -> Array:
    """``y(tau)`` of ``dy/dt = A y + b`` from ``y(0) = y_lin``: ``expm(M tau)`` of the
    augmented matrix ``M = [[A, b], [0, 0]]`` holds ``expm(A tau)`` and ``int_0^tau expm(A s) ds b``
    (Van Loan 1978), so a singular ``A`` (a cumulative urine state) needs no inverse."""
    k = A.shape[0]
    M = jnp.zeros((k + 1, k + 1), A.dtype).at[:k, :k].set(A * tau).at[:k, k].set(b * tau)
    E = jax.scipy.linalg.expm(M)
    return E[:k, :k] @ y_lin + E[:k, k]


def _dosed_linear_index(model: Model, reg: Regimen) -> tuple[int, ...]:
    """The model's :attr:`~seedsoil.models.base.Model.linear_index` when the regimen doses
    (or scales) one of those states, else ``()`` (static: from the regimen's targets). An
    undosed block is stepped with the rest: it then usually holds no drug, and its matrix
    exponential would cost every evaluation of the right-hand side (about 8 us) for nothing."""
    lin = model.linear_index
    if not lin:
        return ()
    hit: set[int] = set()
    for name in reg.event_target + reg.infusion_target:
        with contextlib.suppress(UnknownNameError):  # an infusion into an input
            hit.update(model.state_index(name))
    return lin if hit & set(lin) else ()


class _SplitField(eqx.Module):
    """The right-hand side of the stepped states (``rest``) with the linear block (``lin``)
    carried in closed form from the segment's start ``t_a`` (``SolverOptions.exact_linear``)."""

    field: Any = eqx.field(static=True)
    lin: tuple[int, ...] = eqx.field(static=True)
    rest: tuple[int, ...] = eqx.field(static=True)

    def full(self, t, z, args):
        """The whole state vector at ``t`` from the stepped states ``z``."""
        _, _, forcing, t_a, y_lin, A = args
        lin, rest = np.asarray(self.lin, dtype=np.int64), np.asarray(self.rest, dtype=np.int64)
        y_l = _propagate(A, forcing[lin], y_lin, t - t_a)
        return jnp.zeros(len(self.lin) + len(self.rest), z.dtype).at[rest].set(z).at[lin].set(y_l)

    def __call__(self, t, z, args):
        model, p, forcing = args[:3]
        return self.field(t, self.full(t, z, args), (model, p, forcing))[np.asarray(self.rest, dtype=np.int64)]


@contextlib.contextmanager
def _checks_without_callbacks():
    """Trace equinox's runtime checks as NaN branches, not host callbacks (trace time only).

    diffrax and equinox guard their loops with ``equinox.error_if`` (e.g. ``SaveAt(ts=...)``
    save times increasing and inside ``[t0, t1]``, used when ``step_to_saves=False``).
    Under equinox's default ``EQX_ON_ERROR=raise`` each check is a ``jax.pure_callback``,
    and JAX never writes a program holding host callbacks to its persistent compilation
    cache ("uses host callbacks", jax/_src/compiler.py): every new Python process compiled
    the full model again (about 5 s of XLA). Our segments and save times are sorted and
    clipped by construction, so the checks cannot fire; if one did, its output would be
    NaN, which :func:`simulate` reports as a failed trajectory (``nonfinite_state``).
    equinox reads the mode from a module global when a check is traced
    (``equinox/_errors.py``); we switch it only while tracing our solve, and only
    from the default ``raise`` (a user's ``breakpoint``/``off`` is kept).
    """
    import equinox._errors as errors

    if getattr(errors, "EQX_ON_ERROR", None) != "raise":
        yield
        return
    errors.EQX_ON_ERROR = "nan"
    try:
        yield
    finally:
        errors.EQX_ON_ERROR = "raise"


def _solve_one(model: Model, times, opts: SolverOptions, event_state, infusion_slot, until: tuple, p, y0,
               reg: Regimen, levels):
    with _checks_without_callbacks():
        return _solve_one_traced(model, times, opts, event_state, infusion_slot, until, p, y0, reg, levels)


def _until_values(model: Model, until: tuple[str, ...], t, y, p, u) -> Array:
    """The outputs named in ``until`` (scalar entries) at one state, as a ``(k,)`` vector."""
    obs = None
    out = []
    for name in until:
        spec, entry = model.resolve_output(name)
        layout = model.state_layout if spec in model.states else model.input_layout if spec in model.inputs else None
        if layout is not None:
            a, b, shape = layout[spec.name]
            x = (y if spec in model.states else u)[a:b].reshape(shape)
        else:
            obs = model.observe(t, y, p, u) if obs is None else obs
            x = obs[spec.name]
        out.append(jnp.reshape(x if entry is None else x[entry], ()))
    return jnp.stack(out)


def _solve_one_traced(model: Model, times, opts: SolverOptions, event_state, infusion_slot, until: tuple, p, y0,
                      reg: Regimen, levels):
    n = model.n_states
    n_slots = n + model.n_inputs
    t0, t_end = times[0], times[-1]
    solver = _SOLVERS[opts.solver]()
    implicit = opts.solver.startswith("kvaerno")
    controller = dfx.PIDController(
        rtol=opts.rtol, atol=opts.atol,
        pcoeff=0.3 if implicit else 0.0, icoeff=0.4 if implicit else 1.0,  # diffrax's advice for implicit solvers
    )

    def forcing(t):
        """Zero-order rates into states, then input values, at time t (right-continuous)."""
        active = (reg.infusion_start <= t) & (t < reg.infusion_stop)
        f = jnp.zeros(n_slots).at[infusion_slot].add(jnp.where(active, reg.infusion_rate, 0.0))
        return f.at[n:].add(model.input_vector(t, p))

    field = _field_reciprocals if opts.reciprocals else _field
    lin = _dosed_linear_index(model, reg) if opts.exact_linear else ()
    split = _SplitField(field, lin, tuple(i for i in range(n) if i not in set(lin))) if lin else None
    A = model.linear_matrix(p) if lin else None  # once per solve: it depends on the parameters only

    def diffeqsolve(term, y, ta, tb, args, saveat):
        sol = dfx.diffeqsolve(
            term, solver, ta, tb, None, y, args=args,
            saveat=saveat, stepsize_controller=controller, max_steps=opts.max_steps, throw=False,
            adjoint=(_ADJOINTS[opts.adjoint](checkpoints=opts.checkpoints) if opts.adjoint == "reverse"
                     else _ADJOINTS[opts.adjoint]()),
        )
        return sol.ys, _result_code(sol.result)

    def solve(y, ta, tb, t_inputs, save_ts):
        """States at ``save_ts`` (within ``[ta, tb]``, the last one ``tb``) and the solver's code."""
        saveat = dfx.SaveAt(t1=True) if save_ts.shape[0] == 1 else dfx.SaveAt(ts=save_ts[:-1], t1=True)
        f = forcing(t_inputs)
        if split is None:
            return diffeqsolve(dfx.ODETerm(field), y, ta, tb, (model, p, f), saveat)
        args = (model, p, f, ta, y[np.asarray(split.lin, dtype=np.int64)], A)
        if split.rest:
            zs, code = diffeqsolve(dfx.ODETerm(split), y[np.asarray(split.rest, dtype=np.int64)], ta, tb, args, saveat)
        else:  # every state is linear: nothing to step
            zs, code = jnp.zeros((save_ts.shape[0], 0), y.dtype), jnp.array(0)
        return jax.vmap(split.full, in_axes=(0, 0, None))(save_ts, zs, args), code

    def integrate_to(y, ta, tb, t_seg):
        """State at ``tb`` from ``y`` at ``ta``, inputs as at the latest event ``t_seg``."""
        ys, code = solve(y, ta, tb, t_seg, jnp.reshape(tb, (1,)))
        return ys[-1], code

    def integrate(y, ta, tb):
        """States at the save times (clipped into ``[ta, tb]``) and at ``tb``."""
        ys, code = solve(y, ta, tb, ta, jnp.append(jnp.clip(times, ta, tb), tb))
        return ys[:-1], ys[-1], code

    # Every time where something happens; only doses/scalings change the state.
    breaks = jnp.atleast_1d(model.breakpoints(View(p, model.params.layout)))
    ev_t = jnp.concatenate([reg.event_time, reg.infusion_start, reg.infusion_stop, breaks])
    k_other = ev_t.shape[0] - reg.event_time.shape[0]
    ev_state = jnp.concatenate([event_state, jnp.zeros(k_other, dtype=event_state.dtype)])
    ev_add = jnp.concatenate([reg.event_amount, jnp.zeros(k_other)])
    ev_mul = jnp.concatenate([reg.event_factor, jnp.ones(k_other)])
    inside = ev_t <= t_end  # events after the horizon never happen
    ev_add = jnp.where(inside, ev_add, 0.0)
    ev_mul = jnp.where(inside, ev_mul, 1.0)
    ev_t = jnp.clip(ev_t, t0, t_end)

    if opts.step_to_saves:
        reached = None
        if until:
            def reached(t, y):
                return jnp.any(_until_values(model, until, t, y, p, forcing(t)[n:]) >= levels)
        out, code = _stop_at_saves(integrate_to, times, y0, n, ev_t, ev_state, ev_add, ev_mul, reached)
    else:
        out, code = _save_by_interpolation(integrate, times, y0, n, ev_t, ev_state, ev_add, ev_mul)
    code = jnp.where((code == 0) & ~jnp.all(jnp.isfinite(out)), 4, code)

    u = jax.vmap(forcing)(times)[:, n:]
    obs = jax.vmap(model.observe, in_axes=(0, 0, None, 0))(times, out, p, u)
    # a success holds finite numbers only: an infinite observable (a steady state over a zero
    # rate, say) fails the trajectory instead of passing as a value
    finite = jnp.all(jnp.isfinite(u))
    for v in jax.tree_util.tree_leaves(obs):
        finite &= jnp.all(jnp.isfinite(v))
    code = jnp.where((code == 0) & ~finite, STATUS.index("nonfinite_output"), code)
    return out, u, obs, code


def _stop_at_saves(integrate_to, times, y0, n, ev_t, ev_state, ev_add, ev_mul, reached=None):
    """Integrate from stop to stop, where the stops are every event and every save time
    (events first where they coincide, so a state saved at a dose time is post-dose).

    ``reached(t, y) -> bool`` (``simulate``'s ``until``): checked at each save; from the first
    save where it holds, no more steps and no more events (the state is held).

    Each segment ends on its stop, so saved values carry the solver's own accuracy (not its
    lower-order dense interpolant), and the work per save is one segment end: diffrax's
    ``SaveAt(ts=...)`` would scan every save time in every segment between events.
    """
    k_ev, k_sv = ev_t.shape[0], times.shape[0]
    st_t = jnp.concatenate([ev_t, times])
    is_event = jnp.concatenate([jnp.ones(k_ev, dtype=bool), jnp.zeros(k_sv, dtype=bool)])
    st_state = jnp.concatenate([ev_state, jnp.zeros(k_sv, dtype=ev_state.dtype)])
    st_add = jnp.concatenate([ev_add, jnp.zeros(k_sv)])
    st_mul = jnp.concatenate([ev_mul, jnp.ones(k_sv)])
    st_save = jnp.concatenate([jnp.full(k_ev, -1), jnp.arange(k_sv)])
    order = jnp.argsort(st_t, stable=True)  # events keep their regimen order, before saves

    def step(carry, st):
        ta, t_seg, y, out, code, done = carry
        tb, event, s, add, mul, k = st
        # A stop at the time of the one before (a save at a dose time) is an empty segment:
        # skip it rather than start a solve (initial step, FSAL evaluation, checkpoint
        # buffers) and differentiate that. Values are bit-identical. In a sweep the
        # predicate stays unbatched, and the skip a cond, unless the stop times are
        # batched (regimen times, or breakpoints that depend on a swept parameter, as
        # Ayati 2010's t_drug); then vmap makes it a select and both branches run, as
        # before this skip.
        y_end, c = jax.lax.cond(
            (tb > ta) & ~done,
            lambda: integrate_to(y, ta, jnp.where((code == 0) & ~done, tb, ta), t_seg),  # stop once failed or done
            lambda: (y, jnp.zeros_like(code)),
        )
        c = _classify(c, y, y_end)
        y_end = jnp.where(event & ~done, y_end.at[s].set(y_end[s] * mul + add), y_end)
        at = jnp.maximum(k, 0)
        out = out.at[at].set(jnp.where(k >= 0, y_end, out[at]))
        if reached is not None:
            done = done | ((k >= 0) & reached(tb, y_end))
        return (tb, jnp.where(event, tb, t_seg), y_end, out, jnp.where(code == 0, c, code), done), None

    t0 = times[0]
    init = (t0, t0, y0, jnp.zeros((k_sv, n)), jnp.array(0), jnp.array(False))
    stops = tuple(a[order] for a in (st_t, is_event, st_state, st_add, st_mul, st_save))
    (_, _, _, out, code, _), _ = jax.lax.scan(step, init, stops)
    return out, code


def _save_by_interpolation(integrate, times, y0, n, ev_t, ev_state, ev_add, ev_mul):
    """Integrate from event to event and save with diffrax's dense output in between
    (``step_to_saves=False``)."""
    t0, t_end = times[0], times[-1]
    order = jnp.argsort(ev_t, stable=True)

    def step(carry, ev):
        ta, y, out, code = carry
        tb, s, add, mul = ev
        ys, y_end, c = integrate(y, ta, jnp.where(code == 0, tb, ta))  # stop stepping once failed
        c = _classify(c, y, y_end)
        out = jnp.where(((times >= ta) & (times < tb))[:, None], ys, out)
        y_end = y_end.at[s].set(y_end[s] * mul + add)
        return (tb, y_end, out, jnp.where(code == 0, c, code)), None

    init = (t0, y0, jnp.zeros((times.shape[0], n)), jnp.array(0))
    events = (ev_t[order], ev_state[order], ev_add[order], ev_mul[order])
    if ev_t.shape[0]:  # static: without events nor breakpoints, trace one solve, not two
        (ta, y, out, code), _ = jax.lax.scan(step, init, events)
    else:
        ta, y, out, code = init
    ys, y_last, c = integrate(y, ta, jnp.where(code == 0, t_end, ta))
    c = _classify(c, y, y_last)
    out = jnp.where((times >= ta)[:, None], ys, out)
    return out, jnp.where(code == 0, c, code)


def _run_body(model, times, opts, event_state, infusion_slot, p, y0, reg, batch_axes, until=(), levels=None):
    """Solve one trajectory, or a batch over the arguments whose entry of ``batch_axes`` is 0.

    ``batch_axes`` holds the axes of ``(p, y0, reg, levels)``: the save times (1-D) are
    shared and closed over. With a fifth entry (always 0) ``times`` is ``(B, T)``, one row
    of save times per member, and is vmapped like the other batched arguments. ``until``
    (static names) and ``levels`` (``(k,)`` or ``(B, k)``): ``simulate``'s ``until``."""
    _TRACES[0] += 1  # Python side effect: runs only while tracing
    if levels is None:
        levels = jnp.zeros((0,))
    if len(batch_axes) == 4:  # shared save times
        fn = partial(_solve_one, model, times, opts, event_state, infusion_slot, until)
        args = (p, y0, reg, levels)
    else:  # save times per member: a batched argument like the others

        def fn(p, y0, reg, levels, t):
            return _solve_one(model, t, opts, event_state, infusion_slot, until, p, y0, reg, levels)

        args = (p, y0, reg, levels, times)
    if all(a is None for a in batch_axes):
        return fn(*args)
    if opts.vmap_size is None:
        return jax.vmap(fn, in_axes=batch_axes)(*args)
    xs = tuple(a if ax is not None else None for a, ax in zip(args, batch_axes))  # mapped over

    def member(x):
        return fn(*(xi if ax is not None else a for xi, a, ax in zip(x, args, batch_axes)))

    # groups of k vmapped members, one group after the other (lax.map's own batch_size
    # reshapes with -1, which fails on the zero-size arrays of an empty regimen)
    tmap = jax.tree_util.tree_map
    n = jax.tree_util.tree_leaves(xs)[0].shape[0]
    k = min(opts.vmap_size, n)
    n_full = (n // k) * k
    groups = tmap(lambda x: x[:n_full].reshape((n // k, k) + x.shape[1:]), xs)
    out = tmap(lambda y: y.reshape((n_full,) + y.shape[2:]), jax.lax.map(jax.vmap(member), groups))
    if n_full < n:
        rest = jax.vmap(member)(tmap(lambda x: x[n_full:], xs))
        out = tmap(lambda a, b: jnp.concatenate([a, b]), out, rest)
    return out


_run = eqx.filter_jit(_run_body)


# --------------------------------------------------------------------------------------
# Public entry point: resolve and check inputs, run, wrap
# --------------------------------------------------------------------------------------
def simulate(
    model: Model,
    times: ArrayLike,
    params: Params | Mapping[str, Any] | ArrayLike | None = None,
    y0: Mapping[str, Any] | ArrayLike | None = None,
    regimen: Regimen | None = None,
    *,
    options: SolverOptions | None = None,
    solver: str | None = DEFAULT,
    rtol: float = DEFAULT,
    atol: float = DEFAULT,
    max_steps: int = DEFAULT,
    step_to_saves: bool = DEFAULT,
    adjoint: str = DEFAULT,
    vmap_size: int | None = DEFAULT,
    checkpoints: int | None = DEFAULT,
    reciprocals: bool = DEFAULT,
    until: Mapping[str, ArrayLike] | None = None,
    throw: bool = True,
) -> Solution:
    """Solve ``model`` from ``times[0]`` and save at ``times`` (days).

    Args:
        model: a model from :mod:`models` (e.g. ``ayati2010()``).
        times: 1-D, strictly increasing, finite save times in days; the solve starts at
            ``times[0]`` from ``y0``. Or save times per member: a ``(B, T)`` array, each row
            strictly increasing and finite (the same ``T`` for all), member ``i`` solved from
            ``times[i, 0]`` and saved at ``times[i]`` (e.g. each virtual patient from their own
            day); ``B`` must agree with any other batch axis, and ``sol.ts`` is then ``(B, T)``.
            Both forms reuse one compiled function for any values of their shape.
        params: ``None`` (the model's defaults), a ``{name: value}`` mapping of overrides,
            a :class:`~seedsoil.models.Params`, or a flat value vector. A leading batch axis
            (``(B, n)`` values, or overrides given as length-B arrays) solves B sets at once.
        y0: ``None`` (the model's), a ``{state: value}`` mapping of overrides, or a flat
            vector ``(n,)`` or batch ``(B, n)``.
        regimen: a :class:`~seedsoil.solvers.Regimen` (``None``: no doses). Its arrays may
            carry a leading batch axis ``B``.
        options: the solver settings as one :class:`SolverOptions` (default:
            ``SolverOptions()``).
        solver: ``None`` picks ``kvaerno5`` for models flagged ``stiff`` and ``tsit5``
            otherwise; or name one (see :class:`SolverOptions`).
        rtol, atol, max_steps, step_to_saves, adjoint, vmap_size, checkpoints, reciprocals: see
            :class:`SolverOptions`; each one given wins over the same field of ``options``.
        until: ``{output: level}``, scalar outputs (``"cascade.n_detectable[bone]"``) and
            levels (a number, ``inf`` for never, or one per member of a batch): stop a
            trajectory from the first save time at which any of these outputs is ``>=`` its
            level. That save and the ones before are as without ``until``; the later ones
            hold the state reached there (no more steps, no more doses). For passes that
            need each member only up to an event (a trial's screening for a first
            metastasis); with ``vmap_size=1`` a stopped member costs nothing more. Needs
            ``step_to_saves=True``.
        throw: raise :class:`SolveError` naming failed trajectories (default). With
            ``throw=False`` failed members are returned as NaN, listed in a warning and in
            ``sol.status`` / ``sol.failures()``; the other members are unaffected. A
            trajectory that runs out of steps while its state diverges (non-finite, or an
            entry grown a millionfold over a segment, :data:`_BLOWUP`) is reported as
            ``nonfinite_state``, not ``max_steps_reached``; one whose states are finite but
            an input or observable is not (a ratio over zero) as ``nonfinite_output``: a
            success holds finite numbers only.

    Checked before solving (``ValueError`` naming the bad value, and the member of a batch):
    times shape, finiteness and order; parameter values finite and inside their declared bounds (and of an allowed
    shape); ``y0`` shape and finiteness, and no entry below ``-atol`` in a state declared
    ``nonnegative`` (the default of :class:`~seedsoil.models.State`); dose targets that
    the model does not have; dose times before ``times[0]`` (before ``times[i, 0]`` for member
    ``i`` with save times per member), negative, non-finite or
    unsorted; negative amounts, factors or rates; batch sizes that disagree. Checks on
    values are skipped when called inside a JAX transformation.

    Returns:
        A :class:`Solution`. Changing only numbers (parameters, y0, times, dose times and
        amounts with the same event count) reuses the compiled function.
    """
    if not isinstance(model, Model):
        raise TypeError(f"model must be a seedsoil Model; got {type(model).__name__}")
    require_x64(model)
    if not isinstance(throw, (bool, np.bool_)):
        raise ValueError(f"throw must be True or False; got {throw!r}")
    opts = resolve_options(model, options, solver=solver, rtol=rtol, atol=atol, max_steps=max_steps,
                           step_to_saves=step_to_saves, adjoint=adjoint, vmap_size=vmap_size,
                           checkpoints=checkpoints, reciprocals=reciprocals)
    times = _check_times(times, batch=True)
    p = _resolve_params(model, params)
    y = _resolve_y0(model, y0, tol=opts.atol)
    reg, event_state, infusion_slot = _resolve_regimen(model, regimen, times)
    until_names, levels = _resolve_until(model, until, opts)

    sizes = {name: shape[0] for name, shape in (("params", p.batch_shape), ("y0", y.shape[:-1]),
                                                ("regimen", reg.batch_shape), ("times", times.shape[:-1]),
                                                ("until", levels.shape[:-1])) if shape}
    if len(set(sizes.values())) > 1:
        raise ValueError(f"batch sizes disagree: {sizes}")
    batch = next(iter(sizes.values()), None)
    if "regimen" in sizes:  # batch every regimen array (some may have been shared)
        reg = jax.tree_util.tree_map(lambda a: jnp.broadcast_to(a, (batch,) + a.shape[-1:]), reg)
    axes = tuple(0 if k in sizes else None for k in ("params", "y0", "regimen", "until"))
    if times.ndim == 2:  # save times per member: a fifth batched argument (1-D times: as always)
        axes += (0,)

    args = (times, event_state, infusion_slot, p.values, y, reg, levels)
    if is_concrete(args):  # top level: reuse the program across sessions (solvers/programs.py)
        run = lambda mdl, tt, es, sl, pv, yy, rr, ll: _run(mdl, tt, opts, es, sl, pv, yy, rr, axes,  # noqa: E731
                                                           until_names, ll)
        key = f"simulate;{opts!r};{axes!r}" + (f";until={until_names!r}" if until_names else "")
        ys, u, obs, code = programs.cached_call(model, key, run, args)
    else:
        ys, u, obs, code = _run(model, times, opts, event_state, infusion_slot, p.values, y, reg, axes, until_names,
                                levels)
    sol = Solution(
        ts=times, ys=ys, inputs=u, observables=obs, code=code,
        state_layout=tuple((k, *v) for k, v in model.state_layout.items()),
        input_layout=tuple((k, *v) for k, v in model.input_layout.items()),
        model_name=model.name, output_specs=model.output_specs,
    )
    if not is_concrete(code):
        return sol
    failed = sol.failures()
    if failed:
        if batch is None:
            listing = failed[0][1]
        else:
            listing = ", ".join(f"#{i} {why}" for i, why in failed[:20]) + (" ..." if len(failed) > 20 else "")
        where = f"{len(failed)} of {batch} trajectories" if batch is not None else "the trajectory"
        msg = f"{model.name}: {where} failed: {listing}"
        if throw:
            raise SolveError(msg + ". Pass throw=False to keep the others and inspect sol.status.")
        warnings.warn(msg + "; their values are NaN.", RuntimeWarning, stacklevel=2)
        bad = ~sol.ok
        nan_where = lambda a: jnp.where(jnp.reshape(bad, bad.shape + (1,) * (a.ndim - bad.ndim)), jnp.nan, a)
        sol = eqx.tree_at(lambda s: (s.ys, s.inputs, s.observables), sol,
                          (nan_where(sol.ys), nan_where(sol.inputs),
                           jax.tree_util.tree_map(nan_where, sol.observables)))
    return sol


def _resolve_until(model: Model, until, opts: SolverOptions) -> tuple[tuple[str, ...], Float[Array, "*batch k"]]:
    """``simulate``'s ``until`` as (output names, levels ``(k,)`` or ``(B, k)``), checked:
    known scalar outputs, levels numbers (``inf`` allowed, NaN not), one shape."""
    if until is None:
        return (), jnp.zeros((0,))
    if not isinstance(until, Mapping) or not until:
        raise ValueError(f"until must be a non-empty mapping {{output: level}}; got {until!r}")
    if not opts.step_to_saves:
        raise ValueError("until stops at save times: it needs step_to_saves=True")
    names, cols = [], []
    for name, level in until.items():
        spec, entry = model.resolve_output(name)  # an unknown name raises, naming it
        if output_shape(spec, entry) != ():
            raise ValueError(f"until[{name!r}]: a level needs a scalar output; {name!r} has shape "
                             f"{output_shape(spec, entry)} (name one entry, e.g. {name!r}[0])")
        lv = as_numbers(level, f"until[{name!r}]")
        if lv.ndim > 1:
            raise ValueError(f"until[{name!r}] must be a number or one level per member; got shape {lv.shape}")
        if is_concrete(lv) and np.any(np.isnan(np.asarray(lv))):
            i = int(np.flatnonzero(np.isnan(np.atleast_1d(np.asarray(lv))))[0])
            raise ValueError(f"until[{name!r}] is NaN" + (f" for member {i}" if lv.ndim else "") +
                             "; use inf for a member that should never stop")
        names.append(str(name))
        cols.append(lv)
    shapes = {c.shape for c in cols if c.ndim}
    if len(shapes) > 1:
        raise ValueError(f"until: levels per member of different lengths {sorted(shapes)}")
    if shapes:
        (b,) = shapes.pop()
        cols = [jnp.broadcast_to(c, (b,)) for c in cols]
    return tuple(names), jnp.stack(cols, axis=-1).astype(jnp.float64)


def _check_times(times: ArrayLike, batch: bool = False) -> Float[Array, "*batch t"]:
    """``times`` as an array, checked: 1-D (or, with ``batch``, ``(B, T)``: one row per
    member), non-empty, finite and strictly increasing (along each row); a bad row is named."""
    t = as_numbers(times, "times")
    if batch and t.ndim == 2:
        if t.shape[0] < 1 or t.shape[1] < 1:
            raise ValueError(f"times per member must be a non-empty (batch, T) array of days; got shape {t.shape}")
        if is_concrete(t):
            tn = np.asarray(t)
            if not np.all(np.isfinite(tn)):
                i, j = (int(x) for x in np.argwhere(~np.isfinite(tn))[0])
                raise ValueError(f"times must be finite; member {i} has times[{i}, {j}] = {float(tn[i, j])!r}")
            d = np.diff(tn, axis=1)
            if np.any(d <= 0):
                i, k = (int(x) for x in np.argwhere(d <= 0)[0])
                raise ValueError(f"times must increase strictly along each member's row; member {i} has "
                                 f"times[{i}, {k + 1}] = {float(tn[i, k + 1])} after {float(tn[i, k])}")
        return t
    if t.ndim != 1 or t.shape[0] < 1:
        want = "a non-empty 1-D array of days" + (" (or (batch, T), one row per member)" if batch else "")
        raise ValueError(f"times must be {want}; got shape {t.shape}")
    if is_concrete(t):
        tn = np.asarray(t)
        if not np.all(np.isfinite(tn)):
            raise ValueError(f"times must be finite; got {float(tn[~np.isfinite(tn)][0])!r}")
        d = np.diff(tn)
        if np.any(d <= 0):
            k = int(np.flatnonzero(d <= 0)[0])
            raise ValueError(f"times must increase strictly; times[{k + 1}] = {float(tn[k + 1])} "
                             f"follows {float(tn[k])}")
    return t


def _resolve_params(model: Model, params) -> Params:
    if params is None:
        return model.params
    if isinstance(params, Params):
        if params.specs != model.params.specs:
            raise ValueError(f"these parameters were not declared for model {model.name!r}")
        return params.check()
    if isinstance(params, Mapping):  # names resolved by seedsoil.models.base.resolve_name, as everywhere
        return model.params.replace_named(params, owner=model.name)
    return model.params.with_values(params)


def _resolve_y0(model: Model, y0, tol: float = _SIMULATE_DEFAULTS["atol"]) -> Float[Array, "*batch n"]:
    """The initial state(s) as a flat ``(n,)`` or ``(B, n)`` array, checked: shape, finite, and
    not below ``-tol`` (the solver's absolute tolerance: smaller negatives are solver noise,
    e.g. a state carried over from an earlier solve) in a state declared ``nonnegative``."""
    if y0 is None:
        y = model.y0
    elif isinstance(y0, Mapping):
        y = model.with_y0(**y0).y0
    else:
        y = as_numbers(y0, "y0")
    if y.ndim not in (1, 2) or y.shape[-1] != model.n_states:
        raise ValueError(f"y0 must have shape ({model.n_states},) or (batch, {model.n_states}); got {y.shape}")
    if is_concrete(y) and not np.all(np.isfinite(np.asarray(y))):
        k = tuple(np.argwhere(~np.isfinite(np.asarray(y)))[0])
        labels = [s.name if s.shape == () else f"{s.name}[{i}]" for s in model.states for i in range(s.size)]
        member = f" (batch member {k[0]})" if y.ndim > 1 else ""
        raise ValueError(f"initial state {labels[k[-1]]!r} is not finite: {float(np.asarray(y)[k])!r}{member}")
    if is_concrete(y):
        yn = np.asarray(y)
        floor = np.concatenate([np.full(s.size, -tol if s.nonnegative else -np.inf) for s in model.states])
        if np.any(yn < floor):
            k = tuple(np.argwhere(yn < floor)[0])
            spec = [s for s in model.states for _ in range(s.size)][k[-1]]
            label = flat_labels(model.states)[k[-1]]  # "x1", or one entry "D[bone]"
            member = f" (batch member {k[0]})" if yn.ndim > 1 else ""
            raise ValueError(f"initial state {label!r} = {float(yn[k])!r}{member} is negative, but {spec.name!r} "
                             f"({spec.description or spec.unit}) is an amount that cannot be below 0 [{spec.unit}]")
    return y


def _declares(specs, name: str) -> bool:
    try:
        resolve_name(specs, name)
    except UnknownNameError:
        return False
    return True


def _resolve_regimen(model: Model, regimen: Regimen | None, times) -> tuple[Regimen, Array, Array]:
    reg = Regimen.empty() if regimen is None else regimen
    if not isinstance(reg, Regimen):
        raise TypeError("regimen must be a Regimen (see seedsoil.solvers.bolus/infusion/scale); "
                        f"got {type(reg).__name__}")
    reg.check()
    def where(target: str, allow_inputs: bool) -> int:
        """Flat slot of a dose target: a state (``"C"``, one entry ``"D[bone]"``, a
        composite's ``"denosumab.depot"``) or, for infusions, an input (after the states)."""
        specs = model.states + (model.inputs if allow_inputs else ())
        try:
            idx, shape = resolve_name(specs, target, kind="dose target", owner=model.name)  # as everywhere
        except UnknownNameError:
            if not allow_inputs and model.inputs and _declares(model.inputs, target):
                raise ValueError(f"dose target {target!r} is an input of model {model.name!r}, not a state: "
                                 "infuse it (infusion(...)); a bolus or a scaling doses a state") from None
            raise
        if shape != ():
            raise ValueError(f"dose target {target!r} has shape {shape}; dose a scalar state or one entry, "
                             f"e.g. {target + '[0]'!r}")
        return idx[0]

    # each distinct target resolved once (a regimen repeats a few targets over many events)
    events = {t: where(t, False) for t in dict.fromkeys(reg.event_target)}
    infusions = {t: where(t, True) for t in dict.fromkeys(reg.infusion_target)}
    event_state = jnp.asarray([events[t] for t in reg.event_target], dtype=jnp.int32)
    infusion_slot = jnp.asarray([infusions[t] for t in reg.infusion_target], dtype=jnp.int32)
    if is_concrete((reg, times)) and reg.n_events:
        tn = np.asarray(times)  # not times[0]: under jit, indexing stages a traced op
        et = np.asarray(reg.event_time)
        if tn.ndim == 1:
            t0 = float(tn[0])
            if np.any(et < t0):
                k = tuple(np.argwhere(et < t0)[0])
                raise ValueError(f"dose time {float(et[k])} for {reg.event_target[k[-1]]!r} is before the start of "
                                 f"the simulation ({t0})")
        else:  # save times per member: each member's doses against its own start
            starts = tn[:, 0]
            if et.ndim <= 1 or et.shape[0] in (1, starts.shape[0]):  # else the batch sizes disagree (raised later)
                early = np.broadcast_to(et, starts.shape + et.shape[-1:]) < starts[:, None]
                if np.any(early):
                    i, e = (int(x) for x in np.argwhere(early)[0])
                    ei = float(np.broadcast_to(et, early.shape)[i, e])
                    raise ValueError(f"dose time {ei} for {reg.event_target[e]!r} of member {i} is before the start "
                                     f"of its simulation (times[{i}, 0] = {float(starts[i])})")
    return reg, event_state, infusion_slot
