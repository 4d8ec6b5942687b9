"""Fit model parameters to measured data: likelihood, optimisers, uncertainty.

Generic machinery, no biology. A fit is described by a :class:`FitProblem`:

* a model and a :class:`~seedsoil.solvers.Dataset`;
* **observation models** (:class:`Observation`, built with :func:`identity`,
  :func:`relative`, :func:`log10`), each mapping a model output (a state, input or
  observable of the model) to a measured quantity, ``h(x)``:

  - identity: ``h = scale * x + offset``;
  - relative to a baseline: ``h = scale * 100 * x / x(t_base) + offset`` (percent of the
    value at ``t_base``, by default the condition's start time);
  - log10: ``h = log10(scale * x + offset)`` (bioluminescence: photons/s proportional to
    cells, plus background);

  ``scale``, ``offset`` and the noise ``sigma`` are numbers, or names of extra
  parameters (:class:`~seedsoil.models.Param`) that can be estimated with the model's;
* **noise models**: ``"normal"`` (``y ~ N(h, sd)``) with ``sd`` the reported standard
  error (default) or ``sigma``; ``"lognormal"`` (``log y ~ N(log h, sd)``) with
  ``sd = stderr / y`` (delta method) or ``sigma``;
* **conditions** (:class:`Condition`, or tuples ``(group, regimen, overrides)``): one per
  experimental group, each with its own dosing regimen, fixed parameter overrides
  (which take precedence over free values), initial-state overrides and start time.
  Conditions that share a start time and the same regimen structure (same targets and
  event counts) are simulated together in one vmapped solve; the others in a static
  loop;
* **free parameters** by name (model or extra parameters; array entries by their flat
  label, e.g. ``w[bone]``), the rest held at their values. Free parameters are
  estimated on log scale (``scale={"name": "linear"}`` for a parameter that may be
  <= 0) within their declared bounds, narrowed by ``bounds={"name": (lo, hi)}``. The
  optimiser works on an unconstrained variable ``z``: a logistic map onto a finite
  range, a softplus onto a half-line, the identity on the whole line.

The objective is the negative log-likelihood ``NLL = sum_i [r_i^2 / 2 + log sd_i +
log(2 pi) / 2] (+ sum log y_i for log-normal rows)`` with standardised residuals
``r_i = (y_i - h_i) / sd_i``; ``-2 log L = 2 NLL``.

:func:`fit` minimises it with Levenberg-Marquardt on the residuals
(``optimistix.least_squares`` with ``optimistix.LevenbergMarquardt``; Levenberg 1944,
Marquardt 1963; needs every ``sd`` fixed) or with BFGS on the NLL
(``optimistix.minimise`` with ``optimistix.BFGS``; Nocedal & Wright 2006, ch. 6), from
``n_starts`` starting points (the given start plus a Latin hypercube on the log-scale
ranges) run in one ``jax.vmap`` of the optimiser; the best is kept, all are reported.
Derivatives of the ODE solution are forward-mode sensitivities (``diffrax.ForwardMode``).

Uncertainty: Wald intervals ``u +/- z_{1-a/2} se`` from the Fisher information
``J_m^T J_m + 2 J_s^T J_s`` (``J_m``: Jacobian of the means over the sd, ``J_s`` of
``log sd``) at the optimum, on the log scale, reported in natural units;
:func:`profile` computes the profile likelihood (Raue et al. 2009, Bioinformatics
25:1923): one parameter fixed on a grid, the others re-optimised, with the
``chi2(1)`` threshold 3.84 for a 95 % interval. :func:`sample_posterior` draws from the
Bayesian posterior with NumPyro's NUTS (Hoffman & Gelman 2014), uniform priors on the
log-scale ranges (requires the optional extra ``seedsoil[bayes]``).
"""

from __future__ import annotations

import dataclasses
import math
import warnings
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from statistics import NormalDist
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optimistix as optx
from jaxtyping import Array, ArrayLike, Bool, Float, Int

from ..models.base import Model, Param, Params, UnknownNameError, as_numbers, output_shape, resolve_name
from ._simulate import DEFAULT, SolverOptions, resolve_options, simulate
from .data import Dataset
from .regimen import Regimen

__all__ = [
    "Observation", "identity", "relative", "log10", "Condition", "FitProblem", "FitResult", "StartsReport",
    "ProfileResult", "Posterior", "fit", "profile", "sample_posterior", "CHI2_95",
]

#: 95 % quantile of chi2 with one degree of freedom (profile-likelihood threshold).
def chi2_1_quantile(level: float) -> float:
    """The chi-square (1 degree of freedom) quantile at ``level``: ``z**2`` with ``z`` the
    standard normal quantile at ``(1 + level) / 2`` (stdlib ``NormalDist``, within 3e-15 of
    ``scipy.stats.chi2.ppf``; scipy.stats is slow to import)."""
    return NormalDist().inv_cdf(0.5 + level / 2) ** 2


CHI2_95 = chi2_1_quantile(0.95)  # 3.841...

_TRANSFORMS = ("identity", "relative", "log10")
_NOISES = ("normal", "lognormal")
_METHODS = ("lm", "bfgs")
_LOG2PI = math.log(2.0 * math.pi)
#: A fit's solver tolerances unless ``options``/keywords say otherwise (tighter than
#: ``simulate``'s: the optimisers difference the objective).
_FIT_SOLVER_DEFAULTS = {"rtol": 1e-8, "atol": 1e-10}
try:
    _OPTX_STATUS = {int(item._value): name for name, item in optx.RESULTS._name_to_item.items()}
except AttributeError:  # pragma: no cover - private API of optimistix
    _OPTX_STATUS = {0: "successful"}


# --------------------------------------------------------------------------------------
# Observation and noise models, conditions
# --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Observation:
    """How one measured observable relates to one model output (see the module docs).

    Attributes:
        observable: the name in the data (``observable`` column).
        output: a scalar state, input or observable of the model, or one entry of an
            array-valued one (``"metastatic_burden[bone]"``, ``"D[0]"``), read with ``sol[output]``.
        transform: ``"identity"`` (``scale x + offset``), ``"relative"``
            (``scale 100 x / x(baseline_time) + offset``; ``percent=False`` drops the 100)
            or ``"log10"`` (``log10(scale x + offset)``).
        scale, offset: numbers, or names of parameters (model or extra) used as such.
        baseline_time: for ``"relative"``: the time (days) of the reference value; ``None``
            for the start time of each condition.
        percent: for ``"relative"``: multiply the ratio by 100.
        noise: ``"normal"`` or ``"lognormal"``.
        sigma: ``None`` (use the reported standard errors), a number, or the name of a
            parameter (estimated noise level; on log scale for ``"lognormal"``).
        groups: the groups this observation model applies to (``None``: all conditions).
    """

    observable: str
    output: str
    transform: str = "identity"
    scale: float | str = 1.0
    offset: float | str = 0.0
    baseline_time: float | None = None
    percent: bool = True
    noise: str = "normal"
    sigma: float | str | None = None
    groups: tuple[str, ...] | None = None

    def __post_init__(self):
        if self.transform not in _TRANSFORMS:
            raise ValueError(f"observation {self.observable!r}: unknown transform {self.transform!r}; "
                             f"choose one of {_TRANSFORMS}")
        if self.noise not in _NOISES:
            raise ValueError(f"observation {self.observable!r}: unknown noise {self.noise!r}; choose one of {_NOISES}")
        for key in ("scale", "offset", "sigma"):
            v = getattr(self, key)
            if v is None and key == "sigma" or isinstance(v, str):
                continue
            if not (isinstance(v, (int, float)) and math.isfinite(v)):
                raise ValueError(f"observation {self.observable!r}: {key} must be a finite number or a parameter "
                                 f"name; got {v!r}")
        if isinstance(self.sigma, (int, float)) and self.sigma <= 0:
            raise ValueError(f"observation {self.observable!r}: sigma must be > 0; got {self.sigma!r}")
        if isinstance(self.groups, str):
            object.__setattr__(self, "groups", (self.groups,))
        elif self.groups is not None:
            object.__setattr__(self, "groups", tuple(self.groups))


def identity(observable: str, output: str | None = None, **kw: Any) -> Observation:
    """Observation ``scale * x + offset`` of model output ``output`` (default: same name)."""
    return Observation(observable, output or observable, "identity", **kw)


def relative(observable: str, output: str | None = None, baseline_time: float | None = None,
             percent: bool = True, **kw: Any) -> Observation:
    """Observation ``100 * x / x(baseline_time)`` (percent of the baseline value; the
    condition's start time when ``baseline_time`` is ``None``), times ``scale`` plus ``offset``."""
    return Observation(observable, output or observable, "relative", baseline_time=baseline_time, percent=percent, **kw)


def log10(observable: str, output: str | None = None, scale: float | str = 1.0, offset: float | str = 0.0,
          **kw: Any) -> Observation:
    """Observation ``log10(scale * x + offset)`` (e.g. bioluminescence in log10 photons/s
    of a cell count ``x``: ``scale`` photons/s per cell, ``offset`` background)."""
    return Observation(observable, output or observable, "log10", scale=scale, offset=offset, **kw)


