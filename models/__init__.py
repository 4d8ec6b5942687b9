"""seedsoil models: what is simulated (states, parameters, right-hand sides, observables).

Importing this package switches JAX to float64 (biology spans many orders of magnitude).
"""

import jax

jax.config.update("jax_enable_x64", True)

from .base import Input, Model, Observable, Param, Params, State, View  # noqa: E402
from .bone import vicious_cycle  # noqa: E402
from .cascade import cascade, iwata2000  # noqa: E402
from .compose import Link, compose  # noqa: E402
from .drugs import denosumab, opg_fc, zoledronic_acid  # noqa: E402
from .reference import ayati2010, komarova2003, lemaire2004  # noqa: E402

__all__ = [
    "Input", "Link", "Model", "Observable", "Param", "Params", "State", "View",
    "ayati2010", "cascade", "compose", "denosumab", "iwata2000", "komarova2003", "lemaire2004", "opg_fc", "vicious_cycle",
    "zoledronic_acid",
]
