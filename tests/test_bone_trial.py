"""A virtual trial of the breast preset's population against the published figures it was
calibrated on and the directions it must show.

References (data/clinical_targets.csv): Hortobagyi et al. 1996 (placebo: median 7.0 months
to a first skeletal complication, 56 % with one within about a year) and Theriault et al.
1999 (placebo: 67 % at about two years); the Xgeva label (uNTx about -80 % at month 3) and
Stopeck et al. 2010 (zoledronic acid: about -70 %, band -85 to -55 %).

The calibration (notebooks/05_virtual_trial.py) used 256 patients on 64 size bins; here 96
patients on 16 bins keep the test in CI's budget, so each figure is checked within three
binomial standard deviations of the eligible patients plus 0.05 for the coarser grid (a
stated band, not the calibration's precision).
"""

import csv
import math
from pathlib import Path

import numpy as np
import pytest

from seedsoil import bone_metastasis, virtual_trial
from seedsoil.models import bone_metastasis_population
from seedsoil.models.drugs import XGEVA_Q4W, ZOLEDRONIC_ACID_Q4W

with open(Path(__file__).parents[1] / "data" / "clinical_targets.csv") as _f:
    TARGETS = {row["id"]: row for row in csv.DictReader(_f)}
MONTH = 30.4375


@pytest.fixture(scope="module")
def trial():
    return virtual_trial(bone_metastasis("breast", n_bins=16), bone_metastasis_population("breast"), 96,
                         {"placebo": None, "denosumab": XGEVA_Q4W, "zoledronic acid": ZOLEDRONIC_ACID_Q4W},
                         seed=0, horizon=735.0, start="first_bone_metastasis")


def _band(p, n):
    return 3.0 * math.sqrt(p * (1.0 - p) / n) + 0.05


def test_placebo_skeletal_events_meet_the_trials(trial):
    n = int(trial.ok["placebo"].sum())
    assert n >= 48, trial.excluded[:5]
    median = float(TARGETS["hortobagyi1996_placebo_median"]["value"]) * MONTH
    free = float(trial.survival("sre").sel(arm="placebo").interp(time=median))
    assert abs(free - 0.5) < _band(0.5, n)
    for id_, day in (("hortobagyi1996_placebo_1y", 364.0), ("theriault1999_placebo_2y", 728.0)):
        want = float(TARGETS[id_]["value"])
        got = float(trial.incidence("sre", day).sel(arm="placebo"))
        assert abs(got - want) < _band(want, n), (id_, got, want)


def test_both_drugs_lower_markers_and_skeletal_events(trial):
    inc = trial.incidence("sre", 728.0)
    assert float(inc.sel(arm="denosumab")) < float(inc.sel(arm="placebo"))
    assert float(inc.sel(arm="zoledronic acid")) < float(inc.sel(arm="placebo"))
    w13 = trial.marker_change("uNTx", weeks=13)
    assert abs(float(w13.sel(arm="placebo"))) < 20.0
    assert -95.0 < float(w13.sel(arm="denosumab")) < -70.0  # label: about -80 %
    assert -85.0 < float(w13.sel(arm="zoledronic acid")) < -55.0  # Stopeck 2010 band
    hr, lo, hi = trial.hazard_ratio("sre", "denosumab", "placebo")
    assert hr < 1.0 and lo < hr < hi


def test_patients_enter_on_their_own_day_and_none_silently_vanish(trial):
    s = trial.start_day[trial.eligible]
    assert np.all(s > 0) and np.ptp(s) > 180.0  # entry days spread over months
    excluded = {i for i, _, _ in trial.excluded}
    assert excluded == set(np.flatnonzero(~trial.eligible)) | {i for i, a, _ in trial.excluded if a != "screening"}
    for arm in trial.arms:  # every eligible patient is either solved or listed as failed in that arm
        failed = {i for i, a, _ in trial.excluded if a == arm}
        assert set(np.flatnonzero(trial.eligible & ~trial.ok[arm])) == failed
