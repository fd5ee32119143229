"""``cercle discord …``: the exact command payload, and the invite link with its permissions."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from typing import Any

from bot.adapters.discord.commands import check_limits, payload_hash, render_commands
from bot.adapters.discord.platform import PERMISSIONS, invite_url
from bot.commands import CommandSpec


def add_parser(sub: Any) -> None:
    """Add the ``discord`` subcommand to the ``cercle`` parser."""
    discord = sub.add_parser("discord", help="Discord set-up: command payload, invite link")
    discord.add_argument("--config", help="TOML file (default: as for run)")
    actions = discord.add_subparsers(dest="discord_command", metavar="ACTION", required=True)
    commands = actions.add_parser(
        "commands",
        help="the application commands exactly as they are synced",
        description="Print the application commands rendered from every command spec: the "
        "very payload `cercle run` syncs (only when its hash changed).",
    )
    commands.add_argument("--json", action="store_true", help="print the JSON payload")
    invite = actions.add_parser(
        "invite-url",
        help="the link that adds the bot to a server, with exactly the permissions it needs",
    )
    invite.add_argument(
        "--application-id", type=int, help="default: discord.application_id of the configuration"
    )


def needs_config(args: argparse.Namespace) -> bool:
    """Whether the subcommand reads the configuration."""
    return not (args.discord_command == "invite-url" and args.application_id)


def run(args: argparse.Namespace, config: Any, specs: Callable[[], Sequence[CommandSpec]]) -> int:
    """Run ``cercle discord ACTION``; returns the exit code.

    ``specs`` gives every command spec (the composition root knows the cogs).
    """
    if args.discord_command == "invite-url":
        application_id = args.application_id or (config and config.discord.application_id)
        if not application_id:
            print(
                "discord.application_id: set it in the configuration (the application id from "
                "the developer portal) or pass --application-id",
                file=sys.stderr,
            )
            return 2
        print(invite_url(int(application_id)))
        granted = ", ".join(sorted(name for name, on in PERMISSIONS if on))
        print(f"permissions ({PERMISSIONS.value}): {granted}", file=sys.stderr)
        return 0
    payload = render_commands(specs())
    problems = check_limits(payload)
    if args.json:
        print(json.dumps(payload, indent=2, ensure_ascii=False))
    else:
        for command in payload:
            hosts = " (hosts)" if command.get("default_member_permissions") else ""
            subs = [o["name"] for o in command.get("options", []) if o.get("type") == 1]
            shown = f"/{command['name']} {'|'.join(subs)}".rstrip() if command["type"] == 1 else ""
            print(f"{shown or command['name']}{hosts}: {command.get('description', '')}")
        print(f"hash {payload_hash(payload)}")
    for problem in problems:
        print(f"discord limit: {problem}", file=sys.stderr)
    return 1 if problems else 0
