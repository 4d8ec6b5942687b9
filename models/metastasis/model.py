"""The metastatic cascade as one model: primary -> EMT -> CTCs -> organs -> dormancy ->
overt metastases (size-structured) -> re-seeding.

Submodels live one per file and contribute their states, parameters and rates; this
file only wires the fluxes between them (cells/day unless stated):

    shed      = shed_rate (M + shed_E E) T  (singles),   shed_rate H T  (cells in clusters)
                with T = P + reseed * (metastatic cells)        [primary.py, emt.py, ctc.py]
    pool      = viable_fraction * shed, minus the portal first-pass capture into the liver
    arrest    = a_S,o S and a_K,o K per organ                     [organs.py]
    dormant   = chi_S a_S,o S + chi_K c_K a_K,o K (+ portal capture) - (mu_D + kappa_o) D_o
    founding  = kappa_o D_o  new metastases per day per organ     [dormancy.py]
    n_o(x, t) = size density of overt metastases, inflow = founding   [metastases.py]
                (bone metastases grow (1 + bone_growth_boost) times faster: the input
                through which seedsoil.models.bone's vicious cycle feeds back)
    therapy   = systemic_kill (1/day) on proliferating cells only: the primary
                (- systemic_kill P) and the overt metastases (each shrinks at
                penetration_o systemic_kill); never the dormant DTCs D   [primary.py,
                metastases.py, organs.py]. Link a drug's ``kill`` to it:
                compose({"cascade": cascade(), "chemo": systemic_drug("docetaxel")},
                [Link("chemo", "kill", "cascade", "systemic_kill")]). 0 by default.

Organs are an array axis throughout (no per-organ code). Observables follow the clinic:
``ctc_per_7_5ml`` (CellSearch convention), ``metastatic_burden`` and ``dormant_cells``
(cells per organ), ``n_metastases`` and ``n_detectable`` (above ``x_detect`` cells).
Cumulative counters ``shed_total`` and ``founded_total`` give the seeding efficiency
(founded metastases per shed cell; below 1e-4, Fidler 1970).
"""

from __future__ import annotations

import warnings
from typing import Any

import equinox as eqx
import jax.numpy as jnp
import numpy as np

from ..base import Input, Model, Observable, Outcome, Params, State
from . import ctc, dormancy, emt, metastases, presets, primary
from . import organs as _organs  # ``organs`` is cascade()'s keyword

INPUTS = (
    Input("tgf_beta", "rel. TGF-beta", "extra TGF-beta on top of the tumour's baseline (drives EMT)"),
    Input("bone_growth_boost", "1",
          "relative speed-up of bone metastasis growth (the bone vicious cycle's matrix TGF-beta/IGF; "
          "set by seedsoil.models.bone through seedsoil.models.compose)"),
) + dormancy.INPUTS + (
    Input("systemic_kill", "1/day",
          "kill rate of proliferating tumour cells by a systemic drug (the primary, and overt metastases scaled by "
          "the organ's penetration; never dormant DTCs); link seedsoil.models.drugs.systemic_drug's 'kill'"),
)


