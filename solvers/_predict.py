"""Forecasts with uncertainty bands, and cross-validation of fits.

A fit is a result only when it predicts what it did not see. This module gives a fitted
model's forecast for any condition (a measured arm, or an unseen regimen), with a band from
one of three sources of parameter uncertainty, and scores fits on data they were not fitted
to:

* ``band="wald"``: parameter vectors drawn from the asymptotic normal distribution of the
  estimate on the estimation scale (mean ``u``, covariance the inverse Fisher information),
  pushed through the model; the band is their equal-tailed quantiles. Cheap; as good as the
  quadratic approximation of the likelihood.
* ``band="profile"``: the prediction profile likelihood band of Kreutz et al. 2012 (BMC
  Syst Biol 6:120). The prediction profile of a read-out ``h`` is
  ``PPL(z) = min {-2 log L(theta) : h(theta) = z}``; its ``chi2(1)`` interval is exactly the
  range of ``h`` over the likelihood confidence region
  ``R = {theta : -2 log L(theta) - min <= chi2_1(level)}``. The band is computed as that
  range over points on the boundary of ``R`` found along ``n_draws`` random directions from
  the estimate by bisection on the true likelihood (and over the admissible points of any
  parameter profiles passed in), so it follows curved, one-sided and open regions with no
  quadratic approximation; with finitely many directions it approaches the exact band from
  inside. For a new observation (``interval="prediction"``) each side adds the noise in
  quadrature, ``sqrt((h_max - h)^2 + chi2_1 sigma^2)``: the validation profile of a normal
  observation (exact for a linear model).
* ``band="posterior"``: posterior (predictive) quantiles from NUTS samples
  (:func:`~seedsoil.solvers.sample_posterior`).

``interval="confidence"`` bands the model's mean read-out; ``interval="prediction"`` bands a
new observation, adding the observation noise (the observation model's ``sigma``: a number,
an estimated parameter, or ``noise_sd=`` for read-outs fitted with reported standard errors).

Cross-validation (:func:`cross_validate`, :func:`compare_models`): the problem is refitted
without the held-out groups (arms) and the refit predicts their data; the prediction error
per held-out arm is reported as the root mean square standardised residual and as
``-2 log`` predictive density of the held-out data at the refitted estimate.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import ArrayLike

from ._fit import (
    Condition,
    FitProblem,
    FitResult,
    Posterior,
    ProfileResult,
    _as_condition,
    _observe,
    chi2_1_quantile,
    fit,
)
from ._simulate import simulate

__all__ = ["Band", "CrossValidation", "ModelComparison", "compare_models", "cross_validate", "forecast", "restrict"]

_BANDS = ("wald", "profile", "posterior")
_INTERVALS = ("confidence", "prediction")


class Band(NamedTuple):
    """A forecast of one read-out in one condition, in measured units.

    Attributes:
        times: days.
        value: the forecast at the estimate.
        low, high: the band's limits at ``level`` (see :func:`forecast`).
    """

    times: np.ndarray
    value: np.ndarray
    low: np.ndarray
    high: np.ndarray


# --------------------------------------------------------------------------------------
# Parameter draws: where the band's uncertainty comes from
# --------------------------------------------------------------------------------------
def _wald_draws(result: FitResult, n_draws: int, rng: np.random.Generator) -> np.ndarray:
    cov = np.asarray(result.covariance, float)
    bad = [n for n, s in zip(result.names, result.se) if not np.isfinite(s)]
    if bad or not np.all(np.isfinite(cov)):
        raise ValueError(f"band='wald' needs a finite Wald covariance; {bad or list(result.names)} are not "
                         "identifiable from these data: use band='profile' or band='posterior'")
    return rng.multivariate_normal(result.u, cov, size=n_draws, method="eigh")


def _batched_nll(prob: FitProblem):
    """The problem's negative log-likelihood over a batch of u vectors, compiled once per
    problem (kept on the problem, as its objectives are)."""
    fn = getattr(prob, "_batched_nll", None)
    if fn is None:
        fn = jax.jit(jax.vmap(prob.objective("forward").nll_u))
        prob._batched_nll = fn
    return fn


def _region_boundary(result: FitResult, level: float, n_dirs: int, rng: np.random.Generator,
                     iterations: int = 20) -> np.ndarray:
    """Points on the boundary of the likelihood confidence region
    ``R = {u: 2 (nll(u) - nll_min) <= chi2_1(level)}`` along ``n_dirs`` random directions
    from the estimate (whitened by the Fisher information; directions it does not bound are
    searched up to the parameter range), found by bisection on the true likelihood."""
    prob = result.problem
    thr = chi2_1_quantile(level)
    lo, hi = prob.u_range()
    u0 = np.asarray(result.u, float)
    m = u0.size
    w, V = np.linalg.eigh(0.5 * (result.fisher + result.fisher.T))
    width = np.where(np.isfinite(hi - lo), hi - lo, 10.0)
    tol = max(float(np.max(w)), 1e-300) * 1e-10
    scale = np.where(w > tol, 1.0 / np.sqrt(np.clip(w, tol, None)), float(np.max(width)))
    d = rng.standard_normal((n_dirs, m))
    d /= np.linalg.norm(d, axis=1, keepdims=True)
    steps = (d * scale) @ V.T  # (n_dirs, m): displacement per unit of s; s = sqrt(thr) on the Wald ellipsoid
    nll = _batched_nll(prob)

    def delta(s):
        u = np.clip(u0 + s[:, None] * steps, lo, hi)
        v = np.asarray(nll(jnp.asarray(u)))
        return 2.0 * (np.where(np.isfinite(v), v, np.inf) - result.nll), u

    s_lo = np.zeros(n_dirs)
    s_hi = np.full(n_dirs, 4.0 * math.sqrt(thr))
    for _ in range(8):  # widen until outside the region, or at the parameter range
        dh, u = delta(s_hi)
        at_edge = np.any((u <= lo) | (u >= hi), axis=1)
        grow = (dh <= thr) & ~at_edge
        if not grow.any():
            break
        s_lo = np.where(grow, s_hi, s_lo)
        s_hi = np.where(grow, 2.0 * s_hi, s_hi)
    inside_hi = delta(s_hi)[0] <= thr
    for _ in range(iterations):
        mid = 0.5 * (s_lo + s_hi)
        ok = delta(mid)[0] <= thr
        s_lo, s_hi = np.where(ok, mid, s_lo), np.where(ok, s_hi, mid)
    s_end = np.where(inside_hi, s_hi, s_lo)
    return np.clip(u0 + s_end[:, None] * steps, lo, hi)


def _profile_points(result: FitResult, profiles: Sequence[ProfileResult], level: float) -> np.ndarray:
    """The admissible points (``delta <= chi2_1(level)``) of parameter profiles, as u vectors."""
    prob = result.problem
    if isinstance(profiles, ProfileResult):
        profiles = [profiles]
    thr = chi2_1_quantile(level)
    us = [np.asarray(result.u, float)]
    for pr in profiles:
        if not isinstance(pr, ProfileResult):
            raise TypeError(f"profiles must be ProfileResult objects (from profile()); got {type(pr).__name__}")
        ok = np.asarray(pr.converged, bool) & (np.asarray(pr.delta) <= thr)
        for j in np.flatnonzero(ok):
            values = {pr.name: float(pr.values[j]), **{n: float(v[j]) for n, v in pr.others.items()}}
            us.append(prob.to_u(values))
    return np.stack(us)


def _posterior_draws(posterior: Posterior | None, result: FitResult, n_draws: int,
                     rng: np.random.Generator) -> np.ndarray:
    if not isinstance(posterior, Posterior):
        raise ValueError("band='posterior' needs posterior= (a Posterior from sample_posterior); got "
                         f"{type(posterior).__name__}")
    if tuple(posterior.names) != tuple(result.names):
        raise ValueError(f"posterior of {list(posterior.names)} does not match the fit's free parameters "
                         f"{list(result.names)}")
    u = np.asarray(posterior.u, float)
    if n_draws < len(u):
        u = u[np.sort(rng.choice(len(u), size=n_draws, replace=False))]
    return u


# --------------------------------------------------------------------------------------
# Forecast
# --------------------------------------------------------------------------------------
def _observations_for(prob: FitProblem, group: str, observables: Sequence[str] | None, measured_only: bool):
    """``[(observation index, Observation)]`` to forecast in ``group``: per observable, the
    observation model that applies to the group (else the first of that name)."""
    names = observables if observables is not None else dict.fromkeys(o.observable for o in prob.observations)
    out = []
    for name in names:
        cands = [(k, o) for k, o in enumerate(prob.observations) if o.observable == name]
        if not cands:
            raise ValueError(f"unknown observable {name!r}; observables: "
                             f"{sorted({o.observable for o in prob.observations})}")
        applies = [(k, o) for k, o in cands if o.groups is None or group in o.groups]
        k, o = (applies or cands)[0]
        if measured_only and not (applies and np.any((prob.data.group == group) & (prob.data.observable == name))):
            continue
        out.append((k, o))
    return out


def _overrides(prob: FitProblem, c: Condition) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The condition's fixed model-parameter entries (mask, values) and initial state."""
    model = prob.model
    n_model = np.asarray(model.params.values).shape[0]
    mask, value = np.zeros(n_model, bool), np.zeros(n_model)
    if c.params:
        p = model.params.replace_named(dict(c.params), owner=model.name)
        for key in c.params:
            mask[list(model.param_index(key))] = True
        value = np.asarray(p.values, float)
    y0 = np.asarray(model.with_y0(**dict(c.y0)).y0 if c.y0 else model.y0, float)
    return mask, value, y0


