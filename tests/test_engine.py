"""The simulation engine against closed-form solutions of a linear one-compartment model.

dA/dt = -k A + r(t) has an exact solution for any train of boluses and zero-order
infusions, so dose handling (exact timing, doses at one time adding up, post-dose
convention, infusions into states or inputs, scaling events), batching, compilation
reuse and gradients can all be checked against numbers computed independently here.
"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from seedsoil.models.base import Input, Model, Param, Params, State
from seedsoil.solvers import Regimen, bolus, every, infusion, scale, simulate, trace_count

from .conftest import TIGHT


class OneCompartment(Model):
    """dA/dt = -k A + r,  dN/dt = 0 (N only receives events)."""

    def rhs(self, t, y, p, u):
        return {"A": -p.k * y.A + u.r, "N": 0.0 * y.N}


def one_compartment(k=0.3):
    return OneCompartment(
        name="one_compartment",
        states=(State("A", "mg", "amount in the compartment"), State("N", "1", "event counter")),
        params=Params.from_specs((Param("k", k, "1/day", "test model", (0.0, 10.0)),)),
        y0=jnp.array([0.0, 1.0]),
        inputs=(Input("r", "mg/day", "infusion rate"),),
    )


def closed_form(t, k, A0=0.0, boluses=(), infusions=()):
    """A(t) for first-order elimination with bolus (time, dose) and infusion (start, stop, rate)."""
    t = np.asarray(t, float)
    A = A0 * np.exp(-k * t)
    for ti, d in boluses:
        A = A + np.where(t >= ti, d * np.exp(-k * (t - ti)), 0.0)
    for s, e, r in infusions:
        tt = np.clip(t, s, e)  # end of infusion seen from t
        A = A + np.where(t >= s, r / k * (1 - np.exp(-k * (tt - s))) * np.exp(-k * (t - tt)), 0.0)
    return A


MODEL = one_compartment()
K = 0.3
TIMES = np.linspace(0.0, 20.0, 81)  # contains 2.5, 5.0, ... (some dose times below)


# Both ways of saving: segments ending on every save time (default), and diffrax's dense
# output between events (step_to_saves=False).
SAVING = pytest.mark.parametrize("step_to_saves", [True, False], ids=["stop-at-saves", "interpolate"])


@SAVING
def test_bolus_train_at_off_grid_times_is_exact(step_to_saves):
    dose_t = np.array([0.37, 1.91, 2.5, 7.123, 7.124, 13.0])
    doses = np.array([10.0, 5.0, 2.0, 1.0, 3.0, 4.0])
    sol = simulate(MODEL, TIMES, regimen=bolus("A", dose_t, doses), step_to_saves=step_to_saves, **TIGHT)
    ref = closed_form(TIMES, K, boluses=zip(dose_t, doses))
    np.testing.assert_allclose(sol["A"], ref, rtol=1e-8, atol=1e-12)
    assert sol.status == "success"


@SAVING
def test_doses_at_one_time_add_up_and_saved_value_is_post_dose(step_to_saves):
    reg = bolus("A", [5.0, 5.0, 5.0], [1.0, 2.0, 4.0])
    sol = simulate(MODEL, TIMES, regimen=reg, step_to_saves=step_to_saves, **TIGHT)
    i5 = int(np.flatnonzero(TIMES == 5.0)[0])
    assert sol["A"][i5 - 1] == 0.0
    np.testing.assert_allclose(sol["A"][i5], 7.0, rtol=1e-12)
    np.testing.assert_allclose(sol["A"], closed_form(TIMES, K, boluses=[(5.0, 7.0)]), rtol=1e-8, atol=1e-12)


def test_dose_at_start_and_beyond_horizon():
    reg = bolus("A", [0.0, 25.0], [3.0, 100.0])  # the day-25 dose is after the last save time
    sol = simulate(MODEL, TIMES, regimen=reg, **TIGHT)
    np.testing.assert_allclose(sol["A"], closed_form(TIMES, K, boluses=[(0.0, 3.0)]), rtol=1e-8, atol=1e-12)


@SAVING
@pytest.mark.parametrize("target", ["A", "r"])
def test_infusion_into_state_or_input_matches_closed_form(target, step_to_saves):
    reg = infusion(target, [2.0, 1.5], [1.3, 4.0], [6.7, 4.5]) + bolus("A", 3.3, 1.0)
    sol = simulate(MODEL, TIMES, regimen=reg, step_to_saves=step_to_saves, **TIGHT)
    ref = closed_form(TIMES, K, boluses=[(3.3, 1.0)], infusions=[(1.3, 6.7, 2.0), (4.0, 4.5, 1.5)])
    np.testing.assert_allclose(sol["A"], ref, rtol=1e-8, atol=1e-12)
    if target == "r":
        expected_r = (np.where((TIMES >= 1.3) & (TIMES < 6.7), 2.0, 0.0)
                      + np.where((TIMES >= 4) & (TIMES < 4.5), 1.5, 0.0))
        np.testing.assert_array_equal(sol["r"], expected_r)


def test_open_ended_infusion_reaches_its_steady_state():
    sol = simulate(MODEL, np.linspace(0, 200, 5), regimen=infusion("r", 3.0, 0.0, np.inf), **TIGHT)
    np.testing.assert_allclose(sol["A"][-1], 3.0 / K, rtol=1e-9)


@SAVING
def test_scale_events_apply_in_the_order_given(step_to_saves):
    reg = bolus("N", 1.0, 2.0) + scale("N", 1.0, 0.5) + bolus("A", 2.0, 10.0) + scale("A", 4.0, 0.1)
    sol = simulate(MODEL, TIMES, regimen=reg, step_to_saves=step_to_saves, **TIGHT)
    np.testing.assert_allclose(sol["N"], np.where(TIMES >= 1.0, 1.5, 1.0), rtol=1e-12)
    ref = np.where(TIMES < 4.0, closed_form(TIMES, K, boluses=[(2.0, 10.0)]),
                   0.1 * closed_form(TIMES, K, boluses=[(2.0, 10.0)]))
    np.testing.assert_allclose(sol["A"], ref, rtol=1e-8, atol=1e-12)


def test_changing_numbers_never_recompiles():
    simulate(MODEL, TIMES, regimen=bolus("A", [1.0, 2.0], [1.0, 1.0]), **TIGHT)  # compile once
    before = trace_count()
    for i, k in enumerate([0.1, 0.5, 1.2]):
        sol = simulate(MODEL, TIMES + i, params={"k": k}, y0=jnp.array([float(i), 1.0]),
                       regimen=bolus("A", [1.5 + i, 9.0], [2.0 * k, 3.0]), **TIGHT)
        ref = closed_form(TIMES + i, k, A0=0.0, boluses=[(1.5 + i, 2.0 * k), (9.0, 3.0)])
        ref = ref + i * np.exp(-k * (TIMES))  # y0 decays from the first save time
        np.testing.assert_allclose(sol["A"], ref, rtol=1e-8, atol=1e-12)
    assert trace_count() == before


def test_batched_parameters_and_regimens_match_single_solves():
    ks = jnp.array([0.1, 0.3, 0.9])
    starts = jnp.array([0.5, 3.0, 6.25])
    regs = jax.vmap(lambda s: bolus("A", s + every(2.0, 0.0, 4), 5.0))(starts)
    sol = simulate(MODEL, TIMES, params={"k": ks}, regimen=regs, **TIGHT)
    assert sol["A"].shape == (3, len(TIMES))
    for b in range(3):
        ref = closed_form(TIMES, float(ks[b]), boluses=[(float(starts[b]) + 2.0 * j, 5.0) for j in range(4)])
        np.testing.assert_allclose(sol["A"][b], ref, rtol=1e-8, atol=1e-12)
    assert list(sol.status) == ["success"] * 3


def test_user_level_vmap_and_grad_through_simulate():
    reg = bolus("A", 2.0, 10.0)
    t = jnp.array([0.0, 5.0, 12.0])

    def final_amount(k, adjoint="reverse"):
        return simulate(MODEL, t, params={"k": k}, regimen=reg, adjoint=adjoint, **TIGHT)["A"][-1]

    ks = jnp.array([0.2, 0.4])
    # under jit, with save times and doses closed over (their checks must not index traced copies)
    np.testing.assert_allclose(jax.jit(final_amount)(0.2), 10.0 * np.exp(-2.0), rtol=1e-8)
    np.testing.assert_allclose(jax.vmap(final_amount)(ks), 10.0 * np.exp(-np.asarray(ks) * 10.0), rtol=1e-8)
    # d/dk [D exp(-k (t - t_d))] = -(t - t_d) D exp(-k (t - t_d))
    np.testing.assert_allclose(jax.grad(final_amount)(0.2), -10.0 * 10.0 * np.exp(-2.0), rtol=1e-6)
    forward = jax.jacfwd(lambda k: final_amount(k, adjoint="forward"))(0.2)
    np.testing.assert_allclose(forward, -10.0 * 10.0 * np.exp(-2.0), rtol=1e-6)


def test_reverse_gradient_does_not_depend_on_the_checkpoint_count():
    # Tight tolerances give a segment of many more steps than 2 checkpoints (treeverse
    # recomputes), fewer than the default 32 or diffrax's own count (None): the gradient
    # is the closed form's in every case.
    reg = bolus("A", 2.0, 10.0)
    t = jnp.array([0.0, 12.0])
    exact = -10.0 * 10.0 * np.exp(-2.0)
    for ck in (2, 32, None):
        g = jax.grad(
            lambda k, ck=ck: simulate(MODEL, t, params={"k": k}, regimen=reg, checkpoints=ck, **TIGHT)["A"][-1])
        np.testing.assert_allclose(g(0.2), exact, rtol=1e-6)
    with pytest.raises(ValueError, match="checkpoints must be None or a positive integer; got 0"):
        simulate(MODEL, t, checkpoints=0)


def test_empty_regimen_and_none_are_the_same():
    a = simulate(MODEL, TIMES, y0=jnp.array([4.0, 1.0]), **TIGHT)
    b = simulate(MODEL, TIMES, y0={"A": 4.0}, regimen=Regimen.empty(), **TIGHT)
    np.testing.assert_allclose(a["A"], closed_form(TIMES, K, A0=4.0), rtol=1e-8)
    np.testing.assert_array_equal(a["A"], b["A"])


@settings(max_examples=25, deadline=None, derandomize=True)
@given(
    times=st.lists(st.floats(0.0, 20.0, allow_nan=False), min_size=5, max_size=5),
    amounts=st.lists(st.floats(0.0, 100.0, allow_nan=False), min_size=5, max_size=5),
    k=st.floats(0.01, 2.0),
)
def test_any_bolus_train_matches_closed_form(times, amounts, k):
    """Property: five doses at arbitrary (sorted, possibly equal) times and amounts, any k."""
    times = np.sort(np.asarray(times))
    sol = simulate(MODEL, TIMES, params={"k": k}, regimen=bolus("A", times, amounts), **TIGHT)
    ref = closed_form(TIMES, k, boluses=zip(times, amounts))
    np.testing.assert_allclose(sol["A"], ref, rtol=1e-8, atol=1e-10)
