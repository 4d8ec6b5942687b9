"""What a model is: named states, documented parameters, inputs, a right-hand side.

A model in seedsoil is a *declaration*, kept apart from the numerics that solve it
(`solvers/`). It carries

* ``states``: a tuple of :class:`State` (name, unit, shape, description);
* ``inputs``: a tuple of :class:`Input`, exogenous piecewise-constant signals (an
  infusion rate of PTH, an inflammation level, ...) that are zero unless a regimen
  sets them;
* ``params``: a :class:`Params` pytree whose only array leaf is a flat vector of values,
  while each entry's name, unit, bounds and literature source are static metadata;
* ``y0``: the published initial state as a flat vector;
* ``rhs(t, y, p, u)``: the right-hand side, written with named access
  (``y.C``, ``p.alpha1``, ``u.I_P``) and returning a ``dict`` of derivatives;
* ``observables(t, y, p, u)``: named quantities derived from the state;
* ``breakpoints(p)``: times at which the right-hand side is discontinuous in ``t``
  (a treatment switched on at a given day), so that a solver can stop there exactly.

Everything is an :mod:`equinox` module, so a model, its parameters or a batch of
parameter vectors passes straight through ``jax.jit``, ``jax.vmap`` and ``jax.grad``.
Names are resolved to array slices with Python dictionaries at trace time only.
Time is in days throughout.
"""

from __future__ import annotations

import abc
import dataclasses
import difflib
import functools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float

__all__ = [
    "Param", "State", "Input", "Observable", "Outcome", "OUTCOME_KINDS", "Params",
    "View", "Model", "UnknownNameError", "resolve_name",
    "resolve_output", "select_names", "unknown_name", "flat_labels", "is_concrete", "as_numbers", "positive_part",
    "x_log_ratio", "flux",
]


# --------------------------------------------------------------------------------------
# Declarations (plain frozen dataclasses: hashable, so they can be static pytree metadata)
# --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Param:
    """One model parameter.

    Attributes:
        name: identifier used in the right-hand side (``p.name``).
        value: published default (a float, or a tuple of floats for an array parameter).
        unit: physical unit, e.g. ``"1/day"`` or ``"pM"``; ``"1"`` for dimensionless.
        source: where the value comes from (paper, table or figure).
        bounds: closed interval of admissible values, checked before every solve.
            The default ``(0, inf)`` suits rates and concentrations.
        description: what the parameter means.
        shape: array shape of the parameter, ``()`` for a scalar.
        labels: names of the entries of a 1-D array parameter (e.g. organ names), used
            in tables and flat labels such as ``w[bone]``.
    """

    name: str
    value: float | tuple[float, ...]
    unit: str
    source: str
    bounds: tuple[float, float] = (0.0, math.inf)
    description: str = ""
    shape: tuple[int, ...] = ()
    labels: tuple[str, ...] = ()

    @property
    def size(self) -> int:
        return int(np.prod(self.shape, dtype=int))


@dataclass(frozen=True)
class _Declared:
    """Name, unit, description and shape: what states, inputs and observables declare.

    ``dims`` names the leading axes of an array-valued declaration (e.g. ``("organ",)``;
    unnamed axes are called ``<name>_dim<i>``) and ``labels`` the entries of its first
    axis (e.g. the organ names): they label results (``D[bone]``, a sweep's ``organ``
    coordinate). Both are optional; when given they must fit ``shape`` (at most one dim
    name per axis, one label per entry of the first axis).
    """

    name: str
    unit: str
    description: str = ""
    shape: tuple[int, ...] = ()
    dims: tuple[str, ...] = ()
    labels: tuple[str, ...] = ()

    def __post_init__(self):
        if len(self.dims) > len(self.shape):
            raise ValueError(f"{self.name!r}: dims {self.dims} do not fit shape {self.shape}")
        if self.labels and (not self.shape or len(self.labels) != self.shape[0]):
            raise ValueError(f"{self.name!r}: {len(self.labels)} labels for shape {self.shape}")

    @property
    def size(self) -> int:
        return int(np.prod(self.shape, dtype=int))


@dataclass(frozen=True)
class State(_Declared):
    """One state variable: name, unit, description and (for organ axes etc.) shape.

    ``nonnegative`` (default True) says that the state is an amount (cells, drug, a
    density, a relative level) that cannot start below zero: ``simulate`` refuses a
    negative initial value of it, naming the state. Declare ``nonnegative=False`` for a
    state that may legitimately start negative (a deviation from a baseline, a log).
    """

    nonnegative: bool = True


@dataclass(frozen=True)
class Input(_Declared):
    """An exogenous, piecewise-constant signal (zero unless a regimen sets it)."""


@dataclass(frozen=True)
class Observable(_Declared):
    """A named quantity computed from the state (unit and meaning documented)."""


#: The kinds of :class:`Outcome` (what the declared output means for one patient).
OUTCOME_KINDS = ("expected_count", "cumulative_hazard", "threshold", "poisson_count")


