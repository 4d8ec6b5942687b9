"""Export any seedsoil model, with its parameters, initial state and doses, to SBML.

:func:`export` writes an SBML Level 3 Version 2 document (python-libsbml) that
libroadrunner, COPASI or any other SBML tool simulates like :func:`solvers.simulate`;
:func:`roadrunner_simulate` runs such a document with libroadrunner (CVODE).

Method: the exporter knows nothing of a model's biology. It traces the model's flat
functions with :func:`jax.make_jaxpr` -- ``vector_field(t, y, p, forcing)``,
``observe(t, y, p, u)``, ``input_vector(t, p)`` (scheduled inputs) and
``breakpoints(p)`` -- and interprets the resulting jaxprs symbolically: every array is a
NumPy object array whose elements are numbers or small expression nodes, and every JAX
primitive (arithmetic, ``exp``/``log``/``pow``, ``max``/``min``, comparisons and
``select_n`` -> ``piecewise``, slicing, reshaping, concatenation, reductions,
``dot_general``, ``cumsum``, ``pad``, gathers with constant indices, nested ``jit`` /
``custom_jvp`` calls, ``cond``...) maps to its elementwise SBML math. Operations on
numbers only are folded to numbers (so masks built from ``iota`` vanish), and nodes are
hash-consed, so an intermediate computed once in JAX is one node, shared by every
expression that uses it. Single-use nodes are inlined. A (non-boolean) node used more
than once is written once, in one of two ways:

* as an SBML assignment rule (a parameter ``tmp<k>``), when every expression (rate rule,
  input, observable, event trigger) that uses it stays small written out in full
  (at most ``_HEAVY`` = 1000 nodes);
* inside a *let-chain* otherwise. libroadrunner (2.10) compiles every reference to an
  assignment rule by expanding the rule in place, so a shared intermediate used twice by
  another, itself used twice, ... is compiled an exponential number of times (written
  with assignment rules only, the metastatic cascade with 4 size bins took 2 minutes to
  load: its quasi-steady CTC pool, which sums re-seeding over every bin, enters every
  organ).
  A heavy expression is therefore written as nested calls of function definitions
  ``<root>_let1(globals)``, whose body calls ``<root>_let2(...)`` with the values of the
  first level of its shared nodes added as arguments, and so on; the last function's
  body is the expression itself. Every SBML tool evaluates a call's arguments once, so
  each shared node is evaluated once per expression. A heavy node that several
  expressions use (the CTC pool) is itself one such chain, ``shared<k>_let1(inputs)``,
  written once and called from the chain of each expression that needs it; its inputs
  are symbols, light rules and the values of other shared heavy nodes, which the caller
  computes first (so the re-seeding sum is evaluated once, not once per CTC pool).

The SBML size is therefore proportional to the jaxpr size, with no exponential blow-up.
Load times in libroadrunner (the full bone-metastasis model: 64 bins, bone and both
drugs) are measured by bench/bench_full.py.

What the document contains:

* one constant parameter per flat model parameter (id sanitised from the flat label,
  e.g. ``w[bone]`` -> ``w_bone``; the label is the ``name``), with its value, unit,
  source, bounds and description in notes and a ``seedsoil`` annotation; simple units
  (``1``, ``day``, ``1/day``, ``cells``, ``pM``, ``L`` ...) also as SBML unit definitions.
  Model time units are days.
* one non-constant parameter with a rate rule per state element (initial value from
  ``y0``); array states are flattened (``R[0]``, ``R[1]``, ... -> ids ``R_0``, ``R_1``).
* one parameter per input element: constant 0 when nothing sets it, otherwise an
  assignment rule summing its active infusions and the model's scheduled value.
* one assignment rule per observable element (``observables=True``).
* doses as events: boluses and scalings at one time form one event (trigger
  ``time >= t``, ``initialValue=false`` so that a dose at the start time fires,
  persistent, values from trigger time) assigning ``x = x*factor + amount`` composed in
  the order :func:`solvers.simulate` applies them; each infusion gets a constant rate
  parameter and an on/off flag switched by a start and a stop event (zero-order rate
  into a state's rate rule, or into an input's value).
* model breakpoints (``breakpoints(p)``, e.g. a drug switched on at ``p.t_drug``) as
  events whose trigger is the traced expression of the breakpoint in the parameters.
  Scheduled inputs are evaluated, like the solver does, at the time of the latest event
  (``t_segment``, a parameter set by every event), so they are exactly piecewise constant
  and switch where the event fires.

Semantics follow :func:`solvers.simulate`: events before the start fire at the start,
doses at one time compose in regimen order, infusions are active on ``[start, stop)``,
and the state reported at a dose time is the post-dose value (libroadrunner's too).

Limits: loops (``while``, ``scan``), sorting, ``erf`` and other functions without an SBML
counterpart raise :class:`NotImplementedError` naming the primitive; gathers, scatters
and dynamic slices need constant indices (their 0/1 Jacobian, from ``jax.jacfwd``, says
which element goes where); ``cond`` with a symbolic predicate becomes ``piecewise``;
integer arithmetic on symbolic values is refused. ``log1p``/``expm1`` are written ``ln(1 + x)`` /
``exp(x) - 1`` (less accurate for tiny ``x``). ``0 * x`` folds to ``0`` even if ``x``
could be infinite. A batched parameter set or regimen is refused (export one member).
Regimen event times and amounts are written as numbers, parameters stay editable in the
SBML tool (rules and events refer to them by id).

:func:`roadrunner_load` compiles a document with libroadrunner's default MCJIT backend,
or with ``backend="lljit"``: several times faster to load for large documents, with the
same simulation speed (bench/bench_full.py uses it in a fresh process).
"""

from __future__ import annotations

import html
import math
import re
import threading
from collections import Counter, defaultdict
from collections.abc import Sequence
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from ..models.base import Model, View
from ._simulate import _resolve_params, _resolve_regimen, _resolve_y0
from .regimen import Regimen

__all__ = ["export", "roadrunner_load", "roadrunner_simulate", "sbml_errors"]

_NS = "https://github.com/seedsoil/sbml-export"
_INLINE_DEPTH = 48  # deeper single-use chains are cut into assignment rules
_HEAVY = 1000  # roots whose inlined expression is larger are written as let-chains of functions


# --------------------------------------------------------------------------------------
# Expression nodes (hash-consed per export)
# --------------------------------------------------------------------------------------
class Node:
    """A symbolic scalar: ``op`` applied to ``args`` (numbers or nodes); ``sym`` is a leaf."""

    __slots__ = ("op", "args", "boolean")

    def __init__(self, op: str, args: tuple, boolean: bool):
        self.op, self.args, self.boolean = op, args, boolean

    def __repr__(self):
        return f"Node({self.op}, {len(self.args)} args)"


_BOOL_OPS = {"lt", "leq", "gt", "geq", "eq", "neq", "and", "or", "not", "xor"}
_state = threading.local()


def _cache() -> dict:
    c = getattr(_state, "cache", None)
    if c is None:
        c = _state.cache = {}
    return c


def _key(a):
    return ("N", id(a)) if isinstance(a, Node) else (type(a).__name__, repr(a))


def _mk(op: str, *args) -> Node:
    key = (op,) + tuple(_key(a) for a in args)
    c = _cache()
    node = c.get(key)
    if node is None:
        if op == "piecewise":
            boolean = any(isinstance(a, Node) and a.boolean for a in (args[0], args[2])) or isinstance(args[0], bool)
        else:
            boolean = op in _BOOL_OPS
        node = c[key] = Node(op, args, boolean)
    return node


def _sym(sid: str) -> Node:
    return _mk("sym", sid)


def _isnum(x) -> bool:
    return not isinstance(x, Node)


def _np1(fn):
    def g(a):
        with np.errstate(all="ignore"):
            return float(fn(np.float64(a)))
    return g


def _np2(fn):
    def g(a, b):
        with np.errstate(all="ignore"):
            return float(fn(np.float64(a), np.float64(b)))
    return g


