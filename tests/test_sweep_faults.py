"""Sweeps streamed to disk under faults: bad arguments delete nothing, parts are atomic,
damaged or foreign parts are named, any integer chunk size works, an unwritable folder is
refused before solving, and an interrupted sweep resumes to the uninterrupted result."""

from __future__ import annotations

import os
import shutil

import numpy as np
import pytest
import xarray as xr

import seedsoil.solvers._sweep as sweep_module
from seedsoil.models import komarova2003
from seedsoil.solvers import bolus, sweep
from seedsoil.solvers._sweep import load_sweep

K = komarova2003()
T = np.linspace(0, 50, 6)
A = np.linspace(2.5, 3.5, 10)
PARTS = ["part-000000000000.nc", "part-000000000004.nc", "part-000000000008.nc"]


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    """One sweep of 10 members in chunks of 4, streamed to disk and kept in memory."""
    d = tmp_path_factory.mktemp("sweep") / "run"
    res = sweep(K, T, {"alpha1": A}, chunk_size=4, out=d)
    return d, res


@pytest.fixture
def copy(written, tmp_path):
    """A private copy of the written sweep's folder, to damage."""
    d = tmp_path / "run"
    shutil.copytree(written[0], d)
    return d


def _snapshot(d):
    return {f: (d / f).read_bytes() for f in sorted(os.listdir(d))}


def test_parts_are_written_whole_and_nothing_else_is_left(written):
    d, res = written
    assert sorted(os.listdir(d)) == PARTS  # no temporary or probe file left behind
    xr.testing.assert_identical(load_sweep(d), res.to_xarray())


@pytest.mark.parametrize("bad", [
    dict(times=[0, 10, 5], match="times must increase strictly"),
    dict(regimen=bolus("nope", [10.0], 1.0), match="nope"),
    dict(keep=("nope",), match="nope"),
    dict(samples={"alpha1": 3.0}, match="one per member"),
])
def test_a_failing_call_with_overwrite_deletes_nothing(copy, bad):
    bad = dict(bad)
    match = bad.pop("match")
    kw = dict(times=T, samples={"alpha1": A}) | bad
    before = _snapshot(copy)
    with pytest.raises((ValueError, KeyError), match=match):
        sweep(K, kw.pop("times"), kw.pop("samples"), out=copy, overwrite=True, **kw)
    assert _snapshot(copy) == before  # the earlier sweep's parts are all still there, unchanged


def test_overwrite_of_a_valid_call_replaces_the_parts(copy):
    res = sweep(K, T, {"alpha1": A[:3]}, chunk_size=2, out=copy, overwrite=True)
    assert sorted(os.listdir(copy)) == ["part-000000000000.nc", "part-000000000002.nc"]
    xr.testing.assert_identical(load_sweep(copy), res.to_xarray())


