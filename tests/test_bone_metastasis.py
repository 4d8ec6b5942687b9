"""Cascade + vicious cycle + denosumab + zoledronic acid: one tumour in bone, and both
drugs lower bone metastatic burden and bone loss over five years (breast preset)."""

import dataclasses

import numpy as np
import pytest

from models.bone import bone_metastasis
from models.drugs import XGEVA_Q4W, ZOLEDRONIC_ACID_Q4W
from solvers import from_schedule, simulate

MODEL = bone_metastasis("breast")
YEARS5 = np.linspace(0.0, 5 * 365.0, 61)
BONE = MODEL.parts[0].organs.index("bone")
XGEVA = from_schedule(dataclasses.replace(XGEVA_Q4W, state="denosumab.depot"), count=65)
ZA = from_schedule(dataclasses.replace(ZOLEDRONIC_ACID_Q4W, state="za.plasma"), count=65)


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
