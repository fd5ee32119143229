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
    """planted_build.py, set to deal the blind lines."""
    path = HERE / "planted_build.py"
    spec = importlib.util.spec_from_file_location("begin_planted_build", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    module.SOURCE = HERE / "begin_source.txt"
    module.HEADER = HERE / "begin_themes.json"
    module.SEEDS = SEEDS
    module.PROFESSIONS = PROFESSIONS
    return module


def build(corpus: str, module: ModuleType | None = None) -> list[dict[str, Any]]:
    """The answers of one blind corpus (an author dealt no line does not answer)."""
    module = module or builder()
    module.OTHER_LANGUAGE_SHARED = OTHER_LANGUAGE_SHARED[corpus]
    answers = module.build(corpus)
    return [x for x in answers if x["text"].strip()]


def main() -> None:
    """Rewrite both blind corpora."""
    module = builder()
    for corpus in ("fr", "en"):
        answers = build(corpus, module)
        path = HERE / f"begin_{corpus}.jsonl"
        module.write(path, answers)
        module.report(corpus, answers)


if __name__ == "__main__":
    main()