@dataclass(frozen=True)
class Condition:
    """One experimental group as simulated: its regimen, overrides and start time.

    Attributes:
        group: the group id in the data (``expt_id``).
        regimen: doses for this group (``None``: none).
        params: ``{parameter: value}`` held fixed for this group; they take precedence over
            free values (e.g. a treatment effect switched off in the control group).
        y0: ``{state: value}`` initial-state overrides.
        t0: start time of the simulation (days); data times must be >= ``t0``.
    """

    group: str
    regimen: Regimen | None = None
    params: Mapping[str, Any] = field(default_factory=dict)
    y0: Mapping[str, Any] = field(default_factory=dict)
    t0: float = 0.0


def _pair(rng: Any, what: str) -> tuple[float, float]:
    """``(lo, hi)`` as two floats, or ``ValueError`` naming ``what``."""
    try:
        lo, hi = rng
        return float(lo), float(hi)
    except (TypeError, ValueError):
        raise ValueError(f"{what} must be a pair of numbers (lo, hi); got {rng!r}") from None


def _number(v: Any, what: str) -> float:
    """``float(v)``, or ``ValueError`` naming ``what``."""
    try:
        if isinstance(v, (str, bytes)) or v is None:
            raise TypeError
        return float(v)
    except (TypeError, ValueError):
        raise ValueError(f"{what} must be a number; got {v!r}") from None


def _as_condition(c: Any) -> Condition:
    if isinstance(c, Condition):
        return c
    if isinstance(c, str):
        return Condition(c)
    if isinstance(c, tuple) and 1 <= len(c) <= 4:
        group, regimen, params, y0 = (tuple(c) + (None, None, None))[:4]
        return Condition(group, regimen, dict(params or {}), dict(y0 or {}))
    raise TypeError(f"a condition is a Condition, a group name or a tuple (group, regimen, params[, y0]); got {c!r}")


# --------------------------------------------------------------------------------------
# The jittable core: arrays are leaves, structure is static
# --------------------------------------------------------------------------------------
class _Block(eqx.Module):
    """Rows ``start:stop`` of the flattened data: one observation in one condition."""

    cls: int = eqx.field(static=True)
    member: int = eqx.field(static=True)
    obs: int = eqx.field(static=True)
    start: int = eqx.field(static=True)
    stop: int = eqx.field(static=True)
    baseline: int = eqx.field(static=True)


class _Core(eqx.Module):
    model: Model
    theta0: Float[Array, " n_all"]
    ov_mask: Bool[Array, "c n_model"]
    ov_value: Float[Array, "c n_model"]
    y0s: Float[Array, "c n_states"]
    class_times: tuple
    class_regimens: tuple
    row_tidx: Int[Array, " n"]
    y_noise: Float[Array, " n"]
    stderr_noise: Float[Array, " n"]
    logjac: Float[Array, ""]
    n_model: int = eqx.field(static=True)
    free_idx: tuple[int, ...] = eqx.field(static=True)
    log_scale: tuple[bool, ...] = eqx.field(static=True)
    lo: tuple[float, ...] = eqx.field(static=True)
    hi: tuple[float, ...] = eqx.field(static=True)
    classes: tuple[tuple[int, ...], ...] = eqx.field(static=True)
    blocks: tuple[_Block, ...] = eqx.field(static=True)
    observations: tuple[Observation, ...] = eqx.field(static=True)
    obs_idx: tuple[tuple[Any, Any, Any], ...] = eqx.field(static=True)
    sim: SolverOptions = eqx.field(static=True)  # the problem's options, adjoint set by the caller

    # parameter maps -------------------------------------------------------------------
    def u_of_z(self, z: Float[Array, " m"]) -> Float[Array, " m"]:
        out = []
        for i, (a, b) in enumerate(zip(self.lo, self.hi)):
            zi = z[i]
            if math.isfinite(a) and math.isfinite(b):
                out.append(a + (b - a) * jax.nn.sigmoid(zi))
            elif math.isfinite(a):
                out.append(a + jax.nn.softplus(zi))
            elif math.isfinite(b):
                out.append(b - jax.nn.softplus(-zi))
            else:
                out.append(zi)
        return jnp.stack(out)

    def theta(self, u: Float[Array, " m"]) -> Float[Array, " n_all"]:
        vals = jnp.where(jnp.asarray(self.log_scale), jnp.exp(u), u)
        return self.theta0.at[jnp.asarray(self.free_idx, dtype=jnp.int32)].set(vals)

    # model predictions on the noise scale -----------------------------------------------
    def moments(self, theta: Float[Array, " n_all"]) -> tuple[Float[Array, " n"], Float[Array, " n"]]:
        """Mean and standard deviation of every data row on the noise scale (``h`` or
        ``log h``); NaN means where the solve failed."""
        p_model = theta[: self.n_model]
        sols = []
        for k, members in enumerate(self.classes):
            if len(members) == 1:  # one condition: an unbatched solve (cheaper to compile)
                c = members[0]
                P = jnp.where(self.ov_mask[c], self.ov_value[c], p_model)
                sol = simulate(self.model, self.class_times[k], params=P, y0=self.y0s[c],
                               regimen=self.class_regimens[k], options=self.sim, throw=False)
                sol = jax.tree_util.tree_map(lambda a: a[None], sol)  # add the batch axis back
                sol = eqx.tree_at(lambda s_: s_.ts, sol, sol.ts[0])
            else:
                idx = jnp.asarray(members, dtype=jnp.int32)
                P = jnp.where(self.ov_mask[idx], self.ov_value[idx], p_model[None, :])
                sol = simulate(self.model, self.class_times[k], params=P, y0=self.y0s[idx],
                               regimen=self.class_regimens[k], options=self.sim, throw=False)
            sols.append(sol)
        ms, ss = [], []
        for blk in self.blocks:
            obs = self.observations[blk.obs]
            sol = sols[blk.cls]
            x_all = sol[obs.output][blk.member]
            x = x_all[self.row_tidx[blk.start:blk.stop]]
            base = x_all[blk.baseline] if obs.transform == "relative" else None
            scale_offset = (_value(theta, i, v) for i, v in zip(self.obs_idx[blk.obs], (obs.scale, obs.offset)))
            h = _observe(obs, x, base, *scale_offset)
            m = jnp.log(h) if obs.noise == "lognormal" else h
            if obs.sigma is None:
                s = self.stderr_noise[blk.start:blk.stop]
            else:
                s = jnp.broadcast_to(_value(theta, self.obs_idx[blk.obs][2], obs.sigma), m.shape)
            ms.append(jnp.where(sol.code[blk.member] == 0, m, jnp.nan))
            ss.append(s)
        return jnp.concatenate(ms), jnp.concatenate(ss)


def _value(theta: Array, index: int | None, const: Any) -> Array:
    return theta[index] if index is not None else jnp.asarray(const, dtype=jnp.float64)


def _observe(obs: Observation, x: Array, base: Array | None, scale: Array, offset: Array) -> Array:
    if obs.transform == "identity":
        return scale * x + offset
    if obs.transform == "relative":
        return scale * (100.0 if obs.percent else 1.0) * x / base + offset
    return jnp.log10(scale * x + offset)


@eqx.filter_jit
def _moments_jac(core: _Core, u: Float[Array, " m"]):
    """Means and sds of every row on the noise scale and their forward-mode Jacobians
    with respect to ``u`` (one compiled ODE program per problem structure)."""
    f = lambda uu: core.moments(core.theta(uu))
    (jm, js), (m, s) = jax.jacfwd(lambda uu: (f(uu), f(uu)), has_aux=True)(u)
    return m, s, jm, js


class _Objective:
    """The likelihood as JAX functions of ``u``, used by every optimiser and sampler.

    ``mode="callback"`` (default): the model evaluation and its Jacobian run in one
    separately compiled program (:func:`_moments_jac`), called through
    ``jax.pure_callback`` with a custom JVP (tangent ``J du``). The optimisers' own
    programs then contain no ODE solver, so they compile in about a second, for any
    number of starts or profile points, and LM, BFGS, profiles, the Fisher information
    and NUTS share the one compiled model evaluation. Compiling the ODE solve inside each
    vmapped optimiser instead (``mode="inline"``, one XLA program, no host round trips)
    took 30-80 s per optimiser for a one-state model on CPU.
    """

    def __init__(self, core: _Core, mode: str):
        if mode not in ("callback", "inline"):
            raise ValueError(f"mode must be 'callback' or 'inline'; got {mode!r}")
        self.core, self.mode = core, mode
        self.lo, self.hi = core.lo, core.hi
        n, m = core.y_noise.shape[0], len(core.free_idx)
        vec = jax.ShapeDtypeStruct((n,), jnp.float64)
        mat = jax.ShapeDtypeStruct((n, m), jnp.float64)

        def host(u):
            out = _moments_jac(core, jnp.asarray(u, dtype=jnp.float64))
            return tuple(np.asarray(a, dtype=np.float64) for a in out)

        @jax.custom_jvp
        def moments(u):
            m_, s_, _, _ = jax.pure_callback(host, (vec, vec, mat, mat), u, vmap_method="sequential")
            return m_, s_

        @moments.defjvp
        def _moments_jvp(primals, tangents):
            (u,), (du,) = primals, tangents
            m_, s_, jm, js = jax.pure_callback(host, (vec, vec, mat, mat), u, vmap_method="sequential")
            return (m_, s_), (jm @ du, js @ du)

        self._callback_moments = moments

    def moments(self, u: Float[Array, " m"]) -> tuple[Float[Array, " n"], Float[Array, " n"]]:
        if self.mode == "callback":
            return self._callback_moments(u)
        return self.core.moments(self.core.theta(u))

    def u_of_z(self, z: Float[Array, " m"]) -> Float[Array, " m"]:
        return self.core.u_of_z(z)

    def residuals_u(self, u: Float[Array, " m"]) -> Float[Array, " n"]:
        m, s = self.moments(u)
        return (self.core.y_noise - m) / s

    def nll_u(self, u: Float[Array, " m"]) -> Float[Array, ""]:
        m, s = self.moments(u)
        r = (self.core.y_noise - m) / s
        return 0.5 * jnp.sum(r**2) + jnp.sum(jnp.log(s)) + 0.5 * r.shape[0] * _LOG2PI + self.core.logjac


