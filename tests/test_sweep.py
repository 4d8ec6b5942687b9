"""Chunked sweeps: same numbers as one batched solve, one compilation, failures by index."""

import jax.numpy as jnp
import numpy as np
import pytest

from models import komarova2003
from solvers import simulate, sweep, trace_count

from .test_failures import MODEL as BLOW_UP
from .test_failures import OPTS

KOM = komarova2003()
TIMES = np.linspace(0.0, 100.0, 11)


def test_chunks_match_one_batched_solve_and_compile_once():
    k1 = np.linspace(0.2, 0.3, 10)
    whole = simulate(KOM, TIMES, params={"k1": k1})
    sweep(KOM, TIMES, {"k1": k1[:4]}, keep=("z",), chunk_size=4)  # compile the chunk shape
    before = trace_count()
    seen = []
    res = sweep(KOM, TIMES, {"k1": k1}, keep=("z", "x1"), chunk_size=4,
                on_chunk=lambda start, part: seen.append((start, part["z"].shape[0])))
    assert trace_count() == before  # 3 chunks (4, 4, 2 padded to 4), no new compilation
    assert seen == [(0, 4), (4, 4), (8, 2)]
    np.testing.assert_array_equal(res["z"], np.asarray(whole["z"]))
    np.testing.assert_array_equal(res["x1"], np.asarray(whole["x1"]))
    assert res["z"].shape == (10, len(TIMES)) and res.ok.all()
    with pytest.raises(KeyError, match="'x2' was not kept"):
        res["x2"]


def test_failed_members_are_reported_by_index_across_chunks():
    # dy/dt = a y^2 from y0 = 0.1 blows up at t = 10 / a: members with a > 10 fail before t = 1
    a = np.array([1.0, 2.0, 50.0, 3.0, 4.0, 80.0, 5.0])
    res = sweep(BLOW_UP, np.linspace(0.0, 1.0, 5), {"a": a}, keep=("y",), chunk_size=3, **OPTS)
    assert [i for i, _ in res.failures()] == [2, 5]
    good = res.ok
    y0 = 0.1
    t = np.linspace(0.0, 1.0, 5)
    np.testing.assert_allclose(res["y"][good], y0 / (1 - a[good, None] * y0 * t), rtol=1e-8)
    assert np.all(np.isnan(res["y"][~good]))


def test_bad_samples():
    with pytest.raises(ValueError, match="same number of values"):
        sweep(KOM, TIMES, {"k1": np.ones(3), "k2": np.ones(4)})
    with pytest.raises(ValueError, match=r"'beta1' = -1.0"):
        sweep(KOM, TIMES, {"beta1": jnp.array([0.2, -1.0])})
    with pytest.raises(ValueError, match="chunk_size must be a positive integer"):
        sweep(KOM, TIMES, {"k1": np.ones(3)}, chunk_size=0)
