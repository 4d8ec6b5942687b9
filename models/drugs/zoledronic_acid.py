"""Zoledronic acid (Zometa) after intravenous infusion: plasma, soft tissue, bone surface,
renal excretion. Linear, calibrated to the label's three-phase disposition.

States (mg of zoledronic acid, the label's dose unit; time in days)::

    plasma   central compartment (plasma and rapidly equilibrating fluid), volume V
    tissue   peripheral soft-tissue compartment (fast exchange)
    bone     drug bound to bone surface (uptake from plasma, slow release back)
    urine    cumulative urinary excretion (zoledronic acid is not metabolised and is
             excreted unchanged by the kidney; label)

    d plasma/dt = -(k_e + k_pt + k_pb) plasma + k_tp tissue + k_bp bone + dosing
    d tissue/dt =  k_pt plasma - k_tp tissue
    d bone/dt   =  k_pb plasma - k_bp bone
    d urine/dt  =  k_e plasma,            k_e = CL_R / V

Dosing: a zero-order infusion into ``plasma`` in mg/day. Zometa 4 mg over 15 minutes::

    T = 15 / 1440                       # days (0.0104)
    infusion("plasma", rate=4.0 / T, start=t, stop=t + T)

(repeat ``start``/``stop`` arrays for a schedule, e.g. every 28 days). Mass balance:
``infused = plasma + tissue + bone + urine``.

Calibration (how the six parameters were obtained). The disposition half-lives are
``ln 2 / lambda_i`` for the three eigenvalues ``-lambda_i`` of the 3x3 system matrix of
(plasma, tissue, bone). Six published targets fix the six parameters
(V, CL_R, k_pt, k_tp, k_pb, k_bp):

1-3. population half-lives 0.24 h, 1.87 h and 146 h (Zometa label, section 12.3:
     triphasic decline, 64 patients with cancer and bone metastases);
4.   39 % of the dose in urine within 24 h of a 4 mg / 15 min infusion (label:
     39 +/- 16 %; Chen et al. 2002 J Clin Pharmacol 42:1228: 38 +/- 13 % after 4 mg);
5.   renal clearance Ae(0-24)/AUC(0-24) = 69 mL/min (Chen 2002, 4-mg groups); in this
     model that ratio is exactly ``CL_R``;
6.   Cmax 329 ng/mL at the end of a 4 mg / 15 min infusion (mean, first dose, multiple
     myeloma patients: Blood 2005 106:5192, abstract).

:func:`calibrate` solves these six equations by least squares (matrix exponentials for
the infusion and the 24-h urine). The solution is unique up to swapping the two peripheral
compartments (200 random starts found only these two), and the compartment with the slow
release is named ``bone``. Result: V = 9.13 L, CL_R = 99.4 L/day, k_pt = 26.5/day,
k_tp = 18.3/day, k_pb = 22.3/day, k_bp = 0.353/day. Free release from bone is then
ln2/k_bp = 47 h; the 146-h terminal phase is slower because released drug is re-taken up
by bone (fraction k_pb/(k_e + k_pb) = 67 % per pass).

Checks that were *not* used in the calibration (tests/test_zoledronic_acid.py): plasma
concentration 24 h after the start is 0.85 % of Cmax (label: "< 1 % of Cmax at 24 hours");
AUC(0-24) ratio of cycle 2 to cycle 1 (Q4W) is 1.008 (label: 1.13 +/- 0.30).

Limitation, by construction of a three-phase fit: with a 146-h terminal phase, drug bound
to bone returns to plasma within weeks and is excreted (97 % of a dose in urine by day 28;
60 % of the dose on bone at 24 h, 30 % at day 7, 3 % at day 28). The label reports
"only trace amounts" in urine after day 2, and Chen 2002 resolved a further phase of
4526 h: in patients most bone-bound drug stays for months to years. A deep (buried) bone
compartment would be needed to represent that retention; it is not part of this model.

Pharmacodynamic driver: ``C_bone`` = drug on bone per gram of bone, in ug/g (= mg/kg),
``bone / M_bone``. Osteoclasts take up bisphosphonate while resorbing, so the dose an
osteoclast ingests per day is proportional to (bone resorbed per day) x ``C_bone``; a bone
model can raise osteoclast apoptosis with that product. ``M_bone`` only scales ``C_bone``
(skeleton average; bisphosphonate concentrates on active surfaces, so a local surface
concentration is this times a factor that a PD potency parameter absorbs). Molar
conversion: MW of zoledronic acid (anhydrous, C5H10N2O7P2) 272.09 g/mol, so
1 ug/g = 3.675 nmol/g.
"""

from __future__ import annotations

import math

import jax.numpy as jnp
import numpy as np

from ..base import Model, Observable, Param, Params, State

