"""``cercle init``: the questions, the answers it refuses, and the file it writes."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tomllib
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot import init
from bot.config import load_config
from bot.testing import Harness

CERCLE = Path(sys.executable).with_name("cercle")
TOKEN = "discord-token-that-must-never-be-written"


def cercle(*args: str, cwd: Path, stdin: str = "", **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("CERCLE_")}
    clean.update(LANG="C.UTF-8", TZ="Europe/Paris")
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


def answers(*lines: str) -> str:
    return "".join(f"{line}\n" for line in lines)


def check_config(path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return cercle("check-config", str(path), cwd=path.parent, **env)


# -- interactive ------------------------------------------------------------------------------


def test_a_french_discord_setup_re_asks_bad_answers_and_writes_a_valid_file(
    tmp_path: Path,
) -> None:
    result = cercle(
        "init",
        cwd=tmp_path,
        stdin=answers(
            "",  # language: the default, French
            "discrod",  # a typo: asked again
            "discord",
            "12345",  # too short for a Discord id: asked again
            "123456789012345678",
            "<#234567890123456789>",  # a pasted channel mention is read as its id
            "",  # no host role
            "",  # no review channel
            "Europe/Pariss",  # asked again, with the closest name offered
            "Europe/Paris",
            "mardy 9h",  # not a day: asked again
            "jeudi 18h30",
        ),
        CERCLE_DISCORD__TOKEN=TOKEN,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("Plateforme\u00a0:") == 2  # French typography: no-break space
    out = result.stdout.replace("\u00a0", " ")
    assert "« discrod » n’est pas une plateforme" in out
    assert "« 12345 » n’est pas un identifiant Discord" in out
    assert "vouliez-vous dire Europe/Paris ?" in out
    assert "« mardy 9h » n’est pas un horaire" in out
    assert "chaque jeudi à 18:30" in out
    assert "CERCLE_DISCORD__TOKEN est défini" in out

    path = tmp_path / "cercle.toml"
    text = path.read_text(encoding="utf-8")
    assert TOKEN not in text
    assert "CERCLE_DISCORD__TOKEN" in text  # the file names where the secret lives
    assert "# Configuration de Cercle" in text  # commented, in the host's language
    data = tomllib.loads(text)
    assert data["bot"] == {
        "adapters": ["discord"],
        "locale": "fr",
        "timezone": "Europe/Paris",
        "schedule": "30 18 * * thu",
    }
    assert data["discord"]["application_id"] == 123456789012345678
    assert data["discord"]["guild_ids"] == [234567890123456789]

    assert check_config(path, CERCLE_DISCORD__TOKEN=TOKEN).returncode == 0
    without = check_config(path)
    assert without.returncode == 2
    assert "discord.token" in without.stderr


def test_the_first_answer_picks_the_language_of_the_next_questions(tmp_path: Path) -> None:
    result = cercle("init", cwd=tmp_path, stdin=answers("en", "", "", "", ""))
    assert result.returncode == 0, result.stderr
    first, rest = result.stdout.split("Circle language", 1)
    assert "Configuration de Cercle" in first  # French until the language is known
    assert "Platform: console (this terminal), discord or matrix [console]:" in rest
    assert "every Monday at 09:00" in rest
    assert "Plateforme" not in rest
    text = (tmp_path / "cercle.toml").read_text(encoding="utf-8")
    assert "# Cercle configuration, written by `cercle init`" in text
    config = load_config(tmp_path / "cercle.toml", env={})
    assert (config.bot.locale, config.bot.adapters, config.console.hosts) == (
        "en",
        ["console"],
        ["ana"],
    )
    assert config.bot.timezone == "Europe/Paris"  # this machine's, from TZ


def test_lang_flag_skips_the_language_question(tmp_path: Path) -> None:
    result = cercle("init", "--lang", "en", cwd=tmp_path, stdin=answers("", "", "", ""))
    assert result.returncode == 0, result.stderr
    assert "Circle language" not in result.stdout
    assert result.stdout.startswith("Cercle setup:")


def test_a_matrix_setup_names_the_login_variable_and_passes_check_config(
    tmp_path: Path,
) -> None:
    result = cercle(
        "init",
        "--lang",
        "en",
        "conf/bot.toml",
        cwd=tmp_path,
        stdin=answers(
            "matrix",
            "ftp://matrix.example.org",  # not http(s): asked again
            "matrix.example.org",  # https:// is added
            "cercle",  # not a user id: asked again
            "",  # the offered @cercle:matrix.example.org
            "password",
            "@hana:example.org, :example.org",
            "America/Montreal",
            "0 18 * * 1-5",  # raw cron is accepted as it is
        ),
    )
    assert result.returncode == 0, result.stderr
    assert "“ftp://matrix.example.org” is not a homeserver URL" in result.stdout
    assert "“cercle” is not a Matrix user id" in result.stdout
    assert "set CERCLE_MATRIX__PASSWORD in its environment" in result.stdout
    path = tmp_path / "conf" / "bot.toml"
    text = path.read_text(encoding="utf-8")
    assert "CERCLE_MATRIX__PASSWORD" in text
    assert "password =" not in text and "access_token =" not in text
    assert check_config(path, CERCLE_MATRIX__PASSWORD="pw").returncode == 0
    config = load_config(path, env={"CERCLE_MATRIX__PASSWORD": "pw"})
    assert config.matrix.homeserver == "https://matrix.example.org"
    assert config.matrix.user_id == "@cercle:matrix.example.org"
    assert config.matrix.allowed_inviters == ["@hana:example.org", ":example.org"]
    assert (config.bot.timezone, config.bot.schedule) == ("America/Montreal", "0 18 * * 1-5")


def test_end_of_input_cancels_and_writes_nothing(tmp_path: Path) -> None:
    result = cercle("init", cwd=tmp_path, stdin=answers("fr", "discord"))
    assert result.returncode == 1
    assert "Configuration annulée, rien n’a été écrit." in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_an_existing_file_is_kept_without_force(tmp_path: Path) -> None:
    path = tmp_path / "cercle.toml"
    path.write_text("# mine\n")
    refused = cercle("init", "--non-interactive", cwd=tmp_path)
    assert refused.returncode == 2
    assert "cercle.toml existe déjà : ajoutez --force" in refused.stderr.replace("\u00a0", " ")
    assert path.read_text() == "# mine\n"
    forced = cercle("init", "--non-interactive", "--force", cwd=tmp_path)
    assert forced.returncode == 0, forced.stderr
    assert check_config(path).returncode == 0


# -- non-interactive --------------------------------------------------------------------------


def test_non_interactive_flags_write_the_same_kind_of_file(tmp_path: Path) -> None:
    result = cercle(
        "init",
        "--non-interactive",
        "--lang=en",
        "--platform=discord",
        "--application-id=123456789012345678",
        "--guild-id=234567890123456789",
        "--host-role-id=345678901234567890",
        "--review-channel-id=456789012345678901",
        "--timezone=asia/tokyo",
        "--day=friday",
        "--time=17:45",
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert "every Friday at 17:45" in result.stdout
    assert "set CERCLE_DISCORD__TOKEN" in result.stdout
    path = tmp_path / "cercle.toml"
    assert check_config(path, CERCLE_DISCORD__TOKEN=TOKEN).returncode == 0
    config = load_config(path, env={"CERCLE_DISCORD__TOKEN": TOKEN})
    assert config.bot.timezone == "Asia/Tokyo"
    assert config.bot.schedule == "45 17 * * fri"
    assert config.discord.guild_ids == [234567890123456789]
    assert config.discord.host_role_ids == [345678901234567890]
    assert config.discord.review_channel_id == 456789012345678901


def test_non_interactive_lists_every_bad_or_missing_flag(tmp_path: Path) -> None:
    result = cercle(
        "init",
        "--non-interactive",
        "--lang=en",
        "--platform=matrix",
        "--timezone=Mars/Olympus",
        "--cron=0 9 * *",
        cwd=tmp_path,
    )
    assert result.returncode == 2
    err = result.stderr
    assert "--timezone: “Mars/Olympus” is not a timezone" in err
    assert "--cron: “0 9 * *” is not a schedule" in err
    assert "--non-interactive needs --homeserver, --user-id." in err
    assert list(tmp_path.iterdir()) == []


def test_non_interactive_defaults_are_a_console_circle(tmp_path: Path) -> None:
    result = cercle("init", "--non-interactive", "--lang", "fr", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    config = load_config(tmp_path / "cercle.toml", env={})
    assert config.bot.adapters == ["console"]
    assert (config.bot.locale, config.bot.schedule) == ("fr", "0 9 * * mon")


# -- the schedule it writes is when the first question comes ----------------------------------


async def test_the_written_day_and_time_is_when_a_new_circle_gets_its_question(
    tmp_path: Path,
) -> None:
    result = cercle(
        "init",
        "--non-interactive",
        "--lang=en",
        "--timezone=America/Montreal",
        "--day=wednesday",
        "--time=18:30",
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    config = load_config(tmp_path / "cercle.toml", env={})
    # Monday 5 January 2026, 12:00 in Montreal; the slot is Wednesday 7, 18:30 there (23:30 UTC).
    async with Harness("discord", config=config, start=datetime(2026, 1, 5, 17, tzinfo=UTC)) as h:
        await h.say("ana", "hello")  # the channel becomes a circle
        await h.advance("2d6h29m")
        assert not [s for s in h.public() if "question of the week" in s.text]
        await h.advance("2m")
        assert [s for s in h.public() if "question of the week" in s.text]


# -- the answers, one by one ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "cron"),
    [
        ("monday 09:00", "0 9 * * mon"),
        ("Lundi 9h30", "30 9 * * mon"),
        ("jeu 18h", "0 18 * * thu"),
        ("mar 7:05", "5 7 * * tue"),
        ("sunday", "0 9 * * sun"),
        ("  30   18 * *   thu ", "30 18 * * thu"),
    ],
)
def test_day_and_time_become_cron(text: str, cron: str) -> None:
    assert init.parse_schedule(text) == cron


@pytest.mark.parametrize(
    "text", ["monday 24:00", "monday 9:60", "mo 9:00", "someday", "0 9 * * funday", ""]
)
def test_what_is_not_a_schedule_is_refused(text: str) -> None:
    with pytest.raises(init.Invalid):
        init.parse_schedule(text)


def test_every_sentence_exists_in_both_languages_with_french_typography() -> None:
    assert init.TEXT["fr"].keys() == init.TEXT["en"].keys()
    assert init.COMMENTS["fr"].keys() == init.COMMENTS["en"].keys()
    for text in [*init.TEXT["fr"].values(), *init.COMMENTS["fr"].values()]:
        # A plain space before : ; ? ! or inside « » would let the line break there.
        assert not re.search(r" [:;?!](\s|$)|« | »", text), text
