"""Skeletal-related events: the hazard of the first SRE, h = h_0 T/(T + T_50) (uNTx/U_ref)^gamma,
integrated as the cumulative hazard state H, so that the SRE-free probability is exp(-H).

Independent references: the closed form exp(-h t) for constant inputs (the part solved alone,
its inputs set by infusions), a trapezoid integral of the saved hazard for the whole
bone_metastasis model, Coleman 2005's ~2-fold risk between typical moderate/high and low uNTx
(data/clinical_targets.csv). The population-level calibration of h_0 and T_50 (Hortobagyi
1996, Theriault 1999) is checked by a virtual trial in tests/test_bone_trial.py."""

import csv
import math
from pathlib import Path

import numpy as np
import pytest

from seedsoil.models import skeletal_events
from seedsoil.models.bone import bone_metastasis
from seedsoil.models.drugs import XGEVA_Q4W
from seedsoil.solvers import from_schedule, infusion, simulate

# T_50 = 1e9 rather than the fitted 1e8: the coarse 8-bin burden crosses zero early, where the
# clipped hazard has a kink whose trapezoid error (the independent check below) grows as T_50
# falls; what is checked here (wiring, integration, directions) does not depend on its value.
MODEL = bone_metastasis("breast", n_bins=8).with_params(**{"sre.T_50": 1e9})
BONE = MODEL.part("cascade").organs.index("bone")
START = 1065.0  # day n_detectable[bone] = ln 2 of the default (64-bin) breast patient
DAYS = np.arange(0.0, START + 366.0, 0.25)  # fine enough for a trapezoid of the hazard
YEAR = (DAYS >= START) & (DAYS <= START + 365.0)
SRE = skeletal_events()
P = {name: float(SRE.params[name]) for name in SRE.params.names}
TIGHT = dict(rtol=1e-12, atol=1e-14)
ALONE_TIMES = np.linspace(0.0, 400.0, 9)

with open(Path(__file__).parents[1] / "data" / "clinical_targets.csv") as _f:
    TARGETS = {row["id"]: row for row in csv.DictReader(_f)}


@pytest.fixture(scope="module")
def runs():
    """The 8-bin breast model untreated, and with denosumab 120 mg Q4W for a year from START."""
    xgeva = from_schedule(XGEVA_Q4W, part="denosumab", start=START, count=13)
    return {"untreated": simulate(MODEL, DAYS), "denosumab": simulate(MODEL, DAYS, regimen=xgeva)}


def alone(tumour, untx, times=ALONE_TIMES):
    """The SRE part solved alone with constant inputs (cells in bone, uNTx)."""
    reg = infusion("bone_tumour", tumour, 0.0, np.inf) + infusion("uNTx", untx, 0.0, np.inf)
    return simulate(SRE, times, regimen=reg, **TIGHT)


def closed_form_hazard(tumour, untx):
    return P["h_0"] * tumour / (tumour + P["T_50"]) * (untx / P["U_ref"]) ** P["gamma"]


def test_wiring_and_declarations():
    assert MODEL.keys == ("cascade", "bone", "denosumab", "za", "sre")
    assert "sre.H" in MODEL.state_names and {"sre.sre_hazard", "sre.sre_free"} <= set(MODEL.observable_names)
    links = {(k.source, k.observable, k.target, k.input, k.index) for k in MODEL.links}
    assert ("cascade", "metastatic_burden", "sre", "bone_tumour", BONE) in links
    assert ("bone", "uNTx", "sre", "uNTx", None) in links
    assert float(MODEL.y0[MODEL.state_slice("sre.H")][0]) == 0.0
    assert "sre" not in bone_metastasis("breast", n_bins=8, bone="vicious_cycle").keys  # no uNTx there
    for name in ("h_0", "T_50"):  # calibrated later, on the trial figures, and saying so
        source = SRE.params.spec(name).source
        assert source.startswith("fitted to") and "05_virtual_trial" in source
        assert "hortobagyi1996_placebo_median" in source and "theriault1999_placebo_2y" in source
    assert "Coleman" in SRE.params.spec("gamma").source


def test_constant_inputs_give_the_closed_form_exp_minus_h_t():
    times = ALONE_TIMES
    sol = alone(3e9, 60.0)
    h = closed_form_hazard(3e9, 60.0)
    np.testing.assert_allclose(sol["sre_hazard"], h, rtol=1e-12)
    np.testing.assert_allclose(sol["sre_free"], np.exp(-h * times), rtol=0, atol=1e-8)
    np.testing.assert_allclose(sol["H"], h * times, rtol=1e-8, atol=1e-12)
    np.testing.assert_allclose(sol["sre_cumulative_hazard"], sol["H"], rtol=0, atol=0)


