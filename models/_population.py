"""Virtual populations: declared inter-patient variability.

A :class:`Population` declares which parameters of a model vary between patients and how:
:class:`LogNormal` (rates, concentrations), :class:`Normal` and :class:`LogitNormal`
(fractions in (0, 1)), optionally correlated through a Gaussian copula. Each parameter is
normal on a transformed scale (log, identity, logit) and truncated there to the bounds the
model declares for it; :meth:`Population.sample` draws ``{name: (n,) values}`` by inverse-CDF
sampling of the truncated normal, from pseudo-random or scrambled Sobol' points, ready for
:func:`~seedsoil.solvers.sweep` as its ``samples``.

A population is a declaration, kept with the models whose parameters it varies (a preset's
population says what varies between its patients, how much, and from which source);
sampling it draws numbers and solves nothing. Selecting virtual patients that match
population-level targets (Allen et al. 2016), and turning outputs into probabilities and
event times, are in :mod:`seedsoil.solvers` (``select_virtual_population``, ``prob_none``,
``event_free``, ``sample_event_times``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from jaxtyping import Float
from scipy import special

from ._checks import _array, _count, _first, _positive, _real
from .base import Model, resolve_name

__all__ = ["LogNormal", "Normal", "LogitNormal", "Population"]


# --------------------------------------------------------------------------------------
# Variability declarations
# --------------------------------------------------------------------------------------
class _Variability:
    """A normal distribution on a transformed scale: ``T(x) ~ Normal(T(center), sd^2)``."""

    #: the transformed scale, for tables
    scale: str = ""

    def _center(self) -> float | None:  # median (or mean) on the natural scale, None: the model's default
        raise NotImplementedError

    def _sd(self) -> float:
        raise NotImplementedError

    def _forward(self, x: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def _inverse(self, y: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def _in_support(self, x: float) -> bool:
        raise NotImplementedError


@dataclass(frozen=True)
class LogNormal(_Variability):
    """Log-normal variability: ``log(x) ~ Normal(log(median), sd_log^2)``.

    For rates, concentrations and other positive parameters. Give exactly one of ``cv`` (the
    coefficient of variation, sd/mean, of ``x``) or ``sd_log`` (the sd of ``log x``); they
    are related by ``sd_log = sqrt(log(1 + cv^2))``.

    Args:
        cv: coefficient of variation of the parameter (> 0).
        sd_log: sd of its natural logarithm (> 0).
        median: median of the parameter (> 0); default: the model's default value of it.
    """

    cv: float | None = None
    sd_log: float | None = None
    median: float | None = None
    scale = "log"

    def __post_init__(self):
        if (self.cv is None) == (self.sd_log is None):
            raise ValueError(f"LogNormal takes exactly one of cv= or sd_log=; got cv={self.cv!r}, "
                             f"sd_log={self.sd_log!r}")
        if self.cv is not None:
            _positive(self.cv, "LogNormal cv")
        else:
            _positive(self.sd_log, "LogNormal sd_log")
        if self.median is not None:
            _positive(self.median, "LogNormal median")

    def _center(self):
        return self.median

    def _sd(self):
        return float(self.sd_log) if self.sd_log is not None else math.sqrt(math.log1p(float(self.cv) ** 2))

    def _forward(self, x):
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(np.asarray(x) > 0, np.log(np.maximum(x, 0)), -np.inf)

    def _inverse(self, y):
        return np.exp(y)

    def _in_support(self, x):
        return x > 0


@dataclass(frozen=True)
class Normal(_Variability):
    """Normal variability: ``x ~ Normal(mean, sd^2)`` (truncated to the parameter's bounds).

    Args:
        sd: standard deviation (> 0), in the parameter's unit.
        mean: mean before truncation; default: the model's default value of the parameter.
    """

    sd: float
    mean: float | None = None
    scale = "linear"

    def __post_init__(self):
        _positive(self.sd, "Normal sd")
        if self.mean is not None:
            _real(self.mean, "Normal mean")

    def _center(self):
        return self.mean

    def _sd(self):
        return float(self.sd)

    def _forward(self, x):
        return np.asarray(x, dtype=np.float64)

    def _inverse(self, y):
        return y

    def _in_support(self, x):
        return math.isfinite(x)


@dataclass(frozen=True)
class LogitNormal(_Variability):
    """Logit-normal variability for a fraction: ``logit(x) ~ Normal(logit(median), sd_logit^2)``.

    Values stay in (0, 1) (and inside the parameter's bounds).

    Args:
        sd_logit: sd of ``logit(x) = log(x / (1 - x))`` (> 0).
        median: median of the parameter, in (0, 1); default: the model's default value of it.
    """

    sd_logit: float
    median: float | None = None
    scale = "logit"

    def __post_init__(self):
        _positive(self.sd_logit, "LogitNormal sd_logit")
        if self.median is not None and not 0 < _real(self.median, "LogitNormal median") < 1:
            raise ValueError(f"LogitNormal median must lie in (0, 1); got {self.median!r}")

    def _center(self):
        return self.median

    def _sd(self):
        return float(self.sd_logit)

    def _forward(self, x):
        x = np.asarray(x, dtype=np.float64)
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(x <= 0, -np.inf, np.where(x >= 1, np.inf, special.logit(np.clip(x, 0, 1))))

    def _inverse(self, y):
        return special.expit(y)

    def _in_support(self, x):
        return 0 < x < 1


Variability = LogNormal | Normal | LogitNormal


# --------------------------------------------------------------------------------------
# Correlation of a population (Gaussian copula)
# --------------------------------------------------------------------------------------
def _correlation(correlation: Any, names: tuple[str, ...]) -> np.ndarray | None:
    """The validated ``(d, d)`` correlation matrix of the latent normals (``None``: independent)."""
    if correlation is None:
        return None
    d = len(names)
    pos = {name: i for i, name in enumerate(names)}
    if isinstance(correlation, Mapping):
        c = np.eye(d)
        given: dict[tuple[int, int], tuple[Any, float]] = {}
        for key, rho in correlation.items():
            if not (isinstance(key, tuple) and len(key) == 2):
                raise ValueError(f"correlation keys are pairs of parameter names, ('a', 'b'); got {key!r}")
            for name in key:
                if name not in pos:
                    raise ValueError(f"correlation names {name!r}, which the population does not vary; varied: "
                                     f"{list(names)}")
            if key[0] == key[1]:
                raise ValueError(f"correlation {key!r}: a parameter's correlation with itself is 1; give pairs of "
                                 "two different names")
            rho = _real(rho, f"correlation[{key!r}]")
            if not -1 < rho < 1:
                raise ValueError(f"correlation[{key!r}] must lie in (-1, 1); got {rho!r}")
            i, j = sorted((pos[key[0]], pos[key[1]]))
            if (i, j) in given and given[(i, j)][1] != rho:
                raise ValueError(f"correlation gives {key!r} = {rho!r} and {given[(i, j)][0]!r} = "
                                 f"{given[(i, j)][1]!r}; give each pair once")
            given[(i, j)] = (key, rho)
            c[i, j] = c[j, i] = rho
    else:
        c = _array(correlation, "correlation")
        if c.shape != (d, d):
            raise ValueError(f"correlation must be a ({d}, {d}) matrix, rows and columns in the order {list(names)}; "
                             f"got shape {c.shape}")
        if not np.all(np.isfinite(c)):
            i, j = _first(~np.isfinite(c))
            raise ValueError(f"correlation[{i}, {j}] ({names[i]!r}, {names[j]!r}) is not finite: {float(c[i, j])!r}")
        asym = np.abs(c - c.T) > 1e-12
        if asym.any():
            i, j = _first(asym)
            raise ValueError(f"correlation is not symmetric: entry ({names[i]!r}, {names[j]!r}) = "
                             f"{float(c[i, j])!r} but ({names[j]!r}, {names[i]!r}) = {float(c[j, i])!r}")
        diag = np.abs(np.diag(c) - 1) > 1e-12
        if diag.any():
            i = int(np.flatnonzero(diag)[0])
            raise ValueError(f"correlation must have a unit diagonal; entry ({names[i]!r}, {names[i]!r}) is "
                             f"{float(c[i, i])!r}")
        off = np.abs(c) > 1
        if off.any():
            i, j = _first(off)
            raise ValueError(f"correlation ({names[i]!r}, {names[j]!r}) = {float(c[i, j])!r} is outside [-1, 1]")
    smallest = float(np.linalg.eigvalsh(c).min())
    if smallest <= 1e-10:
        raise ValueError(f"correlation matrix (order {list(names)}) is not positive definite: smallest eigenvalue "
                         f"{smallest:.3g}; no set of correlated normals has these pairwise correlations")
    return c


# --------------------------------------------------------------------------------------
# Population
# --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Planned:
    """One varied parameter, resolved against a model: latent normal, truncated to ``[a, b]``."""

    name: str
    dist: Variability
    loc: float  # T(center)
    sd: float
    a: float  # standardised latent bounds
    b: float
    lo: float  # declared bounds, natural scale
    hi: float


@dataclass(frozen=True, eq=False)
class Population:
    """Declared inter-patient variability on named parameters of a model.

    Each varied parameter is normal on its distribution's scale (log, linear, logit),
    truncated to the bounds the model declares for it; the latent normals may be correlated
    (a Gaussian copula). Nothing is tied to one model until :meth:`sample`: names are resolved
    then, as everywhere in seedsoil (``"r_P"``, an entry ``"kappa[bone]"``, a composite's
    ``"bone.k_S"``; each must be a single value, so an array parameter is varied entry by
    entry).

    Args:
        variability: ``{parameter name: LogNormal(...) | Normal(...) | LogitNormal(...)}``.
        correlation: correlations of the latent normals (of ``log x`` for a log-normal, of
            ``logit x`` for a logit-normal): a ``(d, d)`` matrix, rows in the order of
            ``variability``, or ``{(name, name): rho}`` (pairs not given are 0). It must be
            symmetric with a unit diagonal and positive definite. Default: independent.
            Truncation to bounds changes the correlation of the values slightly.
        name: a short name of the population (for tables).
        source: where the variability comes from (paper, table, data set).

    Raises:
        ValueError: an empty or malformed ``variability``; a correlation that is not symmetric,
            has a diagonal other than 1, names a parameter not varied, or is not positive
            definite (each named).
    """

    variability: Mapping[str, Variability]
    correlation: Float[np.ndarray, "d d"] | Mapping[tuple[str, str], float] | None = None
    name: str = ""
    source: str = ""
    _corr: np.ndarray | None = field(default=None, init=False, repr=False)

    def __post_init__(self):
        if not isinstance(self.variability, Mapping) or not self.variability:
            raise ValueError(f"variability must be a non-empty mapping {{parameter name: LogNormal(...) | Normal(...) "
                             f"| LogitNormal(...)}}; got {self.variability!r}")
        for key, dist in self.variability.items():
            if not isinstance(key, str):
                raise ValueError(f"variability is keyed by parameter name; got the key {key!r}")
            if not isinstance(dist, _Variability):
                raise ValueError(f"variability[{key!r}] must be LogNormal(...), Normal(...) or LogitNormal(...); "
                                 f"got {dist!r}")
        object.__setattr__(self, "variability", dict(self.variability))
        object.__setattr__(self, "_corr", _correlation(self.correlation, self.names))

    @property
    def names(self) -> tuple[str, ...]:
        """The varied parameters, in order (the rows of the correlation matrix)."""
        return tuple(self.variability)

    @property
    def correlation_matrix(self) -> Float[np.ndarray, "d d"]:
        """The ``(d, d)`` correlation matrix of the latent normals (identity when independent)."""
        return np.eye(len(self.names)) if self._corr is None else self._corr.copy()

    def _plan(self, model: Model) -> list[_Planned]:
        """Resolve every name against ``model``: latent centre, sd and standardised bounds."""
        if not isinstance(model, Model):
            raise TypeError(f"Population.sample needs a seedsoil Model; got {type(model).__name__}")
        params = model.params
        values = np.asarray(params.values, dtype=np.float64)
        if values.ndim != 1:
            raise ValueError(f"model {model.name!r} holds a batch of parameter sets {values.shape[:-1]}; sample "
                             "around one parameter set")
        lo_all, hi_all = params.lower_upper()
        flat = params.flat_names()
        seen: dict[int, str] = {}
        plan = []
        for name, dist in self.variability.items():
            idx, shape = resolve_name(params.specs, name, kind="parameter", owner=model.name)
            if shape != ():
                raise ValueError(f"population varies {name!r}, an array parameter of shape {shape}: vary its entries "
                                 f"one by one (e.g. {flat[idx[0]]!r})")
            i = idx[0]
            if i in seen:
                raise ValueError(f"population varies both {seen[i]!r} and {name!r}, the same parameter {flat[i]!r}")
            seen[i] = name
            lo, hi = float(lo_all[i]), float(hi_all[i])
            given = dist._center()
            center = float(values[i]) if given is None else float(given)
            what = "median" if not isinstance(dist, Normal) else "mean"
            origin = "the model's default" if given is None else f"the declared {what}"
            if not dist._in_support(center):
                raise ValueError(f"{type(dist).__name__} for {name!r} needs a {what} in its support "
                                 f"({dist.scale} scale); {origin} is {center!r}: give {what}=")
            if not lo <= center <= hi:
                raise ValueError(f"the {what} of {name!r}, {center!r} ({origin}), is outside its bounds "
                                 f"[{lo!r}, {hi!r}]")
            loc, sd = float(dist._forward(center)), dist._sd()
            a = (float(dist._forward(lo)) - loc) / sd
            b = (float(dist._forward(hi)) - loc) / sd
            if not a < b:
                raise ValueError(f"the bounds [{lo!r}, {hi!r}] of {name!r} leave it no room to vary")
            plan.append(_Planned(name, dist, loc, sd, a, b, lo, hi))
        return plan

    def sample(self, model: Model, n: int, seed: int | np.random.Generator | None = 0,
               method: str = "random") -> dict[str, Float[np.ndarray, " n"]]:
        """Draw ``n`` virtual patients: ``{parameter name: (n,) values}``.

        The result is the ``samples`` of :func:`~seedsoil.solvers.sweep` (the parameters not
        varied keep the model's values). Each value is the inverse CDF of its truncated
        latent normal at a uniform number: ``z = Phi^-1(u)`` with ``u`` uniform on
        ``(Phi(a), Phi(b))``, ``[a, b]`` the parameter's declared bounds standardised on the
        latent scale, so the values always lie in the bounds, and quasi-random points keep
        their structure. Correlated latent normals are made from independent ones by the
        Cholesky factor of the correlation matrix before truncation.

        Args:
            model: the model whose parameters are varied (names resolved, defaults and bounds
                read from it).
            n: the number of patients.
            seed: an integer seed (or a :class:`numpy.random.Generator`); the same seed gives
                the same sample. ``None``: fresh entropy.
            method: ``"random"`` (pseudo-random normals, :func:`numpy.random.default_rng`) or
                ``"sobol"`` (scrambled Sobol' points, :class:`scipy.stats.qmc.Sobol` with
                Owen scrambling; ``n`` a power of 2 keeps their balance, scipy warns
                otherwise).

        Returns:
            ``{name: (n,) float64 values}`` in the order of :attr:`names`.

        Raises:
            UnknownNameError: a name the model does not declare (with close matches).
            ValueError: a bad ``n`` or ``method``; an array parameter named whole; a median or
                mean outside the parameter's bounds or its distribution's support.
        """
        n = _count(n, "n")
        if method not in ("random", "sobol"):
            raise ValueError(f"method must be 'random' or 'sobol'; got {method!r}")
        plan = self._plan(model)
        from scipy import stats  # here, not at import: import seedsoil loads no scipy.stats

        d = len(plan)
        if method == "random":
            z = np.random.default_rng(seed).standard_normal((n, d))
        else:
            from scipy.stats import qmc

            try:
                engine = qmc.Sobol(d, scramble=True, rng=seed)
            except TypeError:  # scipy < 1.15 calls it seed
                engine = qmc.Sobol(d, scramble=True, seed=seed)
            u = np.clip(engine.random(n), 2.0**-60, 1 - 2.0**-53)
            z = special.ndtri(u)
        if self._corr is not None:
            z = z @ np.linalg.cholesky(self._corr).T
        out = {}
        for j, p in enumerate(plan):
            zj = z[:, j]
            if math.isfinite(p.a) or math.isfinite(p.b):  # truncated: invert the truncated normal's CDF
                upper = zj > 0  # the upper tail through the survival function keeps its digits
                zt = np.empty_like(zj)
                zt[~upper] = stats.truncnorm.ppf(special.ndtr(zj[~upper]), p.a, p.b)
                zt[upper] = stats.truncnorm.isf(special.ndtr(-zj[upper]), p.a, p.b)
                zj = zt
            x = p.dist._inverse(p.loc + p.sd * zj)
            out[p.name] = np.clip(x, p.lo, p.hi)  # rounding of exp(log(hi)) stays inside the bounds
        return out

    def rows(self) -> list[dict[str, str]]:
        """One row per varied parameter, as text: ``name``, ``distribution``, ``center``
        (median or mean; ``default`` when it is the model's), ``spread`` (cv, sd_log, sd or
        sd_logit as declared)."""
        out = []
        for name, dist in self.variability.items():
            center = dist._center()
            if isinstance(dist, LogNormal):
                spread = f"cv {dist.cv:.6g}" if dist.cv is not None else f"sd_log {dist.sd_log:.6g}"
            elif isinstance(dist, Normal):
                spread = f"sd {dist.sd:.6g}"
            else:
                spread = f"sd_logit {dist.sd_logit:.6g}"
            out.append(dict(name=name, distribution=type(dist).__name__,
                            center="default" if center is None else f"{center:.6g}", spread=spread))
        return out
