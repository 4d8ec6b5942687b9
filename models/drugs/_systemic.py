"""A generic systemic anticancer drug (chemotherapy or a targeted agent): linear one- or
two-compartment PK with IV or oral dosing, and a kill rate on proliferating cells.

States (mg of drug; time in days)::

    depot        oral dose not yet absorbed (dose oral tablets here; IV doses go to central)
    central      drug in the central compartment, volume V1: C = central / V1 (mg/L)
    peripheral   drug in the peripheral compartment, volume V2 (always 0 when Q = 0)
    eliminated   cumulative drug cleared from the central compartment, CL C
    presystemic  cumulative oral drug lost before reaching the circulation, (1 - F) ka depot

    d depot/dt       = -ka depot
    d central/dt     = F ka depot - CL C - Q (C - peripheral / V2)       (+ IV infusion rate)
    d peripheral/dt  = Q (C - peripheral / V2)
    d eliminated/dt  = CL C
    d presystemic/dt = (1 - F) ka depot

the standard linear compartmental model of population PK (e.g. Gabrielsson & Weiner,
"Pharmacokinetic and Pharmacodynamic Data Analysis", 5th ed. 2016, ch. 2); a one-compartment
drug has ``Q = 0`` (the peripheral compartment then stays empty). The two counters make mass
balance exact: ``dosed = depot + central + peripheral + eliminated + presystemic``.

Dosing (mg; ``seedsoil.solvers``): IV bolus ``bolus("central", t, mg)``, IV infusion
``infusion("central", mg / T, t, t + T)``, oral ``bolus("depot", t, mg)``; the schedules
``DOCETAXEL_Q3W``, ``DOCETAXEL_75_Q3W`` and ``CAPECITABINE_BID`` of
``seedsoil.models.drugs.schedules`` do it with ``from_schedule``. Population-PK papers that
report apparent oral parameters (CL/F, V/F) are used with ``F = 1``.

Pharmacodynamics (observable ``kill``, 1/day): the extra death rate of **proliferating**
tumour cells, a sigmoid Emax (Hill) function of the plasma concentration,

    kill = k_max C^h / (EC50^h + C^h)

(Emax model: Holford & Sheiner 1981, Clin Pharmacokinet 6:429). Anti-proliferative drugs act
on cycling cells, so the cascade applies it to the primary and the overt metastases and
never to dormant DTCs (``cascade``'s input ``systemic_kill``, scaled per organ by its
``penetration``); wire it with
``compose({"cascade": cascade(), "chemo": systemic_drug("docetaxel")},
[Link("chemo", "kill", "cascade", "systemic_kill")])``.

Parameter sets (``agent`` of :func:`systemic_drug`; :data:`AGENTS`):

* ``"docetaxel"`` (default): two-compartment IV model of Onoue et al. 2016 (docetaxel
  population PK in Japanese women with breast cancer), Table 2: CL 32.6 L/h, Q 5.34 L/h,
  V1 5.77 L, V2 11.0 L, read from the DTAT R package's transcription (Norris 2017,
  ``Onoue.Friberg``; journal recalled as Eur J Clin Pharmacol 72:703, not checked). The
  clearance agrees with ten Tije et al. 2005, J Clin Oncol 23:1070 (mean 30.0-30.1 L/h at
  75 mg/m2). Fitted to samples within about a day of dosing, this model has a terminal
  half-life of 1.7 h; the label's three-compartment model adds an 11.1-h gamma phase
  (Taxotere US label 12.3) that holds a small part of the exposure (AUC = dose / CL is the
  same). Potency (an assumption): EC50 = 2.5 ug/L (~3 nM; 2-4 nM docetaxel gives aberrant
  mitosis and death of MCF7 and MDA-MB-231 cells, Hernandez-Vargas et al. 2007, Oncogene
  26:2902), Hill 1; k_max = 4.4/day makes one 100 mg/m2 cycle (180 mg over 1 h) kill 90 %
  (one log) of proliferating cells (integral of kill over 21 days = ln 10; the per-cycle
  log-kill of Skipper et al. 1964, Cancer Chemother Rep 35:1, is of that order).
* ``"capecitabine"``: one-compartment oral model of Xu et al. 2021 (capecitabine population
  PK in Chinese women with breast cancer, Chin J Clin Pharmacol Ther 26:552, abstract):
  CL/F 291 L/h, V/F 556 L, ka 1.05/h, used with F = 1. Urien et al. 2005 (J Pharmacokinet
  Pharmacodyn 32:817, abstract: ka 2.1/h, CL 218 L/h) is of the same order. Capecitabine is a
  prodrug of 5-FU; its plasma concentration stands in for the exposure to the active
  metabolites here. Potency (an assumption): EC50 = 1 mg/L, about a quarter of the mean
  capecitabine Cmax after 1255 mg/m2 (3.96 mg/L; Twelves et al. 1999, Clin Cancer Res 5:1696,
  Table 3), Hill 1; k_max = 0.55/day makes one cycle of 1250 mg/m2 (2250 mg) twice daily on
  days 1-14 kill 90 % of proliferating cells, as for docetaxel.

Numerics: the docetaxel set's fast disposition (6.7/h, 160/day) makes it ``stiff`` alone
(as zoledronic acid); capecitabine's fastest rate is ka = 25/day. The PK is linear and
declared so (``linear_states``): a dosed regimen has it carried exactly between stops by
:func:`~seedsoil.solvers.simulate` (``SolverOptions.exact_linear``), so in a composite the
fast phase sets no step-size limit on the disease model.
"""

