"""Bone vicious cycle: tumour PTHrP -> osteoblast RANKL -> osteoclasts -> resorption
releases matrix TGF-beta -> more tumour growth and PTHrP. Built on Lemaire et al. 2004.

Source of the bone-cell core: Lemaire et al. 2004, J Theor Biol 229:293 (responding and
active osteoblasts R, B and active osteoclasts C, in pM; RANKL/RANK/OPG and the PTH
receptor in quasi-steady state; TGF-beta released from the matrix in proportion to
resorption, so its action pi_C rises with C). Its equations are used unchanged
(``seedsoil.models.reference.lemaire2004.occupancies``); the tumour enters through them:

* PTHrP acts through the PTH receptor (Guise et al. 1996 J Clin Invest 98:1544): the
  tumour adds ``I_PTHrP = rho_P (T / T_ref) (1 + g_P s)`` (pM/day) to the PTH input of
  pi_P, raising RANKL on osteoblasts;
* resorption releases TGF-beta (and IGF) stored in the matrix (Mundy 2002 Nat Rev
  Cancer 2:584; Pivonka et al. 2008 Bone 43:249); its signal above baseline
  ``s = max(pi_C / pi_C_bar - 1, 0)`` raises tumour growth and PTHrP secretion::

      dT/dt = r_T (1 + g_T s) T ln(K_T / T)                 (Gompertz, cells/day)

  (the default; ``vicious_cycle(growth=...)`` swaps the law, see "Growth laws" below);

* RANKL is also an osteoclast survival factor (Lacey et al. 1998 Cell 93:165): when
  RANKL signalling pi_L falls below its tumour-free level pi_L0, osteoclasts die faster,
  by ``k_RL max(1 - pi_L / pi_L0, 0)`` per day (zero in Lemaire 2004, and by default);

* bone volume and turnover markers (% of baseline; formation by osteoblasts, resorption
  by osteoclasts balance at the tumour-free steady state)::

      dz/dt = k_z (B / B_bar - (C / C_bar) (z / 100))       (% per day)

  (resorption needs bone to resorb: it scales with the bone left, so z stays positive)
      CTX = 100 C / C_bar,   P1NP = 100 B / B_bar           (% of baseline)

Drug inputs (zero unless a regimen sets them; ``models/drugs`` will drive them from PK):
``rankl_inhibition`` (fraction of RANKL neutralised: denosumab), ``I_O`` (OPG or OPG-Fc
infusion, pM/day, as in Lemaire 2004), ``za_effect`` (zoledronic-acid-induced osteoclast
apoptosis, 1/day, added to their removal).

Growth laws (``vicious_cycle(growth=..., matrix_feedback=...)``), the classical forms
compared on experimental tumour growth by Benzekry et al. 2014 (PLoS Comput Biol
10:e1003800, Table 1), each multiplied by the matrix boost ``(1 + g_T s)``::

    "gompertz"     f(T) = r_T T ln(K_T / T)           (default)
    "logistic"     f(T) = r_T T (1 - T / K_T)
    "exponential"  f(T) = r_T T
    "power"        f(T) = r_T T (T / T_g)^(gamma_T - 1)   (adds T_g, gamma_T)

``r_T`` keeps its name and unit (1/day) in every law, but not its meaning: it is the
specific rate for small tumours in the logistic and exponential laws, at ``T = T_g`` in the
power law, and the Gompertz rate constant. ``matrix_feedback=False`` removes the tumour's
dependence on resorption (no boost of growth or of PTHrP by matrix TGF-beta, i.e.
``g_T = g_P = 0`` by construction): the "no vicious cycle" hypothesis, in which the tumour
still drives osteolysis through PTHrP but grows on its own.

Calibration: tumour and coupling parameters are set so that untreated MDA-MB-231 tibial
tumours reproduce the bone loss measured by micro-CT in Johnson et al. 2011 (Bone 48:
1328; the project's data/johnson2011_bone_za.csv: 100, 103, 96, 87, 76 % at days 0-28) and
the zoledronic-acid groups their gain (least squares over the three groups, weighted by
the published standard errors, with ``za_effect = 5/day`` from day 6 standing for the
dosed groups and ``g_T`` fixed at 1); the test checks every published point.
"""

