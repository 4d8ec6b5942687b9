"""Human bone remodelling: a reduced Peterson & Riggs core with a slow osteoclast-precursor
pool, turnover markers in clinical units, and inputs for denosumab, zoledronic acid and a
tumour in bone (its PTHrP and its recruitment of osteoclast precursors).

Source of the structure: Peterson & Riggs 2010, Bone 46:49 (BIOMD0000000613; the
OpenBoneMin R package of Metrum Research Group carries its parameter table and its
denosumab extension). Kept from it, in reduced form: RANKL as a state with its own
turnover that denosumab removes (their ``L``, ``koutL``); a slowly renewed pool of RANK-
bearing osteoclast precursors that is not used up while RANKL is blocked (their ``RNK``,
``koutRNK``), so it builds up, and whose release once the drug is gone is the rebound;
active osteoclasts whose survival needs RANKL (their ``LsurvOC``); responding and active
osteoblasts (``ROB1``, ``OB``); bone mass (``BMDls``). Added: a committed (fusing)
pre-osteoclast stage between precursors and osteoclasts, which sets how fast resorption
returns when RANKL does. Left out: calcium/phosphate/PTH-gland homeostasis, TGF-beta
pools, oestrogen and the receptor binding kinetics. Every state is relative to its
untreated steady state (1; bone mass 100 %), so ``y0`` is that steady state whatever the
parameters.

Equations (time in days; theta = ``rankl_inhibition``, the fraction of RANKL bound by
denosumab; kappa = ``za_effect``, the zoledronic-acid osteoclast kill in 1/day; T =
``tumour_cells`` in bone; I = ``I_PTHrP`` + rho_P T / T_ref in pM/day; h = T / (T + T_50),
see "Tumour coupling" below)::

    pi_P(I) = (I + S_P) / (I + k_PTH k6 / k5)     PTH-receptor occupancy (Lemaire 2004)
    g       = (pi_P(I) / pi_P(0))^2               RANKL/OPG from PTH(rP): RANKL ~ pi_P and
                                                  OPG ~ 1/pi_P (Lemaire 2004, eq. of pi_L)
    sigma   = (1 - theta) L                       RANKL signal to RANK

    dL/dt = k_L (g - L) - (k_int - k_L) theta L       RANKL; bound RANKL is internalised
                                                      with the antibody (k_int)
    dP/dt = k_P (1 + r_max h - (1 - f_D) P - f_D sigma P)   osteoclast precursors
    dQ/dt = k_Q (sigma P - Q)                         committed pre-osteoclasts
    dC/dt = d_C (Q - (1 + k_S max(1 - sigma, 0)) C) - s_ZA kappa C     active osteoclasts
    dR/dt = k_R (f_R + (1 - f_R) C + b_T h - R)       responding osteoblasts (recruited by
                                                      what resorption releases, and around
                                                      the tumour)
    dB/dt = k_B (R - B)                               active osteoblasts (formation)
    dz/dt = k_z (B - C z / 100)                       bone mass, % of baseline

At steady state without drugs ``L = g = sigma``, ``P = (1 + r_max h) / (1 - f_D + f_D
sigma)``, ``C = Q = sigma P``, ``R = B = f_R + (1 - f_R) C + b_T h`` and ``z = 100 B / C``
(:func:`steady_state`): resorption is limited by the supply of precursors, so however much
RANKL rises it stays below ``(1 + r_max h) / f_D`` (1.58-fold without a tumour, with the
calibrated ``f_D``; at most 6.1-fold with one). While RANKL is blocked the precursors
build up towards ``1 / (1 - f_D)`` (2.7-fold without a tumour; about
2-fold after two years of Prolia, ``k_P`` being slow), and when the drug is gone they
feed an overshoot of osteoclast formation: the rebound. Resorption stays low for weeks
after RANKL returns because new osteoclasts must first pass the pre-osteoclast stage
(``1/k_Q`` ~ 10 days) and accumulate at the osteoclast turnover ``d_C`` (2-week life
span): this is what keeps CTX below baseline at the end of a Prolia interval, although
the serum drug is gone by then in the denosumab PK model.

Markers (clinical units; the patient's pre-treatment level is a parameter)::

    CTX  = CTX_ref (f_CTX + (1 - f_CTX) C)    ng/mL               (serum C-telopeptide)
    uNTx = NTx_ref (f_NTx + (1 - f_NTx) C)    nmol BCE/mmol Cr    (urinary N-telopeptide)

with background fractions ``f_CTX``, ``f_NTx`` that no osteoclast suppression removes
(the floors under a saturating dose). The ``_pct`` observables are % of the pre-treatment
value, i.e. of the untreated steady state. ``CTX_ref`` and ``NTx_ref`` default to the
healthy medians (data/clinical_targets.csv: healthy_ctx_median 0.322 ng/mL, healthy_untx
29 nmol BCE/mmol Cr), so ``uNTx`` reads directly against Coleman 2005's categories (low
< 50, moderate 50-99, high >= 100). ``P1NP`` (formation marker) is ``100 B``.

Tumour coupling (input ``tumour_cells``, cells in bone, as ``vicious_cycle(tumour="input")``
takes them; 0, the default, is the tumour-free core above, unchanged). The compartment is
the whole skeleton, as the markers are: a lesion itself loses tens of percent of its bone
locally, which one compartment does not resolve; ``bone_mass`` is the skeleton's mean.

* PTHrP: the tumour secretes ``rho_P T / T_ref`` pM/day, added to ``I_PTHrP`` and acting
  through the PTH receptor (Guise et al. 1996, J Clin Invest 98:1544), which raises RANKL
  ``g``-fold. ``T_ref`` = 1e9 cells (about 1 g; ``HUMAN_BONE`` in ``disease.py``); ``rho_P``
  = 0.25 pM/day is an assumption: at the lethal burden (1e12 cells, ~1 kg) the tumour
  secretes as much PTHrP as the parathyroids secrete PTH (``S_P``), which raises RANKL
  3.9-fold, short of the several-fold excess of humoral hypercalcaemia (a minority of the
  skeletal events of a typical patient). RANKL alone cannot lift resorption above
  ``1 / f_D`` = 1.58-fold (uNTx 43), so PTHrP sets the speed of the rise, not its height.
* Osteoclast-precursor recruitment: tumour-derived factors (IL-6, IL-11, M-CSF, PTHrP
  itself) recruit and expand osteoclast precursors (Mundy 2002, Nat Rev Cancer 2:584;
  Roodman 2004, N Engl J Med 350:1655); here they add ``r_max h`` to the precursor influx,
  saturating in burden (``h = T / (T + T_50)``: lesions compete for the marrow and bone
  surface, ~1.5 kg of red marrow in an adult, recalled). This is what lifts resorption into the
  metastatic range, and caps it: at most ``(1 + r_max) / f_D`` = 6.1-fold, uNTx 150.
  ``r_max`` = 2.83 is set by that cap (the top of the band below), ``T_50`` = 1e11 cells
  so that uNTx reaches Coleman 2005's moderate category (50) between 3e10 and 1e11 cells
  and the high one (100) between 3e11 and 1e12. As the precursor pool is slow (``k_P``),
  markers follow a change of burden over 2-5 months, without overshoot: a step of burden
  raises ``P`` as well as draining it, so ``C`` climbs monotonically to its new level (for
  steps up to 1e12 cells; beyond, at 1e13 cells, PTHrP raises RANKL 85-fold and uNTx
  overshoots to 257 within a month before settling at 147).
* Reactive bone formation: ``b_T h`` more osteoblast recruitment (formation markers rise
  with resorption markers in bone metastases: Cook et al. 2006, Clin Cancer Res 12:3361,
  r = 0.67 between bone alkaline phosphatase and uNTx in metastatic prostate cancer, the
  osteoblastic extreme; bone scans see even lytic metastases by it).
  ``b_T`` = 0.8 is set so that the skeleton's bone mass falls by ~8 % in the first year at
  a constant lethal burden and ~2 % at 1e11 cells, then settles (resorption is scaled by
  the bone left). Choice: a few percent a year, as the fastest common skeletal losses
  (androgen deprivation, aromatase inhibitors: 2-5 %/year, recalled, not checked), no
  series of whole-skeleton bone mass in untreated metastatic patients being at hand.
  Without it (``b_T`` = 0) bone mass would fall to 76 % at 1e12 cells.
* Matrix feedback to the tumour: resorption releases TGF-beta and IGF from the matrix; as
  in ``vicious_cycle``, its action is ``pi_C = (C + f0 c_s) / (C + c_s)`` (Lemaire 2004,
  with ``c_s = C_s / C_bar``), the signal ``s = max(pi_C / pi_C(1) - 1, 0)``
  (``tgf_signal``) and ``growth_boost = g_T s``. ``pi_C`` saturates, so ``s`` < 4.08 and,
  with ``g_T`` = 0.25 (``HUMAN_BONE``), the tumour's growth is at most doubled (0.38 at
  1e12 cells). The vicious cycle's TGF-beta gain of PTHrP (``g_P``) is left out: with no
  human figure for it, it would only add a loop gain to the marker levels.

Band for untreated bone metastases (``untx_untreated_band`` in data/clinical_targets.csv):
uNTx 64-150 nmol BCE/mmol Cr at a large (lethal-range, 1e11-1e12 cells) burden. 64 is the
upper limit of the healthy range (healthy_untx) and Lipton et al. 2008's "elevated" (Cancer
113:193; of the untreated (placebo) patients with elevated uNTx at entry, only 8-17 % had
normal levels 3 months later); 150 is ~5 times the healthy median, within Coleman 2005's
high category (>= 100, 4-6-fold risk of death, as a lethal burden should be). A published
median of untreated patients was not found; the band is ours. Model (steady state at a
constant burden; ``bone_mass`` and uNTx after 1 year from a tumour-free start)::

    tumour cells  tumour PTHrP  RANKL  uNTx 1 y  uNTx    CTX     P1NP  bone mass   growth_boost
                  pM/day        fold             nmol    ng/mL   %     1 y / end
    0             0             1.00   29.0      29.0    0.32    100   100 / 100    0
    1e8           0.025         1.00   29.1      29.1    0.32    100   100 / 100    0.00
    1e9           0.25          1.00   29.6      29.7    0.33    103   100 / 99.9   0.00
    1e10          2.5           1.02   34.6      35.3    0.40    126   99.8 / 99.4  0.04
    3e10          7.5           1.06   43.5      45.3    0.52    167   99.4 / 98.7  0.10
    1e11          25            1.21   63.2      66.5    0.78    250   98.4 / 97.2  0.20
    3e11          75            1.67   89.8      92.3    1.09    347   96.2 / 94.6  0.30
    1e12          250           3.85   122.0     122.0   1.46    447   92.3 / 90.9  0.38
    1e13          2500          84.9   147.3     147.3   1.77    528   89.0 / 88.3  0.44

Drugs with a tumour: both still suppress resorption, and more deeply in per cent of the
raised pre-treatment value than the label figures (at a constant 1e12 cells, uNTx -96 %
at month 3 of Xgeva and -82 % of zoledronic acid 4 mg Q4W; at 1e11 cells, Xgeva -92 %;
without a tumour -82 % and -70 %, the calibration), because the marker background
``f_NTx`` is the healthy one. The Xgeva figures (-80 %) were measured in patients with
bone metastases of unknown burden; fitting ``f_NTx`` (or an osteoclast-independent tumour
share of uNTx) to them at the trial population's burden belongs to the joint calibration.
Stopping denosumab with a tumour present releases a larger precursor reserve (``P`` builds
up towards ``(1 + r_max h) / (1 - f_D)``): a larger rebound (four Prolia doses then
stopped, at a constant 1e11 cells: uNTx peaks 69 % above its pre-treatment value, against
45 % without a tumour).

Calibration (:func:`calibrate`; the defaults are its result). The drugs act through their
own PK models (``seedsoil.models.drugs``) and the links used in practice,
``RANKL_occupancy -> rankl_inhibition`` and ``osteoclast_kill -> za_effect``; Prolia with
the osteoporosis PK, Xgeva with the bone-metastases PK. ``k_S``, ``k_Q``, ``k_P``,
``f_D``, ``f_NTx`` and ``s_ZA`` are fitted by least squares (percent points) to six
figures of data/clinical_targets.csv, plus the condition that CTX is back within 10 % of
baseline 12 months after a missed dose; then ``k_z`` alone to the FREEDOM BMD gain. Model
(the coupled model, tests/test_human_bone.py) against target::

    target          figure                                      when              model
    prolia_ctx_d3   CTX about -85 %                             day 3             -86.1 %
    prolia_ctx_m6   CTX -45 to -80 % (fitted to the midpoint)   day 182           -62.2 %
    prolia_offset   rise to +40-60 % after stopping (midpoint)  peak, day 809     +50.0 %
                    back to baseline within 12 months           peak + 365 d      +6.3 %
    xgeva_untx_w1   uNTx median -82 %                           day 7             -80.1 %
    xgeva_untx_m3   uNTx about -80 % (median)                   day 84            -81.9 %
    za_untx_m3      uNTx about -70 % (band -55 to -85 %)        day 84            -70.0 %
    FREEDOM BMD     lumbar spine +9.2 % at 3 years of Prolia    day 1095          +9.2 %

(Prolia: four doses Q6M, days 0 to 547.5, then stopped; the fit asked for CTX within 10 %
of baseline 12 months after the missed fifth dose, day 1095: +10.1 %. Xgeva and
zoledronic acid: 120 mg or 4 mg every 28 days.)
The Prolia rebound peaks about 8 months after the last dose (2.5 months after the missed
one). Fitted values that differ from Peterson & Riggs: the precursor pool renews far more
slowly (``k_P`` 0.006/day against their RANK turnover 0.078/day), which is what lets it
build up over months of treatment. RANKL alone can raise resorption at most ``1 / f_D`` =
1.58-fold (uNTx 29 -> 43 nmol BCE/mmol Cr), hence the tumour's precursor recruitment
above. A step rise of RANKL alone (no recruitment) overshoots first,
up to ``g``-fold, until the precursor reserve is used up (constant PTHrP 500 pM/day: CTX
peaks at 3.8-fold on day 47, settles at 1.43-fold); so does a RANKL rise after months of
denosumab, which leaves a larger reserve.
"""

