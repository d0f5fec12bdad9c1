"""The engine's modules import each other without a circle, counting every import (type-only ones
under `if TYPE_CHECKING` and those inside functions too), and import nothing from the rest of the
emulator."""

import ast
from pathlib import Path

import emulator.engine

PACKAGE = "emulator.engine"
ENGINE = Path(emulator.engine.__file__).parent


def module_name(path: Path) -> str:
    return PACKAGE if path.stem == "__init__" else f"{PACKAGE}.{path.stem}"


def imports_of(path: Path) -> set[str]:
    """Every module an engine module names in an import statement, wherever the statement is."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0 and node.module is not None, f"{path.name}: a relative import"
            names.add(node.module)
            # `from emulator.engine import orders` names the module emulator.engine.orders
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def engine_graph() -> dict[str, set[str]]:
    modules = {module_name(path): path for path in ENGINE.glob("*.py")}
    return {name: {other for other in imports_of(path) if other in modules} - {name} for name, path in modules.items()}


def find_circle(graph: dict[str, set[str]]) -> list[str] | None:
    """A list of modules that import each other round in a circle, or None."""
    done: set[str] = set()

    def visit(name: str, path: list[str]) -> list[str] | None:
        if name in path:
            return [*path[path.index(name) :], name]
        if name in done:
            return None
        for other in sorted(graph[name]):
            circle = visit(other, [*path, name])
            if circle is not None:
                return circle
        done.add(name)
        return None

    for name in sorted(graph):
        circle = visit(name, [])
        if circle is not None:
            return circle
    return None


def test_engine_modules_import_each_other_without_a_circle() -> None:
    graph = engine_graph()
    assert graph.get(f"{PACKAGE}.matching"), "the graph was read"
    circle = find_circle(graph)
    assert circle is None, " -> ".join(circle or [])


def test_the_circle_finder_finds_one() -> None:
    assert find_circle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_circle({"a": {"b"}, "b": set(), "c": {"a", "b"}}) is None


def test_the_engine_imports_nothing_from_the_rest_of_the_emulator() -> None:
    for path in ENGINE.glob("*.py"):
        outside = {name for name in imports_of(path) if name.startswith("emulator") and not name.startswith(PACKAGE)}
        assert not outside, (path.name, outside)