__all__ = ["ZoledronicAcid", "zoledronic_acid", "calibrate", "INFUSION_DAYS", "TARGETS"]

#: Zometa infusion duration, days (15 minutes).
INFUSION_DAYS = 15.0 / 1440.0

LABEL = "Zometa (zoledronic acid) US label, section 12.3 Pharmacokinetics"
CHEN = "Chen et al. 2002, J Clin Pharmacol 42:1228, abstract (4-mg groups)"
BLOOD = "Blood 2005 106:5192 (ASH abstract; multiple myeloma, 4 mg/15 min first dose)"
CAL = ("calibrated (see module docstring): solves label half-lives 0.24/1.87/146 h, 39 % urine "
       "in 24 h [" + LABEL + "], CL_R 69 mL/min [" + CHEN + "], Cmax 329 ng/mL [" + BLOOD + "]")

#: Calibration targets: half-lives (hours), 24-h urinary fraction, renal clearance
#: (mL/min), Cmax (ng/mL) after 4 mg infused over 15 minutes.
TARGETS = dict(half_lives_h=(0.24, 1.87, 146.0), urine_24h=0.39, CL_R_mL_min=69.0, Cmax_ng_mL=329.0,
               dose_mg=4.0, infusion_days=INFUSION_DAYS)

# Solution of the calibration (``calibrate()`` reproduces these to ~1e-8 relative).
_CALIBRATED = dict(
    V=9.12962378779269,
    CL_R=99.36,
    k_pt=26.539533390243772,
    k_tp=18.269365564458653,
    k_pb=22.279151352174164,
    k_bp=0.3533639467788069,
)

PARAMS = (
    Param("V", _CALIBRATED["V"], "L", CAL, description="central (plasma and rapidly equilibrating) volume"),
    Param("CL_R", _CALIBRATED["CL_R"], "L/day", CHEN + ": renal clearance 69 mL/min = 99.36 L/day",
          description="renal clearance (the only elimination route; label: not metabolised)"),
    Param("k_pt", _CALIBRATED["k_pt"], "1/day", CAL, description="plasma -> soft tissue"),
    Param("k_tp", _CALIBRATED["k_tp"], "1/day", CAL, description="soft tissue -> plasma"),
    Param("k_pb", _CALIBRATED["k_pb"], "1/day", CAL, description="plasma -> bone surface (uptake)"),
    Param("k_bp", _CALIBRATED["k_bp"], "1/day", CAL, description="bone surface -> plasma (release)"),
    Param("E_max", 5.0, "1/day", "calibrated: the zoledronic-acid effect that reproduces Johnson et al. 2011 "
          "in models.bone (za_effect = 5/day)", description="maximal extra osteoclast apoptosis rate"),
    Param("EC50", 0.05, "ug/g", "assumption: effect near-maximal at the bone concentration a 4 mg dose gives "
          "(~0.2 ug/g) and half-maximal once 3/4 has been released; to be fitted to CTX data",
          description="bone drug level for half-maximal osteoclast apoptosis"),
    Param("M_bone", 5500.0, "g", "ICRP Publication 89 (2002) reference adult male: cortical 4.4 kg + trabecular 1.1 kg "
          "bone (recalled, not checked); only scales C_bone", description="bone mass over which C_bone is averaged"),
)

STATES = (
    State("plasma", "mg", "zoledronic acid in the central compartment (dose target, infusion in mg/day)"),
    State("tissue", "mg", "zoledronic acid in the soft-tissue compartment"),
    State("bone", "mg", "zoledronic acid bound to bone surface"),
    State("urine", "mg", "cumulative zoledronic acid excreted in urine"),
)

OBSERVABLES = (
    Observable("C_plasma", "ng/mL", "plasma zoledronic acid concentration, 1000 plasma/V"),
    Observable("bone_bound", "mg", "amount bound to bone surface (= state bone)"),
    Observable("urine_excreted", "mg", "cumulative urinary excretion (= state urine)"),
    Observable("C_bone", "ug/g", "bone-surface drug per gram of bone, bone/M_bone (PD driver; ug/g = mg/kg)"),
    Observable("osteoclast_kill", "1/day",
               "extra osteoclast apoptosis, E_max C_bone / (EC50 + C_bone): osteoclasts ingest the drug as they resorb"),
)


