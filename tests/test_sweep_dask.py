"""Sweeps on Dask distributed: each chunk is one task that writes one atomic part.

A ``LocalCluster`` of two worker processes stands in for a real cluster: the results are
bit for bit those of the local sweep, a worker killed while writing a part loses nothing
(the scheduler runs the task again, and the part is whole or absent), resume skips the
parts already written, and ``load_sweep(..., dask=True)`` opens the parts lazily.
"""

from __future__ import annotations

import logging
import os

import numpy as np
import pytest
import xarray as xr

distributed = pytest.importorskip("distributed")
dask_array = pytest.importorskip("dask.array")

from seedsoil.models import komarova2003  # noqa: E402
from seedsoil.solvers import bolus, sweep, trace_count  # noqa: E402
from seedsoil.solvers._sweep import _check_workers_see, load_sweep  # noqa: E402

K = komarova2003()
T = np.linspace(0, 50, 6)
A = np.linspace(2.5, 3.5, 10)
DOSE = bolus("x1", [20.0], [5.0])
PARTS = ["part-000000000000.nc", "part-000000000004.nc", "part-000000000008.nc"]


@pytest.fixture(scope="module")
def client():
    """Two worker processes of one thread each (spawned: each imports seedsoil, so float64)."""
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                                  silence_logs=logging.CRITICAL) as cluster, distributed.Client(cluster) as c:
        yield c


@pytest.fixture(scope="module")
def local(tmp_path_factory):
    """The reference: the same sweep solved in this process, streamed to disk."""
    d = tmp_path_factory.mktemp("local") / "run"
    return d, sweep(K, T, {"alpha1": A}, DOSE, chunk_size=4, out=d)


def _parts(d):
    return {f: (d / f).read_bytes() for f in sorted(os.listdir(d)) if f.startswith("part-")}


def _same(res, ref):
    assert list(res.outputs) == list(ref.outputs)
    for k in ref.outputs:
        assert np.array_equal(res[k], ref[k], equal_nan=True), k
    assert np.array_equal(res.code, ref.code)


def test_chunks_on_workers_are_bit_identical_to_the_local_sweep(client, local, tmp_path):
    d_ref, ref = local
    seen = []
    res = sweep(K, T, {"alpha1": A}, DOSE, chunk_size=4, out=tmp_path / "run", client=client,
                on_chunk=lambda start, part: seen.append((start, part["x1_bar"].shape[0])))
    _same(res, ref)
    assert sorted(seen) == [(0, 4), (4, 4), (8, 2)] and res.chunk_size == 4
    assert _parts(tmp_path / "run") == _parts(d_ref)  # the parts themselves, byte for byte
    assert sorted(os.listdir(tmp_path / "run")) == PARTS  # no temporary or probe file left
    traces = client.run(trace_count)  # 0 where the program cache already held the program
    assert set(traces.values()) <= {0, 1}, traces  # at most once per worker process, not once per chunk
    flat = sweep(K, T, {"alpha1": A}, DOSE, chunk_size=4, out=tmp_path / "flat", client=client,
                 keep_in_memory=False)
    assert client.run(trace_count) == traces  # the second sweep compiles nothing
    assert flat.outputs == {} and np.array_equal(flat.code, ref.code)
    assert _parts(tmp_path / "flat") == _parts(d_ref)
    xr.testing.assert_identical(flat.to_xarray(), ref.to_xarray())


def test_resume_on_workers_solves_only_the_missing_chunk(client, local, tmp_path):
    d_ref, ref = local
    d = tmp_path / "run"
    d.mkdir()
    for name, data in _parts(d_ref).items():
        if name != PARTS[1]:
            (d / name).write_bytes(data)
    solved = []
    res = sweep(K, T, {"alpha1": A}, DOSE, chunk_size=4, out=d, client=client, resume=True,
                on_chunk=lambda start, part: solved.append(start))
    assert solved == [4]
    _same(res, ref)
    assert _parts(d) == _parts(d_ref)


