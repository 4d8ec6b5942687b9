"""Chunked sweeps: same numbers as one batched solve, one compilation, failures by index."""

import jax.numpy as jnp
import numpy as np
import pytest

from seedsoil.models import komarova2003
from seedsoil.solvers import simulate, sweep, trace_count

from ._devices import run_on_cpu_devices
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


def test_members_solved_in_sequence_match_the_vmap():
    """vmap_size=k (lax.map over groups of k) gives the vmapped numbers, failures included."""
    k1 = np.linspace(0.2, 0.3, 5)
    vmapped = simulate(KOM, TIMES, params={"k1": k1})
    for k in (1, 2):
        mapped = simulate(KOM, TIMES, params={"k1": k1}, vmap_size=k)
        np.testing.assert_allclose(mapped["z"], vmapped["z"], rtol=1e-12, atol=1e-12)
    a = np.array([1.0, 50.0, 3.0])
    res = sweep(BLOW_UP, np.linspace(0.0, 1.0, 5), {"a": a}, keep=("y",), vmap_size=1, **OPTS)
    assert [i for i, _ in res.failures()] == [1]
    with pytest.raises(ValueError, match="vmap_size must be None or a positive integer; got 0"):
        simulate(KOM, TIMES, params={"k1": k1}, vmap_size=0)


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


# --------------------------------------------------------------------------------------
# Labelled results, progress, streaming to disk, sharding
# --------------------------------------------------------------------------------------
import json  # noqa: E402
import os  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import textwrap  # noqa: E402
from pathlib import Path  # noqa: E402

import equinox as eqx  # noqa: E402
import xarray as xr  # noqa: E402

from seedsoil.models.base import Model, Observable, Param, Params, State  # noqa: E402
from seedsoil.solvers import bolus  # noqa: E402
from seedsoil.solvers._sweep import _output_dims, load_sweep  # noqa: E402

ORGANS = ("bone", "lung", "liver")


class Organs(Model):
    """m_o' = g_o m_o per organ, c' = -c: m_o(t) = exp(g_o t), c(t) = exp(-t)."""

    organs: tuple[str, ...] = eqx.field(static=True, default=())

    def rhs(self, t, y, p, u):
        return {"m": p.g * y.m, "c": -y.c}

    def observables(self, t, y, p, u):
        return {"total": jnp.sum(y.m), "burden": y.m, "pair": jnp.stack([y.c, 2 * y.c])}


ORGAN_MODEL = Organs(
    name="organs_toy",
    states=(State("m", "cells", "cells per organ", (3,), dims=("organ",), labels=ORGANS),
            State("c", "mg/L", "a concentration")),
    params=Params.from_specs((Param("g", (0.1, 0.2, 0.3), "1/day", "test", shape=(3,), labels=ORGANS),
                              Param("h", 1.0, "1", "test, unused"))),
    y0=jnp.ones(4),
    observable_specs=(Observable("total", "cells", "all cells"),
                      Observable("burden", "cells", "per organ", (3,), dims=("organ",), labels=ORGANS),
                      Observable("pair", "mg/L", "c and 2c", (2,))),
    organs=ORGANS,
)
ORGAN_TIMES = np.linspace(0.0, 2.0, 5)
G = np.array([[0.1, 0.2, 0.3], [0.0, 0.5, 1.0], [0.3, 0.3, 0.3], [1.0, 0.0, 0.1], [0.2, 0.1, 0.0]])


def test_per_organ_outputs_are_named_after_the_models_organ_axis():
    from seedsoil.models import cascade

    m = cascade()
    specs = {s.name: s for s in m.observable_specs + m.states}
    assert _output_dims(m, specs["metastatic_burden"]) == (("organ",), {"organ": m.organs})
    assert _output_dims(m, specs["n"]) == (("organ", "n_dim1"), {"organ": m.organs})
    assert _output_dims(m, specs["primary"]) == ((), {})
    assert _output_dims(ORGAN_MODEL, ORGAN_MODEL.observable_specs[2]) == (("pair_dim0",), {})