from __future__ import annotations

from types import SimpleNamespace

import equinox as eqx
import jax.numpy as jnp
import numpy as np

from ..base import Input, Model, Observable, Param, Params, State, x_log_ratio
from ..reference._lemaire2004 import PARAMS as LEMAIRE_PARAMS
from ..reference._lemaire2004 import cell_derivatives, occupancies

SRC_JOHNSON = "calibrated to Johnson et al. 2011, Bone 48:1328 (micro-CT bone volume, MDA-MB-231 in tibia)"
SRC_LEMAIRE = "Lemaire et al. 2004, J Theor Biol 229:293 (published steady state)"
SRC_GUISE = "Guise et al. 1996, J Clin Invest 98:1544 (tumour PTHrP drives osteolysis)"
SRC_LACEY = "Lacey et al. 1998, Cell 93:165 (RANKL is an osteoclast differentiation and survival factor)"
SRC_MUNDY = "Mundy 2002, Nat Rev Cancer 2:584 (vicious cycle: matrix TGF-beta/IGF feed tumour growth)"

STATES = (
    State("R", "pM", "responding osteoblasts"),
    State("B", "pM", "active osteoblasts"),
    State("C", "pM", "active osteoclasts"),
    State("T", "cells", "tumour cells in bone"),
    State("z", "% of baseline", "bone volume (BV/TV relative to the start)"),
)

INPUTS = (
    Input("I_P", "pM/day", "PTH infusion rate (Lemaire 2004)"),
    Input("I_O", "pM/day", "OPG (or OPG-Fc) infusion rate (Lemaire 2004)"),
    Input("I_L", "pM/day", "RANKL infusion rate (Lemaire 2004)"),
    Input("rankl_inhibition", "1", "fraction of RANKL neutralised by an antibody (denosumab)"),
    Input("za_effect", "1/day", "extra osteoclast apoptosis caused by zoledronic acid"),
)

PARAMS = LEMAIRE_PARAMS + (
    Param("R_bar", 7.734e-4, "pM", SRC_LEMAIRE, (1e-12, 1.0), "tumour-free responding-osteoblast steady state"),
    Param("C_bar", 9.127e-4, "pM", SRC_LEMAIRE, (1e-12, 1.0), "tumour-free osteoclast steady state"),
    Param("B_bar", 7.283e-4, "pM", SRC_LEMAIRE, (1e-12, 1.0), "tumour-free osteoblast steady state"),
    Param("k_z", 2.28, "%/day", SRC_JOHNSON, (0.0, 100.0),
          "bone volume change per unit formation-resorption imbalance"),
    Param("r_T", 0.0198, "1/day", SRC_JOHNSON, (0.0, 10.0), "tumour Gompertz rate in bone"),
    Param("K_T", 1e8, "cells", SRC_JOHNSON, (1.0, 1e14), "tumour carrying capacity in bone"),
    Param("T_ref", 1e6, "cells", SRC_GUISE, (1.0, 1e14), "tumour size of reference PTHrP output"),
    Param("rho_P", 168.0, "pM/day", SRC_JOHNSON, (0.0, 1e6), "PTHrP production of T_ref tumour cells"),
    Param("g_P", 1.0, "1", SRC_MUNDY, (0.0, 1e3), "TGF-beta gain of PTHrP secretion"),
    Param("k_RL", 0.0, "1/day", SRC_LACEY, (0.0, 100.0),
          "osteoclast apoptosis on full RANKL withdrawal (0 in the mouse calibration, which does not "
          "identify it; seedsoil.models.bone_metastasis sets the human value)"),
    Param("g_T", 1.0, "1", SRC_MUNDY, (0.0, 1e3),
          "TGF-beta/IGF gain of tumour growth (assumption: bone volume alone does not identify it)"),
)

SRC_BENZEKRY = "Benzekry et al. 2014, PLoS Comput Biol 10:e1003800, Table 1 (classical tumour growth laws)"
#: Growth laws of the tumour in bone (module docstring).
GROWTH_LAWS = ("gompertz", "logistic", "exponential", "power")

