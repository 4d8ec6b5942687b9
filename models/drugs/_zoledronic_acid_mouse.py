"""Zoledronic acid in the mouse: dose in mg/kg, IV or SC, bone uptake, burial and release,
urine, and an osteoclast kill driven by the skeletal drug, as in the human model.

Same structure as the human :func:`~seedsoil.models.drugs.zoledronic_acid` (plasma / soft
tissue / bone surface / buried bone / urine; see its module), plus an SC injection depot.

States (mg of zoledronic acid per kg of body weight, so a dose is the study's mg/kg; time in
days; a per-mouse amount is ``mg/kg x body weight``)::

    depot      drug at the SC injection site (SC dose here; IV dose goes to plasma)
    plasma     central compartment, volume V (L/kg)
    tissue     peripheral soft tissue (fast exchange)
    bone       drug on bone surfaces (uptake from plasma, release back, burial)
    bone_deep  drug buried in the matrix, returned to plasma as that bone is resorbed
    urine      cumulative urinary excretion (not metabolised; Zometa label 12.3)
    sc_loss    cumulative drug lost at the injection site, (1 - F) of what leaves the depot

    d depot/dt     = -ka depot
    d plasma/dt    =  F ka depot - (k_e + k_pt + k_pb) plasma + k_tp tissue + k_bp bone + k_db bone_deep
    d tissue/dt    =  k_pt plasma - k_tp tissue
    d bone/dt      =  k_pb plasma - (k_bp + k_bd) bone
    d bone_deep/dt =  k_bd bone - k_db bone_deep
    d urine/dt     =  k_e plasma,      k_e = CL_R / V
    d sc_loss/dt   = (1 - F) ka depot

Mass balance: ``dosed = depot + plasma + tissue + bone + bone_deep + urine + sc_loss``.
Dosing: ``bolus("plasma", t, mg_per_kg)`` (IV) or ``bolus("depot", t, mg_per_kg)`` (SC);
the Johnson et al. 2011 groups with
``from_schedule(ZOLEDRONIC_ACID_MOUSE_JOHNSON2011, part="za", start=6.0, count=4)``.

Where the numbers come from. No zoledronic-acid PK study in mice or rats was available to us
(Weiss et al. 2008, Drug Metab Dispos 36:2043, rat/dog 14C-zoledronic acid, could not be
read), so the disposition is the label-calibrated human model scaled allometrically to a
25-g mouse, and checked against rodent data on other bisphosphonates:

* every first-order rate constant of the fast disposition (``k_e, k_pt, k_tp, k_pb, k_bp``)
  is the human one times ``(70 kg / 0.025 kg)^0.25 = 7.274`` (rates ~ body weight^-0.25,
  volumes ~ body weight), so ``V`` per kg is the human V / 70 kg and ``CL_R`` per kg the
  human CL_R / 70 kg x 7.274; the fractions of a dose that reach urine and bone are those of
  the human model. Plasma half-lives: 0.24 h -> 2.0 min, 1.87 h -> 15.4 min, and the burial
  phase 146 h -> 20.1 h (``k_bd``, solved with ``k_db`` below). Cross-check: 14C-alendronate
  in 7-week-old rats, plasma half-lives 3-10 min and 27-60 min ("Metabolic fate of
  alendronate (I)", Drug Metab Pharmacokinet 1995, abstract), i.e. 1.7-5.6 and 15-34 min scaled
  to a mouse by ``(0.025/0.25)^0.25``. CL_R per kg (10.3 L/kg/day, 7.2 mL/min/kg) is below a
  mouse's GFR (~10 mL/min/kg; recalled, not checked), as the human CL_R (69 mL/min) is below
  a human's.
* the terminal (skeletal) half-life is not scaled: rodent skeletons hold bisphosphonates for
  months (14C-clodronate in mouse bone 90 days after one IV dose: Mönkkönen et al. 1987,
  Toxicol Appl Pharmacol 89:287, abstract; in mouse and rat bone 12 months after, a later
  whole-body autoradiography study, abstract; alendronate content of rat long bones and
  vertebrae halves in 182-242 days, Drug Metab Pharmacokinet 1995, abstract). ``k_bd`` and
  ``k_db`` are solved so that the two slowest eigenvalues give 20.1 h (scaled) and 120 days
  (the rat alendronate range scaled by ``(0.025/0.25)^0.25`` to 102-136 days; assumption:
  zoledronic acid is retained like alendronate).
* SC: first-order absorption with ``F = 0.89`` and a 5-minute absorption half-life
  (clodronate in rats: peak plasma within 5 min after SC injection, SC bioavailability 89 %,
  bone levels at 2 h as after IV; Pharmacol Toxicol 1991 69:365, abstract; assumption:
  zoledronic acid is absorbed alike).

Result for one IV dose: 37 % of the dose in urine within 1 h, 40 % by 24 h, 50 % by
day 28; 57 % on bone surfaces at 2 h, buried with a ~20-h half-life; 50 % in the skeleton at
day 28 (the human model: 45 % urine, 55 % skeleton by day 28).

Pharmacodynamics as in the human model: ``C_bone = (bone + bone_deep) / f_bone`` in ug/g
(= mg/kg of bone; ``f_bone`` = skeletal mass per body mass), ``osteoclast_kill = E_max C_bone
/ (EC50 + C_bone)`` (1/day, wired to the bone model's input ``za_effect``). One 0.1 mg/kg SC
dose leaves ~0.47 ug/g, near the ~0.4 ug/g one 4 mg infusion leaves in a 5.5-kg human
skeleton (100 ug/kg in mice is the usual "clinically relevant" equivalent of 4 mg IV:
Labrinidis et al. 2009, Clin Cancer Res 15:3451, abstract). With the human model's E_max and
EC50 the Johnson schedule gives a kill of 4.5-4.9/day from a few hours after the first dose,
i.e. the constant ``za_effect = 5/day`` of notebook 1; the potency (E_max, EC50) is meant to
be fitted. :func:`calibrate_mouse` recomputes the PK defaults from the human calibration.
"""

