"""Size-structured metastasis: Iwata, Kawasaki & Shigesada 2000, in Benzekry's form.

Source: Iwata K, Kawasaki K, Shigesada N (2000). "A dynamical model for the growth and
size distribution of multiple metastatic tumors." J Theor Biol 203:177-186. Formulation
as a transport equation with a primary-tumour ODE as in S. Benzekry's work on this model
(e.g. Benzekry et al. 2016, Cancer Res 76:535; Hartung et al. 2014, Cancer Res 74:6397).

Model (x: size in cells, t: days)::

    primary tumour      dx_p/dt = g(x_p),            x_p(0) = 1 cell
    metastases          d(rho)/dt + d(g(x) rho)/dx = 0,        1 < x < b
    birth at 1 cell     g(1) rho(1, t) = beta(x_p(t)) + s * int_1^b beta(x) rho(x, t) dx
    Gompertz growth     g(x) = a x ln(b/x)                                     [cells/day]
    colonisation rate   beta(x) = m x^alpha                                   [1/day]

``rho(x, t)`` is the number of metastases per cell of size (1/cell). ``s`` switches the
seeding by metastases on (1, Iwata's model) or off (0: only the primary seeds, the
setting of most of Benzekry's work). The primary tumour and every metastasis follow the
same Gompertz law from 1 cell, whose closed form is::

    X(tau) = b exp(ln(1/b) e^(-a tau)) = b^(1 - e^(-a tau))                  [cells]

Reference values for Iwata's parameters, quoted in the numerical literature on this model
and reproduced independently in ``tests/test_size_structured.py`` (quadrature of
``int_0^t beta(x_p)`` and a Volterra solve of the renewal equation): the number of
metastases is 70.53 at day 1000 and 330.56 at day 1500 when only the primary seeds, and
76.42 and 1227.7 when metastases seed too.

Numerics (the building blocks below work for any growth law that is >= 0; a leading
"organ" axis is allowed everywhere):

* Log-size variable ``y = ln x``. The density in ``y`` is ``n = x rho`` (metastases per
  unit ln(cells)) and the equation becomes ``dn/dt + d(G n)/dy = 0`` with
  ``G(y) = g(x)/x = a (ln b - y)`` [1/day], positive below ``ln b`` and zero at it, so no
  metastasis leaves the domain and upwinding is one-sided. The boundary flux ``G n`` at
  ``y = 0`` equals ``g(1) rho(1)``: the inflow is the colonisation rate, unchanged.
  The grid is uniform in ``y`` from ``ln 1 = 0`` to ``ln b`` (:func:`log_size_grid`;
  the models evaluate it as :class:`LogSizeGrid`, one unit grid stretched by ``ln b``).
* Finite volumes (:func:`transport_rhs`): the state is the bin average ``n_i``; the flux
  at each face is ``G(face) * n_face`` with the third-order upwind-biased (kappa = 1/3)
  reconstruction ``n_face = (-n_{i-1} + 5 n_i + 2 n_{i+1}) / 6`` from the upwind side; at
  ``y = 0`` the boundary value ``inflow / G(0)`` stands in for the missing upwind bin. The
  number of metastases ``sum n_i dy_i`` changes only by the inflow, exactly (the fluxes
  telescope and ``G(ln b) = 0``).
* Integrals of the density against a weight (mass, colonisation by metastases, the count
  above a detection size) use a piecewise-linear reconstruction inside each bin (central
  slopes), integrated by 3-point Gauss-Legendre (:func:`integrate_density`,
  :func:`count_above`). Piecewise-constant bins would cap them at second order.
* Measured convergence (uniform log-size grid, Iwata's parameters, against independent
  quadrature and renewal-equation references, ``tests/test_size_structured.py``;
  relative errors at day 1000 / day 1500)::

      bins   metastatic mass      count > 1e8 cells    number (metastases seed)
        50   -9.0e-3 / -3.2e-4    +5.7e-4 / -5.7e-5    -1.5e-4 / +6.7e-5
       100   -1.0e-3 / +1.6e-4    +7.3e-5 / -7.5e-6    -1.7e-5 / +2.5e-5
       200   -1.2e-4 / +1.9e-5    +9.4e-6 / -1.0e-6    -2.1e-6 / +3.2e-6
       400   -1.5e-5 / +2.5e-6    +1.2e-6 / -1.2e-7    -2.6e-7 / +4.1e-7

  Third order (errors / 8 per doubling) from about 100 bins on; the number seeded by the
  primary alone is exact on any grid (conservation). With the primary resected at day
  800 (inflow cut to zero: a discontinuity) the mass stays third order (+3.9e-4,
  +4.7e-5, +5.9e-6 at day 1500 for 100, 200, 400 bins). Rejected alternatives, measured
  on the same problem: first-order upwind with piecewise-constant bins is first order
  (+1.2e-2 in the number at day 1500 with 800 bins); the Koren-limited version of the
  same reconstruction (``limiter=True``) keeps the density >= 0 but drops to first order
  in the mass after a resection (-2.2e-3 at 200 bins) and needs about 5 times more
  right-hand-side evaluations, since a limiter is not smooth.
* Price of the linear (unlimited) scheme: small undershoots ahead of the steep leading
  edge of the distribution (``min(n)/max(n)`` about -1e-3 at 100 bins, -1e-4 at 200) and
  about -7 % of the local density next to a discontinuity (the trailing edge after a
  resection), which does not shrink with refinement; integrals are unaffected (above).
  In exchange the right-hand side is linear in ``n`` and smooth: cheap, well-behaved
  steps and gradients.
* Time stepping: the semi-discrete system is not stiff. Its fastest rate is
  ``max G/dy = a n_bins`` (0.29/day at 100 bins), slower than what accuracy resolves, so
  the model is not flagged ``stiff`` and :func:`seedsoil.solvers.simulate` uses its explicit
  Tsit5. Kvaerno5 gives the same answer (to 1e-9 at rtol 1e-8) but factorises a dense
  ``(n_bins + 3)^2`` Jacobian every step and, with its default Newton tolerances, rejects
  about half of its steps here, so it is many times slower (see the performance page).

State scaling: the primary size ``x_p`` is kept in cells (not ``ln x_p``) so that a
:func:`seedsoil.solvers.scale` event can model a resection; the solver's error control is
relative for ``x_p`` >= 1 cell, so tolerances mean the same at 1 cell and 7e10 cells.
A fully resected primary (``x_p = 0``) neither grows nor seeds. The density starts at
zero and rises from ~1e-8 per ln(cell) (the seeding rate of a one-cell primary); an
absolute tolerance of 1e-12 or below keeps that early phase resolved.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, Float

from ..base import Model, Observable, Param, Params, State, View, x_log_ratio

__all__ = [
    "log_size_grid",
    "LogSizeGrid",
    "cell_widths",
    "cell_slopes",
    "transport_rhs",
    "shrink_rhs",
    "bounded_face",
    "total_number",
    "integrate_density",
    "count_above",
    "gompertz_rate",
    "colonisation_rate",
    "gompertz_size",
    "Iwata2000",
    "iwata2000",
]


# --------------------------------------------------------------------------------------
# Discretisation building blocks (pure JAX; leading axes, e.g. organs, are kept)
# --------------------------------------------------------------------------------------
def log_size_grid(
    x_max: ArrayLike, n_bins: int, x_min: ArrayLike = 1.0
) -> Float[Array, "*organ n_bins_plus_1"]:
    """Bin edges in ``y = ln x`` (x in cells), uniform from ``ln x_min`` to ``ln x_max``.

    ``x_max`` (and ``x_min``) may carry leading axes, e.g. one carrying capacity per organ;
    the edges then have shape ``(..., n_bins + 1)``. The last edge is ``ln x_max`` exactly,
    so a growth rate that vanishes at ``x_max`` gives exactly zero outflow.
    """
    y_lo = jnp.log(jnp.asarray(x_min, dtype=jnp.float64))[..., None]
    y_hi = jnp.log(jnp.asarray(x_max, dtype=jnp.float64))[..., None]
    u = jnp.linspace(0.0, 1.0, n_bins + 1)
    return y_lo * (1.0 - u) + y_hi * u


def cell_widths(edges: Float[Array, "*organ n_plus_1"]) -> Float[Array, "*organ n"]:
    """Bin widths ``dy_i`` (in ln(cells))."""
    return jnp.diff(edges, axis=-1)


def _centres(edges: Float[Array, "*organ n_plus_1"]) -> Float[Array, "*organ n"]:
    return 0.5 * (edges[..., 1:] + edges[..., :-1])


def cell_slopes(n: Float[Array, "*organ n"], edges: Float[Array, "*organ n_plus_1"]) -> Float[Array, "*organ n"]:
    """Slope ``dn/dy`` inside each bin for the piecewise-linear reconstruction used by the
    integrals: central differences of the bin averages, one-sided in the first and last bin.
    Second-order accurate, so integrals against smooth weights are third order."""
    yc = _centres(edges)
    d = jnp.diff(n, axis=-1) / jnp.diff(yc, axis=-1)  # between neighbouring centres
    central = 0.5 * (d[..., 1:] + d[..., :-1])
    return jnp.concatenate([d[..., :1], central, d[..., -1:]], axis=-1)


def transport_rhs(
    n: Float[Array, "*organ n"],
    edges: Float[Array, "*organ n_plus_1"],
    speed: Float[Array, "*organ n_plus_1"],
    inflow: Float[Array, "*organ"],
    limiter: bool = False,
    positive: bool | Array = False,
) -> Float[Array, "*organ n"]:
    """Finite-volume ``dn/dt`` for ``dn/dt + d(G n)/dy = 0`` with inflow flux at the first edge.

    Args:
        n: bin averages of the density in ``y`` (per unit y), shape ``(..., n_bins)``.
        edges: bin edges in ``y``, shape ``(..., n_bins + 1)``.
        speed: ``G = dy/dt`` at the edges (per day), ``>= 0`` (growth only; a negative
            speed would need upwinding from the other side, not implemented).
        inflow: flux ``G n`` entering through the first edge (per day), e.g. the rate of
            new metastases, shape ``(...)``.
        limiter: ``False`` (default): the linear third-order scheme below. ``True``: the
            same reconstruction through Koren's limiter (slope
            ``minmod(2 s_left, (s_left + 2 s_right)/3, 2 s_right)``), which keeps ``n >= 0``
            next to discontinuities at the cost of accuracy there and of smoothness
            (module docstring: measured trade-off).
        positive: ``True`` (or a boolean per leading index, e.g. per organ): each face value
            passes through :func:`bounded_face`, which keeps it between 0 and twice its bin's
            value, so the scheme preserves ``n >= 0``; smooth, and equal to the linear scheme
            to ``O(c^3 / n^2)`` where the density is resolved. Used under a kill
            (:func:`shrink_rhs`), where the linear scheme's ripples can make burdens negative.

    Scheme (see the module docstring for the measured order): the flux through the right
    face of bin i is ``G(face) * n_face`` with the kappa = 1/3 upwind-biased face value
    ``n_i + dy_i/2 * (s_left/3 + 2 s_right/3)`` (``s``: slopes between neighbouring bin
    centres; on a uniform grid ``(-n_{i-1} + 5 n_i + 2 n_{i+1})/6``, third order). Upstream
    of the first bin the slope uses the boundary value ``inflow / G(edge 0)``; the last face
    uses the upwind slope only. ``sum(dn/dt * dy) = inflow - outflow`` to round-off.
    """
    dy = cell_widths(edges)
    yc = _centres(edges)
    inflow = jnp.asarray(inflow, dtype=n.dtype)
    g0 = speed[..., 0]
    n_boundary = jnp.where(g0 > 0, inflow / jnp.where(g0 > 0, g0, 1.0), n[..., 0])
    s_inner = jnp.diff(n, axis=-1) / jnp.diff(yc, axis=-1)  # slopes between bins i, i+1
    s_first = ((n[..., 0] - n_boundary) / (yc[..., 0] - edges[..., 0]))[..., None]
    s_left = jnp.concatenate([s_first, s_inner], axis=-1)
    s_right = jnp.concatenate([s_inner, s_inner[..., -1:]], axis=-1)
    slope = _koren(s_left, s_right) if limiter else (s_left + 2.0 * s_right) / 3.0
    n_face = n + 0.5 * dy * slope  # right face of each bin, upwind side
    if positive is not False:
        n_face = jnp.where(jnp.asarray(positive)[..., None], bounded_face(n, 0.5 * dy * slope), n_face)
    flux = jnp.concatenate([inflow[..., None], speed[..., 1:] * n_face], axis=-1)
    return (flux[..., :-1] - flux[..., 1:]) / dy


def shrink_rhs(
    n: Float[Array, "*organ n"],
    edges: Float[Array, "*organ n_plus_1"],
    rate: Float[Array, "*organ"],
    boundary_rate: Float[Array, "*organ"] | None = None,
) -> Float[Array, "*organ n"]:
    """Finite-volume ``dn/dt`` for shrinking at a constant rate: ``dn/dt - d(k n)/dy = 0``.

    A kill rate ``k`` (1/day) of the cells of every individual makes each one shrink as
    ``dx/dt = -k x``, i.e. ``dy/dt = -k`` in log-size: a transport to the left, added to the
    growth transport of :func:`transport_rhs` (a flux-vector splitting: each part is upwinded
    from its own side, and the sum is exactly the growth scheme's when ``k = 0``).

    Args:
        n: bin averages of the density in ``y``, shape ``(..., n_bins)``.
        edges: bin edges in ``y``, shape ``(..., n_bins + 1)``.
        rate: ``k >= 0`` (per day; ``dy/dt = -k``), shape ``(...)``.
        boundary_rate: speed at which individuals leave through the first edge (``y = 0``,
            one cell), per day, shape ``(...)``; default ``rate``. With growth ``G(0)`` there
            the caller passes ``max(k - G(0), 0)``: births at one cell enter through the
            growth scheme's inflow, and individuals at the edge leave (go below one cell and
            disappear) only at the net speed ``k - G(0)``, so that for ``k <= G(0)`` the flux
            through ``y = 0`` is the inflow, as without the kill.

    Scheme: the flux through the left face of bin j is ``-k n_face`` with the kappa = 1/3
    face value upwinded from the right, ``n_j - dy_j/2 (s_right/3 + 2 s_left/3)`` (on a
    uniform grid ``(-n_{j+1} + 5 n_j + 2 n_{j-1})/6``, the mirror image of
    :func:`transport_rhs`), passed through :func:`bounded_face` so that it stays between 0
    and ``2 n_j`` (the scheme preserves ``n >= 0``; the linear face value left ripples behind
    a shrinking distribution whose ``exp(y)``-weighted burden went negative on coarse
    grids); the last bin uses its downwind slope only; through the last edge
    nothing enters (no individual is larger than the grid); through the first edge the
    outflow is ``boundary_rate * n_0`` (first order, so never negative for ``n_0 >= 0``).
    ``sum(dn/dt * dy) = -boundary_rate * n_0`` to round-off.
    """
    dy = cell_widths(edges)
    yc = _centres(edges)
    rate = jnp.asarray(rate, dtype=n.dtype)
    boundary_rate = rate if boundary_rate is None else jnp.asarray(boundary_rate, dtype=n.dtype)
    s = jnp.diff(n, axis=-1) / jnp.diff(yc, axis=-1)  # slopes between bins j, j+1
    # left faces of bins 1 .. N-1: upwind bin j, upwind-side slope s[j] (j, j+1), downwind s[j-1]
    s_up = jnp.concatenate([s[..., 1:], s[..., -1:]], axis=-1)
    s_down = s
    n_face = bounded_face(n[..., 1:], -0.5 * dy[..., 1:] * (s_up / 3.0 + 2.0 * s_down / 3.0))
    zero = jnp.zeros(n.shape[:-1] + (1,), dtype=n.dtype)
    flux = jnp.concatenate([-(boundary_rate * n[..., 0])[..., None], -rate[..., None] * n_face, zero], axis=-1)
    return (flux[..., :-1] - flux[..., 1:]) / dy


_TINY = 1e-150  # keeps bounded_face finite where n = c = 0 (its square is still a normal float64)


def bounded_face(n: Array, c: Array) -> Array:
    """A face value ``n + c`` (bin value plus reconstruction correction) kept between 0 and
    ``2 n`` by a smooth map: ``n + c n / sqrt(n^2 + c^2)``.

    For ``n >= 0`` the result lies in ``[0, 2 n]``, so an upwind flux out of a bin is never
    negative and vanishes with the bin: the semi-discrete scheme keeps ``n >= 0``. Where the
    density is resolved (``|c| << n``) it is ``n + c - c^3 / (2 n^2) + ...``, the linear
    value to third order in the correction; at a steep edge (``|c| ~ n``) it falls back
    toward the first-order upwind value ``n``. Unlike a limiter (``min``, ``sign``) it is
    smooth for ``n > 0`` and Lipschitz everywhere (a tiny constant keeps ``n = c = 0``
    finite), which CVODE on the SBML form and the adaptive steps of diffrax both need.
    Measured on Gompertz growth plus a constant kill (the cascade's organs, a bump of five
    metastases around 1e7 cells, 100 days, both parts bounded): the linear scheme's burden
    reaches -16 % of its start on 16 bins (kill 0.5/day) and -63 % (kill 0.05/day); this one
    stays >= 0 on 16, 64 and 256 bins (to round-off, 1e-20 of the start), and on 64 bins is
    within 4 % of the 256-bin burden at 0.05/day and 18 % at 0.2/day (where the burden has
    fallen 2e7-fold).
    """
    return n + c * n / jnp.sqrt(n * n + c * c + _TINY * _TINY)


def _koren(s_left: Array, s_right: Array) -> Array:
    """Koren's limiter in slope form: the kappa = 1/3 slope where the data are monotone and
    it stays within twice either one-sided slope, zero at extrema (Koren 1993, in
    "Numerical methods for advection-diffusion problems", Vieweg, pp. 117-138)."""
    smallest = jnp.minimum(jnp.minimum(jnp.abs(2.0 * s_left), jnp.abs((s_left + 2.0 * s_right) / 3.0)),
                           jnp.abs(2.0 * s_right))
    return jnp.where(s_left * s_right > 0, jnp.sign(s_right) * smallest, 0.0)


def total_number(n: Float[Array, "*organ n"], edges: Float[Array, "*organ n_plus_1"]) -> Float[Array, "*organ"]:
    """Total number of individuals (metastases), ``sum n_i dy_i`` (exact for bin averages)."""
    return jnp.sum(n * cell_widths(edges), axis=-1)


# 3-point Gauss-Legendre on [-1, 1]: exact for polynomials of degree 5.
_GL_NODES = np.array([-np.sqrt(0.6), 0.0, np.sqrt(0.6)])
_GL_WEIGHTS = np.array([5.0, 8.0, 5.0]) / 9.0


def integrate_density(
    n: Float[Array, "*organ n"],
    edges: Float[Array, "*organ n_plus_1"],
    weight: Callable[[Float[Array, "*organ n 3"]], Float[Array, "*organ n 3"]],
) -> Float[Array, "*organ"]:
    """``int w(y) n(y) dy`` over the grid, with ``n`` linear inside each bin (bin average
    plus :func:`cell_slopes`) and 3-point Gauss-Legendre in each bin.

    ``weight`` maps ``y`` values of shape ``(..., n_bins, 3)`` to weights of the same
    shape, e.g. ``lambda y: jnp.exp(y)`` for the mass (cells) or
    ``lambda y: m * jnp.exp(alpha * y)`` for the colonisation rate of the metastases.
    """
    half = 0.5 * cell_widths(edges)[..., None]
    offset = half * _GL_NODES  # y - y_centre at the nodes
    y = _centres(edges)[..., None] + offset
    n_at = n[..., None] + cell_slopes(n, edges)[..., None] * offset
    return jnp.sum(weight(y) * n_at * half * _GL_WEIGHTS, axis=(-2, -1))


def count_above(
    n: Float[Array, "*organ n"], edges: Float[Array, "*organ n_plus_1"], y_min: Float[Array, "*organ"]
) -> Float[Array, "*organ"]:
    """``int_{y_min} n(y) dy``: the number of individuals larger than ``exp(y_min)``.

    Whole bins above ``y_min`` count fully; in the bin containing ``y_min`` the linear
    reconstruction (bin average plus :func:`cell_slopes`) is integrated from ``y_min`` to
    the bin's upper edge. ``y_min`` below (above) the grid counts everything (nothing).
    """
    lo_edge, hi_edge = edges[..., :-1], edges[..., 1:]
    yc = _centres(edges)
    lo = jnp.clip(jnp.asarray(y_min)[..., None], lo_edge, hi_edge) - yc
    hi = hi_edge - yc
    s = cell_slopes(n, edges)
    return jnp.sum(n * (hi - lo) + 0.5 * s * (hi**2 - lo**2), axis=-1)


class LogSizeGrid(NamedTuple):
    """Bins uniform in ``y = ln x`` from 0 (one cell) to ``ln x_max``, held as one fixed
    grid of ``[0, 1]`` (``unit``) and its length ``ln x_max`` (one per organ, say):
    ``edges = length[..., None] * unit``. Build with :meth:`from_max`.

    Why not the edges themselves: the finite-volume scheme and the integrals above are
    unchanged when the coordinate is rescaled, ``z = y / length`` (widths, slopes and face
    values scale together), so they are evaluated here on the unit grid, whose widths,
    centres and slopes are constants of the compiled program, and ``x_max`` enters
    through one number per leading index. The values are those of the functions above on
    :attr:`edges` to round-off (``tests/test_cascade.py``). When ``x_max`` is a parameter
    (a Gompertz plateau), its gradient then no longer flows back through every bin's
    geometry at every solver stage, which makes gradients and forward solves faster (see
    "Bin geometry" on the performance page); the gradient is the same to 5e-12.
    """

    unit: np.ndarray  # (n_bins + 1,) edges of [0, 1]: a constant
    length: Float[Array, "*organ"]  # ln x_max, ln(cells)

    @classmethod
    def from_max(cls, x_max: ArrayLike, n_bins: int) -> LogSizeGrid:
        """``n_bins`` bins from 1 cell to ``x_max`` cells (``x_max > 1``; leading axes kept)."""
        return cls(np.linspace(0.0, 1.0, n_bins + 1), jnp.log(jnp.asarray(x_max, dtype=jnp.float64)))

    @property
    def edges(self) -> Float[Array, "*organ n_plus_1"]:
        """Bin edges in ``y = ln x`` (ln(cells))."""
        return self.length[..., None] * self.unit

    def transport_rhs(self, n: Float[Array, "*organ n"], speed: Float[Array, "*organ n_plus_1"],
                      inflow: Float[Array, "*organ"], positive: bool | Array = False) -> Float[Array, "*organ n"]:
        """:func:`transport_rhs` on :attr:`edges`, given ``speed = G / length`` at the
        edges (``dz/dt``, 1/day): for Gompertz growth ``a (ln x_max - y)`` that is
        ``a (1 - unit)``. ``inflow`` is the flux ``G n`` at one cell (per day)."""
        return transport_rhs(n, self.unit, speed, inflow / self.length, positive=positive)

    def shrink_rhs(self, n: Float[Array, "*organ n"], rate: Float[Array, "*organ"],
                   boundary_rate: Float[Array, "*organ"] | None = None) -> Float[Array, "*organ n"]:
        """:func:`shrink_rhs` on :attr:`edges`, given the rates in log-size ``k`` (1/day):
        in ``z = y / length`` the speed is ``k / length``."""
        L = self.length
        b = None if boundary_rate is None else boundary_rate / L
        return shrink_rhs(n, self.unit, rate / L, b)

    def integrate(self, n: Float[Array, "*organ n"],
                  weight: Callable[[Float[Array, "*organ n 3"]], Float[Array, "*organ n 3"]]) -> Float[Array, "*organ"]:
        """:func:`integrate_density` on :attr:`edges`: ``int w(y) n dy = L int w(L z) n dz``;
        ``weight`` takes ``y`` (ln(cells)) as there."""
        L = self.length
        return L * integrate_density(n, self.unit, lambda z: weight(L[..., None, None] * z))

    def total_number(self, n: Float[Array, "*organ n"]) -> Float[Array, "*organ"]:
        """:func:`total_number` on :attr:`edges`."""
        return self.length * total_number(n, self.unit)

    def count_above(self, n: Float[Array, "*organ n"], y_min: Float[Array, "*organ"]) -> Float[Array, "*organ"]:
        """:func:`count_above` on :attr:`edges` (``y_min`` in ln(cells))."""
        return self.length * count_above(n, self.unit, jnp.asarray(y_min) / self.length)


# --------------------------------------------------------------------------------------
# Iwata et al. 2000: growth and colonisation laws
# --------------------------------------------------------------------------------------
def gompertz_rate(x: Array, a: Array, b: Array) -> Array:
    """Gompertz growth ``g(x) = a x ln(b/x)`` [cells/day] (Iwata et al. 2000; same law for primary and metastases);
    ``g(0) = 0`` so that a fully resected tumour stays at zero."""
    return a * x_log_ratio(x, b)


def colonisation_rate(x: Array, m: Array, alpha: Array) -> Array:
    """Rate at which a tumour of ``x`` cells founds new metastases, ``beta(x) = m x^alpha``
    [metastases/day] (Iwata et al. 2000); ``beta(0) = 0``."""
    pos = x > 0
    return jnp.where(pos, m * jnp.where(pos, x, 1.0) ** alpha, 0.0)


def gompertz_size(tau: ArrayLike, a: ArrayLike, b: ArrayLike, x0: ArrayLike = 1.0) -> Array:
    """Closed-form Gompertz size after ``tau`` days from ``x0`` cells [cells]:
    ``X(tau) = b exp(ln(x0/b) e^(-a tau))`` (solution of ``dx/dt = a x ln(b/x)``)."""
    return b * jnp.exp(jnp.log(x0 / b) * jnp.exp(-a * jnp.asarray(tau)))


# --------------------------------------------------------------------------------------
# The model
# --------------------------------------------------------------------------------------
SOURCE = (
    "Iwata et al. 2000, J Theor Biol 203:177 "
    "(parameters fitted to a hepatocellular carcinoma patient's liver metastases)"
)
DETECTION_SOURCE = (
    "conventional clinical imaging detection limit of 1e8-1e9 cells, i.e. ~0.1-1 cm^3 at "
    "~1e9 cells per cm^3 (Del Monte 2009, Cell Cycle 8:505)"
)
SOURCE_SWITCH = "Iwata et al. 2000 boundary condition (1); primary-only setting of Benzekry et al. 2016 (0)"
INF = float("inf")

PARAMS = (
    Param("a", 0.00286, "1/day", SOURCE, description="Gompertz growth rate of primary and metastases"),
    Param("b", 7.3e10, "cells", SOURCE, (2.0, INF),
          "Gompertz carrying capacity (largest tumour size); at least 2 cells, so that the log-size grid "
          "from 1 cell to b has a length (as K_met of the cascade)"),
    Param("m", 5.3e-8, "cells^-alpha/day", SOURCE, description="colonisation coefficient of beta(x) = m x^alpha"),
    Param("alpha", 0.663, "1", SOURCE, (0.0, 1.0),
          "fractal dimension of the tumour vasculature: beta grows as x^alpha"),
    Param("met_seeding", 0.0, "1", SOURCE_SWITCH, (0.0, 1.0),
          "1: metastases seed new metastases too (Iwata); 0: only the primary seeds"),
    Param("x_detect", 1e8, "cells", DETECTION_SOURCE, (1.0, INF),
          "smallest clinically detectable metastasis (for n_detectable)"),
)

OBSERVABLES = (
    Observable("n_metastases", "metastases", "total number of metastases, int rho dx"),
    Observable("n_detectable", "metastases", "number of metastases larger than x_detect cells"),
    Observable("metastatic_mass", "cells", "total number of cells in metastases, int x rho dx"),
    Observable("seeding_rate", "metastases/day", "birth rate of metastases: beta(x_p) + met_seeding int beta rho dx"),
)


def _states(n_bins: int) -> tuple[State, ...]:
    return (
        State("x_p", "cells", "primary tumour size"),
        State("density", "metastases/ln(cells)",
              "metastases per unit ln(size) n = x rho, averaged over bins uniform in ln x from 0 to ln b",
              shape=(n_bins,)),
        State("seeded_primary", "metastases", "cumulative number of metastases seeded by the primary"),
        State("seeded_secondary", "metastases", "cumulative number of metastases seeded by metastases"),
    )


class Iwata2000(Model):
    """Iwata et al. 2000 size-structured metastasis model (module docstring: equations,
    units, numerics). States: ``x_p`` [cells], ``density`` over log-size bins
    [metastases/ln(cells)], cumulative ``seeded_primary`` and ``seeded_secondary``
    [metastases] (their sum equals ``n_metastases``: metastases never die)."""

    @property
    def n_bins(self) -> int:
        return self.state_layout["density"][2][0]

    def grid(self, p: View) -> LogSizeGrid:
        """Log-size bins from 1 cell to ``b`` (:class:`LogSizeGrid`)."""
        return LogSizeGrid.from_max(p.b, self.n_bins)

    def edges(self, p: View) -> Float[Array, "*batch n_bins_plus_1"]:
        """Bin edges in ``y = ln x`` from ln(1 cell) to ``ln b``."""
        return self.grid(p).edges

    def bin_edges(self, params: Params | None = None) -> Float[Array, "*batch n_bins_plus_1"]:
        """Bin edges in cells, for plotting ``sol["density"]`` (default parameters if None)."""
        p = self.params if params is None else params
        return jnp.exp(self.edges(p.view()))

    def _seeding(self, y: View, p: View, grid: LogSizeGrid) -> tuple[Array, Array]:
        """Birth rates of metastases [1/day] from the primary and from the metastases
        (Iwata et al. 2000, boundary condition at 1 cell: ``beta(x_p)`` and
        ``met_seeding * int beta(x) rho(x) dx``)."""
        from_primary = colonisation_rate(y.x_p, p.m, p.alpha)
        beta_y = lambda yy: p.m[..., None, None] * jnp.exp(p.alpha[..., None, None] * yy)
        from_metastases = p.met_seeding * grid.integrate(y.density, beta_y)
        return from_primary, from_metastases

    def rhs(self, t, y, p, u):
        grid = self.grid(p)
        speed = p.a[..., None] * (1.0 - grid.unit)  # G(y) / ln b = a (ln b - y) / ln b, 1/day
        from_primary, from_metastases = self._seeding(y, p, grid)
        return {
            "x_p": gompertz_rate(y.x_p, p.a, p.b),
            "density": grid.transport_rhs(y.density, speed, from_primary + from_metastases),
            "seeded_primary": from_primary,
            "seeded_secondary": from_metastases,
        }

    def observables(self, t, y, p, u):
        grid = self.grid(p)
        from_primary, from_metastases = self._seeding(y, p, grid)
        return {
            "n_metastases": grid.total_number(y.density),
            "n_detectable": grid.count_above(y.density, jnp.log(p.x_detect)),
            "metastatic_mass": grid.integrate(y.density, jnp.exp),
            "seeding_rate": from_primary + from_metastases,
        }


def iwata2000(n_bins: int = 100, metastases_seed: bool = False) -> Iwata2000:
    """Iwata et al. 2000 with published parameters, one-cell primary and no metastases.

    The problem is not stiff, so ``simulate`` solves it with the explicit Tsit5, much faster
    than the implicit Kvaerno5 here (module docstring).

    Args:
        n_bins: log-size bins from 1 cell to ``b`` (static: each value compiles once).
            Measured relative errors over 1500 days (module docstring): at 100 bins about
            3e-5 in the number of metastases, 1e-4 in the detectable count and 1e-3 in
            the metastatic mass; at 200 bins 3e-6, 1e-5 and 1.2e-4 (third order).
        metastases_seed: default of the ``met_seeding`` parameter: ``True`` for Iwata's
            model (metastases seed too), ``False`` for the primary-only setting.
    """
    if not (isinstance(n_bins, int) and n_bins >= 3):
        raise ValueError(f"n_bins must be an integer >= 3; got {n_bins!r}")
    states = _states(n_bins)
    params = Params.from_specs(PARAMS).replace(met_seeding=1.0 if metastases_seed else 0.0)
    model = Iwata2000(
        name="iwata2000",
        states=states,
        params=params,
        y0=jnp.zeros(sum(s.size for s in states)),
        observable_specs=OBSERVABLES,
        reference=SOURCE,
    )
    return model.with_y0(x_p=1.0)
