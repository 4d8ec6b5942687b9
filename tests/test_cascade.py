"""The composed metastatic cascade: presets, clinical numbers, reductions, inputs, errors.

Independent references: published ranges (CTC half-life, seeding inefficiency), the
site-frequency rankings of the presets' sources typed here, the full (stiff) CTC dynamics
for the quasi-steady reduction, and the size-structured mass against the convolution of
the founding history with the closed-form Gompertz growth of one metastasis.
"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy.integrate import trapezoid

from seedsoil.models import cascade
from seedsoil.models.metastasis import PRESETS, size_structured
from seedsoil.solvers import infusion, scale, simulate

FIVE_YEARS = np.linspace(0.0, 5 * 365.0, 74)
BREAST = cascade("breast")
ORGANS = BREAST.organs

# Organ rankings by metastatic burden expected from each preset's cited site frequencies
# (Coleman 2006; Bubendorf 2000; Hugen 2014; Patel 1978): most to least involved.
EXPECTED = {
    "breast": ("bone", "lung", "liver", "brain", "skin"),
    "prostate": ("bone", "lung", "liver", "brain", "skin"),
    "colorectal": ("liver", "lung", "bone", "brain", "skin"),
    "melanoma": ("lung", "liver", "skin", "brain", "bone"),
}


@pytest.fixture(scope="module")
def all_presets():
    """Every preset, five years, from a single simulate call (presets differ only in values)."""
    names = sorted(PRESETS)
    values = jnp.stack([cascade(n).params.values for n in names])
    return names, simulate(BREAST, FIVE_YEARS, params=values)


def test_api_shapes(all_presets):
    names, sol = all_presets
    T, O = len(FIVE_YEARS), len(ORGANS)
    assert ORGANS == ("bone", "lung", "liver", "brain", "skin")
    assert sol["metastatic_burden"].shape == (len(names), T, O)
    assert sol["dormant_cells"].shape == (len(names), T, O)
    assert sol["ctc_per_7_5ml"].shape == (len(names), T)
    single = simulate(BREAST, FIVE_YEARS)
    assert single["metastatic_burden"].shape == (T, O) and single["ctc_per_7_5ml"].shape == (T,)
    np.testing.assert_allclose(single["metastatic_burden"], sol["metastatic_burden"][names.index("breast")],
                               rtol=1e-10)


def test_presets_reproduce_organotropism(all_presets):
    names, sol = all_presets
    burden = np.asarray(sol["metastatic_burden"][:, -1, :])
    for i, name in enumerate(names):
        ranking = tuple(ORGANS[j] for j in np.argsort(-burden[i]))
        assert ranking == EXPECTED[name], (name, ranking)
    colorectal = burden[names.index("colorectal")]
    assert colorectal[ORGANS.index("liver")] > 0.8 * colorectal.sum()  # almost only liver
    prostate = burden[names.index("prostate")]
    assert prostate[ORGANS.index("bone")] > 0.5 * prostate.sum()


def test_clinical_numbers(all_presets):
    names, sol = all_presets
    half_life = np.asarray(sol["ctc_half_life"])
    assert np.all((half_life > 1.0) & (half_life < 2.4))  # hours, Meng et al. 2004
    eff = np.asarray(sol["seeding_efficiency"][:, -1])
    assert np.all(eff < 1e-4) and np.all(eff > 0)  # < 0.01% of shed cells found a metastasis (Fidler 1970)
    # shedding: ~1e6 cells per gram (1e9 cells) per day at the start (Butler & Gullino 1975)
    m = BREAST
    E, H, M = (float(m.y0[m.state_slice(k)][0]) for k in "EHM")
    p = m.params
    per_gram = float(p["shed_rate"]) * (M + H + float(p["shed_E"]) * E) * 1e9
    assert 5e5 < per_gram < 4e6
    # untreated breast cancer has detectable metastases within 5 years
    assert float(sol["n_detectable"][names.index("breast"), -1].sum()) > 1.0


def test_quasi_steady_ctc_matches_full_dynamics():
    times = np.linspace(0.0, 365.0, 13)
    full = cascade("breast", ctc_dynamics="dynamic")
    assert full.stiff and not BREAST.stiff
    y0 = full.with_y0(S=0.0, K=0.0)
    a = simulate(BREAST, times, rtol=1e-9, atol=1e-9)
    b = simulate(y0, times, rtol=1e-9, atol=1e-9)  # Kvaerno5 (stiff flag)
    for key in ("metastatic_burden", "dormant_cells", "n_metastases"):
        np.testing.assert_allclose(a[key][1:], b[key][1:], rtol=2e-3, err_msg=key)
    np.testing.assert_allclose(a["ctc_per_7_5ml"][1:], b["ctc_per_7_5ml"][1:], rtol=2e-3)


def test_pde_mass_equals_convolution_of_founding_with_gompertz_growth():
    """Each founded metastasis grows from 1 cell by Gompertz: burden(t) = int F(s) X(t-s) ds."""
    times = np.linspace(0.0, 3 * 365.0, 1096)
    model = cascade("breast", n_bins=128)
    sol = simulate(model, times, rtol=1e-9, atol=1e-12)
    F = np.asarray(sol["founding_rate"])  # (T, O) per day
    a, K = np.asarray(model.params["a_met"]), np.asarray(model.params["K_met"])
    t = times[-1]
    X = np.asarray(size_structured.gompertz_size(t - times[:, None], a, K))
    expected = trapezoid(F * X, times, axis=0)
    np.testing.assert_allclose(sol["metastatic_burden"][-1], expected, rtol=1e-2)
    np.testing.assert_allclose(sol["n_metastases"][-1], trapezoid(F, times, axis=0), rtol=1e-4)


def test_metastases_on_the_unit_grid_equal_the_scheme_on_each_organs_edges():
    """models/metastasis/metastases.py evaluates each organ on the unit grid stretched by ln K_o
    (constant geometry, cheap reverse pass). The finite-volume scheme and the integrals of
    size_structured.py on the organs' own log-size edges must give the same numbers."""
    from seedsoil.models.metastasis import metastases

    p = BREAST.params.replace(K_met=(1e8, 3e9, 1e10, 5e11, 1e13))  # a different plateau per organ
    view = p.view()
    O, n_bins = len(ORGANS), BREAST.n_bins
    rng = np.random.default_rng(3)
    n = jnp.asarray(rng.lognormal(0.0, 1.0, (O, n_bins)))
    founding = jnp.asarray(rng.uniform(0.1, 2.0, O))
    boost = jnp.asarray(rng.uniform(0.0, 1.5, O))
    edges = size_structured.log_size_grid(view.K_met, n_bins)
    g = metastases.grid(view, n_bins)
    np.testing.assert_allclose(g.edges, edges, rtol=1e-14)

    speed = (view.a_met * (1.0 + boost))[:, None] * (jnp.log(view.K_met)[:, None] - edges)
    direct = {
        "dn/dt": size_structured.transport_rhs(n, edges, speed, founding),
        "mass": size_structured.integrate_density(n, edges, jnp.exp),
        "number": size_structured.total_number(n, edges),
        "above 1e8": size_structured.count_above(n, edges, jnp.log(1e8)),
    }
    unit = {
        "dn/dt": metastases.derivative(n, g, view, founding, boost),
        "mass": metastases.mass(n, g),
        "number": metastases.number(n, g),
        "above 1e8": metastases.number_above(n, g, 1e8),
    }
    for key in direct:
        np.testing.assert_allclose(unit[key], direct[key], rtol=1e-12, atol=0, err_msg=key)


