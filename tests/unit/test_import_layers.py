"""Imports point one way: no cycle among the subpackages and top-level modules of `src/unspin`.

The graph is read from the source with `ast` (nothing is imported), so an import inside a
function or under `if TYPE_CHECKING:` counts as well: a lazy import still ties the two layers
together, it only hides the cycle until the line runs. Nodes are the subpackages of
`src/unspin` (`unspin.text.load` -> "text") and its top-level modules (`unspin.model` -> "model";
`unspin/__init__.py` -> "unspin").

History: batch.spark imported cli.main (cli.screen imports batch), and text.load imported
documents (documents import text.load to decode). The last cycle, [detect, lexicon, pipeline,
score, unspin], went when the document score moved into detect (`unspin.detect.score`), the
resource inventory too (`unspin.detect.inventory`: it names the detector's files), and the version
into `unspin.version` (reports stamp it; importing the package root for it tied score to the API).
Check by hand: `python -m pytest -s tests/unit/test_import_layers.py` prints every cycle.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "src" / "unspin"


def _node(module: str) -> str | None:
    """The node of a dotted module name: its subpackage or top-level module; None outside unspin."""
    parts = module.split(".")
    if parts[0] != "unspin":
        return None
    return parts[1] if len(parts) > 1 else "unspin"


def _own_node(path: Path) -> str:
    relative = path.relative_to(PACKAGE).with_suffix("")
    parts = relative.parts
    if len(parts) == 1:  # a top-level module; __init__.py is the package root
        return "unspin" if parts[0] == "__init__" else parts[0]
    return parts[0]


def _imported(tree: ast.AST, own: str) -> set[str]:
    """The nodes a module's imports name. `from unspin import x` names x when x is a submodule
    (a file or folder of the package), else the package root."""
    found: set[str] = set()
    for statement in ast.walk(tree):
        if isinstance(statement, ast.Import):
            found.update(filter(None, (_node(alias.name) for alias in statement.names)))
        elif isinstance(statement, ast.ImportFrom) and statement.module and statement.level == 0:
            if statement.module == "unspin":
                found.update(alias.name if _is_submodule(alias.name) else "unspin" for alias in statement.names)
            else:
                found.update(filter(None, [_node(statement.module)]))
    found.discard(own)
    return found


def _is_submodule(name: str) -> bool:
    return (PACKAGE / f"{name}.py").is_file() or (PACKAGE / name / "__init__.py").is_file()


def import_graph() -> dict[str, set[str]]:
    """node -> the nodes it imports, over every .py file under src/unspin."""
    graph: dict[str, set[str]] = defaultdict(set)
    for path in sorted(PACKAGE.rglob("*.py")):
        own = _own_node(path)
        graph[own] |= _imported(ast.parse(path.read_text(encoding="utf-8"), str(path)), own)
    return dict(graph)


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one node (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:  # recursive: the graph has a few dozen nodes
        index[node] = low[node] = len(index)
        stack.append(node)
        for target in graph.get(node, ()):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return sorted(found)


def _edges_within(graph: dict[str, set[str]], component: list[str]) -> list[str]:
    return [f"{a} -> {b}" for a in component for b in sorted(graph.get(a, ())) if b in component]


def test_no_import_cycle_in_the_package():
    graph = import_graph()
    found = cycles(graph)
    print("\nall cycles:", found)
    assert not found, "import cycles: " + "; ".join(", ".join(_edges_within(graph, c)) for c in found)


def test_the_graph_sees_lazy_imports():
    # The check is only as good as its parser: a function-level import must make an edge.
    tree = ast.parse("def f():\n    from unspin.text.load import decode\n")
    assert _imported(tree, "documents") == {"text"}
    assert _imported(ast.parse("from unspin import model, __version__"), "batch") == {"model", "unspin"}
