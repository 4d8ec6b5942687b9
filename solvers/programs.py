"""Reuse traced simulation programs across Python sessions (warm start).

A new Python session that simulates a model pays three costs before the first number:
tracing the solve (Python runs diffrax's loop once per model structure), lowering it to
StableHLO and compiling it with XLA (the largest of the three; the performance page of the
docs gives the times for the full bone-metastasis model). JAX's persistent compilation
cache, which importing seedsoil enables (:mod:`seedsoil._config`), removes the third when
the same program comes again. This module removes the first two: the lowered
program of :func:`~seedsoil.solvers.simulate` is written with :mod:`jax.export` next to JAX's
cache (``$SEEDSOIL_CACHE_DIR/programs``) and read back by later sessions, so a warm
first call is a file read, a cache hit and the solve.

Key of a program (any change gives a new program, never a stale one):

* the model's fingerprint: the jaxpr text and constants of its right-hand side,
  observables, inputs and breakpoints, with the model's arrays as inputs (so presets of
  one structure share a program, as they share a compiled function in a session). A
  jaxpr naming an object address, which differs per session, disables reuse for that
  model rather than risk a wrong hit. Tracing and printing that jaxpr costs most of a
  warm start on a large model, so for models built only from this package's classes
  the fingerprint is itself kept on disk (``programs/fingerprint-<key>.txt``) under a key
  read without tracing: every field of the model (arrays by shape and dtype, other values
  by ``repr``, classes by module and name), the text of every source file of ``models/``
  and the environment below. This assumes, as the package's models do, that a model's
  functions read nothing but their own fields and the package's code (module-level
  tables are read when a model is built, into its fields). A model with a class,
  function or value of another kind in it is traced as before;
* the solver options, the pytree structure, shapes and dtypes of the arguments and the
  batch axes (numbers such as parameters, times, doses are arguments, not constants);
* the versions of jax, jaxlib, diffrax, equinox, lineax and the platform, and a hash of
  this package's solver sources.

Only top-level calls with concrete inputs use it; inside ``jax.jit``, ``grad`` or
``vmap`` the solve is traced as usual. ``SEEDSOIL_CACHE_DIR=off`` disables it with JAX's
cache. Files are written atomically (a temporary name, then a rename), with the mode the
umask gives (``0o666 & ~umask``, so a cache shared by a group stays shared). Each file holds
a SHA-256 of its contents, checked on every read: a damaged file (bytes flipped, truncated,
empty) is ignored with a ``RuntimeWarning`` and written again, and a read-only cache is read
but not written; the numbers are those of a run without the cache in every case.
"""

from __future__ import annotations

import dataclasses
import hashlib
import importlib.metadata
import os
import re
import sys
import tempfile
import warnings
from collections.abc import Callable
from pathlib import Path

import equinox as eqx
import jax
import numpy as np

from ..models.base import Model, View

__all__ = ["cached_call", "model_fingerprint", "program_dir"]

_ADDRESS = re.compile(r" at 0x[0-9a-fA-F]+")
_FINGERPRINTS: dict = {}
_SOURCES: list[str] = []
_PACKAGE = Model.__module__.rpartition(".")[0]  # "seedsoil.models": the package whose sources key a kept fingerprint
_PROGRAMS: dict[str, Callable] = {}
#: First line of a kept program file; the SHA-256 of the serialised program follows on the second.
_MAGIC = b"seedsoil-program-1\n"
_UMASK: list[int] = []


def program_dir() -> Path | None:
    """Where programs are kept: ``<JAX compilation cache dir>/programs``, or ``None`` if off."""
    root = jax.config.jax_compilation_cache_dir
    return Path(root) / "programs" if root else None


def _structure(model: Model):
    """Hashable structure of ``model`` without its array values (as ``eqx.filter_jit`` sees it)."""
    leaves, treedef = jax.tree_util.tree_flatten(model)
    return treedef, tuple((np.shape(x), np.dtype(x.dtype)) if eqx.is_array(x) else x for x in leaves)