class Cascade(Model):
    """The composed cascade (see module docstring). Build it with :func:`cascade`."""

    organs: tuple[str, ...] = eqx.field(static=True, default=())
    growth_law: str = eqx.field(static=True, default="gompertz")
    n_bins: int = eqx.field(static=True, default=64)
    ctc_dynamics: str = eqx.field(static=True, default="quasi_steady")

    def _fluxes(self, y, p, u):
        grid = metastases.grid(p, self.n_bins)
        burden = metastases.mass(y.n, grid)  # (O,) cells
        tumour = y.P + p.reseed * jnp.sum(burden)
        shed_single = p.shed_rate * (y.M + p.shed_E * y.E) * tumour
        shed_cluster_cells = p.shed_rate * y.H * tumour
        # primary's viable cells that take the portal route and lodge in the liver first
        portal = p.portal * p.E_portal * (y.P / jnp.maximum(tumour, 1e-300))
        captured = p.viable_fraction * portal * jnp.stack([shed_single, shed_cluster_cells])
        to_pool_S = p.viable_fraction * shed_single - captured[0]
        to_pool_K = (p.viable_fraction * shed_cluster_cells - captured[1]) / p.cluster_size
        a_S, a_K = _organs.arrest_rates(p, y.R)
        loss_S = ctc.destruction_single(p) + jnp.sum(a_S)  # 1/day
        loss_K = ctc.destruction_cluster(p) + jnp.sum(a_K)
        if self.ctc_dynamics == "quasi_steady":  # the pool turns over in ~1 h: S' = 0
            S, K = to_pool_S / loss_S, to_pool_K / loss_K
        else:
            S, K = y.S, y.K
        liver = jnp.array([o == "liver" for o in self.organs], dtype=float)
        seeded = (p.chi_S * (a_S * S + liver * captured[0])
                  + p.chi_K * (p.cluster_size * a_K * K + liver * captured[1]))
        founding = dormancy.awakening_rate(p, u) * y.D
        return dict(grid=grid, burden=burden, shed=shed_single + shed_cluster_cells, to_pool_S=to_pool_S,
                    to_pool_K=to_pool_K, loss_S=loss_S, loss_K=loss_K, S=S, K=K, seeded=seeded,
                    founding=founding)

    def rhs(self, t, y, p, u):
        f = self._fluxes(y, p, u)
        d = {"P": primary.growth(self.growth_law, y.P, p) - primary.killed(y.P, u.systemic_kill)}
        d.update(emt.derivatives(y, p, p.tgf_base + u.tgf_beta))
        if self.ctc_dynamics == "dynamic":
            d["S"] = f["to_pool_S"] - f["loss_S"] * y.S
            d["K"] = f["to_pool_K"] - f["loss_K"] * y.K
        d["R"] = _organs.niche_derivative(p, y.R, y.P)
        d["D"] = f["seeded"] - (p.mu_D + dormancy.awakening_rate(p, u)) * y.D
        bone = jnp.array([o == "bone" for o in self.organs], dtype=float)
        d["n"] = metastases.derivative(y.n, f["grid"], p, f["founding"], bone * u.bone_growth_boost,
                                       kill=p.penetration * u.systemic_kill)
        d["shed_total"] = f["shed"]
        d["founded_total"] = jnp.sum(f["founding"])
        return d

    def observables(self, t, y, p, u):
        f = self._fluxes(y, p, u)
        grid = f["grid"]
        return {
            "primary": y.P,
            "primary_doubling_time": primary.doubling_time(self.growth_law, y.P, p),
            "primary_relative_to_diagnosis": y.P / p.P_diagnosis,
            "metastatic_burden": f["burden"],
            "dormant_cells": y.D,
            "ctc_per_7_5ml": ctc.per_7_5ml(f["S"], f["K"], p),
            "ctc_single": f["S"],
            "ctc_clusters": f["K"],
            "ctc_half_life": jnp.log(2.0) / f["loss_S"] * 24.0,
            "n_metastases": metastases.number(y.n, grid),
            "n_detectable": metastases.number_above(y.n, grid, p.x_detect),
            "founding_rate": f["founding"],
            "seeding_efficiency": y.founded_total / jnp.maximum(y.shed_total, 1.0),
            "total_burden": y.P + jnp.sum(f["burden"], axis=-1) + jnp.sum(y.D, axis=-1),
        }


def _states(organ_names, n_bins, ctc_dynamics):
    O = len(organ_names)
    pool = ctc.STATES if ctc_dynamics == "dynamic" else ()
    return (
        primary.STATES + emt.STATES + pool + _organs.states(organ_names) + dormancy.states(organ_names)
        + (State("n", "1/ln(cells)", "density of metastases per unit log-size, per organ", shape=(O, n_bins),
                 dims=("organ",), labels=tuple(organ_names)),
           State("shed_total", "cells", "cumulative cells shed into blood"),
           State("founded_total", "metastases", "cumulative metastases founded"))
    )


