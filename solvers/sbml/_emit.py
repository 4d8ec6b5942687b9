"""Expressions as SBML L3 formulas: inlining, assignment rules and let-chains of functions."""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence
from typing import Any

import numpy as np

from ._nodes import Node, _isnum

_INLINE_DEPTH = 48  # deeper single-use chains are cut into assignment rules
_HEAVY = 1000  # roots whose inlined expression is larger are written as let-chains of functions


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
