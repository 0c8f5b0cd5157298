"""Issue 10's first Done-when, as a test: the lifecycle table is the only place stages are
listed. Any tuple, list, set or frozenset of two or more `Stage.X` elsewhere in the package is a
second truth about what stages mean (e.g. importer's `_ORPHAN_STAGES`, now a trait)."""

from __future__ import annotations

import ast
from pathlib import Path

import runway_desktop

PACKAGE = Path(runway_desktop.__file__).parent
TABLE = PACKAGE / "engine" / "lifecycle_table.py"


def _stage_members(node: ast.AST) -> int:
    elements: list[ast.expr] = []
    if isinstance(node, ast.Tuple | ast.List | ast.Set):
        elements = list(node.elts)
    return sum(
        1 for e in elements
        if isinstance(e, ast.Attribute) and isinstance(e.value, ast.Name) and e.value.id == "Stage"
    )


def stage_collections(source: str) -> list[int]:
    """Line numbers of literal collections holding two or more stages."""
    return [node.lineno for node in ast.walk(ast.parse(source))
            if isinstance(node, ast.Tuple | ast.List | ast.Set) and _stage_members(node) >= 2]


def test_the_check_finds_a_stage_set() -> None:
    assert stage_collections("X = (Stage.SUBMITTING, Stage.ATTENTION)\n") == [1]
    assert stage_collections("if s in {Stage.DONE, Stage.FAILED}: pass\n") == [1]
    assert stage_collections("x = frozenset([Stage.DONE, Stage.FAILED])\n") == [1]
    assert stage_collections("x = Stage.DONE\ny = (Stage.DONE, 1)\n") == []


def test_no_module_but_the_table_lists_stages() -> None:
    found = {
        str(path.relative_to(PACKAGE)): lines
        for path in sorted(PACKAGE.rglob("*.py"))
        if path != TABLE and (lines := stage_collections(path.read_text(encoding="utf-8")))
    }
    assert found == {}, f"stage sets outside engine/lifecycle_table.py: {found}"
