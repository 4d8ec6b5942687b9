"""Batched sweeps over many parameter sets, in fixed-size chunks.

``sweep(model, times, samples)`` evaluates a model for N parameter sets by calling the
vmapped :func:`~seedsoil.solvers.simulate` on chunks of ``chunk_size`` members. Every chunk
has the same shape (the last one is padded by repeating its final member, and the padding
is dropped), so one compiled function serves the whole sweep, and only the requested
outputs are kept, so memory grows with N times the kept outputs, not with the solver's
internal state. Failed members never poison the others: they are reported by index with
their reason, and their outputs are NaN.

The regimen is one for all members, or one per member: a :class:`~seedsoil.solvers.Regimen`
whose arrays carry a leading axis of N (same events, each member's own dose times and
amounts, e.g. a virtual patient starting treatment on their own day). Each chunk then gets
its members' rows, padded like the parameter values, so one compiled function still serves
the whole sweep. So are save times per member (``times`` of shape ``(N, T)``: member ``i``
solved from ``times[i, 0]``) and initial states per member (``y0=``).

Beyond that:

* **Labelled results.** :meth:`SweepResult.to_xarray` gives an :class:`xarray.Dataset`
  with dimensions ``member`` and ``time`` (plus one named dimension per axis of an
  array-valued output, e.g. ``organ`` for the cascade's per-organ observables), the
  sampled parameter values as coordinates along ``member``, every parameter value in
  ``parameters(member, param)``, the status of every member, and units as attributes.
* **Progress.** ``progress=True`` shows a :mod:`tqdm` bar counting members (and failures).
* **Streaming.** ``out="some/dir"`` writes each chunk, as it is produced, to
  ``some/dir/part-<first member>.nc`` (netCDF 3 through scipy, no extra dependency);
  with ``keep_in_memory=False`` nothing but the status codes is kept, so memory stays
  flat however large N is. :func:`load_sweep` reads the parts back as one dataset. Every
  argument and the folder are checked before anything is solved or deleted; each part is
  written atomically; ``resume=True`` solves only the chunks whose part is missing.
* **Sharding.** With several JAX devices (or ``shard=True``) each chunk is split over a
  1-D device mesh with :func:`jax.shard_map`: every device solves its own slice of the
  chunk, independently of the others (no cross-device step synchronisation). The
  numbers agree with an unsharded sweep to rounding (each device solves a smaller batch;
  see "Batch size, chunk size and the last digits" in the docs' sweeps page).
* **Distribution.** ``client=`` (a :class:`dask.distributed.Client`) runs each chunk as
  one Dask task, which solves it and writes its part atomically: the same idempotent unit
  serves resume, retries (a task whose worker dies is run again) and distribution, and
  the numbers are bit for bit those of a local sweep. ``load_sweep(path, dask=True)``
  opens the parts lazily, for results larger than memory.
"""

from __future__ import annotations

import contextlib
import dataclasses
import numbers
import os
import re
import tempfile
import uuid
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jax.sharding import Mesh, NamedSharding
from jax.sharding import PartitionSpec as P
from jaxtyping import ArrayLike

from ..models.base import Model, _axis_labels, as_numbers, resolve_name
from ._simulate import (
    DEFAULT,
    STATUS,
    SolverOptions,
    _check_times,
    _resolve_regimen,
    _resolve_until,
    _resolve_y0,
    resolve_options,
    simulate,
)
from .regimen import Regimen

__all__ = ["SweepResult", "sweep", "load_sweep"]

_PART = "part-{:012d}.nc"
_PART_RE = re.compile(r"^part-(\d{12})\.nc$")
#: A temporary file of :func:`_write_part` (``.part-<12 digits>.nc.<random>.tmp``): one left
#: behind is a write that was killed before its rename.
_TMP_RE = re.compile(r"^\.part-\d{12}\.nc\..+\.tmp$")
_AXIS = "member"
#: The second dimension of the outputs when each member has its own save times: the position
#: in the member's row of ``times`` (the 2-D coordinate ``time(member, time_index)`` holds the days).
_TIME_INDEX = "time_index"
_RESERVED = {"member", "time", _TIME_INDEX, "param", "param_units", "parameters", "status", "code"}


# --------------------------------------------------------------------------------------
# How outputs and parameters are labelled (computed once per sweep)
# --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Labels:
    """Everything :meth:`SweepResult.to_xarray` needs to know about the model."""

    model_name: str
    #: {output name: (extra dim names, {dim: coordinate labels}, attrs)}
    outputs: dict
    #: flat names of every parameter (the ``param`` coordinate), with units
    param_names: tuple
    param_units: tuple
    #: [(coordinate name, column of the value matrix, attrs)] of the sampled parameters
    sampled: tuple
    n_members: int


def _output_dims(model: Model, spec) -> tuple[tuple[str, ...], dict[str, tuple[str, ...]]]:
    """Names (and coordinate labels) of the extra axes of an array-valued output.

    Read from the declaration alone: the leading axes it names (``spec.dims``, e.g.
    ``("organ",)`` for the cascade's per-organ outputs) and the labels of its first axis
    (``spec.labels``, e.g. the organ names) as that axis's coordinate; an axis without a
    declared name is ``<name>_dim<i>``. ``model`` is unused (kept for callers).
    """
    shape = tuple(spec.shape)
    dims = [f"{spec.name}_dim{i}" for i in range(len(shape))]
    declared = tuple(getattr(spec, "dims", ()) or ())[: len(shape)]
    dims[: len(declared)] = declared
    labels = tuple(getattr(spec, "labels", ()) or ())
    coords: dict[str, tuple[str, ...]] = {}
    if shape and len(labels) == shape[0]:
        coords[dims[0]] = labels
    return tuple(dims), coords


def _labels(model: Model, keep: Sequence[str], sampled: Sequence[int], n: int) -> _Labels:
    outputs = {}
    for name in keep:
        spec, entry = model.resolve_output(name)  # one resolver: "D", "D[bone]", "cascade.D[0]"; unknown raises
        dims, coords = _output_dims(model, spec)
        description = spec.description
        if entry is not None:  # one entry of the first axis: that axis is dropped
            coords = {d: c for d, c in coords.items() if d != dims[0]}
            dims = dims[1:]
            label = f"{spec.name}[{_axis_labels(spec)[entry]}]"
            description = f"{description} ({label})" if description else label
        attrs = {"units": spec.unit}
        if description:
            attrs["long_name"] = description
        outputs[name] = (dims, coords, attrs)
    flat = model.params.flat_names()
    units = tuple(s.unit for s in model.params.specs for _ in range(s.size))
    taken = set(_RESERVED) | set(keep) | {d for dims, _, _ in outputs.values() for d in dims}
    cols = []
    for j in sampled:
        coord = flat[j] if flat[j] not in taken else f"param_{flat[j]}"
        cols.append((coord, int(j), {"units": units[j], "long_name": f"sampled parameter {flat[j]}"}))
    return _Labels(model.name, outputs, flat, units, tuple(cols), n)