from __future__ import annotations

import math

import jax.numpy as jnp

from ..base import Model, Observable, Param, Params, State, flux

__all__ = ["SystemicDrug", "systemic_drug", "AGENTS", "PARAMS", "STATES", "OBSERVABLES", "hill_kill"]

H_PER_DAY = 24.0
ONOUE = ("Onoue et al. 2016, docetaxel population PK in breast cancer, Table 2 (two-compartment), via the DTAT R "
         "package transcription (Norris 2017, Onoue.Friberg); journal recalled as Eur J Clin Pharmacol 72:703")
XU = ("Xu et al. 2021, Chin J Clin Pharmacol Ther 26:552, abstract (capecitabine population PK, one-compartment, "
      "78 Chinese breast cancer patients)")
EMAX = "Holford & Sheiner 1981, Clin Pharmacokinet 6:429 (sigmoid Emax model)"
SKIPPER = ("assumption: one cycle at the labelled dose kills 90 % (one log) of proliferating cells (integral of kill "
           "over the cycle = ln 10; per-cycle log-kill of Skipper et al. 1964, Cancer Chemother Rep 35:1)")

# Values per agent, in the declared units (per day, L, mg/L). Each entry names its source in
# the Param declarations below.
_DOCETAXEL = dict(
    CL=32.6 * H_PER_DAY,    # 32.6 L/h
    V1=5.77,
    Q=5.34 * H_PER_DAY,     # 5.34 L/h
    V2=11.0,
    ka=1.0,                 # unused (IV drug); any value: depot stays empty
    F=1.0,
    EC50=0.0025,            # mg/L = 2.5 ng/mL ~ 3.1 nM (MW 807.9)
    k_max=4.4,
    hill=1.0,
)
_CAPECITABINE = dict(
    CL=291.0 * H_PER_DAY,   # CL/F 291 L/h
    V1=556.0,               # V/F 556 L
    Q=0.0,                  # one-compartment
    V2=1.0,                 # unused (Q = 0)
    ka=1.05 * H_PER_DAY,    # 1.05/h
    F=1.0,                  # apparent (CL/F, V/F) parameters
    EC50=1.0,
    k_max=0.55,
    hill=1.0,
)
#: Parameter sets by agent name (values in the declared units).
AGENTS = {"docetaxel": _DOCETAXEL, "capecitabine": _CAPECITABINE}
_STIFF = {"docetaxel": True, "capecitabine": False}

_BOTH = "; capecitabine set: "
PARAMS = (
    Param("CL", _DOCETAXEL["CL"], "L/day", ONOUE + " (32.6 L/h)" + _BOTH + XU + " (CL/F 291 L/h)",
          description="clearance from the central compartment (apparent CL/F for oral sets with F = 1)"),
    Param("V1", _DOCETAXEL["V1"], "L", ONOUE + _BOTH + XU + " (V/F 556 L)", (1e-6, math.inf),
          "central volume (apparent V/F for oral sets with F = 1)"),
    Param("Q", _DOCETAXEL["Q"], "L/day", ONOUE + " (5.34 L/h)" + _BOTH + "0 (one-compartment model, " + XU + ")",
          description="intercompartmental clearance; 0 for a one-compartment drug"),
    Param("V2", _DOCETAXEL["V2"], "L", ONOUE + _BOTH + "unused (Q = 0)", (1e-6, math.inf),
          "peripheral volume"),
    Param("ka", _DOCETAXEL["ka"], "1/day", "docetaxel set: unused (IV); capecitabine set: " + XU + " (1.05/h)",
          description="first-order absorption rate from the oral depot"),
    Param("F", _DOCETAXEL["F"], "1", "docetaxel set: IV; capecitabine set: 1 with the apparent CL/F and V/F of " + XU,
          (0.0, 1.0), "oral bioavailability (fraction of the absorbed dose reaching the central compartment)"),
    Param("EC50", _DOCETAXEL["EC50"], "mg/L",
          "assumption; docetaxel: 2.5 ug/L ~ 3 nM, order of the 2-4 nM that kill MCF7/MDA-MB-231 cells "
          "(Hernandez-Vargas et al. 2007, Oncogene 26:2902); capecitabine: 1 mg/L, a quarter of the Cmax 3.96 mg/L "
          "after 1255 mg/m2 (Twelves et al. 1999, Clin Cancer Res 5:1696, Table 3)", (1e-12, math.inf),
          "plasma concentration giving half the maximal kill rate"),
    Param("k_max", _DOCETAXEL["k_max"], "1/day", SKIPPER + "; docetaxel 100 mg/m2 q3w: 4.4/day; capecitabine "
          "1250 mg/m2 BID days 1-14: 0.55/day", description="maximal kill rate of proliferating tumour cells"),
    Param("hill", _DOCETAXEL["hill"], "1", EMAX + "; 1 (hyperbolic) as an assumption", (0.1, 10.0),
          "Hill coefficient of the concentration-kill relation"),
)