def test_a_tumour_free_skeleton_has_zero_hazard(runs):
    sol = alone(0.0, 150.0)  # even at a high resorption level
    assert np.all(np.asarray(sol["sre_hazard"]) == 0.0) and np.all(np.asarray(sol["H"]) == 0.0)
    assert np.all(np.asarray(sol["sre_free"]) == 1.0)
    # in the whole model: no bone tumour on day 0, no hazard (also where the coarse 8-bin
    # size grid gives a slightly negative burden, which the hazard clips at 0)
    full = runs["untreated"]
    burden = np.asarray(full["cascade.metastatic_burden"][:, BONE])
    hazard = np.asarray(full["sre.sre_hazard"])
    assert burden[0] == 0.0 and np.all(hazard[burden <= 0.0] == 0.0)


def test_coleman_ratio_between_moderate_high_and_low_untx():
    """Coleman 2005: ~2-fold SRE risk for moderate/high uNTx (>= 50) vs low (< 50); typical
    values of the categories 75 and 30, at the same tumour burden."""
    threshold = float(TARGETS["coleman2005_ntx_moderate"]["value"])
    assert 30.0 < threshold <= 75.0
    for tumour in (1e8, 1e10, 1e12):
        high = float(alone(tumour, 75.0)["sre_hazard"][-1])
        low = float(alone(tumour, 30.0)["sre_hazard"][-1])
        assert high / low == pytest.approx(2.0, rel=1e-9)
    assert P["gamma"] == pytest.approx(math.log(2.0) / math.log(2.5), rel=1e-12)


def test_hazard_rises_with_bone_burden_and_saturates(runs):
    burdens = [1e7, 1e8, 1e9, 1e10, 1e11, 1e12]
    hazards = np.array([float(alone(T, 50.0)["sre_hazard"][-1]) for T in burdens])
    assert np.all(np.diff(hazards) > 0)
    np.testing.assert_allclose(hazards, [closed_form_hazard(T, 50.0) for T in burdens], rtol=1e-12)
    saturated = closed_form_hazard(1e20, 50.0)
    assert hazards[-1] == pytest.approx(saturated, rel=2e-3)  # 1e12 >> T_50 = 1e9
    # the whole model, untreated: once the bone burden grows, so does the hazard
    full = runs["untreated"]
    burden = np.asarray(full["cascade.metastatic_burden"][:, BONE])
    hazard = np.asarray(full["sre.sre_hazard"])
    late = DAYS >= 1200.0
    assert np.all(np.diff(burden[late]) > 0) and np.all(np.diff(hazard[late]) > 0)


def test_cumulative_hazard_is_the_integral_of_the_saved_hazard(runs):
    for sol in runs.values():
        H = np.asarray(sol["sre.H"])
        hazard = np.asarray(sol["sre.sre_hazard"])
        integral = np.concatenate([[0.0], np.cumsum(0.5 * (hazard[1:] + hazard[:-1]) * np.diff(DAYS))])
        # the trapezoid's own error on a 0.25-day grid: ~6e-7 of H (1.1e-5 on a 1-day grid,
        # where the burden of the coarse 8-bin grid crosses 0 and the clipped hazard has a kink)
        np.testing.assert_allclose(H, integral, rtol=0, atol=2e-6 * H[-1])
        np.testing.assert_allclose(sol["sre.sre_free"], np.exp(-H), rtol=1e-12)
        assert np.all(np.diff(H) >= 0.0)


def test_denosumab_lowers_the_cumulative_hazard_over_a_year(runs):
    """Xgeva 120 mg Q4W from START for a year: uNTx falls, and so does the SRE hazard
    accumulated over the year (H(START + 365) - H(START))."""
    untreated, treated = runs["untreated"], runs["denosumab"]
    gain = {k: float(np.ptp(np.asarray(s["sre.H"])[YEAR])) for k, s in runs.items()}
    assert gain["denosumab"] < 0.8 * gain["untreated"], gain
    late = DAYS >= START + 30.0
    assert np.all(np.asarray(treated["bone.uNTx"])[late] < np.asarray(untreated["bone.uNTx"])[late])
    before = DAYS <= START
    np.testing.assert_allclose(treated["sre.H"][before], untreated["sre.H"][before], rtol=1e-9)
