"""Bone microenvironment: the vicious cycle of bone metastasis, the human bone-remodelling core and the
hazard of skeletal-related events."""

from ._human_bone import HumanBone, human_bone
from ._population import bone_metastasis_population
from ._skeletal_events import SkeletalEvents, skeletal_events
from ._vicious_cycle import ViciousCycle, vicious_cycle
from .disease import HUMAN_BONE, bone_metastasis

__all__ = ["HUMAN_BONE", "HumanBone", "SkeletalEvents", "ViciousCycle", "bone_metastasis", "bone_metastasis_population",
           "human_bone", "skeletal_events", "vicious_cycle"]
