"""Build heldout_fr.jsonl and heldout_en.jsonl from the hand-written heldout_source.txt (#14).

Run it as ``.venv/bin/python tests/cogs/digest/data/heldout_build.py`` (deterministic). The
held-out corpora answer another question (the bank's "ai" prompt) with other professions than
planted_*, and are dealt out by planted_build.py's own rules: only the source, the header, the
seeds, the professions and the number of other-language speakers differ.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType
from typing import Any, Final

HERE: Final = Path(__file__).resolve().parent
_spec = importlib.util.spec_from_file_location("planted_build_rules", HERE / "planted_build.py")
assert _spec is not None and _spec.loader is not None
_planted = importlib.util.module_from_spec(_spec)
sys.modules[_spec.name] = _planted
_spec.loader.exec_module(_planted)
SEEDS: Final = {"fr": 2626, "en": 2627}
#: Authors per profession key ("" gives no profession).
PROFESSIONS: Final[dict[str, dict[str, int]]] = {
    "fr": {
        "primary_teacher": 28,
        "general_practitioner": 26,
        "graphic_designer": 24,
        "accountant": 23,
        "translator": 22,
        "truck_driver": 20,
        "real_estate_agent": 19,
        "librarian": 17,
        "hairdresser": 16,
        "": 15,
    },
    "en": {
        "journalist": 27,
        "lawyer": 25,
        "farmer": 23,
        "musician": 22,
        "medical_specialist": 20,
        "insurance_agent": 19,
        "social_worker": 18,
        "electrician": 17,
        "cashier": 16,
        "": 15,
    },
}

#: Authors answering in the other language with one or two shared-theme lines.
OTHER_LANGUAGE_SHARED: Final = {"fr": 10, "en": 10}


def builder() -> ModuleType:
    """planted_build.py, set to deal the heldout lines."""
    return _planted.dealer("heldout", SEEDS, PROFESSIONS)


def build(corpus: str, module: ModuleType | None = None) -> list[dict[str, Any]]:
    """The answers of one heldout corpus (an author dealt no line does not answer)."""
    return _planted.deal(module or builder(), corpus, OTHER_LANGUAGE_SHARED[corpus])


def main() -> None:
    """Rewrite both heldout corpora."""
    _planted.rewrite("heldout", builder(), OTHER_LANGUAGE_SHARED)


if __name__ == "__main__":
    main()
