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
    path = HERE / "planted_build.py"
    spec = importlib.util.spec_from_file_location("fresh_planted_build", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    module.SOURCE = HERE / "fresh_source.txt"
    module.HEADER = HERE / "fresh_themes.json"
    module.SEEDS = SEEDS
    module.PROFESSIONS = PROFESSIONS
    return module


def build(corpus: str, module: ModuleType | None = None) -> list[dict[str, Any]]:
    """The answers of one fresh corpus (an author dealt no line does not answer)."""
    module = module or builder()
    module.OTHER_LANGUAGE_SHARED = OTHER_LANGUAGE_SHARED[corpus]
    answers = module.build(corpus)
    return [x for x in answers if x["text"].strip()]


def main() -> None:
    """Rewrite both fresh corpora."""
    module = builder()
    for corpus in ("fr", "en"):
        answers = build(corpus, module)
        path = HERE / f"fresh_{corpus}.jsonl"
        module.write(path, answers)
        module.report(corpus, answers)


if __name__ == "__main__":
    main()