from __future__ import annotations

from types import SimpleNamespace

import jax.numpy as jnp
import numpy as np

from ..base import Input, Model, Observable, Param, Params, State

__all__ = ["HumanBone", "human_bone", "calibrate", "derivatives", "steady_state", "tumour_drive", "drug_profiles",
           "predictions", "CALIBRATED", "TARGETS", "START"]

PR = "Peterson & Riggs 2010, Bone 46:49 (BIOMD0000000613), parameter table as in the OpenBoneMin R package"
LEMAIRE = "Lemaire et al. 2004, J Theor Biol 229:293, Table 1"
SUTJ = "Sutjandra et al. 2011, Clin Pharmacokinet 50:793 (kint of seedsoil.models.denosumab)"
FIT = "fitted to "  # + target ids (calibrate())
TARGET_FILE = "data/clinical_targets.csv"
ZA_TARGET = ("za_untx_m3: uNTx about -70 % at week 12-13 of zoledronic acid 4 mg Q4W (Stopeck et al. 2010, "
             "J Clin Oncol 28:5132, ZA arm; recalled, not checked: band -55 to -85 %)")
FREEDOM = "Cummings et al. 2009, N Engl J Med 361:756 (FREEDOM: lumbar-spine BMD +9.2 % at 36 months vs placebo)"

