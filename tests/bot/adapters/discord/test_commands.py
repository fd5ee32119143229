"""The application-command payload: rendered from the specs, within Discord's limits."""

from __future__ import annotations

import json
from typing import Any

import discord
import pytest

from bot.adapters.discord import PERMISSIONS, check_limits, invite_url, payload_hash
from bot.adapters.discord.commands import read_invocation, render_commands
from bot.cli import main
from bot.commands import Choice, CommandSpec, OptionSpec, OptionType, Scope
from bot.types import Role


def _cli_payload(capsys: pytest.CaptureFixture[str]) -> list[dict[str, Any]]:
    assert main(["discord", "commands", "--json"]) == 0
    payload: list[dict[str, Any]] = json.loads(capsys.readouterr().out)
    return payload


def test_cli_payload_is_within_discords_limits_and_localized(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    monkeypatch.chdir(tmp_path)  # no cercle.toml: built-in defaults
    payload = _cli_payload(capsys)
    assert check_limits(payload) == []
    chat = {c["name"]: c for c in payload if c["type"] == 1}
    assert {"help", "answer", "prompt", "profession", "circle"} <= set(chat)
    for command in chat.values():
        nodes = [command, *command["options"]]
        nodes += [o for sub in command["options"] if sub["type"] == 1 for o in sub["options"]]
        for node in nodes:
            assert 1 <= len(node["description"]) <= 100
            fr = node["description_localizations"]["fr"]
            assert 1 <= len(fr) <= 100
        assert len(command["options"]) <= 25
    # French really is French where the catalog has it.
    assert chat["help"]["description_localizations"]["fr"] != chat["help"]["description"]
    # Every subcommand is there, grouped by its first word.
    subcommands = {o["name"] for o in chat["prompt"]["options"]}
    assert {"add", "list", "next", "now", "skip"} <= subcommands
    # The payload printed is the payload synced: same hash as rendering the specs directly.
    assert payload_hash(payload) == payload_hash(_cli_payload(capsys))


def test_groups_hide_only_when_every_subcommand_is_for_hosts() -> None:
    specs = [
        CommandSpec(("mod", "queue"), "Queue.", role=Role.HOST, scope=Scope.CIRCLE),
        CommandSpec(("mod", "log"), "Log.", role=Role.HOST, scope=Scope.CIRCLE),
        CommandSpec(("prompt", "add"), "Add.", role=Role.HOST, scope=Scope.CIRCLE),
        CommandSpec(("prompt", "next"), "Next.", scope=Scope.CIRCLE),
        CommandSpec(("help",), "Help."),
    ]
    by_name = {c["name"]: c for c in render_commands(specs)}
    assert by_name["mod"]["default_member_permissions"] == str(
        discord.Permissions(manage_messages=True).value
    )
    assert by_name["prompt"]["default_member_permissions"] is None
    assert by_name["mod"]["contexts"] == [0]  # guild only
    assert by_name["help"]["contexts"] == [0, 1]  # also in the bot's DMs
    assert [o["name"] for o in by_name["mod"]["options"]] == ["log", "queue"]


def test_options_are_typed_with_choices_ranges_and_autocomplete() -> None:
    spec = CommandSpec(
        ("rule",),
        "Rule.",
        options=(
            OptionSpec("id", "Id", OptionType.INTEGER, required=True, min_value=1),
            OptionSpec(
                "action", "Action", choices=(Choice("hide", "hide"), Choice("warn", "warn"))
            ),
            OptionSpec("weight", "Weight", OptionType.NUMBER, min_value=0, max_value=10),
            OptionSpec("on", "On", OptionType.BOOLEAN),
            OptionSpec("name", "Name", autocomplete=True, max_length=80),
        ),
    )
    (command,) = render_commands([spec])
    options = {o["name"]: o for o in command["options"]}
    assert [o["type"] for o in command["options"]] == [4, 3, 10, 5, 3]
    assert options["id"]["required"] and options["id"]["min_value"] == 1
    assert [c["value"] for c in options["action"]["choices"]] == ["hide", "warn"]
    assert options["action"]["choices"][0]["name_localizations"]["fr"]
    assert options["weight"]["max_value"] == 10
    assert options["name"]["autocomplete"] and options["name"]["max_length"] == 80


def test_a_word_cannot_be_both_a_command_and_a_group() -> None:
    with pytest.raises(ValueError, match="both plain and grouped: prompt"):
        render_commands([CommandSpec(("prompt",), "P."), CommandSpec(("prompt", "add"), "A.")])


def test_limits_are_checked() -> None:
    too_many = {
        "type": 1,
        "name": "big",
        "description": "d" * 101,
        "description_localizations": {},
        "options": [
            {
                "type": 3,
                "name": f"o{i}",
                "description": "o",
                "description_localizations": {"fr": "o"},
            }
            for i in range(26)
        ],
    }
    problems = check_limits([too_many])
    assert any("descriptions must have 1-100" in p for p in problems)
    assert any("missing description localizations" in p for p in problems)
    assert any("26 options, at most 25" in p for p in problems)


def test_hash_ignores_key_order_but_not_content() -> None:
    one = [{"name": "a", "description": "x"}]
    assert payload_hash(one) == payload_hash([{"description": "x", "name": "a"}])
    assert payload_hash(one) != payload_hash([{"name": "a", "description": "y"}])


def test_invocations_read_back_from_interaction_data() -> None:
    data = {
        "name": "prompt",
        "options": [
            {
                "type": 1,
                "name": "remove",
                "options": [{"type": 4, "name": "id", "value": 3, "focused": True}],
            }
        ],
    }
    invoked = read_invocation(data)
    assert invoked.path == ("prompt", "remove")
    assert invoked.options == {"id": 3}
    assert invoked.focused == "id"
    assert read_invocation({"name": "help"}).path == ("help",)


def test_invite_url_asks_for_exactly_what_the_bot_does(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["discord", "invite-url", "--application-id", "42"]) == 0
    out = capsys.readouterr()
    assert out.out.strip() == invite_url(42)
    assert "scope=bot+applications.commands" in out.out
    assert f"permissions={PERMISSIONS.value}" in out.out
    granted = {name for name, on in PERMISSIONS if on}
    assert granted == {
        "read_messages",  # View Channel
        "send_messages",
        "send_messages_in_threads",
        "create_public_threads",
        "manage_threads",
        "read_message_history",
        "add_reactions",
        "embed_links",
        "attach_files",
        "manage_messages",
        "moderate_members",
        "manage_webhooks",  # reposts under the author's name and avatar
    }
    assert not PERMISSIONS.administrator and not PERMISSIONS.mention_everyone


def test_invite_url_without_an_application_id_says_where_to_set_it(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["discord", "invite-url"]) == 2
    assert "discord.application_id" in capsys.readouterr().err
