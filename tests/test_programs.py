"""Warm start: simulation programs reused across Python sessions (solvers/programs.py) and
JAX's persistent compilation cache actually written for them.

The reference is the first session's own result: a second session that loads the kept
program must not trace anything and must give bit-identical numbers.
"""

import dataclasses
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import jax
import numpy as np

import seedsoil.solvers.programs as programs
from seedsoil.models.drugs import denosumab
from seedsoil.models.reference import komarova2003, lemaire2004
from seedsoil.solvers import bolus, simulate

ROOT = Path(__file__).resolve().parents[1]

SESSION = textwrap.dedent("""
    import json, os, sys
    import jax, numpy as np
    from seedsoil.models.reference import komarova2003
    from seedsoil.solvers import bolus, simulate, trace_count
    import seedsoil.solvers.programs as programs
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)  # keep even fast compiles
    fingerprinted, traced_fingerprint = [], programs._traced_fingerprint
    programs._traced_fingerprint = lambda m: fingerprinted.append(1) or traced_fingerprint(m)
    sol = simulate(komarova2003(), np.linspace(0.0, 60.0, 13), regimen=bolus("x1", [10.0], [5.0]))
    cache = sys.argv[1]
    print(json.dumps(dict(traces=trace_count(), fingerprinted=len(fingerprinted), ys=np.asarray(sol.ys).tolist(),
                          programs=sorted(os.listdir(os.path.join(cache, "programs"))),
                          compiled=sorted(f for f in os.listdir(cache) if f.startswith("jit_call")))))
""")


def _session(cache: Path) -> dict:
    env = dict(os.environ, SEEDSOIL_CACHE_DIR=str(cache), JAX_PLATFORMS="cpu", TF_CPP_MIN_LOG_LEVEL="3")
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT)] + [p for p in [os.environ.get("PYTHONPATH")] if p])
    proc = subprocess.run([sys.executable, "-c", SESSION, str(cache)], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_second_session_traces_nothing_and_hits_the_compilation_cache(tmp_path):
    first = _session(tmp_path)
    second = _session(tmp_path)
    # one kept program and the model's kept fingerprint
    assert first["traces"] == 1 and first["fingerprinted"] == 1
    assert [p.rsplit(".", 1)[1] for p in first["programs"]] == ["jaxexport", "txt"]
    # The solve holds no host callbacks, so XLA's executable was written to JAX's cache.
    assert len(first["compiled"]) >= 1
    assert second["traces"] == 0, "the kept program was not reused"
    assert second["fingerprinted"] == 0, "the kept fingerprint was not read"
    assert second["programs"] == first["programs"] and second["compiled"] == first["compiled"]
    assert np.array_equal(np.array(second["ys"]), np.array(first["ys"]))


def test_solve_program_has_no_host_callbacks():
    # What made JAX refuse to cache the full model (diffrax's SaveAt checks as callbacks).
    model = komarova2003()
    sol_fn = lambda p: simulate(model, np.linspace(0.0, 30.0, 7), params=p, regimen=bolus("x1", [5.0], [2.0])).ys  # noqa: E731
    text = str(jax.make_jaxpr(sol_fn)(model.params.values))
    assert "callback" not in text


def test_fingerprint_is_structural():
    # Same structure, different numbers -> one program; a different model -> another.
    fp = programs.model_fingerprint
    assert fp(denosumab("osteoporosis")) == fp(denosumab("bone_metastases")) is not None
    assert fp(komarova2003()) == fp(komarova2003())
    assert fp(komarova2003()) != fp(lemaire2004())


def test_unreadable_program_file_is_rewritten(tmp_path, monkeypatch):
    monkeypatch.setattr(programs, "program_dir", lambda: tmp_path)
    monkeypatch.setattr(programs, "_PROGRAMS", {})
    model, times = komarova2003(), np.linspace(0.0, 20.0, 5)
    ref = np.asarray(simulate(model, times).ys)
    (path,) = tmp_path.glob("*.jaxexport")
    path.write_bytes(b"not a program")
    monkeypatch.setattr(programs, "_PROGRAMS", {})
    np.testing.assert_array_equal(np.asarray(simulate(model, times).ys), ref)
    assert jax.export.deserialize(bytearray(path.read_bytes())) is not None


def test_without_a_cache_calls_are_still_compiled_once():
    env = dict(os.environ, SEEDSOIL_CACHE_DIR="off", JAX_PLATFORMS="cpu", TF_CPP_MIN_LOG_LEVEL="3")
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT)] + [p for p in [os.environ.get("PYTHONPATH")] if p])
    script = textwrap.dedent("""
        import numpy as np
        from seedsoil.models.reference import komarova2003
        from seedsoil.solvers import simulate, trace_count
        from seedsoil.solvers.programs import program_dir
        assert program_dir() is None
        for k1 in (0.2, 0.25, 0.3):
            simulate(komarova2003(), np.linspace(0.0, 30.0, 7), params={"k1": k1})
        print(trace_count())
    """)
    proc = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stdout.strip().splitlines()[-1] == "1"


