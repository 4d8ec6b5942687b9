"""SBML export (seedsoil.solvers.sbml): round trip through libroadrunner against seedsoil.solvers.simulate.

Each model is exported with its parameters, initial state and doses, validated with
libsbml, loaded in libroadrunner (CVODE, rtol 1e-10 unless stated) and compared with
``simulate(..., rtol=1e-10, atol=1e-12)`` on every state, input and observable element:
``|sbml - jax| <= 1e-6 |jax| + floor`` with the absolute floor ``1e-9 * max_t |jax|`` of
that element (its own scale: it only matters where a trajectory passes through zero).
"""

import time

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from seedsoil.models import (
    Link,
    ayati2010,
    compose,
    denosumab,
    komarova2003,
    lemaire2004,
    vicious_cycle,
    zoledronic_acid,
)
from seedsoil.models.base import Model, Param, Params, State
from seedsoil.models.drugs import XGEVA_Q4W, ZOLEDRONIC_ACID_Q4W
from seedsoil.solvers import (
    bolus,
    from_schedule,
    infusion,
    sbml,
    scale,
    simulate,
)

pytest.importorskip("libsbml")
pytest.importorskip("roadrunner")

RTOL, FLOOR = 1e-6, 1e-9


def round_trip(model, times, regimen=None, rr_rtol=1e-10, rr_atol=1e-14, tight=False):
    """Export, validate, simulate both ways; return (max relative error, timings)."""
    t0 = time.perf_counter()
    text = sbml.export(model, None, regimen=regimen)
    t_export = time.perf_counter() - t0
    assert sbml.sbml_errors(text, full=True) == []
    t0 = time.perf_counter()
    rr = sbml.roadrunner_simulate(text, times, model=model, rtol=rr_rtol, atol=rr_atol)
    t_rr = time.perf_counter() - t0
    sol = simulate(model, times, regimen=regimen, rtol=1e-12 if tight else 1e-10, atol=1e-14 if tight else 1e-12)
    np.testing.assert_allclose(rr["time"], times, rtol=1e-12)
    worst = 0.0
    names = model.state_names + model.input_names + model.observable_names
    for name in names:
        a = np.asarray(sol[name]).reshape(len(times), -1)
        b = np.asarray(rr[name]).reshape(len(times), -1)
        floor = FLOOR * np.max(np.abs(a), axis=0)
        bad = np.abs(a - b) > RTOL * np.abs(a) + floor
        assert not bad.any(), (name, np.argwhere(bad)[:3].tolist(), a[bad][:3], b[bad][:3])
        worst = max(worst, float(np.max(np.abs(a - b) / (np.abs(a) + floor + 1e-300))))
    return worst, dict(export=t_export, roadrunner=t_rr, chars=len(text))


def test_komarova2003():
    worst, _ = round_trip(komarova2003(), np.linspace(0.0, 1000.0, 51))
    assert worst < RTOL


def test_lemaire2004_with_pth_infusion_bolus_and_scale():
    """I_P set by an infusion over [20, 80) days; a bolus then a scaling of B at day 30
    (composed in regimen order, as simulate applies them) and a dose at day 0."""
    reg = (infusion("I_P", 1000.0, 20.0, 80.0) + bolus("B", [0.0, 30.0], 2e-4) + scale("B", 30.0, 0.5))
    times = np.concatenate([np.linspace(0.0, 140.0, 36), [20.0, 30.0, 80.0]])
    worst, _ = round_trip(lemaire2004(), np.unique(times), regimen=reg)
    assert worst < RTOL


def test_ayati2010_drug_switched_on_at_a_parameter_breakpoint():
    """The drug input is scheduled by the model (on from day p.t_drug): exported as an
    event at the traced breakpoint expression. The bone-cell oscillation amplifies
    integration error (the existing Antimony test of this model is checked at 1e-5): at
    rtol 1e-12 roadrunner's CVODE still differs from simulate by 2e-6 in the troughs of C
    (Tsit5 and Dopri8 agree to 2e-9), so roadrunner runs at rtol 1e-13, simulate at 1e-12."""
    model = ayati2010(drug=True)
    text = sbml.export(model)
    assert "t_drug" in text and "<event" in text
    worst, _ = round_trip(model, np.linspace(0.0, 1200.0, 61), rr_rtol=1e-13, rr_atol=1e-18, tight=True)
    assert worst < RTOL


