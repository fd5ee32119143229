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


def builder() -> ModuleType:
    """planted_build.py, set to deal the held-out lines."""
    path = HERE / "planted_build.py"
    spec = importlib.util.spec_from_file_location("heldout_planted_build", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    module.SOURCE = HERE / "heldout_source.txt"
    module.HEADER = HERE / "heldout_themes.json"
    module.SEEDS = SEEDS
    module.PROFESSIONS = PROFESSIONS
    module.OTHER_LANGUAGE_SHARED = 10
    return module


def build(corpus: str, module: ModuleType | None = None) -> list[dict[str, Any]]:
    """The answers of one held-out corpus (an author dealt no line does not answer)."""
    answers = (module or builder()).build(corpus)
    return [x for x in answers if x["text"].strip()]


def main() -> None:
    """Rewrite both held-out corpora."""
    module = builder()
    for corpus in ("fr", "en"):
        answers = build(corpus, module)
        path = HERE / f"heldout_{corpus}.jsonl"
        module.write(path, answers)
        module.report(corpus, answers)


if __name__ == "__main__":
    main()