class ZoledronicAcid(Model):
    """IV zoledronic acid, label-calibrated three-phase disposition (see module docstring)."""

    def rhs(self, t, y, p, u):
        k_e = p.CL_R / p.V
        to_tissue = p.k_pt * y.plasma - p.k_tp * y.tissue
        to_bone = p.k_pb * y.plasma - p.k_bp * y.bone
        excreted = k_e * y.plasma
        return {
            "plasma": -excreted - to_tissue - to_bone,
            "tissue": to_tissue,
            "bone": to_bone,
            "urine": excreted,
        }

    def observables(self, t, y, p, u):
        return {
            "C_plasma": 1e3 * y.plasma / p.V,
            "bone_bound": y.bone,
            "urine_excreted": y.urine,
            "C_bone": 1e3 * y.bone / p.M_bone,
            "osteoclast_kill": p.E_max * (1e3 * y.bone / p.M_bone) / (p.EC50 + 1e3 * y.bone / p.M_bone),
        }


def zoledronic_acid() -> ZoledronicAcid:
    """Zoledronic acid with the calibrated defaults, drug-free start; flagged ``stiff``.

    Measured (diffrax, 4 mg in plasma at t = 0, daily saves, rtol 1e-6, atol 1e-9): over
    28 days Tsit5 took 723 steps (147 rejected) against Kvaerno5's 74; over 168 days 4244
    (907 rejected) against 108. The fast disposition rate (69/day, 0.24 h) caps the
    explicit step near its stability limit (~0.05 day) long after that phase has decayed.
    """
    return ZoledronicAcid(
        name="zoledronic_acid",
        states=STATES,
        params=Params.from_specs(PARAMS),
        y0=jnp.zeros(4),
        observable_specs=OBSERVABLES,
        reference=LABEL + "; " + CHEN,
        stiff=True,
    )


# --------------------------------------------------------------------------------------
# Calibration (plain NumPy/SciPy; documents and reproduces the defaults)
# --------------------------------------------------------------------------------------
def system_matrix(V, CL_R, k_pt, k_tp, k_pb, k_bp) -> np.ndarray:
    """4x4 matrix of (plasma, tissue, bone, urine); its upper-left 3x3 block gives the
    disposition eigenvalues."""
    k_e = CL_R / V
    return np.array([
        [-(k_e + k_pt + k_pb), k_tp, k_bp, 0.0],
        [k_pt, -k_tp, 0.0, 0.0],
        [k_pb, 0.0, -k_bp, 0.0],
        [k_e, 0.0, 0.0, 0.0],
    ])


def _after_infusion(A, dose, duration):
    """State at the end of a zero-order infusion from zero (augmented matrix exponential)."""
    from scipy.linalg import expm

    M = np.zeros((5, 5))
    M[:4, :4] = A
    M[0, 4] = dose / duration
    return (expm(M * duration) @ np.array([0.0, 0.0, 0.0, 0.0, 1.0]))[:4]


def _predictions(theta, targets):
    from scipy.linalg import expm

    V, CL_R, k_pt, k_tp, k_pb, k_bp = theta
    A = system_matrix(*theta)
    lam = np.sort(-np.linalg.eigvals(A[:3, :3]).real)[::-1]
    y_end = _after_infusion(A, targets["dose_mg"], targets["infusion_days"])
    y_24 = expm(A * (1.0 - targets["infusion_days"])) @ y_end
    return lam, 1e3 * y_end[0] / V, y_24[3] / targets["dose_mg"], CL_R


def calibrate(targets: dict = TARGETS, starts: int = 8, seed: int = 0) -> dict:
    """Solve for (V, CL_R, k_pt, k_tp, k_pb, k_bp) from the six targets (module docstring).

    Least squares on log-parameters from ``starts`` random starting points; returns the
    best solution as a dict, with the slowly releasing peripheral compartment as bone.
    """
    from scipy.optimize import least_squares

    lam_target = math.log(2.0) / (np.asarray(targets["half_lives_h"]) / 24.0)
    clr = targets["CL_R_mL_min"] * 1e-3 * 1440.0

    def resid(x):
        lam, cmax, fu, CL_R = _predictions(np.exp(x), targets)
        return np.concatenate([np.log(lam / lam_target), [np.log(cmax / targets["Cmax_ng_mL"]),
                                                          np.log(fu / targets["urine_24h"]), np.log(CL_R / clr)]])

    rng = np.random.default_rng(seed)
    best = None
    for _ in range(starts):
        x0 = np.log(np.concatenate([[rng.uniform(3, 30), clr], rng.uniform(0.1, 50, size=4)]))
        r = least_squares(resid, x0, xtol=1e-15, ftol=1e-15, gtol=1e-15)
        if best is None or r.cost < best.cost:
            best = r
    V, CL_R, k_pt, k_tp, k_pb, k_bp = np.exp(best.x)
    if k_tp < k_bp:  # name the slowly releasing compartment "bone"
        k_pt, k_tp, k_pb, k_bp = k_pb, k_bp, k_pt, k_tp
    return dict(V=V, CL_R=CL_R, k_pt=k_pt, k_tp=k_tp, k_pb=k_pb, k_bp=k_bp)