# scalar operations with constant folding and identities ---------------------------------
def _add(a, b):
    if _isnum(a) and _isnum(b):
        return a + b
    if _isnum(a) and a == 0:
        return b
    if _isnum(b) and b == 0:
        return a
    return _mk("add", a, b)


def _sub(a, b):
    if _isnum(a) and _isnum(b):
        return a - b
    if _isnum(b) and b == 0:
        return a
    if _isnum(a) and a == 0:
        return _neg(b)
    return _mk("sub", a, b)


def _mul(a, b):
    if _isnum(a) and _isnum(b):
        return a * b
    for x, y in ((a, b), (b, a)):
        if _isnum(x):
            if x == 0:
                return 0.0
            if x == 1:
                return y
            if x == -1:
                return _neg(y)
    return _mk("mul", a, b)


def _div(a, b):
    if _isnum(a) and _isnum(b):
        if isinstance(a, int) and isinstance(b, int) and not isinstance(a, bool):
            return int(a / b) if b else 0
        return _np2(np.divide)(a, b)
    if _isnum(b) and b == 1:
        return a
    if _isnum(a) and a == 0:
        return 0.0
    return _mk("div", a, b)


def _neg(a):
    if _isnum(a):
        return -a
    if a.op == "neg":
        return a.args[0]
    return _mk("neg", a)


def _pow(a, b):
    if _isnum(a) and _isnum(b):
        return _np2(np.power)(a, b)
    if _isnum(b):
        if b == 1:
            return a
        if b == 0:
            return 1.0
    return _mk("pow", a, b)


def _ipow(a, n):
    if _isnum(a):
        return _np2(np.power)(a, n) if not isinstance(a, int) else a ** n
    if n == 1:
        return a
    if n == 0:
        return 1.0
    return _mk("pow", a, int(n))


def _fn1(name, numeric):
    def g(a):
        return numeric(a) if _isnum(a) else _mk(name, a)
    return g


def _fn2(name, numeric):
    def g(a, b):
        return numeric(a, b) if _isnum(a) and _isnum(b) else _mk(name, a, b)
    return g


def _rel(name, numeric):
    def g(a, b):
        if _isnum(a) and _isnum(b):
            return bool(numeric(a, b))
        return _mk(name, a, b)
    return g


def _logical(name, numeric):
    def g(a, b):
        if _isnum(a) and _isnum(b):
            return numeric(a, b)
        if not (isinstance(a, (bool, Node)) and isinstance(b, (bool, Node))):
            raise NotImplementedError(f"SBML export: bitwise {name!r} on integers is not supported")
        if name in ("and", "or"):
            for x, y in ((a, b), (b, a)):
                if isinstance(x, bool):
                    if name == "and":
                        return y if x else False
                    return True if x else y
        return _mk(name, a, b)
    return g


def _not(a):
    if isinstance(a, bool):
        return not a
    if _isnum(a):
        return ~a
    if not a.boolean:
        raise NotImplementedError("SBML export: bitwise 'not' on integers is not supported")
    return _mk("not", a)


def _piecewise(cond, if_true, if_false):
    if _isnum(cond):
        return if_true if cond else if_false
    if if_true is if_false or (_isnum(if_true) and _isnum(if_false) and _key(if_true) == _key(if_false)):
        return if_true
    return _mk("piecewise", if_true, cond, if_false)


def _select(pred, *cases):
    if _isnum(pred):
        return cases[int(pred)]
    if pred.boolean:
        return _piecewise(pred, cases[1], cases[0])
    if pred.op == "b2f":  # an integer index made from a boolean
        return _piecewise(pred.args[0], cases[1], cases[0]) if len(cases) == 2 else _select_chain(pred, cases)
    return _select_chain(pred, cases)


def _select_chain(pred, cases):
    out = cases[-1]
    for k in range(len(cases) - 2, -1, -1):
        out = _piecewise(_mk("eq", pred, float(k)), cases[k], out)
    return out


def _sum_n(items):
    num = 0.0
    nodes = []
    for x in items:
        if _isnum(x):
            num = num + x
        else:
            nodes.append(x)
    if not nodes:
        return num
    if num != 0:
        nodes.append(num)
    if len(nodes) == 1:
        return nodes[0]
    if len(nodes) == 2:
        return _mk("add", *nodes)
    return _mk("sum", *nodes)


def _chain(fn, items):
    out = items[0]
    for x in items[1:]:
        out = fn(out, x)
    return out


def _maxf(a, b):
    return _np2(np.maximum)(a, b)


def _minf(a, b):
    return _np2(np.minimum)(a, b)


def _sign(a):
    if _isnum(a):
        return _np1(np.sign)(a)
    return _piecewise(_mk("gt", a, 0.0), 1.0, _piecewise(_mk("lt", a, 0.0), -1.0, a))


def _max(a, b):
    return _maxf(a, b) if _isnum(a) and _isnum(b) else _mk("max", a, b)


def _min(a, b):
    return _minf(a, b) if _isnum(a) and _isnum(b) else _mk("min", a, b)


# --------------------------------------------------------------------------------------
# Symbolic jaxpr interpreter
# --------------------------------------------------------------------------------------
def _const(x) -> np.ndarray:
    return np.asarray(np.asarray(x).tolist() if np.ndim(x) else np.asarray(x).item(), dtype=object).reshape(np.shape(x))


def _ew(fn, *arrays) -> np.ndarray:
    out = np.frompyfunc(fn, len(arrays), 1)(*arrays)
    if isinstance(out, np.ndarray):
        return out
    res = np.empty((), dtype=object)
    res[()] = out
    return res


def _all_numeric(a: np.ndarray) -> bool:
    return all(_isnum(x) for x in a.flat)


def _unary(fn):
    return lambda eqn, x: _ew(fn, x)


def _binary(fn):
    return lambda eqn, a, b: _ew(fn, a, b)


def _convert(eqn, x):
    new = np.dtype(eqn.params["new_dtype"])

    def conv(a):
        if np.issubdtype(new, np.floating):
            if _isnum(a):
                return float(a)
            return _mk("b2f", a) if a.boolean else a
        if new == np.bool_:
            if _isnum(a):
                return bool(a)
            return a if a.boolean else _mk("neq", a, 0.0)
        if np.issubdtype(new, np.integer):
            if _isnum(a):
                return int(a)
            if a.boolean:
                return _mk("b2f", a)
            if a.op == "b2f":
                return a
        raise NotImplementedError(f"SBML export: conversion of a symbolic value to {new} is not supported")

    return _ew(conv, x)


def _broadcast_in_dim(eqn, x, *dyn):
    shape = tuple(eqn.params["shape"])
    expanded = [1] * len(shape)
    for i, d in enumerate(eqn.params["broadcast_dimensions"]):
        expanded[d] = x.shape[i]
    return np.broadcast_to(x.reshape(expanded), shape).copy()


def _reshape(eqn, x, *dyn):
    dims = eqn.params.get("dimensions")
    if dims is not None:
        x = np.transpose(x, dims)
    return x.reshape(tuple(eqn.params["new_sizes"]))


def _slice(eqn, x):
    strides = eqn.params["strides"] or (1,) * x.ndim
    idx = tuple(slice(a, b, s) for a, b, s in zip(eqn.params["start_indices"], eqn.params["limit_indices"], strides))
    return x[idx].copy()


def _numeric_ints(vals, what) -> list[int]:
    out = []
    for v in vals:
        if not _all_numeric(v):
            raise NotImplementedError(f"SBML export: {what} must not depend on states, parameters or time")
        out.append(int(np.asarray(v.tolist()).reshape(())))
    return out


def _dynamic_slice(eqn, x, *idx):
    starts = _numeric_ints(idx, "dynamic_slice indices")
    sizes = eqn.params["slice_sizes"]
    starts = [min(max(s, 0), d - n) for s, d, n in zip(starts, x.shape, sizes)]
    return x[tuple(slice(s, s + n) for s, n in zip(starts, sizes))].copy()


