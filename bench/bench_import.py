"""Benchmark: the cost of ``import seedsoil`` beside JAX's own import, and the peers' imports.

Each arm is a fresh interpreter (so nothing is cached in ``sys.modules``) that imports one
thing and exits; the arms run in alternating rounds (the order flips every round, so drift in
the machine's speed hits them alike), and the medians of the wall time are printed with the
ratios to ``import jax``. The arms:

* ``python -c pass``: the interpreter alone;
* ``import jax``: the floor any JAX package pays (seedsoil needs it);
* ``import diffrax``: the JAX peer seedsoil builds on;
* ``import seedsoil``: the whole public API (models, solvers), with the heavy modules of
  single features (scipy.stats, xarray, SALib, libsbml, NumPyro, matplotlib) left to load on
  first use;
* ``import roadrunner``: libroadrunner, the SBML simulator the other benchmarks compare with.

Issue 17 asks that ``import seedsoil`` cost at most about 1 s beyond ``import jax``. The
persistent compilation cache is switched off in the children (``SEEDSOIL_CACHE_DIR=off``), so
only the import is timed. With ``--modules`` it also prints the ten slowest modules of one
``import seedsoil`` (``python -X importtime``).

    .venv/bin/python bench/bench_import.py              # 7 rounds (~1 min on 2 cores)
    .venv/bin/python bench/bench_import.py --rounds 3 --modules
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time

ARMS = {
    "interpreter": "pass",
    "import jax": "import jax",
    "import diffrax": "import diffrax",
    "import seedsoil": "import seedsoil",
    "import roadrunner": "import roadrunner",
}


def _env() -> dict:
    env = dict(os.environ, SEEDSOIL_CACHE_DIR="off", JAX_PLATFORMS="cpu", TF_CPP_MIN_LOG_LEVEL="3")
    env.pop("PYTHONPATH", None)
    return env


def time_child(code: str) -> float:
    """Wall seconds of a fresh interpreter running ``code``."""
    t = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], env=_env(), check=True, capture_output=True)
    return time.perf_counter() - t


def slowest_modules(n: int = 10) -> list[tuple[float, str]]:
    """The ``n`` modules with the largest cumulative import time in one ``import seedsoil``."""
    proc = subprocess.run([sys.executable, "-X", "importtime", "-c", "import seedsoil"], env=_env(),
                          check=True, capture_output=True, text=True)
    rows = []
    for line in proc.stderr.splitlines():
        parts = line.split("|")
        if len(parts) == 3 and parts[1].strip().isdigit():
            rows.append((int(parts[1]) / 1e6, parts[2].rstrip()))
    return sorted(rows, reverse=True)[:n]


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--modules", action="store_true", help="also print the slowest modules of import seedsoil")
    args = ap.parse_args(argv)
    for code in ARMS.values():  # warm the file-system cache once
        time_child(code)
    times = {name: [] for name in ARMS}
    for r in range(args.rounds):
        for name in list(ARMS) if r % 2 == 0 else list(ARMS)[::-1]:
            times[name].append(time_child(ARMS[name]))
    med = {name: statistics.median(ts) for name, ts in times.items()}
    jax_s = med["import jax"]
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} cores, {args.rounds} alternating rounds, medians")
    print(f"{'arm':<20} {'wall s':>8} {'/ import jax':>13} {'beyond jax s':>13}")
    for name, s in med.items():
        print(f"{name:<20} {s:8.2f} {s / jax_s:13.2f} {s - jax_s:13.2f}")
    beyond = med["import seedsoil"] - jax_s
    print(f"\nimport seedsoil costs {beyond:.2f} s beyond import jax ({med['import seedsoil'] / jax_s:.2f}x); "
          f"target <= about 1 s: {'met' if beyond <= 1.0 else 'NOT met'}")
    if args.modules:
        print("\nslowest modules of one `import seedsoil` (cumulative s):")
        for s, name in slowest_modules():
            print(f"  {s:6.2f}  {name}")
    return med


if __name__ == "__main__":
    main()