#: Clinical targets of :func:`calibrate`: id -> (day, model quantity, target in % of the
#: pre-treatment value); prolia_offset is the highest CTX after day 637.5 (four Prolia doses).
TARGETS = {
    "prolia_ctx_d3": (3.0, "CTX_pct", 15.0),
    "prolia_ctx_m6": (182.0, "CTX_pct", 37.5),
    "prolia_offset": (None, "CTX_pct peak after stopping", 150.0),
    "xgeva_untx_w1": (7.0, "uNTx_pct", 18.0),
    "xgeva_untx_m3": (84.0, "uNTx_pct", 20.0),
    "za_untx_m3": (84.0, "uNTx_pct", 30.0),
}
#: Where each target comes from (the rows of data/clinical_targets.csv).
TARGET_SOURCES = {"prolia_ctx_d3": "Prolia US label 12.2", "prolia_ctx_m6": "Prolia US label 12.2",
                  "prolia_offset": "Prolia US label 12.2", "xgeva_untx_w1": "Xgeva US label 12.2",
                  "xgeva_untx_m3": "Xgeva US label 12.2", "za_untx_m3": "Stopeck et al. 2010 (recalled)"}
#: The fitted parameters, in :func:`calibrate`'s order, and the start of the fit.
FITTED = ("k_S", "k_Q", "k_P", "f_D", "f_NTx", "s_ZA")
START = dict(k_S=10.0, k_Q=0.03, k_P=0.02, f_D=0.5, f_NTx=0.19, s_ZA=0.1)
PROLIA_INTERVAL = 182.5  # days (PROLIA_Q6M)
#: Defaults: the result of :func:`calibrate` from :data:`START`.
CALIBRATED = dict(k_S=23.267076117641192, k_Q=0.10085864191421724, k_P=0.005981597778586385,
                  f_D=0.6311159531743424, f_NTx=0.18107614899198066, s_ZA=0.08793192474589756,
                  k_z=0.02505185241528025)


