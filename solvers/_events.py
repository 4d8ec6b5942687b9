"""Probabilities of events (exact formulas, vectorised over patients).

Metastases founded as a Poisson process with expected count ``N``: :func:`prob_none`
(``exp(-N)``) and :func:`poisson_fraction` (the population fraction with ``X op k``).
A time-to-event with cumulative hazard ``H(t)``: :func:`event_free` (``exp(-H)``) and
:func:`sample_event_times` (event times drawn by inversion, censored at the last time;
ready for a Kaplan-Meier or Cox fit with :mod:`lifelines`). A NaN member (a failed
solve) is never counted as event-free: it propagates as NaN, raises naming its index,
or is excluded by an ``ok`` mask and reported.

numpy/scipy on concrete numbers (outside ``jit``); results of a sweep
(:class:`numpy.ndarray` or :class:`xarray.DataArray`) go in directly.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
from jaxtyping import ArrayLike, Bool, Float, Int

from ..models._checks import _TOL, _array, _count, _first, _is_xarray, _mask

__all__ = ["EventTimes", "prob_none", "poisson_fraction", "event_free", "sample_event_times"]

# --------------------------------------------------------------------------------------
# Probabilities of events
# --------------------------------------------------------------------------------------
def _exp_minus(x: Any, what: str):
    """``exp(-x)`` of a non-negative array (NaN stays NaN), keeping an xarray's labels."""
    arr = _array(x, what)
    with np.errstate(invalid="ignore"):
        bad = arr < -_TOL
    if bad.any():
        idx = _first(bad) if arr.ndim else ()
        raise ValueError(f"{what} must be >= 0; got {float(arr[idx])!r} at index {idx}")
    out = np.exp(-np.maximum(arr, 0.0))  # NaN in, NaN out: never counted as event-free
    if _is_xarray(x):
        return x.copy(data=out)
    return float(out) if out.ndim == 0 else out


def prob_none(expected_count: ArrayLike) -> Float[np.ndarray, "..."]:
    """Probability of no event given its expected number: ``exp(-N)``.

    For events that occur as a Poisson process (metastases founded by circulating cells,
    say) with expected count ``N`` over the period, the count is Poisson(``N``) and
    ``P(none) = exp(-N)``. Element-wise, any shape (a float for a scalar; an
    :class:`xarray.DataArray` keeps its labels).

    Args:
        expected_count: expected numbers of events, >= 0 (values down to -1e-9 are taken
            as solver rounding of 0).

    Returns:
        ``exp(-N)``; NaN where ``N`` is NaN (a failed solve is never counted as event-free).

    Raises:
        ValueError: a negative expected count, naming its index.
    """
    return _exp_minus(expected_count, "expected_count")


def event_free(cumulative_hazard: ArrayLike) -> Float[np.ndarray, "..."]:
    """Probability of being event-free given the cumulative hazard: ``S = exp(-H)``.

    Element-wise, any shape (a float for a scalar; an :class:`xarray.DataArray` keeps its
    labels).

    Args:
        cumulative_hazard: ``H(t) = integral of the hazard from 0 to t``, >= 0 (values
            down to -1e-9 are taken as solver rounding of 0).

    Returns:
        ``exp(-H)``; NaN where ``H`` is NaN (never counted as event-free).

    Raises:
        ValueError: a negative cumulative hazard, naming its index.
    """
    return _exp_minus(cumulative_hazard, "cumulative_hazard")


_OPS = (">=", ">", "<=", "<", "==")


