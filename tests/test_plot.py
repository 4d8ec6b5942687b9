"""seedsoil.plot draws every figure from small real results: figures are made, axes carry the
declared units, per-organ legends use the declared labels, dose times are marked. No pixel
snapshots. Results are shared through module-scoped fixtures (one compiled solve each)."""

import subprocess
import sys

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.container import BarContainer

import seedsoil
from seedsoil.models import cascade, komarova2003
from seedsoil.solvers import (
    Condition,
    FitProblem,
    bolus,
    fit,
    infusion,
    load_sweep,
    log10,
    morris,
    profile,
    scale,
    simulate,
    sobol,
    sweep,
)
from seedsoil.solvers.data import Dataset

from .test_fit import MODEL as LOGISTIC
from .test_fit import synthetic

matplotlib.use("Agg")  # no display; pyplot switches to it even when already imported

KOM = komarova2003()
KOM_TIMES = np.linspace(0.0, 40.0, 21)
CASCADE = cascade("breast")
CASCADE_TIMES = np.linspace(0.0, 60.0, 13)
RANGES = {"beta1": (0.15, 0.25), "beta2": (0.015, 0.025)}
CHUNK = 12  # every Komarova sweep below (morris, sobol, sweep) reuses one compiled chunk of 12


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _gids(ax, gid):
    return [a for a in ax.get_children() if a.get_gid() == gid]


def _bars(ax):
    return [c for c in ax.containers if isinstance(c, BarContainer)]


def _legend_texts(ax):
    legend = ax.get_legend()
    return [t.get_text() for t in legend.get_texts()] if legend is not None else []


# --------------------------------------------------------------------------------------
# Shared results
# --------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def kom_runs():
    dosed = bolus("x1", [10.0, 20.0, 50.0], 5.0)  # the dose at day 50 is past the horizon
    undosed = bolus("x1", [10.0, 20.0, 50.0], 0.0)  # same events (one compiled solve), amount 0
    return dosed, undosed, {"no dose": simulate(KOM, KOM_TIMES, regimen=undosed),
                            "x1 doses": simulate(KOM, KOM_TIMES, regimen=dosed)}


@pytest.fixture(scope="module")
def cascade_batch():
    resection = scale("P", 30.0, [[1.0], [1e-3]])  # a batch of two: primary kept, primary resected
    return resection, simulate(CASCADE, CASCADE_TIMES, regimen=resection)


@pytest.fixture(scope="module")
def two_group_fit():
    drug = infusion("drug", 1.0, 5.0, np.inf)
    simulated = synthetic([("ctrl", None, {}, None), ("treated", drug, {}, None)], seed=3)
    labels = {"ctrl": "control", "treated": "drug from day 5"}
    data = Dataset.from_records([dict(r, amount_units="log10 photons/s", alt_expt_id=labels[r["expt_id"]])
                                 for r in simulated.rows()])
    problem = FitProblem(LOGISTIC, data, [log10("BLI", "x", scale=1e3)], ["ctrl", Condition("treated", regimen=drug)],
                         ["r", "K"])
    return fit(problem, method="lm", start={"r": 0.5, "K": 60.0})


@pytest.fixture(scope="module")
def kom_sweep(tmp_path_factory):
    out = tmp_path_factory.mktemp("sweep")
    rng = np.random.default_rng(0)
    samples = {k: rng.uniform(lo, hi, CHUNK) for k, (lo, hi) in RANGES.items()}
    return sweep(KOM, KOM_TIMES, samples, keep=("z",), chunk_size=CHUNK, out=out), out


# --------------------------------------------------------------------------------------
# Import
# --------------------------------------------------------------------------------------
def test_plot_loads_on_first_use_and_import_seedsoil_does_not_load_matplotlib():
    code = ("import sys, seedsoil; assert 'matplotlib' not in sys.modules, 'import seedsoil loaded matplotlib'; "
            "f = seedsoil.plot.trajectories; import seedsoil.plot as p; assert p.trajectories is f; "
            "assert 'matplotlib' in sys.modules; print('ok')")
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert run.returncode == 0 and run.stdout.strip() == "ok", run.stderr[-2000:]
    assert set(seedsoil.plot.__all__) == {"trajectories", "fitted", "forecast", "profiles", "morris_bars", "sobol_bars",
                                          "kaplan_meier", "vpc",
                                          "quantile_bands"}


