"""Tests for loading and validating the Cercle configuration."""

from __future__ import annotations

import re
import tempfile
import tomllib
from collections.abc import Sequence
from pathlib import Path
from typing import Any, get_args, get_origin

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import BaseModel

from bot.config import (
    SECRET_FIELDS,
    Config,
    ConfigError,
    Override,
    Problem,
    default_config_path,
    format_problems,
    load_config,
)

EXAMPLE = Path(__file__).parents[2] / "config.example.toml"


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "cercle.toml"
    path.write_text(text, encoding="utf-8")
    return path


def problems_of(
    path: Path | None, env: dict[str, str] | None = None, overrides: Sequence[Override] = ()
) -> dict[str, str]:
    """Load expecting failure; return {key: message} (messages of one key joined)."""
    with pytest.raises(ConfigError) as caught:
        load_config(path, env={} if env is None else env, overrides=overrides)
    found: dict[str, str] = {}
    for problem in caught.value.problems:
        found[problem.key] = "; ".join(filter(None, [found.get(problem.key), problem.message]))
    return found


# --- defaults and the example file ---------------------------------------------------------


def test_no_file_gives_defaults() -> None:
    config = load_config(None, env={})
    assert config.bot.name == "Cercle"
    assert config.bot.locale == "fr"
    assert config.bot.timezone == "Europe/Paris"
    assert config.bot.adapters == ["console"]
    assert config.bot.instance  # the hostname, never empty
    assert config.bot.log_level == "INFO"
    assert config.database.url == "sqlite+aiosqlite:///./data/cercle.db"
    assert config.database.auto_upgrade is True
    assert config.scheduler.grace_minutes == 360
    assert config.console.channel == "circle"
    assert config.discord.token is None
    assert config.matrix.command_prefix == "!"
    assert config.matrix.host_power_level == 50


def test_config_is_frozen() -> None:
    config = load_config(None, env={})
    with pytest.raises(ValueError):
        config.bot.name = "Other"  # type: ignore[misc]


def test_example_file_validates_to_console_and_sqlite() -> None:
    config = load_config(EXAMPLE, env={})
    assert config.bot.adapters == ["console"]
    assert config.database.url == "sqlite+aiosqlite:///./data/cercle.db"
    assert config == load_config(None, env={})


def test_example_file_documents_every_setting() -> None:
    text = EXAMPLE.read_text(encoding="utf-8")
    for section, model in Config.model_fields.items():
        assert f"[{section}]" in text
        assert model.annotation is not None
        for key in model.annotation.model_fields:
            if (section, key) in SECRET_FIELDS:
                assert f"CERCLE_{section.upper()}__{key.upper()}" in text
                assert not re.search(rf"^\s*#?\s*{key}\s*=", text, re.MULTILINE)
            else:
                assert re.search(rf"^(# )?{key} = ", text, re.MULTILINE), f"{section}.{key}"


# --- file problems ------------------------------------------------------------------------


def test_missing_file_is_reported(tmp_path: Path) -> None:
    found = problems_of(tmp_path / "nope.toml")
    assert list(found) == ["<file>"]
    assert "file not found" in found["<file>"]
    assert "nope.toml" in found["<file>"]


def test_syntax_error_reports_line_and_column(tmp_path: Path) -> None:
    path = write(tmp_path, '[bot]\nname = "Cercle"\nlocale = fr\n')
    found = problems_of(path)
    assert list(found) == ["<file>"]
    assert "line 3" in found["<file>"]
    assert "column" in found["<file>"]


def test_invalid_toml_is_listed_with_the_environments_mistakes(tmp_path: Path) -> None:
    path = write(tmp_path, "[bot]\nlocale = fr\n")
    found = problems_of(
        path,
        env={
            "CERCLE_BOT__TIMEZONE": "Mars/Olympus",
            "CERCLE_SCHEDULER__GRACE": "5",
            "CERCLE_DATABASE__URL": "postgresql+asyncpg://cercle:sekrit@db:port/cercle",
        },
    )
    assert set(found) == {"<file>", "bot.timezone", "scheduler.grace", "database.url"}
    assert "line 2" in found["<file>"]
    assert "CERCLE_BOT__TIMEZONE" in found["bot.timezone"]
    assert "sekrit" not in found["database.url"]


