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
