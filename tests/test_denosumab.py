"""Denosumab SC PK/QSS-TMDD: Prolia and Xgeva label numbers, mass balance, and an
independent scipy solve of the equations typed again here (complex-first QSS form).

Label numbers (Prolia US label, 12.3): 60 mg SC, Cmax 6.75 (SD 1.89) ug/mL at
10 days (range 3-21), half-life after Cmax 25.4 (SD 8.5) days. Xgeva US label (12.3) and
Swiss Fachinformation: 120 mg Q4W, steady-state trough 20.6 +/- 13.5 ug/mL (range 0.456-56.9)
(the calibration target of the bone-metastases clearance; other Xgeva numbers check it).
The model gives typical-subject predictions of population-PK fits, so comparisons are
with the label means within tolerances stated per test, inside the label's SDs.
"""

import numpy as np
import pytest
from scipy.integrate import solve_ivp
from scipy.optimize import brentq

from seedsoil.models.drugs import denosumab
from seedsoil.models.drugs._denosumab import XGEVA_TROUGH
from seedsoil.solvers import bolus, every, simulate

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


def _xgeva_troughs(model, dose_t, trough_days, CL=None):
    """Free denosumab the day before each of ``trough_days`` under 120 mg at ``dose_t``."""
    params = None if CL is None else model.params.replace(CL=CL)
    times = np.arange(0.0, max(trough_days) + 1.0, 0.5)
    sol = simulate(model, times, regimen=bolus("depot", dose_t, 120.0), params=params, **TIGHT)
    # Doses go to the SC depot, so serum drug at a dose time is the pre-dose trough.
    return np.asarray(sol["C_free"])[np.searchsorted(times, trough_days)]


Q4W = every(28.0, 0.0, 13)
Q4W_TROUGHS = 28.0 * np.arange(1, 13)


@pytest.fixture(scope="module")
def xgeva_q4w():
    return _xgeva_troughs(XGEVA, Q4W, Q4W_TROUGHS)


def test_xgeva_clearance_is_the_label_trough_solution(xgeva_q4w):
    # The bone-metastases CL is a calibration (module docstring): re-derive it here by root
    # finding on the steady-state trough and require the shipped default to be that root.
    assert abs(xgeva_q4w[-1] / xgeva_q4w[-2] - 1.0) < 2e-3  # steady state (label: by 6 months)
    root = brentq(lambda cl: _xgeva_troughs(XGEVA, Q4W, Q4W_TROUGHS, CL=cl)[-1] - XGEVA_TROUGH,
                  0.05, 0.2, xtol=1e-8)
    assert abs(float(XGEVA.params["CL"]) / root - 1.0) < 1e-3, root
    assert abs(xgeva_q4w[-1] / XGEVA_TROUGH - 1.0) < 2e-3, xgeva_q4w[-1]
    # Gibiansky 2012's 66-kg typical value (3.25 mL/h) gives 26.2 ug/mL, 27 % high.
    published = _xgeva_troughs(XGEVA, Q4W, Q4W_TROUGHS, CL=3.25e-3 * 24.0)[-1]
    assert 25.0 < published < 29.0, published


def test_xgeva_accumulation_and_half_life_match_label(xgeva_q4w):
    # Not used by the fit. EU SmPC: "approximately 2-fold accumulation" after 6 months of
    # 120 mg Q4W (US label: "up to 2.8-fold"); half-life after discontinuation 28 days
    # (range 14-55). Model: 2.12-fold, 27.3 days.
    accumulation = xgeva_q4w[-1] / xgeva_q4w[0]
    assert 1.7 < accumulation < 2.8, accumulation
    times = np.arange(0.0, 400.5, 0.5)
    c = np.asarray(simulate(XGEVA, times, regimen=bolus("depot", Q4W[:-1], 120.0), **TIGHT)["C_free"])
    sel = (times >= 350.0) & (times <= 400.0)  # 14-64 days after the last dose (day 336)
    t_half = np.log(2.0) / -np.polyfit(times[sel], np.log(c[sel]), 1)[0]
    assert abs(t_half / 28.0 - 1.0) < 0.15, t_half


def test_xgeva_loading_dose_troughs_match_label():
    # Not used by the fit. US label 12.3: 120 mg Q4W with extra doses on days 8 and 15;
    # mean (SD) troughs on days 8, 15 and one month after the first dose 19.0 (24.1),
    # 31.6 (27.3), 36.4 (20.6) ug/mL; steady state by 3 months, trough 23.4 (12.1).
    # Model: 13.6, 27.3, 35.5, 24.7. Each inside the label SD; month 1 and 3 within 15 %.
    dose_t = np.concatenate([[0.0, 7.0, 14.0], every(28.0, 28.0, 3)])
    c = _xgeva_troughs(XGEVA, dose_t, np.array([7.0, 14.0, 28.0, 84.0]))
    label = np.array([19.0, 31.6, 36.4, 23.4])
    sd = np.array([24.1, 27.3, 20.6, 12.1])
    assert np.all(np.abs(c - label) < sd), c
    assert np.all(np.abs(c[2:] / label[2:] - 1.0) < 0.15), c


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
