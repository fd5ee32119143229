"""A job run cut short by a crash is taken over at restart and posts exactly once."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from bot.testing import Harness
from storage import jobs

# Monday 5 January 2026, 07:00 UTC: the week's question is due at 08:00 UTC (09:00 Paris).
START = datetime(2026, 1, 5, 7, 0, tzinfo=UTC)


class Crash(BaseException):
    """The process dies here."""


def questions(h: Harness) -> list[str]:
    return [s.text for s in h.public() if "question" in s.text.lower()]


async def test_the_weeks_question_survives_a_crash_mid_post_and_is_posted_once(
    profile: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with Harness(profile, start=START) as h:
        await h.say("ana", "bonjour")  # the channel becomes a circle with its schedule
        start_thread = h.platform.start_thread

        async def dies(*args: Any, **kwargs: Any) -> Any:
            raise Crash  # after the question is posted, before its thread exists

        monkeypatch.setattr(h.platform, "start_thread", dies)
        with pytest.raises(Crash):
            await h.advance("2h")
        monkeypatch.setattr(h.platform, "start_thread", start_thread)
        posted = questions(h)
        assert len(posted) == 1 and not h.platform.threads
        runs = [r for r in await jobs.recent_runs(h.db, 10) if r.status == "running"]
        assert len(runs) == 1  # the claim the dead process left behind

        await h.restart(downtime="10m")  # catch-up takes the dead claim over

        assert questions(h) == posted  # not posted a second time
        assert len(h.platform.threads) == 1  # and the run finished: its thread is open
        run = await jobs.get_run(h.db, runs[0].job_key, runs[0].scheduled_for)
        assert run is not None and run.status == "done" and run.attempts == 2