def test_ayati_breakpoint_follows_the_parameter():
    """Changing t_drug in the exported parameters moves the switch (not a baked-in number)."""
    model = ayati2010(drug=True).with_params(t_drug=300.0)
    worst, _ = round_trip(model, np.linspace(0.0, 700.0, 36), rr_rtol=1e-13, rr_atol=1e-18, tight=True)
    assert worst < RTOL


def test_denosumab_q4w_boluses_including_day_0():
    worst, _ = round_trip(denosumab(), np.linspace(0.0, 196.0, 99), regimen=from_schedule(XGEVA_Q4W, count=6))
    assert worst < RTOL


def test_zoledronic_acid_infusions():
    reg = from_schedule(ZOLEDRONIC_ACID_Q4W, start=1.0, count=3)
    starts = 1.0 + 28.0 * np.arange(3)
    times = np.unique(np.concatenate([np.linspace(0.0, 84.0, 43), starts, starts + 0.5]))
    worst, _ = round_trip(zoledronic_acid(), times, regimen=reg)
    assert worst < RTOL


def test_composite_bone_model_with_denosumab_and_zoledronic_acid():
    """Vicious cycle with denosumab linked to RANKL inhibition (a ``scatter-add`` in
    the composite's jaxpr) and a zoledronic-acid effect set by an infusion."""
    model = compose({"pk": denosumab("bone_metastases"), "bone": vicious_cycle()},
                    [Link("pk", "RANKL_occupancy", "bone", "rankl_inhibition")])
    reg = (from_schedule(XGEVA_Q4W, part="pk", count=2)
           + infusion("bone.za_effect", 5.0, 6.0, np.inf))
    worst, _ = round_trip(model, np.linspace(0.0, 56.0, 29), regimen=reg)
    assert worst < RTOL


def test_human_bone_core_with_both_drugs_and_a_tumour():
    """The human bone core of ``bone_metastasis`` (max(), saturating tumour terms) with
    denosumab 120 mg Q4W, zoledronic acid 4 mg and a tumour burden set by an infusion."""
    from seedsoil.models import human_bone

    model = compose({"pk": denosumab("bone_metastases"), "za": zoledronic_acid(), "bone": human_bone()},
                    [Link("pk", "RANKL_occupancy", "bone", "rankl_inhibition"),
                     Link("za", "osteoclast_kill", "bone", "za_effect")])
    reg = (from_schedule(XGEVA_Q4W, part="pk", count=2) + from_schedule(ZOLEDRONIC_ACID_Q4W, part="za", count=1)
           + infusion("bone.tumour_cells", 3e11, 0.0, np.inf))
    worst, _ = round_trip(model, np.linspace(0.0, 56.0, 29), regimen=reg)
    assert worst < RTOL


def test_bone_metastasis_in_libroadrunner():
    """The whole default bone_metastasis (cascade, human bone core, both drug PKs; 8 size
    bins) with a denosumab dose, a year in libroadrunner against simulate."""
    from seedsoil.models import bone_metastasis

    model = bone_metastasis("breast", n_bins=8)
    reg = from_schedule(XGEVA_Q4W, part="denosumab", count=2)
    worst, _ = round_trip(model, np.linspace(0.0, 365.0, 25), regimen=reg, rr_rtol=1e-12, rr_atol=1e-24, tight=True)
    assert worst < RTOL


def test_sbml_content_names_units_and_events():
    import libsbml

    text = sbml.export(lemaire2004(), regimen=infusion("I_P", 1000.0, 20.0, 80.0) + bolus("B", 5.0, 1e-4))
    doc = libsbml.readSBMLFromString(text)
    assert (doc.getLevel(), doc.getVersion()) == (3, 2)
    m = doc.getModel()
    assert m.getParameter("k_P").getValue() == pytest.approx(lemaire2004().params["k_P"])
    assert m.getParameter("k_P").isSetNotes() and "source" in m.getParameter("k_P").getNotesString()
    assert m.getRateRule("R") is not None and m.getAssignmentRule("I_P") is not None
    assert m.getNumEvents() == 3  # bolus, infusion start, infusion stop
    for ev in m.getListOfEvents():
        assert ev.getTrigger().getInitialValue() is False and ev.getTrigger().getPersistent() is True
    assert m.getTimeUnits() == "day"


