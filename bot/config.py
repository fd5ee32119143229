"""Configuration: a TOML file validated by pydantic, overlaid by ``CERCLE_*`` variables.

Secrets (tokens, passwords) are read from the environment only. Every mistake found
while loading is collected as a :class:`Problem`, so a host sees them all at once.
"""

from __future__ import annotations

import difflib
import json
import os
import socket
import tomllib
import zoneinfo
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from apscheduler.triggers.cron import CronTrigger
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
)
from pydantic_core import PydanticCustomError
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from bot.adapters.discord.settings import DiscordSettings
from bot.adapters.matrix.settings import MatrixSettings
from bot.settings import Int, Section, check_port

__all__ = [
    "CONFIG_ENV_VAR",
    "ENV_PREFIX",
    "SECRET_FIELDS",
    "BotSettings",
    "Config",
    "ConfigError",
    "ConsoleSettings",
    "DatabaseSettings",
    "DigestSettings",
    "DiscordSettings",
    "MatrixSettings",
    "Override",
    "Problem",
    "SchedulerSettings",
    "VotesSettings",
    "default_config_path",
    "env_var_name",
    "format_problems",
    "load_config",
]

ENV_PREFIX = "CERCLE_"
CONFIG_ENV_VAR = "CERCLE_CONFIG"
DEFAULT_CONFIG_FILE = "cercle.toml"
#: Every Monday at 09:00 in the circle's timezone.
DEFAULT_SCHEDULE = "0 9 * * mon"
SECRET_FIELDS: frozenset[tuple[str, str]] = frozenset(
    {("discord", "token"), ("matrix", "password"), ("matrix", "access_token")}
)

_FILE_KEY = "<file>"
_ENV_KEY = "<env>"
_ASYNC_DRIVERS = ("sqlite+aiosqlite://", "postgresql+asyncpg://")
_SYNC_TO_ASYNC = {
    "postgresql://": "postgresql+asyncpg://",
    "postgres://": "postgresql+asyncpg://",
    "sqlite://": "sqlite+aiosqlite://",
}


def env_var_name(section: str, key: str) -> str:
    """Return the environment variable that sets ``section.key``."""
    return f"{ENV_PREFIX}{section.upper()}__{key.upper()}"


Adapter = Literal["console", "memory", "discord", "matrix"]


def _default_adapters() -> list[Adapter]:
    return ["console"]


def _hostname() -> str:
    return socket.gethostname()[:120] or "cercle"


class BotSettings(Section):
    """The ``[bot]`` section: identity, language and which chat platforms to run."""

    name: str = Field(
        default="Cercle", min_length=1, max_length=80, description="Display name of the bot."
    )
    locale: Literal["fr", "en"] = Field(
        default="fr", description="Default language of newly created circles."
    )
    timezone: str = Field(
        default="Europe/Paris", description="IANA timezone used for schedules and digests."
    )
    schedule: str = Field(
        default=DEFAULT_SCHEDULE,
        max_length=100,
        description="When new circles get their question: cron in the circle's timezone.",
    )
    adapters: list[Adapter] = Field(
        default_factory=_default_adapters,
        description="Chat platforms this process connects to.",
    )
    instance: str = Field(
        default_factory=_hostname,
        min_length=1,
        max_length=120,
        description="Name of this process in the job ledger.",
    )
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field(
        default="INFO", description="Minimum level of log messages."
    )

    @field_validator("timezone")
    @classmethod
    def _check_timezone(cls, value: str) -> str:
        try:
            zoneinfo.ZoneInfo(value)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError):
            raise PydanticCustomError(
                "timezone",
                "unknown timezone {value} (use an IANA name such as {example})",
                {"value": repr(value[:60]), "example": _closest_timezone(value)},
            ) from None
        return value

    @field_validator("schedule")
    @classmethod
    def _check_schedule(cls, value: str) -> str:
        try:
            CronTrigger.from_crontab(value, timezone=zoneinfo.ZoneInfo("UTC"))
        except ValueError:
            raise PydanticCustomError(
                "schedule",
                "not a schedule: write minute hour day month weekday, e.g. {example}",
                {"example": repr(DEFAULT_SCHEDULE)},
            ) from None
        return value

    @field_validator("adapters")
    @classmethod
    def _check_adapters(cls, value: list[Adapter]) -> list[Adapter]:
        if not value:
            raise PydanticCustomError(
                "adapters_empty", 'enable at least one adapter, e.g. ["console"]'
            )
        duplicates = sorted({a for a in value if value.count(a) > 1})
        if duplicates:
            raise PydanticCustomError(
                "adapters_duplicate",
                "adapter listed more than once: {names}",
                {"names": ", ".join(duplicates)},
            )
        return value


