"""Ayati et al. 2010: bone remodeling with tumour (myeloma) modulation and bone mass.

Source: Ayati BP, Edwards CM, Webb GF, Wikswo JP (2010). "A mathematical model of bone
remodeling dynamics for normal bone cell populations and myeloma bone disease."
Biology Direct 5:28. BioModels BIOMD0000000402 (tumour) and BIOMD0000000403 (tumour and
drug treatment from day 600).

The Komarova 2003 power-law model, with exponents modulated by tumour density T
(paper eqs. 6-9; T in % of its carrying capacity L_T)::

    dC/dt = alpha1 C^(g11 (1 + r11 T/L_T)) B^(g21 (1 + r21 T/L_T)) - beta1 C
    dB/dt = alpha2 C^(g12 / (1 + r12 T/L_T)) B^(g22 - r22 T/L_T) - (beta2 - V1) B
    dT/dt = (gamma_T - V2) T ln(L_T / T)
    dz/dt = -k1 max(C - C_bar, 0) + k2 max(B - B_bar, 0)

with the bone-mass thresholds evaluated, exactly as published in BIOMD0000000402/403, at
full tumour burden (T = L_T)::

    gamma = g12/(1+r12) g21 (1+r21) - (1 - g11 (1+r11)) (1 - g22 + r22)
    C_bar = (beta1/alpha1)^((1 - g22 + r22)/gamma) (beta2/alpha2)^(g21 (1+r21)/gamma)
    B_bar = (beta1/alpha1)^(g12/(1+r12)/gamma) (beta2/alpha2)^((1 - g11 (1+r11))/gamma)

Drug (BIOMD0000000403): V1 = v1 and V2 = v2 while the treatment input ``drug`` is 1,
which the model switches on at day ``t_drug`` (600 in the paper); V1 slows osteoblast
removal, V2 slows tumour growth. With g11 = 1.1 the tumour-free steady state is unstable
and the tumour-free bone cells cycle periodically (paper Fig. 2; from the published
initial state the period is about 356 days). The orbit is closed but not attracting: its
amplitude depends on the initial state.

Numerics: osteoclasts fall to about 1e-5 cells between bursts and the timing of the next
burst depends on log(C) at the trough, so the absolute tolerance on C must sit far below
the trough (atol 1e-12 already shifts a burst by about 3e-4 in relative terms; use
rtol 1e-12, atol 1e-16 for reference-quality solutions).
"""

from __future__ import annotations

from types import SimpleNamespace

import jax.numpy as jnp

from ..base import Input, Model, Observable, Param, Params, State, positive_part, x_log_ratio
from ._komarova2003 import steady_state as komarova_steady_state

SOURCE = "Ayati et al. 2010, Biology Direct 5:28 (BIOMD0000000402)"
SOURCE_DRUG = "Ayati et al. 2010, Biology Direct 5:28 (BIOMD0000000403)"
INF = float("inf")

PARAMS = (
    Param("alpha1", 3.0, "cells^(1-g11-g21)/day", SOURCE, description="osteoclast production rate"),
    Param("alpha2", 4.0, "cells^(1-g12-g22)/day", SOURCE, description="osteoblast production rate"),
    Param("beta1", 0.2, "1/day", SOURCE, description="osteoclast removal rate"),
    Param("beta2", 0.02, "1/day", SOURCE, description="osteoblast removal rate"),
    Param("g11", 1.1, "1", SOURCE, (-INF, INF), "osteoclast autocrine effect"),
    Param("g21", -0.5, "1", SOURCE, (-INF, INF), "osteoblast paracrine effect on osteoclasts"),
    Param("g12", 1.0, "1", SOURCE, (-INF, INF), "osteoclast paracrine effect on osteoblasts"),
    Param("g22", 0.0, "1", SOURCE, (-INF, INF), "osteoblast autocrine effect"),
    Param("k1", 0.0748, "%/cell/day", SOURCE, description="bone resorbed per osteoclast above C_bar"),
    Param("k2", 0.0006395, "%/cell/day", SOURCE, description="bone formed per osteoblast above B_bar"),
    Param("gamma_T", 0.005, "1/day", SOURCE, description="tumour (Gompertz) growth rate"),
    Param("L_T", 100.0, "% of max", SOURCE, description="tumour carrying capacity"),
    Param("r11", 0.005, "1", SOURCE, (-INF, INF), "tumour effect on osteoclast autocrine signalling"),
    Param("r21", 0.0, "1", SOURCE, (-INF, INF), "tumour effect on osteoblast-to-osteoclast signalling"),
    Param("r12", 0.0, "1", SOURCE, (0.0, INF), "tumour effect on osteoclast-to-osteoblast signalling"),
    Param("r22", 0.2, "1", SOURCE, (-INF, INF), "tumour effect on osteoblast autocrine signalling"),
    Param("v1", 0.0, "1/day", SOURCE_DRUG, description="drug reduction of osteoblast removal (0.001 in 403)"),
    Param("v2", 0.0, "1/day", SOURCE_DRUG, description="drug reduction of tumour growth (0.008 in 403)"),
    Param("t_drug", 600.0, "day", SOURCE_DRUG, description="day treatment starts"),
)