def _noise_sd(o, theta: np.ndarray, idx: int | None, noise_sd: Any) -> np.ndarray:
    """Observation noise sd on the noise scale, one per draw."""
    if isinstance(noise_sd, Mapping) and o.observable in noise_sd:
        return np.full(theta.shape[0], float(noise_sd[o.observable]))
    if noise_sd is not None and not isinstance(noise_sd, Mapping):
        return np.full(theta.shape[0], float(noise_sd))
    if isinstance(o.sigma, str):
        return theta[:, idx]
    if o.sigma is not None:
        return np.full(theta.shape[0], float(o.sigma))
    raise ValueError(f"interval='prediction' for {o.observable!r} needs its noise level: the observation was "
                     "fitted with the data's reported standard errors (sigma=None); pass noise_sd= (a number, or "
                     "{observable: sd} on the noise scale)")


def forecast(
    result: FitResult,
    times: ArrayLike | None = None,
    *,
    conditions: Sequence[Condition | str] | None = None,
    observables: Sequence[str] | None = None,
    n_points: int = 101,
    band: str | None = None,
    interval: str = "confidence",
    level: float = 0.95,
    n_draws: int = 200,
    seed: int = 0,
    profiles: Sequence[ProfileResult] | None = None,
    posterior: Posterior | None = None,
    noise_sd: float | Mapping[str, float] | None = None,
) -> dict[tuple[str, str], Band | tuple[np.ndarray, np.ndarray]]:
    """The fitted model's forecast of each read-out in each condition, with a band.

    Args:
        result: a :class:`~seedsoil.solvers.FitResult`.
        times: days to forecast at (default: ``n_points`` from each condition's start to its
            last measurement; required for conditions without data).
        conditions: :class:`~seedsoil.solvers.Condition` objects (or group names of the fit)
            to forecast, e.g. an unseen regimen under a new group name; default: the fit's
            conditions, each with the read-outs measured in it.
        observables: read-outs to forecast (default: every observation model's; with the
            fit's own conditions, those measured in the group).
        band: ``None`` (the point forecast only: ``{key: (times, values)}``), ``"wald"``,
            ``"profile"`` or ``"posterior"`` (module docstring): ``{key: Band}``.
        interval: ``"confidence"`` (the mean read-out) or ``"prediction"`` (a new
            observation: noise added).
        level: coverage of the band (0.95).
        n_draws: parameter draws for ``"wald"`` and ``"posterior"``, directions searched for
            ``"profile"`` (seeded by ``seed``).
        profiles: for ``"profile"``: :class:`~seedsoil.solvers.ProfileResult` objects whose
            admissible points are added to the region's boundary points.
        posterior: for ``"posterior"``: a :class:`~seedsoil.solvers.Posterior`.
        noise_sd: the noise sd (on the noise scale: log for log-normal noise) of read-outs
            fitted with reported standard errors, for ``interval="prediction"``.

    Returns:
        ``{(group, observable): Band(times, value, low, high)}`` (or ``(times, value)``
        without a band). Draws whose solve fails are left out with a warning; if the
        estimate's own solve fails, ``ValueError``.
    """
    prob = result.problem
    if band is not None and band not in _BANDS:
        raise ValueError(f"band must be None or one of {_BANDS}; got {band!r}")
    if interval not in _INTERVALS:
        raise ValueError(f"interval must be one of {_INTERVALS}; got {interval!r}")
    if not (0 < level < 1):
        raise ValueError(f"level must be in (0, 1); got {level!r}")
    if not (isinstance(n_draws, int) and n_draws >= 2):
        raise ValueError(f"n_draws must be an integer >= 2; got {n_draws!r}")
    if interval == "prediction" and band is None:
        raise ValueError("interval='prediction' needs a band ('wald', 'profile' or 'posterior')")
    rng = np.random.default_rng(seed)
    u = np.asarray(result.u, float)[None, :]
    if band == "wald":
        u = np.concatenate([u, _wald_draws(result, n_draws, rng)])
    elif band == "profile":
        u = np.concatenate([u, _region_boundary(result, level, n_draws, rng)]
                           + ([_profile_points(result, profiles, level)] if profiles is not None else []))
    elif band == "posterior":
        u = np.concatenate([u, _posterior_draws(posterior, result, n_draws, rng)])
    lo_u, hi_u = prob.u_range()
    u = np.clip(u, lo_u, hi_u)
    core = prob.core("forward")
    theta = np.asarray(jax.vmap(core.theta)(jnp.asarray(u)))  # (1 + draws, n_all)
    n_model = np.asarray(prob.model.params.values).shape[0]

    own = conditions is None
    by_group = {c.group: c for c in prob.conditions}
    conds = prob.conditions if own else tuple(
        by_group[c] if isinstance(c, str) and c in by_group else _as_condition(c) for c in conditions)
    lo_q, hi_q = (1 - level) / 2, (1 + level) / 2
    out: dict[tuple[str, str], Any] = {}
    for c in conds:
        obs = _observations_for(prob, c.group, observables, measured_only=own and observables is None)
        if not obs:
            continue
        if times is None:
            in_group = prob.data.group == c.group
            measured = [prob.data.time[in_group & (prob.data.observable == o.observable)] for _, o in obs]
            measured = [m for m in measured if m.size]
            if not measured:
                raise ValueError(f"condition {c.group!r} has no data: give times= to forecast it")
            t_last = max(float(np.max(m)) for m in measured)
            grid = np.linspace(c.t0, max(t_last, c.t0 + 1e-9), n_points)
        else:
            grid = np.atleast_1d(np.asarray(times, float))
            if grid.ndim != 1 or not np.all(np.isfinite(grid)) or np.any(grid < c.t0):
                raise ValueError(f"times must be finite days >= the condition's start t0 = {c.t0}; got {times!r}")
        extra_t = [c.t0] + [o.baseline_time for _, o in obs if o.baseline_time is not None]
        ts = np.unique(np.concatenate([grid, extra_t]))
        mask, value, y0 = _overrides(prob, c)
        P = np.where(mask[None, :], value[None, :], theta[:, :n_model])
        sol = simulate(prob.model, ts, params=P, y0=y0, regimen=c.regimen,
                       options=prob.options, throw=False)
        code = np.asarray(sol.code)
        if code[0] != 0:
            raise ValueError(f"condition {c.group!r}: the solve at the estimate failed (status {int(code[0])})")
        good = code == 0
        if not good.all():
            warnings.warn(f"condition {c.group!r}: {int((~good).sum())} of {len(good) - 1} parameter draws failed "
                          "to solve and are left out of the band", RuntimeWarning, stacklevel=2)
        keep_t = np.isin(ts, grid)
        for k, o in obs:
            x = np.asarray(sol[o.output])  # (1 + draws, nt)
            bt = c.t0 if o.baseline_time is None else o.baseline_time
            base = x[:, int(np.searchsorted(ts, bt))][:, None]
            idx = prob._core_args["obs_idx"][k]
            so = [theta[:, i][:, None] if i is not None else np.asarray(v, float)
                  for i, v in zip(idx[:2], (o.scale, o.offset))]
            h = np.asarray(_observe(o, jnp.asarray(x), jnp.asarray(base), *(jnp.asarray(a) for a in so)))
            h = h[good][:, keep_t]
            if band is None:
                out[(c.group, o.observable)] = (ts[keep_t], h[0])
                continue
            log = o.noise == "lognormal"
            m = np.log(h) if log else h
            if interval == "prediction":
                sd = _noise_sd(o, theta[good], idx[2], noise_sd)[:, None]
                if band == "profile":  # validation profile of a new point, normal noise (Kreutz 2012)
                    thr = chi2_1_quantile(level)
                    low = m[0] - np.sqrt((m[0] - np.min(m, axis=0)) ** 2 + thr * sd[0] ** 2)
                    high = m[0] + np.sqrt((np.max(m, axis=0) - m[0]) ** 2 + thr * sd[0] ** 2)
                else:
                    draws = m[1:] + sd[1:] * rng.standard_normal(m[1:].shape)
                    low, high = np.quantile(draws, lo_q, axis=0), np.quantile(draws, hi_q, axis=0)
            elif band == "profile":
                low, high = np.min(m, axis=0), np.max(m, axis=0)
            else:
                low, high = np.quantile(m[1:], lo_q, axis=0), np.quantile(m[1:], hi_q, axis=0)
            if log:
                low, high = np.exp(low), np.exp(high)
            out[(c.group, o.observable)] = Band(ts[keep_t], h[0], low, high)
    return out


