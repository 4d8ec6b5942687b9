"""Compose models: run several models side by side and wire observables to inputs.

``compose({"pk": denosumab(), "bone": vicious_cycle()},
links=[Link("pk", "RANKL_occupancy", "bone", "rankl_inhibition")])`` is one model whose
states, parameters, inputs and observables are those of its parts, prefixed with the part
name (``"bone.C"``, ``"pk.CL"``), and in which the ``bone`` part's input
``rankl_inhibition`` additionally receives ``pk``'s observable ``RANKL_occupancy`` at every
instant. It simulates, batches and differentiates like any other model; a regimen doses
``"pk.depot"``.

Rules: a link's source observable is evaluated with the inputs set from outside (regimens
and the parts' own schedules), not with linked values, so links cannot form algebraic
loops. A linked value adds to whatever a regimen sets on that input. ``index`` picks one
entry of an array observable (e.g. one organ).
"""

from __future__ import annotations

import dataclasses
import difflib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.scipy.linalg

from .base import Model, Outcome, Params, UnknownNameError, View

__all__ = ["Link", "Composite", "compose"]


@dataclass(frozen=True)
class Link:
    """``scale * source.observable[index]`` is added to ``target.input`` at every instant."""

    source: str
    observable: str
    target: str
    input: str
    index: int | None = None
    scale: float = 1.0


def _prefixed(specs, key):
    return tuple(dataclasses.replace(s, name=f"{key}.{s.name}") for s in specs)


def _offsets(sizes):
    out, start = [], 0
    for n in sizes:
        out.append((start, start + n))
        start += n
    return tuple(out)


class Composite(Model):
    """Models run side by side with links (see module docstring). Build with :func:`compose`."""

    parts: tuple[Model, ...] = ()
    keys: tuple[str, ...] = eqx.field(static=True, default=())
    links: tuple[Link, ...] = eqx.field(static=True, default=())

    def rhs(self, t, y, p, u):  # the composite works on flat vectors: see vector_field
        raise NotImplementedError("Composite evaluates its parts through vector_field")

    # parts by name ------------------------------------------------------------------------
    def part(self, name: str) -> Model:
        """The part called ``name`` (``model.part("bone")``), carrying the composite's
        current values of its parameters and initial state: after
        ``m = model.with_params(**{"bone.k_z": 0.1})``, ``m.part("bone").params["k_z"]`` is 0.1.
        :class:`~seedsoil.models.base.UnknownNameError` names an unknown part."""
        if name not in self.keys:
            close = tuple(difflib.get_close_matches(str(name), self.keys, n=3, cutoff=0.6))
            hint = f" (did you mean {' or '.join(map(repr, close))}?)" if close else ""
            raise UnknownNameError(f"unknown part {name!r}: model {self.name!r} has no part {name!r}{hint}; "
                                   f"known parts: {list(self.keys)}", name=str(name), kind="part", suggestions=close)
        i = self.keys.index(name)
        ys, ps, _ = self._slices()
        m = self.parts[i]
        params = Params(values=self.params.values[..., slice(*ps[i])], specs=m.params.specs)
        return eqx.tree_at(lambda x: (x.params, x.y0), m, (params, self.y0[slice(*ys[i])]))

    @property
    def named_parts(self) -> dict[str, Model]:
        """``{part name: part}``, each as :meth:`part` gives it: carrying the composite's
        current values of its parameters and initial state."""
        return {key: self.part(key) for key in self.keys}

    # slices of the flat state, parameter and input vectors, one per part
    def _slices(self):
        return (_offsets([m.n_states for m in self.parts]), _offsets([m.params.values.shape[-1] for m in self.parts]),
                _offsets([m.n_inputs for m in self.parts]))

    def _part_inputs(self, t, y, p, u):
        """Each part's input vector: what was set from outside plus its linked values."""
        ys, ps, us = self._slices()
        external = [u[a:b] for a, b in us]
        parts_u = list(external)
        for link in self.links:
            i, j = self.keys.index(link.source), self.keys.index(link.target)
            src = self.parts[i]
            obs = src.observe(t, y[slice(*ys[i])], p[slice(*ps[i])], external[i])[link.observable]
            value = link.scale * (obs if link.index is None else obs[link.index])
            start, stop, _ = self.parts[j].input_layout[link.input]
            parts_u[j] = parts_u[j].at[start:stop].add(value)
        return parts_u

    def vector_field(self, t, y, p, forcing):
        n = self.n_states
        ys, ps, _ = self._slices()
        parts_u = self._part_inputs(t, y, p, forcing[n:])
        out = []
        for m, (a, b), (c, d), u in zip(self.parts, ys, ps, parts_u):
            out.append(m.vector_field(t, y[a:b], p[c:d], jnp.concatenate([forcing[a:b], u])))
        return jnp.concatenate(out)

    def linear_matrix(self, p):
        """Block-diagonal: each part's own :meth:`~seedsoil.models.base.Model.linear_matrix`
        (a part's linear block does not see the inputs, so links cannot couple two blocks)."""
        _, ps, _ = self._slices()
        blocks = [m.linear_matrix(p[c:d]) for m, (c, d) in zip(self.parts, ps) if m.linear_states]
        if not blocks:
            raise ValueError(f"model {self.name!r} declares no linear_states")
        return jax.scipy.linalg.block_diag(*blocks)

    def input_vector(self, t, p):
        _, ps, _ = self._slices()
        parts = [m.input_vector(t, p[c:d]) for m, (c, d) in zip(self.parts, ps)]
        return jnp.concatenate(parts) if parts else jnp.zeros((0,))

    def breakpoints(self, p: View):
        _, ps, _ = self._slices()
        flat = p._data  # the composite's flat parameter vector
        parts = [jnp.atleast_1d(m.breakpoints(View(flat[c:d], m.params.layout))) for m, (c, d) in zip(self.parts, ps)]
        return jnp.concatenate(parts)

    def observe(self, t, y, p, u):
        ys, ps, _ = self._slices()
        parts_u = self._part_inputs(t, y, p, u)
        out = {}
        for key, m, (a, b), (c, d), uu in zip(self.keys, self.parts, ys, ps, parts_u):
            out.update({f"{key}.{k}": v for k, v in m.observe(t, y[a:b], p[c:d], uu).items()})
        return out


