"""kill -9 at named crash points of a real ``cercle run``: nothing lost, nothing doubled.

Each test runs the bot as a process on the memory platform, fed by a durable inbox and
writing every side effect to an outbox that dedupes requests on their idempotency key, as a
Matrix homeserver does with transaction ids. ``faults_launcher.py`` arms a ``kill -9`` at a
named site (the scheduler's claim, between handling an inbox line and storing its position,
between a platform effect or a cog's write and its ledger record); the bot is started again
and the outbox and the database must show each effect and each row exactly once.

Every test also prints what the restart replayed (inbox lines read again, settled before or
not) and what the outbox saw (effects delivered, requests repeated and deduped): ``pytest -s``.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import sys
from collections import Counter
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlmodel import select

from bot.effects import event_key
from storage import jobs
from storage.database import Database
from storage.rounds import CircleSettings

pytestmark = pytest.mark.slow

LAUNCHER = Path(__file__).with_name("faults_launcher.py")
QUESTION = "la question de la semaine"


# ---------------------------------------------------------------- a bot process and its files


@dataclass
class Site:
    """One bot's files and database, shared by its successive processes."""

    root: Path
    url: str
    db: Database = field(init=False)

    def __post_init__(self) -> None:
        self.db = Database(self.url)

    @property
    def inbox(self) -> Path:
        return self.root / "inbox.jsonl"

    @property
    def outbox(self) -> Path:
        return self.root / "outbox.jsonl"

    def write(self, *entries: dict[str, str]) -> None:
        with self.inbox.open("a", encoding="utf-8") as out:
            for entry in entries:
                out.write(json.dumps(entry, ensure_ascii=False) + "\n")

    def lines(self) -> list[dict[str, Any]]:
        """What the bot did, as the outbox recorded it (repeats included)."""
        if not self.outbox.exists():
            return []
        return [json.loads(line) for line in self.outbox.read_text("utf-8").splitlines()]

    def delivered(self) -> list[dict[str, Any]]:
        return [line for line in self.lines() if not line.get("repeat")]

    def repeats(self) -> list[dict[str, Any]]:
        return [line for line in self.lines() if line.get("repeat")]

    async def scalar(self, sql: str) -> Any:
        async with self.db.engine.connect() as conn:
            return (await conn.execute(text(sql))).scalar()

    async def until(self, sql: str, done: Callable[[Any], bool], seconds: float = 60) -> Any:
        async def poll() -> Any:
            while True:
                try:
                    value = await self.scalar(sql)
                except DBAPIError:  # the bot has not created the schema yet
                    value = None
                if done(value):
                    return value
                await asyncio.sleep(0.05)

        return await asyncio.wait_for(poll(), seconds)

    async def offset(self) -> int:
        """The inbox position the bot stored (where a restart reads from)."""
        value = await self.scalar("SELECT value FROM adapter_state WHERE key LIKE 'inbox-offset:%'")
        return int(value or 0)

    async def caught_up(self, seconds: float = 60) -> None:
        """Wait until every line of the inbox was handled and its position stored."""
        size = self.inbox.stat().st_size
        await self.until(
            "SELECT value FROM adapter_state WHERE key LIKE 'inbox-offset:%'",
            lambda v: v is not None and int(v) >= size,
            seconds,
        )


