"""Small checks of user input shared by the population declarations (``models``) and the
event probabilities and selection (``solvers``): each raises ``ValueError`` naming the bad
value."""

from __future__ import annotations

import math
import numbers
from typing import Any

import numpy as np

#: Tolerance below zero (and for a decrease of a cumulative hazard) taken as solver rounding.
_TOL = 1e-9


def _real(x: Any, what: str) -> float:
    """``x`` as a finite float, or ``ValueError`` naming ``what``."""
    if isinstance(x, (bool, np.bool_)) or not isinstance(x, numbers.Real):
        raise ValueError(f"{what} must be a finite number; got {x!r}")
    if not math.isfinite(float(x)):
        raise ValueError(f"{what} must be a finite number; got {x!r}")
    return float(x)


def _positive(x: Any, what: str) -> float:
    value = _real(x, what)
    if value <= 0:
        raise ValueError(f"{what} must be > 0; got {x!r}")
    return value


def _count(x: Any, what: str, minimum: int = 1) -> int:
    if isinstance(x, (bool, np.bool_)) or not isinstance(x, numbers.Integral) or x < minimum:
        raise ValueError(f"{what} must be an integer >= {minimum}; got {x!r}")
    return int(x)


def _array(x: Any, what: str) -> np.ndarray:
    """``x`` (numbers, a jax or xarray array) as a float64 numpy array, or ``ValueError``."""
    if x is None or isinstance(x, (str, bytes)):
        raise ValueError(f"{what} must be an array of numbers; got {x!r}")
    try:
        return np.asarray(x, dtype=np.float64)
    except (TypeError, ValueError) as e:
        text = repr(x)
        text = text if len(text) <= 80 else text[:77] + "..."
        raise ValueError(f"{what} must be an array of numbers; got {text}: {str(e).splitlines()[0][:120]}") from None


def _mask(ok: Any, n: int, what: str = "ok") -> np.ndarray:
    """``ok`` as an ``(n,)`` boolean mask (``None``: everyone)."""
    if ok is None:
        return np.ones(n, dtype=bool)
    mask = np.asarray(ok)
    if mask.dtype != bool or mask.shape != (n,):
        raise ValueError(f"{what} must be a boolean array of shape ({n},), one flag per patient; got dtype "
                         f"{mask.dtype} and shape {mask.shape}")
    return mask


def _is_xarray(x: Any) -> bool:
    return hasattr(x, "dims") and hasattr(x, "copy") and hasattr(x, "coords")


def _first(bad: np.ndarray) -> tuple[int, ...]:
    return tuple(int(i) for i in np.argwhere(bad)[0])