def _dynamic_update_slice(eqn, x, upd, *idx):
    starts = _numeric_ints(idx, "dynamic_update_slice indices")
    starts = [min(max(s, 0), d - n) for s, d, n in zip(starts, x.shape, upd.shape)]
    out = x.copy()
    out[tuple(slice(s, s + n) for s, n in zip(starts, upd.shape))] = upd
    return out


def _concatenate(eqn, *xs):
    return np.concatenate(xs, axis=eqn.params["dimension"])


def _stack(eqn, *xs):
    return np.stack(xs, axis=eqn.params["axis"])


def _split(eqn, x):
    cuts = np.cumsum(eqn.params["sizes"])[:-1]
    return [p.copy() for p in np.split(x, cuts, axis=eqn.params["axis"])]


def _squeeze(eqn, x):
    return np.squeeze(x, axis=tuple(eqn.params["dimensions"])).copy()


def _expand_dims(eqn, x):
    return np.expand_dims(x, tuple(eqn.params["dimensions"]))


def _transpose(eqn, x):
    return np.transpose(x, eqn.params["permutation"]).copy()


def _rev(eqn, x):
    return np.flip(x, axis=tuple(eqn.params["dimensions"])).copy()


def _iota(eqn):
    dtype, shape, dim = np.dtype(eqn.params["dtype"]), tuple(eqn.params["shape"]), eqn.params["dimension"]
    r = np.arange(shape[dim]).reshape([-1 if i == dim else 1 for i in range(len(shape))])
    return _const(np.broadcast_to(r, shape).astype(dtype))


def _reduce(fn_n):
    def rule(eqn, x):
        axes = tuple(eqn.params["axes"])
        keep = [i for i in range(x.ndim) if i not in axes]
        xt = np.transpose(x, keep + list(axes))
        out_shape = tuple(x.shape[i] for i in keep)
        xt = xt.reshape(out_shape + (int(np.prod([x.shape[i] for i in axes], dtype=int)),))
        out = np.empty(out_shape, dtype=object)
        for idx in np.ndindex(out_shape):
            out[idx] = fn_n(list(xt[idx]))
        return out
    return rule


def _cumulative(fn):
    def rule(eqn, x):
        axis, reverse = eqn.params["axis"], eqn.params.get("reverse", False)
        y = np.moveaxis(x, axis, -1)
        if reverse:
            y = y[..., ::-1]
        out = np.empty(y.shape, dtype=object)
        for idx in np.ndindex(y.shape[:-1]):
            acc = None
            for k in range(y.shape[-1]):
                acc = y[idx + (k,)] if acc is None else fn(acc, y[idx + (k,)])
                out[idx + (k,)] = acc
        if reverse:
            out = out[..., ::-1]
        return np.moveaxis(out, -1, axis).copy()
    return rule


def _dot_general(eqn, lhs, rhs):
    (lc, rc), (lb, rb) = eqn.params["dimension_numbers"]
    lc, rc, lb, rb = map(list, (lc, rc, lb, rb))
    lf = [i for i in range(lhs.ndim) if i not in lc and i not in lb]
    rf = [i for i in range(rhs.ndim) if i not in rc and i not in rb]
    batch = [lhs.shape[i] for i in lb]
    B, K = int(np.prod(batch, dtype=int)), int(np.prod([lhs.shape[i] for i in lc], dtype=int))
    M, N = int(np.prod([lhs.shape[i] for i in lf], dtype=int)), int(np.prod([rhs.shape[i] for i in rf], dtype=int))
    L = np.transpose(lhs, lb + lf + lc).reshape(B, M, K)
    R = np.transpose(rhs, rb + rc + rf).reshape(B, K, N)
    out = np.empty((B, M, N), dtype=object)
    for b in range(B):
        for i in range(M):
            for j in range(N):
                out[b, i, j] = _sum_n([_mul(L[b, i, k], R[b, k, j]) for k in range(K)])
    return out.reshape(tuple(batch) + tuple(lhs.shape[i] for i in lf) + tuple(rhs.shape[i] for i in rf))


def _pad(eqn, x, v):
    v = v[()]
    for ax, (lo, hi, interior) in enumerate(eqn.params["padding_config"]):
        n = x.shape[ax]
        if interior > 0 and n > 1:
            shape = list(x.shape)
            shape[ax] = n + (n - 1) * interior
            y = np.empty(shape, dtype=object)
            y.fill(v)
            idx = [slice(None)] * x.ndim
            idx[ax] = slice(None, None, interior + 1)
            y[tuple(idx)] = x
            x = y
        for amount, before in ((lo, True), (hi, False)):
            if amount > 0:
                shape = list(x.shape)
                shape[ax] = amount
                block = np.empty(shape, dtype=object)
                block.fill(v)
                x = np.concatenate([block, x] if before else [x, block], axis=ax)
            elif amount < 0:
                idx = [slice(None)] * x.ndim
                idx[ax] = slice(-amount, None) if before else slice(None, x.shape[ax] + amount)
                x = x[tuple(idx)]
    return x.copy()


def _clamp(eqn, lo, x, hi):
    return _ew(lambda a, b, c: _max(a, _min(b, c)), lo, x, hi)


def _select_n(eqn, pred, *cases):
    return _ew(_select, pred, *cases)


def _linear(linear: tuple[int, ...], what: str):
    """Rule for data movement with constant indices (gather, scatter, scatter-add...):
    the primitive is linear in its operands at positions ``linear`` once the others (indices)
    are fixed numbers, so its Jacobian (0/1 entries, from ``jax.jacfwd``) says which
    inputs land (and add up) in each output element."""

    def rule(eqn, *ins):
        operands = [ins[i] for i in linear]
        others = [(i, x) for i, x in enumerate(ins) if i not in linear]
        for _, o in others:
            if not _all_numeric(o):
                raise NotImplementedError(f"SBML export: {what} indices must not depend on states, parameters or time")
        shapes = [o.shape for o in operands]
        sizes = [o.size for o in operands]
        nums = {i: jnp.asarray(np.asarray(o.tolist(), dtype=eqn.invars[i].aval.dtype)) for i, o in others}

        def f(flat):
            args, k = dict(nums), 0
            for i, shape, size in zip(linear, shapes, sizes):
                args[i] = flat[k:k + size].reshape(shape)
                k += size
            return eqn.primitive.bind(*(args[i] for i in range(len(ins))), **eqn.params).reshape(-1)

        flat_in = [x for o in operands for x in o.reshape(-1).tolist()]
        zeros = jnp.zeros(len(flat_in))
        J = np.asarray(jax.jacfwd(f)(zeros))
        shift = np.asarray(f(zeros))  # fill values of out-of-bounds reads
        out = np.empty(J.shape[0], dtype=object)
        for i in range(J.shape[0]):
            cols = np.flatnonzero(J[i])
            out[i] = _sum_n([_mul(float(J[i, j]), flat_in[j]) for j in cols] + [float(shift[i])])
        return out.reshape(tuple(eqn.outvars[0].aval.shape))

    return rule


def _identity(eqn, *xs):
    return list(xs) if eqn.primitive.multiple_results else xs[0]


def _sub_jaxpr(eqn):
    for key in ("jaxpr", "call_jaxpr", "fun_jaxpr"):
        if key in eqn.params:
            sub = eqn.params[key]
            if hasattr(sub, "consts"):
                return sub.jaxpr, sub.consts
            return sub, ()
    raise NotImplementedError(f"SBML export: cannot find the inner jaxpr of {eqn.primitive.name!r}")


def _call(eqn, *xs):
    jaxpr, consts = _sub_jaxpr(eqn)
    return _eval_jaxpr(jaxpr, consts, xs[len(xs) - len(jaxpr.invars):])


def _cond(eqn, index, *ops):
    branches = eqn.params["branches"]
    i = index[()]
    if _isnum(i):
        b = branches[int(min(max(int(i), 0), len(branches) - 1))]
        return _eval_jaxpr(b.jaxpr, b.consts, ops)
    outs = [_eval_jaxpr(b.jaxpr, b.consts, ops) for b in branches]
    return [_ew(lambda *cs: _select(i, *cs), *vals) for vals in zip(*outs)]