@dataclass(frozen=True)
class Outcome:
    """A patient-level outcome a model declares: which of its outputs says whether, or how
    likely, an event has happened. The model says what its numbers mean; the solvers turn
    them into probabilities and event times (``seedsoil.solvers``: ``prob_none``,
    ``event_free``, ``poisson_fraction``, ``sample_event_times``, ``virtual_trial``).

    ``kind``:

    * ``"expected_count"``: ``output`` is the expected number ``N(t)`` of events of a
      Poisson process that have happened by ``t`` (e.g. detectable metastases founded in an
      organ): the probability of none by ``t`` is ``exp(-N(t))`` and the first event's time
      ``T`` has ``P(T <= t) = 1 - exp(-N(t))``.
    * ``"cumulative_hazard"``: ``output`` is a cumulative hazard ``H(t)``: the probability of
      no event in ``(t_0, t]`` is ``exp(-(H(t) - H(t_0)))``.
    * ``"threshold"``: the event happens (deterministically) when ``output`` first reaches
      ``level`` (e.g. a lethal tumour burden).
    * ``"poisson_count"``: ``output`` is the mean of a count observed at one time (e.g. CTCs
      per 7.5 mL of blood): the observed count is Poisson around it.

    ``output`` names a state or observable of the model, or one entry of an array-valued one
    (``"n_detectable[bone]"``); ``source`` says where the interpretation comes from.
    """

    name: str
    kind: str
    output: str
    description: str = ""
    source: str = ""
    level: float | None = None

    def __post_init__(self):
        if not (isinstance(self.name, str) and self.name and "." not in self.name):
            raise ValueError(f"outcome name must be a non-empty string without '.'; got {self.name!r}")
        if self.kind not in OUTCOME_KINDS:
            raise ValueError(f"outcome {self.name!r}: unknown kind {self.kind!r}; choose one of {OUTCOME_KINDS}")
        if self.kind == "threshold":
            if self.level is None or not math.isfinite(float(self.level)):
                raise ValueError(f"outcome {self.name!r} (threshold) needs a finite level; got {self.level!r}")
        elif self.level is not None:
            raise ValueError(f"outcome {self.name!r}: level is for kind 'threshold' only; got kind {self.kind!r}")

    def prefixed(self, part: str) -> Outcome:
        """The same outcome read from part ``part`` of a composite (``output`` prefixed)."""
        return dataclasses.replace(self, output=f"{part}.{self.output}")


def _layout(specs: Sequence[Param | State | Input]) -> dict[str, tuple[int, int, tuple[int, ...]]]:
    """Map each name to ``(start, stop, shape)`` in the flat vector, in declaration order."""
    return dict(_layout_cached(tuple(specs)))


@functools.lru_cache(maxsize=256)
def _layout_cached(specs: tuple) -> tuple:
    out: dict[str, tuple[int, int, tuple[int, ...]]] = {}
    start = 0
    for spec in specs:
        if spec.name in out:
            raise ValueError(f"duplicate name {spec.name!r} in model declaration")
        out[spec.name] = (start, start + spec.size, spec.shape)
        start += spec.size
    return tuple(out.items())


# --------------------------------------------------------------------------------------
# Names -> flat indices: the one resolver every entry point uses (outside jit, once)
# --------------------------------------------------------------------------------------
class UnknownNameError(KeyError, ValueError):
    """A name (parameter, state, ...) that a model does not declare.

    Both a ``KeyError`` (as for a mapping) and a ``ValueError`` (bad input), so code that
    caught either keeps working. The message names the bad name, offers the closest known
    names and lists the known ones. Attributes: ``name``, ``kind``, ``suggestions``.
    """

    def __init__(self, message: str, name: str = "", kind: str = "", suggestions: tuple[str, ...] = ()):
        super().__init__(message)
        self.name, self.kind, self.suggestions = name, kind, suggestions

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


def _entry_labels(spec) -> tuple[str, ...]:
    """Labels of the entries of an array declaration (its ``labels``, else ``0, 1, ...``)."""
    labels = getattr(spec, "labels", ())
    return tuple(labels) if len(labels) == spec.size else tuple(str(i) for i in range(spec.size))


def flat_labels(specs: Sequence[Param | State | Input]) -> tuple[str, ...]:
    """One label per entry of the flat vector declared by ``specs``: ``name`` for a
    scalar, ``name[label]`` for each entry of an array (``w[bone]``, ``bone.w[lung]``)."""
    return _flat_labels_cached(tuple(specs))


@functools.lru_cache(maxsize=256)
def _flat_labels_cached(specs: tuple) -> tuple[str, ...]:
    out: list[str] = []
    for s in specs:
        if s.shape == ():
            out.append(s.name)
        else:
            out.extend(f"{s.name}[{label}]" for label in _entry_labels(s))
    return tuple(out)


def unknown_name(kind: str, name: Any, specs: Sequence, owner: str = "",
                 entries: Sequence[str] | None = None) -> UnknownNameError:
    """The error for a name that ``specs`` do not declare: the same text wherever the name
    was given (simulate, sweep, sensitivities, fits, SBML export, regimens, ``y0``, outputs).
    ``entries``: the entry names offered as close matches (default: the flat labels)."""
    names = [s.name for s in specs]
    labels = flat_labels(specs) if entries is None else tuple(entries)
    candidates = names + [lab for lab in labels if lab not in names]
    close = tuple(difflib.get_close_matches(str(name), candidates, n=3, cutoff=0.6))
    hint = f" (did you mean {' or '.join(repr(c) for c in close)}?)" if close else ""
    where = f": model {owner!r} has no {kind} {name!r}" if owner else ""
    entry_names = [lab for lab in labels if lab not in names][:2]
    form = f" (array entries as {entry_names[0]!r})" if entry_names else ""
    return UnknownNameError(f"unknown {kind} {name!r}{where}{hint}; known {kind}s: {names}{form}",
                            name=str(name), kind=kind, suggestions=close)


