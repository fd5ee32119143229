"""The digest cog end to end: posted once at the close, preview, export, member data."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from bot.i18n import translator
from bot.testing import Harness
from bot.types import ChannelRef, ThreadRef
from cogs.digest import analysis as an
from cogs.digest import render
from cogs.rounds.signals import RoundClosed
from storage import digest as digest_store
from storage import rounds as store

START = datetime(2026, 1, 5, 7, 0, tzinfo=UTC)

MEMBERS = {
    "ana": "infirmière",
    "bea": "infirmière",
    "cara": "infirmière",
    "bob": "architecte",
    "ben": "architecte",
    "bart": "architecte",
    "dan": "avocat",
}
ANSWERS = {
    "ana": "Le secret médical m'interdit de parler de mes patients en ligne.",
    "bea": "Patient confidentiality means I can never share a real case online.",
    "cara": "Le secret professionnel m'empêche de raconter une situation de soin.",
    "bob": "I was disappointed to find my project photos copied without credit.",
    "ben": "Mes rendus 3D ont été copiés sans crédit par un promoteur.",
    "bart": "My renderings get copied and reposted without credit all the time.",
    "dan": "LinkedIn m'apporte des clients, mais la déontologie limite la publicité.",
}


def digests(h: Harness) -> list[str]:
    return [s.text or (s.content.card.title if s.content.card else "") for s in h.public()]


def digest_posts(h: Harness) -> list[object]:
    return [
        s
        for s in h.public()
        if "Synthèse" in s.text
        or (s.content.card is not None and "Synthèse" in s.content.card.title)
    ]


async def run_round(h: Harness) -> ThreadRef:
    await h.say("ana", "bonjour")
    for name, wording in MEMBERS.items():
        await h.command(name, f"/profession set {wording}")
    await h.command("eve", "/profession set boulangère")  # never answers
    await h.advance("2h")
    thread = list(h.platform.threads.values())[-1]
    refs = {}
    for name, text in ANSWERS.items():
        refs[name] = await h.say(name, text, thread=thread)
    await h.say("bob", "Tout à fait d'accord.", thread=thread, reply_to=refs["ana"])
    for reactor in ("bob", "dan", "bea"):
        await h.platform.add_reaction(reactor, refs["ana"], "👍")
    return thread


async def test_digest_posted_once_at_close_with_every_section(profile: str) -> None:
    async with Harness(profile, start=START, hosts=["hana"]) as h:
        await run_round(h)
        await h.advance("6d")
        posts = digest_posts(h)
        assert len(posts) >= 1
        record = await digest_store.get(h.db, 1)
        assert record is not None and record.status == digest_store.DIGEST_POSTED
        md = record.markdown
        assert "Participation" in md
        assert "Ce qui distingue chaque métier" in md
        assert "Pas entendus ce tour-ci" in md and "Boulanger" in md
        assert "Question de suivi suggérée" in md
        # Chart attached to the last message of the digest.
        last = [s for s in h.public() if s.content.attachments]
        assert last and last[-1].content.attachments[0].content_type == "image/png"
        assert last[-1].content.attachments[0].data.startswith(b"\x89PNG")
        before = len(h.sent)
        # A duplicate signal and a restart post nothing more.
        from cogs.rounds.signals import RoundClosed

        await h.bot.signals.emit(RoundClosed(1, 1))
        await h.restart(downtime="1h")
        assert len(h.sent) == before
        # /digest now on a closed round whose digest is out: said privately, nothing posted.
        await h.command("hana", "/digest now")
        assert len(h.public()) == len(
            [s for s in h.sent[:before] if s.where in ("channel", "thread")]
        )


async def test_held_and_hidden_answers_never_appear(profile: str) -> None:
    async with Harness(profile, start=START, hosts=["hana"]) as h:
        thread = await run_round(h)
        secret = "Mon voisin de palier est un escroc notoire et tout le monde le sait."
        ref = await h.say("cara", secret, thread=thread)
        await store.set_visibility(h.db, h.platform.name, ref.id, "hidden")
        await h.advance("6d")
        record = await digest_store.get(h.db, 1)
        assert record is not None
        assert "escroc" not in record.markdown and "escroc" not in record.data


async def test_preview_is_private_and_export_gives_files(profile: str) -> None:
    async with Harness(profile, start=START, hosts=["hana"]) as h:
        await run_round(h)
        public_before = len(h.public())
        await h.command("hana", "/digest preview")
        assert len(h.public()) == public_before
        private = h.private_to("hana")
        assert private
        await h.advance("6d")
        for fmt, suffix in (("json", ".json"), ("csv", ".csv"), ("md", ".md")):
            sent = await h.command("hana", f"/digest export format:{fmt}")
            files = [a for s in sent for a in s.content.attachments]
            assert files and files[0].filename.endswith(suffix)
            if fmt == "json":
                data = json.loads(files[0].data)
                assert {"participation", "shared_themes", "distinctive_themes", "not_heard"} <= set(
                    data
                )


async def test_erasing_a_member_removes_their_quotes(profile: str) -> None:
    async with Harness(profile, start=START, hosts=["hana"]) as h:
        await run_round(h)
        await h.advance("6d")
        record = await digest_store.get(h.db, 1)
        assert record is not None
        quoted_members = {
            q["author"]
            for q in _all_quotes(json.loads(record.data))
            if q["author"].startswith("member:")
        }
        assert quoted_members
        digest_cog = next(c for c in h.bot.cogs if c.name == "digest")
        member = int(next(iter(quoted_members)).split(":")[1])
        exported = await digest_cog.export_member_data(member)
        texts = [q["text"] for q in exported["digest_quotes"]]
        assert texts
        await digest_cog.erase_member_data(member)
        record = await digest_store.get(h.db, 1)
        assert record is not None
        for text in texts:
            assert text not in record.markdown and text not in record.data


def _all_quotes(data: dict[str, object]) -> list[dict[str, str]]:
    found: list[dict[str, str]] = []

    def walk(node: object) -> None:
        if isinstance(node, dict):
            if "author" in node and "text" in node and "lang" in node:
                found.append(node)  # type: ignore[arg-type]
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(data)
    return found


async def test_quotes_name_only_members_who_opted_in(profile: str) -> None:
    async with Harness(profile, start=START, hosts=["hana"]) as h:
        for name in MEMBERS:
            reply = (await h.command(name, "/digest credit named:yes"))[0]
            assert "votre nom" in reply.text and reply.to is not None
        await h.command("bart", "/digest credit named:no")  # changed their mind
        await run_round(h)
        await h.advance("6d")
        record = await digest_store.get(h.db, 1)
        assert record is not None
        quotes = _all_quotes(json.loads(record.data))
        named = {q.get("name", "") for q in quotes} - {""}
        assert named and named <= set(MEMBERS) - {"bart"}
        assert "bart" not in record.markdown
        # Erasing a member also withdraws their consent.
        digest_cog = next(c for c in h.bot.cogs if c.name == "digest")
        member = await h.bot.directory.member_for(h.platform.user("ana"))
        await digest_cog.erase_member_data(member)
        assert (await digest_cog.export_member_data(member))["named_in_quotes_as"] is None


async def test_answers_are_embedded_while_the_round_runs(profile: str) -> None:
    async with Harness(profile, start=START, hosts=["hana"]) as h:
        await run_round(h)
        answers = await store.answers(h.db, 1)
        assert await digest_store.cached_vectors(h.db, [a.id or 0 for a in answers]) == {}
        await h.advance("5m")  # the next batch: every answer so far is embedded and cached
        cached = await digest_store.cached_vectors(h.db, [a.id or 0 for a in answers])
        assert set(cached) == {a.id for a in answers}


# ---------------------------------------------------------------- which round


def shown(sent: object) -> str:
    """A message as members read it: its text and its card."""
    card = sent.content.card  # type: ignore[attr-defined]
    return sent.text + ("\n" + card.title + "\n" + card.body if card is not None else "")  # type: ignore[attr-defined]


async def test_right_after_a_close_export_gives_the_posted_digest(profile: str) -> None:
    async with Harness(profile, start=START, hosts=["hana"]) as h:
        await run_round(h)
        await h.advance("6d")  # round 1 closes: its digest is posted
        await h.advance("1d")  # round 2 opens, nobody has answered yet
        latest = await store.latest_round(h.db, 1)
        assert latest is not None and latest.number == 2 and latest.status == store.ROUND_OPEN
        sent = await h.command("hana", "/digest export format:md")
        files = [a for s in sent for a in s.content.attachments]
        assert [f.filename for f in files] == ["digest-1.md"]
        record = await digest_store.get(h.db, 1)
        assert record is not None
        assert files[0].data.decode() == record.markdown  # the digest that was posted
        assert "tour n°1, en fichier" in sent[0].text
        # round:<n> picks another round: the open one gives its interim digest.
        sent = await h.command("hana", "/digest export format:json round:2")
        files = [a for s in sent for a in s.content.attachments]
        assert [f.filename for f in files] == ["digest-2.json"]
        assert json.loads(files[0].data)["participation"]["answers"] == 0
        assert "provisoire" in sent[0].text
        sent = await h.command("hana", "/digest export format:json round:1")
        data = json.loads(next(a for s in sent for a in s.content.attachments).data)
        assert data["participation"]["answers"] == len(ANSWERS)


async def test_digest_now_takes_the_last_closed_round(profile: str) -> None:
    async with Harness(profile, start=START, hosts=["hana"]) as h:
        await run_round(h)
        before = len(h.public())
        reply = await h.command("hana", "/digest now")
        assert "Aucun tour n’est encore clos" in reply[0].text and "now round:1" in reply[0].text
        assert len(h.public()) == before  # nothing posted
        await h.command("hana", "/digest now round:1")  # asked for: the interim digest
        assert any("Synthèse provisoire" in s.text for s in h.public()[before:])
        await h.advance("6d")
        await h.advance("1d")  # round 2 is open and empty
        before = len(h.public())
        reply = await h.command("hana", "/digest now")
        assert reply[0].text == "La synthèse du tour n°1 a déjà été publiée."
        assert len(h.public()) == before  # not an interim digest of the empty round 2


@pytest.mark.parametrize(
    ("locale", "unknown", "usage", "not_a_number"),
    [
        (
            "fr",
            "Il n’y a pas de tour n°7 dans ce cercle : ses tours vont du n°1 au n°1.",
            "Utilisation : ",
            "tour attend un nombre.",
        ),
        (
            "en",
            "There is no round #7 in this circle: its rounds go from #1 to #1.",
            "Usage: ",
            "round takes a number.",
        ),
    ],
)
async def test_a_bad_round_number_is_explained_with_the_usage(
    locale: str, unknown: str, usage: str, not_a_number: str
) -> None:
    async with Harness("matrix", start=START, hosts=["hana"]) as h:
        await run_round(h)
        await h.command("hana", f"/circle setup language:{locale}")
        before = len(h.public())
        for command in ("/digest export round:7", "/digest now round:7"):
            lines = (await h.command("hana", command))[0].text.splitlines()
            assert lines[0] == unknown
            assert lines[1].startswith(usage) and command.split(" round")[0][1:] in lines[1]
            assert ("tour:" if locale == "fr" else "round:") in lines[1]  # options in its language
        lines = (await h.command("hana", "/digest export round:deux"))[0].text.splitlines()
        assert lines[0] == not_a_number and lines[1].startswith(usage)
        assert len(h.public()) == before
        assert all(s.to is not None for s in h.sent[-3:])  # said privately


# ---------------------------------------------------------------- the follow-up question


def with_hosts_channel(h: Harness) -> ChannelRef:
    """The memory platform gains Discord's review channel, where hosts decide."""
    hosts = ChannelRef(h.platform.name, "hosts", name="hosts")
    h.platform.hosts_channel = lambda channel: hosts  # type: ignore[attr-defined]
    h.platform.mention_channel = lambda where: f"#{where.id}"  # type: ignore[attr-defined]
    return hosts


