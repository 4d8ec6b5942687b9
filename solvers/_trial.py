"""Virtual trials: a population of virtual patients, each followed from their own start day
under every arm of a trial, summarised as a trial report summarises real patients.

``virtual_trial(model, population, n, arms=..., start=..., horizon=...)``:

1. **Patients.** ``n`` parameter sets drawn from ``population``
   (:class:`~seedsoil.models.Population`; ``None``: ``n`` copies of the model's defaults).
2. **Start day** ``s_i`` of each patient (the trial's day 0 for that patient):

   * a number: the same day for everyone;
   * ``"diagnosis"``: day 0, or, when the model declares an outcome ``diagnosis`` of kind
     ``"threshold"`` (a cascade built from tumour onset, ``cascade(..., onset=...)``), the
     day its output first reaches its level on the screening grid (linear between grid
     points): each patient's own day of diagnosis;
   * ``"first_<outcome>"`` (or the outcome's name) for an outcome of kind
     ``"expected_count"`` that the model declares (e.g. ``"first_bone_metastasis"``):
     the day of the patient's first such event, drawn by inversion from its expected count
     ``N_i(t)`` on a screening grid (``E_i ~ Exp(1)``; the first ``t`` with
     ``N_i(t) >= E_i``: ``P(s_i <= t) = 1 - exp(-N_i(t))``, the Poisson process the
     outcome declares). A patient with no event by ``screen_until`` days, or who reaches the
     model's ``"death"`` threshold first, is not eligible (listed in ``excluded``, as a trial
     screens patients out; never counted as event-free). The screening sweep stops each
     patient at the save where its start (or death) is reached (``sweep``'s ``until``):
     the saves up to there, and so the start day, are those of a solve to
     ``screen_until``; a patient who dies with no event is listed as dying first.

3. **State at the start.** Each eligible patient is solved untreated from day 0 to ``s_i``
   and its whole state kept: every arm starts from the same state (the patient's "virtual
   twins", one per arm). States declared nonnegative are clipped at 0 (a discretised
   density can carry values of -1e-3 from rounding; the change is of that size).
4. **Arms.** Each arm is solved from ``s_i`` to ``s_i + horizon`` with the arm's regimen
   started on ``s_i``, saving every ``dt`` days of trial time: one :func:`sweep` per arm
   with one save grid, one regimen and one initial state per member (one compiled
   function for all arms with the same number of doses).

Trial time counts from each patient's own start (days), as in a trial report. Outcomes
are read through the model's declarations (:class:`~seedsoil.models.Outcome`): a
cumulative hazard ``H`` gives the probability of no event in the trial,
``exp(-(H(t) - H(0)))``; an expected count ``N`` likewise ``exp(-(N(t) - N(0)))``; a
threshold (``"death"``) the day it is reached. What the solvers compute is exact given the
model (no sampling) except where said: ``hazard_ratio`` and ``event_times`` draw one event
time per patient (inversion of the same cumulative hazard) for lifelines' Cox and
Kaplan-Meier estimators.

A member whose solve fails in any pass is excluded from that arm (or, in the screening
passes, from the trial) and reported by index and reason in :attr:`Trial.excluded`; its
outputs are NaN and it is never counted as event-free.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import jax
import numpy as np

from ..models._population import Population
from ..models.base import Model, Outcome, UnknownNameError
from ._events import poisson_fraction, sample_event_times
from ._sweep import sweep
from .regimen import Regimen, from_schedule

__all__ = ["Trial", "virtual_trial"]

_OPS = (">=", ">", "<=", "<", "==")


def _schedule_like(x: Any) -> bool:
    return all(hasattr(x, a) for a in ("state", "amount", "interval", "duration", "loading"))


def _dose_part(model: Model, state: str, schedule_name: str = "") -> str | None:
    """The part of a composite holding the dosed ``state`` (``None`` for a plain model).
    Where several parts have it (a ``depot`` in denosumab and in an oral drug), the one
    whose drug the schedule names (the part's model name, ``_`` read as a space, begins the
    schedule's name: ``"denosumab 120 mg ..."``); ``ValueError`` when none or still several."""
    if state in model.state_names:
        return None
    parts = [n.split(".", 1)[0] for n in model.state_names if "." in n and n.split(".", 1)[1] == state]
    if len(parts) > 1 and hasattr(model, "named_parts"):
        named = model.named_parts
        drug = [q for q in parts if schedule_name.lower().startswith(named[q].name.replace("_", " ").lower())]
        parts = drug if len(drug) == 1 else parts
    if len(parts) != 1:
        raise ValueError(f"the schedule doses state {state!r}: model {model.name!r} has "
                         f"{'no part' if not parts else f'several parts ({parts})'} with that state; give the arm "
                         f"as a function start -> Regimen")
    return parts[0]


def _arm_regimen(model: Model, name: str, arm: Any, starts: np.ndarray, horizon: float) -> Regimen | None:
    """The per-member regimen of one arm started on each patient's day ``starts``."""
    if arm is None:
        return None
    if callable(arm) and not _schedule_like(arm):
        reg = arm(starts)
        if not isinstance(reg, Regimen):
            raise TypeError(f"arm {name!r}: the function must return a Regimen; got {type(reg).__name__}")
        return reg
    schedules = [arm] if _schedule_like(arm) else list(arm) if isinstance(arm, Sequence) else None
    if not schedules or not all(_schedule_like(s) for s in schedules):
        raise TypeError(f"arm {name!r} must be None, a dosing schedule (e.g. seedsoil.models.drugs.XGEVA_Q4W), a "
                        f"list of schedules, or a function start_days -> Regimen; got {arm!r}")
    reg = None
    for s in schedules:
        count = int(math.floor(horizon / float(s.interval))) + 1  # every dose within the horizon
        r = from_schedule(s, start=starts[:, None], count=count, part=_dose_part(model, s.state, s.name))
        reg = r if reg is None else reg + r
    return reg


def _start_outcome(model: Model, start: str) -> Outcome | None:
    """The outcome whose event starts each patient's trial (``None``: day 0)."""
    if start == "diagnosis":
        declared = [o for o in model.outcomes if o.name == "diagnosis"]
        if declared and declared[0].kind != "threshold":
            raise ValueError(f"start='diagnosis': the model's outcome 'diagnosis' is a {declared[0].kind!r}; "
                             "a diagnosis day is read from an outcome of kind 'threshold'")
        return declared[0] if declared else None
    name = start[len("first_"):] if start.startswith("first_") and start not in [o.name for o in model.outcomes] \
        else start
    out = model.outcome(name)
    if out.kind != "expected_count":
        raise ValueError(f"start={start!r}: outcome {name!r} is a {out.kind!r}; a start day is drawn from an "
                         f"outcome of kind 'expected_count' (declared: "
                         f"{[o.name for o in model.outcomes if o.kind == 'expected_count']})")
    return out


def _at(times: np.ndarray, values: np.ndarray, at: np.ndarray | float) -> np.ndarray:
    """Each row of ``values`` (``(rows, n_times, ...)``) at its own time ``at`` (a number or
    ``(rows,)``), linear between save times, held at the ends."""
    rows = values.shape[0]
    at = np.clip(np.broadcast_to(np.asarray(at, dtype=float), (rows,)), times[0], times[-1])
    if len(times) == 1:
        return values[:, 0]
    j = np.clip(np.searchsorted(times, at, side="right") - 1, 0, len(times) - 2)
    frac = (at - times[j]) / (times[j + 1] - times[j])
    r = np.arange(rows)
    lo, hi = values[r, j], values[r, j + 1]
    frac = frac.reshape((rows,) + (1,) * (lo.ndim - 1))
    return lo + frac * (hi - lo)


def _first_crossing(times: np.ndarray, values: np.ndarray, level: np.ndarray) -> np.ndarray:
    """Per row, the first time where ``values`` reaches ``level`` (linear between save
    times; ``inf`` if never; the first time if already there)."""
    above = values >= level[:, None]
    hit = above.any(axis=1)
    j = np.argmax(above, axis=1)
    out = np.full(len(values), np.inf)
    rows = np.flatnonzero(hit)
    for_first = rows[j[rows] == 0]
    out[for_first] = times[0]
    rows = rows[j[rows] > 0]
    a, b = values[rows, j[rows] - 1], values[rows, j[rows]]
    frac = np.clip((level[rows] - a) / np.where(b > a, b - a, 1.0), 0.0, 1.0)
    out[rows] = times[j[rows] - 1] + frac * (times[j[rows]] - times[j[rows] - 1])
    return out


@dataclass
class Trial:
    """The result of :func:`virtual_trial` (module docstring).

    Attributes:
        arms: arm names, in order.
        times: trial times (days from each patient's start), ``(n_times,)``.
        start_day: ``(n,)`` each patient's start day (days from the model's t = 0: diagnosis, or tumour
            onset for a model built from onset; NaN if not eligible).
        eligible: ``(n,)`` patients who entered the trial.
        ok: ``{arm: (n,) bool}`` eligible patients whose solve in that arm succeeded.
        outputs: ``{output name: (n_arms, n, n_times)}`` kept outputs (NaN where not ok).
        excluded: ``[(patient index, arm or "screening", reason)]``.
        values: ``{sampled parameter: (n,)}`` the patients' parameter values.
        model_outcomes: the model's declared outcomes.
    """

    arms: tuple[str, ...]
    times: np.ndarray
    start_day: np.ndarray
    eligible: np.ndarray
    ok: dict[str, np.ndarray]
    outputs: dict[str, np.ndarray]
    excluded: list[tuple[int, str, str]]
    values: dict[str, np.ndarray]
    model_outcomes: tuple[Outcome, ...]
    seed: int = 0
    _names: dict[str, str] = field(default_factory=dict)

    # ---------------------------------------------------------------------------------
    def _output(self, name: str) -> np.ndarray:
        """A kept output by its name, or by a unique last component (``"uNTx"`` for
        ``"bone.uNTx"``)."""
        if name in self.outputs:
            return self.outputs[name]
        hits = [k for k in self.outputs if k.split(".")[-1] == name]
        if len(hits) == 1:
            return self.outputs[hits[0]]
        raise UnknownNameError(f"output {name!r} was not kept by this trial"
                               f"{f' (ambiguous: {hits})' if hits else ''}; kept: {sorted(self.outputs)}",
                               name=name, kind="output", suggestions=tuple(hits))

    def _outcome(self, name: str) -> Outcome:
        for o in self.model_outcomes:
            if o.name == name:
                return o
        raise UnknownNameError(f"unknown outcome {name!r}; the model declares "
                               f"{[o.name for o in self.model_outcomes]}", name=name, kind="outcome")

    def _arm(self, arm: str) -> int:
        if arm not in self.arms:
            raise UnknownNameError(f"unknown arm {arm!r}; arms: {list(self.arms)}", name=arm, kind="arm")
        return self.arms.index(arm)

    def _death_times(self) -> np.ndarray | None:
        """``(n_arms, n)`` trial day on which the ``death`` threshold is reached (inf: not
        within the horizon); ``None`` when the model declares no ``death``."""
        try:
            d = self._outcome("death")
        except UnknownNameError:
            return None
        x = self.outputs[d.output]
        return np.stack([_first_crossing(self.times, np.nan_to_num(x[a], nan=-np.inf), np.full(x.shape[1], d.level))
                         for a in range(len(self.arms))])

    def cumulative_hazard(self, outcome: str, competing: str | None = None) -> np.ndarray:
        """``(n_arms, n, n_times)`` cumulative hazard of ``outcome`` since each patient's
        start (``H(t) - H(0)``; for an expected count ``N(t) - N(0)``, the cumulative hazard
        of the first event of a Poisson process); with ``competing="death"`` held at its
        value on the day of death (no event after death). NaN where not ok.

        An expected count is nondecreasing by definition; a discretised size density can
        undershoot it slightly (the cascade's unlimited third-order transport scheme,
        ``models/metastasis/size_structured.py``), so it is read through its running
        maximum."""
        o = self._outcome(outcome)
        if o.kind not in ("cumulative_hazard", "expected_count"):
            raise ValueError(f"outcome {outcome!r} is a {o.kind!r}, not a hazard or an expected count")
        x = self.outputs[o.output]
        if o.kind == "expected_count":  # nondecreasing by definition: drop the size grid's undershoots
            x = np.fmax.accumulate(x, axis=-1)
        H = x - x[..., :1]
        if competing is not None:
            if competing != "death":
                raise ValueError(f"competing must be None or 'death'; got {competing!r}")
            td = self._death_times()
            if td is None:
                raise ValueError("the model declares no 'death' outcome to compete with")
            at_death = np.stack([_at(self.times, H[a], td[a]) for a in range(H.shape[0])])  # (arms, n)
            H = np.where(self.times[None, None, :] < td[..., None], H, at_death[..., None])
        return H

    def _mask(self, a: int) -> np.ndarray:
        return self.ok[self.arms[a]]

    def survival(self, outcome: str, competing: str | None = None):
        """Fraction of patients free of ``outcome`` over trial time: an
        :class:`xarray.DataArray` ``(arm, time)``, the mean over each arm's patients of their
        exact event-free probability (``exp(-(H(t) - H(0)))`` for a hazard or an expected
        count; ``1[t < day reached]`` for a threshold). ``competing="death"``: no event
        after death (the fraction of patients who have not had the event, alive or dead;
        a trial's crude proportion); default: the net probability (death not modelled as
        stopping events, as a Kaplan-Meier curve that censors deaths estimates)."""
        import xarray as xr

        o = self._outcome(outcome)
        if o.kind == "poisson_count":
            raise ValueError(f"outcome {outcome!r} is a count observed at one time; use fraction()")
        rows = []
        if o.kind == "threshold":
            x = self.outputs[o.output]
            for a in range(len(self.arms)):
                m = self._mask(a)
                td = _first_crossing(self.times, np.nan_to_num(x[a, m], nan=-np.inf), np.full(m.sum(), o.level))
                rows.append((self.times[None, :] < td[:, None]).mean(axis=0))
        else:
            H = self.cumulative_hazard(outcome, competing)
            rows = [np.exp(-H[a, self._mask(a)]).mean(axis=0) for a in range(len(self.arms))]
        return xr.DataArray(np.array(rows), dims=("arm", "time"), coords={"arm": list(self.arms), "time": self.times},
                            name=f"free of {outcome}",
                            attrs={"units": "1", "n_patients": [int(self.ok[a].sum()) for a in self.arms],
                                   "competing": str(competing)})

    def incidence(self, outcome: str, at: float, competing: str | None = "death"):
        """Fraction of patients with at least one ``outcome`` by trial day ``at`` (per arm, a
        DataArray ``(arm,)``); by default deaths stop events (a trial's "patients with >= 1
        event" proportion)."""
        s = self.survival(outcome, competing)
        return 1.0 - s.interp(time=float(at))

    def event_times(self, outcome: str, seed: int | None = None, competing: str | None = "death"):
        """One event time per patient and arm, drawn by inversion of the cumulative hazard
        (:func:`~seedsoil.solvers.sample_event_times`; independent draws per arm, as in a
        trial of different patients), censored at death (``competing="death"``, default) or
        at the horizon: a :class:`pandas.DataFrame` with columns ``arm``, ``patient``,
        ``time`` (days from start), ``observed``; excluded patients are left out."""
        import pandas as pd

        rng = np.random.default_rng(self.seed + 1 if seed is None else seed)
        H = self.cumulative_hazard(outcome, competing)
        td = self._death_times() if competing == "death" else None
        frames = []
        for a, arm in enumerate(self.arms):
            m = self._mask(a)
            ev = sample_event_times(self.times, np.where(m[:, None], H[a], 0.0), rng, ok=m)
            obs = np.asarray(ev.observed).copy()
            t = np.asarray(ev.time).copy()
            if td is not None:  # censored at death: no event after it
                dead = td[a, ev.members]
                late = ~obs & np.isfinite(dead)
                t[late] = np.minimum(t[late], dead[late])
            frames.append(pd.DataFrame({"arm": arm, "patient": ev.members, "time": t, "observed": obs}))
        return pd.concat(frames, ignore_index=True)

    def kaplan_meier(self, outcome: str, seed: int | None = None, competing: str | None = "death") -> dict:
        """``{arm: lifelines.KaplanMeierFitter}`` fitted to :meth:`event_times`."""
        from lifelines import KaplanMeierFitter

        df = self.event_times(outcome, seed, competing)
        return {arm: KaplanMeierFitter(label=arm).fit(g["time"], g["observed"])
                for arm, g in df.groupby("arm", sort=False)}

    def hazard_ratio(self, outcome: str, arm: str, reference: str, seed: int | None = None,
                     competing: str | None = "death", level: float = 0.95) -> tuple[float, float, float]:
        """Hazard ratio of ``arm`` against ``reference`` for ``outcome`` with its confidence
        interval ``(hr, low, high)``: lifelines' Cox proportional-hazards fit to one sampled
        event time per patient (:meth:`event_times`) with the arm as the only covariate, as
        a trial would analyse it."""
        import pandas as pd
        from lifelines import CoxPHFitter

        self._arm(arm), self._arm(reference)
        df = self.event_times(outcome, seed, competing)
        df = df[df["arm"].isin([arm, reference])]
        data = {"time": df["time"].to_numpy(), "observed": df["observed"].to_numpy(),
                "treated": (df["arm"] == arm).to_numpy(dtype=float)}
        cph = CoxPHFitter(alpha=1.0 - level).fit(pd.DataFrame(data), "time", "observed")
        ci = np.exp(cph.confidence_intervals_.loc["treated"].to_numpy())
        return float(np.exp(cph.params_["treated"])), float(ci[0]), float(ci[1])

    def fraction(self, outcome: str, op: str, k: int, at: float = 0.0):
        """Fraction of each arm's patients whose count of ``outcome`` (kind
        ``"poisson_count"``, e.g. CTCs per 7.5 mL) at trial day ``at`` satisfies ``op k``:
        the count is Poisson around the model's mean (:func:`poisson_fraction`), not the
        mean thresholded. A DataArray ``(arm,)``."""
        import xarray as xr

        o = self._outcome(outcome)
        if o.kind != "poisson_count":
            raise ValueError(f"outcome {outcome!r} is a {o.kind!r}; fraction() reads a 'poisson_count'")
        if op not in _OPS:
            raise ValueError(f"op must be one of {_OPS}; got {op!r}")
        x = self.outputs[o.output]
        vals = []
        for a in range(len(self.arms)):
            m = self._mask(a)
            vals.append(poisson_fraction(_at(self.times, x[a, m], float(at)), op, k))
        return xr.DataArray(np.array(vals, dtype=float), dims=("arm",), coords={"arm": list(self.arms)},
                            name=f"fraction {outcome} {op} {k} at day {at:g}")

    def marker_change(self, output: str, weeks: float, statistic: str = "median"):
        """Change of ``output`` from each patient's start to trial week ``weeks``, in % of the
        start value; the ``statistic`` (``"median"`` or ``"mean"``) over each arm's patients,
        a DataArray ``(arm,)``."""
        import xarray as xr

        if statistic not in ("median", "mean"):
            raise ValueError(f"statistic must be 'median' or 'mean'; got {statistic!r}")
        x = self._output(output)
        day = 7.0 * float(weeks)
        if not self.times[0] <= day <= self.times[-1]:
            raise ValueError(f"week {weeks} (day {day:g}) is outside the trial's times [0, {self.times[-1]:g}]")
        vals = []
        for a in range(len(self.arms)):
            m = self._mask(a)
            change = 100.0 * (_at(self.times, x[a, m], day) / x[a, m, 0] - 1.0)
            vals.append(float(getattr(np, statistic)(change)))
        return xr.DataArray(np.array(vals), dims=("arm",), coords={"arm": list(self.arms)},
                            name=f"{statistic} % change of {output} at week {weeks:g}", attrs={"units": "%"})

    def to_xarray(self):
        """Every kept output as an :class:`xarray.Dataset` ``(arm, patient, time)``, with the
        start day, eligibility and the sampled parameter values along ``patient``."""
        import xarray as xr

        data = {k: (("arm", "patient", "time") + tuple(f"{k}_dim{i}" for i in range(v.ndim - 3)), v)
                for k, v in self.outputs.items()}
        data["ok"] = (("arm", "patient"), np.stack([self.ok[a] for a in self.arms]))
        coords = {"arm": list(self.arms), "patient": np.arange(len(self.start_day)), "time": self.times,
                  "start_day": ("patient", self.start_day), "eligible": ("patient", self.eligible)}
        coords.update({f"param {k}": ("patient", v) for k, v in self.values.items()})
        return xr.Dataset(data, coords=coords, attrs={"time_units": "days from each patient's start"})


def _check_number(x: Any, what: str, positive: bool = True) -> float:
    if isinstance(x, (bool, np.bool_)) or not isinstance(x, numbers.Real) or not math.isfinite(float(x)) \
            or (positive and x <= 0) or x < 0:
        raise ValueError(f"{what} must be a finite number {'> 0' if positive else '>= 0'}; got {x!r}")
    return float(x)


def virtual_trial(
    model: Model,
    population: Population | None,
    n: int,
    arms: Mapping[str, Any],
    *,
    seed: int = 0,
    horizon: float = 730.0,
    start: str | float = "diagnosis",
    dt: float = 7.0,
    keep: Sequence[str] | None = None,
    screen_until: float = 3650.0,
    screen_dt: float = 7.0,
    method: str = "random",
    chunk_size: int = 256,
    progress: bool = False,
    **solve_options,
) -> Trial:
    """Run a virtual trial (module docstring).

    Args:
        model: the model of one patient; its declared outcomes say what is an event.
        population: the inter-patient variability (:class:`~seedsoil.models.Population`), or
            ``None`` for ``n`` identical patients at the model's defaults.
        n: number of virtual patients (each is followed in every arm).
        arms: ``{arm name: treatment}``; a treatment is ``None`` (no treatment), a dosing
            schedule (``seedsoil.models.drugs.XGEVA_Q4W``: doses every ``interval`` days from
            the start through the horizon, into the part of the model holding the schedule's
            state), a list of schedules, or a function ``start_days (n,) -> Regimen`` with one
            regimen per patient.
        seed: seeds the population sample, the start days and the event times drawn later.
        horizon: days of follow-up from each patient's start.
        start: ``"diagnosis"`` (day 0, or each patient's day of diagnosis when the model
            declares a ``diagnosis`` threshold: a model built from onset), a day, or
            ``"first_<outcome>"`` for an expected-count outcome the model declares (e.g.
            ``"first_bone_metastasis"``).
        dt: spacing of the trial's save times (days; default weekly, so week-13 and week-25
            markers are save times).
        keep: outputs to keep besides every declared outcome's (default: every scalar
            observable).
        screen_until, screen_dt: the screening grid for a drawn start day (days).
        method: ``"random"`` or ``"sobol"`` sampling of the population.
        chunk_size, progress, **solve_options: passed to every :func:`sweep`. On a CPU
            backend the default is ``vmap_size=1`` (each patient stepped on its own, unless
            ``vmap_size`` or ``options`` is given): patients' step counts differ widely, and
            a vmapped batch steps every member until the slowest is done (measured, 32
            patients at 64 bins: 36 s vmapped, 17 s one by one; the performance page). To
            use every core of a CPU, start Python with
            ``XLA_FLAGS=--xla_force_host_platform_device_count=<cores>``: the sweeps then
            split each chunk over that many devices (8 s on 2 cores).

    Returns:
        A :class:`Trial`. Raises ``ValueError`` for bad arguments before anything is solved.
    """
    if not isinstance(model, Model):
        raise TypeError(f"model must be a seedsoil Model; got {type(model).__name__}")
    if not isinstance(n, numbers.Integral) or isinstance(n, (bool, np.bool_)) or n < 1:
        raise ValueError(f"n must be a positive integer; got {n!r}")
    n = int(n)
    if not isinstance(arms, Mapping) or not arms:
        raise ValueError(f"arms must be a non-empty mapping {{name: treatment}}; got {arms!r}")
    horizon = _check_number(horizon, "horizon")
    dt = _check_number(dt, "dt")
    screen_until = _check_number(screen_until, "screen_until")
    screen_dt = _check_number(screen_dt, "screen_dt")
    if population is not None and not isinstance(population, Population):
        raise TypeError(f"population must be a seedsoil.models.Population or None; got {type(population).__name__}")
    drawn = None
    if isinstance(start, str):
        drawn = _start_outcome(model, start)
    else:
        _check_number(start, "start", positive=False)
    keep_out = [o.output for o in model.outcomes]
    extra = list(keep) if keep is not None else [s.name for s in model.observable_specs if s.shape == ()]
    keep_out += [k for k in extra if k not in keep_out]
    for k in keep_out:
        model.resolve_output(k)  # raises naming an unknown output
    if "vmap_size" not in solve_options and "options" not in solve_options and jax.default_backend() == "cpu":
        solve_options = dict(solve_options, vmap_size=1)  # see the docstring
    opts = dict(chunk_size=chunk_size, progress=progress, **solve_options)

    # 1. patients
    values = population.sample(model, n, seed=seed, method=method) if population is not None else {}
    samples = values if values else np.tile(np.asarray(model.params.values), (n, 1))
    excluded: list[tuple[int, str, str]] = []

    # 2. start days
    starts = np.zeros(n)
    eligible = np.ones(n, dtype=bool)
    if drawn is not None:
        grid = np.arange(0.0, screen_until + screen_dt / 2, screen_dt)
        death = next((o for o in model.outcomes if o.name == "death"), None)
        screen_keep = [drawn.output] + ([death.output] if death is not None else [])
        if drawn.kind == "threshold":  # a deterministic start (diagnosis): the first crossing of its level
            level = np.full(n, float(drawn.level))
        else:  # an expected count: the first event of the Poisson process, drawn by inversion
            level = np.random.default_rng(seed).exponential(size=n)
        # each patient is solved only until the save where their start (or death) is reached:
        # the saves up to it are as without stopping, so are the crossings read from them
        until = {drawn.output: level, **({death.output: np.full(n, float(death.level))} if death is not None else {})}
        res = sweep(model, grid, samples, keep=screen_keep, until=until, **opts)
        for i, why in res.failures():
            excluded.append((i, "screening", f"solve failed: {why}"))
        ok = res.ok.copy()
        N = np.fmax.accumulate(np.nan_to_num(np.asarray(res[drawn.output], dtype=float), nan=-np.inf), axis=1)
        starts = _first_crossing(grid, N, level)
        died = np.zeros(n, dtype=bool)
        if death is not None:  # death first (or with no start at all: the solve stopped there)
            d = _first_crossing(grid, np.nan_to_num(np.asarray(res[death.output], dtype=float), nan=-np.inf),
                                np.full(n, death.level))
            died = ok & np.isfinite(d) & (d <= starts)
        never = ok & ~np.isfinite(starts) & ~died
        excluded += [(int(i), "screening", f"no {drawn.name} by day {screen_until:g}") for i in np.flatnonzero(never)]
        excluded += [(int(i), "screening", f"reached death before {drawn.name}") for i in np.flatnonzero(died)]
        ok &= ~died
        eligible = ok & np.isfinite(starts)
    elif not isinstance(start, str):
        starts[:] = float(start)
    idx = np.flatnonzero(eligible)
    if len(idx) == 0:
        raise ValueError(f"no patient entered the trial: {len(excluded)} excluded at screening "
                         f"(first: {excluded[:3]})")
    sub = {k: np.asarray(v)[idx] for k, v in values.items()} if values else samples[idx]
    s = starts[idx]

    # 3. state at the start (untreated): one solve per patient from day 0 to its start day
    y0 = None
    if np.any(s > 0):
        t01 = np.stack([np.zeros_like(s), np.maximum(s, 1e-9)], axis=1)
        res = sweep(model, t01, sub, keep=model.state_names, **opts)
        bad = ~res.ok
        for i, why in res.failures():
            excluded.append((int(idx[i]), "screening", f"solve to the start day failed: {why}"))
        state = np.concatenate([np.asarray(res[k], dtype=float)[:, -1].reshape(len(idx), -1)
                                for k in model.state_names], axis=1)
        floor = np.concatenate([np.full(st.size, 0.0 if st.nonnegative else -np.inf) for st in model.states])
        y0 = np.maximum(state, floor)
        if bad.any():
            keep_rows = ~bad
            idx, s, y0 = idx[keep_rows], s[keep_rows], y0[keep_rows]
            sub = {k: v[keep_rows] for k, v in sub.items()} if isinstance(sub, dict) else sub[keep_rows]
            eligible[np.flatnonzero(eligible)[bad]] = False
    starts_out = np.where(eligible, starts, np.nan)

    # 4. arms
    times = np.arange(0.0, horizon + dt / 2, dt)
    member_times = s[:, None] + times[None, :]
    names = tuple(arms)
    out = {k: np.full((len(names), n, len(times)) + _shape(model, k), np.nan) for k in keep_out}
    ok_arm = {}
    for a, arm in enumerate(names):
        reg = _arm_regimen(model, arm, arms[arm], s, horizon)
        kwargs = dict(opts)
        if y0 is not None:
            kwargs["y0"] = y0
        res = sweep(model, member_times, sub, reg, keep=keep_out, **kwargs)
        m = np.zeros(n, dtype=bool)
        m[idx] = res.ok
        ok_arm[arm] = m
        for i, why in res.failures():
            excluded.append((int(idx[i]), arm, f"solve failed: {why}"))
        for k in keep_out:
            out[k][a, idx] = np.asarray(res[k], dtype=float)
    vals = {k: np.asarray(v) for k, v in values.items()}
    return Trial(arms=names, times=times, start_day=starts_out, eligible=eligible, ok=ok_arm, outputs=out,
                 excluded=excluded, values=vals, model_outcomes=model.outcomes, seed=int(seed))


def _shape(model: Model, name: str) -> tuple[int, ...]:
    spec, entry = model.resolve_output(name)
    shape = tuple(spec.shape)
    return shape[1:] if entry is not None else shape

