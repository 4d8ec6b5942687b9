# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Why metastasis is hard to treat: adjuvant therapy after resection of early breast cancer
#
# Early breast cancer, the primary removed completely at diagnosis, then: nothing; adjuvant
# chemotherapy (docetaxel 75 mg/m2 every 3 weeks x 6); adjuvant zoledronic acid (4 mg every
# 6 months for 3 years, as in ABCSG-12 and the EBCTCG overview); or both. Each virtual
# patient starts before diagnosis (`bone_metastasis("breast", onset=1e6)`): cells
# disseminate while the primary grows, so patients reach diagnosis with dormant cells and
# occult metastases that surgery does not remove. The model's answers to three questions:
#
# 1. **Early against late recurrences.** Chemotherapy kills proliferating cells: occult
#    metastases that are growing at the time of treatment; dormant cells do not cycle and
#    escape it, and wake up later.
# 2. **Sanctuary organs.** At equal plasma exposure, brain metastases see a tenth of the
#    drug (the cascade's `penetration`: Lockman et al. 2010), bone marrow half.
# 3. **Established bone metastases**: chemotherapy with and without denosumab, from each
#    patient's first detectable bone metastasis.
#
# **Read the numbers as the model's mechanisms, not as predictions.** The early-disease
# natural history is not calibrated yet (`docs/virtual-trials.md`: from onset the model
# relapses far more often than patients do; Liede et al. 2016: 12.5 % with a bone recurrence
# by 10 years), so absolute recurrence rates here are too high; the comparisons between arms
# are what the notebook shows. Set `SEEDSOIL_NOTEBOOK_SMALL=1` (CI does) for a few patients on
# a coarse size grid.

# %%
import os
import time

import matplotlib.pyplot as plt
import numpy as np

from seedsoil import bone_metastasis, virtual_trial
from seedsoil.models import LogNormal, Population, bone_metastasis_population
from seedsoil.models.drugs import DOCETAXEL_75_Q3W, XGEVA_Q4W, ZOLEDRONIC_ACID_Q4W
from seedsoil.solvers import from_schedule, scale

SMALL = os.environ.get("SEEDSOIL_NOTEBOOK_SMALL") == "1"
N = 12 if SMALL else 512  # patients (each followed in every arm)
N_BINS = 16 if SMALL else 64
YEAR = 365.25
T0 = time.perf_counter()

# %% [markdown]
# ## 1. The early-disease population
# The breast population's natural history (`bone_metastasis_population`: primary growth
# rate, awakening and growth of bone metastases) plus the size at diagnosis,
# `cascade.P_diagnosis`: log-normal, median 4.4e9 cells (a 2-cm sphere at 1e9 cells/cm3),
# sd_log 2.5 (diameter sd_log 0.84), which puts 49 % of tumours at or below 2 cm (T1) and 14 %
# above 5 cm, as in Aljarrah & Miller (ecancermedicalscience 8:427: T1 49.3 %, T3/4 13.7 %,
# Edinburgh 1997-99). Each patient's trial starts on their own day of diagnosis
# (`start="diagnosis"`), when the primary is removed.

# %%
MODEL = bone_metastasis("breast", n_bins=N_BINS, onset=1e6, systemic="docetaxel")
POP = Population({**bone_metastasis_population("breast", sre=False).variability,
                  "cascade.P_diagnosis": LogNormal(sd_log=2.5, median=4.4e9)}, name="early breast cancer")
ZA_Q6M = dict(interval=182.625, count=6)  # 4 mg every 6 months for 3 years


def adjuvant(docetaxel_mg, za_mg):
    """Surgery on each patient's day of diagnosis ``s``, then docetaxel (six cycles from four
    weeks after surgery) and zoledronic acid at the given doses (0: not given). Every arm has
    the same events (a drug not given is given at 0 mg), so all arms share one compiled solve."""
    def regimen(s):
        start = s[:, None] + 28.0
        return (scale("cascade.P", s[:, None], 0.0)
                + from_schedule(DOCETAXEL_75_Q3W, start=start, count=6, part="chemo", amount=docetaxel_mg)
                + from_schedule(ZOLEDRONIC_ACID_Q4W, start=start, part="za", amount=za_mg, **ZA_Q6M))
    return regimen


