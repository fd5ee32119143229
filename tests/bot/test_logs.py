"""Logs: JSON lines for collectors, and secrets never written."""

from __future__ import annotations

import io
import json
import logging
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote, quote_plus

import pytest

from bot.logs import register_secret, setup_logging

TOKEN = "MTIzNDU2Nzg5.discord-token-value.xyz"


@pytest.fixture
def restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    for handler in list(root.handlers):
        root.removeHandler(handler)
    for handler in handlers:
        root.addHandler(handler)
    root.setLevel(level)


def test_secrets_are_masked_in_messages_arguments_and_tracebacks(restore_logging: None) -> None:
    out = io.StringIO()
    setup_logging("INFO", secrets=[TOKEN], stream=out)
    log = logging.getLogger("cercle.test")
    log.info("connecting with %s", TOKEN)
    log.warning(f"token in the message itself: {TOKEN}")
    try:
        raise RuntimeError(f"login refused for {TOKEN}")
    except RuntimeError:
        log.exception("login failed")
    text = out.getvalue()
    assert TOKEN not in text
    assert text.count("***") == 3
    assert "RuntimeError: login refused for ***" in text


def test_a_secret_learnt_later_is_masked_too(restore_logging: None) -> None:
    out = io.StringIO()
    setup_logging("INFO", stream=out)
    register_secret("syt_matrix_access_token_123")
    logging.getLogger("cercle.test").info("stored syt_matrix_access_token_123")
    assert "syt_matrix" not in out.getvalue()


def test_json_lines_carry_level_logger_message_and_extras(restore_logging: None) -> None:
    out = io.StringIO()
    setup_logging("INFO", json_lines=True, secrets=[TOKEN], stream=out)
    logging.getLogger("cercle.rounds").info("round %s opened", 3, extra={"circle": 12})
    entry = json.loads(out.getvalue().strip())
    assert entry["level"] == "INFO" and entry["logger"] == "cercle.rounds"
    assert entry["message"] == "round 3 opened" and entry["circle"] == 12
    assert entry["time"].endswith("+00:00")


def test_cli_logs_json_lines_and_never_the_token(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CERCLE_")}
    env["CERCLE_DISCORD__TOKEN"] = TOKEN
    result = subprocess.run(
        [str(Path(sys.executable).with_name("cercle")), "run", "--log-format", "json"],
        input="ana> /help\n",
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stderr.splitlines() if line.strip()]
    assert any(entry["message"].startswith("adapter console connected") for entry in lines)
    assert TOKEN not in result.stderr + result.stdout


# A password with every character that JSON, repr or a URL writes differently.
ODD = 'pa ss"w\\ord/é+ü&=%😀'
QUOTED_FORMS = {
    "as is": ODD,
    "JSON": json.dumps(ODD)[1:-1],
    "JSON, non-ASCII kept": json.dumps(ODD, ensure_ascii=False)[1:-1],
    "JSON with an escaped slash": json.dumps(ODD)[1:-1].replace("/", "\\/"),
    "JSON inside JSON": json.dumps(json.dumps(ODD))[3:-3],
    "repr": repr(ODD)[1:-1],
    "ascii": ascii(ODD)[1:-1],
    "repr of JSON": repr(json.dumps(ODD))[2:-2],
    "URL path": quote(ODD),
    "URL component": quote(ODD, safe=""),
    "URL lower-case hex": quote(ODD, safe="").lower(),
    "form": quote_plus(ODD),
    "form of JSON": quote_plus(json.dumps(ODD)[1:-1]),
}


@pytest.mark.parametrize("form", QUOTED_FORMS.values(), ids=QUOTED_FORMS.keys())
def test_a_secret_is_masked_in_every_form_a_request_echo_gives_it(
    restore_logging: None, form: str
) -> None:
    out = io.StringIO()
    setup_logging("INFO", secrets=[ODD], stream=out)
    logging.getLogger("cercle.test").warning("server said: <%s>", form)
    assert out.getvalue().rstrip("\n").endswith("server said: <***>")


def test_masking_leaves_other_text_and_json_lines_intact(restore_logging: None) -> None:
    out = io.StringIO()
    setup_logging("INFO", json_lines=True, secrets=[ODD], stream=out)
    echo = json.dumps({"user": "ana", "password": ODD})
    logging.getLogger("cercle.test").error(
        "refused: %s", echo, extra={"body": quote_plus(echo), "problems": [echo]}
    )
    entry = json.loads(out.getvalue())
    assert entry["message"] == 'refused: {"user": "ana", "password": "***"}'
    assert entry["body"] == quote_plus('{"user": "ana", "password": "') + "***" + quote_plus('"}')
    assert entry["problems"] == ['{"user": "ana", "password": "***"}']


def test_short_values_are_not_taken_for_secrets(restore_logging: None) -> None:
    out = io.StringIO()
    setup_logging("INFO", secrets=["abc"], stream=out)
    logging.getLogger("cercle.test").info("abc def")
    assert out.getvalue().rstrip("\n").endswith("abc def")
