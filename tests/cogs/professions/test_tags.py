"""Profession tags as other cogs see them: labels by language, own wording, stored keys."""

from __future__ import annotations

import pytest

from cogs.professions import ProfessionTag, tag_for_key
from cogs.professions.tags import custom_key


def test_bundled_key() -> None:
    tag = tag_for_key("nurse", "infirmière libérale")
    assert tag == ProfessionTag(
        "nurse", "2221", "Infirmier / Infirmière", "Nurse", "infirmière libérale"
    )
    assert tag.label("fr") == "Infirmier / Infirmière"
    assert tag.label("en") == "Nurse"
    assert not tag.is_other and not tag.is_custom
    assert tag.has_own_wording and tag.display("en") == "infirmière libérale"


def test_wording_equal_to_a_label_is_not_own_wording() -> None:
    tag = tag_for_key("nurse", "  NURSE ")
    assert not tag.has_own_wording
    assert tag.display("fr") == "Infirmier / Infirmière"
    assert tag_for_key("nurse").display("en") == "Nurse"


def test_other() -> None:
    tag = tag_for_key("other", "dompteur de nuages")
    assert tag.is_other and tag.isco is None
    assert (tag.label("fr"), tag.label("en")) == ("Autre", "Other")
    assert tag.display("fr") == "dompteur de nuages"


def test_custom_key_carries_its_label() -> None:
    key = custom_key("  Dompteur   de nuages ")
    assert key == "custom:Dompteur de nuages"
    tag = tag_for_key(key)
    assert tag.is_custom and tag.isco is None
    assert tag.label("fr") == tag.label("en") == "Dompteur de nuages"


def test_a_key_the_vocabulary_no_longer_has_is_shown_as_is() -> None:
    tag = tag_for_key("retired_key")
    assert tag.label("fr") == "retired_key" and tag.isco is None


def test_tags_are_frozen() -> None:
    tag = tag_for_key("nurse")
    with pytest.raises(AttributeError):
        tag.key = "lawyer"  # type: ignore[misc]
