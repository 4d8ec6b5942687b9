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
"""

from __future__ import annotations

from dataclasses import dataclass

from ._zoledronic_acid import INFUSION_DAYS


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

SCHEDULES = {s.name: s for s in (XGEVA_Q4W, XGEVA_Q4W_LOADING, PROLIA_Q6M, ZOLEDRONIC_ACID_Q4W,
                                  ZOLEDRONIC_ACID_Q12W, OPG_FC_TIW, ZOLEDRONIC_ACID_MOUSE_JOHNSON2011)}
