"""Bone microenvironment: the vicious cycle of bone metastasis and the human bone-remodelling core."""

from ._human_bone import HumanBone, human_bone
from ._vicious_cycle import ViciousCycle, vicious_cycle
from .disease import HUMAN_BONE, bone_metastasis

__all__ = ["HUMAN_BONE", "HumanBone", "ViciousCycle", "bone_metastasis", "human_bone", "vicious_cycle"]
