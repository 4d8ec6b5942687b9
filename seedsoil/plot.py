"""Figures drawn from seedsoil results with matplotlib (see :mod:`seedsoil.solvers.plot`).

Loaded on first use (``seedsoil.plot`` or ``import seedsoil.plot``), so ``import seedsoil``
does not import matplotlib. Every function returns ``(figure, axes)`` and never calls
``plt.show()``.
"""

from .solvers.plot import (
    fitted,
    forecast,
    kaplan_meier,
    morris_bars,
    profiles,
    quantile_bands,
    sobol_bars,
    trajectories,
    vpc,
)

__all__ = ["trajectories", "fitted", "forecast", "profiles", "morris_bars", "sobol_bars", "quantile_bands",
           "kaplan_meier", "vpc"]