# --------------------------------------------------------------------------------------
# Cross-validation
# --------------------------------------------------------------------------------------
def restrict(problem: FitProblem, groups: Sequence[str]) -> FitProblem:
    """The same fit problem on the data of ``groups`` only: their conditions and rows,
    observation models limited to those groups (models with no data left are dropped), the
    same free parameters, bounds, scales and solver settings."""
    groups = [groups] if isinstance(groups, str) else list(groups)
    known = [c.group for c in problem.conditions]
    unknown = [g for g in groups if g not in known]
    if unknown:
        raise ValueError(f"groups {unknown} are not conditions of this problem; conditions: {known}")
    if not groups:
        raise ValueError("restrict needs at least one group")
    kw = dict(problem._init)
    data = problem.data.select(groups)
    obs = []
    for o in problem.observations:
        gs = tuple(g for g in (o.groups if o.groups is not None else groups) if g in groups)
        if gs and np.any(np.isin(data.group, gs) & (data.observable == o.observable)):
            obs.append(o if o.groups is None else _replace_groups(o, gs))
    conds = [c for c in problem.conditions if c.group in groups]
    return FitProblem(kw.pop("model"), data, obs, conds, kw.pop("free"), **kw)


def _replace_groups(o, groups):
    import dataclasses

    return dataclasses.replace(o, groups=tuple(groups))