from __future__ import annotations

import math

import jax.numpy as jnp
import numpy as np

from ..base import Model, Observable, Param, Params, State, flux
from ._zoledronic_acid import _CALIBRATED, disposition, read_outs, system_matrix
from ._zoledronic_acid import PARAMS as HUMAN_PARAMS

__all__ = ["ZoledronicAcidMouse", "zoledronic_acid_mouse", "calibrate_mouse", "ALLOMETRIC", "MOUSE_TARGETS"]

#: Body weights of the allometric scaling (kg): reference human and mouse (assumption: a
#: 20-25 g athymic nude mouse; 25 g).
BODY_WEIGHT_HUMAN, BODY_WEIGHT_MOUSE = 70.0, 0.025
#: Rate scaling human -> mouse, (BW_human / BW_mouse)^0.25 = 7.274.
ALLOMETRIC = (BODY_WEIGHT_HUMAN / BODY_WEIGHT_MOUSE) ** 0.25
#: Targets not obtained by scaling: terminal (skeletal) half-life in days; SC absorption.
MOUSE_TARGETS = dict(terminal_half_life_days=120.0, sc_half_life_min=5.0, F_sc=0.89)

ALN_RAT = "Metabolic fate of alendronate (I), Drug Metab Pharmacokinet 1995 (rat 14C-alendronate), abstract"
CLOD_RAT = ("Pharmacokinetics of clodronate after IV, IM and SC injection in rats, Pharmacol Toxicol 1991 69:365, "
            "abstract")
SCALED = ("assumption: human value (Zometa label 12.3 / Chen et al. 2002 calibration, seedsoil.models.drugs."
          "zoledronic_acid) scaled to a 25-g mouse, rates x (70/0.025)^0.25 = 7.274; no mouse or rat zoledronic-acid "
          "PK available to us; plasma half-lives 2.0/15.4 min agree with rat alendronate 3-10/27-60 min scaled to "
          "1.7-5.6/15-34 min [" + ALN_RAT + "]")
TERMINAL = ("assumption: solved with k_bd so the terminal (skeletal) half-life is 120 days: rat alendronate "
            "bone content halves in 182-242 days [" + ALN_RAT + "], scaled by (0.025/0.25)^0.25 to 102-136 days; "
            "14C-clodronate still in mouse bone 90 days after one dose (Mönkkönen et al. 1987, Toxicol Appl "
            "Pharmacol 89:287)")


