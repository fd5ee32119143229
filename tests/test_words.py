"""Every message a member or host reads, in both languages (#16): the catalogue and a week.

The catalogue half reads ``bot/locales/fr`` the way a French editor would: every string used
is translated, French typography (a space before ``: ; ? !``, « … » with spaces inside), no
English quotes, no English option names left where French ones exist. The week half plays a
scripted week on the memory kit in a French and an English circle and reads every reply:
no internal id (thread or job keys, pattern syntax, ISO timestamps), no two sentences glued
by a colon, a removed or held message never thanked, the questions in the circle's language.
"""

from __future__ import annotations

import re
import string
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from bot.adapters.discord.commands import GROUP_DESCRIPTIONS, LOCAL_NAME_RE, render_commands
from bot.commands import describe, usage
from bot.i18n import FRENCH_NAMES, LOCALES_DIR, english_name, local_name, translator
from bot.testing import Harness, Sent
from bot.types import ThreadRef
from cogs.professions.vocabulary import professions
from cogs.rounds.bank import seeds
from storage import members

ROOT = Path(__file__).parents[1]
KEYWORDS = {"_": None, "N_": None, "ngettext": (1, 2)}
#: French that is rightly the same as the English: names, formats, pure placeholders.
SAME_IN_FRENCH = frozenset(
    {"Markdown", "JSON", "CSV", "Participation", "{layer}, {score}", "{cron} (cron, {tz})"}
)
#: English placeholder words a French reader must never see between angle brackets.
ENGLISH_PLACEHOLDERS = frozenset({"command", "name", "text", "number", "id", "reason", "member"})


def _catalog(locale: str) -> Catalog:
    with (LOCALES_DIR / locale / "LC_MESSAGES" / "cercle.po").open("rb") as po:
        return read_po(po, locale=locale, domain="cercle")


def _used() -> set[str | tuple[str, ...]]:
    found: set[str | tuple[str, ...]] = set()
    for source in ("bot", "cogs"):
        for _file, _line, message, _c, _ctx in extract_from_dir(
            ROOT / source, method_map=[("**.py", "python")], keywords=KEYWORDS
        ):
            found.add(message if isinstance(message, str) else tuple(message))
    return found


FRENCH = _catalog("fr")
USED = _used()


def _forms(value: object) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list | tuple):
        return tuple(str(v) for v in value)
    return ()


def _french_texts() -> Iterator[tuple[str, str]]:
    """(message id, French text) for every translated entry in use."""
    for entry in FRENCH:
        ids = _forms(entry.id)
        key = entry.id if isinstance(entry.id, str) else tuple(entry.id)
        if not ids or not ids[0] or key not in USED:
            continue
        for text in _forms(entry.string):
            if text:
                yield ids[0], text


def _prose(text: str) -> str:
    """What a reader reads as sentences: code spans, placeholders, links and times taken out."""
    text = re.sub(r"`[^`]*`", " X ", text)
    text = re.sub(r"\{[^}]*\}", "X", text)
    text = re.sub(r"https?://\S+", "X", text)
    text = re.sub(r"\b\d{1,2}:\d{2}\b", "X", text)  # 09:00
    text = re.sub(r"(?<!\S)[\w-]+:(?=[<\w«\"“@])", "X", text)  # option syntax: tour:<n>
    return re.sub(rf"(?<!\S)(?:{'|'.join(FRENCH_NAMES.values())}):", "X", text)  # jour: et heure:


# ---------------------------------------------------------------- the catalogue


def test_every_string_in_use_reads_in_french() -> None:
    assert len(USED) > 300  # extraction works, so the checks below cannot pass vacuously
    untranslated = []
    for msgid in USED:
        entry = FRENCH.get(msgid)
        texts = _forms(entry.string) if entry is not None else ()
        ids = _forms(msgid)
        if not texts or not all(texts):
            untranslated.append(f"missing: {msgid!r}")
        elif texts[0] == ids[0] and ids[0] not in SAME_IN_FRENCH:
            untranslated.append(f"still English: {msgid!r}")
    assert not untranslated, "\n".join(sorted(untranslated))