@dataclass
class CrossValidation:
    """Outcome of :func:`cross_validate`.

    Attributes:
        folds: the held-out groups of each fold.
        fits: the refit of each fold (without its held-out groups).
        rows: one dict per held-out group: ``fold``, ``group``, ``n`` (data points),
            ``rmse`` (root mean square standardised residual of the prediction, on the
            noise scale; about 1 when the forecast is as good as the noise allows) and
            ``m2ll`` (``-2 log`` predictive density of those points at the refit, normal
            noise on the noise scale, constants included).
    """

    folds: tuple[tuple[str, ...], ...]
    fits: list[FitResult] = field(repr=False)
    rows: list[dict[str, Any]]

    @property
    def m2ll(self) -> float:
        """Total held-out ``-2 log`` predictive density (lower is better)."""
        return float(sum(r["m2ll"] for r in self.rows))

    @property
    def rmse(self) -> float:
        """Root mean square standardised prediction residual over every held-out point."""
        n = sum(r["n"] for r in self.rows)
        return float(math.sqrt(sum(r["rmse"] ** 2 * r["n"] for r in self.rows) / n))

    def table(self) -> list[dict[str, Any]]:
        return [dict(r) for r in self.rows]

    def __str__(self) -> str:
        lines = [f"cross-validation: {len(self.folds)} fold(s), held-out -2 log L = {self.m2ll:.6g}, "
                 f"rmse = {self.rmse:.3g}", f"{'fold':>4} {'group':<16} {'n':>4} {'rmse':>8} {'-2logL':>10}"]
        lines += [f"{r['fold']:>4} {r['group']:<16} {r['n']:>4} {r['rmse']:>8.3g} {r['m2ll']:>10.4g}"
                  for r in self.rows]
        return "\n".join(lines)


