"""The bundled vocabulary: enough professions, both languages, real ISCO-08 codes, no clashes."""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path

import pytest

from cogs.professions import vocabulary
from cogs.professions.vocabulary import DATA_FILE, load, normalize

RAW = json.loads(DATA_FILE.read_text(encoding="utf-8"))


def test_at_least_forty_professions() -> None:
    assert len(vocabulary.professions()) >= 45


def test_every_entry_is_complete() -> None:
    for entry in RAW:
        assert set(entry) == {"key", "isco", "fr", "en", "aliases"}, entry
        assert entry["fr"].strip() and entry["en"].strip(), entry["key"]
        assert len(entry["isco"]) == 4 and entry["isco"].isdigit(), entry["key"]
        assert entry["aliases"], entry["key"]


def test_keys_are_unique_slugs() -> None:
    keys = [entry["key"] for entry in RAW]
    assert len(keys) == len(set(keys))
    assert "other" not in keys  # "other" is handled in code
    assert all(key.replace("_", "").isalnum() and key == key.lower() for key in keys)


def test_no_name_means_two_professions() -> None:
    owners: dict[str, set[str]] = defaultdict(set)
    for profession in vocabulary.professions().values():
        for name in profession.names:
            owners[normalize(name)].add(profession.key)
    clashes = {name: keys for name, keys in owners.items() if len(keys) > 1}
    assert clashes == {}


def test_no_alias_is_listed_twice() -> None:
    for entry in RAW:
        aliases = [normalize(a) for a in entry["aliases"]]
        assert len(aliases) == len(set(aliases)), entry["key"]


def test_well_known_isco_codes() -> None:
    expected = {
        "nurse": "2221",
        "software_developer": "2512",
        "architect": "2161",
        "lawyer": "2611",
        "secondary_teacher": "2330",
        "general_practitioner": "2211",
        "pharmacist": "2262",
        "journalist": "2642",
        "electrician": "7411",
        "plumber": "7126",
        "farmer": "6111",
        "physiotherapist": "2264",
    }
    for key, isco in expected.items():
        profession = vocabulary.get(key)
        assert profession is not None and profession.isco == isco, key


def test_domains_are_covered() -> None:
    # ISCO-08 major groups 1 to 9 (and armed forces) are all represented.
    majors = {p.isco[0] for p in vocabulary.professions().values()}
    assert majors >= set("0123456789")


def test_labels_by_locale() -> None:
    nurse = vocabulary.get("nurse")
    assert nurse is not None
    assert nurse.label("fr") == "Infirmier / Infirmière"
    assert nurse.label("en_GB") == "Nurse"
    assert nurse.label(None) == "Infirmier / Infirmière"


@pytest.mark.parametrize(
    ("entry", "problem"),
    [
        ({"key": "Nurse", "isco": "2221", "fr": "a", "en": "b", "aliases": []}, "slug"),
        ({"key": "other", "isco": "2221", "fr": "a", "en": "b", "aliases": []}, "slug"),
        ({"key": "nurse", "isco": "221", "fr": "a", "en": "b", "aliases": []}, "4-digit"),
        ({"key": "nurse", "isco": "2221", "fr": " ", "en": "b", "aliases": []}, "labels"),
        ({"key": "nurse", "isco": "2221", "fr": "a", "en": "b", "aliases": [""]}, "aliases"),
    ],
)
def test_malformed_files_are_refused(
    tmp_path: Path, entry: dict[str, object], problem: str
) -> None:
    path = tmp_path / "bad.json"
    path.write_text(json.dumps([entry]), encoding="utf-8")
    with pytest.raises(ValueError, match=problem):
        load(path)


def test_a_key_given_twice_is_refused(tmp_path: Path) -> None:
    entry = {"key": "nurse", "isco": "2221", "fr": "a", "en": "b", "aliases": []}
    path = tmp_path / "twice.json"
    path.write_text(json.dumps([entry, entry]), encoding="utf-8")
    with pytest.raises(ValueError, match="twice"):
        load(path)
