"""Sweeps with one regimen per member: each virtual patient starts on their own day.

A regimen whose arrays carry a leading axis of N (same events, each member's own dose times
and amounts) is sliced per chunk and padded like the parameter values, so every chunk still
reuses one compiled function; the members equal separate solves, on every path (plain,
sharded, streamed to disk and resumed, on Dask workers).
"""

from __future__ import annotations

import logging
import os
import textwrap

import equinox as eqx
import jax.numpy as jnp
import numpy as np
import pytest
import xarray as xr

from seedsoil.models.drugs import XGEVA_Q4W, denosumab
from seedsoil.solvers import bolus, from_schedule, simulate, sweep, trace_count
from seedsoil.solvers._sweep import load_sweep

from ._devices import run_on_cpu_devices
from .test_failures import MODEL as BLOW_UP
from .test_failures import OPTS

DMAB = denosumab()
T = np.linspace(0.0, 120.0, 13)  # every 10 days
STARTS = np.array([0.0, 3.0, 7.0, 12.0, 15.0])  # members 3 and 4 are not dosed by day 10
AMOUNTS = np.array([120.0, 60.0, 120.0, 240.0, 90.0])
KA = float(DMAB.params.values[DMAB.param_index("ka")[0]]) * np.linspace(0.8, 1.2, 5)
KEEP = ("C_free", "RANKL_occupancy")


def _regimen(starts, amounts):
    """Three Xgeva doses per member from its own start day, of its own amount."""
    return from_schedule(XGEVA_Q4W, count=3, start=np.asarray(starts)[:, None], amount=np.asarray(amounts)[:, None])


REG = _regimen(STARTS, AMOUNTS)


@pytest.fixture(scope="module")
def reference():
    """The same members solved one at a time, each with its own unbatched regimen."""
    sols = [simulate(DMAB, T, params={"ka": KA[i]}, regimen=from_schedule(XGEVA_Q4W, count=3, start=STARTS[i],
                                                                          amount=AMOUNTS[i]))
            for i in range(len(STARTS))]
    return {k: np.stack([np.asarray(s[k]) for s in sols]) for k in KEEP}


@pytest.fixture(scope="module")
def swept():
    """A sweep of 5 members in chunks of 2 (the last one padded), and how many traces it took."""
    before = trace_count()
    seen = []
    res = sweep(DMAB, T, {"ka": KA}, REG, keep=KEEP, chunk_size=2,
                on_chunk=lambda start, part: seen.append((start, part["C_free"].shape[0])))
    return res, trace_count() - before, seen


def _close(got, want):
    for k in KEEP:
        np.testing.assert_allclose(got[k], want[k], rtol=1e-10, atol=1e-10 * np.max(np.abs(want[k])), err_msg=k)


def test_per_member_regimens_equal_separate_solves_and_compile_once(swept, reference):
    res, traces, seen = swept
    assert REG.batch_shape == (5,)
    assert seen == [(0, 2), (2, 2), (4, 1)] and res.chunk_size == 2 and res.ok.all()
    assert traces <= 1  # three chunks, one compiled function (0 when the program cache held it)
    _close(res.outputs, reference)
    assert np.all(res["C_free"][:3, 1] > 0) and np.all(res["C_free"][3:, 1] == 0)  # each member's own start day
    # other start days and amounts, same event count: nothing new to compile
    before = trace_count()
    again = sweep(DMAB, T, {"ka": KA}, _regimen(STARTS[::-1], AMOUNTS[::-1]), keep=KEEP, chunk_size=2)
    assert trace_count() == before
    assert np.all(again["C_free"][:2, 1] == 0) and np.all(again["C_free"][2:, 1] > 0)


