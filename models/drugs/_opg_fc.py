"""OPG-Fc in the mouse: the RANKL decoy used in mouse bone-metastasis studies.

Denosumab does not bind mouse RANKL, so mouse studies of RANKL inhibition (Canon et al.
2008, Clin Exp Metastasis 25:119; the data in ``data/canon2008_opgfc_bli.csv``) use
recombinant osteoprotegerin fused to an IgG Fc (OPG-Fc). This module gives that drug a
minimal pharmacokinetic model and a RANKL-inhibition read-out, so a mouse RANKL-inhibitor
effect can be fitted to those data with the bone model (``seedsoil.models.vicious_cycle``
input ``rankl_inhibition``) and compared with the human denosumab model.

States (amounts per kg of body weight; time in days)::

    depot    drug at the SC injection site, mg/kg (dose the study's mg/kg here)
    central  drug in serum, mg/kg; C = central / V in ug/mL (= mg/L)
    cleared  cumulative drug eliminated, mg/kg
    sc_loss  cumulative drug lost at the injection site, (1 - F) of what leaves the depot

    d depot/dt   = -ka depot
    d central/dt =  F ka depot - k central,          k = CL / V
    d cleared/dt =  k central
    d sc_loss/dt = (1 - F) ka depot

Mass balance: ``dose = depot + central + cleared + sc_loss``. After one dose D at t = 0
the serum concentration is the Bateman function
``C(t) = F D ka / (V (ka - k)) (exp(-k t) - exp(-ka t))`` (tested).

Read-out: ``RANKL_inhibition = C / (EC50 + C)``, the fraction of RANKL signalling blocked
(Imax = 1: OPG-Fc abolishes osteoclasts at high dose; Canon 2008 osteoclast scores).

Where the numbers come from. No mouse OPG-Fc PK study was available to us: the PK values
below are assumptions typical of Fc-fusion proteins in mice, stated as such on each
parameter, and ``EC50`` is the parameter meant to be fitted to the Canon 2008 data (issue
5, notebook 1); it absorbs errors in the PK. What is known qualitatively: after one 5 mg/kg
IV dose of a human OPG construct in rats, serum drug stayed measurable for 30 days and
osteoclast surface stayed reduced (Capparelli et al. 2003, J Bone Miner Res 18:852,
abstract), i.e. a half-life of days, not hours, as assumed here.

Schedule: Canon 2008 dosed OPG-Fc SC at 0.3 or 3 mg/kg from day 0 (preventive) or day 7
(therapeutic) (abstract); the frequency (three times a week) is recalled from the methods,
not checked: :data:`OPG_FC_TIW` spaces the doses evenly, every 7/3 days.
"""

from __future__ import annotations

import jax.numpy as jnp

from ..base import Model, Observable, Param, Params, State

__all__ = ["OPGFc", "opg_fc"]

ASSUMED = "assumption (no mouse OPG-Fc PK study available to us; typical of Fc-fusion proteins in mice)"
CANON = "Canon et al. 2008, Clin Exp Metastasis 25:119"

PARAMS = (
    Param("ka", 1.0, "1/day", ASSUMED + ": SC absorption half-life ~0.7 day", description="SC absorption rate"),
    Param("F", 0.7, "1", ASSUMED, (0.0, 1.0), "SC bioavailability"),
    Param("V", 0.1, "L/kg", ASSUMED + ": about twice the mouse plasma volume (~0.05 L/kg)",
          description="volume of distribution"),
    Param("CL", 0.1 * 0.6931471805599453 / 3.0, "L/kg/day", ASSUMED + ": elimination half-life 3 days, "
          "consistent with drug still measurable 30 days after 5 mg/kg in rats (Capparelli et al. 2003, "
          "J Bone Miner Res 18:852)", description="linear clearance"),
    Param("EC50", 1.0, "ug/mL", "assumption: to be fitted to the osteoclast and tumour data of " + CANON
          + " (0.3 mg/kg three times a week then gives ~80 % inhibition, 3 mg/kg ~97 %)",
          description="serum OPG-Fc giving half-maximal RANKL inhibition"),
)

STATES = (
    State("depot", "mg/kg", "OPG-Fc at the SC injection site (dose the study's mg/kg here)"),
    State("central", "mg/kg", "OPG-Fc in serum"),
    State("cleared", "mg/kg", "cumulative OPG-Fc eliminated"),
    State("sc_loss", "mg/kg", "cumulative OPG-Fc lost pre-systemically at the injection site"),
)

OBSERVABLES = (
    Observable("C", "ug/mL", "serum OPG-Fc, central / V"),
    Observable("RANKL_inhibition", "1", "fraction of RANKL signalling blocked, C / (EC50 + C)"),
)


class OPGFc(Model):
    """Mouse OPG-Fc: one-compartment SC PK with a RANKL-inhibition read-out (module docstring)."""

    def rhs(self, t, y, p, u):
        absorbed = p.ka * y.depot
        eliminated = p.CL / p.V * y.central
        return {
            "depot": -absorbed,
            "central": p.F * absorbed - eliminated,
            "cleared": eliminated,
            "sc_loss": (1.0 - p.F) * absorbed,
        }

    def observables(self, t, y, p, u):
        c = y.central / p.V
        return {"C": c, "RANKL_inhibition": c / (p.EC50 + c)}


def opg_fc() -> OPGFc:
    """Mouse OPG-Fc with the assumed defaults (module docstring); drug-free start, not stiff."""
    return OPGFc(
        name="opg_fc",
        states=STATES,
        params=Params.from_specs(PARAMS),
        y0=jnp.zeros(4),
        observable_specs=OBSERVABLES,
        reference=CANON + " (dosing); PK assumed",
        stiff=False,
    )
