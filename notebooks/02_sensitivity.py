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
# # Sensitivity: what decides metastatic burden and bone loss at five years?
#
# Breast preset of `seedsoil.models.bone_metastasis` (cascade + human bone-remodelling core;
# no drug), untreated for five years. We screen sixteen parameters of seeding, dormancy,
# growth in bone and the tumour's coupling to bone with **Morris** elementary effects, then compute **Sobol**
# first-order and total indices for the top ones. Every evaluation goes through
# `seedsoil.solvers.sweep` (one compiled, vmapped solve per chunk); the analyses are SALib's.
#
# Each parameter varies uniformly in log10 between half and twice its default, a range
# chosen to be wide for a typical-patient model, not a fitted uncertainty.
#
# Set `SEEDSOIL_NOTEBOOK_SMALL=1` (CI does) for a small design and a one-year horizon.

# %%
import os

import numpy as np

import seedsoil.plot
from seedsoil.models.bone import bone_metastasis
from seedsoil.solvers import morris, sobol

SMALL = os.environ.get("SEEDSOIL_NOTEBOOK_SMALL") == "1"
DAYS = 365.0 if SMALL else 5 * 365.0
TIMES = np.array([0.0, DAYS])
MODEL = bone_metastasis("breast")
BONE = MODEL.part("cascade").organs.index("bone")
DEFAULTS = dict(zip(MODEL.params.flat_names(), np.asarray(MODEL.params.values)))

SCREENED = [
    "cascade.r_P", "cascade.shed_rate", "cascade.viable_fraction", "cascade.k_NK", "cascade.platelet_S",
    "cascade.chi_S", "cascade.mu_D", "cascade.kappa[bone]", "cascade.immune[bone]", "cascade.a_met[bone]",
    "cascade.w[bone]", "cascade.reseed", "bone.rho_P", "bone.r_max", "bone.g_T", "bone.k_z",
]
RANGES = {name: (DEFAULTS[name] / 2.0, DEFAULTS[name] * 2.0) for name in SCREENED}

OUTPUTS = {  # one number per member, read from the sweep result
    "bone burden (log10 cells)": lambda r: np.log10(1.0 + r["cascade.metastatic_burden"][:, -1, BONE]),
    "all metastases (log10 cells)": lambda r: np.log10(1.0 + r["cascade.metastatic_burden"][:, -1].sum(axis=-1)),
    "bone loss (% of baseline)": lambda r: 100.0 - r["bone.bone_mass"][:, -1],
    "uNTx (nmol BCE/mmol Cr)": lambda r: r["bone.uNTx"][:, -1],
}
KEEP = ("cascade.metastatic_burden", "bone.bone_mass", "bone.uNTx")
print(f"horizon {DAYS:.0f} days; {len(SCREENED)} parameters screened")

# %% [markdown]
# ## Morris screening
# `mu_star` is the mean absolute elementary effect (Campolongo et al. 2007) in output
# units per full log-range step; the whiskers are its bootstrap 95% intervals. `sigma` (the
# spread of the effects) flags nonlinearity or interactions.

# %%
screen = morris(MODEL, TIMES, OUTPUTS, vary=SCREENED, ranges=RANGES, log=True, keep=KEEP,
                trajectories=6 if SMALL else 30, seed=1)
fig, axes = seedsoil.plot.morris_bars(screen, ncols=len(OUTPUTS))
_ = fig.suptitle(f"Morris screening over {DAYS:.0f} days ({screen.attrs.get('n_evaluations')} runs)")
screen["mu_star"].to_pandas().T.round(3)

# %% [markdown]
# ## Sobol indices on the top parameters
# The top parameters of each output by `mu_star` (union, at most six) vary; the others stay
# at their defaults. `S1`: share of the output variance from that parameter alone; `ST`:
# including its interactions.

# %%
ranked = {label: [str(p) for p in screen.sel(output=label).sortby("mu_star", ascending=False)["parameter"].values]
          for label in OUTPUTS}
top = list(dict.fromkeys(name for label in OUTPUTS for name in ranked[label][:3]))[:6]
print("Sobol on:", top)
indices = sobol(MODEL, TIMES, OUTPUTS, vary=top, ranges={k: RANGES[k] for k in top}, log=True, keep=KEEP,
                n=32 if SMALL else 512, seed=2)
fig, axes = seedsoil.plot.sobol_bars(indices, ncols=len(OUTPUTS))
indices[["S1", "ST"]].to_dataframe()[["S1", "ST"]].round(3)
