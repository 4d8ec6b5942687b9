"""virtual_trial on a toy patient with closed-form answers.

The toy: a tumour B(t) = B0 exp(r t) founds events (an expected count N' = lam B), has a
skeletal-event hazard H' = h0 B / (B + K) (1 - e I) lowered by a treatment input I, a
drug depot D that decays at k_D, a Poisson-counted marker c B, and dies at B = B_death.
Everything the trial reports has a closed form here (start-day distribution, the state at
the start, survival, the hazard ratio, Poisson fractions), which is what it is checked
against; the Cox hazard ratio against the exact ratio of constant hazards.
"""

import math

import jax.numpy as jnp
import numpy as np
import pytest
from scipy import stats

from seedsoil.models import LogNormal, Population
from seedsoil.models.base import Input, Model, Observable, Outcome, Param, Params, State, UnknownNameError
from seedsoil.models.drugs.schedules import Schedule
from seedsoil.solvers import Trial, infusion, virtual_trial

B0, R, LAM, H0, K, E_EFF, K_D, C = 1e6, 0.01, 1e-9, 0.004, 1e7, 0.5, 0.1, 1e-6
B_DEATH = 1e12


class Toy(Model):
    def rhs(self, t, y, p, u):
        b = y.B
        return {"B": p.r * b, "N": p.lam * b, "H": p.h0 * b / (b + p.K) * (1.0 - p.e * u.I) + p.blow * y.H ** 2,
                "D": -p.k_D * y.D}

    def observables(self, t, y, p, u):
        return {"burden": y.B, "count_mean": p.c * y.B, "marker": 100.0 + y.D}


def toy() -> Toy:
    params = Params.from_specs((
        Param("r", R, "1/day", "toy", (1e-6, 1.0)), Param("lam", LAM, "1/(cell day)", "toy", (0.0, 1.0)),
        Param("h0", H0, "1/day", "toy", (0.0, 1.0)), Param("K", K, "cells", "toy", (1.0, 1e15)),
        Param("e", E_EFF, "1", "toy", (0.0, 1.0)), Param("k_D", K_D, "1/day", "toy", (0.0, 10.0)),
        Param("c", C, "1", "toy", (0.0, 1.0)), Param("blow", 0.0, "1/day", "toy", (0.0, 1e6)),
    ))
    return Toy(
        name="toy", states=(State("B", "cells"), State("N", "1"), State("H", "1"), State("D", "mg")),
        params=params, y0=jnp.array([B0, 0.0, 0.0, 0.0]), inputs=(Input("I", "1"),),
        observable_specs=(Observable("burden", "cells"), Observable("count_mean", "1"), Observable("marker", "1")),
        outcomes=(Outcome("met", "expected_count", "N", source="toy"),
                  Outcome("sre", "cumulative_hazard", "H", source="toy"),
                  Outcome("death", "threshold", "burden", source="toy", level=B_DEATH),
                  Outcome("ctc", "poisson_count", "count_mean", source="toy")),
    )


TOY = toy()
OPTS = dict(rtol=1e-10, atol=1e-12, max_steps=20_000)
DRUG = Schedule("toy drug 10 mg every 28 days", "D", 10.0, 28.0)


def treated(starts):
    return infusion("I", 1.0, starts[:, None], starts[:, None] + 1e4)


def n_expected(t, r=R, lam=LAM):
    return lam * B0 * (np.exp(r * t) - 1.0) / r


def h_cum(t0, t, r=R, eff=0.0):
    """Closed-form H(t) - H(t0) of the toy (no blow-up term)."""
    b0, b1 = B0 * np.exp(r * t0), B0 * np.exp(r * t)
    return (1.0 - eff) * H0 / r * np.log((b1 + K) / (b0 + K))


@pytest.fixture(scope="module")
def trial() -> Trial:
    return virtual_trial(TOY, None, 400, {"placebo": None, "treated": treated, "drug": DRUG}, seed=3,
                         horizon=364.0, start="first_met", screen_until=2000.0, screen_dt=5.0, **OPTS)