def test_shared_arrays_of_a_per_member_regimen_are_broadcast(swept, reference):
    """A regimen whose dose times are per member but whose amounts are one row for all."""
    res = sweep(DMAB, T, {"ka": KA}, _regimen(STARTS, np.full(5, 120.0)), keep=KEEP, chunk_size=2)
    mixed = eqx.tree_at(lambda r: r.event_amount, REG, jnp.full(3, 120.0))  # (3,): shared by every member
    assert mixed.batch_shape == (5,) and mixed.event_amount.shape == (3,)
    got = sweep(DMAB, T, {"ka": KA}, mixed, keep=KEEP, chunk_size=2)
    for k in KEEP:
        np.testing.assert_array_equal(got[k], res[k])
    np.testing.assert_array_equal(res["C_free"][[0, 2]], swept[0]["C_free"][[0, 2]])  # same amount, same bits


def test_a_failing_member_is_reported_by_index_and_spares_the_others():
    # dy/dt = a y^2, y(0) = 0.1: a dose d at t_d gives y_d = y(t_d) + d, blowing up at t_d + 1 / y_d
    t_d = np.array([0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5])
    d = np.array([0.0, 0.5, 5.0, 0.1, 0.2, 8.0, 0.3])  # members 2 and 5 blow up before t = 1
    times = np.linspace(0.0, 1.0, 5)
    res = sweep(BLOW_UP, times, {"a": np.ones(7)}, bolus("y", t_d[:, None], d[:, None]), keep=("y",), chunk_size=3,
                **OPTS)
    assert [i for i, _ in res.failures()] == [2, 5]
    good = res.ok
    y_d = 0.1 / (1 - 0.1 * t_d) + d
    before, after = 0.1 / (1 - 0.1 * times), y_d[:, None] / (1 - y_d[:, None] * (times - t_d[:, None]))
    want = np.where(times < t_d[:, None], before, after)
    np.testing.assert_allclose(res["y"][good], want[good], rtol=1e-8)
    assert np.all(np.isnan(res["y"][~good]))


def test_bad_per_member_regimens_raise_before_anything_is_touched(tmp_path, swept):
    out = tmp_path / "run"
    sweep(DMAB, T, {"ka": KA}, REG, keep=KEEP, chunk_size=2, out=out)
    parts = sorted(os.listdir(out))
    kw = dict(keep=KEEP, chunk_size=2, out=out, overwrite=True)
    with pytest.raises(ValueError, match=r"holds 4 regimens \(batch shape \(4,\)\) but samples holds 5 members"):
        sweep(DMAB, T, {"ka": KA}, _regimen(STARTS[:4], AMOUNTS[:4]), **kw)
    two = from_schedule(XGEVA_Q4W, count=3, start=np.zeros((2, 5, 1)))
    with pytest.raises(ValueError, match=r"one per member .* got a regimen with batch shape \(2, 5\)"):
        sweep(DMAB, T, {"ka": KA}, two, **kw)
    late = T + 5.0  # member 0 is dosed on day 0, before the first save time
    with pytest.raises(ValueError, match=r"the regimen of member 0: dose time 0.0 for 'depot' is before the start "
                                         r"of the simulation \(5.0\)"):
        sweep(DMAB, late, {"ka": KA}, REG, **kw)
    negative = eqx.tree_at(lambda r: r.event_amount, REG, REG.event_amount.at[3, 1].set(-1.0))
    with pytest.raises(ValueError, match=r"the regimen of member 3: dose amount -1.0 for 'depot' must be finite"):
        sweep(DMAB, T, {"ka": KA}, negative, **kw)
    unsorted = eqx.tree_at(lambda r: r.event_time, REG, REG.event_time.at[4, 2].set(1.0))
    with pytest.raises(ValueError, match=r"the regimen of member 4: dose times for 'depot' are not sorted"):
        sweep(DMAB, T, {"ka": KA}, unsorted, **kw)
    with pytest.raises(ValueError, match="dose target 'nowhere'") as err:  # every member's: no member named
        sweep(DMAB, T, {"ka": KA}, bolus("nowhere", STARTS[:, None], 1.0), **kw)
    assert "member" not in str(err.value)
    assert sorted(os.listdir(out)) == parts  # nothing deleted, even with overwrite=True


