"""Plausible and virtual populations (Allen et al. 2016).

:func:`select_by_ranges` keeps the *plausible* patients, those whose outputs all lie in
their accepted ranges. :func:`select_virtual_population` then draws a *virtual* population
from the plausible one whose outputs follow a target distribution: patient ``i`` is kept
with probability ``p_i = target_pdf(x_i) / plausible_pdf(x_i)`` scaled so that
``max p_i = 1``, the plausible density being a Gaussian kernel density estimate
(:class:`scipy.stats.gaussian_kde`). The returned :class:`Selection` compares the
target's mean and sd with the selected population's.

References:
    Allen RJ, Rieger TR, Musante CJ (2016). Efficient generation and selection of virtual
    populations in quantitative systems pharmacology models. CPT Pharmacometrics Syst
    Pharmacol 5:140-146.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
from jaxtyping import ArrayLike, Bool, Float, Int

from ..models._checks import _array, _count, _positive, _real

__all__ = ["Selection", "select_by_ranges", "select_virtual_population"]

# --------------------------------------------------------------------------------------
# Plausible and virtual populations (Allen et al. 2016)
# --------------------------------------------------------------------------------------
def _outputs(outputs: Any, what: str) -> tuple[tuple[str, ...], np.ndarray]:
    """``(names, (n, d) matrix)`` of a ``{name: (n,) values}`` mapping."""
    if not isinstance(outputs, Mapping) or not outputs:
        raise ValueError(f"{what} must be a non-empty mapping {{output name: (n,) values}}; got {outputs!r}")
    cols, n = [], None
    for name, v in outputs.items():
        col = _array(v, f"{what}[{name!r}]")
        if col.ndim != 1:
            raise ValueError(f"{what}[{name!r}] must be 1-D, one value per patient; got shape {col.shape}")
        if n is not None and len(col) != n:
            raise ValueError(f"{what} must give every output the same number of patients; {name!r} has "
                             f"{len(col)}, {next(iter(outputs))!r} has {n}")
        n = len(col)
        cols.append(col)
    return tuple(outputs), np.stack(cols, axis=1)


def select_by_ranges(outputs: Mapping[str, ArrayLike],
                     ranges: Mapping[str, tuple[float | None, float | None]]) -> Bool[np.ndarray, " n"]:
    """The plausible patients: those whose outputs all lie in their ranges.

    Args:
        outputs: ``{output name: (n,) values}`` (numpy, jax or xarray), one value per patient.
        ranges: ``{output name: (lo, hi)}``, closed intervals; ``None`` for an open side.

    Returns:
        An ``(n,)`` boolean mask; a patient with a NaN in a ranged output is not plausible.

    Raises:
        ValueError: a range for an output not given, a range with ``lo > hi``, or outputs of
            different lengths.
    """
    names, x = _outputs(outputs, "outputs")
    if not isinstance(ranges, Mapping) or not ranges:
        raise ValueError(f"ranges must be a non-empty mapping {{output name: (lo, hi)}}; got {ranges!r}")
    keep = np.ones(x.shape[0], dtype=bool)
    for name, rng in ranges.items():
        if name not in names:
            raise ValueError(f"ranges names {name!r}, which outputs does not hold; outputs: {list(names)}")
        if not (isinstance(rng, (tuple, list)) and len(rng) == 2):
            raise ValueError(f"ranges[{name!r}] must be a pair (lo, hi); got {rng!r}")
        lo = -math.inf if rng[0] is None else _real(rng[0], f"ranges[{name!r}] lower limit")
        hi = math.inf if rng[1] is None else _real(rng[1], f"ranges[{name!r}] upper limit")
        if lo > hi:
            raise ValueError(f"ranges[{name!r}] = {tuple(rng)!r} is empty (lo > hi)")
        col = x[:, names.index(name)]
        with np.errstate(invalid="ignore"):
            keep &= (col >= lo) & (col <= hi)  # NaN compares False: not plausible
    return keep


@dataclass(frozen=True, eq=False)
class Selection:
    """A virtual population selected from a plausible one (:func:`select_virtual_population`).

    Attributes:
        indices: positions of the selected patients in the plausible population (ascending).
        probability: ``(n,)`` inclusion probability ``p_i`` of every plausible patient (NaN
            for excluded ones).
        acceptance: selected / usable plausible patients.
        expected: the expected number selected, ``sum(p_i)``.
        excluded: positions of plausible patients that could not be weighed (a NaN output, or
            one <= 0 on a log scale); never selected.
        statistics: one row per target statistic: ``output``, ``statistic`` (``"mean"`` or
            ``"sd"``), ``target``, ``achieved`` (in the selected population) and ``relative``
            (``achieved / target - 1``).
    """

    indices: Int[np.ndarray, " m"]
    probability: Float[np.ndarray, " n"]
    acceptance: float
    expected: float
    excluded: Int[np.ndarray, " k"]
    statistics: tuple[dict[str, Any], ...]

    @property
    def mask(self) -> Bool[np.ndarray, " n"]:
        """``(n,)`` boolean mask of the selected patients."""
        out = np.zeros(len(self.probability), dtype=bool)
        out[self.indices] = True
        return out

    def rows(self) -> list[dict[str, Any]]:
        """The statistics table: target vs achieved, one dict per row."""
        return [dict(r) for r in self.statistics]

    def report(self) -> str:
        """A plain-text summary: sizes, acceptance and the statistics table."""
        n = len(self.probability)
        lines = [f"selected {len(self.indices)} of {n} plausible patients (acceptance {self.acceptance:.3g}; "
                 f"expected {self.expected:.1f}; excluded {len(self.excluded)})"]
        rows = self.statistics
        width = max([len("output")] + [len(r["output"]) for r in rows])
        lines.append(f"{'output':<{width}}  {'stat':<4}  {'target':>12}  {'achieved':>12}  {'relative':>9}")
        for r in rows:
            lines.append(f"{r['output']:<{width}}  {r['statistic']:<4}  {r['target']:>12.6g}  {r['achieved']:>12.6g}  "
                         f"{r['relative']:>+9.2%}")
        return "\n".join(lines)


def _frozen_moments(dist: Any, d: int) -> tuple[np.ndarray, np.ndarray]:
    """Mean and sd of a scipy frozen distribution (NaN where it does not say)."""
    mean, sd = np.full(d, np.nan), np.full(d, np.nan)
    try:
        m = dist.mean() if callable(dist.mean) else dist.mean
        mean = np.broadcast_to(np.asarray(m, dtype=np.float64), (d,)).copy()
        if callable(getattr(dist, "std", None)):
            sd = np.broadcast_to(np.asarray(dist.std(), dtype=np.float64), (d,)).copy()
        else:
            cov = dist.cov() if callable(dist.cov) else dist.cov
            sd = np.sqrt(np.diag(np.atleast_2d(np.asarray(cov, dtype=np.float64))))
    except (AttributeError, TypeError, ValueError):
        pass
    return mean, sd


def select_virtual_population(
    plausible_outputs: Mapping[str, ArrayLike],
    target: Mapping[str, tuple[float, float]] | Any,
    *,
    log: bool | Collection[str] = False,
    seed: int | np.random.Generator | None = 0,
    n_select: int | None = None,
    bw_method: str | float | None = None,
) -> Selection:
    """Select a virtual population whose outputs follow ``target`` (Allen et al. 2016).

    Patient ``i`` of the plausible population, with outputs ``x_i``, is kept with probability
    ``p_i = target_pdf(x_i) / plausible_pdf(x_i)``, scaled so that the largest ``p_i`` is 1,
    by comparing ``p_i`` with a seeded uniform draw. ``plausible_pdf`` is a Gaussian kernel
    density estimate of the plausible outputs (:class:`scipy.stats.gaussian_kde`, cost
    ``O(n^2)``: a few seconds for ``n`` of 10^4). The selected patients then follow the target
    as far as the plausible population covers it: the target must lie well inside the
    plausible range, and the acceptance falls as the two distributions differ.

    Args:
        plausible_outputs: ``{output name: (n,) values}`` of the plausible patients (e.g. a
            sweep's outputs at one time, restricted by :func:`select_by_ranges`).
        target: ``{output name: (mean, sd)}``, independent normals (log-normals for the outputs
            in ``log``, with that arithmetic mean and sd), over the outputs it names; or a
            scipy frozen distribution (``scipy.stats.multivariate_normal(mean, cov)``, or a
            univariate one for one output) of all outputs stacked in the order of
            ``plausible_outputs``, on the log scale for those in ``log``.
        log: ``True`` (every output) or the names of the outputs weighed on the log scale
            (positive outputs: the kernel density estimate is then made of ``log x``).
        seed: seed of the uniform draws (and of the subset with ``n_select``); the same seed
            gives the same selection.
        n_select: the number of patients wanted: a random subset of that size of the accepted
            ones (still target-distributed); ``ValueError`` when fewer were accepted. Default:
            all accepted.
        bw_method: bandwidth of the kernel density estimate (``gaussian_kde``'s; default
            Scott's rule).

    Returns:
        A :class:`Selection`: ``indices``, ``probability``, ``acceptance``, ``excluded`` and the
        target-vs-achieved table (``report()``), on the natural scale for a mapping target and
        on the target's scale for a frozen distribution.

    Raises:
        ValueError: a target naming an output not given; a target sd <= 0 (or mean <= 0 on a
            log scale); a frozen distribution of another dimension; fewer accepted patients
            than ``n_select``; too few usable patients for a density estimate.
    """
    names, x = _outputs(plausible_outputs, "plausible_outputs")
    n = x.shape[0]
    if isinstance(log, (bool, np.bool_)):
        logged = set(names) if log else set()
    else:
        if isinstance(log, str):
            log = (log,)
        logged = set(log)
        for name in logged:
            if name not in names:
                raise ValueError(f"log names {name!r}, which plausible_outputs does not hold; outputs: {list(names)}")
    if n_select is not None:
        n_select = _count(n_select, "n_select")

    mapping = isinstance(target, Mapping)
    if mapping:
        if not target:
            raise ValueError("target names no output; give {output name: (mean, sd)} or a frozen distribution")
        used = []
        for name, ms in target.items():
            if name not in names:
                raise ValueError(f"target names {name!r}, which plausible_outputs does not hold; outputs: "
                                 f"{list(names)}")
            if not (isinstance(ms, (tuple, list)) and len(ms) == 2):
                raise ValueError(f"target[{name!r}] must be a pair (mean, sd); got {ms!r}")
            mean, sd = _real(ms[0], f"target[{name!r}] mean"), _positive(ms[1], f"target[{name!r}] sd")
            if name in logged and mean <= 0:
                raise ValueError(f"target[{name!r}] mean must be > 0 for a log-normal target; got {mean!r}")
            used.append((names.index(name), name, mean, sd))
        cols = [j for j, *_ in used]
    else:
        if not callable(getattr(target, "logpdf", None)):
            raise ValueError(f"target must be {{output name: (mean, sd)}} or a scipy frozen distribution with "
                             f"logpdf; got {target!r}")
        cols = list(range(len(names)))

    xs = x[:, cols]
    logcol = np.array([names[j] in logged for j in cols])
    with np.errstate(invalid="ignore"):
        usable = np.all(np.isfinite(xs), axis=1) & np.all(~logcol | (xs > 0), axis=1)
    from scipy import stats  # here, not at import: import seedsoil loads no scipy.stats

    excluded = np.flatnonzero(~usable)
    y = xs[usable].copy()
    y[:, logcol] = np.log(y[:, logcol])
    m, d = y.shape
    if m <= d + 1:
        raise ValueError(f"only {m} plausible patients have usable outputs {[names[j] for j in cols]}; a density "
                         "estimate needs many more")

    if mapping:
        log_target = np.zeros(m)
        for k, (_, name, mean, sd) in enumerate(used):
            if name in logged:  # log-normal with arithmetic mean and sd: log x ~ N(mu, s^2)
                s2 = math.log1p((sd / mean) ** 2)
                log_target += stats.norm.logpdf(y[:, k], math.log(mean) - s2 / 2, math.sqrt(s2))
            else:
                log_target += stats.norm.logpdf(y[:, k], mean, sd)
    else:
        log_target = np.asarray(target.logpdf(y[:, 0] if d == 1 else y), dtype=np.float64).reshape(-1)
        if log_target.shape != (m,):
            raise ValueError(f"target's logpdf of the {m} x {d} outputs {list(names)} gave shape {log_target.shape}; "
                             f"it must be a distribution of {d} variables")
    try:
        kde = stats.gaussian_kde(y.T, bw_method=bw_method)
        log_plausible = kde.logpdf(y.T)
    except np.linalg.LinAlgError as e:
        raise ValueError(f"the plausible outputs {[names[j] for j in cols]} are degenerate (an output constant or "
                         f"outputs collinear); the density estimate fails: {e}") from None
    log_ratio = log_target - log_plausible
    if not np.any(np.isfinite(log_ratio)):
        raise ValueError("the target density is zero at every plausible patient: the plausible population does not "
                         "cover the target")
    p = np.exp(log_ratio - np.max(log_ratio[np.isfinite(log_ratio)]))
    p = np.where(np.isfinite(p), p, 0.0)
    probability = np.full(n, np.nan)
    probability[usable] = p

    rng = np.random.default_rng(seed)
    u = rng.uniform(size=n)  # one draw per plausible patient, usable or not: stable under exclusions
    accepted = np.flatnonzero(usable & (u < np.nan_to_num(probability, nan=0.0)))
    expected = float(p.sum())
    if n_select is not None:
        if len(accepted) < n_select:
            need = math.ceil(n_select * n / max(expected, 1e-300))
            raise ValueError(f"only {len(accepted)} of {n} plausible patients were accepted (expected {expected:.1f}); "
                             f"n_select={n_select} needs a plausible population of about {need}")
        accepted = np.sort(rng.permutation(accepted)[:n_select])

    chosen = x[accepted]
    rows = []
    if mapping:
        for j, name, mean, sd in used:
            got = chosen[:, j]
            achieved = (float(np.mean(got)), float(np.std(got, ddof=1)) if len(got) > 1 else math.nan)
            for stat, want, have in (("mean", mean, achieved[0]), ("sd", sd, achieved[1])):
                rows.append(dict(output=name, statistic=stat, target=want, achieved=have,
                                 relative=have / want - 1 if want != 0 else math.nan))
    else:
        t_mean, t_sd = _frozen_moments(target, d)
        yc = chosen[:, cols].copy()
        yc[:, logcol] = np.log(yc[:, logcol])
        for k, j in enumerate(cols):
            label = f"log({names[j]})" if logcol[k] else names[j]
            have_mean = float(np.mean(yc[:, k]))
            have_sd = float(np.std(yc[:, k], ddof=1)) if len(yc) > 1 else math.nan
            for stat, want, have in (("mean", float(t_mean[k]), have_mean), ("sd", float(t_sd[k]), have_sd)):
                rows.append(dict(output=label, statistic=stat, target=want, achieved=have,
                                 relative=have / want - 1 if want != 0 else math.nan))
    return Selection(indices=accepted.astype(np.int64), probability=probability,
                     acceptance=len(accepted) / max(int(usable.sum()), 1), expected=expected,
                     excluded=excluded.astype(np.int64), statistics=tuple(rows))
