"""Warm start: simulation programs reused across Python sessions (solvers/programs.py) and
JAX's persistent compilation cache actually written for them.

The reference is the first session's own result: a second session that loads the kept
program must not trace anything and must give bit-identical numbers. Cache faults (damaged
files, a read-only cache, two sessions writing one entry at once) must give the numbers of a
run without the cache.
"""

import dataclasses
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
import warnings
from pathlib import Path

import jax
import numpy as np
import pytest

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
    ls = lambda d: sorted(os.listdir(d)) if os.path.isdir(d) else []  # noqa: E731
    print(json.dumps(dict(traces=trace_count(), fingerprinted=len(fingerprinted), ys=np.asarray(sol.ys).tolist(),
                          cache_dir=jax.config.jax_compilation_cache_dir, programs=ls(os.path.join(cache, "programs")),
                          compiled=[f for f in ls(cache) if f.startswith("jit_call")])))
""")


def _start(cache, prefix=(), **kwargs) -> subprocess.Popen:
    """A fresh interpreter running SESSION with ``SEEDSOIL_CACHE_DIR=cache`` (``"off"``: no cache)."""
    env = dict(os.environ, SEEDSOIL_CACHE_DIR=str(cache), JAX_PLATFORMS="cpu", TF_CPP_MIN_LOG_LEVEL="3")
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT)] + [p for p in [os.environ.get("PYTHONPATH")] if p])
    return subprocess.Popen([*prefix, sys.executable, "-c", SESSION, str(cache)], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kwargs)


def _finish(proc: subprocess.Popen) -> dict:
    out, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err[-3000:]
    return dict(json.loads(out.strip().splitlines()[-1]), stderr=err)


def _session(cache: Path, **kwargs) -> dict:
    return _finish(_start(cache, **kwargs))


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


def _flip(blob: bytes) -> bytes:
    """``blob`` with 8 bytes in its middle inverted: same size, what a bad disk or copy leaves."""
    b, n = bytearray(blob), len(blob) // 2
    b[n:n + 8] = bytes(x ^ 0xFF for x in b[n:n + 8])
    return bytes(b)


def _intact(path: Path) -> bool:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        return programs._read_program(path) is not None


def test_a_damaged_kept_file_is_ignored_with_a_warning_and_rewritten(tmp_path, monkeypatch):
    # Issue 18, row 1: a kept program with bytes flipped raised "Failed to deserialize StableHLO"
    # (decoded lazily, in the call) in every later session. Every kind of damage is now found by
    # the file's checksum: a warning, the numbers of a run without the cache, the file rewritten.
    model, times = komarova2003(), np.linspace(0.0, 20.0, 5)
    monkeypatch.setattr(programs, "program_dir", lambda: None)
    ref = np.asarray(simulate(model, times).ys)  # no cache
    monkeypatch.setattr(programs, "program_dir", lambda: tmp_path)
    monkeypatch.setattr(programs, "_PROGRAMS", {})
    monkeypatch.setattr(programs, "_FINGERPRINTS", {})
    np.testing.assert_array_equal(np.asarray(simulate(model, times).ys), ref)
    (path,) = tmp_path.glob("*.jaxexport")
    (kept,) = tmp_path.glob("fingerprint-*.txt")
    good, fingerprint = path.read_bytes(), kept.read_bytes()
    assert _intact(path)
    faults = {"flipped": _flip(good), "truncated": good[: len(good) // 2], "empty": b"", "foreign": b"not a program"}
    # damage under a matching checksum (a broken writer): found when JAX decodes the module, in the first call
    bad = _flip(good.split(b"\n", 2)[2])
    faults["checksummed"] = programs._MAGIC + hashlib.sha256(bad).hexdigest().encode() + b"\n" + bad
    for fault, blob in faults.items():
        path.write_bytes(blob)
        monkeypatch.setattr(programs, "_PROGRAMS", {})
        with pytest.warns(RuntimeWarning, match="is damaged"):
            got = np.asarray(simulate(model, times).ys)
        np.testing.assert_array_equal(got, ref, err_msg=fault)
        assert _intact(path), fault
    # the kept fingerprint: one hex digit changed is still a well-formed fingerprint, but not its own
    kept.write_bytes(fingerprint.replace(fingerprint[:1], b"0" if fingerprint[:1] != b"0" else b"1", 1))
    monkeypatch.setattr(programs, "_FINGERPRINTS", {})
    with pytest.warns(RuntimeWarning, match="is damaged"):
        assert programs.model_fingerprint(model) == programs._traced_fingerprint(model)
    assert kept.read_bytes() == fingerprint


def test_cache_faults_across_sessions_give_the_numbers_of_a_run_without_cache(tmp_path):
    # Fresh interpreters, all against the numbers of a run without the cache: two sessions writing
    # one entry at once; a read-only cache; a later session finding the kept program damaged.
    # Kept files get the umask's mode (tempfile alone gives 0600: a group could not share the cache).
    shared = tmp_path / "shared"
    readonly = Path(tempfile.mkdtemp())  # not under tmp_path: reachable by another user
    try:
        readonly.chmod(0o555)
        # root writes anywhere: there the read-only session runs as nobody (where setpriv is found)
        root = hasattr(os, "geteuid") and os.geteuid() == 0
        setpriv = shutil.which("setpriv") if root else None
        as_other = [setpriv, "--reuid=65534", "--regid=65534", "--clear-groups"] if setpriv else []
        procs = [_start("off"), _start(shared, umask=0o002), _start(shared, umask=0o002),
                 _start(readonly, prefix=as_other)]
        off, first, second, ro = [_finish(p) for p in procs]
    finally:
        readonly.chmod(0o755)
        shutil.rmtree(readonly)
    assert off["cache_dir"] is None and ro["cache_dir"] == str(readonly)
    assert ro["traces"] == 1
    if setpriv or not root:
        assert ro["programs"] == [], "the read-only cache was written"
    assert first["programs"] == second["programs"] and len(first["programs"]) == 2
    for got in (first, second, ro):
        assert got["ys"] == off["ys"]
    for name in first["programs"]:
        assert (shared / "programs" / name).stat().st_mode & 0o777 == 0o664, name
    (path,) = (shared / "programs").glob("*.jaxexport")
    assert _intact(path)
    path.write_bytes(_flip(path.read_bytes()))
    later = _session(shared, umask=0o002)
    assert "is damaged" in later["stderr"] and later["traces"] == 1
    assert later["ys"] == off["ys"]
    assert _intact(path) and path.stat().st_mode & 0o777 == 0o664


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