_RULES = {
    "add": _binary(_add), "add_any": _binary(_add), "sub": _binary(_sub), "mul": _binary(_mul),
    "div": _binary(_div), "neg": _unary(_neg), "max": _binary(_max), "min": _binary(_min),
    "pow": _binary(_pow), "integer_pow": lambda eqn, x: _ew(lambda a: _ipow(a, eqn.params["y"]), x),
    "square": lambda eqn, x: _ew(lambda a: _ipow(a, 2), x),
    "exp": _unary(_fn1("exp", _np1(np.exp))), "log": _unary(_fn1("ln", _np1(np.log))),
    "exp2": _unary(lambda a: _pow(2.0, a)),
    "log1p": _unary(lambda a: _np1(np.log1p)(a) if _isnum(a) else _mk("ln", _add(1.0, a))),
    "expm1": _unary(lambda a: _np1(np.expm1)(a) if _isnum(a) else _sub(_mk("exp", a), 1.0)),
    "sqrt": _unary(_fn1("sqrt", _np1(np.sqrt))),
    "rsqrt": _unary(lambda a: _div(1.0, _fn1("sqrt", _np1(np.sqrt))(a))),
    "cbrt": _unary(lambda a: _np1(np.cbrt)(a) if _isnum(a) else _mk("root3", a)),
    "abs": _unary(_fn1("abs", _np1(np.abs))), "sign": _unary(_sign),
    "floor": _unary(_fn1("floor", _np1(np.floor))), "ceil": _unary(_fn1("ceiling", _np1(np.ceil))),
    "sin": _unary(_fn1("sin", _np1(np.sin))), "cos": _unary(_fn1("cos", _np1(np.cos))),
    "tan": _unary(_fn1("tan", _np1(np.tan))), "tanh": _unary(_fn1("tanh", _np1(np.tanh))),
    "sinh": _unary(_fn1("sinh", _np1(np.sinh))), "cosh": _unary(_fn1("cosh", _np1(np.cosh))),
    "asin": _unary(_fn1("arcsin", _np1(np.arcsin))), "acos": _unary(_fn1("arccos", _np1(np.arccos))),
    "atan": _unary(_fn1("arctan", _np1(np.arctan))),
    "logistic": _unary(lambda a: _np1(lambda v: 1.0 / (1.0 + np.exp(-v)))(a) if _isnum(a)
                       else _div(1.0, _add(1.0, _mk("exp", _neg(a))))),
    "rem": _binary(_fn2("rem", _np2(np.fmod))),
    "lt": _binary(_rel("lt", lambda a, b: a < b)), "le": _binary(_rel("leq", lambda a, b: a <= b)),
    "gt": _binary(_rel("gt", lambda a, b: a > b)), "ge": _binary(_rel("geq", lambda a, b: a >= b)),
    "eq": _binary(_rel("eq", lambda a, b: a == b)), "ne": _binary(_rel("neq", lambda a, b: a != b)),
    "and": _binary(_logical("and", lambda a, b: a & b)), "or": _binary(_logical("or", lambda a, b: a | b)),
    "xor": _binary(_logical("xor", lambda a, b: a ^ b)), "not": _unary(_not),
    "select_n": _select_n, "clamp": _clamp, "convert_element_type": _convert,
    "broadcast_in_dim": _broadcast_in_dim, "reshape": _reshape, "squeeze": _squeeze,
    "expand_dims": _expand_dims, "slice": _slice, "concatenate": _concatenate, "stack": _stack,
    "split": _split, "transpose": _transpose, "rev": _rev, "iota": _iota, "pad": _pad,
    "reduce_sum": _reduce(_sum_n), "reduce_max": _reduce(lambda xs: _chain(_max, xs)),
    "reduce_min": _reduce(lambda xs: _chain(_min, xs)), "reduce_prod": _reduce(lambda xs: _chain(_mul, xs)),
    "reduce_and": _reduce(lambda xs: _chain(_logical("and", lambda a, b: a & b), xs)),
    "reduce_or": _reduce(lambda xs: _chain(_logical("or", lambda a, b: a | b), xs)),
    "cumsum": _cumulative(_add), "cumprod": _cumulative(_mul), "cummax": _cumulative(_max),
    "cummin": _cumulative(_min), "dot_general": _dot_general, "gather": _linear((0,), "gather"),
    "scatter-add": _linear((0, 2), "scatter-add"), "scatter_add": _linear((0, 2), "scatter-add"),
    "scatter": _linear((0, 2), "scatter"), "dynamic_slice": _dynamic_slice,
    "dynamic_update_slice": _dynamic_update_slice,
    "copy": _identity, "copy_p": _identity, "stop_gradient": _identity, "reduce_precision": _identity,
    "optimization_barrier": _identity,
    "pjit": _call, "jit": _call, "closed_call": _call, "core_call": _call, "remat": _call, "checkpoint": _call,
    "custom_jvp_call": _call, "custom_vjp_call": _call, "custom_vjp_call_jaxpr": _call, "cond": _cond,
}


def _eval_jaxpr(jaxpr, consts, args) -> list[np.ndarray]:
    env: dict = {}

    def read(v):
        if type(v).__name__ == "Literal":
            return _const(v.val)
        return env[v]

    for v, c in zip(jaxpr.constvars, consts):
        env[v] = _const(c)
    for v, a in zip(jaxpr.invars, args):
        env[v] = a
    for eqn in jaxpr.eqns:
        name = eqn.primitive.name
        ins = [read(v) for v in eqn.invars]
        rule = _RULES.get(name)
        if rule is None:
            if all(_all_numeric(x) for x in ins) and not any(k in eqn.params for k in ("jaxpr", "call_jaxpr", "branches")):
                nums = [jnp.asarray(np.asarray(x.tolist(), dtype=v.aval.dtype)) for x, v in zip(ins, eqn.invars)]
                outs = eqn.primitive.bind(*nums, **eqn.params)
                outs = [_const(o) for o in (outs if eqn.primitive.multiple_results else [outs])]
            else:
                raise NotImplementedError(
                    f"SBML export: JAX primitive {name!r} is not supported (no SBML counterpart, or it "
                    f"acts on states/parameters/time); equation: {eqn}".strip()
                )
        else:
            outs = rule(eqn, *ins)
            if not eqn.primitive.multiple_results:
                outs = [outs]
        for v, o in zip(eqn.outvars, outs):
            if not isinstance(o, np.ndarray):
                o = _ew(lambda a: a, np.asarray(o, dtype=object))
            if o.shape != tuple(v.aval.shape):
                raise AssertionError(f"SBML export: {name} produced shape {o.shape}, expected {v.aval.shape}")
            if type(v).__name__ != "DropVar":
                env[v] = o
    return [read(v) for v in jaxpr.outvars]


def _symbolic(fn, example_args: Sequence, symbolic_args: Sequence[np.ndarray]) -> list[np.ndarray]:
    """Trace ``fn`` on example arrays and evaluate its jaxpr on symbolic object arrays."""
    closed = jax.make_jaxpr(fn)(*example_args)
    flat_in = jax.tree_util.tree_leaves(list(symbolic_args), is_leaf=lambda x: isinstance(x, np.ndarray))
    return _eval_jaxpr(closed.jaxpr, closed.consts, flat_in)


def trace_symbolic(fn, *args) -> list[np.ndarray]:
    """Symbolic outputs of ``fn`` (a function of float64 arrays) on object arrays of
    :class:`Node`/numbers given as ``args`` (for inspection and tests)."""
    examples = [jnp.zeros(np.shape(a)) for a in args]
    return _symbolic(fn, examples, [np.asarray(a, dtype=object) for a in args])