def _src(*ids: str) -> str:
    where = "; ".join(sorted({TARGET_SOURCES[i] for i in ids}))
    return FIT + ", ".join(ids) + f" [{where}] ({TARGET_FILE}; calibrate())"


PARAMS = (
    Param("k_L", 0.0704, "1/day", PR + ": koutL = 0.00293/h", (1e-4, 10.0), "RANKL turnover rate"),
    Param("k_int", 0.1908, "1/day", SUTJ + ": 0.00795/h", (0.0, 10.0),
          "removal of antibody-bound RANKL (internalisation of the complex)"),
    Param("k_P", CALIBRATED["k_P"], "1/day", _src("prolia_ctx_m6", "prolia_offset")
          + "; Peterson & Riggs 2010 koutRNK 0.00324/h = 0.078/day", (1e-4, 1.0),
          "renewal rate of the osteoclast-precursor pool"),
    Param("f_D", CALIBRATED["f_D"], "1", _src("prolia_offset", "prolia_ctx_m6")
          + "; the precursor pool stands for RANK (RNK) of Peterson & Riggs 2010", (0.0, 0.99),
          "fraction of precursor loss that is RANKL-driven differentiation at steady state"),
    Param("k_Q", CALIBRATED["k_Q"], "1/day", _src("prolia_ctx_m6", "prolia_offset")
          + "; a stage added to Peterson & Riggs 2010", (1e-4, 10.0),
          "maturation (fusion) rate of committed pre-osteoclasts"),
    Param("d_C", 1.0 / 14.0, "1/day", "Manolagas 2000, Endocr Rev 21:115 (human osteoclast life span about "
          "2 weeks; recalled, not checked)", (1e-3, 20.0), "osteoclast removal rate with RANKL present"),
    Param("k_S", CALIBRATED["k_S"], "1", _src("prolia_ctx_d3", "xgeva_untx_w1")
          + "; RANKL is an osteoclast survival factor: Lacey et al. 1998, Cell 93:165", (0.0, 1e3),
          "extra osteoclast apoptosis on full RANKL withdrawal, in units of d_C"),
    Param("s_ZA", CALIBRATED["s_ZA"], "1", _src("za_untx_m3") + "; " + ZA_TARGET, (0.0, 100.0),
          "human osteoclast sensitivity to the zoledronic-acid kill input (multiplies za_effect)"),
    Param("k_R", 0.0700, "1/day", PR + ": KPT = kb OB0 / ROB1_0 = 0.00292/h", (1e-4, 10.0),
          "differentiation rate of responding osteoblasts"),
    Param("k_B", 0.01453, "1/day", PR + ": kb = 0.000606/h", (1e-4, 10.0), "active osteoblast removal rate"),
    Param("f_R", 0.3, "1", "assumption: formation markers fall about half as much as resorption markers "
          "on denosumab (P1NP -50 to -60 %)", (0.0, 1.0),
          "fraction of osteoblast recruitment not coupled to resorption"),
    Param("k_z", CALIBRATED["k_z"], "%/day", FIT + "lumbar-spine BMD +9.2 % after 3 years of Prolia; " + FREEDOM,
          (0.0, 10.0), "bone mass change per unit formation-resorption imbalance"),
    Param("S_P", 250.0, "pM/day", LEMAIRE, (0.0, 1e6), "systemic PTH synthesis rate"),
    Param("k_PTH", 86.0, "1/day", LEMAIRE + " (k_P)", (1e-3, 1e4), "PTH elimination rate"),
    Param("k5", 0.02, "1/(pM day)", LEMAIRE, (1e-9, 1e3), "PTH-receptor binding rate"),
    Param("k6", 3.0, "1/day", LEMAIRE, (1e-9, 1e3), "PTH-receptor unbinding rate"),
    Param("f0", 0.05, "1", LEMAIRE, (0.0, 1.0), "floor of the TGF-beta action"),
    Param("c_s", 5.4782, "1", LEMAIRE + ": C_s / C_bar = 5e-3 / 9.127e-4", (1e-6, 1e6),
          "osteoclast level (relative) of half-maximal TGF-beta action"),
    Param("g_T", 0.25, "1", "assumption, as seedsoil.models.bone.HUMAN_BONE (disease.py): matrix feedback at "
          "most ~doubles the growth of bone metastases", (0.0, 1e3), "TGF-beta/IGF gain of tumour growth"),
    Param("T_ref", 1e9, "cells", "as seedsoil.models.bone.HUMAN_BONE (disease.py): about 1 g of tumour (Del Monte "
          "2009, Cell Cycle 8:505: 1e8-1e9 cells per gram)", (1.0, 1e15), "tumour size of reference PTHrP output"),
    Param("rho_P", 0.25, "pM/day", "assumption: a lethal burden (1e12 cells) secretes PTHrP equal to the "
          "parathyroids' normal PTH output S_P (RANKL about 3.9-fold), short of humoral hypercalcaemia, which is "
          "rare among the skeletal events of a typical patient (module docstring)", (0.0, 1e6),
          "PTHrP production of T_ref tumour cells in bone"),
    Param("T_50", 1e11, "cells", "set (module docstring, tumour coupling table): uNTx reaches Coleman 2005's "
          "moderate category (50) between 3e10 and 1e11 cells and the high one (100) between 3e11 and 1e12 cells; "
          "1e11 cells is about 100 g of tumour, a sizeable part of the ~1.5 kg of adult red marrow", (1.0, 1e15),
          "bone tumour burden of half-maximal osteoclast-precursor recruitment"),
    Param("r_max", 2.83, "1", "set so that resorption is capped at (1 + r_max) / f_D = 6.1-fold, i.e. uNTx at "
          "most 150 nmol BCE/mmol Cr, the top of the band stated for untreated bone metastases (module "
          "docstring); tumour IL-6, IL-11, M-CSF and PTHrP recruit osteoclast precursors: Mundy 2002, Nat Rev "
          "Cancer 2:584; Roodman 2004, N Engl J Med 350:1655", (0.0, 1e3),
          "maximal tumour-driven recruitment of osteoclast precursors, in units of their basal influx"),
    Param("b_T", 0.8, "1", "assumption: reactive bone formation around metastases (what bone scans see; formation "
          "markers rise with resorption markers in bone metastases, Cook et al. 2006 Clin Cancer Res 12:3361: "
          "r = 0.67 between BAP and uNTx in metastatic prostate cancer), set so that whole-skeleton bone mass falls by "
          "~8 % in the first year at a constant lethal burden (1e12 cells) and ~2 % at 1e11 (module docstring)",
          (0.0, 1e3),
          "maximal tumour-driven osteoblast recruitment, in units of the basal recruitment"),
    Param("f_CTX", 0.10, "1", "assumption: at maximal suppression the median patient is near the CTX assay floor "
          "(0.049 ng/mL; 39-68 % below it at months 1-3 of Prolia, prolia_ctx_floor), ~10 % of a "
          "postmenopausal baseline of ~0.5 ng/mL (healthy_ctx range 0.124-1.020)", (0.0, 1.0),
          "serum CTX background not removed by osteoclast suppression"),
    Param("f_NTx", CALIBRATED["f_NTx"], "1", _src("xgeva_untx_w1", "xgeva_untx_m3")
          + "; Doshi et al. 2012's uNTx Imax of 93.7 % would put the floor at 6 %", (0.0, 1.0),
          "urinary NTx background not removed by osteoclast suppression"),
    Param("CTX_ref", 0.322, "ng/mL", "healthy_ctx_median: Cho et al. 2020, J Bone Metab 27(1), median of 461 "
          "healthy women (IQR 0.212-0.461)", (0.0, 100.0), "pre-treatment serum CTX of the patient"),
    Param("NTx_ref", 29.0, "nmol BCE/mmol Cr", "assumption: a patient at the healthy median, healthy_untx: "
          "237 healthy premenopausal US women, median 29 (middle 95 % 4-64), from a cross-sectional reference "
          "study not named in the shared clinical set (secondary; data/clinical_targets.csv)", (0.0, 1e4),
          "pre-treatment urinary NTx/creatinine of the patient"),
)

