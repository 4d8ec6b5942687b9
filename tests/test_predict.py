"""Forecast bands and cross-validation (seedsoil.solvers.forecast, cross_validate, compare_models).

Independent checks: synthetic data from a known model and noise. A 95 % prediction band
must hold about 95 % of fresh replicate observations drawn from the truth; the profile
band of a near-linear problem must agree with the Wald band; cross-validation must select
the growth law that generated the data.
"""

import equinox as eqx
import jax.numpy as jnp
import numpy as np
import pytest

from seedsoil.models import Model, Param, Params, State
from seedsoil.solvers import (
    Band,
    Condition,
    Dataset,
    FitProblem,
    compare_models,
    cross_validate,
    fit,
    forecast,
    log10,
    profile,
    restrict,
    simulate,
)


class Growth(Model):
    """dx/dt = f(x) under one of three growth laws (Benzekry et al. 2014, Table 1)."""

    law: str = eqx.field(static=True, default="gompertz")

    def rhs(self, t, y, p, u):
        x = y.x
        if self.law == "gompertz":
            return {"x": p.r * x * jnp.log(p.K / x)}
        if self.law == "logistic":
            return {"x": p.r * x * (1.0 - x / p.K)}
        return {"x": p.r * x}


def growth(law):
    specs = (Param("r", 0.15, "1/day", "test", bounds=(1e-3, 3.0)),
             Param("K", 100.0, "cells", "test", bounds=(1.0, 1e5)))
    return Growth(name=f"growth_{law}", states=(State("x", "cells"),), params=Params.from_specs(specs),
                  y0=jnp.array([1.0]), law=law)


TRUTH = growth("gompertz")
TIMES = np.arange(2.0, 31.0, 4.0)
SD = 0.05  # log10 units
Y0 = (1.0, 5.0, 25.0)
CONDITIONS = [Condition(f"arm{i}", y0={"x": x0}) for i, x0 in enumerate(Y0)]


def truth_log10(x0, times=TIMES):
    sol = simulate(TRUTH, np.concatenate([[0.0], times]), y0={"x": x0}, rtol=1e-11, atol=1e-12)
    return np.log10(np.asarray(sol["x"])[1:])


def synthetic(seed):
    rng = np.random.default_rng(seed)
    records = []
    for i, x0 in enumerate(Y0):
        y = truth_log10(x0) + SD * rng.standard_normal(len(TIMES))
        records += [dict(observable="BLI", time=t, average=v, stderr=SD, expt_id=f"arm{i}") for t, v in zip(TIMES, y)]
    return Dataset.from_records(records)


def problem(law, data):
    return FitProblem(growth(law), data, [log10("BLI", "x", sigma=SD)], CONDITIONS,
                      ["r", "K"] if law != "exponential" else ["r"])


@pytest.fixture(scope="module")
def gompertz_fit():
    return fit(problem("gompertz", synthetic(0)), n_starts=2)


def test_prediction_band_holds_95_percent_of_replicate_observations(gompertz_fit):
    rng = np.random.default_rng(123)
    inside, total = 0, 0
    for seed in (0, 1, 2):
        res = gompertz_fit if seed == 0 else fit(problem("gompertz", synthetic(seed)), n_starts=2)
        bands = forecast(res, TIMES, band="wald", interval="prediction", n_draws=400, seed=seed)
        for i, x0 in enumerate(Y0):
            b = bands[(f"arm{i}", "BLI")]
            assert isinstance(b, Band) and np.all(b.low < b.value) and np.all(b.value < b.high)
            reps = truth_log10(x0)[None, :] + SD * rng.standard_normal((2000, len(TIMES)))
            inside += int(np.sum((reps >= b.low) & (reps <= b.high)))
            total += reps.size
    coverage = inside / total
    assert 0.93 <= coverage <= 0.97, coverage


