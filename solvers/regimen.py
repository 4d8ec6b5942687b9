"""Dosing regimens: instantaneous events and zero-order infusions, as arrays.

A :class:`Regimen` is a pytree of arrays (times, amounts, rates) plus static target
names, so the same compiled solve serves every regimen with the same number of events,
and ``jax.vmap`` over a batch of regimens (a leading axis on every array) just works.

Three kinds of event, each aimed at a model state (or, for infusions, a model input):

* :func:`bolus`: ``amount`` is added to the state at ``time`` (a dose; several at one
  time add up).
* :func:`scale`: the state is multiplied by ``factor`` at ``time`` (e.g. a resection that
  leaves a residual fraction of the primary tumour).
* :func:`infusion`: a zero-order rate over ``[start, stop)``: added to ``d(state)/dt``
  when the target is a state; the value of the input when the target is a model input
  (for example Lemaire 2004's PTH infusion rate ``I_P``).

Combine with ``+``: the events of each target are sorted by time (stably, so events at
one time keep the order in which they were added). Times are in days, amounts in the unit
of the target state, rates in that unit per day. Convention: the state saved at a dose
time is the post-dose value.
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence
from typing import Any

import equinox as eqx
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, Float

from ..models.base import as_numbers, is_concrete

__all__ = ["Regimen", "bolus", "scale", "infusion", "every", "from_schedule"]


class Regimen(eqx.Module):
    """Events and infusions as arrays (leading batch axes allowed); see module docs."""

    event_time: Float[Array, "*batch ne"]
    event_amount: Float[Array, "*batch ne"]
    event_factor: Float[Array, "*batch ne"]
    infusion_start: Float[Array, "*batch ni"]
    infusion_stop: Float[Array, "*batch ni"]
    infusion_rate: Float[Array, "*batch ni"]
    event_target: tuple[str, ...] = eqx.field(static=True, default=())
    infusion_target: tuple[str, ...] = eqx.field(static=True, default=())

    @classmethod
    def empty(cls) -> Regimen:
        z = jnp.zeros((0,))
        return cls(z, z, z, z, z, z, (), ())

    @property
    def n_events(self) -> int:
        return len(self.event_target)

    @property
    def n_infusions(self) -> int:
        return len(self.infusion_target)

    @property
    def batch_shape(self) -> tuple[int, ...]:
        shapes = {a.shape[:-1] for a in (self.event_time, self.infusion_start)}
        shapes.discard(())
        if len(shapes) > 1:
            raise ValueError(f"regimen arrays have inconsistent batch shapes {sorted(shapes)}")
        return shapes.pop() if shapes else ()

    def __add__(self, other: Regimen) -> Regimen:
        if not isinstance(other, Regimen):
            return NotImplemented
        cat = lambda a, b: jnp.concatenate(_bcast_cat(a, b), axis=-1)
        targets = self.event_target + other.event_target
        time, amount, factor = _sort_per_target(
            targets, cat(self.event_time, other.event_time), cat(self.event_amount, other.event_amount),
            cat(self.event_factor, other.event_factor))
        return Regimen(
            time, amount, factor,
            cat(self.infusion_start, other.infusion_start),
            cat(self.infusion_stop, other.infusion_stop),
            cat(self.infusion_rate, other.infusion_rate),
            targets,
            self.infusion_target + other.infusion_target,
        )

    def check(self) -> Regimen:
        """Raise ``ValueError`` naming the first bad time, amount, factor or rate.

        Checks (when the arrays hold numbers, not tracers): every array has one entry per
        target; times are finite and >= 0; the times of each target's events are sorted;
        amounts, factors and rates are finite and >= 0; each infusion has
        ``start <= stop`` (``stop`` may be ``inf``).
        """
        ne, ni = self.n_events, self.n_infusions
        for label, arr, n in (
            ("event_time", self.event_time, ne),
            ("event_amount", self.event_amount, ne),
            ("event_factor", self.event_factor, ne),
            ("infusion_start", self.infusion_start, ni),
            ("infusion_stop", self.infusion_stop, ni),
            ("infusion_rate", self.infusion_rate, ni),
        ):
            if arr.ndim < 1 or arr.shape[-1] != n:
                raise ValueError(f"regimen {label} has shape {arr.shape}; expected (..., {n}) for {n} targets")
        _ = self.batch_shape  # raises unless the batch axes are consistent
        if not is_concrete(self):
            return self
        t = np.asarray(self.event_time)
        _finite_nonneg("dose time", t, self.event_target)
        _finite_nonneg("dose amount", np.asarray(self.event_amount), self.event_target)
        _finite_nonneg("scale factor", np.asarray(self.event_factor), self.event_target)
        for target in set(self.event_target):
            cols = [i for i, name in enumerate(self.event_target) if name == target]
            tt = t[..., cols]
            bad = np.diff(tt, axis=-1) < 0
            if bad.any():
                k = np.argwhere(bad)[0]
                raise ValueError(
                    f"dose times for {target!r} are not sorted: {tt[tuple(k[:-1])].tolist()} "
                    f"(time {float(tt[tuple(k[:-1]) + (k[-1] + 1,)])} comes after {float(tt[tuple(k)])})"
                )
        start, stop = np.asarray(self.infusion_start), np.asarray(self.infusion_stop)
        _finite_nonneg("infusion start", start, self.infusion_target)
        _finite_nonneg("infusion rate", np.asarray(self.infusion_rate), self.infusion_target)
        bad = np.isnan(stop) | (stop < start)
        if bad.any():
            k = tuple(np.argwhere(bad)[0])
            raise ValueError(
                f"infusion into {self.infusion_target[k[-1]]!r} stops at {float(stop[k])} "
                f"before it starts at {float(start[k])}"
            )
        return self


def _sort_per_target(targets: tuple[str, ...], time: Array, amount: Array, factor: Array):
    """The events of each target sorted by time (per batch member; a stable sort, so events
    of one target at one time keep their order: a dose before a scaling stays before). Each
    target keeps its columns, so the static targets stay valid for every member."""
    for target in dict.fromkeys(targets):
        cols = np.asarray([i for i, name in enumerate(targets) if name == target])
        if len(cols) < 2:
            continue
        order = jnp.argsort(time[..., cols], axis=-1, stable=True)
        take = lambda a, cols=cols, order=order: a.at[..., cols].set(jnp.take_along_axis(a[..., cols], order, -1))
        time, amount, factor = take(time), take(amount), take(factor)
    return time, amount, factor


def _bcast_cat(a, b):
    try:
        batch = np.broadcast_shapes(a.shape[:-1], b.shape[:-1])
    except ValueError:
        raise ValueError(f"cannot combine regimens with batch shapes {a.shape[:-1]} and {b.shape[:-1]}: "
                         "a batch of B regimens combines with one regimen or another batch of B") from None
    return [jnp.broadcast_to(a, batch + a.shape[-1:]), jnp.broadcast_to(b, batch + b.shape[-1:])]


def _finite_nonneg(label: str, arr: np.ndarray, targets: Sequence[str]) -> None:
    bad = ~np.isfinite(arr) | (arr < 0)
    if bad.any():
        k = tuple(np.argwhere(bad)[0])
        raise ValueError(f"{label} {float(arr[k])!r} for {targets[k[-1]]!r} must be finite and >= 0")


def _vec(x: ArrayLike, n: int | None = None, what: str = "value") -> Float[Array, "*batch n"]:
    a = as_numbers(x, what)
    if a.ndim == 0:
        a = a[None]
    if n is not None:
        a = jnp.broadcast_to(a, a.shape[:-1] + (n,)) if a.shape[-1] == 1 else a
    return a


def _events(target: str, times: ArrayLike, values: ArrayLike, what: str) -> tuple[Array, Array, Array]:
    """Times and per-event values as broadcast arrays, plus an empty infusion array."""
    _check_target(target)
    t = _vec(times, what=f"dose times for {target!r}")
    v = _vec(values, t.shape[-1], what=f"{what} for {target!r}")
    if v.shape[-1] != t.shape[-1]:
        raise ValueError(f"{target!r}: {t.shape[-1]} times but {v.shape[-1]} {what}")
    t, v = _broadcast(target, dict(times=t, **{what: v}))
    return t, v, jnp.zeros(t.shape[:-1] + (0,))


def _check_target(target: Any) -> None:
    if not isinstance(target, str) or not target:
        raise TypeError(f"dose targets are given by name (a state, or an input for infusions); got {target!r}")


def _broadcast(target: str, arrays: dict[str, Array]) -> list[Array]:
    """The arrays of one call broadcast to one shape, or ``ValueError`` naming their shapes."""
    try:
        return jnp.broadcast_arrays(*arrays.values())
    except ValueError:
        shapes = ", ".join(f"{k} {tuple(a.shape)}" for k, a in arrays.items())
        raise ValueError(f"{target!r}: the batch axes do not match ({shapes}); give one batch size B") from None


def bolus(target: str, times: ArrayLike, amounts: ArrayLike) -> Regimen:
    """Instantaneous doses: ``amounts`` (state unit) added to ``target`` at ``times`` (days).

    ``times`` is a scalar or 1-D array (sorted, >= 0); ``amounts`` a scalar (same for all)
    or an array of the same length. Several doses at the same time add up.
    """
    t, a, z = _events(target, times, amounts, "amounts")
    return Regimen(t, a, jnp.ones_like(t), z, z, z, (target,) * t.shape[-1], ()).check()


def scale(target: str, times: ArrayLike, factor: ArrayLike) -> Regimen:
    """Instantaneous multiplication of ``target`` by ``factor`` (>= 0) at ``times``."""
    t, f, z = _events(target, times, factor, "factors")
    return Regimen(t, jnp.zeros_like(t), f, z, z, z, (target,) * t.shape[-1], ()).check()


def infusion(target: str, rate: ArrayLike, start: ArrayLike, stop: ArrayLike) -> Regimen:
    """Zero-order infusion(s) of ``rate`` (target unit per day) over ``[start, stop)``.

    ``target`` may be a state (the rate is added to its derivative) or a model input (the
    input equals the sum of the rates of its active infusions). ``stop`` may be ``inf``.
    """
    _check_target(target)
    s = _vec(start, what=f"infusion start for {target!r}")
    e = _vec(stop, s.shape[-1], what=f"infusion stop for {target!r}")
    r = _vec(rate, s.shape[-1], what=f"infusion rate for {target!r}")
    if not (s.shape[-1] == e.shape[-1] == r.shape[-1]):
        raise ValueError(f"infusion into {target!r}: start, stop and rate lengths differ")
    s, e, r = _broadcast(target, dict(start=s, stop=e, rate=r))
    z = jnp.zeros(s.shape[:-1] + (0,))
    return Regimen(z, z, z, s, e, r, (), (target,) * s.shape[-1]).check()


def every(interval: float, start: float = 0.0, count: int = 1) -> Float[Array, " count"]:
    """``count`` dose times ``start, start + interval, ...`` (days); ``count`` is static."""
    if not (isinstance(count, numbers.Real) and not isinstance(count, (bool, np.bool_)) and count >= 1
            and int(count) == count):
        raise ValueError(f"count must be a positive integer; got {count!r}")
    interval, start = as_numbers(interval, "dosing interval"), as_numbers(start, "start")
    try:
        np.broadcast_shapes(start.shape, interval.shape, (int(count),))
    except ValueError:
        raise ValueError(f"start (shape {start.shape}) and dosing interval (shape {interval.shape}) must be numbers, "
                         f"or arrays whose last axis broadcasts against the {int(count)} doses") from None
    if is_concrete((interval, start)):
        iv, st = np.asarray(interval), np.asarray(start)
        if not np.all(np.isfinite(iv) & (iv > 0)):
            raise ValueError(f"dosing interval must be finite and > 0 days; got {iv.tolist()!r}")
        if not np.all(np.isfinite(st)):
            raise ValueError(f"start must be a finite number of days; got {st.tolist()!r}")
    return start + interval * jnp.arange(int(count), dtype=jnp.float64)


def from_schedule(schedule, start: ArrayLike = 0.0, count: int = 1, interval: ArrayLike | None = None,
                  amount: ArrayLike | None = None, *, part: str | None = None) -> Regimen:
    """The regimen of a dosing schedule (any object with ``state``, ``amount``,
    ``interval``, ``duration`` and ``loading`` attributes, e.g. ``seedsoil.models.drugs.XGEVA_Q4W``).

    ``count`` regular doses from day ``start`` every ``interval`` days (the schedule's unless
    given), plus its loading doses at ``start + loading``. ``count`` fixes the number of
    events and so the compiled shape; ``start``, ``interval`` and ``amount`` are numbers
    that ``jax.vmap`` may sweep. Injections become boluses of ``amount`` into ``state``;
    infusions a zero-order rate ``amount / duration`` over ``duration`` days.

    ``part`` names the part of a composite model that holds the drug: the dose then goes
    to ``"<part>.<state>"``, e.g. ``from_schedule(XGEVA_Q4W, part="denosumab", count=13)``
    doses ``"denosumab.depot"`` of ``compose({"denosumab": denosumab(), ...})``.
    """
    if part is not None and not (isinstance(part, str) and part and not part.startswith(".")
                                 and not part.endswith(".")):
        raise ValueError(f"part must be the name of a composite's part, e.g. 'denosumab'; got {part!r}")
    target = schedule.state if part is None else f"{part}.{schedule.state}"
    interval = schedule.interval if interval is None else interval
    amount = as_numbers(schedule.amount if amount is None else amount, "amount")
    times = every(interval, start, count)
    if schedule.loading:
        times = jnp.sort(jnp.concatenate([times, start + jnp.asarray(schedule.loading, dtype=jnp.float64)]))
    if schedule.duration > 0:
        return infusion(target, amount / schedule.duration, times, times + schedule.duration)
    return bolus(target, times, amount)