# --------------------------------------------------------------------------------------
# Trajectories
# --------------------------------------------------------------------------------------
def test_trajectories_of_runs_label_units_and_mark_the_doses(kom_runs):
    dosed, undosed, runs = kom_runs
    fig, axes = seedsoil.plot.trajectories(runs, KOM, ["x1", "z"], regimen=dosed, logy="x1")
    assert len(axes) == 2 and all(ax.figure is fig for ax in axes)
    assert axes[0].get_ylabel() == "x1 [cells]" and "% of initial" in axes[1].get_ylabel()
    assert all(ax.get_xlabel() == "time (day)" for ax in axes)
    assert axes[0].get_yscale() == "log" and axes[1].get_yscale() == "linear"
    for ax in axes:  # two doses inside the horizon, one per line; the day-50 dose is outside
        assert sorted(line.get_xdata()[0] for line in _gids(ax, "event")) == [10.0, 20.0]
        assert len([ln for ln in ax.get_lines() if ln.get_gid() != "event"]) == 2  # one line per run
    assert _legend_texts(axes[0]) == ["no dose", "x1 doses", "dose: x1"]
    # the doses differ, so the drawn lines do
    y = [ln.get_ydata() for ln in axes[0].get_lines() if ln.get_gid() != "event"]
    assert not np.allclose(y[0], y[1])
    # a regimen of amount-0 placeholders marks nothing; marks= adds labelled times
    _, axes = seedsoil.plot.trajectories(runs["no dose"], KOM, "z", regimen=undosed, marks={"switch": 30.0})
    assert [line.get_xdata()[0] for line in _gids(axes[0], "event")] == [30.0]
    assert _legend_texts(axes[0]) == ["switch"]


def test_trajectories_per_organ_from_declared_labels_into_given_axes(cascade_batch):
    resection, sol = cascade_batch
    fig, given = plt.subplots(1, 3)
    _, axes = seedsoil.plot.trajectories(sol, CASCADE, ["primary", "metastatic_burden", "dormant_cells[bone]"],
                                         regimen=resection, labels=["kept", "resected"], axes=given, logy=True)
    assert list(axes) == list(given)
    organs = list(CASCADE.organs)
    burden = axes[1]
    assert burden.get_ylabel() == "metastatic_burden [cells]"
    texts = _legend_texts(burden)
    assert texts == organs + ["kept", "resected"]
    drawn = [ln for ln in burden.get_lines() if ln.get_gid() != "event"]
    assert len(drawn) == 2 * len(organs)
    np.testing.assert_allclose(drawn[len(organs)].get_ydata(), np.asarray(sol["metastatic_burden"])[1, :, 0])
    assert axes[2].get_ylabel() == "dormant_cells[bone] [cells]" and "(bone)" in axes[2].get_title()
    np.testing.assert_allclose(axes[2].get_lines()[0].get_ydata(), np.asarray(sol["dormant_cells"])[0, :, 0])
    assert [line.get_xdata()[0] for line in _gids(axes[0], "event")] == [30.0]  # the resection, marked once
    assert "scale: P" in _legend_texts(axes[0])


def test_trajectories_of_chosen_members_with_given_styles(cascade_batch):
    _, sol = cascade_batch
    styles = [{"color": "tab:red", "ls": "--"}]
    _, axes = seedsoil.plot.trajectories(sol, CASCADE, ["primary", "metastatic_burden"], members=[1],
                                         labels=["resected"], styles=styles)
    line = axes[0].get_lines()[0]
    assert len(axes[0].get_lines()) == 1 and line.get_linestyle() == "--" and line.get_color() == "tab:red"
    np.testing.assert_allclose(line.get_ydata(), np.asarray(sol["primary"])[1])
    assert len(axes[1].get_lines()) == len(CASCADE.organs)  # one run: entries only, in their own colours
    assert {ln.get_linestyle() for ln in axes[1].get_lines()} == {"--"}
    assert len({ln.get_color() for ln in axes[1].get_lines()}) == len(CASCADE.organs)
    with pytest.raises(ValueError, match=r"members \[2\] are outside the batch of 2"):
        seedsoil.plot.trajectories(sol, CASCADE, "primary", members=[2])


def test_trajectories_name_bad_requests(kom_runs, cascade_batch):
    _, _, runs = kom_runs
    with pytest.raises(KeyError, match="unknown output 'nope': model 'komarova2003' has no output 'nope'"):
        seedsoil.plot.trajectories(runs, KOM, "nope")
    with pytest.raises(KeyError, match=r"unknown output 'metastatic_burden\[moon\]'"):
        seedsoil.plot.trajectories(cascade_batch[1], CASCADE, "metastatic_burden[moon]")
    with pytest.raises(ValueError, match="3 panels to draw but 1 axes given"):
        seedsoil.plot.trajectories(runs, KOM, ["x1", "x2", "z"], axes=plt.subplots()[1])
    with pytest.raises(ValueError, match="1 labels for 2 trajectories"):
        seedsoil.plot.trajectories(cascade_batch[1], CASCADE, "primary", labels=["one"])