def _dataset(labels: _Labels, times: np.ndarray, outputs: Mapping[str, np.ndarray], code: np.ndarray,
             members: np.ndarray, values: np.ndarray):
    """One :class:`xarray.Dataset` for members ``members`` (a chunk or the whole sweep).

    ``times`` is ``(T,)`` (shared save times: dimension and coordinate ``time``) or one row
    per member, ``(len(members), T)``: dimension ``time_index`` and the 2-D coordinate
    ``time(member, time_index)``."""
    import xarray as xr

    times = np.asarray(times, dtype=np.float64)
    if times.ndim == 2:
        tdim = _TIME_INDEX
        time = (("member", _TIME_INDEX), times, {"units": "day", "long_name": "time (save times of each member)"})
    else:
        tdim = "time"
        time = ("time", times, {"units": "day", "long_name": "time"})
    coords: dict[str, Any] = {
        "member": ("member", np.asarray(members, dtype=np.int64), {"long_name": "index of the parameter set"}),
        "time": time,
        "param": ("param", np.asarray(labels.param_names, dtype=object), {"long_name": "flat parameter name"}),
        "param_units": ("param", np.asarray(labels.param_units, dtype=object), {"long_name": "parameter unit"}),
    }
    for coord, j, attrs in labels.sampled:
        coords[coord] = ("member", values[:, j], attrs)
    data: dict[str, Any] = {}
    for name, (dims, extra, attrs) in labels.outputs.items():
        for dim, lab in extra.items():
            coords.setdefault(dim, (dim, np.asarray(lab, dtype=object)))
        data[name] = (("member", tdim) + dims, outputs[name], attrs)
    data["status"] = ("member", np.asarray(STATUS, dtype=object)[code],
                      {"long_name": "solver status ('success' or why not)"})
    data["code"] = ("member", np.asarray(code, dtype=np.int64),
                    {"long_name": "status code", "flag_values": np.arange(len(STATUS), dtype=np.int32),
                     "flag_meanings": " ".join(STATUS)})
    data["parameters"] = (("member", "param"), values,
                          {"long_name": "all parameter values of each member (units: param_units)"})
    attrs = {"model": labels.model_name, "n_members": labels.n_members,
             "note": "outputs of failed members (status != 'success') are NaN"}
    return xr.Dataset(data, coords=coords, attrs=attrs)


# --------------------------------------------------------------------------------------
# Result
# --------------------------------------------------------------------------------------
class SweepResult:
    """Outputs of a sweep: ``result["C"]`` has shape ``(N, T, ...)`` for ``T`` save times.

    Attributes:
        times: the save times: ``(T,)``, or ``(N, T)`` when each member has its own.
        code: per-member status code (index into :data:`~seedsoil.solvers.STATUS`).
        outputs: ``{name: array}`` of the kept states, inputs or observables; empty when
            the sweep streamed to disk with ``keep_in_memory=False``.
        members: the member indices (``0..N-1``; a chunk's global indices for the partial
            results handed to ``on_chunk``).
        values: ``(N, n_params)`` parameter values of the members.
        path: the directory written with ``out=`` (else ``None``).
        devices: how many devices held each chunk's outputs (1 unless sharded).
        chunk_size: members per compiled batch actually used (rounded up to a multiple
            of the device count when sharded).
    """

    def __init__(self, times: np.ndarray, outputs: dict[str, np.ndarray], code: np.ndarray, *,
                 members: np.ndarray | None = None, values: np.ndarray | None = None,
                 labels: _Labels | None = None, path: str | None = None, devices: int = 1,
                 chunk_size: int | None = None):
        self.times, self.outputs, self.code = times, outputs, code
        self.members = np.arange(len(code)) if members is None else members
        self.values, self.path, self.devices, self.chunk_size = values, path, devices, chunk_size
        self._labels = labels

    def __getitem__(self, name: str) -> np.ndarray:
        try:
            return self.outputs[name]
        except KeyError:
            if self.path is not None and not self.outputs:
                raise KeyError(f"{name!r} was streamed to {self.path!r} and not kept in memory; "
                               "read it with load_sweep(path) or result.to_xarray()") from None
            raise KeyError(f"{name!r} was not kept; kept: {list(self.outputs)}") from None

    @property
    def ok(self) -> np.ndarray:
        return self.code == 0

    @property
    def status(self) -> np.ndarray:
        return np.asarray(STATUS, dtype=object)[self.code]

    def failures(self) -> list[tuple[int, str]]:
        """``[(member index, reason), ...]`` of the members whose solve failed."""
        return [(int(self.members[i]), STATUS[int(self.code[i])]) for i in np.flatnonzero(self.code)]

    def to_xarray(self):
        """The results as a labelled :class:`xarray.Dataset`.

        Dimensions ``member``, ``time`` (days) and, for array-valued outputs, one named
        dimension per extra axis (``organ`` with the organ names as coordinates for
        per-organ outputs of the cascade, else ``<name>_dim<i>``). Coordinates along
        ``member``: the member index and one coordinate per sampled parameter (named by
        its flat label, e.g. ``k1`` or ``w[bone]``; prefixed ``param_`` if that name is
        taken). Variables: every kept output (``units`` and ``long_name`` attributes from
        the model's declarations), ``status`` (string) and ``code`` per member, and
        ``parameters(member, param)``, every parameter value of every member.

        With save times per member (``times`` of shape ``(N, T)``) the times cannot be one
        index: the outputs have dimensions ``member`` and ``time_index`` (the position in the
        member's row, no coordinate), and the days are the 2-D coordinate
        ``time(member, time_index)``; e.g. ``ds["C"].isel(time_index=-1)`` is every member's
        last save, and ``ds["C"].assign_coords(day=ds["time"] - ds["time"][:, 0])`` adds the
        days since each member's start.

        When the sweep streamed to disk without keeping outputs in memory, this reads the
        parts back with :func:`load_sweep` (all of them, into memory).
        """
        if self._labels is None:
            raise ValueError("this SweepResult carries no model labels; it was not made by sweep()")
        if not self.outputs and self.path is not None and self._labels.outputs:
            return load_sweep(self.path)
        return _dataset(self._labels, self.times, self.outputs, self.code, self.members, self.values)

    @property
    def dataset(self):
        """Same as :meth:`to_xarray`."""
        return self.to_xarray()


def _read_part(file: str, lazy: bool = False):
    """One part, loaded into memory (or, ``lazy``, opened with its variables as one dask
    chunk each); ``ValueError`` naming the file if it cannot be read."""
    import xarray as xr

    ds = None
    try:
        if os.path.getsize(file) == 0:
            raise ValueError("the file is empty")
        if lazy:  # scipy maps every variable when it opens the file: a truncated one fails here
            ds = xr.open_dataset(file, engine="scipy", chunks={})
        else:
            with xr.open_dataset(file, engine="scipy") as opened:
                ds = opened.load()
        for name in ("member", "time", "code", "parameters"):
            if name not in ds.variables:
                raise ValueError(f"it has no {name!r} variable")
    except Exception as err:  # truncated, empty or not netCDF: what a kill during a write leaves
        if lazy and ds is not None:
            ds.close()
        raise ValueError(f"sweep part {file!r} is damaged and cannot be read ({type(err).__name__}: {err}); "
                         "delete it (and solve its members again, e.g. with sweep(..., resume=True))") from err
    return ds


