"""Benchmark: the size density's growth faces under a decaying kill.

``metastases.KILL_BOUNDED`` (1e-3/day) switches the growth part of the size-structured
density to bounded face values only while an organ's kill exceeds it; below it the linear
third-order faces are used. A drug's kill decays with its concentration but never reaches
zero, so the alternative, bounded faces whenever there is any kill (``KILL_BOUNDED = 0``),
keeps the bounded scheme on for the weeks after each cycle (docetaxel's slower phase) and
after the course. This script measures what that costs on the early-disease trial of
notebook 06: 12 patients of the breast population (cascade + bone + docetaxel, from
onset at 1e6 cells, size at diagnosis log-normal with median 4.4e9 cells), each resected
on their own day of diagnosis and given docetaxel 75 mg/m2 every 3 weeks x 6 from four
weeks later, followed 15 years (``virtual_trial``, ``start="diagnosis"``; the timed call
includes the screening pass, which has no kill and is the same in both settings), at the
default tolerances and 16 size bins.

Each setting runs in its own Python process (the threshold is read when the right-hand side
is traced, and compiled programs are cached by the models' source text, so one process
cannot hold both); the processes run in alternating order, ``--rounds`` times each, and each
reports the median of ``--repeats`` trials after one compile. The script prints the median
wall time per setting, the ratio, and each setting's recurrence by 15 years per organ (the
two schemes differ by their truncation error; the accuracy of the bounded faces is checked in
``tests/test_size_structured.py`` and ``tests/test_systemic.py``).

    .venv/bin/python bench/bench_kill_faces.py            # ~15 min on 2 cores
    .venv/bin/python bench/bench_kill_faces.py --one --repeats 3   # the default patient alone, ~1 min
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.timing import median_time  # noqa: E402

SETTINGS = {"bounded while kill > 1e-3/day (default)": None, "bounded whenever kill > 0": 0.0}
YEAR = 365.25
HORIZON = 15 * YEAR
SURGERY = 1600.0  # --one: day of resection of the default patient (primary ~5e9 cells)


def _set_threshold(threshold: float | None) -> None:
    """Set ``metastases.KILL_BOUNDED`` in this process (None: keep the default); call it
    before anything is traced."""
    from seedsoil.models.metastasis import metastases

    if threshold is not None:
        metastases.KILL_BOUNDED = threshold


def one_patient(threshold: float | None, n_bins: int, repeats: int) -> dict:
    """``--one``: the model's default patient instead of the population, resected at day
    ``SURGERY`` (primary ~5e9 cells), the same course, 15 years; ``simulate`` alone."""

    import jax
    import jax.numpy as jnp
    import numpy as np

    _set_threshold(threshold)
    from seedsoil import bone_metastasis
    from seedsoil.models.drugs import DOCETAXEL_75_Q3W
    from seedsoil.solvers import from_schedule, scale, simulate

    model = bone_metastasis("breast", n_bins=n_bins, onset=1e6, systemic="docetaxel")
    regimen = (scale("cascade.P", SURGERY, 0.0)
               + from_schedule(DOCETAXEL_75_Q3W, start=SURGERY + 28.0, count=6, part="chemo"))
    times = jnp.linspace(SURGERY, SURGERY + HORIZON, 61)
    y_at = simulate(model, jnp.array([0.0, SURGERY])).ys[-1]

    def solve():
        return jax.block_until_ready(simulate(model, times, y0=y_at, regimen=regimen))

    solve()  # compile
    wall, sol = median_time(solve, repeats)
    out = {"bone burden": float(np.asarray(sol["cascade.metastatic_burden[bone]"])[-1])}
    return {"wall": wall, "out": out, "excluded": 0}


def child(threshold: float | None, n_bins: int, patients: int, repeats: int) -> dict:
    """Run the trial in this process with ``KILL_BOUNDED = threshold`` (None: the default)."""

    import numpy as np

    _set_threshold(threshold)
    from seedsoil import bone_metastasis, virtual_trial
    from seedsoil.models import LogNormal, Population, bone_metastasis_population
    from seedsoil.models.drugs import DOCETAXEL_75_Q3W
    from seedsoil.solvers import from_schedule, scale

    model = bone_metastasis("breast", n_bins=n_bins, onset=1e6, systemic="docetaxel")
    pop = Population({**bone_metastasis_population("breast", sre=False).variability,
                      "cascade.P_diagnosis": LogNormal(sd_log=2.5, median=4.4e9)}, name="early breast cancer")

    def regimen(s):
        return (scale("cascade.P", s[:, None], 0.0)
                + from_schedule(DOCETAXEL_75_Q3W, start=s[:, None] + 28.0, count=6, part="chemo"))

    def run():
        return virtual_trial(model, pop, patients, {"docetaxel": regimen}, seed=0, start="diagnosis",
                             horizon=HORIZON, dt=30.0, keep=[], screen_until=20 * YEAR, screen_dt=14.0)

    run()  # compile
    wall, trial = median_time(run, repeats)
    out = {o: (1.0 - trial.survival(f"{o}_metastasis").values[0, -1]) for o in ("bone", "lung", "liver", "brain")}
    return {"wall": wall, "out": {k: float(np.asarray(v)) for k, v in out.items()},
            "excluded": len(trial.excluded)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n-bins", type=int, default=16)
    ap.add_argument("--rounds", type=int, default=1)
    ap.add_argument("--repeats", type=int, default=1)
    ap.add_argument("--patients", type=int, default=12)
    ap.add_argument("--one", action="store_true", help="the model's default patient alone (simulate)")
    ap.add_argument("--child", default=None, help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.child is not None:
        thr = None if a.child == "default" else float(a.child)
        res = one_patient(thr, a.n_bins, a.repeats) if a.one else child(thr, a.n_bins, a.patients, a.repeats)
        print(json.dumps(res))
        return

    env = {**os.environ, "SEEDSOIL_CACHE_DIR": "off"}
    walls = {name: [] for name in SETTINGS}
    outs = {}
    for r in range(a.rounds):
        for name in (list(SETTINGS) if r % 2 == 0 else list(SETTINGS)[::-1]):
            thr = SETTINGS[name]
            cmd = [sys.executable, __file__, "--child", "default" if thr is None else str(thr),
                   "--n-bins", str(a.n_bins), "--repeats", str(a.repeats), "--patients", str(a.patients)]
            cmd += ["--one"] if a.one else []
            res = json.loads(subprocess.run(cmd, env=env, check=True, capture_output=True, text=True,
                                            cwd=ROOT).stdout.strip().splitlines()[-1])
            walls[name].append(res["wall"])
            outs[name] = res["out"]

    names = list(SETTINGS)
    med = {n: statistics.median(walls[n]) for n in names}
    who = (f"the default patient (simulate), resected at day {SURGERY:g}" if a.one
           else f"early breast cancer, {a.patients} patients, surgery at diagnosis")
    print(f"# {who}, {a.n_bins} bins, docetaxel 75 mg/m2 Q3W x6, 15 years; {a.rounds} rounds x {a.repeats} "
          f"{'solves' if a.one else 'trials'} per setting (own processes)")
    for n in names:
        print(f"{n:42s} {med[n]:8.1f} s   {'at 15 y' if a.one else 'recurrence by 15 y'}: "
              + ", ".join(f"{o} {v:.3g}" for o, v in outs[n].items()))
    print(f"ratio (whenever / default): {med[names[1]] / med[names[0]]:.2f}")


if __name__ == "__main__":
    main()
