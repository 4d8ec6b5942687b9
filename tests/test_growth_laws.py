"""Growth laws of the tumour in bone (``vicious_cycle(growth=...)``) against their closed forms.

With ``matrix_feedback=False`` the tumour no longer depends on the bone cells, so ``T(t)``
has the textbook solution of each law (Benzekry et al. 2014, Table 1); the full model,
solved by diffrax at tight tolerance, must reproduce it.
"""

import numpy as np
import pytest

from seedsoil.models import vicious_cycle
from seedsoil.models.bone._vicious_cycle import GROWTH_LAWS
from seedsoil.solvers import simulate

T = np.linspace(0.0, 60.0, 7)
T0 = 1e5


def closed_form(law, p, t):
    r, K = float(p["r_T"]), float(p["K_T"])
    if law == "gompertz":
        return K * np.exp(np.log(T0 / K) * np.exp(-r * t))
    if law == "logistic":
        return K / (1.0 + (K / T0 - 1.0) * np.exp(-r * t))
    if law == "exponential":
        return T0 * np.exp(r * t)
    g, Tg = float(p["gamma_T"]), float(p["T_g"])
    return (T0 ** (1 - g) + (1 - g) * r * Tg ** (1 - g) * t) ** (1 / (1 - g))


@pytest.mark.parametrize("law", GROWTH_LAWS)
def test_growth_law_matches_closed_form(law):
    m = vicious_cycle(T0, growth=law, matrix_feedback=False)
    sol = simulate(m, T, rtol=1e-11, atol=1e-12)
    np.testing.assert_allclose(np.asarray(sol["T"]), closed_form(law, m.params, T), rtol=1e-8)
    assert float(np.max(np.asarray(sol["growth_boost"]))) == 0.0


def test_matrix_feedback_speeds_growth_and_default_is_unchanged():
    fb = simulate(vicious_cycle(growth="logistic"), T)
    no = simulate(vicious_cycle(growth="logistic", matrix_feedback=False), T)
    assert np.all(np.asarray(fb["T"])[1:] > np.asarray(no["T"])[1:])  # osteolysis boosts growth (g_T s > 0)
    assert vicious_cycle().name == "vicious_cycle" and vicious_cycle(growth="gompertz").growth == "gompertz"
    assert "gamma_T" in vicious_cycle(growth="power").params.names
    assert "gamma_T" not in vicious_cycle().params.names


@pytest.mark.parametrize("kw, word", [({"growth": "gompertzz"}, "gompertzz"), ({"matrix_feedback": "no"}, "'no'")])
def test_bad_growth_options_are_named(kw, word):
    with pytest.raises(ValueError, match=word):
        vicious_cycle(**kw)
