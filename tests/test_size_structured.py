"""Iwata et al. 2000 size-structured metastasis model against independent references.

References are computed here from the equations typed again, without seedsoil code:
the number and mass of metastases seeded by the primary alone by quadrature of the
closed-form Gompertz curve; the number when metastases seed too from the renewal
(Volterra) equation of the birth rate, solved by the trapezoid rule with Richardson
extrapolation. The finite-volume grid is then checked for its third-order convergence
and for exact conservation of the number of metastases.

One compiled solve per grid size serves every test: a batch of three scenarios (primary
seeds; metastases seed too; primary seeds and is resected at day 800). The first two get
a no-op resection (factor 1) so that all three share the regimen structure.
"""

import functools

import jax.numpy as jnp
import numpy as np
import pytest
from scipy.integrate import quad

from seedsoil.models.base import View
from seedsoil.models.metastasis import (
    count_above,
    integrate_density,
    iwata2000,
    log_size_grid,
    total_number,
    transport_rhs,
)
from seedsoil.solvers import scale, simulate

# Iwata et al. 2000 (J Theor Biol 203:177), typed again.
A, B_CAP, M, ALPHA = 0.00286, 7.3e10, 5.3e-8, 0.663  # 1/day, cells, cells^-alpha/day, 1
X_DETECT = 1e8  # cells, the model's default detection size
LN_B = np.log(B_CAP)

T_RESECT = 800.0
TIMES = np.array([0.0, T_RESECT, 1000.0, 1500.0])
REPORT = (2, 3)  # indices of days 1000 and 1500 in TIMES
PRIMARY, METASTASES_SEED, RESECTED = 0, 1, 2
SOLVE = dict(rtol=1e-10, atol=1e-12)  # not stiff: the default explicit Tsit5
QUAD = dict(epsabs=0.0, epsrel=1e-13, limit=200)


# ------------------------------------------------------------------------- references
def size_at_age(tau):
    """Gompertz size from one cell after tau days: b^(1 - exp(-a tau)) [cells]."""
    return np.exp(LN_B * (1.0 - np.exp(-A * tau)))


def seeding_at_age(tau):
    """beta(X(tau)) = m X(tau)^alpha [1/day]: seeding rate of a tumour of age tau; the
    primary started from one cell at t = 0, so its seeding rate at time t is this at t."""
    return M * size_at_age(tau) ** ALPHA


def age_to_reach(x):
    """Days for a one-cell tumour to reach x cells (inverse of size_at_age)."""
    return -np.log(1.0 - np.log(x) / LN_B) / A


def seeded_by_primary(t, t_stop=np.inf):
    """N(t) = int_0^min(t, t_stop) beta(x_p(s)) ds: metastases seeded by the primary."""
    return quad(seeding_at_age, 0.0, min(t, t_stop), **QUAD)[0]


def mass_from_primary(t, t_stop=np.inf):
    """M(t) = int_0^min(t, t_stop) beta(x_p(s)) X(t - s) ds [cells]."""
    return quad(lambda s: seeding_at_age(s) * size_at_age(t - s), 0.0, min(t, t_stop), **QUAD)[0]


def detectable_from_primary(t, t_stop=np.inf):
    """Metastases larger than X_DETECT at t: those born before t - age_to_reach(X_DETECT)."""
    return seeded_by_primary(max(t - age_to_reach(X_DETECT), 0.0), t_stop)


def renewal_number(t_end, h):
    """Number of metastases when metastases seed too, from the birth rate
    B(t) = beta(x_p(t)) + int_0^t beta(X(t - s)) B(s) ds, by the trapezoid rule (step h),
    and N(t) = int_0^t B. Returns (t, N) on the grid; error O(h^2)."""
    k = int(round(t_end / h))
    t = h * np.arange(k + 1)
    kernel = seeding_at_age(t)  # beta(X(age)); the forcing beta(x_p(t)) is the same curve
    birth = np.zeros(k + 1)
    birth[0] = kernel[0]
    for j in range(1, k + 1):
        history = 0.5 * kernel[j] * birth[0] + np.dot(kernel[j - 1:0:-1], birth[1:j])
        birth[j] = (kernel[j] + h * history) / (1.0 - 0.5 * h * kernel[0])
    number = np.concatenate([[0.0], np.cumsum(0.5 * h * (birth[1:] + birth[:-1]))])
    return t, number


