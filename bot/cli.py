"""The ``cercle`` command line."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import functools
import logging
import sys
import tempfile
from collections.abc import Sequence
from datetime import datetime
from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as package_version
from pathlib import Path

from sqlalchemy.engine import make_url

from bot import compose, shutdown
from bot import init as setup
from bot.app import Bot
from bot.config import (
    Config,
    ConfigError,
    Override,
    default_config_path,
    format_problems,
    load_config,
)
from bot.logs import mask, setup_logging
from bot.scheduler import Scheduler
from bot.supervisor import Supervisor
from storage.database import Database

EXIT_CONFIG = 2
#: Exit code of a bot that could not start or stopped on a failure.
EXIT_FAILURE = 1
#: The longest failure message written (a hostile server may echo megabytes).
_MAX_REASON = 500
log = logging.getLogger("cercle")


def _version() -> str:
    """The installed version (a source tree run without installing says so)."""
    try:
        return package_version("cercle")
    except PackageNotFoundError:
        return "(not installed)"


#: Subcommands whose parser is defined without importing a platform's or the digest's
#: libraries (aiohttp, discord.py, numpy): `cercle run` on the console loads none of them.
_LIGHT_COMMANDS = frozenset({"run", "init", "check-config", "db", "health", "moderate"})


def _command_of(argv: Sequence[str]) -> str | None:
    """The subcommand named in ``argv`` (the first word that is not an option), if any."""
    return next((arg for arg in argv if not arg.startswith("-")), None)


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The argument parser of every subcommand (of ``command`` only when it is a light one:
    the others' parsers import their modules)."""
    parser = argparse.ArgumentParser(
        prog="cercle",
        description="Cercle: a collective intelligence circle for Discord and Matrix.",
    )
    parser.add_argument("--version", action="version", version=f"cercle {_version()}")
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
        type=_port,
        metavar="PORT",
        help="serve Prometheus metrics on 127.0.0.1:PORT/metrics",
    )
    run.add_argument(
        "--log-format",
        choices=("text", "json"),
        default="text",
        help="log lines as text or as JSON objects (for log collectors)",
    )

    setup.add_parser(sub)  # `init`

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

    health = sub.add_parser(
        "health",
        help="exit 0 when the configured database answers at the current schema (healthchecks)",
        description="Load the configuration and ask the database it names for its schema "
        "revision: exit 0 when it answers at the current one, 1 otherwise (a bad "
        "configuration included), with one line saying why. Cheap enough for a container "
        "HEALTHCHECK; creates nothing.",
    )
    health.add_argument("--config", type=Path, help="TOML file (default: as for run)")
    health.add_argument("--db", metavar="URL", help="database URL (overrides the configuration)")

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
    if command in _LIGHT_COMMANDS:
        return parser
    from bot.adapters.matrix import dev as matrix_dev

    matrix_dev.add_parser(sub)
    from bot.adapters.discord import cli as discord_cli

    discord_cli.add_parser(sub)
    from cogs.digest import cli as digest_cli  # `digest` and `demo`

    digest_cli.add_parsers(sub)
    return parser


def _port(text: str) -> int:
    try:
        port = int(text)
    except ValueError:
        port = 0
    if not 1 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"not a port (1 to 65535): {text!r}")
    return port


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
    words = sys.argv[1:] if argv is None else argv
    args = build_parser(_command_of(words)).parse_args(words)
    if args.command == "init":
        return setup.main(args)
    if args.command == "check-config":
        return _check_config(args.file)
    if args.command == "moderate":
        from cogs.courtesy.batch import run as moderate

        return moderate(args.input, args.output, args.config)
    if args.command in ("digest", "demo", "archive"):
        from cogs.digest import cli as digest_cli

        return digest_cli.main(args)
    if args.command == "dev-matrix":
        from bot.adapters.matrix import dev as matrix_dev

        _setup_logging(Config())
        # Synapse is stopped and deleted after the bot: no deadline may cut that short.
        return asyncio.run(matrix_dev.run(args, functools.partial(_serve, exit_deadline=None)))
    if args.command == "discord":
        from bot.adapters.discord import cli as discord_cli

        if not discord_cli.needs_config(args):
            return discord_cli.run(args, None, lambda: asyncio.run(compose.command_specs()))
    json_lines = getattr(args, "log_format", "text") == "json"
    config = _load_or_report(args, json_lines=json_lines)
    if config is None:
        # Docker reserves a healthcheck's exit code 2: a broken configuration is unhealthy.
        return EXIT_FAILURE if args.command == "health" else EXIT_CONFIG
    if args.command == "health":
        return _health(config)
    if args.command == "discord":
        return discord_cli.run(args, config, lambda: asyncio.run(compose.command_specs(config)))
    _setup_logging(config, json_lines=json_lines)
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


def _load_or_report(args: argparse.Namespace, *, json_lines: bool = False) -> Config | None:
    """The configuration with ``--db`` over it, or ``None`` once every problem was told."""
    path = getattr(args, "config", None) or default_config_path()
    db_url = getattr(args, "db", None)
    overrides = [Override("database.url", db_url, "--db")] if db_url is not None else []
    try:
        return load_config(path, overrides=overrides)
    except ConfigError as error:
        text = format_problems(error.problems, path)
        if json_lines:
            setup_logging("INFO", json_lines=True)
            problems = [str(problem) for problem in error.problems]
            log.error(text.splitlines()[0], extra={"problems": problems})
        else:
            print(text, file=sys.stderr)
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
    try:
        db = Database(config.database.url)
    except Exception as error:
        return _failed(f"cercle db {args.db_command} failed", error)
    try:
        if args.db_command == "upgrade":
            await db.upgrade()
            print(f"{db.url}: schema at {await db.current_revision()} (head)")
        else:
            current = await db.current_revision()
            state = "current" if await db.is_up_to_date() else f"behind {db.head_revision()}"
            print(f"{db.url}: schema at {current or 'nothing (empty database)'} ({state})")
        return 0
    except Exception as error:
        return _failed(f"cercle db {args.db_command} failed", error)
    finally:
        await db.dispose()


