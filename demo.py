"""seedsoil demo: bone disease under treatment, and the metastatic cascade of breast cancer.

Top row: the Ayati et al. 2010 bone-remodeling model with a growing tumour, untreated and
with the published drug (BIOMD0000000403: from day 600 the drug slows tumour growth and
osteoblast removal). Middle row: the cascade model (breast preset) over five years,
untreated and with the primary resected at day 30: primary tumour, CTCs per 7.5 mL of
blood, dormant DTCs and overt metastatic burden per organ. Third row: the same cascade
coupled to the human bone-remodelling core and the two bone drugs (``seedsoil.models.bone_metastasis``),
untreated vs denosumab 120 mg Q4W vs zoledronic acid 4 mg Q4W. Every panel is drawn by
``seedsoil.plot.trajectories``. Writes one PNG figure.

    .venv/bin/python demo.py --out seedsoil_demo.png
"""

from __future__ import annotations

import argparse

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

import seedsoil.plot  # noqa: E402
from seedsoil.models import ayati2010, cascade  # noqa: E402
from seedsoil.models.bone import bone_metastasis  # noqa: E402
from seedsoil.models.drugs import XGEVA_Q4W, ZOLEDRONIC_ACID_Q4W  # noqa: E402
from seedsoil.solvers import from_schedule, scale, simulate  # noqa: E402


def bone_row(axes, days: float) -> dict:
    treated = ayati2010(drug=True)
    untreated = treated.with_params(v1=0.0, v2=0.0)  # same start, no drug effect
    times = np.linspace(0.0, days, int(days) + 1)
    runs = {"untreated": simulate(untreated, times), "drug from day 600": simulate(treated, times)}
    seedsoil.plot.trajectories(runs, treated, ["C", "B", "z", "T"], axes=axes,
                               marks={"drug starts": float(treated.params["t_drug"])})
    return runs


def cascade_row(axes, days: float) -> dict:
    model = cascade("breast")
    times = np.linspace(0.0, days, 121)
    resection = scale("P", 30.0, 1e-3)
    runs = {"untreated": simulate(model, times), "resected day 30": simulate(model, times, regimen=resection)}
    seedsoil.plot.trajectories(runs, model, ["primary", "ctc_per_7_5ml", "dormant_cells", "metastatic_burden"],
                               axes=axes, regimen=resection, logy=["primary", "dormant_cells", "metastatic_burden"])
    axes[2].set_ylim(bottom=1.0)
    axes[3].set_ylim(bottom=1.0)
    return runs


def drug_row(axes, days: float) -> dict:
    model = bone_metastasis("breast")
    times = np.linspace(0.0, days, 121)
    doses = int(days // 28) + 1
    regimens = {
        "untreated": None,
        "denosumab 120 mg Q4W": from_schedule(XGEVA_Q4W, part="denosumab", count=doses),
        "zoledronic acid 4 mg Q4W": from_schedule(ZOLEDRONIC_ACID_Q4W, part="za", count=doses),
    }
    runs = {name: simulate(model, times, regimen=reg) for name, reg in regimens.items()}
    outputs = ["cascade.metastatic_burden[bone]", "bone.bone_mass", "bone.uNTx", "cascade.ctc_per_7_5ml"]
    seedsoil.plot.trajectories(runs, model, outputs, axes=axes, logy=[outputs[0]])
    axes[0].set_ylim(bottom=1.0)
    return runs


def main(argv=None) -> str:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="seedsoil_demo.png", help="PNG file to write")
    parser.add_argument("--days", type=float, default=1200.0, help="horizon of the bone model (days)")
    parser.add_argument("--cascade-days", type=float, default=5 * 365.0, help="horizon of the cascade (days)")
    parser.add_argument("--disease-days", type=float, default=5 * 365.0, help="horizon of the drug comparison (days)")
    args = parser.parse_args(argv)

    fig = plt.figure(figsize=(16, 12), layout="constrained")
    rows = fig.subfigures(3, 1)
    titles = ("Ayati et al. 2010: bone remodeling with myeloma, untreated vs the published drug",
              "cascade, breast preset: untreated vs primary resected at day 30 (per organ: solid vs dashed)",
              "breast cascade + human bone core + bone drugs (primary left in place)")
    for row, title in zip(rows, titles):
        row.suptitle(title, x=0.01, ha="left", fontsize=10)
    bone = bone_row(rows[0].subplots(1, 4), args.days)
    spread = cascade_row(rows[1].subplots(1, 4), args.cascade_days)
    drugs = drug_row(rows[2].subplots(1, 4), args.disease_days)
    fig.savefig(args.out, dpi=110)
    plt.close(fig)
    for title, sol in bone.items():
        print(f"bone model, {title:>18}: bone mass {float(sol['z'][-1]):6.1f} %, myeloma {float(sol['T'][-1]):5.1f} % "
              f"at day {args.days:g}")
    for title, sol in spread.items():
        visible = np.asarray(sol["n_detectable"][-1])
        print(f"cascade, {title:>15}: detectable metastases at day {args.cascade_days:g}: "
              + ", ".join(f"{o} {v:.1f}" for o, v in zip(cascade("breast").organs, visible)))
    for title, sol in drugs.items():
        print(f"bone disease, {title:>24}: bone mass {float(sol['bone.bone_mass'][-1]):5.1f} %, "
              f"uNTx {float(sol['bone.uNTx'][-1]):6.1f} nmol BCE/mmol Cr at day {args.disease_days:g}")
    print(f"figure written to {args.out}")
    return args.out


if __name__ == "__main__":
    main()
