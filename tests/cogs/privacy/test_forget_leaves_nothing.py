"""``/circle forget`` leaves nothing: one member's data is written through every cog, then the
whole database (every table, every column, read from the SQLAlchemy metadata so a new table is
covered without touching this test) and what the bot shows on the platform are searched for it.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

from sqlalchemy import select
from sqlmodel import SQLModel

import storage.schema  # noqa: F401  (registers every table on the metadata)
from bot.adapters.memory import Sent
from bot.testing import Harness
from bot.types import ChannelRef, Content, MessageRef, ThreadRef, UserRef
from storage import digest as digest_store
from storage.database import Database

START = datetime(2026, 1, 5, 7, 0, tzinfo=UTC)
NAME = "Zéphyrine"
USER_ID = "zéphyrine"  # the memory platform's id of the member called NAME

#: Everything the member writes, by where it goes.
WORDING = "dresseuse de kumquats nocturnes"
FIRST_ANSWER = "Les réseaux ne montrent jamais les coulisses de mon atelier de kumquats."
ANSWER = "Les réseaux ignorent les coulisses de mon métier : personne ne voit le travail de nuit."
COMMENT = "Pareil chez moi, les plans copiés sans crédit me découragent."
COMMAND_ANSWER = "Je réponds aussi par commande : les algorithmes enterrent les petits ateliers."
QUESTION = "Quel outil numérique vous a vraiment fait gagner du temps cette année ?"
NOTE = "Ce message de Bob ressemble à de la publicité déguisée pour son cabinet."
PII = "Pour les kumquats, appelez-moi au 06 12 34 56 78 après dix-huit heures."
HELD = "Sale con de kumquat."
INSULT = "Espèce de connard."

OTHERS = {
    "bob": ("architecte", "Mes rendus 3D ont été copiés sans crédit par un promoteur."),
    "ben": ("architecte", "My renderings get copied and reposted without credit all the time."),
    "bart": ("architecte", "I was disappointed to find my project photos copied without credit."),
    "dan": ("avocat", "LinkedIn m'apporte des clients, mais la déontologie limite la publicité."),
    "bea": ("infirmière", "Patient confidentiality means I can never share a real case online."),
}
#: The ledger of the exactly-once work: searched by the last test (it holds no member text).
LEDGER = frozenset({"handled_events", "effects"})


def texts() -> dict[str, str]:
    """The member's words, by what they are."""
    return {
        "profession wording": WORDING,
        "first answer": FIRST_ANSWER,
        "answer": ANSWER,
        "comment": COMMENT,
        "answer by command": COMMAND_ANSWER,
        "suggested question": QUESTION,
        "report note": NOTE,
        "message with a phone number": "appelez-moi au",
        "held message": HELD,
        "insult": INSULT,
    }


def needles() -> dict[str, str]:
    """What must not be found anywhere after ``/circle forget``."""
    return {"name": NAME, "platform user id": USER_ID, **texts()}


async def dump(db: Database) -> dict[str, list[dict[str, object]]]:
    """Every row of every table."""
    out: dict[str, list[dict[str, object]]] = {}
    async with db.engine.connect() as conn:
        for table in SQLModel.metadata.sorted_tables:
            rows = (await conn.execute(select(table))).mappings().all()
            out[table.name] = [dict(row) for row in rows]
    return out


def found_in(tables: dict[str, list[dict[str, object]]], wanted: str) -> list[str]:
    """``table.column`` of every cell holding ``wanted`` (any case), as is or escaped in JSON."""
    forms = {wanted.casefold(), json.dumps(wanted)[1:-1].casefold()}
    where = []
    for name, rows in tables.items():
        for row in rows:
            for column, value in row.items():
                if isinstance(value, bytes | bytearray | memoryview):
                    continue  # charts and vectors: numbers, no text
                text = str(value).casefold()
                if value is not None and any(form in text for form in forms):
                    where.append(f"{name}.{column}")
    return sorted(set(where))


def shown(sent: Sent) -> str:
    """What a message of the bot shows now: its text and its card, after its edits."""
    content = sent.edits[-1] if sent.edits else sent.content
    card = content.card
    parts = [content.text]
    if card is not None:
        parts += [card.title, card.body, card.footer, *(f"{k} {v}" for k, v in card.fields)]
    return "\n".join(parts)


def visible(h: Harness) -> list[Sent]:
    """What the bot still shows to others: not deleted, not addressed to the member alone."""
    return [
        s
        for s in h.sent
        if not s.deleted
        and (s.where in ("channel", "thread") or (s.to is not None and s.to.id != USER_ID))
    ]


def on_platform(h: Harness, wanted: str) -> list[str]:
    needle = wanted.casefold()
    return [shown(s)[:60] for s in visible(h) if needle in shown(s).casefold()]


