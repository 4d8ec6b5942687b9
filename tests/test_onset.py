"""A cascade built from tumour onset: patients start the trial on their own day of diagnosis.

Checked against the closed form of Gompertz growth: from ``P(0) = onset`` the primary
reaches ``P_diagnosis`` at ``t_d = ln(ln(onset / K) / ln(P_diagnosis / K)) / r`` (the
cascade's primary does not depend on the rest of the model), so each patient's start day
is known exactly, whatever the population drew.
"""

import math

import numpy as np
import pytest

from seedsoil.models import LogNormal, Population, cascade
from seedsoil.solvers import virtual_trial

ONSET = 1e6


@pytest.fixture(scope="module")
def trial():
    model = cascade("breast", n_bins=4, onset=ONSET)
    pop = Population({"r_P": LogNormal(sd_log=0.3), "P_diagnosis": LogNormal(sd_log=1.0)})
    return model, virtual_trial(model, pop, 12, {"untreated": None}, seed=3, horizon=56.0, dt=28.0,
                                keep=["primary", "dormant_cells"], screen_until=3650.0, screen_dt=7.0,
                                )


def test_start_day_is_each_patients_day_of_diagnosis(trial):
    model, tr = trial
    K = float(model.params["K_P"])
    r, P_d = tr.values["r_P"], tr.values["P_diagnosis"]
    exact = np.log(np.log(ONSET / K) / np.log(P_d / K)) / r
    assert tr.eligible.all(), tr.excluded
    assert np.ptp(exact) > 365.0  # the population spreads the day of diagnosis over years
    # the crossing is read by linear interpolation of P / P_diagnosis between screening
    # points h = 7 days apart; P is convex there, so the chord crosses early, by at most
    # g h^2 / 8 with g = r ln(K / P_diagnosis) the specific growth rate at diagnosis (the
    # curvature over the slope of exp(g t)); plus the solver's own error (1e-3 day)
    bound = r * np.log(K / P_d) * 7.0 ** 2 / 8.0
    err = tr.start_day - exact
    assert np.all(err <= 1e-3) and np.all(err >= -(1.05 * bound + 1e-3)), (err, bound)


def test_trial_day_zero_is_the_primary_at_its_size_at_diagnosis(trial):
    model, tr = trial
    P_start, P_d, r = tr.outputs["primary"][0, :, 0], tr.values["P_diagnosis"], tr.values["r_P"]
    g = r * np.log(float(model.params["K_P"]) / P_d)  # specific growth rate at diagnosis (1/day)
    # the start day is early by at most g h^2 / 8 (previous test), so P is low by g times that
    rel = P_start / P_d - 1.0
    assert np.all(rel <= 1e-5) and np.all(rel >= -g * (1.05 * g * 7.0 ** 2 / 8.0 + 1e-3) - 1e-5), rel
    # cells disseminated before diagnosis: every patient starts with dormant cells in bone
    bone = model.organs.index("bone")
    assert np.all(tr.outputs["dormant_cells"][0, :, 0, bone] > 1.0)


def test_a_model_from_diagnosis_declares_no_diagnosis_and_starts_at_day_zero():
    assert "diagnosis" not in [o.name for o in cascade("breast", n_bins=4).outcomes]
    assert "diagnosis" in [o.name for o in cascade("breast", n_bins=4, onset=ONSET).outcomes]


@pytest.mark.parametrize("bad", [0.5, 2e9, math.nan, math.inf, True, "1e6"])
def test_bad_onset_names_the_value(bad):
    with pytest.raises(ValueError, match="onset"):
        cascade("breast", n_bins=4, onset=bad)
