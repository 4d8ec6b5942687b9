"""Virtual populations: sampling declared variability, plausible/virtual selection, event probabilities.

Independent references: the declared distributions themselves (a log-normal's median and
sd of log, a logit-normal's, a correlation) and scipy's truncated normal
(:data:`scipy.stats.truncnorm`) for the sample moments, within Monte-Carlo error; Monte-Carlo
sampling of Poisson counts (numpy's generator, not scipy's formulas) for ``prob_none`` and
``poisson_fraction``; the exponential and Weibull survival functions ``exp(-H)`` written out
here, and lifelines' Kaplan-Meier estimate, for event times drawn from cumulative hazards.
Every Monte-Carlo comparison allows 4 standard errors (computed here for each quantity).
"""

import math

import jax.numpy as jnp
import numpy as np
import pytest
from scipy import special, stats

from seedsoil.models import LogitNormal, LogNormal, Normal, Population
from seedsoil.models.base import Model, Param, Params, State, UnknownNameError
from seedsoil.solvers import (
    EventTimes,
    event_free,
    poisson_fraction,
    prob_none,
    sample_event_times,
    select_by_ranges,
    select_virtual_population,
    sweep,
)

N = 20000
N_SOBOL = 2**14  # a power of 2 keeps the Sobol' points balanced (and scipy quiet)


class Toy(Model):
    """x' = -r x: the parameters are what matters here, not the dynamics."""

    def rhs(self, t, y, p, u):
        return {"x": -p.r * y.x}


TOY = Toy(
    name="toy",
    states=(State("x", "cells", "a decaying amount"),),
    params=Params.from_specs((
        Param("r", 0.5, "1/day", "test"),  # bounds [0, inf)
        Param("f", 0.3, "1", "test", bounds=(0.0, 1.0)),
        Param("g", 1.0, "1", "test", bounds=(-math.inf, math.inf)),
        Param("k", 1.0, "1/day", "test", bounds=(0.5, 1.5)),
        Param("h", -0.5, "1", "test", bounds=(-math.inf, math.inf)),
        Param("w", (0.1, 0.2), "1/day", "test", shape=(2,), labels=("bone", "lung")),
    )),
    y0=jnp.array([1.0]),
)


def _n(method):
    return N if method == "random" else N_SOBOL


# --------------------------------------------------------------------------------------
# Sampling a population
# --------------------------------------------------------------------------------------
@pytest.mark.parametrize("method", ["random", "sobol"])
def test_sample_moments_and_correlation_match_the_declaration(method):
    cv, sd_logit, sd, rho = 0.3, 0.5, 0.2, 0.6
    pop = Population({"r": LogNormal(cv=cv), "f": LogitNormal(sd_logit), "g": Normal(sd, mean=2.0),
                      "w[bone]": LogNormal(sd_log=0.4, median=0.15)},
                     correlation={("r", "g"): rho, ("f", "w[bone]"): -0.3})
    n = _n(method)
    s = pop.sample(TOY, n, seed=3, method=method)
    assert list(s) == ["r", "f", "g", "w[bone]"] and all(v.shape == (n,) and v.dtype == np.float64
                                                         for v in s.values())
    sd_log = math.sqrt(math.log1p(cv**2))
    se_median = 1.2533 / math.sqrt(n)  # per unit sd: the sample median's standard error
    se_sd = 1 / math.sqrt(2 * n)  # per unit sd
    for latent, center, scale in ((np.log(s["r"]), math.log(0.5), sd_log),
                                  (special.logit(s["f"]), special.logit(0.3), sd_logit),
                                  (s["g"], 2.0, sd),
                                  (np.log(s["w[bone]"]), math.log(0.15), 0.4)):
        assert abs(np.median(latent) - center) < 4 * se_median * scale
        assert abs(np.std(latent, ddof=1) / scale - 1) < 4 * se_sd
    # the declared cv is that of the values themselves (sd / mean of a log-normal)
    x = s["r"]
    assert abs(np.std(x, ddof=1) / np.mean(x) - cv) < 0.03 * cv
    # the copula: correlations of the latent normals; se of a correlation ~ (1 - rho^2) / sqrt(n)
    r_lg = np.corrcoef(np.log(s["r"]), s["g"])[0, 1]
    r_fw = np.corrcoef(special.logit(s["f"]), np.log(s["w[bone]"]))[0, 1]
    assert abs(r_lg - rho) < 4 * (1 - rho**2) / math.sqrt(n)
    assert abs(r_fw + 0.3) < 4 * (1 - 0.09) / math.sqrt(n)
    assert abs(np.corrcoef(np.log(s["r"]), special.logit(s["f"]))[0, 1]) < 4 / math.sqrt(n)


