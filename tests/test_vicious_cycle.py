"""Bone vicious cycle: tumour-free steady state, published mouse data, drug directions."""

import csv
from pathlib import Path

import numpy as np
import pytest

from seedsoil.models.bone import vicious_cycle
from seedsoil.solvers import infusion, simulate

from .reference.equations import LEMAIRE_STEADY

DATA = Path(__file__).parents[1] / "data" / "johnson2011_bone_za.csv"
DAYS = np.arange(0.0, 29.0)
ZA_FROM_DAY_6 = infusion("za_effect", 5.0, 6.0, np.inf)
MODEL = vicious_cycle()


def johnson(group: str):
    """(day, mean, s.e.) of relative bone volume for one group of Johnson et al. 2011."""
    with open(DATA) as f:
        return [(float(r["time"]), float(r["average"]), float(r["stderr"]))
                for r in csv.DictReader(f) if r["observable"] == "Bone_tot" and r["expt_id"] == group]


def test_tumour_free_bone_stays_at_the_published_steady_state():
    sol = simulate(MODEL.with_y0(T=0.0), np.linspace(0.0, 365.0, 13), rtol=1e-10, atol=1e-14)
    for name, ref in zip("RBC", LEMAIRE_STEADY):
        np.testing.assert_allclose(sol[name], ref, rtol=2e-4)
    np.testing.assert_allclose(sol["bone_volume"], 100.0, atol=0.05)
    np.testing.assert_allclose(sol["CTX"], 100.0, rtol=2e-4)


@pytest.mark.parametrize("group, tumour, treated", [("B", True, False), ("C", True, True), ("D", False, True)],
                         ids=["PBS+tumour", "ZA+tumour", "ZA, no tumour"])
def test_reproduces_johnson_2011_bone_volume(group, tumour, treated):
    model = MODEL if tumour else MODEL.with_y0(T=0.0)
    sol = simulate(model, DAYS, regimen=ZA_FROM_DAY_6 if treated else None)
    for day, mean, se in johnson(group):
        assert abs(float(sol["bone_volume"][int(day)]) - mean) < 2 * se, (group, day)


def test_tumour_drives_resorption_and_bone_loss():
    free = simulate(MODEL.with_y0(T=0.0), DAYS)
    sick = simulate(MODEL, DAYS)
    assert sick["CTX"][-1] > 2 * free["CTX"][-1]
    assert sick["bone_volume"][-1] < 0.85 * free["bone_volume"][-1]
    assert sick["PTHrP"][-1] > sick["PTHrP"][0] and sick["tgf_signal"][-1] > 0


def test_zoledronic_acid_raises_bone_volume_with_and_without_tumour():
    for model in (MODEL, MODEL.with_y0(T=0.0)):
        control = simulate(model, DAYS)
        za = simulate(model, DAYS, regimen=ZA_FROM_DAY_6)
        assert za["bone_volume"][-1] > control["bone_volume"][-1] + 10.0


@pytest.mark.parametrize("name, doses", [("rankl_inhibition", (0.9, 0.99, 0.999, 0.9999)),
                                         ("I_O", (2e4, 2e5, 2e6, 2e7))], ids=["anti-RANKL", "OPG"])
def test_rankl_inhibition_drives_osteoclasts_toward_zero(name, doses):
    """Rising RANKL blockade ablates osteoclasts (Canon et al. 2008, OPG-Fc), even with tumour.

    Lemaire's osteoclast apoptosis is driven by TGF-beta from resorption, so it slows as
    osteoclasts vanish (rate D_A f0 = 0.035/day): the approach to zero takes months."""
    days = np.linspace(0.0, 120.0, 5)
    ctx = [float(simulate(MODEL, days, regimen=infusion(name, d, 0.0, np.inf))["CTX"][-1]) for d in doses]
    assert all(a > b for a, b in zip(ctx, ctx[1:])) and ctx[-1] < 5.0, ctx  # % of baseline
    untreated = simulate(MODEL, DAYS)
    treated = simulate(MODEL, DAYS, regimen=infusion(name, doses[-1], 0.0, np.inf))
    assert treated["bone_volume"][-1] > untreated["bone_volume"][-1]


def test_tumour_as_input_matches_tumour_as_state():
    """Driving the input with the state model's own tumour trajectory reproduces it: here a
    constant tumour (r_T = 0) of 3e5 cells, set as a state in one and an input in the other."""
    days = np.linspace(0.0, 60.0, 13)
    as_state = simulate(vicious_cycle(3e5), days, params={"r_T": 0.0}, rtol=1e-10, atol=1e-14)
    driven = vicious_cycle(tumour="input")
    as_input = simulate(driven, days, regimen=infusion("tumour_cells", 3e5, 0.0, np.inf), rtol=1e-10, atol=1e-14)
    for name in ("C", "B", "bone_volume", "growth_boost"):
        np.testing.assert_allclose(as_input[name], as_state[name], rtol=1e-9, atol=1e-12)
    with pytest.raises(ValueError, match="tumour must be 'state' or 'input'"):
        vicious_cycle(tumour="both")


def test_bone_volume_stays_positive_under_a_large_tumour():
    sol = simulate(vicious_cycle(1e7), np.linspace(0.0, 365.0, 13))
    assert np.all(np.asarray(sol["bone_volume"]) > 0.0) and sol["bone_volume"][-1] < 10.0