async def start(
    site: Site, point: str = "none", hit: int = 0, **env: str
) -> asyncio.subprocess.Process:
    """``cercle run`` on the site, dying at the ``hit``-th pass through ``point``."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith("CERCLE_")}
    environment.update(env)
    return await asyncio.create_subprocess_exec(
        sys.executable, "-P", str(LAUNCHER), point, str(hit),
        "run", "--config", str(site.root / "cercle.toml"), "--host", "hana",
        cwd=site.root, env=environment,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip


@pytest.fixture
async def site(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Site]:
    """A fresh bot site on SQLite, or on the session's PostgreSQL (emptied first) when the
    test is parametrised with ``site="postgresql"``."""
    if getattr(request, "param", "sqlite") == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path / 'cercle.db'}"
    else:
        url = request.getfixturevalue("postgres_url")
        db = Database(url)
        async with db.engine.begin() as conn:
            await conn.execute(text("DROP SCHEMA public CASCADE"))
            await conn.execute(text("CREATE SCHEMA public"))
        await db.dispose()
    found = Site(tmp_path, url)
    (tmp_path / "cercle.toml").write_text(
        '[bot]\nadapters = ["memory"]\ninstance = "faults"\n\n'
        f'[database]\nurl = "{url}"\n\n'
        "[scheduler]\ngrace_minutes = 10080\n\n"
        f'[memory]\ninbox = "{found.inbox}"\noutbox = "{found.outbox}"\n'
    )
    yield found
    await found.db.dispose()


# ---------------------------------------------------------------- what a restart replayed


@dataclass
class Replay:
    """The inbox lines a restart reads again, by what the dead process had done with them."""

    #: Lines past the stored position: the restart reads them (again).
    reread: int
    #: Of those, settled in the ledger before the kill: dropped as replays.
    settled: int
    #: The line the process was handling when it died (``None``: between lines).
    in_flight: str | None

    @property
    def replayed(self) -> int:
        """Lines the dead process had started and the restart hands to the bot again."""
        return self.settled + (1 if self.in_flight is not None else 0)

    @property
    def unread(self) -> int:
        """Lines the dead process never started."""
        return self.reread - self.replayed


async def replay_at_kill(site: Site, stderr: str) -> Replay:
    """What the next start will read again, as the database and the inbox are now."""
    offset = await site.offset()
    data = site.inbox.read_bytes()[offset:]
    entries = [json.loads(line) for line in data.splitlines() if line.strip()]
    settled = 0
    for entry in entries:
        key = event_key("memory", "MessagePosted", str(entry["id"]))
        found = await site.scalar(f"SELECT count(*) FROM handled_events WHERE key = '{key}'")
        settled += int(found)
    said = re.search(r"fault: kill -9 while handling (\S+)", stderr)
    assert said is not None, stderr[-3000:]
    in_flight = None if said.group(1) == "no" else said.group(1)
    return Replay(len(entries), settled, in_flight)


def report(name: str, replay: Replay, site: Site) -> None:
    delivered = Counter(line["effect"] for line in site.delivered())
    repeated = Counter(line["effect"] for line in site.repeats())
    print(
        f"\n[{name}] replayed {replay.replayed} inbox line(s): {replay.settled} settled before "
        f"the kill (dropped by the ledger), {int(replay.in_flight is not None)} in flight "
        f"(handled again); {replay.unread} never read before; outbox: "
        f"{sum(delivered.values())} effects delivered {dict(delivered)}, "
        f"{sum(repeated.values())} repeated request(s) deduped {dict(repeated)}"
    )


def doubles(site: Site) -> list[tuple[Any, ...]]:
    """Effects delivered twice: the same effect, target and text."""
    on_a_message = ("edit", "delete", "react", "close_thread")
    seen = Counter(
        (
            line["effect"],
            line["channel"],
            line["thread"],
            line["to"],
            line["text"],
            line["ref"] if line["effect"] in on_a_message else None,
        )
        for line in site.delivered()
    )
    return [what for what, count in seen.items() if count > 1]


# ---------------------------------------------------------------- a round and what members say


@dataclass
class Run:
    """A process started on the site, its standard error read as it goes."""

    process: asyncio.subprocess.Process
    done: asyncio.Task[tuple[bytes, bytes]]

    @classmethod
    async def of(cls, site: Site, point: str = "none", hit: int = 0, **env: str) -> Run:
        process = await start(site, point, hit, **env)
        return cls(process, asyncio.ensure_future(process.communicate()))

    async def killed(self, seconds: float = 60) -> str:
        """Wait for the armed process to die of its ``kill -9``; its standard error."""
        _, err = await asyncio.wait_for(self.done, seconds)
        assert self.process.returncode == -signal.SIGKILL, err.decode()[-3000:]
        return err.decode()

    async def stopped(self) -> None:
        """Stop the process with SIGTERM; it must exit cleanly."""
        if self.process.returncode is None:
            self.process.send_signal(signal.SIGTERM)
        _, err = await asyncio.wait_for(self.done, 60)
        assert self.process.returncode == 0, err.decode()[-3000:]

    async def kill(self) -> None:
        if self.process.returncode is None:
            self.process.kill()
        await asyncio.wait_for(self.done, 60)


OPEN = {"id": "c-1", "author": "hana", "text": "/prompt now"}


def members_say(thread: str) -> list[dict[str, str]]:
    """An answer (its author is asked for a profession), a host adding a question, an insult
    (removed, a strike, a notice) and a swear word (a nudge), all in the round's thread."""
    return [
        {
            "id": "a-1",
            "author": "ana",
            "text": "LinkedIn me relie à d'autres juristes.",
            "thread": thread,
        },
        {"id": "c-2", "author": "hana", "text": "/prompt add Quel outil vous manque le plus ?"},
        {
            "id": "a-2",
            "author": "bob",
            "text": "Espèce de crétin, tu n'y connais rien.",
            "thread": thread,
        },
        {
            "id": "a-3",
            "author": "chloe",
            "text": "Putain, les réseaux sont mal faits.",
            "thread": thread,
        },
    ]