@functools.cache
def renewal_reference():
    """N at days 1000 and 1500 (metastases seed), Richardson-extrapolated from h = 0.5 and
    0.25 days, and the size of that correction (an error estimate of the unextrapolated)."""
    t_coarse, n_coarse = renewal_number(1500.0, 0.5)
    t_fine, n_fine = renewal_number(1500.0, 0.25)
    at = lambda t, n, day: n[np.flatnonzero(np.isclose(t, day))[0]]
    coarse = np.array([at(t_coarse, n_coarse, d) for d in (1000.0, 1500.0)])
    fine = np.array([at(t_fine, n_fine, d) for d in (1000.0, 1500.0)])
    return fine + (fine - coarse) / 3.0, np.abs(fine - coarse) / fine


# ------------------------------------------------------------------------ model solves
@functools.cache
def solve(n_bins):
    """The three scenarios at TIMES on n_bins log-size bins, as numpy arrays by name."""
    resection = scale("x_p", np.full((3, 1), T_RESECT), np.array([[1.0], [1.0], [0.0]]))
    sol = simulate(iwata2000(n_bins), TIMES, params={"met_seeding": np.array([0.0, 1.0, 0.0])},
                   regimen=resection, **SOLVE)
    return {k: np.asarray(sol[k]) for k in sol.keys()}


def rel_err(value, ref):
    return np.asarray(value) / np.asarray(ref) - 1.0


# ------------------------------------------------------------------------------- tests
def test_primary_seeding_matches_quadrature():
    ref = np.array([seeded_by_primary(t) for t in TIMES[list(REPORT)]])
    assert np.round(ref, 2).tolist() == [70.53, 330.56]  # the published values, 4 digits
    out = solve(100)
    # conservation makes this count independent of the grid: only the ODE tolerance acts
    np.testing.assert_allclose(out["n_metastases"][PRIMARY, list(REPORT)], ref, rtol=1e-8)
    np.testing.assert_allclose(out["seeded_primary"][PRIMARY], out["n_metastases"][PRIMARY], rtol=1e-12, atol=1e-20)
    assert np.all(out["seeded_secondary"][PRIMARY] == 0.0)
    np.testing.assert_allclose(out["x_p"][PRIMARY], size_at_age(TIMES), rtol=1e-8)


def test_metastases_seeding_matches_renewal_equation():
    ref, correction = renewal_reference()
    assert correction.max() < 1e-6  # the trapezoid references agree before extrapolation
    assert [round(ref[0], 2), round(ref[1], 1)] == [76.42, 1227.7]  # the published values
    out = solve(100)
    # grid error at 100 bins, measured: -1.7e-5 (day 1000), +2.5e-5 (day 1500)
    np.testing.assert_allclose(out["n_metastases"][METASTASES_SEED, list(REPORT)], ref, rtol=1e-4)
    total = out["seeded_primary"] + out["seeded_secondary"]
    np.testing.assert_allclose(total[METASTASES_SEED], out["n_metastases"][METASTASES_SEED], rtol=1e-12)
    assert out["seeded_secondary"][METASTASES_SEED, -1] > 2.0 * out["seeded_primary"][METASTASES_SEED, -1]


def test_mass_and_detectable_count_match_quadrature():
    days = TIMES[list(REPORT)]
    out = solve(100)
    # grid errors at 100 bins, measured: mass -1.0e-3 / +1.6e-4, count +7.3e-5 / -7.5e-6
    mass = [mass_from_primary(t) for t in days]
    np.testing.assert_allclose(out["metastatic_mass"][PRIMARY, list(REPORT)], mass, rtol=2e-3)
    detectable = [detectable_from_primary(t) for t in days]
    np.testing.assert_allclose(out["n_detectable"][PRIMARY, list(REPORT)], detectable, rtol=2e-4)
    assert 0 < detectable[0] < seeded_by_primary(days[0])  # the count is a real cut


