"""Shared test settings: float64 on, and tight tolerances used across numerical tests
(one setting per model, so each model compiles once per test process)."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # silence XLA's C++ log noise

import jax  # noqa: E402

jax.config.update("jax_enable_x64", True)

#: Tolerances for comparisons against independent references.
TIGHT = dict(rtol=1e-10, atol=1e-12)


# --- Memory maps of compiled programs -------------------------------------------------
# Every program XLA compiles for the CPU keeps its machine code in a few memory maps per
# kernel (about 18 for a tiny jitted function, thousands for a solve), and a test worker that
# compiles for half an hour can pass the kernel's limit on maps per process
# (vm.max_map_count, 65530 by default). XLA does not check for that: the next compile or
# cache write segfaults and the worker is lost (seen in CI in test_systemic.py and
# test_zoledronic_acid.py, never in a single test file). So between tests, once a worker
# holds more than half the limit, JAX's compiled programs are released; later calls
# compile again or read JAX's persistent cache.
import gc  # noqa: E402

import pytest  # noqa: E402


def _map_limit() -> int:
    try:
        with open("/proc/sys/vm/max_map_count") as f:
            return int(f.read())
    except (OSError, ValueError):
        return 0  # not Linux: nothing to watch


_MAP_LIMIT = _map_limit()


def _maps_in_use() -> int:
    with open("/proc/self/maps") as f:
        return sum(1 for _ in f)


@pytest.fixture(autouse=True)
def _release_compiled_programs():
    yield
    if _MAP_LIMIT and _maps_in_use() > _MAP_LIMIT // 2:
        jax.clear_caches()
        gc.collect()
