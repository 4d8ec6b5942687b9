"""Metastatic bone disease: the cascade, a human bone-remodelling core, both bone drugs and
the hazard of skeletal-related events as one model (``seedsoil.models.compose``), with ONE
tumour in bone.

Parts and links::

    cascade  --metastatic_burden[bone]-->  bone.tumour_cells      (the same tumour cells)
    bone     --growth_boost------------->  cascade.bone_growth_boost (matrix TGF-beta/IGF)
    denosumab --RANKL_occupancy--------->  bone.rankl_inhibition
    za       --osteoclast_kill---------->  bone.za_effect
    cascade  --metastatic_burden[bone]-->  sre.bone_tumour        (SRE hazard: lesion burden)
    bone     --uNTx--------------------->  sre.uNTx               (SRE hazard: resorption)

The ``sre`` part (:func:`seedsoil.models.bone.skeletal_events`, human core only) carries the
cumulative hazard ``sre.H`` of the first skeletal-related event: ``sre.sre_free`` =
exp(-H) is the probability of no SRE since H was 0, ``sre.sre_hazard`` the hazard (1/day).
H starts at 0 on day 0; a trial that starts later, from a saved state, resets it through
``y0`` (``simulate(model, times, y0={**saved, "sre.H": 0.0})``), or reads
``exp(-(H(t) - H(t_0)))``. With ``bone="vicious_cycle"`` there is no ``sre`` part: that
model has no uNTx, and its CTX rises by orders of magnitude with burden, so Coleman 2005's
uNTx categories, on which the hazard's resorption factor is set, do not carry over.

Dose ``"denosumab.depot"`` (mg SC) and ``"za.plasma"`` (mg IV infusion); the schedules of
``seedsoil.models.drugs`` do it with ``from_schedule(XGEVA_Q4W, part="denosumab", ...)``.

Systemic therapy (``systemic="docetaxel"`` or ``"capecitabine"``): a part ``chemo``
(:func:`seedsoil.models.drugs.systemic_drug`) whose ``kill`` drives the cascade's
``systemic_kill`` (proliferating cells only, per organ times its ``penetration``)::

    chemo    --kill--------------------->  cascade.systemic_kill

dosed with ``from_schedule(DOCETAXEL_Q3W, part="chemo", ...)``, alone or with the bone
drugs in one regimen (``+``).

The bone part (``bone=``):

* ``"human"`` (default): :func:`seedsoil.models.bone.human_bone`, the reduced Peterson &
  Riggs 2010 core calibrated to clinical figures (denosumab 60 mg and 120 mg, zoledronic acid
  4 mg, FREEDOM bone density) with its tumour coupling set so that urinary NTx stays in the
  clinical range as bone burden grows (64-150 nmol BCE/mmol Cr at a lethal-range burden; its
  module docstring has the table). Read-outs: ``bone.CTX`` (ng/mL), ``bone.CTX_pct``,
  ``bone.uNTx`` (nmol BCE/mmol Cr, Coleman 2005's categories), ``bone.uNTx_pct``,
  ``bone.P1NP``, ``bone.bone_mass`` (% of baseline).
* ``"vicious_cycle"``: the mouse-calibrated vicious cycle scaled to human size by the stated
  assumptions of :data:`HUMAN_BONE` (the model before the human core; kept for comparison:
  its CTX rises by orders of magnitude with burden, which patients do not show).

Natural history of the breast preset (``preset="breast"``, :data:`NATURAL_HISTORY`): the
primary's growth rate ``r_P`` and the awakening rate of dormant cells in bone
``kappa[bone]`` are fitted (``notebooks/04_human_calibration.py``) to the median volume
doubling time of primary breast cancers (zhang2017_vdt: 164 days) and the median time from
diagnosis to bone metastasis (martin2012_latency: 35 months), read as the time at which the
expected number of detectable bone metastases is ln 2 (metastases are founded as a Poisson
process, so half of such patients have one by then). Other presets keep the cascade's
defaults. The lethal tumour burden is ~1e12 cells (``cascade.total_burden``).

Solver: zoledronic acid's 0.24-h phase is stiff, but the cascade's ~340 states make each
implicit step costly, so the composite is not flagged stiff and gets the explicit Tsit5.
The drug's disposition is a declared linear block (``linear_states``): when a regimen doses
it, the solver carries it exactly (a matrix exponential between stops) and Tsit5 steps only
the rest, no longer held to the plasma phase's stability limit (measured: two years of
monthly doses at 64 bins, 1.19 s stepped, 0.086 s exact; placebo 0.034 s).
"""

from __future__ import annotations

from typing import Any

from .._compose import Composite, Link, compose
from ..drugs import denosumab, systemic_drug, zoledronic_acid
from ..metastasis import cascade
from ..metastasis.model import _UNSET, _deprecated_organs
from ._human_bone import human_bone
from ._skeletal_events import skeletal_events
from ._vicious_cycle import vicious_cycle

