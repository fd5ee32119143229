"""``cercle dev-matrix``: a throwaway Synapse on loopback with a circle, and the bot on it.

Installs Synapse on demand into its own environment (it is a dev tool, never a dependency of
the bot), creates a bot, a host and a member account and a circle room, runs the bot against
it and prints what a person needs to connect any Matrix client. Ctrl-C stops everything.
"""

from __future__ import annotations

import argparse
import secrets
import shutil
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path

from pydantic import SecretStr

from bot.adapters.matrix.devserver import (
    SYNAPSE_REQUIREMENT,
    SynapseServer,
    SynapseUnavailable,
    default_env,
    free_port,
    install,
    is_installed,
    throwaway_directory,
)
from bot.config import BotSettings, Config, MatrixSettings
from storage.database import Database


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Declare the ``dev-matrix`` subcommand."""
    dev = sub.add_parser(
        "dev-matrix",
        help="try the bot on a throwaway local Matrix homeserver (Synapse, installed on demand)",
        description="Start a throwaway Synapse on 127.0.0.1, create a bot, a host and a member "
        "account and a circle room, run the bot there and print how to connect a Matrix "
        "client. Ctrl-C stops everything and deletes the server's data.",
    )
    dev.add_argument(
        "--synapse-env",
        type=Path,
        help="virtualenv holding Synapse, created on demand "
        "(default: $CERCLE_SYNAPSE_ENV or ./.venv-synapse)",
    )
    dev.add_argument("--port", type=int, default=0, help="port to listen on (default: a free one)")
    dev.add_argument("--locale", choices=("fr", "en"), default="fr", help="the circle's language")


Serve = Callable[[Config, Database], Awaitable[int]]
"""Runs the bot on a configuration and a database until stopped (the composition root's)."""


async def run(args: argparse.Namespace, serve: Serve) -> int:
    """Run ``cercle dev-matrix`` until Ctrl-C; returns the exit code.

    ``serve`` builds and runs the bot once the homeserver and its accounts exist.
    """
    env = (args.synapse_env or default_env()).absolute()
    if not is_installed(env):
        print(f"-- installing {SYNAPSE_REQUIREMENT} into {env} (once, ~1 min)", file=sys.stderr)
    try:
        await install(env)
    except SynapseUnavailable as error:
        print(f"cannot install Synapse: {error}", file=sys.stderr)
        return 1
    directory = throwaway_directory()
    server = SynapseServer(env, directory, port=args.port or free_port())
    try:
        await server.start()
        return await _provision(server, directory, args.locale, serve)
    except SynapseUnavailable as error:
        print(f"cannot start Synapse: {error}", file=sys.stderr)
        return 1
    finally:
        await server.stop()
        shutil.rmtree(directory, ignore_errors=True)


async def _provision(server: SynapseServer, directory: Path, locale: str, serve: Serve) -> int:
    passwords = {name: secrets.token_urlsafe(9) for name in ("cercle", "host", "member")}
    bot_account = await server.register("cercle", passwords["cercle"])
    host = await server.register("host", passwords["host"])
    member = await server.register("member", passwords["member"])
    room = await server.admin_request(
        host.access_token,
        "POST",
        "/_matrix/client/v3/createRoom",
        {
            "name": "Cercle",
            "topic": "Try Cercle: !help",
            "preset": "private_chat",
            "invite": [bot_account.user_id, member.user_id],
            "power_level_content_override": {"users": {bot_account.user_id: 100}},
        },
    )
    config = Config(
        bot=BotSettings(adapters=["matrix"], locale=locale, instance="dev-matrix"),
        matrix=MatrixSettings(
            homeserver=server.url,
            user_id=bot_account.user_id,
            password=SecretStr(bot_account.password),
            allowed_inviters=[":localhost"],
        ),
    )
    db = Database(f"sqlite+aiosqlite:///{directory}/cercle.db")
    print(
        f"""
Cercle is running on a throwaway Matrix homeserver (unencrypted rooms).

  homeserver   {server.url}   (server name: localhost)
  circle room  {room["room_id"]}  ("Cercle")
  host         @host:localhost     password {passwords["host"]}
  member       @member:localhost   password {passwords["member"]}
  bot          {bot_account.user_id}

Sign in with any Matrix client (Element: "Edit" the homeserver, enter {server.url}),
accept the invite to "Cercle", then type !help. The host can open a round with !prompt now.
Ctrl-C stops the bot and the homeserver and deletes their data.
""",
        flush=True,
    )
    return await serve(config, db)
