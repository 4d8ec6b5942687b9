"""A failing member of a batch is reported by index and leaves the others untouched."""

import jax.numpy as jnp
import numpy as np
import pytest

from seedsoil.models.base import Model, Param, Params, State
from seedsoil.solvers import SolveError, simulate


class BlowUp(Model):
    """dy/dt = a y^2: y(t) = y0 / (1 - a y0 t), which blows up at t = 1/(a y0)."""

    def rhs(self, t, y, p, u):
        return {"y": p.a * y.y**2}


MODEL = BlowUp(
    name="blow_up",
    states=(State("y", "1"),),
    params=Params.from_specs((Param("a", 1.0, "1/day", "test model"),)),
    y0=jnp.array([0.1]),
)
TIMES = np.linspace(0.0, 1.0, 11)
OPTS = dict(rtol=1e-10, atol=1e-12, max_steps=4096)
Y0 = jnp.array([[0.1], [2.0], [0.5]])  # member 1 blows up at t = 0.5


def test_failed_member_is_named_in_the_error():
    with pytest.raises(SolveError, match=r"1 of 3 trajectories failed: #1 "):
        simulate(MODEL, TIMES, y0=Y0, **OPTS)


def test_failed_member_does_not_poison_the_others():
    with pytest.warns(RuntimeWarning, match=r"#1 "):
        sol = simulate(MODEL, TIMES, y0=Y0, **OPTS, throw=False)
    assert list(sol.ok) == [True, False, True]
    assert sol.failures()[0][0] == 1 and sol.status[1] != "success"
    for b in (0, 2):
        y0 = float(Y0[b, 0])
        np.testing.assert_allclose(sol["y"][b], y0 / (1 - y0 * TIMES), rtol=1e-8)
    assert np.all(np.isnan(sol["y"][1]))  # flagged above, never a plausible-looking number


def test_single_trajectory_failure_raises_by_default():
    with pytest.raises(SolveError, match="blow_up: the trajectory failed"):
        simulate(MODEL, TIMES, y0=jnp.array([2.0]), **OPTS)
    # y = 2 / (1 - 2t) blows up at t = 0.5: the steps stall there and the state has grown
    # far past its start, so the failure is named for the blow-up (issue 18, row 13)
    with pytest.warns(RuntimeWarning, match="blow_up: the trajectory failed: nonfinite_state"):
        sol = simulate(MODEL, TIMES, y0=jnp.array([2.0]), **OPTS, throw=False)
    assert sol.status == "nonfinite_state" and not sol.ok