D, Z = DOCETAXEL_75_Q3W.amount, ZOLEDRONIC_ACID_Q4W.amount
ARMS = {"surgery only": adjuvant(0.0, 0.0), "+ docetaxel": adjuvant(D, 0.0), "+ zoledronic acid": adjuvant(0.0, Z),
        "+ both": adjuvant(D, Z)}
t0 = time.perf_counter()
early = virtual_trial(MODEL, POP, N, ARMS, seed=0, start="diagnosis", horizon=15 * YEAR, dt=30.0, keep=[],
                      screen_until=20 * YEAR, screen_dt=14.0)
print(f"{int(early.eligible.sum())} of {N} patients entered at diagnosis (day {np.nanmedian(early.start_day):.0f} "
      f"from onset, median); {len(early.excluded)} excluded {early.excluded[:2]}; {time.perf_counter() - t0:.0f} s")

# %% [markdown]
# ## 2. Recurrence by organ, early and late
# The fraction of patients with a detectable recurrence in each organ by 5 and 15 years
# (1 - the mean of `exp(-(N_o(t) - N_o(0)))`: new detectable metastases after diagnosis), and
# how much docetaxel lowers it in years 0-5 and in years 5-15 (the relative reduction of the
# hazard of a first recurrence in that window, averaged over the population).

# %%
ORGANS = ("bone", "lung", "liver", "brain")


def free(arm, organ):
    return early.survival(f"{organ}_metastasis").sel(arm=arm).values


def at(curve, years):
    return float(np.interp(years * YEAR, early.times, curve))


rows = []
for organ in ORGANS:
    base, drug = free("surgery only", organ), free("+ docetaxel", organ)
    # fraction with a recurrence in (a, b] among those free at a, with and without docetaxel
    early_cut = 1 - (1 - at(drug, 5) / at(drug, 0)) / max(1 - at(base, 5) / at(base, 0), 1e-12)
    late_cut = 1 - (1 - at(drug, 15) / at(drug, 5)) / max(1 - at(base, 15) / at(base, 5), 1e-12)
    rows.append((organ, 1 - at(base, 5), 1 - at(base, 15), 1 - at(drug, 15), early_cut, late_cut))
print(f"{'organ':<7}{'recurrence 5 y':>15}{'15 y':>7}{'15 y, docetaxel':>17}{'cut, years 0-5':>16}{'years 5-15':>12}")
for organ, b5, b15, d15, e, late in rows:
    print(f"{organ:<7}{b5:>15.2f}{b15:>7.2f}{d15:>17.2f}{100 * e:>15.0f}%{100 * late:>11.0f}%")

fig, axes = plt.subplots(1, len(ORGANS), figsize=(12, 3.2), layout="constrained", sharey=True)
for ax, organ in zip(axes, ORGANS):
    for arm in ARMS:
        ax.plot(early.times / YEAR, 1 - free(arm, organ), label=arm)
    ax.set(title=organ, xlabel="years after surgery")
axes[0].set_ylabel("fraction with a recurrence")
_ = axes[-1].legend(fontsize=7)

# %% [markdown]
# What the model says, and why: chemotherapy acts while it is given (18 weeks), on the cells
# that cycle then: the primary's residue (none here) and occult metastases already growing.
# Recurrences that the first five years would have brought come largely from those, so they
# are cut; later ones come from dormant cells that wake up years after the drug has gone,
# and from re-seeding, so the cut fades. In the brain the same plasma exposure kills a tenth
# as fast (`penetration` 0.1): its occult metastases survive the course. Zoledronic acid acts
# only on bone: it slows the osteolytic growth of bone metastases (fewer reach detection in
# the window); it does not touch dormant cells in the model (the niche effects that the
# adjuvant trials discuss are not modelled).