def _mouse_pk() -> dict[str, float]:
    s = ALLOMETRIC
    pk = dict(V=_CALIBRATED["V"] / BODY_WEIGHT_HUMAN, CL_R=_CALIBRATED["CL_R"] / BODY_WEIGHT_HUMAN * s)
    pk.update({k: _CALIBRATED[k] * s for k in ("k_pt", "k_tp", "k_pb", "k_bp")})
    return pk


# ``calibrate_mouse()`` reproduces k_bd, k_db to ~1e-10 relative (tests/test_zoledronic_acid_mouse.py).
_K_BD, _K_DB = 0.7901218062167433, 0.014207333164185064
_MOUSE = dict(_mouse_pk(), k_bd=_K_BD, k_db=_K_DB, ka=math.log(2.0) / (MOUSE_TARGETS["sc_half_life_min"] / 1440.0),
              F=MOUSE_TARGETS["F_sc"])
_HUMAN_PD = {s.name: s.value for s in HUMAN_PARAMS if s.name in ("E_max", "EC50")}

PARAMS = (
    Param("ka", _MOUSE["ka"], "1/day", "assumption: SC absorption half-life 5 min (peak plasma within 5 min after SC "
          "clodronate in rats [" + CLOD_RAT + "])", description="SC absorption rate"),
    Param("F", _MOUSE["F"], "1", "SC bioavailability of clodronate in rats, 89 % [" + CLOD_RAT + "]; assumption: "
          "the same for zoledronic acid", (0.0, 1.0), "SC bioavailability"),
    Param("V", _MOUSE["V"], "L/kg", SCALED + "; volume per kg as in the human model (9.32 L / 70 kg)",
          description="central (plasma and rapidly equilibrating) volume per kg of body weight"),
    Param("CL_R", _MOUSE["CL_R"], "L/kg/day", SCALED + "; human CL_R 69 mL/min / 70 kg x 7.274",
          description="renal clearance per kg (the only elimination route)"),
    Param("k_pt", _MOUSE["k_pt"], "1/day", SCALED, description="plasma -> soft tissue"),
    Param("k_tp", _MOUSE["k_tp"], "1/day", SCALED, description="soft tissue -> plasma"),
    Param("k_pb", _MOUSE["k_pb"], "1/day", SCALED, description="plasma -> bone surface (uptake)"),
    Param("k_bp", _MOUSE["k_bp"], "1/day", SCALED, description="bone surface -> plasma (release)"),
    Param("k_bd", _MOUSE["k_bd"], "1/day", "assumption: solved with k_db so that the burial phase has the human "
          "146-h half-life scaled by (70/0.025)^0.25 (20.1 h) and the terminal phase 120 days; " + SCALED,
          description="bone surface -> buried matrix (burial by formation)"),
    Param("k_db", _MOUSE["k_db"], "1/day", TERMINAL, description="buried matrix -> plasma (release by resorption)"),
    Param("E_max", _HUMAN_PD["E_max"], "1/day", "assumption: the human model's value (za_effect = 5/day, calibrated "
          "on Johnson et al. 2011 with a constant effect); to be fitted to Johnson et al. 2011",
          description="maximal extra osteoclast apoptosis rate"),
    Param("EC50", _HUMAN_PD["EC50"], "ug/g", "assumption: the human model's value; with ZOLEDRONIC_ACID_MOUSE_"
          "JOHNSON2011 the kill is then 4.5-4.9/day from day 6, the constant za_effect = 5/day of notebook 1; "
          "to be fitted to Johnson et al. 2011",
          description="skeletal drug level for half-maximal osteoclast apoptosis"),
    Param("f_bone", 0.1073, "1", "Brown et al. 1997, Toxicol Ind Health 13:407, Table 4: mouse skeleton 10.73 % of "
          "body weight (recalled, not checked); only scales C_bone", (0.0, 1.0),
          "skeletal mass per body mass (C_bone is averaged over it)"),
)