@pytest.mark.parametrize("method", ["random", "sobol"])
def test_truncation_respects_bounds_and_follows_the_truncated_normal(method):
    # k in [0.5, 1.5]: a normal of sd 0.5 around 1.2 is cut on both sides; a log-normal of
    # sd_log 1 around 1 too (log bounds -0.69, 0.41); f in (0, 1) with a wide normal.
    pop = Population({"k": Normal(0.5, mean=1.2), "r": LogNormal(sd_log=1.0, median=0.5),
                      "f": Normal(0.4)})
    n = _n(method)
    s = pop.sample(TOY, n, seed=1, method=method)
    assert s["k"].min() >= 0.5 and s["k"].max() <= 1.5
    assert s["f"].min() >= 0.0 and s["f"].max() <= 1.0 and s["r"].min() > 0
    ref = stats.truncnorm((0.5 - 1.2) / 0.5, (1.5 - 1.2) / 0.5, loc=1.2, scale=0.5)
    assert abs(np.mean(s["k"]) - ref.mean()) < 4 * ref.std() / math.sqrt(n)
    for q in (0.1, 0.5, 0.9):  # empirical CDF at the reference quantiles: binomial error
        assert abs(np.mean(s["k"] <= ref.ppf(q)) - q) < 4 * math.sqrt(q * (1 - q) / n)
    ref_f = stats.truncnorm((0 - 0.3) / 0.4, (1 - 0.3) / 0.4, loc=0.3, scale=0.4)
    assert abs(np.mean(s["f"]) - ref_f.mean()) < 4 * ref_f.std() / math.sqrt(n)
    # and the pieces of the sample go straight into a sweep, every member inside the bounds
    result = sweep(TOY, [0.0, 1.0], {k: v[:4] for k, v in s.items()})
    assert result.ok.all()
    assert np.allclose(result["x"][:, 1], np.exp(-s["r"][:4]), rtol=1e-5)


def test_extreme_tails_stay_inside_bounds():
    # a latent normal far wider than the bounds: rounding of exp(log(hi)) must not leave them
    s = Population({"k": LogNormal(sd_log=50.0), "f": LogitNormal(30.0)}).sample(TOY, 5000, seed=0)
    assert s["k"].min() >= 0.5 and s["k"].max() <= 1.5
    assert s["f"].min() >= 0.0 and s["f"].max() <= 1.0 and np.all(np.isfinite(s["f"]))


@pytest.mark.parametrize("method", ["random", "sobol"])
def test_same_seed_same_sample(method):
    pop = Population({"r": LogNormal(cv=0.5), "g": Normal(1.0)}, correlation=np.array([[1, 0.2], [0.2, 1]]))
    a = pop.sample(TOY, 256, seed=7, method=method)
    b = pop.sample(TOY, 256, seed=7, method=method)
    c = pop.sample(TOY, 256, seed=8, method=method)
    assert all(np.array_equal(a[k], b[k]) for k in a)
    assert not np.array_equal(a["r"], c["r"])
    # a matrix and a mapping declare the same population
    same = Population({"r": LogNormal(cv=0.5), "g": Normal(1.0)}, correlation={("g", "r"): 0.2})
    assert all(np.array_equal(a[k], same.sample(TOY, 256, seed=7, method=method)[k]) for k in a)


