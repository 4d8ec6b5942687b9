"""Metastatic bone disease: the cascade, the bone vicious cycle and both bone drugs as one
model (``seedsoil.models.compose``), with ONE tumour in bone.

Parts and links::

    cascade  --metastatic_burden[bone]-->  bone.tumour_cells      (the same tumour cells)
    bone     --growth_boost------------->  cascade.bone_growth_boost (matrix TGF-beta/IGF)
    denosumab --RANKL_occupancy--------->  bone.rankl_inhibition
    za       --osteoclast_kill---------->  bone.za_effect

Dose ``"denosumab.depot"`` (mg SC) and ``"za.plasma"`` (mg IV infusion); the schedules of
``seedsoil.models.drugs`` do it with ``from_schedule(XGEVA_Q4W, part="denosumab", ...)``.

Scaling (assumption): the vicious cycle was calibrated on mouse tibiae, where ~1e6 tumour
cells give its reference PTHrP output (``T_ref``); in a human skeleton, about three orders
of magnitude larger, the same osteolytic drive needs ~1e9 cells (1 g), so ``T_ref = 1e9``;
and the matrix feedback may at most double the growth rate of bone metastases
(``g_T = 0.25``: the TGF-beta signal s is at most ~4), where the mouse-calibrated g_T = 1
would let a 5-year untreated breast preset grow 1e14 cells in bone. Human bone turns over
about a hundred times more slowly than a young mouse's tibia: ``k_z = 0.02 %/day`` gives
the ~+9% lumbar-spine bone density over three years of denosumab with resorption
suppressed ~90% (Cummings et al. 2009, NEJM 361:756, FREEDOM), where the mouse value
2.28 %/day would add hundreds of percent. Osteoclasts die when RANKL is withdrawn at
``k_RL = 0.65/day``, which makes serum CTX fall 85% by day 3 after denosumab 60 mg (Prolia
US label, section 12.2: "approximately 85% by 3 days, with maximal reductions occurring by
1 month"); without it the fall takes about four weeks.

Solver: zoledronic acid's 0.24-h phase is stiff, but the cascade's ~340 states make each
implicit step costly; the explicit default (Tsit5) solves 5 years with monthly doses in
seconds, so the composite is not flagged stiff.
"""

from __future__ import annotations

from typing import Any

from .._compose import Composite, Link, compose
from ..drugs import denosumab, zoledronic_acid
from ..metastasis import cascade
from ..metastasis.model import _UNSET, _deprecated_organs
from ._vicious_cycle import vicious_cycle

#: Human values for the mouse-calibrated vicious cycle (module docstring; each an assumption
#: or a fit to a human label statement).
HUMAN_BONE = dict(T_ref=1e9, g_T=0.25, k_z=0.02, k_RL=0.65)


def bone_metastasis(preset: str = "breast", organs: tuple[str, ...] | None = None, n_bins: int = 64, *,
                    organs_: Any = _UNSET) -> Composite:
    """The cascade of ``preset`` coupled to the bone vicious cycle, denosumab and zoledronic
    acid (module docstring). ``organs`` must include ``"bone"`` (``organs_``: its deprecated
    spelling, with a ``DeprecationWarning``)."""
    spread = cascade(preset, _deprecated_organs(organs, organs_, "bone_metastasis"), n_bins=n_bins)
    if "bone" not in spread.organs:
        raise ValueError(f"bone_metastasis needs the 'bone' organ; organs: {spread.organs}")
    bone = vicious_cycle(tumour="input").with_params(**HUMAN_BONE)
    return compose(
        {"cascade": spread, "bone": bone, "denosumab": denosumab("bone_metastases"), "za": zoledronic_acid()},
        [
            Link("cascade", "metastatic_burden", "bone", "tumour_cells", index=spread.organs.index("bone")),
            Link("bone", "growth_boost", "cascade", "bone_growth_boost"),
            Link("denosumab", "RANKL_occupancy", "bone", "rankl_inhibition"),
            Link("za", "osteoclast_kill", "bone", "za_effect"),
        ],
        stiff=False,
    )
