"""Stopping a trajectory at an output level (``simulate``/``sweep`` ``until=``), and the
trial's screening pass that uses it.

The contract: up to and including the first save where an output reaches its level, the
saves are those of the solve without ``until`` (bit for bit when members are solved one by
one); after it every save holds that state, and no dose is applied. The trial's start days
read from a stopped screening are checked against the crossings of an unstopped sweep of
the same patients (an independent reading of the same Poisson draw).
"""

from __future__ import annotations

import numpy as np
import pytest

from seedsoil import bone_metastasis, virtual_trial
from seedsoil.models import bone_metastasis_population, cascade
from seedsoil.solvers import bolus, simulate, sweep
from seedsoil.solvers._trial import _first_crossing

TIMES = np.arange(0.0, 1461.0, 7.0)
OUT = "n_detectable[bone]"


@pytest.fixture(scope="module")
def model():
    return cascade("breast", n_bins=16)


@pytest.fixture(scope="module")
def full(model):
    return np.asarray(simulate(model, TIMES)[OUT])


def _between(full, k):
    """A level first reached at save ``k``, halfway from the save before (a batch's rounding,
    1e-10 of the output at most, cannot move the stop)."""
    assert full[k] > full[k - 1] * (1 + 1e-6)
    return 0.5 * (full[k - 1] + full[k])


def test_saves_up_to_the_stop_are_unchanged_and_the_rest_hold(model, full):
    k = 120
    sol = simulate(model, TIMES, until={OUT: _between(full, k)})
    got = np.asarray(sol[OUT])
    np.testing.assert_array_equal(got[: k + 1], full[: k + 1])
    assert np.all(got[k:] == got[k]) and full[-1] > got[k] * 1.01  # held, and the run would have gone on
    ys = np.asarray(sol.ys)
    assert np.all(ys[k:] == ys[k])  # the whole state is held


def test_levels_per_member_inf_never_stops_and_stops_on_any_output(model, full):
    levels = np.array([_between(full, 40), np.inf, _between(full, 200)])
    sol = simulate(model, TIMES, params={"mu_D": np.full(3, float(model.params["mu_D"]))}, until={OUT: levels})
    got = np.asarray(sol[OUT])
    tol = 1e-10 * np.abs(full).max()  # a batch member vs a single solve (tests/test_batch_invariance.py)
    for i, k in enumerate((40, None, 200)):
        if k is None:
            np.testing.assert_allclose(got[i], full, rtol=0, atol=tol)
        else:
            np.testing.assert_allclose(got[i, : k + 1], full[: k + 1], rtol=0, atol=tol)
            assert np.all(got[i, k:] == got[i, k])
    # two outputs: whichever reaches its level first stops the solve
    prim = np.asarray(simulate(model, TIMES)["P"])
    both = simulate(model, TIMES, until={OUT: _between(full, 200), "P": _between(prim, 60)})
    assert np.all(np.asarray(both[OUT])[60:] == np.asarray(both[OUT])[60])


def test_no_dose_after_the_stop(model, full):
    k = 100
    reg = bolus("P", [TIMES[k + 10]], [1e9])
    sol = simulate(model, TIMES, regimen=reg, until={OUT: _between(full, k)})
    p = np.asarray(sol["P"])
    assert np.all(p[k:] == p[k])


def test_sweep_matches_simulate_member_by_member(model, full):
    levels = np.array([_between(full, 30), _between(full, 90), np.inf, _between(full, 150)])
    values = np.tile(np.asarray(model.params.values), (4, 1))
    res = sweep(model, TIMES, values, keep=[OUT], until={OUT: levels}, chunk_size=3, vmap_size=1)
    for i, lv in enumerate(levels):
        one = np.asarray(simulate(model, TIMES, until={OUT: float(lv)})[OUT])
        np.testing.assert_allclose(res[OUT][i], one, rtol=0, atol=1e-10 * np.abs(full).max())
        k = int(np.argmax(one >= lv)) if np.isfinite(lv) else len(one) - 1
        assert np.all(res[OUT][i][k:] == res[OUT][i][k])


@pytest.mark.parametrize("until, match", [
    ({"n_detectable": 1.0}, "scalar output"),
    ({"no_such_output": 1.0}, "no_such_output"),
    ({OUT: np.array([1.0, np.nan])}, "member 1"),
    ({OUT: np.ones((2, 2))}, "one level per member"),
    ({}, "non-empty mapping"),
])
def test_bad_until_is_named(model, until, match):
    with pytest.raises((ValueError, KeyError), match=match):
        simulate(model, TIMES[:3], until=until)


def test_until_needs_saves_as_stops(model):
    with pytest.raises(ValueError, match="step_to_saves=True"):
        simulate(model, TIMES[:3], until={OUT: 1.0}, step_to_saves=False)


def test_sweep_levels_per_member_must_match(model):
    with pytest.raises(ValueError, match="3 levels per output but samples holds 2"):
        sweep(model, TIMES[:3], np.tile(np.asarray(model.params.values), (2, 1)), keep=[OUT],
              until={OUT: np.ones(3)})


def test_trial_start_days_equal_the_crossings_of_an_unstopped_screening():
    """The trial stops each patient's screening at its start (or death); its start days and
    exclusions must be what the crossings of a full ten-year sweep of the same patients give."""
    model, pop, n = bone_metastasis("breast", n_bins=16), bone_metastasis_population("breast"), 12
    tr = virtual_trial(model, pop, n, {"placebo": None}, seed=3, horizon=28.0, start="first_bone_metastasis")
    grid = np.arange(0.0, 3650.0 + 3.5, 7.0)
    values = pop.sample(model, n, seed=3, method="random")
    drawn, death = model.outcome("bone_metastasis"), model.outcome("death")
    res = sweep(model, grid, values, keep=[drawn.output, death.output])
    N = np.fmax.accumulate(np.asarray(res[drawn.output]), axis=1)
    s = _first_crossing(grid, N, np.random.default_rng(3).exponential(size=n))
    d = _first_crossing(grid, np.asarray(res[death.output]), np.full(n, death.level))
    eligible = np.isfinite(s) & ~(d <= s)
    assert eligible.sum() >= 4 and (~eligible).sum() >= 1  # both kinds present: not a vacuous check
    np.testing.assert_array_equal(tr.eligible, eligible)
    np.testing.assert_allclose(tr.start_day[eligible], s[eligible], rtol=1e-9)
