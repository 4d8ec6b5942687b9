"""EMT phenotype of the primary: epithelial (E), hybrid E/M (H), mesenchymal (M) fractions.

A linear three-state chain driven by a TGF-beta-like signal s (relative units; baseline
``tgf_base`` plus the model input ``tgf_beta``), partially reversible (MET)::

    E --k_EH(s)--> H --k_HM(s)--> M,     H --k_met--> E,   M --k_met--> H
    k_EH(s) = k_HM(s) = k_emt s / (s + K_tgf)

Fractions sum to one (the chain conserves E + H + M). Shedding (cells/day) follows the
phenotype: mesenchymal cells leave as single cells, hybrid E/M cells leave as clusters
(Jolly et al. 2015 Front Oncol 5:155; Aceto et al. 2014 Cell 158:1110), epithelial cells
hardly at all. Time scales: TGF-beta induces EMT over days (Lu et al. 2013 PNAS 110:18144;
in vitro complete EMT in ~3-7 days), so k_emt ~ 0.1-1 /day.
"""

from __future__ import annotations

from ..base import Param, State

SRC_JOLLY = "Jolly et al. 2015, Front Oncol 5:155 (hybrid E/M phenotype)"
SRC_LU = "Lu et al. 2013, PNAS 110:18144 (TGF-beta-driven EMT circuit, days time scale)"

STATES = (
    State("E", "1", "epithelial fraction of the primary"),
    State("H", "1", "hybrid E/M fraction of the primary"),
    State("M", "1", "mesenchymal fraction of the primary"),
)

PARAMS = (
    Param("k_emt", 0.2, "1/day", SRC_LU, (0.0, 10.0), "maximal EMT transition rate (range 0.1-1 /day)"),
    Param("k_met", 0.2, "1/day", SRC_LU, (0.0, 10.0), "MET (reverse) transition rate"),
    Param("K_tgf", 1.0, "rel. TGF-beta", SRC_LU, (1e-9, 1e3), "TGF-beta level for half-maximal EMT rate"),
    Param("tgf_base", 0.25, "rel. TGF-beta", SRC_LU, (0.0, 1e3),
          "baseline tumour TGF-beta (assumption: gives 16% hybrid and 3% mesenchymal cells at steady state)"),
)


def rates(s, p):
    """Forward EMT rate per step (1/day) at TGF-beta level ``s``."""
    return p.k_emt * s / (s + p.K_tgf)


def derivatives(y, p, s):
    """dE/dt, dH/dt, dM/dt (1/day) at TGF-beta level ``s``."""
    k = rates(s, p)
    flux_EH = k * y.E - p.k_met * y.H
    flux_HM = k * y.H - p.k_met * y.M
    return {"E": -flux_EH, "H": flux_EH - flux_HM, "M": flux_HM}
