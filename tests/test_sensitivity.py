"""Sensitivities: local derivatives (forward and reverse) against finite differences and a
closed form; Sobol and Morris indices against the analytic Ishigami function; failures by
member index; clear errors for unknown names and unusable ranges."""

import math

import jax.numpy as jnp
import numpy as np
import pytest

from seedsoil.models import komarova2003
from seedsoil.models.base import Model, Observable, Param, Params, State
from seedsoil.solvers import sensitivity as sens
from seedsoil.solvers import simulate
from seedsoil.solvers.sensitivity import (
    LocalSensitivity,
    SampleError,
    local_sensitivity,
    morris,
    parameter_ranges,
    sobol,
)

from .conftest import TIGHT
from .test_failures import MODEL as BLOW_UP
from .test_failures import OPTS as BLOW_UP_OPTS

KOM = komarova2003()
KOM_TIMES = np.linspace(0.0, 40.0, 5)


# --------------------------------------------------------------------------------------
# Test models with closed-form answers
# --------------------------------------------------------------------------------------
class Decay(Model):
    """dy_i/dt = -k_i y_i: y_i(t) = y_i(0) exp(-k_i t), so d ln y_i / d ln k_j = -k_i t
    (i = j) and 0 otherwise; ``c`` is inert (elasticity 0)."""

    def rhs(self, t, y, p, u):
        return {"y": -p.k * y.y}

    def observables(self, t, y, p, u):
        return {"total": jnp.sum(y.y) + 0.0 * p.c}


DECAY = Decay(
    name="decay",
    states=(State("y", "mg", shape=(2,)),),
    params=Params.from_specs((
        Param("k", (0.3, 0.05), "1/day", "test model", shape=(2,), labels=("fast", "slow")),
        Param("c", 1.0, "1", "test model (inert)"),
    )),
    y0=jnp.array([2.0, 3.0]),
    observable_specs=(Observable("total", "mg"),),
)

A, B = 7.0, 0.1  # Ishigami constants


class Ishigami(Model):
    """Zero right-hand side; observable f = sin x1 + a sin^2 x2 + b x3^4 sin x1 (x4 inert)."""

    def rhs(self, t, y, p, u):
        return {"s": 0.0 * y.s}

    def observables(self, t, y, p, u):
        return {"f": jnp.sin(p.x1) + A * jnp.sin(p.x2) ** 2 + B * p.x3**4 * jnp.sin(p.x1) + 0.0 * p.x4 + y.s}


ISHIGAMI = Ishigami(
    name="ishigami",
    states=(State("s", "1"),),
    params=Params.from_specs(tuple(Param(f"x{i}", 0.0, "1", "test model", (-math.pi, math.pi)) for i in range(1, 5))),
    y0=jnp.array([0.0]),
    observable_specs=(Observable("f", "1"),),
)
ISHIGAMI_TIMES = np.array([0.0, 1.0])
CHUNK = 4096  # one compiled chunk shape for every Ishigami sweep below


def ishigami_indices():
    """Analytic first-order and total indices of x1, x2, x3 for uniform inputs on [-pi, pi]."""
    v1 = 0.5 * (1 + B * math.pi**4 / 5) ** 2
    v2 = A**2 / 8
    v13 = 8 * B**2 * math.pi**8 / 225
    v = v1 + v2 + v13
    return np.array([v1, v2, 0.0]) / v, np.array([v1 + v13, v2, v13]) / v


# --------------------------------------------------------------------------------------
# Local sensitivities
# --------------------------------------------------------------------------------------
def central_differences(model, times, output, params, rel=1e-5):
    """d output / d p_j by central differences, all 2n perturbed solves in one batch."""
    v = np.asarray(params.values)
    h = rel * np.where(v != 0, np.abs(v), 1.0)  # relative step (absolute for a zero value)
    plus, minus = v + np.diag(h), v - np.diag(h)
    y = np.asarray(simulate(model, times, params=np.concatenate([plus, minus]), **TIGHT)[output])
    n = len(v)
    return np.moveaxis((y[:n] - y[n:]) / (2 * h).reshape((n,) + (1,) * (y.ndim - 1)), 0, 1)  # (T, n, ...)


