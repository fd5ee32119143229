"""Catch-up benchmark on Matrix: a backlog queued on a real Synapse while the bot was down.

Run it as ``.venv/bin/python bench/catchup_matrix.py [--messages N] [--members M] [--json]
[--check] [--profile-top K] [--profile-out FILE] [--no-baseline] [--snapshot DIR]``.

A throwaway Synapse on loopback (``.venv-synapse``, installed on demand) holds a circle room
with ``M`` members. The real :class:`~bot.app.Bot` is built as ``cercle run`` builds it (the
composition root, every default cog, the live scheduler, the Matrix adapter, a SQLite file).
A first run opens a round and each member answers once, live (each is asked for a
profession once, in a direct room; not measured); the bot stops. ``N`` answers from those
members (round robin, the texts of ``bench/pipeline.py``, ``random.Random(42)``) are then
posted in the round's thread, and a new bot starts: the time from :meth:`Bot.start` until
every one of them is stored and the sync position is stored after them is the catch-up.

Beside it, in the same run and on the same machine, the baseline: the inbox path of
``bench/catchup.py`` on the same workload (the same ``N`` and ``M``, the same seed, so the
same texts): the durable inbox's catch-up, which the Matrix one is held to.

``--snapshot DIR`` keeps the backlog queued in ``DIR`` (Synapse's data and the bot's
database, after the bot stopped) and later runs with the same ``DIR`` start from a copy of
it: a run then takes seconds, not minutes, so two trees can be alternated on one backlog.
Synapse is restarted before each of those catch-ups and warmed by one read of the backlog.

The budget is ≥ 1,000 messages/s. The exit code is 0 unless the run is invalid (an answer
missing or stored twice, an event not settled, the bot saying anything in the circle's room
or changing a power level during the catch-up) or, with ``--check``, the budget is missed.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import json
import os
import random
import secrets
import shutil
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Final
from urllib.parse import quote

ROOT: Final = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import aiohttp  # noqa: E402
import catchup  # noqa: E402
from machine import describe, machine  # noqa: E402
from pipeline import make_text, top_functions  # noqa: E402
from pydantic import SecretStr  # noqa: E402

from bot import compose  # noqa: E402
from bot.adapters.matrix.devserver import ENV_VAR, Account, SynapseServer, install  # noqa: E402
from bot.app import Bot  # noqa: E402
from bot.config import BotSettings, Config, DatabaseSettings, MatrixSettings  # noqa: E402
from bot.supervisor import Supervisor  # noqa: E402
from storage.database import Database  # noqa: E402

BUDGET_MESSAGES_PER_SECOND: Final = 1_000
SEED: Final = 42
#: Requests to Synapse in flight at once while setting up (registering, joining, posting).
SETUP_CONCURRENCY: Final = 16
ANSWERS_SQL: Final = "SELECT count(*) FROM answers"
SETTLED_SQL: Final = "SELECT count(*) FROM handled_events WHERE channel_id = '{room}'"
DIRECT_SQL: Final = (
    "SELECT count(*) FROM adapter_state WHERE adapter = 'matrix' AND key LIKE 'dm:%'"
)
#: The file of a snapshot (``--snapshot``) that says what its backlog is.
SNAPSHOT_META: Final = "backlog.json"
POSITION_SQL: Final = (
    "SELECT value FROM adapter_state WHERE adapter = 'matrix' AND key = 'next_batch'"
)


@dataclass(frozen=True, slots=True)
class Result:
    """What one run measured; the field names are the JSON keys."""

    messages: int
    members: int
    seed: int
    seconds: float
    start_seconds: float
    messages_per_second: float
    cpu_seconds: float
    cpu_ms_per_message: float
    baseline_seconds: float
    baseline_messages_per_second: float
    ratio: float
    budget_messages_per_second: int
    passed: bool
    answers_stored: int
    events_settled: int
    setup_seconds: float
    machine: dict[str, Any]
    problems: list[str]


# ---------------------------------------------------------------- Synapse, members, room


class Homeserver:
    """Raw client-server API calls (members need no sync loop to post)."""

    def __init__(self, server: SynapseServer, http: aiohttp.ClientSession) -> None:
        self.server = server
        self.http = http
        self.gate = asyncio.Semaphore(SETUP_CONCURRENCY)

    async def call(self, token: str, method: str, path: str, body: Any = None) -> Any:
        """One request as ``token``'s user; raises on an error answer."""
        async with (
            self.gate,
            self.http.request(
                method,
                f"{self.server.url}/_matrix/client/v3{path}",
                json=body,
                headers={"Authorization": f"Bearer {token}"},
            ) as response,
        ):
            data = await response.json(content_type=None)
            if response.status >= 300:
                raise RuntimeError(f"{method} {path}: {response.status} {data}")
            return data

    async def register(self, name: str) -> Account:
        async with self.gate:
            return await self.server.register(
                f"{name}-{secrets.token_hex(3)}", secrets.token_urlsafe(12)
            )

    async def say(self, who: Account, room: str, body: str, thread: str | None = None) -> str:
        content: dict[str, Any] = {"msgtype": "m.text", "body": body}
        if thread is not None:
            content["m.relates_to"] = {
                "rel_type": "m.thread",
                "event_id": thread,
                "is_falling_back": True,
                "m.in_reply_to": {"event_id": thread},
            }
        txn = secrets.token_hex(8)
        path = f"/rooms/{quote(room)}/send/m.room.message/{txn}"
        return str((await self.call(who.access_token, "PUT", path, content))["event_id"])

    async def events_since(self, who: Account, room: str, since: int) -> list[dict[str, Any]]:
        """The room's events with a server timestamp at or after ``since`` (ms), oldest first."""
        found: list[dict[str, Any]] = []
        start = ""
        while True:
            query = f"?dir=b&limit=500{'&from=' + quote(start) if start else ''}"
            page = await self.call(who.access_token, "GET", f"/rooms/{quote(room)}/messages{query}")
            chunk = page.get("chunk") or []
            recent = [e for e in chunk if int(e.get("origin_server_ts", 0)) >= since]
            found.extend(recent)
            if len(recent) < len(chunk) or not chunk or not page.get("end"):
                break
            start = page["end"]
        return found[::-1]


