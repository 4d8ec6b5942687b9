"""seedsoil models: what is simulated (states, parameters, right-hand sides, observables).

Definitions only: no model imports a solver. Families:

* :mod:`seedsoil.models.reference`: published models reproduced exactly (Komarova 2003,
  Lemaire 2004, Ayati 2010);
* :mod:`seedsoil.models.metastasis`: the metastatic cascade (:func:`cascade`) and Iwata 2000;
* :mod:`seedsoil.models.bone`: the bone vicious cycle, the human bone-remodelling core
  (:func:`human_bone`) and the full bone-metastasis model;
* :mod:`seedsoil.models.drugs`: denosumab, zoledronic acid, OPG-Fc, a generic systemic
  anticancer drug (:func:`systemic_drug`) and label schedules.
"""

from . import base, bone, drugs, metastasis, reference
from ._compose import Composite, Link, compose
from ._population import LogitNormal, LogNormal, Normal, Population
from .base import Input, Model, Observable, Outcome, Param, Params, State, UnknownNameError, View
from .bone import (
    HUMAN_BONE,
    HumanBone,
    SkeletalEvents,
    ViciousCycle,
    bone_metastasis,
    bone_metastasis_population,
    human_bone,
    skeletal_events,
    vicious_cycle,
)
from .drugs import denosumab, opg_fc, systemic_drug, zoledronic_acid
from .metastasis import Cascade, cascade, cascade_population, iwata2000
from .reference import ayati2010, komarova2003, lemaire2004

__all__ = [
    "ayati2010", "base", "bone", "bone_metastasis", "bone_metastasis_population", "cascade", "Cascade",
    "cascade_population", "compose",
    "Composite", "denosumab", "drugs", "HUMAN_BONE", "human_bone", "HumanBone", "Input", "iwata2000", "komarova2003",
    "lemaire2004", "Link",
    "LogitNormal", "LogNormal", "metastasis", "Model", "Normal", "Observable", "opg_fc", "Outcome", "Param",
    "Params", "Population", "reference", "skeletal_events", "SkeletalEvents", "State", "systemic_drug",
    "UnknownNameError",
    "vicious_cycle", "ViciousCycle", "View", "zoledronic_acid",
]
