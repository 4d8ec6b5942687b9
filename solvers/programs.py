"""Reuse traced simulation programs across Python sessions (warm start).

A new Python session that simulates a model pays three costs before the first number:
tracing the solve (Python runs diffrax's loop once per model structure, ~1.3 s for the
full bone-metastasis model), lowering it to StableHLO (~0.4 s) and compiling it with XLA
(~5 s). JAX's persistent compilation cache, which ``solvers`` enables, removes the third
when the same program comes again. This module removes the first two: the lowered
program of :func:`~solvers.simulate` is written with :mod:`jax.export` next to JAX's
cache (``$SEEDSOIL_CACHE_DIR/programs``) and read back by later sessions, so a warm
first call is a file read, a cache hit and the solve.

Key of a program (any change gives a new program, never a stale one):

* the model's fingerprint: the jaxpr text and constants of its right-hand side,
  observables, inputs and breakpoints, with the model's arrays as inputs (so presets of
  one structure share a program, as they share a compiled function in a session); traced
  once per structure and session (~0.3 s on the full model). A jaxpr naming an object
  address, which differs per session, disables reuse for that model rather than risk a
  wrong hit;
* the solver options, the pytree structure, shapes and dtypes of the arguments and the
  batch axes (numbers such as parameters, times, doses are arguments, not constants);
* the versions of jax, jaxlib, diffrax, equinox, lineax and the platform, and a hash of
  this package's solver sources.

Only top-level calls with concrete inputs use it; inside ``jax.jit``, ``grad`` or
``vmap`` the solve is traced as usual. ``SEEDSOIL_CACHE_DIR=off`` disables it with JAX's
cache. Files are written atomically; an unreadable file is ignored and rewritten.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import os
import re
import tempfile
from collections.abc import Callable
from pathlib import Path

import equinox as eqx
import jax
import numpy as np

from models.base import Model, View

__all__ = ["cached_call", "model_fingerprint", "program_dir"]

_ADDRESS = re.compile(r" at 0x[0-9a-fA-F]+")
_FINGERPRINTS: dict = {}
_PROGRAMS: dict[str, Callable] = {}


def program_dir() -> Path | None:
    """Where programs are kept: ``<JAX compilation cache dir>/programs``, or ``None`` if off."""
    root = jax.config.jax_compilation_cache_dir
    return Path(root) / "programs" if root else None


def _structure(model: Model):
    """Hashable structure of ``model`` without its array values (as ``eqx.filter_jit`` sees it)."""
    leaves, treedef = jax.tree_util.tree_flatten(model)
    return treedef, tuple((np.shape(x), np.dtype(x.dtype)) if eqx.is_array(x) else x for x in leaves)


def model_fingerprint(model: Model) -> str | None:
    """SHA-256 of what the solver calls of ``model`` (see module docstring), or ``None``.

    The model's arrays are inputs of the traced functions, not constants, so models that
    differ only in array values (presets of one structure) share a fingerprint, and so a
    program. Memoised per structure within a session.
    """
    try:
        memo_key = _structure(model)
        hash(memo_key)
    except TypeError:  # an unhashable non-array leaf: fingerprint, but do not memoise
        memo_key = None
    if memo_key is not None and memo_key in _FINGERPRINTS:
        return _FINGERPRINTS[memo_key]
    arrays, static = eqx.partition(model, eqx.is_array)
    n, m = model.n_states, model.n_inputs

    def parts(arrays, t, y, p, forcing, u):
        mdl = eqx.combine(arrays, static)
        return (mdl.vector_field(t, y, p, forcing), mdl.observe(t, y, p, u), mdl.input_vector(t, p),
                mdl.breakpoints(View(p, mdl.params.layout)))

    try:
        closed = jax.make_jaxpr(parts)(arrays, 0.0, model.y0, model.params.values, np.zeros(n + m), np.zeros(m))
        text = str(closed)
    except Exception:  # anything the fingerprint cannot trace: solve as before, just not kept
        text = None
    if text is None or _ADDRESS.search(text):
        fp = None
    else:
        h = hashlib.sha256(text.encode())
        for c in closed.consts:
            a = np.asarray(c)
            h.update(f"{a.dtype}{a.shape}".encode())
            h.update(np.ascontiguousarray(a).tobytes())
        fp = h.hexdigest()
    if memo_key is not None:
        _FINGERPRINTS[memo_key] = fp
    return fp


def _environment() -> str:
    versions = []
    for dist in ("jax", "jaxlib", "diffrax", "equinox", "lineax"):
        try:
            versions.append(f"{dist}={importlib.metadata.version(dist)}")
        except importlib.metadata.PackageNotFoundError:
            versions.append(f"{dist}=?")
    here = Path(__file__).resolve().parent
    src = hashlib.sha256()
    for name in ("simulate.py", "regimen.py", "programs.py"):
        src.update((here / name).read_bytes())
    return ";".join(versions + [jax.default_backend(), src.hexdigest()])


_ENV: list[str] = []


def cached_call(model: Model, tag: str, fn: Callable, args: tuple):
    """``fn(model, *args)`` through a program kept on disk, keyed by ``model`` and ``tag``.

    ``fn`` must be a pure function of the array leaves of ``model`` and ``args``, with the
    rest of ``model`` and ``tag`` (static settings, e.g. solver options and batch axes, as
    a string) fixed. Falls back to calling ``fn`` directly when reuse is off or impossible.
    """
    where = program_dir()
    fp = model_fingerprint(model) if where is not None else None
    if fp is None:
        return fn(model, *args)
    arrays, static = eqx.partition(model, eqx.is_array)
    model_leaves = jax.tree_util.tree_leaves(arrays)
    arg_leaves, arg_tree = jax.tree_util.tree_flatten(args)
    leaves = model_leaves + arg_leaves
    if not _ENV:
        _ENV.append(_environment())
    sig = ";".join(f"{np.dtype(x.dtype)}{tuple(np.shape(x))}" for x in leaves)
    key = hashlib.sha256("|".join((fp, tag, str(arg_tree), sig, _ENV[0])).encode()).hexdigest()[:40]
    call = _PROGRAMS.get(key)
    if call is None:
        model_tree = jax.tree_util.tree_structure(arrays)
        k = len(model_leaves)

        def flat(*xs):
            mdl = eqx.combine(jax.tree_util.tree_unflatten(model_tree, xs[:k]), static)
            return fn(mdl, *jax.tree_util.tree_unflatten(arg_tree, xs[k:]))

        call = _load_or_export(where / f"{key}.jaxexport", flat, leaves)
        _PROGRAMS[key] = call
    return call(*leaves)


def _load_or_export(path: Path, flat: Callable, leaves) -> Callable:
    try:
        exported = jax.export.deserialize(bytearray(path.read_bytes()))
    except Exception:  # missing, partial or from another format: export it again
        exported = None
    if exported is None:
        specs = [jax.ShapeDtypeStruct(np.shape(x), x.dtype) for x in leaves]
        exported = jax.export.export(jax.jit(flat))(*specs)
        try:
            blob = exported.serialize()
            path.parent.mkdir(parents=True, exist_ok=True)
            with tempfile.NamedTemporaryFile(dir=path.parent, delete=False, suffix=".tmp") as f:
                f.write(blob)
            os.replace(f.name, path)  # atomic: a concurrent session reads all or nothing
        except (OSError, ImportError):
            pass  # read-only cache (or no flatbuffers): the program still runs, it just is not kept
    return jax.jit(exported.call)
