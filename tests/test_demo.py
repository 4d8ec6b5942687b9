"""The README's main job runs and writes its figure (short horizon)."""

import importlib.util
from pathlib import Path


def test_demo_writes_a_png(tmp_path):
    spec = importlib.util.spec_from_file_location("demo", Path(__file__).parents[1] / "demo.py")
    demo = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(demo)
    out = tmp_path / "demo.png"
    assert demo.main(["--out", str(out), "--days", "60", "--cascade-days", "200", "--disease-days", "100"]) == str(out)
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and out.stat().st_size > 10_000