def _observables(organ_names):
    O = len(organ_names)
    axis = dict(dims=("organ",), labels=tuple(organ_names))  # per-organ outputs carry the organ axis
    return (
        Observable("primary", "cells", "primary tumour burden"),
        Observable("primary_doubling_time", "days", "volume doubling time of the primary at its current size "
                   "(ln 2 over the specific growth rate; primary.doubling_time)"),
        Observable("primary_relative_to_diagnosis", "1", "primary size over its size at diagnosis P_diagnosis "
                   "(reaches 1 on the day of diagnosis; the outcome 'diagnosis' of a cascade built from onset)"),
        Observable("metastatic_burden", "cells", "overt metastatic burden per organ", (O,), **axis),
        Observable("dormant_cells", "cells", "dormant DTCs per organ", (O,), **axis),
        Observable("ctc_per_7_5ml", "cells/7.5 mL", "CTCs (singles + cells in clusters) per 7.5 mL of blood"),
        Observable("ctc_single", "cells", "single CTCs in the blood"),
        Observable("ctc_clusters", "clusters", "CTC clusters in the blood"),
        Observable("ctc_half_life", "h", "half-life of a single CTC in blood (all removal routes)"),
        Observable("n_metastases", "1", "number of overt metastases per organ", (O,), **axis),
        Observable("n_detectable", "1", "metastases larger than x_detect per organ", (O,), **axis),
        Observable("founding_rate", "1/day", "new metastases per day per organ", (O,), **axis),
        Observable("seeding_efficiency", "1", "metastases founded per cell shed so far"),
        Observable("total_burden", "cells",
                   "tumour cells in the body: primary + overt metastases + dormant DTCs, all organs (CTCs, "
                   "~1e2-1e4 cells, left out); ~1e12 cells (~1 kg at 1e9 cells/g; Del Monte 2009, Cell Cycle 8:505) "
                   "is a lethal burden"),
    )


#: The lethal tumour burden (cells) of the ``death`` outcome: ~1 kg of tumour at 1e9 cells/g.
LETHAL_BURDEN = 1e12
LETHAL_SOURCE = "Del Monte 2009, Cell Cycle 8:505 (1e12 cells, ~1 kg, as the lethal burden; delmonte2009_cells)"


DIAGNOSIS = Outcome("diagnosis", "threshold", "primary_relative_to_diagnosis",
                    "the primary reaches its size at diagnosis, P_diagnosis (declared by a cascade built from onset)",
                    "primary.py: diagnosis as a primary size (the patient's P_diagnosis)", level=1.0)


def _outcomes(organ_names):
    """Patient-level outcomes of the cascade (:class:`~seedsoil.models.Outcome`)."""
    poisson = ("metastases are founded as a Poisson process (the model's assumption; the founding rate is "
               "founding_rate), so n_detectable is the expected number of detectable ones")
    return (
        *(Outcome(f"{o}_metastasis", "expected_count", f"n_detectable[{o}]",
                  f"a metastasis in the {o} larger than x_detect (detectable)", poisson) for o in organ_names),
        Outcome("ctc_per_7_5ml", "poisson_count", "ctc_per_7_5ml",
                "CTCs counted in a 7.5 mL blood sample (CellSearch): Poisson around the model's mean",
                "cells sampled at random from the blood volume: the count in 7.5 mL is Poisson"),
        Outcome("death", "threshold", "total_burden", "the total tumour burden reaches a lethal burden",
                LETHAL_SOURCE, level=LETHAL_BURDEN),
    )


CTC_DYNAMICS = ("quasi_steady", "dynamic")
_UNSET: Any = object()


def _deprecated_organs(organs, organs_, where: str):
    """``organs``, or the value of the old keyword ``organs_`` with a ``DeprecationWarning``."""
    if organs_ is _UNSET:
        return organs
    if organs is not None:
        raise TypeError(f"{where}() got both organs and its deprecated spelling organs_; pass organs only")
    warnings.warn(f"{where}(organs_=...) is deprecated; use organs=...", DeprecationWarning, stacklevel=3)
    return organs_