def _mismatch(ds, ref) -> str | None:
    """Why the part ``ds`` does not come from the same sweep as ``ref`` (``None`` if it may)."""
    checks = (
        ("model", ds.attrs.get("model"), ref.attrs.get("model")),
        ("number of members (n_members)", ds.attrs.get("n_members"), ref.attrs.get("n_members")),
        ("variables", sorted(ds.data_vars), sorted(ref.data_vars)),
        ("coordinates", sorted(ds.coords), sorted(ref.coords)),
        ("parameter names", ds["param"].values.tolist() if "param" in ds.coords else None,
         ref["param"].values.tolist() if "param" in ref.coords else None),
    )
    for what, got, want in checks:
        if got != want:
            return f"its {what} {got!r} differ from {want!r}"
    if ds["time"].dims != ref["time"].dims:
        return f"its save times have dims {ds['time'].dims}, not {ref['time'].dims} (save times per member or not)"
    t, t0 = ds["time"].values, ref["time"].values
    if t.ndim == 1 and (t.shape != t0.shape or not np.array_equal(t, t0)):
        return f"its save times {t.tolist()} differ from {t0.tolist()}"
    if t.ndim == 2 and t.shape[1:] != t0.shape[1:]:
        return f"its members have {t.shape[1]} save times, not {t0.shape[1]}"
    for name in ds.data_vars:
        if ds[name].dims[1:] != ref[name].dims[1:] or ds[name].shape[1:] != ref[name].shape[1:]:
            return f"its variable {name!r} has dims {ds[name].sizes!r}, not {ref[name].sizes!r} (beyond member)"
    return None


def load_sweep(path: str | os.PathLike, *, complete: bool = True, dask: bool = False):
    """Read a sweep streamed with ``sweep(..., out=path)`` back as one dataset.

    Opens every ``part-*.nc`` in ``path`` in member order, loads it into memory and
    concatenates along ``member``; the result equals ``SweepResult.to_xarray()`` of the
    same sweep kept in memory.

    With ``dask=True`` (needs :mod:`dask`: ``pip install 'seedsoil[distributed]'``) nothing
    but the coordinates is read: every variable is a :mod:`dask` array with one chunk per
    part along ``member``, read from its file when computed, so the sweep may be larger
    than memory (``.compute()`` gives the dataset ``dask=False`` returns). The same checks
    are made (a damaged part is found when it is opened), and the files stay open until the
    dataset is closed.

    With ``complete=True`` (default) a missing part (say, of an interrupted sweep) raises
    ``ValueError``, and so does a damaged part (empty or truncated: what a kill during a
    write by an older version leaves; the error names the file). ``complete=False`` returns
    the members that are there, skipping damaged parts with a warning naming them. A part
    from a different sweep (other model, parameters, save times, outputs or number of
    members than the first part) always raises ``ValueError`` naming it and saying why.
    """
    if dask:
        try:
            import dask.array as _  # noqa: F401  (binds no name `dask`: the argument)
        except ImportError as err:
            raise ImportError("load_sweep(..., dask=True) needs dask: pip install 'seedsoil[distributed]'") from err
    path = os.fspath(path)
    names = sorted(f for f in os.listdir(path) if _PART_RE.match(f))
    if not names:
        raise FileNotFoundError(f"no sweep parts (part-*.nc) in {path!r}")
    parts, kept = [], []
    try:
        return _combine(path, names, parts, kept, complete, dask)
    except BaseException:
        for part in parts:  # lazily opened parts hold their files open
            part.close()
        raise


def _combine(path: str, names: list[str], parts: list, kept: list[str], complete: bool, dask: bool):
    """The body of :func:`load_sweep`: read (or open) the parts into ``parts``, check them and
    concatenate them along ``member``."""
    import xarray as xr

    for name in names:
        try:
            parts.append(_read_part(os.path.join(path, name), lazy=dask))
            kept.append(name)
        except ValueError as err:
            if complete:
                raise
            warnings.warn(f"skipped: {err}", RuntimeWarning, stacklevel=3)
    if not parts:
        raise ValueError(f"no readable sweep part in {path!r} (all {len(names)} damaged)")
    seen: dict[int, str] = {}
    for name, ds in zip(kept, parts):
        why = _mismatch(ds, parts[0])
        if why is None:
            m = ds["member"].values.astype(np.int64)
            twice = [int(i) for i in m if int(i) in seen]
            if twice:
                why = f"its members {twice[:10]} are also in {seen[twice[0]]!r}"
            elif m.size and (m.min() < 0 or m.max() >= int(ds.attrs.get("n_members", m.max() + 1))):
                why = f"its members {m.tolist()[:10]} are outside 0..n_members-1"
            seen.update({int(i): name for i in m})
        if why is not None:
            raise ValueError(f"sweep part {os.path.join(path, name)!r} does not belong with {kept[0]!r} in "
                             f"{path!r}: {why}; it comes from a different sweep (move it elsewhere)")
    ds = parts[0] if len(parts) == 1 else xr.concat(parts, dim="member", data_vars="minimal", coords="minimal",
                                                    compat="override", join="override", combine_attrs="override")
    ds = ds.assign_coords(member=ds["member"].astype(np.int64))
    ds["code"] = ds["code"].astype(np.int64)
    n = int(ds.attrs.get("n_members", ds.sizes["member"]))
    if complete and not np.array_equal(ds["member"].values, np.arange(n)):
        missing = np.setdiff1d(np.arange(n), ds["member"].values)
        raise ValueError(f"{path!r} holds {ds.sizes['member']} of {n} members; missing e.g. {missing[:10].tolist()} "
                         "(an interrupted sweep?); pass complete=False to read what is there, or "
                         "sweep(..., resume=True) to solve the missing members")
    return ds


# --------------------------------------------------------------------------------------
# Sampling matrix
# --------------------------------------------------------------------------------------
def _values(model: Model, samples) -> tuple[np.ndarray, list[int]]:
    """An ``(N, n_params)`` matrix from a ``{name: (N, *shape) values}`` mapping (a value of
    the parameter's own shape is held for every member) or a matrix, and
    the columns that were sampled (the named ones; for a matrix, those that vary across
    members or differ from the model's default)."""
    if isinstance(samples, Mapping):
        shapes, lengths = {}, {}
        samples = {k: np.asarray(as_numbers(v, f"samples[{k!r}]")) if not isinstance(v, jax.Array) else v
                   for k, v in samples.items()}
        for k, v in samples.items():
            shape = resolve_name(model.params.specs, k, kind="parameter", owner=model.name)[1]
            vshape = tuple(np.shape(v))
            shapes[k] = shape
            if vshape == shape:  # one value for every member
                continue
            if len(vshape) != 1 + len(shape) or vshape[1:] != shape:
                want = "a 1-D array of N values" if shape == () else f"an (N, {', '.join(map(str, shape))}) array"
                raise ValueError(f"a sweep needs {want} for {k!r} (one per member; {k!r} has shape {shape}); got "
                                 f"shape {vshape}")
            lengths[k] = vshape[0]
        if not lengths:
            if not samples:
                raise ValueError("samples names no parameter; give {name: array of N values}")
            k0 = next(iter(samples))
            given = ", ".join(f"{k!r}: {np.asarray(v).tolist()!r}" for k, v in samples.items())
            raise ValueError(f"a sweep needs an array of values, one per member, for each parameter it varies; got "
                             f"{{{given}}}: give e.g. {{{k0!r}: [v1, v2, ...]}}")
        if len(set(lengths.values())) != 1:
            raise ValueError(f"samples must give every parameter the same number of values; got {lengths}")
        n = next(iter(lengths.values()))
        columns = {k: jnp.broadcast_to(jnp.asarray(v, dtype=jnp.float64), (n,) + shapes[k])
                   for k, v in samples.items()}
        batch = model.params.replace_named(columns, owner=model.name)  # names as everywhere: "w[bone]", "bone.k_z"
        cols = sorted({j for k in samples for j in model.param_index(k)})
        return np.asarray(batch.values), cols
    values = np.asarray(as_numbers(samples, "samples"))
    if values.ndim != 2:
        raise ValueError(f"samples must be a mapping or an (N, {model.params.values.shape[-1]}) matrix; got shape "
                         f"{values.shape}")
    if values.shape[0] == 0:
        raise ValueError("samples holds no parameter sets (N = 0)")
    model.params.with_values(values)  # checks shape and bounds, naming the bad value
    default = np.asarray(model.params.values)
    cols = [j for j in range(values.shape[1]) if np.any(values[:, j] != values[0, j]) or values[0, j] != default[j]]
    return values, cols