def test_to_xarray_labels_dims_units_and_parameters():
    res = sweep(ORGAN_MODEL, ORGAN_TIMES, {"g": G}, keep=("burden", "pair", "total", "c"), chunk_size=2,
                rtol=1e-10, atol=1e-12)
    ds = res.to_xarray()
    assert ds["burden"].dims == ("member", "time", "organ") and list(ds["organ"].values) == list(ORGANS)
    assert ds["pair"].dims == ("member", "time", "pair_dim0") and ds["c"].dims == ("member", "time")
    assert ds["burden"].attrs["units"] == "cells" and ds["c"].attrs["units"] == "mg/L"
    assert ds["time"].attrs["units"] == "day"
    np.testing.assert_array_equal(ds["time"].values, ORGAN_TIMES)
    np.testing.assert_array_equal(ds["member"].values, np.arange(5))
    for o, organ in enumerate(ORGANS):  # sampled values as coordinates along member, by flat label
        np.testing.assert_array_equal(ds[f"g[{organ}]"].values, G[:, o])
        assert ds[f"g[{organ}]"].dims == ("member",) and ds[f"g[{organ}]"].attrs["units"] == "1/day"
    assert "h" not in ds.coords  # not sampled; still in the full parameter table:
    np.testing.assert_array_equal(ds["parameters"].sel(param="h").values, np.ones(5))
    np.testing.assert_allclose(ds["burden"].sel(organ="liver").values, np.exp(np.outer(G[:, 2], ORGAN_TIMES)),
                               rtol=1e-8)
    np.testing.assert_array_equal(ds["burden"].values, res["burden"])
    assert list(ds["status"].values) == ["success"] * 5
    # a full value matrix: the columns that vary (or leave the defaults) become coordinates
    matrix = np.asarray(ORGAN_MODEL.params.replace(g=G).values)
    ds2 = sweep(ORGAN_MODEL, ORGAN_TIMES, matrix, keep=("burden",), chunk_size=2, rtol=1e-10, atol=1e-12).to_xarray()
    assert [c for c in ds2.coords if c.startswith("g[")] == ["g[bone]", "g[lung]", "g[liver]"] and "h" not in ds2.coords
    np.testing.assert_array_equal(ds2["burden"].values, ds["burden"].values)


def test_status_in_dataset_and_progress_bar(capsys):
    a = np.array([1.0, 2.0, 50.0, 3.0, 4.0, 80.0, 5.0])
    res = sweep(BLOW_UP, np.linspace(0.0, 1.0, 5), {"a": a}, keep=("y",), chunk_size=3, progress=True, **OPTS)
    err = capsys.readouterr().err
    assert "7/7" in err and "failed=2" in err
    ds = res.to_xarray()
    assert [i for i, s in enumerate(ds["status"].values) if s != "success"] == [2, 5]
    assert set(ds["status"].values[[2, 5]]) <= set(res.status[[2, 5]]) and ds["y"].attrs["units"] == "1"
    assert np.isnan(ds["y"].sel(member=[2, 5])).all() and ds["a"].values.tolist() == a.tolist()
    sweep(BLOW_UP, np.linspace(0.0, 1.0, 5), {"a": a[:2]}, keep=("y",), chunk_size=3, **OPTS)
    assert capsys.readouterr().err == ""  # no bar by default


def test_streamed_chunks_equal_the_in_memory_result(tmp_path):
    kw = dict(keep=("burden", "pair", "c"), chunk_size=2, rtol=1e-10, atol=1e-12)
    mem = sweep(ORGAN_MODEL, ORGAN_TIMES, {"g": G}, **kw)
    out = tmp_path / "run"
    seen = []
    disk = sweep(ORGAN_MODEL, ORGAN_TIMES, {"g": G}, out=out, keep_in_memory=False,
                 on_chunk=lambda start, part: seen.append(sorted(os.listdir(out))), **kw)
    assert seen[0] == ["part-000000000000.nc"] and len(seen[-1]) == 3  # written as produced
    assert disk.outputs == {} and disk.ok.all() and disk.path == os.fspath(out)
    with pytest.raises(KeyError, match="streamed to"):
        disk["burden"]
    xr.testing.assert_identical(load_sweep(out), mem.to_xarray())
    xr.testing.assert_identical(disk.to_xarray(), mem.to_xarray())
    both = sweep(ORGAN_MODEL, ORGAN_TIMES, {"g": G}, out=out, overwrite=True, **kw)  # also kept in memory
    np.testing.assert_array_equal(both["burden"], mem["burden"])
    with pytest.raises(FileExistsError, match="overwrite=True"):
        sweep(ORGAN_MODEL, ORGAN_TIMES, {"g": G}, out=out, **kw)
    os.remove(out / "part-000000000002.nc")
    with pytest.raises(ValueError, match=r"holds 3 of 5 members; missing e.g. \[2, 3\]"):
        load_sweep(out)
    assert load_sweep(out, complete=False).sizes["member"] == 3


