"""One way in: every entry point resolves names through seedsoil.models.base.resolve_name, takes one
SolverOptions, and a composite's parts and dosing schedules are reached by name.

Independent reference: the toy model's closed form x(t) = x0 exp(-k t), D_o(t) = D0_o
exp(-w_o t), and the flat layout written out by hand (k, w[bone], w[lung])."""

import dataclasses
import re
import warnings

import jax.numpy as jnp
import numpy as np
import pytest

from seedsoil.models import compose
from seedsoil.models.base import Model, Observable, Param, Params, State, UnknownNameError, flat_labels, resolve_name
from seedsoil.models.drugs import XGEVA_Q4W, ZOLEDRONIC_ACID_Q4W
from seedsoil.solvers import (
    Condition,
    Dataset,
    FitProblem,
    SolverOptions,
    bolus,
    export_sbml,
    fit,
    from_schedule,
    identity,
    local_sensitivity,
    morris,
    parameter_ranges,
    simulate,
    sweep,
)
from seedsoil.solvers._simulate import DEFAULT, resolve_options
from seedsoil.solvers._sweep import _output_dims

ORGANS = ("bone", "lung")


class Toy(Model):
    """x' = -k x, D_o' = -w_o D_o."""

    def rhs(self, t, y, p, u):
        return {"x": -p.k * y.x, "D": -p.w * y.D}

    def observables(self, t, y, p, u):
        return {"total": y.x + jnp.sum(y.D), "D_obs": y.D}


TOY = Toy(
    name="toy",
    states=(State("x", "mg", "a drug"), State("D", "cells", "per organ", (2,), dims=("organ",), labels=ORGANS)),
    params=Params.from_specs((Param("k", 0.5, "1/day", "test", bounds=(0.0, 10.0)),
                              Param("w", (0.1, 0.2), "1/day", "test", bounds=(0.0, 10.0), shape=(2,), labels=ORGANS))),
    y0=jnp.array([1.0, 1.0, 2.0]),
    observable_specs=(Observable("total", "mg", "x plus all D"),
                      Observable("D_obs", "cells", "D per organ", (2,), dims=("organ",), labels=ORGANS)),
)
PAIR = compose({"a": TOY, "b": TOY})
TIMES = np.linspace(0.0, 2.0, 5)
TIGHT = dict(rtol=1e-10, atol=1e-12)


# --------------------------------------------------------------------------------------
# The resolver itself
# --------------------------------------------------------------------------------------
def test_every_name_form_resolves_to_the_flat_indices_written_out_by_hand():
    specs = TOY.params.specs
    assert flat_labels(specs) == ("k", "w[bone]", "w[lung]") == TOY.params.flat_names()
    assert resolve_name(specs, "k") == ((0,), ())
    assert resolve_name(specs, "w") == ((1, 2), (2,))
    assert resolve_name(specs, "w[bone]") == ((1,), ()) == resolve_name(specs, "w[0]")
    assert resolve_name(specs, "w[lung]") == ((2,), ()) == resolve_name(specs, "w[1]")
    assert PAIR.param_index("b.k") == (3,) and PAIR.param_index("b.w") == (4, 5)
    assert PAIR.param_index("b.w[lung]") == (5,) and PAIR.param_index("a.w[1]") == (2,)
    assert PAIR.state_index("b.D[bone]") == (4,) and TOY.state_index("D") == (1, 2)


def test_an_unknown_name_is_named_with_the_close_match():
    with pytest.raises(UnknownNameError) as e:
        TOY.param_index("kk")
    msg = str(e.value)
    assert "unknown parameter 'kk'" in msg and "model 'toy'" in msg and "did you mean 'k'" in msg
    assert e.value.suggestions[0] == "k" and isinstance(e.value, KeyError) and isinstance(e.value, ValueError)
    with pytest.raises(UnknownNameError, match=r"unknown parameter 'w\[liver\]'"):
        TOY.param_index("w[liver]")
    with pytest.raises(UnknownNameError, match=r"unknown parameter 'k\[0\]'"):  # a scalar has no entries
        TOY.param_index("k[0]")
    with pytest.raises(UnknownNameError, match=r"did you mean 'b\.k'"):
        PAIR.param_index("b.kk")
    with pytest.raises(UnknownNameError, match=r"unknown state 'DD'.*did you mean 'D'"):
        TOY.state_index("DD")


