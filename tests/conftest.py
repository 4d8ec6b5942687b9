"""Shared test settings: float64 on, and tight tolerances used across numerical tests
(one setting per model, so each model compiles once per test process)."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # silence XLA's C++ log noise

import jax  # noqa: E402

jax.config.update("jax_enable_x64", True)

#: Tolerances for comparisons against independent references.
TIGHT = dict(rtol=1e-10, atol=1e-12)
