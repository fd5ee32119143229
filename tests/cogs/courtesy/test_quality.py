"""Quality on the labelled dev set (a copy of shared/data/moderation_dev_cases.jsonl).

The word lists were written from general knowledge, not from this file; these thresholds are the
issue's: no action on any ``ok`` message, at least 95% of insults and profanity acted on in each
language, every message with personal details redacted.
"""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest

from cogs.courtesy.engine import evaluate
from cogs.courtesy.rules import Action

DEV_SET = Path(__file__).parent / "data" / "moderation_dev_cases.jsonl"


def cases() -> list[dict[str, Any]]:
    with DEV_SET.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def test_the_dev_set_is_here() -> None:
    rows = cases()
    assert len(rows) == 141
    assert {row["lang"] for row in rows} == {"en", "fr"}


def test_no_action_on_any_ok_message() -> None:
    acted = [
        row["text"]
        for row in cases()
        if row["label"] == "ok" and evaluate(row["text"], row["lang"]).acted
    ]
    assert acted == []


@pytest.mark.parametrize("lang", ["en", "fr"])
@pytest.mark.parametrize("label", ["insult", "profanity"])
def test_insults_and_profanity_are_acted_on(lang: str, label: str) -> None:
    rows = [row for row in cases() if row["lang"] == lang and row["label"] == label]
    assert rows
    missed = [row["text"] for row in rows if not evaluate(row["text"], row["lang"]).acted]
    assert (len(rows) - len(missed)) / len(rows) >= 0.95, missed


def test_insults_are_taken_out_of_view() -> None:
    by_action: dict[Action, int] = defaultdict(int)
    for row in cases():
        if row["label"] == "insult":
            by_action[evaluate(row["text"], row["lang"]).action] += 1
    assert set(by_action) <= {Action.HIDE, Action.HOLD}


def test_every_personal_detail_is_redacted() -> None:
    for row in cases():
        if row["label"] == "pii":
            decision = evaluate(row["text"], row["lang"])
            assert decision.action is Action.REDACT, row["text"]
            assert decision.redacted_text is not None
            assert decision.redacted_text != row["text"]


HANDWRITTEN = Path(__file__).parent / "data" / "handwritten_cases.jsonl"


def test_a_second_handwritten_set_holds_up() -> None:
    """190 more messages, phrased differently from the dev set (other insults, other disguises,
    innocent words with traps: "dumb terminal", "cul sec", "Je suis crevé", "shoot you an
    email"). Written by the same hand as the word lists, so weaker evidence than a hidden set."""
    with HANDWRITTEN.open(encoding="utf-8") as handle:
        rows = [json.loads(line) for line in handle if line.strip()]
    assert len(rows) == 190
    ok_acted = [r["text"] for r in rows if r["label"] == "ok" and evaluate(r["text"]).acted]
    assert ok_acted == []
    problems = [r for r in rows if r["label"] != "ok"]
    missed = [r["text"] for r in problems if not evaluate(r["text"]).acted]
    assert (len(problems) - len(missed)) / len(problems) >= 0.95, missed
    for row in rows:
        if row["label"] == "pii":
            assert evaluate(row["text"]).action is Action.REDACT, row["text"]