def with_webhook_and_hosts_channel(h: Harness) -> None:
    """The memory platform gains what Discord has: reposts under the author's name (a webhook)
    and a channel where hosts review held messages."""
    platform = h.platform
    hosts = ChannelRef(platform.name, "hosts", name="hosts")

    async def repost_as(
        author: UserRef, text: str, channel: ChannelRef, *, thread: ThreadRef | None = None
    ) -> MessageRef:
        return await platform.send(channel, Content(text=f"{author.label}: {text}"), thread=thread)

    platform.repost_as = repost_as  # type: ignore[attr-defined]
    platform.hosts_channel = lambda channel: hosts  # type: ignore[attr-defined]
    platform.mention_channel = lambda where: f"#{where.id}"  # type: ignore[attr-defined]


async def write_everywhere(h: Harness) -> int:
    """The member takes part in every way; returns their member id."""
    await h.say(NAME, "bonjour")
    await h.command(NAME, "/digest credit named:yes")
    await h.command(NAME, f"/profession set {WORDING}")
    for name, (wording, _) in OTHERS.items():
        await h.command(name, f"/profession set {wording}")
    await h.command(NAME, f"/prompt suggest {QUESTION}")
    await h.advance("2h")  # the round opens
    thread = list(h.platform.threads.values())[-1]
    refs = {name: await h.say(name, text, thread=thread) for name, (_, text) in OTHERS.items()}
    mine = await h.say(NAME, FIRST_ANSWER, thread=thread)
    await h.platform.edit_post(mine, ANSWER)
    await h.say(NAME, COMMENT, thread=thread, reply_to=refs["bob"])
    await h.say("bob", "Tout à fait d'accord.", thread=thread, reply_to=mine)
    for reactor in ("bob", "dan", "bea"):  # approval from three professions: quoted
        await h.platform.add_reaction(reactor, mine, "👍")
    await h.platform.add_reaction(NAME, refs["dan"], "👍")
    await h.command(NAME, f"/answer {COMMAND_ANSWER}")
    await h.command(NAME, f"/report message:{refs['bob'].id} {NOTE}")
    await h.say(NAME, PII)  # masked and reposted in their name
    held = await h.say(NAME, HELD)  # held for the hosts
    await h.command("bob", f"/report message:{held.id} pas gentil")
    await h.advance("6d")  # the round closes: its digest is posted
    await h.say(NAME, INSULT)
    await h.say(NAME, INSULT)  # strikes enough for a mute
    assert h.platform.is_muted(NAME)
    return await h.bot.directory.member_for(h.platform.user(NAME))


async def test_forget_leaves_nothing_in_any_table_nor_on_the_platform(
    profile: str, db_url: str | None
) -> None:
    async with Harness(profile, start=START, db_url=db_url, hosts=["hana"]) as h:
        if profile == "discord":
            with_webhook_and_hosts_channel(h)
        member_id = await write_everywhere(h)
        before = await dump(h.db)
        # Every piece of the member's data was stored somewhere the search looks.
        for what, needle in needles().items():
            assert found_in(before, needle), f"{what} was never stored: the test is blind"
        record = await digest_store.get(h.db, 1)
        assert record is not None and ANSWER in record.data  # the digest quotes them
        assert on_platform(h, ANSWER) and on_platform(h, "appelez-moi au")
        assert on_platform(h, COMMAND_ANSWER)
        if profile == "discord":
            assert on_platform(h, HELD)  # shown in the hosts' channel

        done = await h.command(NAME, "/circle forget confirm:yes")
        assert "ne stocke plus rien" in done[-1].text

        after = await dump(h.db)
        leaks = {
            what: where
            for what, needle in needles().items()
            if (where := [w for w in found_in(after, needle) if w.split(".")[0] not in LEDGER])
        }
        assert leaks == {}
        assert {what: on_platform(h, needle) for what, needle in needles().items()} == {
            what: [] for what in needles()
        }
        # No row points at the member any more.
        pointing = [
            f"{table.name}.{column.name}"
            for table in SQLModel.metadata.sorted_tables
            for column in table.columns
            for key in column.foreign_keys
            if key.column.table.name == "members"
            and any(row[column.name] == member_id for row in after[table.name])
        ]
        assert pointing == []
        # Nor any key the cogs keep (``asked:<id>``, ``named:<id>``, ``post:<id>:…``).
        platforms = {h.platform.name, "memory"}
        keys = [
            f"{row['adapter']}/{row['key']}"
            for row in after["adapter_state"]
            if row["adapter"] not in platforms and str(member_id) in str(row["key"]).split(":")
        ]
        assert keys == []
        # What others wrote stays, and so does the digest, with its counts.
        assert found_in(after, OTHERS["dan"][1])
        record = await digest_store.get(h.db, 1)
        assert record is not None
        assert json.loads(record.data)["participation"]["answers"] >= len(OTHERS) + 1
        assert not h.platform.is_muted(NAME)  # its record is gone: nothing would end it


async def test_the_exactly_once_ledger_keeps_nothing_of_a_forgotten_member(profile: str) -> None:
    async with Harness(profile, start=START, hosts=["hana"]) as h:
        await write_everywhere(h)
        await h.command(NAME, "/circle forget confirm:yes")
        after = await dump(h.db)
        ledger = {name: after[name] for name in LEDGER}
        assert {what: found_in(ledger, n) for what, n in needles().items()} == {
            what: [] for what in needles()
        }
