"""Measured data in the tidy long format, validated and turned into arrays.

A data file has one measurement per row (see ``data/README.md``)::

    observable,time,time_units,average,stderr,amount_units,expt_id,alt_expt_id
    Bone_tot,7,day,103.3,17.7,relative % bone vol,B,Johnson2011 (PBS-Tumor)

``observable`` names the measured quantity, ``time`` and ``time_units`` when it was
measured, ``average`` and ``stderr`` the group mean and its standard error,
``amount_units`` the unit of ``average``, ``expt_id`` the experimental group and
``alt_expt_id`` a readable label of that group. Required columns: ``observable``,
``time``, ``average``, ``stderr`` and ``expt_id``; ``time_units`` (default ``day``),
``amount_units`` and ``alt_expt_id`` are optional.

:class:`Dataset` holds such a table with times converted to days (the time unit of every
seedsoil model). It is checked when built (``ValueError`` naming each bad row by its line
in the file: missing columns, unparsable, negative or non-finite times, non-finite
values, standard errors that are missing, non-finite or not positive, unknown time units,
one observable with two units in a group, and a row that repeats an earlier one exactly:
same observable, group, time, average, standard error and unit, most likely pasted twice;
pass ``replicates=True`` to keep such rows as separate measurements). It can be filtered by group and observable
(:meth:`Dataset.select`), read per series (:meth:`Dataset.series`), and converted to
arrays for use inside ``jax.jit``: flat with group/observable indices
(:meth:`Dataset.to_arrays`) or padded with a mask (:meth:`Dataset.padded`).
"""

from __future__ import annotations

import csv
import math
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import equinox as eqx
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Bool, Float, Int

__all__ = ["Dataset", "Series", "DataArrays", "PaddedData", "load_dataset", "REQUIRED_COLUMNS", "TIME_UNITS"]

#: Columns a data file must have.
REQUIRED_COLUMNS = ("observable", "time", "average", "stderr", "expt_id")
#: Optional columns (defaults: ``day``, ``""`` and the group id).
OPTIONAL_COLUMNS = ("time_units", "amount_units", "alt_expt_id")
#: Accepted time units and their length in days.
TIME_UNITS = {
    "day": 1.0, "days": 1.0, "d": 1.0,
    "hour": 1.0 / 24.0, "hours": 1.0 / 24.0, "h": 1.0 / 24.0, "hr": 1.0 / 24.0,
    "minute": 1.0 / 1440.0, "minutes": 1.0 / 1440.0, "min": 1.0 / 1440.0,
    "week": 7.0, "weeks": 7.0, "wk": 7.0,
}
_MAX_LISTED = 10


@dataclass(frozen=True)
class Series:
    """The measurements of one observable in one group, sorted by time.

    Attributes:
        group: experimental group (``expt_id``).
        observable: measured quantity.
        times: measurement times in days.
        values: group means (``average``).
        stderr: standard errors of the means (> 0).
        units: unit of ``values`` (``amount_units``).
        label: readable group label (``alt_expt_id``).
    """

    group: str
    observable: str
    times: np.ndarray
    values: np.ndarray
    stderr: np.ndarray
    units: str
    label: str

    def __len__(self) -> int:
        return len(self.times)


class DataArrays(eqx.Module):
    """Flat arrays of a dataset for use inside ``jax.jit``: row ``i`` is observable
    ``observables[observable[i]]`` of group ``groups[group[i]]`` at ``time[i]`` days."""

    time: Float[Array, " n"]
    value: Float[Array, " n"]
    stderr: Float[Array, " n"]
    group: Int[Array, " n"]
    observable: Int[Array, " n"]
    groups: tuple[str, ...] = eqx.field(static=True)
    observables: tuple[str, ...] = eqx.field(static=True)


class PaddedData(eqx.Module):
    """Dataset as ``(group, observable, L)`` arrays padded to the longest series;
    ``mask`` is True on real entries (padding holds time 0, value 0, stderr 1)."""

    time: Float[Array, "g o l"]
    value: Float[Array, "g o l"]
    stderr: Float[Array, "g o l"]
    mask: Bool[Array, "g o l"]
    groups: tuple[str, ...] = eqx.field(static=True)
    observables: tuple[str, ...] = eqx.field(static=True)