def test_a_missing_file_is_listed_with_the_environments_mistakes(tmp_path: Path) -> None:
    found = problems_of(tmp_path / "nope.toml", env={"CERCLE_BOT__LOCALE": "de"})
    assert set(found) == {"<file>", "bot.locale"}


def test_an_unreadable_file_does_not_invent_missing_settings(tmp_path: Path) -> None:
    # What the matrix adapter needs may well be in the file that could not be read.
    path = write(tmp_path, '[matrix]\nhomeserver = "https://m.example.org"\nuser_id = \n')
    found = problems_of(path, env={"CERCLE_BOT__ADAPTERS": '["matrix"]'})
    assert list(found) == ["<file>"]


def test_three_mistakes_are_all_reported_with_their_keys(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        '[bot]\ntimezone = "Europe/Pariss"\ncolour = "blue"\n[scheduler]\ngrace_minutes = "soon"\n',
    )
    found = problems_of(path)
    assert set(found) == {"bot.timezone", "bot.colour", "scheduler.grace_minutes"}
    assert found["bot.timezone"] == (
        "unknown timezone 'Europe/Pariss' (use an IANA name such as Europe/Paris)"
    )
    assert found["bot.colour"].startswith("unknown key")
    assert "integer" in found["scheduler.grace_minutes"]


def test_misspelled_key_gets_a_suggestion(tmp_path: Path) -> None:
    found = problems_of(write(tmp_path, '[bot]\ntimezon = "UTC"\n'))
    assert found == {"bot.timezon": "unknown key (did you mean 'timezone'?)"}


def test_key_outside_any_section_points_to_its_section(tmp_path: Path) -> None:
    found = problems_of(write(tmp_path, 'log_level = "DEBUG"\n'))
    assert "[bot]" in found["log_level"]


def test_list_item_error_names_its_position(tmp_path: Path) -> None:
    found = problems_of(write(tmp_path, '[bot]\nadapters = ["console", "discrod"]\n'))
    assert list(found) == ["bot.adapters.1"]


def test_duplicate_or_empty_adapters_are_refused(tmp_path: Path) -> None:
    assert (
        "more than once"
        in problems_of(write(tmp_path, '[bot]\nadapters = ["console", "console"]\n'))[
            "bot.adapters"
        ]
    )
    assert "at least one" in problems_of(write(tmp_path, "[bot]\nadapters = []\n"))["bot.adapters"]


def test_true_is_not_a_number(tmp_path: Path) -> None:
    found = problems_of(write(tmp_path, "[scheduler]\ngrace_minutes = true\n"))
    assert list(found) == ["scheduler.grace_minutes"]


def _number_fields() -> list[tuple[str, str, bool]]:
    """Every (section, key, is a list) of the model whose values are whole numbers."""

    def holds_int(annotation: object) -> bool:
        return annotation is int or any(holds_int(arg) for arg in get_args(annotation))

    found = []
    for section, info in Config.model_fields.items():
        model = info.annotation
        assert isinstance(model, type) and issubclass(model, BaseModel)
        for key, field in model.model_fields.items():
            if holds_int(field.annotation):
                found.append((section, key, get_origin(field.annotation) is list))
    return found


NUMBER_FIELDS = _number_fields()


def test_every_number_field_is_found() -> None:
    names = {f"{section}.{key}" for section, key, _ in NUMBER_FIELDS}
    assert {"privacy.retention_days", "scheduler.grace_minutes", "discord.guild_ids"} <= names


@pytest.mark.parametrize(("section", "key", "is_list"), NUMBER_FIELDS)
@pytest.mark.parametrize("boolean", ["true", "false"])
def test_no_number_setting_takes_a_boolean(
    tmp_path: Path, section: str, key: str, is_list: bool, boolean: str
) -> None:
    value = f"[{boolean}]" if is_list else boolean
    found = problems_of(write(tmp_path, f"[{section}]\n{key} = {value}\n"))
    expected = f"{section}.{key}.0" if is_list else f"{section}.{key}"
    assert list(found) == [expected]
    assert "not true/false" in found[expected]