def _held_out_scores(problem: FitProblem, values: Mapping[str, float], groups: Sequence[str]):
    core = problem.core("forward")
    theta = core.theta(jnp.asarray(problem.to_u(dict(values))))
    m, s = (np.asarray(a) for a in core.moments(theta))
    y = np.asarray(core.y_noise)
    row_group = np.asarray([r[0] for r in problem.rows])
    out = []
    for g in groups:
        sel = row_group == g
        r = (y[sel] - m[sel]) / s[sel]
        n = int(sel.sum())
        out.append(dict(group=g, n=n, rmse=float(np.sqrt(np.mean(r ** 2))) if n else math.nan,
                        m2ll=float(np.sum(r ** 2 + 2 * np.log(s[sel]) + math.log(2 * math.pi)))))
    return out


def _as_folds(problem: FitProblem, folds) -> tuple[tuple[str, ...], ...]:
    known = [c.group for c in problem.conditions]
    if folds is None or folds == "leave_one_out":
        return tuple((g,) for g in known)
    out = []
    for f in folds:
        f = (f,) if isinstance(f, str) else tuple(f)
        unknown = [g for g in f if g not in known]
        if unknown:
            raise ValueError(f"fold {list(f)}: groups {unknown} are not conditions of this problem; "
                             f"conditions: {known}")
        if not f or len(set(f)) == len(known):
            raise ValueError(f"fold {list(f)} must hold out at least one group and keep at least one")
        out.append(f)
    if not out:
        raise ValueError("folds is empty")
    return tuple(out)


