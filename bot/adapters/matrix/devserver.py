"""A throwaway Synapse homeserver on loopback, for tests and ``cercle dev-matrix``.

Synapse is AGPL and a development tool here, never a runtime dependency: it is installed on
demand into its own virtual environment (``.venv-synapse`` by default), apart from the bot's.

``python -m bot.adapters.matrix.devserver install [ENV]`` installs it (what ``make`` runs).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import os
import secrets
import socket
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import aiohttp

SYNAPSE_REQUIREMENT: Final = "matrix-synapse==1.163.2"
"""The Synapse tests and ``dev-matrix`` run (one pin, read by ``make`` through this module)."""

ENV_VAR: Final = "CERCLE_SYNAPSE_ENV"
_STAMP: Final = ".cercle-installed"
_RELAXED: Final = "{per_second: 1000, burst_count: 10000}"


class SynapseUnavailable(RuntimeError):
    """Synapse could not be installed or started."""


def default_env() -> Path:
    """Where Synapse lives: ``$CERCLE_SYNAPSE_ENV``, else ``./.venv-synapse``."""
    return Path(os.environ.get(ENV_VAR) or ".venv-synapse").absolute()


def synapse_python(env: Path) -> Path:
    """The interpreter of the Synapse environment."""
    return env / "bin" / "python"


def is_installed(env: Path) -> bool:
    """Synapse at the pinned version is installed in ``env``."""
    stamp = env / _STAMP
    return stamp.is_file() and stamp.read_text().strip() == SYNAPSE_REQUIREMENT


async def _run(*argv: str | Path, what: str) -> None:
    process = await asyncio.create_subprocess_exec(
        *map(str, argv), stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
    )
    output, _ = await process.communicate()
    if process.returncode != 0:
        tail = output.decode(errors="replace")[-2000:]
        raise SynapseUnavailable(f"{what} failed (exit {process.returncode}):\n{tail}")


async def install(env: Path | None = None, *, python: str | None = None) -> Path:
    """Install the pinned Synapse into ``env`` unless it is there already; idempotent."""
    env = (env or default_env()).absolute()
    stamp = env / _STAMP
    if is_installed(env):
        stamp.touch()
        return env
    if not synapse_python(env).exists():
        await _run(python or sys.executable, "-m", "venv", env, what="creating " + str(env))
    await _run(
        synapse_python(env),
        "-m",
        "pip",
        "install",
        "-qq",
        "--disable-pip-version-check",
        SYNAPSE_REQUIREMENT,
        what=f"pip install {SYNAPSE_REQUIREMENT}",
    )
    stamp.write_text(SYNAPSE_REQUIREMENT + "\n")
    return env


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def homeserver_yaml(directory: Path, port: int, shared_secret: str) -> str:
    """A loopback-only, unfederated configuration with relaxed rate limits (dev/test only)."""
    limits = "\n".join(
        f"{key}: {value}"
        for key, value in {
            "rc_message": _RELAXED,
            "rc_registration": _RELAXED,
            "rc_login": f"{{address: {_RELAXED}, account: {_RELAXED}, "
            f"failed_attempts: {_RELAXED}}}",
            "rc_joins": f"{{local: {_RELAXED}, remote: {_RELAXED}}}",
            "rc_joins_per_room": _RELAXED,
            "rc_invites": f"{{per_room: {_RELAXED}, per_user: {_RELAXED}, per_issuer: {_RELAXED}}}",
            "rc_room_creation": _RELAXED,
            "rc_admin_redaction": _RELAXED,
        }.items()
    )
    return f"""\
server_name: "localhost"
public_baseurl: "http://127.0.0.1:{port}/"
pid_file: "{directory}/homeserver.pid"
listeners:
  - {{port: {port}, bind_addresses: ["127.0.0.1"], type: http, tls: false,
     resources: [{{names: [client], compress: false}}]}}
database: {{name: sqlite3, args: {{database: "{directory}/homeserver.db"}}}}
media_store_path: "{directory}/media_store"
signing_key_path: "{directory}/localhost.signing.key"
log_config: "{directory}/log.yaml"
registration_shared_secret: "{shared_secret}"
report_stats: false
enable_registration: false
trusted_key_servers: []
federation_domain_whitelist: []
presence: {{enabled: false}}
url_preview_enabled: false
bcrypt_rounds: 4
{limits}
"""


def _log_yaml(directory: Path) -> str:
    return f"""\
version: 1
formatters: {{precise: {{format: "%(asctime)s %(name)s %(levelname)s %(message)s"}}}}
handlers:
  file: {{class: logging.FileHandler, formatter: precise, filename: "{directory}/homeserver.log"}}
