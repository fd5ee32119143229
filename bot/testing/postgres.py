"""A throwaway PostgreSQL server on loopback, for tests that must meet the real thing.

It uses the server binaries of the machine (Debian's ``postgresql`` package puts them in
``/usr/lib/postgresql/<version>/bin``; ``.ci/run`` installs it). The server refuses to run
as root, so under root the cluster belongs to the ``postgres`` system user.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

BIN_GLOB = "/usr/lib/postgresql/*/bin"


def binaries() -> Path | None:
    """The newest installed server ``bin`` directory, if any."""
    found = sorted(Path("/").glob(BIN_GLOB.lstrip("/")), key=lambda p: p.parent.name)
    found = [p for p in found if (p / "initdb").exists() and (p / "pg_ctl").exists()]
    return found[-1] if found else None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _as_owner(command: list[str]) -> list[str]:
    if os.geteuid() == 0:
        runuser = shutil.which("runuser")
        if runuser is None:  # pragma: no cover - Debian always has it
            raise RuntimeError("running as root needs runuser to start PostgreSQL")
        return [runuser, "-u", "postgres", "--", *command]
    return command


class PostgresServer:
    """A throwaway cluster on a loopback port that can be stopped and started again.

    The data directory and the port stay the same across :meth:`stop` and :meth:`start`, as
    in a real server restart: clients see their connections dropped, then refused, then
    accepted again.

    Args:
        durable: Keep ``synchronous_commit`` on, so that a crash (``stop("immediate")``)
            loses no committed transaction. Off, commits are faster and a crash may lose
            the last ones. Nothing is synced to disk either way: the machine is not the one
            crashing.
    """

    def __init__(self, bin_dir: Path, root: Path, port: int, *, durable: bool = False) -> None:
        self.bin_dir = bin_dir
        self.root = root
        self.data = root / "data"
        self.port = port
        self.durable = durable

    def url(self, database: str) -> str:
        """The asyncpg URL of ``database`` on this server."""
        return f"postgresql+asyncpg://postgres@127.0.0.1:{self.port}/{database}"

    def _run(self, *command: str, check: bool = True) -> None:
        subprocess.run(
            _as_owner([str(self.bin_dir / command[0]), *command[1:]]),
            check=check, capture_output=True, timeout=120,
        )  # fmt: skip

    def init(self) -> None:
        """Create the cluster's data directory."""
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust",
                  "--no-sync", "-E", "UTF8")  # fmt: skip

    def start(self) -> None:
        """Start the server and wait until it accepts connections."""
        options = f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off"
        if not self.durable:
            options += " -c synchronous_commit=off -c full_page_writes=off"
        self._run(
            "pg_ctl", "-D", str(self.data), "-l", str(self.root / "log"), "-w", "-o", options,
            "start",
        )  # fmt: skip
        _wait_ready(self.port)

    def stop(self, mode: str = "fast") -> None:
        """Stop the server: ``fast`` ends client sessions cleanly, ``immediate`` like a crash."""
        self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "stop", check=False)

    def restart(self, mode: str = "fast") -> None:
        """Stop the server and start it again on the same port and data directory."""
        self.stop(mode)
        self.start()

    @property
    def running(self) -> bool:
        """Whether the server is up (``pg_ctl status``)."""
        status = subprocess.run(
            _as_owner([str(self.bin_dir / "pg_ctl"), "-D", str(self.data), "status"]),
            check=False, capture_output=True, timeout=60,
        )  # fmt: skip
        return status.returncode == 0

    def create_database(self, database: str) -> str:
        """Create an empty database; its asyncpg URL."""
        self._run("psql", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres",
                  "-c", f"CREATE DATABASE {database}")  # fmt: skip
        return self.url(database)


@contextlib.contextmanager
def postgres_cluster(*, durable: bool = False) -> Iterator[PostgresServer]:
    """Start a fresh cluster on a free loopback port; yield it running; stop it after.

    ``durable``: see :class:`PostgresServer`.
    """
    bin_dir = binaries()
    if bin_dir is None:
        raise RuntimeError("PostgreSQL server binaries not found (apt-get install postgresql)")
    root = Path(tempfile.mkdtemp(prefix="cercle-pg-"))
    if os.geteuid() == 0:
        shutil.chown(root, "postgres", "postgres")
    server = PostgresServer(bin_dir, root, _free_port(), durable=durable)
    try:
        server.init()
        try:
            server.start()
            yield server
        finally:
            server.stop("immediate")
    finally:
        shutil.rmtree(root, ignore_errors=True)


@contextlib.contextmanager
def postgres_server(database: str = "cercle_test") -> Iterator[str]:
    """Start a fresh cluster on a free loopback port; yield an asyncpg URL; stop it after."""
    with postgres_cluster() as server:
        yield server.create_database(database)


def _wait_ready(port: int, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 1):
            return
        time.sleep(0.1)
    raise RuntimeError(f"PostgreSQL did not listen on port {port}")