def test_sobol_points_are_more_even_than_random_ones():
    # the mean of a sample of 2^12 scrambled Sobol' points errs far less than a random one's
    pop = Population({"g": Normal(1.0, mean=0.0)})
    err_sobol = abs(np.mean(pop.sample(TOY, 2**12, seed=2, method="sobol")["g"]))
    assert err_sobol < 0.1 / math.sqrt(2**12)


@pytest.mark.parametrize("make, words", [
    (lambda: LogNormal(), ["exactly one of cv= or sd_log="]),
    (lambda: LogNormal(cv=0.2, sd_log=0.2), ["exactly one", "cv=0.2"]),
    (lambda: LogNormal(cv=-0.1), ["cv", "-0.1"]),
    (lambda: LogNormal(sd_log=float("nan")), ["sd_log", "nan"]),
    (lambda: LogNormal(cv=0.2, median=0.0), ["median", "0.0"]),
    (lambda: Normal(0.0), ["sd", "0.0"]),
    (lambda: Normal(1.0, mean="a"), ["mean", "'a'"]),
    (lambda: LogitNormal(0.5, median=1.5), ["median", "(0, 1)", "1.5"]),
    (lambda: LogitNormal(True), ["sd_logit", "True"]),
    (lambda: Population({}), ["non-empty"]),
    (lambda: Population({"r": 0.3}), ["variability['r']", "0.3"]),
    (lambda: Population({"r": LogNormal(cv=0.1), "g": Normal(1.0)}, correlation=[[1, 0.2], [0.3, 1]]),
     ["not symmetric", "'r'", "'g'", "0.2", "0.3"]),
    (lambda: Population({"r": LogNormal(cv=0.1), "g": Normal(1.0)}, correlation=[[1, 0.2], [0.2, 2]]),
     ["unit diagonal", "'g'", "2"]),
    (lambda: Population({"r": LogNormal(cv=0.1), "g": Normal(1.0)}, correlation=np.eye(3)),
     ["(2, 2)", "['r', 'g']", "(3, 3)"]),
    (lambda: Population({"r": LogNormal(cv=0.1), "g": Normal(1.0), "f": LogitNormal(1.0)},
                        correlation={("r", "g"): 0.9, ("g", "f"): 0.9, ("r", "f"): -0.9}),
     ["not positive definite", "smallest eigenvalue"]),
    (lambda: Population({"r": LogNormal(cv=0.1), "g": Normal(1.0)}, correlation={("r", "x"): 0.5}),
     ["'x'", "does not vary"]),
    (lambda: Population({"r": LogNormal(cv=0.1), "g": Normal(1.0)}, correlation={("r", "g"): 1.2}),
     ["(-1, 1)", "1.2"]),
    (lambda: Population({"r": LogNormal(cv=0.1), "g": Normal(1.0)}, correlation={("r", "g"): 0.2, ("g", "r"): 0.3}),
     ["give each pair once"]),
])
def test_bad_declarations_raise_naming_the_bad_value(make, words):
    with pytest.raises(ValueError) as e:
        make()
    for w in words:
        assert w in str(e.value), (w, str(e.value))


