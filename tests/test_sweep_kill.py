"""A streamed sweep killed (SIGKILL) at any point resumes to exactly the uninterrupted result.

Each case runs the sweep in a child process, kills it at a chosen point (seeded random
delays: very early, between or inside chunks, near the end, and while a part is half
written), then resumes it here with ``resume=True`` and checks that only the chunks without
a part were solved, that the outputs, codes and part files are bit for bit those of an
uninterrupted sweep, and that no temporary file is left in the folder.
"""

from __future__ import annotations

import os
import select
import signal
import subprocess
import sys
import time

import jax
import numpy as np
import pytest

from seedsoil.models import komarova2003
from seedsoil.solvers import load_sweep, sweep
from seedsoil.solvers._sweep import _PART, _PART_RE, _read_part

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL and select on pipes are POSIX")

K = komarova2003()
T = np.linspace(0.0, 50.0, 6)
A = np.linspace(2.5, 3.5, 40)
CHUNK = 4
STARTS = list(range(0, len(A), CHUNK))  # 10 chunks

#: The child: the same sweep, one line per chunk on stdout (and a short pause, so a kill can
#: land between chunks); with ``hold = k`` the k-th part write stops half-written and says so.
CHILD = """
import sys, time
import numpy as np
import xarray as xr
from seedsoil.models import komarova2003
from seedsoil.solvers import sweep

out, hold = sys.argv[1], int(sys.argv[2])
writes = []
to_netcdf = xr.Dataset.to_netcdf

def held(self, path=None, *args, **kwargs):
    writes.append(path)
    if len(writes) - 1 != hold:
        return to_netcdf(self, path, *args, **kwargs)
    data = bytes(to_netcdf(self, None, *args, **kwargs))
    with open(path, "wb") as f:
        f.write(data[: len(data) // 2])
    print("writing", flush=True)
    time.sleep(120)

xr.Dataset.to_netcdf = held

def on_chunk(start, part):
    print("chunk", start, flush=True)
    time.sleep(0.04)

print("start", flush=True)
sweep(komarova2003(), np.linspace(0.0, 50.0, 6), {"alpha1": np.linspace(2.5, 3.5, 40)}, chunk_size=4,
      out=out, on_chunk=on_chunk)
print("done", flush=True)
"""


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """The uninterrupted sweep, streamed to a folder and kept in memory."""
    d = tmp_path_factory.mktemp("uninterrupted") / "run"
    return d, sweep(K, T, {"alpha1": A}, chunk_size=CHUNK, out=d)


@pytest.fixture(scope="module")
def child_env(reference, tmp_path_factory):
    """The children's environment: this process's compilation cache (which holds the sweep's
    program once ``reference`` has run), else one shared by the children, so they start quickly."""
    env = dict(os.environ)
    env["SEEDSOIL_CACHE_DIR"] = jax.config.jax_compilation_cache_dir or str(tmp_path_factory.mktemp("jax-cache"))
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    return env


def _run_and_kill(out, env, log, word: str, count: int, delay: float, hold: int = -1) -> None:
    """Start the child, wait until it has printed ``count`` lines starting with ``word``, wait
    ``delay`` seconds more, and SIGKILL it (if it is still running)."""
    with open(log, "wb") as err:
        proc = subprocess.Popen([sys.executable, "-c", CHILD, str(out), str(hold)], stdout=subprocess.PIPE,
                                stderr=err, env=env)
    try:
        fd, buf, seen, end = proc.stdout.fileno(), b"", 0, time.monotonic() + 120.0
        while seen < count:
            ready, _, _ = select.select([fd], [], [], max(end - time.monotonic(), 0.0))
            if not ready:
                raise AssertionError(f"the child printed {seen} of {count} {word!r} lines in 120 s")
            data = os.read(fd, 4096)
            if not data:
                raise AssertionError(f"the child ended before {count} {word!r} lines:\n"
                                     f"{open(log, errors='replace').read()[-3000:]}")
            *lines, buf = (buf + data).split(b"\n")
            seen += sum(line.split(b" ")[0] == word.encode() for line in lines)
        time.sleep(delay)
    finally:
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=60)
        proc.stdout.close()


def _valid_parts(d) -> set[int]:
    """First members of the chunks whose part is on disk and readable."""
    if not os.path.isdir(d):
        return set()
    starts = set()
    for name in os.listdir(d):
        if _PART_RE.match(name):
            _read_part(os.path.join(d, name))  # a part is whole or absent: never damaged
            starts.add(int(_PART_RE.match(name).group(1)))
    return starts


RNG = np.random.default_rng(18)
CASES = {  # name: (line to count, how many, extra delay, part write to hold half-written)
    "very-early": ("start", 1, float(RNG.uniform(0.0, 0.3)), -1),
    "mid-sweep": ("chunk", int(RNG.integers(1, 8)), float(RNG.uniform(0.0, 0.05)), -1),
    "near-the-end": ("chunk", len(STARTS) - 1, float(RNG.uniform(0.0, 0.03)), -1),
    "mid-write": ("writing", 1, 0.0, int(RNG.integers(1, len(STARTS) - 1))),
}


@pytest.mark.parametrize("case", list(CASES))
def test_a_killed_sweep_resumes_to_the_uninterrupted_result(case, reference, child_env, tmp_path):
    ref_dir, ref = reference
    word, count, delay, hold = CASES[case]
    d = tmp_path / "run"
    _run_and_kill(d, child_env, tmp_path / "child.log", word, count, delay, hold)

    there = _valid_parts(d)
    if case == "mid-write":  # the held part: a half-written temporary file, not a part
        assert STARTS[hold] not in there and set(STARTS[:hold]) <= there
        assert any(n.startswith(f".{_PART.format(STARTS[hold])}.") and n.endswith(".tmp") for n in os.listdir(d))
    missing = [s for s in STARTS if s not in there]

    solved = []
    res = sweep(K, T, {"alpha1": A}, chunk_size=CHUNK, out=d, resume=True,
                on_chunk=lambda start, part: solved.append(start))
    assert solved == missing  # only the chunks without a part, in order
    np.testing.assert_array_equal(res.code, ref.code)
    assert res.outputs.keys() == ref.outputs.keys()
    for k in ref.outputs:
        assert np.array_equal(res[k], ref[k], equal_nan=True), k
    # the folder: the same part files, byte for byte, and nothing else (no temporary file)
    names = sorted(os.listdir(d))
    assert names == sorted(os.listdir(ref_dir)) == [_PART.format(s) for s in STARTS]
    for name in names:
        assert (d / name).read_bytes() == (ref_dir / name).read_bytes(), name
    assert load_sweep(d).identical(load_sweep(ref_dir))
