"""The digest cog end to end: posted once at the close, preview, export, member data."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from bot.testing import Harness
from bot.types import ThreadRef
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
