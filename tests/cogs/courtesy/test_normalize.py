"""Normalisation undoes each disguise and keeps the way back to the original characters."""

from __future__ import annotations

import pytest

from cogs.courtesy.normalize import deleet, fold, fold_text, glued, light, squeeze, tokenize


def words(text: str) -> list[str]:
    return [t.text for t in tokenize(fold(light(text)))]


def test_ascii_text_keeps_its_offsets() -> None:
    mapped = fold(light("Hello World"))
    assert mapped.text == "hello world"
    assert mapped.span(6, 11) == (6, 11)


def test_accents_case_and_ligatures_fold() -> None:
    assert fold_text("ÉCOLE Noël cœur Straße") == "ecole noel coeur strasse"


def test_fullwidth_and_mathematical_letters_fold() -> None:
    assert fold_text("ｆｕｃｋ") == "fuck"
    assert fold_text("𝐟𝐮𝐜𝐤") == "fuck"


def test_zero_width_and_invisible_characters_are_removed() -> None:
    assert fold_text("fu\u200bck o\u00adff en\u2060culé") == "fuck off encule"


def test_homoglyphs_fold_to_latin_in_both_cases() -> None:
    assert fold_text("соnnаrd") == "connard"  # Cyrillic о, а
    assert fold_text("ІDІОТ") == "idiot"  # Cyrillic capitals
    assert fold_text("mοrοn") == "moron"  # Greek omicron


def test_offsets_point_back_to_the_original_characters() -> None:
    text = "Ａ\u200bb ｃonnard!"
    mapped = fold(light(text))
    token = next(t for t in tokenize(mapped) if t.text == "connard")
    assert text[token.start : token.end] == "ｃonnard"
    ab = tokenize(mapped)[0]
    assert ab.text == "ab" and text[ab.start : ab.end] == "Ａ\u200bb"


def test_expanding_characters_keep_offsets() -> None:
    text = "un cœur, connard"
    token = tokenize(fold(light(text)))[-1]
    assert text[token.start : token.end] == "connard"


@pytest.mark.parametrize(
    ("word", "readings"),
    [
        ("c0nnard", ("connard",)),
        ("a$$hole", ("asshole",)),
        ("sh1t", ("shit", "shlt")),
        ("b!tch", ("bitch", "bltch")),
        ("m3rde", ("merde",)),
        ("2024", ("2024",)),
        ("hello", ("hello",)),
    ],
)
def test_leetspeak_readings(word: str, readings: tuple[str, ...]) -> None:
    assert deleet(word) == readings


def test_edge_symbols_are_punctuation_not_letters() -> None:
    assert words("idiot! *really* #tag") == ["idiot", "really", "tag"]


def test_masked_words_keep_their_masks() -> None:
    token = tokenize(fold(light("p*tain")))[0]
    assert token.masked and token.text == "p*tain"


def test_stretched_words_are_squeezed() -> None:
    token = tokenize(fold(light("fuuuuuck")))[0]
    assert token.squeezed == "fuck"
    assert squeeze("connnnnard") == "conard"
    assert tokenize(fold(light("book")))[0].squeezed is None


@pytest.mark.parametrize(
    ("text", "joined"),
    [("c o n n a r d", "connard"), ("a.s.s.h.o.l.e", "asshole"), ("f-u-c-k you", "fuck")],
)
def test_spaced_out_letters_are_joined(text: str, joined: str) -> None:
    tokens = tokenize(fold(light(text)))
    assert tokens[0].text == joined and tokens[0].joined
    assert (
        text[tokens[0].start : tokens[0].end].replace(" ", "").replace(".", "").replace("-", "")
        == joined
    )


def test_elisions_are_not_spaced_letters() -> None:
    assert words("j'y l'a") == ["j", "y", "l", "a"]


def test_words_cut_by_separators_are_found() -> None:
    mapped = fold(light("a fu-ck b"))
    tokens = tokenize(mapped)
    assert glued(tokens, mapped.text) == [(1, 2, "fuck")]


def test_skip_spans_leave_words_out() -> None:
    text = "write to connard@example.com now"
    start = text.index("connard")
    tokens = tokenize(fold(light(text)), skip=[(start, start + len("connard@example.com"))])
    assert [t.text for t in tokens] == ["write", "to", "now"]
