"""Divisions as products with reciprocals: how every solve evaluates a right-hand side.

:func:`reciprocal_divisions` traces a function to a jaxpr and evaluates it again with
every floating-point ``x / y`` computed as ``x * recip(y)`` (and ``y ** -k`` as
``recip(y) ** k``). :func:`recip` is ``1 / y`` whose derivative is written from its own
value, ``d(1/y) = -dy * r * r`` with ``r = 1/y``, where JAX's rule for ``x / y`` divides
again (``dx / y`` and ``-dy * x / y**2``). ``log`` and ``sqrt`` get the same treatment:
their derivatives multiply by ``1/x`` and ``0.5/sqrt(x)``, formed with the value, where
JAX's rules divide by ``x`` and ``2 sqrt(x)``, so no division is left in any derivative.
Nothing in the model changes; the values agree with plain division to rounding
(``x * (1/y)`` is within about one unit in the last place of ``x / y``), and so do all
derivatives, forward and reverse. ``simulate(..., reciprocals=False)`` solves with the
plain divisions.

Why (the measurements, on the full bone-metastasis model against plain division, are on
the performance page of the docs):

* The forward solve is faster. A division whose divisor is a broadcast per-organ value
  (``x / K[o]`` over the size bins) divides every element; ``x * recip(K)`` divides once
  per organ, because XLA moves the reciprocal in front of the broadcast.
* The reverse pass runs fewer kernels. XLA's CPU backend does not copy an expensive
  operation such as a divide into each of its users' fusions, so every shared divide in
  a reverse pass ends a kernel. With reciprocals the reverse pass multiplies by stored
  values instead, and compiles to fewer kernels.

Edge cases follow IEEE arithmetic as plain division does (``x / 0`` and ``x * (1/0)`` are
both ``inf`` for ``x > 0``, ``0/0`` and ``0 * inf`` both NaN; ``tests/test_reciprocal.py``), except where
``|y|`` is below about 5.6e-309 (one over the largest double): its reciprocal overflows,
so ``x * (1/y)`` is ``inf`` where ``x / y`` may be finite.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any

import jax
import jax.numpy as jnp
from jax.extend.core import Jaxpr, Literal
from jaxtyping import Array

__all__ = ["recip", "reciprocal_divisions"]


def _with_slope(fn: Callable[[Array], Array], slope: Callable[[Array, Array], Array], doc: str):
    """``fn`` with derivative ``dx * slope(x, fn(x))``: the slope is formed from the input
    and the value, so the derivative multiplies where JAX's own rule divides."""
    f = jax.custom_jvp(fn)

    @f.defjvp
    def _jvp(primals, tangents):
        (x,), (dx,) = primals, tangents
        value = fn(x)
        return value, dx * slope(x, value)

    f.__doc__ = doc
    return f


recip = _with_slope(lambda y: 1.0 / y, lambda y, r: -(r * r),
                    """``1 / y``, with derivative ``-dy * r * r`` formed from the value ``r`` itself (no
    division in its forward or reverse derivative).""")
_log = _with_slope(jnp.log, lambda x, _: 1.0 / x, "``log x``; JAX's own derivative is ``dx / x``.")
_sqrt = _with_slope(jnp.sqrt, lambda x, s: 0.5 / s, "``sqrt x``; JAX's own derivative is ``dx / (2 sqrt x)``.")


def _is_float(x: Any) -> bool:
    return jnp.issubdtype(jnp.result_type(x), jnp.floating)


def _evaluate(jaxpr: Jaxpr, consts: Sequence[Any], args: Sequence[Any]) -> list[Any]:
    """Evaluate ``jaxpr`` with divisions rewritten; nested ``jit`` calls are rewritten too,
    other primitives (including control flow and custom derivatives) are bound as they are."""
    env: dict[Any, Any] = {}

    def read(v):
        return v.val if isinstance(v, Literal) else env[v]

    env.update(zip(jaxpr.constvars, consts))
    env.update(zip(jaxpr.invars, args))
    for eqn in jaxpr.eqns:
        ins = [read(v) for v in eqn.invars]
        name = eqn.primitive.name
        if name == "div" and all(_is_float(x) for x in ins):
            out = ins[0] * recip(ins[1])
        elif name == "integer_pow" and eqn.params["y"] < 0 and _is_float(ins[0]):
            out = recip(ins[0]) ** (-eqn.params["y"])
        elif name == "log" and _is_float(ins[0]):
            out = _log(ins[0])
        elif name == "sqrt" and _is_float(ins[0]):
            out = _sqrt(ins[0])
        elif name in ("jit", "pjit"):
            inner = eqn.params["jaxpr"]
            out = _evaluate(inner.jaxpr, inner.consts, ins)
        else:
            out = eqn.primitive.bind(*ins, **eqn.params)
        if not eqn.primitive.multiple_results:
            out = [out]
        env.update(zip(eqn.outvars, out))
    return [read(v) for v in jaxpr.outvars]


def reciprocal_divisions(fn: Callable[..., Any]) -> Callable[..., Any]:
    """``fn`` with every floating-point division evaluated as a product with :func:`recip`
    (module docstring). Takes and returns the same pytrees as ``fn``; works under ``jit``,
    ``vmap``, ``grad`` and ``jvp`` like ``fn``. It traces ``fn`` on every call, so use it
    inside a traced function (as :mod:`seedsoil.solvers.simulate` does), not in a Python loop."""

    @functools.wraps(fn)
    def wrapped(*args):
        closed, shape = jax.make_jaxpr(fn, return_shape=True)(*args)
        out = _evaluate(closed.jaxpr, closed.consts, jax.tree_util.tree_leaves(args))
        return jax.tree_util.tree_unflatten(jax.tree_util.tree_structure(shape), out)

    return wrapped
