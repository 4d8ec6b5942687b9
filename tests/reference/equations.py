"""Independent reference forms of the literature models, for tests and benchmarks.

Each model is typed again here from its paper / BioModels entry, in plain NumPy (for
scipy ``solve_ivp``) and in Antimony (for libroadrunner / CVODE), without importing any
seedsoil code, so agreement is evidence that the package's equations and its solver
are right. Parameter values are the published ones (see each docstring).
"""

from __future__ import annotations

import numpy as np

# ----------------------------------------------------------------------------- Komarova 2003
# Bone 33:206, eqs. 1-4, Table 1; BIOMD0000000148.
KOMAROVA = dict(alpha1=3.0, alpha2=4.0, beta1=0.2, beta2=0.02, g11=0.5, g21=-0.5, g12=1.0, g22=0.0,
                k1=0.24, k2=0.0017)


def komarova_steady_state(alpha1, alpha2, beta1, beta2, g11, g21, g12, g22, **_):
    gamma = g12 * g21 - (1 - g11) * (1 - g22)
    x1 = (beta1 / alpha1) ** ((1 - g22) / gamma) * (beta2 / alpha2) ** (g21 / gamma)
    x2 = (beta1 / alpha1) ** (g12 / gamma) * (beta2 / alpha2) ** ((1 - g11) / gamma)
    return x1, x2


def komarova_rhs(t, y, P=KOMAROVA):
    x1, x2, _z = y
    x1b, x2b = komarova_steady_state(**P)
    return [
        P["alpha1"] * x1 ** P["g11"] * x2 ** P["g21"] - P["beta1"] * x1,
        P["alpha2"] * x1 ** P["g12"] * x2 ** P["g22"] - P["beta2"] * x2,
        -P["k1"] * max(x1 - x1b, 0.0) + P["k2"] * max(x2 - x2b, 0.0),
    ]


# ----------------------------------------------------------------------------- Lemaire 2004
# J Theor Biol 229:293, Table 1; BIOMD0000000278.
LEMAIRE = dict(D_R=7e-4, d_B=0.7, f0=0.05, D_C=2.1e-3, D_A=0.7, k_B=0.189, C_s=5e-3, K=10.0, k1=1e-2,
               k2=10.0, k3=5.8e-4, k4=1.7e-2, k5=0.02, k6=3.0, K_LP=3e6, K_OP=2e5, k_O=0.35, k_P=86.0,
               S_P=250.0, r_L=1e3)
LEMAIRE_STEADY = (7.734e-4, 7.283e-4, 9.127e-4)  # R, B, C in pM (paper, section 3)


def lemaire_rhs(t, y, I_P=0.0, I_O=0.0, I_L=0.0, P=LEMAIRE):
    R, B, C = y
    pC = (C + P["f0"] * P["C_s"]) / (C + P["C_s"])
    pP = (I_P / P["k_P"] + P["S_P"] / P["k_P"]) / (I_P / P["k_P"] + P["k6"] / P["k5"])
    pL = (P["k3"] / P["k4"] * P["K_LP"] * pP * B * (1 + I_L / P["r_L"])
          / (1 + P["k3"] * P["K"] / P["k4"] + P["k1"] / (P["k2"] * P["k_O"]) * (P["K_OP"] / pP * R + I_O)))
    DB = P["f0"] * P["d_B"]
    return [P["D_R"] * pC - DB / pC * R, DB / pC * R - P["k_B"] * B, P["D_C"] * pL - P["D_A"] * pC * C]


# ----------------------------------------------------------------------------- Ayati 2010
# Biology Direct 5:28; BIOMD0000000402 (tumour) and BIOMD0000000403 (drug from day 600).
AYATI = dict(alpha1=3.0, alpha2=4.0, beta1=0.2, beta2=0.02, g11=1.1, g21=-0.5, g12=1.0, g22=0.0,
             k1=0.0748, k2=0.0006395, gammaT=0.005, LT=100.0, r11=0.005, r21=0.0, r12=0.0, r22=0.2)
AYATI_Y0 = (15.0, 316.0, 100.0, 1.0)
AYATI_DRUG_Y0 = (13.0, 300.0, 100.0, 1.0)
AYATI_DRUG = dict(v1=0.001, v2=0.008, t_on=600.0)


def ayati_thresholds(P=AYATI):
    g = (P["g12"] / (1 + P["r12"]) * P["g21"] * (1 + P["r21"])
         - (1 - P["g11"] * (1 + P["r11"])) * (1 - P["g22"] + P["r22"]))
    r1, r2 = P["beta1"] / P["alpha1"], P["beta2"] / P["alpha2"]
    Cb = r1 ** ((1 - P["g22"] + P["r22"]) / g) * r2 ** (P["g21"] * (1 + P["r21"]) / g)
    Bb = r1 ** (P["g12"] / (1 + P["r12"]) / g) * r2 ** ((1 - P["g11"] * (1 + P["r11"])) / g)
    return Cb, Bb


def ayati_rhs(t, y, V1=0.0, V2=0.0, P=AYATI):
    C, B, z, T = y
    Cb, Bb = ayati_thresholds(P)
    tau = T / P["LT"]
    growth = T * np.log(P["LT"] / T) if T > 0 else 0.0
    return [
        P["alpha1"] * C ** (P["g11"] * (1 + P["r11"] * tau)) * B ** (P["g21"] * (1 + P["r21"] * tau)) - P["beta1"] * C,
        P["alpha2"] * C ** (P["g12"] / (1 + P["r12"] * tau)) * B ** (P["g22"] - P["r22"] * tau) - (P["beta2"] - V1) * B,
        -P["k1"] * max(C - Cb, 0.0) + P["k2"] * max(B - Bb, 0.0),
        (P["gammaT"] - V2) * growth,
    ]


def ayati_antimony(drug: bool, y0=None) -> str:
    """Antimony text of BIOMD0000000402 (``drug=False``) or 403 (``drug=True``)."""
    P = AYATI
    C0, B0, z0, T0 = y0 if y0 is not None else (AYATI_DRUG_Y0 if drug else AYATI_Y0)
    v1, v2 = (AYATI_DRUG["v1"], AYATI_DRUG["v2"]) if drug else (0.0, 0.0)
    pars = "\n".join(f"  {k} = {v!r};" for k, v in P.items())
    return f"""
model ayati2010
{pars}
  v1 = {v1!r}; v2 = {v2!r}; t_on = {AYATI_DRUG['t_on']!r};
  gam := g12/(1 + r12)*g21*(1 + r21) - (1 - g11*(1 + r11))*(1 - g22 + r22);
  Cbar := (beta1/alpha1)^((1 - g22 + r22)/gam)*(beta2/alpha2)^(g21*(1 + r21)/gam);
  Bbar := (beta1/alpha1)^(g12/(1 + r12)/gam)*(beta2/alpha2)^((1 - g11*(1 + r11))/gam);
  C = {C0!r}; B = {B0!r}; z = {z0!r}; T = {T0!r};
  V1 := piecewise(v1, time >= t_on, 0);
  V2 := piecewise(v2, time >= t_on, 0);
  C' = alpha1*C^(g11*(1 + r11*T/LT))*B^(g21*(1 + r21*T/LT)) - beta1*C;
  B' = alpha2*C^(g12/(1 + r12*T/LT))*B^(g22 - r22*T/LT) - (beta2 - V1)*B;
  z' = -k1*piecewise(C - Cbar, C > Cbar, 0) + k2*piecewise(B - Bbar, B > Bbar, 0);
  T' = piecewise((gammaT - V2)*T*ln(LT/T), T > 0, 0);
end
"""