def _split_entry(name: str) -> tuple[str, str | None]:
    """``"w[bone]"`` -> ``("w", "bone")``; ``"w"`` -> ``("w", None)`` (the one parser of entry names)."""
    if name.endswith("]") and "[" in name:
        cut = name.rindex("[")
        return name[:cut], name[cut + 1: -1]
    return name, None


def _entry_position(entry: str, labels: Sequence[str]) -> int | None:
    """Position of an entry given by label or by non-negative position (``"bone"``, ``"0"``)
    among ``labels``; ``None`` when it is neither."""
    if entry in labels:
        return list(labels).index(entry)
    if entry.isdigit() and int(entry) < len(labels):
        return int(entry)
    return None


def resolve_name(specs: Sequence[Param | State | Input], name: str, *, kind: str = "parameter",
                 owner: str = "") -> tuple[tuple[int, ...], tuple[int, ...]]:
    """``(flat indices, shape of a value)`` of ``name`` in the flat vector of ``specs``.

    Accepted forms: a declared name (``"k_z"``, a whole array ``"w"``, a composite's
    ``"bone.k_z"``), or one entry of an array by label or position (``"w[bone]"``,
    ``"w[0]"``, ``"bone.w[lung]"``). A value for a whole name has the declaration's
    shape; for an entry, shape ``()``. Raises :class:`UnknownNameError` (see
    :func:`unknown_name`). Pure Python on static declarations: call it outside ``jit``.
    """
    if not isinstance(name, str):
        raise TypeError(f"{kind}s are given by name; got {name!r}")
    return _resolve_cached(tuple(specs), name, kind, owner)


@functools.lru_cache(maxsize=4096)
def _resolve_cached(specs: tuple, name: str, kind: str, owner: str):
    layout = _layout(specs)
    if name in layout:
        start, stop, shape = layout[name]
        return tuple(range(start, stop)), shape
    base, entry = _split_entry(name)
    if entry is not None and base in layout and layout[base][2] != ():
        spec = next(s for s in specs if s.name == base)
        pos = _entry_position(entry, _entry_labels(spec))
        if pos is not None:
            return (layout[base][0] + pos,), ()
    raise unknown_name(kind, name, specs, owner)


def _axis_labels(spec) -> tuple[str, ...]:
    """Labels of the entries of the first axis of an output (its ``labels``, else ``0, 1, ...``)."""
    if not spec.shape:
        return ()
    labels = tuple(str(x) for x in getattr(spec, "labels", ()) or ())
    return labels if len(labels) == spec.shape[0] else tuple(str(i) for i in range(spec.shape[0]))


def resolve_output(specs: Sequence[State | Input | Observable], name: str, *,
                   owner: str = "") -> tuple[State | Input | Observable, int | None]:
    """``(declaration, entry)`` of an output name: a state, input or observable
    (``"metastatic_burden"``, a composite's ``"cascade.metastatic_burden"``), or one entry of
    the first axis of an array-valued one by label or position (``"metastatic_burden[bone]"``,
    ``"D[0]"``), then ``entry`` is its position on that axis (else ``None``). ``specs`` are
    searched in order (a model's: states, inputs, observables; :meth:`Model.resolve_output`).
    The value of an entry has the declaration's shape without its first axis. Raises
    :class:`UnknownNameError` (see :func:`unknown_name`, kind ``"output"``). Pure Python on
    static declarations: call it outside ``jit`` (or at trace time)."""
    if not isinstance(name, str):
        raise TypeError(f"outputs are given by name; got {name!r}")
    return _resolve_output_cached(tuple(specs), name, owner)


@functools.lru_cache(maxsize=4096)
def _resolve_output_cached(specs: tuple, name: str, owner: str):
    for spec in specs:
        if spec.name == name:
            return spec, None
    base, entry = _split_entry(name)
    if entry is not None:
        for spec in specs:
            if spec.name == base:
                pos = _entry_position(entry, _axis_labels(spec))
                if pos is not None:
                    return spec, pos
                break
    entries = [f"{s.name}[{lab}]" for s in specs for lab in _axis_labels(s)]
    raise unknown_name("output", name, specs, owner, entries=entries)


def output_shape(spec, entry: int | None) -> tuple[int, ...]:
    """Shape of the value of an output (per saved time) from :func:`resolve_output`."""
    return tuple(spec.shape) if entry is None else tuple(spec.shape[1:])