#: What the platform shows at the end: (effect, to whom, a piece of the text or the target).
EXPECTED = sorted(
    [
        ("send", None, QUESTION),
        ("start_thread", None, "Tour n°1"),
        ("send_direct", "ana", "De quel métier"),
        ("send", None, "Question n°16 ajoutée"),
        ("delete", None, "a-2"),
        ("send_direct", "bob", "a été retiré"),  # and never asked his profession for it
        ("send_direct", "chloe", "Petit rappel"),
        ("send_direct", "chloe", "De quel métier"),
    ],
    key=str,
)


def shown(site: Site) -> list[tuple[str, str | None, str]]:
    """The delivered effects, each as the EXPECTED entry it matches (or as itself)."""
    found = []
    for line in site.delivered():
        what = line["ref"] if line["effect"] == "delete" else line["text"]
        match = [e for e in EXPECTED if e[:2] == (line["effect"], line["to"]) and e[2] in what]
        found.append(match[0] if match else (line["effect"], line["to"], what[:60]))
    return sorted(found, key=str)


async def thread_of(site: Site) -> str | None:
    try:
        value = await site.scalar("SELECT thread_id FROM rounds WHERE status = 'open'")
    except DBAPIError:
        return None
    return str(value) if value else None


async def crash_in_the_round(site: Site, point: str, hit: int) -> Replay:
    """Play the round on a process dying at ``point``; play the rest on a second one."""
    site.write(OPEN)
    bot = await Run.of(site, point, hit)
    told = False
    try:
        while not bot.done.done():
            thread = await thread_of(site)
            if thread is not None and not told:
                site.write(*members_say(thread))
                told = True
            await asyncio.sleep(0.05)
        stderr = await bot.killed()
    finally:
        await bot.kill()
    replay = await replay_at_kill(site, stderr)
    bot = await Run.of(site)
    try:
        if not told:
            thread = await site.until(
                "SELECT thread_id FROM rounds WHERE status = 'open'", lambda v: bool(v)
            )
            site.write(*members_say(str(thread)))
        await site.caught_up()
        await bot.stopped()
    finally:
        await bot.kill()
    return replay


def extra(site: Site) -> list[tuple[str, str | None, str]]:
    """Delivered effects that are not EXPECTED."""
    return [e for e in shown(site) if e not in EXPECTED]