def settings(server: SynapseServer, bot: Account, host: Account, root: Path) -> Config:
    """``cercle run``'s configuration for a Matrix bot on the benchmark's Synapse."""
    return Config(
        bot=BotSettings(adapters=["matrix"], locale="en", instance="bench"),
        database=DatabaseSettings(url=f"sqlite+aiosqlite:///{root / 'cercle.db'}"),
        matrix=MatrixSettings(
            homeserver=server.url,
            user_id=bot.user_id,
            password=SecretStr(bot.password),
            allowed_inviters=[host.user_id],
        ),
    )


def build(config: Config, db: Database) -> Bot:
    """The bot as ``cercle run`` builds it (composition root, live scheduler)."""
    scheduler = compose.live_scheduler(config, db)
    supervisor = Supervisor(scheduler.clock)
    adapters = compose.platforms(config, db, scheduler, supervisor=supervisor)
    return compose.build(config, db, scheduler, adapters, supervisor=supervisor)


async def until(db: Database, sql: str, done: Any, seconds: float = 900) -> Any:
    """Poll ``sql`` until ``done(value)``."""
    return await catchup.until(db, sql, done, seconds)


# ---------------------------------------------------------------- measuring


async def catch_up(
    root: Path,
    messages: int,
    members: int,
    profiler: cProfile.Profile | None = None,
    snapshot: Path | None = None,
) -> dict[str, Any]:
    """Queue the backlog on Synapse while the bot is down, then time a new bot catching up.

    With ``snapshot``, the backlog queued is kept there (Synapse's data, the bot's database
    and what the measure needs), and a later run with the same ``snapshot`` starts from a
    copy of it instead of queueing again (its workload, whatever ``messages`` says): to
    alternate two trees on one backlog in a few seconds a run. Synapse is then restarted
    before every catch-up, the first one included, and warmed by one read of the backlog.
    """
    env = await install(Path(os.environ.get(ENV_VAR) or ROOT / ".venv-synapse"))
    if snapshot is not None and (snapshot / SNAPSHOT_META).is_file():
        meta = json.loads((snapshot / SNAPSHOT_META).read_text())
        shutil.copytree(snapshot, root, dirs_exist_ok=True)
        server = SynapseServer(
            env, root / "synapse", port=meta["port"], shared_secret=meta["secret"]
        )
        await server.start()
        try:
            async with aiohttp.ClientSession() as http:
                hs = Homeserver(server, http)
                return await _restored(hs, root, meta, profiler, warm=True)
        finally:
            await server.stop()
    server = SynapseServer(env, root / "synapse")
    await server.start()
    setup = time.perf_counter()
    try:
        async with aiohttp.ClientSession() as http:
            hs = Homeserver(server, http)
            bot_account, host = await hs.register("cercle"), await hs.register("hana")
            people = await asyncio.gather(*(hs.register(f"member{i}") for i in range(members)))
            created = await hs.call(
                host.access_token,
                "POST",
                "/createRoom",
                {
                    "name": "Cercle",
                    "preset": "private_chat",
                    "invite": [bot_account.user_id, *(p.user_id for p in people)],
                    "power_level_content_override": {"users": {bot_account.user_id: 100}},
                },
            )
            room = str(created["room_id"])
            await asyncio.gather(
                *(hs.call(p.access_token, "POST", f"/join/{quote(room)}", {}) for p in people)
            )
            config = settings(server, bot_account, host, root)
            db = Database(config.database.url)
            try:
                queued = await _queue(hs, config, db, host, people, room, messages, setup)
            finally:
                await db.dispose()
            meta = {
                **queued,
                "port": server.port,
                "secret": server.shared_secret,
                "room": room,
                "host": asdict(host),
                "bot": asdict(bot_account),
            }
            if snapshot is not None:
                await server.stop()
                shutil.copytree(root, snapshot, dirs_exist_ok=True)
                (snapshot / SNAPSHOT_META).write_text(json.dumps(meta))
                await server.start()
            return await _restored(hs, root, meta, profiler, warm=snapshot is not None)
    finally:
        await server.stop()


