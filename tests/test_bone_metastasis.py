"""Cascade + vicious cycle + denosumab + zoledronic acid: one tumour in bone, and both
drugs lower bone metastatic burden and bone loss over five years (breast preset)."""


import numpy as np
import pytest

from seedsoil.models.bone import bone_metastasis
from seedsoil.models.drugs import XGEVA_Q4W, ZOLEDRONIC_ACID_Q4W
from seedsoil.solvers import from_schedule, simulate

MODEL = bone_metastasis("breast")
YEARS5 = np.linspace(0.0, 5 * 365.0, 61)
BONE = MODEL.part("cascade").organs.index("bone")
XGEVA = from_schedule(XGEVA_Q4W, part="denosumab", count=65)
ZA = from_schedule(ZOLEDRONIC_ACID_Q4W, part="za", count=65)


@pytest.fixture(scope="module")
def runs():
    return {name: simulate(MODEL, YEARS5, regimen=reg) for name, reg in
            (("untreated", None), ("denosumab", XGEVA), ("zoledronic acid", ZA))}


def test_one_tumour_in_bone(runs):
    """The bone model has no tumour state of its own: its PTHrP comes from the cascade's
    bone metastases (PTHrP = rho_P burden / T_ref (1 + g_P s))."""
    assert "bone.T" not in MODEL.state_names and "cascade.n" in MODEL.state_names
    sol = runs["untreated"]
    p = MODEL.params
    burden = np.asarray(sol["cascade.metastatic_burden"][:, BONE])
    expected = float(p["bone.rho_P"]) * burden / float(p["bone.T_ref"]) * (
        1.0 + float(p["bone.g_P"]) * np.asarray(sol["bone.tgf_signal"]))
    np.testing.assert_allclose(sol["bone.PTHrP"], expected, rtol=1e-12)


@pytest.mark.parametrize("drug", ["denosumab", "zoledronic acid"])
def test_either_drug_lowers_bone_burden_and_bone_loss(runs, drug):
    untreated, treated = runs["untreated"], runs[drug]
    late = YEARS5 > 365
    assert np.all(np.asarray(treated["cascade.metastatic_burden"][late, BONE])
                  < np.asarray(untreated["cascade.metastatic_burden"][late, BONE]))
    assert np.all(np.asarray(treated["bone.bone_volume"])[late] > np.asarray(untreated["bone.bone_volume"])[late])
    assert np.all(np.asarray(treated["bone.CTX"])[late] < np.asarray(untreated["bone.CTX"])[late])
    assert treated.status == "success"


def test_full_model_with_doses_matches_scipy_lsoda():
    """The whole composite (352 states) under denosumab Q4W for one year, against scipy's
    LSODA on the model's own right-hand side, split at every dose: an independent
    integrator and dose handling (values relative to each state's range)."""

    from .reference.scipy_piecewise import solve_model_with_boluses

    times = np.arange(0.0, 365.0, 28.0)  # days 0 .. 364
    doses = np.asarray(XGEVA.event_time)[:13]  # days 0 .. 336, all inside the horizon
    sol = simulate(MODEL, times, regimen=from_schedule(XGEVA_Q4W, part="denosumab", count=13), rtol=1e-9, atol=1e-12)
    ref = solve_model_with_boluses(MODEL, times, "denosumab.depot", doses, 120.0, method="LSODA", rtol=1e-9,
                                   atol=1e-12)
    ys = np.asarray(sol.ys)
    scale = np.max(np.abs(ref), axis=0)
    assert ref.shape == ys.shape
    assert np.max(np.abs(ys - ref) / np.maximum(scale, 1e-12)) < 1e-4  # model-level agreement, rtol 1e-9 both
    bone_c = MODEL.state_layout["bone.C"][0]
    assert ref[-1, bone_c] < 0.1 * ref[0, bone_c]  # and the doses took effect: osteoclasts suppressed
