"""The distribution installs one import name, ``seedsoil``, and importing it is cheap and reversible.

Each check runs a fresh interpreter (``sys.executable``), so what pytest has already imported
cannot hide a problem:

* a working directory holding a user's own ``models.py`` and ``solvers.py`` (a common layout)
  still gets seedsoil's models and solvers, and the user keeps theirs;
* nothing installs a top-level ``models`` or ``solvers``;
* the wheel (built from the sdist, as an index would) holds ``seedsoil/...`` only, and works
  when installed on its own;
* ``import seedsoil`` loads none of the heavy modules that one feature needs (scipy.stats,
  xarray, pandas, SALib, libsbml, NumPyro, matplotlib, Dask): they load on first use;
* each process-wide change has its documented switch (``SEEDSOIL_X64``,
  ``SEEDSOIL_CACHE_DIR``, ``SEEDSOIL_XLA_FLAGS`` set to ``off``).
"""

import json
import os
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
HEAVY = ("scipy.stats", "xarray", "pandas", "SALib", "libsbml", "numpyro", "matplotlib", "roadrunner", "dask",
         "distributed")


def run(code: str, cwd: Path, **env_extra) -> dict:
    """Run ``code`` in a fresh interpreter in ``cwd``; return the JSON its last line prints."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SEEDSOIL_") and k not in ("PYTHONPATH",)}
    env.update(JAX_PLATFORMS="cpu", TF_CPP_MIN_LOG_LEVEL="3", **env_extra)
    proc = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_a_users_models_py_and_solvers_py_do_not_shadow_seedsoil(tmp_path):
    (tmp_path / "models.py").write_text("WHO = 'user models'\n")
    (tmp_path / "solvers.py").write_text("WHO = 'user solvers'\n")
    out = run("""
        import json
        import models, solvers
        import seedsoil
        from seedsoil.models import komarova2003
        from seedsoil.solvers import simulate
        sol = simulate(komarova2003(), [0.0, 1.0, 2.0])
        print(json.dumps(dict(user=[models.WHO, solvers.WHO], status=sol.status,
                              z=float(sol["z"][-1]), files=[seedsoil.models.__file__, seedsoil.solvers.__file__])))
    """, tmp_path, SEEDSOIL_CACHE_DIR="off")
    assert out["user"] == ["user models", "user solvers"]
    assert out["status"] == "success" and out["z"] > 0
    assert out["files"] == [str(ROOT / "models" / "__init__.py"), str(ROOT / "solvers" / "__init__.py")]


def test_nothing_installs_a_top_level_models_or_solvers(tmp_path):
    out = run("""
        import importlib.util, json
        print(json.dumps({n: importlib.util.find_spec(n) is not None for n in ("models", "solvers", "seedsoil")}))
    """, tmp_path)
    assert out == {"models": False, "solvers": False, "seedsoil": True}


def test_import_loads_no_heavy_module_until_a_feature_needs_it(tmp_path):
    out = run(f"""
        import json, sys
        import seedsoil
        before = [m for m in {HEAVY!r} if m in sys.modules]
        seedsoil.plot  # matplotlib on first use
        from seedsoil.solvers import sensitivity
        sensitivity.parameter_ranges  # the module is loaded; xarray still is not
        print(json.dumps(dict(before=before, plot="matplotlib" in sys.modules, xarray="xarray" in sys.modules)))
    """, tmp_path, SEEDSOIL_CACHE_DIR="off")
    assert out["before"] == [], f"import seedsoil loaded {out['before']}"
    assert out["plot"] and not out["xarray"]


@pytest.mark.parametrize("switch", ["default", "off"])
def test_each_process_wide_change_has_an_off_switch(tmp_path, switch):
    code = """
        import json, os
        import jax
        import seedsoil
        from seedsoil.models import komarova2003
        try:
            seedsoil.simulate(komarova2003(), [0.0, 1.0])
            err = None
        except RuntimeError as e:
            err = str(e)
        outside = komarova2003()  # built before float64 is on: float32 arrays when x64 is off
        with jax.enable_x64(True):
            ok = seedsoil.simulate(komarova2003(), [0.0, 1.0]).status
            try:
                seedsoil.simulate(outside, [0.0, 1.0])
                err32 = None
            except RuntimeError as e:
                err32 = str(e)
        print(json.dumps(dict(x64=bool(jax.config.jax_enable_x64), cache=jax.config.jax_compilation_cache_dir,
                              flags=os.environ.get("XLA_FLAGS", ""), err=err, ok=ok, err32=err32)))
    """
    cache = str(tmp_path / "cache")
    if switch == "off":
        out = run(code, tmp_path, SEEDSOIL_X64="off", SEEDSOIL_CACHE_DIR="OFF", SEEDSOIL_XLA_FLAGS="off",
                  XLA_FLAGS="--xla_cpu_enable_fast_math=false")
        assert out["x64"] is False and out["cache"] is None
        assert out["flags"] == "--xla_cpu_enable_fast_math=false"
        assert "jax.enable_x64(True)" in out["err"], out["err"]
        assert out["ok"] == "success"
        assert "'komarova2003' holds float32 arrays" in out["err32"], out["err32"]
    else:
        out = run(code, tmp_path, SEEDSOIL_CACHE_DIR=cache)
        assert out["x64"] is True and out["cache"] == cache and out["err"] is None and out["err32"] is None
        assert out["flags"] == "--xla_cpu_experimental_ynn_fusion_type="


def test_the_wheel_holds_seedsoil_only_and_works_on_its_own(tmp_path):
    """``python -m build`` (sdist, then the wheel from the sdist) with the project's pinned
    setuptools; the wheel installed alone (``--no-deps --target``) is the seedsoil imported."""
    dist = tmp_path / "dist"
    proc = subprocess.run([sys.executable, "-m", "build", "--no-isolation", "--outdir", str(dist), str(ROOT)],
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    (wheel,) = dist.glob("seedsoil-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    tops = {n.split("/")[0] for n in names}
    assert tops == {"seedsoil", next(t for t in tops if t.endswith(".dist-info"))}, tops
    for must in ("seedsoil/__init__.py", "seedsoil/_config.py", "seedsoil/models/base.py",
                 "seedsoil/models/metastasis/presets.py", "seedsoil/models/drugs/schedules.py",
                 "seedsoil/solvers/_simulate.py", "seedsoil/solvers/regimen.py"):
        assert must in names, must
    here = {p.relative_to(ROOT / "models").as_posix() for p in (ROOT / "models").rglob("*.py")}
    assert here == {n[len("seedsoil/models/"):] for n in names if n.startswith("seedsoil/models/")}
    site = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", str(site), str(wheel)],
                   check=True, capture_output=True, timeout=300)
    out = run("""
        import json, seedsoil
        from seedsoil.models import lemaire2004
        sol = seedsoil.simulate(lemaire2004(), [0.0, 5.0])
        print(json.dumps(dict(file=seedsoil.models.__file__, status=sol.status)))
    """, tmp_path, PYTHONPATH=str(site), SEEDSOIL_CACHE_DIR="off")
    assert out["file"] == str(site / "seedsoil" / "models" / "__init__.py") and out["status"] == "success"


def _submodules(package):
    """Every module below ``package``, following each package's own ``__path__``."""
    import importlib
    import pkgutil

    for info in pkgutil.iter_modules(package.__path__, package.__name__ + "."):
        module = importlib.import_module(info.name)
        yield module
        if info.ispkg:
            yield from _submodules(module)