@eqx.filter_jit
def _optimise(obj: _Objective, z0: Float[Array, "k m"], mask: Bool[Array, " m"], u_fixed: Float[Array, "k m"],
              method: str, rtol: float, atol: float, max_steps: int):
    """Run the optimiser from each row of ``z0`` (one ``jax.vmap``); coordinates where
    ``mask`` is True are held at ``u_fixed`` (used by :func:`profile`)."""

    def u_of(z, uf):
        return jnp.where(mask, uf, obj.u_of_z(z))

    def one(z, uf):
        if method == "lm":
            sol = optx.least_squares(lambda zz, a: obj.residuals_u(u_of(zz, a)), optx.LevenbergMarquardt(rtol, atol),
                                     z, args=uf, options={"jac": "fwd"}, max_steps=max_steps, throw=False)
        else:
            sol = optx.minimise(lambda zz, a: obj.nll_u(u_of(zz, a)), optx.BFGS(rtol, atol), z, args=uf,
                                options={"autodiff_mode": "fwd"}, max_steps=max_steps, throw=False)
        u = u_of(sol.value, uf)
        return sol.value, u, obj.nll_u(u), sol.result._value, sol.stats["num_steps"]

    return jax.vmap(one)(z0, u_fixed)


def _fisher(core: _Core, u: np.ndarray) -> np.ndarray:
    """Fisher information on the u scale, ``J_m^T J_m + 2 J_s^T J_s`` with ``J_m`` the
    Jacobian of the means over the sd and ``J_s`` that of ``log sd`` (normal likelihood
    with parameter-dependent mean and sd; e.g. Raue et al. 2009)."""
    _, s, jm, js = (np.asarray(a) for a in _moments_jac(core, jnp.asarray(u)))
    jm = jm / s[:, None]
    jl = js / s[:, None]
    return jm.T @ jm + 2.0 * jl.T @ jl


