"""Bone microenvironment: the vicious cycle of bone metastasis."""

from .vicious_cycle import ViciousCycle, vicious_cycle

__all__ = ["ViciousCycle", "vicious_cycle"]