def test_french_spaces_before_double_punctuation_and_inside_guillemets() -> None:
    wrong = []
    for _msgid, text in _french_texts():
        prose = _prose(text)
        if re.search(r"[^\s(X][;?!]", prose) or re.search(r"[^\sX]:(?=\s|$)", prose):
            wrong.append(f"no space before : ; ? or !: {text!r}")
        if re.search(r"«(?!\s)|(?<!\s)»", prose):
            wrong.append(f"no space inside « »: {text!r}")
    assert not wrong, "\n".join(wrong)


def test_french_quotes_are_guillemets() -> None:
    english = [text for _id, text in _french_texts() if re.search(r"[“”\"]", _prose(text))]
    assert not english, "English quotes in French:\n" + "\n".join(english)


def test_french_apostrophes_are_typographic() -> None:
    straight = [
        text
        for entry in FRENCH
        if entry.id
        for text in _forms(entry.string)
        if "'" in re.sub(r"`[^`]*`", "", text)
    ]
    straight += [
        text
        for prompt in seeds().values()
        for text in (prompt["fr"].text, *prompt["fr"].subs)
        if "'" in text
    ]
    straight += [p.fr for p in professions().values() if "'" in p.fr]
    assert not straight, "Straight apostrophes in French (write ’):\n" + "\n".join(straight)


def test_french_keeps_no_english_placeholder_or_option_name() -> None:
    wrong = []
    for _msgid, text in _french_texts():
        for word in re.findall(r"<([a-z_]+)>", text):
            if word in ENGLISH_PLACEHOLDERS:
                wrong.append(f"<{word}>: {text!r}")
        for name in re.findall(r"(?<![\w/!])([a-z_0-9]+):(?=[<\w«\"“])", text):
            if local_name(name, "fr") != name:
                wrong.append(f"{name}: (French: {local_name(name, 'fr')}:) in {text!r}")
    assert not wrong, "\n".join(wrong)


async def test_french_help_names_options_in_french_and_describes_in_the_infinitive() -> None:
    t = translator("fr")
    async with Harness("discord", hosts=["hana"]) as h:
        specs = h.bot.commands.specs
    for spec in specs:
        written = usage(spec, t) + "\n" + describe(spec, t)
        for option in spec.options:
            french = local_name(option.name, "fr")
            if french != option.name:
                assert f"`{option.name}`" not in written and f" {option.name}:" not in written
                assert french in written
        first = t._(spec.description).split()[0]
        # "Afficher", "Voir", "Recevoir", "Répondre": never "Affiche" beside "Afficher".
        assert re.search(r"(er|ir|re|oir)$", first), f"{spec.qualified_name}: {first}"
        # English says what to do too ("Show recent decisions", not "Recent decisions").
        english = spec.description.split()[0].lower()
        assert english not in {"a", "an", "the", "what", "recent", "messages"}, spec.description


def test_french_names_are_discord_names_and_lead_back_to_english() -> None:
    for english, french in FRENCH_NAMES.items():
        assert LOCAL_NAME_RE.fullmatch(french) and french == french.lower(), french
        assert english_name(french) == english
    assert english_name("question") == "prompt" and english_name("prompt") == "prompt"


async def test_discord_names_are_localized_and_groups_described_in_sentences() -> None:
    async with Harness("discord") as h:
        payload = render_commands(h.bot.commands.specs)
    chat = {c["name"]: c for c in payload if c["type"] == 1}
    assert chat["prompt"]["name_localizations"] == {"fr": "question"}
    add = next(o for o in chat["prompt"]["options"] if o["name"] == "add")
    assert add["name_localizations"] == {"fr": "ajouter"}
    assert add["options"][0]["name_localizations"] == {"fr": "texte"}
    for name, command in chat.items():
        subs = [o["name"] for o in command.get("options", []) if o["type"] == 1]
        if not subs:
            continue
        assert name in GROUP_DESCRIPTIONS, name
        for description in (command["description"], command["description_localizations"]["fr"]):
            assert description.endswith("."), description
            assert not all(sub in description for sub in subs), description  # not a list


# ---------------------------------------------------------------- a week, read