# --------------------------------------------------------------------------------------
# Every entry point accepts every form, with the same result
# --------------------------------------------------------------------------------------
def _values(**new):
    return np.asarray(TOY.params.replace(**new).values)


def test_simulate_accepts_every_form_with_the_same_result():
    want = TOY.params.with_values(jnp.array([0.5, 0.3, 0.2]))
    ref = np.asarray(simulate(TOY, TIMES, params=want, **TIGHT).ys)
    for params in ({"w[bone]": 0.3}, {"w[0]": 0.3}, {"w": [0.3, 0.2]}):
        np.testing.assert_array_equal(np.asarray(simulate(TOY, TIMES, params=params, **TIGHT).ys), ref)
    np.testing.assert_allclose(ref[:, 1], np.exp(-0.3 * TIMES), rtol=1e-8)  # closed form
    # a composite's parameter and an entry of its array parameter
    sol = simulate(PAIR, TIMES, params={"b.k": 2.0, "a.w[lung]": 1.0}, **TIGHT)
    np.testing.assert_allclose(sol["b.x"], np.exp(-2.0 * TIMES), rtol=1e-8)
    np.testing.assert_allclose(np.asarray(sol["a.D"])[:, 1], 2.0 * np.exp(-1.0 * TIMES), rtol=1e-8)
    np.testing.assert_allclose(sol["a.x"], np.exp(-0.5 * TIMES), rtol=1e-8)


def test_y0_and_regimen_targets_accept_entries():
    by_entry = simulate(TOY, TIMES, y0={"D[lung]": 5.0}, **TIGHT)
    by_whole = simulate(TOY, TIMES, y0={"D": [1.0, 5.0]}, **TIGHT)
    np.testing.assert_array_equal(np.asarray(by_entry.ys), np.asarray(by_whole.ys))
    assert np.asarray(TOY.with_y0(**{"D[1]": 5.0}).y0).tolist() == [1.0, 1.0, 5.0]
    dosed = simulate(TOY, TIMES, regimen=bolus("D[lung]", 1.0, 3.0), **TIGHT)
    lung = np.asarray(dosed["D"])[:, 1]
    np.testing.assert_allclose(lung[TIMES >= 1.0], (2.0 * np.exp(-0.2) + 3.0) * np.exp(-0.2 * (TIMES[TIMES >= 1] - 1)),
                               rtol=1e-8)
    comp = simulate(PAIR, TIMES, regimen=bolus("b.D[bone]", 0.0, 1.0), y0={"a.x": 3.0}, **TIGHT)
    np.testing.assert_allclose(np.asarray(comp["b.D"])[0], [2.0, 2.0])
    np.testing.assert_allclose(np.asarray(comp["a.x"])[0], 3.0)


def test_sweep_accepts_every_form_with_the_same_values():
    w = np.array([0.1, 0.4, 0.9])
    by_entry = sweep(TOY, TIMES, {"w[bone]": w}, keep=("x",), **TIGHT)
    by_pos = sweep(TOY, TIMES, {"w[0]": w}, keep=("x",), **TIGHT)
    by_whole = sweep(TOY, TIMES, {"w": np.stack([w, np.full(3, 0.2)], axis=1)}, keep=("x",), **TIGHT)
    for res in (by_pos, by_whole):
        np.testing.assert_array_equal(res.values[:, :3], by_entry.values[:, :3])
    assert "w[bone]" in by_entry.to_xarray().coords
    comp = sweep(PAIR, TIMES, {"b.w[lung]": w}, keep=("b.D",), **TIGHT)
    np.testing.assert_allclose(comp["b.D"][:, -1, 1], 2.0 * np.exp(-w * 2.0), rtol=1e-8)