def _describe(obj, out: list[str], static: bool = False) -> bool:
    """Append a session-independent description of ``obj`` to ``out``; ``False`` if
    ``obj`` holds anything that cannot be described so (see :func:`_source_key`)."""
    if obj is None or isinstance(obj, (bool, int, float, complex, str)):
        out.append(repr(obj))
    elif isinstance(obj, (np.ndarray, np.generic, jax.Array)):
        a = np.asarray(obj)
        out.append(f"array{a.shape}{a.dtype}")
        if static:  # a constant of the traced functions, not an input: its values matter
            out.append(hashlib.sha256(np.ascontiguousarray(a).tobytes()).hexdigest())
    elif type(obj) in (tuple, list):
        out.append(f"{type(obj).__name__}{len(obj)}(")
        if not all(_describe(x, out, static) for x in obj):
            return False
        out.append(")")
    elif type(obj) is dict:
        out.append(f"dict{len(obj)}(")
        for k, v in obj.items():
            if not (_describe(k, out, static) and _describe(v, out, static)):
                return False
        out.append(")")
    elif dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        cls = type(obj)
        if not cls.__module__.startswith(_PACKAGE + "."):  # code outside models/: not covered by its hash
            return False
        out.append(f"{cls.__module__}.{cls.__qualname__}(")
        for f in dataclasses.fields(obj):
            out.append(f.name)
            if not _describe(getattr(obj, f.name), out, static or bool(f.metadata.get("static", False))):
                return False
        out.append(")")
    else:  # functions, sets, arbitrary objects: their repr may hide what the trace sees
        return False
    return True


def _source_key(model: Model) -> str | None:
    """Key under which ``model``'s fingerprint is kept on disk, read without tracing; ``None``
    when the model holds anything but this package's classes, arrays and plain values."""
    out: list[str] = []
    if not _describe(model, out):
        return None
    if not _SOURCES:
        h = hashlib.sha256()
        root = Path(sys.modules[_PACKAGE].__file__).resolve().parent
        for path in sorted(root.rglob("*.py")):
            h.update(str(path.relative_to(root)).encode())
            h.update(path.read_bytes())
        _SOURCES.append(h.hexdigest())
    text = "|".join(("\x1f".join(out), _SOURCES[0], _env(), str(jax.config.jax_enable_x64)))
    return hashlib.sha256(text.encode()).hexdigest()[:40]


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
    where = program_dir()
    kept = None
    if where is not None:
        key = _source_key(model)
        kept = None if key is None else where / f"fingerprint-{key}.txt"
        fp = _read_fingerprint(kept) if kept is not None else None
        if fp is not None:
            if memo_key is not None:
                _FINGERPRINTS[memo_key] = fp
            return fp
    fp = _traced_fingerprint(model)
    if memo_key is not None:
        _FINGERPRINTS[memo_key] = fp
    if kept is not None and fp is not None:
        _write_atomic(kept, f"{fp}\n{hashlib.sha256(fp.encode()).hexdigest()}\n".encode())
    return fp


def _read_fingerprint(path: Path) -> str | None:
    """The fingerprint kept in ``path`` (the fingerprint, then its SHA-256), or ``None`` when
    the file is missing, unreadable or damaged (with a warning for the last)."""
    try:
        text = path.read_bytes()
    except OSError:
        return None
    m = re.fullmatch(rb"([0-9a-f]{64})\n([0-9a-f]{64})\n", text)
    if m is None or hashlib.sha256(m[1]).hexdigest().encode() != m[2]:
        _damaged(path, "its checksum does not match")
        return None
    return m[1].decode()


def _damaged(path: Path, why: str, stacklevel: int = 4) -> None:
    warnings.warn(f"seedsoil: the kept file {path} is damaged ({why}); it is ignored and written again",
                  RuntimeWarning, stacklevel=stacklevel)


def _traced_fingerprint(model: Model) -> str | None:
    """The fingerprint itself: trace the model's functions and hash the jaxpr."""
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
    return fp


def _umask() -> int:
    """The process's umask, read once (from ``/proc`` where it can be, so that no other
    thread ever sees the umask changed)."""
    if not _UMASK:
        try:
            m = re.search(r"^Umask:\s*([0-7]+)$", Path("/proc/self/status").read_text(), re.MULTILINE)
        except OSError:
            m = None
        if m is not None:
            _UMASK.append(int(m[1], 8))
        else:
            mask = os.umask(0o022)
            os.umask(mask)
            _UMASK.append(mask)
    return _UMASK[0]