async def _restored(
    hs: Homeserver,
    root: Path,
    meta: dict[str, Any],
    profiler: cProfile.Profile | None,
    *,
    warm: bool,
) -> dict[str, Any]:
    """The catch-up of the backlog ``meta`` describes (``warm``: on a Synapse just started,
    whose caches one read of the backlog warms first)."""
    host = Account(**meta["host"])
    bot_account = Account(**meta["bot"])
    if warm:
        await hs.events_since(host, meta["room"], meta["posted_from"])
    config = settings(hs.server, bot_account, host, root)
    db = Database(config.database.url)
    try:
        return await _time(hs, config, db, host, meta, profiler)
    finally:
        await db.dispose()


async def _queue(
    hs: Homeserver,
    config: Config,
    db: Database,
    host: Account,
    people: list[Account],
    room: str,
    messages: int,
    setup: float,
) -> dict[str, Any]:
    """Run the bot live once, stop it, and post the backlog; what :func:`_time` needs."""
    rng = random.Random(SEED)
    bot = build(config, db)
    await bot.start()
    await hs.say(host, room, "!prompt now")
    thread = str(await until(db, "SELECT thread_id FROM rounds WHERE status = 'open'", bool))
    await asyncio.gather(*(hs.say(p, room, make_text(rng), thread) for p in people))
    await until(db, ANSWERS_SQL, lambda v: v is not None and int(v) >= len(people))
    # Each member was asked for a profession in a direct room: let the bot finish and read
    # its own output, so the catch-up measured holds the backlog only.
    await until(db, DIRECT_SQL, lambda v: int(v or 0) >= len(people))
    await asyncio.sleep(2)  # the last questions are being sent
    settled = int(await catchup.scalar(db, SETTLED_SQL.format(room=room)))
    await hs.say(host, room, "Thank you all.")
    await until(db, SETTLED_SQL.format(room=room), lambda v: int(v or 0) > settled)
    await asyncio.sleep(1)  # its sync's position is stored right after it
    await bot.stop()

    queued = [(people[i % len(people)], make_text(rng)) for i in range(messages)]
    posted_from = int(time.time() * 1000)
    await asyncio.gather(*(hs.say(who, room, body, thread) for who, body in queued))
    return {
        "setup": time.perf_counter() - setup,
        "posted_from": posted_from,
        "messages": messages,
        "members": len(people),
        "before": int(await catchup.scalar(db, ANSWERS_SQL)),
        "settled_before": int(await catchup.scalar(db, SETTLED_SQL.format(room=room))),
        "position": await catchup.scalar(db, POSITION_SQL),
    }


