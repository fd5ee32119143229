"""The digest tells one story, fair and safe (#14): what a host of a large circle noticed.

Rounds here are planted with hand-made sentence vectors: each theme is an axis, each sentence
that axis plus a little seeded noise (``spread``: the larger, the farther from the theme's
centre), each lone answer a random direction of its own. So which sentences form a theme, and
which is most central, is known; the analysis, the labels and the rendering are the real ones.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime

import numpy as np
import pytest

from bot.config import Config, DigestSettings
from bot.i18n import translator
from bot.testing import Harness
from bot.types import ChannelRef
from cogs.digest import analysis as an
from cogs.digest import clauses, hosts, html, model, render
from cogs.digest.result import OTHER
from cogs.professions import OTHER_KEY
from storage import digest as digest_store

FR = translator("fr")
START = datetime(2026, 1, 5, 7, 0, tzinfo=UTC)
MISSING = "Que vous manque-t-il ?"
DISAPPOINTED = "Qu'est-ce qui vous a déçu ?"


@dataclass
class Planted:
    """A round being written: answers and their (one-sentence) vectors."""

    answers: list[model.AnswerIn] = field(default_factory=list)
    vectors: dict[str, model.Vectors] = field(default_factory=dict)
    rng: np.random.Generator = field(default_factory=lambda: np.random.default_rng(7))

    def add(
        self,
        profession: str,
        text: str,
        theme: int | None = None,
        *,
        spread: float = 0.1,
        lang: str = "fr",
        approvals: tuple[str, ...] = (),
        author: str = "",
    ) -> str:
        """One answer of one sentence, on ``theme`` (an axis) or alone (``None``)."""
        i = len(self.answers)
        noise = self.rng.standard_normal(model.DIMS)
        noise /= np.linalg.norm(noise)
        if theme is None:
            vector = noise
        else:
            vector = np.zeros(model.DIMS)
            vector[theme] = 1.0
            vector += spread * noise
        vector /= np.linalg.norm(vector)
        answer_id = str(i)
        self.answers.append(
            model.AnswerIn(
                answer_id, profession, text, lang, author or f"m{i}", approvals=approvals
            )
        )
        self.vectors[answer_id] = vector.astype(np.float32)[None, :]
        return answer_id

    def many(self, profession: str, count: int, theme: int | None, text: str, **kw: object) -> None:
        """``count`` answers of one profession, on one theme (or each alone)."""
        for n in range(count):
            self.add(profession, f"{text}, numéro {len(self.answers)} sur {n + 1}", theme, **kw)  # type: ignore[arg-type]

    def digest(self, **kw: object) -> an.Digest:
        return an.analyse("Q ?", self.answers, self.vectors, **kw)  # type: ignore[arg-type]


def every_quote(d: an.Digest) -> list[an.Quote]:
    return [
        *(t.quote for t in d.shared),
        *(x.theme.quote for x in d.distinctive),
        *(t.quote for s in d.sub_questions for t in s.themes),
        *(a.quote for a in d.agreement),
    ]


# ---------------------------------------------------------------- one story


def test_shared_themes_come_most_heard_first() -> None:
    # A: 18 members, most of them nurses; B: 12, spread evenly. The group-aware score ranks
    # B first (it is more even); members read "18 members" above "12 members".
    p = Planted()
    p.many("nurse", 16, 1, "Les commentaires haineux sous nos publications nous épuisent")
    p.many("lawyer", 1, 1, "Les commentaires haineux sous mes publications m'épuisent")
    p.many("baker", 1, 1, "Les commentaires haineux sous mes photos me fatiguent")
    for profession in ("nurse", "lawyer", "baker"):
        p.many(profession, 4, 2, "Il nous faut un espace commun entre métiers différents")
    p.many("nurse", 20, None, "Je poste surtout le soir après mes gardes")
    p.many("lawyer", 1, None, "LinkedIn m'apporte des clients")
    p.many("baker", 1, None, "Je montre la fournée du jour")
    d = p.digest()
    assert [t.author_count for t in d.shared] == [18, 12]
    assert d.shared[0].score < d.shared[1].score  # reach, not the consensus score, orders them
    md = render.markdown(d, FR, title="Synthèse")
    assert md.index("18 membres de 3 métiers") < md.index("12 membres de 3 métiers")


def missing_round() -> Planted:
    """Nine members across three professions say a shared space is missing (also shared)."""
    p = Planted()
    for profession in ("nurse", "lawyer", "baker"):
        p.many(profession, 3, 1, "Il manque un lieu pour parler avec les autres métiers")
        p.many(profession, 2, None, "Je publie mes actualités chaque semaine")
    return p


def test_a_lack_that_is_also_a_shared_theme_is_shown_once_and_says_why() -> None:
    d = missing_round().digest(sub_questions=[MISSING])
    assert len(d.shared) == 1
    shared = d.shared[0]
    sub = d.sub_questions[0]
    assert [t.label for t in sub.themes] == []  # not repeated under the sub-question
    assert sub.merged == (an.Merged("shared", 0, 0, 9),)
    md = render.markdown(d, FR, title="Synthèse")
    assert md.count(render.escape(shared.quote.text)) == 1
    assert "aussi le manque le plus cité (9 membres)" in md
    assert f"**{MISSING}**\nAussi parmi les thèmes ci-dessus : « {shared.label} »." in md
    assert d.follow_up.kind == "missing" and d.follow_up.label == shared.label
    en = render.markdown(d, translator("en"), title="Digest")
    assert "also the most often cited gap (9 members)" in en
    page = html.page(d, FR, title="Synthèse")
    assert page.count(html.esc(shared.quote.text)) == 1
    assert "aussi le manque le plus cité" in page and "Aussi parmi les thèmes ci-dessus" in page
    data = render.as_json(d, FR)
    assert data["shared_themes"][0]["also"] == "aussi le manque le plus cité (9 membres)"
    assert data["sub_questions"][0]["themes"] == []
    assert an.from_dict(json.loads(json.dumps(d.as_dict()))) == d


def test_a_lack_or_a_disappointment_is_quoted_by_the_clause_that_says_so() -> None:
    p = Planted()
    p.add(
        "nurse",
        "Concrètement, j'utilise Instagram tous les jours, mais il me manque un espace pour "
        "parler avec d'autres métiers",
        1,
        spread=0.0,
    )
    p.add("lawyer", "LinkedIn me sert beaucoup, et il manque un lieu pour parler entre métiers", 1)
    p.add(
        "baker",
        "Honestly, I like Instagram but I was disappointed by the algorithm; it hides my posts",
        2,
        spread=0.0,
        lang="en",
    )
    p.add("nurse", "Au quotidien, je suis déçue par l'algorithme qui cache tout", 2)
    p.many("farmer", 4, None, "Je vends mes légumes en direct")
    d = p.digest(sub_questions=[MISSING, DISAPPOINTED], locale="en")
    kinds = {s.kind: s for s in d.sub_questions}
    assert kinds["missing"].themes[0].quote.text == (
        "Il me manque un espace pour parler avec d'autres métiers"
    )
    assert kinds["disappointed"].themes[0].quote.text == ("I was disappointed by the algorithm…")


@pytest.mark.parametrize(
    ("sentence", "kind", "quote"),
    [
        (
            "Dans mon cabinet, what I miss is a place to talk with nurses, pharmacists and "
            "teachers.",
            "missing",
            "What I miss is a place to talk with nurses, pharmacists and teachers.",
        ),
        (
            "Concrètement, j'aime Instagram mais je suis déçue par l'algorithme ; il cache tout.",
            "disappointed",
            "Je suis déçue par l'algorithme…",
        ),
        (
            "Ce qui me manque : un lieu commun pour parler.",
            "missing",
            "Ce qui me manque : un lieu commun pour parler.",
        ),
        ("Déçu ; l'algorithme cache tout.", "disappointed", "Déçu ; l'algorithme cache tout."),
        ("I use LinkedIn every day.", "missing", "I use LinkedIn every day."),
    ],
)
def test_clauses(sentence: str, kind: str, quote: str) -> None:
    assert clauses.clause(sentence, kind) == quote


def test_agreements_come_from_different_professions_and_themes() -> None:
    everyone = ("lawyer", "baker", "farmer", "architect")
    p = Planted()
    # The three most approved: two nurses, and two answers on one theme.
    p.add("nurse", "Un espace commun entre métiers aiderait tout le monde", 1, approvals=everyone)
    p.add("nurse", "Les algorithmes cachent nos publications aux patients", 2, approvals=everyone)
    p.add("lawyer", "Un espace partagé entre professions serait précieux", 1, approvals=everyone)
    p.add("baker", "Les faux avis en ligne abîment ma boulangerie", 3, approvals=everyone[2:])
    p.add("farmer", "Vendre en direct sur les réseaux m'a sauvé", 4, approvals=everyone[1:3])
    for profession in ("nurse", "lawyer", "baker", "farmer"):
        p.many(profession, 3, None, "Je publie chaque semaine")
    d = p.digest()
    quoted = [a.quote.answer for a in d.agreement]
    assert quoted == ["0", "3", "4"]  # not the second nurse, not a second "shared space"
    assert [a.professions for a in d.agreement] == [4, 2, 2]


def test_profession_not_given_is_never_counted_as_a_profession() -> None:
    p = Planted()
    for profession in ("nurse", "lawyer", ""):
        p.many(profession, 4, 1, "Les commentaires haineux me fatiguent")
    p.many("", 6, 2, "Je ne dis pas mon métier ici")
    p.many("nurse", 2, None, "Je publie le soir")
    d = p.digest()
    part = d.participation
    assert part.professions == 2 and part.unstated == 10
    assert d.shared[0].author_count == 12 and d.shared[0].profession_count == 2
    assert all(x.profession for x in d.distinctive)  # "not given" sets nobody apart
    md = render.markdown(d, FR, title="Synthèse")
    assert "20 réponses, 0 commentaire et 0 réaction de 20 membres, 2 métiers." in md
    assert "12 membres de 2 métiers" in md
    assert "métier non indiqué 10" not in md and "10 réponses sans métier indiqué." in md
    assert "métier non indiqué" not in {r.label for r in render.chart_rows(d, FR)}
    data = render.as_json(d, FR)
    assert data["participation"]["professions"] == 2
    assert data["participation"]["without_profession"] == 10
    assert "" not in {row["profession"] for row in data["participation"]["by_profession"]}


def test_a_small_round_says_how_many_answers_themes_need() -> None:
    p = Planted()
    for profession in ("nurse", "lawyer", "baker", "farmer"):
        p.add(profession, "Les commentaires haineux me fatiguent beaucoup", 1)
    d = p.digest()
    assert d.shared == () and d.distinctive == () and d.themes_from == 6
    md = render.markdown(d, FR, title="Synthèse")
    assert "Les thèmes apparaissent à partir de 6 réponses ; ce tour en a 4." in md
    en = render.markdown(d, translator("en"), title="Digest")
    assert "Themes appear from 6 answers on; this round has 4." in en
    assert "à partir de 6 réponses" in html.page(d, FR, title="Synthèse")
    # The guard's size sets it; a round with enough answers says nothing of the kind.
    assert p.digest(min_group=2).themes_from == 0
    assert "à partir de" not in render.markdown(missing_round().digest(), FR, title="S")


# ---------------------------------------------------------------- fair and safe


def guarded_round() -> Planted:
    """Four nurses, four lawyers and two judges share a theme; a judge's answer is approved."""
    p = Planted()
    p.add("judge", "Les menaces en commentaires après un jugement m'inquiètent", 1, spread=0.0)
    p.add("judge", "Des insultes en commentaires après chaque audience médiatisée", 1)
    for profession in ("nurse", "lawyer"):
        p.many(profession, 4, 1, "Des insultes et des menaces dans les commentaires")
    p.add(
        "judge",
        "Je lis les réseaux sans jamais publier",
        None,
        approvals=("nurse", "lawyer"),
        author="m0",
    )
    return p