def test_resection_lowers_ctcs_and_later_metastases():
    times = np.linspace(0.0, 5 * 365.0, 74)
    untreated = simulate(BREAST, times)
    resected = simulate(BREAST, times, regimen=scale("P", 30.0, 1e-3))
    after = times > 60
    assert np.all(np.asarray(resected["ctc_per_7_5ml"])[after] < 0.1 * np.asarray(untreated["ctc_per_7_5ml"])[after])
    assert float(resected["n_metastases"][-1].sum()) < 0.5 * float(untreated["n_metastases"][-1].sum())


def test_complete_resection_and_total_burden():
    """A complete resection (residual 0) leaves no primary and no shedding from it, and the
    total burden is exactly the sum of its parts (primary, metastatic and dormant cells)."""
    times = np.linspace(0.0, 3 * 365.0, 37)
    untreated = simulate(BREAST, times)
    complete = simulate(BREAST, times, regimen=scale("P", 30.0, 0.0))
    after = times > 30
    assert np.all(np.asarray(complete["primary"])[after] == 0.0)
    for sol in (untreated, complete):
        parts = (np.asarray(sol["primary"]) + np.asarray(sol["metastatic_burden"]).sum(-1)
                 + np.asarray(sol["dormant_cells"]).sum(-1))
        np.testing.assert_allclose(np.asarray(sol["total_burden"]), parts, rtol=1e-12)
    # CTCs collapse with the primary; later only the growing metastases shed (they re-seed
    # the blood), so CTCs return slowly but stay a small fraction of the untreated level
    ratio = np.asarray(complete["ctc_per_7_5ml"]) / np.asarray(untreated["ctc_per_7_5ml"])
    assert np.all(ratio[(times > 60) & (times <= 365)] < 1e-4) and np.all(ratio[times > 60] < 0.05)
    assert np.all(np.diff(ratio[times > 60]) > 0)
    assert float(complete["total_burden"][-1]) < 0.05 * float(untreated["total_burden"][-1])