#: A healthcheck that hangs is as bad as one that fails; Docker's own timeout is longer.
HEALTH_TIMEOUT = 8.0


def _health(config: Config) -> int:
    """Ask the configured database for its schema revision; 0 when it answers at the head."""
    url = make_url(config.database.url)
    if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
        # Opening a missing SQLite file would create an empty database: say so instead.
        path = Path(url.database.removeprefix("file:").split("?", 1)[0])
        if not path.is_file():
            print(f"unhealthy: no database file at {path} (has the bot started?)")
            return EXIT_FAILURE
    return asyncio.run(_ask_schema(config))


async def _ask_schema(config: Config) -> int:
    try:
        db = Database(config.database.url)
    except Exception as error:
        print(f"unhealthy: {_reason(error)}")
        return EXIT_FAILURE
    try:
        current = await asyncio.wait_for(db.current_revision(), HEALTH_TIMEOUT)
    except TimeoutError:
        print(f"unhealthy: {db.url} did not answer within {HEALTH_TIMEOUT:g} s")
        return EXIT_FAILURE
    except Exception as error:
        print(f"unhealthy: {_reason(error)}")
        return EXIT_FAILURE
    finally:
        await db.dispose()
    head = db.head_revision()
    if current != head:
        print(f"unhealthy: {db.url} is at {current or 'no schema'}, not {head}")
        return EXIT_FAILURE
    print(f"healthy: {db.url} at {current}")
    return 0


async def _run(args: argparse.Namespace, config: Config) -> int:
    fake = args.clock == "fake"
    with contextlib.ExitStack() as stack:
        url = config.database.url
        if fake and not args.db:
            tmp = stack.enter_context(tempfile.TemporaryDirectory(prefix="cercle-sim-"))
            url = f"sqlite+aiosqlite:///{tmp}/cercle.db"
            log.info("simulated clock: using a throwaway database")
        try:
            db = Database(url)
        except Exception as error:
            return _failed("cannot start", error)
        return await _serve(
            config,
            db,
            fake=fake,
            start=args.start,
            hosts=args.host,
            metrics_port=args.metrics_port,
        )


async def _serve(
    config: Config,
    db: Database,
    *,
    fake: bool = False,
    start: datetime | None = None,
    hosts: Sequence[str] = (),
    metrics_port: int | None = None,
    exit_deadline: float | None = shutdown.EXIT_DEADLINE,
) -> int:
    """Build the bot through the composition root and run it until stopped; the exit code.

    SIGTERM and SIGINT stop it, and the process ends within ``exit_deadline`` seconds (see
    :func:`bot.shutdown.stop_on_signals`).

    Whatever keeps it from starting (the database, an adapter's login, the metrics port) is
    told in one masked line, ``cannot start: …``, and the exit code is 1.
    """
    try:
        scheduler: Scheduler = (
            compose.manual_scheduler(config, db, start=start)
            if fake
            else compose.live_scheduler(config, db)
        )
        supervisor = Supervisor(scheduler.clock)
        adapters = compose.platforms(config, db, scheduler, hosts=hosts, supervisor=supervisor)
        bot = compose.build(config, db, scheduler, adapters, supervisor=supervisor)
        if metrics_port:
            bot.metrics.serve(metrics_port)
            log.info("metrics on http://127.0.0.1:%s/metrics", metrics_port)
    except Exception as error:
        await db.dispose()
        return _failed("cannot start", error)
    restore = shutdown.stop_on_signals(bot.request_stop, deadline=exit_deadline)
    try:
        await bot.run()
    except Exception as error:
        return _failed("cannot start" if _raised_while_starting(error) else "stopped", error)
    finally:
        await db.dispose()
        restore()
    return 0


def _raised_while_starting(error: BaseException) -> bool:
    """Whether ``error`` came out of :meth:`Bot.start` rather than from a running bot.

    :meth:`Bot.run` both starts and serves; where the error was raised tells them apart.
    """
    start = f"{Bot.__qualname__}.{Bot.start.__name__}"
    tb = error.__traceback__
    while tb is not None:
        code = tb.tb_frame.f_code
        if code.co_qualname == start and tb.tb_frame.f_globals.get("__name__") == Bot.__module__:
            return True
        tb = tb.tb_next
    return False


def _failed(what: str, error: BaseException) -> int:
    """Log ``what: reason`` as one masked line (the traceback at DEBUG); the exit code."""
    log.debug("traceback of the failure", exc_info=error)
    log.error("%s: %s", what, _reason(error))
    return EXIT_FAILURE


def _reason(error: BaseException) -> str:
    """What went wrong, on one line: masked, whitespace squeezed, bounded in length."""
    text = str(error).strip()
    # Our own errors are written for a host; a library's is named, e.g. ConnectionRefusedError.
    if not type(error).__module__.startswith(("bot.", "storage.")):
        text = f"{type(error).__name__}: {text}" if text else type(error).__name__
    text = " ".join(mask(text).split()) or type(error).__name__
    return text if len(text) <= _MAX_REASON else text[: _MAX_REASON - 1] + "…"


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