def test_a_small_profession_is_other_professions_in_quotes_and_counts() -> None:
    d = guarded_round().digest()
    part = d.participation
    assert "judge" not in part.by_profession and part.by_profession[OTHER] == 3
    assert part.authors_by_profession[OTHER] == 2 and part.professions == 3
    assert "judge" not in d.shared[0].authors and d.shared[0].authors[OTHER] == 2
    judges = {a.id for a in guarded_round().answers if a.profession == "judge"}
    by_judges = [q for q in every_quote(d) if q.answer in judges]
    assert by_judges and all(q.profession == OTHER for q in by_judges)
    for text in (
        render.markdown(d, FR, title="Synthèse"),
        html.page(d, FR, title="Synthèse"),
        json.dumps(render.as_json(d, FR), ensure_ascii=False),
        render.as_csv(d, FR),
    ):
        assert "Magistrat" not in text and "judge" not in text
    md = render.markdown(d, FR, title="Synthèse")
    assert "— *autres métiers*" in md and "autres métiers 3" in md
    assert "Avocat / Avocate 4 · Infirmier / Infirmière 4 · autres métiers 3" in md
    assert "autres métiers" in {r.label for r in render.chart_rows(d, FR)}
    assert "judge" not in {x.profession for x in d.distinctive}
    assert OTHER == OTHER_KEY  # one bucket with the members whose profession is not recognised


