"""Lemaire et al. 2004: osteoblast/osteoclast interactions through RANKL, OPG and PTH.

Source: Lemaire V, Tobin FL, Greller LD, Cho CR, Suva LJ (2004). "Modeling the
interactions between osteoblast and osteoclast activities in bone remodeling."
J Theor Biol 229:293-309. BioModels BIOMD0000000278.

States (all in pM): responding osteoblasts R, active osteoblasts B, active osteoclasts C.
Receptor binding (RANK-RANKL-OPG, PTH-receptor) is in quasi-steady state and enters
through three occupancy ratios (paper eqs. 5-7 and Appendix)::

    pi_C = (C + f0 C_s) / (C + C_s)                                       (TGF-beta action)
    pi_P = (I_P/k_P + S_P/k_P) / (I_P/k_P + k6/k5)                        (PTH receptor)
    pi_L = (k3/k4) K_LP pi_P B (1 + I_L/r_L)
           / (1 + k3 K/k4 + k1/(k2 k_O) (K_OP R / pi_P + I_O))            (RANKL-RANK)

    dR/dt = D_R pi_C - (D_B/pi_C) R,   with D_B = f0 d_B
    dB/dt = (D_B/pi_C) R - k_B B
    dC/dt = D_C pi_L - D_A pi_C C

Inputs (zero unless a regimen sets them; the paper's "external dosing terms"):
``I_P`` PTH infusion, ``I_O`` OPG infusion, ``I_L`` RANKL infusion, all in pM/day.
Default parameters: paper Table 1 (as encoded in BIOMD0000000278). Published steady state
(paper, section 3): R = 7.734e-4, B = 7.283e-4, C = 9.127e-4 pM, which is also ``y0``.
"""

from __future__ import annotations

import jax.numpy as jnp

from ..base import Input, Model, Observable, Param, Params, State

SOURCE = "Lemaire et al. 2004, J Theor Biol 229:293, Table 1 (BIOMD0000000278)"

PARAMS = (
    Param("D_R", 7e-4, "pM/day", SOURCE, description="differentiation rate of osteoblast progenitors"),
    Param("d_B", 0.7, "1/day", SOURCE, description="differentiation rate of responding osteoblasts"),
    Param("f0", 0.05, "1", SOURCE, (0.0, 1.0), "fixed proportion (TGF-beta action floor)"),
    Param("D_C", 2.1e-3, "pM/day", SOURCE, description="differentiation rate of osteoclast precursors"),
    Param("D_A", 0.7, "1/day", SOURCE, description="rate of osteoclast apoptosis caused by TGF-beta"),
    Param("k_B", 0.189, "1/day", SOURCE, description="rate of elimination of active osteoblasts"),
    Param("C_s", 5e-3, "pM", SOURCE, description="osteoclast level for half-maximal TGF-beta effect"),
    Param("K", 10.0, "pM", SOURCE, description="fixed concentration of RANK"),
    Param("k1", 1e-2, "1/(pM day)", SOURCE, description="rate of OPG-RANKL binding"),
    Param("k2", 10.0, "1/day", SOURCE, description="rate of OPG-RANKL unbinding"),
    Param("k3", 5.8e-4, "1/(pM day)", SOURCE, description="rate of RANK-RANKL binding"),
    Param("k4", 1.7e-2, "1/day", SOURCE, description="rate of RANK-RANKL unbinding"),
    Param("k5", 0.02, "1/(pM day)", SOURCE, description="rate of PTH binding with its receptor"),
    Param("k6", 3.0, "1/day", SOURCE, description="rate of PTH unbinding"),
    Param("K_LP", 3e6, "pM/pM", SOURCE, description="maximum number of RANKL on an osteoblast"),
    Param("K_OP", 2e5, "(pM/day)/pM", SOURCE, description="maximal OPG production per responding osteoblast"),
    Param("k_O", 0.35, "1/day", SOURCE, description="rate of OPG elimination"),
    Param("k_P", 86.0, "1/day", SOURCE, description="rate of PTH elimination"),
    Param("S_P", 250.0, "pM/day", SOURCE, description="rate of systemic PTH synthesis"),
    Param("r_L", 1e3, "pM/day", SOURCE, description="rate of RANKL production and elimination"),
)

STATES = (
    State("R", "pM", "responding osteoblasts"),
    State("B", "pM", "active osteoblasts"),
    State("C", "pM", "active osteoclasts"),
)

INPUTS = (
    Input("I_P", "pM/day", "PTH infusion rate"),
    Input("I_O", "pM/day", "OPG infusion rate"),
    Input("I_L", "pM/day", "RANKL infusion rate"),
)

OBSERVABLES = (
    Observable("pi_C", "1", "TGF-beta occupancy ratio"),
    Observable("pi_P", "1", "PTH receptor occupancy ratio"),
    Observable("pi_L", "1", "RANK occupancy ratio"),
    Observable("B_over_C", "1", "osteoblast to osteoclast ratio (formation/resorption balance)"),
)


def occupancies(y, p, u):
    """The three quasi-steady-state occupancy ratios (pi_C, pi_P, pi_L) of Lemaire 2004."""
    pi_C = (y.C + p.f0 * p.C_s) / (y.C + p.C_s)
    pi_P = (u.I_P / p.k_P + p.S_P / p.k_P) / (u.I_P / p.k_P + p.k6 / p.k5)
    opg = p.k1 / (p.k2 * p.k_O) * (p.K_OP * y.R / pi_P + u.I_O)
    pi_L = (p.k3 / p.k4) * p.K_LP * pi_P * y.B * (1.0 + u.I_L / p.r_L) / (1.0 + p.k3 * p.K / p.k4 + opg)
    return pi_C, pi_P, pi_L


def cell_derivatives(y, p, pi_C, pi_L, extra_osteoclast_death=0.0):
    """dR/dt, dB/dt, dC/dt (pM/day) of Lemaire 2004 given the occupancy ratios; models
    built on this core (``seedsoil.models.bone``) add osteoclast death (1/day) through the last
    argument."""
    D_B = p.f0 * p.d_B
    return {
        "R": p.D_R * pi_C - D_B / pi_C * y.R,
        "B": D_B / pi_C * y.R - p.k_B * y.B,
        "C": p.D_C * pi_L - (p.D_A * pi_C + extra_osteoclast_death) * y.C,
    }


class Lemaire2004(Model):
    """Lemaire 2004 RANKL/OPG/PTH bone-cell model (equations in the module docstring)."""

    def rhs(self, t, y, p, u):
        pi_C, _, pi_L = occupancies(y, p, u)
        return cell_derivatives(y, p, pi_C, pi_L)

    def observables(self, t, y, p, u):
        pi_C, pi_P, pi_L = occupancies(y, p, u)
        return {"pi_C": pi_C, "pi_P": pi_P, "pi_L": pi_L, "B_over_C": y.B / y.C}


def lemaire2004() -> Lemaire2004:
    """Lemaire 2004 with Table 1 parameters, started at its published steady state."""
    return Lemaire2004(
        name="lemaire2004",
        states=STATES,
        params=Params.from_specs(PARAMS),
        y0=jnp.array([7.734e-4, 7.283e-4, 9.127e-4]),
        inputs=INPUTS,
        observable_specs=OBSERVABLES,
        reference=SOURCE,
    )