async def assert_the_round_happened_once(site: Site) -> None:
    assert doubles(site) == []
    assert extra(site) == []
    assert [e for e in EXPECTED if e not in shown(site)] == []  # nothing lost
    counts = {
        "rounds": 1,
        "answers": 3,  # bob's is kept hidden
        "prompts": 16,  # 15 seeded, 1 added
        "courtesy_strikes": 1,
        "courtesy_audit": 2,
        "handled_events": 5,
    }
    for table, expected in counts.items():
        assert await site.scalar(f"SELECT count(*) FROM {table}") == expected, table
    assert await site.scalar("SELECT count(DISTINCT message_id) FROM answers") == 3
    asked = "SELECT count(*) FROM adapter_state WHERE key LIKE 'asked-profession:%'"
    assert await site.scalar(asked) == 2  # ana and chloe: bob's only answer was removed


# ---------------------------------------------------------------- the crash points


@pytest.mark.parametrize(
    ("site", "hit"),
    [
        ("sqlite", 1),  # /prompt now: the question posted, its thread open
        ("sqlite", 2),  # ana's answer stored, her profession asked
        ("postgresql", 2),
        ("sqlite", 3),  # a host's question added, the reply sent
        ("sqlite", 4),  # bob's insult removed, noticed, struck
    ],
    indirect=["site"],
)
async def test_killed_after_handling_a_line_before_storing_its_position(
    site: Site, hit: int
) -> None:
    replay = await crash_in_the_round(site, "after-handling", hit)
    report(f"after-handling:{hit}", replay, site)
    assert (replay.replayed, replay.settled, replay.in_flight) == (1, 1, None)
    await assert_the_round_happened_once(site)
    assert site.repeats() == []  # the line was settled: the ledger drops it, nothing is asked