# --------------------------------------------------------------------------------------
# Problem definition
# --------------------------------------------------------------------------------------
class FitProblem:
    """Model + data + observation models + conditions + free parameters (module docs).

    Args:
        model: the model; its parameter values are the fixed values and default starts.
        data: a :class:`~seedsoil.solvers.Dataset`; rows of groups without a condition, or of
            observables without an observation model, are not used.
        observations: :class:`Observation` objects (at most one per observable and group).
        conditions: :class:`Condition` objects, group names, or tuples
            ``(group, regimen, params_overrides[, y0_overrides])``.
        free: names of the parameters to estimate, in any form of
            :func:`~seedsoil.models.base.resolve_name` (``"r"``; a whole array ``"w"``, which frees
            every entry; one entry ``"w[bone]"``; a composite's ``"bone.k_z"``), or names of
            ``extra`` parameters. ``problem.free`` lists the free entries by flat label.
        extra: observation parameters (scale, offset, sigma) as :class:`~seedsoil.models.Param`.
        bounds: ``{name: (lo, hi)}`` ranges for free parameters, inside the declared bounds
            (a whole array's range applies to each entry; an entry's own range wins).
        scale: ``{name: "log" | "linear"}``; default ``"log"`` (needs a lower bound >= 0).
        options: ODE solver settings as one :class:`~seedsoil.solvers.SolverOptions`; its
            ``rtol``/``atol`` left unset (``None``) are the fit's 1e-8/1e-10, tighter than
            ``simulate``'s (default: ``SolverOptions()``, i.e. rtol 1e-8, atol 1e-10).
        solver, rtol, atol, max_steps: ODE solver settings (see :func:`~seedsoil.solvers.simulate`);
            each one given wins over the same field of ``options``.
        mode: ``"callback"`` (default): the model and its sensitivities are compiled once
            and called from the optimisers (fast compilation, shared by every fit, profile
            and sampler of this problem); ``"inline"``: traced into each optimiser (one
            XLA program without host round trips, but long compile times).

    Raises ``ValueError`` for unknown names (parameters, outputs, groups, observables),
    ranges outside the declared bounds, log scale on a parameter that may be negative,
    data before a condition's start, log-normal noise on values <= 0, and conditions or
    observations without data.
    """

    def __init__(
        self,
        model: Model,
        data: Dataset,
        observations: Sequence[Observation],
        conditions: Sequence[Condition | tuple | str],
        free: Sequence[str],
        *,
        extra: Sequence[Param] = (),
        bounds: Mapping[str, tuple[float, float]] | None = None,
        scale: Mapping[str, str] | None = None,
        options: SolverOptions | None = None,
        solver: str | None = DEFAULT,
        rtol: float = DEFAULT,
        atol: float = DEFAULT,
        max_steps: int = DEFAULT,
        mode: str = "callback",
    ):
        if mode not in ("callback", "inline"):
            raise ValueError(f"mode must be 'callback' or 'inline'; got {mode!r}")
        if not isinstance(model, Model):
            raise TypeError(f"model must be a seedsoil Model; got {type(model).__name__}")
        if not isinstance(data, Dataset):
            raise TypeError(f"data must be a seedsoil.solvers.Dataset; got {type(data).__name__}")
        self.mode, self.model, self.data = mode, model, data
        if free is not None and not isinstance(free, str) and (not isinstance(free, Iterable)
                                                               or isinstance(free, Mapping)):
            raise TypeError(f"free must be a list of parameter names; got {type(free).__name__} {free!r}")
        # the arguments, to rebuild the problem on a subset of the data (cross-validation)
        self._init = dict(model=model, free=tuple(free) if not isinstance(free, str) else free, extra=tuple(extra),
                          bounds=dict(bounds or {}), scale=dict(scale or {}), options=options, solver=solver,
                          rtol=rtol, atol=atol, max_steps=max_steps, mode=mode)
        self.extra = Params.from_specs(tuple(extra))
        if isinstance(observations, Observation):
            observations = (observations,)
        if isinstance(conditions, (str, Condition)):
            conditions = (conditions,)
        for what, given in (("observations", observations), ("conditions", conditions)):
            if not isinstance(given, Iterable) or isinstance(given, (str, Mapping)):
                raise TypeError(f"{what} must be a list; got {type(given).__name__} {given!r}")
        self.observations = tuple(observations)
        for o in self.observations:
            if not isinstance(o, Observation):
                raise TypeError(f"observations must be Observation objects (identity(...), relative(...), "
                                f"log10(...)); got {o!r}")
        self.conditions = tuple(_as_condition(c) for c in conditions)
        self.options = resolve_options(model, options, defaults=_FIT_SOLVER_DEFAULTS, solver=solver, rtol=rtol,
                                       atol=atol, max_steps=max_steps)
        self._declare_parameters()
        free_idx = self._resolve_free(free)
        if not self.conditions:
            raise ValueError("no conditions given")
        if not self.observations:
            raise ValueError("no observations given")
        self._estimation_scales(free_idx, dict(bounds or {}), dict(scale or {}))
        obs_idx = self._observation_parameters()
        ov_mask, ov_value, y0s = self._condition_overrides()
        rows_per_block = self._data_blocks()
        classes, member, class_times, class_regs = self._simulation_classes(rows_per_block)
        rows = self._noise_scale_rows(rows_per_block, member, class_times)
        self._needs_sigma_free = any(sigma is not None and sigma in free_idx for _, _, sigma in obs_idx)
        if self.n_data < len(self.free):
            warnings.warn(f"{len(self.free)} free parameters for {self.n_data} data points", RuntimeWarning,
                          stacklevel=2)
        self._core_args = dict(
            model=model, theta0=jnp.asarray(self._theta0), ov_mask=jnp.asarray(ov_mask),
            ov_value=jnp.asarray(ov_value), y0s=jnp.asarray(np.stack(y0s)),
            class_times=tuple(jnp.asarray(t) for t in class_times), class_regimens=tuple(class_regs),
            n_model=self._n_model, free_idx=tuple(free_idx), log_scale=self.log_scale,
            lo=tuple(float(a) for a in self._lo_u), hi=tuple(float(b) for b in self._hi_u), classes=classes,
            observations=self.observations, obs_idx=tuple(obs_idx), **rows,
        )
        self._cores: dict[str, _Core] = {}
        self._objectives: dict[str, _Objective] = {}

    # construction steps (each checks what it builds, naming the bad value) -----------------
    def _declare_parameters(self) -> None:
        """One flat parameter vector: the model's values, then the extra (observation)
        parameters; their declarations, flat labels, units and values."""
        model = self.model
        if np.asarray(model.params.values).ndim != 1:
            raise ValueError("the model's parameters must be a single set (no batch axis)")
        model_labels, extra_labels = model.params.flat_names(), self.extra.flat_names()
        clash = set(model_labels) & set(extra_labels) | set(model.params.names) & set(self.extra.names)
        if clash:
            raise ValueError(f"extra parameters {sorted(clash)} clash with model parameters")
        self._specs = model.params.specs + self.extra.specs
        self._labels = model_labels + extra_labels
        self._n_model = len(model_labels)
        self._units = {lab: s.unit for lab, s in zip(self._labels, (s for s in self._specs for _ in range(s.size)))}
        self._theta0 = np.concatenate([np.asarray(model.params.values, dtype=float),
                                       np.asarray(self.extra.values, dtype=float)])

    def _index(self, name: str) -> tuple[int, ...]:
        """Flat indices of a model or extra parameter name (every form of
        :func:`~seedsoil.models.base.resolve_name`), or :class:`~seedsoil.models.base.UnknownNameError`."""
        return resolve_name(self._specs, name, kind="parameter", owner=self.model.name)[0]

    def _resolve_free(self, free: Sequence[str]) -> list[int]:
        """Flat indices of the free parameters; ``self.free`` becomes their flat labels (a
        whole array parameter ``"w"`` frees every entry, ``"w[bone]"`` one)."""
        if isinstance(free, str):
            free = (free,)
        if not free:
            raise ValueError("no free parameters given")
        idx = [i for name in free for i in self._index(name)]
        twice = sorted({self._labels[i] for i in idx if idx.count(i) > 1})
        if twice:
            raise ValueError(f"free parameters listed twice: {twice}")
        self.free = tuple(self._labels[i] for i in idx)
        return idx

    def _estimation_scales(self, free_idx: list[int], bounds: dict, scale: dict) -> None:
        """Ranges (declared bounds narrowed by ``bounds``) and scales (log unless ``scale``
        says linear) of the free parameters; sets ``bounds``, ``log_scale`` and the range on
        the estimation scale. Keys name a parameter or one entry (an entry wins)."""
        lo_all = np.concatenate([self.model.params.lower_upper()[0], self.extra.lower_upper()[0]])
        hi_all = np.concatenate([self.model.params.lower_upper()[1], self.extra.lower_upper()[1]])
        per_entry: dict[str, dict[int, Any]] = {"bounds": {}, "scale": {}}
        for what, given in (("bounds", bounds), ("scale", scale)):
            for name in sorted(given, key=lambda k: "[" in k):  # whole parameters first: entries win
                for i in self._index(name):
                    if i not in free_idx:
                        raise ValueError(f"bounds/scale given for {name!r}, which is not a free parameter; "
                                         f"free: {list(self.free)}")
                    per_entry[what][i] = (name, given[name])
        log_scale, lo_u, hi_u, nat_bounds = [], [], [], []
        for i, label in zip(free_idx, self.free):
            lo, hi = float(lo_all[i]), float(hi_all[i])
            if i in per_entry["bounds"]:
                key, rng = per_entry["bounds"][i]
                ulo, uhi = _pair(rng, f"bounds for {key!r}")
                if not (ulo < uhi) or ulo < lo or uhi > hi or math.isnan(ulo) or math.isnan(uhi):
                    raise ValueError(f"bounds for {key!r} must satisfy {lo} <= lo < hi <= {hi} (declared); got {rng}")
                lo, hi = ulo, uhi
            key, kind = per_entry["scale"].get(i, (label, "log"))
            if kind not in ("log", "linear"):
                raise ValueError(f"scale for {key!r} must be 'log' or 'linear'; got {kind!r}")
            if kind == "log":
                if lo < 0:
                    raise ValueError(f"parameter {label!r} may be negative (bounds {[lo, hi]}): log scale impossible; "
                                     f"pass scale={{{label!r}: 'linear'}} or positive bounds")
                a, b = (math.log(lo) if lo > 0 else -math.inf), (math.log(hi) if math.isfinite(hi) else math.inf)
            else:
                a, b = lo, hi
            log_scale.append(kind == "log")
            lo_u.append(a)
            hi_u.append(b)
            nat_bounds.append((lo, hi))
        self.bounds = dict(zip(self.free, nat_bounds))
        self.log_scale = tuple(log_scale)
        self._lo_u, self._hi_u = np.asarray(lo_u), np.asarray(hi_u)

    def _observation_parameters(self) -> list[tuple[int | None, int | None, int | None]]:
        """Each observation's output checked (a scalar output of the model), and the flat
        index of its ``scale``, ``offset`` and ``sigma`` when they name parameters."""
        obs_idx = []
        for o in self.observations:
            spec, entry = self.model.resolve_output(o.output)  # unknown: UnknownNameError, as everywhere
            shape = output_shape(spec, entry)
            if shape != ():
                raise ValueError(f"observation {o.observable!r}: output {o.output!r} has shape {shape}; observe a "
                                 f"scalar output or one entry, e.g. {o.output + '[0]'!r}")
            idx = []
            for key in ("scale", "offset", "sigma"):
                v = getattr(o, key)
                idx.append(self._observation_parameter(o, key, v) if isinstance(v, str) else None)
            obs_idx.append(tuple(idx))
        return obs_idx

    def _observation_parameter(self, o: Observation, key: str, name: str) -> int:
        """Flat index of the one parameter entry an observation's ``scale``/``offset``/``sigma`` names."""
        idx = self._index(name)  # unknown: UnknownNameError, as everywhere (declare it in extra=)
        if len(idx) != 1:
            raise ValueError(f"observation {o.observable!r}: {key} {name!r} has {len(idx)} entries; name one, "
                             f"e.g. {self._labels[idx[0]]!r}")
        return idx[0]

    def _condition_overrides(self) -> tuple[np.ndarray, np.ndarray, list[np.ndarray]]:
        """Per condition: which model parameter entries it fixes and to what values, its
        initial state, and its regimen checked (no batch axis, no dose before ``t0``)."""
        model, n_model = self.model, self._n_model
        groups = [c.group for c in self.conditions]
        if len(set(groups)) != len(groups):
            raise ValueError(f"several conditions for one group: {groups}")
        unknown = [g for g in groups if g not in self.data.groups]
        if unknown:
            raise ValueError(f"conditions for groups {unknown} that have no data; groups in the data: "
                             f"{list(self.data.groups)}")
        ov_mask = np.zeros((len(groups), n_model), dtype=bool)
        ov_value = np.zeros((len(groups), n_model))
        y0s = []
        for ci, c in enumerate(self.conditions):
            if c.params:
                p = model.params.replace_named(dict(c.params), owner=model.name)  # unknown names, bad values
                for key in c.params:
                    ov_mask[ci, list(model.param_index(key))] = True
                ov_value[ci] = np.asarray(p.values)
            y0s.append(np.asarray(model.with_y0(**dict(c.y0)).y0 if c.y0 else model.y0, dtype=float))
            if c.regimen is not None and not isinstance(c.regimen, Regimen):
                raise TypeError(f"condition {c.group!r}: regimen must be a Regimen or None")
            if c.regimen is not None:
                c.regimen.check()
                if c.regimen.batch_shape:
                    raise ValueError(f"condition {c.group!r}: the regimen must not have a batch axis")
                if c.regimen.n_events and np.any(np.asarray(c.regimen.event_time) < c.t0):
                    raise ValueError(f"condition {c.group!r}: dose before the start time t0 = {c.t0}")
        return ov_mask, ov_value, y0s

    def _data_blocks(self) -> list[tuple[int, int, np.ndarray]]:
        """The data rows used, as blocks ``(condition, observation, row indices sorted by
        time)``; each observation claims its groups once, and every condition and
        observation model must get data."""
        data, groups = self.data, [c.group for c in self.conditions]
        claimed: dict[tuple[str, str], int] = {}
        for k, o in enumerate(self.observations):
            for g in (o.groups if o.groups is not None else groups):
                if g not in groups:
                    raise ValueError(f"observation {o.observable!r} names group {g!r}, which has no condition")
                if (g, o.observable) in claimed:
                    raise ValueError(f"two observation models for {o.observable!r} in group {g!r}")
                claimed[(g, o.observable)] = k
        used_obs = set()
        rows_per_block = []
        for ci, c in enumerate(self.conditions):
            for k, o in enumerate(self.observations):
                if claimed.get((c.group, o.observable)) != k:
                    continue
                sel = np.flatnonzero((data.group == c.group) & (data.observable == o.observable))
                if sel.size == 0:
                    continue
                sel = sel[np.argsort(data.time[sel], kind="stable")]
                used_obs.add(o.observable)
                early = data.time[sel] < c.t0
                if early.any():
                    raise ValueError(f"{data.source} line {int(data.lines[sel[early][0]])}: time "
                                     f"{data.time[sel[early][0]]} is before the start t0 = {c.t0} of condition "
                                     f"{c.group!r}")
                rows_per_block.append((ci, k, sel))
        missing = [o.observable for o in self.observations if o.observable not in used_obs]
        if missing:
            raise ValueError(f"observation models without data in the chosen groups: {missing}")
        without = [c.group for ci, c in enumerate(self.conditions) if not any(b[0] == ci for b in rows_per_block)]
        if without:
            raise ValueError(f"conditions {without} have no data for any observation model")
        return rows_per_block

    def _simulation_classes(self, rows_per_block) -> tuple[tuple, dict, list[np.ndarray], list]:
        """Conditions simulated together (same start time and regimen structure: one
        vmapped solve each), each class's save times and stacked regimens, and where each
        condition sits (``{condition: (class, member)}``)."""

        def key(c: Condition):
            reg = c.regimen
            struct = None if reg is None else (jax.tree_util.tree_structure(reg),
                                               tuple(a.shape for a in jax.tree_util.tree_leaves(reg)))
            return (float(c.t0), struct)

        class_of: dict[Any, list[int]] = {}
        for ci, c in enumerate(self.conditions):
            class_of.setdefault(key(c), []).append(ci)
        classes = tuple(tuple(v) for v in class_of.values())
        member = {ci: (k, j) for k, members in enumerate(classes) for j, ci in enumerate(members)}
        class_times, class_regs = [], []
        for members in classes:
            ts = {float(self.conditions[members[0]].t0)}
            for ci, k, sel in rows_per_block:
                if ci in members:
                    ts.update(self.data.time[sel].tolist())
                    o = self.observations[k]
                    if o.transform == "relative" and o.baseline_time is not None:
                        if o.baseline_time < self.conditions[ci].t0:
                            raise ValueError(f"observation {o.observable!r}: baseline_time {o.baseline_time} is "
                                             f"before the start of condition {self.conditions[ci].group!r}")
                        ts.add(float(o.baseline_time))
            class_times.append(np.asarray(sorted(ts)))
            regs = [self.conditions[ci].regimen for ci in members]
            if regs[0] is None or len(regs) == 1:
                class_regs.append(regs[0])
            else:
                class_regs.append(jax.tree_util.tree_map(lambda *a: jnp.stack(a), *regs))
        return classes, member, class_times, class_regs

    def _noise_scale_rows(self, rows_per_block, member, class_times) -> dict[str, Any]:
        """The data on the noise scale (log for log-normal rows, with its Jacobian term),
        one :class:`_Block` per (condition, observation), the index of each row's time in
        its class's save times; sets ``n_data`` and ``rows``."""
        data = self.data
        blocks, tidx, y_noise, sd_noise = [], [], [], []
        logjac = 0.0
        start = 0
        self._rows = []
        for ci, k, sel in rows_per_block:
            o = self.observations[k]
            cls, j = member[ci]
            times = class_times[cls]
            t = data.time[sel]
            ti = np.searchsorted(times, t)
            bt = self.conditions[ci].t0 if o.baseline_time is None else o.baseline_time
            base = int(np.searchsorted(times, bt)) if o.transform == "relative" else 0
            y, se = data.value[sel], data.stderr[sel]
            if o.noise == "lognormal":
                if np.any(y <= 0):
                    bad = int(data.lines[sel[y <= 0][0]])
                    raise ValueError(f"{data.source} line {bad}: log-normal noise for {o.observable!r} needs "
                                     "values > 0")
                y_noise.append(np.log(y))
                sd_noise.append(se / y)
                logjac += float(np.sum(np.log(y)))
            else:
                y_noise.append(y)
                sd_noise.append(se)
            tidx.append(ti)
            blocks.append(_Block(cls, j, k, start, start + len(sel), base))
            start += len(sel)
            self._rows.extend((self.conditions[ci].group, o.observable, float(tt), float(yy), float(ss),
                               int(data.lines[r])) for tt, yy, ss, r in zip(t, y, se, sel))
        self.n_data = start
        return dict(row_tidx=jnp.asarray(np.concatenate(tidx), dtype=jnp.int32),
                    y_noise=jnp.asarray(np.concatenate(y_noise)), stderr_noise=jnp.asarray(np.concatenate(sd_noise)),
                    logjac=jnp.asarray(logjac), blocks=tuple(blocks))

    # helpers ----------------------------------------------------------------------------
    def _free_label(self, name: str, strict: bool = True) -> str | None:
        """The flat label of the free parameter entry ``name`` names (any form of
        :func:`~seedsoil.models.base.resolve_name`: ``"r"``, ``"w[bone]"``, ``"w[0]"``). A name that
        is not one free entry raises ``ValueError`` (``strict``) or gives ``None``."""
        try:
            idx = self._index(name) if isinstance(name, str) else ()
        except UnknownNameError:
            idx = ()
        label = self._labels[idx[0]] if len(idx) == 1 else None
        if label not in self.free:
            if strict:
                raise ValueError(f"{name!r} is not a free parameter of this fit; free: {list(self.free)}")
            return None
        return label

    def core(self, adjoint: str = "forward") -> _Core:
        """The jittable objective (forward-mode sensitivities for the optimisers,
        ``"reverse"`` for gradient-based samplers)."""
        if adjoint not in self._cores:
            self._cores[adjoint] = _Core(**self._core_args, sim=dataclasses.replace(self.options, adjoint=adjoint))
        return self._cores[adjoint]

    def objective(self, adjoint: str = "forward") -> _Objective:
        """The likelihood as JAX functions of the free values on the estimation scale."""
        if adjoint not in self._objectives:
            self._objectives[adjoint] = _Objective(self.core(adjoint), self.mode)
        return self._objectives[adjoint]

    @property
    def units(self) -> tuple[str, ...]:
        """Units of the free parameters."""
        return tuple(self._units[n] for n in self.free)

    @property
    def rows(self) -> list[tuple[str, str, float, float, float, int]]:
        """The data rows used, in objective order: (group, observable, time, value, stderr, line)."""
        return list(self._rows)

    def u_range(self) -> tuple[np.ndarray, np.ndarray]:
        """Lower and upper limits of the free parameters on their estimation scale (log or
        linear); may be infinite."""
        return self._lo_u.copy(), self._hi_u.copy()

    def _free_values(self, values: Mapping[str, Any]) -> dict[str, float]:
        """``{free flat label: value}`` from a mapping by name: one free entry (``"r"``,
        ``"w[bone]"``, ``"w[0]"``), or a whole array parameter (``"w"``) whose entries are
        all free, with an array of its shape. ``ValueError`` names what is not free."""
        out: dict[str, float] = {}
        not_free = []
        for k, v in values.items():
            label = self._free_label(k, strict=False)
            if label is not None:
                entries = [(label, v)]
            else:
                try:
                    idx, shape = resolve_name(self._specs, k, kind="parameter") if isinstance(k, str) else ((), ())
                except UnknownNameError:
                    idx, shape = (), ()
                labels = [self._labels[i] for i in idx]
                if len(idx) < 2 or any(lab not in self.free for lab in labels):
                    not_free.append(k)
                    continue
                arr = np.asarray(as_numbers(v, f"value of {k!r}"))
                if arr.shape != shape:
                    raise ValueError(f"{k!r} has shape {shape}: give an array of that shape (entries {labels}); "
                                     f"got shape {arr.shape}")
                entries = list(zip(labels, arr.reshape(-1).tolist()))
            for label, value in entries:
                if label in out:
                    raise ValueError(f"{label!r} is given twice (as an entry and within its array)")
                out[label] = value
        if not_free:
            raise ValueError(f"{not_free} are not free parameters; free: {list(self.free)}")
        return out

    def to_u(self, values: Mapping[str, Any] | ArrayLike) -> np.ndarray:
        """Free parameter values (natural units; dict by name -- one free entry, or a whole
        array parameter with all entries free and an array value -- or array in ``free``
        order) on the estimation scale."""
        if isinstance(values, Mapping):
            theta = self._theta0[[self._labels.index(n) for n in self.free]].copy()
            given = self._free_values(values)
            for label, v in given.items():
                theta[self.free.index(label)] = _number(v, f"value of {label!r}")
        else:
            given = self.free
            theta = np.asarray(as_numbers(values, "free parameter values"))
            if theta.size != len(self.free):
                raise ValueError(f"free parameter values must be {len(self.free)} numbers, one per free "
                                 f"parameter {list(self.free)}; got shape {theta.shape}")
            theta = theta.reshape(len(self.free))
        for n, v in zip(self.free, theta):
            lo, hi = self.bounds[n]
            if not (lo <= v <= hi) or not math.isfinite(v):
                origin = "" if n in given else " (its current value, the default start: pass a start inside them)"
                raise ValueError(f"value {float(v)!r} of {n!r}{origin} is outside its range [{lo}, {hi}]")
        with np.errstate(divide="ignore"):
            return np.where(self.log_scale, np.log(np.where(self.log_scale, theta, 1.0)), theta)

    def from_u(self, u: ArrayLike) -> np.ndarray:
        """Natural values from values on the estimation scale."""
        u = np.asarray(u, dtype=float)
        return np.where(self.log_scale, np.exp(u), u)

    def z_of_u(self, u: ArrayLike) -> np.ndarray:
        """Unconstrained optimiser coordinates of ``u`` (values on a finite bound are
        moved inside by 1e-9 of the range)."""
        u = np.asarray(u, dtype=float)
        z = np.empty_like(u)
        for i, (a, b) in enumerate(zip(self._lo_u, self._hi_u)):
            x = u[..., i]
            if np.isfinite(a) and np.isfinite(b):
                f = np.clip((x - a) / (b - a), 1e-9, 1 - 1e-9)
                z[..., i] = np.log(f) - np.log1p(-f)
            elif np.isfinite(a):
                d = np.maximum(x - a, 1e-9)
                z[..., i] = np.where(d > 30, d, np.log(np.expm1(np.minimum(d, 30))))
            elif np.isfinite(b):
                d = np.maximum(b - x, 1e-9)
                z[..., i] = -np.where(d > 30, d, np.log(np.expm1(np.minimum(d, 30))))
            else:
                z[..., i] = x
        return z

    def nll(self, values: Mapping[str, float] | ArrayLike | None = None) -> float:
        """Negative log-likelihood at free values (natural units; ``None``: the start values)."""
        u = self.to_u(values if values is not None else {})
        return float(self.objective().nll_u(jnp.asarray(u)))

    def start(self) -> dict[str, float]:
        """Default start: the current values of the free parameters."""
        return {n: float(self._theta0[self._labels.index(n)]) for n in self.free}

    def params_at(self, values: Mapping[str, Any]) -> tuple[Params, Params]:
        """Model parameters and extra parameters with free values set (natural units; names
        as for :meth:`to_u`)."""
        theta = self._theta0.copy()
        for label, v in self._free_values(values).items():
            theta[self._labels.index(label)] = v
        n = len(self.model.params.flat_names())
        return self.model.params.with_values(jnp.asarray(theta[:n])), (
            self.extra.with_values(jnp.asarray(theta[n:])) if self.extra.specs else self.extra)

    def latin_hypercube(self, n: int, seed: int = 0) -> np.ndarray:
        """``n`` points (estimation scale) of a Latin hypercube over the finite ranges."""
        bad = [name for name, a, b in zip(self.free, self._lo_u, self._hi_u) if not (np.isfinite(a) and np.isfinite(b))]
        if bad:
            raise ValueError(f"parameters {bad} have no finite range on their estimation scale "
                             f"(declared bounds {[self.bounds[b] for b in bad]}); multistart needs one: "
                             f"pass bounds={{{bad[0]!r}: (lo, hi)}} with 0 < lo < hi < inf")
        rng = np.random.default_rng(seed)
        m = len(self.free)
        cells = np.stack([rng.permutation(n) for _ in range(m)], axis=1)
        frac = (cells + rng.uniform(size=(n, m))) / n
        return self._lo_u + frac * (self._hi_u - self._lo_u)