def poisson_fraction(means: ArrayLike, op: str, k: int, *, ok: ArrayLike | None = None) -> float | np.ndarray:
    """The fraction of patients whose Poisson count ``X ~ Poisson(mean_i)`` satisfies ``X op k``.

    Exact: the mean over patients of ``P(X op k)`` (:data:`scipy.stats.poisson`'s ``sf``,
    ``cdf`` and ``pmf``), e.g. ``poisson_fraction(N, ">=", 1)`` is the expected fraction of
    patients with at least one metastasis when ``N`` is each patient's expected number.

    Args:
        means: ``(n, ...)`` expected counts, >= 0, patients along the first axis (for an
            :class:`xarray.DataArray`, its first dimension, e.g. a sweep's ``member``); the
            other axes (times, organs) are kept.
        op: one of ``">="``, ``">"``, ``"<="``, ``"<"``, ``"=="``.
        k: a non-negative integer.
        ok: ``(n,)`` boolean mask of the patients to include (e.g. a sweep's ``result.ok``);
            default: all, and then a NaN mean raises.

    Returns:
        A float for ``(n,)`` means, else an array (a DataArray for a DataArray) of the other
        axes.

    Raises:
        ValueError: a bad ``op`` or ``k``; a negative mean; a NaN mean of an included patient
            (named by index: pass ``ok=`` to exclude failed members).
    """
    if op not in _OPS:
        raise ValueError(f"op must be one of {list(_OPS)}; got {op!r}")
    if isinstance(k, (float, np.floating)) and float(k).is_integer():
        k = int(k)
    k = _count(k, "k", minimum=0)
    mu = _array(means, "means")
    if mu.ndim == 0:
        raise ValueError("means must hold one value per patient (an array); got a scalar")
    keep = _mask(ok, mu.shape[0])
    if not keep.any():
        raise ValueError("ok excludes every patient")
    mu_in = mu[keep]
    nan = np.isnan(mu_in)
    if nan.any():
        where = np.flatnonzero(keep)[_first(nan)[0]]
        raise ValueError(f"means of patient {where} is NaN (a failed solve?); exclude it with ok= rather than count "
                         "it as event-free")
    neg = mu_in < -_TOL
    if neg.any():
        where = np.flatnonzero(keep)[_first(neg)[0]]
        raise ValueError(f"means must be >= 0; patient {where} has {float(mu_in[_first(neg)])!r}")
    mu_in = np.maximum(mu_in, 0.0)
    from scipy import stats  # here, not at import: import seedsoil loads no scipy.stats

    pois = stats.poisson(mu_in)
    prob = {">=": lambda: pois.sf(k - 1), ">": lambda: pois.sf(k), "<=": lambda: pois.cdf(k),
            "<": lambda: pois.cdf(k - 1), "==": lambda: pois.pmf(k)}[op]()
    frac = np.mean(prob, axis=0)
    if _is_xarray(means) and mu.ndim > 1:
        dim = means.dims[0]
        return means.isel({dim: 0}, drop=True).copy(data=frac)
    return float(frac) if np.ndim(frac) == 0 else frac


@dataclass(frozen=True, eq=False)
class EventTimes:
    """Event times drawn by :func:`sample_event_times`, for the included patients.

    Unpacks as ``time, observed = sample_event_times(...)``.

    Attributes:
        time: ``(m,)`` event time, or the last save time for a censored patient (days).
        observed: ``(m,)`` True for an event, False for censoring at the last time.
        members: ``(m,)`` positions of these patients among all given.
        excluded: positions of the patients left out by ``ok`` (a failed solve, say).
    """

    time: Float[np.ndarray, " m"]
    observed: Bool[np.ndarray, " m"]
    members: Int[np.ndarray, " m"]
    excluded: Int[np.ndarray, " k"]

    def __iter__(self) -> Iterator[np.ndarray]:
        yield self.time
        yield self.observed


def _check_hazard(times: np.ndarray, H: np.ndarray, keep: np.ndarray) -> None:
    """Raise naming the first included patient whose ``H`` is not finite, negative or decreasing."""
    Hk = H[keep]
    members = np.flatnonzero(keep)
    bad = ~np.isfinite(Hk)
    if bad.any():
        r, j = _first(bad)
        what = "NaN" if np.isnan(Hk[r, j]) else f"{float(Hk[r, j])!r}"
        raise ValueError(f"cumulative_hazard of patient {members[r]} is {what} at time index {j} "
                         f"(t = {times[j]:g}); a failed solve? exclude it with ok= (e.g. a sweep's result.ok)")
    neg = Hk[:, 0] < -_TOL
    if neg.any():
        r = int(np.flatnonzero(neg)[0])
        raise ValueError(f"cumulative_hazard of patient {members[r]} starts negative: {float(Hk[r, 0])!r}")
    drop = np.diff(Hk, axis=1) < -_TOL * (1.0 + np.abs(Hk[:, :-1]))
    if drop.any():
        r, j = _first(drop)
        raise ValueError(f"cumulative_hazard of patient {members[r]} decreases from {float(Hk[r, j])!r} at "
                         f"t = {times[j]:g} to {float(Hk[r, j + 1])!r} at t = {times[j + 1]:g}; a cumulative hazard "
                         "never decreases")