# --------------------------------------------------------------------------------------
# Sharded solve: each device solves its slice of the chunk
# --------------------------------------------------------------------------------------
@eqx.filter_jit
def _solve_sharded(values, model, times, regimen, keep, mesh, options, y0=None, until=()):
    """``simulate`` under :func:`jax.shard_map`: the chunk's member axis is split over
    ``mesh``; the model is replicated, and so are the times, the regimen and ``y0`` unless
    they hold one row per member (a batch axis: 2-D times or y0, a batched regimen), which
    are split like the values. One compilation per chunk shape."""
    m_arr, m_static = eqx.partition(model, eqx.is_array)
    r_arr, r_static = eqx.partition(regimen, eqx.is_array)
    r_spec = P(_AXIS) if regimen.batch_shape else P()
    t_spec = P(_AXIS) if times.ndim == 2 else P()
    if y0 is None:
        y0 = model.y0
    y_spec = P(_AXIS) if y0.ndim == 2 else P()
    names, levels = until if until else ((), jnp.zeros((values.shape[0], 0)))

    def local(v, m_arr, t, r_arr, y, lv):
        stop = {name: lv[:, j] for j, name in enumerate(names)} or None
        sol = simulate(eqx.combine(m_arr, m_static), t, params=v, y0=y, regimen=eqx.combine(r_arr, r_static),
                       throw=False, options=options, until=stop)
        return {k: sol[k] for k in keep}, sol.code

    fn = jax.shard_map(local, mesh=mesh, in_specs=(P(_AXIS), P(), t_spec, r_spec, y_spec, P(_AXIS)),
                       out_specs=P(_AXIS), check_vma=False)
    return fn(values, m_arr, times, r_arr, y0, levels)


def _check_out(out, overwrite: bool, resume: bool) -> tuple[str, list[str]]:
    """Check that ``out`` is (or can be made) a directory this process can write to, by
    writing and removing a probe file, and list the parts already there; removes nothing."""
    path = os.fspath(out)
    if os.path.isfile(path):
        raise ValueError(f"out must be a directory (one netCDF file per chunk is written there); got file {path!r}")
    try:
        os.makedirs(path, exist_ok=True)
        fd, probe = tempfile.mkstemp(prefix=".probe-", suffix=".tmp", dir=path)
        os.close(fd)
        os.remove(probe)
        old = sorted(f for f in os.listdir(path) if _PART_RE.match(f))
    except OSError as err:
        raise ValueError(f"cannot write the sweep parts to folder {path!r}: {err.strerror or err} "
                         f"({type(err).__name__}); give out= a folder you can create and write to") from err
    if old and not (overwrite or resume):
        raise FileExistsError(f"{path!r} already holds {len(old)} sweep parts; pass overwrite=True to replace them "
                              "or resume=True to solve only the missing chunks of the same sweep")
    return path, old


def _write_part(ds, file: str) -> None:
    """Write ``ds`` to ``file`` atomically: a temporary file in the same folder, then
    :func:`os.replace`, so a kill leaves either the whole part or none (plus at most a
    stray ``.part-*.tmp``, which :func:`load_sweep` ignores and the next :func:`sweep` into
    the folder removes)."""
    folder, name = os.path.split(file)
    fd, tmp = tempfile.mkstemp(prefix=f".{name}.", suffix=".tmp", dir=folder)
    os.close(fd)
    try:
        ds.to_netcdf(tmp, engine="scipy")
        os.replace(tmp, file)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise


def _resumable(path: str, old: Sequence[str], starts: Sequence[int], n: int, chunk_size: int, model_name: str,
               times: np.ndarray, values: np.ndarray, keep: Sequence[str]) -> dict[int, Any]:
    """The parts in ``path`` that already hold chunks of this very sweep: ``{start: dataset}``.

    A damaged part is left out (its chunk is solved again and the part replaced); a part
    that is not one of this sweep's chunks raises ``ValueError`` naming it. ``times`` is
    ``(T,)`` or ``(N, T)`` (save times per member: a part holds its members' rows)."""

    def want_t(start: int, real: int) -> np.ndarray:
        return times if times.ndim == 1 else times[start:start + real]

    done = {}
    for name in old:
        file = os.path.join(path, name)
        start = int(_PART_RE.match(name).group(1))
        try:
            ds = _read_part(file)
        except ValueError as err:
            warnings.warn(f"solving again: {err}", RuntimeWarning, stacklevel=3)
            continue
        real = min(chunk_size, n - start) if start in starts else 0
        why = None
        if ds.attrs.get("model") != model_name:
            why = f"its model is {ds.attrs.get('model')!r}, not {model_name!r}"
        elif int(ds.attrs.get("n_members", -1)) != n:
            why = f"it is from a sweep of {ds.attrs.get('n_members')} members, not {n}"
        elif start not in starts or not np.array_equal(ds["member"].values, np.arange(start, start + real)):
            why = f"its members {ds['member'].values.tolist()[:10]} are not a chunk of chunk_size={chunk_size}"
        elif ds["time"].shape != want_t(start, real).shape or not np.array_equal(ds["time"].values,
                                                                               want_t(start, real)):
            why = f"its save times {ds['time'].values.tolist()} differ from {want_t(start, real).tolist()}"
        elif not np.array_equal(ds["parameters"].values, values[start:start + real]):
            why = "its parameter values differ from this sweep's members"
        elif set(ds.data_vars) - {"status", "code", "parameters"} != set(keep):
            why = f"its outputs {sorted(set(ds.data_vars) - {'status', 'code', 'parameters'})} are not {sorted(keep)}"
        if why is not None:
            raise ValueError(f"cannot resume into {path!r}: part {file!r} does not belong to this sweep ({why}); "
                             "pass overwrite=True to start again, or use another folder")
        done[start] = ds
    return done