def test_retention_of_true_days_is_refused_not_one_day(tmp_path: Path) -> None:
    found = problems_of(write(tmp_path, "[privacy]\nretention_days = true\n"))
    assert found == {"privacy.retention_days": "expected a whole number, not true/false"}
    assert (
        load_config(
            write(tmp_path, "[privacy]\nretention_days = 1\n"), env={}
        ).privacy.retention_days
        == 1
    )


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("[scheduler]\ngrace_minutes = 10081\n", "scheduler.grace_minutes"),
        ("[matrix]\nhost_power_level = 101\n", "matrix.host_power_level"),
        ('[matrix]\ncommand_prefix = "! "\n', "matrix.command_prefix"),
        ('[matrix]\nhomeserver = "matrix.org"\n', "matrix.homeserver"),
        ('[matrix]\nhomeserver = "https://matrix.org:eight"\n', "matrix.homeserver"),
        ('[matrix]\nhomeserver = "https://matrix.org:0"\n', "matrix.homeserver"),
        ('[matrix]\nhomeserver = "https://matrix.org:65536"\n', "matrix.homeserver"),
        ('[matrix]\nhomeserver = "https://:8448"\n', "matrix.homeserver"),
        ('[matrix]\nuser_id = "cercle"\n', "matrix.user_id"),
        ('[matrix]\nallowed_inviters = ["example.org"]\n', "matrix.allowed_inviters"),
        ('[bot]\nname = ""\n', "bot.name"),
        ('[bot]\nlocale = "de"\n', "bot.locale"),
        ("bot = 3\n", "bot"),
    ],
)
def test_out_of_range_values_are_refused(tmp_path: Path, text: str, key: str) -> None:
    assert list(problems_of(write(tmp_path, text))) == [key]


def test_the_digest_guard_size_is_a_checked_whole_number(tmp_path: Path) -> None:
    assert load_config(None, env={}).digest.min_profession_size == 3
    path = write(tmp_path, "[digest]\nmin_profession_size = 5\n")
    assert load_config(path, env={}).digest.min_profession_size == 5
    env = {"CERCLE_DIGEST__MIN_PROFESSION_SIZE": "4"}
    assert load_config(None, env=env).digest.min_profession_size == 4
    for wrong in ("1", "51", '"three"'):
        found = problems_of(write(tmp_path, f"[digest]\nmin_profession_size = {wrong}\n"))
        assert list(found) == ["digest.min_profession_size"], wrong
    found = problems_of(write(tmp_path, "[digest]\nmin_professions_size = 3\n"))
    assert "min_profession_size" in found["digest.min_professions_size"]  # did you mean


# --- secrets ------------------------------------------------------------------------------


def test_token_in_file_is_refused_without_echoing_it(tmp_path: Path) -> None:
    path = write(tmp_path, '[discord]\ntoken = "MTIz.sekrit-value"\n')
    with pytest.raises(ConfigError) as caught:
        load_config(path, env={})
    error = caught.value
    assert [p.key for p in error.problems] == ["discord.token"]
    assert "CERCLE_DISCORD__TOKEN" in error.problems[0].message
    assert "environment only" in error.problems[0].message
    for text in (str(error), repr(error), format_problems(error.problems, path)):
        assert "sekrit" not in text


def test_secret_in_file_is_one_problem_even_when_the_adapter_needs_it(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        '[bot]\nadapters = ["discord"]\n[discord]\napplication_id = 1\ntoken = "sekrit"\n',
    )
    found = problems_of(path)
    assert list(found) == ["discord.token"]
    assert "sekrit" not in found["discord.token"]


def test_wrongly_typed_secret_from_env_is_not_echoed() -> None:
    with pytest.raises(ConfigError) as caught:
        load_config(None, env={"CERCLE_MATRIX__PASSWORD": '["sekrit"]', "CERCLE_BOT__NAME": ""})
    assert "sekrit" not in str(caught.value)


def test_database_password_is_not_echoed(tmp_path: Path) -> None:
    found = problems_of(write(tmp_path, '[database]\nurl = "mysql://u:sekrit@db/c"\n'))
    assert "sekrit" not in found["database.url"]


# --- environment overlay ------------------------------------------------------------------


def test_env_sets_a_secret_and_a_list() -> None:
    config = load_config(
        None,
        env={
            "CERCLE_DISCORD__TOKEN": "sekrit-token",
            "CERCLE_BOT__ADAPTERS": '["console","memory"]',
        },
    )
    assert config.discord.token is not None
    assert config.discord.token.get_secret_value() == "sekrit-token"
    assert config.bot.adapters == ["console", "memory"]
    assert "sekrit" not in repr(config)