STATES = (
    State("L", "1", "RANKL available to RANK, relative to the untreated steady state"),
    State("P", "1", "RANK-bearing osteoclast precursors, relative to steady state"),
    State("Q", "1", "committed (fusing) pre-osteoclasts, relative to steady state"),
    State("C", "1", "active osteoclasts (resorption), relative to steady state"),
    State("R", "1", "responding osteoblasts, relative to steady state"),
    State("B", "1", "active osteoblasts (formation), relative to steady state"),
    State("z", "% of baseline", "bone mass (lumbar-spine BMD) relative to the start"),
)

INPUTS = (
    Input("rankl_inhibition", "1", "fraction of RANKL bound by denosumab (its RANKL_occupancy)"),
    Input("za_effect", "1/day", "zoledronic-acid osteoclast kill (its osteoclast_kill)"),
    Input("I_PTHrP", "pM/day", "PTHrP (or PTH) input besides the tumour's, acting as PTH (Lemaire 2004 units)"),
    Input("tumour_cells", "cells", "tumour cells in bone, set by another model (as vicious_cycle(tumour='input'))"),
)

OBSERVABLES = (
    Observable("CTX", "ng/mL", "serum CTX (resorption marker)"),
    Observable("CTX_pct", "% of pre-treatment", "serum CTX relative to the untreated steady state"),
    Observable("uNTx", "nmol BCE/mmol Cr", "urinary NTx/creatinine (resorption marker; Coleman 2005 categories)"),
    Observable("uNTx_pct", "% of pre-treatment", "urinary NTx relative to the untreated steady state"),
    Observable("P1NP", "% of baseline", "formation marker, proportional to active osteoblasts"),
    Observable("bone_mass", "% of baseline", "bone mass (BMD)"),
    Observable("RANKL_signal", "1", "RANKL signal to RANK, (1 - rankl_inhibition) L"),
    Observable("tgf_signal", "1", "matrix TGF-beta signal above baseline"),
    Observable("growth_boost", "1", "relative increase of tumour growth in bone from matrix TGF-beta/IGF (g_T s)"),
    Observable("tumour_PTHrP", "pM/day", "PTHrP secreted by the tumour cells in bone, rho_P tumour_cells / T_ref"),
)