def sample_event_times(times: ArrayLike, cumulative_hazard: ArrayLike,
                       rng: int | np.random.Generator | None = 0, *, ok: ArrayLike | None = None) -> EventTimes:
    """Draw one event time per patient from its cumulative hazard, by inversion.

    With ``E ~ Exp(1)`` drawn for each patient, the event time is the first ``t`` with
    ``H(t) >= E`` (``P(T > t) = P(E > H(t)) = exp(-H(t))``), ``H`` interpolated linearly
    between save times; a patient with ``H(t_end) < E`` is censored at ``t_end``. One draw
    per given patient, in order, whether included or not: a patient's time depends only on
    the seed and its own hazard.

    Args:
        times: ``(n_times,)`` strictly increasing save times (days).
        cumulative_hazard: ``(n_patients, n_times)`` nondecreasing cumulative hazards
            (numpy, jax or xarray), ``H >= 0``; decreases within ``1e-9 * (1 + |H|)`` and
            values down to -1e-9 are taken as solver rounding.
        rng: an integer seed or a :class:`numpy.random.Generator`; the same seed gives the
            same times.
        ok: ``(n_patients,)`` boolean mask of the patients to include (e.g. a sweep's
            ``result.ok``); the others are left out and listed in ``excluded``.

    Returns:
        :class:`EventTimes` (``time``, ``observed``, ``members``, ``excluded``), ready for
        ``lifelines.KaplanMeierFitter().fit(time, observed)``.

    Raises:
        ValueError: bad shapes or times; an included patient whose ``H`` is NaN or infinite,
            negative, or decreasing (named by index and time).
    """
    t = _array(times, "times")
    H = _array(cumulative_hazard, "cumulative_hazard")
    if t.ndim != 1 or len(t) < 1 or not np.all(np.isfinite(t)):
        raise ValueError(f"times must be a 1-D array of finite save times; got shape {t.shape}")
    if np.any(np.diff(t) <= 0):
        j = int(np.flatnonzero(np.diff(t) <= 0)[0])
        raise ValueError(f"times must increase strictly; times[{j}] = {float(t[j])!r}, "
                         f"times[{j + 1}] = {float(t[j + 1])!r}")
    if H.ndim != 2 or H.shape[1] != len(t):
        raise ValueError(f"cumulative_hazard must have shape (n_patients, {len(t)}), one row per patient over the "
                         f"times; got {H.shape}")
    keep = _mask(ok, H.shape[0])
    _check_hazard(t, H, keep)
    gen = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)
    E = gen.standard_exponential(H.shape[0])[keep]
    Hk = np.maximum.accumulate(np.maximum(H[keep], 0.0), axis=1)  # rounding-level dips removed
    m = Hk.shape[0]
    j = np.sum(Hk < E[:, None], axis=1)  # first index with H >= E (H nondecreasing)
    observed = j < len(t)
    time = np.full(m, t[-1])
    rows = np.flatnonzero(observed & (j > 0))
    if rows.size:
        j1 = j[rows]
        h0, h1 = Hk[rows, j1 - 1], Hk[rows, j1]
        time[rows] = t[j1 - 1] + (E[rows] - h0) / (h1 - h0) * (t[j1] - t[j1 - 1])
    time[observed & (j == 0)] = t[0]
    return EventTimes(time=time, observed=observed, members=np.flatnonzero(keep).astype(np.int64),
                      excluded=np.flatnonzero(~keep).astype(np.int64))