START = datetime(2026, 1, 5, 7, 0, tzinfo=UTC)  # Monday 08:00 in Paris
INTERNAL = re.compile(
    r"thread-[0-9a-f]{4}-\d+"  # a memory platform's thread or message ids
    r"|\b(?:eph|dm|msg|chan)-[0-9a-f]{4}-\d+"
    r"|\b(?:rounds|votes|digest|cercle):[\w:.+-]+"  # job keys
    r"|\(\?[:=!<]|\\[bwds]|\[\^|\.\*|\.\+"  # pattern syntax
    r"|\d{4}-\d\d-\d\dT\d\d|[+-]\d\d:\d\d\b"  # ISO timestamps and UTC offsets
    r"|\bphone [A-Z]{2}\b|\((?:phone|email|iban|address)\b"  # personal details' rule terms
)
#: In French, a capital after ": " starts a new sentence unless it starts a name (a
#: profession, a label): two sentences glued by a colon.
SENTENCE_START = re.compile(
    r" : (?:Prochaine|Tapez|Merci|Pas|Vous|Votre|Vos|Je|Il|Elle|Ce|Cette|Le|La|Les|Un|Une"
    r"|Aucun|Aucune|Rien|Utilisez|Répondez|Donnez)\b"
)
THANKS = (
    "Merci pour votre réponse",
    "De quel métier",
    "Thank you for your answer",
    "Which profession",
)

SCRIPT = {
    "fr": {
        "hello": "bonjour",
        "answer": "J'utilise LinkedIn pour coordonner les soins avec les médecins.",
        "other": "Instagram montre nos chantiers, mais rien pour échanger entre métiers.",
        "insult": "Espèce de connard, tu n'y connais rien.",
        "threat": "Je vais te tuer si tu continues.",
        "phone": "Appelez-moi au 06 12 34 56 78 pour en parler.",
        "test": "connard",
    },
    "en": {
        "hello": "hello",
        "answer": "I use LinkedIn to coordinate care with doctors.",
        "other": "Instagram shows our building sites, but nothing to talk across professions.",
        "insult": "You are a fucking idiot, you know nothing.",
        "threat": "I know where you live, watch your back.",
        "phone": "Call me at +1 514 555 0199 to talk about it.",
        "test": "idiot",
    },
}


async def play_week(lang: str, profile: str) -> Harness:
    """A week in one circle: help, professions, answers (one removed, one held, one masked),
    the hosts' commands, the reminder, the close and the digest."""
    say = SCRIPT[lang]
    h = Harness(profile, start=START, hosts=["hana"])
    await h.__aenter__()
    await h.say("ana", say["hello"])
    if lang == "en":
        circle = await h.bot.directory.circle_for(h.platform.channel)
        assert circle is not None and circle.id is not None
        await h.bot.directory.changed(await members.update_circle(h.db, circle.id, locale="en"))

    async def host(text: str) -> None:
        await h.command("hana", text)
        await h.advance("20s")  # hosts type at a human pace: no throttling in the way

    for text in ("/help", "/help command:prompt add", "/help add", "/prompt next"):
        await h.command("ana", text)
    await h.command("ana", "/circle status")
    await h.command("ana", "/circle forget")  # only tells how to confirm
    await h.command("ana", "/profession set infirmière libérale")
    await h.command("bob", "/profession set architecte")
    await h.advance("61m")
    thread = list(h.platform.threads.values())[-1] if h.platform.threads else None
    for who, key in (
        ("ana", "answer"),
        ("bob", "other"),
        ("troll", "insult"),
        ("dan", "threat"),
        ("eve", "phone"),
    ):
        await post(h, who, say[key], thread)
    for text in (
        "/help",
        "/help mod",
        f"/mod test text:{say['test']}",
        "/mod queue",
        "/mod log",
        "/mod strikes member:troll",
        "/circle status",
        "/circle setup",
        "/mod threshold",
        "/circle health",
        "/prompt list",
        "/digest preview",
    ):
        await host(text)
    await h.advance("5d")
    await h.advance("1d")
    await host("/circle health")
    await h.command("ana", "/circle status")
    return h


async def post(h: Harness, who: str, text: str, thread: ThreadRef | None) -> None:
    if thread is not None:
        await h.say(who, text, thread=thread)
    else:
        await h.command(who, f"/answer {text}")


def read(h: Harness) -> list[Sent]:
    return [s for s in h.sent if s.text.strip()]


@pytest.fixture(params=["fr", "en"])
def lang(request: pytest.FixtureRequest) -> str:
    value: str = request.param
    return value