def shadowed(modules) -> list[str]:
    """The ``modules`` that their parent package's attribute of the same name hides."""
    out = []
    for module in modules:
        parent, _, child = module.__name__.rpartition(".")
        if getattr(sys.modules[parent], child, module) is not module:
            out.append(f"{module.__name__} is also {getattr(sys.modules[parent], child)!r}")
    return out


def test_no_module_is_shadowed_by_a_name_its_package_exports():
    """``seedsoil.solvers.fit`` is the function and ``seedsoil.models.cascade`` the model
    constructor, whatever was imported before: no package exports a name that is also one of
    its submodules, so ``import seedsoil.X.Y as m`` and ``seedsoil.X.Y`` always agree. The
    check itself is shown to find a clash (a package exporting a function named like its
    module, as ``solvers`` did with ``fit``)."""
    import seedsoil

    tops = [seedsoil, seedsoil.models, seedsoil.solvers]  # in a source checkout, three folders
    modules = list({m.__name__: m for m in [*tops[1:], *(m for t in tops for m in _submodules(t))]}.values())
    names = {m.__name__ for m in modules}
    assert {"seedsoil.models.base", "seedsoil.models.metastasis.presets", "seedsoil.solvers.regimen"} <= names
    assert shadowed(modules) == []

    import types

    pkg, sub = types.ModuleType("seedsoil_clash_probe"), types.ModuleType("seedsoil_clash_probe.fit")
    pkg.fit = lambda: None
    sys.modules.update({pkg.__name__: pkg, sub.__name__: sub})
    try:
        assert [s.split()[0] for s in shadowed([sub])] == ["seedsoil_clash_probe.fit"]
    finally:
        del sys.modules[pkg.__name__], sys.modules[sub.__name__]