def test_the_guard_size_is_the_circles_setting() -> None:
    d = guarded_round().digest(min_group=5)
    assert set(d.participation.by_profession) == {OTHER}
    assert all(q.profession in (OTHER, "") for q in every_quote(d))
    assert "Infirmier" not in render.markdown(d, FR, title="Synthèse")


def test_the_fairness_line_flags_professions_quoted_under_their_share() -> None:
    def quote(profession: str, i: int) -> an.Quote:
        return an.Quote(f"Une citation numéro {i}", "fr", profession, answer=str(i))

    def theme(q: an.Quote) -> an.Theme:
        return an.Theme(q.text, (), {q.profession: 5}, 5, 5, q)

    professions = ["nurse", "nurse", "nurse", "lawyer"]
    d = an.Digest(
        prompt="Q ?",
        participation=an.Participation(
            100, 0, 0, 100, {"nurse": 50, "lawyer": 30, "baker": 20, "": 10}, {}, {}
        ),
        shared=tuple(theme(quote(p, i)) for i, p in enumerate(professions)),
        distinctive=(),
        sub_questions=(),
        agreement=(),
        not_heard=(),
        follow_up=an.FollowUp("generic"),
    )
    shares = {s.profession: s for s in hosts.fairness(d)}
    assert set(shares) == {"nurse", "lawyer", "baker"}  # "not given" is not a profession
    assert (shares["nurse"].quote_share, shares["nurse"].answer_share) == (0.75, 0.5)
    assert [p for p, s in shares.items() if s.under] == ["baker"]  # lawyer: 25 % >= 0.8 x 30 %
    text = hosts.fairness_text(d, FR)
    assert "Boulanger / Boulangère, pâtissier : 0 % des citations, 20 % des réponses ⚠" in (
        text.replace("\u202f", " ").replace("\xa0", " ")
    )
    assert "Cités moins de 0,8 fois leur part des réponses : Boulanger" in text
    en = hosts.fairness_text(d, translator("en"))
    assert "Quoted under 0.8× their share of the answers: Baker" in en
    balanced = dataclasses.replace(
        d,
        participation=dataclasses.replace(
            d.participation, by_profession={"nurse": 75, "lawyer": 25}
        ),
    )
    assert "Chaque métier est cité au moins 0,8 fois" in hosts.fairness_text(balanced, FR)
    # Never in what members read.
    for public in (render.markdown(d, FR, title="S"), html.page(d, FR, title="S")):
        assert "Équité" not in public and "citations" not in public