def test_start_days_follow_the_declared_poisson_process(trial):
    s = trial.start_day[trial.eligible]
    # P(s <= t) = 1 - exp(-N(t)) on the screening horizon, conditioned on an event by then
    cdf = lambda t: (1.0 - np.exp(-n_expected(np.minimum(t, 2000.0)))) / (1.0 - np.exp(-n_expected(2000.0)))  # noqa: E731
    assert stats.kstest(s, cdf).pvalue > 1e-3
    screened_out = (~trial.eligible).sum()
    p_none = math.exp(-n_expected(2000.0))
    assert abs(screened_out - 400 * p_none) < 5 * math.sqrt(400 * p_none * (1 - p_none)) + 1
    assert all(where == "screening" and "no met" in why for _, where, why in trial.excluded)


def test_each_patient_starts_from_its_own_state(trial):
    m = trial.ok["placebo"]
    b = trial.outputs["burden"][0, m, 0]
    np.testing.assert_allclose(b, B0 * np.exp(R * trial.start_day[m]), rtol=1e-7)
    # trial time counts from each patient's start: burden grows by exp(r t) in trial time
    np.testing.assert_allclose(trial.outputs["burden"][0, m, -1] / b, math.exp(R * trial.times[-1]), rtol=1e-7)


def test_survival_is_the_mean_of_the_exact_event_free_probabilities(trial):
    s = trial.start_day[trial.ok["placebo"]]
    t = trial.times
    want_placebo = np.exp(-h_cum(s[:, None], s[:, None] + t[None, :])).mean(axis=0)
    want_treated = np.exp(-h_cum(s[:, None], s[:, None] + t[None, :], eff=E_EFF)).mean(axis=0)
    got = trial.survival("sre")
    np.testing.assert_allclose(got.sel(arm="placebo"), want_placebo, rtol=1e-6)
    np.testing.assert_allclose(got.sel(arm="treated"), want_treated, rtol=1e-6)
    assert got.dims == ("arm", "time")
    # incidence with death competing: no patient dies within the year here, so it is 1 - survival
    np.testing.assert_allclose(trial.incidence("sre", 364.0).sel(arm="placebo"), 1 - want_placebo[-1], rtol=1e-6)


def test_schedule_arm_doses_each_patient_from_its_start(trial):
    m = trial.ok["drug"]
    d = trial.outputs["marker"][2, m] - 100.0
    # post-dose value at trial day 0 is the dose; day 28 the next dose on top of the decayed first
    np.testing.assert_allclose(d[:, 0], 10.0, rtol=1e-8)
    np.testing.assert_allclose(d[:, 4], 10.0 + 10.0 * math.exp(-K_D * 28.0), rtol=1e-7)
    ch = trial.marker_change("marker", weeks=2)
    assert float(ch.sel(arm="placebo")) == pytest.approx(0.0, abs=1e-9)
    want = 100.0 * ((100.0 + 10.0 * math.exp(-K_D * 14.0)) / 110.0 - 1.0)
    assert float(ch.sel(arm="drug")) == pytest.approx(want, rel=1e-7)


def test_poisson_fraction_of_a_counted_marker(trial):
    m = trial.ok["placebo"]
    mean = C * B0 * np.exp(R * trial.start_day[m])
    want = stats.poisson.sf(4, mean).mean()
    assert float(trial.fraction("ctc", ">=", 5, at=0.0).sel(arm="placebo")) == pytest.approx(want, rel=1e-6)
    rng = np.random.default_rng(0)  # and against counting sampled counts
    counts = rng.poisson(np.repeat(mean, 200))
    assert abs((counts >= 5).mean() - want) < 4 * math.sqrt(want * (1 - want) / counts.size) + 1e-12