@pytest.mark.parametrize("damage", ["empty", "truncated"])
def test_a_damaged_part_is_named_and_the_rest_loads(copy, written, damage):
    victim = copy / PARTS[1]
    data = victim.read_bytes()
    victim.write_bytes(b"" if damage == "empty" else data[: len(data) // 2])
    with pytest.raises(ValueError, match=rf"sweep part '{victim}' is damaged"):
        load_sweep(copy)
    with pytest.warns(RuntimeWarning, match=PARTS[1]):
        rest = load_sweep(copy, complete=False)
    assert rest["member"].values.tolist() == [0, 1, 2, 3, 8, 9]
    xr.testing.assert_identical(rest, written[1].to_xarray().sel(member=[0, 1, 2, 3, 8, 9]))


def test_a_kill_during_a_write_leaves_no_part(written, tmp_path, monkeypatch):
    """The part is written under a temporary name and renamed: a write that dies leaves no part-*.nc."""
    real = xr.Dataset.to_netcdf
    calls = []

    def dies_on_second(self, target, *args, **kwargs):
        calls.append(target)
        if len(calls) == 2:
            with open(target, "wb") as f:
                f.write(b"CDF\x01")  # a few bytes, then the process "dies"
            raise KeyboardInterrupt
        return real(self, target, *args, **kwargs)

    monkeypatch.setattr(xr.Dataset, "to_netcdf", dies_on_second)
    d = tmp_path / "run"
    with pytest.raises(KeyboardInterrupt):
        sweep(K, T, {"alpha1": A}, chunk_size=4, out=d)
    assert sorted(os.listdir(d)) == PARTS[:1]
    assert all(os.path.basename(c) != PARTS[1] for c in calls)  # never written in place
    xr.testing.assert_identical(load_sweep(d, complete=False), written[1].to_xarray().sel(member=[0, 1, 2, 3]))


def test_chunk_size_of_any_integer_type(written):
    res = sweep(K, T, {"alpha1": A}, chunk_size=np.int64(4))
    assert res.chunk_size == 4 and type(res.chunk_size) is int
    assert list(res.outputs) == list(written[1].outputs)
    for k in res.outputs:
        np.testing.assert_array_equal(res[k], written[1][k])
    for bad in (True, 4.0, np.float64(4.0), np.int32(0)):
        with pytest.raises(ValueError, match="chunk_size must be a positive integer"):
            sweep(K, T, {"alpha1": A}, chunk_size=bad)


@pytest.mark.parametrize("other", [
    dict(times=np.linspace(0, 60, 6), why="save times"),
    dict(samples={"alpha2": np.linspace(0.0, 0.2, 10)}, why="coordinates"),
    dict(samples={"alpha1": A[:6]}, why="number of members"),
])
def test_a_part_from_another_sweep_is_named(copy, tmp_path, other):
    other = dict(other)
    why = other.pop("why")
    foreign = tmp_path / "foreign"
    sweep(K, other.get("times", T), other.get("samples", {"alpha1": A}), chunk_size=4, out=foreign)
    os.replace(foreign / PARTS[1], copy / PARTS[1])
    with pytest.raises(ValueError, match=rf"sweep part '{copy / PARTS[1]}' does not belong .*{why}"):
        load_sweep(copy)
    with pytest.raises(ValueError, match="does not belong"):
        load_sweep(copy, complete=False)


@pytest.fixture
def unwritable(tmp_path):
    if os.geteuid() == 0:  # permissions do not stop root; /proc/self is a folder no one can create files in
        yield "/proc/self"
        return
    d = tmp_path / "ro"
    d.mkdir()
    d.chmod(0o555)
    yield str(d)
    d.chmod(0o755)


def test_an_unwritable_folder_is_refused_before_solving(unwritable, monkeypatch):
    solved = []
    real = sweep_module.simulate
    monkeypatch.setattr(sweep_module, "simulate", lambda *a, **k: solved.append(1) or real(*a, **k))
    with pytest.raises(ValueError, match=rf"cannot write the sweep parts to folder '{unwritable}'"):
        sweep(K, T, {"alpha1": A}, chunk_size=4, out=unwritable)
    assert solved == []


def test_resume_solves_only_the_missing_chunk_and_ends_identical(copy, written, monkeypatch):
    full = _snapshot(copy)
    os.remove(copy / PARTS[1])
    solved = []
    def record(start, part):
        solved.append(start)

    res = sweep(K, T, {"alpha1": A}, chunk_size=4, out=copy, resume=True, on_chunk=record)
    assert solved == [4]
    assert _snapshot(copy) == full  # bit for bit the parts of the uninterrupted sweep
    xr.testing.assert_identical(res.to_xarray(), written[1].to_xarray())
    for k in written[1].outputs:
        np.testing.assert_array_equal(res[k], written[1][k])
    np.testing.assert_array_equal(res.code, written[1].code)
    assert sweep(K, T, {"alpha1": A}, chunk_size=4, out=copy, resume=True, on_chunk=record).ok.all()
    assert solved == [4]  # nothing left to solve
    damaged = copy / PARTS[2]
    damaged.write_bytes(full[PARTS[2]][:100])  # truncated: solved again and replaced
    with pytest.warns(RuntimeWarning, match=rf"solving again: sweep part '{damaged}' is damaged"):
        sweep(K, T, {"alpha1": A}, chunk_size=4, out=copy, resume=True, on_chunk=record)
    assert solved == [4, 8] and _snapshot(copy) == full
    with pytest.raises(ValueError, match=r"its outputs \['x1_bar', 'x2_bar'\] are not \['x1_bar'\]"):
        sweep(K, T, {"alpha1": A}, chunk_size=4, out=copy, resume=True, keep=("x1_bar",))
    with pytest.raises(ValueError, match=r"does not belong to this sweep \(its members"):
        sweep(K, T, {"alpha1": A}, chunk_size=5, out=copy, resume=True)
    with pytest.raises(ValueError, match="parameter values differ"):
        sweep(K, T, {"alpha1": A + 0.01}, chunk_size=4, out=copy, resume=True)
    assert _snapshot(copy) == full
