"""Komarova 2003 against its analytic steady state and a tight scipy Radau solve."""

import jax.numpy as jnp
import numpy as np

from seedsoil.models import komarova2003
from seedsoil.models.base import View
from seedsoil.solvers import simulate

from .conftest import TIGHT
from .reference.equations import KOMAROVA, komarova_rhs, komarova_steady_state
from .reference.scipy_piecewise import solve_piecewise

MODEL = komarova2003()


def test_published_steady_state():
    x1, x2 = komarova_steady_state(**KOMAROVA)  # paper eq. 4, typed independently
    np.testing.assert_allclose([x1, x2], [1.0607, 212.13], rtol=5e-5)  # values quoted by the paper
    sol = simulate(MODEL, jnp.array([0.0, 1.0]), **TIGHT)
    np.testing.assert_allclose(sol["x1_bar"][0], x1, rtol=1e-13)
    np.testing.assert_allclose(sol["x2_bar"][0], x2, rtol=1e-13)
    # the model's right-hand side vanishes there
    y = MODEL.pack({"x1": x1, "x2": x2, "z": 100.0})
    dy = MODEL.rhs(0.0, View(y, MODEL.state_layout), MODEL.params.view(), View(jnp.zeros(0), {}))
    np.testing.assert_allclose([dy["x1"], dy["x2"], dy["z"]], 0.0, atol=1e-12)


def test_trajectory_matches_scipy_radau():
    times = np.linspace(0.0, 600.0, 121)
    ref = solve_piecewise(komarova_rhs, [11.0, 212.0, 100.0], times, rtol=1e-10, atol=1e-12)
    sol = simulate(MODEL, times, **TIGHT)
    for i, name in enumerate(MODEL.state_names):
        np.testing.assert_allclose(sol[name], ref[:, i], rtol=1e-6, atol=1e-9 * np.abs(ref[:, i]).max())
    # a single remodeling cycle: resorption first, then formation restores bone
    z = np.asarray(sol["z"])
    assert z.min() < 99.0 and abs(z[-1] - 100.0) < 1.0