def tumour_drive(p, tumour):
    """Tumour PTHrP (pM/day) and the saturating burden fraction ``h`` of ``tumour`` cells in
    bone (module docstring, "Tumour coupling")."""
    return p.rho_P * tumour / p.T_ref, tumour / (tumour + p.T_50)


def derivatives(y, p, theta, kill, pthrp, tumour=0.0) -> dict:
    """Right-hand side (module docstring) with plain arithmetic, so that NumPy floats (for
    :func:`calibrate`) and JAX arrays (the model) both work."""
    tumour_pthrp, h = tumour_drive(p, tumour)
    pthrp = pthrp + tumour_pthrp
    pi0 = p.S_P / (p.k_PTH * p.k6 / p.k5)
    pi = (pthrp + p.S_P) / (pthrp + p.k_PTH * p.k6 / p.k5)
    g = (pi / pi0) ** 2
    sigma = (1.0 - theta) * y.L
    withdrawal = 0.5 * ((1.0 - sigma) + abs(1.0 - sigma))  # max(1 - sigma, 0)
    return {
        "L": p.k_L * (g - y.L) - (p.k_int - p.k_L) * theta * y.L,
        "P": p.k_P * (1.0 + p.r_max * h - (1.0 - p.f_D) * y.P - p.f_D * sigma * y.P),
        "Q": p.k_Q * (sigma * y.P - y.Q),
        "C": p.d_C * (y.Q - (1.0 + p.k_S * withdrawal) * y.C) - p.s_ZA * kill * y.C,
        "R": p.k_R * (p.f_R + (1.0 - p.f_R) * y.C + p.b_T * h - y.R),
        "B": p.k_B * (y.R - y.B),
        "z": p.k_z * (y.B - y.C * y.z / 100.0),
    }


