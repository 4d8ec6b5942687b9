"""seedsoil solvers: how models are simulated and used (no biology here).

Importing this package switches JAX to float64 and enables JAX's persistent compilation
cache (directory ``$SEEDSOIL_CACHE_DIR``, default ``~/.cache/seedsoil/jax``; set
``SEEDSOIL_CACHE_DIR=off`` to disable), so a second Python session reuses compiled solves;
:mod:`solvers.programs` keeps the traced solves there too, so it does not trace them again.
"""

import os

import jax

jax.config.update("jax_enable_x64", True)


def _enable_compilation_cache() -> None:
    path = os.environ.get("SEEDSOIL_CACHE_DIR", os.path.join(os.path.expanduser("~"), ".cache", "seedsoil", "jax"))
    if path.lower() == "off" or jax.config.jax_compilation_cache_dir:
        return
    try:
        os.makedirs(path, exist_ok=True)
    except OSError:
        return
    jax.config.update("jax_compilation_cache_dir", path)
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.5)


_enable_compilation_cache()

from .data import Dataset, load_dataset  # noqa: E402
from .fit import (  # noqa: E402
    Condition, FitProblem, FitResult, Observation, Posterior, ProfileResult, fit, profile, sample_posterior,
)
from .regimen import Regimen, bolus, every, from_schedule, infusion, scale  # noqa: E402
from .simulate import STATUS, Solution, SolveError, SolverOptions, simulate, trace_count  # noqa: E402
from .sbml import export as export_sbml, roadrunner_load, roadrunner_simulate, sbml_errors  # noqa: E402
from .sensitivity import LocalSensitivity, SampleError, local_sensitivity, morris, parameter_ranges, sobol  # noqa: E402
from .sweep import SweepResult, load_sweep, sweep  # noqa: E402

__all__ = [
    "Condition", "Dataset", "FitProblem", "FitResult", "Observation", "Posterior", "ProfileResult", "fit",
    "load_dataset", "profile", "sample_posterior",
    "LocalSensitivity", "SampleError", "local_sensitivity", "morris", "parameter_ranges", "sobol",
    "export_sbml", "roadrunner_load", "roadrunner_simulate", "sbml_errors",
    "Regimen", "STATUS", "Solution", "SolveError", "SolverOptions", "SweepResult", "load_sweep", "sweep",
    "bolus", "every", "from_schedule", "infusion", "scale", "simulate", "trace_count",
]