STATES = (
    State("depot", "mg/kg", "zoledronic acid at the SC injection site (SC dose here)"),
    State("plasma", "mg/kg", "zoledronic acid in the central compartment (IV dose here)"),
    State("tissue", "mg/kg", "zoledronic acid in the soft-tissue compartment"),
    State("bone", "mg/kg", "zoledronic acid bound to bone surface"),
    State("bone_deep", "mg/kg", "zoledronic acid buried in bone matrix (released as that bone is resorbed)"),
    State("urine", "mg/kg", "cumulative zoledronic acid excreted in urine"),
    State("sc_loss", "mg/kg", "cumulative zoledronic acid lost pre-systemically at the injection site"),
)

OBSERVABLES = (
    Observable("C_plasma", "ng/mL", "plasma zoledronic acid concentration, 1000 plasma/V"),
    Observable("bone_bound", "mg/kg", "amount in the skeleton per kg of body weight, bone + bone_deep"),
    Observable("urine_excreted", "mg/kg", "cumulative urinary excretion (= state urine)"),
    Observable("C_bone", "ug/g", "skeletal drug per gram of bone, (bone + bone_deep)/f_bone (PD driver)"),
    Observable("osteoclast_kill", "1/day",
               "extra osteoclast apoptosis, E_max C_bone / (EC50 + C_bone): "
               "osteoclasts ingest the drug as they resorb"),
)


class ZoledronicAcidMouse(Model):
    """Mouse zoledronic acid, IV or SC, in mg/kg (module docstring)."""

    def rhs(self, t, y, p, u):
        absorbed = flux(p.ka, y.depot)
        d = disposition(y, p)
        d["plasma"] = d["plasma"] + p.F * absorbed
        return {"depot": -absorbed, **d, "sc_loss": (1.0 - p.F) * absorbed}

    def observables(self, t, y, p, u):
        return read_outs(y, p, (y.bone + y.bone_deep) / p.f_bone)


def zoledronic_acid_mouse() -> ZoledronicAcidMouse:
    """Mouse zoledronic acid with the defaults of the module docstring (dose in mg/kg into
    ``"depot"`` for SC or ``"plasma"`` for IV), drug-free start; flagged ``stiff`` (the 2-min
    disposition phase and the 5-min SC absorption)."""
    return ZoledronicAcidMouse(
        name="zoledronic_acid_mouse",
        states=STATES,
        params=Params.from_specs(PARAMS),
        y0=jnp.zeros(len(STATES)),
        observable_specs=OBSERVABLES,
        reference="Zometa label; Chen et al. 2002 (human disposition, scaled to a 25-g mouse); rodent "
                  "bisphosphonate PK (" + ALN_RAT + "; " + CLOD_RAT + "); dosing of Johnson et al. 2011 assumed",
        stiff=True,
        linear_states=tuple(x.name for x in STATES),  # linear disposition: carried exactly
    )


def calibrate_mouse(terminal_half_life_days: float = MOUSE_TARGETS["terminal_half_life_days"]) -> dict:
    """The mouse PK defaults: the human calibration scaled by :data:`ALLOMETRIC`, then
    ``k_bd`` and ``k_db`` solved (least squares on logs, exact at the solution) so that the
    two slowest disposition eigenvalues give the human 146-h phase scaled (146 h / 7.274) and
    ``terminal_half_life_days``."""
    from scipy.optimize import least_squares

    from ._zoledronic_acid import TARGETS

    pk = _mouse_pk()
    days = np.array([terminal_half_life_days, TARGETS["half_lives_h"][2] / ALLOMETRIC / 24.0])
    target = math.log(2.0) / days  # slowest first

    def resid(x):
        k_bd, k_db = np.exp(x)
        A = system_matrix(pk["V"], pk["CL_R"], pk["k_pt"], pk["k_tp"], pk["k_pb"], pk["k_bp"], k_bd, k_db)
        return np.log(np.sort(-np.linalg.eigvals(A[:4, :4]).real)[:2] / target)

    x0 = np.log([_CALIBRATED["k_bd"] * ALLOMETRIC, math.log(2.0) / terminal_half_life_days / 0.4])
    r = least_squares(resid, x0, xtol=1e-15, ftol=1e-15, gtol=1e-15)
    pk["k_bd"], pk["k_db"] = (float(v) for v in np.exp(r.x))
    return pk
