"""Mouse OPG-Fc: the SC one-compartment PK against its closed form (Bateman function),
mass balance under the three-times-a-week schedule, and the Canon et al. 2008 direction:
composed with the mouse vicious cycle, OPG-Fc lowers osteoclasts and CTX, more at 3 than
at 0.3 mg/kg, and slows tumour growth in bone."""


import numpy as np
import pytest

from seedsoil.models import Link, compose, opg_fc, vicious_cycle
from seedsoil.models.drugs import OPG_FC_TIW
from seedsoil.solvers import bolus, from_schedule, simulate

from .conftest import TIGHT

MODEL = opg_fc()
P = {s.name: float(MODEL.params[s.name]) for s in MODEL.params.specs}


def test_single_dose_is_the_bateman_function():
    t = np.linspace(0.0, 21.0, 85)
    dose = 3.0
    sol = simulate(MODEL, t, regimen=bolus("depot", 0.0, dose), **TIGHT)
    k, ka = P["CL"] / P["V"], P["ka"]
    exact = P["F"] * dose * ka / (P["V"] * (ka - k)) * (np.exp(-k * t) - np.exp(-ka * t))
    np.testing.assert_allclose(sol["C"], exact, rtol=1e-8, atol=1e-12)
    np.testing.assert_allclose(sol["RANKL_inhibition"], exact / (P["EC50"] + exact), rtol=1e-8, atol=1e-12)


def test_mass_balance_three_times_a_week():
    reg = from_schedule(OPG_FC_TIW, count=9)
    np.testing.assert_allclose(np.diff(reg.event_time), 7.0 / 3.0, rtol=1e-12)
    t = np.linspace(0.0, 28.0, 57)
    sol = simulate(MODEL, t, regimen=reg, **TIGHT)
    given = 3.0 * np.searchsorted(reg.event_time, t, side="right")
    total = sum(np.asarray(sol[s]) for s in MODEL.state_names)
    np.testing.assert_allclose(total, given, rtol=1e-9, atol=1e-12)


@pytest.fixture(scope="module")
def mouse_study():
    """Mouse vicious cycle (tumour in tibia, Johnson/Canon calibration) with OPG-Fc from day 0."""
    model = compose({"drug": opg_fc(), "bone": vicious_cycle()},
                    [Link("drug", "RANKL_inhibition", "bone", "rankl_inhibition")])
    days = np.linspace(0.0, 28.0, 29)
    runs = {"PBS": simulate(model, days)}
    for mg_kg in (0.3, 3.0):
        runs[mg_kg] = simulate(model, days, regimen=from_schedule(OPG_FC_TIW, part="drug", amount=mg_kg, count=12))
    return runs


def test_opg_fc_lowers_osteoclasts_dose_dependently(mouse_study):
    pbs, low, high = (np.asarray(mouse_study[k]["bone.C"])[-1] for k in ("PBS", 0.3, 3.0))
    assert high < low < pbs, (pbs, low, high)
    assert high < 0.2 * pbs  # Canon 2008: osteoclasts nearly abolished at 3 mg/kg
    ctx = [float(mouse_study[k]["bone.CTX"][-1]) for k in ("PBS", 0.3, 3.0)]
    assert ctx[2] < ctx[1] < ctx[0]


def test_opg_fc_slows_tumour_growth_in_bone(mouse_study):
    """The vicious cycle: less resorption, less matrix TGF-beta, slower tumour (Canon 2008 BLI)."""
    tumour = {k: float(mouse_study[k]["bone.T"][-1]) for k in ("PBS", 0.3, 3.0)}
    assert tumour[3.0] < tumour[0.3] < tumour["PBS"], tumour
