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
# # Interventions: bisphosphonate or denosumab, when, and with or without surgery
#
# Breast cancer, five years from diagnosis (day 0), with the full model of
# `seedsoil.models.bone_metastasis`: the metastatic cascade (primary, CTCs, four organs,
# dormancy, size-structured metastases) coupled to the human bone-remodelling core (markers in
# clinical units) and to the pharmacokinetics of denosumab and zoledronic acid.
#
# Arms: untreated, zoledronic acid 4 mg IV Q4W, zoledronic acid 4 mg Q12W, denosumab
# 120 mg SC Q4W; each started at diagnosis or at the first *detectable* bone metastasis,
# with the primary left in place or resected on day 30. That is 4 x 2 x 2 = 16
# scenarios, solved as **one vmapped batch**: every scenario carries the same events
# (both drugs' doses, with amount 0 where a drug is not given; a resection that scales the
# primary by 1 where there is none), so one compiled function serves them all.
#
# Set `SEEDSOIL_NOTEBOOK_SMALL=1` (CI does) for a one-year horizon.

# %%
import os

import jax
import jax.numpy as jnp
import matplotlib.pyplot as plt
import numpy as np

import seedsoil.plot
from seedsoil.models.bone import bone_metastasis
from seedsoil.models.drugs import XGEVA_Q4W, ZOLEDRONIC_ACID_Q4W
from seedsoil.solvers import from_schedule, scale, simulate

SMALL = os.environ.get("SEEDSOIL_NOTEBOOK_SMALL") == "1"
DAYS = 365.0 if SMALL else 5 * 365.0
TIMES = np.linspace(0.0, DAYS, 53 if SMALL else 121)
MODEL = bone_metastasis("breast")
ORGANS = MODEL.part("cascade").organs
BONE = ORGANS.index("bone")

# %% [markdown]
# ## When does the first bone metastasis become detectable without treatment?
# `n_detectable` counts metastases above the detection limit of the size-structured PDE
# (module `seedsoil.models.metastasis.metastases`).

# %%
untreated = simulate(MODEL, TIMES)
detectable = np.asarray(untreated["cascade.n_detectable"])[:, BONE]
hit = np.flatnonzero(detectable >= 1.0)
T_BONE = float(TIMES[hit[0]]) if hit.size else DAYS / 2
print(f"first detectable bone metastasis: day {T_BONE:.0f}" + ("" if hit.size else " (none within the horizon; "
      "using mid-horizon)"))

# %% [markdown]
# ## The 16 scenarios as one batch of regimens

# %%
N_DOSES = int(DAYS // 28) + 1
DRUGS = {  # name: (denosumab mg, zoledronic acid mg, zoledronic acid interval in days)
    "untreated": (0.0, 0.0, 28.0),
    "ZA 4 mg Q4W": (0.0, 4.0, 28.0),
    "ZA 4 mg Q12W": (0.0, 4.0, 84.0),
    "denosumab 120 mg Q4W": (120.0, 0.0, 28.0),
}
STARTS = {"at diagnosis": 0.0, "at first bone metastasis": T_BONE}
SURGERY = {"primary in place": 1.0, "resected day 30": 1e-3}

def scenario(dmab_mg, za_mg, za_interval, start, surgery_factor):
    """Same events for every scenario; only numbers differ."""
    return (from_schedule(XGEVA_Q4W, part="denosumab", start=start, count=N_DOSES, amount=dmab_mg)
            + from_schedule(ZOLEDRONIC_ACID_Q4W, part="za", start=start, count=N_DOSES, interval=za_interval,
                            amount=za_mg)
            + scale("cascade.P", 30.0, surgery_factor))


labels, regimens = [], []
for drug, (dmab, za, interval) in DRUGS.items():
    for when, start in STARTS.items():
        for surgery, factor in SURGERY.items():
            labels.append((drug, when, surgery))
            regimens.append(scenario(dmab, za, interval, start, factor))
batch = jax.tree.map(lambda *leaves: jnp.stack(leaves), *regimens)  # a Regimen with batch shape (16,)
runs = simulate(MODEL, TIMES, regimen=batch)
print("failed scenarios (index, reason):", runs.failures())


def pick(drug, when, surgery):
    return labels.index((drug, when, surgery))


# %% [markdown]
# ## Bone burden, bone mass, urinary NTx, CTCs
# Solid: started at diagnosis; dashed: started at the first detectable bone metastasis.
# Primary in place (top) vs resected on day 30 (bottom).

# %%
panels = ["cascade.metastatic_burden[bone]", "bone.bone_mass", "bone.uNTx", "cascade.ctc_per_7_5ml"]
colours = dict(zip(DRUGS, plt.rcParams["axes.prop_cycle"].by_key()["color"]))
arms = [(drug, when) for drug in DRUGS for when in STARTS]
fig = plt.figure(figsize=(17, 8.5), layout="constrained")
for sub, surgery in zip(fig.subfigures(2, 1), SURGERY):
    sub.suptitle(surgery, x=0.01, ha="left", fontsize=11)
    row = sub.subplots(1, 4)
    seedsoil.plot.trajectories(
        runs, MODEL, panels, axes=row, members=[pick(drug, when, surgery) for drug, when in arms],
        labels=[f"{drug}, {when}" for drug, when in arms],
        styles=[{"color": colours[drug], "ls": "-" if when == "at diagnosis" else "--"} for drug, when in arms],
        marks={"first detectable bone metastasis": T_BONE}, logy=[panels[0]],
        legend=surgery == "primary in place")
    row[0].set_ylim(bottom=1.0)

# %% [markdown]
# ## Visible metastases per organ at the end of the horizon
# Bone-targeted drugs act on the bone microenvironment only, so they change the bone
# column and leave the other organs to resection.

# %%
final = np.asarray(runs["cascade.n_detectable"])[:, -1, :]  # (scenario, organ)
fig, axes = plt.subplots(1, 2, figsize=(14, 4), sharey=True)
width = 0.2
for ax, surgery in zip(axes, SURGERY):
    for k, drug in enumerate(DRUGS):
        ax.bar(np.arange(len(ORGANS)) + (k - 1.5) * width, final[pick(drug, "at diagnosis", surgery)], width,
               color=colours[drug], label=drug)
    ax.set_xticks(range(len(ORGANS)), ORGANS)
    ax.set_title(f"detectable metastases at day {DAYS:.0f} ({surgery}; drugs from diagnosis)", fontsize=10)
axes[0].set_ylabel("number")
axes[0].legend(fontsize=8)
fig.tight_layout()

# %%
burden = np.asarray(runs["cascade.metastatic_burden"])[:, -1, BONE]
volume = np.asarray(runs["bone.bone_mass"])[:, -1]
untx = np.asarray(runs["bone.uNTx"])[:, -1]
for i, (drug, when, surgery) in enumerate(labels):
    print(f"{drug:>22} | {when:>24} | {surgery:>16} | bone burden {burden[i]:9.3g} cells | "
          f"bone mass {volume[i]:6.1f} % | uNTx {untx[i]:5.1f} nmol BCE/mmol Cr")
