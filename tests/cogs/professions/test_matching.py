"""Matching a member's wording: case, accents, typos, own wording kept, unknown stays unknown."""

from __future__ import annotations

import pytest

from cogs.professions.matching import (
    CONFIDENT,
    Confidence,
    normalize,
    rank,
    resolve,
    suggest,
)


@pytest.mark.parametrize(
    ("wording", "key"),
    [
        ("Infirmiere", "nurse"),
        ("INFIRMIÈRE", "nurse"),
        ("infirmière", "nurse"),
        ("infirmière libérale", "nurse"),
        ("IDE", "nurse"),
        ("IDE libérale", "nurse"),
        ("nurse", "nurse"),
        ("Registered Nurse", "nurse"),
        ("infirmire", "nurse"),  # a typo
        ("devloper", "software_developer"),  # a typo
        ("développeuse", "software_developer"),
        ("Developpeuse web freelance", "software_developer"),
        ("SWE", "software_developer"),
        ("kiné", "physiotherapist"),
        ("Kinésithérapeute libéral", "physiotherapist"),
        ("médecin", "general_practitioner"),
        ("médecin urgentiste", "medical_specialist"),
        ("aide-soignante", "care_assistant"),
        ("aidesoignante", "care_assistant"),
        ("professeur des écoles", "primary_teacher"),
        ("prof", "secondary_teacher"),
        ("avocate", "lawyer"),
        ("architecte", "architect"),
        ("boulangère", "baker"),
        ("sage femme", "midwife"),
        ("chef de rang", "waiter"),
        ("software_developer", "software_developer"),  # a key, as autocomplete sends it
        ("Professeur / Professeure (collège, lycée)", "secondary_teacher"),  # a label
    ],
)
def test_confident_matches(wording: str, key: str) -> None:
    resolution = resolve(wording)
    assert resolution.confidence is Confidence.CONFIDENT, resolution.matches[:3]
    assert resolution.best is not None and resolution.best.key == key
    assert resolution.wording == wording  # the member's wording is kept as given


@pytest.mark.parametrize(
    ("wording", "among"),
    [
        ("ingénieur", {"civil_engineer", "mechanical_engineer", "software_developer"}),
        ("assistante", {"administrative_assistant", "childcare_worker", "social_worker"}),
        ("conducteur", {"bus_driver", "construction_manager", "truck_driver"}),
        ("prof de maths", {"secondary_teacher"}),
        ("chef de projet", {"chef"}),  # "chef" alone must not decide
    ],
)
def test_close_but_unsure_offers_suggestions(wording: str, among: set[str]) -> None:
    resolution = resolve(wording)
    assert resolution.confidence is Confidence.UNSURE
    assert among & {m.key for m in resolution.matches[:3]}


@pytest.mark.parametrize(
    "wording", ["astronaute de l'espace lointain", "xyz", "a", "dompteur de nuages"]
)
def test_unknown_wording(wording: str) -> None:
    assert resolve(wording).confidence is Confidence.UNKNOWN


def test_nothing_to_match() -> None:
    assert rank("") == [] and rank("?!…") == []
    assert resolve("   ").confidence is Confidence.UNKNOWN


def test_normalize_strips_case_accents_and_punctuation() -> None:
    assert normalize("  Infirmière   LIBÉRALE!! ") == "infirmiere liberale"
    assert normalize("Maïeuticien·ne") == "maieuticien ne"
    assert normalize("d'État / l’hôpital") == "d etat l hopital"
    assert normalize("ﬁ") == "fi"  # compatibility forms (NFKD)


def test_rank_is_one_match_per_profession_best_first() -> None:
    matches = rank("ingénieur")
    keys = [m.key for m in matches]
    assert len(keys) == len(set(keys))
    assert [m.score for m in matches] == sorted((m.score for m in matches), reverse=True)


def test_abbreviations_only_match_whole_words() -> None:
    # "ide" hides inside "aide" and "guide": that must not make a nurse of them.
    assert resolve("IDE").best is not None
    assert all(m.key != "nurse" for m in rank("guide de montagne") if m.score >= CONFIDENT)
    assert "nurse" not in {m.key for m in rank("aide à domicile")[:1]}


def test_extra_names_of_a_circle_are_matched() -> None:
    extra = [("custom:Infirmière puéricultrice", "Infirmière puéricultrice")]
    resolution = resolve("infirmiere puericultrice", extra)
    assert resolution.confidence is Confidence.CONFIDENT
    assert resolution.best is not None
    assert resolution.best.key == "custom:Infirmière puéricultrice"
    merged = [("airline_pilot", "astronaute de l'espace lointain")]
    best = resolve("Astronaute de l’espace lointain", merged).best
    assert best is not None and best.key == "airline_pilot"


def test_suggest_labels_in_the_circles_language() -> None:
    assert suggest("infir", "fr")[0] == ("nurse", "Infirmier / Infirmière")
    assert suggest("infir", "en")[0] == ("nurse", "Nurse")
    assert ("software_developer", "Software developer") in suggest("dev", "en")
    assert suggest("kiné", "fr")[0] == ("physiotherapist", "Kinésithérapeute")
    assert suggest("IDE", "fr") == [("nurse", "Infirmier / Infirmière")]


def test_suggest_tolerates_typos_and_limits() -> None:
    assert suggest("infirmeire", "fr")[0][0] == "nurse"
    assert len(suggest("", "fr")) == 25
    everything = suggest("", "en", limit=1000)
    labels = [label for _key, label in everything]
    assert labels == sorted(labels)
    assert len(suggest("e", "fr", limit=5)) <= 5


def test_suggest_includes_the_circles_custom_professions() -> None:
    extra = [("custom:Dompteur de nuages", "Dompteur de nuages")]
    assert suggest("dompt", "fr", extra=extra) == [
        ("custom:Dompteur de nuages", "Dompteur de nuages")
    ]
