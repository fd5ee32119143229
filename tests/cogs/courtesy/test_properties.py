"""Courtesy rules on any text: no crash, offsets that hold, masking that sticks."""

from __future__ import annotations

from functools import cache

from hypothesis import given, settings
from hypothesis import strategies as st

from cogs.courtesy.engine import Engine
from cogs.courtesy.normalize import fold, light

ODD = st.sampled_from(
    [
        "\x00",
        "\u202e",
        "\u200b",
        "\u0336",
        "ｃｏｎｎａｒｄ",
        "c o n n a r d",
        "0612345678",
        "ﬁ",
        "ß",
    ]
)
TEXTS = st.lists(st.one_of(st.text(max_size=40), ODD), max_size=8).map(" ".join)


@cache
def engine() -> Engine:
    return Engine()


@settings(max_examples=200, deadline=None)
@given(TEXTS)
def test_normalisation_keeps_every_span_inside_the_original(text: str) -> None:
    lit = light(text)
    folded = fold(lit)
    for mapped in (lit, folded):
        for i in range(len(mapped.text)):
            start, end = mapped.span(i, i + 1)
            assert 0 <= start <= end <= len(text)


@settings(max_examples=200, deadline=None)
@given(TEXTS, st.sampled_from([None, "fr", "en"]))
def test_any_text_gets_a_decision_and_masking_removes_the_detail(
    text: str, lang: str | None
) -> None:
    decision = engine().evaluate(text, lang)
    assert decision.category is not None
    if decision.redacted_text is not None:
        assert "0612345678" not in decision.redacted_text
        assert len(decision.redacted_text) <= len(text) + 50 * text.count("@") + 50
