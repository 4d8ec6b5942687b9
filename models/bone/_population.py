"""Inter-patient variability of the breast bone-metastasis preset (virtual patients).

:func:`bone_metastasis_population` declares which parameters of
``bone_metastasis("breast")`` vary between patients and how (a
:class:`~seedsoil.models.Population`); :func:`calibrate_latency_spread` is the reproducible
procedure that set the spreads of the natural history. ``bone_metastasis("breast")`` is one
typical patient (``r_P`` and ``kappa[bone]`` fitted in ``notebooks/04_human_calibration.py``
to the median volume doubling time, 164 days, and the median time to a bone metastasis, 35
months); the population spreads patients around it:

* ``cascade.r_P`` (Gompertz rate of the primary): log-normal around the calibrated median,
  ``sd_log = ln(521 / 66) / 4 = 0.517``, Zhang 2017's range of doubling times (66-521 days,
  zhang2017_vdt) read as +/- 2 sd of log VDT (VDT ~ ln 2 / r_P at a given size).
* ``cascade.kappa[bone]`` (awakening of dormant cells in bone) and ``cascade.a_met[bone]``
  (Gompertz growth rate of bone metastases): log-normal around their calibrated / default
  medians, spreads from :func:`calibrate_latency_spread` on martin2012_latency (time from
  diagnosis to bone metastasis: median 35, quartiles 9-75 months, patients of a phase-3
  trial of bone-targeted agents, i.e. all with bone metastases).

* ``sre.h_0`` (hazard of a first skeletal-related event): log-normal around the sre part's
  ``h_0``, sd_log ``SD_LOG_H_0`` = 1.99, fitted with ``h_0`` and ``T_50`` by a virtual placebo
  arm to Hortobagyi 1996 and Theriault 1999 (``notebooks/05_virtual_trial.py``; the module
  docstring of ``seedsoil.models.bone.skeletal_events``).

The latency read-out: metastases are founded as a Poisson process, so patient ``i`` has a
detectable bone metastasis by ``t`` with probability ``1 - exp(-N_i(t))``, ``N_i`` =
``cascade.n_detectable[bone]``; conditioned on one within ``T_max`` = 15 years (Martin's
patients all had one), ``F(t) = mean_i(1 - exp(-N_i(t))) / mean_i(1 - exp(-N_i(T_max)))``.
``N_i`` is read as its running maximum, clipped at 0 (:func:`latency_quartiles`): the exact
expected count never decreases (metastases only grow), but the finite-volume size density
on a coarse grid (``n_bins=16``) over- and undershoots: by ~1e-3 before the count rises,
and late in the course by much more (on a grid of patients, 16 bins, the count fell from
its maximum to below zero in many, down to -9e3: the undershoots of the unlimited third-order
transport scheme, ``models/metastasis/size_structured.py``; open).

**What the model can and cannot meet.** Each patient starts at diagnosis with no dormant
cells and no metastases, so the first detectable bone metastasis needs seeding, awakening
and growth from one cell to ``x_detect`` = 1e8 cells: the typical patient's own quartiles
are 31-40 months, and even 16 times its awakening rate (or shedding) brings its median only
to ~25 months. The spread of awakening rates moves latencies little (latency ~
kappa^-0.16); the growth rate of bone metastases moves them most, and reaching Martin's
lower quartile of 9 months would need an sd_log of ~4 for ``a_met[bone]`` (explored on an interpolated grid; a factor 55
between patients one sd apart), which is not a plausible spread of tumour growth rates (the
primaries' is 0.52). Real patients include many with occult metastases at diagnosis, which
this initial state leaves out. The spreads are therefore bounded: ``sd_log(kappa[bone]) <=
3`` (dormancy lasts from months to decades), ``sd_log(a_met[bone]) <= 1`` (twice the
primaries' spread), and the fit (a grid search) sits at these bounds; the lower quartile is
missed (table below).

Calibration (``calibrate_latency_spread(n=128, n_bins=16, seed=0)``, Sobol' patients, times
monthly to 15 years; the 64-bin check with 256 patients, seed 0):

=====================================  ========  ==============  ==============
quantity                               target    16 bins, n=128  64 bins, n=256
=====================================  ========  ==============  ==============
latency lower quartile (months)        9         22.5            23.1
latency median (months)                35        39.1            41.2
latency upper quartile (months)        75        62.7            65.7
VDT at diagnosis, median (days)        164       --              164
VDT 2.5 % quantile (days)              66        --              60
VDT 97.5 % quantile (days)             521       --              444
detectable bone metastasis by 15 y     --        --              0.98
=====================================  ========  ==============  ==============

The grid (``SPREAD_GRID``; loss = sum of squared log ratios of the quartiles, 16 bins,
n=128): sd_log(kappa[bone]), sd_log(a_met[bone]) = (1, 0.5): 27.1/35.9/47.2 months, loss
1.43; (1, 1): 23.2/35.5/55.5, 0.98; (2, 0.5): 26.1/36.8/50.8, 1.29; (2, 1): 22.7/37.1/58.7,
0.92; (3, 0.5): 25.1/37.5/56.2, 1.14; (3, 1): 22.5/39.1/62.7, 0.89 (chosen; ~4 min in all).
Shifting the medians of kappa[bone] or a_met[bone] (explored on an interpolated grid, not declared) trades the
median against the upper quartile and leaves the lower quartile above 16 months.

The doubling times: with the median held at 164 days (the calibrated patient) and sd_log
ln(521/66)/4, the 2.5/97.5 % quantiles are 164 exp(-/+1.96 sd_log) = 60 and 451 days, not 66
and 521 (Zhang's range is not centred on the median on the log scale: its geometric centre
is 185 days); sampled (256 Sobol' patients): median 164, quantiles 60 and 444 days.

**Lethal burden before latency.** Every patient of the 64-bin check reaches the lethal
burden (``cascade.total_burden`` >= 1e12 cells) within 15 years, median month 60; 29 % of
those whose expected count of detectable bone metastases reaches ln 2 reach the lethal
burden first, and 28 % of the conditional latency probability mass lies after each
patient's lethal-burden time (those patients would not live to have it). The conditional
quartiles above do not remove it (the untreated model has no death; the ``death`` outcome
does that), so they are those of a population that is kept alive.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .._population import LogNormal, Population
from ._skeletal_events import FITTED, SD_LOG_H_0
from .disease import NATURAL_HISTORY

__all__ = ["bone_metastasis_population", "calibrate_latency_spread", "latency_quartiles"]

#: Zhang 2017's range of doubling times (66-521 days) read as +/- 2 sd of log VDT.
SD_LOG_R_P = math.log(521.0 / 66.0) / 4.0
#: Fitted by :func:`calibrate_latency_spread` (grid search; both at their bounds, module docstring).
SD_LOG_KAPPA_BONE = 3.0
SD_LOG_A_MET_BONE = 1.0
#: Bounds (plausibility) of the spreads searched by :func:`calibrate_latency_spread`.
SPREAD_GRID = {"cascade.kappa[bone]": (1.0, 2.0, 3.0), "cascade.a_met[bone]": (0.5, 1.0)}
#: Martin 2012's quartiles of the time from diagnosis to bone metastasis (months).
LATENCY_TARGET = (9.0, 35.0, 75.0)
MONTH = 30.44
T_MAX_MONTHS = 180

SOURCES = {
    "cascade.r_P": "zhang2017_vdt (Zhang et al. 2017, Med Sci Monit 23:3147: primary breast cancer volume doubling "
                   "time median 164, range 66-521 days; data/clinical_targets.csv): median the calibrated r_P of "
                   "bone_metastasis('breast'), sd_log = ln(521/66)/4 (the range read as +/- 2 sd of log VDT)",
    "cascade.kappa[bone]": "martin2012_latency (Martin et al. 2012, Clin Cancer Res 18:4841: time from diagnosis to "
                           "bone metastasis, median 35, quartiles 9-75 months): median the calibrated kappa[bone], "
                           "sd_log fitted by calibrate_latency_spread (at its plausibility bound 3)",
    "cascade.a_met[bone]": "martin2012_latency (as kappa[bone]): median the cascade's default a_met[bone], sd_log "
                           "fitted by calibrate_latency_spread (at its plausibility bound 1, twice the primaries' "
                           "sd_log of zhang2017_vdt)",
}
SOURCES["sre.h_0"] = ("median the sre part's h_0, sd_log " + f"{SD_LOG_H_0}: " + FITTED
                      + " (a frailty: lesion site and extent at entry)")
PRESETS = ("breast",)


def _population(sd_log_kappa: float, sd_log_a_met: float) -> Population:
    return Population(
        {"cascade.r_P": LogNormal(sd_log=SD_LOG_R_P),
         "cascade.kappa[bone]": LogNormal(sd_log=sd_log_kappa, median=NATURAL_HISTORY["kappa[bone]"]),
         "cascade.a_met[bone]": LogNormal(sd_log=sd_log_a_met)},
        name="bone_metastasis_breast",
        source="; ".join(f"{k}: {v}" for k, v in SOURCES.items() if k != "sre.h_0"),
    )


def bone_metastasis_population(preset: str = "breast", *, sre: bool = True) -> Population:
    """The declared inter-patient variability of ``bone_metastasis(preset)`` (module
    docstring): ``cascade.r_P``, ``cascade.kappa[bone]``, ``cascade.a_met[bone]`` and the
    skeletal-event hazard ``sre.h_0``, log-normal around the preset's values. ``sre=False``:
    the natural-history entries only (what :func:`calibrate_latency_spread` samples; a
    Sobol' sample in fewer dimensions has other points). Sample it with
    ``bone_metastasis_population().sample(bone_metastasis("breast"), n, seed=0, method="sobol")``.

    Raises:
        ValueError: a preset without a declared population (only ``"breast"`` has one).
    """
    if preset not in PRESETS:
        raise ValueError(f"no population is declared for preset {preset!r}; available: {list(PRESETS)}")
    natural = _population(SD_LOG_KAPPA_BONE, SD_LOG_A_MET_BONE)
    if not sre:
        return natural
    return Population({**natural.variability, "sre.h_0": LogNormal(sd_log=SD_LOG_H_0)}, name=natural.name,
                      source=natural.source + "; sre.h_0: " + SOURCES["sre.h_0"])


def latency_quartiles(n_detectable: Any, months: Any, probs=(0.25, 0.5, 0.75)) -> tuple[np.ndarray, float]:
    """Quantiles (months) of the time to a first detectable metastasis, conditioned on one by
    the last time, from ``n_detectable`` ``(patients, times)`` at ``months``; and the
    population's probability of one by the last time.

    ``F(t) = mean_i(1 - exp(-N_i(t))) / mean_i(1 - exp(-N_i(T_max)))``, ``N_i`` read as its
    running maximum clipped at 0 (module docstring), quantiles by linear interpolation of
    ``F`` between the times."""
    n = np.asarray(n_detectable, dtype=np.float64)
    n = np.maximum.accumulate(np.maximum(np.nan_to_num(n, nan=0.0), 0.0), axis=1)
    f = np.mean(-np.expm1(-n), axis=0)
    if not f[-1] > 0:
        return np.full(len(probs), np.nan), 0.0
    return np.interp(probs, f / f[-1], np.asarray(months, dtype=np.float64)), float(f[-1])


def calibrate_latency_spread(n: int = 128, n_bins: int = 16, seed: int = 0,
                             grid: dict | None = None) -> dict:
    """Grid search of the sd_logs of ``cascade.kappa[bone]`` and ``cascade.a_met[bone]`` (with
    ``cascade.r_P``'s fixed) for the conditional latency quartiles of Martin 2012 (9, 35, 75
    months): least squares of the log ratios of achieved to target quartiles. Each grid
    point is one sweep of the same ``n`` Sobol' patients (``seed``) of
    ``bone_metastasis("breast", n_bins=n_bins)``, monthly to 15 years (one compiled
    function). ``grid``: ``{name: sd_log values}`` (default :data:`SPREAD_GRID`, the
    plausibility bounds of the module docstring). About 40 s per grid point at the defaults
    on two CPU cores.

    Returns:
        ``{"sd_log": {name: value}, "quartiles": (3,) months, "p15y": probability of a
        detectable bone metastasis by 15 years, "loss": ..., "table": [(sd_logs, quartiles,
        loss), ...]}``.
    """
    import itertools

    from ...solvers import sweep
    from .disease import bone_metastasis

    grid = dict(SPREAD_GRID if grid is None else grid)
    model = bone_metastasis("breast", n_bins=n_bins)
    months = np.arange(T_MAX_MONTHS + 1, dtype=np.float64)
    target = np.log(LATENCY_TARGET)
    table = []
    for sd_k, sd_a in itertools.product(grid["cascade.kappa[bone]"], grid["cascade.a_met[bone]"]):
        samples = _population(sd_k, sd_a).sample(model, n, seed=seed, method="sobol")
        result = sweep(model, months * MONTH, samples, keep=["cascade.n_detectable[bone]"])
        q, p15 = latency_quartiles(result["cascade.n_detectable[bone]"], months)
        loss = float(np.sum((np.log(q) - target) ** 2)) if np.all(q > 0) else math.inf
        table.append(({"cascade.kappa[bone]": sd_k, "cascade.a_met[bone]": sd_a}, q, p15, loss))
    best = min(table, key=lambda row: row[3])
    return {"sd_log": best[0], "quartiles": best[1], "p15y": best[2], "loss": best[3],
            "table": [(sd, q, loss) for sd, q, _, loss in table]}
