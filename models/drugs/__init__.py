"""Drug pharmacokinetic (PD-ready) models, doses in label units (mg), time in days.

* :func:`denosumab`: SC denosumab, two-compartment population PK with quasi-steady-state
  target-mediated disposition on RANKL (Sutjandra 2011; Gibiansky 2012), RANKL occupancy
  and bone-resorption-marker read-outs.
* :func:`zoledronic_acid`: IV zoledronic acid, plasma / soft tissue / bone surface / urine,
  calibrated to the Zometa label's three-phase disposition and 24-h urinary recovery.
"""

from .denosumab import Denosumab, denosumab
from .zoledronic_acid import ZoledronicAcid, zoledronic_acid

__all__ = ["Denosumab", "ZoledronicAcid", "denosumab", "zoledronic_acid"]