def compose(parts: Mapping[str, Model], links: Sequence[Link] = (), stiff: bool | None = None,
            outcomes: Sequence[Outcome] | None = None) -> Composite:
    """One model from named parts and links (module docstring). ``ValueError`` names an
    unknown part, observable or input. ``stiff`` defaults to "any part is stiff"; a large
    non-stiff part can make an explicit solver the better choice overall (measure it).
    ``outcomes`` (:class:`~seedsoil.models.Outcome`, outputs named as in the composite,
    ``"sre.sre_cumulative_hazard"``) default to every part's own, read from that part; two
    parts declaring an outcome of one name raise ``ValueError`` (then pass ``outcomes``)."""
    keys = tuple(parts)
    models = tuple(parts.values())
    if not keys or any("." in k for k in keys):
        raise ValueError(f"part names must be non-empty and contain no '.': {keys}")
    for link in links:
        for role, key in (("source", link.source), ("target", link.target)):
            if key not in parts:
                raise ValueError(f"link {role} {key!r} is not a part; parts: {list(keys)}")
        if link.observable not in parts[link.source].observable_names:
            raise ValueError(f"{link.source!r} has no observable {link.observable!r}; "
                             f"observables: {list(parts[link.source].observable_names)}")
        if link.input not in parts[link.target].input_names:
            raise ValueError(f"{link.target!r} has no input {link.input!r}; "
                             f"inputs: {list(parts[link.target].input_names)}")
    if outcomes is None:
        outcomes = tuple(o.prefixed(k) for k, m in parts.items() for o in m.outcomes)
        names = [o.name for o in outcomes]
        dup = sorted({x for x in names if names.count(x) > 1})
        if dup:
            raise ValueError(f"parts {list(keys)} declare outcomes {dup} more than once; pass outcomes= to compose")
    specs = sum((_prefixed(m.params.specs, k) for k, m in parts.items()), ())
    values = jnp.concatenate([m.params.values for m in models])
    return Composite(
        name="+".join(keys),
        states=sum((_prefixed(m.states, k) for k, m in parts.items()), ()),
        params=Params(values=values, specs=specs).check(),
        y0=jnp.concatenate([m.y0 for m in models]),
        inputs=sum((_prefixed(m.inputs, k) for k, m in parts.items()), ()),
        observable_specs=sum((_prefixed(m.observable_specs, k) for k, m in parts.items()), ()),
        reference="; ".join(f"{k}: {m.reference}" for k, m in parts.items()),
        stiff=any(m.stiff for m in models) if stiff is None else stiff,
        parts=models, keys=keys, links=tuple(links), outcomes=tuple(outcomes),
        linear_states=tuple(f"{k}.{x}" for k, m in parts.items() for x in m.linear_states),
    )
