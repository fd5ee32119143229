"""What a benchmark's figures were measured on: one description for every script in bench/."""

from __future__ import annotations

import os
import platform
import time
from pathlib import Path
from typing import Any


def _proc_line(path: str, key: str) -> str | None:
    try:
        for line in Path(path).read_text(encoding="utf-8").splitlines():
            if line.startswith(key):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return None


def machine() -> dict[str, Any]:
    """The CPU, cores, memory, Python, system and load at the time of the run."""
    cpu = _proc_line("/proc/cpuinfo", "model name") or platform.processor() or platform.machine()
    total = _proc_line("/proc/meminfo", "MemTotal")
    memory = f"{int(total.split()[0]) / 1024 / 1024:.1f} GiB" if total else "unknown"
    return {
        "date": time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime()),
        "cpus": os.cpu_count(),
        "cpu": cpu,
        "memory": memory,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "system": f"{platform.system()} {platform.release()}",
        "load_average": [round(x, 2) for x in os.getloadavg()],
    }


def describe(host: dict[str, Any] | None = None) -> str:
    """One line for a report."""
    h = host or machine()
    return (
        f"{h['cpu']}, {h['cpus']} cores, {h['memory']}, Python {h['python']}, "
        f"load average {h['load_average']}, {h['date']}"
    )