def test_sensitivities_accept_every_form():
    full = local_sensitivity(TOY, TIMES, "total", wrt="w", **TIGHT)
    assert list(full["parameter"].values) == ["w[bone]", "w[lung]"]
    for wrt in ("w[bone]", "w[0]"):
        one = local_sensitivity(TOY, TIMES, "total", wrt=wrt, **TIGHT)
        assert list(one["parameter"].values) == ["w[bone]"]
        np.testing.assert_array_equal(one.values[:, 0], full.values[:, 0])
    np.testing.assert_allclose(full.values[:, 0], -TIMES * np.exp(-0.1 * TIMES), rtol=1e-6, atol=1e-12)
    comp = local_sensitivity(PAIR, TIMES, "b.total", wrt=("b.k", "b.w[lung]"), **TIGHT)
    assert list(comp["parameter"].values) == ["b.k", "b.w[lung]"]
    box = parameter_ranges(PAIR, vary=("a.w", "b.w[1]"), ranges={"a.w": (0.1, 1.0), "a.w[lung]": (0.2, 0.3)})
    assert list(box["parameter"].values) == ["a.w[bone]", "a.w[lung]", "b.w[lung]"]
    assert box["lower"].values.tolist() == [0.1, 0.2, 0.0]  # the entry's range wins over its parameter's
    ds = morris(TOY, TIMES, "total", vary=("k", "w[bone]"), ranges={"k": (0.1, 1.0), "w[0]": (0.1, 1.0)},
                trajectories=2, num_resamples=10, seed=0, **TIGHT)
    assert list(ds["parameter"].values) == ["k", "w[bone]"]


def _data():
    t = [0.5, 1.0, 2.0]
    return Dataset(["x"] * 3, t, [float(np.exp(-0.5 * s)) for s in t], [0.01] * 3, ["g"] * 3)


def test_fit_problem_and_sbml_export_accept_every_form():
    data = _data()
    obs = [identity("x")]
    whole = FitProblem(TOY, data, obs, [Condition("g", params={"w[lung]": 0.7})], ["k", "w"],
                       bounds={"w": (0.01, 5.0), "w[bone]": (0.05, 1.0)})
    assert whole.free == ("k", "w[bone]", "w[lung]")
    assert whole.bounds["w[bone]"] == (0.05, 1.0) and whole.bounds["w[lung]"] == (0.01, 5.0)
    entry = FitProblem(TOY, data, obs, ["g"], ["w[0]"])
    assert entry.free == ("w[bone]",) and entry.start() == {"w[bone]": 0.1}
    assert entry.to_u({"w[bone]": 0.2}) == pytest.approx(entry.to_u({"w[0]": 0.2}))
    np.testing.assert_allclose(whole._core_args["ov_value"][0], [0.5, 0.1, 0.7])
    assert whole._core_args["ov_mask"][0].tolist() == [False, False, True]
    comp = FitProblem(PAIR, Dataset(["x"] * 3, [0.5, 1.0, 2.0], [1.0] * 3, [0.1] * 3, ["g"] * 3),
                      [identity("x", "b.x")], ["g"], ["b.k", "a.w[lung]"])
    assert comp.free == ("b.k", "a.w[lung]")
    for params in ({"w[bone]": 0.3}, {"w[0]": 0.3}, {"w": [0.3, 0.2]}):
        text = export_sbml(TOY, params=params)
        assert 'name="w[bone]" value="0.3"' in text
    assert 'name="b.k" value="2"' in export_sbml(PAIR, params={"b.k": 2.0})


