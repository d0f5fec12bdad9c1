"""The package's imports form no circle, and none hides inside a function (DESIGN: rules of the house).

An AST walk of every module of `emulator`: imports under `if TYPE_CHECKING:` are for the type checker
only and are left out (the engine's order <-> book annotations are such a circle, type-only); every
other import, at module level or in a function, is an edge of the graph, which must have no cycle.
A function may import an emulator module only where it is listed below, for start-up time.
"""

import ast
from pathlib import Path

import emulator

PACKAGE = Path(emulator.__file__).parent
# (importing module, imported module): lazy on purpose, so that what starts first loads less
STARTUP_LAZY = {
    # `--help`, `validate-scenario` and `replay` load only what they use; the server only when it runs
    ("emulator.cli", "emulator.server"),
    ("emulator.cli", "emulator.settings"),
    ("emulator.cli", "emulator.paths"),
    ("emulator.cli", "emulator.market.scenario"),
    ("emulator.cli", "emulator.app"),
    ("emulator.cli", "emulator.market.tape"),
    ("emulator.cli", "emulator.statefile"),
    ("emulator.cli", "emulator.edge.guards"),
    ("emulator.cli", "emulator.market.clock"),
    ("emulator.cli", "emulator.market.world"),
    ("emulator.cli", "emulator.replay"),
    # the pytest plugin is loaded by every pytest run of a user's project: the app only when used
    ("emulator.testing", "emulator.server"),
    ("emulator.testing", "emulator.settings"),
    ("emulator.testing", "emulator.app"),
    # the scenario schema (pydantic models) only when a scenario is used
    ("emulator.app", "emulator.market.scenario"),
    ("emulator.control.routes", "emulator.market.scenario"),
    ("emulator.market.world", "emulator.market.scenario"),
}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def imports(tree: ast.Module, modules: set[str]) -> list[tuple[str, bool]]:
    """(imported emulator module, inside a function) for every import the interpreter runs."""
    found: list[tuple[str, bool]] = []

    def visit(node: ast.AST, in_function: bool) -> None:
        if isinstance(node, ast.If) and is_type_checking(node):
            for child in node.orelse:
                visit(child, in_function)
            return
        if isinstance(node, ast.Import):
            found.extend((alias.name, in_function) for alias in node.names if alias.name.startswith("emulator"))
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("emulator"):
            for alias in node.names:  # `from emulator.x import y` imports module emulator.x.y when y is one
                name = f"{node.module}.{alias.name}"
                found.append((name if name in modules else node.module, in_function))
        inner = in_function or isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda)
        for child in ast.iter_child_nodes(node):
            visit(child, inner)

    visit(tree, False)
    return found


def graph() -> tuple[dict[str, set[str]], set[tuple[str, str]]]:
    files = {module_name(path): path for path in PACKAGE.rglob("*.py")}
    modules = set(files)
    edges: dict[str, set[str]] = {name: set() for name in modules}
    lazy: set[tuple[str, str]] = set()
    for name, path in files.items():
        for imported, in_function in imports(ast.parse(path.read_text()), modules):
            if imported in modules and imported != name:
                edges[name].add(imported)
                if in_function:
                    lazy.add((name, imported))
    return edges, lazy


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def connect(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for other in sorted(edges[node]):
            if other not in index:
                connect(other)
                low[node] = min(low[node], low[other])
            elif other in on_stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(edges):
        if node not in index:
            connect(node)
    return found


def test_no_import_cycle_between_emulator_modules() -> None:
    edges, _ = graph()
    assert cycles(edges) == []


def test_no_emulator_import_inside_a_function_but_the_start_up_ones() -> None:
    _, lazy = graph()
    assert lazy - STARTUP_LAZY == set()
    assert STARTUP_LAZY - lazy == set(), "listed but no longer lazy: take it off the list"


def test_the_walk_sees_a_cycle_and_a_hidden_import() -> None:
    tree = ast.parse("def f():\n    from emulator.market import world\nif TYPE_CHECKING:\n    import emulator.app\n")
    assert imports(tree, {"emulator.market.world"}) == [("emulator.market.world", True)]
    assert cycles({"a": {"b"}, "b": {"a"}, "c": {"a"}}) == [["a", "b"]]
