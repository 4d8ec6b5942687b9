"""Denosumab SC PK/QSS-TMDD: Prolia and Xgeva label numbers, mass balance, and an
independent scipy solve of the equations typed again here (complex-first QSS form).

Label numbers (Prolia US label, 12.3): 60 mg SC, Cmax 6.75 (SD 1.89) ug/mL at
10 days (range 3-21), half-life after Cmax 25.4 (SD 8.5) days. Xgeva US label (12.3) and
Swiss Fachinformation: 120 mg Q4W, steady-state trough 20.6 +/- 13.5 ug/mL (range 0.456-56.9).
The model gives typical-subject predictions of population-PK fits, so comparisons are
with the label means within tolerances stated per test, inside the label's SDs.
"""

import numpy as np
import pytest
from scipy.integrate import solve_ivp

from models.drugs import denosumab
from solvers import bolus, every, simulate

from .conftest import TIGHT

PROLIA = denosumab()                       # Sutjandra 2011 (osteoporosis)
XGEVA = denosumab("bone_metastases")       # Gibiansky 2012 where available
T_SINGLE = np.linspace(0.0, 182.0, 1821)   # 0.1-day grid over 6 months
DRUG_STATES = ("depot", "central", "peripheral", "cleared", "internalized", "sc_loss")

# Giant-cell-tumour-like schedule: loading doses on days 8 and 15, then Q4W; doses land
# between save times and on save times.
DOSE_T = np.array([0.0, 7.3, 14.6, 28.0, 56.0, 84.0])
DOSE_MG = 120.0
T_MULTI = np.unique(np.concatenate([np.linspace(0.0, 120.0, 97), DOSE_T, DOSE_T[1:] - 1e-3]))


@pytest.fixture(scope="module")
def prolia():
    return simulate(PROLIA, T_SINGLE, regimen=bolus("depot", 0.0, 60.0), **TIGHT)


@pytest.fixture(scope="module")
def multi():
    return simulate(PROLIA, T_MULTI, regimen=bolus("depot", DOSE_T, DOSE_MG), **TIGHT)


def test_prolia_60mg_cmax_and_tmax(prolia):
    # Model 7.40 ug/mL at 11.2 days vs label 6.75 ug/mL at 10 days: +10 %, inside the
    # label SD (28 %); we hold Cmax to 15 % and tmax to 5-15 days.
    c = np.asarray(prolia["C_free"])
    i = int(np.argmax(c))
    assert abs(c[i] / 6.75 - 1.0) < 0.15, c[i]
    assert 5.0 <= T_SINGLE[i] <= 15.0, T_SINGLE[i]


def test_prolia_apparent_terminal_half_life(prolia):
    # Log-linear fit on the post-peak phase, days 28-112 (from ~2.5 tmax to 16 weeks).
    # The local half-life falls with concentration (TMDD): 32 d early, 22 d late.
    c = np.asarray(prolia["C_free"])
    sel = (T_SINGLE >= 28.0) & (T_SINGLE <= 112.0)
    slope = np.polyfit(T_SINGLE[sel], np.log(c[sel]), 1)[0]
    t_half = np.log(2.0) / -slope
    assert abs(t_half / 25.4 - 1.0) < 0.20, t_half


def _xgeva_trough(model):
    times = np.arange(0.0, 13 * 28.0 + 1.0, 1.0)
    sol = simulate(model, times, regimen=bolus("depot", every(28.0, 0.0, 13), 120.0), **TIGHT)
    c = np.asarray(sol["C_free"])
    troughs = c[np.searchsorted(times, 28.0 * np.arange(1, 13)) - 1]  # day before each dose
    return troughs


def test_xgeva_q4w_trough_within_label_sd():
    # Typical-subject steady-state trough vs label mean +/- SD 20.6 +/- 13.5 ug/mL.
    troughs = _xgeva_trough(XGEVA)
    assert abs(troughs[-1] / troughs[-2] - 1.0) < 2e-3  # steady state reached (label: by 6 months)
    assert 20.6 - 13.5 < troughs[-1] < 20.6 + 13.5, troughs[-1]


@pytest.mark.xfail(strict=True, reason=(
    "published typical values predict a steady-state trough of 26.8 ug/mL (+30 %) for "
    "Xgeva 120 mg Q4W (Gibiansky 2012 F/CL/V1/ka); the label mean 20.6 ug/mL implies ~4 mL/h "
    "clearance. Reported, not tuned."))
def test_xgeva_q4w_trough_within_25_percent_of_label_mean():
    troughs = _xgeva_trough(XGEVA)
    assert abs(troughs[-1] / 20.6 - 1.0) < 0.25, troughs[-1]


