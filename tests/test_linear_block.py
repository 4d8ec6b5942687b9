"""Linear blocks carried exactly (``SolverOptions.exact_linear``): each declaration of
``linear_states`` holds, and the closed-form carry agrees with an independent solution.

A model may declare states whose derivatives are ``A(p) y_L`` plus the infusions into them,
whatever the other states, the inputs and the time (a drug's linear disposition). When a
regimen doses them, ``simulate`` carries them by a matrix exponential between stops and
steps only the rest. The checks: the declared right-hand side is affine in ``y_L`` with
``linear_matrix`` as its matrix and blind to everything else, at random points (a later
change that coupled the block to the disease would fail here); the drug alone against
scipy's matrix exponential of the module's own NumPy system matrix; the full model with
the block carried exactly against the same model stepped at tight tolerances; gradients
through the exact block against finite differences.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy.linalg import expm

from seedsoil.models import Link, compose
from seedsoil.models.bone import HUMAN_BONE, vicious_cycle
from seedsoil.models.drugs import (
    DOCETAXEL_Q3W,
    ZOLEDRONIC_ACID_Q4W,
    systemic_drug,
    zoledronic_acid,
)
from seedsoil.models.drugs._zoledronic_acid import _CALIBRATED, INFUSION_DAYS, system_matrix
from seedsoil.solvers import SolverOptions, from_schedule, infusion, simulate

from .conftest import TIGHT


def _bone_with_za():
    return compose({"bone": vicious_cycle().with_params(**HUMAN_BONE), "za": zoledronic_acid()},
                   [Link("za", "osteoclast_kill", "bone", "za_effect")], stiff=False)


MODELS = {
    "zoledronic acid": lambda: zoledronic_acid(),
    "zoledronic acid (mouse)": lambda: zoledronic_acid("mouse"),
    "docetaxel": lambda: systemic_drug("docetaxel"),
    "capecitabine": lambda: systemic_drug("capecitabine"),
    "bone + zoledronic acid": _bone_with_za,
}


@pytest.mark.parametrize("name", list(MODELS))
def test_declared_block_is_linear_and_autonomous(name):
    """At random states, parameters, inputs and times: the block's rows of the right-hand
    side are ``A y_L + forcing_L`` (to rounding), and changing every other state, input or
    the time changes nothing in them."""
    model = MODELS[name]()
    lin = np.asarray(model.linear_index)
    assert lin.size, "no linear_states declared"
    n, m = model.n_states, model.n_inputs
    rng = np.random.default_rng(0)
    for _ in range(3):
        p = jnp.asarray(model.params.values) * jnp.exp(0.3 * rng.standard_normal(model.params.values.shape))
        A = np.asarray(model.linear_matrix(p))
        y = jnp.asarray(rng.uniform(0.1, 10.0, n))
        f = jnp.asarray(rng.uniform(0.0, 5.0, n + m))
        dy = np.asarray(model.vector_field(jnp.asarray(rng.uniform(0, 100)), y, p, f))[lin]
        expect = A @ np.asarray(y)[lin] + np.asarray(f)[lin]
        np.testing.assert_allclose(dy, expect, rtol=1e-12, atol=1e-12 * np.abs(A).max() * 10.0)
        others = np.setdiff1d(np.arange(n), lin)
        y2 = y.at[others].set(jnp.asarray(rng.uniform(0.1, 10.0, others.size)))
        f2 = f.at[lin].get()  # the forcing into the block stays; every input changes
        f2 = jnp.asarray(rng.uniform(0.0, 5.0, n + m)).at[lin].set(f2)
        dy2 = np.asarray(model.vector_field(jnp.asarray(rng.uniform(0, 100)), y2, p, f2))[lin]
        np.testing.assert_array_equal(dy2, dy)


def test_zoledronic_acid_alone_is_the_matrix_exponential():
    """Two 4-mg / 15-min infusions (days 1 and 29): with every state linear nothing is
    stepped, and the solution is scipy's ``expm`` of the module's NumPy system matrix,
    segment by segment, to 1e-10 relative; mass balance holds to 1e-12 of the dose."""
    A = system_matrix(*(_CALIBRATED[k] for k in ("V", "CL_R", "k_pt", "k_tp", "k_pb", "k_bp", "k_bd", "k_db")))
    starts = np.array([1.0, 29.0])
    reg = infusion("plasma", rate=4.0 / INFUSION_DAYS, start=starts, stop=starts + INFUSION_DAYS)
    times = np.array([0.0, 0.5, 1.0, 1.005, 1.0 + INFUSION_DAYS, 2.0, 10.0, 29.0, 29.01, 30.0, 60.0])
    sol = simulate(zoledronic_acid(), times, regimen=reg)

    def exact(t):
        y = np.zeros(5)
        edges = sorted({0.0, *starts, *(starts + INFUSION_DAYS), t})
        for a, b in zip(edges[:-1], edges[1:]):
            if b > t:
                break
            rate = 4.0 / INFUSION_DAYS if np.any((starts <= a) & (a < starts + INFUSION_DAYS)) else 0.0
            M = np.zeros((6, 6))
            M[:5, :5], M[0, 5] = A, rate
            y = (expm(M * (b - a)) @ np.append(y, 1.0))[:5]
        return y

    ref = np.array([exact(t) for t in times])
    ys = np.asarray(sol.ys)
    np.testing.assert_allclose(ys, ref, rtol=1e-10, atol=1e-13)
    given = 4.0 * np.clip((times[:, None] - starts) / INFUSION_DAYS, 0.0, 1.0).sum(axis=1)
    np.testing.assert_allclose(ys.sum(axis=1), given, rtol=0, atol=1e-12 * 8.0)


def test_full_model_exact_block_matches_stepping():
    """The bone model with zoledronic acid Q4W over 120 days, the drug's block carried
    exactly (default) and stepped (``exact_linear=False``), both at rtol 1e-10: every saved
    output agrees to 1e-8 of its range. At the default tolerances the exact carry takes
    the step-size limit of the 0.24-h plasma phase away (the performance page: 14x faster
    on the 64-bin trial model)."""
    model = _bone_with_za()
    reg = from_schedule(ZOLEDRONIC_ACID_Q4W, part="za", start=3.0, count=5)
    times = np.linspace(0.0, 120.0, 25)
    exact = simulate(model, times, regimen=reg, **TIGHT)
    stepped = simulate(model, times, regimen=reg, options=SolverOptions(exact_linear=False), **TIGHT)
    assert exact.ok and stepped.ok
    for key in ("bone.C", "bone.B", "bone.T", "bone.bone_volume", "bone.CTX", "za.bone", "za.urine",
                "za.osteoclast_kill"):
        a, b = np.asarray(exact[key]), np.asarray(stepped[key])
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-8 * (np.abs(b).max() + 1e-300), err_msg=key)
    assert float(np.asarray(exact["za.osteoclast_kill"]).max()) > 1.0  # the drug acts: not a vacuous check


def test_gradient_through_the_exact_block_matches_finite_differences():
    """Reverse-mode gradients of a bone read-out in the drug's rate constants (which enter
    only through the matrix exponential) and in its potency, against central differences."""
    model = _bone_with_za()
    reg = from_schedule(ZOLEDRONIC_ACID_Q4W, part="za", start=10.0, count=2)
    times = jnp.linspace(0.0, 60.0, 4)
    names = model.params.flat_names()

    def loss(v):
        sol = simulate(model, times, params=v, regimen=reg, throw=False, **TIGHT)
        return jnp.sum(sol["bone.bone_volume"]) + jnp.sum(sol["bone.CTX"])

    v0 = jnp.asarray(model.params.values)
    g = np.asarray(jax.jit(jax.grad(loss))(v0))
    f = jax.jit(loss)
    for name in ("za.k_pb", "za.k_bd", "za.CL_R", "za.EC50"):
        i = names.index(name)
        h = 1e-4 * float(v0[i])
        fd = (float(f(v0.at[i].add(h))) - float(f(v0.at[i].add(-h)))) / (2 * h)
        assert fd != 0.0, name
        assert abs(g[i] - fd) <= 1e-4 * abs(fd), (name, g[i], fd)


def test_docetaxel_course_exact_matches_stepping():
    """Six docetaxel cycles into the drug alone: exact carry and stepping (Kvaerno5, tight)
    agree on the kill rate at every save to 1e-7 of its peak."""
    model = systemic_drug("docetaxel")
    reg = from_schedule(DOCETAXEL_Q3W, count=6)
    times = np.concatenate([np.linspace(0.0, 0.2, 21), np.arange(1.0, 127.0)])
    exact = simulate(model, times, regimen=reg)
    stepped = simulate(model, times, regimen=reg, options=SolverOptions(exact_linear=False), **TIGHT)
    a, b = np.asarray(exact["kill"]), np.asarray(stepped["kill"])
    np.testing.assert_allclose(a, b, rtol=0, atol=1e-7 * b.max())


@pytest.mark.parametrize("bad", ["yes", 1, None])
def test_exact_linear_option_must_be_a_bool(bad):
    with pytest.raises(ValueError, match="exact_linear must be True or False"):
        SolverOptions(exact_linear=bad)


def test_unknown_linear_state_is_named():
    with pytest.raises(ValueError, match="'blood'"):
        zoledronic_acid().__class__(name="x", states=zoledronic_acid().states, params=zoledronic_acid().params,
                                    y0=jnp.zeros(5), linear_states=("plasma", "blood"))