def steady_state(p, tumour=0.0, pthrp=0.0) -> dict:
    """The untreated steady state with a constant ``tumour`` (cells in bone) and extra PTHrP
    ``pthrp`` (pM/day), in closed form (module docstring): a dict of the states."""
    tumour_pthrp, h = tumour_drive(p, tumour)
    pi0 = p.S_P / (p.k_PTH * p.k6 / p.k5)
    i = pthrp + tumour_pthrp
    g = ((i + p.S_P) / (i + p.k_PTH * p.k6 / p.k5) / pi0) ** 2
    P = (1.0 + p.r_max * h) / (1.0 - p.f_D + p.f_D * g)
    C = g * P
    R = p.f_R + (1.0 - p.f_R) * C + p.b_T * h
    return dict(L=g, P=P, Q=C, C=C, R=R, B=R, z=100.0 * R / C)


class HumanBone(Model):
    """Human bone remodelling with a slow osteoclast-precursor pool (module docstring)."""

    def rhs(self, t, y, p, u):
        return derivatives(y, p, u.rankl_inhibition, u.za_effect, u.I_PTHrP, u.tumour_cells)

    def observables(self, t, y, p, u):
        ctx = 100.0 * (p.f_CTX + (1.0 - p.f_CTX) * y.C)
        ntx = 100.0 * (p.f_NTx + (1.0 - p.f_NTx) * y.C)
        pi_c = (y.C + p.f0 * p.c_s) / (y.C + p.c_s)
        s = jnp.maximum(pi_c * (1.0 + p.c_s) / (1.0 + p.f0 * p.c_s) - 1.0, 0.0)
        return {"CTX": p.CTX_ref * ctx / 100.0, "CTX_pct": ctx, "uNTx": p.NTx_ref * ntx / 100.0, "uNTx_pct": ntx,
                "P1NP": 100.0 * y.B, "bone_mass": y.z, "RANKL_signal": (1.0 - u.rankl_inhibition) * y.L,
                "tgf_signal": s, "growth_boost": p.g_T * s, "tumour_PTHrP": tumour_drive(p, u.tumour_cells)[0]}


def human_bone() -> HumanBone:
    """The human bone-remodelling core at its untreated, tumour-free steady state."""
    return HumanBone(
        name="human_bone", states=STATES, params=Params.from_specs(PARAMS),
        y0=jnp.array([1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 100.0]), inputs=INPUTS, observable_specs=OBSERVABLES,
        reference=PR + "; markers and drug effects " + _src(*TARGETS), stiff=False,
    )


# --------------------------------------------------------------------------------------
# Calibration (NumPy/SciPy on the drug profiles of the PK models; documents the defaults)
# --------------------------------------------------------------------------------------
def drug_profiles(dt: float = 0.05, years: float = 3.5) -> dict:
    """Drug inputs of the calibration scenarios on a grid of ``dt`` days: denosumab
    ``RANKL_occupancy`` for Prolia 60 mg Q6M, four doses then stopped (``prolia``) and
    continued (``prolia_cont``; osteoporosis PK), Xgeva 120 mg Q4W (bone-metastases PK),
    zoledronic acid ``osteoclast_kill`` for 4 mg Q4W."""
    from ...solvers import from_schedule, simulate
    from ..drugs import PROLIA_Q6M, XGEVA_Q4W, ZOLEDRONIC_ACID_Q4W, denosumab, zoledronic_acid

    t = np.arange(0.0, 365.0 * years + dt / 2, dt)
    opts = dict(rtol=1e-8, atol=1e-10, max_steps=200_000)
    prolia = simulate(denosumab(), t, regimen=from_schedule(PROLIA_Q6M, count=4), **opts)
    cont = simulate(denosumab(), t, regimen=from_schedule(PROLIA_Q6M, count=8), **opts)
    xgeva = simulate(denosumab("bone_metastases"), t, regimen=from_schedule(XGEVA_Q4W, count=40), **opts)
    za = simulate(zoledronic_acid(), t, regimen=from_schedule(ZOLEDRONIC_ACID_Q4W, count=40), **opts)
    return dict(t=t, prolia=np.asarray(prolia["RANKL_occupancy"]), prolia_cont=np.asarray(cont["RANKL_occupancy"]),
                xgeva=np.asarray(xgeva["RANKL_occupancy"]),
                za=np.asarray(za["osteoclast_kill"]))