class DatabaseSettings(Section):
    """The ``[database]`` section."""

    url: str = Field(
        default="sqlite+aiosqlite:///./data/cercle.db",
        description="SQLAlchemy URL with an async driver (aiosqlite or asyncpg).",
    )
    auto_upgrade: bool = Field(default=True, description="Apply database migrations at start.")

    @field_validator("url")
    @classmethod
    def _check_url(cls, value: str) -> str:
        # The URL may hold a database password, so messages never repeat it.
        if value.startswith(_ASYNC_DRIVERS):
            _check_database_address(value)
            return value
        for sync, async_ in _SYNC_TO_ASYNC.items():
            if value.startswith(sync):
                raise PydanticCustomError(
                    "database_sync_driver",
                    "needs an async driver: start the URL with {async_} instead of {sync}",
                    {"async_": repr(async_), "sync": repr(sync)},
                )
        raise PydanticCustomError(
            "database_scheme",
            "unsupported database URL: it must start with 'sqlite+aiosqlite://' "
            "or 'postgresql+asyncpg://'",
        )


def _check_database_address(value: str) -> None:
    """Parse the URL as the engine will: a host for PostgreSQL, none for SQLite, a valid port."""
    try:
        url = make_url(value)
    except (ArgumentError, ValueError):  # ValueError: a port that is not a number
        raise PydanticCustomError(
            "database_url",
            "not a valid database URL (is the port a number? are special characters "
            "in the password percent-encoded?)",
        ) from None
    if url.get_backend_name() == "sqlite":
        if url.host or url.port is not None:
            raise PydanticCustomError(
                "database_sqlite_host",
                "a SQLite URL names a file, not a host: write three slashes, "
                "e.g. 'sqlite+aiosqlite:///./data/cercle.db'",
            )
        return
    if not url.host and not url.query.get("host"):
        raise PydanticCustomError(
            "database_host",
            "needs a host, e.g. 'postgresql+asyncpg://cercle@db.example.org/cercle' "
            "(or '?host=/run/postgresql' for a local socket)",
        )
    check_port(url.port)


class SchedulerSettings(Section):
    """The ``[scheduler]`` section."""

    grace_minutes: Int = Field(
        default=360,
        ge=0,
        le=10080,
        description="How late (in minutes) a job missed while offline may still run at start.",
    )


class ConsoleSettings(Section):
    """The ``[console]`` section: the local terminal adapter."""

    channel: str = Field(
        default="circle", min_length=1, max_length=80, description="Name of the console's room."
    )
    hosts: list[str] = Field(
        default_factory=list, description="Member names that get the host role."
    )


class PrivacySettings(Section):
    """The ``[privacy]`` section: how long members' words are kept."""

    retention_days: Int | None = Field(
        default=None,
        ge=1,
        le=3650,
        description="Delete answers and comments of rounds closed more than this many days ago "
        "(digests keep their aggregates); unset keeps them.",
    )


class DigestSettings(Section):
    """The ``[digest]`` section: what a posted digest may show."""

    min_profession_size: Int = Field(
        default=3,
        ge=2,
        le=50,
        description="A profession with fewer answerers in a round is shown as 'other "
        "professions' in the digest's quotes and counts (so nobody is singled out).",
    )


class VotesSettings(Section):
    """The ``[votes]`` section: when the bot drafts statements and when they are ranked."""

    draft_at: list[Int] = Field(
        default_factory=lambda: [67, 100],
        min_length=0,
        max_length=4,
        description="When the bot drafts statements from the answers, in percent of each "
        "round's length (100: at the close); empty: never.",
    )
    min_voters: Int = Field(
        default=5, ge=1, le=1000, description="Voters a statement needs before it is ranked."
    )
    min_professions: Int = Field(
        default=2,
        ge=1,
        le=50,
        description="Professions its voters must come from before it is ranked.",
    )

    @field_validator("draft_at")
    @classmethod
    def _percentages(cls, value: list[int]) -> list[int]:
        if any(not 1 <= v <= 100 for v in value):
            raise PydanticCustomError("draft_at", "each point is a percentage from 1 to 100")
        return sorted(set(value))