#: Power-law parameters (only in ``growth="power"``).
POWER_PARAMS = (
    Param("T_g", 1e5, "cells", "assumption: the intratibial inoculum of vicious_cycle(), so r_T is the specific "
          "rate at the start", (1.0, 1e14), "tumour size at which the power law's specific rate is r_T"),
    Param("gamma_T", 2.0 / 3.0, "1", SRC_BENZEKRY + ": power law T^gamma; 2/3 is surface-limited growth "
          "(von Bertalanffy)", (0.0, 1.0), "power-law exponent of tumour growth"),
)

#: Default r_T of the laws other than Gompertz: the Gompertz specific rate of the default
#: inoculum, r_T ln(K_T / 1e5) = 0.0198 ln(1e3) = 0.137/day (assumption: same initial
#: growth; fitting replaces it).
_R_T_INITIAL = 0.0198 * 6.907755278982137

OBSERVABLES = (
    Observable("bone_volume", "% of baseline", "bone volume (BV/TV)"),
    Observable("CTX", "% of baseline", "serum CTX (resorption marker), proportional to osteoclasts"),
    Observable("P1NP", "% of baseline", "serum P1NP (formation marker), proportional to osteoblasts"),
    Observable("PTHrP", "pM/day", "tumour PTHrP secretion"),
    Observable("tgf_signal", "1", "matrix TGF-beta signal above baseline"),
    Observable("growth_boost", "1", "relative increase of tumour growth in bone from matrix TGF-beta/IGF (g_T s)"),
)


class ViciousCycle(Model):
    """Lemaire 2004 bone cells with a PTHrP-secreting, TGF-beta-responsive tumour.

    ``tumour="state"``: the tumour in bone is a state ``T`` growing by the law ``growth``
    (:data:`GROWTH_LAWS`; module docstring). ``tumour="input"``: the tumour is the input
    ``tumour_cells`` set by another model (the cascade's bone metastases, through
    :func:`seedsoil.models.compose`), and the observable ``growth_boost`` (= g_T s) tells
    that model how much faster bone tumour grows. ``matrix_feedback=False``: no matrix
    TGF-beta boost of tumour growth or PTHrP (``growth_boost`` is 0).
    """

    tumour: str = eqx.field(static=True, default="state")
    growth: str = eqx.field(static=True, default="gompertz")
    matrix_feedback: bool = eqx.field(static=True, default=True)

    def _gain(self, g):
        return g if self.matrix_feedback else 0.0

    def _growth(self, T, p):
        """Tumour growth without the matrix boost, cells/day (module docstring)."""
        if self.growth == "gompertz":
            return p.r_T * x_log_ratio(T, p.K_T)
        if self.growth == "logistic":
            return p.r_T * T * (1.0 - T / p.K_T)
        if self.growth == "exponential":
            return p.r_T * T
        pos = T > 0  # power law, continued by 0 at T = 0 with a finite gradient
        safe = jnp.where(pos, T, p.T_g)
        return jnp.where(pos, p.r_T * safe * (safe / p.T_g) ** (p.gamma_T - 1.0), 0.0)

    def _tumour(self, y, u):
        return y.T if self.tumour == "state" else u.tumour_cells

    def _signals(self, y, p, u):
        pi_C0 = (p.C_bar + p.f0 * p.C_s) / (p.C_bar + p.C_s)
        pi_C = (y.C + p.f0 * p.C_s) / (y.C + p.C_s)
        s = jnp.maximum(pi_C / pi_C0 - 1.0, 0.0)
        pthrp = p.rho_P * self._tumour(y, u) / p.T_ref * (1.0 + self._gain(p.g_P) * s)
        inputs = SimpleNamespace(I_P=u.I_P + pthrp, I_O=u.I_O, I_L=u.I_L)  # PTHrP acts as PTH
        pi_C, _, pi_L = occupancies(y, p, inputs)
        return pi_C, pi_L * (1.0 - u.rankl_inhibition), s, pthrp

    def _rankl_withdrawal(self, pi_L, p):
        """Extra osteoclast apoptosis (1/day) when RANKL signalling falls below its
        tumour-free level: osteoclasts need RANKL to survive (Lacey et al. 1998)."""
        zero = SimpleNamespace(I_P=0.0, I_O=0.0, I_L=0.0)
        _, _, pi_L0 = occupancies(SimpleNamespace(R=p.R_bar, B=p.B_bar, C=p.C_bar), p, zero)
        return p.k_RL * jnp.maximum(1.0 - pi_L / pi_L0, 0.0)

    def rhs(self, t, y, p, u):
        pi_C, pi_L, s, _ = self._signals(y, p, u)
        d = cell_derivatives(y, p, pi_C, pi_L, self._rankl_withdrawal(pi_L, p) + u.za_effect)
        d["z"] = p.k_z * (y.B / p.B_bar - (y.C / p.C_bar) * (y.z / 100.0))
        if self.tumour == "state":
            d["T"] = (1.0 + self._gain(p.g_T) * s) * self._growth(y.T, p)
        return d

    def observables(self, t, y, p, u):
        _, _, s, pthrp = self._signals(y, p, u)
        return {"bone_volume": y.z, "CTX": 100.0 * y.C / p.C_bar, "P1NP": 100.0 * y.B / p.B_bar,
                "PTHrP": pthrp, "tgf_signal": s, "growth_boost": self._gain(p.g_T) * s}


