"""The bundled bilingual prompt bank and how a stored prompt reads in a circle's language."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Final

from bot.i18n import normalize_locale
from storage.rounds import Prompt

DATA: Final = Path(__file__).parent / "data" / "prompts.json"
MAX_SUBS: Final = 3


@dataclass(frozen=True, slots=True)
class PromptText:
    """A prompt as members read it."""

    text: str
    subs: tuple[str, ...]


@cache
def seeds() -> dict[str, dict[str, PromptText]]:
    """The bundled prompts by key, then by locale."""
    raw = json.loads(DATA.read_text(encoding="utf-8"))
    return {
        item["key"]: {
            locale: PromptText(item[locale]["text"], tuple(item[locale]["subs"][:MAX_SUBS]))
            for locale in ("fr", "en")
        }
        for item in raw
    }


def seed_keys() -> list[str]:
    """Keys of the bundled prompts, the founding question first."""
    return list(seeds())


def render(prompt: Prompt, locale: str) -> PromptText:
    """The prompt's words: seeded ones in the circle's language, others as written."""
    if prompt.seed_key is not None and prompt.seed_key in seeds():
        return seeds()[prompt.seed_key][normalize_locale(locale)]
    return PromptText(prompt.text, tuple(prompt.subs))
