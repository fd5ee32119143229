"""``cercle moderate``: run the courtesy rules over past messages, offline.

Each input line is a JSON object with ``text`` (and optionally ``lang``; ``author``, ``at`` and
``joined_at`` enable the flood, repeat and newcomer-link rules). Each output line echoes the
input fields and adds ``action``, ``category``, ``rule`` and, when something was masked,
``redacted_text``. A summary table goes to standard error; unreadable lines are reported with
their line number and skipped, and the exit code is then non-zero.
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import IO, Any, Final

from cogs.courtesy.engine import Decision, Engine
from cogs.courtesy.rules import Action, Category, SettingsError, build_settings, read_settings_file

EXIT_OK: Final = 0
EXIT_BAD_LINES: Final = 1
EXIT_USAGE: Final = 2
_FIELDS: Final = ("action", "category", "rule", "redacted_text")


class LineError(ValueError):
    """An input line cannot be moderated."""


@dataclass(slots=True)
class Summary:
    """Counts for the table printed at the end."""

    lines: int = 0
    errors: int = 0
    actions: Counter[str] = field(default_factory=Counter)
    categories: Counter[str] = field(default_factory=Counter)
    #: (label, action) when the input carries a ``label`` (a labelled set).
    labelled: Counter[tuple[str, str]] = field(default_factory=Counter)

    def add(self, row: dict[str, Any], decision: Decision) -> None:
        """Count one moderated line."""
        self.lines += 1
        self.actions[str(decision.action)] += 1
        self.categories[str(decision.category)] += 1
        label = row.get("label")
        if isinstance(label, str):
            self.labelled[(label, str(decision.action))] += 1

    def table(self) -> str:
        """The summary as aligned text."""
        out = [f"moderated {self.lines} line(s), {self.errors} unreadable"]
        out.append("")
        out.append(f"{'action':<10}{'messages':>9}")
        for action in Action:
            out.append(f"{action:<10}{self.actions.get(str(action), 0):>9}")
        out.append("")
        out.append(f"{'category':<10}{'messages':>9}")
        for category in Category:
            count = self.categories.get(str(category), 0)
            if count:
                out.append(f"{category:<10}{count:>9}")
        if self.labelled:
            labels = sorted({label for label, _ in self.labelled})
            width = max(len("label"), *(len(label) for label in labels)) + 2
            out.append("")
            out.append(f"{'label':<{width}}" + "".join(f"{a:>8}" for a in Action) + f"{'acted':>8}")
            for label in labels:
                counts = [self.labelled.get((label, str(a)), 0) for a in Action]
                total = sum(counts)
                acted = total - counts[0]
                share = f"{100 * acted / total:.0f}%" if total else "-"
                out.append(f"{label:<{width}}" + "".join(f"{c:>8}" for c in counts) + f"{share:>8}")
        return "\n".join(out)


def _time(row: dict[str, Any], key: str) -> datetime | None:
    value = row.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise LineError(f"{key} must be an ISO 8601 time")
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise LineError(f"{key}: not an ISO 8601 time: {value!r}") from None
    if moment.tzinfo is None:
        raise LineError(f"{key}: give a timezone, e.g. 2026-01-05T08:00+01:00")
    return moment


def parse_line(raw: bytes) -> dict[str, Any]:
    """One input line as a JSON object with a ``text`` string.

    Raises:
        LineError: what is wrong with it.
    """
    try:
        decoded = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise LineError(f"not UTF-8 ({error.reason} at byte {error.start})") from None
    try:
        row = json.loads(decoded)
    except json.JSONDecodeError as error:
        raise LineError(f"not JSON ({error.msg}, column {error.colno})") from None
    if not isinstance(row, dict):
        raise LineError("not a JSON object")
    if not isinstance(row.get("text"), str):
        raise LineError('no "text" string')
    lang = row.get("lang")
    if lang is not None and not isinstance(lang, str):
        raise LineError('"lang" must be a string')
    return row


def moderate_lines(
    lines: Iterator[bytes], engine: Engine, out: IO[str], err: IO[str], summary: Summary
) -> None:
    """Moderate each line, writing results to ``out`` and problems to ``err``."""
    activity = engine.new_activity()
    for number, raw in enumerate(lines, start=1):
        if not raw.strip():
            continue
        try:
            row = parse_line(raw)
            at = _time(row, "at")
            joined_at = _time(row, "joined_at")
        except LineError as error:
            summary.errors += 1
            print(f"line {number}: {error}; skipped", file=err)
            continue
        author = row.get("author")
        lang = row.get("lang")
        decision = engine.evaluate(
            row["text"],
            lang.lower() if isinstance(lang, str) else None,
            author=str(author) if author is not None else None,
            now=at,
            joined_at=joined_at,
            activity=activity if at is not None and author is not None else None,
        )
        result = {k: v for k, v in row.items() if k not in _FIELDS}
        result.update(decision.as_json())
        out.write(json.dumps(result, ensure_ascii=False) + "\n")
        summary.add(row, decision)


def _read(path: Path) -> Iterator[bytes]:
    if str(path) == "-":
        yield from sys.stdin.buffer
        return
    with path.open("rb") as handle:
        yield from handle


def run(
    input_path: Path,
    output_path: Path | None = None,
    config_path: Path | None = None,
    *,
    stdout: IO[str] | None = None,
    stderr: IO[str] | None = None,
) -> int:
    """The ``cercle moderate`` command; returns its exit code."""
    out = stdout or sys.stdout
    err = stderr or sys.stderr
    try:
        overrides = read_settings_file(config_path) if config_path is not None else None
        engine = Engine(build_settings(overrides))
    except SettingsError as error:
        for problem in error.problems:
            print(f"{config_path}: {problem}" if config_path else problem, file=err)
        return EXIT_USAGE
    if str(input_path) != "-" and not input_path.is_file():
        print(f"{input_path}: no such file", file=err)
        return EXIT_USAGE
    summary = Summary()
    try:
        if output_path is None:
            moderate_lines(_read(input_path), engine, out, err, summary)
        else:
            with output_path.open("w", encoding="utf-8") as handle:
                moderate_lines(_read(input_path), engine, handle, err, summary)
    except OSError as error:
        print(f"{error.filename or input_path}: {error.strerror or error}", file=err)
        return EXIT_USAGE
    print(summary.table(), file=err)
    return EXIT_BAD_LINES if summary.errors else EXIT_OK