@pytest.mark.parametrize("pop, kwargs, error, words", [
    (Population({"rr": LogNormal(cv=0.1)}), {}, UnknownNameError, ["'rr'", "did you mean 'r'"]),
    (Population({"w[spleen]": LogNormal(cv=0.1)}), {}, UnknownNameError, ["w[spleen]"]),
    (Population({"w": LogNormal(cv=0.1)}), {}, ValueError, ["'w'", "shape (2,)", "'w[bone]'"]),
    (Population({"w[0]": LogNormal(cv=0.1), "w[bone]": LogNormal(cv=0.2)}), {}, ValueError,
     ["'w[0]'", "'w[bone]'", "the same parameter"]),
    (Population({"h": LogNormal(cv=0.1)}), {}, ValueError, ["'h'", "-0.5", "median="]),
    (Population({"k": LogNormal(cv=0.1, median=3.0)}), {}, ValueError, ["'k'", "3.0", "bounds"]),
    (Population({"f": LogitNormal(0.1)}), {"n": 0}, ValueError, ["n must be", "0"]),
    (Population({"f": LogitNormal(0.1)}), {"method": "halton"}, ValueError, ["'halton'"]),
])
def test_bad_sampling_requests_raise_naming_the_bad_value(pop, kwargs, error, words):
    with pytest.raises(error) as e:
        pop.sample(TOY, **{"n": 10, **kwargs})
    for w in words:
        assert w in str(e.value), (w, str(e.value))


# --------------------------------------------------------------------------------------
# Plausible and virtual populations
# --------------------------------------------------------------------------------------
def _plausible(n=6000, seed=11):
    """A plausible population unlike the target: a uniform on [0, 10] and a wide log-normal."""
    rng = np.random.default_rng(seed)
    return {"a": rng.uniform(0.0, 10.0, n), "b": np.exp(rng.normal(math.log(4.0), 0.8, n))}


def test_selection_reproduces_the_target_mean_and_sd():
    plausible = _plausible()
    target = {"a": (4.0, 1.0), "b": (3.0, 1.0)}  # b: log-normal with arithmetic mean 3 and sd 1
    sel = select_virtual_population(plausible, target, log=["b"], seed=5)
    m = len(sel.indices)
    assert 300 < m < 3000 and sel.acceptance == pytest.approx(m / 6000)
    assert abs(m - sel.expected) < 4 * math.sqrt(sel.expected)  # a sum of independent Bernoulli draws
    assert np.nanmax(sel.probability) == 1.0
    chosen = {k: v[sel.indices] for k, v in plausible.items()}
    # tolerance: 4 standard errors of the mean (sd / sqrt(m)) plus 3% for the kernel estimate's bias;
    # sd within 10% (its standard error is sd / sqrt(2m), ~2%, plus the same bias)
    for name, (mean, sd) in target.items():
        assert abs(np.mean(chosen[name]) - mean) < 4 * sd / math.sqrt(m) + 0.03 * mean
        assert abs(np.std(chosen[name], ddof=1) / sd - 1) < 0.10
    rows = {(r["output"], r["statistic"]): r for r in sel.rows()}
    assert rows[("b", "sd")]["target"] == 1.0
    assert rows[("a", "mean")]["achieved"] == pytest.approx(np.mean(chosen["a"]))
    assert rows[("a", "mean")]["relative"] == pytest.approx(np.mean(chosen["a"]) / 4.0 - 1)
    text = sel.report()
    assert f"selected {m} of 6000" in text and "mean" in text and "sd" in text
    # the plausible population itself is far from the target
    assert abs(np.mean(plausible["a"]) - 4.0) > 0.5 and abs(np.std(plausible["b"]) - 1.0) > 0.5


def test_a_frozen_distribution_target_selects_the_same_patients():
    plausible = _plausible(3000)
    by_mapping = select_virtual_population(plausible, {"a": (4.0, 1.0), "b": (5.0, 2.0)}, seed=2)
    frozen = stats.multivariate_normal([4.0, 5.0], np.diag([1.0, 4.0]))
    by_frozen = select_virtual_population(plausible, frozen, seed=2)
    assert np.array_equal(by_mapping.indices, by_frozen.indices)
    assert np.allclose(by_mapping.probability, by_frozen.probability, rtol=1e-12)
    rows = {(r["output"], r["statistic"]): r["target"] for r in by_frozen.rows()}
    assert rows[("b", "mean")] == 5.0 and rows[("b", "sd")] == pytest.approx(2.0)
    # one output, a univariate frozen target
    one = select_virtual_population({"a": plausible["a"]}, stats.norm(4.0, 1.0), seed=2)
    assert np.array_equal(one.indices, select_virtual_population({"a": plausible["a"]}, {"a": (4.0, 1.0)},
                                                                 seed=2).indices)


