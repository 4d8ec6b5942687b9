"""seedsoil models: what is simulated (states, parameters, right-hand sides, observables).

Definitions only: no model imports a solver. Families:

* :mod:`seedsoil.models.reference`: published models reproduced exactly (Komarova 2003,
  Lemaire 2004, Ayati 2010);
* :mod:`seedsoil.models.metastasis`: the metastatic cascade (:func:`cascade`) and Iwata 2000;
* :mod:`seedsoil.models.bone`: the bone vicious cycle, the human bone-remodelling core
  (:func:`human_bone`) and the full bone-metastasis model;
* :mod:`seedsoil.models.drugs`: denosumab, zoledronic acid, OPG-Fc and label schedules.
"""

from . import base, bone, drugs, metastasis, reference
from ._compose import Composite, Link, compose
from .base import Input, Model, Observable, Outcome, Param, Params, State, UnknownNameError, View
from .bone import (
    HUMAN_BONE,
    HumanBone,
    SkeletalEvents,
    ViciousCycle,
    bone_metastasis,
    human_bone,
    skeletal_events,
    vicious_cycle,
)
from .drugs import denosumab, opg_fc, zoledronic_acid
from .metastasis import Cascade, cascade, iwata2000
from .reference import ayati2010, komarova2003, lemaire2004

__all__ = [
    "Cascade", "Composite", "HUMAN_BONE", "HumanBone", "Input", "Link", "Model", "Observable", "Outcome", "Param",
    "Params",
    "State",
    "UnknownNameError", "View", "ViciousCycle", "ayati2010", "base", "bone", "bone_metastasis", "cascade", "compose",
    "denosumab", "human_bone",
    "drugs", "iwata2000", "komarova2003", "lemaire2004", "metastasis", "opg_fc", "reference", "SkeletalEvents",
    "skeletal_events", "vicious_cycle",
    "zoledronic_acid",
]