root: {{level: INFO, handlers: [file]}}
disable_existing_loggers: false
"""


@dataclass
class Account:
    """A registered user and a fresh access token for it."""

    user_id: str
    password: str
    access_token: str


@dataclass
class SynapseServer:
    """One Synapse process in ``directory``, listening on 127.0.0.1:``port``."""

    env: Path
    directory: Path
    port: int = field(default_factory=free_port)
    shared_secret: str = field(default_factory=lambda: secrets.token_hex(16))
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """The client-server API base URL."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def config_path(self) -> Path:
        """The generated ``homeserver.yaml``."""
        return self.directory / "homeserver.yaml"

    @property
    def log_path(self) -> Path:
        """Where Synapse logs."""
        return self.directory / "homeserver.log"

    async def start(self, *, within: float = 60.0) -> None:
        """Write the configuration, generate keys, start Synapse and wait until it answers."""
        if not is_installed(self.env):
            raise SynapseUnavailable(f"Synapse is not installed in {self.env}")
        self.directory.mkdir(parents=True, exist_ok=True)
        self.config_path.write_text(homeserver_yaml(self.directory, self.port, self.shared_secret))
        (self.directory / "log.yaml").write_text(_log_yaml(self.directory))
        python = synapse_python(self.env)
        module = ("-m", "synapse.app.homeserver", "-c", self.config_path)
        await _run(python, *module, "--generate-keys", what="synapse --generate-keys")
        output = (self.directory / "stdout.log").open("ab")  # a restart keeps what came before
        self.process = await asyncio.to_thread(
            subprocess.Popen,
            [str(python), *map(str, module)],
            stdout=output,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            cwd=self.directory,
            start_new_session=True,  # a Ctrl-C in the terminal reaches us, not Synapse
        )
        output.close()
        try:
            await asyncio.wait_for(self._ready(), within)
        except (TimeoutError, SynapseUnavailable):
            await self.stop()
            raise SynapseUnavailable(
                f"Synapse did not answer on {self.url} within {within:.0f} s; see {self.log_path}"
            ) from None

    async def _ready(self) -> None:
        async with aiohttp.ClientSession() as http:
            while True:
                if self.process is not None and self.process.poll() is not None:
                    raise SynapseUnavailable(f"Synapse exited with {self.process.returncode}")
                try:
                    async with http.get(f"{self.url}/_matrix/client/versions") as response:
                        if response.status == 200:
                            return
                except aiohttp.ClientError:
                    pass
                await asyncio.sleep(0.1)  # polling a starting process: nothing to await

    async def stop(self) -> None:
        """Stop Synapse (SIGTERM, then SIGKILL after 10 s)."""
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        process.terminate()
        try:
            await asyncio.to_thread(process.wait, 10)
        except subprocess.TimeoutExpired:
            process.kill()
            await asyncio.to_thread(process.wait)

    async def restart(self, *, within: float = 60.0) -> None:
        """Stop Synapse and start it again: same port, same data (rooms, accounts, tokens)."""
        await self.stop()
        await self.start(within=within)

    async def register(self, name: str, password: str, *, admin: bool = False) -> Account:
        """Create a user through the shared-secret admin API."""
        endpoint = f"{self.url}/_synapse/admin/v1/register"
        async with aiohttp.ClientSession() as http:
            async with http.get(endpoint) as response:
                nonce = (await response.json())["nonce"]
            body = {
                "nonce": nonce,
                "username": name,
                "password": password,
                "admin": admin,
                "mac": _registration_mac(self.shared_secret, nonce, name, password, admin),
            }
            async with http.post(endpoint, json=body) as response:
                data: dict[str, Any] = await response.json()
                if response.status != 200:
                    raise SynapseUnavailable(f"registering {name}: {data}")
        return Account(data["user_id"], password, data["access_token"])

    async def admin_request(
        self, token: str, method: str, path: str, body: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        """Call the admin (or client) API with ``token``; raises on a non-2xx answer."""
        async with (
            aiohttp.ClientSession() as http,
            http.request(
                method,
                f"{self.url}{path}",
                json=body,
                headers={"Authorization": f"Bearer {token}"},
            ) as response,
        ):
            data: dict[str, Any] = await response.json(content_type=None) or {}
            if response.status >= 300:
                raise SynapseUnavailable(f"{method} {path}: {response.status} {data}")
            return data


def _registration_mac(secret: str, nonce: str, name: str, password: str, admin: bool) -> str:
    mac = hmac.new(secret.encode(), digestmod=hashlib.sha1)
    mac.update(b"\x00".join(p.encode() for p in (nonce, name, password)))
    mac.update(b"\x00" + (b"admin" if admin else b"notadmin"))
    return mac.hexdigest()


def throwaway_directory(prefix: str = "cercle-synapse-") -> Path:
    """A fresh temporary directory for one Synapse."""
    return Path(tempfile.mkdtemp(prefix=prefix))


def main(argv: Sequence[str] | None = None) -> int:
    """``install [ENV]``: install the pinned Synapse into ENV (quietly; idempotent)."""
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] != "install" or len(args) > 2:
        print("usage: python -m bot.adapters.matrix.devserver install [ENV]", file=sys.stderr)
        return 2
    env = Path(args[1]) if len(args) == 2 else default_env()
    fresh = not is_installed(env.absolute())
    if fresh:
        print(f"installing {SYNAPSE_REQUIREMENT} (test/dev tool) into {env} ...", file=sys.stderr)
    try:
        asyncio.run(install(env))
    except SynapseUnavailable as error:
        print(error, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