# --------------------------------------------------------------------------------------
# One chunk: the unit of work, locally or as a Dask task
# --------------------------------------------------------------------------------------
def _solve_chunk(model: Model, times, regimen, opts: SolverOptions, keep: Sequence[str], labels: _Labels,
                 times_np: np.ndarray, chunk_values: np.ndarray, start: int, chunk_size: int, path: str | None,
                 sharded: tuple | None = None, y0: np.ndarray | None = None,
                 until: tuple | None = None) -> SweepResult:
    """Solve members ``start .. start + len(chunk_values) - 1`` and, with ``path``, write their part.

    ``chunk_values`` holds the chunk's real members; it is padded to ``chunk_size`` by
    repeating its last member, so every chunk has the one compiled shape, and the padding
    is dropped. ``regimen`` is the one regimen of every member, or (with a batch axis) the
    rows of this chunk's real members, padded the same way; so are ``times`` and
    ``times_np`` (``(real, T)``: save times per member) and ``y0`` (``None``: the model's;
    ``(n_states,)`` for all, or ``(real, n_states)``) and ``until`` (``None``, or output names
    and this chunk's ``(real, k)`` levels). Outputs of failed members are
    set to NaN. The part is written atomically (:func:`_write_part`), so running this again
    for the same chunk (a retry, a resumed sweep) replaces the part with the same bytes: the
    task is idempotent. ``sharded`` is ``(mesh, input sharding, checked times)`` to split the
    chunk over devices. Returns the chunk's :class:`SweepResult` (global member indices)."""
    real = chunk_values.shape[0]
    chunk = _pad(chunk_values, chunk_size)  # same shape, same compiled function
    if regimen is not None and regimen.batch_shape:  # this chunk's rows of a per-member regimen
        regimen = jax.tree_util.tree_map(lambda a: jnp.asarray(_pad(np.asarray(a), chunk_size)), regimen)
    if np.ndim(times) == 2:  # this chunk's rows of save times per member
        times = _pad(np.asarray(times, dtype=np.float64), chunk_size)
    if y0 is not None and np.ndim(y0) == 2:  # this chunk's rows of initial states per member
        y0 = _pad(np.asarray(y0, dtype=np.float64), chunk_size)
    if until is not None:  # this chunk's rows of stop levels
        until = (until[0], _pad(np.asarray(until[1], dtype=np.float64), chunk_size))
    n_devices = 1
    if sharded is not None:
        mesh, in_sharding, t_checked = sharded
        reg = Regimen.empty() if regimen is None else regimen
        if reg.batch_shape:
            reg = jax.tree_util.tree_map(lambda a: jax.device_put(a, in_sharding), reg)
        t_dev = jax.device_put(times, in_sharding) if np.ndim(times) == 2 else t_checked
        y_dev = None if y0 is None else jax.device_put(y0, in_sharding) if np.ndim(y0) == 2 else jnp.asarray(y0)
        stop = () if until is None else (until[0], jax.device_put(until[1], in_sharding))
        got, code_dev = _solve_sharded(jax.device_put(chunk, in_sharding), model, t_dev, reg, keep, mesh, opts, y_dev,
                                       stop)
        n_devices = len(code_dev.sharding.device_set)
    else:
        with warnings.catch_warnings():  # failures are collected and reported by member index
            warnings.filterwarnings("ignore", message=".*trajectories failed", category=RuntimeWarning)
            stop = None if until is None else {name: until[1][:, j] for j, name in enumerate(until[0])}
            sol = simulate(model, times, params=chunk, y0=y0, regimen=regimen, throw=False, options=opts, until=stop)
        got, code_dev = {k: sol[k] for k in keep}, sol.code
    code = np.asarray(code_dev)[:real].astype(np.int64)
    bad = code != 0
    part = {}
    for k in keep:
        a = np.array(np.asarray(got[k])[:real])  # a writable host copy of the real members only
        a[bad] = np.nan
        part[k] = a
    chunk_result = SweepResult(times_np, part, code, members=np.arange(start, start + real), values=chunk_values,
                               labels=labels, devices=n_devices, chunk_size=chunk_size)
    if path is not None:
        _write_part(chunk_result.to_xarray(), os.path.join(path, _PART.format(start)))
    return chunk_result


def _pad(rows: np.ndarray, size: int) -> np.ndarray:
    """``rows`` padded to ``size`` rows by repeating its last one (a chunk's shape)."""
    if rows.shape[0] >= size:
        return rows
    return np.concatenate([rows, np.repeat(rows[-1:], size - rows.shape[0], axis=0)])


def _member_rows(a: np.ndarray | None, start: int, stop: int):
    """Members ``start .. stop - 1`` of per-member save times or initial states (2-D); a
    shared (1-D) array, or ``None``, as it is."""
    if a is None or np.ndim(a) < 2:
        return a
    return a[start:stop]


def _until_rows(until: tuple | None, start: int, stop: int) -> tuple | None:
    """Members ``start .. stop - 1`` of the stop levels of ``until`` (names, ``(n, k)`` levels)."""
    return None if until is None else (until[0], until[1][start:stop])


def _member_until(model: Model, until, n: int, opts: SolverOptions) -> tuple | None:
    """A sweep's ``until`` as ``None`` or (output names, ``(n, k)`` levels), checked as
    ``simulate`` checks it (a level per member must have ``n`` entries)."""
    if until is None:
        return None
    names, levels = _resolve_until(model, until, opts)
    lv = np.asarray(levels, dtype=np.float64)
    if lv.ndim == 2 and lv.shape[0] != n:
        raise ValueError(f"until holds {lv.shape[0]} levels per output but samples holds {n} members: give one "
                         f"level per member, or one number for all")
    return names, np.broadcast_to(lv, (n, len(names))).copy()


def _rows(regimen: Regimen | None, start: int, stop: int) -> Regimen | None:
    """Members ``start .. stop - 1`` of a per-member regimen (a shared one as it is)."""
    if regimen is None or not regimen.batch_shape:
        return regimen
    return jax.tree_util.tree_map(lambda a: a[start:stop], regimen)


def _neutral(regimen: Regimen, t0: float) -> Regimen:
    """A regimen with the targets and (unbatched) array shapes of ``regimen`` and values
    that pass every check: what fails on it is not any one member's fault."""
    tn = max(t0, 0.0)
    fill = dict(event_time=tn, event_amount=0.0, event_factor=1.0, infusion_start=tn, infusion_stop=tn,
                infusion_rate=0.0)
    return dataclasses.replace(regimen, **{k: np.full(np.shape(getattr(regimen, k))[-1:], v)
                                           for k, v in fill.items()})