class Dataset:
    """A validated table of measurements (one row per group mean); see the module docs.

    Build with :func:`load_dataset` / :meth:`from_csv` (a file), :meth:`from_records`
    (an iterable of mappings with the CSV column names) or the constructor (columns as
    sequences). Rows keep their order; ``groups`` and ``observables`` are listed in order
    of first appearance. Times are stored in days. A row that repeats an earlier one
    exactly is refused unless ``replicates=True`` (every constructor takes it).
    """

    def __init__(
        self,
        observable: Sequence[str],
        time: Sequence[float],
        value: Sequence[float],
        stderr: Sequence[float],
        group: Sequence[str],
        *,
        units: Sequence[str] | None = None,
        label: Sequence[str] | None = None,
        time_units: Sequence[str] | None = None,
        source: str = "<data>",
        lines: Sequence[int] | None = None,
        replicates: bool = False,
    ):
        cols = dict(observable=observable, time=time, value=value, stderr=stderr, group=group)
        for key, opt in (("units", units), ("label", label), ("time_units", time_units), ("lines", lines)):
            if opt is not None:
                cols[key] = opt
        for key, col in cols.items():  # one entry per row: a list, tuple or 1-D array, not a string or a number
            if isinstance(col, (str, bytes, Mapping)) or not hasattr(col, "__len__") \
                    or getattr(col, "ndim", 1) != 1:
                raise ValueError(f"{source}: column {key!r} must be a sequence with one entry per row; "
                                 f"got {type(col).__name__} {str(col)[:60]!r}")
        n = len(observable)
        for key, col in cols.items():
            if len(col) != n:
                raise ValueError(f"{source}: column {key!r} has {len(col)} entries, 'observable' has {n}")
        self.source = source
        lines = list(lines) if lines is not None else list(range(1, n + 1))
        where = (lambda i: f"line {lines[i]}") if source != "<data>" else (lambda i: f"row {lines[i]}")
        errors: list[str] = []

        def bad(i: int, msg: str) -> None:
            errors.append(f"{where(i)}: {msg}")

        obs = ["" if o is None else str(o).strip() for o in observable]  # None: an empty cell
        grp = ["" if g is None else str(g).strip() for g in group]
        tu = ["day" if u is None or str(u).strip() == "" else str(u).strip() for u in (time_units or ["day"] * n)]
        t = np.full(n, np.nan)
        v = np.full(n, np.nan)
        s = np.full(n, np.nan)
        for i in range(n):
            if not obs[i]:
                bad(i, "empty observable")
            if not grp[i]:
                bad(i, "empty expt_id (group)")
            ti, vi, si = _number(time[i]), _number(value[i]), _number(stderr[i])
            factor = TIME_UNITS.get(tu[i].lower())
            if factor is None:
                bad(i, f"unknown time unit {tu[i]!r}; known: {sorted(set(TIME_UNITS))}")
            if ti is None:
                bad(i, f"time {time[i]!r} is not a number")
            elif not math.isfinite(ti):
                bad(i, f"time {ti!r} is not finite")
            elif ti < 0:
                bad(i, f"time {ti!r} is negative")
            elif factor is not None:
                t[i] = ti * factor
            if vi is None:
                bad(i, f"average {value[i]!r} is not a number")
            elif not math.isfinite(vi):
                bad(i, f"average {vi!r} is not finite")
            else:
                v[i] = vi
            if si is None:
                bad(i, f"stderr {stderr[i]!r} is not a number")
            elif not math.isfinite(si) or si <= 0:
                bad(i, f"stderr {si!r} must be finite and > 0")
            else:
                s[i] = si
        unit_list = [str(u).strip() if u is not None else "" for u in (units or [""] * n)]
        label_list = [str(a).strip() if a not in (None, "") else grp[i] for i, a in enumerate(label or [None] * n)]
        seen: dict[tuple[str, str], tuple[str, int]] = {}
        for i in range(n):
            key = (grp[i], obs[i])
            if key in seen and seen[key][0] != unit_list[i]:
                bad(i, f"{obs[i]!r} in group {grp[i]!r} has unit {unit_list[i]!r}, but {seen[key][0]!r} "
                       f"at {where(seen[key][1])}")
            seen.setdefault(key, (unit_list[i], i))
        if not replicates:  # an exact copy of an earlier row counts one measurement twice
            first: dict[tuple, int] = {}
            for i in range(n):
                if np.isnan(t[i]) or np.isnan(v[i]) or np.isnan(s[i]):
                    continue  # already named as a bad row
                row = (obs[i], grp[i], float(t[i]), float(v[i]), float(s[i]), unit_list[i])
                if row in first:
                    bad(i, f"repeats {where(first[row])} exactly ({obs[i]!r} in group {grp[i]!r} at "
                           f"{t[i]:g} days, average {v[i]:g}, stderr {s[i]:g}): a duplicated row? "
                           "Remove it, or pass replicates=True to keep repeated rows as separate measurements")
                else:
                    first[row] = i
        if errors:
            more = f"\n  ... and {len(errors) - _MAX_LISTED} more" if len(errors) > _MAX_LISTED else ""
            raise ValueError(f"{source}: {len(errors)} bad row(s):\n  " + "\n  ".join(errors[:_MAX_LISTED]) + more)
        self.observable = np.asarray(obs, dtype=object)
        self.group = np.asarray(grp, dtype=object)
        self.time = t
        self.value = v
        self.stderr = s
        self.units = np.asarray(unit_list, dtype=object)
        self.label = np.asarray(label_list, dtype=object)
        self.lines = np.asarray(lines, dtype=int)

    # construction ---------------------------------------------------------------------
    @classmethod
    def from_csv(cls, path: str | Path, *, replicates: bool = False) -> Dataset:
        """Read a tidy CSV file (see the module docs); ``ValueError`` names bad lines.
        ``replicates=True`` keeps rows that repeat an earlier one exactly (refused by default)."""
        path = Path(path)
        with open(path, newline="") as f:
            reader = csv.DictReader(f)
            header = [h.strip() for h in (reader.fieldnames or [])]
            missing = [c for c in REQUIRED_COLUMNS if c not in header]
            if missing:
                raise ValueError(f"{path}: missing column(s) {missing}; found {header}; "
                                 f"required {list(REQUIRED_COLUMNS)}")
            rows = [{(k or "").strip(): v for k, v in r.items()} for r in reader]
        # DictReader line numbers: header is line 1, so row i is on line i + 2 (no multiline cells here).
        return cls._from_rows(rows, source=str(path), lines=[i + 2 for i in range(len(rows))],
                              replicates=replicates)

    @classmethod
    def from_records(cls, records: Iterable[Mapping[str, Any]], source: str = "<data>", *,
                     replicates: bool = False) -> Dataset:
        """Build from mappings with the CSV column names (rows are numbered from 1);
        ``replicates`` as in :meth:`from_csv`."""
        if isinstance(records, (str, bytes, Mapping)) or not isinstance(records, Iterable):
            raise TypeError(f"{source}: records must be an iterable of mappings (one per row); "
                            f"got {type(records).__name__}")
        rows = []
        for i, r in enumerate(records, start=1):
            if not isinstance(r, Mapping):
                raise TypeError(f"{source}: row {i} must be a mapping of column names to values; got {r!r}")
            rows.append(dict(r))
        if rows:
            missing = sorted({c for r in rows for c in REQUIRED_COLUMNS if c not in r})
            if missing:
                raise ValueError(f"{source}: missing column(s) {missing}; required {list(REQUIRED_COLUMNS)}")
        return cls._from_rows(rows, source=source, lines=list(range(1, len(rows) + 1)), replicates=replicates)

    @classmethod
    def _from_rows(cls, rows: list[dict], source: str, lines: list[int], replicates: bool = False) -> Dataset:
        col = lambda key, default=None: [r.get(key, default) for r in rows]
        return cls(
            col("observable"), col("time"), col("average"), col("stderr"), col("expt_id"),
            units=col("amount_units", ""), label=col("alt_expt_id"), time_units=col("time_units", "day"),
            source=source, lines=lines, replicates=replicates,
        )

    def _subset(self, keep: np.ndarray) -> Dataset:
        out = object.__new__(Dataset)
        out.source = self.source
        for key in ("observable", "group", "time", "value", "stderr", "units", "label", "lines"):
            setattr(out, key, getattr(self, key)[keep])
        return out

    # access ---------------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self.time)

    def __repr__(self) -> str:
        return (f"Dataset({self.source!r}: {len(self)} rows, groups {list(self.groups)}, "
                f"observables {list(self.observables)})")

    @property
    def groups(self) -> tuple[str, ...]:
        """Group ids (``expt_id``) in order of first appearance."""
        return tuple(dict.fromkeys(self.group.tolist()))

    @property
    def observables(self) -> tuple[str, ...]:
        """Observable names in order of first appearance."""
        return tuple(dict.fromkeys(self.observable.tolist()))

    @property
    def labels(self) -> dict[str, str]:
        """``{group id: readable label}`` (``alt_expt_id``)."""
        return {g: str(self.label[self.group == g][0]) for g in self.groups}

    def units_of(self, observable: str) -> str:
        """Unit of an observable (``ValueError`` if groups disagree)."""
        u = sorted(set(self.units[self.observable == observable].tolist()))
        if not u:
            raise ValueError(f"{self.source}: no observable {observable!r}; known: {list(self.observables)}")
        if len(u) > 1:
            raise ValueError(f"{self.source}: observable {observable!r} has several units {u}")
        return u[0]

    def rows(self) -> list[dict[str, Any]]:
        """The rows as dicts (times in days)."""
        return [
            dict(observable=self.observable[i], time=float(self.time[i]), average=float(self.value[i]),
                 stderr=float(self.stderr[i]), amount_units=self.units[i], expt_id=self.group[i],
                 alt_expt_id=self.label[i], line=int(self.lines[i]))
            for i in range(len(self))
        ]

    def select(self, groups: str | Sequence[str] | None = None,
               observables: str | Sequence[str] | None = None) -> Dataset:
        """Rows of the given group(s) and observable(s) (``None``: all); unknown names raise."""
        keep = np.ones(len(self), dtype=bool)
        for name, wanted, column, known in (("group", groups, self.group, self.groups),
                                            ("observable", observables, self.observable, self.observables)):
            if wanted is None:
                continue
            wanted = (wanted,) if isinstance(wanted, str) else tuple(wanted)
            unknown = [w for w in wanted if w not in known]
            if unknown:
                raise ValueError(f"{self.source}: unknown {name}(s) {unknown}; known: {list(known)}")
            keep &= np.isin(column, wanted)
        return self._subset(keep)

    def series(self, group: str, observable: str) -> Series:
        """The measurements of ``observable`` in ``group``, sorted by time."""
        sel = (self.group == group) & (self.observable == observable)
        if not sel.any():
            raise ValueError(f"{self.source}: no {observable!r} measurements in group {group!r}")
        idx = np.flatnonzero(sel)
        idx = idx[np.argsort(self.time[idx], kind="stable")]
        return Series(group, observable, self.time[idx], self.value[idx], self.stderr[idx],
                      str(self.units[idx[0]]), str(self.label[idx[0]]))

    def __iter__(self) -> Iterator[Series]:
        """Every (group, observable) series, groups then observables in order of appearance."""
        for g in self.groups:
            for o in self.observables:
                if np.any((self.group == g) & (self.observable == o)):
                    yield self.series(g, o)

    # arrays for jit -------------------------------------------------------------------
    def to_arrays(self) -> DataArrays:
        """Flat float64 arrays with integer group and observable indices (row order kept)."""
        groups, observables = self.groups, self.observables
        gi = np.asarray([groups.index(g) for g in self.group], dtype=np.int32)
        oi = np.asarray([observables.index(o) for o in self.observable], dtype=np.int32)
        return DataArrays(jnp.asarray(self.time), jnp.asarray(self.value), jnp.asarray(self.stderr),
                          jnp.asarray(gi), jnp.asarray(oi), groups, observables)

    def padded(self) -> PaddedData:
        """``(n_groups, n_observables, L)`` arrays (series sorted by time) and a mask."""
        groups, observables = self.groups, self.observables
        series = {(s.group, s.observable): s for s in self}
        length = max((len(s) for s in series.values()), default=0)
        shape = (len(groups), len(observables), length)
        t, v, e, m = np.zeros(shape), np.zeros(shape), np.ones(shape), np.zeros(shape, dtype=bool)
        for (g, o), s in series.items():
            i, j, k = groups.index(g), observables.index(o), len(s)
            t[i, j, :k], v[i, j, :k], e[i, j, :k], m[i, j, :k] = s.times, s.values, s.stderr, True
        return PaddedData(jnp.asarray(t), jnp.asarray(v), jnp.asarray(e), jnp.asarray(m), groups, observables)


def load_dataset(path: str | Path, *, replicates: bool = False) -> Dataset:
    """Read and validate a tidy CSV data file (see the module docs); see :class:`Dataset`.
    A row that repeats an earlier one exactly is refused (naming both lines) unless
    ``replicates=True``, which keeps it as a separate measurement."""
    return Dataset.from_csv(path, replicates=replicates)


def _number(x: Any) -> float | None:
    """``float(x)``, or ``None`` when ``x`` is empty or not a number (NaN stays NaN)."""
    if x is None:
        return None
    if isinstance(x, str):
        x = x.strip()
        if not x:
            return None
    try:
        return float(x)
    except (TypeError, ValueError):
        return None
