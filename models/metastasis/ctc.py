"""Circulating tumour cells: single cells S and clusters K in blood.

    dS/dt = shed_S - (k_shear + k_anoikis + k_NK (1 - platelet_S)) S - sum_o a_S,o S
    dK/dt = shed_K - (k_shear_K + k_NK (1 - platelet_K)) K        - sum_o a_K,o K

``shed_S`` (cells/day) and ``shed_K`` (clusters/day) are the viable cells that reach the
circulating pool; ``a_S,o``, ``a_K,o`` (1/day) are arrest rates in organ o (see
``organs.py``). Clusters resist anoikis (Aceto et al. 2014) and are largely shielded by
platelets. The defaults give a single-CTC half-life of 1.4 h (1.1 h once pre-metastatic niches
have doubled arrest), inside the 1-2.4 h
measured in patients after resection (Meng et al. 2004 Clin Cancer Res 10:8152), and a
cluster half-life of about 8 min (6-10 min in mice; Aceto et al. 2014 Cell 158:1110).

Clinical count: CellSearch counts CTCs per 7.5 mL of blood (Cristofanilli et al. 2004
NEJM 351:781; >= 5 is the prognostic threshold in metastatic breast cancer).
"""

from __future__ import annotations

from ..base import Param, State

SRC_MENG = "Meng et al. 2004, Clin Cancer Res 10:8152 (CTC half-life 1-2.4 h)"
SRC_ACETO = "Aceto et al. 2014, Cell 158:1110 (CTC clusters: half-life 6-10 min, 23-50x metastatic potential)"
SRC_BUTLER = "Butler & Gullino 1975, Cancer Res 35:512 (about 1e6-4e6 cells shed per g of tumour per day)"
SRC_FIDLER = "Fidler 1970, J Natl Cancer Inst 45:773 (<0.1% of cells survive 24 h in blood)"
SRC_NIESWANDT = "Nieswandt et al. 1999, Cancer Res 59:1295 (platelets shield tumour cells from NK cells)"
SRC_ICRP = "ICRP Publication 89 (2002), reference blood volume ~5 L, cardiac output ~6 L/min"

STATES = (
    State("S", "cells", "single CTCs in blood"),
    State("K", "clusters", "CTC clusters in blood"),
)

PARAMS = (
    Param("shed_rate", 5e-3, "1/day", SRC_BUTLER, (0.0, 1.0),
          "cells shed per day per mesenchymal or hybrid cell; with the baseline EMT fractions (19% shed) "
          "a tumour sheds 1e6 cells/g/day at 1e9 cells/g"),
    Param("shed_E", 0.01, "1", SRC_BUTLER, (0.0, 1.0),
          "shedding of epithelial cells relative to mesenchymal (assumption: mostly passive)"),
    Param("viable_fraction", 0.01, "1", SRC_FIDLER, (0.0, 1.0),
          "fraction of shed cells that survive the first minutes (first capillary bed) and join the pool"),
    Param("cluster_size", 4.0, "cells/cluster", SRC_ACETO, (1.0, 100.0), "mean cells per CTC cluster (2-50)"),
    Param("k_shear", 2.0, "1/day", SRC_MENG, (0.0, 1e3), "single-CTC loss to shear stress (assumption)"),
    Param("k_anoikis", 4.0, "1/day", SRC_MENG, (0.0, 1e3), "single-CTC death by anoikis (assumption)"),
    Param("k_NK", 5.0, "1/day", SRC_NIESWANDT, (0.0, 1e3), "NK-cell killing of unshielded CTCs (assumption; 5-20/day)"),
    Param("platelet_S", 0.3, "1", SRC_NIESWANDT, (0.0, 1.0), "fraction of single CTCs shielded by platelets"),
    Param("platelet_K", 0.8, "1", SRC_ACETO, (0.0, 1.0), "fraction of clusters shielded by platelets"),
    Param("k_shear_K", 100.0, "1/day", SRC_ACETO, (0.0, 1e4),
          "cluster fragmentation/shear loss (with arrest gives a ~8 min half-life)"),
    Param("blood_volume", 5000.0, "mL", SRC_ICRP, (1.0, 1e5), "blood volume"),
)


def destruction_single(p):
    """Total intravascular destruction rate of single CTCs (1/day)."""
    return p.k_shear + p.k_anoikis + p.k_NK * (1.0 - p.platelet_S)


def destruction_cluster(p):
    """Total intravascular destruction rate of CTC clusters (1/day)."""
    return p.k_shear_K + p.k_NK * (1.0 - p.platelet_K)


def per_7_5ml(S, K, p):
    """CTC cells (singles plus cells in clusters) per 7.5 mL of blood."""
    return (S + p.cluster_size * K) * 7.5 / p.blood_volume