@pytest.mark.parametrize("hit", [2, 4])  # ana's answer; bob's insult
async def test_killed_after_handling_an_event_before_it_is_settled(site: Site, hit: int) -> None:
    replay = await crash_in_the_round(site, "before-settle", hit)
    report(f"before-settle:{hit}", replay, site)
    # Handled again from the start: every effect it had was recorded, none is requested again.
    assert (replay.replayed, replay.settled, replay.in_flight) == (1, 0, ["a-1", "a-2"][hit // 4])
    await assert_the_round_happened_once(site)
    assert site.repeats() == []


@pytest.mark.parametrize(
    ("site", "method", "hit", "line"),
    [
        ("sqlite", "send", 1, "c-1"),  # the week's question, before its thread is opened
        ("sqlite", "start_thread", 1, "c-1"),
        ("sqlite", "send_direct", 1, "a-1"),  # ana is asked for her profession
        ("postgresql", "send_direct", 1, "a-1"),
        ("sqlite", "send", 2, "c-2"),  # the reply to the host's /prompt add
        ("sqlite", "delete", 1, "a-2"),  # bob's insult removed, before the notice and strike
        ("sqlite", "send_direct", 2, "a-2"),  # bob's notice, before his strike
    ],
    indirect=["site"],
)
async def test_killed_between_a_platform_effect_and_its_ledger_record(
    site: Site, method: str, hit: int, line: str
) -> None:
    replay = await crash_in_the_round(site, f"after-effect:{method}", hit)
    report(f"after-effect:{method}:{hit}", replay, site)
    assert (replay.replayed, replay.settled, replay.in_flight) == (1, 0, line)
    await assert_the_round_happened_once(site)
    # The effect the ledger missed is requested again, once, and the platform knows its key.
    assert [r["effect"] for r in site.repeats()] == [method]


@pytest.mark.parametrize("method", ["send", "start_thread"])
async def test_a_replayed_prompt_now_does_not_tell_the_host_its_round_is_still_open(
    site: Site, method: str
) -> None:
    await crash_in_the_round(site, f"after-effect:{method}", 1)
    told = [line["text"] for line in site.delivered() if line["to"] == "hana"]
    assert told == []


@pytest.mark.parametrize(
    ("module", "function", "line", "table"),
    [
        # Effects.stored: the write and its record commit together, or neither does.
        ("courtesy", "add_strike", "a-2", "courtesy_strikes"),
        ("courtesy", "log", "a-2", "courtesy_audit"),
        ("rounds", "add_prompt", "c-2", "prompts"),
    ],
)
async def test_killed_between_a_cogs_write_and_its_ledger_record(
    site: Site, module: str, function: str, line: str, table: str
) -> None:
    replay = await crash_in_the_round(site, f"after-write:{module}.{function}", 1)
    report(f"after-write:{module}.{function}:1", replay, site)
    print(f"  {table}: {await site.scalar(f'SELECT count(*) FROM {table}')} rows")
    assert (replay.replayed, replay.settled, replay.in_flight) == (1, 0, line)
    await assert_the_round_happened_once(site)


# ---------------------------------------------------------------- the scheduler's claim


async def a_week_old_circle(site: Site) -> None:
    """A circle seen by a first process, made a week old: its last slot is due at start."""
    site.write({"id": "m-1", "author": "ana", "text": "Bonjour à toutes et à tous"})
    bot = await Run.of(site)
    try:
        await site.caught_up()
        await bot.stopped()
    finally:
        await bot.kill()
    async with site.db.session() as session:
        for settings in (await session.exec(select(CircleSettings))).all():
            settings.created_at -= timedelta(days=8)
            session.add(settings)
        await session.commit()


@pytest.mark.parametrize(
    ("site", "taker"),
    [("sqlite", "faults"), ("postgresql", "faults"), ("sqlite", "another")],
    indirect=["site"],
)
async def test_killed_after_claiming_the_weeks_question_it_is_posted_once(
    site: Site, taker: str
) -> None:
    """The same instance restarted takes its dead claim over at once; another instance
    waits for the claim's lease (shortened to 2 s) to expire."""
    await a_week_old_circle(site)
    bot = await Run.of(site, "after-claim", 1, FAULTS_LEASE_SECONDS="2")
    try:
        stderr = await bot.killed()
    finally:
        await bot.kill()
    assert "while handling no line" in stderr
    (claim,) = [run for run in await jobs.recent_runs(site.db, 10) if run.job_key.endswith(":open")]
    assert claim.status == "running" and claim.lease_until is not None
    assert not [line for line in site.delivered() if QUESTION in line["text"]]
    if taker == "another":
        await asyncio.sleep(max(0.0, (claim.lease_until - datetime.now(UTC)).total_seconds()))

    bot = await Run.of(site, CERCLE_BOT__INSTANCE=taker)
    try:
        await site.until(
            "SELECT status FROM job_runs WHERE job_key LIKE 'rounds%open'", lambda v: v == "done"
        )
        await bot.stopped()
    finally:
        await bot.kill()
    run = await jobs.get_run(site.db, claim.job_key, claim.scheduled_for)
    assert run is not None and (run.instance, run.attempts) == (taker, 2)
    delivered = Counter(line["effect"] for line in site.delivered())
    print(
        f"\n[after-claim, taken over by {taker!r}] the week's occurrence ran again once "
        f"(attempts {run.attempts}); 0 inbox lines replayed; outbox: {dict(delivered)} "
        f"delivered, {len(site.repeats())} repeated requests"
    )
    assert [line["effect"] for line in site.delivered()] == ["send", "start_thread"]
    assert QUESTION in site.delivered()[0]["text"]
    assert site.repeats() == []
    assert await site.scalar("SELECT count(*) FROM rounds") == 1
    assert await site.scalar("SELECT thread_id FROM rounds") == site.delivered()[1]["ref"]


# ---------------------------------------------------------------- in the middle of a burst


def burst(thread: str) -> list[dict[str, str]]:
    """48 lines: 36 answers, 4 insults, 4 swear words (all in the thread), 4 questions added."""
    lines = []
    for i in range(44):
        if i % 11 == 3:
            author, said = f"troll{i}", f"Espèce de crétin numéro {i}, tu n'y connais rien."
        elif i % 11 == 7:
            author, said = f"rude{i}", f"Putain, les réseaux numéro {i} sont mal faits."
        else:
            author, said = f"membre{i}", f"Réponse {i} : les réseaux m'aident à échanger."
        lines.append({"id": f"b-{i}", "author": author, "text": said, "thread": thread})
        if i % 11 == 10:
            lines.append({"id": f"q-{i}", "author": "hana", "text": f"/prompt add Question {i} ?"})
    return lines


@pytest.mark.parametrize(
    ("site", "point", "hit"),
    [
        ("sqlite", "after-handling", 30),
        ("sqlite", "before-settle", 30),
        ("sqlite", "after-effect:send_direct", 25),
        ("postgresql", "after-effect:send_direct", 25),
    ],
    indirect=["site"],
)
async def test_killed_in_the_middle_of_a_burst(site: Site, point: str, hit: int) -> None:
    site.write(OPEN)
    bot = await Run.of(site, point, hit)
    try:
        thread = await site.until(
            "SELECT thread_id FROM rounds WHERE status = 'open'", lambda v: bool(v)
        )
        lines = burst(str(thread))
        site.write(*lines)
        stderr = await bot.killed()
    finally:
        await bot.kill()
    replay = await replay_at_kill(site, stderr)
    bot = await Run.of(site)
    try:
        await site.caught_up()
        await bot.stopped()
    finally:
        await bot.kill()
    report(f"mid-burst {point}:{hit}", replay, site)
    assert replay.unread > 0  # killed in the middle: some of the burst was never read before

    said = [line for line in lines if "thread" in line]
    trolls = [line for line in said if line["author"].startswith("troll")]
    rude = [line for line in said if line["author"].startswith("rude")]
    assert doubles(site) == []
    dms = Counter(
        (line["to"], line["text"][:14])
        for line in site.delivered()
        if line["effect"] == "send_direct"
    )
    # A removed message is never thanked: the trolls are only told it was removed.
    expected = Counter((line["author"], "Merci pour vot") for line in said if line not in trolls)
    expected.update((line["author"], "Votre message ") for line in trolls)
    expected.update((line["author"], "Petit rappel :") for line in rude)
    assert dms == expected
    sends = [line["text"] for line in site.delivered() if line["effect"] == "send"]
    assert sorted(sends[1:]) == [f"Question n°{n} ajoutée à la banque." for n in range(16, 20)]
    deleted = [line["ref"] for line in site.delivered() if line["effect"] == "delete"]
    assert sorted(deleted) == sorted(line["id"] for line in trolls)
    repeated = [line["effect"] for line in site.repeats()]
    assert repeated == (["send_direct"] if point.startswith("after-effect") else [])

    counts = {
        "answers": len(said),
        "prompts": 15 + 4,
        "courtesy_strikes": len(trolls),
        "courtesy_audit": len(trolls) + len(rude),
        "handled_events": 1 + len(lines),
    }
    for table, count in counts.items():
        assert await site.scalar(f"SELECT count(*) FROM {table}") == count, table
    assert await site.scalar("SELECT count(DISTINCT message_id) FROM answers") == len(said)


# ---------------------------------------------------------------- a backlog caught up in batches


def backlog(thread: str) -> list[dict[str, str]]:
    """200 lines queued while the bot is down (one batch): answers from 40 members (each asked
    for a profession once), 4 insults, 4 swear words, 2 questions added by a host."""
    lines = []
    for i in range(200):
        if i % 100 == 60:
            lines.append({"id": f"q-{i}", "author": "hana", "text": f"/prompt add Question {i} ?"})
            continue
        if i % 50 == 20:
            author, said = f"troll{i}", f"Espèce de crétin numéro {i}, tu n'y connais rien."
        elif i % 50 == 40:
            author, said = f"rude{i}", f"Putain, les réseaux numéro {i} sont mal faits."
        else:
            author, said = f"membre{i % 40}", f"Réponse {i} : les réseaux m'aident à échanger."
        lines.append({"id": f"b-{i}", "author": author, "text": said, "thread": thread})
    return lines


@pytest.mark.parametrize(
    ("site", "point", "hit"),
    [
        ("sqlite", "after-handling", 100),
        ("sqlite", "before-settle", 100),
        ("sqlite", "after-effect:send_direct", 20),
        ("postgresql", "after-effect:send_direct", 20),
    ],
    indirect=["site"],
)
async def test_killed_in_the_middle_of_a_batch_only_the_unsettled_lines_are_handled_again(
    site: Site, point: str, hit: int
) -> None:
    site.write(OPEN)
    bot = await Run.of(site)
    try:
        thread = await site.until(
            "SELECT thread_id FROM rounds WHERE status = 'open'", lambda v: bool(v)
        )
        await site.caught_up()
        await bot.stopped()
    finally:
        await bot.kill()
    lines = backlog(str(thread))
    site.write(*lines)  # queued while the bot is down: caught up as one batch
    bot = await Run.of(site, point, hit)
    try:
        stderr = await bot.killed()
    finally:
        await bot.kill()
    replay = await replay_at_kill(site, stderr)
    bot = await Run.of(site, CERCLE_BOT__LOG_LEVEL="DEBUG")
    try:
        await site.caught_up()
        bot.process.send_signal(signal.SIGTERM)
        _, err = await asyncio.wait_for(bot.done, 60)
        assert bot.process.returncode == 0, err.decode()[-3000:]
    finally:
        await bot.kill()
    dropped = err.decode().count("dropping MessagePosted handled before (a replay)")
    print(
        f"\n[mid-batch {point}:{hit}] {replay.reread} lines read again: {replay.settled} settled "
        f"before the kill, dropped ({dropped}); {replay.reread - replay.settled} handled again; "
        f"outbox: {len(site.delivered())} effects delivered, "
        f"{[line['effect'] for line in site.repeats()]} repeated and deduped"
    )
    assert replay.reread == len(lines)  # the batch's position was not stored: all read again
    assert 0 < replay.settled < len(lines)  # killed in the middle of it
    assert dropped == replay.settled  # a settled line is not handled again

    said = [line for line in lines if "thread" in line]
    trolls = [line for line in said if line["author"].startswith("troll")]
    rude = [line for line in said if line["author"].startswith("rude")]
    assert doubles(site) == []
    dms = Counter(
        (line["to"], line["text"][:14])
        for line in site.delivered()
        if line["effect"] == "send_direct"
    )
    # A removed insult is never thanked (677fbc7); a nudged swear word still is.
    thanked = {line["author"] for line in said} - {line["author"] for line in trolls}
    expected = Counter((author, "Merci pour vot") for author in thanked)
    expected.update((line["author"], "Votre message ") for line in trolls)
    expected.update((line["author"], "Petit rappel :") for line in rude)
    assert dms == expected
    sends = [line["text"] for line in site.delivered() if line["effect"] == "send"]
    assert sorted(sends[1:]) == [
        "Question n°16 ajoutée à la banque.",
        "Question n°17 ajoutée à la banque.",
    ]
    deleted = [line["ref"] for line in site.delivered() if line["effect"] == "delete"]
    assert sorted(deleted) == sorted(line["id"] for line in trolls)
    repeated = [line["effect"] for line in site.repeats()]
    if point.startswith("after-effect"):
        assert repeated == ["send_direct"]  # the one effect the ledger missed, asked again
    else:
        # Effects take turns in a batch: at most the one being recorded at the kill.
        assert len(repeated) <= 1

    counts = {
        "answers": len(said),
        "prompts": 15 + 2,
        "courtesy_strikes": len(trolls),
        "courtesy_audit": len(trolls) + len(rude),
        "handled_events": 1 + len(lines),
    }
    for table, count in counts.items():
        assert await site.scalar(f"SELECT count(*) FROM {table}") == count, table
    assert await site.scalar("SELECT count(DISTINCT message_id) FROM answers") == len(said)
