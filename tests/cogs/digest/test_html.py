"""The digest as a web page: self-contained, escaped, readable on a phone, light and dark.

The page is opened in headless Chromium (Debian's package) inside a frame as narrow as a
phone; a script in the test's wrapper page (never in the page, whose policy forbids scripts)
reports what the browser laid out.
"""

from __future__ import annotations

import dataclasses
import re
from typing import Any

import numpy as np
import pytest

from bot.i18n import translator
from cogs.digest import analysis as an
from cogs.digest import html, render

HOSTILE = '<img src=x onerror="alert(1)"><script>alert(2)</script> & "quotes"'
#: A word longer than any phone is wide: it must wrap, not push the page sideways.
LONG_WORD = "https://example.com/" + "a" * 140
PROFESSIONS = ("nurse", "lawyer", "baker", "custom:Conseillère en insertion socioprofessionnelle")


def sample() -> an.Digest:
    """A digest with every section, member text that tries to be HTML, and very long words."""

    def quote(i: int, lang: str = "fr", profession: str = "nurse", name: str = "") -> an.Quote:
        text = (
            f"Citation {i} : les réseaux m'ont aidée, mais {LONG_WORD} reste illisible. {HOSTILE}"
        )
        return an.Quote(text, lang, profession, name=name, answer=str(i))

    def theme(i: int, label: str) -> an.Theme:
        return an.Theme(
            label=label,
            keywords=("réseau",),
            authors={"nurse": 4, "lawyer": 3, "baker": 3},
            answers=10,
            sentences=12,
            quote=quote(i, "en" if i % 2 else "fr", name="Zoé <b>" if i == 1 else ""),
        )

    participation = an.Participation(
        answers=42,
        comments=11,
        reactions=96,
        members=37,
        by_profession={key: 12 - 2 * i for i, key in enumerate(PROFESSIONS)},
        authors_by_profession={key: 10 for key in PROFESSIONS},
        by_language={"fr": 30, "en": 12},
        comments_by_profession={"baker": 9, "nurse": 2},
    )
    return an.Digest(
        prompt=f"Que vous apportent les réseaux sociaux ? {HOSTILE}",
        participation=participation,
        shared=(
            theme(1, "Faux comptes et haine en ligne"),
            theme(2, f"Visibilité & {HOSTILE}"),
            theme(3, LONG_WORD),
        ),
        distinctive=(an.Distinctive("nurse", theme(4, "Secret médical"), 7, 10, 1, 27),),
        sub_questions=(
            an.SubQuestion("Que vous manque-t-il ?", "missing", (theme(5, "Du temps"),)),
        ),
        agreement=(an.Agreement(quote(6), 9, 3),),
        not_heard=("judge",),
        follow_up=an.FollowUp("missing", "Du temps"),
    )


def page(locale: str = "fr", d: an.Digest | None = None) -> str:
    d = d or sample()
    t = translator(locale)
    chart = render.chart_png(d, t, number=3, day="19 janvier 2026")
    return html.page(
        d, t, title=render.title(t, 3), meta="Cercle santé · 19 janvier 2026", chart=chart
    )


def test_the_page_is_self_contained_and_escapes_member_text() -> None:
    text = page()
    assert text.startswith("<!DOCTYPE html>") and '<html lang="fr">' in text
    assert html.POLICY in text  # nothing but the page and its data: images, no script
    assert "<script" not in text and "<link" not in text and "@import" not in text
    sources = re.findall(r'\s(?:src|href)="([^"]*)"', text)
    assert sources and all(s.startswith("data:image/png;base64,") for s in sources)
    assert "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;" in text
    assert "Zoé &lt;b&gt;, Infirmier / Infirmière" in text
    assert 'onerror="' not in text
    # Members read the question, never how hosts add it to the bank.
    assert "Vous êtes nombreux à regretter un manque : « Du temps »." in text
    assert "prompt add" not in text
    english = page("en")
    assert '<html lang="en">' in english and "Shared across professions" in english
    assert "Many of you said this is missing: “Du temps”." in english
    # Quotes keep their own language.
    assert '<blockquote lang="en">' in english and '<blockquote lang="fr">' in english