class MemorySettings(Section):
    """The ``[memory]`` section: the in-process adapter, optionally fed by a durable inbox."""

    inbox: str | None = Field(
        default=None,
        description="JSON-lines file of member events to follow (see bot.adapters.inbox).",
    )
    outbox: str | None = Field(
        default=None,
        description="JSON-lines file where every side effect of the memory platform is "
        "appended, deduplicated on its idempotency key like a server (see bot.adapters.outbox).",
    )


class Config(BaseModel):
    """The whole configuration, one attribute per TOML section."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    bot: BotSettings = Field(default_factory=BotSettings, description="[bot] section.")
    database: DatabaseSettings = Field(
        default_factory=DatabaseSettings, description="[database] section."
    )
    scheduler: SchedulerSettings = Field(
        default_factory=SchedulerSettings, description="[scheduler] section."
    )
    console: ConsoleSettings = Field(
        default_factory=ConsoleSettings, description="[console] section."
    )
    privacy: PrivacySettings = Field(
        default_factory=PrivacySettings, description="[privacy] section."
    )
    digest: DigestSettings = Field(default_factory=DigestSettings, description="[digest] section.")
    memory: MemorySettings = Field(default_factory=MemorySettings, description="[memory] section.")
    votes: VotesSettings = Field(default_factory=VotesSettings, description="[votes] section.")
    discord: DiscordSettings = Field(
        default_factory=DiscordSettings, description="[discord] section."
    )
    matrix: MatrixSettings = Field(default_factory=MatrixSettings, description="[matrix] section.")


def _sections() -> dict[str, type[Section]]:
    """Every section of :class:`Config` and its model, derived from the model itself."""
    found: dict[str, type[Section]] = {}
    for name, info in Config.model_fields.items():
        model = info.annotation
        if not (isinstance(model, type) and issubclass(model, Section)):  # pragma: no cover
            raise TypeError(f"Config.{name} is not a settings section")
        found[name] = model
    return found


_SECTIONS: dict[str, type[Section]] = _sections()


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the configuration.

    Attributes:
        key: Dotted path of the setting (``bot.timezone``), or ``<file>`` / ``<env>``.
        message: Short explanation for a human; never contains a secret's value.
    """

    key: str
    message: str

    def __str__(self) -> str:
        return f"{self.key}: {self.message}"


class ConfigError(Exception):
    """Raised by :func:`load_config` with every problem found.

    Attributes:
        problems: The problems, sorted by key.
        path: The file that was loaded, if any.
    """

    def __init__(self, problems: Sequence[Problem], path: Path | None = None) -> None:
        self.problems: list[Problem] = sorted(set(problems), key=lambda p: (p.key, p.message))
        self.path = path
        super().__init__("\n".join(str(p) for p in self.problems))


def format_problems(problems: Sequence[Problem], path: Path | None) -> str:
    """Render problems as a header line plus one indented bullet each.

    Args:
        problems: Problems to show.
        path: The config file, named in the header; ``None`` when only defaults were used.

    Returns:
        Text such as ``cercle.toml: 2 problems`` followed by ``  - key: message`` lines.
    """
    count = len(problems)
    header = f"{path if path is not None else 'configuration'}: {count} problem"
    header += "" if count == 1 else "s"
    return "\n".join([header, *(f"  - {p}" for p in problems)])


def default_config_path(env: Mapping[str, str] | None = None) -> Path | None:
    """Choose the config file: ``CERCLE_CONFIG``, else ``./cercle.toml`` if it exists.

    Args:
        env: Environment variables; defaults to ``os.environ``.

    Returns:
        The path to load, or ``None`` to run on defaults and the environment.
    """
    env = os.environ if env is None else env
    for name, value in env.items():
        if name.upper() == CONFIG_ENV_VAR and value:
            return Path(value).expanduser()
    default = Path(DEFAULT_CONFIG_FILE)
    return default if default.is_file() else None


@dataclass(frozen=True)
class Override:
    """A setting given on the command line, over the file and the environment.

    Attributes:
        key: Dotted path of the setting, e.g. ``database.url``.
        value: The value, validated like the file's.
        source: Where it came from, named in problems, e.g. ``--db``.
    """

    key: str
    value: object
    source: str


