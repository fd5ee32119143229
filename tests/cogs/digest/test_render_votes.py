"""The digest's votes: two sections with counts by profession, the chart's panel, the page,
the exports, the crux as follow-up question, the hosts' line when none is ranked."""

from __future__ import annotations

import dataclasses
import io
import json

import numpy as np

from bot.i18n import translator
from cogs.digest import analysis as an
from cogs.digest import html, render, votes_view
from cogs.digest import votes as digest_votes
from cogs.digest.hosts import with_fairness
from cogs.digest.result import VoteCount, VoteEntry, Votes

SHARED = "Les réseaux enferment chaque métier dans sa bulle."
SPLIT = "Publier ses travaux <en ligne> protège le *métier*."


def votes(**changes: object) -> Votes:
    base = Votes(
        agree=(
            VoteEntry(
                1,
                SHARED,
                7,
                0.43,
                0.13,
                (
                    VoteCount("nurse", 3, 0, 0),
                    VoteCount("architect", 3, 0, 0),
                    VoteCount("other", 1, 0, 0),
                ),
            ),
        ),
        differ=(
            VoteEntry(
                2,
                SPLIT,
                7,
                0.05,
                0.6,
                (
                    VoteCount("nurse", 3, 0, 0),
                    VoteCount("architect", 0, 3, 0),
                    VoteCount("other", 0, 0, 1),
                ),
                author="member:9",
            ),
        ),
        statements=3,
        voters=7,
        ranked=2,
        min_voters=5,
        min_professions=2,
    )
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


def digest(v: Votes | None = None, follow: an.FollowUp | None = None) -> an.Digest:
    d = an.Digest(
        prompt="Que pensez-vous des réseaux ?",
        participation=an.Participation(
            answers=12,
            comments=2,
            reactions=5,
            members=10,
            by_profession={"nurse": 6, "architect": 6},
            authors_by_profession={"nurse": 5, "architect": 5},
            by_language={"fr": 12},
        ),
        shared=(),
        distinctive=(),
        sub_questions=(),
        agreement=(),
        not_heard=(),
        follow_up=follow or an.FollowUp("missing", "du temps pour publier"),
    )
    if v is None:
        return d
    # As the digest's build step fills it (cogs.digest.votes.with_votes).
    follow = digest_votes.crux_follow_up(v)
    return dataclasses.replace(d, votes=v, follow_up=follow or d.follow_up)


def test_both_sections_with_counts_by_profession_in_french_and_english() -> None:
    d = digest(votes())
    fr = render.markdown(d, translator("fr"), title="Synthèse")
    assert "**Où les métiers s’accordent**" in fr and "**Où les métiers divergent**" in fr
    assert fr.index("s’accordent") < fr.index("divergent") < fr.index("Question de suivi")
    assert "« Les réseaux enferment chaque métier dans sa bulle » — 7 votants" in fr
    assert "Infirmier / Infirmière 3 sur 3 · Architecte 3 sur 3 · autres métiers 1 sur 1" in fr
    # A crux reads from the profession that agrees most to the one that agrees least.
    assert "Infirmier / Infirmière 3 sur 3 · Architecte 0 sur 3 · autres métiers 0 sur 1" in fr
    # Member text is escaped for Markdown.
    assert r"\*métier\*" in fr and "*métier*" not in fr.replace(r"\*métier\*", "")
    en = render.markdown(d, translator("en"), title="Digest")
    assert "**Where professions agree**" in en and "**Where professions differ**" in en
    assert "“Les réseaux enferment chaque métier dans sa bulle” — 7 voters" in en
    assert "agree: Nurse 3 of 3 · Architect 3 of 3 · other professions 1 of 1" in en


def test_no_vote_section_without_ranked_statements_and_hosts_are_told_why() -> None:
    none = votes(agree=(), differ=(), ranked=0)
    d = digest(none)
    fr = translator("fr")
    text = render.markdown(d, fr, title="Synthèse")
    assert "métiers s’accordent" not in text and "divergent" not in text
    note = with_fairness("", d, fr)
    assert note == (
        "Votes (pour les hôtes seulement) : aucun énoncé n’a atteint 5 votants de 2 métiers, "
        "la synthèse n’en classe donc aucun (3 énoncés, 7 membres ayant voté)."
    )
    ranked = with_fairness("", digest(votes(agree=(), differ=(), ranked=1)), translator("en"))
    assert ranked.startswith("Votes (hosts only): 1 statement ranked, neither agreed")
    # A round without statements says nothing about votes, to members or hosts.
    assert with_fairness("", digest(Votes()), fr) == ""
    assert votes_view.hosts_note(votes(), fr) == ""
    # The note never reaches the digest members read.
    assert "hôtes" not in render.markdown(d, fr, title="Synthèse")


