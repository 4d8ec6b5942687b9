"""Skeletal-related events (SREs): a hazard of the first SRE driven by the tumour burden in
bone and by bone resorption, integrated as a cumulative hazard state alongside the ODEs.

SREs are the skeletal complications of bone metastases that trials count: pathological
fracture, spinal-cord compression, radiotherapy or surgery to bone, hypercalcaemia. Here the
time to a patient's first SRE is a random time with hazard ``h(t)`` (1/day) set by the
model's trajectory; the model carries its cumulative hazard ``H`` as a state, so::

    P(no SRE by t) = exp(-(H(t) - H(t_0)))

exactly (up to the solver's tolerance), without sampling. ``sre_free`` is the probability
of no SRE since ``H`` was 0, i.e. since the start of the solve. A trial that starts at
``t_0`` from a saved state resets ``H`` through ``y0``:
``simulate(model, times, y0={**saved, "sre.H": 0.0})`` with ``saved = {name: sol[name][-1]
for name in model.state_names}`` (in ``bone_metastasis`` clip ``saved["cascade.n"]`` at 0
first: the cascade's size density carries tiny negative values from its discretisation,
-0.008 at most on day 1065, which ``simulate`` refuses in ``y0``); within one solve, the
trial's SRE-free probability is ``exp(-(H(t) - H(t_0)))``.

Inputs: ``bone_tumour`` T (cells in bone; in :func:`~seedsoil.models.bone.bone_metastasis`
the cascade's ``metastatic_burden[bone]``) and ``uNTx`` U (urinary N-telopeptide/creatinine,
nmol BCE/mmol Cr; there the human bone core's observable ``uNTx``). Both are zero unless
set (a part solved alone with both at zero has zero hazard).

Equations (time in days; T and U negative-clipped at 0)::

    f_T(T) = T / (T + T_50)                           tumour burden, saturating
    f_R(U) = (U / U_ref)^gamma                         bone resorption
    h      = h_0 f_T(T) f_R(U)                         SRE hazard, 1/day
    dH/dt  = h,  H(0) = 0                              cumulative hazard

Read-outs: ``sre_hazard`` (h), ``sre_cumulative_hazard`` (H), ``sre_free`` (exp(-H)).

* Burden: osteolysis, and so fracture, compression and pain needing radiotherapy, scales with
  the lesions' extent; a tumour-free skeleton has zero hazard (SREs without bone metastases,
  e.g. osteoporotic fractures, are not modelled). ``T_50`` = 1e8 cells (~0.1 g) is the
  cascade's detection size ``x_detect`` (1e8-1e9 cells are visible on imaging, Del Monte
  2009): lesions below it carry little hazard, and beyond a few grams the hazard saturates
  (the extent of osteolysis rather than the tumour mass limits it). Chosen between 1e8 and
  1e9 by the population calibration below (both meet the three figures; 1e8 needs less
  spread of ``h_0`` between patients).
* Resorption: Coleman et al. 2005 (J Clin Oncol 23:4925) report about twice the SRE risk for
  patients with moderate or high uNTx (>= 50 nmol BCE/mmol Cr) than for low (< 50), in
  1,824 patients on zoledronic acid or pamidronate, with the most recent uNTx as a
  time-varying covariate (abstract), which is how U enters here: the current level. That
  the same ratio holds without a bisphosphonate, and is caused by resorption rather than
  marking a larger burden, is an assumption. The power law makes this ratio hold between
  typical values of the categories, U = 75 (middle of the moderate category 50-99) against
  U = 30 (the healthy median 29, where most of the low category lies): ``(75/30)^gamma = 2``,
  ``gamma = ln 2 / ln 2.5 = 0.7565``. ``U_ref`` = 29 (healthy median) makes ``f_R = 1`` at a
  healthy resorption level, so ``h_0`` is the hazard of a saturating burden at normal
  resorption. A cap check: uNTx 150 (the top of the untreated band of the human core) gives
  3.4 times the low-category hazard.
* ``h_0`` = 3.781e-3/day, fitted at the population level (``notebooks/05_virtual_trial.py``):
  ``h_0`` varies between the patients of ``bone_metastasis_population("breast")`` as a
  log-normal frailty (sd of the log 1.99, median ``h_0``), and a virtual placebo arm of 256
  patients (64 size bins), each from their own first detectable bone metastasis, with
  deaths (total burden 1e12 cells) stopping events, gives SRE-free 0.508 at 7.0 months
  (Hortobagyi et al. 1996, N Engl J Med 335:1785, placebo median 7.0 months), 0.574 with an
  SRE at 12 months (hortobagyi1996_placebo_1y: 0.56) and 0.663 at 24 months
  (theriault1999_placebo_2y: 0.67); chi-square 0.23 with binomial sds of a 190-patient arm.
  A single patient cannot do it: one patient's burden grows, so its hazard rises, while
  the trials' cumulative incidence flattens (50 % by 7 months, 67 % by 24); the spread of
  ``h_0`` (lesion site and extent at entry, which the model's one bone compartment does not
  carry) and deaths flatten it. With ``T_50`` = 1e9 the same fit needs sd_log 2.41 (h_0
  5.47e-3, chi-square 0.30).

Drugs act through U only (and through the burden, where they slow tumour growth): with
denosumab or zoledronic acid suppressing uNTx by 70-90 % the power law lowers the hazard
2.5-6-fold at a given burden. The typical patient above, treated from day 1065 (120 mg
denosumab or 4 mg zoledronic acid every 4 weeks), has had an SRE with probability 32 % or
44 % at 12 months (untreated 76 %) and 60 % or 76 % at 24 months (untreated 98 %): the
cumulative hazard over the first year falls to 27 % of the untreated one (zoledronic acid:
40 %), a larger effect than the trials' 30-50 % fewer first SREs on a bone-targeted drug
(recalled, not checked). Part of Coleman's association
is burden (confounded with uNTx across patients), which ``f_T`` here counts separately;
splitting the hazard into a resorption-driven and a resorption-independent share belongs
to the population calibration.
"""