# --------------------------------------------------------------------------------------
# Formatting expressions as SBML L3 formulas
# --------------------------------------------------------------------------------------
_INFIX = {"add": "+", "sub": "-", "mul": "*", "div": "/"}
_FUNCS = {"exp", "ln", "sqrt", "abs", "floor", "ceiling", "sin", "cos", "tan", "tanh", "sinh", "cosh", "arcsin",
          "arccos", "arctan", "rem", "max", "min", "lt", "leq", "gt", "geq", "eq", "neq", "and", "or", "xor", "not"}


def _num(x) -> str:
    if isinstance(x, (bool, np.bool_)):
        return "true" if x else "false"
    x = float(x)
    if math.isnan(x):
        return "NaN"
    if math.isinf(x):
        return "INF" if x > 0 else "(-INF)"
    s = repr(x)
    return f"({s})" if s.startswith("-") else s


class _Ids:
    """Unique, valid SBML ids from arbitrary labels."""

    def __init__(self):
        self.used: set[str] = set()

    def new(self, label: str) -> str:
        import libsbml

        base = re.sub(r"[^A-Za-z0-9_]", "_", label)
        base = re.sub(r"_+", "_", base).strip("_") or "x"
        if base[0].isdigit():
            base = "_" + base
        ast = libsbml.parseL3Formula(base)
        if ast is None or ast.getType() != libsbml.AST_NAME or ast.getName() != base:
            base += "_"
        sid, k = base, 1
        while sid in self.used:
            k += 1
            sid = f"{base}_{k}"
        self.used.add(sid)
        return sid


class _Emitter:
    """Formula strings for expression roots.

    A light root (its fully inlined expression has at most ``_HEAVY`` nodes) is written
    with its shared nodes as assignment rules (``tmp<k>``). A heavy root is written as
    a chain of let-bindings: SBML function definitions ``<root>_let<d>`` whose arguments
    are the values computed so far, so each shared node of the root is written, and
    evaluated by tools that inline, once; heavy nodes used by several expressions get
    one chain of their own (``shared<k>_let<d>``), called where needed (module docstring).
    """

    def __init__(self, roots: Sequence[Any], ids: _Ids):
        self.ids = ids
        self.count: Counter = Counter()
        seen: set = set()
        order: list[Node] = []  # every node after its arguments
        stack = [(r, False) for r in roots if isinstance(r, Node)]
        while stack:
            n, done = stack.pop()
            if done:
                order.append(n)
                continue
            self.count[id(n)] += 1
            if id(n) in seen:
                continue
            seen.add(id(n))
            stack.append((n, True))
            stack.extend((a, False) for a in n.args if isinstance(a, Node))
        # size of each node's expression with every reference inlined (what libroadrunner compiles)
        self.tree: dict[int, int] = {}
        for n in order:
            self.tree[id(n)] = 1 + sum(self.tree[id(a)] if isinstance(a, Node) else 1 for a in n.args)
        self.heavy = {id(r) for r in roots if isinstance(r, Node) and self.tree[id(r)] > _HEAVY}
        # nodes that light roots use: shared ones among them are assignment rules
        self.light_reach: set[int] = set()
        stack = [r for r in roots if isinstance(r, Node) and id(r) not in self.heavy]
        while stack:
            n = stack.pop()
            if id(n) not in self.light_reach:
                self.light_reach.add(id(n))
                stack.extend(a for a in n.args if isinstance(a, Node))
        self.names: dict[int, str] = {}
        self.rules: list[tuple[str, str]] = []  # (id, formula), in creation order
        self.functions: list[tuple[str, str]] = []  # (id, lambda formula), callee before caller
        self.memo: dict[int, str] = {}
        self.lets: dict[int, str] = {}  # formula of each heavy root already written
        # heavy nodes used more than once get one function definition each
        self.shared_heavy = {k for k, c in self.count.items() if c > 1 and self.tree[k] > _HEAVY}
        self.defined: dict[int, tuple[str, list[Node]]] = {}

    def _named(self, n: Node) -> str:
        sid = self.names.get(id(n))
        if sid is None:
            sid = self.names[id(n)] = self.ids.new(f"tmp{len(self.names)}")
            self.rules.append((sid, None))
            k = len(self.rules) - 1
            self.rules[k] = (sid, self._inline(n, 0))
        return sid

    def formula(self, x, label: str = "expr") -> str:
        if _isnum(x):
            return _num(x)
        if id(x) in self.heavy:
            if id(x) not in self.lets:
                self.lets[id(x)] = self._let_chain(x, label)
            return self.lets[id(x)]
        return self._inline(x, 0)

    def _arg(self, x, depth: int) -> str:
        if _isnum(x):
            return _num(x)
        if x.op == "sym":
            return x.args[0]
        if id(x) in self.names:
            return self.names[id(x)]
        if not x.boolean and (self.count[id(x)] > 1 or depth > _INLINE_DEPTH):
            return self._named(x)
        if x.boolean and id(x) in self.memo:
            return self.memo[id(x)]
        s = self._inline(x, depth)
        if x.boolean:
            self.memo[id(x)] = s
        return s

    def _inline(self, n: Node, depth: int) -> str:
        if n.op == "sym":
            return n.args[0]
        return _format(n.op, [self._arg(x, depth + 1) for x in n.args])

    # heavy expressions ---------------------------------------------------------------------
    def _leaf(self, x) -> str | None:
        """Global name of ``x`` inside a heavy expression (a symbol or a light assignment rule)."""
        if x.op == "sym":
            return x.args[0]
        if id(x) in self.names:
            return self.names[id(x)]
        if id(x) in self.light_reach and not x.boolean and self.count[id(x)] > 1:
            return self._named(x)
        return None

    def _region(self, top: Node):
        """Inputs of ``top`` (leaves and other shared heavy nodes, where the walk stops) and
        its internal nodes that must be bound (used twice inside it, or deep)."""
        local: Counter = Counter()
        stops: dict[int, Node] = {}
        seen: set = set()
        stack = [top]
        while stack:
            n = stack.pop()
            for a in n.args:
                if not isinstance(a, Node) or id(a) in stops:
                    continue
                if self._leaf(a) is not None or id(a) in self.shared_heavy:
                    stops[id(a)] = a
                    continue
                local[id(a)] += 1
                if id(a) not in seen:
                    seen.add(id(a))
                    stack.append(a)
        let = {k for k, c in local.items() if c > 1}
        # inline regions (trees below each bound node and the top); deep chains are cut
        frontier: dict[int, list] = {}
        nodes: dict[int, Node] = {}
        work = [top]
        while work:
            head = work.pop()
            found: list = []
            inner = [(a, 1) for a in head.args]
            while inner:
                a, depth = inner.pop()
                if not isinstance(a, Node):
                    continue
                if id(a) in stops or (id(a) in let and not a.boolean):
                    found.append(a)
                elif not a.boolean and depth > _INLINE_DEPTH:
                    let.add(id(a))
                    found.append(a)
                else:
                    inner.extend((b, depth + 1) for b in a.args)
            frontier[id(head)] = found
            for a in found:
                if id(a) not in stops and id(a) not in nodes:
                    nodes[id(a)] = a
                    work.append(a)
        return stops, nodes, frontier

    def _shared(self, x: Node) -> tuple[str, list[Node]]:
        """Function definition of a heavy node used by several expressions: its id and
        its inputs in argument order (defined once; callers bind the inputs)."""
        if id(x) not in self.defined:
            stops, nodes, frontier = self._region(x)
            label = f"shared{len(self.defined)}"
            fid, inputs = self._emit(x, label, stops, nodes, frontier, {})
            self.defined[id(x)] = (fid, [stops[k] for k in inputs])
        return self.defined[id(x)]

    def _let_chain(self, root: Node, label: str) -> str:
        """``root`` as a call of a let-chain (module docstring); shared heavy nodes it uses,
        directly or through one another, are computed in the chain by calls of their
        own definitions."""
        stops, nodes, frontier = self._region(root)
        calls: dict[int, str] = {}
        todo = [a for a in stops.values() if id(a) in self.shared_heavy]
        while todo:
            a = todo.pop()
            if id(a) in calls:
                continue
            fid, inputs = self._shared(a)
            calls[id(a)] = fid
            nodes[id(a)] = a
            frontier[id(a)] = inputs
            for b in inputs:
                if id(b) not in stops:
                    stops[id(b)] = b
                if id(b) in self.shared_heavy:
                    todo.append(b)
        for k in calls:
            del stops[k]
        fid, inputs = self._emit(root, label, stops, nodes, frontier, calls)
        outer = [self._leaf(stops[k]) for k in inputs]  # global names ("time" included)
        return f"{fid}({', '.join(outer)})"

    def _emit(self, top, label, stops, nodes, frontier, calls) -> tuple[str, list[int]]:
        """Write the let-chain of ``top``: functions ``<label>_let<d>``; the first takes the
        inputs (``stops``), each next one the values still needed plus those of its level.
        Returns the first function's id and its inputs (ids, in argument order)."""
        level: dict[int, int] = {}
        for k in nodes:
            stack = [k]
            while stack:
                j = stack[-1]
                if j in level:
                    stack.pop()
                    continue
                pending = [id(a) for a in frontier[j] if id(a) in nodes and id(a) not in level]
                if pending:
                    stack.extend(pending)
                    continue
                level[j] = 1 + max((level[id(a)] for a in frontier[j] if id(a) in nodes), default=0)
                stack.pop()
        top_level = 1 + max(level.values(), default=0)
        level[id(top)] = top_level
        last: dict[int, int] = {}
        for j, found in frontier.items():
            if j == id(top) or j in nodes:
                for a in found:
                    last[id(a)] = max(last.get(id(a), 0), level[j])
        names: dict[int, str] = {}
        for k, a in stops.items():
            name = self._leaf(a) if id(a) not in self.shared_heavy else None
            if name is None or name == "time":
                name = self.ids.new(f"{label}_in")
            names[k] = name
        rank = {k: i for i, k in enumerate(nodes)}  # discovery order: the same document every run
        for k in sorted(nodes, key=lambda k: (level[k], rank[k])):
            names[k] = self.ids.new(f"{label}_v")

        def available(d):  # the values the level-d function takes, in argument order
            out = [k for k in names if (level[k] if k in nodes else 0) < d <= last.get(k, 0)]
            return sorted(out, key=lambda k: (level[k] if k in nodes else 0, names[k]))

        def body(n):
            if id(n) in calls:
                return f"{calls[id(n)]}({', '.join(names[id(b)] for b in frontier[id(n)])})"

            def arg(a):
                if not isinstance(a, Node):
                    return _num(a)
                if id(a) in names:
                    return names[id(a)]
                return _format(a.op, [arg(b) for b in a.args])
            return _format(n.op, [arg(a) for a in n.args])

        fids = [self.ids.new(f"{label}_let{d}") for d in range(1, top_level + 1)]
        defs = []
        for d in range(1, top_level + 1):
            if d == top_level:
                expr = body(top)
            else:
                vals = [body(nodes[k]) if k in nodes and level[k] == d else names[k] for k in available(d + 1)]
                expr = f"{fids[d]}({', '.join(vals)})"
            defs.append((fids[d - 1], f"lambda({', '.join([names[k] for k in available(d)] + [expr])})"))
        self.functions.extend(reversed(defs))
        return fids[0], available(1)