def test_selection_is_reproducible_and_n_select_takes_a_subset():
    plausible = _plausible(3000)
    target = {"a": (4.0, 1.0)}
    a = select_virtual_population(plausible, target, seed=9)
    assert np.array_equal(a.indices, select_virtual_population(plausible, target, seed=9).indices)
    sub = select_virtual_population(plausible, target, seed=9, n_select=100)
    assert len(sub.indices) == 100 and set(sub.indices) <= set(a.indices)
    with pytest.raises(ValueError, match="n_select=5000"):
        select_virtual_population(plausible, target, seed=9, n_select=5000)


def test_selection_excludes_nan_patients_and_reports_them():
    plausible = _plausible(2000)
    plausible["a"][[3, 17]] = np.nan
    plausible["b"][5] = -1.0  # not usable on a log scale
    sel = select_virtual_population(plausible, {"a": (4.0, 1.0), "b": (3.0, 1.0)}, log=["b"], seed=0)
    assert list(sel.excluded) == [3, 5, 17]
    assert np.isnan(sel.probability[[3, 5, 17]]).all() and not sel.mask[[3, 5, 17]].any()


@pytest.mark.parametrize("target, kwargs, words", [
    ({"c": (1.0, 1.0)}, {}, ["'c'", "does not hold"]),
    ({"a": (1.0, 0.0)}, {}, ["target['a'] sd", "0.0"]),
    ({"a": (-1.0, 1.0)}, {"log": True}, ["target['a'] mean", "-1.0"]),
    ({"a": (1.0, 1.0)}, {"log": ["z"]}, ["log names 'z'"]),
    ({"a": 1.0}, {}, ["(mean, sd)"]),
    (stats.multivariate_normal([0.0, 0.0, 0.0]), {}, ["shape"]),
])
def test_bad_selection_requests_raise_naming_the_bad_value(target, kwargs, words):
    with pytest.raises(ValueError) as e:
        select_virtual_population(_plausible(200), target, **kwargs)
    for w in words:
        assert w in str(e.value), (w, str(e.value))


def test_select_by_ranges_keeps_patients_with_every_output_in_range():
    outputs = {"a": np.array([0.5, 2.0, np.nan, 3.0, 1.0]), "b": np.array([10.0, 20.0, 15.0, 30.0, 5.0])}
    mask = select_by_ranges(outputs, {"a": (1.0, 3.0), "b": (None, 25.0)})
    assert mask.tolist() == [False, True, False, False, True]
    with pytest.raises(ValueError, match=r"ranges\['a'\].*empty"):
        select_by_ranges(outputs, {"a": (3.0, 1.0)})
    with pytest.raises(ValueError, match="'c'"):
        select_by_ranges(outputs, {"c": (0.0, 1.0)})
    with pytest.raises(ValueError, match="same number of patients"):
        select_by_ranges({"a": np.zeros(3), "b": np.zeros(4)}, {"a": (0.0, 1.0)})


# --------------------------------------------------------------------------------------
# Probabilities of events
# --------------------------------------------------------------------------------------
def _means(n=400, seed=4):
    return np.exp(np.random.default_rng(seed).normal(0.0, 1.0, n))  # expected counts around 1


