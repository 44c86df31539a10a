"""The house rules a newcomer relies on, checked: small modules, short functions, a small App."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("feeds", "storage", "tui")
MODULE_MAX = 700
FUNCTION_MAX = 60
APP_MAX = 400


def _modules() -> list[Path]:
    return sorted(p for pkg in PACKAGES for p in (ROOT / pkg).rglob("*.py"))


def _long_functions(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    out = []
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            length = node.end_lineno - node.lineno + 1
            if length > FUNCTION_MAX:
                out.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.name} ({length} lines)")
    return out


def test_no_module_is_over_the_limit() -> None:
    too_long = [f"{p.relative_to(ROOT)} ({n} lines)" for p in _modules()
                if (n := len(p.read_text(encoding="utf-8").splitlines())) > MODULE_MAX]
    assert not too_long, f"modules over {MODULE_MAX} lines: {too_long}"


def test_no_function_is_over_the_limit() -> None:
    too_long = [entry for p in _modules() for entry in _long_functions(p)]
    assert not too_long, f"functions over {FUNCTION_MAX} lines: {too_long}"


def test_the_app_is_a_composition_root() -> None:
    app = ROOT / "tui" / "dashboard" / "app.py"
    assert len(app.read_text(encoding="utf-8").splitlines()) <= APP_MAX


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(ROOT)))
def test_code_speaks_of_the_product_not_the_tracker(path: Path) -> None:
    import re

    assert not re.search(r"\b[Ii]ssue #?\d+", path.read_text(encoding="utf-8"))