def test_a_worker_killed_while_writing_a_part_loses_nothing(client, local, tmp_path):
    """The first part written on any worker kills that worker's process half-way through the
    write; the nanny starts a new worker, the scheduler runs the task again, and the sweep
    ends with every part whole and identical to the local sweep's."""
    d_ref, ref = local
    marker = tmp_path / "killed"

    def arm(marker):  # runs in each worker process; pickled by value
        import os

        import xarray as xr

        real = xr.Dataset.to_netcdf

        def to_netcdf(self, target, *args, **kwargs):
            try:
                fd = os.open(marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
            except FileExistsError:  # one kill in all: the other writes go through
                return real(self, target, *args, **kwargs)
            os.write(fd, str(os.getpid()).encode())
            os.close(fd)
            with open(target, "wb") as f:
                f.write(b"CDF\x01")  # a few bytes, then the process dies
            os._exit(1)

        xr.Dataset.to_netcdf = to_netcdf
        return os.getpid()

    pids = set(client.run(arm, str(marker)).values())
    d = tmp_path / "run"
    res = sweep(K, T, {"alpha1": A}, DOSE, chunk_size=4, out=d, client=client)
    assert marker.exists() and int(marker.read_text()) in pids  # a worker did die mid-write
    _same(res, ref)
    assert _parts(d) == _parts(d_ref)  # whole parts only: the half-written one was never a part-*.nc
    xr.testing.assert_identical(load_sweep(d), ref.to_xarray())
    stray = [f for f in os.listdir(d) if not f.startswith("part-")]
    assert all(f.startswith(".part-") and f.endswith(".tmp") for f in stray), stray  # ignored by load_sweep
    client.wait_for_workers(2, timeout=60)
    assert set(client.run(os.getpid).values()) != pids  # the nanny started a new worker process


def test_lazy_load_is_dask_backed_and_equals_the_eager_one(client, local, tmp_path):
    d_ref, ref = local
    lazy = load_sweep(d_ref, dask=True)
    for name in ("x1_bar", "x2_bar", "code", "status", "parameters"):
        assert isinstance(lazy[name].data, dask_array.Array), name
    assert lazy["x1_bar"].chunks[0] == (4, 4, 2)  # one chunk per part
    xr.testing.assert_identical(client.compute(lazy).result(), load_sweep(d_ref))  # the parts read on the workers
    xr.testing.assert_identical(lazy.compute(scheduler="synchronous"), ref.to_xarray())
    lazy.close()
    d = tmp_path / "run"
    d.mkdir()
    for name, data in _parts(d_ref).items():
        (d / name).write_bytes(data[: len(data) // 2] if name == PARTS[1] else data)
    with pytest.raises(ValueError, match=rf"sweep part '{d / PARTS[1]}' is damaged"):
        load_sweep(d, dask=True)
    with pytest.warns(RuntimeWarning, match=PARTS[1]):
        rest = load_sweep(d, dask=True, complete=False)
    xr.testing.assert_identical(rest.compute(), ref.to_xarray().sel(member=[0, 1, 2, 3, 8, 9]))
    rest.close()
    (d / PARTS[1]).write_bytes(b"")
    with pytest.raises(ValueError, match="is damaged"):
        load_sweep(d, dask=True)


def test_bad_calls_with_a_client_touch_nothing(client, local, tmp_path):
    d_ref, _ = local
    d = tmp_path / "run"
    d.mkdir()
    for name, data in _parts(d_ref).items():
        (d / name).write_bytes(data)
    before = _parts(d)
    with pytest.raises(ValueError, match="client= needs out="):
        sweep(K, T, {"alpha1": A}, chunk_size=4, client=client)
    with pytest.raises(ValueError, match="shard=True"):
        sweep(K, T, {"alpha1": A}, chunk_size=4, client=client, out=d, overwrite=True, shard=True)
    with pytest.raises(ValueError, match="retries must be"):
        sweep(K, T, {"alpha1": A}, chunk_size=4, client=client, out=d, overwrite=True, retries=-1)
    with pytest.raises(ValueError, match="times must increase strictly"):
        sweep(K, [0, 10, 5], {"alpha1": A}, chunk_size=4, client=client, out=d, overwrite=True)
    with pytest.raises(TypeError, match="dask.distributed.Client"):
        sweep(K, T, {"alpha1": A}, chunk_size=4, client="tcp://scheduler:8786", out=d, overwrite=True)
    assert _parts(d) == before and sorted(os.listdir(d)) == PARTS


def test_a_folder_the_workers_do_not_see_is_refused(tmp_path):
    class Blind:  # a client whose one worker has another filesystem
        def run(self, fn, *args):
            return {"tcp://10.0.0.2:4000": False}

    with pytest.raises(ValueError, match=r"workers \['tcp://10.0.0.2:4000'\] do not see the folder"):
        _check_workers_see(Blind(), str(tmp_path))
    assert os.listdir(tmp_path) == []  # the probe is removed