# --------------------------------------------------------------------------------------
# Results
# --------------------------------------------------------------------------------------
@dataclass
class StartsReport:
    """Every start of a multistart fit (natural units), in start order."""

    start: np.ndarray
    estimate: np.ndarray
    nll: np.ndarray
    success: np.ndarray
    status: tuple[str, ...]
    steps: np.ndarray


@dataclass
class FitResult:
    """Outcome of :func:`fit`.

    Attributes:
        problem: the :class:`FitProblem`.
        names, units: the free parameters.
        estimate: estimates (natural units); ``u``: on the estimation scale.
        se: Wald standard errors on the estimation scale (log scale: ~relative errors).
        ci_low, ci_high: Wald confidence limits (natural units) at ``level``.
        covariance, fisher: on the estimation scale.
        nll: negative log-likelihood at the estimate; ``minus2loglik = 2 nll``.
        converged: the best start's optimiser reported success; ``status`` its message.
        starts: all starts (:class:`StartsReport`); ``best`` the index of the best.
    """

    problem: FitProblem
    method: str
    names: tuple[str, ...]
    units: tuple[str, ...]
    u: np.ndarray
    estimate: np.ndarray
    se: np.ndarray
    ci_low: np.ndarray
    ci_high: np.ndarray
    covariance: np.ndarray
    fisher: np.ndarray
    nll: float
    converged: bool
    status: str
    n_steps: int
    starts: StartsReport
    best: int
    level: float
    z: np.ndarray = field(repr=False, default=None)

    @property
    def minus2loglik(self) -> float:
        return 2.0 * self.nll

    @property
    def n_data(self) -> int:
        return self.problem.n_data

    @property
    def aic(self) -> float:
        """Akaike information criterion ``2 NLL + 2 k``."""
        return 2.0 * self.nll + 2.0 * len(self.names)

    @property
    def bic(self) -> float:
        """Bayesian information criterion ``2 NLL + k log n``."""
        return 2.0 * self.nll + len(self.names) * math.log(self.n_data)

    @property
    def values(self) -> dict[str, float]:
        """``{name: estimate}`` in natural units."""
        return {n: float(v) for n, v in zip(self.names, self.estimate)}

    @property
    def params(self) -> Params:
        """The model's parameters with the estimates set."""
        return self.problem.params_at(self.values)[0]

    def at_bound(self) -> np.ndarray:
        """True where an estimate lies within 1e-6 (of the range) of a finite bound."""
        lo, hi = self.problem.u_range()
        width = np.where(np.isfinite(hi - lo), hi - lo, 1.0)
        return (np.isfinite(lo) & (self.u - lo < 1e-6 * width)) | (np.isfinite(hi) & (hi - self.u < 1e-6 * width))

    def table(self) -> list[dict[str, Any]]:
        """One dict per free parameter: name, estimate, unit, ci_low, ci_high, se
        (estimation scale), scale, at_bound."""
        edge = self.at_bound()
        return [dict(name=n, estimate=float(e), unit=u, ci_low=float(lo), ci_high=float(hi), se=float(s),
                     scale="log" if lg else "linear", at_bound=bool(b))
                for n, e, u, lo, hi, s, lg, b in zip(self.names, self.estimate, self.units, self.ci_low, self.ci_high,
                                                      self.se, self.problem.log_scale, edge)]

    def to_frame(self):
        """The parameter table as a pandas DataFrame (needs pandas)."""
        import pandas as pd

        return pd.DataFrame(self.table()).set_index("name")

    def __str__(self) -> str:
        pct = f"{100 * self.level:g}%"
        lines = [f"fit ({self.method}): -2 log L = {self.minus2loglik:.6g}, n = {self.n_data}, "
                 f"{'converged' if self.converged else 'NOT converged: ' + self.status}, "
                 f"best of {len(self.starts.nll)} start(s)",
                 f"{'name':<14} {'estimate':>12} {pct + ' low':>12} {pct + ' high':>12}  unit"]
        for row in self.table():
            lines.append(f"{row['name']:<14} {row['estimate']:>12.5g} {row['ci_low']:>12.5g} {row['ci_high']:>12.5g}  "
                         f"{row['unit']}{'  (at bound)' if row['at_bound'] else ''}")
        return "\n".join(lines)

    def residuals(self) -> np.ndarray:
        """Standardised residuals ``(y - h) / sd`` on the noise scale, in the order of
        ``problem.rows``."""
        core = self.problem.core()
        m, s, _, _ = _moments_jac(core, jnp.asarray(self.u))
        return np.asarray((core.y_noise - m) / s)

    def predict(self, times: ArrayLike | None = None, n_points: int = 101, **band: Any) -> dict:
        """Model predictions in measured units: ``{(group, observable): (times, values)}`` at
        ``times`` (default: ``n_points`` from each condition's start to its last
        measurement).

        With ``band=`` (``"wald"``, ``"profile"`` or ``"posterior"``), or ``conditions=``
        (forecast unseen regimens), the forecast of :func:`seedsoil.solvers.forecast`:
        ``{(group, observable): Band(times, value, low, high)}`` with a confidence or
        prediction band; every keyword of ``forecast`` is accepted here.
        """
        if band:
            from ._predict import forecast

            return forecast(self, times, n_points=n_points, **band)
        prob = self.problem
        p_model = prob.params_at(self.values)
        theta = np.concatenate([np.asarray(p_model[0].values), np.asarray(p_model[1].values)])
        out = {}
        for c in prob.conditions:
            obs = [(k, o) for k, o in enumerate(prob.observations)
                   if (o.groups is None or c.group in o.groups)
                   and np.any((prob.data.group == c.group) & (prob.data.observable == o.observable))]
            if not obs:
                continue
            in_group = prob.data.group == c.group
            t_last = max(float(np.max(prob.data.time[in_group & (prob.data.observable == o.observable)]))
                         for _, o in obs)
            grid = np.linspace(c.t0, max(t_last, c.t0 + 1e-9), n_points) if times is None else np.asarray(times, float)
            extra_t = [c.t0] + [o.baseline_time for _, o in obs if o.baseline_time is not None]
            ts = np.unique(np.concatenate([grid, extra_t]))
            pm = p_model[0].replace(**dict(c.params)) if c.params else p_model[0]
            sol = simulate(prob.model, ts, params=pm, y0=dict(c.y0) or None, regimen=c.regimen,
                           options=dataclasses.replace(prob.options, adjoint="reverse"), throw=False)
            for _, o in obs:
                x = np.asarray(sol[o.output])
                bt = c.t0 if o.baseline_time is None else o.baseline_time
                base = x[int(np.searchsorted(ts, bt))]
                vals = [theta[prob._index(v)[0]] if isinstance(v, str) else v for v in (o.scale, o.offset)]
                h = np.asarray(_observe(o, jnp.asarray(x), jnp.asarray(base), *(jnp.asarray(v) for v in vals)))
                keep = np.isin(ts, grid)
                out[(c.group, o.observable)] = (ts[keep], h[keep])
        return out