def cross_validate(problem: FitProblem, folds: Sequence[Sequence[str] | str] | str | None = None,
                   **fit_kwargs: Any) -> CrossValidation:
    """Refit ``problem`` without each fold's groups and score the refit's prediction of them.

    Args:
        problem: a :class:`~seedsoil.solvers.FitProblem`.
        folds: the groups held out in each fold (e.g. ``[["C"], ["D"]]``, or
            ``[["therapeutic 0.3", "therapeutic 3"]]`` to fit the preventive arms and PBS
            and predict the therapeutic ones); ``None`` or ``"leave_one_out"``: one fold per
            group.
        **fit_kwargs: passed to :func:`~seedsoil.solvers.fit` for every refit (``method``,
            ``n_starts``, ``seed``, ``start``, ...).

    A free parameter that only the held-out groups inform (a read-out scale of a study held
    out whole) keeps its start value in the refit, so its forecast is not a test of the
    model: hold out arms within a study, not whole studies, when read-out scales are per
    study.
    """
    folds = _as_folds(problem, folds)
    fits, rows = [], []
    for i, held in enumerate(folds):
        keep = [c.group for c in problem.conditions if c.group not in held]
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=".*not identifiable.*", category=RuntimeWarning)
            warnings.filterwarnings("ignore", message=".*free parameters for.*", category=RuntimeWarning)
            res = fit(restrict(problem, keep), **fit_kwargs)
        fits.append(res)
        rows += [dict(fold=i, **r) for r in _held_out_scores(problem, res.values, held)]
    return CrossValidation(folds, fits, rows)