def select_names(specs: Sequence[Param | State | Input], names: Sequence[str] | str | None, *,
                 kind: str = "parameter", owner: str = "") -> tuple[int, ...]:
    """Flat indices of several names, in order (``None``: every entry). Each name as in
    :func:`resolve_name`; an entry selected twice (``"w"`` and ``"w[bone]"``) raises."""
    n = sum(s.size for s in specs)
    if names is None:
        return tuple(range(n))
    if isinstance(names, str):
        names = (names,)
    out: list[int] = []
    for name in names:
        for i in resolve_name(specs, name, kind=kind, owner=owner)[0]:
            if i in out:
                raise ValueError(f"{kind} {flat_labels(specs)[i]!r} is selected twice")
            out.append(i)
    if not out:
        raise ValueError(f"select at least one {kind}")
    return tuple(out)


def is_concrete(x: Any) -> bool:
    """True when ``x`` holds actual numbers (not a tracer inside jit/vmap/grad)."""
    return not any(isinstance(leaf, jax.core.Tracer) for leaf in jax.tree_util.tree_leaves(x))


def as_numbers(x: Any, what: str) -> Array:
    """``x`` as a float64 array, or ``ValueError`` naming ``what`` (the argument, e.g. ``"times"``)
    when ``x`` is not numbers: a string, ``None``, a ragged list, objects. Tracers pass through."""
    if x is None or isinstance(x, (str, bytes)):
        raise ValueError(f"{what} must be a number or an array of numbers; got {x!r}")
    try:
        return jnp.asarray(x, dtype=jnp.float64)
    except (TypeError, ValueError, OverflowError) as e:
        text = repr(x)
        text = text if len(text) <= 80 else text[:77] + "..."
        raise ValueError(f"{what} must be a number or an array of numbers (of one shape); got {text}: "
                         f"{str(e).splitlines()[0][:120]}") from None


class View:
    """Named, read-only access to slices of a flat vector: ``View(y, layout).C``.

    Leading batch axes are kept: for a ``(..., n)`` vector, a scalar entry is ``(...)``
    and an entry of shape ``s`` is ``(..., *s)``.
    """

    __slots__ = ("_data", "_layout")

    def __init__(self, data: Array, layout: Mapping[str, tuple[int, int, tuple[int, ...]]]):
        object.__setattr__(self, "_data", data)
        object.__setattr__(self, "_layout", layout)

    def __getattr__(self, name: str) -> Array:
        try:
            start, stop, shape = self._layout[name]
        except KeyError:
            raise AttributeError(f"unknown name {name!r}; known: {sorted(self._layout)}") from None
        x = self._data[..., start:stop]
        return x.reshape(x.shape[:-1] + shape)

    __getitem__ = __getattr__

    def __setattr__(self, name, value):
        raise AttributeError("View is read-only")

    def keys(self):
        return self._layout.keys()