# --------------------------------------------------------------------------------------
# Fitting
# --------------------------------------------------------------------------------------
def fit(
    problem: FitProblem,
    *,
    method: str = "lm",
    start: Mapping[str, Any] | None = None,
    n_starts: int = 1,
    seed: int = 0,
    rtol: float = 1e-8,
    atol: float = 1e-8,
    max_steps: int = 256,
    level: float = 0.95,
) -> FitResult:
    """Maximum-likelihood estimate of the free parameters of ``problem``.

    Args:
        method: ``"lm"``: Levenberg-Marquardt on the standardised residuals
            (``optimistix.least_squares`` + ``optimistix.LevenbergMarquardt``; requires
            every noise sd fixed, i.e. no estimated ``sigma``); ``"bfgs"``: BFGS on the
            negative log-likelihood (``optimistix.minimise`` + ``optimistix.BFGS``).
        start: start values ``{name: value}`` (natural units; names as for
            :meth:`FitProblem.to_u`, e.g. ``{"w": [0.3, 0.2]}`` for a whole free array);
            others start at their current values.
        n_starts: number of starts; start 0 is ``start``, the others a Latin hypercube
            over the log-scale ranges (these must be finite). All run in one ``jax.vmap``.
        seed: seed of the Latin hypercube.
        rtol, atol: optimiser tolerances (Cauchy termination on parameter and loss change).
        max_steps: optimiser iteration budget.
        level: confidence level of the Wald intervals.

    Returns:
        A :class:`FitResult` (best start; all starts in ``result.starts``). Wald intervals
        ``u +/- z se`` use the Fisher information at the estimate on the estimation scale
        and are mapped back to natural units (asymmetric for log-scale parameters). Where
        the information matrix is singular (a non-identifiable parameter, named in a
        warning) the se is infinite and the interval unbounded; use :func:`profile`.
    """
    if method not in _METHODS:
        raise ValueError(f"unknown method {method!r}; choose one of {_METHODS}")
    if method == "lm" and problem._needs_sigma_free:
        raise ValueError("method='lm' fits sums of squares with fixed noise; an estimated sigma needs method='bfgs'")
    if not (isinstance(n_starts, int) and not isinstance(n_starts, bool) and n_starts >= 1):
        raise ValueError(f"n_starts must be a positive integer; got {n_starts!r}")
    if not (isinstance(level, (int, float)) and not isinstance(level, bool) and 0 < level < 1):
        raise ValueError(f"level must be in (0, 1); got {level!r}")
    for name, v in (("rtol", rtol), ("atol", atol)):
        if not (isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) and v > 0):
            raise ValueError(f"{name} must be a finite number > 0; got {v!r}")
    if not (isinstance(max_steps, int) and not isinstance(max_steps, bool) and max_steps >= 1):
        raise ValueError(f"max_steps must be a positive integer; got {max_steps!r}")
    if start is not None and not isinstance(start, Mapping):
        raise TypeError(f"start must be a mapping {{name: value}}; got {type(start).__name__} {start!r}")
    u_start = problem.to_u(dict(start or {}))
    u0 = u_start[None, :]
    if n_starts > 1:
        u0 = np.concatenate([u0, problem.latin_hypercube(n_starts - 1, seed)], axis=0)
    obj = problem.objective("forward")
    m = len(problem.free)
    z0 = problem.z_of_u(u0)
    z, u, nll, code, steps = _optimise(obj, jnp.asarray(z0), jnp.zeros(m, dtype=bool), jnp.zeros_like(jnp.asarray(z0)),
                                       method, float(rtol), float(atol), int(max_steps))
    z, u, nll, code, steps = (np.asarray(a) for a in (z, u, nll, code, steps))
    ok = (code == 0) & np.isfinite(nll)
    status = tuple(_OPTX_STATUS.get(int(c), f"code {int(c)}") for c in code)
    ranked = np.where(np.isfinite(nll), nll, np.inf)
    best = int(np.argmin(np.where(ok, ranked, np.inf))) if ok.any() else int(np.argmin(ranked))
    if not np.isfinite(nll[best]):
        raise RuntimeError(f"every start failed (statuses {sorted(set(status))}); the model could not be solved or "
                           "the likelihood is not finite at any start")
    if not ok[best]:
        warnings.warn(f"no start converged; best start #{best}: {status[best]}", RuntimeWarning, stacklevel=2)
    report = StartsReport(problem.from_u(u0), problem.from_u(u), nll, ok, status, steps)
    fim = _fisher(problem.core("forward"), u[best])
    cov, se = _wald(fim, problem.free)
    q = NormalDist().inv_cdf(0.5 + level / 2)
    lo_u, hi_u = u[best] - q * se, u[best] + q * se
    with np.errstate(over="ignore", invalid="ignore"):
        ci_low, ci_high = problem.from_u(lo_u), problem.from_u(hi_u)
    return FitResult(
        problem=problem, method=method, names=problem.free, units=problem.units, u=u[best],
        estimate=problem.from_u(u[best]), se=se, ci_low=ci_low, ci_high=ci_high, covariance=cov, fisher=fim,
        nll=float(nll[best]), converged=bool(ok[best]), status=status[best], n_steps=int(steps[best]),
        starts=report, best=best, level=level, z=z[best],
    )