async def test_the_follow_up_question_goes_to_hosts_once_never_to_members(profile: str) -> None:
    async with Harness(profile, start=START, hosts=["hana"]) as h:
        hosts = with_hosts_channel(h)
        await run_round(h)
        await h.advance("6d")
        record = await digest_store.get(h.db, 1)
        assert record is not None
        digest = an.from_dict(json.loads(record.data))
        question = render.follow_up_question(digest, translator("fr"))
        members_saw = [shown(s) for s in h.public() if s.ref.channel != hosts]
        assert any(render.escape(question) in text for text in members_saw)
        assert not any("prompt add" in t or "prompt approve" in t for t in members_saw)
        assert not any("Hôtes" in text for text in members_saw)
        to_hosts = [s for s in h.sent if s.ref.channel == hosts]
        assert len(to_hosts) == 1
        assert render.escape(question) in to_hosts[0].text
        assert "prompt approve 1" in to_hosts[0].text
        suggested = await store.prompts(h.db, 1, store.PROMPT_SUGGESTED)
        assert [(p.text, p.suggested_by) for p in suggested] == [(question, None)]
        # Once per digest: a duplicate close signal and a restart tell the hosts nothing more.
        await h.bot.signals.emit(RoundClosed(1, 1))
        await h.restart(downtime="1h")
        assert len([s for s in h.sent if s.ref.channel == hosts]) == 1
        assert len(await store.prompts(h.db, 1, store.PROMPT_SUGGESTED)) == 1
        # The button under it puts the question in the bank.
        await h.platform.press("hana", to_hosts[0])
        assert question in [p.text for p in await store.prompts(h.db, 1, store.PROMPT_ACTIVE)]
        assert await store.prompts(h.db, 1, store.PROMPT_SUGGESTED) == []


async def test_without_a_hosts_channel_the_question_waits_in_the_suggestions(profile: str) -> None:
    async with Harness(profile, start=START, hosts=["hana"]) as h:
        await run_round(h)
        preview = await h.command("hana", "/digest preview")
        assert "prompt add" in preview[-1].text and preview[-1].to is not None
        await h.advance("6d")
        suggested = await store.prompts(h.db, 1, store.PROMPT_SUGGESTED)
        assert len(suggested) == 1
        listing = (await h.command("hana", "/prompt suggestions"))[0]
        assert render.escape(suggested[0].text) in listing.text and listing.to is not None
        assert not any("prompt add" in shown(s) for s in h.public())
