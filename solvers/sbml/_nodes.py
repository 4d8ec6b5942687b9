"""Symbolic scalars: hash-consed expression nodes and their arithmetic (numbers fold)."""

from __future__ import annotations

import threading

import numpy as np


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