def test_mass_balance_multi_dose(multi):
    given = DOSE_MG * np.array([np.sum(DOSE_T <= t) for t in T_MULTI])  # post-dose convention
    total = sum(np.asarray(multi[n]) for n in DRUG_STATES)
    assert np.max(np.abs(total - given)) / given.max() < 1e-8


def test_qss_binding_identity_and_pd_readouts(multi):
    # QSS definition: KSS * complex = free drug * free target (all in ug/mL).
    P = {s.name: float(PROLIA.params[s.name]) for s in PROLIA.params.specs}
    c = np.asarray(multi["C_free"])
    cplx = np.asarray(multi["C_total"]) - c
    r_free = P["R0"] * np.asarray(multi["target"]) - cplx
    on = T_MULTI > 1.0
    np.testing.assert_allclose(P["KSS"] * cplx[on], c[on] * r_free[on], rtol=1e-9)
    np.testing.assert_allclose(multi["RANKL_free"], r_free / P["R0"], rtol=1e-9, atol=1e-15)
    np.testing.assert_allclose(multi["RANKL_occupancy"][on], cplx[on] / (P["R0"] * np.asarray(multi["target"])[on]),
                               rtol=1e-9)
    # uNTx at IC50 is Imax/2 (Doshi 2012: 93.7 %, 31.8 ng/mL); 1 ug/mL of IgG (147 kDa) = 6.80 nM
    half = P["Imax"] * 0.0318 / (P["IC50"] + 0.0318)
    assert abs(half - 0.937 / 2) < 1e-12
    np.testing.assert_allclose(multi["C_free_nM"], c * 1e6 / 147e3, rtol=1e-12)


# ------------------------------------------------------------------ scipy reference
def reference_rhs(t, y, P):
    """The model typed again, with the QSS solved for the complex first:
    Cplx^2 - (Ctot + Rtot + KSS) Cplx + Ctot Rtot = 0 (smaller root, stable form)."""
    depot, central, periph, target, _, _, _ = y
    ctot = central / P["V1"]
    rtot = P["R0"] * target
    s = ctot + rtot + P["KSS"]
    cplx = 2.0 * ctot * rtot / (s + np.sqrt(s * s - 4.0 * ctot * rtot))
    c = ctot - cplx
    absorbed = P["ka"] * depot
    dist = P["Q"] * (c - periph / P["V2"])
    return [
        -absorbed,
        P["F"] * absorbed - P["CL"] * c - dist - P["kint"] * cplx * P["V1"],
        dist,
        P["kdeg"] * (1.0 - target) - (P["kint"] - P["kdeg"]) * cplx / P["R0"],
        P["CL"] * c,
        P["kint"] * cplx * P["V1"],
        (1.0 - P["F"]) * absorbed,
    ]


def reference_solve(P, times, dose_t, dose):
    """Radau between doses (rtol 1e-10), adding each dose to the depot at its time."""
    out = np.empty((len(times), 7))
    y = np.array([0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0])
    edges = list(dose_t) + [float(times[-1])]
    for k, (a, b) in enumerate(zip(edges[:-1], edges[1:])):
        y = y.copy()
        y[0] += dose
        last = k == len(edges) - 2
        sel = (times >= a) & ((times < b) | (last & (times == b)))
        t_eval = np.unique(np.concatenate([times[sel], [b]]))
        sol = solve_ivp(reference_rhs, (a, b), y, method="Radau", args=(P,), rtol=1e-10, atol=1e-13, t_eval=t_eval)
        assert sol.success, sol.message
        out[sel] = sol.y.T[np.searchsorted(t_eval, times[sel])]
        y = sol.y[:, -1]
    return out


def test_multi_dose_matches_scipy(multi):
    P = {s.name: float(PROLIA.params[s.name]) for s in PROLIA.params.specs}
    ref = reference_solve(P, T_MULTI, DOSE_T, DOSE_MG)
    for i, name in enumerate(PROLIA.state_names):
        scale_ = 1.0 if name == "target" else DOSE_MG
        np.testing.assert_allclose(multi[name], ref[:, i], rtol=1e-7, atol=1e-10 * scale_, err_msg=name)
    # the dose is in the depot exactly at its time, not before
    k = np.searchsorted(T_MULTI, DOSE_T[1:])
    jump = np.asarray(multi["depot"])[k] - np.asarray(multi["depot"])[k - 1]
    np.testing.assert_allclose(jump, DOSE_MG, rtol=1e-3)  # 1e-3 day apart: ka*1e-3 of decay
