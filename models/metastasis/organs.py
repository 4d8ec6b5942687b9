"""Organs as an array axis: blood routing, organotropism, niche pre-conditioning.

Each organ is a row of data (:class:`Organ`); a model's organ tuple picks rows, and every
per-organ parameter is an array over that axis. Adding an organ is adding a row.

Arrest of circulating cells in organ o (1/day)::

    a_S,o = k_circ * q_o * E_o * w_o * (1 + R_o)                        (single cells)
    a_K,o = k_circ * q_o * min(1, f_K E_o) * w_o * (1 + R_o)            (clusters)

* k_circ: circulations per day (cardiac output / blood volume, ~1440/day);
* q_o: fraction of the cardiac output through organ o per circulation. Venous blood
  returns through the lung, so the lung sees every circulating cell each pass (q = 1):
  venous CTCs meet the lung first. Gut primaries drain through the portal vein, so a
  fraction ``portal`` of their viable shed cells meets the liver first and is captured
  there with probability ``E_portal`` before reaching the pool;
* E_o: per-pass arrest probability of a single cell (capillary size, sinusoidal flow);
  clusters lodge f_K times more readily (size restriction);
* w_o: organotropism weight of the cancer type (chemokine receptor-ligand match, e.g.
  CXCR4 on breast cancer cells and CXCL12 in lung, liver, bone marrow; Mueller et al.
  2001 Nature 410:50), set by the presets;
* R_o: niche receptivity, pre-conditioned by tumour exosomes (Peinado et al. 2012 Nat Med
  18:883; Hoshino et al. 2015 Nature 527:329) and decaying::

    dR_o/dt = k_niche * iota_o * P / (P + P_ref) - delta_niche * R_o

  (saturating in the primary size; R_o rises at most to k_niche iota_o / delta_niche).

Drug penetration (``penetration``, dimensionless, per organ): the fraction of a systemic
drug's kill rate that reaches overt metastases in organ o (the cascade's input
``systemic_kill`` times ``penetration_o``; model.py). 1 where tumour vessels are leaky and
drug equilibrates with plasma. Brain 0.1: brain metastases behind the blood-tumour barrier
took up 14C-paclitaxel and 14C-doxorubicin at less than 15 % of the level in other tissues or
peripheral metastases, and reached cytotoxic levels only in a small subset of the most
permeable lesions (Lockman et al. 2010, Clin Cancer Res 16:5664, abstract). Bone 0.5, an
assumption: the bone-marrow niche shelters tumour cells from chemotherapy through adhesion
and stromal signals (cell adhesion-mediated drug resistance; Meads, Hazlehurst & Dalton 2008,
Clin Cancer Res 14:2519), read here as halving the effective exposure. Penetration 0 protects
an organ entirely.
"""

from __future__ import annotations

from dataclasses import dataclass

import jax.numpy as jnp

from ..base import Param, State

SRC_FLOW = "Williams & Leggett 1989, Clin Phys Physiol Meas 10:187 (resting organ blood flow, % cardiac output)"
SRC_ARREST = ("assumption calibrated to CTC half-life (Meng 2004) and per-pass lodging "
              "(Chambers et al. 2002, Nat Rev Cancer 2:563)")
SRC_KAPLAN = "Kaplan et al. 2005, Nature 438:820 (pre-metastatic niche forms within ~2 weeks)"
SRC_HOSHINO = "Hoshino et al. 2015, Nature 527:329 (exosomal integrins direct organotropism)"
SRC_WEISS = "Weiss 1992, Clin Exp Metastasis 10:191 (first-pass organ patterns; portal drainage to liver)"
SRC_PENETRATION = ("brain 0.1: Lockman et al. 2010, Clin Cancer Res 16:5664 (paclitaxel/doxorubicin uptake in brain "
                   "metastases < 15 % of peripheral metastases); bone 0.5: assumption, bone-marrow sanctuary (Meads, "
                   "Hazlehurst & Dalton 2008, Clin Cancer Res 14:2519); others 1 (leaky tumour vessels)")


@dataclass(frozen=True)
class Organ:
    """Organ data (one row of the organ table). Units in the field comments."""

    name: str
    flow: float  # q_o: fraction of cardiac output per circulation (lung: 1, all venous return)
    arrest: float  # E_o: per-pass arrest probability of a single CTC
    met_growth: float  # a_o: Gompertz rate of one metastasis (1/day)
    met_capacity: float  # K_o: Gompertz plateau of one metastasis (cells)
    awakening: float  # kappa_o: awakening rate of dormant DTCs (1/day)
    immune: float  # I_o: immune control of dormancy (dimensionless; awakening / (1 + I_o))
    source: str = SRC_FLOW
    penetration: float = 1.0  # fraction of a systemic drug's kill reaching overt metastases (dimensionless)