def _contrast(a: str, b: str) -> float:
    def luminance(css: str) -> float:
        values = [int(v) / 255 for v in re.findall(r"\d+", css)[:3]]
        linear = [v / 12.92 if v <= 0.03928 else ((v + 0.055) / 1.055) ** 2.4 for v in values]
        return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]

    high, low = sorted((luminance(a), luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def _fits(seen: dict[str, Any]) -> None:
    assert seen["scrollWidth"] <= seen["innerWidth"], seen
    assert seen["widest"] <= seen["innerWidth"] + 0.5, seen


def test_the_page_in_chromium_fits_a_phone_with_the_chart_loaded(browser: Any) -> None:
    text = page()
    for width in (360, 320):
        seen = browser.measure(text, width=width)
        assert seen["innerWidth"] == width
        _fits(seen)
        assert seen["text"] > 1500  # not blank
        assert seen["headings"][:3] == [
            "Synthèse — tour n°3",
            "Participation",
            "Ce que les métiers partagent",
        ]
        assert "Question de suivi suggérée" in seen["headings"]
        # The chart (the only image: members' <img> stays text) decoded, shrunk to the width.
        [chart] = seen["images"]
        assert chart["complete"] and chart["naturalWidth"] == 800
        assert 0 < chart["width"] <= width
        assert seen["scripts"] == 0
        assert seen["lang"] == "fr"


def test_the_page_follows_the_light_or_dark_preference(browser: Any) -> None:
    text = page("en")
    light = browser.measure(text)
    dark = browser.measure(text, dark=True)
    assert not light["dark"] and dark["dark"]
    assert light["background"] != dark["background"]
    for seen in (light, dark):
        _fits(seen)
        assert _contrast(seen["color"], seen["background"]) >= 7, seen
        assert seen["images"][0]["naturalWidth"] == 800


def test_the_checks_catch_a_page_that_overflows_or_lost_its_image(browser: Any) -> None:
    # The measurements above can fail: a wide block and a broken image are seen as such.
    t = translator("fr")
    broken = html.document(
        t,
        title="x",
        content='<div style="width:900px">x</div><img src="data:image/png;base64,AAAA" alt="">',
    )
    seen = browser.measure(broken)
    assert seen["scrollWidth"] > seen["innerWidth"]
    assert seen["images"][0]["naturalWidth"] == 0


def _pixels(path: Any) -> np.ndarray[Any, Any]:
    from matplotlib import image

    return np.asarray(image.imread(path))[..., :3]


@pytest.mark.parametrize("dark", [False, True])
def test_the_page_on_screen_is_not_blank(browser: Any, dark: bool) -> None:
    shot = _pixels(browser.screenshot(page(), width=360, dark=dark))
    frame = shot[:, :360]
    background = frame[4, 4]  # the page's margin
    brightness = float(background.mean())
    assert brightness < 0.2 if dark else brightness > 0.9
    differs = (np.abs(frame - background).sum(axis=-1) > 0.1).mean()
    assert differs > 0.05  # text, quotes and the chart, not an empty page
    assert len(np.unique((frame * 255).round().astype(int).reshape(-1, 3), axis=0)) > 50


def test_an_empty_round_still_makes_a_page(browser: Any) -> None:
    empty = dataclasses.replace(
        sample(),
        participation=an.Participation(0, 0, 0, 0, {}, {}, {}),
        shared=(),
        distinctive=(),
        sub_questions=(),
        agreement=(),
        follow_up=an.FollowUp("generic"),
    )
    seen = browser.measure(page("en", empty))
    _fits(seen)
    assert seen["headings"] == [
        "Digest — round #3",
        "Participation",
        "Not heard this round",
        "Suggested follow-up question",
    ]
    assert seen["images"][0]["naturalWidth"] == 800