def test_resection_stops_seeding_and_conserves_number():
    out = solve(100)
    after = TIMES >= T_RESECT
    assert np.all(out["x_p"][RESECTED, after] == 0.0)
    n_after = out["n_metastases"][RESECTED, after]
    np.testing.assert_allclose(n_after, seeded_by_primary(T_RESECT), rtol=1e-8)
    np.testing.assert_allclose(n_after, n_after[0], rtol=1e-12)  # no inflow: number frozen
    days = TIMES[list(REPORT)]
    # the metastases keep growing; grid errors at 100 bins, measured: -1.0e-3 / +3.9e-4
    mass = [mass_from_primary(t, T_RESECT) for t in days]
    np.testing.assert_allclose(out["metastatic_mass"][RESECTED, list(REPORT)], mass, rtol=2e-3)
    detectable = [detectable_from_primary(t, T_RESECT) for t in days]
    np.testing.assert_allclose(out["n_detectable"][RESECTED, list(REPORT)], detectable, rtol=2e-4)


def test_grid_convergence_is_third_order():
    """Errors of every grid-dependent observable fall by ~8 per doubling of the bins."""
    days = TIMES[list(REPORT)]
    ref_mass = np.array([mass_from_primary(t) for t in days])
    ref_detect = detectable_from_primary(days[0])  # at day 1500 it is already ~1e-6 at 100 bins
    ref_number, _ = renewal_reference()
    ref_resected = mass_from_primary(days[1], T_RESECT)
    errors = []
    for n_bins in (100, 200, 400):
        out = solve(n_bins)
        errors.append(np.concatenate([
            rel_err(out["metastatic_mass"][PRIMARY, list(REPORT)], ref_mass),
            [rel_err(out["n_detectable"][PRIMARY, REPORT[0]], ref_detect)],
            rel_err(out["n_metastases"][METASTASES_SEED, list(REPORT)], ref_number),
            [rel_err(out["metastatic_mass"][RESECTED, REPORT[1]], ref_resected)],
        ]))
    errors = np.abs(np.array(errors))
    order = np.log2(errors[:-1] / errors[1:])
    assert np.all(order > 2.7), f"observed orders {order.round(2)}; errors {errors}"  # measured 2.96-3.07
    assert errors[0].max() < 2e-3 and errors[-1].max() < 2e-5


def test_number_changes_only_by_inflow():
    """sum(d density/dt * dy) equals the seeding rate to round-off, for any density."""
    rng = np.random.default_rng(0)
    for seed_flag in (0.0, 1.0):
        model = iwata2000(50, metastases_seed=bool(seed_flag))
        p = model.params.view()
        edges = np.asarray(model.edges(p))
        assert edges[0] == 0.0 and edges[-1] == np.log(model.params["b"])  # zero outflow at ln b
        y = model.pack({"x_p": 3e9, "density": rng.uniform(0.0, 10.0, 50), "seeded_primary": 0.0,
                        "seeded_secondary": 0.0})
        dy = model.rhs(0.0, View(y, model.state_layout), p, View(jnp.zeros(0), {}))
        inflow = dy["seeded_primary"] + dy["seeded_secondary"]
        np.testing.assert_allclose(np.sum(dy["density"] * np.diff(edges)), inflow, rtol=1e-12)
        np.testing.assert_allclose(dy["seeded_primary"], M * 3e9**ALPHA, rtol=1e-12)
        assert (dy["seeded_secondary"] > 0) == bool(seed_flag)