def test_the_same_error_text_for_an_unknown_name_everywhere():
    """One message, whichever entry point met the bad name."""
    messages = []

    def caught(fn):
        with pytest.raises(UnknownNameError) as e:
            fn()
        messages.append(str(e.value))

    caught(lambda: TOY.with_params(kk=1.0))
    caught(lambda: simulate(TOY, TIMES, params={"kk": 1.0}))
    caught(lambda: sweep(TOY, TIMES, {"kk": np.ones(2)}))
    caught(lambda: local_sensitivity(TOY, TIMES, "x", wrt="kk"))
    caught(lambda: parameter_ranges(TOY, vary="kk"))
    caught(lambda: morris(TOY, TIMES, "x", vary="kk"))
    caught(lambda: FitProblem(TOY, _data(), [identity("x")], ["g"], ["kk"]))
    caught(lambda: FitProblem(TOY, _data(), [identity("x")], [Condition("g", params={"kk": 1.0})], ["k"]))
    caught(lambda: export_sbml(TOY, params={"kk": 1.0}))
    assert len(set(messages)) == 1, messages
    assert messages[0].startswith("unknown parameter 'kk': model 'toy' has no parameter 'kk' (did you mean 'k'?)")

    states = []
    for fn in (lambda: TOY.with_y0(DD=1.0), lambda: simulate(TOY, TIMES, y0={"DD": 1.0}),
               lambda: FitProblem(TOY, _data(), [identity("x")], [Condition("g", y0={"DD": 1.0})], ["k"]),
               lambda: export_sbml(TOY, y0={"DD": 1.0})):
        with pytest.raises(UnknownNameError) as e:
            fn()
        states.append(str(e.value))
    assert len(set(states)) == 1 and "unknown state 'DD'" in states[0] and "did you mean 'D'" in states[0]

    with pytest.raises(UnknownNameError,
                       match=r"^unknown dose target 'xx': model 'toy' has no dose target 'xx' \(did you mean 'x'\?\)"):
        simulate(TOY, TIMES, regimen=bolus("xx", 1.0, 1.0))
    with pytest.raises(ValueError, match=r"dose target 'D' has shape \(2,\)"):
        simulate(TOY, TIMES, regimen=bolus("D", 1.0, 1.0))


# --------------------------------------------------------------------------------------
# One SolverOptions through every entry point; a keyword wins over options
# --------------------------------------------------------------------------------------
def test_solver_options_travel_and_keywords_win():
    opts = SolverOptions(rtol=1e-10, atol=1e-12)
    a = np.asarray(simulate(TOY, TIMES, options=opts).ys)
    np.testing.assert_array_equal(a, np.asarray(simulate(TOY, TIMES, **TIGHT).ys))
    loose = SolverOptions(rtol=1e-3, atol=1e-3)
    np.testing.assert_array_equal(np.asarray(simulate(TOY, TIMES, options=loose, **TIGHT).ys), a)  # keywords win
    assert resolve_options(TOY, loose, rtol=1e-10) == dataclasses.replace(loose, rtol=1e-10, solver="tsit5")
    assert resolve_options(TOY).solver == "tsit5"
    assert resolve_options(TOY, SolverOptions(solver="kvaerno5")).solver == "kvaerno5"
    assert resolve_options(TOY, defaults={"rtol": 1e-8}).rtol == 1e-8
    assert resolve_options(TOY, SolverOptions(rtol=1e-5), defaults={"rtol": 1e-8}).rtol == 1e-5  # options win
    with pytest.raises(TypeError, match=r"unknown solver setting\(s\) \['rtoll'\]"):
        resolve_options(TOY, rtoll=1.0)
    with pytest.raises(TypeError, match="options must be a SolverOptions"):
        simulate(TOY, TIMES, options={"rtol": 1e-3})
    with pytest.raises(ValueError, match="rtol must be a finite number > 0"):
        simulate(TOY, TIMES, options=opts, rtol=-1.0)

    res = sweep(TOY, TIMES, {"k": [0.5]}, keep=("x",), options=opts)
    np.testing.assert_array_equal(res["x"][0], a[:, 0])
    s1 = local_sensitivity(TOY, TIMES, "x", wrt="k", options=opts)
    s2 = local_sensitivity(TOY, TIMES, "x", wrt="k", options=loose, **TIGHT)
    np.testing.assert_array_equal(s1.values, s2.values)
    np.testing.assert_allclose(s1.values[:, 0], -TIMES * np.exp(-0.5 * TIMES), rtol=1e-7, atol=1e-12)
    prob = FitProblem(TOY, _data(), [identity("x")], ["g"], ["k"], options=SolverOptions(rtol=1e-9), atol=1e-11)
    assert (prob.options.rtol, prob.options.atol, prob.options.solver) == (1e-9, 1e-11, "tsit5")
    assert (FitProblem(TOY, _data(), [identity("x")], ["g"], ["k"]).options.rtol,) == (1e-8,)  # the fit's default