# --------------------------------------------------------------------------------------
# Fit and profiles
# --------------------------------------------------------------------------------------
def test_fitted_draws_data_curves_and_standardised_residuals(two_group_fit):
    res = two_group_fit
    fig, grid = seedsoil.plot.fitted(res, n_points=31)
    assert grid.shape == (2, 1)
    top, bottom = grid[:, 0]
    assert top.get_ylabel() == "BLI [log10 photons/s]"
    assert bottom.get_ylabel() == "standardised residual" and bottom.get_xlabel() == "time (day)"
    assert _legend_texts(top) == ["control", "drug from day 5"]  # the data's group labels
    curves = [ln for ln in top.get_lines() if len(ln.get_xdata()) == 31]
    assert len(curves) == 2
    pred = res.predict(n_points=31)
    np.testing.assert_allclose(curves[1].get_ydata(), pred[("treated", "BLI")][1])
    # residual points: one per data row, the values FitResult.residuals gives
    points = [ln for ln in bottom.get_lines() if ln.get_linestyle() == "None"]
    drawn = np.concatenate([ln.get_ydata() for ln in points])
    np.testing.assert_allclose(np.sort(drawn), np.sort(res.residuals()))
    assert len(top.containers) == 2  # error bars per group
    np.testing.assert_allclose(np.sort(top.containers[0].lines[0].get_ydata()),
                               np.sort(res.problem.data.series("ctrl", "BLI").values))
    _, grid = seedsoil.plot.fitted(res, groups="treated")
    assert _legend_texts(grid[0, 0]) == ["drug from day 5"]
    with pytest.raises(ValueError, match="no fitted group"):
        seedsoil.plot.fitted(res, groups="nope")


def test_forecast_draws_bands_lines_and_data(two_group_fit):
    res = two_group_fit
    bands = res.predict(np.linspace(0.0, 40.0, 21), band="wald", n_draws=50)
    fig, axes = seedsoil.plot.forecast(bands, data=res.problem.data)
    ax = axes[0]
    assert ax.get_ylabel() == "BLI [log10 photons/s]" and ax.get_xlabel() == "time (day)"
    assert _legend_texts(ax) == ["control", "drug from day 5"]
    assert len(ax.collections) >= 2  # one filled band per group (error bars add their own)
    filled = [c for c in ax.collections if type(c).__name__ in ("PolyCollection", "FillBetweenPolyCollection")]
    assert len(filled) == 2
    verts = filled[1].get_paths()[0].vertices
    b = bands[("treated", "BLI")]
    assert np.isclose(verts[:, 1].max(), b.high.max()) and np.isclose(verts[:, 1].min(), b.low.min())
    with pytest.raises(ValueError, match="no forecasts of observable"):
        seedsoil.plot.forecast(bands, observables="CTX")
    with pytest.raises(ValueError, match="empty"):
        seedsoil.plot.forecast({})


def test_profiles_show_threshold_and_interval(two_group_fit):
    prs = [profile(two_group_fit, name, n_points=5) for name in ("r", "K")]
    fig, axes = seedsoil.plot.profiles(prs)
    assert len(axes) == 2
    for ax, pr in zip(axes, prs):
        assert ax.get_xlabel() == f"{pr.name} [{pr.unit}]" and ax.get_ylabel() == "-2 log L - min"
        wide = pr.values.max() > 10 * pr.values.min()  # log axis for log-scale estimates spanning a decade
        assert ax.get_xscale() == ("log" if wide else "linear")
        horizontal = [ln for ln in ax.get_lines() if np.ptp(ln.get_ydata()) == 0 and len(ln.get_ydata()) == 2]
        assert any(np.allclose(ln.get_ydata(), pr.threshold) for ln in horizontal)
        lo, hi = pr.ci
        span = _gids(ax, "ci")
        assert len(span) == 1
        a, b = span[0].get_x(), span[0].get_x() + span[0].get_width()
        if np.isfinite(lo) and np.isfinite(hi):
            assert a == pytest.approx(lo) and b == pytest.approx(hi)
            assert f"{lo:.3g}" in ax.get_title()
    assert any("chi2(1) 95%" in t for t in _legend_texts(axes[0]))
    _, axes = seedsoil.plot.profiles(prs[0], logx=True)
    assert len(axes) == 1 and axes[0].get_xscale() == "log"