SHARD_SCRIPT = textwrap.dedent("""
    import json, sys
    import numpy as np
    import jax
    from seedsoil.models import komarova2003
    from seedsoil.solvers import bolus, sweep, trace_count

    assert jax.device_count() == 4, jax.devices()
    res = sweep(komarova2003(), np.linspace(0.0, 100.0, 11), {"k1": np.linspace(0.2, 0.3, 10)},
                bolus("x1", [30.0], [5.0]), keep=("z", "x1"), chunk_size=6, shard=True)
    assert res.devices == 4 and res.chunk_size == 8, (res.devices, res.chunk_size)
    assert trace_count() == 1  # two chunks, one compilation
    json.dump({"z": res["z"].tolist(), "x1": res["x1"].tolist(), "code": res.code.tolist()}, open(sys.argv[1], "w"))
""")


def test_sharded_sweep_splits_chunks_over_devices_and_matches(tmp_path):
    got = run_on_cpu_devices(SHARD_SCRIPT, tmp_path)
    ref = sweep(KOM, TIMES, {"k1": np.linspace(0.2, 0.3, 10)}, bolus("x1", [30.0], [5.0]), keep=("z", "x1"),
                chunk_size=8, shard=False)
    assert got["code"] == [0] * 10
    np.testing.assert_allclose(np.array(got["z"]), ref["z"], rtol=1e-12, atol=0)
    np.testing.assert_allclose(np.array(got["x1"]), ref["x1"], rtol=1e-12, atol=0)
    assert ref["z"][0, 4] != sweep(KOM, TIMES, {"k1": [0.2]}, keep=("z",), chunk_size=4)["z"][0, 4]  # dose acted


YNN_SCRIPT = textwrap.dedent("""
    import json, os, sys
    if sys.argv[1] == "late":
        import jax.numpy as jnp
        jnp.zeros(1)  # JAX's CPU backend starts here, before seedsoil sets XLA_FLAGS
    import seedsoil.solvers  # noqa: F401
    import jax, jax.numpy as jnp
    from seedsoil.models import cascade
    m = cascade()
    p = m.params.values
    u = jnp.zeros(m.n_states + m.n_inputs).at[m.n_states:].add(m.input_vector(0.0, p))
    ys = (m.y0 + 1.0) * jnp.linspace(1.0, 2.0, 16)[:, None]
    rhs = jax.vmap(lambda y: m.vector_field(0.0, y, p, u))
    vjp = jax.vmap(lambda y: jax.vjp(lambda yy, pp: m.vector_field(0.0, yy, pp, u), y, p)[1](y))
    hlo = [jax.jit(f).lower(ys).compile().as_text() for f in (rhs, vjp)]
    print(json.dumps(dict(flags=os.environ.get("XLA_FLAGS", ""), ynn=sum("kind=kCustom" in line and "ynn" in line
                                                              for h in hlo for line in h.splitlines()))))
""")


def _ynn_session(order: str, xla_flags: str | None = None) -> dict:
    env = dict(os.environ, JAX_PLATFORMS="cpu", SEEDSOIL_CACHE_DIR="off", TF_CPP_MIN_LOG_LEVEL="3")
    env.pop("XLA_FLAGS", None)
    if xla_flags is not None:
        env["XLA_FLAGS"] = xla_flags
    root = Path(__file__).resolve().parents[1]
    env["PYTHONPATH"] = os.pathsep.join([str(root)] + [p for p in [os.environ.get("PYTHONPATH")] if p])
    proc = subprocess.run([sys.executable, "-c", YNN_SCRIPT, order], cwd=root, env=env, capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return dict(json.loads(proc.stdout.strip().splitlines()[-1]), warned="imported after JAX started" in proc.stderr)


def test_importing_seedsoil_keeps_batched_reductions_out_of_ynnpack():
    """seedsoil._config._cpu_flags: the vmapped cascade right-hand side and its VJP compile without
    XLA's YNNPACK fusions (which doubled the per-member time of batched sweeps) when
    seedsoil is imported first; the control, with the backend started before
    seedsoil is imported, has them (so the count can detect them) and warns. A user's own
    setting of the flag in ``XLA_FLAGS`` is kept as given."""
    first = _ynn_session("first")
    assert first["ynn"] == 0 and first["flags"] == "--xla_cpu_experimental_ynn_fusion_type=" and not first["warned"]
    late = _ynn_session("late")
    assert late["ynn"] > 0 and late["warned"]
    own = "--xla_cpu_experimental_ynn_fusion_type= --xla_cpu_enable_fast_math=false"
    assert _ynn_session("first", own)["flags"] == own
