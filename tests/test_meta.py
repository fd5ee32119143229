"""Rules every cog and command must keep (python-discord's and Red-DiscordBot's lessons)."""

from __future__ import annotations

import ast
import inspect
from pathlib import Path

import pytest

from bot.cog import Cog
from bot.commands import validate_spec
from bot.compose import default_cogs
from bot.testing import Harness

ROOT = Path(__file__).parents[1]
COG_FILES = sorted((ROOT / "cogs").rglob("*.py"))
FORBIDDEN_MODULES = {"discord", "nio"}
WALL_CLOCK_CALLS = {
    ("datetime", "now"),
    ("datetime", "utcnow"),
    ("datetime", "today"),
    ("date", "today"),
    ("time", "time"),
    ("time", "monotonic"),
}


def test_there_are_cogs_to_check() -> None:
    assert COG_FILES and default_cogs()


@pytest.mark.parametrize("path", COG_FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_cogs_import_no_platform_library(path: Path) -> None:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            names = [node.module or ""]
        else:
            continue
        for name in names:
            assert name.split(".")[0] not in FORBIDDEN_MODULES, f"{path.name} imports {name}"


@pytest.mark.parametrize("path", COG_FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_cogs_never_read_the_wall_clock(path: Path) -> None:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            owner = node.func.value
            name = owner.id if isinstance(owner, ast.Name) else getattr(owner, "attr", "")
            assert (name, node.func.attr) not in WALL_CLOCK_CALLS, (
                f"{path.name}:{node.lineno} calls {name}.{node.func.attr}(): use the injected clock"
            )


def test_command_specs_are_valid_and_unique() -> None:
    harness = Harness("discord")  # builds every cog and registers their commands
    specs = harness.bot.specs
    assert specs
    names = [spec.qualified_name for spec in specs]
    assert len(names) == len(set(names))
    problems = [problem for spec in specs for problem in validate_spec(spec)]
    assert problems == []
    # Groups and plain commands cannot share a name on Discord.
    singles = {spec.path[0] for spec in specs if len(spec.path) == 1}
    groups = {spec.path[0] for spec in specs if len(spec.path) == 2}
    assert singles.isdisjoint(groups)


@pytest.mark.parametrize("cog", default_cogs(), ids=lambda c: c.__name__)
def test_every_cog_implements_the_member_data_hooks(cog: type[Cog]) -> None:
    for hook in ("export_member_data", "erase_member_data"):
        assert getattr(cog, hook) is not getattr(Cog, hook), f"{cog.__name__} lacks {hook}"
        assert inspect.iscoroutinefunction(getattr(cog, hook))


@pytest.mark.parametrize("cog", default_cogs(), ids=lambda c: c.__name__)
def test_every_cog_has_a_unique_name(cog: type[Cog]) -> None:
    assert cog.name
    assert [c.name for c in default_cogs()].count(cog.name) == 1