def _solve(p, t, theta, kill):
    """Bone states on the grid ``t`` with inputs interpolated linearly (LSODA)."""
    from scipy.integrate import solve_ivp

    names = [s.name for s in STATES]

    def f(tt, yy):
        y = SimpleNamespace(**dict(zip(names, yy)))
        d = derivatives(y, p, np.interp(tt, t, theta), np.interp(tt, t, kill), 0.0)
        return [d[n] for n in names]

    sol = solve_ivp(f, (t[0], t[-1]), [1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 100.0], t_eval=t, method="LSODA",
                    rtol=1e-8, atol=1e-10, max_step=0.5)
    return SimpleNamespace(**dict(zip(names, sol.y)))


def predictions(p, prof: dict) -> dict:
    """Model value of each target in :data:`TARGETS` (and the 3-year BMD gain) for the
    parameters ``p`` (attribute access) and the drug profiles of :func:`drug_profiles`."""
    t, zero = prof["t"], np.zeros_like(prof["t"])

    def pct(C, f):
        return 100.0 * (f + (1.0 - f) * C)

    def at(x, day):
        return float(np.interp(day, t, x))

    pro = _solve(p, t, prof["prolia"], zero)
    xg = _solve(p, t, prof["xgeva"], zero)
    za = _solve(p, t, zero, prof["za"])
    ctx = pct(pro.C, p.f_CTX)
    after = t >= 3 * PROLIA_INTERVAL + 90.0  # after the last dose's effect (a 4th dose on day 547.5)
    return {
        "prolia_ctx_d3": at(ctx, 3.0), "prolia_ctx_m6": at(ctx, 182.0),
        "prolia_offset": float(ctx[after].max()),
        "xgeva_untx_w1": at(pct(xg.C, p.f_NTx), 7.0), "xgeva_untx_m3": at(pct(xg.C, p.f_NTx), 84.0),
        "za_untx_m3": at(pct(za.C, p.f_NTx), 84.0),
        "prolia_back_12m": at(ctx, 4 * PROLIA_INTERVAL + 365.0),
        "bmd_3y": at(pro.z, 3 * 365.0) - 100.0,
    }



def calibrate(prof: dict | None = None, start: dict | None = None) -> dict:
    """Least squares of :data:`FITTED` on :data:`TARGETS` (percent points, each weighted
    equally, plus a penalty on CTX more than 10 % above baseline 12 months after the missed
    fifth Prolia dose), from :data:`START` (round values near Peterson & Riggs 2010 where
    they have a counterpart); then ``k_z`` to the FREEDOM BMD gain (+9.2 % at 3 years,
    Prolia continued Q6M). Returns the fitted values by name: the defaults
    (:data:`CALIBRATED`) are its result, which it reproduces to ~1e-4 relative (about a
    minute, plus ~10 s for :func:`drug_profiles`)."""
    from scipy.optimize import brentq, least_squares

    prof = drug_profiles() if prof is None else prof
    start = START if start is None else start
    base = {s.name: float(s.value) for s in PARAMS}

    def params(x):
        return SimpleNamespace(**{**base, **dict(zip(FITTED, np.exp(x)))})

    def resid(x):
        pred = predictions(params(x), prof)
        back = max(pred["prolia_back_12m"] - 110.0, 0.0)  # back within 10 % of baseline (prolia_offset)
        return [pred[k] - v for k, (_, _, v) in TARGETS.items()] + [back]

    bounds = {s.name: s.bounds for s in PARAMS}
    lo = np.log([max(bounds[k][0], 1e-3) for k in FITTED])
    hi = np.log([bounds[k][1] for k in FITTED])
    x0 = np.clip(np.log([start[k] for k in FITTED]), lo + 1e-6, hi - 1e-6)
    fit = least_squares(resid, x0, bounds=(lo, hi), diff_step=1e-4)
    out = dict(zip(FITTED, np.exp(fit.x)))
    p = params(fit.x)
    full = dict(prof, prolia=prof["prolia_cont"])

    def bmd(kz):
        p.k_z = kz
        return predictions(p, full)["bmd_3y"] - 9.2

    out["k_z"] = brentq(bmd, 1e-4, 1.0, xtol=1e-8)
    return out