def _member_regimens(model: Model, regimen: Regimen, times, n: int) -> Regimen:
    """A regimen with a batch axis, checked as one regimen per member and returned with every
    array broadcast to ``(n, events)`` (host arrays, sliced per chunk); ``ValueError`` for a
    batch that is not ``(n,)``, or naming the first member whose regimen is bad."""
    shape = regimen.batch_shape
    if len(shape) != 1:
        raise ValueError(f"sweep takes one regimen for all members or one per member (batch shape (N,) = ({n},)); "
                         f"got a regimen with batch shape {shape}: a sweep has one member axis")
    if shape[0] != n:
        raise ValueError(f"the regimen holds {shape[0]} regimens (batch shape {shape}) but samples holds {n} "
                         f"members: give one regimen per member ({n}), or one without a batch axis for all")
    tn = np.asarray(times)  # (T,), or (n, T): save times per member
    t0 = float(np.max(tn[..., 0]))  # the latest start: a neutral dose time is after every member's
    _resolve_regimen(model, _neutral(regimen, t0), times)  # dose targets and array shapes: no member to name
    reg = jax.tree_util.tree_map(
        lambda a: np.ascontiguousarray(np.broadcast_to(np.asarray(a), (n,) + np.shape(a)[-1:])), regimen)

    def error(sub: Regimen, t) -> ValueError | None:
        try:
            _resolve_regimen(model, sub, t)
        except ValueError as err:
            return err
        return None

    err = error(reg, times)
    if err is None:
        return reg
    # the checks are per member: bisect for the first member whose regimen fails them
    lo, hi = 0, n  # members 0 .. lo - 1 pass, 0 .. hi - 1 do not: the first bad one is hi - 1
    while hi - lo > 1:
        mid = (lo + hi) // 2
        lo, hi = (lo, mid) if error(_rows(reg, 0, mid), _member_rows(tn, 0, mid)) is not None else (mid, hi)
    own_t = tn if tn.ndim == 1 else tn[hi - 1]
    own = error(jax.tree_util.tree_map(lambda a: a[hi - 1], reg), own_t)  # its message, without the batch axis
    raise ValueError(f"the regimen of member {hi - 1}: {own or err}") from err


def _member_y0(model: Model, y0, n: int, tol: float) -> np.ndarray | None:
    """A sweep's ``y0`` as ``None`` (the model's), one ``(n_states,)`` vector for all members,
    or an ``(n, n_states)`` matrix, checked as ``simulate`` checks it (the error names the
    member of a bad row)."""
    if y0 is None:
        return None
    if isinstance(y0, Mapping):
        base = np.array(model.y0, dtype=np.float64)
        shared, per = {}, {}
        for name, v in y0.items():
            idx, shape = resolve_name(model.states, name, kind="state", owner=model.name)
            v = np.asarray(as_numbers(v, f"initial state {name!r}"), dtype=np.float64)
            if v.shape == shape:
                shared[idx] = v.reshape(-1)
            elif v.shape == (n,) + shape:
                per[idx] = v.reshape(n, -1)
            else:
                raise ValueError(f"y0[{name!r}] must be one value of shape {shape} for every member or {n} values, "
                                 f"shape {(n,) + shape} (one per member); got shape {v.shape}")
        for idx, v in shared.items():
            base[list(idx)] = v
        y = base
        if per:
            y = np.repeat(base[None], n, axis=0)
            for idx, v in per.items():
                y[:, list(idx)] = v
    else:
        y = np.asarray(as_numbers(y0, "y0"), dtype=np.float64)
        if y.ndim == 2 and y.shape[0] != n:
            raise ValueError(f"y0 holds {y.shape[0]} initial states (shape {y.shape}) but samples holds {n} members: "
                             f"give one row per member ({n}, {model.n_states}), or one vector for all")
    return np.asarray(_resolve_y0(model, y, tol=tol))


def _chunk_task(x64: bool, send: bool, *args) -> SweepResult:
    """:func:`_solve_chunk` as a Dask task on a worker: the same numbers as in the caller's
    process, provided the worker runs JAX with the same precision. Sends the outputs back
    only if ``send`` (else just the status codes: the part on disk is the result)."""
    if bool(jax.config.read("jax_enable_x64")) != x64:
        raise RuntimeError(f"this Dask worker runs JAX with jax_enable_x64={not x64}, the process that called "
                           f"sweep with {x64}: the results would differ; start the workers with the same "
                           "SEEDSOIL_X64 setting (and the same seedsoil version)")
    chunk_result = _solve_chunk(*args)
    if not send:
        chunk_result.outputs = {}
    return chunk_result


def _check_client(client, retries, shard, out, model, regimen, opts) -> None:
    """The checks of ``client=`` that need nothing from ``out``: raise before anything is touched."""
    try:
        from distributed import Client
    except ImportError as err:  # pragma: no cover - a Client cannot exist without distributed
        raise ImportError("client= needs Dask distributed: pip install 'seedsoil[distributed]'") from err
    if not isinstance(client, Client):
        raise TypeError(f"client must be a dask.distributed.Client; got {type(client).__name__}")
    if out is None:
        raise ValueError("client= needs out=: each chunk is a task that writes its part to out, a folder every "
                         "worker can write to (a shared filesystem on a real cluster)")
    if shard:
        raise ValueError("shard=True splits a chunk over this process's devices; with client= each worker solves "
                         "whole chunks on its own device (run one worker per device)")
    if not (isinstance(retries, numbers.Integral) and not isinstance(retries, (bool, np.bool_)) and retries >= 0):
        raise ValueError(f"retries must be a non-negative integer; got {retries!r}")
    import cloudpickle

    for what, obj in (("model", model), ("regimen", regimen), ("solver options", opts)):
        try:
            cloudpickle.dumps(obj)
        except Exception as err:
            raise TypeError(f"with client=, the {what} is sent to the workers by pickling, and it cannot be pickled "
                            f"({type(err).__name__}: {err})") from err


def _check_workers_see(client, path: str) -> None:
    """Check that every worker of ``client`` sees ``path`` (the same folder, not a local one
    of the same name): a probe file written here must exist there."""
    fd, probe = tempfile.mkstemp(prefix=".probe-", suffix=".tmp", dir=path)
    os.close(fd)
    try:
        seen = client.run(os.path.exists, probe)
    finally:
        os.remove(probe)
    blind = sorted(w for w, ok in seen.items() if not ok)
    if blind:
        raise ValueError(f"the Dask workers {blind} do not see the folder {path!r} that this process writes: out= "
                         "must be on a filesystem shared by this process and every worker, under the same path")


def _run_on_client(client, todo: Sequence[int], solved: Callable[[int, SweepResult], None], retries: int,
                   model: Model, times, regimen, opts: SolverOptions, keep: Sequence[str], labels: _Labels,
                   times_np: np.ndarray, values: np.ndarray, chunk_size: int, path: str, send: bool,
                   y0: np.ndarray | None = None, until: tuple | None = None) -> None:
    """Submit one task per chunk in ``todo`` to ``client`` and hand each result to ``solved``
    as it completes. A task whose worker dies is run again elsewhere by the scheduler, and
    one that raises is retried ``retries`` times; the first error that remains is raised,
    after the tasks not yet finished are cancelled (the parts written so far stay)."""
    from distributed import as_completed

    x64 = bool(jax.config.read("jax_enable_x64"))
    sweep_id = uuid.uuid4().hex
    futures = {}
    try:
        for start in todo:
            stop = start + chunk_size
            fut = client.submit(_chunk_task, x64, send, model, _member_rows(times, start, stop),
                                _rows(regimen, start, stop), opts, keep, labels, _member_rows(times_np, start, stop),
                                values[start:stop], start, chunk_size, path, None, _member_rows(y0, start, stop),
                                _until_rows(until, start, stop), key=f"seedsoil-sweep-{sweep_id}-{start}",
                                retries=int(retries), pure=False)
            futures[fut] = start
        for fut in as_completed(list(futures)):
            start = futures.pop(fut)
            solved(start, fut.result())  # raises the task's error, once its retries are spent
            fut.release()
    finally:
        if futures:
            client.cancel(list(futures))


