"""Build begin_fr.jsonl and begin_en.jsonl from the hand-written begin_source.txt (#14).

Run it as ``.venv/bin/python tests/cogs/digest/data/begin_build.py`` (deterministic). The blind
corpora answer the bank's "beginners" prompt with other professions than planted_*, heldout_*
and fresh_*, and are dealt out by planted_build.py's own rules: only the source, the header, the
seeds, the professions and the number of other-language speakers differ. The French round is
small (~150 answers) and the English one large (~290), so that a digest is measured on both
sizes of round.
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
SEEDS: Final = {"fr": 5151, "en": 5152}
#: Authors per profession key ("" gives no profession).
PROFESSIONS: Final[dict[str, dict[str, int]]] = {
    "fr": {
        "notary": 18,
        "car_mechanic": 18,
        "dentist": 17,
        "early_childhood_educator": 17,
        "butcher": 16,
        "gardener": 17,
        "human_resources": 16,
        "hotel_receptionist": 16,
        "": 10,
    },
    "en": {
        "it_support_technician": 30,
        "civil_engineer": 28,
        "writer": 27,
        "actor": 26,
        "financial_adviser": 25,
        "bartender": 24,
        "legal_counsel": 23,
        "courier": 22,
        "bricklayer": 22,
        "special_educator": 21,
        "care_assistant": 19,
        "": 20,
    },
}
#: Authors answering in the other language with one or two shared-theme lines (~6 % in all).
OTHER_LANGUAGE_SHARED: Final = {"fr": 6, "en": 16}


def builder() -> ModuleType:
    """planted_build.py, set to deal the begin lines."""
    return _planted.dealer("begin", SEEDS, PROFESSIONS)


def build(corpus: str, module: ModuleType | None = None) -> list[dict[str, Any]]:
    """The answers of one begin corpus (an author dealt no line does not answer)."""
    return _planted.deal(module or builder(), corpus, OTHER_LANGUAGE_SHARED[corpus])


def main() -> None:
    """Rewrite both begin corpora."""
    _planted.rewrite("begin", builder(), OTHER_LANGUAGE_SHARED)


if __name__ == "__main__":
    main()