#: The organ table. Flow fractions: Williams & Leggett 1989 (liver 25.5% = 6.5% arterial +
#: 19% portal; brain 12%; skin 5%; red marrow 3% + skeleton 2% = bone 5%). Arrest,
#: growth and dormancy entries are assumptions documented in each module.
ORGANS = {
    "bone": Organ("bone", 0.05, 5e-3, 0.002, 1e11, 1e-7, 2.0, penetration=0.5),
    "lung": Organ("lung", 1.00, 1e-3, 0.002, 1e11, 1e-7, 2.0),
    "liver": Organ("liver", 0.255, 2e-3, 0.002, 1e11, 1e-7, 2.0),
    "brain": Organ("brain", 0.12, 1e-4, 0.002, 1e11, 1e-7, 2.0, penetration=0.1),
    "skin": Organ("skin", 0.05, 1e-4, 0.002, 1e11, 1e-7, 2.0),
}

DEFAULT_ORGANS = ("bone", "lung", "liver", "brain", "skin")


def organ_rows(organs: tuple[str, ...]) -> tuple[Organ, ...]:
    """The table rows for ``organs``; ``ValueError`` names an unknown organ."""
    unknown = [o for o in organs if o not in ORGANS]
    if unknown or not organs:
        raise ValueError(f"unknown organ(s) {unknown}; known organs: {sorted(ORGANS)}")
    if len(set(organs)) != len(organs):
        raise ValueError(f"organs listed twice: {organs}")
    return tuple(ORGANS[o] for o in organs)


def params(organs: tuple[str, ...]) -> tuple[Param, ...]:
    """Per-organ routing and niche parameters (arrays over the organ axis)."""
    rows = organ_rows(organs)
    n = (len(rows),)

    def arr(field):
        return tuple(float(getattr(r, field)) for r in rows)

    return (
        Param("k_circ", 1440.0, "1/day", SRC_FLOW, (0.0, 1e5), "blood circulations per day (5 L/min over 5 L)"),
        Param("q", arr("flow"), "1", SRC_FLOW, (0.0, 1.0), "fraction of cardiac output through the organ per pass",
              shape=n, labels=organs),
        Param("E", arr("arrest"), "1", SRC_ARREST, (0.0, 1.0), "per-pass arrest probability of a single CTC",
              shape=n, labels=organs),
        Param("f_K", 20.0, "1", SRC_ARREST, (0.0, 1e4), "how much more readily a cluster lodges than a single cell"),
        Param("w", (1.0,) * n[0], "1", "Mueller et al. 2001, Nature 410:50 (CXCR4/CXCL12); per preset from site "
              "frequencies (presets.py)", (0.0, 1e3),
              "organotropism weight of the cancer type", shape=n, labels=organs),
        Param("portal", 0.0, "1", SRC_WEISS, (0.0, 1.0), "fraction of primary venous drainage through the portal vein"),
        Param("E_portal", 0.8, "1", SRC_WEISS, (0.0, 1.0),
              "first-pass hepatic capture of portal CTCs (most cells lodge in the liver sinusoids)"),
        Param("iota", (1.0,) * n[0], "1", SRC_HOSHINO, (0.0, 1e3), "exosome tropism (integrin match) per organ",
              shape=n, labels=organs),
        Param("k_niche", 0.05, "1/day", SRC_KAPLAN, (0.0, 1e3),
              "maximal niche conditioning rate (receptivity gain up to k_niche/delta_niche = 1, i.e. 2x arrest; "
              "assumption)"),
        Param("delta_niche", 0.05, "1/day", SRC_KAPLAN, (0.0, 1e3),
              "niche decay rate (half-life ~2 weeks; assumption)"),
        Param("P_ref", 1e9, "cells", SRC_KAPLAN, (1.0, 1e14),
              "primary size giving half-maximal niche conditioning (~1 g; assumption)"),
        Param("penetration", arr("penetration"), "1", SRC_PENETRATION, (0.0, 1.0),
              "fraction of a systemic drug's kill rate (input systemic_kill) that reaches overt metastases in "
              "the organ (brain: blood-tumour barrier; bone: marrow sanctuary)", shape=n, labels=organs),
    )


def states(organs: tuple[str, ...]) -> tuple[State, ...]:
    return (State("R", "1", "niche receptivity gain per organ", shape=(len(organs),), dims=("organ",),
                  labels=tuple(organs)),)


def arrest_rates(p, R):
    """(a_S, a_K): arrest rates (1/day) of single cells and clusters in each organ."""
    per_pass = p.k_circ * p.q * p.w * (1.0 + R)
    return per_pass * p.E, per_pass * jnp.minimum(1.0, p.f_K * p.E)


def niche_derivative(p, R, P):
    """dR/dt (1/day): exosome conditioning saturating in primary size, first-order decay."""
    return p.k_niche * p.iota * P / (P + p.P_ref) - p.delta_niche * R