#: Human values for the mouse-calibrated vicious cycle (``bone="vicious_cycle"``). Scaling
#: (assumptions): the vicious cycle was calibrated on mouse tibiae, where ~1e6 tumour cells
#: give its reference PTHrP output (``T_ref``); in a human skeleton, about three orders of
#: magnitude larger, the same osteolytic drive needs ~1e9 cells (1 g), so ``T_ref = 1e9``;
#: the matrix feedback may at most double the growth rate of bone metastases (``g_T =
#: 0.25``); human bone turns over about a hundred times more slowly than a young mouse's
#: tibia: ``k_z = 0.02 %/day`` gives the ~+9 % lumbar-spine bone density over three years of
#: denosumab (Cummings et al. 2009, NEJM 361:756, FREEDOM); osteoclasts die when RANKL is
#: withdrawn at ``k_RL = 0.65/day``, which makes serum CTX fall 85 % by day 3 after
#: denosumab 60 mg (Prolia US label, section 12.2).
HUMAN_BONE = dict(T_ref=1e9, g_T=0.25, k_z=0.02, k_RL=0.65)

#: Breast natural history (module docstring): values fitted in
#: notebooks/04_human_calibration.py, and what they were fitted to.
NATURAL_HISTORY = {"r_P": 5.279e-4, "kappa[bone]": 2.402e-8}
NATURAL_HISTORY_SOURCE = {
    "r_P": "fitted to zhang2017_vdt (median primary volume doubling time 164 days, Zhang et al. 2017, Med Sci "
           "Monit 23:3147; data/clinical_targets.csv) in notebooks/04_human_calibration.py",
    "kappa[bone]": "fitted to martin2012_latency (median 35 months from diagnosis to bone metastasis, Martin et "
                   "al. 2012, Clin Cancer Res 18:4841; data/clinical_targets.csv) as n_detectable[bone] = ln 2, "
                   "in notebooks/04_human_calibration.py",
}
BONE_CORES = ("human", "vicious_cycle")


def bone_metastasis(preset: str = "breast", organs: tuple[str, ...] | None = None, n_bins: int = 64, *,
                    bone: str = "human", onset: float | None = None, systemic: str | None = None,
                    organs_: Any = _UNSET) -> Composite:
    """The cascade of ``preset`` coupled to a bone model, denosumab, zoledronic acid and
    (with the human core) the skeletal-related-event hazard ``sre`` (module docstring).
    ``organs`` must include ``"bone"`` (``organs_``: its deprecated spelling, with a
    ``DeprecationWarning``); ``bone`` is ``"human"`` (the calibrated human core, default)
    or ``"vicious_cycle"`` (the mouse vicious cycle scaled by :data:`HUMAN_BONE`, no
    ``sre`` part). ``onset``: start before diagnosis, from a primary of ``onset`` cells
    (``seedsoil.models.cascade``; the model declares the outcome ``diagnosis``); the
    typical patient's natural history is calibrated from diagnosis (no disseminated cells
    at t = 0), so a model from onset reaches diagnosis with more disease than it (not
    calibrated for early disease yet: docs, virtual trials). ``systemic``: add a systemic
    anticancer drug as the part ``chemo`` (an agent of
    :func:`seedsoil.models.drugs.systemic_drug`; module docstring)."""
    if bone not in BONE_CORES:
        raise ValueError(f"unknown bone model {bone!r}; choose one of {BONE_CORES}")
    spread = cascade(preset, _deprecated_organs(organs, organs_, "bone_metastasis"), n_bins=n_bins, onset=onset)
    if "bone" not in spread.organs:
        raise ValueError(f"bone_metastasis needs the 'bone' organ; organs: {spread.organs}")
    if preset == "breast":
        for name, value in NATURAL_HISTORY.items():
            spread = spread.with_calibration({name: value}, NATURAL_HISTORY_SOURCE[name])
    human = bone == "human"
    bone_index = spread.organs.index("bone")
    core = human_bone() if human else vicious_cycle(tumour="input").with_params(**HUMAN_BONE)
    parts = {"cascade": spread, "bone": core, "denosumab": denosumab("bone_metastases"), "za": zoledronic_acid()}
    links = [
        Link("cascade", "metastatic_burden", "bone", "tumour_cells", index=bone_index),
        Link("bone", "growth_boost", "cascade", "bone_growth_boost"),
        Link("denosumab", "RANKL_occupancy", "bone", "rankl_inhibition"),
        Link("za", "osteoclast_kill", "bone", "za_effect"),
    ]
    if systemic is not None:  # systemic_drug names a bad agent
        parts["chemo"] = systemic_drug(systemic)
        links.append(Link("chemo", "kill", "cascade", "systemic_kill"))
    if human:  # the SRE hazard's resorption factor is set on uNTx (module docstring)
        parts["sre"] = skeletal_events()
        links += [Link("cascade", "metastatic_burden", "sre", "bone_tumour", index=bone_index),
                  Link("bone", "uNTx", "sre", "uNTx")]
    return compose(parts, links, stiff=False)
