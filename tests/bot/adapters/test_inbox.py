"""The durable inbox: follows a JSON-lines file, resumes where it stopped, skips bad lines
alone, and comes back from failures without moving past an unsettled line."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest

from bot.adapters.batches import CONCURRENCY, MAX_BATCH
from bot.adapters.inbox import FOLLOWER, InboxPlatform
from bot.app import Bot
from bot.clock import FakeClock
from bot.compose import default_cogs
from bot.config import Config
from bot.platform import EventNotHandled
from bot.scheduler import ManualScheduler
from bot.supervisor import Supervisor
from bot.testing import DEFAULT_START
from bot.testing.postgres import PostgresServer
from bot.types import Event, MessagePosted
from storage import state
from storage.database import Database


async def _run_until(bot: Bot, platform: InboxPlatform, db: Database, size: int) -> None:
    await bot.start()
    key = f"inbox-offset:{platform.path.resolve()}"

    async def caught_up() -> None:
        while int(await state.get_state(db, "memory", key) or 0) < size:  # noqa: ASYNC110
            await asyncio.sleep(0.02)  # another task (the follower) advances the offset

    await asyncio.wait_for(caught_up(), 30)
    await bot.stop()


async def test_inbox_resumes_and_skips_malformed_lines_with_one_log_line(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    inbox = tmp_path / "inbox.jsonl"
    lines = [
        json.dumps({"id": "1", "author": "ana", "text": "bonjour"}),
        "{not json",
        json.dumps({"author": "bob"}),  # no id, no text
        json.dumps({"id": "2", "author": "bob", "text": "salut"}),
    ]
    inbox.write_text("\n".join(lines) + "\n")
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'c.db'}")
    seen: list[str] = []

    def build() -> tuple[Bot, InboxPlatform]:
        clock = FakeClock(DEFAULT_START)
        platform = InboxPlatform(clock, db, inbox)
        scheduler = ManualScheduler(db, clock, grace=timedelta(hours=6))
        bot = Bot(
            config=Config(), db=db, scheduler=scheduler, platforms=[platform], cogs=default_cogs()
        )
        original = bot.router.handle

        async def spy(event: object) -> None:
            seen.append(getattr(event, "text", ""))
            await original(event)  # type: ignore[arg-type]

        bot.router.handle = spy  # type: ignore[method-assign]
        return bot, platform

    with caplog.at_level(logging.WARNING, logger="bot.adapters.inbox"):
        bot, platform = build()
        await _run_until(bot, platform, db, inbox.stat().st_size)
    assert seen == ["bonjour", "salut"]
    assert len([r for r in caplog.records if "unreadable line" in r.getMessage()]) == 2

    with inbox.open("a") as out:
        out.write(json.dumps({"id": "3", "author": "chloe", "text": "coucou"}) + "\n")
    bot, platform = build()
    await _run_until(bot, platform, db, inbox.stat().st_size)
    assert seen == ["bonjour", "salut", "coucou"]  # resumed after what it had handled
    await db.dispose()


# ---------------------------------------------------------------- torn lines, retries, a bad path


def entry(ident: str, text: str) -> str:
    return json.dumps({"id": ident, "author": "ana", "text": text})


class Waits:
    """The supervisor's sleep, not waiting: records each delay (and may act meanwhile)."""

    def __init__(self, meanwhile: Callable[[int], None] | None = None) -> None:
        self.delays: list[float] = []
        self._meanwhile = meanwhile

    async def __call__(self, delay: float) -> None:
        self.delays.append(delay)
        if self._meanwhile is not None:
            self._meanwhile(len(self.delays))
        await asyncio.sleep(0)


async def _upgraded(tmp_path: Path) -> Database:
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'c.db'}")
    await db.upgrade()
    return db


async def _stored_offset(db: Database, platform: InboxPlatform) -> int:
    return int(await state.get_state(db, "memory", f"inbox-offset:{platform.path.resolve()}") or 0)


async def _until_offset(db: Database, platform: InboxPlatform, size: int) -> None:
    async def reached() -> None:
        while True:
            try:
                if await _stored_offset(db, platform) >= size:
                    return
            except Exception:  # the database may be restarting
                pass
            await asyncio.sleep(0.02)  # the follower, another task, moves the offset

    await asyncio.wait_for(reached(), 60)


