"""seedsoil solvers: how models are simulated and used (no biology here).

Importing this package switches JAX to float64 and enables JAX's persistent compilation
cache (directory ``$SEEDSOIL_CACHE_DIR``, default ``~/.cache/seedsoil/jax``; set
``SEEDSOIL_CACHE_DIR=off`` to disable), so a second Python session reuses compiled solves;
:mod:`solvers.programs` keeps the traced solves there too, so it does not trace them again.
It also switches off XLA's experimental YNNPACK fusion on CPU (see :func:`_cpu_flags`);
import ``solvers`` before the first JAX computation of the process for that to apply.
"""

import os

import jax

jax.config.update("jax_enable_x64", True)

#: The XLA flag set by :func:`_cpu_flags`, and the jaxlib series it was measured with.
_YNN_FLAG, _YNN_JAXLIB = "xla_cpu_experimental_ynn_fusion_type", "0.10."


def _cpu_flags() -> None:
    """Switch off XLA's experimental YNNPACK fusion on CPU (``--xla_cpu_experimental_ynn_fusion_type=``).

    jaxlib 0.10 hands reductions of batched arrays to YNNPACK: under ``jax.vmap``, the
    cascade's per-organ integrals over the size bins (and six reductions in their VJP)
    become YNNPACK calls that cost far more than the sums themselves. Measured on the
    full model (bench/bench_full.py, breast, 5 years, 128 members in one vmapped sweep,
    2-core CPU, two interleaved runs per setting): 82-91 ms per member with the fusion,
    44-45 ms without; unbatched solves have no such reduction on their hot path. In
    bench/bench_full.py's own runs a vmapped member took 0.84x the time of one solved in
    sequence before (commit 54e9de0) and 0.50-0.56x after (7d46699).

    XLA reads ``XLA_FLAGS`` once, when JAX starts its CPU backend, so this applies only if
    ``solvers`` is imported before the process's first JAX computation. A value already in
    ``XLA_FLAGS`` (any setting of this flag) is left as the user set it. Other jaxlib
    series are left alone: an unknown flag aborts XLA, and the gain must be measured again.
    """
    import jaxlib

    flags = os.environ.get("XLA_FLAGS", "")
    if _YNN_FLAG in flags or not jaxlib.__version__.startswith(_YNN_JAXLIB):
        return
    os.environ["XLA_FLAGS"] = f"{flags} --{_YNN_FLAG}=".strip()
    try:
        from jax._src.xla_bridge import backends_are_initialized
    except ImportError:  # private API; without it, no warning
        return
    if backends_are_initialized():
        import warnings

        warnings.warn(f"solvers was imported after JAX started its backend, so XLA_FLAGS --{_YNN_FLAG}= "
                      "does not apply in this process (batched sweeps on CPU about 2x slower); import solvers "
                      "before the first JAX computation, or set it in XLA_FLAGS yourself", stacklevel=3)


_cpu_flags()


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
