"""Overt metastases per organ as a size-structured density (Iwata et al. 2000; Benzekry).

For each organ o, the density n_o(y, t) of metastases over log-size y = ln x (x in cells)
obeys the transport equation of ``size_structured.py``::

    dn_o/dt + d(G_o n_o)/dy = 0,   G_o(y) = a_o (ln K_o - y)   (Gompertz growth of each metastasis)
    inflow at y = 0 (one cell) = founding rate of organ o (awakened DTCs per day)

so each metastasis grows by its own Gompertz law from one cell to at most K_o cells.
Burden (cells), number, and number above the detection size ``x_detect`` are integrals of
n_o (third-order finite volumes; see ``size_structured.py`` for the measured accuracy).
Metastases shed cells like the primary, scaled by ``reseed`` (tumour self-seeding and
metastasis-to-metastasis seeding; Kim et al. 2009 Cell 139:1315).

Systemic therapy: a kill rate ``k_o`` (1/day) of the proliferating cells of every overt
metastasis in organ o (the cascade's ``systemic_kill`` times the organ's ``penetration``)
makes each metastasis shrink, ``dx/dt = g(x) - k_o x``, i.e. ``dy/dt = G_o(y) - k_o`` in
log-size, so the density obeys::

    dn_o/dt + d((G_o - k_o) n_o)/dy = 0,   i.e.   dn_o/dt = [growth transport] + d(k_o n_o)/dy

Metastases move to smaller sizes; one shrunk below one cell (``y < 0``) is gone: it leaves
through ``y = 0`` at the net speed ``max(k_o - G_o(0), 0)``, while newly founded ones still
enter there at the founding rate (``size_structured.shrink_rhs``). So a kill lowers the
burden (cells) and, once it exceeds the growth speed of the smallest metastases
(``a_o ln K_o``, ~0.05/day), the number of metastases too. Dormant DTCs are not in ``n``:
the kill never reaches them.

Numerics under a kill: the shrink part always, and the growth part while ``k_o`` exceeds
``KILL_BOUNDED`` (1e-3/day), use bounded face values (``size_structured.bounded_face``:
between 0 and twice the upwind bin's value, smooth), so the treated density stays >= 0 where
it was. Without a kill the growth scheme is the linear third-order one, bitwise as before.
The linear face values under a kill left ripples that drove burdens far below zero on
coarse grids and, where the balance size ``y* = ln K_o - k_o / a_o`` fell inside the first
bin (the brain at penetration 0.1 of a 0.5/day kill), stopped the solve at ``max_steps``.
Open: the untreated scheme's small undershoot at the leading edge of the density (module
docstring of ``size_structured``) is carried into a treated density, so after a
near-complete kill a burden can sit slightly below zero (about 1e-4 of its value before
treatment on 16 bins; a strict xfail in ``tests/test_systemic.py``).
"""

from __future__ import annotations

import jax.numpy as jnp

from ..base import Param
from .organs import organ_rows
from .size_structured import LogSizeGrid

SRC_FRIBERG = ("Friberg & Mattson 1997, J Surg Oncol 65:284 (metastasis volume doubling times ~1-3 months at "
               "clinical sizes)")
SRC_DETECT = "clinical imaging detects ~1e8-1e9 cells, i.e. ~0.1-1 cm^3 (Del Monte 2009, Cell Cycle 8:505)"
SRC_KIM = "Kim et al. 2009, Cell 139:1315 (tumour self-seeding by CTCs)"


#: Kill rate (1/day) above which the growth part of the size density uses bounded face values
#: (module docstring). A drug's kill decays with its concentration but never reaches zero; below
#: this rate (1/50 of the growth speed of a one-cell metastasis, ``a ln K`` ~ 0.05/day) the balance
#: size lies near the plateau, where the linear scheme is well behaved. Keeping the bounded
#: faces on down to any kill costs time (``bench/bench_kill_faces.py``; docs/performance.md).
#: Only the face values switch; the kill itself acts at every rate.
KILL_BOUNDED = 1e-3


def params(organs: tuple[str, ...]) -> tuple[Param, ...]:
    rows = organ_rows(organs)
    n = (len(rows),)
    return (
        Param("a_met", tuple(r.met_growth for r in rows), "1/day", SRC_FRIBERG, (0.0, 1.0),
              "Gompertz rate of one metastasis (0.002/day: ~50-day doubling at 1e8 cells)", shape=n, labels=organs),
        Param("K_met", tuple(r.met_capacity for r in rows), "cells", SRC_FRIBERG, (2.0, 1e14),
              "Gompertz plateau of one metastasis", shape=n, labels=organs),
        Param("x_detect", 1e8, "cells", SRC_DETECT, (1.0, 1e14), "smallest detectable metastasis"),
        Param("reseed", 1.0, "1", SRC_KIM, (0.0, 10.0), "shedding per metastatic cell relative to a primary cell"),
    )


def grid(p, n_bins: int) -> LogSizeGrid:
    """Log-size bins per organ from 1 cell to K_o (:class:`size_structured.LogSizeGrid`:
    evaluated on one unit grid stretched by ln K_o per organ)."""
    return LogSizeGrid.from_max(p.K_met, n_bins)


def derivative(n, g: LogSizeGrid, p, founding, boost=0.0, kill=None):
    """dn_o/dt on the organ axis (metastases per ln(cells) per day); ``boost`` (per organ,
    dimensionless) speeds up growth by a factor ``1 + boost`` (bone: the vicious cycle).
    The Gompertz speed ``a_o (ln K_o - y)`` is ``a_o (1 - z)`` in ``z = y / ln K_o``.
    ``kill`` (per organ, 1/day; ``None``: none) shrinks every metastasis (module docstring):
    ``+ d(k_o n_o)/dy``, with metastases below one cell leaving at ``max(k_o - G_o(0), 0)``."""
    speed = (p.a_met * (1.0 + boost))[..., None] * (1.0 - g.unit)
    if kill is None:
        return g.transport_rhs(n, speed, founding)
    g0 = speed[..., 0] * g.length  # G_o(y = 0) = a_o ln K_o, 1/day
    # bounded face values (positivity): the shrink part always, the growth part while kill > KILL_BOUNDED
    growth = g.transport_rhs(n, speed, founding, positive=kill > KILL_BOUNDED)
    return growth + g.shrink_rhs(n, kill, jnp.maximum(kill - g0, 0.0))


def mass(n, g: LogSizeGrid):
    """Cells in overt metastases per organ."""
    return g.integrate(n, jnp.exp)


def number(n, g: LogSizeGrid):
    """Number of overt metastases per organ."""
    return g.total_number(n)


def number_above(n, g: LogSizeGrid, x):
    """Number of metastases larger than ``x`` cells per organ."""
    return g.count_above(n, jnp.log(x))
