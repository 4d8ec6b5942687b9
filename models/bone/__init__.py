"""Bone microenvironment: the vicious cycle of bone metastasis."""

from ._vicious_cycle import ViciousCycle, vicious_cycle
from .disease import HUMAN_BONE, bone_metastasis

__all__ = ["HUMAN_BONE", "ViciousCycle", "bone_metastasis", "vicious_cycle"]
