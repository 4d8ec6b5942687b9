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
# 3. **Established bone metastases** (chemotherapy with and without denosumab): not yet, and
#    why (section 3).
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
from seedsoil.models.drugs import DOCETAXEL_75_Q3W, ZOLEDRONIC_ACID_Q4W
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
# ## 3. Established bone metastases: not yet
# Chemotherapy on established bone metastases, with and without denosumab, is the issue's
# third scenario. It is left out here because the size-structured density does not yet solve
# reliably under a sustained kill: where the kill nearly balances the growth of the smallest
# metastases (the brain's, at a tenth of the exposure), the density collapses onto that
# balance size inside the first size bin and the solve stops (`max_steps`), and on 16 size
# bins the bone burden of some patients went negative during a course. It is recorded as a
# known failure (`tests/test_systemic.py`, a strict xfail) to be fixed before this section
# is written.
#
# **What this notebook does not yet show** (issue 22): the established-disease scenario
# above, resistance selected over cycles (a resistant subclone), EMT-marked cells' lower
# sensitivity, and calibrated recurrence rates (`docs/virtual-trials.md`).

# %%
print(f"notebook run in {time.perf_counter() - T0:.0f} s")