def _format(op: str, a: list[str]) -> str:
    if op == "sym":
        return a[0]
    if op in _INFIX:
        return f"({a[0]} {_INFIX[op]} {a[1]})"
    if op == "sum":
        return "(" + " + ".join(a) + ")"
    if op == "neg":
        return f"(-{a[0]})"
    if op == "pow":
        return f"(({a[0]})^({a[1]}))"
    if op == "root3":
        return f"root(3, {a[0]})"
    if op == "b2f":
        return f"piecewise(1.0, {a[0]}, 0.0)"
    if op == "piecewise":
        return f"piecewise({a[0]}, {a[1]}, {a[2]})"
    if op in _FUNCS:
        return f"{op}({', '.join(a)})"
    raise AssertionError(f"unknown node op {op!r}")


# --------------------------------------------------------------------------------------
# Units, notes, annotations
# --------------------------------------------------------------------------------------
# unit string -> (id, [(kind, exponent, scale, multiplier)]); None: a predefined SBML unit
_UNITS = {
    "1": ("dimensionless", None),
    "day": ("day", [("second", 1, 0, 86400.0)]),
    "1/day": ("per_day", [("second", -1, 0, 86400.0)]),
    "cells": ("item", None),
    "L": ("litre", None),
    "mL": ("millilitre", [("litre", 1, -3, 1.0)]),
    "g": ("gram", None),
    "pM": ("picomolar", [("mole", 1, -12, 1.0), ("litre", -1, 0, 1.0)]),
    "pM/day": ("picomolar_per_day", [("mole", 1, -12, 1.0), ("litre", -1, 0, 1.0), ("second", -1, 0, 86400.0)]),
    "L/day": ("litre_per_day", [("litre", 1, 0, 1.0), ("second", -1, 0, 86400.0)]),
}


def _unit_id(model, unit: str, defined: set) -> str | None:
    import libsbml

    entry = _UNITS.get(unit)
    if entry is None:
        return None
    uid, parts = entry
    if parts is not None and uid not in defined:
        ud = model.createUnitDefinition()
        ud.setId(uid)
        for kind, exponent, scale, multiplier in parts:
            u = ud.createUnit()
            u.setKind(libsbml.UnitKind_forName(kind))
            u.setExponent(exponent)
            u.setScale(scale)
            u.setMultiplier(multiplier)
        defined.add(uid)
    return uid


def _annotate(sbase, role: str, label: str, unit: str = "", notes: Sequence[tuple[str, str]] = ()) -> None:
    attrs = f'role="{html.escape(role)}" label="{html.escape(label)}"'
    if unit:
        attrs += f' unit="{html.escape(unit)}"'
    _ok(sbase.setAnnotation(f'<annotation><seedsoil:info xmlns:seedsoil="{_NS}" {attrs}/></annotation>'), label)
    lines = [f"<p>{html.escape(k, quote=False)}: {html.escape(str(v), quote=False)}</p>" for k, v in notes if v != ""]
    if lines:
        _ok(sbase.setNotes('<body xmlns="http://www.w3.org/1999/xhtml">' + "".join(lines) + "</body>"), label)


def _ok(code: int, what: str) -> None:
    import libsbml

    if code != libsbml.LIBSBML_OPERATION_SUCCESS:
        raise RuntimeError(f"libsbml refused {what!r}: {libsbml.OperationReturnValue_toString(code)}")


def _math(formula: str, what: str):
    import libsbml

    ast = libsbml.parseL3Formula(formula)
    if ast is None:
        raise RuntimeError(f"SBML export: could not parse the formula of {what}: {libsbml.getLastParseL3Error()}\n"
                           f"{formula[:500]}")
    return ast


def _labels(specs) -> list[tuple[str, str, int]]:
    """``(label, unit, spec index)`` per flat element: ``C`` or ``R[3]`` (flat index)."""
    out = []
    for k, s in enumerate(specs):
        if s.shape == ():
            out.append((s.name, s.unit, k))
        else:
            out.extend((f"{s.name}[{i}]", s.unit, k) for i in range(s.size))
    return out


