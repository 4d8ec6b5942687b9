"""Bad input is refused with a ValueError that names the bad value."""

import jax.numpy as jnp
import numpy as np
import pytest

from seedsoil.models import ayati2010, komarova2003, lemaire2004
from seedsoil.solvers import bolus, infusion, scale, simulate

KOM = komarova2003()
T = np.linspace(0.0, 10.0, 6)


@pytest.mark.parametrize(
    "override, match",
    [
        ({"beta1": -0.2}, r"'beta1' = -0\.2 is outside its bounds"),
        ({"alpha2": np.nan}, r"'alpha2' = nan is not finite"),
        ({"k1": np.inf}, r"'k1' = inf is not finite"),
    ],
)
def test_bad_parameter_values(override, match):
    with pytest.raises(ValueError, match=match):
        simulate(KOM, T, params=override)
    with pytest.raises(ValueError, match=match):
        KOM.with_params(**override)


def test_bad_member_of_a_parameter_batch_is_named():
    with pytest.raises(ValueError, match=r"'beta2' = -1\.0 \(batch member \(2,\)\)"):
        simulate(KOM, T, params={"beta2": jnp.array([0.02, 0.03, -1.0])})


def test_unknown_parameter_and_wrong_shapes():
    with pytest.raises(KeyError, match="unknown parameter 'gamma9'"):
        simulate(KOM, T, params={"gamma9": 1.0})
    with pytest.raises(ValueError, match=r"parameter values must have shape \(10,\)"):
        simulate(KOM, T, params=jnp.ones(3))
    with pytest.raises(ValueError, match=r"y0 must have shape \(3,\)"):
        simulate(KOM, T, y0=jnp.ones(4))
    with pytest.raises(ValueError, match=r"initial state 'x2' is not finite"):
        simulate(KOM, T, y0=jnp.array([1.0, np.nan, 100.0]))
    with pytest.raises(ValueError, match="batch sizes disagree"):
        simulate(KOM, T, params={"k1": jnp.ones(3)}, y0=jnp.ones((2, 3)))


@pytest.mark.parametrize(
    "times, match",
    [
        (np.array([0.0, 2.0, 1.0]), r"times\[2\] = 1\.0 follows 2\.0"),
        (np.array([0.0, 1.0, 1.0]), r"times\[2\] = 1\.0 follows 1\.0"),
        (np.array([0.0, np.nan]), "times must be finite"),
        (np.zeros((2, 2, 2)), "non-empty 1-D"),
    ],
)
def test_bad_times(times, match):
    with pytest.raises(ValueError, match=match):
        simulate(KOM, times)


def test_bad_doses():
    with pytest.raises(ValueError, match=r"dose time -1\.0 for 'x1' must be finite and >= 0"):
        bolus("x1", [-1.0, 2.0], 1.0)
    with pytest.raises(ValueError, match=r"dose times for 'x1' are not sorted"):
        bolus("x1", [3.0, 2.0], 1.0)
    with pytest.raises(ValueError, match=r"dose amount -5\.0 for 'x1'"):
        bolus("x1", [1.0], -5.0)
    with pytest.raises(ValueError, match=r"dose amount nan"):
        bolus("x1", [1.0], np.nan)
    with pytest.raises(ValueError, match=r"scale factor -0\.5"):
        scale("x1", 1.0, -0.5)
    with pytest.raises(ValueError, match=r"stops at 1\.0 before it starts at 2\.0"):
        infusion("x1", 1.0, 2.0, 1.0)
    with pytest.raises(ValueError, match=r"3 times but 2 amounts"):
        bolus("x1", [1.0, 2.0, 3.0], [1.0, 2.0])


def test_unknown_dose_target_names_the_model_and_its_states():
    with pytest.raises(ValueError, match=r"unknown dose target 'osteoclasts': model 'komarova2003' has no dose "
                                         r"target 'osteoclasts'"):
        simulate(KOM, T, regimen=bolus("osteoclasts", 1.0, 1.0))
    # an input can be infused but not dosed as a bolus
    lem = lemaire2004()
    simulate(lem, T, regimen=infusion("I_P", 10.0, 1.0, 2.0))
    with pytest.raises(ValueError,
                       match=r"dose target 'I_P' is an input of model 'lemaire2004', not a state: infuse it"):
        simulate(lem, T, regimen=bolus("I_P", 1.0, 1.0))


def test_dose_before_the_simulation_start():
    with pytest.raises(ValueError, match=r"dose time 1\.0 for 'x1' is before the start of the simulation \(5\.0\)"):
        simulate(KOM, np.array([5.0, 6.0]), regimen=bolus("x1", 1.0, 1.0))


def test_bad_solver_options():
    with pytest.raises(ValueError, match="unknown solver 'rk99'"):
        simulate(KOM, T, solver="rk99")
    with pytest.raises(ValueError, match="rtol must be a finite number > 0"):
        simulate(KOM, T, rtol=-1e-6)
    with pytest.raises(ValueError, match="max_steps must be a positive integer"):
        simulate(KOM, T, max_steps=0)


def test_unknown_state_in_solution_and_y0():
    sol = simulate(ayati2010(), np.array([0.0, 1.0]))
    with pytest.raises(KeyError, match=r"unknown output 'bone': model 'ayati2010' has no output 'bone'"):
        sol["bone"]
    with pytest.raises(ValueError, match=r"has no state 'tumour'"):
        ayati2010().with_y0(tumour=2.0)
