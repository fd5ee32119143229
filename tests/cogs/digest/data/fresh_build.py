"""Build fresh_fr.jsonl and fresh_en.jsonl from the hand-written fresh_source.txt (#14).

Run it as ``.venv/bin/python tests/cogs/digest/data/fresh_build.py`` (deterministic). The
fresh held-out corpora answer the bank's "disconnect" prompt with other professions than
planted_* and heldout_*, and are dealt out by planted_build.py's own rules: only the source,
the header, the seeds, the professions and the number of other-language speakers differ. The
French round is small (~150 answers) and the English one large (~300), so that a digest is
measured on both sizes of round.
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
SEEDS: Final = {"fr": 3838, "en": 3839}
#: Authors per profession key ("" gives no profession).
PROFESSIONS: Final[dict[str, dict[str, int]]] = {
    "fr": {
        "midwife": 18,
        "shopkeeper": 17,
        "winegrower": 16,
        "police_officer": 16,
        "academic": 15,
        "psychologist": 16,
        "systems_administrator": 16,
        "bus_driver": 15,
        "": 10,
    },
    "en": {
        "firefighter": 33,
        "veterinarian": 31,
        "restaurant_manager": 29,
        "marketing_professional": 28,
        "airline_pilot": 27,
        "entrepreneur": 25,
        "sales_representative": 24,
        "data_scientist": 23,
        "taxi_driver": 22,
        "carpenter": 20,
        "physiotherapist": 18,
        "": 20,
    },
}
#: Authors answering in the other language with one or two shared-theme lines (~6 % in all).
OTHER_LANGUAGE_SHARED: Final = {"fr": 6, "en": 14}


def builder() -> ModuleType:
    """planted_build.py, set to deal the fresh lines."""
    return _planted.dealer("fresh", SEEDS, PROFESSIONS)


def build(corpus: str, module: ModuleType | None = None) -> list[dict[str, Any]]:
    """The answers of one fresh corpus (an author dealt no line does not answer)."""
    return _planted.deal(module or builder(), corpus, OTHER_LANGUAGE_SHARED[corpus])


def main() -> None:
    """Rewrite both fresh corpora."""
    _planted.rewrite("fresh", builder(), OTHER_LANGUAGE_SHARED)


if __name__ == "__main__":
    main()
