"""The ``cercle`` command line."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
import sys
import tempfile
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

from sqlalchemy.engine import make_url

from bot import compose
from bot.app import StartupError
from bot.config import Config, ConfigError, default_config_path, format_problems, load_config
from bot.logs import setup_logging
from bot.scheduler import Scheduler
from storage.database import Database

EXIT_CONFIG = 2
log = logging.getLogger("cercle")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every subcommand."""
    parser = argparse.ArgumentParser(
        prog="cercle",
        description="Cercle: a collective intelligence circle for Discord and Matrix.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    run = sub.add_parser(
        "run",
        help="run the bot (the console room when no platform is configured)",
        description="Run the bot. With no configuration it opens the console room: "
        "type `NAME> text` lines, or pipe a script in; end of input stops it.",
    )
    run.add_argument(
        "--config", type=Path, help="TOML file (default: $CERCLE_CONFIG or ./cercle.toml)"
    )
    run.add_argument(
        "--clock",
        choices=("system", "fake"),
        default="system",
        help="`fake` starts a simulated clock moved by `:advance` (uses a throwaway database "
        "unless --db is given)",
    )
    run.add_argument(
        "--start",
        type=_aware_datetime,
        help="with --clock fake: the simulated start time (ISO 8601, e.g. 2026-01-05T08:00+01:00)",
    )
    run.add_argument(
        "--host",
        action="append",
        default=[],
        metavar="NAME",
        help="give console member NAME the host role (repeatable)",
    )
    run.add_argument("--db", metavar="URL", help="database URL (overrides the configuration)")
    run.add_argument(
        "--metrics-port",
        type=int,
        metavar="PORT",
        help="serve Prometheus metrics on 127.0.0.1:PORT/metrics",
    )
    run.add_argument(
        "--log-format",
        choices=("text", "json"),
        default="text",
        help="log lines as text or as JSON objects (for log collectors)",
    )

    check = sub.add_parser(
        "check-config", help="validate a configuration file and list every problem"
    )
    check.add_argument("file", type=Path, nargs="?", help="TOML file (default: as for run)")

    db = sub.add_parser("db", help="database schema")
    db.add_argument("--config", type=Path, help="TOML file (default: as for run)")
    db.add_argument("--db", metavar="URL", help="database URL (overrides the configuration)")
    db_sub = db.add_subparsers(dest="db_command", metavar="ACTION", required=True)
    db_sub.add_parser("upgrade", help="apply every pending migration")
    db_sub.add_parser("current", help="show the schema revision and whether it is current")

    moderate = sub.add_parser(
        "moderate",
        help="run the courtesy rules over past messages (JSON lines), offline",
        description="Read one JSON object per line (`text`, optionally `lang`, `author`, `at`, "
        "`joined_at`), write each back with `action`, `category`, `rule` and `redacted_text` "
        "when something was masked; a summary table goes to standard error. Unreadable lines "
        "are reported with their number and skipped, and the exit code is then 1.",
    )
    moderate.add_argument(
        "--input",
        type=Path,
        required=True,
        metavar="FILE",
        help="JSON lines to moderate (- for stdin)",
    )
    moderate.add_argument(
        "--output", type=Path, metavar="FILE", help="where to write the results (default: stdout)"
    )
    moderate.add_argument(
        "--config",
        type=Path,
        metavar="FILE",
        help="TOML rules overrides (same shape as cogs/courtesy/data/rules.toml)",
    )
    from bot.adapters.matrix import dev as matrix_dev

    matrix_dev.add_parser(sub)
    from bot.adapters.discord import cli as discord_cli

    discord_cli.add_parser(sub)
    from cogs.digest import cli as digest_cli  # `digest` and `demo`

    digest_cli.add_parsers(sub)
    return parser


