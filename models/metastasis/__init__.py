"""The metastatic cascade: primary, EMT, CTCs, organs, dormancy, size-structured metastases.

``cascade(preset)`` composes the submodels (one file each) into one model;
``iwata2000()`` is the size-structured metastasis model of Iwata et al. 2000 on its own;
``cascade_population(preset)`` is a preset's virtual population, calibrated so that the
preset's site frequencies are fractions of patients with metastases at death.
"""

from ._population import cascade_population
from .model import CTC_DYNAMICS, Cascade, cascade
from .organs import DEFAULT_ORGANS, ORGANS, Organ
from .presets import PRESETS
from .primary import GROWTH_LAWS
from .size_structured import (
    Iwata2000,
    LogSizeGrid,
    cell_slopes,
    cell_widths,
    colonisation_rate,
    count_above,
    gompertz_rate,
    gompertz_size,
    integrate_density,
    iwata2000,
    log_size_grid,
    total_number,
    transport_rhs,
)

__all__ = [
    "CTC_DYNAMICS", "Cascade", "DEFAULT_ORGANS", "GROWTH_LAWS", "ORGANS", "Organ", "PRESETS", "cascade",
    "Iwata2000", "LogSizeGrid", "cell_slopes", "cell_widths", "colonisation_rate", "count_above", "gompertz_rate",
    "gompertz_size", "integrate_density", "iwata2000", "log_size_grid", "total_number", "transport_rhs",
    "cascade_population",
]