async def test_a_torn_line_is_skipped_alone_and_the_entry_written_after_it_is_handled(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    inbox = tmp_path / "inbox.jsonl"
    db = await _upgraded(tmp_path)
    clock = FakeClock(DEFAULT_START)
    platform = InboxPlatform(clock, db, inbox)
    seen: list[str] = []

    async def sink(event: Event) -> None:
        assert isinstance(event, MessagePosted)
        seen.append(event.message.id)

    inbox.write_bytes(
        (
            entry("1", "whole")
            + "\n"
            + entry("2", "torn by a crash")[:25]  # the writer died here, no newline
            + entry("3", "written after the crash")
            + "\n"
            + entry("4", "only its newline is missing")
            + entry("5", "after it")
            + "\n"
            + entry("6", "last")
            + "\n"
        ).encode()
    )
    with caplog.at_level(logging.WARNING, logger="bot.adapters.inbox"):
        await platform.start(sink)
        await _until_offset(db, platform, inbox.stat().st_size)
        await platform.stop()
    assert seen == ["1", "3", "4", "5", "6"]
    torn = [r.getMessage() for r in caplog.records if "torn line" in r.getMessage()]
    assert len(torn) == 1
    assert f"at byte {len(entry('1', 'whole')) + 1} skipped (25 bytes)" in torn[0]
    await db.dispose()


async def test_a_line_still_being_written_is_waited_for(tmp_path: Path) -> None:
    inbox = tmp_path / "inbox.jsonl"
    db = await _upgraded(tmp_path)
    platform = InboxPlatform(FakeClock(DEFAULT_START), db, inbox)
    seen: list[str] = []

    async def sink(event: Event) -> None:
        assert isinstance(event, MessagePosted)
        seen.append(event.text)

    first = entry("1", "first") + "\n"
    second = entry("2", "slowly written") + "\n"
    inbox.write_text(first + second[:20])
    await platform.start(sink)
    await _until_offset(db, platform, len(first))
    with inbox.open("a") as out:
        out.write(second[20:] + entry("3", "third") + "\n")
    await _until_offset(db, platform, inbox.stat().st_size)
    await platform.stop()
    assert seen == ["first", "slowly written", "third"]
    await db.dispose()


async def test_an_unsettled_event_keeps_the_offset_and_is_handed_again_with_backoff(
    tmp_path: Path,
) -> None:
    inbox = tmp_path / "inbox.jsonl"
    db = await _upgraded(tmp_path)
    clock = FakeClock(DEFAULT_START)
    waits = Waits()
    platform = InboxPlatform(clock, db, inbox, supervisor=Supervisor(clock, sleep=waits))
    first = entry("1", "one") + "\n"
    inbox.write_text(first + entry("2", "two") + "\n" + entry("3", "three") + "\n")
    seen: list[str] = []
    offsets_when_refused: list[int] = []

    async def sink(event: Event) -> None:
        assert isinstance(event, MessagePosted)
        seen.append(event.text)
        if event.text == "two" and seen.count("two") < 3:
            offsets_when_refused.append(await _stored_offset(db, platform))
            raise EventNotHandled("MessagePosted: DatabaseUnavailable: connection refused")

    await platform.start(sink)
    await _until_offset(db, platform, inbox.stat().st_size)
    await platform.stop()
    assert seen == ["one", "two", "two", "two", "three"]
    assert offsets_when_refused == [len(first), len(first)]  # never moved past "two"
    assert waits.delays == [1.0, 2.0]
    follower = platform.supervisor.state(FOLLOWER)
    assert follower is not None and follower.restarts == 2
    assert follower.last_error is not None
    assert f"byte {len(first)}: MessagePosted: DatabaseUnavailable" in follower.last_error
    await db.dispose()


async def test_a_bad_inbox_path_is_logged_and_retried_until_it_works(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    folder = tmp_path / "not-yet"
    inbox = folder / "inbox.jsonl"
    db = await _upgraded(tmp_path)
    clock = FakeClock(DEFAULT_START)

    def fix(attempt: int) -> None:
        if attempt == 3:  # the operator creates the folder while the follower waits
            folder.mkdir()
            inbox.write_text(entry("1", "at last") + "\n")

    platform = InboxPlatform(clock, db, inbox, supervisor=Supervisor(clock, sleep=Waits(fix)))
    seen: list[str] = []

    async def sink(event: Event) -> None:
        assert isinstance(event, MessagePosted)
        seen.append(event.text)

    with caplog.at_level(logging.WARNING, logger="bot.supervisor"):
        await platform.start(sink)
        await _until_offset(db, platform, len(entry("1", "at last")) + 1)
        await platform.stop()
    assert seen == ["at last"]
    failures = [r for r in caplog.records if r.getMessage().startswith("inbox-follower failed")]
    assert len(failures) == 3
    assert "FileNotFoundError" in failures[0].getMessage()
    assert str(inbox) in failures[0].getMessage()
    assert failures[0].exc_info is not None  # the traceback once
    assert all(r.exc_info is None for r in failures[1:])
    await db.dispose()


def test_the_inbox_can_come_back_while_a_postgresql_restart_is_under_way(
    tmp_path: Path, restartable_postgres: PostgresServer
) -> None:
    """Real PostgreSQL, stopped under a running bot: the line written meanwhile is answered once."""
    inbox = tmp_path / "inbox.jsonl"
    first = entry("1", "bonjour") + "\n"
    inbox.write_text(first)
    restartable_postgres.create_database("inbox")
    url = restartable_postgres.url("inbox")
    asyncio.run(_survive_a_restart(restartable_postgres, url, inbox, len(first)))


async def _survive_a_restart(server: PostgresServer, url: str, inbox: Path, size: int) -> None:
    db = Database(url)
    clock = FakeClock(DEFAULT_START)
    # Real, short delays: the server's restart takes real time.
    supervisor = Supervisor(clock, initial=0.05, cap=0.5)
    platform = InboxPlatform(clock, db, inbox, hosts=["hana"], supervisor=supervisor)
    scheduler = ManualScheduler(db, clock, grace=timedelta(hours=6))
    bot = Bot(
        config=Config(),
        db=db,
        scheduler=scheduler,
        platforms=[platform],
        cogs=default_cogs(),
        retry_delays=(0.0, 0.0),
    )
    await bot.start()
    try:
        await _until_offset(db, platform, size)
        await asyncio.to_thread(server.stop)
        second = json.dumps({"id": "2", "author": "hana", "text": "/help"}) + "\n"
        with inbox.open("a") as out:
            out.write(second)

        async def failed_twice() -> None:
            while (state_ := supervisor.state(FOLLOWER)) is None or state_.restarts < 2:  # noqa: ASYNC110
                await asyncio.sleep(0.02)  # the follower, another task, is failing meanwhile

        await asyncio.wait_for(failed_twice(), 60)
        await asyncio.to_thread(server.start)
        await _until_offset(db, platform, size + len(second))
    finally:
        await bot.stop()
        await db.dispose()
    # A host's help is long enough to come in two messages; its closing line comes once.
    helps = [s for s in platform.sent if "`/help <commande>`" in s.text]
    assert len(helps) == 1, [s.text[:60] for s in platform.sent]
    follower = supervisor.state(FOLLOWER)
    assert follower is not None and follower.last_error is not None


# ---------------------------------------------------------------- a backlog, in batches


def _backlog(count: int) -> list[dict[str, str]]:
    """``count`` answers from 12 members, a host's command every 50 lines, a reply now and then
    to the line before it."""
    lines: list[dict[str, str]] = []
    for i in range(count):
        if i % 50 == 25:
            lines.append({"id": f"c-{i}", "author": "hana", "text": f"/prompt add Q{i} ?"})
        elif i % 40 == 39:
            lines.append(
                {
                    "id": f"r-{i}",
                    "author": "zoe",
                    "text": f"je réponds {i}",
                    "reply_to": f"m-{i - 1}",
                }
            )
        else:
            lines.append({"id": f"m-{i}", "author": f"membre{i % 12}", "text": f"réponse {i}"})
    return lines


def _write(inbox: Path, lines: list[dict[str, str]]) -> list[int]:
    """Append ``lines``; where each starts."""
    starts = []
    size = inbox.stat().st_size if inbox.exists() else 0
    with inbox.open("a", encoding="utf-8") as out:
        for line in lines:
            starts.append(size)
            data = json.dumps(line, ensure_ascii=False) + "\n"
            out.write(data)
            size += len(data.encode())
    return starts


async def test_a_backlog_is_handled_side_by_side_in_the_order_that_matters(tmp_path: Path) -> None:
    inbox = tmp_path / "inbox.jsonl"
    db = await _upgraded(tmp_path)
    platform = InboxPlatform(FakeClock(DEFAULT_START), db, inbox)
    lines = _backlog(MAX_BATCH + 200)  # two batches
    _write(inbox, lines)
    began: dict[str, int] = {}
    ended: dict[str, int] = {}
    clock = iter(range(1_000_000))
    in_flight = 0
    most = 0
    stored: list[int] = []
    original = platform._store

    async def store(offset: int) -> None:
        stored.append(offset)
        await original(offset)

    platform._store = store  # type: ignore[method-assign]

    async def sink(event: Event) -> None:
        nonlocal in_flight, most
        assert isinstance(event, MessagePosted)
        assert event.message.id not in began, "handed twice"
        began[event.message.id] = next(clock)
        in_flight += 1
        most = max(most, in_flight)
        await asyncio.sleep(0.001 * (hash(event.message.id) % 3))  # some take longer
        in_flight -= 1
        ended[event.message.id] = next(clock)

    await platform.start(sink)
    await _until_offset(db, platform, inbox.stat().st_size)
    await platform.stop()
    assert sorted(began) == sorted(line["id"] for line in lines)
    assert 1 < most <= CONCURRENCY  # side by side, bounded
    assert stored == [stored[0], inbox.stat().st_size]  # once per batch
    by_member: dict[str, list[int]] = {}
    for line in lines:
        by_member.setdefault(line["author"], []).append(began[line["id"]])
    assert all(starts == sorted(starts) for starts in by_member.values())  # a member's in order
    for index, line in enumerate(lines):
        if line["author"] in ("hana", "zoe"):  # a command, a reply to the line before
            before, after = lines[:index], lines[index + 1 :]
            assert all(ended[b["id"]] < began[line["id"]] for b in before), line
            assert all(began[a["id"]] > ended[line["id"]] for a in after), line
    await db.dispose()


async def test_a_batch_stops_before_a_line_it_could_not_settle_and_resumes_there(
    tmp_path: Path,
) -> None:
    inbox = tmp_path / "inbox.jsonl"
    db = await _upgraded(tmp_path)
    clock = FakeClock(DEFAULT_START)
    platform = InboxPlatform(clock, db, inbox, supervisor=Supervisor(clock, sleep=Waits()))
    lines = [
        {"id": f"m-{i}", "author": f"membre{i % 7}", "text": f"réponse {i}"} for i in range(300)
    ]
    starts = _write(inbox, lines)
    settled: list[str] = []
    refused: list[int] = []

    async def sink(event: Event) -> None:
        assert isinstance(event, MessagePosted)
        if event.message.id == "m-150" and not refused:
            refused.append(await _stored_offset(db, platform))
            raise EventNotHandled("MessagePosted: DatabaseUnavailable: connection refused")
        await asyncio.sleep(0)
        settled.append(event.message.id)

    original = platform._store
    stored: list[int] = []
    settled_when_stored: list[set[str]] = []

    async def store(offset: int) -> None:
        stored.append(offset)
        settled_when_stored.append(set(settled))
        await original(offset)

    platform._store = store  # type: ignore[method-assign]
    await platform.start(sink)
    await _until_offset(db, platform, inbox.stat().st_size)
    await platform.stop()
    assert refused == [0]  # the batch's position was not stored yet
    stop = stored[0]
    assert 0 < stop <= starts[150]  # the settled lines before it count, never past it
    before = {line["id"] for line, at in zip(lines, starts, strict=True) if at < stop}
    assert before <= settled_when_stored[0]
    assert sorted(set(settled)) == sorted(line["id"] for line in lines)  # nothing lost
    again = {ident for ident in settled if settled.count(ident) > 1}
    assert not again & before  # only lines past the stored position come again
    assert settled.count("m-150") == 1
    await db.dispose()
