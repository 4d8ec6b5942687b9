"""Bone microenvironment: the vicious cycle of bone metastasis."""

from .disease import HUMAN_BONE, bone_metastasis
from ._vicious_cycle import ViciousCycle, vicious_cycle

__all__ = ["HUMAN_BONE", "ViciousCycle", "bone_metastasis", "vicious_cycle"]