# --------------------------------------------------------------------------------------
# Global sensitivity
# --------------------------------------------------------------------------------------
def test_morris_bars_with_confidence_intervals_per_output():
    ds = morris(KOM, KOM_TIMES, {"bone": "z", "osteoclasts": "x1"}, vary=list(RANGES), ranges=RANGES,
                trajectories=4, num_resamples=50, seed=0, chunk_size=CHUNK)
    fig, axes = seedsoil.plot.morris_bars(ds, unit="% of initial")
    assert len(axes) == 2 and [ax.get_title() for ax in axes] == ["bone", "osteoclasts"]
    ax = axes[0]
    assert ax.get_xlabel() == "elementary effect [% of initial]"
    mu_bars, sigma_bars = _bars(ax)
    s = ds.sel(output="bone")
    order = np.argsort(s["mu_star"].values)
    assert [t.get_text() for t in ax.get_yticklabels()] == [str(p) for p in s["parameter"].values[order]]
    np.testing.assert_allclose([b.get_width() for b in mu_bars], s["mu_star"].values[order])
    np.testing.assert_allclose([b.get_width() for b in sigma_bars], s["sigma"].values[order])
    assert mu_bars.errorbar is not None  # whiskers at mu_star_conf
    assert _legend_texts(ax)[0].startswith("mu* (95% CI)")
    _, axes = seedsoil.plot.morris_bars(ds, output="osteoclasts")
    assert len(axes) == 1
    with pytest.raises(ValueError, match="not a Morris dataset"):
        seedsoil.plot.morris_bars(ds[["mu", "sigma"]])


def test_sobol_bars_with_confidence_intervals():
    ds = sobol(KOM, KOM_TIMES, "z", vary=list(RANGES), ranges=RANGES, n=4, num_resamples=20, seed=0,
               chunk_size=CHUNK)
    fig, axes = seedsoil.plot.sobol_bars(ds)
    ax = axes[0]
    assert ax.get_ylabel() == "Sobol index [1]"
    s1, st = _bars(ax)
    order = np.argsort(-ds["ST"].values)
    np.testing.assert_allclose([b.get_height() for b in s1], ds["S1"].values[order])
    np.testing.assert_allclose([b.get_height() for b in st], ds["ST"].values[order])
    assert s1.errorbar is not None and st.errorbar is not None
    assert [t.get_text() for t in ax.get_xticklabels()] == [str(p) for p in ds["parameter"].values[order]]


# --------------------------------------------------------------------------------------
# Sweeps
# --------------------------------------------------------------------------------------
def test_quantile_bands_from_a_sweep_and_its_files(kom_sweep):
    result, out = kom_sweep
    fig, axes = seedsoil.plot.quantile_bands(result, "z", label="arm A")
    ax = axes[0]
    assert ax.get_ylabel() == "z [% of initial]" and ax.get_xlabel() == "time (day)"
    median = ax.get_lines()[0]
    np.testing.assert_allclose(median.get_ydata(), np.median(result["z"], axis=0))
    assert len(ax.collections) == 2  # 5-95 % and 25-75 %
    assert _legend_texts(ax) == ["arm A: 5-95 %", "arm A: 25-75 %", "arm A: median"]
    assert "12 of 12 members" in ax.get_title()
    # the same from the streamed files, overlaid on the same axes in another colour
    _, again = seedsoil.plot.quantile_bands(load_sweep(out), "z", axes=ax, color="C3", bands=[(0.1, 0.9)])
    assert again[0] is ax and len(ax.collections) == 3
    np.testing.assert_allclose(ax.get_lines()[1].get_ydata(), median.get_ydata())


def test_quantile_bands_per_organ():
    result = sweep(CASCADE, CASCADE_TIMES, {"r_P": np.linspace(0.0005, 0.0008, 4)}, keep=("metastatic_burden",))
    fig, axes = seedsoil.plot.quantile_bands(result, "metastatic_burden", logy=True)
    organs = list(CASCADE.organs)
    assert [ax.get_ylabel() for ax in axes] == [f"metastatic_burden[{o}] [cells]" for o in organs]
    np.testing.assert_allclose(axes[0].get_lines()[0].get_ydata(),
                               np.median(result["metastatic_burden"][:, :, 0], axis=0))
    _, axes = seedsoil.plot.quantile_bands(result.to_xarray(), "metastatic_burden[lung]")
    assert len(axes) == 1 and axes[0].get_ylabel() == "metastatic_burden[lung] [cells]"
    with pytest.raises(KeyError, match="not an output of this sweep"):
        seedsoil.plot.quantile_bands(result, "primary")
