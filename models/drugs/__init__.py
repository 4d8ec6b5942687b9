"""Drug pharmacokinetic (PD-ready) models, doses in label units (mg), time in days.

* :func:`denosumab`: SC denosumab, two-compartment population PK with quasi-steady-state
  target-mediated disposition on RANKL (Sutjandra 2011; Gibiansky 2012), RANKL occupancy
  and bone-resorption-marker read-outs.
* :func:`zoledronic_acid`: IV zoledronic acid, plasma / soft tissue / bone surface / urine,
  calibrated to the Zometa label's disposition, urinary recovery and the 4526-h skeletal
  retention phase (Chen 2002).
* :func:`zoledronic_acid_mouse` (= ``zoledronic_acid("mouse")``): the same structure in the
  mouse, doses in mg/kg IV or SC (depot), scaled allometrically from the human calibration,
  with rodent bisphosphonate PK as checks; dosing of Johnson et al. 2011 as data.
* :func:`opg_fc`: mouse OPG-Fc (RANKL decoy of mouse studies), SC PK with a
  RANKL-inhibition read-out to fit to Canon et al. 2008.
* :func:`systemic_drug`: a generic systemic anticancer drug (chemotherapy or targeted agent),
  one- or two-compartment PK, IV or oral, with an Emax kill rate on proliferating cells for
  the cascade's ``systemic_kill``; docetaxel (Onoue 2016) and capecitabine (Xu 2021) sets.
* label dosing schedules as data (``XGEVA_Q4W``, ``PROLIA_Q6M``, ``ZOLEDRONIC_ACID_Q4W``,
  ``DOCETAXEL_Q3W``, ``CAPECITABINE_BID``, ...), turned into regimens by
  ``seedsoil.solvers.from_schedule``.
"""

from ._denosumab import Denosumab, denosumab
from ._opg_fc import OPGFc, opg_fc
from ._systemic import AGENTS, SystemicDrug, systemic_drug
from ._zoledronic_acid import ZoledronicAcid, zoledronic_acid
from ._zoledronic_acid_mouse import ZoledronicAcidMouse, zoledronic_acid_mouse
from .schedules import (
    BSA_REFERENCE,
    CAPECITABINE_BID,
    DOCETAXEL_75_Q3W,
    DOCETAXEL_Q3W,
    OPG_FC_TIW,
    PROLIA_Q6M,
    SCHEDULES,
    XGEVA_Q4W,
    XGEVA_Q4W_LOADING,
    ZOLEDRONIC_ACID_MOUSE_JOHNSON2011,
    ZOLEDRONIC_ACID_Q4W,
    ZOLEDRONIC_ACID_Q12W,
    Schedule,
)

__all__ = [
    "AGENTS", "BSA_REFERENCE", "CAPECITABINE_BID", "DOCETAXEL_75_Q3W", "DOCETAXEL_Q3W", "SystemicDrug",
    "systemic_drug",
    "Denosumab", "OPGFc", "OPG_FC_TIW", "PROLIA_Q6M", "SCHEDULES", "Schedule", "XGEVA_Q4W", "XGEVA_Q4W_LOADING",
    "ZOLEDRONIC_ACID_MOUSE_JOHNSON2011", "ZOLEDRONIC_ACID_Q12W",
    "ZOLEDRONIC_ACID_Q4W", "ZoledronicAcid", "ZoledronicAcidMouse", "denosumab", "opg_fc", "zoledronic_acid",
    "zoledronic_acid_mouse",
]