def cascade(preset: str = "breast", organs: tuple[str, ...] | None = None, *, growth_law: str = "gompertz",
            n_bins: int = 64, P0: float = 1e9, ctc_dynamics: str = "quasi_steady", onset: float | None = None,
            organs_: Any = _UNSET) -> Cascade:
    """The metastatic cascade with a cancer-type preset.

    Args:
        preset: ``"breast"``, ``"prostate"``, ``"colorectal"`` or ``"melanoma"``.
        organs: organ axis (default bone, lung, liver, brain, skin); see ``organs.ORGANS``.
        growth_law: primary growth law, one of ``primary.GROWTH_LAWS``.
        n_bins: size bins of the metastasis density (log-size finite volumes).
        P0: primary tumour cells at t = 0 (1e9 cells is about 1 g, ~1 cm^3): t = 0 is diagnosis.
        onset: instead of ``P0``, start before diagnosis from a primary of ``onset`` cells
            (below ``P_diagnosis``): cells disseminate while the primary grows to its size at
            diagnosis, so a patient can have dormant cells and occult metastases at diagnosis.
            The model then declares the outcome ``diagnosis`` (the primary reaches
            ``P_diagnosis``), and ``virtual_trial(start="diagnosis")`` starts each patient on
            that day.
        ctc_dynamics: ``"quasi_steady"`` (default): the CTC pool, which turns over in about
            an hour (Meng et al. 2004), is held at its quasi-steady state S = inflow / loss,
            which removes the model's only fast time scale (the relative error is about the
            CTC lifetime times the relative rate of change of shedding, ~1e-4; tested
            against ``"dynamic"``, which keeps S and K as stiff states and flags the model
            ``stiff`` so that an implicit solver is used).
        organs_: deprecated spelling of ``organs`` (a ``DeprecationWarning``).
    """
    organs = _deprecated_organs(organs, organs_, "cascade")
    if ctc_dynamics not in CTC_DYNAMICS:
        raise ValueError(f"unknown ctc_dynamics {ctc_dynamics!r}; choose one of {CTC_DYNAMICS}")
    organ_names = tuple(organs) if organs is not None else _organs.DEFAULT_ORGANS
    rows = _organs.organ_rows(organ_names)
    if growth_law not in primary.GROWTH_LAWS:
        raise ValueError(f"unknown growth law {growth_law!r}; choose one of {primary.GROWTH_LAWS}")
    if not (isinstance(n_bins, int) and n_bins >= 4):
        raise ValueError(f"n_bins must be an integer >= 4; got {n_bins!r}")
    if not (np.isfinite(P0) and P0 >= 0):
        raise ValueError(f"P0 must be a finite number of cells >= 0; got {P0!r}")
    pre = presets.get(preset)
    if pre.portal > 0 and "liver" not in organ_names:
        raise ValueError(f"preset {preset!r} drains through the portal vein to the liver; include 'liver' in organs")
    specs = (primary.PARAMS + emt.PARAMS + ctc.PARAMS + _organs.params(organ_names)
             + dormancy.params(organ_names) + metastases.params(organ_names))
    params = Params.from_specs(specs)
    if onset is not None:
        P_diag = float(params["P_diagnosis"])
        if isinstance(onset, bool) or not (isinstance(onset, (int, float)) and np.isfinite(onset)
                                           and 1.0 <= onset < P_diag):
            raise ValueError(f"onset must be a number of cells in [1, P_diagnosis = {P_diag:g}); got {onset!r}")
        P0 = float(onset)
    q = np.array([r.flow for r in rows])
    E = np.array([r.arrest for r in rows])
    w = presets.organotropism(pre, organ_names, q, E)
    f = presets.frequencies(pre, organ_names)
    params = params.replace(w=w, iota=f / f.max(), portal=pre.portal)

    states = _states(organ_names, n_bins, ctc_dynamics)
    model = Cascade(
        name=f"cascade_{preset}", states=states, params=params, y0=jnp.zeros(sum(s.size for s in states)),
        inputs=INPUTS, observable_specs=_observables(organ_names),
        reference=f"seedsoil cascade ({pre.source})", stiff=ctc_dynamics == "dynamic",
        organs=organ_names, growth_law=growth_law, n_bins=n_bins, ctc_dynamics=ctc_dynamics,
        outcomes=_outcomes(organ_names) + ((DIAGNOSIS,) if onset is not None else ()),
    )
    # EMT fractions start at their steady state for the baseline TGF-beta
    k = float(emt.rates(float(params["tgf_base"]), params.view())) / float(params["k_met"])
    frac = np.array([1.0, k, k * k]) / (1.0 + k + k * k)
    return model.with_y0(P=P0, E=frac[0], H=frac[1], M=frac[2])