def test_prob_none_and_poisson_fraction_agree_with_sampled_poisson_counts():
    means = _means()
    reps = 100
    counts = np.random.default_rng(12).poisson(means, size=(reps, len(means)))  # numpy's sampler
    total = counts.size

    def close(p_exact, hits):
        se = math.sqrt(max(p_exact * (1 - p_exact), 1e-12) / total)  # >= the sd of the MC mean
        return abs(np.mean(hits) - p_exact) < 4 * se

    assert close(float(np.mean(prob_none(means))), counts == 0)
    for k in (0, 1, 2, 4):
        for op, hits in ((">=", counts >= k), (">", counts > k), ("<=", counts <= k), ("<", counts < k),
                         ("==", counts == k)):
            assert close(poisson_fraction(means, op, k), hits), (op, k)
    assert poisson_fraction(means, "==", 0) == pytest.approx(np.mean(np.exp(-means)), rel=1e-12)
    assert poisson_fraction(means, ">=", 0) == 1.0 and poisson_fraction(means, "<", 0) == 0.0


def test_prob_none_is_exp_minus_n_elementwise_and_keeps_labels():
    xr = pytest.importorskip("xarray")
    n = np.array([[0.0, 1.0], [2.0, np.nan]])
    out = prob_none(n)
    assert np.array_equal(out[0], [1.0, math.exp(-1.0)]) and out[1, 0] == math.exp(-2.0)
    assert np.isnan(out[1, 1])  # a failed member is not event-free
    assert prob_none(0.5) == math.exp(-0.5) and prob_none(-1e-12) == 1.0  # rounding of 0
    da = xr.DataArray(n, dims=("member", "time"), coords={"time": [0.0, 1.0]})
    got = prob_none(da)
    assert isinstance(got, xr.DataArray) and got.dims == ("member", "time")
    assert np.array_equal(got.values, out, equal_nan=True)
    assert np.array_equal(event_free(n), out, equal_nan=True)
    with pytest.raises(ValueError, match=r"expected_count must be >= 0; got -0.1 at index \(1,\)"):
        prob_none([0.0, -0.1])
    with pytest.raises(ValueError, match="cumulative_hazard must be >= 0"):
        event_free([-1.0])


def test_poisson_fraction_over_patients_per_time_nan_and_ok():
    xr = pytest.importorskip("xarray")
    means = np.stack([_means(50), 2 * _means(50)], axis=1)  # (patients, times)
    per_time = poisson_fraction(means, ">=", 1)
    assert per_time.shape == (2,) and per_time[1] > per_time[0]
    assert per_time[0] == pytest.approx(np.mean(1 - np.exp(-means[:, 0])), rel=1e-12)
    da = xr.DataArray(means, dims=("member", "time"), coords={"time": [1.0, 2.0]})
    got = poisson_fraction(da, ">=", 1)
    assert got.dims == ("time",) and np.allclose(got.values, per_time)
    bad = means[:, 0].copy()
    bad[7] = np.nan
    with pytest.raises(ValueError, match="patient 7 is NaN"):
        poisson_fraction(bad, ">=", 1)
    ok = np.ones(50, dtype=bool)
    ok[7] = False
    assert poisson_fraction(bad, ">=", 1, ok=ok) == pytest.approx(np.mean(1 - np.exp(-np.delete(bad, 7))))
    for op, k, word in (("=>", 1, "'=>'"), (">=", -1, "k must be"), (">=", 1.5, "1.5")):
        with pytest.raises(ValueError, match=word):
            poisson_fraction(means[:, 0], op, k)
    with pytest.raises(ValueError, match="patient 2 has -1.0"):
        poisson_fraction([1.0, 1.0, -1.0], ">", 0)


