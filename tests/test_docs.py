"""The documentation: the mkdocs site builds with ``--strict`` (a broken reference, an
unparsable page or a missing API object fails), its parameter tables are generated from the
models' ``Param`` declarations, and the README stays a user's page.

Independent references: the expected parameter row is typed here from Ayati et al. 2010
(BIOMD0000000402), not read from the code; commit hashes are whatever ``git`` resolves.
"""

from __future__ import annotations

import html
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
SETUP_COMMANDS = (
    "python3 -m venv .venv && .venv/bin/pip install -e . && .venv/bin/python demo.py",
    "python3 -m venv .venv && .venv/bin/pip install -e '.[dev]' && .venv/bin/python -m pytest -n auto",
)


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("site")
    env = dict(os.environ, NO_MKDOCS_2_WARNING="1")
    run = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(out)],
                         cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, f"mkdocs build --strict failed:\n{run.stdout}\n{run.stderr}"
    return out


def _tables(page: Path) -> dict[str, dict[str, list[str]]]:
    """The generated parameter tables of a page: {constructor call: {parameter: its cells as text}}."""
    text = page.read_text(encoding="utf-8")
    tables = {}
    for call, body in re.findall(r"Parameters of <code>(.*?)</code>.*?<table>(.*?)</table>", text, flags=re.S):
        rows = {}
        for row in re.findall(r"<tr>(.*?)</tr>", body, flags=re.S):
            cells = [html.unescape(re.sub(r"<[^>]+>", "", c)).strip()
                     for c in re.findall(r"<td[^>]*>(.*?)</td>", row, flags=re.S)]
            if len(cells) == 6:  # name, value, unit, bounds, source, meaning
                rows[cells[0]] = cells
        tables[html.unescape(call)] = rows
    return tables


def test_site_builds_with_generated_parameter_tables(site):
    rows = _tables(site / "models" / "reference" / "index.html")["ayati2010(drug=True)"]
    # Ayati et al. 2010, bone formed per osteoblast: k2 = 0.0006395 %/cell/day (BIOMD0000000402)
    name, value, unit, bounds, source, _ = rows["k2"]
    assert float(value) == pytest.approx(0.0006395)
    assert unit == "%/cell/day"
    assert "Ayati et al. 2010" in source and "BIOMD0000000402" in source
    assert bounds == "[0, ∞)"
    # every model family page carries its tables; the API reference has the solver entry points
    assert "k_z" in _tables(site / "models" / "bone" / "index.html")["vicious_cycle()"]
    assert "XGEVA_Q4W" in (site / "models" / "drugs" / "index.html").read_text(encoding="utf-8")
    api = (site / "api" / "solvers" / "index.html").read_text(encoding="utf-8")
    for name in ("simulate", "sweep", "fit", "SolverOptions"):
        assert f'id="seedsoil.solvers.{name}"' in api
    for notebook in ("01_fit_bone_data", "02_sensitivity", "03_interventions", "04_human_calibration",
                     "05_virtual_trial", "06_adjuvant"):
        assert (site / "notebooks" / notebook / "index.html").is_file()


def test_readme_is_a_users_page():
    text = README.read_text(encoding="utf-8")
    assert len(text.splitlines()) <= 200
    for command in SETUP_COMMANDS:
        assert command in text


def test_readme_names_no_commit():
    git = shutil.which("git")
    if git is None or not (ROOT / ".git").exists():
        pytest.skip("not a git checkout")
    text = README.read_text(encoding="utf-8")
    candidates = sorted(set(re.findall(r"(?<![0-9A-Za-z])[0-9a-f]{7,40}(?![0-9A-Za-z])", text)))
    commits = [c for c in candidates
               if subprocess.run([git, "cat-file", "-e", f"{c}^{{commit}}"], cwd=ROOT, capture_output=True).returncode
               == 0]
    assert not commits, f"README names commits {commits}; figures with commits belong in docs/performance.md"