def load_config(
    path: Path | None,
    env: Mapping[str, str] | None = None,
    *,
    overrides: Sequence[Override] = (),
) -> Config:
    """Load and validate the configuration.

    Args:
        path: TOML file to read, or ``None`` for built-in defaults.
        env: Environment variables to overlay; defaults to ``os.environ``.
        overrides: Settings from the command line, applied last.

    Returns:
        The validated configuration.

    Raises:
        ConfigError: With every problem found (file, environment, values, requirements).
    """
    env = os.environ if env is None else env
    path = None if path is None else Path(path)
    problems: list[Problem] = []

    data: dict[str, Any] = {}
    file_problem: Problem | None = None
    if path is not None:
        data, file_problem = _read_toml(path)
        if file_problem is not None:
            # The environment is still checked, so that every mistake is listed at once.
            problems.append(file_problem)
    problems += _remove_file_secrets(data)
    sources, env_problems = _overlay_env(data, env)
    problems += env_problems
    for override in overrides:
        section, key = override.key.split(".", 1)
        table = data.setdefault(section, {})
        if isinstance(table, dict):
            table[key] = override.value
            sources[(section, key)] = override.source

    config: Config | None = None
    try:
        config = Config.model_validate(data)
    except ValidationError as exc:
        problems += [_to_problem(error, sources) for error in exc.errors(include_url=False)]
    if file_problem is None:
        # Without the file, what the adapters need is unknown: it may be in the file.
        problems += _check_requirements(data, {p.key for p in problems})

    if problems or config is None:
        raise ConfigError(problems, path)
    return config


def _read_toml(path: Path) -> tuple[dict[str, Any], Problem | None]:
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return {}, Problem(_FILE_KEY, f"file not found: {path}")
    except OSError as exc:
        return {}, Problem(_FILE_KEY, f"cannot read {path}: {exc.strerror or exc}")
    try:
        return tomllib.loads(raw.decode("utf-8")), None
    except UnicodeDecodeError as exc:
        return {}, Problem(_FILE_KEY, f"not UTF-8 text (bad byte at offset {exc.start})")
    except tomllib.TOMLDecodeError as exc:
        # On 3.11 the line and column only exist in the text: "Invalid value (at line 2, ...)".
        return {}, Problem(_FILE_KEY, f"invalid TOML: {exc}")


def _remove_file_secrets(data: dict[str, Any]) -> list[Problem]:
    problems = []
    for section, key in sorted(SECRET_FIELDS):
        table = data.get(section)
        if isinstance(table, dict) and key in table:
            # Drop the value so that no later message can echo it.
            del table[key]
            problems.append(
                Problem(
                    f"{section}.{key}",
                    "secrets are read from the environment only: remove it from the file "
                    f"and set {env_var_name(section, key)}",
                )
            )
    return problems


def _overlay_env(
    data: dict[str, Any], env: Mapping[str, str]
) -> tuple[dict[tuple[str, str], str], list[Problem]]:
    """Apply ``CERCLE_SECTION__KEY`` variables to ``data`` in place.

    Returns:
        Which variable set each ``(section, key)``, and problems with the variables.
    """
    sources: dict[tuple[str, str], str] = {}
    problems: list[Problem] = []
    for name in sorted(env):
        upper = name.upper()
        if not upper.startswith(ENV_PREFIX) or upper == CONFIG_ENV_VAR:
            continue
        if "__" not in upper:
            # Not a setting (e.g. CERCLE_TEST_POSTGRES_URL, CERCLE_REQUIRE_SYNAPSE for the tests).
            continue
        value = env[name]
        parts = upper[len(ENV_PREFIX) :].lower().split("__")
        if len(parts) != 2 or not all(parts):
            problems.append(
                Problem(
                    _ENV_KEY,
                    f"{name} is not a Cercle setting: names look like "
                    f"{ENV_PREFIX}SECTION__KEY, e.g. {ENV_PREFIX}BOT__LOG_LEVEL",
                )
            )
            continue
        section, key = parts
        if section not in _SECTIONS:
            hint = _did_you_mean(section, _SECTIONS)
            problems.append(Problem(f"{section}.{key}", f"unknown section in {name}{hint}"))
            continue
        fields = _SECTIONS[section].model_fields
        if key not in fields:
            hint = _did_you_mean(key, fields)
            problems.append(Problem(f"{section}.{key}", f"unknown key in {name}{hint}"))
            continue
        table = data.setdefault(section, {})
        if not isinstance(table, dict):
            continue  # The file's own error for this section is reported by validation.
        parsed: Any = value
        if (section, key) not in SECRET_FIELDS and value.lstrip().startswith("["):
            try:
                parsed = json.loads(value)
            except json.JSONDecodeError as exc:
                problems.append(
                    Problem(
                        f"{section}.{key}",
                        f"{name} starts with '[' but is not a JSON list: "
                        f"{exc.msg} at column {exc.colno}",
                    )
                )
                continue
        table[key] = parsed
        sources[(section, key)] = name
    return sources, problems