@dataclass
class ModelComparison:
    """Outcome of :func:`compare_models`: one row per model with its fit on all the data
    (``k`` free parameters, ``n`` points, ``m2ll`` = -2 log L, ``aic``, ``bic``) and, with
    folds, its held-out ``cv_m2ll`` and ``cv_rmse``, and per held-out group the prediction
    error (``cv[name]``: a :class:`CrossValidation`). ``selected`` is the model with the
    lowest ``cv_m2ll`` (or the lowest AIC without folds)."""

    rows: list[dict[str, Any]]
    fits: dict[str, FitResult] = field(repr=False)
    cv: dict[str, CrossValidation] = field(repr=False)
    selected: str

    def table(self) -> list[dict[str, Any]]:
        return [dict(r) for r in self.rows]

    def __str__(self) -> str:
        has_cv = bool(self.cv)
        head = f"{'model':<24} {'k':>3} {'n':>4} {'-2logL':>10} {'AIC':>10} {'BIC':>10}"
        head += f" {'CV -2logL':>10} {'CV rmse':>8}" if has_cv else ""
        lines = [head]
        for r in self.rows:
            line = f"{r['model']:<24} {r['k']:>3} {r['n']:>4} {r['m2ll']:>10.4g} {r['aic']:>10.4g} {r['bic']:>10.4g}"
            if has_cv:
                line += f" {r['cv_m2ll']:>10.4g} {r['cv_rmse']:>8.3g}"
            lines.append(line + ("  <- selected" if r["model"] == self.selected else ""))
        return "\n".join(lines)


def compare_models(problems: Mapping[str, FitProblem], folds: Sequence[Sequence[str] | str] | str | None = (),
                   **fit_kwargs: Any) -> ModelComparison:
    """Fit each candidate model to all the data (AIC, BIC) and, with ``folds``, cross-validate
    it (:func:`cross_validate`); the selected model predicts the held-out data best.

    Args:
        problems: ``{model name: FitProblem}``, each on the same data (e.g. the tumour under
            four growth laws); a :class:`~seedsoil.solvers.FitResult` in place of a problem
            is used as that model's fit to all the data (no refit).
        folds: as for :func:`cross_validate`; ``()`` (default): no cross-validation, select
            by AIC.
        **fit_kwargs: passed to every :func:`~seedsoil.solvers.fit`; the refits of the
            cross-validation start at the model's full-data estimate unless ``start`` is given.
    """
    if not problems:
        raise ValueError("compare_models needs at least one problem")
    rows, fits, cvs = [], {}, {}
    for name, prob in problems.items():
        if isinstance(prob, FitResult):  # already fitted to all the data
            res, prob = prob, prob.problem
        elif isinstance(prob, FitProblem):
            res = fit(prob, **fit_kwargs)
        else:
            raise TypeError(f"problems[{name!r}] must be a FitProblem or a FitResult; got {type(prob).__name__}")
        fits[name] = res
        row = dict(model=name, k=len(res.names), n=res.n_data, m2ll=res.minus2loglik, aic=res.aic, bic=res.bic)
        if folds is None or len(folds):
            cv_kwargs = {"start": res.values, **fit_kwargs}  # refits start at the full-data estimate
            cv = cross_validate(prob, folds, **cv_kwargs)
            cvs[name] = cv
            row.update(cv_m2ll=cv.m2ll, cv_rmse=cv.rmse)
        rows.append(row)
    key = "cv_m2ll" if cvs else "aic"
    selected = min(rows, key=lambda r: r[key])["model"]
    return ModelComparison(rows, fits, cvs, selected)
