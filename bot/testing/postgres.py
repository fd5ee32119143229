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


@contextlib.contextmanager
def postgres_server(database: str = "cercle_test") -> Iterator[str]:
    """Start a fresh cluster on a free loopback port; yield an asyncpg URL; stop it after."""
    bin_dir = binaries()
    if bin_dir is None:
        raise RuntimeError("PostgreSQL server binaries not found (apt-get install postgresql)")
    root = Path(tempfile.mkdtemp(prefix="cercle-pg-"))
    data = root / "data"
    port = _free_port()
    if os.geteuid() == 0:
        shutil.chown(root, "postgres", "postgres")
    try:
        subprocess.run(
            _as_owner([str(bin_dir / "initdb"), "-D", str(data), "-U", "postgres",
                       "--auth=trust", "--no-sync", "-E", "UTF8"]),
            check=True, capture_output=True, timeout=120,
        )  # fmt: skip
        subprocess.run(
            _as_owner([
                str(bin_dir / "pg_ctl"), "-D", str(data), "-l", str(root / "log"), "-w",
                "-o", f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off "
                "-c synchronous_commit=off -c full_page_writes=off",
                "start",
            ]),
            check=True, capture_output=True, timeout=120,
        )  # fmt: skip
        try:
            _wait_ready(port)
            subprocess.run(
                _as_owner([str(bin_dir / "psql"), "-h", "127.0.0.1", "-p", str(port), "-U",
                           "postgres", "-c", f"CREATE DATABASE {database}"]),
                check=True, capture_output=True, timeout=60,
            )  # fmt: skip
            yield f"postgresql+asyncpg://postgres@127.0.0.1:{port}/{database}"
        finally:
            subprocess.run(
                _as_owner([str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"]),
                check=False, capture_output=True, timeout=60,
            )  # fmt: skip
    finally:
        shutil.rmtree(root, ignore_errors=True)


def _wait_ready(port: int, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 1):
            return
        time.sleep(0.1)
    raise RuntimeError(f"PostgreSQL did not listen on port {port}")
