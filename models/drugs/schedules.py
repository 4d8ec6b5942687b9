"""Label dosing schedules as plain data (no solver code): what, where, how much, how often.

A :class:`Schedule` names the model state that receives the dose, the label amount (mg),
the infusion duration (0 for an injection) and the dosing interval (days). The solvers
turn it into a regimen with ``seedsoil.solvers.from_schedule(schedule, start=..., count=...)``,
where start day, interval and extra (loading) doses are numbers that ``jax.vmap`` can
sweep without recompiling.

Sources: Xgeva (denosumab 120 mg) and Prolia (denosumab 60 mg) US labels, section 2;
Zometa (zoledronic acid) US label, section 2.3 (4 mg IV over no less than 15 minutes every
3-4 weeks for bone metastases of solid tumours); every-12-weeks zoledronic acid:
Himelstein et al. 2017, JAMA 317:48 (CALGB 70604, non-inferior to every 4 weeks). Mouse
OPG-Fc: Canon et al. 2008, Clin Exp Metastasis 25:119 (0.3 or 3 mg/kg SC; three times a
week recalled from the methods, not checked), doses in mg/kg.

Mouse zoledronic acid in Johnson et al. 2011 (Bone 48:1328; MDA-MB-231 cells in the tibiae of
athymic nude mice, weekly in vivo micro-CT): what is known is that the drug is zoledronic
acid, given to a tumour group and a tumour-free group from day 6 (the abstract: "mice
undergoing bisphosphonate drug treatments"; the day-6 start from the digitised data of the
TIBD_microenvironment project, data/johnson2011_bone_za.csv, whose modellers switch the drug
on at day 6). The paper's dose, route and frequency could not be read; assumed here: 0.1 mg/kg
(100 ug/kg) SC once a week from day 6 (days 6, 13, 20, 27), the dose usually called
equivalent to 4 mg IV in humans (Labrinidis et al. 2009, Clin Cancer Res 15:3451: 100 ug/kg
weekly or once, in intratibial nude-mouse models; 100 ug/kg SC also e.g. Hung et al. 2011,
PLoS One 6:e19389). ``from_schedule(..., count=1)`` gives the single-dose variant; with the
mouse model's long skeletal retention the default kill differs little (4.5/day after one
dose, 4.9/day after four).

Systemic anticancer drugs (``seedsoil.models.drugs.systemic_drug``), doses in mg at the
reference body surface area :data:`BSA_REFERENCE` (1.8 m2; label doses are per m2):

* ``DOCETAXEL_Q3W``: docetaxel 100 mg/m2 (180 mg) IV over 1 hour every 3 weeks (Taxotere US
  label, section 2: breast cancer, 60-100 mg/m2 IV over 1 h every 3 weeks); give 6 cycles with
  ``from_schedule(DOCETAXEL_Q3W, count=6, part=...)``.
* ``DOCETAXEL_75_Q3W``: docetaxel 75 mg/m2 (135 mg) IV over 1 hour every 3 weeks, the adjuvant
  dose of TAC x 6 cycles (Martin et al. 2005, NEJM 352:2302; with doxorubicin and
  cyclophosphamide, which are not modelled here).
* ``CAPECITABINE_BID``: capecitabine 1250 mg/m2 (2250 mg) orally twice daily (Xeloda US label,
  section 2: 1250 mg/m2 twice daily for 2 weeks followed by a 1-week rest, 3-week cycles). One
  cycle is ``from_schedule(CAPECITABINE_BID, start=21 * k, count=28)`` (28 doses 12 h apart on
  days 1-14); cycles are added as regimens (``+``). A schedule holds one dosing interval, so
  the 2-weeks-on/1-week-off cycle is not one schedule (issue 22: regimens).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from ._zoledronic_acid import INFUSION_DAYS

#: Reference adult body surface area (m2) at which per-m2 label doses are written in mg:
#: 1.8 m2, the conventional adult reference (Sacco et al. 2010, PLoS One 5:e8933: mean BSA of
#: adult cancer patients in the UK 1.79 m2, women 1.70 m2; recalled, not checked).
BSA_REFERENCE = 1.8


@dataclass(frozen=True)
class Schedule:
    """A label dosing schedule.

    Attributes:
        name: label-style description.
        state: model state that receives the dose (the denosumab ``depot``, the zoledronic
            acid ``plasma``).
        amount: label dose in mg (mg/kg for the mouse OPG-Fc and zoledronic-acid schedules).
        interval: days between doses.
        duration: infusion duration in days (0: an injection, i.e. a bolus).
        loading: extra doses on these days after the start (e.g. Xgeva's days 8 and 15 for
            giant cell tumour of bone).
        source: where the schedule comes from.
    """

    name: str
    state: str
    amount: float
    interval: float
    duration: float = 0.0
    loading: tuple[float, ...] = ()
    source: str = ""

    def __post_init__(self):
        for field, value, ok, need in (
            ("amount", self.amount, lambda v: v >= 0, "finite and >= 0 (mg)"),
            ("interval", self.interval, lambda v: v > 0, "finite and > 0 (days)"),
            ("duration", self.duration, lambda v: v >= 0, "finite and >= 0 (days)"),
        ):
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) \
                    or not ok(value):
                raise ValueError(f"schedule {self.name!r}: {field} must be {need}; got {value!r}")
        if any(not (isinstance(t, (int, float)) and math.isfinite(t) and t >= 0) for t in self.loading):
            raise ValueError(f"schedule {self.name!r}: loading days must be finite and >= 0; got {self.loading!r}")


XGEVA_Q4W = Schedule("denosumab 120 mg SC every 4 weeks (Xgeva)", "depot", 120.0, 28.0,
                     source="Xgeva US label, section 2.1")
XGEVA_Q4W_LOADING = Schedule("denosumab 120 mg SC every 4 weeks with 120 mg on days 8 and 15 (Xgeva, GCTB)",
                             "depot", 120.0, 28.0, loading=(7.0, 14.0), source="Xgeva US label, section 2.2")
PROLIA_Q6M = Schedule("denosumab 60 mg SC every 6 months (Prolia)", "depot", 60.0, 182.5,
                      source="Prolia US label, section 2.1")
ZOLEDRONIC_ACID_Q4W = Schedule("zoledronic acid 4 mg IV over 15 min every 4 weeks (Zometa)", "plasma", 4.0, 28.0,
                               duration=INFUSION_DAYS, source="Zometa US label, section 2.3")
ZOLEDRONIC_ACID_Q12W = Schedule("zoledronic acid 4 mg IV over 15 min every 12 weeks", "plasma", 4.0, 84.0,
                                duration=INFUSION_DAYS, source="Himelstein et al. 2017, JAMA 317:48")

OPG_FC_TIW = Schedule("OPG-Fc 3 mg/kg SC three times a week (mouse; amount in mg/kg)", "depot", 3.0, 7.0 / 3.0,
                      source="Canon et al. 2008, Clin Exp Metastasis 25:119 (frequency recalled, not checked)")

ZOLEDRONIC_ACID_MOUSE_JOHNSON2011 = Schedule(
    "zoledronic acid 0.1 mg/kg SC weekly from day 6 (mouse, Johnson et al. 2011; amount in mg/kg)", "depot", 0.1, 7.0,
    source="Johnson et al. 2011, Bone 48:1328 (drug from day 6, digitised data); assumption: dose, SC route and weekly "
           "frequency (not read from the paper; 100 ug/kg as in Labrinidis et al. 2009, Clin Cancer Res 15:3451)")

#: Docetaxel infusion duration, days (1 hour; Taxotere US label, section 2).
DOCETAXEL_INFUSION_DAYS = 1.0 / 24.0

DOCETAXEL_Q3W = Schedule(
    f"docetaxel 100 mg/m2 IV over 1 h every 3 weeks ({100.0 * BSA_REFERENCE:g} mg at {BSA_REFERENCE} m2)",
    "central", 100.0 * BSA_REFERENCE, 21.0, duration=DOCETAXEL_INFUSION_DAYS,
    source="Taxotere (docetaxel) US label, section 2 (breast cancer: 60-100 mg/m2 IV over 1 hour every 3 weeks); "
           "mg at BSA_REFERENCE")
DOCETAXEL_75_Q3W = Schedule(
    f"docetaxel 75 mg/m2 IV over 1 h every 3 weeks ({75.0 * BSA_REFERENCE:g} mg at {BSA_REFERENCE} m2; adjuvant "
    "TAC, 6 cycles)", "central", 75.0 * BSA_REFERENCE, 21.0, duration=DOCETAXEL_INFUSION_DAYS,
    source="Martin et al. 2005, NEJM 352:2302 (adjuvant TAC: docetaxel 75 mg/m2 every 3 weeks x 6); Taxotere US "
           "label, section 2; mg at BSA_REFERENCE")
CAPECITABINE_BID = Schedule(
    f"capecitabine 1250 mg/m2 orally twice daily ({1250.0 * BSA_REFERENCE:g} mg at {BSA_REFERENCE} m2; days 1-14 "
    "of 3-week cycles: count=28 per cycle)", "depot", 1250.0 * BSA_REFERENCE, 0.5,
    source="Xeloda (capecitabine) US label, section 2 (1250 mg/m2 twice daily for 2 weeks, then 1 week rest); "
           "mg at BSA_REFERENCE")

SCHEDULES = {s.name: s for s in (XGEVA_Q4W, XGEVA_Q4W_LOADING, PROLIA_Q6M, ZOLEDRONIC_ACID_Q4W,
                                  ZOLEDRONIC_ACID_Q12W, OPG_FC_TIW, ZOLEDRONIC_ACID_MOUSE_JOHNSON2011,
                                  DOCETAXEL_Q3W, DOCETAXEL_75_Q3W, CAPECITABINE_BID)}
