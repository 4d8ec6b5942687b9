"""Sensitivities of model outputs to parameters: local derivatives and global indices.

Local (derivatives at one parameter set)
    :func:`local_sensitivity` (or a reusable :class:`LocalSensitivity`) differentiates one
    state, input or observable at every save time with respect to every parameter entry,
    or a chosen subset, through the solver itself (``jax.jacfwd`` with diffrax's
    ``ForwardMode``, or ``jax.jacrev`` with checkpointed reverse mode). These are the
    derivatives of the *discretised* solution, so their accuracy follows the solver's
    ``rtol``/``atol``; use tight tolerances (e.g. 1e-10/1e-12) when comparing with finite
    differences. ``normalize=True`` returns elasticities ``d ln y / d ln p = (p/y) dy/dp``
    (dimensionless: the relative change of the output per relative change of the
    parameter). Forward mode costs about one solve per selected parameter; reverse mode
    one backward pass per output entry, so forward suits few parameters and reverse few
    outputs. Caveat: where the right-hand side has a kink in the state (``max(x, 0)``,
    e.g. Komarova 2003's bone-mass equation), the derivative's own right-hand side jumps
    while the solution stays smooth, so the step-size controller does not shrink the step
    across the kink and the derivative is only first-order accurate there (measured:
    1e-4 relative error in Komarova's ``z`` at rtol 1e-10, 3e-7 at rtol 1e-12). Tighten
    the tolerances, or compare with finite differences, for such models.

Global (over parameter ranges)
    :func:`morris` (elementary-effects screening: Morris 1991, with the ``mu_star`` of
    Campolongo et al. 2007) and :func:`sobol` (first-order and total Sobol' indices with
    Saltelli's sampling scheme and estimators: Saltelli 2002, Saltelli et al. 2010)
    sample the parameter ranges with SALib, evaluate the model with
    :func:`~seedsoil.solvers.sweep` (vmapped, in chunks, one compilation), reduce each member
    to one number, and analyse with SALib. Ranges come from each parameter's declared
    bounds or from the user, optionally on a log scale. A member whose solve fails makes
    the analysis raise :class:`SampleError`, naming the member index and its parameter
    values: SALib cannot analyse NaN, and dropping members would bias the estimators.

Parameters are selected by name, resolved as by every entry point
(:func:`seedsoil.models.base.resolve_name`): a parameter name (``"k1"``; every entry of an array
parameter ``"w"``), one entry by label or position (``"w[bone]"``, ``"w[0]"``), a
composite's ``"bone.k_z"``. Results are labelled :mod:`xarray` objects with the flat names
of :meth:`~seedsoil.models.Params.flat_names`. Solver settings come as one
:class:`~seedsoil.solvers.SolverOptions` (``options=``) and/or keywords (a keyword wins).

References:
    SALib documentation, https://salib.readthedocs.io (Herman & Usher 2017, JOSS 2:97;
    Iwanaga et al. 2022, Socio-Environmental Systems Modelling 4:18155).
    Morris MD (1991). Factorial sampling plans for preliminary computational experiments.
    Technometrics 33:161-174.
    Campolongo F, Cariboni J, Saltelli A (2007). An effective screening design for
    sensitivity analysis of large models. Environ Model Softw 22:1509-1518.
    Saltelli A (2002). Making best use of model evaluations to compute sensitivity
    indices. Comput Phys Commun 145:280-297.
    Saltelli A, Annoni P, Azzini I, Campolongo F, Ratto M, Tarantola S (2010). Variance
    based sensitivity analysis of model output. Design and estimator for the total
    sensitivity index. Comput Phys Commun 181:259-270.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, Float

if TYPE_CHECKING:  # xarray loads where it is used, not at import
    import xarray as xr

from ..models.base import Model, Params, output_shape
from ._simulate import STATUS, SolveError, SolverOptions, _check_times, resolve_options, simulate
from ._simulate import _resolve_params as _sim_params
from ._simulate import _resolve_regimen as _sim_regimen
from ._simulate import _resolve_y0 as _sim_y0
from ._sweep import SweepResult, sweep
from .regimen import Regimen

__all__ = ["LocalSensitivity", "SampleError", "local_sensitivity", "morris", "parameter_ranges", "sobol"]

#: Solver settings that sensitivity functions pass on to ``simulate``/``sweep``.
_SOLVE_KEYS = ("solver", "rtol", "atol", "max_steps", "step_to_saves", "vmap_size", "reciprocals")
_MODES = ("forward", "reverse")

_TRACES = [0]


def trace_count() -> int:
    """How many times the local-derivative core has been traced (compiled) in this process."""
    return _TRACES[0]


class SampleError(SolveError):
    """A global analysis found members whose solve failed or whose output is not finite.

    Attributes:
        failures: ``[(member index, reason), ...]`` (reason: a :data:`STATUS` string or
            ``"non-finite output"``).
        samples: the full ``(N, n_selected)`` matrix of sampled parameter values (in the
            parameters' own units), so ``samples[i]`` is the failed member ``i``.
        names: flat names of the sampled parameters (columns of ``samples``).
    """

    def __init__(self, message: str, failures: list[tuple[int, str]], samples: np.ndarray, names: tuple[str, ...]):
        super().__init__(message)
        self.failures, self.samples, self.names = failures, samples, names


# --------------------------------------------------------------------------------------
# Shared resolution helpers
# --------------------------------------------------------------------------------------
def _select(params: Params, names: Sequence[str] | str | None, model_name: str) -> tuple[int, ...]:
    """Flat indices of the selected parameters (all when ``names`` is None), in order:
    :meth:`~seedsoil.models.Params.select`, the resolver every entry point uses."""
    if names is not None and not isinstance(names, str):
        bad = [n for n in names if not isinstance(n, str)]
        if bad:
            raise ValueError(f"parameters are selected by name; got {bad[0]!r}")
    return params.select(names, owner=model_name)


def _flat_units(params: Params) -> tuple[str, ...]:
    return tuple(s.unit for s in params.specs for _ in range(s.size))


def _resolve_params(model: Model, params) -> Params:
    """One checked parameter set (``simulate``'s resolution, without a batch)."""
    p = _sim_params(model, params)
    if p.batch_shape:
        raise ValueError(f"sensitivities are taken at one parameter set; got a batch of shape {p.batch_shape}")
    return p


def _output_spec(model: Model, name: str):
    """``(declaration, shape of a value)`` of an output name: a state, input or observable,
    or one entry of an array-valued one (``"D[bone]"``), by the one resolver
    (:meth:`~seedsoil.models.Model.resolve_output`; unknown: its ``UnknownNameError``)."""
    spec, entry = model.resolve_output(name)
    return spec, output_shape(spec, entry)


def _solve_options(model: Model, options: SolverOptions | None, overrides: Mapping[str, Any]) -> SolverOptions:
    """``options`` with the keyword settings given (a keyword wins over ``options``)."""
    bad = [k for k in overrides if k not in _SOLVE_KEYS]
    if bad:
        raise TypeError(f"unexpected solver option(s) {bad}; allowed: {list(_SOLVE_KEYS)} "
                        "(or options=SolverOptions(...))")
    return resolve_options(model, options, **overrides)  # ValueError naming a bad solver, tolerance or budget


# --------------------------------------------------------------------------------------
# Local sensitivities
# --------------------------------------------------------------------------------------
@eqx.filter_jit
def _local_core(model, times, values, y0, regimen, name: str, idx: tuple[int, ...], mode: str, opts: SolverOptions):
    """Output at ``times`` and its Jacobian w.r.t. ``values[idx]``; one trace per structure."""
    _TRACES[0] += 1  # Python side effect: runs only while tracing
    sel = jnp.asarray(idx)
    specs = model.params.specs

    def f(sub):
        sol = simulate(model, times, params=Params(values=values.at[sel].set(sub), specs=specs), y0=y0,
                       regimen=regimen, adjoint=mode, throw=False, options=opts)
        y = sol[name]
        return y, (y, sol.code)

    jac = jax.jacfwd if mode == "forward" else jax.jacrev
    J, (y, code) = jac(f, has_aux=True)(values[sel])
    return y, J, code


class LocalSensitivity:
    """A reusable derivative function of one output with respect to chosen parameters.

    Construct once per (model, times, output, parameter subset, mode, solver settings);
    calling it with new parameter values reuses one compiled function (the times, ``y0``
    and regimen amounts may change too, as long as shapes and event counts do not).

    Args:
        model: a :class:`~seedsoil.models.Model`.
        times: 1-D strictly increasing save times (days); the solve starts at ``times[0]``.
        output: name of a state, input or observable of ``model``, or one entry of an
            array-valued one (``"metastatic_burden[bone]"``, ``"D[0]"``).
        wrt: parameter names or flat entry names (``"w[bone]"``) to differentiate with
            respect to; ``None`` selects every entry of every parameter.
        mode: ``"forward"`` (``jax.jacfwd`` with diffrax ``ForwardMode``: one tangent per
            parameter) or ``"reverse"`` (``jax.jacrev`` with checkpointed reverse mode:
            one cotangent per output entry).
        y0, regimen: as for :func:`~seedsoil.solvers.simulate` (one, not a batch).
        options: the solver settings as one :class:`~seedsoil.solvers.SolverOptions`
            (its ``adjoint`` is set by ``mode``).
        **solve_options: ``solver``, ``rtol``, ``atol``, ``max_steps``, ``step_to_saves``,
            ``vmap_size``, ``reciprocals``; each one given wins over ``options``.

    Raises:
        ValueError: unknown output or parameter name (named), bad mode, bad times.
    """

    def __init__(
        self,
        model: Model,
        times: ArrayLike,
        output: str,
        *,
        wrt: Sequence[str] | str | None = None,
        mode: str = "forward",
        y0: Mapping[str, Any] | ArrayLike | None = None,
        regimen: Regimen | None = None,
        options: SolverOptions | None = None,
        **solve_options,
    ):
        if not isinstance(model, Model):
            raise TypeError(f"model must be a seedsoil Model; got {type(model).__name__}")
        if mode not in _MODES:
            raise ValueError(f"unknown mode {mode!r}; choose 'forward' (jacfwd) or 'reverse' (jacrev)")
        self.model, self.output, self.mode = model, output, mode
        self.spec, _ = _output_spec(model, output)
        self.times = _check_times(np.asarray(times, dtype=np.float64))
        self.index = _select(model.params, wrt, model.name)
        flat = model.params.flat_names()
        self.names = tuple(flat[i] for i in self.index)
        self.units = tuple(_flat_units(model.params)[i] for i in self.index)
        self.options = _solve_options(model, options, solve_options)
        self.y0 = self._resolve_y0(y0)
        self.regimen = self._resolve_regimen(regimen)

    def _resolve_y0(self, y0) -> Float[Array, " n"]:
        y = _sim_y0(self.model, y0)  # shapes and finiteness checked, naming the bad state
        if y.ndim != 1:
            raise ValueError(f"y0 must have shape ({self.model.n_states},) for a local sensitivity; got {y.shape}")
        return y

    def _resolve_regimen(self, regimen) -> Regimen:
        reg, _, _ = _sim_regimen(self.model, regimen, self.times)  # targets and dose times checked
        if reg.batch_shape:
            raise ValueError(f"a local sensitivity takes one regimen; got a batch of shape {reg.batch_shape}")
        return reg

    def jacobian(self, params: Params | Mapping[str, Any] | ArrayLike | None = None) -> tuple[
            Float[Array, "t *shape"], Float[Array, "t *shape k"]]:  # noqa: F821 (jaxtyping dims)
        """Raw arrays ``(y, dy/dp)`` at ``params``: shapes ``(T, *shape)`` and
        ``(T, *shape, k)`` for ``k`` selected parameters; ``dy/dp`` in output unit per
        parameter unit. Raises :class:`~seedsoil.solvers.SolveError` if the solve fails."""
        p = _resolve_params(self.model, params)
        y, J, code = _local_core(self.model, self.times, p.values, self.y0, self.regimen, self.output,
                                 self.index, self.mode, self.options)
        code = int(code)
        if code != 0:
            raise SolveError(
                f"{self.model.name}: the solve failed ({STATUS[code]}), so the derivatives of {self.output!r} "
                "are undefined at these parameters"
            )
        return y, J

    def __call__(self, params: Params | Mapping[str, Any] | ArrayLike | None = None, *,
                 normalize: bool = False) -> xr.DataArray:
        """Sensitivities at ``params`` (``None``: the model's defaults; a ``{name: value}``
        mapping of overrides, a :class:`~seedsoil.models.Params` or a flat vector).

        Returns:
            An ``xarray.DataArray`` with dims ``("time", "parameter", *extra)`` where
            ``extra`` are the output's own axes (named ``"<output>_dim<i>"``), values
            ``dy/dp`` (unit: output unit per parameter unit; see the ``parameter_unit``
            coordinate and the ``output_unit`` attribute) or, with ``normalize=True``,
            elasticities ``(p/y) dy/dp`` (dimensionless). Coordinates: ``time`` (days),
            ``parameter`` (flat names), ``parameter_value``, ``parameter_unit`` and
            ``output_value`` (the output itself, dims ``("time", *extra)``). Where the
            output is exactly 0 an elasticity is undefined: those entries are NaN and a
            ``RuntimeWarning`` says how many.
        """
        import xarray as xr
        p = _resolve_params(self.model, params)
        y, J = self.jacobian(p)
        y, J = np.asarray(y), np.asarray(J)
        pv = np.asarray(p.values)[list(self.index)]
        extra = y.ndim - 1
        J = np.moveaxis(J, -1, 1)  # (T, k, *shape)
        if normalize:
            yb = np.expand_dims(y, 1)
            with np.errstate(divide="ignore", invalid="ignore"):
                J = np.where(yb != 0, J * pv.reshape((1, -1) + (1,) * extra) / np.where(yb != 0, yb, 1.0), np.nan)
            zero = int(np.sum(y == 0))
            if zero:
                warnings.warn(f"{self.output!r} is 0 at {zero} saved value(s): elasticities there are NaN "
                              "(d ln y / d ln p is undefined at y = 0)", RuntimeWarning, stacklevel=2)
        extra_dims = tuple(f"{self.output}_dim{i}" for i in range(extra))
        return xr.DataArray(
            J,
            dims=("time", "parameter") + extra_dims,
            coords={
                "time": np.asarray(self.times),
                "parameter": list(self.names),
                "parameter_value": ("parameter", pv),
                "parameter_unit": ("parameter", list(self.units)),
                "output_value": (("time",) + extra_dims, y),
            },
            name=f"elasticity of {self.output}" if normalize else f"d{self.output}/dp",
            attrs={
                "model": self.model.name,
                "output": self.output,
                "output_unit": self.spec.unit,
                "mode": self.mode,
                "normalized": bool(normalize),
                "unit": "1" if normalize else f"{self.spec.unit} per parameter unit",
            },
        )


def local_sensitivity(
    model: Model,
    times: ArrayLike,
    output: str,
    params: Params | Mapping[str, Any] | ArrayLike | None = None,
    *,
    wrt: Sequence[str] | str | None = None,
    mode: str = "forward",
    normalize: bool = False,
    y0: Mapping[str, Any] | ArrayLike | None = None,
    regimen: Regimen | None = None,
    options: SolverOptions | None = None,
    **solve_options,
) -> xr.DataArray:
    """Derivatives of ``output`` at every save time with respect to parameters.

    Computes ``dy(t_i)/dp_j`` for the state, input or observable ``output`` at each of
    ``times`` and each selected parameter entry ``p_j`` (``wrt``; default all), by
    automatic differentiation through the solver, or with ``normalize=True`` the
    elasticities ``d ln y / d ln p_j = (p_j / y) dy/dp_j``. A shortcut for
    ``LocalSensitivity(model, times, output, wrt=..., mode=..., ...)(params, normalize=...)``;
    build a :class:`LocalSensitivity` yourself to evaluate many parameter sets (it is
    compiled once; so is this function for repeated calls with the same structure).

    Args:
        model, times, y0, regimen, options, **solve_options: as for :class:`LocalSensitivity`.
        output: name of a state, input or observable, or one entry of an array-valued one
            (``"D[bone]"``).
        params: where to differentiate: ``None`` (defaults), ``{name: value}`` overrides,
            a :class:`~seedsoil.models.Params` or a flat vector (one set, not a batch).
        wrt: parameter names or flat entry names such as ``"w[bone]"``.
        mode: ``"forward"`` (``jax.jacfwd``) or ``"reverse"`` (``jax.jacrev``).
        normalize: return elasticities instead of raw derivatives.

    Returns:
        ``xarray.DataArray``, dims ``("time", "parameter", *output axes)``; see
        :meth:`LocalSensitivity.__call__` for units and coordinates.
    """
    return LocalSensitivity(model, times, output, wrt=wrt, mode=mode, y0=y0, regimen=regimen, options=options,
                            **solve_options)(params, normalize=normalize)


# --------------------------------------------------------------------------------------
# Global sensitivities (SALib)
# --------------------------------------------------------------------------------------
def parameter_ranges(
    model: Model,
    vary: Sequence[str] | str | None = None,
    ranges: Mapping[str, tuple[float, float]] | None = None,
    log: bool | Sequence[str] = False,
) -> xr.Dataset:
    """The sampling box of a global analysis, one row per varied flat parameter entry.

    Args:
        model: the model whose parameters are varied.
        vary: parameter names or flat entry names to vary (default: every entry of every
            parameter); the others keep their values.
        ranges: ``{name: (lo, hi)}`` (a parameter name applies to all its entries, a flat
            name to one entry; a flat name overrides its parameter's range). Entries not
            given use the parameter's declared ``bounds``. Ranges must lie inside the
            declared bounds and have ``lo < hi``.
        log: ``True`` to sample every varied entry uniformly in ``log10`` (ranges must be
            > 0), or the names of the parameters/entries to sample on a log scale.

    Returns:
        ``xarray.Dataset`` over dim ``parameter`` (flat names) with ``lower``, ``upper``
        (parameter units), ``log_scale`` (bool) and ``unit``.

    Raises:
        ValueError: unknown names; a declared bound that is infinite while no range was
            given (named, with the fix); empty, inverted or out-of-bounds ranges;
            log scale with a lower limit <= 0.
    """
    import xarray as xr
    params = model.params
    index = _select(params, vary, model.name)
    flat = params.flat_names()
    lo_decl, hi_decl = params.lower_upper()
    lo, hi = lo_decl[list(index)].astype(float), hi_decl[list(index)].astype(float)
    given = np.zeros(len(index), dtype=bool)
    ranges = dict(ranges or {})
    # whole parameters first, then single entries (more specific wins)
    for key in sorted(ranges, key=lambda k: k not in params.layout):
        rng = ranges[key]
        cols = _select(params, key, model.name)
        try:
            a, b = (float(v) for v in rng)
        except (TypeError, ValueError):
            raise ValueError(f"range for {key!r} must be a pair (lo, hi); got {rng!r}") from None
        if not (math.isfinite(a) and math.isfinite(b) and a < b):
            raise ValueError(f"range for {key!r} must be finite with lo < hi; got ({a}, {b})")
        for c in cols:
            if c not in index:
                raise ValueError(f"a range is given for {flat[c]!r}, which is not varied (vary={vary!r})")
            if a < lo_decl[c] or b > hi_decl[c]:
                raise ValueError(f"range ({a}, {b}) for {flat[c]!r} is outside its declared bounds "
                                 f"[{lo_decl[c]}, {hi_decl[c]}]")
            j = index.index(c)
            lo[j], hi[j], given[j] = a, b, True
    infinite = [flat[c] for j, c in enumerate(index)
                if not given[j] and not (np.isfinite(lo[j]) and np.isfinite(hi[j]))]
    if infinite:
        raise ValueError(
            f"parameter(s) {infinite} have an infinite declared bound and no range: pass "
            f"ranges={{name: (lo, hi)}} for them, or leave them out of vary"
        )
    if isinstance(log, bool):
        log_mask = np.full(len(index), log)
    else:
        log_cols = set(_select(params, log, model.name))
        for c in log_cols:
            if c not in index:
                raise ValueError(f"log scale is asked for {flat[c]!r}, which is not varied")
        log_mask = np.array([c in log_cols for c in index])
    for j in np.flatnonzero(log_mask & (lo <= 0)):
        raise ValueError(f"log-scale sampling of {flat[index[j]]!r} needs a lower limit > 0; got {lo[j]} "
                         "(pass ranges={name: (lo, hi)} with lo > 0)")
    return xr.Dataset(
        {"lower": ("parameter", lo), "upper": ("parameter", hi), "log_scale": ("parameter", log_mask),
         "unit": ("parameter", [_flat_units(params)[c] for c in index])},
        coords={"parameter": [flat[c] for c in index]},
        attrs={"model": model.name, "index": list(index)},
    )


def _problem(box: xr.Dataset) -> dict:
    """SALib problem dictionary (bounds in log10 for log-scale entries)."""
    lo, hi, lg = box["lower"].values, box["upper"].values, box["log_scale"].values
    bounds = [[math.log10(a), math.log10(b)] if g else [float(a), float(b)] for a, b, g in zip(lo, hi, lg)]
    return {"num_vars": len(lo), "names": list(box["parameter"].values), "bounds": bounds}


def _to_physical(X: Float[np.ndarray, "N k"], box: xr.Dataset) -> Float[np.ndarray, "N k"]:
    lo, hi, lg = box["lower"].values, box["upper"].values, box["log_scale"].values
    X = np.where(lg, 10.0 ** X, X)
    return np.clip(X, lo, hi)  # rounding in 10**log10(hi) must not leave the declared bounds


def _reducer(model: Model, output, times, time_index: int):
    """``(keep, f)``: the outputs a sweep must keep and ``f(result) -> (N,)`` for one output."""
    if isinstance(output, str):
        spec, shape = _output_spec(model, output)
        if shape != ():
            raise ValueError(f"{output!r} has shape {shape}; name one entry (e.g. {output + '[0]'!r}) or pick one "
                             f"number with a reducer callable, e.g. output=lambda r: r[{output!r}][:, -1, 0]")
        n_t = len(np.atleast_1d(times))
        if not (isinstance(time_index, (int, np.integer)) and -n_t <= time_index < n_t):
            raise ValueError(f"time_index must be an integer in [{-n_t}, {n_t}); got {time_index!r}")
        return (output,), lambda res: res[output][:, time_index]
    if callable(output):
        return None, output
    raise TypeError(f"output must be a name or a callable(SweepResult) -> (N,) array; got {type(output).__name__}")


def _evaluate(
    model: Model, times, outputs: Mapping[str, Any], X: Float[np.ndarray, "N k"], box: xr.Dataset, base: Params,
    *, time_index: int, keep, regimen, chunk_size: int, progress: bool, options: SolverOptions, method: str,
) -> dict[str, Float[np.ndarray, " N"]]:
    """One scalar per sample member and output, from one ``sweep``; raise
    :class:`SampleError` on failures."""
    index = list(box.attrs["index"])
    values = np.repeat(np.asarray(base.values)[None, :], X.shape[0], axis=0)
    values[:, index] = X
    reducers = {label: _reducer(model, out, times, time_index) for label, out in outputs.items()}
    if all(k is not None for k, _ in reducers.values()):
        keep = tuple(dict.fromkeys(name for k, _ in reducers.values() for name in k))
    else:
        keep = tuple(keep) if keep is not None else model.state_names + model.observable_names
        for k in keep:
            _output_spec(model, k)
    res = sweep(model, times, values, regimen, keep=keep, chunk_size=chunk_size, progress=progress, options=options)
    Ys = {}
    failures = res.failures()
    failed = {i for i, _ in failures}
    for label, (_, f) in reducers.items():
        Y = np.asarray(f(res), dtype=np.float64)
        if Y.shape != (X.shape[0],):
            raise ValueError(f"the output reducer {label!r} must return one number per member, shape "
                             f"({X.shape[0]},); got {Y.shape}")
        for i in np.flatnonzero(~np.isfinite(Y)):
            if int(i) not in failed:
                failures.append((int(i), f"non-finite output {label!r}"))
                failed.add(int(i))
        Ys[label] = Y
    if failures:
        failures.sort()
        names = tuple(box["parameter"].values)
        shown = "; ".join(
            f"#{i} {why} ({', '.join(f'{n}={v:.6g}' for n, v in zip(names, X[i]))})" for i, why in failures[:10]
        ) + (" ..." if len(failures) > 10 else "")
        raise SampleError(
            f"{method} on {model.name}: {len(failures)} of {X.shape[0]} sample members failed: {shown}. "
            "SALib cannot analyse NaN outputs; narrow the ranges, raise max_steps or change the solver.",
            failures, X, names,
        )
    return Ys


def _outputs(output) -> tuple[dict[str, Any], bool]:
    """``({label: output}, several)`` from one output or a mapping of labelled outputs."""
    if isinstance(output, Mapping):
        if not output:
            raise ValueError("output mapping is empty")
        return dict(output), True
    return {"output": output}, False


def _stack(tables: dict[str, xr.Dataset], several: bool) -> xr.Dataset:
    """One table, or several stacked along a new ``output`` dim (labels of the mapping)."""
    import xarray as xr
    if not several:
        return tables["output"]
    ds = xr.concat(list(tables.values()), dim=xr.DataArray(list(tables), dims="output", name="output"),
                   coords="minimal", compat="override", combine_attrs="drop_conflicts")
    ds.attrs["output"] = ", ".join(ds["output"].values.tolist())
    return ds


def _table(box: xr.Dataset, data: dict[str, np.ndarray], attrs: dict) -> xr.Dataset:
    import xarray as xr
    ds = xr.Dataset({k: ("parameter", np.asarray(v, dtype=float)) for k, v in data.items()},
                    coords={"parameter": box["parameter"].values, "lower": box["lower"], "upper": box["upper"],
                            "log_scale": box["log_scale"], "unit": box["unit"]})
    ds.attrs.update(attrs)
    return ds


def _describe(output, time_index) -> str:
    if isinstance(output, str):
        return f"{output}[time_index={time_index}]"
    return getattr(output, "__name__", repr(output))


def _design(method: str, draw: Callable[[dict], np.ndarray], model: Model, times, output, *, vary, ranges, log,
            params, time_index, keep, regimen, chunk_size, progress, options, solve_options):
    """Shared by :func:`morris` and :func:`sobol`: the box of ranges, SALib's design
    ``Xp = draw(problem)`` (unit scale), and the outputs of one sweep over it."""
    opts = _solve_options(model, options, solve_options)
    base = _resolve_params(model, params)
    box = parameter_ranges(model, vary, ranges, log)
    problem = _problem(box)
    Xp = draw(problem)
    X = _to_physical(Xp, box)
    outputs, several = _outputs(output)
    Ys = _evaluate(model, times, outputs, X, box, base, time_index=time_index, keep=keep, regimen=regimen,
                   chunk_size=chunk_size, progress=progress, options=opts, method=method)
    return box, problem, Xp, X, outputs, several, Ys


def morris(
    model: Model,
    times: ArrayLike,
    output: str | Callable[[SweepResult], ArrayLike],
    *,
    vary: Sequence[str] | str | None = None,
    ranges: Mapping[str, tuple[float, float]] | None = None,
    log: bool | Sequence[str] = False,
    params: Params | Mapping[str, Any] | ArrayLike | None = None,
    time_index: int = -1,
    keep: Sequence[str] | None = None,
    trajectories: int = 20,
    num_levels: int = 4,
    optimal_trajectories: int | None = None,
    num_resamples: int = 1000,
    conf_level: float = 0.95,
    seed: int | None = None,
    regimen: Regimen | None = None,
    chunk_size: int = 256,
    progress: bool = False,
    options: SolverOptions | None = None,
    **solve_options,
) -> xr.Dataset:
    """Morris elementary-effects screening of one scalar model output.

    Samples ``trajectories`` one-at-a-time trajectories on a ``num_levels`` grid over the
    box of :func:`parameter_ranges` (``SALib.sample.morris.sample``; ``trajectories x
    (k + 1)`` model runs for ``k`` varied entries), evaluates them with
    :func:`~seedsoil.solvers.sweep`, and analyses them with ``SALib.analyze.morris.analyze``.
    The elementary effect of entry ``j`` is the change of the output divided by the step
    in the *unit-scaled* coordinate (the range mapped to [0, 1], in log10 for log-scale
    entries), so effects are in output units and comparable across parameters.

    Args:
        model, times, regimen: as for :func:`~seedsoil.solvers.simulate`.
        output: the scalar analysed: a state/input/observable name (scalar-shaped) or one
            entry of an array-valued one (``"metastatic_burden[bone]"``), read at
            ``times[time_index]``; or a callable ``f(result) -> (N,) array`` applied to
            the :class:`~seedsoil.solvers.SweepResult` (which keeps ``keep``, default every
            state and observable), e.g. ``lambda r: r["z"].min(axis=1)``; or a mapping
            ``{label: name or callable}`` to analyse several outputs from the same runs
            (one sweep), stacked along a new ``output`` dim labelled by the keys.
        vary, ranges, log: see :func:`parameter_ranges`.
        params: values of the parameters that are not varied (default: the model's).
        time_index: which save time, for a named output.
        trajectories, num_levels, optimal_trajectories: Morris design (SALib's ``N``,
            ``num_levels``, ``optimal_trajectories``: Campolongo 2007 selection).
        num_resamples, conf_level: bootstrap of the confidence interval of ``mu_star``.
        seed: seeds both sampling and bootstrap (reproducible results).
        chunk_size, progress, options, **solve_options: passed to :func:`~seedsoil.solvers.sweep`
            (a solver keyword given wins over the same field of ``options``).

    Returns:
        ``xarray.Dataset`` over dim ``parameter`` (flat names), with ``mu`` (mean
        elementary effect), ``mu_star`` (mean absolute effect, Campolongo 2007: the
        screening measure; rank parameters by it), ``sigma`` (standard deviation of the
        effects: nonlinearity or interactions) and ``mu_star_conf`` (half-width of the
        bootstrap ``conf_level`` interval of ``mu_star``), all in the output's unit;
        coordinates ``lower``, ``upper``, ``log_scale``, ``unit``; attributes give the
        method, output, run count and seed. ``ds.to_dataframe()`` gives a table;
        ``ds.sortby("mu_star", ascending=False)`` a ranking.

    Raises:
        SampleError: some members failed (indices, reasons and parameter values named).
        ValueError: unknown names, infinite bounds without ranges, bad ranges.

    References: Morris 1991 (Technometrics 33:161); Campolongo, Cariboni & Saltelli 2007
    (Environ Model Softw 22:1509); SALib docs, ``SALib.analyze.morris``.
    """
    from SALib.analyze import morris as analyze
    from SALib.sample import morris as sample

    if not (isinstance(trajectories, (int, np.integer)) and trajectories >= 2):
        raise ValueError(f"trajectories must be an integer >= 2; got {trajectories!r}")
    box, problem, Xp, X, outputs, several, Ys = _design(
        "morris", lambda pr: sample.sample(pr, int(trajectories), num_levels=num_levels,
                                           optimal_trajectories=optimal_trajectories, seed=seed),
        model, times, output, vary=vary, ranges=ranges, log=log, params=params, time_index=time_index, keep=keep,
        regimen=regimen, chunk_size=chunk_size, progress=progress, options=options, solve_options=solve_options)
    tables = {}
    for label, Y in Ys.items():
        Si = analyze.analyze(problem, Xp, Y, num_resamples=num_resamples, conf_level=conf_level,
                             num_levels=num_levels, seed=seed)
        tables[label] = _table(box, {k: Si[k] for k in ("mu", "mu_star", "sigma", "mu_star_conf")}, {
            "method": "morris", "model": model.name, "output": _describe(outputs[label], time_index),
            "n_evaluations": int(X.shape[0]), "trajectories": int(trajectories), "num_levels": int(num_levels),
            "conf_level": float(conf_level), "seed": "none" if seed is None else int(seed),
            "reference": "Morris 1991; Campolongo et al. 2007 (mu_star); SALib.analyze.morris",
        })
    return _stack(tables, several)


def sobol(
    model: Model,
    times: ArrayLike,
    output: str | Callable[[SweepResult], ArrayLike],
    *,
    vary: Sequence[str] | str | None = None,
    ranges: Mapping[str, tuple[float, float]] | None = None,
    log: bool | Sequence[str] = False,
    params: Params | Mapping[str, Any] | ArrayLike | None = None,
    time_index: int = -1,
    keep: Sequence[str] | None = None,
    n: int = 1024,
    second_order: bool = False,
    num_resamples: int = 100,
    conf_level: float = 0.95,
    seed: int | None = None,
    regimen: Regimen | None = None,
    chunk_size: int = 256,
    progress: bool = False,
    options: SolverOptions | None = None,
    **solve_options,
) -> xr.Dataset:
    """First-order and total Sobol' indices of one scalar model output.

    Samples the box of :func:`parameter_ranges` with Saltelli's scheme on a scrambled
    Sobol' sequence (``SALib.sample.sobol.sample``; ``n (k + 2)`` model runs for ``k``
    varied entries, ``n (2k + 2)`` with ``second_order``), evaluates with
    :func:`~seedsoil.solvers.sweep`, and estimates the indices with
    ``SALib.analyze.sobol.analyze`` (first order: Saltelli et al. 2010; total: Jansen
    1999 as in Saltelli et al. 2010, Table 2). Parameters are independent and uniform on
    their range (uniform in log10 for log-scale entries), so the indices refer to that
    input distribution.

    Args:
        model, times, output, vary, ranges, log, params, time_index, keep, regimen,
            chunk_size, progress, options, **solve_options: as for :func:`morris`.
        n: base sample size (a power of 2; the Monte-Carlo error of the indices falls
            roughly as ``1/sqrt(n)``: check ``S1_conf``/``ST_conf``).
        second_order: also estimate second-order indices ``S2`` (doubles the runs).
        num_resamples, conf_level: bootstrap of the confidence intervals.
        seed: seeds the scrambling of the sequence and the bootstrap.

    Returns:
        ``xarray.Dataset`` over dim ``parameter`` (flat names) with ``S1`` (first-order
        index: share of the output variance explained by that entry alone), ``ST``
        (total index: share involving that entry, interactions included), and their
        bootstrap half-widths ``S1_conf``, ``ST_conf`` (dimensionless fractions of the
        variance); with ``second_order``, ``S2`` and ``S2_conf`` over
        ``(parameter, parameter_2)`` (upper triangle; NaN below). Coordinates ``lower``,
        ``upper``, ``log_scale``, ``unit``; attributes give method, output, run count,
        seed. ``ds[["S1", "ST"]].to_dataframe()`` gives a table.

    Raises:
        SampleError: some members failed (indices, reasons and parameter values named).
        ValueError: unknown names, infinite bounds without ranges, bad ranges.

    References: Saltelli 2002 (Comput Phys Commun 145:280); Saltelli et al. 2010 (Comput
    Phys Commun 181:259); SALib docs, ``SALib.sample.sobol``, ``SALib.analyze.sobol``.
    """
    import xarray as xr
    from SALib.analyze import sobol as analyze
    from SALib.sample import sobol as sample

    if not (isinstance(n, (int, np.integer)) and n >= 2):
        raise ValueError(f"n must be an integer >= 2 (ideally a power of 2); got {n!r}")
    box, problem, Xp, X, outputs, several, Ys = _design(
        "sobol", lambda pr: sample.sample(pr, int(n), calc_second_order=second_order, seed=seed),
        model, times, output, vary=vary, ranges=ranges, log=log, params=params, time_index=time_index, keep=keep,
        regimen=regimen, chunk_size=chunk_size, progress=progress, options=options, solve_options=solve_options)
    tables = {}
    for label, Y in Ys.items():
        Si = analyze.analyze(problem, Y, calc_second_order=second_order, num_resamples=num_resamples,
                             conf_level=conf_level, seed=seed)
        ds = _table(box, {k: Si[k] for k in ("S1", "S1_conf", "ST", "ST_conf")}, {
            "method": "sobol", "model": model.name, "output": _describe(outputs[label], time_index),
            "n_evaluations": int(X.shape[0]), "n": int(n), "conf_level": float(conf_level),
            "seed": "none" if seed is None else int(seed),
            "reference": "Saltelli 2002; Saltelli et al. 2010; SALib.analyze.sobol",
        })
        if second_order:
            names = box["parameter"].values
            for k in ("S2", "S2_conf"):
                ds[k] = xr.DataArray(np.asarray(Si[k], dtype=float), dims=("parameter", "parameter_2"),
                                     coords={"parameter_2": names})
        tables[label] = ds
    return _stack(tables, several)
