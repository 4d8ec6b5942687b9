"""Data loading and parameter estimation (seedsoil.solvers.data, seedsoil.solvers.fit).

The fits use a tiny logistic-growth model with a drug input, defined here, and data
simulated from known parameters with seeded noise, so the truth is known."""

import csv
import math
from pathlib import Path

import jax.numpy as jnp
import numpy as np
import pytest

from seedsoil.models.base import Input, Model, Param, Params, State
from seedsoil.solvers import infusion, simulate
from seedsoil.solvers._fit import (
    CHI2_95,
    Condition,
    FitProblem,
    Observation,
    fit,
    identity,
    log10,
    profile,
    relative,
    sample_posterior,
)
from seedsoil.solvers.data import Dataset, load_dataset

DATA = Path(__file__).parents[1] / "data"
# the tidy mouse data (data/clinical_targets.csv holds summary figures, a different table)
CSV_FILES = [DATA / "canon2008_opgfc_bli.csv", DATA / "johnson2011_bone_za.csv"]


# --------------------------------------------------------------------------------------
# Data
# --------------------------------------------------------------------------------------
def _read(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


@pytest.mark.parametrize("path", CSV_FILES, ids=[p.name for p in CSV_FILES])
def test_loads_the_published_data_files(path):
    rows = _read(path)
    ds = load_dataset(path)
    assert len(ds) == len(rows) > 0
    assert set(ds.groups) == {r["expt_id"] for r in rows}
    assert set(ds.observables) == {r["observable"] for r in rows}
    assert ds.labels == {r["expt_id"]: r["alt_expt_id"] for r in rows}
    pairs = {(r["expt_id"], r["observable"]) for r in rows}
    series = list(ds)
    assert {(s.group, s.observable) for s in series} == pairs
    for s in series:
        mine = sorted((float(r["time"]), float(r["average"]), float(r["stderr"])) for r in rows
                      if r["expt_id"] == s.group and r["observable"] == s.observable)
        np.testing.assert_array_equal(s.times, [m[0] for m in mine])
        np.testing.assert_array_equal(s.values, [m[1] for m in mine])
        np.testing.assert_array_equal(s.stderr, [m[2] for m in mine])
        assert s.units == next(r["amount_units"] for r in rows if r["observable"] == s.observable)
    flat = ds.to_arrays()
    assert flat.time.shape == flat.value.shape == flat.group.shape == (len(rows),)
    assert [flat.groups[i] for i in np.asarray(flat.group)] == [r["expt_id"] for r in rows]
    assert [flat.observables[i] for i in np.asarray(flat.observable)] == [r["observable"] for r in rows]
    pad = ds.padded()
    assert pad.time.shape[:2] == (len(ds.groups), len(ds.observables))
    assert int(pad.mask.sum()) == len(rows)
    assert float(jnp.sum(jnp.where(pad.mask, pad.value, 0.0))) == pytest.approx(sum(float(r["average"]) for r in rows))
    g = ds.groups[0]
    assert len(ds.select(groups=g)) == sum(r["expt_id"] == g for r in rows)
    with pytest.raises(ValueError, match="unknown group"):
        ds.select(groups="no such group")


def test_johnson_counts():
    ds = load_dataset(DATA / "johnson2011_bone_za.csv")
    assert ds.groups == ("B", "C", "D") and ds.observables == ("Bone_tot", "Tumor_tot")
    assert len(ds.series("B", "Tumor_tot")) == 3 and len(ds.series("C", "Bone_tot")) == 6


HEADER = "observable,time,time_units,average,stderr,amount_units,expt_id,alt_expt_id\n"


@pytest.mark.parametrize("row, message", [
    ("x,-1,day,1.0,0.1,u,A,a", "line 3: time -1.0 is negative"),
    ("x,nan,day,1.0,0.1,u,A,a", "line 3: time nan is not finite"),
    ("x,,day,1.0,0.1,u,A,a", "line 3: time '' is not a number"),
    ("x,1,day,1.0,0,u,A,a", r"line 3: stderr 0.0 must be finite and > 0"),
    ("x,1,day,1.0,-0.2,u,A,a", r"line 3: stderr -0.2 must be finite and > 0"),
    ("x,1,day,1.0,,u,A,a", "line 3: stderr '' is not a number"),
    ("x,1,day,abc,0.1,u,A,a", "line 3: average 'abc' is not a number"),
    ("x,1,fortnight,1.0,0.1,u,A,a", "line 3: unknown time unit 'fortnight'"),
    ("x,1,day,1.0,0.1,other unit,A,a", "line 3: 'x' in group 'A' has unit 'other unit'"),
])
def test_bad_rows_are_named(tmp_path, row, message):
    path = tmp_path / "bad.csv"
    path.write_text(HEADER + "x,0,day,1.0,0.1,u,A,a\n" + row + "\n")
    with pytest.raises(ValueError, match=message):
        load_dataset(path)


def test_missing_columns_and_time_units(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("observable,time,average,expt_id\nx,1,2.0,A\n")
    with pytest.raises(ValueError, match=r"missing column\(s\) \['stderr'\]"):
        load_dataset(path)
    path.write_text(HEADER + "x,48,hours,1.0,0.1,u,A,a\nx,-1,day,1.0,0.1,u,A,a\nx,2,day,1.0,-1,u,A,a\n")
    with pytest.raises(ValueError, match="2 bad row") as err:
        load_dataset(path)
    assert "line 3" in str(err.value) and "line 4" in str(err.value)
    ok = Dataset.from_records([dict(observable="x", time=48, time_units="hours", average=1.0, stderr=0.1, expt_id="A")])
    assert ok.time[0] == 2.0 and ok.labels == {"A": "A"}


# --------------------------------------------------------------------------------------
# A tiny model and synthetic data
# --------------------------------------------------------------------------------------
class Logistic(Model):
    """dx/dt = r x (1 - x/K) - kd drug x."""

    def rhs(self, t, y, p, u):
        return {"x": p.r * y.x * (1.0 - y.x / p.K) - p.kd * u.drug * y.x}

    def observables(self, t, y, p, u):
        return {"cells": 1e3 * y.x}


def logistic() -> Logistic:
    specs = (
        Param("r", 0.3, "1/day", "test", bounds=(1e-2, 3.0)),
        Param("K", 100.0, "cells", "test", bounds=(1.0, 1e4)),
        Param("kd", 0.2, "1/day", "test", bounds=(0.0, 3.0)),
        Param("free_kd", 0.2, "1/day", "test"),  # default bounds (0, inf)
    )
    from seedsoil.models.base import Observable

    return Logistic(name="logistic", states=(State("x", "cells"),), params=Params.from_specs(specs),
                    y0=jnp.array([1.0]), inputs=(Input("drug", "1"),),
                    observable_specs=(Observable("cells", "1", "x times 1000"),))


MODEL = logistic()
TRUTH = dict(r=0.3, K=100.0)
TIMES = np.arange(2.0, 31.0, 2.0)
SD = 0.03


def synthetic(groups, seed=1, observe=lambda x: np.log10(1e3 * x), sd=SD, observable="BLI", times=TIMES):
    rng = np.random.default_rng(seed)
    records = []
    for group, regimen, overrides, y0 in groups:
        sol = simulate(MODEL, np.concatenate([[0.0], times]), params=overrides, y0=y0, regimen=regimen)
        x = np.asarray(sol["x"])[1:]
        y = observe(x) + sd * rng.standard_normal(len(x))
        records += [dict(observable=observable, time=t, average=v, stderr=sd, expt_id=group) for t, v in zip(times, y)]
    return Dataset.from_records(records)


@pytest.fixture(scope="module")
def growth():
    data = synthetic([("ctrl", None, {}, None)])
    return FitProblem(MODEL, data, [log10("BLI", "x", scale=1e3)], ["ctrl"], ["r", "K"])


@pytest.fixture(scope="module")
def lm_fit(growth):
    return fit(growth, method="lm", start={"r": 0.6, "K": 40.0})


def _check_recovered(res, truth, rel=0.1):
    for name, value in truth.items():
        i = res.names.index(name)
        assert res.ci_low[i] < value < res.ci_high[i], (name, res.ci_low[i], value, res.ci_high[i])
        assert res.estimate[i] == pytest.approx(value, rel=rel)


# --------------------------------------------------------------------------------------
# Fitting
# --------------------------------------------------------------------------------------
def test_recovers_parameters_with_levenberg_marquardt_and_bfgs(growth, lm_fit):
    res = lm_fit
    assert res.converged and res.status == "successful", res.status
    _check_recovered(res, TRUTH)
    bfgs = fit(growth, method="bfgs", start={"r": 0.15, "K": 300.0})
    assert bfgs.converged
    _check_recovered(bfgs, TRUTH)
    np.testing.assert_allclose(bfgs.estimate, res.estimate, rtol=1e-4)
    assert bfgs.nll == pytest.approx(res.nll, abs=1e-6)
    # the likelihood is the Gaussian one with the reported standard errors
    x = np.asarray(simulate(MODEL, np.concatenate([[0.0], TIMES]), params=res.values)["x"])[1:]
    y = np.asarray([row[3] for row in growth.rows])
    r = (y - np.log10(1e3 * x)) / SD
    nll = 0.5 * np.sum(r**2) + len(y) * (math.log(SD) + 0.5 * math.log(2 * math.pi))
    assert res.nll == pytest.approx(nll, rel=1e-6)
    np.testing.assert_allclose(res.residuals(), r, atol=1e-5)
    # Wald intervals are symmetric on log scale
    np.testing.assert_allclose(np.log(res.ci_high) - np.log(res.estimate), np.log(res.estimate) - np.log(res.ci_low))
    table = res.table()
    assert [t["name"] for t in table] == ["r", "K"] and table[0]["unit"] == "1/day"
    assert "r" in str(res) and res.params["r"] == pytest.approx(res.estimate[0])
    pred = res.predict(n_points=16)
    t, v = pred[("ctrl", "BLI")]
    assert t[0] == 0.0 and t[-1] == 30.0 and v.shape == (16,)
    np.testing.assert_allclose(v[1:], np.log10(1e3 * x), rtol=1e-6)


def test_multistart_runs_all_starts_in_one_vmap_and_keeps_the_best(growth):
    res = fit(growth, method="bfgs", start={"r": 2.5, "K": 2.0}, n_starts=6, seed=3)
    starts = res.starts
    assert starts.start.shape == starts.estimate.shape == (6, 2) and starts.nll.shape == (6,)
    np.testing.assert_allclose(starts.start[0], [2.5, 2.0])
    assert res.best == int(np.nanargmin(np.where(starts.success, starts.nll, np.inf)))
    assert res.nll == pytest.approx(np.nanmin(starts.nll[starts.success]))
    assert starts.success.sum() >= 2
    _check_recovered(res, TRUTH)
    # the starts are a Latin hypercube on log scale: one per stratum of each parameter
    lo, hi = growth.u_range()
    frac = (np.log(starts.start[1:]) - lo) / (hi - lo)
    for j in range(2):
        assert sorted(np.floor(frac[:, j] * 5).astype(int)) == [0, 1, 2, 3, 4]


def test_profile_likelihood_matches_wald_on_a_near_linear_problem(lm_fit):
    res = lm_fit
    for name in ("r", "K"):
        pr = profile(res, name, n_points=21)
        i = res.names.index(name)
        assert pr.threshold == pytest.approx(3.841, abs=1e-3) and CHI2_95 == pr.threshold
        assert pr.converged.all()
        assert int(np.argmin(pr.delta)) == 10 and pr.values[10] == pytest.approx(res.estimate[i])
        assert pr.delta[10] == pytest.approx(0.0, abs=1e-6)
        assert pr.delta[0] > 3.84 and pr.delta[-1] > 3.84  # identifiable: crosses on both sides
        lo, hi = pr.ci
        assert lo < res.estimate[i] < hi
        # near-linear: profile and Wald intervals agree to within 10 % of the Wald half-width
        half = np.log(res.ci_high[i]) - np.log(res.estimate[i])
        assert abs(math.log(lo) - math.log(res.ci_low[i])) < 0.1 * half
        assert abs(math.log(hi) - math.log(res.ci_high[i])) < 0.1 * half
        other = "K" if name == "r" else "r"
        assert pr.others[other].shape == (21,)


def test_each_condition_has_its_own_regimen_and_initial_state():
    """Control (no regimen) and treated (drug from day 10, own initial state) groups.
    The data are generated by the problem's own compiled model at the truth (the
    likelihood itself is checked against simulate() elsewhere), plus seeded noise."""
    reg = infusion("drug", 1.0, 10.0, np.inf)
    conds = [("ctrl", None, {}), Condition("drug", reg, y0={"x": 2.0})]
    obs = [log10("BLI", "x", scale=1e3)]
    truth = dict(TRUTH, kd=0.2)

    def dataset(values):
        return Dataset.from_records([dict(observable="BLI", time=t, average=v, stderr=SD, expt_id=g)
                                     for (g, t), v in zip(keys, values)])

    keys = [(g, t) for g in ("ctrl", "drug") for t in TIMES]
    template = FitProblem(MODEL, dataset(np.ones(len(keys))), obs, conds, ["r", "K", "kd"])
    exact, _ = template.objective().moments(jnp.asarray(template.to_u(truth)))
    growth_e = math.exp(0.3 * 2.0)  # no drug before day 10: logistic closed form from x(0) = 2
    x_drug_day2 = 100.0 * 2.0 * growth_e / (100.0 + 2.0 * (growth_e - 1.0))
    assert float(exact[len(TIMES)]) == pytest.approx(math.log10(1e3 * x_drug_day2), rel=1e-6)
    noisy = np.asarray(exact) + SD * np.random.default_rng(2).standard_normal(len(keys))
    prob = FitProblem(MODEL, dataset(noisy), obs, conds, ["r", "K", "kd"])
    res = fit(prob, method="bfgs", start={"r": 0.5, "K": 60.0, "kd": 0.5})
    assert res.converged, res.status
    _check_recovered(res, truth)


def test_condition_overrides_take_precedence(growth):
    """A free parameter overridden in a condition is held there (same compiled program)."""
    held = FitProblem(MODEL, growth.data, [log10("BLI", "x", scale=1e3)], [("ctrl", None, {"K": 50.0})], ["r", "K"])
    a = held.nll({"r": 0.3, "K": 10.0})
    assert a == pytest.approx(held.nll({"r": 0.3, "K": 500.0}))
    assert a == pytest.approx(growth.nll({"r": 0.3, "K": 50.0}))


def test_observation_transforms_noise_models_and_estimated_parameters():
    """Relative (% of day 0), identity with an estimated scale, and log-normal noise with
    an estimated sigma, in one problem; the NLL is checked by hand, then fitted."""
    x = np.asarray(simulate(MODEL, np.concatenate([[0.0], TIMES]), rtol=1e-10, atol=1e-12)["x"])
    rng = np.random.default_rng(5)
    rel = 100 * x[1:] / x[0] * np.exp(0.05 * rng.standard_normal(len(TIMES)))
    cells = 2.5e3 * x[1:] * (1 + 0.02 * rng.standard_normal(len(TIMES)))
    recs = [dict(observable="rel", time=t, average=v, stderr=0.05 * v, expt_id="A") for t, v in zip(TIMES, rel)]
    recs += [dict(observable="counts", time=t, average=v, stderr=0.02 * v, expt_id="A") for t, v in zip(TIMES, cells)]
    data = Dataset.from_records(recs)
    extra = (Param("gain", 1.0, "1", "test", bounds=(0.1, 10.0)), Param("sigma", 0.1, "1", "test", bounds=(1e-3, 1.0)))
    obs = [relative("rel", "x", noise="lognormal", sigma="sigma"), identity("counts", "cells", scale="gain")]
    prob = FitProblem(MODEL, data, obs, ["A"], ["r", "gain", "sigma"], extra=extra)
    # by hand, at r = 0.3, gain = 2, sigma = 0.07
    s = 0.07
    nll_rel = np.sum(0.5 * ((np.log(rel) - np.log(100 * x[1:] / x[0])) / s) ** 2 + math.log(s)
                     + 0.5 * math.log(2 * math.pi) + np.log(rel))
    nll_cells = np.sum(0.5 * ((cells - 2.0 * 1e3 * x[1:]) / (0.02 * cells)) ** 2 + np.log(0.02 * cells)
                       + 0.5 * math.log(2 * math.pi))
    assert prob.nll({"r": 0.3, "gain": 2.0, "sigma": s}) == pytest.approx(nll_rel + nll_cells, rel=1e-6)
    with pytest.raises(ValueError, match="estimated sigma needs method='bfgs'"):
        fit(prob, method="lm")
    res = fit(prob, method="bfgs", start={"r": 0.4, "gain": 2.0, "sigma": 0.1})
    assert res.converged, res.status
    _check_recovered(res, {"r": 0.3, "gain": 2.5, "sigma": 0.05}, rel=0.3)


def test_errors_for_bad_problems(growth, lm_fit):
    data = growth.data
    obs = [log10("BLI", "x", scale=1e3)]
    with pytest.raises(ValueError, match="unknown parameter 'rr'"):
        FitProblem(MODEL, data, obs, ["ctrl"], ["rr"])
    with pytest.raises(ValueError, match="no output 'y'"):
        FitProblem(MODEL, data, [log10("BLI", "y")], ["ctrl"], ["r"])
    with pytest.raises(ValueError, match="no data"):
        FitProblem(MODEL, data, obs, ["ctrl", "other"], ["r"])
    with pytest.raises(ValueError, match="bounds for 'r' must satisfy"):
        FitProblem(MODEL, data, obs, ["ctrl"], ["r"], bounds={"r": (1e-3, 5.0)})
    with pytest.raises(ValueError, match=r"unknown parameter 'sigma': model '\w+' has no parameter 'sigma'"):
        FitProblem(MODEL, data, [log10("BLI", "x", sigma="sigma")], ["ctrl"], ["r"])
    with pytest.raises(ValueError, match="unknown transform"):
        Observation("BLI", "x", transform="sqrt")
    # infinite declared bounds: a single start works on log scale, multistart needs a range
    prob = FitProblem(MODEL, data, obs, ["ctrl"], ["r", "free_kd"])
    with pytest.raises(ValueError, match=r"free_kd.*no finite range.*pass bounds="):
        fit(prob, n_starts=3)
    with pytest.raises(ValueError, match="not a free parameter"):
        profile(lm_fit, "kd")


def test_posterior_sampling_with_numpyro(lm_fit):
    pytest.importorskip("numpyro")
    post = sample_posterior(lm_fit, num_warmup=100, num_samples=150, seed=0, max_tree_depth=4)
    assert post.u.shape == (150, 2) and post.divergences == 0
    for name, value in TRUTH.items():
        i = post.names.index(name)
        assert post.ci_low[i] < value < post.ci_high[i]
        # flat priors, near-Gaussian likelihood: posterior mean near the MLE, sd near the Wald se
        assert post.median[i] == pytest.approx(lm_fit.estimate[i], rel=0.03)
        assert np.std(post.u[:, i]) == pytest.approx(lm_fit.se[i], rel=0.35)