# %% [markdown]
# ## 3. Established bone metastases: chemotherapy with and without denosumab
# Patients of the same population, their primary never removed, enter on the day their first
# bone metastasis becomes detectable (`start="first_bone_metastasis"`) and are followed for a
# year: no therapy; docetaxel 75 mg/m2 every 3 weeks x 6 from entry; denosumab 120 mg every 4
# weeks (Xgeva); both. Shown: the tumour burden in bone (cells in bone metastases) against
# the patient's own at entry, at the end of the chemotherapy course (18 weeks) and at week
# 52; urinary NTx (bone resorption) at week 13; patients with a skeletal-related event by
# week 52 (deaths stop events). Docetaxel kills the cycling cells of bone metastases at half
# the plasma exposure (`penetration[bone]` 0.5); denosumab acts on the soil (RANKL: fewer
# osteoclasts, less TGF-beta released, slower osteolytic growth), not on the tumour cells.

# %%
X = XGEVA_Q4W.amount


def established(docetaxel_mg, denosumab_mg):
    """Both drugs from the entry day ``s`` (a drug not given is given at 0 mg: one compiled solve)."""
    def regimen(s):
        start = s[:, None]
        return (from_schedule(DOCETAXEL_75_Q3W, start=start, count=6, part="chemo", amount=docetaxel_mg)
                + from_schedule(XGEVA_Q4W, start=start, count=13, part="denosumab", amount=denosumab_mg))
    return regimen


EST_ARMS = {"no therapy": established(0.0, 0.0), "docetaxel": established(D, 0.0),
            "denosumab": established(0.0, X), "both": established(D, X)}
t0 = time.perf_counter()
est = virtual_trial(MODEL, POP, N, EST_ARMS, seed=1, start="first_bone_metastasis", horizon=YEAR, dt=14.0,
                    keep=["cascade.metastatic_burden", "bone.uNTx"], screen_until=20 * YEAR, screen_dt=14.0)
print(f"{int(est.eligible.sum())} of {N} patients entered at a first bone metastasis; {len(est.excluded)} "
      f"excluded {est.excluded[:2]}; {time.perf_counter() - t0:.0f} s")
bone_burden = est.outputs["cascade.metastatic_burden"][..., MODEL.part("cascade").organs.index("bone")]
untx = est.marker_change("uNTx", weeks=13)
print(f"{'arm':<12}{'bone burden / entry, 18 wk':>28}{'52 wk':>8}{'uNTx wk 13':>12}{'SRE by 52 wk':>14}")
for a, arm in enumerate(EST_ARMS):
    ok = est.ok[arm]
    ratio = bone_burden[a, ok] / bone_burden[a, ok][:, :1]
    r18, r52 = (np.median([np.interp(d, est.times, r) for r in ratio]) for d in (18 * 7.0, 52 * 7.0))
    sre = float(est.incidence("sre", at=52 * 7.0).sel(arm=arm))
    print(f"{arm:<12}{r18:>28.2f}{r52:>8.2f}{float(untx.sel(arm=arm)):>11.0f}%{sre:>14.2f}")

fig, ax = plt.subplots(figsize=(5.5, 3.6), layout="constrained")
for a, arm in enumerate(EST_ARMS):
    ok = est.ok[arm]
    ax.plot(est.times / 7.0, np.median(bone_burden[a, ok] / bone_burden[a, ok][:, :1], axis=0), label=arm)
ax.set(yscale="log", xlabel="weeks from a first detectable bone metastasis",
       ylabel="bone tumour burden / at entry (median)")
_ = ax.legend(fontsize=8)

# %% [markdown]
# What the model says: the course shrinks bone metastases while it lasts and they regrow
# after it (the surviving cells cycle again); denosumab alone slows their growth and
# suppresses resorption (uNTx) but shrinks nothing; together the course shrinks and the
# regrowth is slower. Skeletal events by one year follow the burden and uNTx. Not calibrated
# against a trial of chemotherapy in bone-metastatic disease: read the comparison, not the
# absolute numbers.
#
# **What this notebook does not yet show** (issue 22): resistance selected over cycles (a
# resistant subclone), EMT-marked cells' lower sensitivity, and calibrated recurrence rates
# (`docs/virtual-trials.md`).

# %%
print(f"notebook run in {time.perf_counter() - T0:.0f} s")