def test_a_model_the_fingerprint_cannot_trace_is_still_solved(monkeypatch, tmp_path):
    def refuse(*args, **kwargs):
        raise RuntimeError("not traceable here")

    monkeypatch.setattr(programs, "_FINGERPRINTS", {})
    monkeypatch.setattr(programs, "program_dir", lambda: tmp_path)  # no fingerprint kept from earlier runs
    monkeypatch.setattr(programs.jax, "make_jaxpr", refuse)
    model, times = komarova2003(), np.linspace(0.0, 20.0, 5)
    assert programs.model_fingerprint(model) is None
    got = np.asarray(simulate(model, times, params={"k1": 0.21}).ys)
    monkeypatch.undo()
    np.testing.assert_array_equal(got, np.asarray(simulate(model, times, params={"k1": 0.21}).ys))


def test_kept_fingerprint_is_read_without_tracing(monkeypatch, tmp_path):
    # A warm session reads the package model's fingerprint from disk instead of tracing
    # it (the ~1 s that dominated the full model's warm start): same value, no trace.
    monkeypatch.setattr(programs, "program_dir", lambda: tmp_path)
    monkeypatch.setattr(programs, "_FINGERPRINTS", {})
    traced = programs.model_fingerprint(lemaire2004())
    assert traced is not None and len(list(tmp_path.glob("fingerprint-*.txt"))) == 1

    def refuse(*args, **kwargs):
        raise AssertionError("traced although the fingerprint was kept")

    monkeypatch.setattr(programs, "_FINGERPRINTS", {})
    monkeypatch.setattr(programs.jax, "make_jaxpr", refuse)
    assert programs.model_fingerprint(lemaire2004()) == traced
    # values are inputs, not part of the key: a preset of the same structure reads the same file
    assert programs.model_fingerprint(lemaire2004().with_params(k_O=0.5)) == traced


def test_fingerprint_key_follows_structure_and_refuses_foreign_code():
    key = programs._source_key
    assert key(komarova2003()) == key(komarova2003().with_params(k1=0.25)) is not None
    assert key(komarova2003()) != key(lemaire2004())
    assert key(denosumab("osteoporosis")) != key(komarova2003())
    # A class defined outside the package (a user's model in a notebook or another module)
    # is not covered by the package's source hash: no kept fingerprint, it is traced.
    Foreign = type("Foreign", (type(komarova2003()),), {"__module__": "my_notebook"})
    foreign = Foreign(**{f.name: getattr(komarova2003(), f.name) for f in dataclasses.fields(Foreign)})
    assert key(foreign) is None
    # A function among the fields: its repr would not show what the trace sees.
    assert not programs._describe((1.0, np.exp), [])
    # A static array's values are part of the key (they would be constants of the trace).
    a, b = [], []
    programs._describe(np.zeros(3), a, static=True)
    programs._describe(np.ones(3), b, static=True)
    assert a != b