# --------------------------------------------------------------------------------------
# Small frictions
# --------------------------------------------------------------------------------------
def test_from_schedule_doses_a_composites_part():
    reg = from_schedule(XGEVA_Q4W, part="denosumab", count=3)
    assert reg.event_target == ("denosumab.depot",) * 3
    old = from_schedule(dataclasses.replace(XGEVA_Q4W, state="denosumab.depot"), count=3)
    np.testing.assert_array_equal(np.asarray(reg.event_time), np.asarray(old.event_time))
    za = from_schedule(ZOLEDRONIC_ACID_Q4W, part="za", count=2)
    assert za.infusion_target == ("za.plasma",) * 2
    assert from_schedule(XGEVA_Q4W, count=1).event_target == ("depot",)
    with pytest.raises(ValueError, match="part must be the name of a composite's part"):
        from_schedule(XGEVA_Q4W, part="", count=1)


def test_composite_parts_by_name_carry_the_composites_values():
    m = PAIR.with_params(**{"b.k": 3.0, "b.w[lung]": 0.9}).with_y0(**{"b.x": 4.0})
    b = m.part("b")
    assert float(b.params["k"]) == 3.0 and np.asarray(b.params["w"]).tolist() == [0.1, 0.9]
    assert np.asarray(b.y0).tolist() == [4.0, 1.0, 2.0]
    assert m.part("a").params.flat_names() == TOY.params.flat_names()
    assert list(m.named_parts) == ["a", "b"]
    for key in ("a", "b"):  # the same parts as part(): the composite's current values, not those first built
        assert np.asarray(m.named_parts[key].params.values).tolist() == np.asarray(m.part(key).params.values).tolist()
        assert np.asarray(m.named_parts[key].y0).tolist() == np.asarray(m.part(key).y0).tolist()
    assert float(m.named_parts["b"].params["k"]) == 3.0 and float(m.named_parts["b"].y0[0]) == 4.0
    with pytest.raises(UnknownNameError, match=r"unknown part 'c'.*known parts: \['a', 'b'\]"):
        m.part("c")


def test_cascade_organs_keyword_and_its_deprecated_spelling():
    from seedsoil.models import cascade

    m = cascade(organs=("bone", "liver"), n_bins=4)
    assert m.organs == ("bone", "liver")
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        old = cascade("breast", organs_=("bone", "liver"), n_bins=4)
    assert old.organs == m.organs and any(issubclass(x.category, DeprecationWarning) for x in w)
    with pytest.raises(TypeError, match="both organs and its deprecated spelling"):
        cascade(organs=("bone",), organs_=("bone",), n_bins=4)


def test_output_axes_come_from_declarations_only():
    from seedsoil.models import cascade

    m = cascade(organs=("bone", "lung", "liver"), n_bins=4)
    spec = {s.name: s for s in m.observable_specs}["n_metastases"]
    assert _output_dims(m, spec) == (("organ",), {"organ": ("bone", "lung", "liver")})
    comp = compose({"spread": m})  # a composite keeps its parts' axes
    spec = {s.name: s for s in comp.observable_specs}["spread.n_metastases"]
    assert _output_dims(comp, spec) == (("organ",), {"organ": ("bone", "lung", "liver")})
    assert _output_dims(TOY, TOY.observable_specs[1]) == (("organ",), {"organ": ORGANS})
    with pytest.raises(ValueError, match="labels for shape"):
        State("D", "cells", "bad", (2,), labels=("bone",))


