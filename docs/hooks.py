"""mkdocs hook (``hooks:`` in mkdocs.yml) for seedsoil's documentation site.

* Parameter tables generated from the models' ``Param`` declarations. A page asks for one
  with a line of its own::

      {{ params: ayati2010(drug=True) }}

  The text after ``params:`` is a call of a model constructor of :mod:`seedsoil.models`; the
  hook builds that model and writes one row per declared parameter (name, value, unit,
  bounds, source, meaning) from ``model.params``: the declarations that ``Params.table()``
  prints and that every solve checks values against, so the tables cannot drift from the
  code. ``{{ schedules }}`` writes the label dosing schedules of :mod:`seedsoil.models.drugs`.
* The API reference follows each package's ``__all__``: ``{{ api: seedsoil.solvers }}``
  becomes one mkdocstrings entry (``::: seedsoil.solvers.simulate`` ...) per public name, and
  ``{{ top-level names }}`` a table of the names ``seedsoil`` re-exports.
* The notebooks of ``notebooks/`` (jupytext percent scripts) added to the site, where
  mkdocs-jupyter renders them without executing them.
* mkdocstrings' python handler pointed at a copy of the package layout made of symbolic
  links (``seedsoil/models`` and ``seedsoil/solvers``), since pyproject's ``package-dir``
  puts those packages in the top-level folders ``models/`` and ``solvers/``.
* Sphinx roles in docstrings (:func:`simulate`) shown as code.
"""

from __future__ import annotations

import math
import re
import shutil
import tempfile
from pathlib import Path

import mkdocs.plugins
from mkdocs.structure.files import File

_TREES: list[Path] = []
ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted(p.name for p in (ROOT / "notebooks").glob("[0-9]*.py"))
_PARAMS = re.compile(r"^\{\{\s*params:\s*(?P<call>[A-Za-z_][\w.]*\(.*\))\s*\}\}\s*$", re.MULTILINE)


def _package_tree() -> str:
    """A directory holding ``seedsoil/`` as griffe must see it: pyproject's package-dir maps
    ``models/`` and ``solvers/`` to ``seedsoil.models`` and ``seedsoil.solvers``, which griffe's
    static finder cannot follow, so the package is laid out again with symbolic links."""
    tree = Path(tempfile.mkdtemp(prefix="seedsoil-docs-"))
    _TREES.append(tree)
    pkg = tree / "seedsoil"
    pkg.mkdir()
    for entry in (ROOT / "seedsoil").iterdir():
        if entry.suffix == ".py" or (entry.is_dir() and entry.name != "__pycache__"):
            (pkg / entry.name).symlink_to(entry)
    (pkg / "models").symlink_to(ROOT / "models", target_is_directory=True)
    (pkg / "solvers").symlink_to(ROOT / "solvers", target_is_directory=True)
    return str(tree)


@mkdocs.plugins.event_priority(100)  # before mkdocstrings reads its handler options
def on_config(config):
    python = config["plugins"]["mkdocstrings"].config["handlers"].setdefault("python", {})
    python["paths"] = [_package_tree()]
    return config


def _remove_tree(*args, **kwargs) -> None:
    for path in _TREES:
        shutil.rmtree(path, ignore_errors=True)
    _TREES.clear()


on_post_build = on_build_error = _remove_tree


def _number(x: float) -> str:
    if math.isinf(x):
        return "∞" if x > 0 else "-∞"
    return f"{x:.6g}"