def test_building_blocks_broadcast_over_organs():
    """A leading organ axis gives the same as one organ at a time, with or without limiter."""
    rng = np.random.default_rng(1)
    x_max = np.array([1e9, 7.3e10, 1e12])
    edges = log_size_grid(x_max, 40)
    assert edges.shape == (3, 41)
    speed = 0.003 * (np.log(x_max)[:, None] - edges)
    n = jnp.asarray(rng.uniform(0.0, 5.0, (3, 40)))
    inflow = jnp.array([0.1, 1.0, 2.0])
    weight = lambda y: jnp.exp(0.5 * y)
    for limiter in (False, True):
        batched = transport_rhs(n, edges, speed, inflow, limiter=limiter)
        for k in range(3):
            np.testing.assert_allclose(batched[k], transport_rhs(n[k], edges[k], speed[k], inflow[k], limiter=limiter),
                                       rtol=1e-14)
        np.testing.assert_allclose(jnp.sum(batched * jnp.diff(edges, axis=-1), axis=-1), inflow, rtol=1e-12)
    for k in range(3):
        np.testing.assert_allclose(integrate_density(n, edges, weight)[k], integrate_density(n[k], edges[k], weight))
        np.testing.assert_allclose(count_above(n, edges, jnp.log(1e8))[k], count_above(n[k], edges[k], jnp.log(1e8)))
        np.testing.assert_allclose(total_number(n, edges)[k], total_number(n[k], edges[k]))


def test_integrals_of_smooth_densities():
    """integrate_density and count_above on a density known in closed form: n(y) = exp(-y/4)."""
    edges = log_size_grid(7.3e10, 200)
    centres = 0.5 * (edges[1:] + edges[:-1])
    h = 0.5 * jnp.diff(edges)
    n = 4.0 * jnp.exp(-centres / 4.0) * jnp.sinh(h / 4.0) / h  # exact bin averages
    y_end = float(edges[-1])
    np.testing.assert_allclose(total_number(n, edges), 4.0 * (1.0 - np.exp(-y_end / 4.0)), rtol=1e-13)
    mass = (np.exp(0.75 * y_end) - 1.0) / 0.75  # int exp(y) exp(-y/4) dy
    np.testing.assert_allclose(integrate_density(n, edges, jnp.exp), mass, rtol=1e-5)
    y_d = np.log(1e8)
    np.testing.assert_allclose(count_above(n, edges, y_d), 4.0 * (np.exp(-y_d / 4.0) - np.exp(-y_end / 4.0)),
                               rtol=1e-5)
    assert count_above(n, edges, -1.0) == pytest.approx(float(total_number(n, edges)), rel=1e-14)
    assert count_above(n, edges, 30.0) == 0.0


def test_limiter_keeps_a_step_nonnegative():
    """A step in the density (the trailing edge after a resection) undershoots with the
    linear scheme and stays >= 0 with the Koren limiter (explicit Euler, CFL 0.25)."""
    edges = log_size_grid(7.3e10, 60)
    speed = A * (LN_B - edges)
    n = jnp.where(jnp.arange(60) >= 20, 1.0, 0.0)
    dt = 0.25 * float(jnp.min(jnp.diff(edges) / speed[1:]))
    linear = n + dt * transport_rhs(n, edges, speed, 0.0)
    limited = n + dt * transport_rhs(n, edges, speed, 0.0, limiter=True)
    assert float(linear.min()) < -1e-3
    assert float(limited.min()) >= 0.0


def test_implicit_solver_agrees():
    """The implicit Kvaerno5 solves the model too (slowly: see the module docstring)."""
    sol = simulate(iwata2000(40), TIMES[[0, 2, 3]], solver="kvaerno5", rtol=1e-8, atol=1e-10)
    ref = [seeded_by_primary(t) for t in (1000.0, 1500.0)]
    np.testing.assert_allclose(sol["n_metastases"][1:], ref, rtol=1e-6)
    np.testing.assert_allclose(sol["x_p"], size_at_age(TIMES[[0, 2, 3]]), rtol=1e-6)


def test_carrying_capacity_must_leave_a_grid():
    """b = 1 cell gives a log-size grid of zero length: refused naming the value, not a
    solve that fails with max_steps_reached."""
    with pytest.raises(ValueError, match=r"'b' = 1\.0 is outside its bounds"):
        simulate(iwata2000(20), [0.0, 10.0], params={"b": 1.0})