# --------------------------------------------------------------------------------------
# Outputs by name: one resolver for Solution, fits, sweeps, sensitivities and plots
# --------------------------------------------------------------------------------------
def test_solution_reads_one_entry_of_an_array_output_by_label_or_position():
    sol = simulate(TOY, TIMES, **TIGHT)
    D = np.asarray(sol["D"])
    for name in ("D[lung]", "D[1]"):
        np.testing.assert_array_equal(np.asarray(sol[name]), D[:, 1])
    np.testing.assert_allclose(np.asarray(sol["D_obs[bone]"]), np.exp(-0.1 * TIMES), rtol=1e-8)  # closed form
    comp = simulate(PAIR, TIMES, params={"b.w[lung]": 1.0}, **TIGHT)
    np.testing.assert_allclose(np.asarray(comp["b.D_obs[lung]"]), 2.0 * np.exp(-TIMES), rtol=1e-8)
    batch = simulate(TOY, TIMES, params={"k": [0.5, 1.0]}, **TIGHT)
    assert batch["D[bone]"].shape == (2, len(TIMES))
    assert TOY.resolve_output("D_obs[lung]") == (TOY.observable_specs[1], 1)
    assert TOY.resolve_output("x") == (TOY.states[0], None)
    for bad in ("D[-1]", "D[2]", "x[0]", "D[liver]"):
        with pytest.raises(UnknownNameError, match=rf"^unknown output '{re.escape(bad)}': model 'toy' has no output"):
            sol[bad]


def test_an_unknown_output_gets_one_error_with_the_close_match_everywhere():
    import matplotlib

    matplotlib.use("Agg")
    import seedsoil.plot

    messages = []

    def caught(fn):
        with pytest.raises(UnknownNameError) as e:
            fn()
        messages.append(str(e.value))

    sol = simulate(TOY, TIMES)
    caught(lambda: sol["totl"])
    caught(lambda: TOY.resolve_output("totl"))
    caught(lambda: sweep(TOY, TIMES, {"k": [0.5, 0.6]}, keep=("totl",)))
    caught(lambda: local_sensitivity(TOY, TIMES, "totl", wrt="k"))
    caught(lambda: morris(TOY, TIMES, "totl", vary="k", ranges={"k": (0.1, 1.0)}, trajectories=2))
    caught(lambda: FitProblem(TOY, _data(), [identity("x", "totl")], ["g"], ["k"]))
    caught(lambda: seedsoil.plot.trajectories(sol, TOY, "totl"))
    assert len(set(messages)) == 1, messages
    assert messages[0].startswith("unknown output 'totl': model 'toy' has no output 'totl' (did you mean 'total'?)")
    with pytest.raises(UnknownNameError, match=r"did you mean 'D\[lung\]'"):
        sol["D[lugn]"]


def test_entry_outputs_in_fits_sweeps_and_sensitivities():
    # fit one entry of an array output: data from the closed form D_lung(t) = 2 exp(-w_lung t)
    t = np.array([0.5, 1.0, 2.0])
    data = Dataset(["Dl"] * 3, t, 2.0 * np.exp(-0.3 * t), [0.01] * 3, ["g"] * 3)
    prob = FitProblem(TOY, data, [identity("Dl", "D[lung]")], ["g"], ["w[lung]"])
    assert prob.nll({"w[lung]": 0.3}) < prob.nll({"w[lung]": 0.2})
    assert prob.nll({"w[1]": 0.3}) == prob.nll({"w[lung]": 0.3})
    with pytest.raises(ValueError, match=r"output 'D' has shape \(2,\); observe a scalar output or one entry"):
        FitProblem(TOY, data, [identity("Dl", "D")], ["g"], ["w[lung]"])
    # sweep keep= an entry: kept under that name, without the organ axis
    w = np.array([0.1, 0.4])
    res = sweep(TOY, TIMES, {"w[lung]": w}, keep=("D[lung]", "D_obs"), **TIGHT)
    np.testing.assert_allclose(res["D[lung]"], 2.0 * np.exp(-np.outer(w, TIMES)), rtol=1e-8)
    ds = res.to_xarray()
    assert ds["D[lung]"].dims == ("member", "time") and ds["D_obs"].dims == ("member", "time", "organ")
    # local sensitivity of one entry: d/dw_lung 2 exp(-w_lung t) = -2 t exp(-w_lung t)
    s = local_sensitivity(TOY, TIMES, "D[lung]", wrt="w[lung]", **TIGHT)
    assert s.dims == ("time", "parameter")
    np.testing.assert_allclose(s.values[:, 0], -2.0 * TIMES * np.exp(-0.2 * TIMES), rtol=1e-6, atol=1e-12)
    ds = morris(TOY, TIMES, "D_obs[lung]", vary=("k", "w[lung]"), ranges={"k": (0.1, 1.0), "w[lung]": (0.1, 1.0)},
                trajectories=2, num_resamples=10, seed=0, **TIGHT)
    mu = {p: float(ds["mu_star"].sel(parameter=p)) for p in ("k", "w[lung]")}
    assert mu["w[lung]"] > 0.1 and mu["k"] < 1e-9 * mu["w[lung]"]  # k moves x, not D[lung] (up to solver rounding)
    with pytest.raises(ValueError, match=r"'D_obs' has shape \(2,\); name one entry"):
        morris(TOY, TIMES, "D_obs", vary="k", ranges={"k": (0.1, 1.0)}, trajectories=2)


