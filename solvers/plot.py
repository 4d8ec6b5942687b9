"""Figures users would otherwise write by hand, drawn with matplotlib from any model's results.

Every function draws into the axes it is given (``axes=``: one :class:`matplotlib.axes.Axes`
or an array of them) or into a new figure, labels the axes with the declared units, and
returns ``(figure, axes)`` with ``axes`` a NumPy array of the panels drawn (2-D for
:func:`fitted`). Nothing here calls ``plt.show()``; nothing here knows any biology.

* :func:`trajectories`: named outputs of one or several solutions over time, one panel per
  output, one line per entry of an array-valued output (e.g. per organ) with a legend from
  the declared labels, dose and event times of a regimen marked.
* :func:`fitted`: a fit's data with error bars, the fitted curves per group, and the
  standardised residuals below.
* :func:`profiles`: profile likelihoods with the chi-square threshold and the interval.
* :func:`morris_bars` and :func:`sobol_bars`: the indices of :func:`~seedsoil.solvers.morris`
  and :func:`~seedsoil.solvers.sobol` with their bootstrap confidence intervals.
* :func:`quantile_bands`: the median and quantile bands over time of a sweep.
* :func:`kaplan_meier`: Kaplan-Meier curves per arm of a virtual trial, with the exact
  population curve over them.
* :func:`vpc`: a visual predictive check, a simulated population's bands against data.

Outputs are named as in ``sol[name]``; one entry of an array-valued output is named by its
label or index in brackets, e.g. ``"metastatic_burden[bone]"`` or ``"metastatic_burden[0]"``.

This module imports matplotlib; ``import seedsoil`` does not import it (``seedsoil.plot`` loads
on first use).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.lines import Line2D

from ..models.base import Model, Observable, UnknownNameError, _axis_labels, resolve_output
from ._fit import FitResult, ProfileResult
from ._simulate import Solution
from ._sweep import SweepResult
from .regimen import Regimen

__all__ = ["trajectories", "fitted", "forecast", "profiles", "morris_bars", "sobol_bars", "quantile_bands",
           "kaplan_meier", "vpc"]

TIME_LABEL = "time (day)"
_LINESTYLES = ("-", "--", ":", "-.")


# --------------------------------------------------------------------------------------
# Shared helpers
# --------------------------------------------------------------------------------------
def _colours() -> list[str]:
    return plt.rcParams["axes.prop_cycle"].by_key().get("color", ["C0"])


def _panels(axes, n: int, ncols: int | None, figsize, panel_size=(4.0, 3.2)) -> tuple[Any, np.ndarray]:
    """``n`` axes: the given ones (at least ``n``) or a new figure's grid; extra panels of a
    new grid are hidden."""
    if axes is not None:
        flat = np.ravel(np.asarray(axes, dtype=object))
        if flat.size < n:
            raise ValueError(f"{n} panels to draw but {flat.size} axes given")
        return flat[0].figure, flat[:n]
    ncols = max(1, min(n, ncols or 4))
    nrows = -(-n // ncols)
    if figsize is None:
        figsize = (panel_size[0] * ncols, panel_size[1] * nrows)
    fig, grid = plt.subplots(nrows, ncols, figsize=figsize, squeeze=False, layout="constrained")
    flat = grid.ravel()
    for ax in flat[n:]:
        ax.set_visible(False)
    return fig, flat[:n]


def _with_unit(label: str, unit: str | None) -> str:
    return f"{label} [{unit}]" if unit else label


def _data_unit(data, observable: str) -> str:
    """The unit of ``observable`` in a Dataset; "" without data, for an observable it lacks,
    or where its groups disagree."""
    if data is None or observable not in data.observables:
        return ""
    try:
        return data.units_of(observable)
    except ValueError:
        return ""


def _axis_entries(spec, entry: int | None) -> tuple[str, tuple[str, ...], int | None]:
    """``(title, entry labels to draw, entry)`` of a resolved output: one entry's title, or
    the labels of the first axis of an array-valued output (declared, else indices)."""
    labels = _axis_labels(spec)
    if entry is not None:
        return f"{spec.name}[{labels[entry]}]", (), entry
    return spec.name, labels, None


def _names(x: str | Sequence[str]) -> tuple[str, ...]:
    return (x,) if isinstance(x, str) else tuple(x)


def _as_logset(log: bool | str | Sequence[str], names: Sequence[str]) -> set[str]:
    if isinstance(log, bool):
        return set(names) if log else set()
    if isinstance(log, str):
        return {log}
    return set(log)


# --------------------------------------------------------------------------------------
# Trajectories
# --------------------------------------------------------------------------------------
def _runs(runs: Solution | Mapping[str, Solution], labels: Sequence[str] | None,
          members: Sequence[int] | None) -> list[tuple[str | None, Solution, int | None]]:
    """``[(label, solution, batch index or None)]``: one entry per trajectory drawn."""
    if isinstance(runs, Solution):
        runs = {None: runs}
    elif not isinstance(runs, Mapping) or not all(isinstance(s, Solution) for s in runs.values()):
        raise TypeError("trajectories takes a Solution or a mapping {label: Solution}")
    if members is not None and (len(runs) != 1 or not np.shape(next(iter(runs.values())).code)):
        raise ValueError("members= selects trajectories of one batched Solution")
    out = []
    for label, sol in runs.items():
        batch = np.shape(sol.code)
        if len(batch) > 1:
            raise ValueError(f"a solution with batch shape {batch}: pass one batch axis at most")
        if not batch:
            out.append((label, sol, None))
            continue
        index = list(range(batch[0])) if members is None else [int(i) for i in members]
        bad = [i for i in index if not 0 <= i < batch[0]]
        if bad:
            raise ValueError(f"members {bad} are outside the batch of {batch[0]}")
        names = labels if labels is not None and len(runs) == 1 else None
        if names is not None and len(names) != len(index):
            raise ValueError(f"{len(names)} labels for {len(index)} trajectories")
        for k, i in enumerate(index):
            sub = names[k] if names is not None else (f"#{i}" if label is None else f"{label} #{i}")
            out.append((sub, sol, i))
    return out


def _regimen_marks(regimen: Regimen | None, marks: Mapping[str, Any] | None,
                   t0: float, t1: float) -> tuple[dict[str, np.ndarray], dict[str, list[tuple[float, float]]]]:
    """Event times per label (doses, scalings, ``marks``) and infusion spans per target,
    inside ``[t0, t1]``; events that change nothing (amount 0 with factor 1) are left out."""
    events: dict[str, list[float]] = {}
    spans: dict[str, list[tuple[float, float]]] = {}
    if regimen is not None and not isinstance(regimen, Regimen):
        raise TypeError(f"regimen must be a Regimen; got {type(regimen).__name__}")
    if regimen is not None and regimen.n_events:
        t = np.asarray(regimen.event_time).reshape(-1, regimen.n_events)
        amount = np.asarray(regimen.event_amount).reshape(t.shape)
        factor = np.asarray(regimen.event_factor).reshape(t.shape)
        for j, target in enumerate(regimen.event_target):
            live = (amount[:, j] != 0) | (factor[:, j] != 1)
            kind = "dose" if np.any(amount[:, j] != 0) or not np.any(factor[:, j] != 1) else "scale"
            events.setdefault(f"{kind}: {target}", []).extend(t[live, j].tolist())
    if regimen is not None and regimen.n_infusions:
        start = np.asarray(regimen.infusion_start).reshape(-1, regimen.n_infusions)
        stop = np.asarray(regimen.infusion_stop).reshape(start.shape)
        rate = np.asarray(regimen.infusion_rate).reshape(start.shape)
        for j, target in enumerate(regimen.infusion_target):
            for a, b, r in zip(start[:, j], stop[:, j], rate[:, j]):
                if r != 0 and b > t0 and a < t1:
                    spans.setdefault(f"infusion: {target}", []).append((max(a, t0), min(b, t1)))
    for label, times in (marks or {}).items():
        events.setdefault(str(label), []).extend(np.atleast_1d(np.asarray(times, dtype=float)).tolist())
    out = {}
    for label, times in events.items():
        arr = np.unique(np.asarray(times, dtype=float))
        arr = arr[(arr >= t0) & (arr <= t1)]
        if arr.size:
            out[label] = arr
    return out, {k: sorted(set(v)) for k, v in spans.items()}


def _draw_marks(ax, events: Mapping[str, np.ndarray], spans: Mapping[str, list]) -> list:
    """Vertical lines (gid ``"event"``) and shaded infusion spans (gid ``"infusion"``)."""
    handles = []
    colours = plt.get_cmap("Dark2").colors
    for k, (label, times) in enumerate(events.items()):
        colour = colours[k % len(colours)]
        for t in times:
            ax.axvline(t, color=colour, lw=0.8, ls=":", alpha=0.9, gid="event", label="_nolegend_")
        handles.append(Line2D([], [], color=colour, lw=0.8, ls=":", label=label))
    for k, (label, intervals) in enumerate(spans.items()):
        colour = colours[(len(events) + k) % len(colours)]
        for a, b in intervals:
            ax.axvspan(a, b, color=colour, alpha=0.12, lw=0, gid="infusion")
        handles.append(plt.Rectangle((0, 0), 1, 1, color=colour, alpha=0.3, label=label))
    return handles


def trajectories(
    runs: Solution | Mapping[str, Solution],
    model: Model,
    outputs: str | Sequence[str] | None = None,
    *,
    regimen: Regimen | None = None,
    marks: Mapping[str, Any] | None = None,
    labels: Sequence[str] | None = None,
    members: Sequence[int] | None = None,
    styles: Sequence[Mapping[str, Any]] | None = None,
    logy: bool | str | Sequence[str] = False,
    ncols: int | None = None,
    axes=None,
    figsize: tuple[float, float] | None = None,
    legend: bool = True,
    **line_kw: Any,
) -> tuple[Any, np.ndarray]:
    """Named outputs over time, one panel per output.

    A scalar output gets one line per trajectory (coloured by trajectory when there are
    several). An array-valued output (say one value per organ) gets one line per entry,
    coloured by entry and labelled with the labels its model declares (indices where it
    declares none); with several trajectories, their line styles differ. Each panel is
    titled with the output's declared description (its name where it has none), its y axis
    labelled with its name and declared unit, e.g. ``metastatic_burden [cells]``, and its x
    axis ``time (day)``. Dose, scaling and marked times are vertical dotted lines (one colour
    per target, in the first panel's legend); infusions shaded spans. An output with more
    than one extra axis needs one entry of its first axis named (``"n[bone]"``).

    Args:
        runs: a :class:`~seedsoil.solvers.Solution` (one trajectory or a batch with one
            leading axis), or a mapping ``{label: Solution}`` of runs to compare (e.g.
            untreated vs treated), each of the same model's outputs.
        model: the model solved (for units and entry labels).
        outputs: names of states, inputs or observables (``"x[label]"`` or ``"x[i]"`` for one
            entry of an array-valued output); default: every observable (or every state).
        regimen: a :class:`~seedsoil.solvers.Regimen` whose event times are marked (a batch
            of regimens marks the union of their times; events that change nothing, such as
            placeholder doses of amount 0, are not marked).
        marks: more times to mark, ``{label: time or times}`` (e.g. a treatment switch that
            the model schedules itself).
        labels: names of the trajectories of a batched solution (default ``#0``, ``#1``, ...).
        members: which trajectories of a batched solution to draw (indices; default all).
        styles: one mapping of ``Axes.plot`` keywords per trajectory drawn (e.g.
            ``{"color": "C1", "ls": "--"}``), replacing the default colour and line style (in
            panels of array-valued outputs the colour stays that of the entry).
        logy: log scale on the y axis: ``True`` for every panel, or the names to draw so.
        ncols: panels per row of a new figure (default up to 4).
        axes: axes to draw into (one per output); default: a new figure.
        figsize: size of a new figure (default 4 x 3.2 inches per panel).
        legend: draw legends (entry labels, trajectory labels, marked events).
        **line_kw: passed to ``Axes.plot`` (e.g. ``lw=1``).

    Returns:
        ``(figure, axes)``, ``axes`` a 1-D array with one panel per output.
    """
    if outputs is None:
        outputs = model.observable_names or model.state_names
    outputs = (outputs,) if isinstance(outputs, str) else tuple(outputs)
    drawn = _runs(runs, labels, members)
    if styles is not None and len(styles) != len(drawn):
        raise ValueError(f"{len(styles)} styles for {len(drawn)} trajectories")
    fig, panels = _panels(axes, len(outputs), ncols, figsize)
    logs = _as_logset(logy, outputs)
    first = drawn[0][1]
    ts0 = np.asarray(first.ts)
    events, spans = _regimen_marks(regimen, marks, float(ts0[0]), float(ts0[-1]))
    colours = _colours()
    several = len(drawn) > 1
    runs_shown = False
    for k, (ax, name) in enumerate(zip(panels, outputs)):
        spec, pick = model.resolve_output(name)  # the one resolver: "x", "x[bone]", "x[0]", "part.x[bone]"
        base = spec.name
        if len(spec.shape) > 1 and pick is None:
            raise ValueError(f"{base!r} has shape {spec.shape}: name one entry of its first axis, "
                             f"e.g. {base + '[0]'!r}")
        title, entries, pick = _axis_entries(spec, pick)
        if pick is not None:
            heading = f"{spec.description} ({_axis_labels(spec)[pick]})" if spec.description else title
        else:
            heading = spec.description or base
        for r, (run_label, sol, i) in enumerate(drawn):
            y = np.asarray(sol[base])
            y = y if i is None else y[i]
            if pick is not None:
                y = y[:, pick]
            ts = np.asarray(sol.ts)
            if entries:
                for j, lab in enumerate(entries):
                    kw = dict(ls=_LINESTYLES[r % len(_LINESTYLES)] if several else "-", color=colours[j % len(colours)])
                    kw.update(line_kw)
                    if styles is not None:
                        kw.update({key: v for key, v in styles[r].items() if key not in ("color", "c")})
                    ax.plot(ts, y[:, j], label=lab if r == 0 else "_nolegend_", **kw)
            else:
                kw = dict(color=colours[r % len(colours)] if several else colours[0])
                kw.update(line_kw)
                kw.update(styles[r] if styles is not None else {})
                ax.plot(ts, y, label=run_label if run_label is not None else "_nolegend_", **kw)
        if name in logs or base in logs:
            ax.set_yscale("log")
        ax.set_title(heading, fontsize=9)
        ax.set_ylabel(_with_unit(title, spec.unit))
        ax.set_xlabel(TIME_LABEL)
        mark_handles = _draw_marks(ax, events, spans)
        if not legend:
            continue
        handles: list = []
        if entries:  # per-entry colours, and line styles per run
            handles += ax.get_legend_handles_labels()[0]
            if several:
                for r, (lab, _, _) in enumerate(drawn):
                    kw = dict(color="k", ls=_LINESTYLES[r % len(_LINESTYLES)])
                    kw.update({key: v for key, v in (styles[r] if styles else {}).items() if key not in ("color", "c")})
                    handles.append(Line2D([], [], label=str(lab), **kw))
        elif several and not runs_shown:
            handles += ax.get_legend_handles_labels()[0]
            runs_shown = True
        if k == 0:
            handles += mark_handles
        if handles:
            ax.legend(handles=handles, fontsize=7)
    return fig, panels


# --------------------------------------------------------------------------------------
# Fits
# --------------------------------------------------------------------------------------
def fitted(
    result: FitResult,
    *,
    observables: str | Sequence[str] | None = None,
    groups: str | Sequence[str] | None = None,
    n_points: int = 101,
    axes=None,
    figsize: tuple[float, float] | None = None,
    legend: bool = True,
) -> tuple[Any, np.ndarray]:
    """A fit's data, fitted curves and standardised residuals.

    One column per observable. Top row: the data of each group (condition) as points with
    their standard errors as error bars, and the model's prediction in measured units
    (:meth:`FitResult.predict`) as a line of the same colour; y axis labelled with the data's
    unit. Bottom row: the standardised residuals ``(y - h) / sd`` on the noise scale
    (:meth:`FitResult.residuals`), with lines at 0 and +/- 2.

    Args:
        result: a :class:`~seedsoil.solvers.FitResult`.
        observables: which observables (default: every fitted one, in data order).
        groups: which groups (default: every fitted one); legends use the data's group labels
            (``alt_expt_id``).
        n_points: points of each predicted curve.
        axes: a ``(2, n_observables)`` array of axes; default: a new figure.
        figsize: size of a new figure.
        legend: draw the group legend in the first column.

    Returns:
        ``(figure, axes)``, ``axes`` of shape ``(2, n_observables)``.
    """
    prob = result.problem
    rows = prob.rows
    fitted_obs = tuple(dict.fromkeys(r[1] for r in rows))
    fitted_groups = tuple(dict.fromkeys(r[0] for r in rows))
    obs = fitted_obs if observables is None else _names(observables)
    grp = fitted_groups if groups is None else _names(groups)
    for what, asked, known in (("observable", obs, fitted_obs), ("group", grp, fitted_groups)):
        unknown = [a for a in asked if a not in known]
        if unknown:
            raise ValueError(f"no fitted {what}(s) {unknown}; fitted: {list(known)}")
    n = len(obs)
    if axes is not None:
        grid = np.asarray(axes, dtype=object).reshape(2, -1)
        if grid.shape[1] < n:
            raise ValueError(f"{n} observables to draw but axes of shape {grid.shape} given")
        grid = grid[:, :n]
        fig = grid[0, 0].figure
    else:
        fig, grid = plt.subplots(2, n, figsize=figsize or (4.2 * n, 5.0), squeeze=False, sharex="col",
                                 gridspec_kw={"height_ratios": [3, 1.3]}, layout="constrained")
    pred = result.predict(n_points=n_points)
    resid = result.residuals()
    data = prob.data
    names = data.labels
    colours = _colours()
    for j, o in enumerate(obs):
        top, bottom = grid[0, j], grid[1, j]
        for g in grp:
            colour = colours[fitted_groups.index(g) % len(colours)]
            sel = [i for i, r in enumerate(rows) if r[0] == g and r[1] == o]
            if not sel:
                continue
            label = names.get(g, g)
            t = np.asarray([rows[i][2] for i in sel])
            y = np.asarray([rows[i][3] for i in sel])
            se = np.asarray([rows[i][4] for i in sel])
            top.errorbar(t, y, se, fmt="o", ms=4, capsize=2, color=colour, label=label)
            if (g, o) in pred:
                tp, hp = pred[(g, o)]
                top.plot(tp, hp, color=colour, lw=1.5)
            bottom.plot(t, resid[sel], "o", ms=4, color=colour)
        for level, style in ((0.0, "-"), (2.0, "--"), (-2.0, "--")):
            bottom.axhline(level, color="grey", lw=0.8, ls=style)
        top.set_title(o, fontsize=10)
        top.set_ylabel(_with_unit(o, _data_unit(data, o)))
        bottom.set_ylabel("standardised residual")
        bottom.set_xlabel(TIME_LABEL)
        if legend and j == 0:
            top.legend(fontsize=7)
    return fig, grid


def forecast(
    bands: Mapping[tuple[str, str], Any],
    *,
    data=None,
    labels: Mapping[str, str] | None = None,
    observables: str | Sequence[str] | None = None,
    axes=None,
    figsize: tuple[float, float] | None = None,
    legend: bool = True,
    alpha: float = 0.2,
) -> tuple[Any, np.ndarray]:
    """Forecasts with their bands: one panel per observable, one colour per group.

    Args:
        bands: the output of :func:`seedsoil.solvers.forecast` (or
            ``FitResult.predict(band=...)``): ``{(group, observable): Band}``; plain
            ``(times, values)`` pairs are drawn as lines without a band.
        data: a :class:`~seedsoil.solvers.Dataset` whose points (with standard errors) are
            drawn over the forecasts of the same group and observable; the data's group
            labels name the groups (``labels`` wins).
        observables: which observables (default: all in ``bands``, in order).
        axes: a sequence of axes, one per observable; default: a new figure.
        alpha: opacity of the bands.

    Returns:
        ``(figure, axes)``, ``axes`` of shape ``(n_observables,)``.
    """
    if not bands:
        raise ValueError("no forecasts to draw (bands is empty)")
    keys = list(bands)
    groups = list(dict.fromkeys(g for g, _ in keys))
    known = list(dict.fromkeys(o for _, o in keys))
    obs = known if observables is None else list(_names(observables))
    unknown = [o for o in obs if o not in known]
    if unknown:
        raise ValueError(f"no forecasts of observable(s) {unknown}; forecast: {known}")
    names = dict(data.labels) if data is not None else {}
    names.update(labels or {})
    fig, panels = _panels(axes, len(obs), None, figsize)
    colours = _colours()
    for j, o in enumerate(obs):
        ax = panels[j]
        for g in groups:
            if (g, o) not in bands:
                continue
            colour = colours[groups.index(g) % len(colours)]
            b = bands[(g, o)]
            t, v = b[0], b[1]
            ax.plot(t, v, color=colour, lw=1.5, label=names.get(g, g))
            if len(b) >= 4:
                ax.fill_between(t, b[2], b[3], color=colour, alpha=alpha, lw=0)
            if data is not None:
                sel = (data.group == g) & (data.observable == o)
                if sel.any():
                    ax.errorbar(data.time[sel], data.value[sel], data.stderr[sel], fmt="o", ms=4, capsize=2,
                                color=colour)
        ax.set_title(o, fontsize=10)
        ax.set_ylabel(_with_unit(o, _data_unit(data, o)))
        ax.set_xlabel(TIME_LABEL)
        if legend and j == 0:
            ax.legend(fontsize=7)
    return fig, panels


# --------------------------------------------------------------------------------------
# Profile likelihoods
# --------------------------------------------------------------------------------------
def profiles(
    results: ProfileResult | Sequence[ProfileResult],
    *,
    logx: bool | None = None,
    ncols: int | None = None,
    axes=None,
    figsize: tuple[float, float] | None = None,
) -> tuple[Any, np.ndarray]:
    """Profile likelihoods, one panel per parameter.

    Draws ``delta = -2 log L - min`` against the profiled value (points that did not converge
    as red crosses), the chi-square threshold (dashed), the estimate (solid vertical line) and
    the profile-likelihood interval (shaded between its limits; a side where the profile
    never crosses the threshold is left open and said so in the title).

    Args:
        results: one :class:`~seedsoil.solvers.ProfileResult` or several.
        logx: log scale on x; default: when the parameter was estimated on log scale and the
            grid spans more than a factor of 10.
        ncols: panels per row of a new figure.
        axes: axes to draw into (one per profile); default: a new figure.
        figsize: size of a new figure.

    Returns:
        ``(figure, axes)``, ``axes`` a 1-D array with one panel per profile.
    """
    results = (results,) if isinstance(results, ProfileResult) else tuple(results)
    fig, panels = _panels(axes, len(results), ncols, figsize, panel_size=(3.8, 3.2))
    for ax, pr in zip(panels, results):
        x = np.asarray(pr.values, dtype=float)
        d = np.asarray(pr.delta, dtype=float)
        ok = np.asarray(pr.converged, dtype=bool)
        order = np.argsort(x)
        ax.plot(x[order], d[order], "-", color="C0", lw=1.2)
        ax.plot(x[ok], d[ok], "o", color="C0", ms=3, label="profile")
        if (~ok).any():
            ax.plot(x[~ok], d[~ok], "x", color="tab:red", ms=5, label="not converged")
        pct = f"{100 * pr.level:g}%"
        ax.axhline(pr.threshold, color="tab:red", ls="--", lw=1, label=f"chi2(1) {pct}: {pr.threshold:.3g}")
        ax.axvline(pr.estimate, color="k", lw=0.8, label="estimate")
        lo, hi = (float(c) for c in pr.ci)
        finite = x[np.isfinite(x)]
        a = lo if math.isfinite(lo) else (finite.min() if finite.size else pr.estimate)
        b = hi if math.isfinite(hi) else (finite.max() if finite.size else pr.estimate)
        ax.axvspan(a, b, color="C0", alpha=0.12, lw=0, gid="ci", label=f"{pct} CI")
        for c in (lo, hi):
            if math.isfinite(c):
                ax.axvline(c, color="C0", ls=":", lw=1)
        on_log = bool(finite.size and np.all(finite > 0) and np.allclose(np.exp(pr.u), x, rtol=1e-9))
        use_log = logx if logx is not None else on_log and finite.max() > 10.0 * finite.min()
        if use_log:
            ax.set_xscale("log")
        txt = lambda c: f"{c:.3g}" if math.isfinite(c) else "open"
        ax.set_title(f"{pr.name}: {pct} CI [{txt(lo)}, {txt(hi)}]", fontsize=9)
        ax.set_xlabel(_with_unit(pr.name, pr.unit))
        ax.set_ylabel("-2 log L - min")
    panels[0].legend(fontsize=7)
    return fig, panels


# --------------------------------------------------------------------------------------
# Global sensitivity
# --------------------------------------------------------------------------------------
def _per_output(ds, output):
    """``[(label or None, dataset over parameter)]`` for one or several outputs."""
    if "output" in ds.dims:
        labels = [str(v) for v in ds["output"].values]
        if output is not None:
            wanted = (output,) if isinstance(output, str) else tuple(output)
            unknown = [w for w in wanted if w not in labels]
            if unknown:
                raise ValueError(f"no output(s) {unknown}; outputs: {labels}")
            labels = list(wanted)
        return [(lab, ds.sel(output=lab)) for lab in labels]
    if output is not None:
        raise ValueError("this dataset has one output (no 'output' dimension); do not pass output=")
    return [(None, ds)]


def _check_vars(ds, names: Sequence[str], what: str) -> None:
    missing = [n for n in names if n not in ds.data_vars]
    if missing:
        raise ValueError(f"not a {what} dataset: missing {missing}; has {list(ds.data_vars)}")


def morris_bars(
    ds,
    *,
    output: str | Sequence[str] | None = None,
    unit: str | None = None,
    sort: bool = True,
    ncols: int | None = None,
    axes=None,
    figsize: tuple[float, float] | None = None,
) -> tuple[Any, np.ndarray]:
    """Morris screening as horizontal bars, one panel per output.

    For each parameter: ``mu_star`` (mean absolute elementary effect) with whiskers at its
    bootstrap confidence interval (``mu_star +/- mu_star_conf``), and ``sigma`` (spread of
    the effects: nonlinearity or interactions) as a thinner bar beside it. Parameters are
    sorted by ``mu_star``, the most influential on top.

    Args:
        ds: the :class:`xarray.Dataset` returned by :func:`~seedsoil.solvers.morris` (with an
            ``output`` dimension when several outputs were analysed).
        output: which output label(s) to draw (default: all).
        unit: the output's unit for the x label (effects are in the output's unit); default:
            the dataset's ``output_unit`` or ``units`` attribute if it has one.
        sort: sort parameters by ``mu_star``.
        ncols: panels per row of a new figure.
        axes: axes to draw into (one per output); default: a new figure.
        figsize: size of a new figure.

    Returns:
        ``(figure, axes)``, ``axes`` a 1-D array with one panel per output.
    """
    _check_vars(ds, ("mu_star", "mu_star_conf", "sigma"), "Morris")
    parts = _per_output(ds, output)
    n_par = ds.sizes["parameter"]
    fig, panels = _panels(axes, len(parts), ncols, figsize, panel_size=(4.5, 0.9 + 0.32 * n_par))
    unit = unit if unit is not None else ds.attrs.get("output_unit", ds.attrs.get("units"))
    conf = ds.attrs.get("conf_level")
    for ax, (label, s) in zip(panels, parts):
        names = np.asarray([str(p) for p in s["parameter"].values])
        mu, ci, sigma = (np.asarray(s[k].values, dtype=float) for k in ("mu_star", "mu_star_conf", "sigma"))
        order = np.argsort(np.nan_to_num(mu, nan=-np.inf)) if sort else np.arange(len(mu))[::-1]
        y = np.arange(len(order))
        ax.barh(y + 0.18, mu[order], 0.36, xerr=ci[order], capsize=2, color="C0",
                label="mu*" + (f" ({100 * conf:g}% CI)" if conf else ""))
        ax.barh(y - 0.18, sigma[order], 0.36, color="C1", alpha=0.8, label="sigma")
        ax.set_yticks(y, names[order], fontsize=8)
        ax.set_xlabel(_with_unit("elementary effect", unit))
        title = label if label is not None else str(ds.attrs.get("output", ""))
        ax.set_title(title, fontsize=10)
        ax.set_xlim(left=0.0)
        ax.ticklabel_format(axis="x", style="sci", scilimits=(-2, 4))  # short tick labels for small effects
    panels[0].legend(fontsize=7, loc="lower right")
    return fig, panels


def sobol_bars(
    ds,
    *,
    output: str | Sequence[str] | None = None,
    sort: bool = True,
    ncols: int | None = None,
    axes=None,
    figsize: tuple[float, float] | None = None,
) -> tuple[Any, np.ndarray]:
    """Sobol' indices as grouped bars, one panel per output.

    For each parameter: the first-order index ``S1`` and the total index ``ST``, each with
    whiskers at its bootstrap confidence interval (``+/- S1_conf``, ``+/- ST_conf``), sorted
    by ``ST``. The y axis is the share of the output variance (dimensionless).

    Args:
        ds: the :class:`xarray.Dataset` returned by :func:`~seedsoil.solvers.sobol` (with an
            ``output`` dimension when several outputs were analysed).
        output: which output label(s) to draw (default: all).
        sort: sort parameters by ``ST``, largest first.
        ncols: panels per row of a new figure.
        axes: axes to draw into (one per output); default: a new figure.
        figsize: size of a new figure.

    Returns:
        ``(figure, axes)``, ``axes`` a 1-D array with one panel per output.
    """
    _check_vars(ds, ("S1", "S1_conf", "ST", "ST_conf"), "Sobol")
    parts = _per_output(ds, output)
    n_par = ds.sizes["parameter"]
    fig, panels = _panels(axes, len(parts), ncols, figsize, panel_size=(1.2 + 0.55 * n_par, 3.6))
    conf = ds.attrs.get("conf_level")
    ci = f" ({100 * conf:g}% CI)" if conf else ""
    for ax, (label, s) in zip(panels, parts):
        names = np.asarray([str(p) for p in s["parameter"].values])
        s1, c1, st, ct = (np.asarray(s[k].values, dtype=float) for k in ("S1", "S1_conf", "ST", "ST_conf"))
        order = np.argsort(-np.nan_to_num(st, nan=-np.inf)) if sort else np.arange(len(st))
        x = np.arange(len(order))
        ax.bar(x - 0.2, s1[order], 0.4, yerr=c1[order], capsize=2, color="C0", label="S1 (first order)" + ci)
        ax.bar(x + 0.2, st[order], 0.4, yerr=ct[order], capsize=2, color="C1", label="ST (total)" + ci)
        ax.axhline(0.0, color="grey", lw=0.8)
        ax.set_xticks(x, names[order], rotation=40, ha="right", fontsize=8)
        ax.set_ylabel("Sobol index [1]")
        title = label if label is not None else str(ds.attrs.get("output", ""))
        ax.set_title(title, fontsize=10)
    panels[0].legend(fontsize=7)
    return fig, panels


# --------------------------------------------------------------------------------------
# Sweeps
# --------------------------------------------------------------------------------------
def _kept_outputs(ds) -> tuple[Observable, ...]:
    """The outputs a sweep dataset holds, as declarations (unit, shape, labels of the first
    extra axis from its coordinate), for :func:`~seedsoil.models.base.resolve_output`."""
    out = []
    for k, v in ds.data_vars.items():
        if not {"member", "time"} <= set(v.dims):
            continue
        v = v.transpose("member", "time", ...)
        extra = v.dims[2:]
        labels = tuple(str(x) for x in ds[extra[0]].values) if extra and extra[0] in ds.coords else ()
        out.append(Observable(str(k), str(v.attrs.get("units", "")), shape=tuple(v.shape[2:]), labels=labels))
    return tuple(out)


def _sweep_dataset(result):
    if isinstance(result, SweepResult):
        return result.to_xarray()
    if hasattr(result, "data_vars") and "time" in getattr(result, "dims", ()):
        return result
    raise TypeError("quantile_bands takes a SweepResult or the xarray.Dataset of load_sweep; "
                    f"got {type(result).__name__}")


def quantile_bands(
    result,
    output: str | Sequence[str],
    *,
    bands: Sequence[tuple[float, float]] = ((0.05, 0.95), (0.25, 0.75)),
    label: str | None = None,
    color: str | None = None,
    logy: bool = False,
    ncols: int | None = None,
    axes=None,
    figsize: tuple[float, float] | None = None,
) -> tuple[Any, np.ndarray]:
    """Median and quantile bands over time of a sweep's members.

    For each output (or each entry of an array-valued output, labelled by its coordinate, e.g.
    per organ) one panel: the median over the members at each save time as a line and each
    quantile band as a shaded area (outer bands lighter). Failed members (NaN outputs) are
    left out, and the panel title says how many members were used. The y axis carries the
    output's ``units`` attribute, the x axis ``time (day)``. Call again with the same
    ``axes`` and another ``color``/``label`` to overlay a second sweep (e.g. another arm).

    Args:
        result: a :class:`~seedsoil.solvers.SweepResult`, or the :class:`xarray.Dataset` of
            :meth:`SweepResult.to_xarray` or :func:`~seedsoil.solvers.load_sweep`.
        output: a kept output name, ``"name[label]"`` for one entry of an array-valued
            output, or several names.
        bands: ``(low, high)`` quantile pairs in [0, 1] (default 5-95 % and 25-75 %).
        label: prefix of the legend entries (e.g. the arm's name).
        color: colour of the median and bands (default: the first colour of the cycle).
        logy: log scale on the y axis.
        ncols: panels per row of a new figure.
        axes: axes to draw into (one per panel); default: a new figure.
        figsize: size of a new figure.

    Returns:
        ``(figure, axes)``, ``axes`` a 1-D array with one panel per output (entry).
    """
    ds = _sweep_dataset(result)
    names = (output,) if isinstance(output, str) else tuple(output)
    for lo, hi in bands:
        if not (0.0 <= lo < hi <= 1.0):
            raise ValueError(f"a band is (low, high) quantiles with 0 <= low < high <= 1; got {(lo, hi)}")
    series = []  # (title, unit, (member, time) values)
    kept = _kept_outputs(ds)
    for name in names:
        try:  # the one resolver, on the sweep's kept outputs: "x", "x[lung]", "x[1]"
            spec, entry = resolve_output(kept, name, owner=str(ds.attrs.get("model", "")))
        except UnknownNameError as e:
            raise UnknownNameError(f"{name!r} is not an output of this sweep: {e}", name=e.name, kind=e.kind,
                                   suggestions=e.suggestions) from None
        base = spec.name
        da = ds[base].transpose("member", "time", ...)
        unit = da.attrs.get("units", "")
        extra = da.dims[2:]
        if entry is not None:
            da = da.isel({extra[0]: entry})
            extra = da.dims[2:]
            name = f"{base}[{_axis_labels(spec)[entry]}]"
        if len(extra) > 1:
            raise ValueError(f"{base!r} has dims {da.dims}: name one entry of {extra[0]!r}, e.g. {base + '[0]'!r}")
        if extra:
            dim = extra[0]
            labels = [str(v) for v in da[dim].values] if dim in da.coords else [str(i) for i in range(da.sizes[dim])]
            for i, lab in enumerate(labels):
                series.append((f"{base}[{lab}]", unit, np.asarray(da.isel({dim: i}).values, dtype=float)))
        else:
            series.append((name, unit, np.asarray(da.values, dtype=float)))
    fig, panels = _panels(axes, len(series), ncols, figsize)
    t = np.asarray(ds["time"].values, dtype=float)
    colour = color or _colours()[0]
    prefix = f"{label}: " if label else ""
    widths = sorted(bands, key=lambda b: b[1] - b[0], reverse=True)
    for ax, (title, unit, y) in zip(panels, series):
        used = np.isfinite(y).all(axis=1)
        y_ok = y[used]
        if y_ok.shape[0] == 0:
            raise ValueError(f"{title}: every member failed (all values NaN); nothing to draw")
        for k, (lo, hi) in enumerate(widths):
            qlo, qhi = np.quantile(y_ok, [lo, hi], axis=0)
            ax.fill_between(t, qlo, qhi, color=colour, alpha=0.15 + 0.15 * k, lw=0,
                            label=f"{prefix}{100 * lo:g}-{100 * hi:g} %")
        ax.plot(t, np.median(y_ok, axis=0), color=colour, lw=1.5, label=f"{prefix}median")
        if logy:
            ax.set_yscale("log")
        ax.set_title(f"{title} ({used.sum()} of {len(used)} members)", fontsize=9)
        ax.set_ylabel(_with_unit(title, unit))
        ax.set_xlabel(TIME_LABEL)
        ax.legend(fontsize=7)
    return fig, panels


# --------------------------------------------------------------------------------------
# Virtual trials: Kaplan-Meier curves and visual predictive checks
# --------------------------------------------------------------------------------------
_TIME_SCALES = {"day": 1.0, "week": 7.0, "month": 30.4375, "year": 365.25}


def kaplan_meier(
    trial,
    outcome: str,
    *,
    arms: Sequence[str] | None = None,
    competing: str | None = "death",
    seed: int | None = None,
    exact: bool = True,
    ci: bool = True,
    time_unit: str = "month",
    ax=None,
    figsize: tuple[float, float] = (6.0, 4.0),
) -> tuple[Any, np.ndarray]:
    """Kaplan-Meier curves of ``outcome`` per arm of a :class:`~seedsoil.solvers.Trial`.

    Each arm's curve is lifelines' :class:`~lifelines.KaplanMeierFitter` on one sampled event
    time per patient (:meth:`Trial.event_times`, censored at death with ``competing="death"``
    and at the horizon), drawn as a step with its confidence band (``ci``); with ``exact``
    the population's exact event-free fraction (:meth:`Trial.survival`, the mean of every
    patient's ``exp(-H)``, no sampling) is drawn over it as a thin dashed line, so the
    sampling noise of the step curve is visible. The legend gives each arm's patient count.

    Args:
        trial: a :class:`~seedsoil.solvers.Trial`.
        outcome: an outcome the trial's model declares (``"sre"``).
        arms: arms to draw (default: all, in order).
        competing, seed: as for :meth:`Trial.event_times`.
        exact: also draw the exact population curve (with ``competing=None``, its
            net-survival form, which is what a Kaplan-Meier curve censoring deaths estimates
            for independent censoring).
        ci: shade the Kaplan-Meier confidence band.
        time_unit: ``"day"``, ``"week"``, ``"month"`` (30.44 days) or ``"year"``.
        ax: axes to draw into (default: a new figure).
        figsize: size of a new figure.

    Returns:
        ``(figure, axes)`` with ``axes`` a 1-element array.
    """
    if time_unit not in _TIME_SCALES:
        raise ValueError(f"time_unit must be one of {list(_TIME_SCALES)}; got {time_unit!r}")
    scale = _TIME_SCALES[time_unit]
    names = list(trial.arms) if arms is None else list(arms)
    for a in names:
        trial._arm(a)  # raises naming an unknown arm
    fig, panels = _panels(ax, 1, 1, figsize, panel_size=figsize)
    axis = panels[0]
    km = trial.kaplan_meier(outcome, seed=seed, competing=competing)
    exact_curve = trial.survival(outcome, competing=None) if exact else None
    for colour, arm in zip(_colours() * 4, names):
        fitter = km[arm]
        sf = fitter.survival_function_
        t = sf.index.to_numpy(dtype=float) / scale
        axis.step(t, sf.iloc[:, 0].to_numpy(), where="post", color=colour,
                  label=f"{arm} (n = {int(trial.ok[arm].sum())})")
        if ci:
            band = fitter.confidence_interval_survival_function_
            axis.fill_between(band.index.to_numpy(dtype=float) / scale, band.iloc[:, 0], band.iloc[:, 1],
                              step="post", color=colour, alpha=0.15, lw=0)
        if exact_curve is not None:
            axis.plot(trial.times / scale, exact_curve.sel(arm=arm).values, color=colour, ls="--", lw=0.8)
    if exact_curve is not None:
        axis.plot([], [], color="grey", ls="--", lw=0.8, label="exact population mean of exp(-H)")
    axis.set_ylim(0.0, 1.02)
    axis.set_xlabel(f"time from start ({time_unit})")
    axis.set_ylabel(f"fraction free of {outcome}")
    axis.legend(fontsize=8)
    return fig, panels


def vpc(
    times: Any,
    simulated: Any,
    *,
    observed: Mapping[str, Any] | None = None,
    bands: Sequence[tuple[float, float]] = ((0.05, 0.95), (0.25, 0.75)),
    label: str = "simulated",
    ylabel: str = "",
    time_unit: str = "day",
    color: str | None = None,
    ax=None,
    figsize: tuple[float, float] = (6.0, 4.0),
) -> tuple[Any, np.ndarray]:
    """Visual predictive check: the simulated population's median and quantile bands of an
    output over time, with observed data (individual points, or published summary figures
    with their ranges) drawn over them.

    Args:
        times: ``(n_times,)`` times of the simulated values (days).
        simulated: ``(n_patients, n_times)`` values (NaN rows, failed members, are left
            out; the title says how many were used).
        observed: data to check against: ``{"time": (k,), "value": (k,)}`` and optionally
            ``"low"``/``"high"`` (a published range or interval, drawn as error bars) and
            ``"label"``; times in days.
        bands: ``(low, high)`` quantile pairs in [0, 1].
        label, ylabel, color: legend prefix, y-axis label, colour.
        time_unit: ``"day"``, ``"week"``, ``"month"`` or ``"year"`` for the x axis.
        ax, figsize: axes to draw into, size of a new figure.

    Returns:
        ``(figure, axes)`` with ``axes`` a 1-element array.
    """
    if time_unit not in _TIME_SCALES:
        raise ValueError(f"time_unit must be one of {list(_TIME_SCALES)}; got {time_unit!r}")
    scale = _TIME_SCALES[time_unit]
    t = np.asarray(times, dtype=float)
    y = np.asarray(simulated, dtype=float)
    if y.ndim != 2 or y.shape[1] != t.shape[0]:
        raise ValueError(f"simulated must have shape (n_patients, {t.shape[0]}); got {y.shape}")
    for lo, hi in bands:
        if not (0.0 <= lo < hi <= 1.0):
            raise ValueError(f"a band is (low, high) quantiles with 0 <= low < high <= 1; got {(lo, hi)}")
    used = np.isfinite(y).all(axis=1)
    if not used.any():
        raise ValueError("every simulated patient is NaN (failed); nothing to draw")
    fig, panels = _panels(ax, 1, 1, figsize, panel_size=figsize)
    axis = panels[0]
    colour = color or _colours()[0]
    for k, (lo, hi) in enumerate(sorted(bands, key=lambda b: b[1] - b[0], reverse=True)):
        qlo, qhi = np.quantile(y[used], [lo, hi], axis=0)
        axis.fill_between(t / scale, qlo, qhi, color=colour, alpha=0.15 + 0.15 * k, lw=0,
                          label=f"{label} {100 * lo:g}-{100 * hi:g} %")
    axis.plot(t / scale, np.median(y[used], axis=0), color=colour, lw=1.5, label=f"{label} median")
    if observed is not None:
        ot = np.atleast_1d(np.asarray(observed["time"], dtype=float)) / scale
        ov = np.atleast_1d(np.asarray(observed["value"], dtype=float))
        if "low" in observed and "high" in observed:
            lo_, hi_ = (np.atleast_1d(np.asarray(observed[k], dtype=float)) for k in ("low", "high"))
            axis.errorbar(ot, ov, yerr=[ov - lo_, hi_ - ov], fmt="ko", capsize=3,
                          label=str(observed.get("label", "observed")))
        else:
            axis.plot(ot, ov, "ko", ms=3, label=str(observed.get("label", "observed")))
    axis.set_title(f"{used.sum()} of {len(used)} patients", fontsize=9)
    axis.set_xlabel(f"time ({time_unit})")
    axis.set_ylabel(ylabel)
    axis.legend(fontsize=8)
    return fig, panels
