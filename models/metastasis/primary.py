"""Primary tumour: growth law (Gompertz by default), resection as a regimen event.

State ``P``: primary tumour cells. Growth laws (chosen by name, static):

* ``gompertz``    dP/dt = r_P P ln(K_P / P)          (Norton 1988; Benzekry et al. 2014)
* ``exponential`` dP/dt = r_P P
* ``logistic``    dP/dt = r_P P (1 - P / K_P)
* ``power``       dP/dt = r_P P^gamma_P               (Hart et al. 1998; Benzekry 2014)

Systemic therapy: the cascade's input ``systemic_kill`` (1/day; a drug's ``kill`` observable,
``seedsoil.models.drugs.systemic_drug``) removes primary cells at that rate,
``dP/dt = growth(P) - systemic_kill P`` (log-kill of proliferating cells; Skipper et al. 1964,
Cancer Chemother Rep 35:1). The primary is taken as fully exposed (penetration 1).

Resection is ``seedsoil.solvers.scale("P", day, residual_fraction)``: the burden drops to the
residual fraction at that time (1e-3 for an R0 resection leaving microscopic disease is a
common modelling choice; 0 for a cure).

Diagnosis: the cancer is diagnosed when the primary reaches ``P_diagnosis`` cells (observable
``primary_relative_to_diagnosis`` = P / P_diagnosis reaches 1). A cascade built from diagnosis
(the default, ``P0`` = 1e9 cells at t = 0) does not use it; one built from tumour onset
(``cascade(..., onset=...)``) declares the outcome ``diagnosis`` on it, and
``seedsoil.solvers.virtual_trial(start="diagnosis")`` starts each patient on their own day of
diagnosis, with the cells disseminated before it.
"""

from __future__ import annotations

import jax.numpy as jnp

from ..base import Param, State, x_log_ratio

GROWTH_LAWS = ("gompertz", "exponential", "logistic", "power")

SRC_BENZEKRY = "Benzekry et al. 2014, PLoS Comput Biol 10:e1003800 (tumour growth laws)"
SRC_NORTON = "Norton 1988, Cancer Res 48:7067 (Gompertzian breast cancer growth)"
SRC_DIAGNOSIS = ("the size at t = 0 of the cascade built from diagnosis (P0 = 1e9 cells, ~1 g at 1e9 cells/g; "
                 "Del Monte 2009, Cell Cycle 8:505), on which bone_metastasis('breast') is calibrated")

STATES = (State("P", "cells", "primary tumour"),)

PARAMS = (
    Param("r_P", 6e-4, "1/day", SRC_NORTON, (0.0, 1.0),
          "primary growth rate (Gompertz r ln(K/P) is the specific rate: ~150-day doubling at 1e9 cells; "
          "breast doubling times ~50-300 days, Friberg & Mattson 1997 J Surg Oncol 65:284)"),
    Param("K_P", 3e12, "cells", SRC_NORTON, (1.0, 1e14),
          "primary carrying capacity (~3 kg; Norton 1988 fitted plateau ~1e12-1e13 cells)"),
    Param("gamma_P", 2.0 / 3.0, "1", SRC_BENZEKRY, (0.0, 1.0), "power-law growth exponent (power law only)"),
    Param("P_diagnosis", 1e9, "cells", SRC_DIAGNOSIS, (1.0, 1e14),
          "primary size at diagnosis (1e9 cells ~ 1 cm^3, 1.2 cm across); used by models built from onset"),
)


def growth(law: str, P, p):
    """dP/dt (cells/day) under the named growth law."""
    if law == "gompertz":
        return p.r_P * x_log_ratio(P, p.K_P)
    if law == "exponential":
        return p.r_P * P
    if law == "logistic":
        return p.r_P * P * (1.0 - P / p.K_P)
    if law == "power":
        return p.r_P * jnp.maximum(P, 0.0) ** p.gamma_P
    raise ValueError(f"unknown growth law {law!r}; choose one of {GROWTH_LAWS}")


def killed(P, kill):
    """Cells/day removed from the primary by a systemic kill rate ``kill`` (1/day): ``kill P``."""
    return kill * P


def doubling_time(law: str, P, p):
    """Volume doubling time (days) at size ``P``: ln 2 over the specific growth rate
    (dP/dt) / P, the quantity clinical series report from two mammograms (Zhang et al. 2017,
    Med Sci Monit 23:3147: median 164 days). Evaluated at ``max(P, 1)`` cell, so that it stays
    defined after a complete resection; where the tumour does not grow (at or above its
    plateau) the specific rate is floored at 1e-12/day, i.e. a doubling time of ~7e11 days."""
    size = jnp.maximum(P, 1.0)
    return jnp.log(2.0) / jnp.maximum(growth(law, size, p) / size, 1e-12)
