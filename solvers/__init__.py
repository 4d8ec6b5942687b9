"""seedsoil solvers: how models are simulated and used (no biology here).

Every function works on any :class:`~seedsoil.models.Model`: solve with exact dosing events
(:func:`simulate`), batch and stream parameter sets (:func:`sweep`), local and global
sensitivities, fits to tidy data with profiles and posteriors, and SBML export.
Importing seedsoil sets float64, a persistent compilation cache and one XLA flag; see
:mod:`seedsoil._config` for what each does and how to opt out.
"""

from . import data, programs, reciprocal, regimen, sbml, sensitivity
from ._events import EventTimes, event_free, poisson_fraction, prob_none, sample_event_times
from ._fit import (
    CHI2_95,
    Condition,
    FitProblem,
    FitResult,
    Observation,
    Posterior,
    ProfileResult,
    StartsReport,
    fit,
    identity,
    log10,
    profile,
    relative,
    sample_posterior,
)
from ._predict import Band, CrossValidation, ModelComparison, compare_models, cross_validate, forecast, restrict
from ._selection import Selection, select_by_ranges, select_virtual_population
from ._simulate import STATUS, Solution, SolveError, SolverOptions, simulate, trace_count
from ._sweep import SweepResult, load_sweep, sweep
from ._trial import Trial, virtual_trial
from .data import Dataset, load_dataset
from .regimen import Regimen, bolus, every, from_schedule, infusion, scale
from .sbml import export as export_sbml
from .sbml import roadrunner_load, roadrunner_simulate, sbml_errors
from .sensitivity import LocalSensitivity, SampleError, local_sensitivity, morris, parameter_ranges, sobol

__all__ = [
    "Band", "CHI2_95", "Condition", "CrossValidation", "ModelComparison", "compare_models", "cross_validate",
    "forecast", "restrict", "Dataset", "FitProblem", "FitResult", "LocalSensitivity", "Observation", "Posterior",
    "ProfileResult", "Regimen", "STATUS", "SampleError", "Solution", "SolveError", "SolverOptions", "StartsReport",
    "SweepResult", "bolus", "data", "every", "export_sbml", "fit", "from_schedule", "identity", "infusion",
    "load_dataset", "load_sweep", "local_sensitivity", "log10", "morris", "parameter_ranges", "profile",
    "programs", "reciprocal", "regimen", "relative", "roadrunner_load", "roadrunner_simulate", "sample_posterior",
    "sbml", "sbml_errors", "scale", "sensitivity", "simulate", "sobol", "sweep", "trace_count",
    "EventTimes", "Selection", "Trial", "virtual_trial", "event_free", "poisson_fraction",
    "prob_none", "sample_event_times", "select_by_ranges", "select_virtual_population",
]