@pytest.mark.parametrize("mode", ["forward", "reverse"])
def test_komarova_derivatives_match_finite_differences(mode):
    # Osteoclasts x1: a smooth right-hand side (the max(., 0) kinks of Komarova's bone-mass
    # equation make AD of the discretised z converge only as the step across the kink
    # shrinks, ~1e-4 relative at rtol 1e-10: see the seedsoil.solvers.sensitivity docstring).
    params = KOM.params.replace(alpha1=3.1, beta2=0.021)  # away from the defaults: not a special point
    d = local_sensitivity(KOM, KOM_TIMES, "x1", params, mode=mode, **TIGHT)
    assert d.dims == ("time", "parameter") and d.shape == (len(KOM_TIMES), 10)
    assert list(d["parameter"].values) == list(KOM.params.flat_names())
    assert d.attrs["mode"] == mode and d.attrs["output_unit"] == "cells"
    fd = central_differences(KOM, KOM_TIMES, "x1", params)
    # FD error: solver error / step ~ 1e-10 / 1e-5 = 1e-5 of the output, relative to the
    # largest derivative; measured agreement ~1e-9
    np.testing.assert_allclose(d.values, fd, rtol=1e-6, atol=1e-7 * np.abs(fd).max())
    assert np.all(d.values[0] == 0.0)  # x1(0) is the initial state
    assert np.all(d.sel(parameter=["k1", "k2"]).values == 0.0)  # bone-mass rates do not act on cells
    np.testing.assert_allclose(d["output_value"], simulate(KOM, KOM_TIMES, params=params, **TIGHT)["x1"], rtol=1e-12)


def test_elasticities_of_exponential_decay_with_an_array_parameter_compiled_once():
    t = np.linspace(0.0, 10.0, 6)
    elasticity = LocalSensitivity(DECAY, t, "y", **TIGHT)
    before = sens.trace_count()
    for k in ((0.3, 0.05), (0.5, 0.02)):  # new values reuse the compiled derivative
        e = elasticity({"k": jnp.array(k)}, normalize=True)
        assert e.dims == ("time", "parameter", "y_dim0")
        assert list(e["parameter"].values) == ["k[fast]", "k[slow]", "c"]
        np.testing.assert_array_equal(e["parameter_value"].values, list(k) + [1.0])
        expected = np.zeros((len(t), 3, 2))  # d ln y_i / d ln k_j = -k_i t if i == j, else 0
        expected[:, 0, 0] = -k[0] * t
        expected[:, 1, 1] = -k[1] * t
        np.testing.assert_allclose(e.values, expected, atol=1e-8)
        assert e.attrs["unit"] == "1" and e.attrs["normalized"]
    assert sens.trace_count() == before + 1
    # raw derivative of an observable wrt one flat entry: d(total)/dk_slow = -3 t exp(-k_slow t)
    d = local_sensitivity(DECAY, t, "total", wrt="k[slow]", **TIGHT)
    assert d.dims == ("time", "parameter") and list(d["parameter"].values) == ["k[slow]"]
    np.testing.assert_allclose(d.sel(parameter="k[slow]").values, -3.0 * t * np.exp(-0.05 * t), rtol=1e-8, atol=1e-12)


def test_local_errors_name_the_bad_value():
    with pytest.raises(ValueError, match="'zz'"):
        local_sensitivity(KOM, KOM_TIMES, "zz")
    with pytest.raises(ValueError, match="unknown parameter 'kappa'"):
        local_sensitivity(KOM, KOM_TIMES, "z", wrt=("k1", "kappa"))
    with pytest.raises(ValueError, match=r"unknown parameter 'k\[medium\]'"):
        local_sensitivity(DECAY, KOM_TIMES, "y", wrt="k[medium]")
    with pytest.raises(ValueError, match="unknown mode 'sideways'"):
        local_sensitivity(KOM, KOM_TIMES, "z", mode="sideways")
    with pytest.raises(ValueError, match="selected twice"):
        local_sensitivity(DECAY, KOM_TIMES, "y", wrt=("k", "k[fast]"))
    with pytest.raises(ValueError, match="one parameter set"):
        local_sensitivity(KOM, KOM_TIMES, "z", {"k1": np.array([0.2, 0.3])})


# --------------------------------------------------------------------------------------
# Global sensitivities
# --------------------------------------------------------------------------------------
def test_sobol_indices_of_ishigami_match_the_analytic_values():
    n = 4096
    ds = sobol(ISHIGAMI, ISHIGAMI_TIMES, "f", vary=("x1", "x2", "x3"), n=n, seed=7, chunk_size=CHUNK)
    assert ds.attrs["n_evaluations"] == n * (3 + 2)
    s1, st = ishigami_indices()
    # Tolerance from the sample size: the bootstrap 95 % half-widths at n = 4096 are
    # 0.013-0.05 (S1_conf ~ 0.03), an upper bound on the error of these estimators
    # (scrambled Sobol' points converge faster than the bootstrap's i.i.d. assumption:
    # measured errors <= 0.003 for seeds 1, 2, 7). Each estimate must lie inside its own
    # interval and within 0.03 of the analytic value.
    for name, exact in (("S1", s1), ("ST", st)):
        err = np.abs(ds[name].values - exact)
        assert np.all(err < ds[f"{name}_conf"].values) and np.all(err < 0.03), (name, err)
    assert np.all(ds["S1_conf"].values < 0.05) and np.all(ds["ST_conf"].values < 0.08)
    table = ds[["S1", "S1_conf", "ST", "ST_conf"]].to_dataframe()
    assert list(table.index) == ["x1", "x2", "x3"]
    # second-order indices: (parameter, parameter_2), S13 = V13 / V is the only interaction
    ds2 = sobol(ISHIGAMI, ISHIGAMI_TIMES, "f", vary=("x1", "x2", "x3"), n=1024, second_order=True, seed=7,
                chunk_size=CHUNK)
    assert ds2["S2"].dims == ("parameter", "parameter_2")
    assert abs(float(ds2["S2"].sel(parameter="x1", parameter_2="x3")) - (st[0] - s1[0])) < 0.05


