"""Zoledronic acid: label half-lives from the eigenvalues of the system matrix (built here
with NumPy from the equations typed again), 24-h urinary recovery and checks that were not
calibrated, mass balance, and a Q4W schedule against scipy.

Label (Zometa US label, 12.3; 64 patients with cancer and bone metastases): triphasic
decline with half-lives 0.24 h, 1.87 h and 146 h, plasma below 1 % of Cmax at 24 h,
AUC(0-24) ratio cycle 2 / cycle 1 of 1.13 +/- 0.30, 39 +/- 16 % of the dose in urine in
24 h and only trace amounts after day 2. Chen et al. 2002 (4-mg groups): 38 +/- 13 % in
24 h, renal clearance 69 mL/min, terminal half-life 4526 h. Legay et al. 2002: 40-50 % of
the dose recovered in urine.
"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from seedsoil.models.drugs import zoledronic_acid
from seedsoil.models.drugs._zoledronic_acid import INFUSION_DAYS, calibrate
from seedsoil.solvers import every, infusion, simulate

from .conftest import TIGHT
from .reference.scipy_piecewise import solve_piecewise

MODEL = zoledronic_acid()
P = {s.name: float(MODEL.params[s.name]) for s in MODEL.params.specs}
DOSE = 4.0
RATE = DOSE / INFUSION_DAYS  # mg/day over 15 minutes
N_CYCLES = 6
STARTS = np.asarray(every(28.0, 0.0, N_CYCLES))
STOPS = STARTS + INFUSION_DAYS
# save at every infusion start/stop, 24 h after each start, and on a coarse grid
T_Q4W = np.unique(np.concatenate([np.linspace(0.0, 28.0 * N_CYCLES, 8 * 28 * N_CYCLES + 1),
                                  STOPS, STARTS + 1.0, STARTS + 0.5 * INFUSION_DAYS]))


def matrix(P):
    """(plasma, tissue, bone, bone_deep) system matrix, from the equations typed again."""
    ke = P["CL_R"] / P["V"]
    return np.array([
        [-(ke + P["k_pt"] + P["k_pb"]), P["k_tp"], P["k_bp"], P["k_db"]],
        [P["k_pt"], -P["k_tp"], 0.0, 0.0],
        [P["k_pb"], 0.0, -(P["k_bp"] + P["k_bd"]), 0.0],
        [0.0, 0.0, P["k_bd"], -P["k_db"]],
    ])


@pytest.fixture(scope="module")
def q4w():
    return simulate(MODEL, T_Q4W, regimen=infusion("plasma", RATE, STARTS, STOPS), **TIGHT)


def test_half_lives_from_eigenvalues_match_label():
    lam = np.sort(-np.linalg.eigvals(matrix(P)).real)[::-1]  # 1/day, fastest first
    half_lives_h = np.log(2.0) / lam * 24.0
    np.testing.assert_allclose(half_lives_h, [0.24, 1.87, 146.0, 4526.0], rtol=1e-6)
    # ... and the model's right-hand side has exactly that Jacobian (plus urine row)
    J = jax.jacfwd(lambda y: MODEL.vector_field(0.0, y, MODEL.params.values, jnp.zeros(5)))(jnp.ones(5))
    np.testing.assert_allclose(np.asarray(J)[:4, :4], matrix(P), rtol=1e-14)
    np.testing.assert_allclose(np.asarray(J)[4], [P["CL_R"] / P["V"], 0, 0, 0, 0], rtol=1e-14)


def test_urinary_fractions(q4w):
    u = np.asarray(q4w["urine_excreted"])[np.searchsorted(T_Q4W, [1.0, 2.0, 27.99])] / DOSE
    assert abs(u[0] - 0.39) < 1e-6  # calibration target (independent solve: engine vs matrix exponential)
    assert abs(u[0] - 0.39) < 0.16 and abs(u[0] - 0.38) < 0.13  # label 39 +/- 16 %; Chen 2002 38 +/- 13 %
    assert abs(u[2] - 0.45) < 1e-3  # calibration target: 45 % by day 28 (Legay 2002: 40-50 %)
    # label: "only trace amounts" in urine after day 2: most of the 28-day excretion is done by then
    assert u[1] / u[2] > 0.85, u  # (model 87 %: 39.3 % of the dose by day 2, 45 % by day 28)


def test_skeletal_retention(q4w):
    """Most of what is not excreted stays in the skeleton for months (4526-h phase)."""
    t = np.searchsorted(T_Q4W, 27.99)
    bound = np.asarray(q4w["bone_bound"])[t] / DOSE
    assert 0.5 < bound < 0.6, bound  # 1 - 45 % excreted - what is still in plasma/tissue
    assert np.asarray(q4w["bone_deep"])[t] > 5 * np.asarray(q4w["bone"])[t]  # buried, not on the surface


def test_checks_not_used_in_calibration(q4w):
    c = np.asarray(q4w["C_plasma"])
    i_end, i_24 = np.searchsorted(T_Q4W, [INFUSION_DAYS, 1.0])
    assert abs(c[i_end] / 329.0 - 1.0) < 1e-6  # calibrated Cmax, end of infusion
    assert c[: i_24 + 1].argmax() == i_end
    assert c[i_24] / c[i_end] < 0.01  # label: < 1 % of Cmax at 24 h
    # AUC(0-24) = Ae(0-24)/CL_R here, so the cycle-2/cycle-1 ratio is a ratio of urine increments
    u = np.asarray(q4w["urine"])
    ae = [u[np.searchsorted(T_Q4W, s + 1.0)] - u[np.searchsorted(T_Q4W, s)] for s in STARTS[:2]]
    ratio = ae[1] / ae[0]
    assert 1.0 < ratio < 1.13 + 0.30, ratio  # label 1.13 +/- 0.30


def test_mass_balance_q4w(q4w):
    infused = RATE * np.clip(T_Q4W[:, None] - STARTS[None, :], 0.0, INFUSION_DAYS).sum(axis=1)
    total = sum(np.asarray(q4w[n]) for n in ("plasma", "tissue", "bone", "bone_deep", "urine"))
    assert np.max(np.abs(total - infused)) / (DOSE * N_CYCLES) < 1e-8
    skeleton = np.asarray(q4w["bone"]) + np.asarray(q4w["bone_deep"])
    np.testing.assert_allclose(q4w["bone_bound"], skeleton, rtol=1e-15)
    np.testing.assert_allclose(q4w["C_bone"], 1e3 * skeleton / P["M_bone"], rtol=1e-14)


def reference_rhs(t, y, rate=0.0):
    plasma, tissue, bone, deep, urine = y
    ke = P["CL_R"] / P["V"]
    return [
        rate - (ke + P["k_pt"] + P["k_pb"]) * plasma + P["k_tp"] * tissue + P["k_bp"] * bone + P["k_db"] * deep,
        P["k_pt"] * plasma - P["k_tp"] * tissue,
        P["k_pb"] * plasma - (P["k_bp"] + P["k_bd"]) * bone,
        P["k_bd"] * bone - P["k_db"] * deep,
        ke * plasma,
    ]


def test_q4w_matches_scipy(q4w):
    kw = lambda t: {"rate": RATE if np.any((STARTS <= t) & (t < STOPS)) else 0.0}
    ref = solve_piecewise(reference_rhs, np.zeros(5), T_Q4W, switches=np.concatenate([STARTS, STOPS]), kw=kw,
                          method="Radau", rtol=1e-11, atol=1e-15)
    for i, name in enumerate(MODEL.state_names):
        np.testing.assert_allclose(q4w[name], ref[:, i], rtol=1e-7, atol=1e-10 * DOSE, err_msg=name)


def test_calibration_reproduces_defaults():
    fit = calibrate(starts=3)
    for name, value in fit.items():
        assert abs(value / P[name] - 1.0) < 1e-6, (name, value, P[name])


def test_gradient_through_an_undosed_stretch_is_finite_and_matches_fd():
    # Zoledronic acid coupled to the bone model, given once at day 60 after two empty
    # months, solved explicitly (as in the full model). Tsit5 steps past the stability limit
    # of the empty 0.24-h mode, whose reverse-mode cotangent overflows; seedsoil.models.base.flux
    # keeps d/d(rate) the exact 0 it is while the compartment is empty (was NaN).

    from seedsoil.models import Link, compose
    from seedsoil.models.bone import HUMAN_BONE, vicious_cycle
    from seedsoil.models.drugs import ZOLEDRONIC_ACID_Q4W
    from seedsoil.solvers import from_schedule

    model = compose({"bone": vicious_cycle().with_params(**HUMAN_BONE), "za": zoledronic_acid()},
                    [Link("za", "osteoclast_kill", "bone", "za_effect")], stiff=False)
    reg = from_schedule(ZOLEDRONIC_ACID_Q4W, part="za", start=60.0, count=1)
    times = jnp.linspace(0.0, 90.0, 4)
    names = model.params.flat_names()

    def loss(v):
        sol = simulate(model, times, params=v, regimen=reg, solver="tsit5", throw=False, **TIGHT)
        return jnp.sum(sol["bone.bone_volume"]) + jnp.sum(sol["bone.CTX"])

    v0 = jnp.asarray(model.params.values)
    g = np.asarray(jax.jit(jax.grad(loss))(v0))
    assert np.all(np.isfinite(g)), [n for n, x in zip(names, g) if not np.isfinite(x)]
    f = jax.jit(loss)
    for name in ("za.k_pb", "za.CL_R", "za.k_bd", "bone.k_z"):
        i = names.index(name)
        h = 1e-4 * float(v0[i])
        fd = (float(f(v0.at[i].add(h))) - float(f(v0.at[i].add(-h)))) / (2 * h)
        assert abs(g[i] - fd) <= 1e-4 * abs(fd), (name, g[i], fd)