async def _time(
    hs: Homeserver,
    config: Config,
    db: Database,
    host: Account,
    meta: dict[str, Any],
    profiler: cProfile.Profile | None,
) -> dict[str, Any]:
    """Time a new bot catching up with the backlog ``meta`` describes, and check it."""
    room, messages, members = meta["room"], meta["messages"], meta["members"]
    before, settled_before, position = meta["before"], meta["settled_before"], meta["position"]
    bot = build(config, db)
    if profiler is not None:
        profiler.enable()
    cpu, started = time.process_time(), time.perf_counter()
    await bot.start()
    start_seconds = time.perf_counter() - started
    await until(db, ANSWERS_SQL, lambda v: int(v or 0) >= before + messages)
    await until(db, POSITION_SQL, lambda v: v is not None and v != position)
    seconds = time.perf_counter() - started
    cpu = time.process_time() - cpu
    if profiler is not None:
        profiler.disable()
    await bot.stop()

    answers = int(await catchup.scalar(db, ANSWERS_SQL)) - before
    distinct = int(await catchup.scalar(db, "SELECT count(DISTINCT message_id) FROM answers"))
    settled = int(await catchup.scalar(db, SETTLED_SQL.format(room=room))) - settled_before
    said = [
        e
        for e in await hs.events_since(host, room, meta["posted_from"])
        if e.get("sender") == config.matrix.user_id
    ]
    problems = []
    if answers != messages or distinct != members + messages:
        problems.append(f"{answers} answers stored ({distinct} distinct), {messages} expected")
    if settled != messages:
        problems.append(f"{settled} events settled in the circle's room, {messages} expected")
    if said:
        kinds = sorted({str(e.get("type")) for e in said})
        problems.append(f"the bot sent {len(said)} events in the circle's room ({kinds})")
    return {
        "seconds": seconds,
        "start_seconds": start_seconds,
        "cpu": cpu,
        "answers": answers,
        "settled": settled,
        "setup": meta["setup"],
        "messages": messages,
        "members": members,
        "problems": problems,
    }