@pytest.mark.parametrize("name", ["inflammation", "immunosuppression"])
def test_inputs_raise_awakening(name):
    times = np.linspace(0.0, 2 * 365.0, 25)
    base = simulate(BREAST, times)
    pushed = simulate(BREAST, times, regimen=infusion(name, 1.0 if name == "inflammation" else 0.9, 365.0, np.inf))
    before, after = times < 365, times > 400
    np.testing.assert_allclose(pushed["founding_rate"][before], base["founding_rate"][before], rtol=1e-9)
    assert np.all(np.asarray(pushed["founding_rate"])[after] > 1.4 * np.asarray(base["founding_rate"])[after])


def test_tgf_beta_drives_emt_and_shedding():
    times = np.linspace(0.0, 100.0, 11)
    base = simulate(BREAST, times)
    tgf = simulate(BREAST, times, regimen=infusion("tgf_beta", 4.0, 0.0, np.inf))
    assert tgf["M"][-1] > 3 * base["M"][-1] and tgf["E"][-1] < base["E"][-1]
    np.testing.assert_allclose(tgf["E"] + tgf["H"] + tgf["M"], 1.0, rtol=1e-9)  # fractions conserved
    assert tgf["ctc_per_7_5ml"][-1] > 2 * base["ctc_per_7_5ml"][-1]


def test_organ_axis_vectorises():
    """The per-organ transport is one array operation: it equals a vmap over organs."""
    p = BREAST.params.view()
    edges = size_structured.log_size_grid(p.K_met, BREAST.n_bins)
    rng = np.random.default_rng(0)
    n = jnp.asarray(rng.random((len(ORGANS), BREAST.n_bins)))
    inflow = jnp.arange(1.0, len(ORGANS) + 1.0)
    speed = p.a_met[:, None] * (jnp.log(p.K_met)[:, None] - edges)
    batched = size_structured.transport_rhs(n, edges, speed, inflow)
    mapped = jax.vmap(size_structured.transport_rhs)(n, edges, speed, inflow)
    np.testing.assert_allclose(batched, mapped, rtol=1e-14)


def test_growth_laws_and_organ_subsets():
    times = np.linspace(0.0, 200.0, 5)
    for law in ("exponential", "logistic", "power"):
        sol = simulate(cascade("breast", growth_law=law), times)
        assert np.all(np.diff(np.asarray(sol["primary"])) > 0)
    four = cascade("breast", ("bone", "lung", "liver", "brain"))
    assert simulate(four, times)["metastatic_burden"].shape == (5, 4)


def test_bad_input():
    with pytest.raises(ValueError, match="unknown preset 'pancreas'"):
        cascade("pancreas")
    with pytest.raises(ValueError, match=r"unknown organ\(s\) \['kidney'\]"):
        cascade("breast", ("bone", "kidney"))
    with pytest.raises(ValueError, match="include 'liver'"):
        cascade("colorectal", ("bone", "lung"))
    with pytest.raises(ValueError, match="unknown growth law 'linear'"):
        cascade("breast", growth_law="linear")
    with pytest.raises(ValueError, match="unknown ctc_dynamics"):
        cascade("breast", ctc_dynamics="fast")
    with pytest.raises(ValueError, match=r"parameter 'w\[bone\]' = -1.0"):
        BREAST.with_params(w=jnp.array([-1.0, 1.0, 1.0, 1.0, 1.0]))


def test_metastases_reseed_the_blood():
    """With the primary removed, CTCs come from metastases; without re-seeding they vanish."""
    times = np.linspace(0.0, 4 * 365.0, 9)
    resect = scale("P", 10.0, 0.0)
    seeding = simulate(BREAST, times, regimen=resect)
    silent = simulate(BREAST, times, params={"reseed": 0.0}, regimen=resect)
    late = times > 365
    assert np.all(np.asarray(silent["ctc_per_7_5ml"])[late] == 0.0)
    assert np.all(np.asarray(seeding["ctc_per_7_5ml"])[late] > 0.0)
    np.testing.assert_allclose(seeding["primary"][late], 0.0)


def test_bone_growth_boost_speeds_up_bone_metastases_only():
    times = np.linspace(0.0, 3 * 365.0, 7)
    base = simulate(BREAST, times)
    boosted = simulate(BREAST, times, regimen=infusion("bone_growth_boost", 0.5, 0.0, np.inf))
    bone = ORGANS.index("bone")
    others = [j for j in range(len(ORGANS)) if j != bone]
    assert boosted["metastatic_burden"][-1, bone] > 2 * base["metastatic_burden"][-1, bone]
    # other organs only change through re-seeding from the larger bone burden (< 10 %)
    np.testing.assert_allclose(boosted["metastatic_burden"][-1, others], base["metastatic_burden"][-1, others],
                               rtol=0.1)