# --------------------------------------------------------------------------------------
# Parameters: a frozen pytree (values are the only leaf; the declarations are static)
# --------------------------------------------------------------------------------------
class Params(eqx.Module):
    """A parameter set: a flat float64 vector of values plus static declarations.

    ``values`` has shape ``(n,)`` for one parameter set or ``(batch, n)`` for a batch.
    ``params["alpha1"]`` returns a value by name (batch axis kept); ``params.replace``
    returns a new set, with any value given as a 1-D array of length ``batch`` turning
    the set into a batch. Values are checked by :meth:`check` (finite, inside the
    declared bounds) whenever they are concrete numbers.
    """

    values: Float[Array, "*batch n"]
    specs: tuple[Param, ...] = eqx.field(static=True)

    # construction ---------------------------------------------------------------------
    @classmethod
    def from_specs(cls, specs: Sequence[Param]) -> Params:
        """Build the default parameter set from declarations (validated)."""
        specs = tuple(specs)
        _layout(specs)  # raises on duplicate names
        chunks = []
        for s in specs:
            v = np.asarray(s.value, dtype=np.float64)
            if v.shape != s.shape:
                raise ValueError(f"parameter {s.name!r}: default value has shape {v.shape}, declared {s.shape}")
            chunks.append(v.reshape(-1))
        values = jnp.asarray(np.concatenate(chunks) if chunks else np.zeros(0))
        return cls(values=values, specs=specs).check()

    # access ---------------------------------------------------------------------------
    @property
    def names(self) -> tuple[str, ...]:
        return tuple(s.name for s in self.specs)

    @property
    def layout(self) -> dict[str, tuple[int, int, tuple[int, ...]]]:
        return _layout(self.specs)

    @property
    def batch_shape(self) -> tuple[int, ...]:
        return tuple(self.values.shape[:-1])

    def spec(self, name: str) -> Param:
        for s in self.specs:
            if s.name == name:
                return s
        raise unknown_name("parameter", name, self.specs)

    def index(self, name: str, *, owner: str = "") -> tuple[int, ...]:
        """Flat indices of a parameter name (every form of :func:`resolve_name`: ``"k1"``,
        ``"w"``, ``"w[bone]"``, ``"bone.k_z"``); ``owner`` names the model in errors."""
        return resolve_name(self.specs, name, kind="parameter", owner=owner)[0]

    def select(self, names: Sequence[str] | str | None, *, owner: str = "") -> tuple[int, ...]:
        """Flat indices of several parameter names, in order (``None``: all entries)."""
        return select_names(self.specs, names, kind="parameter", owner=owner)

    def __getitem__(self, name: str) -> Array:
        self.spec(name)  # clear error for unknown names
        return View(self.values, self.layout)[name]

    def view(self) -> View:
        return View(self.values, self.layout)

    def lower_upper(self) -> tuple[np.ndarray, np.ndarray]:
        """Flat arrays of lower and upper bounds, aligned with ``values``."""
        lo = np.concatenate([np.full(s.size, s.bounds[0]) for s in self.specs]) if self.specs else np.zeros(0)
        hi = np.concatenate([np.full(s.size, s.bounds[1]) for s in self.specs]) if self.specs else np.zeros(0)
        return lo, hi

    def flat_names(self) -> tuple[str, ...]:
        """One label per entry of ``values`` (``w[2]`` for element 2 of array parameter ``w``,
        ``w[bone]`` where the parameter declares labels)."""
        return flat_labels(self.specs)

    # modification ---------------------------------------------------------------------
    def replace(self, **new: Any) -> Params:
        """Return a copy with some values changed, e.g. ``p.replace(k1=0.1)``; names in
        any form of :func:`resolve_name` (``p.replace(**{"w[bone]": 0.2})``).

        A scalar parameter given a 1-D array of length B makes (or must match) a batch
        of B parameter sets. Unknown names raise :class:`UnknownNameError` (a ``KeyError``
        and a ``ValueError``); bad values ``ValueError``.
        """
        return self.replace_named(new)

    def replace_named(self, new: Mapping[str, Any], *, owner: str = "") -> Params:
        """:meth:`replace` from a mapping; ``owner`` (a model name) is named in errors."""
        where = {name: resolve_name(self.specs, name, kind="parameter", owner=owner) for name in new}
        covered: dict[int, str] = {}
        for name, (idx, _) in where.items():
            for i in idx:
                if i in covered:
                    raise ValueError(f"parameters {covered[i]!r} and {name!r} both set {self.flat_names()[i]!r}; "
                                     "give each entry one value")
                covered[i] = name
        new = {name: as_numbers(val, f"parameter {name!r}") for name, val in new.items()}
        batch = self.batch_shape
        for name, val in new.items():
            shape = where[name][1]
            vshape = tuple(np.shape(val))  # lists too; a tracer's own shape
            extra = vshape[: len(vshape) - len(shape)]
            if vshape[len(extra):] != shape or len(extra) > 1:
                allowed = f"{shape} (one value) or (B, {', '.join(map(str, shape))}) (a batch of B sets)" if shape \
                    else "() (a scalar) or (B,) (a batch of B values)"
                raise ValueError(f"parameter {name!r} has shape {shape}; got a value of shape {vshape}; "
                                 f"allowed shapes: {allowed}")
            if extra:
                if batch and batch != extra:
                    raise ValueError(f"parameter {name!r}: batch shape {extra} does not match {batch}")
                batch = extra
        values = jnp.broadcast_to(self.values, batch + self.values.shape[-1:])
        for name, val in new.items():
            idx, shape = where[name]
            val = jnp.broadcast_to(jnp.asarray(val, dtype=values.dtype), batch + shape)
            values = values.at[..., idx[0]:idx[-1] + 1].set(val.reshape(batch + (len(idx),)))
        return Params(values=values, specs=self.specs).check()

    def with_values(self, values: Float[Array, "*batch n"]) -> Params:
        """Return a copy with the whole flat vector (or a ``(batch, n)`` matrix) replaced."""
        values = as_numbers(values, "parameter values")
        if values.ndim not in (1, 2) or values.shape[-1] != self.values.shape[-1]:
            raise ValueError(
                f"parameter values must have shape ({self.values.shape[-1]},) or (batch, {self.values.shape[-1]}); "
                f"got {values.shape}"
            )
        return Params(values=values, specs=self.specs).check()

    # validation -----------------------------------------------------------------------
    def check(self) -> Params:
        """Raise ``ValueError`` naming the first non-finite or out-of-bounds value.

        Skipped (returns ``self``) when the values are tracers inside a transformation.
        """
        if not is_concrete(self.values):
            return self
        v = np.asarray(self.values)
        lo, hi = self.lower_upper()
        bad = ~np.isfinite(v) | (v < lo) | (v > hi)
        if bad.any():
            idx = np.argwhere(bad)[0]
            flat = int(idx[-1])
            label = self.flat_names()[flat]
            spec = self.specs[[i for i, s in enumerate(self.specs) for _ in range(s.size)][flat]]
            where = f" (batch member {tuple(int(i) for i in idx[:-1])})" if v.ndim > 1 else ""
            value = float(v[tuple(idx)])
            reason = "is not finite" if not np.isfinite(value) else f"is outside its bounds {list(spec.bounds)}"
            raise ValueError(f"parameter {label!r} = {value!r}{where} {reason} [{spec.unit}]")
        return self

    def rows(self) -> list[dict[str, str]]:
        """One row per declared parameter, as text: ``name``, ``value`` (``bone: 1, lung: 2``
        for an array with labels), ``unit``, ``bounds`` (``[0, inf)``), ``source`` and
        ``description``. :meth:`table` and the documentation's parameter tables print these."""
        v = np.asarray(self.values)
        out = []
        for s in self.specs:
            start, stop, _ = self.layout[s.name]
            val = v[..., start:stop]
            if val.size == 1:
                value = f"{float(val.reshape(-1)[0]):.6g}"
            elif val.ndim == 1:
                value = ", ".join(f"{lab}: {float(x):.6g}" for lab, x in zip(_entry_labels(s), val, strict=True))
            else:  # a batch of parameter sets
                value = np.array2string(val, precision=4)
            lo, hi = s.bounds
            bounds = f"{'(' if math.isinf(lo) else '['}{lo:.6g}, {hi:.6g}{')' if math.isinf(hi) else ']'}"
            out.append(dict(name=s.name, value=value, unit=s.unit, bounds=bounds, source=s.source,
                            description=s.description))
        return out

    def table(self) -> str:
        """A plain-text table of names, values, units and sources (for notebooks)."""
        rows = self.rows()
        width = {k: max([len(k)] + [len(r[k]) for r in rows]) for k in ("name", "value", "unit")}
        lines = [f"{'name':<{width['name']}}  {'value':>{width['value']}}  {'unit':<{width['unit']}}  source"]
        lines += [f"{r['name']:<{width['name']}}  {r['value']:>{width['value']}}  {r['unit']:<{width['unit']}}  "
                  f"{r['source']}" for r in rows]
        return "\n".join(lines)