def test_event_times_from_a_constant_hazard_are_exponential():
    lam, n = 0.1, N
    times = np.linspace(0.0, 20.0, 41)
    H = np.broadcast_to(lam * times, (n, len(times)))
    drawn = sample_event_times(times, H, 3)
    t, observed = drawn  # unpacks as (time, observed)
    assert isinstance(drawn, EventTimes) and t.shape == (n,) and len(drawn.excluded) == 0
    assert np.all(t[~observed] == 20.0) and np.all(t[observed] <= 20.0)
    for s in (1.0, 2.5, 5.0, 10.0, 15.0, 19.5):
        exact = math.exp(-lam * s)  # S(t) = exp(-H(t))
        assert abs(np.mean(t > s) - exact) < 4 * math.sqrt(exact * (1 - exact) / n), s
    assert abs(np.mean(~observed) - math.exp(-2.0)) < 4 * math.sqrt(math.exp(-2) * (1 - math.exp(-2)) / n)
    # restricted mean survival time to 20 days: (1 - exp(-2)) / lam
    rmst = (1 - math.exp(-2.0)) / lam
    assert abs(np.mean(t) - rmst) < 4 * np.std(t) / math.sqrt(n)
    assert np.array_equal(t, sample_event_times(times, H, 3).time)
    assert np.array_equal(t, sample_event_times(times, H, np.random.default_rng(3)).time)


def test_event_times_of_a_weibull_hazard_match_its_survival_and_kaplan_meier():
    lifelines = pytest.importorskip("lifelines")
    n = 5000
    times = np.linspace(0.0, 15.0, 301)
    H = np.broadcast_to((times / 10.0) ** 2, (n, len(times)))  # Weibull, shape 2, scale 10 days
    t, observed = sample_event_times(times, H, 8)
    km = lifelines.KaplanMeierFitter().fit(t, observed)
    for s in (2.0, 5.0, 8.0, 12.0):
        exact = math.exp(-((s / 10.0) ** 2))
        se = math.sqrt(exact * (1 - exact) / n)
        assert abs(np.mean(t > s) - exact) < 4 * se
        assert abs(float(km.survival_function_at_times(s).iloc[0]) - exact) < 4 * se


def test_a_nan_member_is_named_or_excluded_never_event_free():
    times = np.linspace(0.0, 10.0, 11)
    H = np.tile(0.2 * times, (6, 1))
    H[3, 4:] = np.nan
    with pytest.raises(ValueError, match=r"patient 3 is NaN at time index 4 \(t = 4\).*ok="):
        sample_event_times(times, H, 0)
    ok = np.ones(6, dtype=bool)
    ok[3] = False
    drawn = sample_event_times(times, H, 0, ok=ok)
    assert list(drawn.excluded) == [3] and list(drawn.members) == [0, 1, 2, 4, 5] and len(drawn.time) == 5
    # each patient's time depends only on the seed and its own hazard
    full = sample_event_times(times, np.tile(0.2 * times, (6, 1)), 0)
    assert np.array_equal(drawn.time, full.time[[0, 1, 2, 4, 5]])
    down = np.tile(0.2 * times, (3, 1))
    down[2, 6] = 0.5
    with pytest.raises(ValueError, match="patient 2 decreases from 1.0 at t = 5 to 0.5 at t = 6"):
        sample_event_times(times, down, 0)
    tiny = np.tile(0.2 * times, (2, 1))
    tiny[1, 6] -= 1e-12  # solver rounding is not a decrease
    sample_event_times(times, tiny, 0)
    with pytest.raises(ValueError, match=r"shape \(n_patients, 11\)"):
        sample_event_times(times, H[:, :5], 0)
    with pytest.raises(ValueError, match="increase strictly"):
        sample_event_times(times[::-1], H, 0)
    with pytest.raises(ValueError, match=r"ok must be a boolean array of shape \(6,\)"):
        sample_event_times(times, H, 0, ok=[1, 1, 1, 0, 1, 1])


def test_event_times_interpolate_the_hazard_between_save_times():
    times = np.array([0.0, 1.0, 3.0])
    H = np.array([[0.0, 1.0, 3.0]])
    e = np.random.default_rng(21).standard_exponential(1)[0]  # the draw sample_event_times makes
    t, observed = sample_event_times(times, H, 21)
    if e <= 3.0:  # H(t) = t here: the event is at t = E
        assert observed[0] and t[0] == pytest.approx(e, rel=1e-14)
    else:
        assert not observed[0] and t[0] == 3.0