def run(
    messages: int,
    members: int,
    *,
    profiler: cProfile.Profile | None = None,
    baseline: bool = True,
    snapshot: Path | None = None,
) -> Result:
    """One Matrix catch-up and the inbox's on the same workload, in temporary directories
    (without ``baseline``, the inbox is not run and its figures are 0: for iterating only;
    with ``snapshot``, see :func:`catch_up`: the snapshot's workload is measured)."""
    host = machine()
    root = Path(tempfile.mkdtemp(prefix="cercle-catchup-matrix-"))
    try:
        measured = asyncio.run(catch_up(root, messages, members, profiler, snapshot))
    finally:
        shutil.rmtree(root, ignore_errors=True)
    messages, members = measured["messages"], measured["members"]
    inbox: dict[str, Any] = {"seconds": float("inf"), "problems": []}
    if baseline:
        with tempfile.TemporaryDirectory(prefix="cercle-catchup-") as tmp:
            inbox = asyncio.run(catchup.catch_up(Path(tmp), messages, members))
    rate = messages / measured["seconds"]
    base_rate = messages / inbox["seconds"]
    return Result(
        messages=messages,
        members=members,
        seed=SEED,
        seconds=round(measured["seconds"], 3),
        start_seconds=round(measured["start_seconds"], 3),
        messages_per_second=round(rate, 1),
        cpu_seconds=round(measured["cpu"], 3),
        cpu_ms_per_message=round(measured["cpu"] / messages * 1000, 3),
        baseline_seconds=round(inbox["seconds"], 3),
        baseline_messages_per_second=round(base_rate, 1),
        ratio=round(rate / base_rate, 4) if base_rate else 0.0,
        budget_messages_per_second=BUDGET_MESSAGES_PER_SECOND,
        passed=rate >= BUDGET_MESSAGES_PER_SECOND,
        answers_stored=measured["answers"],
        events_settled=measured["settled"],
        setup_seconds=round(measured["setup"], 1),
        machine=host,
        problems=measured["problems"] + [f"inbox baseline: {p}" for p in inbox["problems"]],
    )


def report(result: Result) -> str:
    """The human-readable report."""
    verdict = "PASS" if result.passed else "FAIL"
    return "\n".join(
        [
            "Cercle Matrix catch-up benchmark (a backlog on a real Synapse, after a restart)",
            f"  workload    {result.messages:,} answers from {result.members:,} known members "
            f"posted in the round's thread while the bot was down (seed {result.seed}; "
            f"setting it up took {result.setup_seconds:.0f} s)",
            f"  catch-up    {result.messages_per_second:,.0f} messages/s "
            f"(budget ≥ {result.budget_messages_per_second:,}: {verdict}), "
            f"{result.seconds:.3f} s from start to the last answer and the sync position stored "
            f"({result.start_seconds:.3f} s in Bot.start, the catch-up sync included)",
            f"  cpu         {result.cpu_seconds:.3f} s, {result.cpu_ms_per_message:.3f} ms a "
            "message (the bot's process; Synapse runs apart)",
            f"  baseline    {result.baseline_messages_per_second:,.0f} messages/s: the durable "
            f"inbox's catch-up on the same workload ({result.baseline_seconds:.3f} s)",
            f"  ratio       {result.ratio:.3f} (Matrix / inbox)",
            f"  stored      {result.answers_stored:,} answers, {result.events_settled:,} events "
            "settled",
            f"  machine     {describe(result.machine)}",
        ]
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Run once and print the figures; 1 if the run is invalid (or, with --check, too slow)."""
    extra = argparse.ArgumentParser(add_help=False)
    extra.add_argument("--profile-top", type=int, default=0, metavar="K")
    extra.add_argument("--profile-out", type=Path, default=None, metavar="FILE")
    extra.add_argument("--no-baseline", action="store_true")
    extra.add_argument("--snapshot", type=Path, default=None, metavar="DIR")
    options, rest = extra.parse_known_args(argv)
    args = catchup.parse_args(rest, messages=1000, members=200, description=__doc__)
    profiling = bool(options.profile_top or options.profile_out)
    profiler = cProfile.Profile() if profiling else None
    result = run(
        args.messages,
        args.members,
        profiler=profiler,
        baseline=not options.no_baseline,
        snapshot=options.snapshot,
    )
    if profiler is not None:
        if options.profile_out is not None:
            profiler.dump_stats(options.profile_out)
        if options.profile_top:
            print(top_functions(profiler, options.profile_top), file=sys.stderr)
    return catchup.finish(args, result, report)


if __name__ == "__main__":
    sys.exit(main())
