"""Run a test script in a fresh Python process that sees several (forced) CPU devices."""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def run_on_cpu_devices(script: str, tmp_path: Path, n_devices: int = 4) -> dict:
    """Run ``script`` (it writes a JSON dump to ``sys.argv[1]``) with ``n_devices`` CPU devices
    (``--xla_force_host_platform_device_count``), no persistent cache, this checkout first on
    ``PYTHONPATH``; return the dump. The script's stderr tail is the assertion message."""
    env = dict(os.environ, XLA_FLAGS=f"--xla_force_host_platform_device_count={n_devices}", JAX_PLATFORMS="cpu",
               SEEDSOIL_CACHE_DIR="off", TF_CPP_MIN_LOG_LEVEL="3")
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT)] + [p for p in [os.environ.get("PYTHONPATH")] if p])
    dump = tmp_path / "devices.json"
    proc = subprocess.run([sys.executable, "-c", script, str(dump)], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(dump.read_text())