def test_sigma_named_by_position_marks_a_free_noise_parameter():
    data = _data()
    extra = (Param("s", (0.1, 0.2), "mg", "test", shape=(2,), labels=ORGANS),)  # flat labels s[bone], s[lung]
    for sigma in ("s[0]", "s[1]", "s[lung]"):
        prob = FitProblem(TOY, data, [identity("x", sigma=sigma)], ["g"], ["k", sigma], extra=extra)
        assert prob._needs_sigma_free
    fixed = FitProblem(TOY, data, [identity("x", sigma="s[1]")], ["g"], ["k", "s[0]"], extra=extra)
    assert not fixed._needs_sigma_free
    with pytest.raises(ValueError, match="an estimated sigma needs method='bfgs'"):
        fit(FitProblem(TOY, data, [identity("x", sigma="s[1]")], ["g"], ["k", "s[lung]"], extra=extra))
    with pytest.raises(UnknownNameError, match=r"^unknown parameter 'sigma': model 'toy' has no parameter 'sigma'"):
        FitProblem(TOY, data, [identity("x", sigma="sigma")], ["g"], ["k"], extra=extra)


def test_dose_targets_resolve_once_per_distinct_target(monkeypatch):
    import seedsoil.solvers._simulate as sim

    calls = []
    real = sim.resolve_name

    def counting(specs, name, **kw):
        calls.append(name)
        return real(specs, name, **kw)

    monkeypatch.setattr(sim, "resolve_name", counting)
    reg = bolus("x", np.arange(1.0, 41.0) / 20.0, 0.1) + bolus("D[lung]", np.arange(1.0, 11.0) / 10.0, 0.1)
    sim._resolve_regimen(TOY, reg, jnp.asarray(TIMES))
    assert sorted(calls) == ["D[lung]", "x"]


def test_an_input_given_as_a_bolus_target_says_to_infuse_it():
    from seedsoil.models import lemaire2004

    with pytest.raises(ValueError, match=r"dose target 'I_P' is an input of model 'lemaire2004', not a state"):
        simulate(lemaire2004(), TIMES, regimen=bolus("I_P", 1.0, 1.0))


def test_replace_named_rejects_two_names_for_one_entry():
    for new in ({"w": [0.3, 0.3], "w[bone]": 0.9}, {"w[bone]": 0.9, "w": [0.3, 0.3]}, {"w[0]": 0.9, "w[bone]": 0.9}):
        first, second = list(new)
        with pytest.raises(ValueError, match=rf"parameters '{re.escape(first)}' and '{re.escape(second)}' both set "
                                             r"'w\[bone\]'"):
            TOY.params.replace_named(new)
    with pytest.raises(ValueError, match="both set"):
        simulate(TOY, TIMES, params={"w": [0.3, 0.3], "w[lung]": 0.9})
    assert np.asarray(TOY.params.replace_named({"w[bone]": 0.9, "w[lung]": 0.3}).values).tolist() == [0.5, 0.9, 0.3]


