"""seedsoil: mechanistic ODE/PDE models of cancer metastasis in JAX + diffrax.

``seedsoil.models`` declares what is simulated; ``seedsoil.solvers`` says how (solves with
exact dosing events, sweeps, sensitivities, fits, SBML export); ``seedsoil.plot`` draws the
results. The names used every day are re-exported here::

    import seedsoil as ss
    sol = ss.simulate(ss.cascade(preset="breast"), days)

Importing seedsoil sets float64, a persistent compilation cache and one XLA flag for the
process; :mod:`seedsoil._config` says what each does and how to opt out of it.
"""

from . import _config

_config.apply()

from . import models, solvers  # noqa: E402
from .models import (  # noqa: E402
    HUMAN_BONE,
    Input,
    Link,
    LogitNormal,
    LogNormal,
    Model,
    Normal,
    Observable,
    Outcome,
    Param,
    Params,
    Population,
    State,
    ayati2010,
    bone_metastasis,
    bone_metastasis_population,
    cascade,
    cascade_population,
    compose,
    denosumab,
    iwata2000,
    komarova2003,
    lemaire2004,
    opg_fc,
    systemic_drug,
    vicious_cycle,
    zoledronic_acid,
)
from .solvers import (  # noqa: E402
    Condition,
    FitProblem,
    Observation,
    Regimen,
    SolveError,
    SolverOptions,
    Trial,
    bolus,
    every,
    export_sbml,
    fit,
    from_schedule,
    identity,
    infusion,
    load_dataset,
    load_sweep,
    local_sensitivity,
    log10,
    morris,
    profile,
    relative,
    sample_posterior,
    scale,
    simulate,
    sobol,
    sweep,
    virtual_trial,
)

__version__ = "0.1.0"

__all__ = [
    "HUMAN_BONE", "Condition", "FitProblem", "Input", "Link", "Model", "Observable", "Observation", "Param",
    "Params", "Regimen", "SolveError", "SolverOptions", "State", "ayati2010", "bolus", "bone_metastasis",
    "cascade", "compose", "denosumab", "every", "export_sbml", "fit", "from_schedule", "identity", "infusion",
    "iwata2000", "komarova2003", "lemaire2004", "load_dataset", "load_sweep", "local_sensitivity", "log10",
    "models", "morris", "opg_fc", "profile", "relative", "sample_posterior", "scale", "simulate", "sobol",
    "solvers", "sweep", "vicious_cycle", "zoledronic_acid", "LogNormal", "LogitNormal", "Normal", "Outcome",
    "Population", "Trial", "virtual_trial", "bone_metastasis_population", "cascade_population",
    "systemic_drug",
]


def __getattr__(name: str):
    # seedsoil.plot needs matplotlib, which costs import time: it loads on first use.
    if name == "plot":
        import importlib

        return importlib.import_module(".plot", __name__)
    raise AttributeError(f"module 'seedsoil' has no attribute {name!r}")
