"""seedsoil demo: bone disease under treatment, and the metastatic cascade of breast cancer.

Top row: the Ayati et al. 2010 bone-remodeling model with a growing tumour, untreated and
with the published drug (BIOMD0000000403: from day 600 the drug slows tumour growth and
osteoblast removal). Bottom row: the cascade model (breast preset) over five years,
untreated and with the primary resected at day 30: primary tumour, CTCs per 7.5 mL of
blood, dormant DTCs and overt metastatic burden per organ. Third row: the same cascade
coupled to the bone vicious cycle and the two bone drugs (``models.bone.bone_metastasis``),
untreated vs denosumab 120 mg Q4W vs zoledronic acid 4 mg Q4W. Writes one PNG figure.

    .venv/bin/python demo.py --out seedsoil_demo.png
"""

from __future__ import annotations

import argparse

import matplotlib

matplotlib.use("Agg")
import dataclasses  # noqa: E402

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from seedsoil.models import ayati2010, cascade  # noqa: E402
from seedsoil.models.bone import bone_metastasis  # noqa: E402
from seedsoil.models.drugs import XGEVA_Q4W, ZOLEDRONIC_ACID_Q4W  # noqa: E402
from seedsoil.solvers import from_schedule, scale, simulate  # noqa: E402


def bone_row(axes, days: float) -> dict:
    treated = ayati2010(drug=True)
    untreated = treated.with_params(v1=0.0, v2=0.0)  # same start, no drug effect
    times = np.linspace(0.0, days, int(days) + 1)
    runs = {"untreated": simulate(untreated, times), "drug from day 600": simulate(treated, times)}
    panels = [("C", "osteoclasts (cells)"), ("B", "osteoblasts (cells)"),
              ("z", "bone mass (% of initial)"), ("T", "myeloma (% of capacity)")]
    for ax, (name, label) in zip(axes, panels):
        for (title, sol), style in zip(runs.items(), ("-", "--")):
            ax.plot(times, sol[name], style, label=title)
        if float(treated.params["t_drug"]) <= days:
            ax.axvline(float(treated.params["t_drug"]), color="grey", lw=0.8, ls=":")
        ax.set_ylabel(label)
        ax.set_xlabel("time (days)")
    axes[0].set_title("Ayati et al. 2010", loc="left", fontsize=9)
    axes[0].legend(loc="upper right", fontsize=8)
    return runs


def cascade_row(axes, days: float) -> dict:
    model = cascade("breast")
    times = np.linspace(0.0, days, 121)
    runs = {"untreated": simulate(model, times), "resected day 30": simulate(model, times, regimen=scale("P", 30.0, 1e-3))}
    colours = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for (title, sol), style in zip(runs.items(), ("-", "--")):
        axes[0].semilogy(times, sol["primary"], style, color="k", label=title)
        axes[1].plot(times, sol["ctc_per_7_5ml"], style, color="k", label=title)
        for j, organ in enumerate(model.organs):
            kw = dict(color=colours[j], ls=style, label=organ if style == "-" else None)
            axes[2].semilogy(times, np.maximum(np.asarray(sol["dormant_cells"][:, j]), 1e-3), **kw)
            axes[3].semilogy(times, np.maximum(np.asarray(sol["metastatic_burden"][:, j]), 1e-3), **kw)
    labels = ("primary tumour (cells)", "CTCs per 7.5 mL", "dormant DTCs (cells)", "overt metastases (cells)")
    for ax, label in zip(axes, labels):
        ax.set_ylabel(label)
        ax.set_xlabel("time (days)")
    axes[2].set_ylim(bottom=1.0)
    axes[3].set_ylim(bottom=1.0)
    axes[0].set_title("cascade, breast preset (solid: untreated; dashed: resected)", loc="left", fontsize=9)
    axes[0].legend(fontsize=8)
    axes[3].legend(fontsize=8, loc="lower right")
    return runs


def drug_row(axes, days: float) -> dict:
    model = bone_metastasis("breast")
    bone = model.parts[0].organs.index("bone")
    times = np.linspace(0.0, days, 121)
    doses = int(days // 28) + 1
    regimens = {
        "untreated": None,
        "denosumab 120 mg Q4W": from_schedule(dataclasses.replace(XGEVA_Q4W, state="denosumab.depot"), count=doses),
        "zoledronic acid 4 mg Q4W": from_schedule(dataclasses.replace(ZOLEDRONIC_ACID_Q4W, state="za.plasma"),
                                                  count=doses),
    }
    runs = {name: simulate(model, times, regimen=reg) for name, reg in regimens.items()}
    for name, sol in runs.items():
        axes[0].semilogy(times, np.maximum(np.asarray(sol["cascade.metastatic_burden"][:, bone]), 1.0), label=name)
        axes[1].plot(times, sol["bone.bone_volume"], label=name)
        axes[2].semilogy(times, sol["bone.CTX"], label=name)
        axes[3].plot(times, sol["cascade.ctc_per_7_5ml"], label=name)
    labels = ("bone metastases (cells)", "bone volume (% of baseline)", "serum CTX (% of baseline)",
              "CTCs per 7.5 mL")
    for ax, label in zip(axes, labels):
        ax.set_ylabel(label)
        ax.set_xlabel("time (days)")
    axes[0].set_title("breast cascade + bone vicious cycle + drugs (untreated primary)", loc="left", fontsize=9)
    axes[1].legend(fontsize=8)
    return runs


def main(argv=None) -> str:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="seedsoil_demo.png", help="PNG file to write")
    parser.add_argument("--days", type=float, default=1200.0, help="horizon of the bone model (days)")
    parser.add_argument("--cascade-days", type=float, default=5 * 365.0, help="horizon of the cascade (days)")
    parser.add_argument("--disease-days", type=float, default=5 * 365.0, help="horizon of the drug comparison (days)")
    args = parser.parse_args(argv)

    fig, axes = plt.subplots(3, 4, figsize=(16, 11))
    bone = bone_row(axes[0], args.days)
    spread = cascade_row(axes[1], args.cascade_days)
    drugs = drug_row(axes[2], args.disease_days)
    fig.tight_layout()
    fig.savefig(args.out, dpi=110)
    for title, sol in bone.items():
        print(f"bone model, {title:>18}: bone mass {float(sol['z'][-1]):6.1f} %, myeloma {float(sol['T'][-1]):5.1f} % "
              f"at day {args.days:g}")
    for title, sol in spread.items():
        visible = np.asarray(sol["n_detectable"][-1])
        print(f"cascade, {title:>15}: detectable metastases at day {args.cascade_days:g}: "
              + ", ".join(f"{o} {v:.1f}" for o, v in zip(cascade("breast").organs, visible)))
    for title, sol in drugs.items():
        print(f"bone disease, {title:>24}: bone volume {float(sol['bone.bone_volume'][-1]):5.1f} %, "
              f"CTX {float(sol['bone.CTX'][-1]):7.0f} % at day {args.disease_days:g}")
    print(f"figure written to {args.out}")
    return args.out


if __name__ == "__main__":
    main()