def _aware_datetime(text: str) -> datetime:
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an ISO 8601 time: {text!r}") from None
    if value.tzinfo is None:
        raise argparse.ArgumentTypeError("give a timezone, e.g. 2026-01-05T08:00+01:00")
    return value


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``cercle`` script; returns the exit code."""
    args = build_parser().parse_args(argv)
    if args.command == "check-config":
        return _check_config(args.file)
    if args.command == "moderate":
        from cogs.courtesy.batch import run as moderate

        return moderate(args.input, args.output, args.config)
    if args.command in ("digest", "demo"):
        from cogs.digest import cli as digest_cli

        return digest_cli.main(args)
    if args.command == "dev-matrix":
        from bot.adapters.matrix import dev as matrix_dev

        _setup_logging(Config())
        return asyncio.run(matrix_dev.run(args, _serve))
    if args.command == "discord":
        from bot.adapters.discord import cli as discord_cli

        if not discord_cli.needs_config(args):
            return discord_cli.run(args, None, lambda: asyncio.run(compose.command_specs()))
    config = _load_or_report(getattr(args, "config", None))
    if config is None:
        return EXIT_CONFIG
    if args.command == "discord":
        return discord_cli.run(args, config, lambda: asyncio.run(compose.command_specs(config)))
    _setup_logging(config, json_lines=getattr(args, "log_format", "text") == "json")
    if args.command == "db":
        return asyncio.run(_db(args, config))
    return asyncio.run(_run(args, config))


def _check_config(file: Path | None) -> int:
    path = file or default_config_path()
    try:
        load_config(path)
    except ConfigError as error:
        print(format_problems(error.problems, path), file=sys.stderr)
        return EXIT_CONFIG
    print(f"{path or 'built-in defaults'}: OK")
    return 0


def _load_or_report(file: Path | None) -> Config | None:
    path = file or default_config_path()
    try:
        return load_config(path)
    except ConfigError as error:
        print(format_problems(error.problems, path), file=sys.stderr)
        return None


def _setup_logging(config: Config, *, json_lines: bool = False) -> None:
    secrets = [
        secret.get_secret_value()
        for secret in (config.discord.token, config.matrix.password, config.matrix.access_token)
        if secret is not None
    ]
    password = make_url(config.database.url).password
    if password:
        secrets.append(str(password))
    setup_logging(config.bot.log_level, json_lines=json_lines, secrets=secrets)


async def _db(args: argparse.Namespace, config: Config) -> int:
    db = Database(args.db or config.database.url)
    try:
        if args.db_command == "upgrade":
            await db.upgrade()
            print(f"{db.url}: schema at {await db.current_revision()} (head)")
        else:
            current = await db.current_revision()
            state = "current" if await db.is_up_to_date() else f"behind {db.head_revision()}"
            print(f"{db.url}: schema at {current or 'nothing (empty database)'} ({state})")
        return 0
    finally:
        await db.dispose()


async def _run(args: argparse.Namespace, config: Config) -> int:
    fake = args.clock == "fake"
    tmp = tempfile.TemporaryDirectory(prefix="cercle-sim-") if fake and not args.db else None
    url = args.db or (f"sqlite+aiosqlite:///{tmp.name}/cercle.db" if tmp else config.database.url)
    if tmp is not None:
        print("-- simulated clock: using a throwaway database", file=sys.stderr)
    db = Database(url)
    try:
        return await _serve(
            config,
            db,
            fake=fake,
            start=args.start,
            hosts=args.host,
            metrics_port=args.metrics_port,
        )
    finally:
        if tmp is not None:
            tmp.cleanup()


async def _serve(
    config: Config,
    db: Database,
    *,
    fake: bool = False,
    start: datetime | None = None,
    hosts: Sequence[str] = (),
    metrics_port: int | None = None,
) -> int:
    """Build the bot through the composition root and run it until stopped; the exit code."""
    scheduler: Scheduler = (
        compose.manual_scheduler(config, db, start=start)
        if fake
        else compose.live_scheduler(config, db)
    )
    bot = compose.build(
        config, db, scheduler, compose.platforms(config, db, scheduler, hosts=hosts)
    )
    if metrics_port:
        bot.metrics.serve(metrics_port)
        log.info("metrics on http://127.0.0.1:%s/metrics", metrics_port)
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):  # not on every OS
            loop.add_signal_handler(sig, bot.request_stop)
    try:
        await bot.run()
    except StartupError as error:
        print(f"cannot start: {error}", file=sys.stderr)
        return 1
    finally:
        await db.dispose()
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
