"""What importing seedsoil changes in the process, and how to opt out of each.

seedsoil computes in float64 and keeps compiled solves across Python sessions. Importing any
part of it (``import seedsoil``, ``from seedsoil.models import ...``) therefore makes three
process-wide changes, each with one switch, an environment variable read at import:

1. **float64**: ``jax_enable_x64`` is set to ``True``, because populations, doses and size
   bins span twenty orders of magnitude that float32 loses. Opt out with ``SEEDSOIL_X64=off``:
   JAX's setting is left alone, and models are built and seedsoil is called inside
   ``with jax.enable_x64(True):`` (``simulate`` raises a ``RuntimeError`` saying so when called
   without float64, or with a model built without it).
2. **Compilation cache**: JAX's persistent compilation cache is set to ``$SEEDSOIL_CACHE_DIR``
   (default ``~/.cache/seedsoil/jax``) unless the user already set one, so a second session
   reuses compiled solves (and :mod:`seedsoil.solvers.programs` keeps traced solves there).
   Opt out with ``SEEDSOIL_CACHE_DIR=off``.
3. **XLA flag**: ``--xla_cpu_experimental_ynn_fusion_type=`` is appended to ``XLA_FLAGS``
   (jaxlib 0.10 only, and only if the flag is not there already), because XLA CPU's
   experimental YNNPACK fusion makes vmapped sweeps about 2x slower (see the performance
   page). Opt out with ``SEEDSOIL_XLA_FLAGS=off``, or set the flag in ``XLA_FLAGS`` yourself.

XLA reads ``XLA_FLAGS`` once, when JAX starts its CPU backend, so the last change applies only
when seedsoil is imported before the process's first JAX computation; otherwise a warning says
that it could not apply.
"""

from __future__ import annotations

import os
import warnings

import jax

__all__ = ["OFF", "apply", "require_x64"]

#: The value that switches one of the changes off (case-insensitive).
OFF = "off"

#: The XLA flag set by :func:`_cpu_flags`, and the jaxlib series it was measured with.
_YNN_FLAG, _YNN_JAXLIB = "xla_cpu_experimental_ynn_fusion_type", "0.10."


def _off(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() == OFF


def _x64() -> None:
    if not _off("SEEDSOIL_X64"):
        jax.config.update("jax_enable_x64", True)


def _cpu_flags() -> None:
    """Switch off XLA's experimental YNNPACK fusion on CPU (``--xla_cpu_experimental_ynn_fusion_type=``).

    jaxlib 0.10 hands reductions of batched arrays to YNNPACK: under ``jax.vmap`` the cascade's
    per-organ integrals over the size bins (and reductions in their VJP) become YNNPACK calls
    that cost far more than the sums themselves (measured in ``bench/bench_full.py``; see the
    performance page). A value already in ``XLA_FLAGS`` (any setting of this flag) is left as
    the user set it. Other jaxlib series are left alone: an unknown flag aborts XLA.
    """
    import jaxlib

    flags = os.environ.get("XLA_FLAGS", "")
    if _off("SEEDSOIL_XLA_FLAGS") or _YNN_FLAG in flags or not jaxlib.__version__.startswith(_YNN_JAXLIB):
        return
    os.environ["XLA_FLAGS"] = f"{flags} --{_YNN_FLAG}=".strip()
    try:
        from jax._src.xla_bridge import backends_are_initialized
    except ImportError:  # private API; without it, no warning
        return
    if backends_are_initialized():
        warnings.warn(
            f"seedsoil was imported after JAX started its backend, so XLA_FLAGS --{_YNN_FLAG}= does not apply "
            "in this process (batched sweeps on CPU about 2x slower); import seedsoil before the first JAX "
            "computation, set the flag in XLA_FLAGS yourself, or silence this with SEEDSOIL_XLA_FLAGS=off",
            stacklevel=4,
        )


def _compilation_cache() -> None:
    path = os.environ.get("SEEDSOIL_CACHE_DIR", os.path.join(os.path.expanduser("~"), ".cache", "seedsoil", "jax"))
    if path.strip().lower() == OFF or jax.config.jax_compilation_cache_dir:
        return
    try:
        os.makedirs(path, exist_ok=True)
    except OSError:
        return
    jax.config.update("jax_compilation_cache_dir", path)
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.5)


def apply() -> None:
    """Make the three changes of the module docstring, each unless switched off."""
    _x64()
    _cpu_flags()
    _compilation_cache()


def require_x64(model=None) -> None:
    """Raise a ``RuntimeError`` unless JAX computes in float64 (``jax_enable_x64``) and every
    floating-point array of ``model`` (if given) is float64.

    With ``SEEDSOIL_X64=off`` both the call and the model's construction belong inside
    ``with jax.enable_x64(True):``: a model built outside it holds float32 arrays.
    """
    if not jax.config.jax_enable_x64:
        raise RuntimeError(
            "seedsoil computes in float64, but jax_enable_x64 is False (SEEDSOIL_X64=off keeps JAX's own "
            "setting): build the model and call seedsoil inside `with jax.enable_x64(True):`, "
            "or drop SEEDSOIL_X64=off"
        )
    if model is not None:
        import numpy as np

        low = sorted({str(leaf.dtype) for leaf in jax.tree_util.tree_leaves(model)
                      if hasattr(leaf, "dtype") and np.issubdtype(leaf.dtype, np.floating) and leaf.dtype.itemsize < 8})
        if low:
            raise RuntimeError(
                f"model {getattr(model, 'name', type(model).__name__)!r} holds {', '.join(low)} arrays: it was "
                "built while float64 was off (SEEDSOIL_X64=off); build it inside `with jax.enable_x64(True):`"
            )