def _to_problem(error: Mapping[str, Any], sources: Mapping[tuple[str, str], str]) -> Problem:
    loc = tuple(str(part) for part in error["loc"])
    key = ".".join(loc) or "<config>"
    kind = error["type"]
    if kind == "extra_forbidden":
        message = "unknown key" + _unknown_key_hint(loc)
    elif len(loc) == 1 and kind in ("model_type", "dict_type", "model_attributes_type"):
        message = f"must be a table: write [{loc[0]}] on its own line, then its keys"
    else:
        message = _lower_first(str(error["msg"]))
    source = sources.get((loc[0], loc[1])) if len(loc) >= 2 else None
    if source is not None:
        message += f" (from {source})"
    return Problem(key, message)


def _unknown_key_hint(loc: tuple[str, ...]) -> str:
    if len(loc) == 1:
        secret = next((s for s, k in sorted(SECRET_FIELDS) if k == loc[0]), None)
        if secret is not None:
            return f" (secrets are read from the environment: set {env_var_name(secret, loc[0])})"
        owner = next((s for s, m in _SECTIONS.items() if loc[0] in m.model_fields), None)
        if owner is not None:
            return f" (did you mean to put it under [{owner}]?)"
        return _did_you_mean(loc[0], _SECTIONS)
    if len(loc) == 2 and loc[0] in _SECTIONS:
        return _did_you_mean(loc[1], _SECTIONS[loc[0]].model_fields)
    return ""


def _check_requirements(data: Mapping[str, Any], already: set[str]) -> list[Problem]:
    """Check what the enabled adapters need, on raw data so it works after other failures.

    Keys that already have a problem are skipped: one message per mistake is enough.
    """
    bot = data.get("bot", {})
    adapters: object = bot.get("adapters", ["console"]) if isinstance(bot, dict) else []
    enabled = (
        {a for a in adapters if a in ("discord", "matrix")} if isinstance(adapters, list) else set()
    )
    problems: list[Problem] = []

    def missing(section: str, key: str) -> bool:
        table = data.get(section, {})
        value = table.get(key) if isinstance(table, dict) else None
        return value is None or (isinstance(value, str) and not value.strip())

    def need(section: str, key: str, message: str) -> None:
        if f"{section}.{key}" not in already and missing(section, key):
            problems.append(Problem(f"{section}.{key}", message))

    if "discord" in enabled and isinstance(data.get("discord", {}), dict):
        need(
            "discord",
            "token",
            "required by the discord adapter: set the CERCLE_DISCORD__TOKEN environment variable",
        )
        need(
            "discord",
            "application_id",
            "required by the discord adapter: the application id from the developer portal",
        )
    if "matrix" in enabled and isinstance(data.get("matrix", {}), dict):
        need("matrix", "homeserver", "required by the matrix adapter, e.g. https://matrix.org")
        need("matrix", "user_id", "required by the matrix adapter, e.g. @cercle:matrix.org")
        secret_keys = ("matrix.access_token", "matrix.password")
        if (
            missing("matrix", "access_token")
            and missing("matrix", "password")
            and not already.intersection(secret_keys)
        ):
            problems.append(
                Problem(
                    "matrix.access_token",
                    "the matrix adapter needs a login: set CERCLE_MATRIX__ACCESS_TOKEN "
                    "or CERCLE_MATRIX__PASSWORD",
                )
            )
    return problems


def _did_you_mean(word: str, choices: Mapping[str, object]) -> str:
    matches = difflib.get_close_matches(word, list(choices), n=1)
    return f" (did you mean {matches[0]!r}?)" if matches else ""


def _closest_timezone(name: str) -> str:
    by_lower = {tz.lower(): tz for tz in zoneinfo.available_timezones()}
    matches = difflib.get_close_matches(name.lower(), list(by_lower), n=1, cutoff=0.75)
    return by_lower[matches[0]] if matches else "Europe/Paris"


def _lower_first(text: str) -> str:
    # Keep acronyms such as "URL" intact.
    if len(text) > 1 and text[0].isupper() and text[1].islower():
        return text[0].lower() + text[1:]
    return text