def test_cox_hazard_ratio_recovers_a_known_ratio():
    # K -> 0: a constant hazard h0 (1 - e I); treated/placebo hazard ratio exactly 1 - e
    flat = TOY.with_params(K=1.0, h0=0.003)
    tr = virtual_trial(flat, None, 1500, {"placebo": None, "treated": treated}, seed=1, horizon=364.0, **OPTS)
    hr, lo, hi = tr.hazard_ratio("sre", "treated", "placebo")
    assert lo < 1.0 - E_EFF < hi
    assert hr == pytest.approx(1.0 - E_EFF, rel=0.2)
    km = tr.kaplan_meier("sre")
    assert set(km) == {"placebo", "treated"}
    t = 180.0
    assert float(km["placebo"].survival_function_at_times(t).iloc[0]) == pytest.approx(math.exp(-0.003 * t),
                                                                                          abs=0.05)


def test_a_failing_patient_is_excluded_by_index_never_event_free():
    pop = Population({"blow": LogNormal(sd_log=3.0, median=1e-3)})
    tr = virtual_trial(TOY.with_params(h0=0.01), pop, 40, {"placebo": None}, seed=2, horizon=364.0, start=0.0,
                       **OPTS)
    failed = [i for i, where, why in tr.excluded if where == "placebo"]
    blow = tr.values["blow"]
    assert failed, "the draw should contain patients whose hazard blows up"
    assert not tr.ok["placebo"][failed].any()
    assert np.all(np.isnan(tr.outputs["H"][0, failed]))
    assert np.all(blow[failed] > np.median(blow))  # the large blow-up rates fail, not others
    surv = tr.survival("sre").sel(arm="placebo").values
    assert np.all(np.isfinite(surv))
    ok = tr.ok["placebo"]
    np.testing.assert_allclose(surv, np.exp(-tr.outputs["H"][0, ok]).mean(axis=0), rtol=1e-12)


def test_bad_arguments_name_the_bad_value():
    with pytest.raises(ValueError, match="n must be a positive integer; got 0"):
        virtual_trial(TOY, None, 0, {"a": None})
    with pytest.raises(UnknownNameError, match="did you mean 'met'"):
        virtual_trial(TOY, None, 4, {"a": None}, start="first_mett")
    with pytest.raises(ValueError, match="kind 'expected_count'"):
        virtual_trial(TOY, None, 4, {"a": None}, start="first_sre")
    with pytest.raises(ValueError, match="horizon must be a finite number > 0; got -1"):
        virtual_trial(TOY, None, 4, {"a": None}, horizon=-1)
    with pytest.raises(TypeError, match="arm 'a' must be None, a dosing schedule"):
        virtual_trial(TOY, None, 4, {"a": 3})
    tr = virtual_trial(TOY, None, 3, {"a": None}, horizon=28.0, **OPTS)
    with pytest.raises(UnknownNameError, match="unknown arm 'b'"):
        tr.hazard_ratio("sre", "b", "a")
    with pytest.raises(ValueError, match="fraction\\(\\) reads a 'poisson_count'"):
        tr.fraction("sre", ">=", 1)


def test_plots_draw_kaplan_meier_per_arm_and_a_vpc(trial):
    import matplotlib

    matplotlib.use("Agg")
    import seedsoil.plot

    fig, ax = seedsoil.plot.kaplan_meier(trial, "sre", time_unit="week")
    labels = [t.get_text() for t in ax[0].get_legend().get_texts()]
    assert [lab.split(" (")[0] for lab in labels[:3]] == ["placebo", "treated", "drug"]
    assert f"n = {int(trial.ok['placebo'].sum())}" in labels[0]
    H = trial.cumulative_hazard("sre")[0, trial.ok["placebo"]]
    fig, ax = seedsoil.plot.vpc(trial.times, np.exp(-H), observed={"time": [91.0], "value": [0.6], "low": [0.5],
                                                                    "high": [0.7], "label": "a published figure"})
    assert ax[0].get_title().startswith(f"{H.shape[0]} of {H.shape[0]}")
    with pytest.raises(ValueError, match="time_unit must be one of"):
        seedsoil.plot.kaplan_meier(trial, "sre", time_unit="fortnight")
    with pytest.raises(ValueError, match="simulated must have shape"):
        seedsoil.plot.vpc(trial.times, H[:, :3])