# --------------------------------------------------------------------------------------
# Public API
# --------------------------------------------------------------------------------------
def export(
    model: Model,
    path: str | None = None,
    params=None,
    y0=None,
    regimen: Regimen | None = None,
    *,
    t0: float = 0.0,
    observables: bool = True,
) -> str:
    """SBML Level 3 Version 2 text of ``model`` (and write it to ``path`` if given).

    Args:
        model: any seedsoil :class:`~models.base.Model` (composites included).
        path: file to write, or ``None``.
        params, y0: as for :func:`solvers.simulate` (defaults: the model's); one set only.
        regimen: doses (:func:`~solvers.regimen.bolus`, ``scale``, ``infusion``) as events.
        t0: start time of the simulations the document is meant for (doses before it fire
            at it; scheduled inputs start from it).
        observables: also export the observables as assignment rules.

    Raises:
        NotImplementedError: a JAX primitive of the model has no SBML counterpart (named).
        ValueError: bad parameters, initial state or regimen (as :func:`simulate`), or a batch.
        RuntimeError: libsbml rejected the document (its errors are listed).
    """
    import libsbml

    if not isinstance(model, Model):
        raise TypeError(f"model must be a seedsoil Model; got {type(model).__name__}")
    p = _resolve_params(model, params)
    y = _resolve_y0(model, y0)
    if p.batch_shape or y.ndim != 1:
        raise ValueError("export one parameter set and one initial state (no batch axis)")
    reg, event_state, infusion_slot = _resolve_regimen(model, regimen, jnp.asarray([float(t0)]))
    if reg.batch_shape:
        raise ValueError("export one regimen (no batch axis)")
    pv, yv = np.asarray(p.values, dtype=float), np.asarray(y, dtype=float)
    n, m = model.n_states, model.n_inputs

    with _lock:
        _state.cache = {}
        try:
            return _export(libsbml, model, path, p, pv, yv, reg, np.asarray(event_state), np.asarray(infusion_slot),
                           float(t0), observables, n, m)
        finally:
            _state.cache = None


_lock = threading.Lock()


def _export(libsbml, model, path, p, pv, yv, reg, event_state, infusion_slot, t0, observables, n, m) -> str:
    ids = _Ids()
    doc = libsbml.SBMLDocument(3, 2)
    sm = doc.createModel()
    sm.setId(ids.new(model.name))
    sm.setName(model.name)
    _annotate(sm, "model", model.name, "", [("reference", model.reference),
                                             ("exported by", "seedsoil solvers.sbml.export (jaxpr interpretation)")])
    defined: set = set()
    sm.setTimeUnits(_unit_id(sm, "day", defined))

    def parameter(sid, label, value, constant, unit="", role="", notes=()):
        q = sm.createParameter()
        _ok(q.setId(sid), label)
        q.setName(label)
        q.setValue(float(value))
        q.setConstant(bool(constant))
        uid = _unit_id(sm, unit, defined) if unit else None
        if uid:
            q.setUnits(uid)
        if role:
            _annotate(q, role, label, unit, notes)
        return q

    # symbols ----------------------------------------------------------------------------
    p_ids = [ids.new(lbl) for lbl in p.flat_names()]
    s_labels, i_labels = _labels(model.states), _labels(model.inputs)
    s_ids = [ids.new(lbl) for lbl, _, _ in s_labels]
    i_ids = [ids.new(lbl) for lbl, _, _ in i_labels]
    tseg_id = ids.new("t_segment")
    t_sym = _sym("time")
    P = np.array([_sym(s) for s in p_ids], dtype=object).reshape(len(p_ids))
    Y = np.array([_sym(s) for s in s_ids], dtype=object).reshape(n)
    U = np.array([_sym(s) for s in i_ids], dtype=object).reshape(m)

    # infusions: a constant rate and an on/off flag each
    infusions = []  # (rate id, flag id, start, stop, slot)
    terms = defaultdict(list)
    for k in range(reg.n_infusions):
        start, stop, rate = (float(np.asarray(a)[k]) for a in (reg.infusion_start, reg.infusion_stop, reg.infusion_rate))
        if stop <= max(start, t0):
            continue  # never active
        slot = int(infusion_slot[k])
        tag = f"infusion{k}_{reg.infusion_target[k]}"
        rid, fid = ids.new(f"{tag}_rate"), ids.new(f"{tag}_on")
        infusions.append((rid, fid, start, stop, slot, rate, reg.infusion_target[k]))
        terms[slot].append(_mul(_sym(rid), _sym(fid)))

    forcing_states = np.empty(n, dtype=object)
    for i in range(n):
        forcing_states[i] = _sum_n(terms[i])

    # traced functions -------------------------------------------------------------------
    ex_p, ex_y, ex_t = jnp.asarray(pv), jnp.asarray(yv), jnp.asarray(0.0)
    sched = _symbolic(model.input_vector, (ex_t, ex_p), (np.asarray(_sym(tseg_id), dtype=object), P))[0] if m else \
        np.zeros(0, dtype=object)
    input_expr = [_sum_n(terms[n + j] + [sched[j]]) for j in range(m)]
    forcing = np.concatenate([forcing_states, U])
    dy = _symbolic(model.vector_field, (ex_t, ex_y, ex_p, jnp.zeros(n + m)),
                   (np.asarray(t_sym, dtype=object), Y, P, forcing))[0]
    obs_specs = model.observable_specs if observables else ()
    obs_vals = []
    if obs_specs:
        names = model.observable_names

        def observe(t, yy, pp, uu):
            out = model.observe(t, yy, pp, uu)
            return tuple(jnp.reshape(jnp.asarray(out[k], dtype=jnp.float64), (-1,)) for k in names)

        obs_vals = _symbolic(observe, (ex_t, ex_y, ex_p, jnp.zeros(m)), (np.asarray(t_sym, dtype=object), Y, P, U))
    breaks = _symbolic(lambda pp: jnp.reshape(jnp.atleast_1d(model.breakpoints(View(pp, model.params.layout))), (-1,)),
                       (ex_p,), (P,))[0]

    # roots and emitter --------------------------------------------------------------------
    o_labels = _labels(obs_specs)
    obs_flat = [x for arr in obs_vals for x in arr.reshape(-1)]
    roots = list(dy) + input_expr + obs_flat + list(breaks) + list(breaks)
    em = _Emitter(roots, ids)
    tseg_node = _sym(tseg_id)

    def uses_tseg(roots_):
        stack, seen = [r for r in roots_ if isinstance(r, Node)], set()
        while stack:
            x = stack.pop()
            if x is tseg_node:
                return True
            if id(x) not in seen:
                seen.add(id(x))
                stack.extend(a for a in x.args if isinstance(a, Node))
        return False

    use_tseg = uses_tseg(roots)

    # parameters -------------------------------------------------------------------------
    flat_spec = [s for s in p.specs for _ in range(s.size)]
    for sid, lbl, val, spec in zip(p_ids, p.flat_names(), pv, flat_spec):
        parameter(sid, lbl, val, True, spec.unit, "parameter",
                  [("unit", spec.unit), ("description", spec.description), ("source", spec.source),
                   ("bounds", list(spec.bounds))])
    for i, (sid, (lbl, unit, k), val) in enumerate(zip(s_ids, s_labels, yv)):
        parameter(sid, lbl, val, False, unit, "state", [("unit", unit), ("description", model.states[k].description)])
        rule = sm.createRateRule()
        _ok(rule.setVariable(sid), lbl)
        _ok(rule.setMath(_math(em.formula(dy[i], lbl), lbl)), lbl)
    for j, (sid, (lbl, unit, k)) in enumerate(zip(i_ids, i_labels)):
        e = input_expr[j]
        if _isnum(e):
            parameter(sid, lbl, float(e), True, unit, "input", [("unit", unit), ("description", model.inputs[k].description)])
        else:
            parameter(sid, lbl, 0.0, False, unit, "input", [("unit", unit), ("description", model.inputs[k].description)])
            r = sm.createAssignmentRule()
            _ok(r.setVariable(sid), lbl)
            _ok(r.setMath(_math(em.formula(e, lbl), lbl)), lbl)
    o_ids = [ids.new(lbl) for lbl, _, _ in o_labels]
    for sid, (lbl, unit, k), e in zip(o_ids, o_labels, obs_flat):
        parameter(sid, lbl, 0.0, False, unit, "observable",
                  [("unit", unit), ("description", obs_specs[k].description)])
        r = sm.createAssignmentRule()
        _ok(r.setVariable(sid), lbl)
        _ok(r.setMath(_math(em.formula(e, lbl), lbl)), lbl)
    for rid, fid, start, stop, _slot, rate, target in infusions:
        parameter(rid, f"infusion rate into {target}", rate, True, "", "infusion_rate",
                  [("interval", f"[{start}, {stop}) days")])
        parameter(fid, f"infusion into {target} on", 0.0, False, "1", "infusion_flag")
    if use_tseg:
        parameter(tseg_id, "time of the latest event (scheduled inputs are held from there)", t0, False, "day",
                  "segment_time")

    # events -----------------------------------------------------------------------------
    def event(label, when: str, assignments: list[tuple[str, str]]):
        ev = sm.createEvent()
        _ok(ev.setId(ids.new(label)), label)
        ev.setUseValuesFromTriggerTime(True)
        tr = ev.createTrigger()
        tr.setInitialValue(False)
        tr.setPersistent(True)
        _ok(tr.setMath(_math(f"geq(time, {when})", label)), label)
        if use_tseg:
            assignments = assignments + [(tseg_id, f"max(time, {when})")]
        for var, f in assignments:
            ea = ev.createEventAssignment()
            _ok(ea.setVariable(var), label)
            _ok(ea.setMath(_math(f, f"{label}: {var}")), label)

    times = np.asarray(reg.event_time, dtype=float).reshape(-1)
    amounts = np.asarray(reg.event_amount, dtype=float).reshape(-1)
    factors = np.asarray(reg.event_factor, dtype=float).reshape(-1)
    for k_t, tk in enumerate(sorted(set(times.tolist()))):
        maps: dict[int, list[float]] = {}
        for k in np.flatnonzero(times == tk):  # regimen order, as simulate applies them
            s = int(event_state[k])
            mul_, add_ = maps.get(s, [1.0, 0.0])
            maps[s] = [mul_ * factors[k], add_ * factors[k] + amounts[k]]
        assigns = []
        for s, (mul_, add_) in maps.items():
            x = s_ids[s]
            f = _num(add_) if mul_ == 0 else (f"({x} * {_num(mul_)})" if mul_ != 1 else x)
            if add_ != 0 and mul_ != 0:
                f = f"({f} + {_num(add_)})"
            assigns.append((x, f))
        event(f"dose{k_t}", _num(tk), assigns)
    for _rid, fid, start, stop, _slot, _rate, _target in infusions:
        event(f"{fid}_start", _num(start), [(fid, "1.0")])
        if math.isfinite(stop):
            event(f"{fid}_stop", _num(stop), [(fid, "0.0")])
    for k, b in enumerate(breaks):
        event(f"breakpoint{k}", em.formula(b, f"breakpoint{k}"), [])

    # shared intermediates -----------------------------------------------------------------
    for fid, f in em.functions:
        fd = sm.createFunctionDefinition()
        _ok(fd.setId(fid), fid)
        _ok(fd.setMath(_math(f, fid)), fid)
    for sid, f in em.rules:
        q = parameter(sid, "intermediate", 0.0, False)
        q.setName("intermediate")
        r = sm.createAssignmentRule()
        _ok(r.setVariable(sid), sid)
        _ok(r.setMath(_math(f, sid)), sid)

    doc.checkInternalConsistency()
    errors = sbml_errors(doc)
    if errors:
        raise RuntimeError("SBML export produced an invalid document:\n" + "\n".join(errors[:20]))
    text = libsbml.writeSBMLToString(doc)
    if path is not None:
        with open(path, "w") as f:
            f.write(text)
    return text