async def test_a_week_reads_as_words_in_the_circles_language(lang: str, profile: str) -> None:
    h = await play_week(lang, profile)
    try:
        sent = read(h)
        assert len(sent) > 20  # the week happened
        leaks = [f"{m.group(0)!r} in {s.text!r}" for s in sent for m in INTERNAL.finditer(s.text)]
        assert not leaks, "internal ids shown:\n" + "\n".join(leaks)
        glued = [s.text for s in sent if lang == "fr" and SENTENCE_START.search(s.text)]
        assert not glued, "sentences glued by a colon:\n" + "\n".join(glued)

        # Commands quoted in a French reply name options and values in French.
        if lang == "fr":
            english = [
                f"{word} in {s.text!r}"
                for s in sent
                for span in re.findall(r"`[^`]*`", s.text)
                for pair in re.findall(r"(?<![\w/!])([a-z_0-9]+):|:(yes|other)\b", span)
                for word in pair
                if word and local_name(word, "fr") != word
            ]
            assert not english, "\n".join(english)

        # Decimals as the circle writes them (the troll's strikes: 2,00 in French).
        strikes = next(s.text for s in sent if "**troll**" in s.text)
        assert ("2,00" if lang == "fr" else "2.00") in strikes, strikes

        # Quotation marks of the circle's language: « … » with spaces in French, “…” in English.
        if lang == "fr":
            quotes = [s.text for s in sent if re.search(r"«(?!\s)|(?<!\s)»|“", s.text)]
        else:
            quotes = [s.text for s in sent if "«" in s.text]
        assert not quotes, quotes

        # Removed (troll) and held (dan) messages: told so, never thanked nor asked.
        for who in ("troll", "dan"):
            to_them = [s.text for s in sent if s.to is not None and s.to.id == who]
            assert not [t for t in to_them if any(w in t for w in THANKS)], to_them
        troll = [s.text for s in sent if s.to is not None and s.to.id == "troll"]
        assert any(("retiré" if lang == "fr" else "removed") in t for t in troll), troll
        # The masked message is an answer like any other: its author is asked once.
        eve = [s.text for s in sent if s.to is not None and s.to.id == "eve"]
        assert sum(any(w in t for w in THANKS) for t in eve) == 1, eve

        # The seeded questions follow the circle's language.
        other = "en" if lang == "fr" else "fr"
        foreign = [
            p[other].text for p in seeds().values() if any(p[other].text in s.text for s in sent)
        ]
        assert not foreign, foreign
        own = seeds()["founding"][lang].text
        assert any(own in s.text for s in sent if s.where == "channel")

        # One name for a round, and the question post asks each sub-question once.
        post_ = next(s.text for s in sent if own in s.text and s.where == "channel")
        assert post_.startswith("**Tour n°1" if lang == "fr" else "**Round #1")
        assert "Cercle n°" not in post_ and "Circle #" not in post_
        for sub in seeds()["founding"][lang].subs:
            assert post_.count(sub) == 1, sub

        # A member asking about a host command learns it is for hosts.
        helped = [s.text for s in sent if s.to is not None and s.to.id == "ana"]
        assert any(
            ("est réservé aux hôtes" if lang == "fr" else "is for hosts only") in t for t in helped
        )
    finally:
        await h.__aexit__(None, None, None)


async def test_a_subcommand_alone_finds_its_commands() -> None:
    async with Harness("discord", hosts=["hana"]) as h:
        text = (await h.command("ana", "/help add"))[0].text
        assert "`/statement add" in text and "`/prompt add" not in text  # hosts' stay hidden
        french = (await h.command("hana", "/help question ajouter"))[0].text
        assert french.startswith("`/prompt add <texte>")


async def test_french_option_names_are_accepted_as_typed() -> None:
    async with Harness("matrix", hosts=["hana"]) as h:
        await h.say("ana", "bonjour")
        added = await h.command(
            "hana", "!prompt add Quoi de neuf ? sous1:« En bien » sous2:« En mal »"
        )
        assert any("ajoutée à la banque" in s.text for s in added), [s.text for s in added]


def test_placeholders_survive_in_every_french_message() -> None:
    t = translator("fr")
    for msgid in USED:
        if isinstance(msgid, str):
            names = [n for _, n, _, _ in string.Formatter().parse(msgid) if n]
            assert t._(msgid, **dict.fromkeys(names, "X")) if names else t._(msgid)