def _cell(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def param_table(model) -> str:
    """A markdown table of ``model.params.rows()``: name, value, unit, bounds, source, meaning."""
    rows = ["| name | value | unit | bounds | source | meaning |", "|---|---:|---|---|---|---|"]
    for r in model.params.rows():
        cells = (f"`{r['name']}`", r["value"], r["unit"], r["bounds"].replace("inf", "∞"), r["source"],
                 r["description"])
        rows.append("| " + " | ".join(_cell(c) for c in cells) + " |")
    return "\n".join(rows)


def _render(match: re.Match) -> str:
    import seedsoil.models

    call = match.group("call")
    model = eval(call, {"__builtins__": {}}, vars(seedsoil.models))  # a constructor call written in our own pages
    return f"Parameters of `{call}` ({len(model.params.specs)} declarations):\n\n{param_table(model)}\n"


def schedule_table() -> str:
    """A markdown table of the label dosing schedules of :mod:`seedsoil.models.drugs`."""
    from seedsoil.models import drugs

    constants = {id(v): k for k, v in vars(drugs).items() if isinstance(v, drugs.Schedule)}
    rows = ["| constant | schedule | dosed state | amount | every (days) | infusion (days) | loading doses (day) "
            "| source |", "|---|---|---|---:|---:|---:|---|---|"]
    for s in drugs.SCHEDULES.values():
        loading = ", ".join(_number(d) for d in s.loading) or "-"
        cells = (f"`{constants.get(id(s), '')}`", s.name, f"`{s.state}`", _number(s.amount), _number(s.interval),
                 _number(s.duration), loading, s.source)
        rows.append("| " + " | ".join(_cell(c) for c in cells) + " |")
    return "\n".join(rows)


def api_entries(module_name: str) -> str:
    """One mkdocstrings entry (``::: module.name``) per public name of ``module_name``: those
    in its ``__all__`` that are not submodules, in ``__all__``'s order."""
    import importlib
    import types

    module = importlib.import_module(module_name)
    names = [n for n in module.__all__ if not isinstance(getattr(module, n), types.ModuleType)]
    return "\n\n".join(f"::: {module_name}.{n}" for n in names) + "\n"


def top_level_names() -> str:
    """A table of the names ``seedsoil`` re-exports, each linked to its entry in the API pages."""
    import types

    import seedsoil

    rows = ["| name | documented in |", "|---|---|"]
    for name in seedsoil.__all__:
        if isinstance(getattr(seedsoil, name), types.ModuleType):
            continue
        home = next(m for m in ("models", "solvers") if name in getattr(seedsoil, m).__all__)
        rows.append(f"| `seedsoil.{name}` | [`seedsoil.{home}.{name}`]({home}.md#seedsoil.{home}.{name}) |")
    return "\n".join(rows) + "\n"


def on_page_markdown(markdown: str, page, config, files) -> str:
    markdown = re.sub(r"^\{\{\s*top-level names\s*\}\}\s*$", lambda m: top_level_names(), markdown,
                      flags=re.MULTILINE)
    markdown = re.sub(r"^\{\{\s*api:\s*([\w.]+)\s*\}\}\s*$", lambda m: api_entries(m.group(1)), markdown,
                      flags=re.MULTILINE)
    markdown = _PARAMS.sub(_render, markdown)
    return re.sub(r"^\{\{\s*schedules\s*\}\}\s*$", lambda m: schedule_table(), markdown, flags=re.MULTILINE)


_ROLE = re.compile(r":(?:func|class|mod|meth|data|attr|exc|obj):<code>(~?)([^<]*)</code>")


def on_page_content(html: str, page, config, files) -> str:
    """Docstrings use Sphinx roles (:func:`simulate`, :class:`~models.base.Params`); show
    them as code, with ``~`` keeping the last name only, as Sphinx does."""
    return _ROLE.sub(lambda m: f"<code>{m.group(2).rpartition('.')[2] if m.group(1) else m.group(2)}</code>", html)


@mkdocs.plugins.event_priority(100)  # before mkdocs-jupyter's on_files turns them into notebook pages
def on_files(files, config):
    for name in NOTEBOOKS:
        files.append(File(f"notebooks/{name}", src_dir=str(ROOT), dest_dir=config["site_dir"],
                          use_directory_urls=config["use_directory_urls"]))
    return files
