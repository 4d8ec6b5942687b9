"""Label schedules become regimens: dose counts and amounts, loading doses, and sweeps
over start day without recompiling."""

import jax
import jax.numpy as jnp
import numpy as np

from seedsoil.models.drugs import (
    PROLIA_Q6M,
    XGEVA_Q4W,
    XGEVA_Q4W_LOADING,
    ZOLEDRONIC_ACID_Q4W,
    ZOLEDRONIC_ACID_Q12W,
    denosumab,
    zoledronic_acid,
)
from seedsoil.solvers import from_schedule, simulate, trace_count

DENOSUMAB = denosumab()
DRUG_STATES = ("depot", "central", "peripheral", "cleared", "internalized", "sc_loss")


def test_xgeva_doses_and_mass_balance():
    reg = from_schedule(XGEVA_Q4W, start=0.0, count=13)
    np.testing.assert_array_equal(reg.event_time, 28.0 * np.arange(13))
    np.testing.assert_array_equal(reg.event_amount, 120.0)
    sol = simulate(DENOSUMAB, np.linspace(0.0, 364.0, 14), regimen=reg, rtol=1e-10, atol=1e-12)
    total = sum(np.asarray(sol[s])[-1] for s in DRUG_STATES)
    np.testing.assert_allclose(total, 13 * 120.0, rtol=1e-8)  # every label dose accounted for


def test_loading_doses_and_prolia_interval():
    reg = from_schedule(XGEVA_Q4W_LOADING, start=10.0, count=3)
    np.testing.assert_array_equal(reg.event_time, [10.0, 17.0, 24.0, 38.0, 66.0])
    np.testing.assert_array_equal(from_schedule(PROLIA_Q6M, count=3).event_time, [0.0, 182.5, 365.0])


def test_zoledronic_acid_infusions_deliver_4_mg_each():
    model = zoledronic_acid()
    for schedule, n in ((ZOLEDRONIC_ACID_Q4W, 6), (ZOLEDRONIC_ACID_Q12W, 2)):
        reg = from_schedule(schedule, count=n)
        np.testing.assert_allclose(reg.infusion_stop - reg.infusion_start, 15.0 / 1440.0, rtol=1e-12)
        sol = simulate(model, np.linspace(0.0, 168.0, 7), regimen=reg, rtol=1e-10, atol=1e-13)
        total = sum(np.asarray(sol[s])[-1] for s in model.state_names)  # every compartment + urine
        np.testing.assert_allclose(total, 4.0 * n, rtol=1e-8)


def test_sweep_over_start_day_is_one_compiled_vmap():
    """Shifting the start shifts the response (the model is autonomous)."""
    starts = jnp.array([0.0, 14.0, 28.0])
    regs = jax.vmap(lambda s: from_schedule(XGEVA_Q4W, start=s, count=4))(starts)
    times = np.arange(0.0, 197.0, 7.0)
    sol = simulate(DENOSUMAB, times, regimen=regs, rtol=1e-10, atol=1e-12)
    before = trace_count()
    again = simulate(DENOSUMAB, times, regimen=jax.vmap(lambda s: from_schedule(XGEVA_Q4W, start=s, count=4))(
        starts + 7.0), rtol=1e-10, atol=1e-12)
    assert trace_count() == before and again["C_free"].shape == (3, len(times))
    c = np.asarray(sol["C_free"])
    for b, shift in ((1, 2), (2, 4)):  # 14 and 28 days = 2 and 4 save steps
        np.testing.assert_allclose(c[b, shift:], c[0, : len(times) - shift], rtol=1e-6, atol=1e-12)
        np.testing.assert_array_equal(c[b, :shift], 0.0)