def test_the_top_crux_is_the_follow_up_question_in_both_languages() -> None:
    d = digest(votes())
    assert d.follow_up == an.FollowUp("crux", SPLIT, "nurse", "architect")
    assert render.follow_up_question(d, translator("fr")) == (
        "Côté Infirmier / Infirmière et côté Architecte, les avis divergent sur "
        "« Publier ses travaux <en ligne> protège le *métier* » : qu’est-ce qui vous sépare ?"
    )
    assert render.follow_up_question(d, translator("en")) == (
        "Nurse and Architect members do not agree on “Publier ses travaux <en ligne> protège "
        "le *métier*”: what separates you on this?"
    )
    # A crux between one named profession and the others: no pair to name.
    lone = votes(
        differ=(dataclasses.replace(votes().differ[0], counts=votes().differ[0].counts[1:]),)
    )
    assert render.follow_up_question(digest(lone), translator("fr")) == (
        "Les métiers ne s’accordent pas sur « Publier ses travaux <en ligne> protège le "
        "*métier* » : qu’est-ce qui vous sépare ?"
    )
    # Without a crux, the follow-up stays the unmet need.
    calm = digest(votes(differ=()))
    assert calm.follow_up == an.FollowUp("missing", "du temps pour publier")


def test_votes_are_stored_with_the_digest_and_old_digests_still_load() -> None:
    d = digest(votes())
    back = an.from_dict(json.loads(json.dumps(d.as_dict())))
    assert back == d
    old = d.as_dict()
    del old["votes"]
    old["follow_up"].pop("other")
    assert an.from_dict(old).votes == Votes()
    data = render.as_json(d, translator("en"))["votes"]
    assert [e["text"] for e in data["professions_agree"]] == [SHARED]
    assert data["professions_differ"][0]["by_profession"][1] == {
        "profession": "architect",
        "label": "Architect",
        "agree": 0,
        "disagree": 3,
        "pass": 0,
    }
    assert "author" not in json.dumps(data)


def test_erasing_a_member_takes_their_statement_and_its_question_out() -> None:
    d = digest(votes())
    gone = digest_votes.without_author(d, "member:9")
    assert [e.text for e in gone.votes.differ] == [] and gone.votes.agree == d.votes.agree
    assert gone.follow_up.kind == "generic"
    assert digest_votes.without_author(d, "member:8") == d


def test_the_page_shows_both_sections_escaped() -> None:
    page = html.page(digest(votes()), translator("fr"), title="Synthèse")
    assert "<h2>Où les métiers s’accordent</h2>" in page
    assert "<h2>Où les métiers divergent</h2>" in page
    assert "&lt;en ligne&gt;" in page and "<en ligne>" not in page
    assert '<table class="votes">' in page and "width:100%" in page and "width:0%" in page
    assert "<td>autres métiers</td>" in page
    none = html.page(digest(votes(agree=(), differ=(), ranked=0)), translator("fr"), title="S")
    assert "votes" not in none.split("<style>")[1].split("</style>")[1]


def _pixels(png: bytes) -> np.ndarray:
    from matplotlib import image

    return np.asarray(image.imread(io.BytesIO(png), format="png"))


def test_the_chart_gets_an_agreement_panel_readable_on_its_light_card() -> None:
    from matplotlib.colors import to_rgb

    t = translator("fr")
    plain = _pixels(render.chart_png(digest(), t))
    with_votes = _pixels(render.chart_png(digest(votes()), t))
    assert plain.shape[1] == with_votes.shape[1] == 800
    assert with_votes.shape[0] > plain.shape[0] + 150
    rgb = (with_votes[..., :3] * 255).round().astype(int)
    for colour in (votes_view.AGREE_COLOUR, votes_view.DISAGREE_COLOUR):
        wanted = np.array([round(c * 255) for c in to_rgb(colour)])
        assert (np.abs(rgb - wanted).sum(axis=-1) <= 6).sum() > 2000, colour
    corner = tuple(round(float(c), 2) for c in with_votes[-1, 0, :3])
    assert corner == tuple(round(c, 2) for c in to_rgb(render.CHART_BACKGROUND))
    # No ranked statement: no panel.
    empty = _pixels(render.chart_png(digest(votes(agree=(), differ=(), ranked=0)), t))
    assert empty.shape == plain.shape


def test_the_panel_folds_professions_beyond_its_rows_into_other_professions() -> None:
    counts = tuple(VoteCount(f"custom:m{i:02}", 3 + i, 0, 0) for i in range(15))
    wide = votes(agree=(VoteEntry(1, SHARED, 36, 0.5, 0.0, counts),), differ=())
    keys = votes_view.rows(wide)
    assert len(keys) == votes_view.PANEL_ROWS + 1 and keys[-1] == "other"
    assert keys[0] == "custom:m14"  # the most votes first
    t = translator("en")
    assert render.chart_png(digest(wide), t).startswith(b"\x89PNG")
    # Each statement is a column named by its number, as the sections number them.
    assert [votes_view.statement_mark(s, e, t) for s, e in votes_view.shown(votes())] == [
        "= #1",
        "≠ #2",
    ]
    # In French, the columns are numbered as the French sections (and the statements) are.
    fr = translator("fr")
    assert [votes_view.statement_mark(s, e, fr) for s, e in votes_view.shown(votes())] == [
        "= n°1",
        "≠ n°2",
    ]
    assert "• #1 “Les réseaux" in render.markdown(digest(votes()), t, title="Digest")
