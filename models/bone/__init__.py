"""Bone microenvironment: the vicious cycle of bone metastasis."""

from .disease import bone_metastasis
from .vicious_cycle import ViciousCycle, vicious_cycle

__all__ = ["ViciousCycle", "bone_metastasis", "vicious_cycle"]
