"""Mouse zoledronic acid (doses in mg/kg, IV into plasma or SC into the depot): mass balance
to 1e-8 for IV, SC and repeated doses, the engine against the matrix exponential of the
linear system (typed again here), the half-lives it was scaled to, the osteoclast kill
monotone in dose, and the Johnson et al. 2011 schedule raising bone volume in the bone model.

Independent references: the 7x7 system matrix is written out here from the equations of the
module docstring, and the reference solution is ``scipy.linalg.expm``. Targets: the human
label half-lives (0.24 h, 1.87 h, 146 h; Zometa label 12.3) divided by (70/0.025)^0.25, and
a 120-day terminal half-life (module docstring). Data: Johnson et al. 2011 bone volume at
day 28, 128 % (ZA + tumour) and 126.5 % (ZA, no tumour) against 75.9 % (PBS + tumour) of day 0
(data/johnson2011_bone_za.csv).
"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy.linalg import expm

from seedsoil.models import Link, compose, vicious_cycle
from seedsoil.models.drugs import (
    SCHEDULES,
    ZOLEDRONIC_ACID_MOUSE_JOHNSON2011,
    ZoledronicAcid,
    ZoledronicAcidMouse,
    zoledronic_acid,
    zoledronic_acid_mouse,
)
from seedsoil.models.drugs._zoledronic_acid_mouse import _K_BD, _K_DB, ALLOMETRIC, calibrate_mouse
from seedsoil.solvers import bolus, from_schedule, simulate

MODEL = zoledronic_acid("mouse")
P = {s.name: float(MODEL.params[s.name]) for s in MODEL.params.specs}
DOSE = 0.1  # mg/kg
DRUG = ("depot", "plasma", "tissue", "bone", "bone_deep", "urine", "sc_loss")
SOLVE = dict(rtol=1e-11, atol=1e-15)


def matrix(P):
    """(depot, plasma, tissue, bone, bone_deep, urine, sc_loss), from the equations typed again."""
    ke, ka, F = P["CL_R"] / P["V"], P["ka"], P["F"]
    A = np.zeros((7, 7))
    A[0, 0] = -ka
    A[1] = [F * ka, -(ke + P["k_pt"] + P["k_pb"]), P["k_tp"], P["k_bp"], P["k_db"], 0, 0]
    A[2, 1], A[2, 2] = P["k_pt"], -P["k_tp"]
    A[3, 1], A[3, 3] = P["k_pb"], -(P["k_bp"] + P["k_bd"])
    A[4, 3], A[4, 4] = P["k_bd"], -P["k_db"]
    A[5, 1] = ke
    A[6, 0] = (1 - F) * ka
    return A


def test_factory_species_and_metadata():
    assert isinstance(MODEL, ZoledronicAcidMouse) and MODEL.state_names == DRUG and MODEL.stiff
    assert isinstance(zoledronic_acid(), ZoledronicAcid) and zoledronic_acid().n_states == 5  # human unchanged
    assert zoledronic_acid_mouse().params.names == MODEL.params.names
    with pytest.raises(ValueError, match="species"):
        zoledronic_acid("rat")
    for spec in MODEL.params.specs:  # as tests/test_params.py asks of every model
        assert spec.unit and spec.source and spec.description, spec.name
        assert any(k in spec.source for k in ("19", "20", "ICRP", "assumption")), spec.name
    assert "to be fitted" in MODEL.params.spec("EC50").source and "to be fitted" in MODEL.params.spec("E_max").source


def test_jacobian_is_the_matrix_and_half_lives_are_the_scaled_targets():
    J = jax.jacfwd(lambda y: MODEL.vector_field(0.0, y, MODEL.params.values, jnp.zeros(7)))(jnp.ones(7))
    np.testing.assert_allclose(np.asarray(J), matrix(P), rtol=1e-14, atol=1e-14)
    lam = np.sort(-np.linalg.eigvals(matrix(P)[1:5, 1:5]).real)[::-1]  # disposition, fastest first
    half_h = np.log(2.0) / lam * 24.0
    # the human label half-lives over (70/0.025)^0.25: the first two by scaling (the slow
    # k_bd, k_db move them < 1e-5), the burial phase calibrated, and a 120-day terminal phase
    np.testing.assert_allclose(half_h[:2], np.array([0.24, 1.87]) / ALLOMETRIC, rtol=1e-4)
    assert abs(half_h[2] / (146.0 / ALLOMETRIC) - 1.0) < 1e-9
    assert abs(half_h[3] / 24.0 / 120.0 - 1.0) < 1e-9
    r = (0.025 / 0.25) ** 0.25  # rat alendronate 3-10 and 27-60 min, scaled to the mouse
    assert 3 * r < half_h[0] * 60 < 10 * r and 27 * r < half_h[1] * 60 < 60 * r
    fit = calibrate_mouse()
    assert abs(fit["k_bd"] / _K_BD - 1.0) < 1e-9 and abs(fit["k_db"] / _K_DB - 1.0) < 1e-9


# All mouse-only solves are one compiled, vmapped solve: a regimen of one IV bolus (plasma)
# and four SC boluses (depot) whose times and amounts are the batch. Rows: one IV dose at
# day 0, one SC dose at day 0, then the Johnson schedule (SC weekly from day 6) at DOSES.
DOSES = np.array([0.0, 0.003, 0.01, 0.03, 0.1, 0.3, 1.0])  # mg/kg
JOHNSON_DAYS = np.array([6.0, 13.0, 20.0, 27.0])
T = np.unique(np.concatenate([[0.0, 2 / 1440, 10 / 1440, 1 / 24, 0.25, 1.0, 3.0, 6.0, 6.5, 7.0, 28.0],
                              np.arange(7.0, 41.0)]))
IV, SC, J0 = 0, 1, 2  # row of the IV dose, of the SC dose, of the first Johnson dose level


def _regimen(a_iv, t_sc, a_sc):
    return bolus("plasma", 0.0, a_iv) + bolus("depot", t_sc, a_sc)


@pytest.fixture(scope="module")
def runs():
    n = len(DOSES)
    a_iv = np.r_[DOSE, 0.0, np.zeros(n)]
    t_sc = np.vstack([np.zeros((2, 4)), np.tile(JOHNSON_DAYS, (n, 1))])
    a_sc = np.vstack([np.zeros(4), [DOSE, 0, 0, 0], DOSES[:, None] * np.ones(4)])
    regs = jax.vmap(_regimen)(jnp.asarray(a_iv), jnp.asarray(t_sc), jnp.asarray(a_sc))
    sol = simulate(MODEL, T, regimen=regs, **SOLVE)
    given = np.vstack([np.full(len(T), DOSE), np.full(len(T), DOSE),
                       DOSES[:, None] * np.searchsorted(JOHNSON_DAYS, T, side="right")[None, :]])
    return sol, given


def test_mass_balance_iv_sc_and_repeated_doses(runs):
    sol, given = runs
    total = sum(np.asarray(sol[s]) for s in DRUG)  # (row, time)
    for row, label in ((IV, "IV bolus"), (SC, "SC bolus"), (J0 + 4, "Johnson 0.1 mg/kg x 4"),
                       (J0 + 6, "Johnson 1 mg/kg x 4")):
        assert np.max(np.abs(total[row] - given[row])) / given[row].max() < 1e-8, label
    assert np.max(np.abs(total - given)) < 1e-8 * 4 * DOSES.max()


@pytest.mark.parametrize("row, state", [(IV, "plasma"), (SC, "depot")], ids=["iv", "sc"])
def test_single_dose_matches_matrix_exponential(runs, row, state):
    sol, _ = runs
    y0 = np.zeros(7)
    y0[DRUG.index(state)] = DOSE
    ref = np.array([expm(matrix(P) * t) @ y0 for t in T])
    for i, name in enumerate(DRUG):
        np.testing.assert_allclose(np.asarray(sol[name])[row], ref[:, i], rtol=1e-8, atol=1e-10 * DOSE, err_msg=name)


def test_fractions_after_one_dose(runs):
    sol, _ = runs
    i = np.searchsorted(T, [1 / 24, 1.0, 28.0])
    u = np.asarray(sol["urine"])[IV, i] / DOSE
    skel = np.asarray(sol["bone_bound"])[IV, i] / DOSE
    assert 0.36 < u[0] < 0.38 and 0.39 < u[1] < 0.41 and 0.49 < u[2] < 0.51, u  # docstring: 37 %, 40 %, 50 %
    assert 0.49 < skel[2] < 0.51 and np.asarray(sol["bone_deep"])[IV, i[2]] > 50 * np.asarray(sol["bone"])[IV, i[2]]
    np.testing.assert_allclose(sol["C_bone"], np.asarray(sol["bone_bound"]) / P["f_bone"], rtol=1e-14)
    np.testing.assert_allclose(np.asarray(sol["sc_loss"])[SC, -1], (1 - P["F"]) * DOSE, rtol=1e-8)  # SC: F


def test_osteoclast_kill_monotone_in_dose_and_near_the_constant_effect(runs):
    sol, _ = runs
    kill = np.asarray(sol["osteoclast_kill"])[J0:]  # (dose, time), Johnson schedule
    after = T > 6.0
    assert np.all(kill[:, ~after] == 0.0) and np.all(kill[0] == 0.0)
    assert np.all(np.diff(kill[:, after], axis=0) > 0.0)  # strictly increasing in dose once dosed
    assert np.all(kill <= P["E_max"])
    at_johnson = kill[4, after]  # 0.1 mg/kg: the constant za_effect = 5/day of notebook 1, roughly
    assert np.all((4.4 < at_johnson) & (at_johnson < 5.0)), at_johnson


def test_johnson_schedule_as_data():
    assert SCHEDULES[ZOLEDRONIC_ACID_MOUSE_JOHNSON2011.name] is ZOLEDRONIC_ACID_MOUSE_JOHNSON2011
    reg = from_schedule(ZOLEDRONIC_ACID_MOUSE_JOHNSON2011, part="za", start=6.0, count=4)
    np.testing.assert_array_equal(reg.event_time, [6.0, 13.0, 20.0, 27.0])
    np.testing.assert_array_equal(reg.event_amount, 0.1)
    assert set(reg.event_target) == {"za.depot"}
    assert "Johnson et al. 2011" in ZOLEDRONIC_ACID_MOUSE_JOHNSON2011.source
    assert "assumption" in ZOLEDRONIC_ACID_MOUSE_JOHNSON2011.source


def test_johnson_schedule_raises_bone_volume_in_the_bone_model():
    """Composed with the vicious cycle, the Johnson ZA group gains bone where the PBS group
    loses it (data, day 28: 128 % against 75.9 %). Solved explicitly (stiff=False, as
    bone_metastasis is), which compiles in a fraction of the implicit solver's time. (Against
    the constant za_effect = 5/day from day 6 of notebook 1 the bone volume differs by < 0.3 %
    on days 7-28 at the defaults; not asserted, to keep this test to one compile.)"""
    study = compose({"bone": vicious_cycle(), "za": zoledronic_acid("mouse")},
                    [Link("za", "osteoclast_kill", "bone", "za_effect")], stiff=False)
    times = np.array([0.0, 6.0, 7.0, 14.0, 21.0, 28.0])
    amounts = jnp.array([0.0, DOSE])  # PBS, ZA: one compiled solve
    regs = jax.vmap(lambda a: from_schedule(ZOLEDRONIC_ACID_MOUSE_JOHNSON2011, part="za", start=6.0, count=4,
                                            amount=a))(amounts)
    bv = np.asarray(simulate(study, times, regimen=regs)["bone.bone_volume"])  # (group, time)
    untreated, treated = bv
    assert untreated[-1] < 90.0 < 100.0 < treated[-1], bv
    assert np.all(np.diff(treated[2:]) > 0.0)  # ZA group gains bone week after week
    np.testing.assert_allclose(treated[:2], untreated[:2], rtol=1e-10)  # nothing before day 6