STATES = (
    State("depot", "mg", "oral drug not yet absorbed (dose oral tablets here)"),
    State("central", "mg", "drug in the central compartment (IV doses here)"),
    State("peripheral", "mg", "drug in the peripheral compartment"),
    State("eliminated", "mg", "cumulative drug cleared from the central compartment (CL C)"),
    State("presystemic", "mg", "cumulative oral drug lost before reaching the circulation ((1 - F) ka depot)"),
)

OBSERVABLES = (
    Observable("C", "mg/L", "plasma (central) concentration, central / V1"),
    Observable("C_peripheral", "mg/L", "peripheral concentration, peripheral / V2"),
    Observable("kill", "1/day", "kill rate of proliferating tumour cells, k_max C^h / (EC50^h + C^h) (Emax model); "
               "link to the cascade's input systemic_kill"),
    Observable("in_body", "mg", "drug in the body, depot + central + peripheral"),
)


def hill_kill(c, k_max, ec50, h):
    """``k_max c^h / (ec50^h + c^h)`` (1/day) for ``c >= 0`` (mg/L), written as
    ``k_max / (1 + (ec50 / c)^h)`` with an exact 0 (and finite gradients) at ``c = 0``."""
    pos = c > 0
    ratio = jnp.exp(h * (jnp.log(ec50) - jnp.log(jnp.where(pos, c, 1.0))))
    return jnp.where(pos, k_max / (1.0 + ratio), 0.0)


class SystemicDrug(Model):
    """Linear one-/two-compartment PK with oral depot and an Emax kill rate (module docstring)."""

    def rhs(self, t, y, p, u):
        c = y.central / p.V1
        absorbed = flux(p.ka, y.depot)
        distribution = p.Q * (c - y.peripheral / p.V2)
        cleared = p.CL * c
        return {
            "depot": -absorbed,
            "central": p.F * absorbed - cleared - distribution,
            "peripheral": distribution,
            "eliminated": cleared,
            "presystemic": (1.0 - p.F) * absorbed,
        }

    def observables(self, t, y, p, u):
        c = y.central / p.V1
        return {
            "C": c,
            "C_peripheral": y.peripheral / p.V2,
            "kill": hill_kill(c, p.k_max, p.EC50, p.hill),
            "in_body": y.depot + y.central + y.peripheral,
        }


def systemic_drug(agent: str = "docetaxel") -> SystemicDrug:
    """A systemic anticancer drug with the parameter set of ``agent`` (:data:`AGENTS`:
    ``"docetaxel"``, two-compartment IV; ``"capecitabine"``, one-compartment oral), drug-free
    start. All sets share one declaration, so switching agent (or setting your own values
    with ``with_params``) does not recompile a simulation. ``ValueError`` names an unknown
    agent. The docetaxel set is flagged ``stiff`` (fast 0.1-h disposition phase)."""
    if not isinstance(agent, str) or agent not in AGENTS:
        raise ValueError(f"unknown agent {agent!r}; choose one of {sorted(AGENTS)}")
    return SystemicDrug(
        name=agent,
        states=STATES,
        params=Params.from_specs(PARAMS).replace(**AGENTS[agent]),
        y0=jnp.zeros(len(STATES)),
        observable_specs=OBSERVABLES,
        reference=ONOUE if agent == "docetaxel" else XU,
        stiff=_STIFF[agent],
        linear_states=tuple(x.name for x in STATES),  # linear disposition: carried exactly
    )