def _wald(fim: np.ndarray, names: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """Covariance (inverse Fisher information) and standard errors; parameters in a
    (numerically) null direction of the information get ``se = inf``."""
    m = fim.shape[0]
    if not np.all(np.isfinite(fim)):
        warnings.warn("Fisher information is not finite at the estimate; no Wald intervals", RuntimeWarning,
                      stacklevel=3)
        return np.full((m, m), np.nan), np.full(m, np.nan)
    w, v = np.linalg.eigh(0.5 * (fim + fim.T))
    tol = max(float(w.max()), 1e-300) * 1e-10
    null = w <= tol
    if null.any():
        weak = np.any(np.abs(v[:, null]) > 0.1, axis=1)
        warnings.warn(f"Fisher information is singular: {[n for n, b in zip(names, weak) if b]} not identifiable "
                      "from these data (Wald se = inf; see profile())", RuntimeWarning, stacklevel=3)
        inv_w = np.where(null, 0.0, 1.0 / np.where(null, 1.0, w))
        cov = (v * inv_w) @ v.T
        se = np.sqrt(np.clip(np.diag(cov), 0, None))
        se[weak] = np.inf
        return cov, se
    cov = (v / w) @ v.T
    return cov, np.sqrt(np.diag(cov))


# --------------------------------------------------------------------------------------
# Profile likelihood
# --------------------------------------------------------------------------------------
@dataclass
class ProfileResult:
    """Profile likelihood of one parameter (Raue et al. 2009).

    Attributes:
        name, unit: the profiled parameter.
        values: the grid (natural units); ``u`` on the estimation scale.
        nll: minimised NLL at each grid value; ``delta = 2 (nll - nll_min)`` is the
            profile of ``-2 log L`` relative to its minimum.
        threshold: ``chi2_1`` quantile at ``level`` (3.84 for 95 %).
        ci: profile-likelihood interval (natural units) from the linear-interpolated
            crossings of ``threshold``; NaN on a side where the profile does not cross
            within the grid (practically non-identifiable on that side, or grid too short).
        others: ``{name: values along the profile}`` for the re-optimised parameters.
        converged: per grid point.
    """

    name: str
    unit: str
    values: np.ndarray
    u: np.ndarray
    nll: np.ndarray
    delta: np.ndarray
    threshold: float
    ci: tuple[float, float]
    estimate: float
    others: dict[str, np.ndarray]
    converged: np.ndarray
    level: float

    @property
    def minus2loglik(self) -> np.ndarray:
        return 2.0 * self.nll


def profile(
    result: FitResult,
    name: str,
    n_points: int = 21,
    *,
    values: ArrayLike | None = None,
    span: float | None = None,
    level: float = 0.95,
    rtol: float = 1e-8,
    atol: float = 1e-8,
    max_steps: int = 256,
) -> ProfileResult:
    """Profile likelihood of parameter ``name`` around a fit (Raue et al. 2009,
    Bioinformatics 25:1923): ``name`` is fixed at each grid value, the other free
    parameters are re-optimised (same method as the fit, started from the estimate; all
    grid points in one ``jax.vmap``), and ``-2 log L`` is returned relative to its minimum
    with the ``chi2(1)`` threshold (3.84 at 95 %). Where the profile crosses the threshold
    on both sides the parameter is identifiable and the crossings are its confidence
    interval.

    Grid: ``values`` (natural units), or ``n_points`` equally spaced on the estimation
    scale (log for log-scale parameters) over ``estimate +/- span``, ``span`` defaulting to
    4 Wald standard errors (or the whole finite range when the Wald se is not finite),
    clipped to the parameter's range. With odd ``n_points`` the estimate is a grid point.
    """
    prob = result.problem
    label = prob._free_label(name, strict=False)  # any name form of one free entry
    if label is None:
        try:
            idx = prob._index(name) if isinstance(name, str) else ()
        except UnknownNameError:
            idx = ()
        entries = [prob._labels[i] for i in idx if prob._labels[i] in prob.free]
        if len(idx) > 1 and entries:
            raise ValueError(f"a profile fixes one parameter entry; {name!r} has entries {entries}: profile each "
                             f"one, e.g. profile(result, {entries[0]!r})")
        raise ValueError(f"{name!r} is not a free parameter of this fit; free: {list(prob.free)}")
    name = label
    i = prob.free.index(name)
    lo, hi = prob.u_range()
    if values is not None:
        grid = np.asarray([prob.to_u({**result.values, name: float(v)})[i] for v in np.atleast_1d(values)])
    else:
        if not (isinstance(n_points, int) and n_points >= 2):
            raise ValueError(f"n_points must be an integer >= 2; got {n_points!r}")
        half = span if span is not None else 4.0 * float(result.se[i])
        if not np.isfinite(half) or half <= 0:
            if not (np.isfinite(lo[i]) and np.isfinite(hi[i])):
                raise ValueError(f"no finite Wald se for {name!r} and no finite range: pass span= or values=")
            a, b = lo[i], hi[i]
        else:
            a, b = max(result.u[i] - half, lo[i]), min(result.u[i] + half, hi[i])
        grid = np.linspace(a, b, n_points)
        if n_points % 2 == 1 and a == result.u[i] - half and b == result.u[i] + half:
            grid[n_points // 2] = result.u[i]
    k = len(grid)
    m = len(prob.free)
    mask = np.zeros(m, dtype=bool)
    mask[i] = True
    u_fixed = np.tile(result.u, (k, 1))
    u_fixed[:, i] = grid
    z0 = np.tile(result.z, (k, 1))
    _, u, nll, code, _ = _optimise(prob.objective("forward"), jnp.asarray(z0), jnp.asarray(mask), jnp.asarray(u_fixed),
                                   result.method, float(rtol), float(atol), int(max_steps))
    u, nll, code = np.asarray(u), np.asarray(nll), np.asarray(code)
    ok = (code == 0) & np.isfinite(nll)
    best = min(result.nll, float(np.nanmin(np.where(ok, nll, np.nan))) if ok.any() else np.inf)
    if best < result.nll - 1e-6 * max(1.0, abs(result.nll)):
        warnings.warn(f"profile of {name!r} found a lower NLL ({best:.6g}) than the fit ({result.nll:.6g}): the fit "
                      "did not reach the optimum", RuntimeWarning, stacklevel=2)
    delta = 2.0 * (nll - best)
    threshold = chi2_1_quantile(level)  # as CHI2_95, bit for bit at 0.95
    ci_u = _crossings(grid, delta, threshold)
    ci = tuple((math.exp(c) if prob.log_scale[i] else c) if np.isfinite(c) else math.nan for c in ci_u)
    others = {n: prob.from_u(u)[:, j] for j, n in enumerate(prob.free) if j != i}
    return ProfileResult(name=name, unit=prob.units[i], values=prob.from_u(u)[:, i], u=grid, nll=nll, delta=delta,
                         threshold=threshold, ci=ci, estimate=float(result.estimate[i]), others=others, converged=ok,
                         level=level)


def _crossings(x: np.ndarray, d: np.ndarray, thr: float) -> tuple[float, float]:
    """Where ``d`` first exceeds ``thr`` walking outwards from its minimum (linear
    interpolation), on each side; NaN where it never does."""
    finite = np.isfinite(d)
    if not finite.any():
        return math.nan, math.nan
    j = int(np.nanargmin(np.where(finite, d, np.nan)))
    out = []
    for step in (-1, 1):
        c, k = math.nan, j
        while 0 <= k + step < len(x):
            if finite[k + step] and d[k + step] > thr:
                x0, x1, d0, d1 = x[k], x[k + step], d[k], d[k + step]
                c = float(x0 + (thr - d0) * (x1 - x0) / (d1 - d0))
                break
            k += step
        out.append(c)
    return out[0], out[1]


# --------------------------------------------------------------------------------------
# Bayesian posterior (optional: numpyro)
# --------------------------------------------------------------------------------------
@dataclass
class Posterior:
    """Posterior samples of the free parameters (NUTS).

    Attributes:
        samples: ``{name: (num_samples * num_chains,)}`` in natural units.
        u: samples on the estimation scale, ``(S, m)``.
        mean, median, ci_low, ci_high: summaries in natural units (equal-tailed interval
            at ``level``).
        divergences: number of divergent transitions.
        mcmc: the ``numpyro.infer.MCMC`` object.
    """

    names: tuple[str, ...]
    samples: dict[str, np.ndarray]
    u: np.ndarray
    mean: np.ndarray
    median: np.ndarray
    ci_low: np.ndarray
    ci_high: np.ndarray
    level: float
    divergences: int
    mcmc: Any = field(repr=False, default=None)

    def table(self) -> list[dict[str, Any]]:
        return [dict(name=n, mean=float(a), median=float(b), ci_low=float(c), ci_high=float(d))
                for n, a, b, c, d in zip(self.names, self.mean, self.median, self.ci_low, self.ci_high)]


def sample_posterior(
    problem: FitProblem | FitResult,
    *,
    num_warmup: int = 500,
    num_samples: int = 500,
    num_chains: int = 1,
    seed: int = 0,
    level: float = 0.95,
    progress_bar: bool = False,
    **nuts_kwargs: Any,
) -> Posterior:
    """Sample the posterior of the free parameters with NumPyro's NUTS (Hoffman & Gelman
    2014) using the same likelihood as :func:`fit`, and priors uniform on each
    parameter's estimation scale (log-uniform between its bounds; the ranges must be
    finite). Given a :class:`FitResult`, chains start at its estimate.

    Needs the optional dependency ``numpyro`` (``pip install seedsoil[bayes]``); it is
    imported only here. Gradients of the log-likelihood come from the same forward-mode
    sensitivities as the fit (reverse-mode adjoints through the solver with
    ``mode="inline"``).
    """
    try:
        import numpyro
        import numpyro.distributions as dist
        from numpyro.infer import MCMC, NUTS, init_to_value
    except ImportError as e:  # pragma: no cover - depends on the environment
        raise ImportError("sample_posterior needs numpyro: pip install 'seedsoil[bayes]'") from e
    result = problem if isinstance(problem, FitResult) else None
    prob = result.problem if result is not None else problem
    lo, hi = prob.u_range()
    if not (np.all(np.isfinite(lo)) and np.all(np.isfinite(hi))):
        bad = [n for n, a, b in zip(prob.free, lo, hi) if not (np.isfinite(a) and np.isfinite(b))]
        raise ValueError(f"uniform priors need finite ranges; pass bounds= for {bad}")
    obj = prob.objective("reverse" if prob.mode == "inline" else "forward")

    def model():
        u = numpyro.sample("u", dist.Uniform(jnp.asarray(lo), jnp.asarray(hi)).to_event(1))
        numpyro.factor("loglik", -obj.nll_u(u))

    init = prob.to_u(result.values) if result is not None else prob.to_u({})
    width = hi - lo
    init = np.clip(init, lo + 1e-6 * width, hi - 1e-6 * width)
    kernel = NUTS(model, init_strategy=init_to_value(values={"u": jnp.asarray(init)}), **nuts_kwargs)
    mcmc = MCMC(kernel, num_warmup=num_warmup, num_samples=num_samples, num_chains=num_chains,
                progress_bar=progress_bar, chain_method="sequential")
    mcmc.run(jax.random.PRNGKey(seed), extra_fields=("diverging",))
    u = np.asarray(mcmc.get_samples()["u"])
    nat = prob.from_u(u)
    a = (1 - level) / 2
    div = int(np.sum(np.asarray(mcmc.get_extra_fields()["diverging"])))
    return Posterior(
        names=prob.free, samples={n: nat[:, j] for j, n in enumerate(prob.free)}, u=u, mean=nat.mean(axis=0),
        median=np.median(nat, axis=0), ci_low=np.quantile(nat, a, axis=0), ci_high=np.quantile(nat, 1 - a, axis=0),
        level=level, divergences=div, mcmc=mcmc,
    )