def test_quotes_are_in_the_circles_language_when_the_theme_has_a_sentence_in_it() -> None:
    p = Planted()
    for profession in ("nurse", "lawyer", "baker"):
        p.many(
            profession, 3, 1, "Hateful comments under our posts wear us out", spread=0.05, lang="en"
        )
    p.add("nurse", "Les commentaires haineux sous nos publications nous usent", 1, spread=0.4)
    p.many("farmer", 3, None, "I sell vegetables online", lang="en")
    assert p.digest(locale="fr").shared[0].quote.lang == "fr"
    assert p.digest(locale="en").shared[0].quote.lang == "en"


# ---------------------------------------------------------------- distinctive themes


def developers_round() -> Planted:
    """Five of six developers raise open source; twelve members of ten other professions do
    too, closer to the theme's centre."""
    p = Planted()
    p.many(
        "software_developer", 5, 1, "Mes contributions open source me font connaître", spread=0.5
    )
    p.add("software_developer", "Je publie des billets techniques", None)
    others = [
        "nurse",
        "lawyer",
        "baker",
        "farmer",
        "architect",
        "journalist",
        "judge",
        "pharmacist",
        "accountant",
        "electrician",
    ]
    for i, profession in enumerate(others):
        inside = 2 if i < 2 else 1
        p.many(profession, inside, 1, "Je partage du code open source", spread=0.02)
        p.many(profession, 10 - inside, None, "Je publie mes actualités")
    return p


