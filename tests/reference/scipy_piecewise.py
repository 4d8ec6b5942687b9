"""Tight-tolerance scipy reference solves with inputs piecewise constant in time."""

from __future__ import annotations

import numpy as np
from scipy.integrate import solve_ivp


def solve_piecewise(rhs, y0, times, switches=(), kw=lambda t: {}, method="Radau", rtol=1e-11, atol=1e-13,
                    jump=None, jac=None):
    """Integrate ``rhs(t, y, **kw(t))`` saving at ``times``.

    ``kw(t)`` gives keyword arguments (inputs) that are held constant between consecutive
    ``switches``; the integrator restarts at every switch so that no step crosses one.
    ``jump(t, y) -> y`` (optional) changes the state at the start of every segment, e.g.
    adds the boluses given at ``t`` (saved values at a switch, the last save time included, are
    post-jump); ``jac(t, y)``
    is passed to implicit methods. Returns an array of shape ``(len(times), len(y0))``.
    """
    times = np.asarray(times, float)
    edges = sorted({float(times[0]), float(times[-1]), *(float(s) for s in switches if times[0] < s < times[-1])})
    out = np.empty((len(times), len(y0)))
    y = np.asarray(y0, float)
    extra = {} if jac is None else {"jac": jac}
    for a, b in zip(edges[:-1], edges[1:]):
        args = kw(a)
        if jump is not None:
            y = np.asarray(jump(a, y.copy()), float)
        last = b == edges[-1]
        sel = (times >= a) & ((times < b) | (last & (times == b)))
        t_eval = np.unique(np.concatenate([times[sel], [b]]))
        sol = solve_ivp(lambda t, yy, args=args: rhs(t, yy, **args), (a, b), y, method=method, rtol=rtol, atol=atol,
                        t_eval=t_eval,
                        **extra)
        assert sol.success, sol.message
        out[sel] = sol.y.T[np.searchsorted(t_eval, times[sel])]
        y = sol.y[:, -1]
    if jump is not None and times[-1] == edges[-1]:  # a jump at the last save time shows there too
        out[-1] = jump(edges[-1], y.copy())
    return out


def solve_model_with_boluses(model, times, state, dose_times, amount, method="LSODA", rtol=1e-9, atol=1e-12):
    """scipy reference of ``model``'s own vector field (jitted, with its Jacobian) from its
    ``y0``, with boluses of ``amount`` into ``state`` at ``dose_times`` and the integration
    restarted at each dose. For composites whose right-hand side is checked independently
    elsewhere, this checks seedsoil's event handling and solver against scipy's."""
    import jax
    import jax.numpy as jnp

    dose_times = np.asarray(dose_times, float)
    n, index = model.n_states, model.state_layout[state][0]
    p = jnp.asarray(model.params.values)

    def field(t, y):
        return model.vector_field(t, y, p, jnp.concatenate([jnp.zeros(n), model.input_vector(t, p)]))

    def dose(t, y):
        y[index] += amount * np.sum(dose_times == t)
        return y

    f, jac = jax.jit(field), jax.jit(jax.jacfwd(field, argnums=1))
    return solve_piecewise(lambda t, y: np.asarray(f(t, y)), np.asarray(model.y0), times, switches=dose_times,
                           method=method, rtol=rtol, atol=atol, jump=dose, jac=lambda t, y: np.asarray(jac(t, y)))