def test_fit_defaults_apply_unless_the_user_set_the_tolerances():
    opts = SolverOptions(max_steps=10**6)
    assert (opts.rtol, opts.atol) == (None, None)
    prob = FitProblem(TOY, _data(), [identity("x")], ["g"], ["k"], options=opts)
    assert (prob.options.rtol, prob.options.atol, prob.options.max_steps) == (1e-8, 1e-10, 10**6)
    set_by_user = FitProblem(TOY, _data(), [identity("x")], ["g"], ["k"], options=SolverOptions(rtol=1e-7))
    assert (set_by_user.options.rtol, set_by_user.options.atol) == (1e-7, 1e-10)
    for o in (resolve_options(TOY), resolve_options(TOY, opts), resolve_options(TOY, opts, rtol=DEFAULT)):
        assert (o.rtol, o.atol, o.solver) == (1e-6, 1e-9, "tsit5")  # simulate's defaults, concrete before any jit
    a = simulate(TOY, TIMES, options=opts)
    b = simulate(TOY, TIMES, rtol=1e-6, atol=1e-9, max_steps=10**6)
    np.testing.assert_array_equal(np.asarray(a.ys), np.asarray(b.ys))
    assert prob.core().sim.rtol == 1e-8 and prob.core().sim.adjoint == "forward"


def test_a_whole_free_array_takes_an_array_value():
    t = np.array([0.5, 1.0, 2.0])
    data = Dataset(["Dl"] * 3, t, 2.0 * np.exp(-0.3 * t), [0.01] * 3, ["g"] * 3)
    prob = FitProblem(TOY, data, [identity("Dl", "D[lung]")], ["g"], ["k", "w"])
    assert prob.free == ("k", "w[bone]", "w[lung]")
    np.testing.assert_array_equal(prob.to_u({"w": [0.2, 0.3]}), prob.to_u({"w[bone]": 0.2, "w[lung]": 0.3}))
    np.testing.assert_allclose(prob.to_u({"w": [0.2, 0.3]}), np.log([0.5, 0.2, 0.3]))
    assert prob.nll({"w": [0.2, 0.3]}) == prob.nll({"w[bone]": 0.2, "w[1]": 0.3})
    assert np.asarray(prob.params_at({"w": [0.2, 0.3]})[0].values).tolist() == [0.5, 0.2, 0.3]
    with pytest.raises(ValueError, match=r"'w' has shape \(2,\): give an array of that shape .*got shape \(3,\)"):
        prob.to_u({"w": [0.2, 0.3, 0.4]})
    with pytest.raises(ValueError, match=r"'w\[bone\]' is given twice"):
        prob.to_u({"w": [0.2, 0.3], "w[bone]": 0.2})
    partial = FitProblem(TOY, data, [identity("Dl", "D[lung]")], ["g"], ["w[lung]"])
    with pytest.raises(ValueError, match=r"\['w'\] are not free parameters"):
        partial.to_u({"w": [0.2, 0.3]})


def test_profile_of_a_whole_array_says_to_profile_one_entry():
    from seedsoil.solvers import FitResult, profile

    prob = FitProblem(TOY, _data(), [identity("x")], ["g"], ["k", "w"])
    result = FitResult.__new__(FitResult)
    result.problem = prob
    with pytest.raises(ValueError, match=r"'w' has entries \['w\[bone\]', 'w\[lung\]'\]: profile each one, "
                                         r"e.g. profile\(result, 'w\[bone\]'\)"):
        profile(result, "w")
    with pytest.raises(ValueError, match=r"'kk' is not a free parameter of this fit"):
        profile(result, "kk")


def test_sweep_says_what_values_it_needs():
    with pytest.raises(ValueError, match=r"a sweep needs an array of values, one per member.*got \{'k': 0\.5\}.*"
                                         r"give e\.g\. \{'k': \[v1, v2, \.\.\.\]\}"):
        sweep(TOY, TIMES, {"k": 0.5})
    with pytest.raises(ValueError, match=r"a sweep needs an \(N, 2\) array for 'w' .*got shape \(3,\)"):
        sweep(TOY, TIMES, {"w": np.ones(3)})
    # a value of the parameter's own shape is held for every member
    res = sweep(TOY, TIMES, {"k": [0.5, 1.0], "w": [0.3, 0.4]}, keep=("x",))
    assert res.values[:, 1:].tolist() == [[0.3, 0.4], [0.3, 0.4]] and res.values[:, 0].tolist() == [0.5, 1.0]