def vicious_cycle(tumour_cells: float = 1e5, tumour: str = "state", *, growth: str = "gompertz",
                  matrix_feedback: bool = True) -> ViciousCycle:
    """The vicious-cycle model at the Lemaire 2004 steady state.

    Args:
        tumour_cells: tumour cells in bone at t = 0 (1e5: a typical intratibial injection;
            0 for tumour-free bone). Ignored with ``tumour="input"``.
        tumour: ``"state"`` (own tumour) or ``"input"`` (tumour set by another model).
        growth: the tumour's growth law, one of :data:`GROWTH_LAWS` (module docstring);
            ``"power"`` adds the parameters ``T_g`` and ``gamma_T``. Laws other than
            Gompertz start with ``r_T = 0.137/day``, the Gompertz specific rate of the
            default inoculum (an assumption that a fit replaces).
        matrix_feedback: ``False`` removes the boost of tumour growth and PTHrP by matrix
            TGF-beta (the tumour no longer depends on resorption).

    The model's name is ``vicious_cycle``, or ``vicious_cycle_<growth>[_no_feedback]`` for
    a variant (kept programs and sweep parts tell the variants apart by name).
    """
    if tumour not in ("state", "input"):
        raise ValueError(f"tumour must be 'state' or 'input'; got {tumour!r}")
    if growth not in GROWTH_LAWS:
        raise ValueError(f"growth must be one of {GROWTH_LAWS}; got {growth!r}")
    if not isinstance(matrix_feedback, (bool, np.bool_)):
        raise ValueError(f"matrix_feedback must be True or False; got {matrix_feedback!r}")
    specs = PARAMS + (POWER_PARAMS if growth == "power" else ())
    params = Params.from_specs(specs)
    if growth != "gompertz":
        params = params.replace(r_T=_R_T_INITIAL)
    name = "vicious_cycle" if (growth, matrix_feedback) == ("gompertz", True) else (
        f"vicious_cycle_{growth}" + ("" if matrix_feedback else "_no_feedback"))
    states = STATES if tumour == "state" else tuple(s for s in STATES if s.name != "T")
    inputs = INPUTS if tumour == "state" else INPUTS + (
        Input("tumour_cells", "cells", "tumour cells in bone, set by another model"),)
    y0 = {"R": 7.734e-4, "B": 7.283e-4, "C": 9.127e-4, "T": tumour_cells, "z": 100.0}
    return ViciousCycle(
        name=name, states=states, params=params,
        y0=jnp.array([y0[s.name] for s in states]), inputs=inputs,
        observable_specs=OBSERVABLES, reference="Lemaire et al. 2004 core; " + SRC_MUNDY, tumour=tumour,
        growth=growth, matrix_feedback=bool(matrix_feedback),
    )