# --------------------------------------------------------------------------------------
# Models
# --------------------------------------------------------------------------------------
class Model(eqx.Module):
    """Base class of every model. Subclasses implement :meth:`rhs` (and optionally
    :meth:`observables`, :meth:`breakpoints`); a constructor function returns an
    instance with the published defaults.

    Public attributes: ``name``, ``states``, ``inputs``, ``observable_specs``,
    ``params`` (:class:`Params`), ``y0`` (flat initial state), ``reference``, ``stiff``.
    """

    name: str = eqx.field(static=True)
    states: tuple[State, ...] = eqx.field(static=True)
    params: Params
    y0: Float[Array, " n"]
    inputs: tuple[Input, ...] = eqx.field(static=True, default=())
    observable_specs: tuple[Observable, ...] = eqx.field(static=True, default=())
    reference: str = eqx.field(static=True, default="")
    #: Numerical hint for solvers: True when fast and slow time scales coexist so that an
    #: implicit method is needed (measured per model in ``bench/``).
    stiff: bool = eqx.field(static=True, default=False)
    #: Patient-level outcomes (:class:`Outcome`): which outputs are expected event counts,
    #: cumulative hazards, thresholds or Poisson means.
    outcomes: tuple[Outcome, ...] = eqx.field(static=True, default=())
    #: States that form an autonomous linear block (whole states, by name), e.g. a drug's
    #: linear disposition: their derivatives are ``linear_matrix(p) @ y_L`` plus the infusion
    #: rates into them, whatever the time, the inputs and every other state. A solver may
    #: then carry them exactly between events (a matrix exponential) instead of stepping
    #: them: a fast linear phase (zoledronic acid's 0.24 h) no longer limits the step size
    #: of the whole model. ``tests/test_linear_block.py`` checks each declaration.
    linear_states: tuple[str, ...] = eqx.field(static=True, default=())

    def __check_init__(self):
        n = sum(s.size for s in self.states)
        if jnp.shape(self.y0) != (n,):
            raise ValueError(f"model {self.name!r}: y0 has shape {jnp.shape(self.y0)}, expected ({n},)")
        names = [o.name for o in self.outcomes]
        dup = sorted({x for x in names if names.count(x) > 1})
        if dup:
            raise ValueError(f"model {self.name!r}: outcome names {dup} are declared more than once")
        unknown = [x for x in self.linear_states if x not in self.state_names]
        if unknown:
            raise ValueError(f"model {self.name!r}: linear_states {unknown} are not states; states: "
                             f"{list(self.state_names)}")
        for o in self.outcomes:
            if not isinstance(o, Outcome):
                raise TypeError(f"model {self.name!r}: outcomes must be Outcome declarations; got {o!r}")
            self.resolve_output(o.output)  # an unknown output raises, naming it

    def outcome(self, name: str) -> Outcome:
        """The declared :class:`Outcome` ``name``; :class:`UnknownNameError` names an unknown
        one and lists the declared ones."""
        for o in self.outcomes:
            if o.name == name:
                return o
        raise unknown_name("outcome", name, self.outcomes, owner=self.name, entries=())

    def with_outcomes(self, *outcomes: Outcome) -> Model:
        """A copy with ``outcomes`` added to the declared ones (names must stay unique)."""
        return dataclasses.replace(self, outcomes=self.outcomes + tuple(outcomes))

    # the biology: subclasses implement ---------------------------------------------------
    @abc.abstractmethod
    def rhs(self, t: Float[Array, ""], y: View, p: View, u: View) -> Mapping[str, Array]:
        """Time derivatives of every state, by name (units: state unit per day)."""

    def observables(self, t: Float[Array, ""], y: View, p: View, u: View) -> Mapping[str, Array]:
        """Named derived quantities (see ``observable_specs`` for units)."""
        return {}

    def scheduled_inputs(self, t: Float[Array, ""], p: View) -> Mapping[str, Array]:
        """Inputs the model sets itself from its parameters (e.g. a treatment switched on
        at day ``p.t_drug``), by name; they add to what a regimen sets. Piecewise constant
        in ``t``: every time where one changes must be listed by :meth:`breakpoints`."""
        return {}

    def breakpoints(self, p: View) -> Float[Array, " k"]:
        """Times (days) where :meth:`scheduled_inputs` change. A solver stops there and
        holds inputs constant between stops, so a switch is never stepped over."""
        return jnp.zeros((0,))

    def linear_matrix(self, p: Float[Array, " n_p"]) -> Float[Array, "k k"]:
        """The matrix ``A`` of the linear block :attr:`linear_states` at the flat parameters
        ``p``: ``d y_L/dt = A y_L`` plus the infusion rates into ``y_L``, the flat entries of
        those states in declaration order (:attr:`linear_index`); units 1/day.

        Computed, not written by hand: the Jacobian of :meth:`vector_field`'s ``y_L`` rows in
        ``y_L`` (forward mode, ``k`` products), taken where every state is 1, so that a
        :func:`flux` with its exact-zero rate derivative at an empty compartment still gives
        ``A`` its derivatives in the parameters. Exact when the declaration holds."""
        idx = jnp.asarray(self.linear_index, dtype=jnp.int32)
        if idx.size == 0:
            raise ValueError(f"model {self.name!r} declares no linear_states")
        ones = jnp.ones(self.n_states)
        no_forcing = jnp.zeros(self.n_states + self.n_inputs)

        def rows(y_lin):
            return self.vector_field(jnp.zeros(()), ones.at[idx].set(y_lin), p, no_forcing)[idx]

        return jax.jacfwd(rows)(jnp.ones(idx.size))

    @property
    def linear_index(self) -> tuple[int, ...]:
        """Flat state indices of :attr:`linear_states`, in declaration order (empty if none)."""
        layout = self.state_layout
        return tuple(i for name in self.linear_states for i in range(*layout[name][:2]))

    # names and layout -------------------------------------------------------------------
    @property
    def state_names(self) -> tuple[str, ...]:
        return tuple(s.name for s in self.states)

    @property
    def input_names(self) -> tuple[str, ...]:
        return tuple(s.name for s in self.inputs)

    @property
    def observable_names(self) -> tuple[str, ...]:
        return tuple(s.name for s in self.observable_specs)

    @property
    def n_states(self) -> int:
        return sum(s.size for s in self.states)

    @property
    def n_inputs(self) -> int:
        return sum(s.size for s in self.inputs)

    @property
    def state_layout(self) -> dict[str, tuple[int, int, tuple[int, ...]]]:
        return _layout(self.states)

    @property
    def input_layout(self) -> dict[str, tuple[int, int, tuple[int, ...]]]:
        return _layout(self.inputs)

    def state_slice(self, name: str) -> slice:
        """Slice of the flat state vector holding state ``name`` (or one entry, ``"M[bone]"``)."""
        idx = self.state_index(name)
        return slice(idx[0], idx[-1] + 1)

    def state_index(self, name: str) -> tuple[int, ...]:
        """Flat indices of a state name (``"C"``, ``"M"``, ``"M[bone]"``, ``"bone.C"``);
        :class:`UnknownNameError` names an unknown one, as for parameters."""
        return resolve_name(self.states, name, kind="state", owner=self.name)[0]

    @property
    def output_specs(self) -> tuple[State | Input | Observable, ...]:
        """Every output a solution holds, in the order names are searched: states, inputs,
        observables."""
        return self.states + self.inputs + self.observable_specs

    def resolve_output(self, name: str) -> tuple[State | Input | Observable, int | None]:
        """``(declaration, entry)`` of an output name (``"C"``, ``"metastatic_burden"``, one
        entry ``"metastatic_burden[bone]"`` or ``"D[0]"`` of its first axis, a composite's
        ``"cascade.metastatic_burden[bone]"``): see :func:`resolve_output`."""
        return resolve_output(self.output_specs, name, owner=self.name)

    def param_index(self, name: str) -> tuple[int, ...]:
        """Flat indices of a parameter name (``"k_z"``, ``"w"``, ``"w[bone]"``, ``"bone.k_z"``);
        :class:`UnknownNameError` names an unknown one."""
        return self.params.index(name, owner=self.name)

    def pack(self, values: Mapping[str, Any]) -> Float[Array, " n"]:
        """Flatten a ``{state name: value}`` mapping into the model's state vector."""
        missing = [n for n in self.state_names if n not in values]
        extra = [n for n in values if n not in self.state_layout]
        if missing or extra:
            raise ValueError(f"model {self.name!r}: missing states {missing}, unknown states {extra}")
        parts = []
        for s in self.states:
            v = jnp.asarray(values[s.name], dtype=jnp.float64)
            parts.append(jnp.broadcast_to(v, s.shape).reshape(-1))
        return jnp.concatenate(parts)

    def vector_field(
        self,
        t: Float[Array, ""],
        y: Float[Array, " n"],
        p: Float[Array, " n_p"],
        forcing: Float[Array, " n_plus_m"],
    ) -> Float[Array, " n"]:
        """Flat right-hand side for a solver: ``rhs`` plus zero-order infusion rates.

        ``forcing[:n]`` is added to the state derivatives; ``forcing[n:]`` is the value
        of the inputs. Solvers call this; model authors implement :meth:`rhs`.
        """
        n = self.n_states
        dy = self.rhs(t, View(y, self.state_layout), View(p, self.params.layout), View(forcing[n:], self.input_layout))
        return self.pack(dy) + forcing[:n]

    def input_vector(self, t: Float[Array, ""], p: Float[Array, " n_p"]) -> Float[Array, " m"]:
        """Flat vector of :meth:`scheduled_inputs` at time ``t`` (zeros where unscheduled)."""
        sched = self.scheduled_inputs(t, View(p, self.params.layout))
        unknown = [k for k in sched if k not in self.input_layout]
        if unknown:
            raise ValueError(f"model {self.name!r} schedules unknown inputs {unknown}")
        parts = []
        for s in self.inputs:
            v = jnp.asarray(sched.get(s.name, 0.0), dtype=jnp.float64)
            parts.append(jnp.broadcast_to(v, s.shape).reshape(-1))
        return jnp.concatenate(parts) if parts else jnp.zeros((0,))

    def observe(self, t, y, p, u) -> dict[str, Array]:
        """Observables of one state vector (flat inputs), as declared in ``observable_specs``."""
        out = self.observables(t, View(y, self.state_layout), View(p, self.params.layout), View(u, self.input_layout))
        return {k: jnp.asarray(out[k]) for k in self.observable_names}

    # convenience -------------------------------------------------------------------------
    def with_params(self, **new: Any) -> Model:
        """A copy of the model with some default parameter values changed."""
        return eqx.tree_at(lambda m: m.params, self, self.params.replace_named(new, owner=self.name))

    def with_calibration(self, values: Mapping[str, Any], source: str) -> Model:
        """A copy with the named parameters set to calibrated ``values`` and their declared
        ``source`` saying so: a whole parameter (``"r_P"``) gets ``source`` as its source
        (its published source kept after "before: ") and the value as its default; an entry
        of an array parameter (``"kappa[bone]"``) gets ``"kappa[bone]: <source>"`` added to
        the array's source. ``source`` names what was fitted to what, e.g. ``"fitted to
        zhang2017_vdt (notebooks/04_human_calibration.py)"``."""
        model = self.with_params(**values)
        specs = list(model.params.specs)
        for name in values:
            resolve_name(specs, name, kind="parameter", owner=self.name)  # a clear error for a bad name
            i = next(k for k, s in enumerate(specs) if s.name == _split_entry(name)[0])
            spec = specs[i]
            if _split_entry(name)[1] is None and spec.shape == ():
                specs[i] = dataclasses.replace(spec, value=float(model.params[name]),
                                               source=f"{source}; before: {spec.source}")
            else:
                specs[i] = dataclasses.replace(spec, source=f"{spec.source}; {name}: {source}")
        params = Params(values=model.params.values, specs=tuple(specs))
        return eqx.tree_at(lambda m: m.params, model, params)

    def with_y0(self, **new: Any) -> Model:
        """A copy of the model with some initial states changed, by name."""
        y0 = self.y0
        for name, val in new.items():
            idx, shape = resolve_name(self.states, name, kind="state", owner=self.name)
            v = as_numbers(val, f"initial state {name!r}")
            if v.size not in (1, len(idx)):
                raise ValueError(f"initial state {name!r} has shape {shape}; got value of shape {v.shape}")
            y0 = y0.at[idx[0]:idx[-1] + 1].set(jnp.broadcast_to(jnp.reshape(v, (-1,)), (len(idx),)))
        return eqx.tree_at(lambda m: m.y0, self, y0)

    def describe(self) -> str:
        """States, inputs and parameters with units and sources, as text."""
        lines = [f"{self.name}: {self.reference}", "states:"]
        lines += [f"  {s.name:<10} [{s.unit}] {s.description}" for s in self.states]
        if self.inputs:
            lines.append("inputs:")
            lines += [f"  {s.name:<10} [{s.unit}] {s.description}" for s in self.inputs]
        lines += ["parameters:", self.params.table()]
        return "\n".join(lines)