def test_a_distinctive_theme_is_quoted_by_that_profession() -> None:
    d = developers_round().digest()
    mine = [x for x in d.distinctive if x.profession == "software_developer"]
    assert len(mine) == 1
    assert mine[0].theme.quote.profession == "software_developer"
    assert "open source me font connaître" in mine[0].theme.quote.text


def test_a_profession_appears_once_in_the_distinctive_section() -> None:
    p = developers_round()
    p.many("software_developer", 4, 2, "Les revues de code en ligne m'apprennent beaucoup")
    d = p.digest()
    assert [x.profession for x in d.distinctive] == ["software_developer"]
    # Its most distinctive theme: 4 of 10 and nobody else leads 5 of 10 and 12 of 100 elsewhere.
    assert (d.distinctive[0].authors, d.distinctive[0].elsewhere) == (4, 0)


def test_a_distinctive_theme_needs_its_profession_clearly_above_every_other() -> None:
    # Developers 5 of 6, recruiters 4 of 6: far above everyone else pooled, but not above
    # the recruiters: not what sets developers apart.
    p = Planted()
    p.many("software_developer", 5, 1, "Les offres d'emploi en ligne mentent sur les salaires")
    p.many("software_developer", 1, None, "Je publie des billets techniques")
    p.many("human_resources", 4, 1, "Les offres d'emploi en ligne mentent sur les salaires")
    p.many("human_resources", 2, None, "Je recrute sur LinkedIn")
    for profession in ("nurse", "lawyer", "baker", "farmer", "architect"):
        p.many(profession, 20, None, "Je publie mes actualités")
    d = p.digest()
    assert "software_developer" not in {x.profession for x in d.distinctive}


# ---------------------------------------------------------------- the hosts' note, end to end


ANSWERS = {
    "ana": ("infirmière", "Le secret médical m'interdit de parler de mes patients en ligne."),
    "bea": ("infirmière", "Patient confidentiality means I can never share a real case online."),
    "cara": ("infirmière", "Le secret professionnel m'empêche de raconter une situation de soin."),
    "dora": ("infirmière", "Je ne peux rien publier sur mes patients, secret oblige."),
    "eva": ("infirmière", "Medical secrecy forbids me to talk about any patient online."),
    "bob": ("architecte", "I was disappointed to find my project photos copied without credit."),
    "ben": ("architecte", "Mes rendus 3D ont été copiés sans crédit par un promoteur."),
    "bart": ("architecte", "My renderings get copied and reposted without credit all the time."),
}


async def test_hosts_see_the_fairness_line_members_never_do() -> None:
    config = Config(digest=DigestSettings(min_profession_size=4))
    async with Harness("discord", start=START, hosts=["hana"], config=config) as h:
        where = ChannelRef(h.platform.name, "hosts", name="hosts")
        h.platform.hosts_channel = lambda channel: where  # type: ignore[attr-defined]
        h.platform.mention_channel = lambda at: f"#{at.id}"  # type: ignore[attr-defined]
        await h.say("ana", "bonjour")
        for name, (wording, _) in ANSWERS.items():
            await h.command(name, f"/profession set {wording}")
        await h.advance("2h")
        thread = list(h.platform.threads.values())[-1]
        for name, (_, text) in ANSWERS.items():
            await h.say(name, text, thread=thread)
        await h.advance("6d")
        record = await digest_store.get(h.db, 1)
        assert record is not None
        # Three architects are fewer than this circle's four: never named.
        assert "Architecte" not in record.markdown and "autres métiers" in record.markdown
        assert "Infirmier" in record.markdown
        to_hosts = [s for s in h.sent if s.ref.channel == where]
        assert len(to_hosts) == 1
        assert "Équité de la synthèse (pour les hôtes seulement)" in to_hosts[0].text
        assert "autres métiers :" in to_hosts[0].text
        public = [s for s in h.public() if s.ref.channel != where]
        assert public and not any("Équité" in shown(s) for s in public)
        preview = await h.command("hana", "/digest preview")
        assert "Équité de la synthèse" in preview[-1].text and preview[-1].to is not None


def shown(sent: object) -> str:
    card = sent.content.card  # type: ignore[attr-defined]
    return sent.text + ("\n" + card.title + "\n" + card.body if card is not None else "")  # type: ignore[attr-defined]
