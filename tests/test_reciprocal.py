"""seedsoil.solvers.reciprocal: divisions as products with reciprocals.

Checked against the unmodified functions (plain ``x / y`` and JAX's own derivative rules),
on every model family's right-hand side: same values to rounding, same Jacobians in both
modes, and no division left in the derivative (the point of the rewrite).
"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from seedsoil.models import ayati2010, denosumab, komarova2003, lemaire2004, zoledronic_acid
from seedsoil.models.bone import bone_metastasis
from seedsoil.models.metastasis import cascade
from seedsoil.solvers.reciprocal import recip, reciprocal_divisions

MODELS = {
    "komarova2003": komarova2003,
    "lemaire2004": lemaire2004,
    "ayati2010": ayati2010,
    "denosumab": denosumab,
    "zoledronic_acid": zoledronic_acid,
    "cascade": lambda: cascade("breast", n_bins=8),
    "bone_metastasis": lambda: bone_metastasis("breast", n_bins=8),
}


def _point(model, seed=0):
    """A state away from y0's zeros and a perturbed parameter vector (inside the bounds)."""
    rng = np.random.default_rng(seed)
    y = np.asarray(model.y0) * np.exp(0.1 * rng.standard_normal(model.n_states)) + 0.3 * rng.random(model.n_states)
    p = np.asarray(model.params.values) * np.exp(0.05 * rng.standard_normal(model.params.values.shape))
    forcing = np.zeros(model.n_states + model.n_inputs)
    return jnp.asarray(1.5), jnp.asarray(y), jnp.asarray(p), jnp.asarray(forcing)


def _count(fn, *args, name="div"):
    """How many floating-point ``name`` operations the jaxpr of ``fn`` holds (nested calls too)."""
    closed = jax.make_jaxpr(fn)(*args)
    n = 0
    stack = [closed.jaxpr]
    while stack:
        jx = stack.pop()
        for e in jx.eqns:
            n += e.primitive.name == name and jnp.issubdtype(e.outvars[0].aval.dtype, jnp.floating)
            for v in e.params.values():
                if isinstance(v, jax.extend.core.ClosedJaxpr):
                    stack.append(v.jaxpr)
    return n


@pytest.mark.parametrize("name", list(MODELS))
def test_values_and_jacobians_match_plain_division(name):
    model = MODELS[name]()
    t, y, p, forcing = _point(model)
    plain = lambda y, p: model.vector_field(t, y, p, forcing)  # noqa: E731
    rewritten = reciprocal_divisions(plain)
    f0, f1 = plain(y, p), rewritten(y, p)
    scale = float(jnp.max(jnp.abs(f0)))
    np.testing.assert_allclose(f1, f0, rtol=1e-13, atol=1e-14 * scale)
    for jac in (jax.jacrev, jax.jacfwd):
        j0, j1 = jac(plain, argnums=(0, 1))(y, p), jac(rewritten, argnums=(0, 1))(y, p)
        for a, b in zip(j0, j1):
            np.testing.assert_allclose(b, a, rtol=1e-12, atol=1e-13 * float(jnp.max(jnp.abs(a))))


@pytest.mark.parametrize("name", ["lemaire2004", "bone_metastasis"])
def test_no_division_left_in_the_derivative(name):
    """The tangent (linear) part divides nowhere once rewritten; the plain one does."""
    model = MODELS[name]()
    t, y, p, forcing = _point(model)

    def linear_part(f):
        _, lin = jax.linearize(lambda y, p: f(t, y, p, forcing), y, p)
        return lin

    plain, rewritten = linear_part(model.vector_field), linear_part(reciprocal_divisions(model.vector_field))
    dy, dp = jnp.ones_like(y), jnp.ones_like(p)
    assert _count(plain, dy, dp) > 0
    assert _count(rewritten, dy, dp) == 0
    np.testing.assert_allclose(rewritten(dy, dp), plain(dy, dp), rtol=1e-12,
                               atol=1e-13 * float(jnp.max(jnp.abs(plain(dy, dp)))))


def test_ieee_special_values_as_plain_division():
    f = reciprocal_divisions(lambda x, y: x / y)
    x = jnp.array([1.0, -2.0, 0.0, 1.0, jnp.inf, 3.0])
    y = jnp.array([0.0, 0.0, 0.0, jnp.inf, jnp.inf, -4.0])
    np.testing.assert_array_equal(np.isnan(f(x, y)), np.isnan(x / y))
    ok = ~np.isnan(x / y)
    np.testing.assert_array_equal(np.asarray(f(x, y))[ok], np.asarray(x / y)[ok])


def test_recip_derivatives_are_analytic():
    y = jnp.array([0.25, 3.0, -7.5])
    np.testing.assert_allclose(jax.vmap(jax.grad(recip))(y), -1.0 / y**2, rtol=1e-15)
    np.testing.assert_allclose(jax.vmap(jax.grad(jax.grad(recip)))(y), 2.0 / y**3, rtol=1e-15)


def test_nested_jit_vmap_negative_powers_and_integer_division():
    @jax.jit
    def inner(x, k):
        return x / (1.0 + x) + x ** -2 + (k // 2) * x

    f = reciprocal_divisions(lambda x, k: (inner(x, k), k // 3))
    x = jnp.linspace(0.5, 2.0, 4)
    k = jnp.arange(4)
    (v, q), (v0, q0) = jax.vmap(f)(x, k), jax.vmap(lambda x, k: (inner(x, k), k // 3))(x, k)
    np.testing.assert_allclose(v, v0, rtol=1e-15)
    np.testing.assert_array_equal(q, q0)
    lin = jax.linearize(lambda x: f(x, 3)[0], 1.5)[1]
    lin0 = jax.linearize(lambda x: inner(x, 3), 1.5)[1]
    assert _count(lin, 1.0) == 0 and _count(lin0, 1.0) > 0
    g = jax.grad(lambda x: f(x, 3)[0])(1.5)
    np.testing.assert_allclose(g, 1.0 / 2.5**2 - 2.0 / 1.5**3 + 1.0, rtol=1e-14)


def test_simulate_option_switches_the_rewrite_and_checks_its_value():
    """``reciprocals=False`` solves with the model's plain divisions: the same trajectory to
    well inside the solver's tolerance (both at rtol 1e-10), though not bit for bit."""
    from seedsoil.solvers import simulate

    model = lemaire2004()
    times = np.linspace(0.0, 60.0, 7)
    a = simulate(model, times, rtol=1e-10, atol=1e-12)
    b = simulate(model, times, rtol=1e-10, atol=1e-12, reciprocals=False)
    assert not np.array_equal(a.ys, b.ys)  # rounding differs: the option reached the solve
    np.testing.assert_allclose(a.ys, b.ys, rtol=1e-9, atol=1e-12)
    with pytest.raises(ValueError, match="reciprocals must be True or False; got 'yes'"):
        simulate(model, times, reciprocals="yes")
