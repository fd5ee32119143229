"""Two bot processes on one PostgreSQL: a scheduled prompt is posted exactly once."""

from __future__ import annotations

import asyncio
import json
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import text

from storage import members
from storage.database import Database

SCRIPT = Path(__file__).with_name("instance_script.py")


async def _prepare(url: str) -> None:
    db = Database(url)
    async with db.engine.begin() as conn:
        for table in ("alembic_version",):
            await conn.execute(text(f'DROP TABLE IF EXISTS "{table}" CASCADE'))
        await conn.execute(text("DROP SCHEMA public CASCADE"))
        await conn.execute(text("CREATE SCHEMA public"))
    await db.upgrade()
    now = datetime.now(UTC)
    await members.get_or_create_circle(
        db, "memory", "circle", name="circle", locale="fr", timezone="Europe/Paris", now=now
    )
    await db.dispose()


async def _count(url: str, sql: str) -> int:
    db = Database(url)
    async with db.engine.connect() as conn:
        value = (await conn.execute(text(sql))).scalar_one()
    await db.dispose()
    return int(value)


async def test_two_processes_firing_the_same_slot_post_once(postgres_url: str) -> None:
    await _prepare(postgres_url)
    fire_at = (datetime.now(UTC) + timedelta(seconds=8)).replace(microsecond=0)
    processes = [
        await asyncio.create_subprocess_exec(
            sys.executable,
            str(SCRIPT),
            postgres_url,
            name,
            fire_at.isoformat(),
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        for name in ("instance-a", "instance-b")
    ]
    results = []
    for process in processes:
        out, err = await asyncio.wait_for(process.communicate(), timeout=120)
        assert process.returncode == 0, err.decode()
        results.append(json.loads(out.decode().strip().splitlines()[-1]))
    assert sum(r["posts"] for r in results) == 1, results
    assert await _count(postgres_url, "SELECT count(*) FROM rounds") == 1
    assert (
        await _count(postgres_url, "SELECT count(*) FROM job_runs WHERE job_key = 'rounds:1:open'")
        == 1
    )
