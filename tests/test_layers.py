"""The house rules of the layout: who may import whom, and rooms of a readable size.

The composition root (``bot/compose.py``) is the only place that picks adapters and cogs;
the kernel, the adapters and the storage never reach up into the features; cogs never reach
down into SQL; no production module leans on the test kit.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]
PRODUCTION = sorted(
    p
    for top in ("bot", "cogs", "storage")
    for p in (ROOT / top).rglob("*.py")
    if "testing" not in p.relative_to(ROOT).parts
)
#: Modules of the kernel and the adapters: they must not know any feature.
KERNEL = sorted(
    [ROOT / "bot" / name for name in ("app.py", "cog.py", "router.py", "context.py")]
    + [ROOT / "bot" / name for name in ("services.py", "registry.py", "platform.py", "types.py")]
    + list((ROOT / "bot" / "adapters").rglob("*.py"))
    + list((ROOT / "storage").rglob("*.py"))
)
COG_FILES = sorted((ROOT / "cogs").rglob("*.py"))
#: A file a newcomer can read in one sitting.
MAX_LINES = 600


def _imports(path: Path) -> Iterator[tuple[int, str]]:
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield node.lineno, node.module


def _name(path: Path) -> str:
    return str(path.relative_to(ROOT))


@pytest.mark.parametrize("path", KERNEL, ids=_name)
def test_the_kernel_adapters_and_storage_import_no_cog(path: Path) -> None:
    for line, module in _imports(path):
        assert module.split(".")[0] != "cogs", f"{_name(path)}:{line} imports {module}"


@pytest.mark.parametrize("path", PRODUCTION, ids=_name)
def test_no_production_module_imports_the_test_kit(path: Path) -> None:
    for line, module in _imports(path):
        assert not module.startswith("bot.testing"), f"{_name(path)}:{line} imports {module}"


@pytest.mark.parametrize("path", COG_FILES, ids=_name)
def test_cogs_leave_sql_to_storage(path: Path) -> None:
    for line, module in _imports(path):
        assert module.split(".")[0] not in ("sqlmodel", "sqlalchemy"), (
            f"{_name(path)}:{line} imports {module}: put the query in storage/"
        )


@pytest.mark.parametrize("path", COG_FILES, ids=_name)
def test_cogs_are_not_handed_the_whole_bot(path: Path) -> None:
    source = path.read_text(encoding="utf-8")
    assert "services.bot" not in source and "ctx.bot" not in source, _name(path)


@pytest.mark.parametrize(
    "path",
    sorted([*COG_FILES, *(ROOT / "bot" / "adapters").rglob("*.py")]),
    ids=_name,
)
def test_feature_and_adapter_files_stay_readable(path: Path) -> None:
    lines = len(path.read_text(encoding="utf-8").splitlines())
    assert lines <= MAX_LINES, f"{_name(path)} has {lines} lines: split it along its sections"


def test_only_the_composition_root_lists_the_cogs() -> None:
    listing = [
        _name(path) for path in PRODUCTION if "def default_cogs" in path.read_text(encoding="utf-8")
    ]
    assert listing == ["bot/compose.py"]
