"""seedsoil demo: bone disease under treatment, and the metastatic cascade of breast cancer.

Top row: the Ayati et al. 2010 bone-remodeling model with a growing tumour, untreated and
with the published drug (BIOMD0000000403: from day 600 the drug slows tumour growth and
osteoblast removal). Bottom row: the cascade model (breast preset) over five years,
untreated and with the primary resected at day 30: primary tumour, CTCs per 7.5 mL of
blood, dormant DTCs and overt metastatic burden per organ. Writes one PNG figure.

    .venv/bin/python demo.py --out seedsoil_demo.png
"""

from __future__ import annotations

import argparse

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from models import ayati2010, cascade  # noqa: E402
from solvers import scale, simulate  # noqa: E402


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


def main(argv=None) -> str:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="seedsoil_demo.png", help="PNG file to write")
    parser.add_argument("--days", type=float, default=1200.0, help="horizon of the bone model (days)")
    parser.add_argument("--cascade-days", type=float, default=5 * 365.0, help="horizon of the cascade (days)")
    args = parser.parse_args(argv)

    fig, axes = plt.subplots(2, 4, figsize=(16, 7.5))
    bone = bone_row(axes[0], args.days)
    spread = cascade_row(axes[1], args.cascade_days)
    fig.tight_layout()
    fig.savefig(args.out, dpi=110)
    for title, sol in bone.items():
        print(f"bone model, {title:>18}: bone mass {float(sol['z'][-1]):6.1f} %, myeloma {float(sol['T'][-1]):5.1f} % "
              f"at day {args.days:g}")
    for title, sol in spread.items():
        visible = np.asarray(sol["n_detectable"][-1])
        print(f"cascade, {title:>15}: detectable metastases at day {args.cascade_days:g}: "
              + ", ".join(f"{o} {v:.1f}" for o, v in zip(cascade("breast").organs, visible)))
    print(f"figure written to {args.out}")
    return args.out


if __name__ == "__main__":
    main()
