"""Build time_fr.jsonl and time_en.jsonl from the hand-written time_source.txt (#14).

Run it as ``.venv/bin/python tests/cogs/digest/data/time_build.py`` (deterministic). The blind
corpora answer the bank's "time" prompt with professions of none of planted_*, heldout_* and
fresh_*, and are dealt out by planted_build.py's own rules: only the source, the header, the
seeds, the professions and the number of other-language speakers differ. The French round is
large (~300 answers) and the English one small (~140), the other way round from fresh_*, so
that a digest is measured on both sizes of round in each language.
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
SEEDS: Final = {"fr": 6262, "en": 6263}
#: Authors per profession key ("" gives no profession).
PROFESSIONS: Final[dict[str, dict[str, int]]] = {
    "fr": {
        "care_assistant": 36,
        "construction_manager": 33,
        "judge": 31,
        "waiter": 30,
        "livestock_farmer": 29,
        "policy_officer": 29,
        "cleaner": 28,
        "trainer": 27,
        "warehouse_worker": 25,
        "": 20,
    },
    "en": {
        "postal_worker": 17,
        "biologist": 17,
        "hotel_receptionist": 17,
        "soldier": 17,
        "gardener": 16,
        "administrative_assistant": 16,
        "home_care_aide": 18,
        "communication_officer": 16,
        "": 14,
    },
}
#: Authors answering in the other language with one or two shared-theme lines (~6 % in all).
OTHER_LANGUAGE_SHARED: Final = {"fr": 14, "en": 7}


def builder() -> ModuleType:
    """planted_build.py, set to deal the time lines."""
    return _planted.dealer("time", SEEDS, PROFESSIONS)


def build(corpus: str, module: ModuleType | None = None) -> list[dict[str, Any]]:
    """The answers of one time corpus (an author dealt no line does not answer)."""
    return _planted.deal(module or builder(), corpus, OTHER_LANGUAGE_SHARED[corpus])


def main() -> None:
    """Rewrite both time corpora."""
    _planted.rewrite("time", builder(), OTHER_LANGUAGE_SHARED)


if __name__ == "__main__":
    main()