def test_streamed_and_resumed_per_member_sweep_equals_the_in_memory_one(tmp_path, swept):
    res = swept[0]
    out = tmp_path / "run"
    disk = sweep(DMAB, T, {"ka": KA}, REG, keep=KEEP, chunk_size=2, out=out, keep_in_memory=False)
    assert disk.outputs == {} and disk.ok.all()
    assert sorted(os.listdir(out)) == ["part-000000000000.nc", "part-000000000002.nc", "part-000000000004.nc"]
    xr.testing.assert_identical(load_sweep(out), res.to_xarray())
    os.remove(out / "part-000000000002.nc")
    solved = []
    again = sweep(DMAB, T, {"ka": KA}, REG, keep=KEEP, chunk_size=2, out=out, resume=True,
                  on_chunk=lambda start, part: solved.append(start))
    assert solved == [2]  # only the missing chunk, with its own members' regimens
    for k in KEEP:
        np.testing.assert_array_equal(again[k], res[k])
    xr.testing.assert_identical(load_sweep(out), res.to_xarray())


def test_sharded_on_one_device_matches(swept):
    res = swept[0]
    got = sweep(DMAB, T, {"ka": KA}, REG, keep=KEEP, chunk_size=2, shard=True)
    assert got.devices == 1 and got.ok.all()
    for k in KEEP:
        np.testing.assert_allclose(got[k], res[k], rtol=1e-12, atol=1e-12 * np.max(np.abs(res[k])))


SHARD_SCRIPT = textwrap.dedent("""
    import json, sys
    import numpy as np
    import jax
    from seedsoil.models.drugs import XGEVA_Q4W, denosumab
    from seedsoil.solvers import from_schedule, sweep, trace_count

    assert jax.device_count() == 4, jax.devices()
    starts = np.arange(10.0) * 2.0
    res = sweep(denosumab(), np.linspace(0.0, 120.0, 13), {"ka": np.linspace(0.2, 0.3, 10)},
                from_schedule(XGEVA_Q4W, count=3, start=starts[:, None]), keep=("C_free",), chunk_size=6, shard=True)
    assert res.devices == 4 and res.chunk_size == 8, (res.devices, res.chunk_size)
    assert trace_count() == 1  # two chunks, the second padded, one compilation
    json.dump({"C_free": res["C_free"].tolist(), "code": res.code.tolist()}, open(sys.argv[1], "w"))
""")


def test_sharded_over_four_devices_splits_the_regimen_with_the_members(tmp_path):
    got = run_on_cpu_devices(SHARD_SCRIPT, tmp_path)
    starts = np.arange(10.0) * 2.0
    ref = simulate(DMAB, T, params={"ka": np.linspace(0.2, 0.3, 10)},
                   regimen=from_schedule(XGEVA_Q4W, count=3, start=starts[:, None]))
    assert got["code"] == [0] * 10
    want = np.asarray(ref["C_free"])
    np.testing.assert_allclose(np.array(got["C_free"]), want, rtol=1e-10, atol=1e-10 * np.max(want))


def test_chunks_on_dask_workers_get_their_members_regimens(tmp_path, swept):
    distributed = pytest.importorskip("distributed")
    res = swept[0]
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=False, dashboard_address=None,
                                  silence_logs=logging.CRITICAL) as cluster, distributed.Client(cluster) as client:
        got = sweep(DMAB, T, {"ka": KA}, REG, keep=KEEP, chunk_size=2, out=tmp_path / "run", client=client)
    for k in KEEP:
        np.testing.assert_array_equal(got[k], res[k])  # bit for bit the local sweep
    xr.testing.assert_identical(load_sweep(tmp_path / "run"), res.to_xarray())
