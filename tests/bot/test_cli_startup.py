"""Failing to start, for real: one masked ``cannot start:`` line, exit code 1, never a traceback.

Against a closed loopback port (an unreachable PostgreSQL or homeserver) and a hostile
homeserver whose error responses echo each request back (so the password and the access token
come back JSON-escaped and URL-encoded), through ``cercle run`` as a subprocess.
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import sys
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, quote_plus

import pytest
from aiohttp import web

CERCLE = Path(sys.executable).with_name("cercle")
USER_ID = "@cercle:example.org"
# Every character that JSON, a repr or a URL writes differently.
PASSWORD = 'pa ss"wörd\\/+%&'
TOKEN = 'syt_t"k\\n/+ é=%'


@dataclass(frozen=True)
class Result:
    returncode: int
    stdout: str
    stderr: str


async def cercle(*args: str, cwd: Path, **env: str) -> Result:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("CERCLE_")}
    process = await asyncio.create_subprocess_exec(
        str(CERCLE),
        *args,
        cwd=cwd,
        env={**clean, **env},
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), timeout=90)
    assert process.returncode is not None
    return Result(process.returncode, out.decode(), err.decode())


def quoted_forms(secret: str) -> set[str]:
    """The secret as is, JSON-escaped, in a repr and URL-encoded."""
    encoded = {quote(secret), quote(secret, safe=""), quote_plus(secret)}
    return {
        secret,
        json.dumps(secret)[1:-1],
        json.dumps(secret, ensure_ascii=False)[1:-1],
        repr(secret)[1:-1],
        *encoded,
        *(form.lower() for form in encoded),
    }


def one_clean_failure(result: Result, *, json_lines: bool, secrets: tuple[str, ...]) -> str:
    """Check the run failed cleanly and told nothing secret; return its ``cannot start`` line."""
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr or "DEBUG" in result.stderr  # only when asked
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    if json_lines:
        entries = [json.loads(line) for line in lines]  # every line is a JSON object
        [failure] = [e for e in entries if e["message"].startswith("cannot start:")]
        assert failure["level"] == "ERROR"
        message = str(failure["message"])
    else:
        [message] = [line for line in lines if "cannot start:" in line]
        assert " ERROR cercle: cannot start: " in message
    assert sum("cannot start:" in line for line in lines) == 1
    for secret in secrets:
        for form in quoted_forms(secret):
            assert form not in result.stderr + result.stdout, form
    return message


@pytest.fixture
def closed_port() -> Iterator[int]:
    """A loopback port that refuses connections: bound, never listening, for the whole test."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        yield int(sock.getsockname()[1])


def matrix_env(homeserver: str, **secrets: str) -> dict[str, str]:
    return {
        "CERCLE_BOT__ADAPTERS": '["matrix"]',
        "CERCLE_MATRIX__HOMESERVER": homeserver,
        "CERCLE_MATRIX__USER_ID": USER_ID,
        **{f"CERCLE_MATRIX__{name.upper()}": value for name, value in secrets.items()},
    }


# --- unreachable -------------------------------------------------------------------------


@pytest.mark.slow
async def test_an_unreachable_postgresql_is_one_line(tmp_path: Path, closed_port: int) -> None:
    url = f"postgresql+asyncpg://cercle:{quote(PASSWORD, safe='')}@127.0.0.1:{closed_port}/cercle"
    result = await cercle("run", "--db", url, cwd=tmp_path)
    message = one_clean_failure(result, json_lines=False, secrets=(PASSWORD,))
    assert str(closed_port) in message
    assert result.stdout == ""


@pytest.mark.slow
async def test_cercle_db_on_an_unreachable_postgresql_is_one_line(
    tmp_path: Path, closed_port: int
) -> None:
    url = f"postgresql+asyncpg://cercle:{quote(PASSWORD, safe='')}@127.0.0.1:{closed_port}/cercle"
    result = await cercle("db", "--db", url, "current", cwd=tmp_path)
    assert result.returncode == 1
    [line] = result.stderr.splitlines()
    assert "ERROR cercle: cercle db current failed: " in line and str(closed_port) in line
    assert not any(form in result.stderr for form in quoted_forms(PASSWORD))


@pytest.mark.slow
async def test_an_unreachable_homeserver_is_one_json_line(tmp_path: Path, closed_port: int) -> None:
    # The adapter retries a refused connection a few times (about 15 s) before giving up.
    env = matrix_env(f"http://127.0.0.1:{closed_port}", access_token=TOKEN)
    result = await cercle("run", "--log-format", "json", cwd=tmp_path, **env)
    message = one_clean_failure(result, json_lines=True, secrets=(TOKEN,))
    assert "Matrix whoami" in message and "Cannot connect" in message


# --- hostile -----------------------------------------------------------------------------


@dataclass
class Hostile:
    """A homeserver that lets the bot log in (or not), then refuses everything, quoting it."""

    url: str
    accept_login: bool = False
    requests: int = 0


@pytest.fixture
async def hostile() -> AsyncIterator[Hostile]:
    server = Hostile(url="")

    async def answer(request: web.Request) -> web.Response:
        server.requests += 1
        body = await request.text()
        if server.accept_login and request.path.endswith("/login"):
            return web.json_response(
                {"access_token": TOKEN, "device_id": "HOSTILE", "user_id": USER_ID}
            )
        seen = f"{request.method} {request.path_qs} {dict(request.headers)} {body}"
        echo = " | ".join([seen, json.dumps(seen), quote_plus(seen), quote(seen, safe="")])
        return web.json_response({"errcode": "M_FORBIDDEN", "error": echo}, status=403)

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", answer)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    server.url = f"http://127.0.0.1:{port}"
    try:
        yield server
    finally:
        await runner.cleanup()


# At DEBUG the whole traceback is logged too: masked, its echo of every form included.
@pytest.mark.slow
@pytest.mark.parametrize("log_format", ["text", "json"])
@pytest.mark.parametrize("level", ["INFO", "DEBUG"])
async def test_a_login_refused_with_the_password_quoted(
    tmp_path: Path, hostile: Hostile, log_format: str, level: str
) -> None:
    env = matrix_env(hostile.url, password=PASSWORD)
    result = await cercle(
        "run", "--log-format", log_format, cwd=tmp_path, CERCLE_BOT__LOG_LEVEL=level, **env
    )
    message = one_clean_failure(result, json_lines=log_format == "json", secrets=(PASSWORD,))
    assert "Matrix login" in message and "M_FORBIDDEN" in message
    assert "***" in message  # the echo was there, masked
    assert hostile.requests == 1


@pytest.mark.slow
@pytest.mark.parametrize("log_format", ["text", "json"])
async def test_a_learnt_token_quoted_back_after_login(
    tmp_path: Path, hostile: Hostile, log_format: str
) -> None:
    hostile.accept_login = True
    env = matrix_env(hostile.url, password=PASSWORD)
    result = await cercle(
        "run", "--log-format", log_format, cwd=tmp_path, CERCLE_BOT__LOG_LEVEL="DEBUG", **env
    )
    message = one_clean_failure(result, json_lines=log_format == "json", secrets=(PASSWORD, TOKEN))
    assert "Bearer ***" in message  # the token was echoed from the Authorization header
    assert hostile.requests >= 2
