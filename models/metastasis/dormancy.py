"""Disseminated tumour cells (DTCs) per organ: extravasation, death, dormancy, awakening.

    dD_o/dt = chi_S a_S,o S + chi_K c_K a_K,o K - (mu_D + kappa_eff,o) D_o
    kappa_eff,o = kappa_o (1 + inflammation) / (1 + I_o (1 - immunosuppression))

Arrested cells extravasate with probability chi (clusters: c_K cells each, seeding far
more efficiently per cell: Aceto et al. 2014, 23-50x); extravasated cells become dormant
single DTCs (Luzzi et al. 1998 Am J Pathol 153:865: >80% extravasate, most persist as
solitary dormant cells, 2% form micrometastases, 0.02% macrometastases). Dormant cells die
at mu_D or awaken at kappa_eff, which immune surveillance I_o holds down (immune-mediated
dormancy; Aguirre-Ghiso 2007 Nat Rev Cancer 7:834) and which inflammation or injury and
immune suppression (model inputs a user can set over time) raise. Each awakened cell
founds one overt metastasis (the inflow of the size-structured density).
"""

from __future__ import annotations

from ..base import Input, Param, State
from .organs import organ_rows

SRC_LUZZI = "Luzzi et al. 1998, Am J Pathol 153:865 (fate of extravasated cells)"
SRC_AGUIRRE = "Aguirre-Ghiso 2007, Nat Rev Cancer 7:834 (dormancy; years-to-decades latency)"
SRC_ACETO = "Aceto et al. 2014, Cell 158:1110 (clusters 23-50x more metastatic per cell)"
SRC_BRAUN = "Braun et al. 2005, NEJM 353:793 (bone-marrow DTCs in ~30% of breast cancer patients)"
SRC_COUMANS = ("Coumans et al. 2013, BMC Cancer 13:283 (about one metastasis per 6e7 shed cells; "
               "Willis et al. 2010 Cancer Res 70:4310: micrometastasis escape half-life >= 12 years)")

INPUTS = (
    Input("inflammation", "fold", "extra awakening from inflammation or injury (0: none; 1: doubles it)"),
    Input("immunosuppression", "1", "loss of immune control of dormancy (0: intact, 1: none)"),
)


def states(organs):
    return (State("D", "cells", "dormant DTCs per organ", shape=(len(organs),), dims=("organ",),
                  labels=tuple(organs)),)


def params(organs):
    n = (len(organs),)
    rows = organ_rows(organs)
    return (
        Param("chi_S", 0.1, "1", SRC_LUZZI, (0.0, 1.0),
              "single cells that extravasate and survive as DTCs (Luzzi: most extravasate, many die early)"),
        Param("chi_K", 1.0, "1", SRC_ACETO, (0.0, 1.0),
              "cluster cells that extravasate and survive as DTCs (10x singles here; clusters 23-50x overall)"),
        Param("mu_D", 0.01, "1/day", SRC_BRAUN, (0.0, 10.0),
              "death rate of dormant DTCs (assumption: months; DTCs persist for years in some patients)"),
        Param("kappa", tuple(r.awakening for r in rows), "1/day", SRC_COUMANS, (0.0, 10.0),
              "awakening rate per organ without immune control; 1e-7/day makes the breast preset found "
              "~1e-8 metastases per shed cell (Coumans 2013: 1.7e-8)", shape=n, labels=organs),
        Param("immune", tuple(r.immune for r in rows), "1", SRC_AGUIRRE, (0.0, 1e6),
              "immune control of dormancy per organ (awakening divided by 1 + immune)", shape=n, labels=organs),
    )


def awakening_rate(p, u):
    """Effective awakening rate per organ (1/day), raised by the user-set inputs."""
    return p.kappa * (1.0 + u.inflammation) / (1.0 + p.immune * (1.0 - u.immunosuppression))