from __future__ import annotations

import math

import jax.numpy as jnp

from ..base import Input, Model, Observable, Outcome, Param, Params, State

__all__ = ["SkeletalEvents", "skeletal_events", "FITTED", "COLEMAN_GAMMA", "SD_LOG_H_0"]

#: Where h_0 and T_50 were fitted (with the spread of h_0 in bone_metastasis_population).
FITTED = ("fitted to hortobagyi1996_placebo_median, hortobagyi1996_placebo_1y, theriault1999_placebo_2y by a virtual "
          "placebo arm of bone_metastasis_population('breast') in notebooks/05_virtual_trial.py")
COLEMAN = "Coleman et al. 2005, J Clin Oncol 23:4925 (coleman2005_ntx_moderate in data/clinical_targets.csv)"
#: ``gamma`` such that ``(75 / 30)^gamma = 2`` (module docstring).
COLEMAN_GAMMA = math.log(2.0) / math.log(75.0 / 30.0)
#: Spread (sd of the log) of ``h_0`` between the patients of ``bone_metastasis_population``
#: (fitted with ``h_0`` and ``T_50``; module docstring).
SD_LOG_H_0 = 1.988

PARAMS = (
    Param("h_0", 3.781e-3, "1/day",
          FITTED + " (the population median; its spread SD_LOG_H_0 = 1.99 between patients; module docstring)",
          (0.0, 10.0), "SRE hazard at a saturating bone burden and a healthy resorption level (uNTx = U_ref)"),
    Param("T_50", 1e8, "cells",
          FITTED + ": chosen from 1e8 and 1e9 (both meet the figures; 1e8 needs less spread of h_0); the "
          "detection size x_detect of the cascade (1e8-1e9 cells are visible on imaging, Del Monte 2009, Cell "
          "Cycle 8:505)",
          (1.0, 1e14), "bone tumour burden giving half the saturating SRE hazard"),
    Param("gamma", COLEMAN_GAMMA, "1",
          COLEMAN + ": about 2-fold SRE risk for moderate/high (>= 50 nmol BCE/mmol Cr) vs low (< 50) uNTx "
          "(bisphosphonate-treated patients, most recent uNTx as time-varying covariate), set "
          "as (75/30)^gamma = 2 between typical values of the categories (75: middle of moderate; 30: healthy "
          "median, typical of low)",
          (0.0, 5.0), "power of the resorption factor (uNTx / U_ref)^gamma"),
    Param("U_ref", 29.0, "nmol BCE/mmol Cr",
          "assumption: the resorption factor is 1 at a healthy level, healthy_untx: 237 healthy premenopausal "
          "women, median 29 nmol BCE/mmol Cr (data/clinical_targets.csv; as NTx_ref of human_bone)",
          (1e-3, 1e4), "uNTx at which the resorption factor is 1"),
)

STATES = (State("H", "1", "cumulative SRE hazard since the start (reset to 0 at a trial's start)"),)

INPUTS = (
    Input("bone_tumour", "cells", "tumour cells in bone (the cascade's metastatic_burden[bone])"),
    Input("uNTx", "nmol BCE/mmol Cr", "urinary NTx/creatinine, bone resorption (the human bone core's uNTx)"),
)

OBSERVABLES = (
    Observable("sre_hazard", "1/day", "hazard of the first skeletal-related event, h_0 f_T f_R"),
    Observable("sre_free", "1", "probability of no skeletal-related event since H was 0, exp(-H)"),
    Observable("sre_cumulative_hazard", "1", "cumulative SRE hazard H"),
)


def hazard(p, tumour, untx):
    """``h_0 T / (T + T_50) (U / U_ref)^gamma`` (1/day), with T and U clipped at 0; the
    power is written so that its gradient stays finite at U = 0."""
    t = jnp.maximum(tumour, 0.0)
    u = jnp.maximum(untx, 0.0) / p.U_ref
    pos = u > 0
    f_r = jnp.where(pos, jnp.where(pos, u, 1.0) ** p.gamma, 0.0)
    return p.h_0 * t / (t + p.T_50) * f_r


class SkeletalEvents(Model):
    """Skeletal-related-event hazard and its cumulative hazard (module docstring)."""

    def rhs(self, t, y, p, u):
        return {"H": hazard(p, u.bone_tumour, u.uNTx)}

    def observables(self, t, y, p, u):
        return {"sre_hazard": hazard(p, u.bone_tumour, u.uNTx), "sre_free": jnp.exp(-y.H),
                "sre_cumulative_hazard": y.H}


def skeletal_events() -> SkeletalEvents:
    """The SRE hazard model (module docstring), cumulative hazard 0 at the start."""
    return SkeletalEvents(
        name="skeletal_events", states=STATES, params=Params.from_specs(PARAMS), y0=jnp.zeros(1),
        inputs=INPUTS, observable_specs=OBSERVABLES,
        reference="SRE hazard: " + COLEMAN + "; Hortobagyi et al. 1996, N Engl J Med 335:1785", stiff=False,
        outcomes=(Outcome("sre", "cumulative_hazard", "sre_cumulative_hazard",
                          "the first skeletal-related event (fracture, spinal-cord compression, radiotherapy or "
                          "surgery to bone, hypercalcaemia)", "module docstring: hazard h_0 f_T f_R"),),
    )
