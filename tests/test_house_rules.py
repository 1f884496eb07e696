"""The rules of the house (ARCHITECTURE.md) hold for every module of the app."""

import ast
import pathlib

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent / "webapp"
BLUEPRINTS = ("auth", "users", "desk", "admin", "circulation")
MODULES = sorted(ROOT.rglob("*.py"))


def _name(path):
    parts = path.relative_to(ROOT.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(tree):
    """Yield (module, [names]) of every import in TREE."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, []
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield node.module, [a.name for a in node.names]


TREES = {_name(p): ast.parse(p.read_text()) for p in MODULES}
SOURCES = {_name(p): p.read_text() for p in MODULES}


@pytest.mark.parametrize("module", sorted(SOURCES))
def test_module_is_under_500_lines(module):
    assert SOURCES[module].count("\n") <= 500


@pytest.mark.parametrize("module", sorted(TREES))
def test_functions_under_60_lines_and_classes_under_200(module):
    too_long = [
        f"{node.name}: {node.end_lineno - node.lineno + 1} lines"
        for node in ast.walk(TREES[module])
        if (isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
            and node.end_lineno - node.lineno >= 60)
        or (isinstance(node, ast.ClassDef) and node.end_lineno - node.lineno >= 200)
    ]
    assert too_long == []


@pytest.mark.parametrize("module", sorted(TREES))
def test_no_private_names_cross_modules(module):
    private = [
        f"{source}.{name}"
        for source, names in _imports(TREES[module])
        if source.startswith("webapp") or source.startswith("peewee")
        for name in names
        if name.startswith("_") and not name.startswith("__") or name == "__exception_wrapper__"
    ]
    assert private == []


def _layer_problems(module):
    problems = []
    for source, _names in _imports(TREES[module]):
        if module.startswith("webapp.services") and source.split(".")[0] in ("flask", "flask_login",
                                                                              "flask_wtf", "werkzeug"):
            problems.append(f"a service imports {source}")
        if module.startswith("webapp.models") and source.startswith("webapp.services"):
            problems.append(f"a model imports {source}")
        if module.startswith("webapp.services") and source.split(".")[:2] == ["webapp", "web"]:
            problems.append(f"a service imports {source}")
        for other in BLUEPRINTS:
            mine = module.split(".")[1] if module.count(".") else ""
            if mine in BLUEPRINTS and other != mine and source.startswith(f"webapp.{other}"):
                problems.append(f"blueprint {mine} imports blueprint {other}")
        if module.split(".")[1:2] and module.split(".")[1] in BLUEPRINTS and source == "webapp.models":
            problems.append("a route module imports the models")
    return problems


@pytest.mark.parametrize("module", sorted(TREES))
def test_layers(module):
    assert _layer_problems(module) == []


def test_no_import_cycles_between_app_modules():
    graph = {m: {s for s, _ in _imports(TREES[m]) if s in TREES and s != m} for m in TREES}
    # A package's __init__ re-exporting its own modules is its face, not a cycle.
    graph = {m: {s for s in deps if not (s.startswith(m + ".") or m.startswith(s + "."))}
             for m, deps in graph.items()}
    seen, stack, cycles = set(), [], []

    def visit(node):
        if node in stack:
            cycles.append(stack[stack.index(node):] + [node])
            return
        if node in seen:
            return
        seen.add(node)
        stack.append(node)
        for nxt in sorted(graph[node]):
            visit(nxt)
        stack.pop()

    for module in sorted(graph):
        visit(module)
    assert cycles == []