STATES = (
    State("C", "cells", "osteoclasts"),
    State("B", "cells", "osteoblasts"),
    State("z", "% of initial", "bone mass"),
    State("T", "% of max", "tumour density"),
)

INPUTS = (Input("drug", "1", "treatment on (1) or off (0); the model sets it from day t_drug"),)

OBSERVABLES = (
    Observable("C_bar", "cells", "osteoclast threshold for resorption"),
    Observable("B_bar", "cells", "osteoblast threshold for formation"),
)


def thresholds(p) -> tuple:
    """``(C_bar, B_bar)`` of BIOMD0000000402 (Komarova steady state at T = L_T)."""
    at_capacity = SimpleNamespace(  # the exponents of the rhs at T = L_T
        alpha1=p.alpha1, alpha2=p.alpha2, beta1=p.beta1, beta2=p.beta2,
        g11=p.g11 * (1.0 + p.r11), g21=p.g21 * (1.0 + p.r21), g12=p.g12 / (1.0 + p.r12), g22=p.g22 - p.r22,
    )
    return komarova_steady_state(at_capacity)


class Ayati2010(Model):
    """Ayati 2010 bone/tumour model (equations, units and sources in the module docstring)."""

    def rhs(self, t, y, p, u):
        tau = y.T / p.L_T
        C_bar, B_bar = thresholds(p)
        V1 = p.v1 * u.drug
        V2 = p.v2 * u.drug
        return {
            "C": p.alpha1 * y.C ** (p.g11 * (1 + p.r11 * tau)) * y.B ** (p.g21 * (1 + p.r21 * tau)) - p.beta1 * y.C,
            "B": p.alpha2 * y.C ** (p.g12 / (1 + p.r12 * tau)) * y.B ** (p.g22 - p.r22 * tau) - (p.beta2 - V1) * y.B,
            "z": -p.k1 * positive_part(y.C - C_bar) + p.k2 * positive_part(y.B - B_bar),
            "T": (p.gamma_T - V2) * x_log_ratio(y.T, p.L_T),
        }

    def scheduled_inputs(self, t, p):
        return {"drug": jnp.where(t >= p.t_drug, 1.0, 0.0)}

    def breakpoints(self, p):
        return jnp.reshape(p.t_drug, (1,))

    def observables(self, t, y, p, u):
        C_bar, B_bar = thresholds(p)
        return {"C_bar": C_bar, "B_bar": B_bar}


def ayati2010(drug: bool = False) -> Ayati2010:
    """Ayati 2010 with published parameters.

    ``drug=False``: BIOMD0000000402, initial state C=15, B=316, z=100, T=1.
    ``drug=True``: BIOMD0000000403, treatment from day 600 with v1 = 0.001/day,
    v2 = 0.008/day, initial state C=13, B=300, z=100, T=1.
    For the tumour-free model set the initial tumour to zero: ``.with_y0(T=0.0)``.
    """
    params = Params.from_specs(PARAMS)
    if drug:
        params = params.replace(v1=0.001, v2=0.008)
        y0 = jnp.array([13.0, 300.0, 100.0, 1.0])
    else:
        y0 = jnp.array([15.0, 316.0, 100.0, 1.0])
    return Ayati2010(
        name="ayati2010_drug" if drug else "ayati2010",
        states=STATES,
        params=params,
        y0=y0,
        inputs=INPUTS,
        observable_specs=OBSERVABLES,
        reference=SOURCE_DRUG if drug else SOURCE,
    )