def test_morris_ranks_the_inert_parameter_last():
    ds = morris(ISHIGAMI, ISHIGAMI_TIMES, "f", trajectories=40, seed=3, chunk_size=CHUNK)
    assert list(ds["parameter"].values) == ["x1", "x2", "x3", "x4"]
    assert ds.attrs["n_evaluations"] == 40 * 5
    ranking = list(ds.sortby("mu_star", ascending=False)["parameter"].values)
    assert ranking[-1] == "x4" and float(ds["mu_star"].sel(parameter="x4")) == 0.0
    assert np.all(ds["mu_star"].sel(parameter=["x1", "x2", "x3"]).values > 0.5)
    # a reducer callable over the whole sweep gives the same analysis
    ds2 = morris(ISHIGAMI, ISHIGAMI_TIMES, lambda r: r["f"][:, -1], keep=("f",), trajectories=40, seed=3,
                 chunk_size=CHUNK)
    np.testing.assert_array_equal(ds2["mu_star"].values, ds["mu_star"].values)
    # several outputs from the same runs: stacked along "output", each equal to its own analysis
    both = morris(ISHIGAMI, ISHIGAMI_TIMES, {"f": "f", "minus_f": lambda r: -r["f"][:, -1]}, keep=("f",),
                  trajectories=40, seed=3, chunk_size=CHUNK)
    assert list(both["output"].values) == ["f", "minus_f"] and both["mu_star"].dims == ("output", "parameter")
    np.testing.assert_array_equal(both["mu_star"].sel(output="f").values, ds["mu_star"].values)
    np.testing.assert_array_equal(both["mu_star"].sel(output="minus_f").values, ds["mu_star"].values)
    np.testing.assert_array_equal(both["mu"].sel(output="minus_f").values, -ds["mu"].values)


def test_failed_members_raise_naming_their_index():
    # dy/dt = a y^2 from y0 = 0.1 blows up at t = 10/a: members with a > 10 fail before t = 1
    with pytest.raises(SampleError, match=r"morris on blow_up: \d+ of 20 sample members failed: #\d+ ") as info:
        morris(BLOW_UP, np.linspace(0.0, 1.0, 3), "y", ranges={"a": (1.0, 50.0)}, trajectories=10, seed=0,
               chunk_size=32, **BLOW_UP_OPTS)
    err = info.value
    failed = [i for i, _ in err.failures]
    assert failed and failed == sorted(np.flatnonzero(err.samples[:, 0] > 10.0).tolist())
    assert f"#{failed[0]} " in str(err) and "cannot analyse NaN" in str(err)


def test_ranges_bounds_and_log_scale():
    box = parameter_ranges(KOM, vary=("k1", "g11"), ranges={"k1": (0.1, 0.4), "g11": (0.3, 0.7)}, log=("k1",))
    assert list(box["parameter"].values) == ["k1", "g11"]
    assert list(box["log_scale"].values) == [True, False]
    np.testing.assert_array_equal(box["lower"].values, [0.1, 0.3])
    # flat names override their parameter's range
    box = parameter_ranges(DECAY, vary="k", ranges={"k": (0.1, 1.0), "k[slow]": (0.01, 0.1)})
    np.testing.assert_array_equal(box["upper"].values, [1.0, 0.1])
    with pytest.raises(ValueError, match=r"\['g11'\] have an infinite declared bound"):
        parameter_ranges(KOM, vary=("g11",))
    with pytest.raises(ValueError, match=r"'alpha1'.*infinite declared bound"):
        parameter_ranges(KOM)
    with pytest.raises(ValueError, match="'x1' needs a lower limit > 0"):
        parameter_ranges(ISHIGAMI, log=True)
    with pytest.raises(ValueError, match=r"range \(0.0, 5.0\) for 'x1' is outside its declared bounds"):
        parameter_ranges(ISHIGAMI, ranges={"x1": (0.0, 5.0)})
    with pytest.raises(ValueError, match="unknown parameter 'x9'"):
        parameter_ranges(ISHIGAMI, vary=("x9",))
    with pytest.raises(ValueError, match="unknown output 'g': model 'ishigami' has no output 'g'"):
        sobol(ISHIGAMI, ISHIGAMI_TIMES, "g", n=8)
