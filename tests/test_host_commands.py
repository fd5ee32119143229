"""The README's list of host commands and the specs agree: a command listed for hosts is
host-only (``CommandSpec.role``), and every host-only command is listed for hosts."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import pytest

from bot.commands import CommandSpec
from bot.compose import command_specs
from bot.testing import Harness
from bot.types import Role

README = Path(__file__).parents[1] / "README.md"


def readme_commands(who: str) -> set[str]:
    """The commands in the README's table row for ``who`` (``members`` or ``hosts``).

    ``/prompt add\\|list`` stands for ``prompt add`` and ``prompt list``.
    """
    rows = [
        line
        for line in README.read_text(encoding="utf-8").splitlines()
        if re.match(rf"\|\s*{who}\s*\|", line)
    ]
    assert len(rows) == 1, f"the README has no single '| {who} |' row"
    found = set()
    for span in re.findall(r"`/([^`]+)`", rows[0]):
        words = span.split(" ", 1)
        group, rest = words[0], words[1] if len(words) > 1 else ""
        subcommands = re.split(r"\\?\|", rest.split(" ", 1)[0]) if rest else [""]
        found |= {f"{group} {sub}".strip() for sub in subcommands}
    return found


@pytest.fixture(scope="module")
def specs() -> dict[str, CommandSpec]:
    """Every command of the default cogs, by name (``prompt add``)."""
    return {spec.qualified_name: spec for spec in asyncio.run(command_specs())}


def test_the_readme_rows_are_read() -> None:
    # So the comparisons below cannot pass on an empty list.
    assert {"prompt add", "prompt reject", "circle setup", "digest export"} <= readme_commands(
        "hosts"
    )
    assert {"profession set", "circle forget"} <= readme_commands("members")


def test_every_command_listed_for_hosts_is_host_only(specs: dict[str, CommandSpec]) -> None:
    listed = readme_commands("hosts")
    assert listed - set(specs) == set(), "listed for hosts but no such command"
    assert {name for name in listed if specs[name].role is not Role.HOST} == set()


def test_every_host_only_command_is_listed_for_hosts(specs: dict[str, CommandSpec]) -> None:
    host_only = {name for name, spec in specs.items() if spec.role is Role.HOST}
    assert host_only - readme_commands("hosts") == set()


def test_no_command_listed_for_members_is_host_only(specs: dict[str, CommandSpec]) -> None:
    listed = readme_commands("members")
    assert listed - set(specs) == set(), "listed for members but no such command"
    assert {name for name in listed if specs[name].role is Role.HOST} == set()


async def test_members_cannot_export_the_digest(profile: str) -> None:
    async with Harness(profile, hosts=["hana"]) as h:
        await h.say("ana", "bonjour")
        await h.command("hana", "/prompt now")
        refused = await h.command("ana", "/digest export format:json")
        assert [a for s in refused for a in s.content.attachments] == []
        assert "réservé aux hôtes" in refused[-1].text
        # The round is still open: a host names it to get its interim digest.
        given = await h.command("hana", "/digest export format:json round:1")
        assert [a.filename for s in given for a in s.content.attachments] == ["digest-1.json"]
