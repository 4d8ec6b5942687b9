"""seedsoil demo: myeloma bone disease with and without treatment (Ayati et al. 2010).

Simulates the Ayati 2010 bone-remodeling model with a growing tumour, untreated and
with the published drug (BIOMD0000000403: from day 600 the drug slows tumour growth and
osteoblast removal), and writes a four-panel figure.

    .venv/bin/python demo.py --out seedsoil_demo.png
"""

from __future__ import annotations

import argparse

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from models import ayati2010  # noqa: E402
from solvers import simulate  # noqa: E402


def main(argv=None) -> str:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="seedsoil_demo.png", help="PNG file to write")
    parser.add_argument("--days", type=float, default=1200.0, help="simulation horizon (days)")
    args = parser.parse_args(argv)

    treated = ayati2010(drug=True)
    untreated = treated.with_params(v1=0.0, v2=0.0)  # same start, no drug effect
    times = np.linspace(0.0, args.days, int(args.days) + 1)
    runs = {"untreated": simulate(untreated, times), "drug from day 600": simulate(treated, times)}

    fig, axes = plt.subplots(2, 2, figsize=(10, 7), sharex=True)
    panels = [("C", "osteoclasts (cells)"), ("B", "osteoblasts (cells)"),
              ("z", "bone mass (% of initial)"), ("T", "tumour (% of capacity)")]
    for ax, (name, label) in zip(axes.flat, panels):
        for (title, sol), style in zip(runs.items(), ("-", "--")):
            ax.plot(times, sol[name], style, label=title)
        t_on = float(treated.params["t_drug"])
        if t_on <= args.days:
            ax.axvline(t_on, color="grey", lw=0.8, ls=":")
        ax.set_ylabel(label)
    for ax in axes[1]:
        ax.set_xlabel("time (days)")
    axes[0, 0].legend(loc="upper right")
    fig.suptitle("Ayati et al. 2010: bone remodeling with myeloma, untreated vs treated")
    fig.tight_layout()
    fig.savefig(args.out, dpi=120)
    for title, sol in runs.items():
        print(f"{title:>18}: bone mass {float(sol['z'][-1]):6.1f} %, tumour {float(sol['T'][-1]):5.1f} % "
              f"at day {args.days:g}")
    print(f"figure written to {args.out}")
    return args.out


if __name__ == "__main__":
    main()