def test_confidence_band_is_narrower_and_profile_band_agrees_with_wald(gompertz_fit):
    wald = forecast(gompertz_fit, TIMES, band="wald", n_draws=4000)
    pred = forecast(gompertz_fit, TIMES, band="wald", interval="prediction", n_draws=4000)
    prof = forecast(gompertz_fit, TIMES, band="profile", n_draws=64)
    prof_pred = forecast(gompertz_fit, TIMES, band="profile", interval="prediction", n_draws=64)
    r_profile = profile(gompertz_fit, "r", n_points=9)
    with_r = forecast(gompertz_fit, TIMES, band="profile", n_draws=64, profiles=[r_profile])
    for key, w in wald.items():
        assert np.all(w.high - w.low < pred[key].high - pred[key].low)
        p = prof[key]
        np.testing.assert_array_equal(p.value, w.value)  # the same point forecast
        assert np.all(p.low <= p.value) and np.all(p.value <= p.high)
        # near-linear problem: the prediction-profile band and the Wald quantiles agree to ~10 %
        np.testing.assert_allclose(p.high - p.low, w.high - w.low, rtol=0.1)
        np.testing.assert_allclose(prof_pred[key].high - prof_pred[key].low, pred[key].high - pred[key].low,
                                   rtol=0.1)
        assert np.all(with_r[key].high >= p.high - 1e-12) and np.all(with_r[key].low <= p.low + 1e-12)


def test_forecast_of_an_unseen_condition_and_bad_arguments(gompertz_fit):
    new = Condition("arm_big", y0={"x": 60.0})
    out = forecast(gompertz_fit, [0.0, 10.0, 56.0], conditions=[new], band="wald")
    b = out[("arm_big", "BLI")]
    np.testing.assert_allclose(b.value, np.log10(simulate(gompertz_fit.problem.model.with_params(
        **gompertz_fit.values), [0.0, 10.0, 56.0], y0={"x": 60.0})["x"]), rtol=1e-6)
    assert set(gompertz_fit.predict([5.0]).keys()) == {("arm0", "BLI"), ("arm1", "BLI"), ("arm2", "BLI")}
    with pytest.raises(ValueError, match="band"):
        forecast(gompertz_fit, band="bootstrap")
    with pytest.raises(ValueError, match="times="):
        forecast(gompertz_fit, conditions=[new])
    with pytest.raises(ValueError, match="posterior="):
        forecast(gompertz_fit, band="posterior")
    with pytest.raises(ValueError, match="unknown observable 'BLX'"):
        forecast(gompertz_fit, observables=["BLX"])
    with pytest.raises(ValueError, match="arm9"):
        restrict(gompertz_fit.problem, ["arm9"])


def test_cross_validation_selects_the_true_growth_law():
    data = synthetic(0)
    full = fit(problem("gompertz", data), n_starts=2)  # a fit given is used as is, not refitted
    comparison = compare_models({"gompertz": full, **{law: problem(law, data) for law in ("logistic", "exponential")}},
                                folds=[["arm2"]], n_starts=2)
    assert comparison.fits["gompertz"] is full
    assert comparison.selected == "gompertz", str(comparison)
    rows = {r["model"]: r for r in comparison.table()}
    assert rows["gompertz"]["cv_rmse"] < 2.0 < rows["exponential"]["cv_rmse"]
    cv = comparison.cv["gompertz"]
    assert [r["group"] for r in cv.rows] == ["arm2"] and cv.rows[0]["n"] == len(TIMES)
    with pytest.raises(ValueError, match="arm7"):
        cross_validate(problem("gompertz", data), [["arm7"]])


def test_posterior_predictive_band_agrees_with_wald_on_a_near_linear_problem(gompertz_fit):
    pytest.importorskip("numpyro")
    from seedsoil.solvers import sample_posterior

    post = sample_posterior(gompertz_fit, num_warmup=150, num_samples=300, seed=0, max_tree_depth=4)
    bayes = forecast(gompertz_fit, TIMES, band="posterior", posterior=post, interval="prediction", n_draws=300)
    wald = forecast(gompertz_fit, TIMES, band="wald", interval="prediction", n_draws=4000)
    for key, w in wald.items():
        b = bayes[key]
        np.testing.assert_array_equal(b.value, w.value)
        # flat priors and a near-Gaussian likelihood: the posterior predictive interval is the
        # Wald prediction interval, up to the Monte Carlo error of 300 draws (~10 %)
        np.testing.assert_allclose(b.high - b.low, w.high - w.low, rtol=0.2)


def test_a_second_profile_band_compiles_nothing_new(gompertz_fit):
    from seedsoil.solvers._predict import _batched_nll

    forecast(gompertz_fit, TIMES, band="profile", n_draws=16)
    fn = _batched_nll(gompertz_fit.problem)
    size = fn._cache_size()
    forecast(gompertz_fit, TIMES, band="profile", n_draws=16, seed=1)
    assert _batched_nll(gompertz_fit.problem) is fn and fn._cache_size() == size