def x_log_ratio(x: Array, K: Array) -> Array:
    """``x ln(K/x)``, the Gompertz growth term, continued by its limit 0 at ``x = 0`` (a
    tumour resected to zero stays zero) with a finite gradient there."""
    pos = x > 0
    safe = jnp.where(pos, x, 1.0)
    return jnp.where(pos, safe * jnp.log(K / safe), 0.0)


def flux(k: Array, x: Array) -> Array:
    """``k * x``, a first-order flux (rate constant ``k``, amount ``x``), whose derivative in
    ``k`` is written as the exact zero it is where ``x == 0``.

    Reverse mode gives ``d/dk = cotangent * x``. An empty compartment with a fast rate
    (zoledronic acid's 69/day while undosed) is a mode that an explicit solver's error
    control never sees, so it steps far beyond that mode's stability limit; the state stays
    exactly 0, but the discrete adjoint of the mode grows by ~1e10 per step and overflows,
    and ``inf * 0`` would make ``d/dk`` NaN. The value and ``d/dx = k`` are unchanged.
    """
    return jnp.where(x == 0, jax.lax.stop_gradient(k), k) * x


def positive_part(x: Array) -> Array:
    """``max(x, 0)``, as in the bone-mass equations of Komarova 2003 and Ayati 2010."""
    return jnp.maximum(x, 0.0)

