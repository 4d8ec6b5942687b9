"""The SBML document: units, notes and annotations, :func:`export` in named steps, checks."""

from __future__ import annotations

import html
import math
import re
import threading
from collections import defaultdict
from collections.abc import Sequence

import jax.numpy as jnp
import numpy as np

from ...models.base import Model, View, flat_labels
from .._simulate import _resolve_params, _resolve_regimen, _resolve_y0
from ..regimen import Regimen
from ._emit import _Emitter, _Ids, _num
from ._jaxpr import _symbolic
from ._nodes import Node, _isnum, _mul, _state, _sum_n, _sym

_NS = "https://github.com/seedsoil/sbml-export"


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
    """``(label, unit, spec index)`` per flat element, labelled as everywhere else
    (:func:`~seedsoil.models.base.flat_labels`): ``C``, ``R[bone]`` for a declared label,
    ``R[3]`` for an entry without one."""
    owner = [k for k, s in enumerate(specs) for _ in range(s.size)]
    return [(label, specs[k].unit, k) for label, k in zip(flat_labels(specs), owner, strict=True)]


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
        model: any seedsoil :class:`~seedsoil.models.Model` (composites included).
        path: file to write, or ``None``.
        params, y0: as for :func:`seedsoil.solvers.simulate` (defaults: the model's); one set only.
        regimen: doses (:func:`~seedsoil.solvers.bolus`, ``scale``, ``infusion``) as events.
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
    """Write the document in named steps (ids are handed out in this order, so the output
    is deterministic): symbols, infusions, traced expressions, shared intermediates,
    SBML variables and rules, events, function definitions and rules, then checks."""
    w = _Writer(libsbml, model)
    sym = _Symbols(w.ids, model, p, n, m)
    infusions, terms = _infusions(w.ids, reg, infusion_slot, t0)
    tr = _trace(model, pv, yv, sym, terms, observables, n, m)
    em = _Emitter(tr.roots, w.ids)
    use_tseg = _uses(tr.roots, sym.tseg)
    _write_variables(w, model, p, pv, yv, sym, tr, em, infusions, use_tseg, t0)
    _write_events(w, reg, event_state, sym, infusions, tr.breaks, em, use_tseg)
    _write_shared(w, em)
    return _finish(libsbml, w.doc, path)


class _Writer:
    """The libsbml document being written: its model, ids and unit definitions, and
    helpers that add a parameter or an event (each checked with :func:`_ok`)."""

    def __init__(self, libsbml, model):
        self.ids = _Ids()
        self.doc = libsbml.SBMLDocument(3, 2)
        self.sm = sm = self.doc.createModel()
        sm.setId(self.ids.new(model.name))
        sm.setName(model.name)
        _annotate(sm, "model", model.name, "",
                  [("reference", model.reference),
                   ("exported by", "seedsoil seedsoil.solvers.sbml.export (jaxpr interpretation)")])
        self.defined: set = set()
        sm.setTimeUnits(_unit_id(sm, "day", self.defined))

    def parameter(self, sid, label, value, constant, unit="", role="", notes=()):
        q = self.sm.createParameter()
        _ok(q.setId(sid), label)
        q.setName(label)
        q.setValue(float(value))
        q.setConstant(bool(constant))
        uid = _unit_id(self.sm, unit, self.defined) if unit else None
        if uid:
            q.setUnits(uid)
        if role:
            _annotate(q, role, label, unit, notes)
        return q

    def rule(self, kind: str, sid: str, formula: str, label: str) -> None:
        """A rate rule (``kind="rate"``) or assignment rule for ``sid``."""
        r = self.sm.createRateRule() if kind == "rate" else self.sm.createAssignmentRule()
        _ok(r.setVariable(sid), label)
        _ok(r.setMath(_math(formula, label)), label)

    def event(self, label, when: str, assignments: list[tuple[str, str]], tseg_id: str | None):
        """A persistent event at ``time >= when`` (values from trigger time; it also sets
        ``t_segment`` when ``tseg_id`` is given)."""
        ev = self.sm.createEvent()
        _ok(ev.setId(self.ids.new(label)), label)
        ev.setUseValuesFromTriggerTime(True)
        tr = ev.createTrigger()
        tr.setInitialValue(False)
        tr.setPersistent(True)
        _ok(tr.setMath(_math(f"geq(time, {when})", label)), label)
        if tseg_id is not None:
            assignments = assignments + [(tseg_id, f"max(time, {when})")]
        for var, f in assignments:
            ea = ev.createEventAssignment()
            _ok(ea.setVariable(var), label)
            _ok(ea.setMath(_math(f, f"{label}: {var}")), label)


class _Symbols:
    """SBML ids of every flat parameter, state and input entry, and symbol arrays for them."""

    def __init__(self, ids: _Ids, model, p, n: int, m: int):
        self.p_ids = [ids.new(lbl) for lbl in p.flat_names()]
        self.s_labels, self.i_labels = _labels(model.states), _labels(model.inputs)
        self.s_ids = [ids.new(lbl) for lbl, _, _ in self.s_labels]
        self.i_ids = [ids.new(lbl) for lbl, _, _ in self.i_labels]
        self.tseg_id = ids.new("t_segment")
        self.tseg = _sym(self.tseg_id)
        self.t = _sym("time")
        self.P = np.array([_sym(s) for s in self.p_ids], dtype=object).reshape(len(self.p_ids))
        self.Y = np.array([_sym(s) for s in self.s_ids], dtype=object).reshape(n)
        self.U = np.array([_sym(s) for s in self.i_ids], dtype=object).reshape(m)


def _infusions(ids: _Ids, reg, infusion_slot, t0: float) -> tuple[list, dict[int, list]]:
    """The infusions active after ``t0``, each with a constant rate and an on/off flag id,
    and the terms ``rate * flag`` they add to each flat slot (states, then inputs)."""
    infusions = []  # (rate id, flag id, start, stop, slot, rate, target)
    terms = defaultdict(list)
    for k in range(reg.n_infusions):
        start, stop, rate = (float(np.asarray(a)[k])
                             for a in (reg.infusion_start, reg.infusion_stop, reg.infusion_rate))
        if stop <= max(start, t0):
            continue  # never active
        slot = int(infusion_slot[k])
        tag = f"infusion{k}_{reg.infusion_target[k]}"
        rid, fid = ids.new(f"{tag}_rate"), ids.new(f"{tag}_on")
        infusions.append((rid, fid, start, stop, slot, rate, reg.infusion_target[k]))
        terms[slot].append(_mul(_sym(rid), _sym(fid)))
    return infusions, terms


class _Traced:
    """The model's flat functions as symbolic expressions (see the module docstring)."""

    def __init__(self, dy, input_expr, obs_specs, obs_flat, breaks):
        self.dy, self.input_expr, self.obs_specs = dy, input_expr, obs_specs
        self.obs_flat, self.breaks = obs_flat, breaks
        self.o_labels = _labels(obs_specs)
        self.roots = list(dy) + input_expr + obs_flat + list(breaks) + list(breaks)


def _trace(model, pv, yv, sym: _Symbols, terms, observables: bool, n: int, m: int) -> _Traced:
    """Trace ``input_vector``, ``vector_field``, ``observe`` and ``breakpoints`` with the
    symbols in place of numbers; infusion terms enter the forcing of their slot."""
    forcing_states = np.empty(n, dtype=object)
    for i in range(n):
        forcing_states[i] = _sum_n(terms[i])
    ex_p, ex_y, ex_t = jnp.asarray(pv), jnp.asarray(yv), jnp.asarray(0.0)
    sched = _symbolic(model.input_vector, (ex_t, ex_p), (np.asarray(sym.tseg, dtype=object), sym.P))[0] if m else \
        np.zeros(0, dtype=object)
    input_expr = [_sum_n(terms[n + j] + [sched[j]]) for j in range(m)]
    forcing = np.concatenate([forcing_states, sym.U])
    dy = _symbolic(model.vector_field, (ex_t, ex_y, ex_p, jnp.zeros(n + m)),
                   (np.asarray(sym.t, dtype=object), sym.Y, sym.P, forcing))[0]
    obs_specs = model.observable_specs if observables else ()
    obs_vals = []
    if obs_specs:
        names = model.observable_names

        def observe(t, yy, pp, uu):
            out = model.observe(t, yy, pp, uu)
            return tuple(jnp.reshape(jnp.asarray(out[k], dtype=jnp.float64), (-1,)) for k in names)

        obs_vals = _symbolic(observe, (ex_t, ex_y, ex_p, jnp.zeros(m)),
                             (np.asarray(sym.t, dtype=object), sym.Y, sym.P, sym.U))
    breaks = _symbolic(lambda pp: jnp.reshape(jnp.atleast_1d(model.breakpoints(View(pp, model.params.layout))), (-1,)),
                       (ex_p,), (sym.P,))[0]
    obs_flat = [x for arr in obs_vals for x in arr.reshape(-1)]
    return _Traced(dy, input_expr, obs_specs, obs_flat, breaks)


def _uses(roots, node: Node) -> bool:
    """Whether any expression in ``roots`` refers to ``node`` (``t_segment``)."""
    stack, seen = [r for r in roots if isinstance(r, Node)], set()
    while stack:
        x = stack.pop()
        if x is node:
            return True
        if id(x) not in seen:
            seen.add(id(x))
            stack.extend(a for a in x.args if isinstance(a, Node))
    return False


def _write_variables(w: _Writer, model, p, pv, yv, sym: _Symbols, tr: _Traced, em: _Emitter, infusions,
                     use_tseg: bool, t0: float) -> None:
    """Parameters (constant), states (rate rules), inputs (constants or assignment rules),
    observables (assignment rules), infusion rates and flags, and ``t_segment``."""
    flat_spec = [s for s in p.specs for _ in range(s.size)]
    for sid, lbl, val, spec in zip(sym.p_ids, p.flat_names(), pv, flat_spec):
        w.parameter(sid, lbl, val, True, spec.unit, "parameter",
                    [("unit", spec.unit), ("description", spec.description), ("source", spec.source),
                     ("bounds", list(spec.bounds))])
    for i, (sid, (lbl, unit, k), val) in enumerate(zip(sym.s_ids, sym.s_labels, yv)):
        w.parameter(sid, lbl, val, False, unit, "state", [("unit", unit), ("description", model.states[k].description)])
        w.rule("rate", sid, em.formula(tr.dy[i], lbl), lbl)
    for j, (sid, (lbl, unit, k)) in enumerate(zip(sym.i_ids, sym.i_labels)):
        e = tr.input_expr[j]
        notes = [("unit", unit), ("description", model.inputs[k].description)]
        if _isnum(e):
            w.parameter(sid, lbl, float(e), True, unit, "input", notes)
        else:
            w.parameter(sid, lbl, 0.0, False, unit, "input", notes)
            w.rule("assignment", sid, em.formula(e, lbl), lbl)
    o_ids = [w.ids.new(lbl) for lbl, _, _ in tr.o_labels]
    for sid, (lbl, unit, k), e in zip(o_ids, tr.o_labels, tr.obs_flat):
        w.parameter(sid, lbl, 0.0, False, unit, "observable",
                    [("unit", unit), ("description", tr.obs_specs[k].description)])
        w.rule("assignment", sid, em.formula(e, lbl), lbl)
    for rid, fid, start, stop, _slot, rate, target in infusions:
        w.parameter(rid, f"infusion rate into {target}", rate, True, "", "infusion_rate",
                    [("interval", f"[{start}, {stop}) days")])
        w.parameter(fid, f"infusion into {target} on", 0.0, False, "1", "infusion_flag")
    if use_tseg:
        w.parameter(sym.tseg_id, "time of the latest event (scheduled inputs are held from there)", t0, False, "day",
                    "segment_time")


def _write_events(w: _Writer, reg, event_state, sym: _Symbols, infusions, breaks, em: _Emitter,
                  use_tseg: bool) -> None:
    """Doses (boluses and scalings at one time composed in regimen order, as
    :func:`seedsoil.solvers.simulate` applies them), infusion switches and model breakpoints."""
    tseg_id = sym.tseg_id if use_tseg else None
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
            x = sym.s_ids[s]
            f = _num(add_) if mul_ == 0 else (f"({x} * {_num(mul_)})" if mul_ != 1 else x)
            if add_ != 0 and mul_ != 0:
                f = f"({f} + {_num(add_)})"
            assigns.append((x, f))
        w.event(f"dose{k_t}", _num(tk), assigns, tseg_id)
    for _rid, fid, start, stop, _slot, _rate, _target in infusions:
        w.event(f"{fid}_start", _num(start), [(fid, "1.0")], tseg_id)
        if math.isfinite(stop):
            w.event(f"{fid}_stop", _num(stop), [(fid, "0.0")], tseg_id)
    for k, b in enumerate(breaks):
        w.event(f"breakpoint{k}", em.formula(b, f"breakpoint{k}"), [], tseg_id)


def _write_shared(w: _Writer, em: _Emitter) -> None:
    """The shared intermediates: let-chain function definitions and assignment rules."""
    for fid, f in em.functions:
        fd = w.sm.createFunctionDefinition()
        _ok(fd.setId(fid), fid)
        _ok(fd.setMath(_math(f, fid)), fid)
    for sid, f in em.rules:
        q = w.parameter(sid, "intermediate", 0.0, False)
        q.setName("intermediate")
        w.rule("assignment", sid, f, sid)


def _finish(libsbml, doc, path: str | None) -> str:
    """Check the document (``RuntimeError`` listing libsbml's errors), write it to
    ``path`` if given, and return its text."""
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
