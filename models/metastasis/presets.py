"""Cancer-type presets: organotropism weights that reproduce where each cancer spreads.

Each preset lists, per organ, how often that site harbours metastases in the cancer type
(autopsy and clinical series; Nguyen, Bos & Massague 2009 Nat Rev Cancer 9:274).
The organotropism weight w_o is set so that the organ's share of arrested CTCs is
proportional to that frequency, given the blood routing of ``organs.py``::

    w_o = f_o / (q_o E_o),   rescaled so that sum_o q_o E_o w_o = sum_o q_o E_o

(the rescaling keeps the total arrest rate, hence the CTC half-life, the same across
presets). Exosome tropism iota_o is proportional to the site frequency (scaled to a
maximum of 1; Hoshino et al. 2015), so niche conditioning keeps the same rank order. Gut primaries
(colorectal) drain through the portal vein: ``portal = 1``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

SRC_BREAST = ("Coleman 2006, Clin Cancer Res 12:6243s, Table 1 (bone 65-75%); autopsy series: liver 55-75%, "
              "lung 55-70%, brain 10-30%")
SRC_PROSTATE = "Bubendorf et al. 2000, Hum Pathol 31:578 (1,589 autopsies: bone 90%, lung 46%, liver 25%)"
SRC_COLORECTAL = "Hugen et al. 2014, Ann Oncol 25:651 (autopsy: liver 73%); Munich cohort 2017 (lung 24%)"
SRC_MELANOMA = ("Patel et al. 1978, Am J Surg 135:807, abstract (216 autopsies: lungs 71.3%, liver 58.3%, brain "
                "49.1%, bone 48.6%)")


@dataclass(frozen=True)
class Preset:
    name: str
    site_frequency: dict  # organ -> fraction of patients with metastases there
    portal: float  # fraction of venous drainage through the portal vein
    source: str


PRESETS = {
    "breast": Preset("breast", {"bone": 0.70, "lung": 0.60, "liver": 0.55, "brain": 0.20, "skin": 0.10}, 0.0,
                     SRC_BREAST),
    "prostate": Preset("prostate", {"bone": 0.90, "lung": 0.46, "liver": 0.25, "brain": 0.03, "skin": 0.01}, 0.0,
                       SRC_PROSTATE),
    "colorectal": Preset("colorectal", {"liver": 0.73, "lung": 0.24, "bone": 0.07, "brain": 0.02, "skin": 0.01}, 1.0,
                         SRC_COLORECTAL),
    # skin is not in Patel's abstract; cutaneous/subcutaneous spread is common in melanoma (assumption 0.55)
    "melanoma": Preset("melanoma", {"lung": 0.713, "liver": 0.583, "skin": 0.55, "brain": 0.491, "bone": 0.486}, 0.0,
                       SRC_MELANOMA),
}


def get(name: str) -> Preset:
    try:
        return PRESETS[name]
    except KeyError:
        raise ValueError(f"unknown preset {name!r}; choose one of {sorted(PRESETS)}") from None


def frequencies(preset: Preset, organs: tuple[str, ...]) -> np.ndarray:
    """Site frequencies on the organ axis; organs the preset does not list get 0.01."""
    return np.array([preset.site_frequency.get(o, 0.01) for o in organs])


def organotropism(preset: Preset, organs: tuple[str, ...], q: np.ndarray, E: np.ndarray) -> np.ndarray:
    """Weights w_o (see module docstring)."""
    f = frequencies(preset, organs)
    w = f / (q * E)
    return w * np.sum(q * E) / np.sum(q * E * w)