# --------------------------------------------------------------------------------------
# Public entry point
# --------------------------------------------------------------------------------------
def sweep(
    model: Model,
    times: ArrayLike,
    samples: Mapping[str, ArrayLike] | ArrayLike,
    regimen: Regimen | None = None,
    *,
    y0: Mapping[str, ArrayLike] | ArrayLike | None = None,
    until: Mapping[str, ArrayLike] | None = None,
    keep: Sequence[str] | None = None,
    chunk_size: int = 256,
    progress: bool | Mapping[str, Any] = False,
    on_chunk: Callable[[int, SweepResult], Any] | None = None,
    out: str | os.PathLike | None = None,
    keep_in_memory: bool = True,
    overwrite: bool = False,
    resume: bool = False,
    shard: bool | None = None,
    client: Any = None,
    retries: int = 2,
    options: SolverOptions | None = None,
    **solve_options,
) -> SweepResult:
    """Evaluate ``model`` at ``times`` for every parameter set in ``samples``.

    Args:
        model: as for :func:`~seedsoil.solvers.simulate`.
        times: the save times (days) of every member, 1-D and strictly increasing as for
            ``simulate``; or one row per member, an ``(N, T)`` array (each row strictly
            increasing and finite, the same ``T`` for all): member ``i`` is solved from
            ``times[i, 0]`` and saved at ``times[i]``, e.g. each virtual patient from their
            own day. Sliced per chunk and padded like the parameter values (one compiled
            function). The outputs are then ``(N, T, ...)`` with ``result.times`` ``(N, T)``;
            :meth:`SweepResult.to_xarray` (and the parts written to ``out``) label them by
            ``member`` and ``time_index``, with the days in the 2-D coordinate
            ``time(member, time_index)``. A bad row raises ``ValueError`` naming its member,
            and so does a dose time before a member's ``times[i, 0]``.
        regimen: one :class:`~seedsoil.solvers.Regimen` (without a batch axis) for all
            members, or one per member: a regimen whose arrays carry a leading axis of N
            (the same events and targets, each member's own dose times and amounts, e.g.
            ``from_schedule(XGEVA_Q4W, count=13, start=starts[:, None])`` for N start
            days). Each chunk solves its members' rows, padded like the parameter values,
            so every chunk reuses one compiled function. Checked as ``simulate`` checks a
            regimen, before anything is solved; a bad value names its member. A batch
            other than ``(N,)`` raises ``ValueError`` naming both sizes.
        samples: ``{parameter name: N values}`` (other parameters keep their defaults;
            names as for ``simulate``: ``"k1"``, ``"w"`` with ``(N, size)`` values,
            ``"w[bone]"``, ``"bone.k_z"``; a value of the parameter's own shape is held for
            every member) or an ``(N, n_params)`` matrix of full parameter vectors.
        y0: the initial states. ``None`` (default): the model's. A mapping
            ``{state name: value}`` of overrides (names as for ``simulate``: ``"C"``,
            ``"D"``, ``"D[bone]"``), each value one for all members (the state's own shape)
            or one per member (``(N, *shape)``). Or a matrix ``(N, n_states)`` of full
            initial states (or one ``(n_states,)`` vector for all). Per-member rows are
            sliced per chunk and padded like the parameter values. Checked as ``simulate``
            checks ``y0`` (finite; a state declared ``nonnegative`` not below ``-atol``),
            the error naming the member (``batch member i``). To start from the state a
            previous solve reached, keep every state there:
            ``sweep(..., keep=model.state_names)``, then
            ``np.concatenate([r[k].reshape(N, T, -1)[:, -1] for k in model.state_names], axis=1)``
            is the ``(N, n_states)`` matrix of the last saved states (the flat state order is
            that of ``model.state_names``).
        keep: names of states, inputs or observables to keep, or one entry of an array-valued
            one (``"metastatic_burden[bone]"``, ``"D[0]"``; kept under that name); default:
            every observable, or every state when the model declares none.
        chunk_size: members per compiled batch. Device memory per chunk grows with
            chunk_size x the solver state; host memory per chunk with chunk_size x kept
            outputs. The last chunk is padded to the same size, so every chunk reuses one
            compiled function. A sweep of fewer than ``chunk_size`` members uses one chunk
            of exactly N (compiled for that N). A member's last digits may differ between
            chunk sizes (at most 1e-10 relative; docs' sweeps page); the same
            ``chunk_size`` always gives the same bits.
        progress: show a :mod:`tqdm` progress bar over members (updated per chunk, with
            the count of failures); a mapping is passed to ``tqdm`` as keyword arguments
            (e.g. ``{"file": sys.stdout}``). Off by default.
        on_chunk: called as ``on_chunk(start_index, chunk_result)`` after each chunk
            (``chunk_result`` is a :class:`SweepResult` of that chunk; its ``members`` are
            the global indices and ``to_xarray()`` works on it).
        out: a directory to stream to: each chunk is written, as soon as it is solved, to
            ``out/part-<first member, 12 digits>.nc`` (netCDF 3 via ``engine="scipy"``; the
            same dataset as :meth:`SweepResult.to_xarray` restricted to that chunk). Read
            them back with :func:`load_sweep`. The directory is created if needed, and it is
            checked (a probe file written and removed) before anything is solved. Each part
            is written atomically (a temporary file in ``out``, then :func:`os.replace`), so an
            interrupted sweep leaves only whole parts.
        keep_in_memory: with ``out`` given, ``False`` keeps no output arrays in the result
            (only status codes, times and parameter values), so host memory stays at one
            chunk whatever N; ``result["C"]`` then points to :func:`load_sweep`. Ignored
            (always True) without ``out``.
        overwrite: replace the ``part-*.nc`` files of an earlier sweep in ``out`` (by
            default their presence raises ``FileExistsError``, since mixing two sweeps'
            parts would be silently wrong). Every argument is checked first: a call that
            raises for a bad argument deletes nothing.
        resume: with ``out``, keep the parts already there that hold chunks of this same
            sweep (same model, members, parameter values, save times, kept outputs and
            ``chunk_size``; with save times per member, each part's rows) and solve only the
            chunks whose part is missing or damaged; the result equals that of an uninterrupted
            sweep. A part of another sweep raises ``ValueError`` naming it. ``on_chunk`` is
            called for the solved chunks only. The regimen (one per member too), ``y0`` and
            solver settings are not stored in the parts: pass the same ones.
        shard: split each chunk over all devices of JAX's default backend (a 1-D
            :class:`~jax.sharding.Mesh` with :class:`~jax.sharding.NamedSharding` along
            the member axis, solved with :func:`jax.shard_map`); ``chunk_size`` is rounded
            up to a multiple of the device count. ``None`` (default) shards when there is
            more than one device. Results agree with an unsharded sweep to rounding
            (each device solves a smaller batch); each device holds only its slice of
            the chunk.
        client: a :class:`dask.distributed.Client` (needs ``pip install
            'seedsoil[distributed]'``) to solve the chunks on its workers instead of in this
            process; ``None`` (default) solves them here. Each chunk is one task that solves
            it, with the same ``chunk_size`` and padding as here (so the numbers are bit for bit
            those of a local sweep), writes its part atomically and returns the status codes
            (and the outputs, if kept in memory or ``on_chunk`` is given). ``out`` is then
            required, and must be a folder every worker sees under the same path (checked
            before anything is solved); the model, regimen and solver options are pickled to
            the workers. A task whose worker dies is run again by the scheduler (Dask's
            ``distributed.scheduler.allowed-failures``, 3 by default); the part of a chunk is
            whole or absent, so nothing is lost. ``on_chunk`` and the progress bar follow
            the chunks as they finish (in any order); ``resume`` skips the chunks already
            written, as without a client. ``shard=True`` is refused: each worker solves
            whole chunks on its own device.
        retries: with ``client``, how many times a chunk whose task raised (say, a
            transient error writing to a network filesystem) is run again before the error
            is raised here; the chunks not yet finished are then cancelled and the parts
            already written stay (``resume=True`` continues from them).
        until: ``{output: level}``, a level a number or one per member (``N`` values): each
            member stops at the first save time where one of these scalar outputs is ``>=``
            its level, and its later saves hold that state (as ``simulate``'s ``until``). With
            ``vmap_size=1`` a stopped member costs nothing more.
        options: the solver settings as one :class:`~seedsoil.solvers.SolverOptions`.
        **solve_options: ``solver``, ``rtol``, ``atol``, ``max_steps``, ``vmap_size`` (``1`` solves a
            chunk's members one after the other, each with its own step count; see
            :class:`seedsoil.solvers.SolverOptions`) ... of ``simulate``; each one given wins
            over the same field of ``options``.

    Returns:
        A :class:`SweepResult`; failed members are listed by ``failures()`` (never raised)
        and their outputs are NaN.
    """
    if not (isinstance(chunk_size, numbers.Integral) and not isinstance(chunk_size, (bool, np.bool_))
            and chunk_size >= 1):
        raise ValueError(f"chunk_size must be a positive integer; got {chunk_size!r}")
    chunk_size = int(chunk_size)  # np.int64(4) and friends
    if resume and out is None:
        raise ValueError("resume=True needs out= (the folder of the sweep to resume)")
    opts = resolve_options(model, options, **{k: solve_options.pop(k, DEFAULT) for k in list(solve_options)})
    values, sampled = _values(model, samples)
    n = values.shape[0]
    if n == 0:
        raise ValueError("samples holds no parameter sets (N = 0)")
    chunk_size = min(chunk_size, n)  # a small sweep solves its N members, not a padded full chunk
    keep = tuple(keep) if keep is not None else (model.observable_names or model.state_names)
    labels = _labels(model, keep, sampled, n)  # raises KeyError for unknown names before solving
    # simulate's own checks, done here, concretely, before anything in out is touched
    t_checked = _check_times(times, batch=True)
    times_np = np.asarray(t_checked, dtype=np.float64)
    if times_np.ndim == 2:  # save times per member
        if times_np.shape[0] != n:
            raise ValueError(f"times holds {times_np.shape[0]} rows of save times but samples holds {n} members: "
                             f"give one row per member (shape ({n}, T)), or 1-D times for all")
        times = times_np
    y0 = _member_y0(model, y0, n, opts.atol)
    until = _member_until(model, until, n, opts)
    if isinstance(regimen, Regimen) and regimen.batch_shape:  # one regimen per member
        regimen = _member_regimens(model, regimen, t_checked, n)
    else:
        _resolve_regimen(model, regimen, t_checked)
    if client is not None:
        _check_client(client, retries, shard, out, model, regimen, opts)
        shard = False

    devices = jax.devices()
    if shard is None:
        shard = len(devices) > 1
    mesh = in_sharding = None
    if shard:
        mesh = Mesh(np.asarray(devices), (_AXIS,))
        chunk_size = -(-chunk_size // len(devices)) * len(devices)
        in_sharding = NamedSharding(mesh, P(_AXIS))

    n_chunks = -(-n // chunk_size)
    starts = [c * chunk_size for c in range(n_chunks)]
    path, done = None, {}
    if out is not None:
        path, old = _check_out(out, overwrite, resume)
        if client is not None:
            _check_workers_see(client, os.path.abspath(path))
        if resume:
            done = _resumable(path, old, starts, n, chunk_size, model.name, times_np, values, keep)
        else:  # overwrite=True (else _check_out raised): every argument is valid, so start again
            for f in old:
                os.remove(os.path.join(path, f))
        # every argument and every part is checked: remove what killed writes left behind
        for f in os.listdir(path):
            if _TMP_RE.match(f):
                with contextlib.suppress(FileNotFoundError):
                    os.remove(os.path.join(path, f))
    in_memory = keep_in_memory or path is None
    progress_kw = dict(progress) if isinstance(progress, Mapping) else {}

    from tqdm.auto import tqdm

    outputs: dict[int, dict[str, np.ndarray]] = {}
    codes: dict[int, np.ndarray] = {}
    n_devices = 1
    bar = tqdm(total=n, unit="member", desc=f"sweep {model.name}", disable=not progress, **progress_kw)
    n_failed = 0

    def resumed(start: int) -> None:  # this chunk's part is already written: read it back
        nonlocal n_failed
        ds = done.pop(start)
        codes[start] = ds["code"].values.astype(np.int64)
        if in_memory:
            outputs[start] = {k: np.asarray(ds[k].values) for k in keep}
        n_failed += int((codes[start] != 0).sum())
        bar.update(ds.sizes[_AXIS])

    def solved(start: int, chunk_result: SweepResult) -> None:
        nonlocal n_failed
        codes[start] = chunk_result.code
        if in_memory:
            outputs[start] = chunk_result.outputs
        if on_chunk is not None:
            on_chunk(start, chunk_result)
        n_failed += int((chunk_result.code != 0).sum())
        bar.update(len(chunk_result.code))
        if n_failed:
            bar.set_postfix(failed=n_failed, refresh=False)

    try:
        for start in [s for s in starts if s in done]:
            resumed(start)
        todo = [s for s in starts if s not in codes]
        if client is None:
            sharded = (mesh, in_sharding, t_checked) if shard else None
            for start in todo:
                stop = start + chunk_size
                chunk_result = _solve_chunk(model, _member_rows(times, start, stop), _rows(regimen, start, stop), opts,
                                            keep, labels, _member_rows(times_np, start, stop), values[start:stop],
                                            start, chunk_size, path, sharded, _member_rows(y0, start, stop),
                                            _until_rows(until, start, stop))
                n_devices = chunk_result.devices
                solved(start, chunk_result)
        else:
            _run_on_client(client, todo, solved, retries, model, times, regimen, opts, keep, labels, times_np, values,
                           chunk_size, os.path.abspath(path), send=in_memory or on_chunk is not None, y0=y0,
                           until=until)
    finally:
        bar.close()
    kept = {k: np.concatenate([outputs[s][k] for s in starts]) for k in keep} if in_memory else {}
    return SweepResult(times_np, kept, np.concatenate([codes[s] for s in starts]), values=values, labels=labels,
                       path=path, devices=n_devices, chunk_size=chunk_size)
