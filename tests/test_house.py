"""The house (issue 22): each room of src/reposync imports only rooms on lower floors, so there is no circle and
data flows one way; modules stay small enough to read, but for the ones named below with why."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parent.parent / "src" / "reposync"

# Bottom to top: a room may import its own floor's modules only within itself, and any room on a lower floor.
FLOORS = (
    {"settings", "models", "errors", "urls", "wording"},
    {"parsers"},
    {"normalise"},
    {"documents"},
    {"config"},
    {"archive"},
    {"crawl", "link"},
    {"catalogue"},
    {"reports"},
    {"sync", "ops"},
    {"cli"},
    {"__main__"},
)
FLOOR = {room: level for level, rooms in enumerate(FLOORS) for room in rooms}
# Modules allowed past about 500 lines, each one cohesive thing, with why.
LONG = {
    "link/rules.py": "the dedupe's rules as one ordered list: read top to bottom, in the order they are asked",
    "parsers/nesting.py": "the HTML standard's tree building followed as far as depth goes: one algorithm over one "
                          "stack of open elements and its insertion modes; a cut would pass that stack between modules",
}


def room_of(module: str) -> str:
    return module.split(".")[0]


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _runtime_imports(path: Path) -> set[str]:
    """Modules (relative to reposync) a module imports when it runs: typing-only imports left out."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    here = _module_name(path).split(".") if _module_name(path) else []
    package = here if path.name == "__init__.py" else here[:-1]
    found: set[str] = set()

    def visit(node: ast.AST) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and "TYPE_CHECKING" in ast.unparse(child.test):
                continue
            if isinstance(child, ast.ImportFrom):
                if child.level:
                    base = package[: len(package) - (child.level - 1)]
                    target = base + (child.module.split(".") if child.module else [])
                elif child.module and child.module.split(".")[0] == "reposync":
                    target = child.module.split(".")[1:]
                else:
                    continue
                if target:
                    found.add(".".join(target))
                else:  # from . import a, b: each name is a room
                    found.update(alias.name for alias in child.names)
            elif isinstance(child, ast.Import):
                for alias in child.names:
                    if alias.name.startswith("reposync."):
                        found.add(alias.name.split(".", 1)[1])
            visit(child)

    visit(tree)
    return found


def _modules() -> list[Path]:
    return sorted(SRC.rglob("*.py"))


def test_every_room_is_on_a_floor() -> None:
    rooms = {room_of(_module_name(p)) for p in _modules() if _module_name(p)}
    rooms.discard("_moved")
    assert rooms <= set(FLOOR), f"rooms with no floor: {sorted(rooms - set(FLOOR))}"


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(SRC)))
def test_imports_only_go_down(path: Path) -> None:
    name = _module_name(path)
    if not name or name == "_moved":
        return
    mine = room_of(name)
    upward = sorted(target for target in _runtime_imports(path)
                    if room_of(target) != mine and room_of(target) in FLOOR and FLOOR[room_of(target)] >= FLOOR[mine])
    assert not upward, f"{name} (floor {FLOOR[mine]}) imports {upward} on its floor or above"


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(SRC)))
def test_modules_are_short(path: Path) -> None:
    lines = len(path.read_text(encoding="utf-8").splitlines())
    name = str(path.relative_to(SRC))
    assert lines <= 520 or name in LONG, f"{name} has {lines} lines: split it, or name it in LONG with why"


def test_the_readme_picture_names_every_room() -> None:
    readme = (SRC.parent.parent / "README.md").read_text(encoding="utf-8")
    picture = readme.split("```mermaid", 1)[1].split("```", 1)[0]
    folders = {p.name for p in SRC.iterdir() if p.is_dir() and (p / "__init__.py").exists()}
    drawn = set(re.findall(r'"\(?([a-z_]+)/<br/>', picture))  # each room drawn as "name/<br/>its modules"
    # the night's stages are drawn; ops/ and cli/ (around the night) are named in the text under the picture
    around = {"ops", "cli"}
    assert folders - around == drawn, (folders, drawn)
    for room in around:
        assert f"`{room}/`" in readme
    modules = {p.stem for room in folders - around for p in (SRC / room).glob("*.py") if p.stem != "__init__"}
    assert {m for m in modules if m not in picture} <= {"generic", "base", "library", "nspcc_list", "rolling",
                                                         "yearly", "fellegi_sunter", "results"}, "a module not drawn"