def test_env_overrides_the_file_and_converts_types(tmp_path: Path) -> None:
    path = write(tmp_path, "[scheduler]\ngrace_minutes = 10\n[database]\nauto_upgrade = true\n")
    config = load_config(
        path,
        env={
            "cercle_scheduler__grace_minutes": "5",
            "CERCLE_DATABASE__AUTO_UPGRADE": "false",
            "CERCLE_DISCORD__GUILD_IDS": "[1, 2]",
            "CERCLE_CONFIG": str(path),
            "HOME": "/elsewhere",
        },
    )
    assert config.scheduler.grace_minutes == 5
    assert config.database.auto_upgrade is False
    assert config.discord.guild_ids == [1, 2]


def test_env_reaches_every_section_the_readme_promises() -> None:
    config = load_config(
        None,
        env={"CERCLE_PRIVACY__RETENTION_DAYS": "30", "CERCLE_MEMORY__INBOX": "inbox.jsonl"},
    )
    assert config.privacy.retention_days == 30
    assert config.memory.inbox == "inbox.jsonl"


def test_env_accepts_a_key_of_every_section_of_the_model() -> None:
    # Derived from the model: a section added to Config is reachable from the environment too.
    for section, info in Config.model_fields.items():
        model = info.annotation
        assert isinstance(model, type) and issubclass(model, BaseModel)
        key = next(iter(model.model_fields))
        variable = f"CERCLE_{section.upper()}__{key.upper()}"
        try:
            load_config(None, env={variable: "x"})
        except ConfigError as error:  # a wrong value is fine here; an unknown name is not
            assert not any("unknown" in p.message for p in error.problems), variable


def test_env_mistakes_name_the_variable() -> None:
    found = problems_of(
        None,
        env={
            "CERCLE_BOT__COLOUR": "blue",
            "CERCLE_SCHEDULER__GRACE_MINUTES": "soon",
            "CERCLE_CONSOLE__HOSTS": '["ann",',
            "CERCLE_BOT____LEVEL": "1",
            "CERCLE_REQUIRE_SYNAPSE": "1",  # a tool's variable, not a setting: ignored
        },
    )
    assert "CERCLE_BOT__COLOUR" in found["bot.colour"]
    assert "CERCLE_SCHEDULER__GRACE_MINUTES" in found["scheduler.grace_minutes"]
    assert "CERCLE_CONSOLE__HOSTS" in found["console.hosts"]
    assert "CERCLE_BOT____LEVEL" in found["<env>"]
    assert not any("CERCLE_REQUIRE_SYNAPSE" in text for text in found.values())


def test_blank_secret_in_env_counts_as_unset() -> None:
    found = problems_of(
        None,
        env={
            "CERCLE_BOT__ADAPTERS": '["discord"]',
            "CERCLE_DISCORD__APPLICATION_ID": "42",
            "CERCLE_DISCORD__TOKEN": "  ",
        },
    )
    assert list(found) == ["discord.token"]


# --- adapter requirements -----------------------------------------------------------------


def test_discord_without_token_names_the_env_var_even_with_other_mistakes(tmp_path: Path) -> None:
    path = write(tmp_path, '[bot]\nadapters = ["discord"]\ntimezone = "Mars/Olympus"\n')
    found = problems_of(path)
    assert set(found) == {"bot.timezone", "discord.token", "discord.application_id"}
    assert "CERCLE_DISCORD__TOKEN" in found["discord.token"]


def test_discord_with_token_and_application_id_loads(tmp_path: Path) -> None:
    path = write(tmp_path, '[bot]\nadapters = ["discord"]\n[discord]\napplication_id = 42\n')
    config = load_config(path, env={"CERCLE_DISCORD__TOKEN": "t"})
    assert config.discord.application_id == 42