def _write_atomic(path: Path, blob: bytes) -> None:
    """Write all of ``blob`` or nothing (a concurrent session reads all or nothing), with the
    mode an ordinary file gets (``tempfile`` creates ``0o600``); a read-only cache is not an
    error, the file just is not kept."""
    tmp = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path.parent, delete=False, suffix=".tmp") as f:
            tmp = f.name
            f.write(blob)
            if hasattr(os, "fchmod"):
                os.fchmod(f.fileno(), 0o666 & ~_umask())
        if not hasattr(os, "fchmod"):
            os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    except OSError:
        if tmp is not None:
            try:
                os.unlink(tmp)
            except OSError:
                pass


def _environment() -> str:
    versions = []
    for dist in ("jax", "jaxlib", "diffrax", "equinox", "lineax"):
        try:
            versions.append(f"{dist}={importlib.metadata.version(dist)}")
        except importlib.metadata.PackageNotFoundError:
            versions.append(f"{dist}=?")
    here = Path(__file__).resolve().parent
    src = hashlib.sha256()
    for name in ("_simulate.py", "reciprocal.py", "regimen.py", "programs.py"):
        src.update((here / name).read_bytes())
    return ";".join(versions + [jax.default_backend(), src.hexdigest()])


_ENV: list[str] = []


def _env() -> str:
    """:func:`_environment`, computed once per session."""
    if not _ENV:
        _ENV.append(_environment())
    return _ENV[0]


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
    sig = ";".join(f"{np.dtype(x.dtype)}{tuple(np.shape(x))}" for x in leaves)
    key = hashlib.sha256("|".join((fp, tag, str(arg_tree), sig, _env())).encode()).hexdigest()[:40]
    call = _PROGRAMS.get(key)
    if call is None:
        model_tree = jax.tree_util.tree_structure(arrays)
        k = len(model_leaves)

        def flat(*xs):
            mdl = eqx.combine(jax.tree_util.tree_unflatten(model_tree, xs[:k]), static)
            return fn(mdl, *jax.tree_util.tree_unflatten(arg_tree, xs[k:]))

        path = where / f"{key}.jaxexport"
        exported = _read_program(path)
        if exported is not None:
            # JAX decodes the module lazily, in the first call: a file that passed its checksum
            # but does not decode (written so by a broken writer) is exported again too.
            call = jax.jit(exported.call)
            try:
                out = call(*leaves)
            except Exception as e:
                if "deserialize" not in str(e).lower():
                    raise
                _damaged(path, f"{type(e).__name__}: {e}"[:200], stacklevel=3)
            else:
                _PROGRAMS[key] = call
                return out
        call = _PROGRAMS[key] = _export(path, flat, leaves)
    return call(*leaves)


def _read_program(path: Path):
    """The program kept in ``path``, or ``None`` when the file is missing or unreadable, or
    damaged (with a warning): its SHA-256 must match and it must deserialise."""
    try:
        blob = path.read_bytes()
    except OSError:
        return None
    head, _, payload = blob.partition(b"\n")
    digest, _, payload = payload.partition(b"\n")
    if head + b"\n" != _MAGIC or hashlib.sha256(payload).hexdigest().encode() != digest:
        _damaged(path, "its checksum does not match" if blob else "it is empty")
        return None
    try:
        return jax.export.deserialize(bytearray(payload))
    except Exception as e:  # any failure to deserialise: export it again
        _damaged(path, f"{type(e).__name__}: {e}"[:200])
        return None


def _export(path: Path, flat: Callable, leaves) -> Callable:
    """Trace and export ``flat`` for ``leaves``, keep it in ``path`` (with its SHA-256), and
    return it compiled."""
    specs = [jax.ShapeDtypeStruct(np.shape(x), x.dtype) for x in leaves]
    exported = jax.export.export(jax.jit(flat))(*specs)
    try:
        blob = exported.serialize()
    except ImportError:  # no flatbuffers: the program still runs, it just is not kept
        blob = None
    if blob is not None:
        _write_atomic(path, _MAGIC + hashlib.sha256(blob).hexdigest().encode() + b"\n" + bytes(blob))
    return jax.jit(exported.call)
