"""The package's shape: no import cycles, layers that only point down, a stable public API."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import dualuse

PACKAGE = Path(dualuse.__file__).resolve().parent
#: Modules allowed past 500 lines, with the reason (one concept that does not split cleanly).
LONG_MODULES = {
    "dualuse/matcher.py": "one matching pass with its readings (plural, stem, inverted, leet, head); "
    "splitting them would scatter rules that must be read together",
    "dualuse/cli.py": "the command line: one argparse parser and one handler per subcommand (score, classify, "
    "evaluate, train, data, model, report, hs-index), kept in the only module that knows argparse and exit "
    "codes (test_only_the_cli_knows_argparse); a cli package is the next step if it grows further",
}
MAX_LINES = 500


def _module_name(path: Path) -> str:
    rel = path.relative_to(PACKAGE.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _modules() -> dict[str, Path]:
    return {_module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def _imports(name: str, path: Path, modules: dict[str, Path]) -> list[tuple[str, bool]]:
    """(imported dualuse module, imported at module level) for every import statement in the file."""
    is_package = path.name == "__init__.py"
    package = name if is_package else name.rpartition(".")[0]
    tree = ast.parse(path.read_text(encoding="utf-8"))
    top_level = {id(node) for node in tree.body}
    found: list[tuple[str, bool]] = []
    for node in ast.walk(tree):
        targets: list[str] = []
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                stem = ".".join(base + ([node.module] if node.module else []))
            else:
                stem = node.module or ""
            # "from . import hs" names a module; "from .engine import Engine" names the module engine
            targets = [f"{stem}.{a.name}" if f"{stem}.{a.name}" in modules else stem for a in node.names]
        for target in targets:
            while target and target not in modules:
                target = target.rpartition(".")[0]
            if target.startswith("dualuse") and target != name:
                found.append((target, id(node) in top_level))
    return found


def _graph(top_level_only: bool) -> dict[str, set[str]]:
    modules = _modules()
    return {name: {t for t, top in _imports(name, path, modules) if top or not top_level_only} for name, path in modules.items()}


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if nxt == "dualuse":  # the package root only re-exports; nothing inside imports it
                continue
            if state.get(nxt) == 1:
                return stack[stack.index(nxt) :] + [nxt]
            if nxt not in state and (found := visit(nxt)) is not None:
                return found
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (found := visit(node)) is not None:
            return found
    return None


def test_no_import_cycle_among_the_package_modules() -> None:
    graph = _graph(top_level_only=False)  # deferred imports count too: they are cycles waiting to happen
    assert _cycle(graph) is None, f"import cycle: {' -> '.join(_cycle(graph) or [])}"


def test_the_cycle_check_finds_a_cycle() -> None:
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": {"c"}}) is None


def test_no_module_imports_the_package_root() -> None:
    graph = _graph(top_level_only=False)
    offenders = sorted(name for name, targets in graph.items() if "dualuse" in targets and name != "dualuse")
    assert offenders == []


#: Layers above the screening core: each may import the core (and files), the core none of them.
UPPER_LAYERS = ("dualuse.training", "dualuse.files", "dualuse.reporting")


def test_runtime_modules_do_not_import_training_or_files_at_import_time() -> None:
    """Screening a text needs neither the build-time code, the file readers nor the HTML report."""
    graph = _graph(top_level_only=True)
    runtime = [n for n in graph if not n.startswith(UPPER_LAYERS) and n not in ("dualuse", "dualuse.cli")]
    bad = {n: sorted(t for t in graph[n] if t.startswith(UPPER_LAYERS)) for n in runtime}
    assert {n: t for n, t in bad.items() if t} == {}


def test_nothing_below_the_report_imports_it() -> None:
    """The report is the top layer: only the CLI imports it (the package root names it lazily, as a string)."""
    graph = _graph(top_level_only=False)
    users = sorted(
        n
        for n, targets in graph.items()
        if not n.startswith("dualuse.reporting") and any(t.startswith("dualuse.reporting") for t in targets)
    )
    assert users == ["dualuse.cli"]


def test_only_the_cli_knows_argparse() -> None:
    users = sorted(
        name
        for name, path in _modules().items()
        if any(
            isinstance(n, (ast.Import, ast.ImportFrom)) and "argparse" in ast.unparse(n)
            for n in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        )
    )
    assert users == ["dualuse.cli"]


def test_modules_stay_short() -> None:
    long = {str(p.relative_to(PACKAGE.parent)): len(p.read_text(encoding="utf-8").splitlines()) for p in PACKAGE.rglob("*.py")}
    over = {f: n for f, n in long.items() if n > MAX_LINES and f not in LONG_MODULES}
    assert over == {}, f"modules over {MAX_LINES} lines (split them, or say why in LONG_MODULES): {over}"


PUBLIC_API = {
    "__version__",
    "classify",
    "classify_batch",
    "score_frame",
    "score_file",
    "score_dask",
    "evaluate",
    "default_engine",
    "set_default_engine",
    "Engine",
    "FusionConfig",
    "Classification",
    "Taxonomy",
    "load_taxonomy",
    "default_taxonomy",
    "CATEGORIES",
    "FAMILIES",
    "DualuseError",
    "EmptyTextError",
    "InputTypeError",
    "InvalidHSCodeError",
    "ModelIntegrityError",
    "ModelCompatibilityError",
    "ColumnNotFoundError",
    "OptionError",
    "TaxonomyError",
    "InputFileError",
    "OutputWriteError",
    "report",
}


def test_public_api_is_stable() -> None:
    assert set(dualuse.__all__) >= PUBLIC_API, f"removed from the public API: {PUBLIC_API - set(dualuse.__all__)}"
    for name in dualuse.__all__:
        assert getattr(dualuse, name) is not None


@pytest.mark.parametrize("name", ["score_frame", "score_file", "score_dask", "evaluate", "report"])
def test_lazy_public_names_are_the_functions_they_name(name: str) -> None:
    fn = getattr(dualuse, name)
    assert callable(fn) and fn.__name__ == name


def test_unknown_attribute_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        dualuse.nope  # noqa: B018