def test_matrix_requirements(tmp_path: Path) -> None:
    path = write(tmp_path, '[bot]\nadapters = ["matrix"]\n')
    found = problems_of(path)
    assert set(found) == {"matrix.homeserver", "matrix.user_id", "matrix.access_token"}
    assert "CERCLE_MATRIX__ACCESS_TOKEN" in found["matrix.access_token"]
    assert "CERCLE_MATRIX__PASSWORD" in found["matrix.access_token"]

    path = write(
        tmp_path,
        '[bot]\nadapters = ["matrix"]\n[matrix]\n'
        'homeserver = "https://matrix.example.org/"\nuser_id = "@cercle:example.org"\n',
    )
    for secret in ("CERCLE_MATRIX__PASSWORD", "CERCLE_MATRIX__ACCESS_TOKEN"):
        config = load_config(path, env={secret: "s"})
        assert config.matrix.homeserver == "https://matrix.example.org"


def test_adapter_sections_are_free_when_the_adapter_is_off(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, '[matrix]\nuser_id = "@cercle:example.org"\n'), env={})
    assert config.bot.adapters == ["console"]


# --- database -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "suggestion"),
    [
        ("postgresql://cercle@db/cercle", "postgresql+asyncpg://"),
        ("postgres://cercle@db/cercle", "postgresql+asyncpg://"),
        ("sqlite:///./data/cercle.db", "sqlite+aiosqlite://"),
    ],
)
def test_sync_database_url_suggests_the_async_driver(
    tmp_path: Path, url: str, suggestion: str
) -> None:
    found = problems_of(write(tmp_path, f'[database]\nurl = "{url}"\n'))
    assert suggestion in found["database.url"]


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("postgresql+asyncpg://cercle:sekrit@db:fivefourthreetwo/cercle", "port"),
        ("postgresql+asyncpg://cercle:sekrit@db:/cercle", "port"),
        ("postgresql+asyncpg://cercle:sekrit@db:0/cercle", "1 to 65535"),
        ("postgresql+asyncpg://cercle:sekrit@db:65536/cercle", "1 to 65535"),
        ("postgresql+asyncpg://cercle:sekrit@/cercle", "needs a host"),
        ("sqlite+aiosqlite://./data/cercle.db", "three slashes"),
        ("sqlite+aiosqlite://localhost/cercle.db", "three slashes"),
    ],
)
def test_database_url_is_parsed_like_the_engine_parses_it(url: str, words: str) -> None:
    found = problems_of(None, env={"CERCLE_DATABASE__URL": url})
    assert list(found) == ["database.url"]
    assert words in found["database.url"]
    assert "sekrit" not in found["database.url"]


@pytest.mark.parametrize(
    "url",
    [
        "postgresql+asyncpg://cercle:p%40ss@db.example.org:5432/cercle",
        "postgresql+asyncpg://cercle@[::1]:5432/cercle",
        "postgresql+asyncpg://cercle@/cercle?host=/run/postgresql",
        "sqlite+aiosqlite:///./data/cercle.db",
        "sqlite+aiosqlite:///:memory:",
    ],
)
def test_valid_database_urls_load(url: str) -> None:
    assert load_config(None, env={"CERCLE_DATABASE__URL": url}).database.url == url


def test_a_command_line_override_is_validated_and_named() -> None:
    override = Override("database.url", "postgresql+asyncpg://c:sekrit@db:x/c", "--db")
    found = problems_of(None, overrides=[override])
    assert found["database.url"].endswith("(from --db)")
    assert "sekrit" not in found["database.url"]
    good = Override("database.url", "sqlite+aiosqlite:///other.db", "--db")
    config = load_config(
        None, env={"CERCLE_DATABASE__URL": "sqlite+aiosqlite:///x.db"}, overrides=[good]
    )
    assert config.database.url == "sqlite+aiosqlite:///other.db"


def test_postgres_with_async_driver_loads() -> None:
    config = load_config(None, env={"CERCLE_DATABASE__URL": "postgresql+asyncpg://c@db/c"})
    assert config.database.url.startswith("postgresql+asyncpg://")


# --- reporting and file discovery ---------------------------------------------------------


def test_problems_are_sorted_and_unique() -> None:
    error = ConfigError([Problem("b", "x"), Problem("a", "y"), Problem("b", "x")])
    assert error.problems == [Problem("a", "y"), Problem("b", "x")]
    assert str(error) == "a: y\nb: x"


def test_format_problems() -> None:
    problems = [Problem("bot.name", "too long"), Problem("bot.locale", "unknown")]
    assert format_problems(problems, Path("config.toml")) == (
        "config.toml: 2 problems\n  - bot.name: too long\n  - bot.locale: unknown"
    )
    assert format_problems(problems[:1], None).splitlines()[0].endswith(": 1 problem")