def sbml_errors(doc_or_text, full: bool = False) -> list[str]:
    """Error messages (severity error or fatal) of an SBML document or text; ``full``
    runs libsbml's complete consistency checks (units excepted) first."""
    import libsbml

    doc = libsbml.readSBMLFromString(doc_or_text) if isinstance(doc_or_text, str) else doc_or_text
    if full:
        doc.setConsistencyChecks(libsbml.LIBSBML_CAT_UNITS_CONSISTENCY, False)
        doc.checkConsistency()
    out = []
    for i in range(doc.getNumErrors()):
        e = doc.getError(i)
        if e.getSeverity() >= libsbml.LIBSBML_SEV_ERROR:
            out.append(f"line {e.getLine()}: {e.getMessage().strip()}")
    return out


def _roles(sbml: str) -> list[tuple[str, str, str]]:
    """``(id, role, label)`` of the annotated parameters of an exported document."""
    import libsbml

    doc = libsbml.readSBMLFromString(sbml)
    out = []
    for q in doc.getModel().getListOfParameters():
        ann = q.getAnnotationString() or ""
        mrole = re.search(r'role="([^"]*)"', ann)
        mlabel = re.search(r'label="([^"]*)"', ann)
        if mrole and mlabel:
            out.append((q.getId(), mrole.group(1), html.unescape(mlabel.group(1))))
    return out


_BACKENDS = {"mcjit": (0, None), "lljit": (1, 0)}  # Config.LLVM_BACKEND, LLJIT_OPTIMIZATION_LEVEL


def roadrunner_load(sbml: str, backend: str = "mcjit"):
    """A ``roadrunner.RoadRunner`` for an SBML document, compiled with the LLVM JIT ``backend``.

    ``"mcjit"`` is libroadrunner 2.10's default (what ``roadrunner.RoadRunner(sbml)``
    gives). ``"lljit"`` (LLVM ORC LLJIT, optimisation level 0) compiles large documents
    several times faster (the full bone-metastasis model: 21 s against 140 s, see
    bench/bench_full.py) at the same simulation speed, but has crashed (segmentation
    fault in ``RoadRunner.__init__``) in long-lived processes that had already compiled
    other models and JAX programs, such as pytest workers: use it in a fresh process, as
    the benchmark does. libroadrunner's configuration is process-wide: it is set for
    this load and restored after it.
    """
    import roadrunner

    if backend not in _BACKENDS:
        raise ValueError(f"backend must be one of {sorted(_BACKENDS)}; got {backend!r}")
    cfg = roadrunner.Config
    keys = (cfg.LLVM_BACKEND, cfg.LLJIT_OPTIMIZATION_LEVEL)
    saved = [cfg.getValue(k) for k in keys]
    try:
        for k, v in zip(keys, _BACKENDS[backend]):
            if v is not None:
                cfg.setValue(k, v)
        return roadrunner.RoadRunner(sbml)
    finally:
        for k, v in zip(keys, saved):
            cfg.setValue(k, v)


def roadrunner_simulate(
    sbml: str,
    times,
    *,
    model: Model | None = None,
    rtol: float = 1e-10,
    atol: float = 1e-14,
    max_steps: int = 10**6,
    backend: str = "mcjit",
) -> dict[str, np.ndarray]:
    """Simulate an exported document with libroadrunner (CVODE) at ``times`` (days).

    ``backend`` is the LLVM JIT that compiles the document (see :func:`roadrunner_load`).

    Returns ``{label: values at times}`` for every state, input and observable element
    (labels as in the model: ``C``, ``R[3]``), plus ``"time"``. With ``model`` given,
    array elements are reassembled: ``{name: (len(times), *shape)}`` for each state,
    input and observable of the model, as ``Solution[name]`` gives them.
    """
    times = np.asarray(times, dtype=float)
    roles = [r for r in _roles(sbml) if r[1] in ("state", "input", "observable")]
    rr = roadrunner_load(sbml, backend)
    rr.setIntegrator("cvode")
    rr.integrator.relative_tolerance = rtol
    rr.integrator.absolute_tolerance = atol
    rr.integrator.maximum_num_steps = max_steps
    out = np.asarray(rr.simulate(times=times.tolist(), selections=["time"] + [sid for sid, _, _ in roles]))
    res = {"time": out[:, 0]}
    for k, (_, _, label) in enumerate(roles):
        res[label] = out[:, k + 1]
    if model is None:
        return res
    full = {"time": res["time"]}
    for specs in (model.states, model.inputs, model.observable_specs):
        for s in specs:
            if s.shape == ():
                if s.name in res:
                    full[s.name] = res[s.name]
            else:
                cols = [res.get(f"{s.name}[{i}]") for i in range(s.size)]
                if all(c is not None for c in cols):
                    full[s.name] = np.stack(cols, axis=-1).reshape((len(times),) + tuple(s.shape))
    return full
