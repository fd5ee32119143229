"""The command line: bad configuration is refused with every problem, the schema commands."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

CERCLE = Path(sys.executable).with_name("cercle")

THREE_MISTAKES = """\
[bot]
timezone = "Europe/Pariss"
colour = "blue"

[scheduler]
grace_minutes = "soon"
"""


def cercle(*args: str, cwd: Path, stdin: str = "", **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("CERCLE_")}
    return subprocess.run(
        [str(CERCLE), *args],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=cwd,
        env={**clean, **env},
        timeout=60,
        check=False,
    )


def test_check_config_reports_all_three_mistakes_with_key_paths(tmp_path: Path) -> None:
    (tmp_path / "bad.toml").write_text(THREE_MISTAKES)
    result = cercle("check-config", "bad.toml", cwd=tmp_path)
    assert result.returncode == 2
    err = result.stderr
    assert "3 problems" in err
    assert "bot.timezone: unknown timezone 'Europe/Pariss'" in err
    assert "bot.colour: unknown key" in err
    assert "scheduler.grace_minutes:" in err


def test_check_config_accepts_the_example(tmp_path: Path) -> None:
    example = Path(__file__).parents[2] / "config.example.toml"
    result = cercle("check-config", str(example), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "OK" in result.stdout


def test_run_refuses_a_bad_config_before_connecting_anything(tmp_path: Path) -> None:
    (tmp_path / "cercle.toml").write_text(THREE_MISTAKES)
    result = cercle("run", cwd=tmp_path, stdin="ana> /help\n")
    assert result.returncode == 2
    assert "bot.timezone" in result.stderr and "bot.colour" in result.stderr
    assert result.stdout == ""  # the console never opened
    assert not (tmp_path / "data").exists()  # nor the database


def test_secret_in_the_environment_is_never_printed(tmp_path: Path) -> None:
    (tmp_path / "cercle.toml").write_text(
        '[bot]\nadapters = ["discord"]\ntimezone = "Mars/Olympus"\n'
    )
    result = cercle("check-config", cwd=tmp_path, CERCLE_DISCORD__TOKEN="sekret-token-value")
    assert result.returncode == 2
    assert "sekret-token-value" not in result.stderr + result.stdout
    assert "discord.application_id" in result.stderr


def test_db_upgrade_then_current(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'x.db'}"
    before = cercle("db", "--db", url, "current", cwd=tmp_path)
    assert before.returncode == 0, before.stderr
    assert "nothing (empty database)" in before.stdout and "behind" in before.stdout
    upgraded = cercle("db", "--db", url, "upgrade", cwd=tmp_path)
    assert upgraded.returncode == 0, upgraded.stderr
    after = cercle("db", "--db", url, "current", cwd=tmp_path)
    assert "(current)" in after.stdout


def test_run_refuses_an_outdated_schema_when_auto_upgrade_is_off(tmp_path: Path) -> None:
    (tmp_path / "cercle.toml").write_text("[database]\nauto_upgrade = false\n")
    result = cercle("run", cwd=tmp_path, stdin="ana> /help\n")
    assert result.returncode == 1
    assert "cercle db upgrade" in result.stderr
    assert "Commandes" not in result.stdout


def test_usage_errors_of_the_cli_itself(tmp_path: Path) -> None:
    result = cercle("run", "--clock", "sundial", cwd=tmp_path)
    assert result.returncode == 2
    assert "invalid choice" in result.stderr


def test_check_config_refuses_a_database_port_that_is_not_a_number(tmp_path: Path) -> None:
    (tmp_path / "cercle.toml").write_text(
        '[database]\nurl = "postgresql+asyncpg://cercle:sekrit@db:fivefour/cercle"\n'
    )
    result = cercle("check-config", cwd=tmp_path)
    assert result.returncode == 2
    assert "database.url:" in result.stderr and "port" in result.stderr
    assert "sekrit" not in result.stderr + result.stdout


def test_check_config_lists_a_toml_error_with_the_environments(tmp_path: Path) -> None:
    (tmp_path / "cercle.toml").write_text("[bot]\nlocale = fr\n")
    result = cercle("check-config", cwd=tmp_path, CERCLE_SCHEDULER__GRACE_MINUTES="true")
    assert result.returncode == 2
    assert "2 problems" in result.stderr
    assert "<file>: invalid TOML" in result.stderr
    assert "scheduler.grace_minutes:" in result.stderr
    assert "CERCLE_SCHEDULER__GRACE_MINUTES" in result.stderr


def test_run_refuses_a_bad_db_option_before_touching_anything(tmp_path: Path) -> None:
    url = "postgresql+asyncpg://cercle:sekrit@127.0.0.1:port/cercle"
    result = cercle("run", "--db", url, cwd=tmp_path, stdin="ana> /help\n")
    assert result.returncode == 2
    assert "database.url:" in result.stderr and "(from --db)" in result.stderr
    assert "sekrit" not in result.stderr + result.stdout
    assert result.stdout == ""


def test_a_bad_config_is_one_json_line_under_json_logs(tmp_path: Path) -> None:
    (tmp_path / "cercle.toml").write_text(THREE_MISTAKES)
    result = cercle("run", "--log-format", "json", cwd=tmp_path, stdin="ana> /help\n")
    assert result.returncode == 2
    [entry] = [json.loads(line) for line in result.stderr.splitlines()]
    assert entry["level"] == "ERROR" and entry["message"] == "cercle.toml: 3 problems"
    assert [p.split(":")[0] for p in entry["problems"]] == [
        "bot.colour",
        "bot.timezone",
        "scheduler.grace_minutes",
    ]
    assert result.stdout == ""


def test_metrics_port_out_of_range_is_a_usage_error(tmp_path: Path) -> None:
    result = cercle("run", "--metrics-port", "70000", cwd=tmp_path)
    assert result.returncode == 2
    assert "not a port" in result.stderr


def test_version_names_the_installed_release(tmp_path: Path) -> None:
    from importlib.metadata import version

    result = cercle("--version", cwd=tmp_path)
    assert result.returncode == 0
    assert result.stdout.strip() == f"cercle {version('cercle')}"