def test_default_config_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert default_config_path({}) is None
    (tmp_path / "cercle.toml").write_text("", encoding="utf-8")
    assert default_config_path({}) == Path("cercle.toml")
    assert default_config_path({"CERCLE_CONFIG": "/etc/cercle.toml"}) == Path("/etc/cercle.toml")


# --- properties ---------------------------------------------------------------------------

SECTION_NAMES = ["bot", "database", "scheduler", "console", "discord", "matrix"]
KEY_NAMES = sorted(
    {
        key
        for field in Config.model_fields.values()
        for key in getattr(field.annotation, "model_fields", {})
    }
)
VALUE_WORDS = ["console", "discord", "matrix", "Europe/Paris", "sqlite+aiosqlite:///x.db", "@a:b"]

keys = st.sampled_from(SECTION_NAMES + KEY_NAMES) | st.text(max_size=8)
texts = st.sampled_from(VALUE_WORDS) | st.text(st.characters(exclude_categories=["Cs"]))
scalars = texts | st.integers(-(2**63), 2**63 - 1) | st.booleans()
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(keys, inner, max_size=4),
    max_leaves=12,
)
documents = st.dictionaries(keys, values, max_size=6)


def toml_string(text: str) -> str:
    escaped = "".join(
        "\\\\"
        if c == "\\"
        else '\\"'
        if c == '"'
        else f"\\u{ord(c):04x}"
        if (ord(c) < 0x20 and c != "\t") or ord(c) == 0x7F
        else c
        for c in text
    )
    return f'"{escaped}"'


def toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return toml_string(value)
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    return "{" + ", ".join(f"{toml_string(k)} = {toml_value(v)}" for k, v in value.items()) + "}"


def toml_document(data: dict[str, Any]) -> str:
    """Scalars first, then each table as a [section] (the order TOML requires)."""
    lines = [
        f"{toml_string(k)} = {toml_value(v)}" for k, v in data.items() if not isinstance(v, dict)
    ]
    for name, table in data.items():
        if isinstance(table, dict):
            lines.append(f"[{toml_string(name)}]")
            lines += [f"{toml_string(k)} = {toml_value(v)}" for k, v in table.items()]
    return "\n".join(lines) + "\n"


@settings(max_examples=300, deadline=None)
@given(documents)
def test_any_toml_document_loads_or_raises_config_error(data: dict[str, Any]) -> None:
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "cercle.toml"
        text = toml_document(data)
        assert tomllib.loads(text) == data  # the generator writes valid TOML
        path.write_text(text, encoding="utf-8")
        try:
            config = load_config(path, env={})
        except ConfigError as error:
            assert error.problems
            assert all(p.key and p.message for p in error.problems)
        else:
            assert isinstance(config, Config)


env_names = st.builds(
    lambda section, key: f"CERCLE_{section}__{key}",
    st.sampled_from(SECTION_NAMES) | st.text(max_size=5),
    st.sampled_from(KEY_NAMES) | st.text(max_size=5),
) | st.text(max_size=12).map(lambda s: "CERCLE_" + s)
env_values = st.sampled_from(["[", "[]", '["console"]', "[1, 2]", "true", "5", ""]) | st.text(
    st.characters(exclude_categories=["Cs"])
)


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(env_names, env_values, max_size=6))
def test_any_environment_loads_or_raises_config_error(env: dict[str, str]) -> None:
    try:
        load_config(None, env=env)
    except ConfigError as error:
        assert error.problems


@settings(max_examples=100, deadline=None)
@given(
    st.sampled_from(sorted(SECRET_FIELDS)),
    st.text(st.characters(exclude_categories=["Cs", "Cc"]), min_size=1),
    documents,
)
def test_secret_values_never_appear_in_messages(
    field: tuple[str, str], secret: str, extra: dict[str, Any]
) -> None:
    value = f"zq-{secret}-qz"
    section, key = field
    table = extra.get(section)
    data = dict(extra)
    data[section] = {**(table if isinstance(table, dict) else {}), key: value}
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "cercle.toml"
        path.write_text(toml_document(data), encoding="utf-8")
        with pytest.raises(ConfigError) as caught:
            load_config(path, env={})
    assert value not in format_problems(caught.value.problems, path)
