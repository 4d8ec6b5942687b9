"""Komarova et al. 2003: osteoclast/osteoblast power-law model with bone mass.

Source: Komarova SV, Smith RJ, Dixon SJ, Sims SM, Wahl LM (2003). "Mathematical model
predicts a critical role for osteoclast autocrine regulation in the control of bone
remodeling." Bone 33:206-215. BioModels BIOMD0000000148.

Equations (paper eqs. 1-3; x1 osteoclasts, x2 osteoblasts, z bone mass)::

    dx1/dt = alpha1 x1^g11 x2^g21 - beta1 x1
    dx2/dt = alpha2 x1^g12 x2^g22 - beta2 x2
    dz/dt  = -k1 max(x1 - x1_bar, 0) + k2 max(x2 - x2_bar, 0)

with the non-trivial steady state (paper eq. 4)::

    gamma  = g12 g21 - (1 - g11)(1 - g22)
    x1_bar = (beta1/alpha1)^((1-g22)/gamma) (beta2/alpha2)^(g21/gamma)
    x2_bar = (beta1/alpha1)^(g12/gamma)     (beta2/alpha2)^((1-g11)/gamma)

Only cells above their steady-state level resorb or form bone (the max(., 0) terms).
Default parameters: paper Table 1 / Fig. 2 (per day); initial state (11, 212, 100) as in
BIOMD0000000148 (a single remodeling cycle started by a rise in osteoclasts).
"""

from __future__ import annotations

import jax.numpy as jnp

from ..base import Model, Observable, Param, Params, State, positive_part

SOURCE = "Komarova et al. 2003, Bone 33:206, Table 1 (BIOMD0000000148)"
INF = float("inf")

PARAMS = (
    Param("alpha1", 3.0, "cells^(1-g11-g21)/day", SOURCE, description="osteoclast production rate"),
    Param("alpha2", 4.0, "cells^(1-g12-g22)/day", SOURCE, description="osteoblast production rate"),
    Param("beta1", 0.2, "1/day", SOURCE, description="osteoclast removal rate"),
    Param("beta2", 0.02, "1/day", SOURCE, description="osteoblast removal rate"),
    Param("g11", 0.5, "1", SOURCE, (-INF, INF), "osteoclast autocrine effect"),
    Param("g21", -0.5, "1", SOURCE, (-INF, INF), "osteoblast paracrine effect on osteoclasts"),
    Param("g12", 1.0, "1", SOURCE, (-INF, INF), "osteoclast paracrine effect on osteoblasts"),
    Param("g22", 0.0, "1", SOURCE, (-INF, INF), "osteoblast autocrine effect"),
    Param("k1", 0.24, "%/cell/day", SOURCE, description="bone resorbed per osteoclast above steady state"),
    Param("k2", 0.0017, "%/cell/day", SOURCE, description="bone formed per osteoblast above steady state"),
)

STATES = (
    State("x1", "cells", "osteoclasts"),
    State("x2", "cells", "osteoblasts"),
    State("z", "% of initial", "bone mass"),
)

OBSERVABLES = (
    Observable("x1_bar", "cells", "steady-state osteoclasts (paper eq. 4)"),
    Observable("x2_bar", "cells", "steady-state osteoblasts (paper eq. 4)"),
)


def steady_state(p) -> tuple:
    """Analytic non-trivial steady state ``(x1_bar, x2_bar)`` of Komarova 2003 eq. 4."""
    gamma = p.g12 * p.g21 - (1.0 - p.g11) * (1.0 - p.g22)
    r1 = p.beta1 / p.alpha1
    r2 = p.beta2 / p.alpha2
    x1 = r1 ** ((1.0 - p.g22) / gamma) * r2 ** (p.g21 / gamma)
    x2 = r1 ** (p.g12 / gamma) * r2 ** ((1.0 - p.g11) / gamma)
    return x1, x2


class Komarova2003(Model):
    """Komarova 2003 bone-remodeling model (see module docstring for equations and units)."""

    def rhs(self, t, y, p, u):
        x1_bar, x2_bar = steady_state(p)
        return {
            "x1": p.alpha1 * y.x1**p.g11 * y.x2**p.g21 - p.beta1 * y.x1,
            "x2": p.alpha2 * y.x1**p.g12 * y.x2**p.g22 - p.beta2 * y.x2,
            "z": -p.k1 * positive_part(y.x1 - x1_bar) + p.k2 * positive_part(y.x2 - x2_bar),
        }

    def observables(self, t, y, p, u):
        x1_bar, x2_bar = steady_state(p)
        return {"x1_bar": x1_bar, "x2_bar": x2_bar}


def komarova2003() -> Komarova2003:
    """Komarova 2003 with published parameters and the BIOMD0000000148 initial state
    (x1 = 11 cells, x2 = 212 cells, z = 100 %)."""
    return Komarova2003(
        name="komarova2003",
        states=STATES,
        params=Params.from_specs(PARAMS),
        y0=jnp.array([11.0, 212.0, 100.0]),
        observable_specs=OBSERVABLES,
        reference=SOURCE,
    )