def test_array_parameters_get_labelled_ids(tmp_path):
    """Array parameters and states flatten to one SBML element each (labels as names)."""
    from seedsoil.models import cascade

    model = cascade("breast", n_bins=4)
    path = tmp_path / "cascade.xml"
    text = sbml.export(model, str(path))
    assert path.read_text() == text
    assert sbml.sbml_errors(text, full=True) == []
    names = {r[2] for r in sbml._roles(text)}
    assert "q[bone]" in names
    n_state = sum(1 for r in sbml._roles(text) if r[1] == "state")
    assert n_state == model.n_states


def test_cascade_in_libroadrunner():
    """The metastatic cascade (quasi-steady CTC pool shared by every organ, re-seeding
    summed over all size bins): its organ rate rules are written as let-chains of
    function definitions, so libroadrunner, which inlines every assignment rule, can load
    it (load times are measured by bench/bench_full.py, not here). libroadrunner's default
    MCJIT backend (its faster LLJIT is used by the benchmark, in a process of its own: see
    ``roadrunner_load``).
    Tolerances as tight as both solvers allow: the size densities span many orders of
    magnitude across bins, and the comparison floor is per element."""
    from seedsoil.models import cascade

    model = cascade("breast", n_bins=8)
    text = sbml.export(model)
    assert "<functionDefinition" in text
    assert sbml.export(model) == text  # the same document every time (names follow the traversal)
    worst, _ = round_trip(model, np.linspace(0.0, 120.0, 25), rr_rtol=1e-12, rr_atol=1e-24, tight=True)
    assert worst < RTOL


class _Diamond(Model):
    """``dx/dt = -k a_30 exp(-t/5)`` with ``a_0 = x``, ``a_(i+1) = (a_i + a_i) / 2`` (so
    ``a_30 = x``): every level uses the previous one twice, 2^30 nodes when written out in
    full; time enters the chain too."""

    def rhs(self, t, y, p, u):
        a = y.x
        for _ in range(30):
            a = (a + a) * 0.5
        return {"x": -p.k * a * jnp.exp(-t / 5.0)}


def test_deeply_shared_expression_is_written_once():
    """A root whose inlined expression is exponential in its depth is exported as one
    let-function per level (linear size); libroadrunner loads it and matches the analytic
    solution x0 exp(-5 k (1 - exp(-t/5)))."""
    model = _Diamond(name="diamond", states=(State("x", "1"),),
                     params=Params.from_specs([Param("k", 0.3, "1/day", "test")]), y0=jnp.array([2.0]))
    text = sbml.export(model)
    assert sbml.sbml_errors(text, full=True) == []
    # The root's chain binds a_1 ... a_29 once each (a_0 is the state, a_30 is used once):
    # 30 functions. a_8 ... a_29 are also heavy nodes used twice (a_i written out has
    # 2 a_(i-1) + 3 nodes: 1021 > _HEAVY = 1000 from a_8 on), one shared definition each.
    assert text.count("<functionDefinition") == 30 + 22 and len(text) < 100_000
    times = np.linspace(0.0, 10.0, 11)
    rr = sbml.roadrunner_simulate(text, times, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(rr["x"], 2.0 * np.exp(-0.3 * 5.0 * (1.0 - np.exp(-times / 5.0))), rtol=1e-9)


def test_unknown_roadrunner_backend_is_named():
    with pytest.raises(ValueError, match="'orcjit'"):
        sbml.roadrunner_load(sbml.export(komarova2003()), backend="orcjit")


class _Erf(Model):
    def rhs(self, t, y, p, u):
        return {"x": -p.k * jax.lax.erf(y.x)}


def test_unsupported_primitive_is_named():
    model = _Erf(name="erf", states=(State("x", "1"),),
                 params=Params.from_specs([Param("k", 1.0, "1/day", "test")]), y0=jnp.array([1.0]))
    with pytest.raises(NotImplementedError, match="'erf'"):
        sbml.export(model)


def test_batched_parameters_are_refused():
    model = komarova2003()
    with pytest.raises(ValueError, match="one parameter set"):
        sbml.export(model, params={"k1": jnp.array([0.2, 0.3])})
