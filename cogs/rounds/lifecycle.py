"""A round's life: scheduled opening, the posted prompt and its thread, the reminder, the close.

Each circle has a schedule (cron, in its timezone). At each slot the bot posts the next prompt
of the circle's bank, opens a thread, reminds once before the close (counts and the professions
not heard yet), then closes the thread. Neither pings anyone unless the hosts opted in
(``/circle setup mention:on``): then the question and the reminder mention once per round.

Exactly one post per slot: the scheduler's ledger claims each (job, time) once, and the round
row (unique per circle and slot) is written before the post, so a duplicate fire, a restart or
a second instance finds it and posts nothing.

A circle gets its settings, its question bank and its schedule when this process first sees it
(:class:`~bot.types.CircleChanged` with ``created``) and follows its new settings when they
change (the same signal, emitted by ``/circle setup``).
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Final

from babel.dates import format_timedelta

from bot.effects import event_key
from bot.i18n import N_, Translator, translator
from bot.scheduler import JobRun, cron, once
from bot.types import CircleChanged, Content, Ping
from cogs.professions import circle_professions, tag_for_key
from cogs.rounds.bank import render, seed_keys
from cogs.rounds.base import RoundsBase
from cogs.rounds.shared import circle_ping, opening_job, when
from cogs.rounds.signals import RoundClosed, RoundOpened
from storage import rounds as store
from storage.models import Circle
from storage.rounds import CircleSettings, Round

DEFAULT_CHARTER: Final = N_(
    "Courteous, kind and lawful: we discuss ideas, never people, and nobody posts "
    "personal contact details. See {charter}."
)


class LifecycleMixin(RoundsBase):
    """Schedules, opens, reminds and closes the rounds of every circle."""

    async def on_start(self) -> None:
        """Rebuild every job from stored truth; finish what a crash interrupted."""
        now = self.services.clock.now()
        for settings in await store.all_settings(self.services.db):
            circle = await self.services.directory.circle_by_id(settings.circle_id)
            if circle is not None and self.services.platforms.serves(circle):
                self._schedule_opening(circle, settings)
                self._settings[settings.circle_id] = settings
        # Circles of older databases, seen before rounds kept settings: give them theirs now.
        for circle in await store.circles_without_settings(self.services.db):
            if self.services.platforms.serves(circle):
                await self._adopt(circle)
        for round_ in await store.rounds_with_status(
            self.services.db, store.ROUND_OPENING, store.ROUND_OPEN
        ):
            circle = await self.services.directory.circle_by_id(round_.circle_id)
            if circle is None or not self.services.platforms.serves(circle):
                continue
            if round_.status == store.ROUND_OPENING:
                # The bot stopped between recording the round and posting it.
                await self._post_round(circle, round_)
                continue
            if round_.thread_id:
                self._threads[(round_.platform, round_.thread_id)] = round_
            if round_.closes_at <= now - self.services.scheduler.grace:
                await self._close(round_.id or 0, late=True)
            else:
                self._schedule_round_jobs(round_)

    async def _circle_changed(self, signal: CircleChanged) -> None:
        """A circle seen for the first time gets its rounds; a changed one is rescheduled."""
        circle = signal.circle
        assert circle.id is not None
        if signal.created:
            await self._adopt(circle)
            return
        settings = await store.get_settings(self.services.db, circle.id)
        if settings is None:
            await self._adopt(circle)
            return
        self._settings[circle.id] = settings
        self._schedule_opening(circle, settings)

    async def _adopt(self, circle: Circle) -> CircleSettings:
        """The circle's settings; on first sight, also its prompt bank and its schedule.

        Idempotent: the signal of first sight normally did it before any job or command.
        """
        assert circle.id is not None
        known = self._settings.get(circle.id)
        if known is not None:
            return known
        now = self.services.clock.now()
        settings = await store.ensure_settings(self.services.db, circle.id, now=now)
        await store.seed_prompts(self.services.db, circle.id, seed_keys(), now=now)
        self._schedule_opening(circle, settings)
        self._settings[circle.id] = settings
        return settings

    def _schedule_opening(self, circle: Circle, settings: CircleSettings) -> None:
        assert circle.id is not None
        circle_id = circle.id

        async def open_scheduled(run: JobRun) -> None:
            await self.open_round(circle_id, scheduled_for=run.scheduled_for, late=run.late)

        self.services.scheduler.add(
            opening_job(circle_id),
            cron(settings.prompt_cron, circle.timezone),
            open_scheduled,
            since=settings.created_at,
        )

    def _schedule_round_jobs(self, round_: Round) -> None:
        round_id = round_.id or 0

        async def remind(run: JobRun) -> None:
            await self._remind(round_id)

        async def close(run: JobRun) -> None:
            await self._close(round_id, late=run.late)

        if round_.reminder_at is not None and round_.reminder_at > round_.opened_at:
            self.services.scheduler.add(
                f"rounds:round:{round_id}:remind",
                once(round_.reminder_at),
                remind,
                since=round_.opened_at,
            )
        self.services.scheduler.add(
            f"rounds:round:{round_id}:close", once(round_.closes_at), close, since=round_.opened_at
        )

    # ------------------------------------------------------------ opening

    async def open_round(
        self, circle_id: int, *, scheduled_for: datetime, late: bool = False
    ) -> Round | None:
        """Open the round of a schedule slot: once, whatever fires it how often."""
        db = self.services.db
        circle = await self.services.directory.circle_by_id(circle_id)
        if circle is None:
            return None
        settings = await self._adopt(circle)
        current = await store.current_round(db, circle_id)
        if current is not None:
            if current.closes_at > scheduled_for:
                # A round (opened by a host, or this very slot) is still meant to run: the
                # schedule never cuts it short.
                self.log.info(
                    "circle %s: slot %s skipped, round %s still open",
                    circle_id,
                    scheduled_for.isoformat(),
                    current.number,
                )
                return None
            # Its close was missed (the bot was down): close it, then open the new one.
            await self._close(current.id or 0, late=True)
        bank = await store.prompts(db, circle_id)
        if not bank:
            self.log.warning("circle %s has no prompt left in its bank", circle_id)
            return None
        prompt = bank[0]
        words = render(prompt, circle.locale)
        now = self.services.clock.now()
        closes = scheduled_for + timedelta(hours=settings.round_hours)
        reminder = closes - timedelta(hours=settings.reminder_hours)
        created = await store.create_round(
            db,
            Round(
                circle_id=circle_id,
                prompt_id=prompt.id,
                number=0,
                scheduled_for=scheduled_for,
                opened_at=now,
                closes_at=max(closes, now + timedelta(hours=1)),
                reminder_at=reminder if reminder > now else None,
                prompt_text=words.text,
                sub_questions=json.dumps(list(words.subs), ensure_ascii=False),
                platform=circle.platform,
                channel_id=circle.space_id,
                late=late,
            ),
        )
        if created is None:
            return None  # another fire (or instance) opened this slot already
        await store.mark_used(db, prompt.id or 0)
        return await self._post_round(circle, created)

    async def _post_round(self, circle: Circle, round_: Round) -> Round:
        # The post has its own scope: posted by the opening job, or at start when the bot died
        # between recording and posting it, each message goes out once.
        async with self.services.effects.scope(event_key("round-post", str(round_.id))):
            return await self._post_round_once(circle, round_)

    async def _post_round_once(self, circle: Circle, round_: Round) -> Round:
        settings = await self._adopt(circle)
        t = translator(circle.locale)
        messenger = self.services.platforms.messenger(circle.platform)
        channel = self._channel(circle)
        content = self._prompt_content(t, circle, settings, round_)
        ping = await self._ping_once(circle, round_.id or 0, "question")
        refs = await messenger.send(channel, replace(content, ping=ping))
        round_.message_id = refs[0].id
        platform = self.services.platforms.get(circle.platform)
        if platform.capabilities.threads:
            title = t._("Round #{n}", n=round_.number)
            name = f"{title} — {round_.prompt_text}"
            thread = await platform.start_thread(
                refs[0], name[:95].rstrip() + ("…" if len(name) > 95 else "")
            )
            round_.thread_id = thread.id
        round_.status = store.ROUND_OPEN
        round_ = await store.save_round(self.services.db, round_)
        if round_.thread_id is not None:
            self._threads[(circle.platform, round_.thread_id)] = round_
        self._schedule_round_jobs(round_)
        await self.services.signals.emit(RoundOpened(round_.id or 0, circle.id or 0))
        return round_

    def _prompt_content(
        self, t: Translator, circle: Circle, settings: CircleSettings, round_: Round
    ) -> Content:
        subs = json.loads(round_.sub_questions)
        platform = self.services.platforms.get(circle.platform)
        prefix = (
            "/" if platform.capabilities.native_commands else platform.capabilities.command_prefix
        )
        lines = [
            t._("**Round #{n} — question of the week**", n=round_.number),
            "",
            f"**{round_.prompt_text}**",
        ]
        # A sub-question the question already asks is not asked twice.
        asked = round_.prompt_text.casefold()
        lines += [f"• {sub}" for sub in subs if sub.strip(" ?!.").casefold() not in asked]
        lines += [
            "",
            t._(
                "Answer in the thread below, whatever your profession: reply to an answer to "
                "comment on it, react to show agreement. No thread? Use {answer}.",
                answer=f"`{prefix}answer`",
            )
            if platform.capabilities.threads
            else t._("Answer with {answer}.", answer=f"`{prefix}answer`"),
            t._(
                "Your answer is tagged with your profession: {command}.",
                command=f"`{prefix}profession set`",
            ),
            t._("Closes {when}.", when=when(t, circle, round_.closes_at)),
            "",
            "_"
            + (settings.charter_line or t._(DEFAULT_CHARTER, charter=f"`{prefix}charter`"))
            + "_",
        ]
        return Content(text="\n".join(lines))

    # ------------------------------------------------------------ reminder and close

    async def _remind(self, round_id: int) -> None:
        round_ = await store.get_round(self.services.db, round_id)
        if round_ is None or round_.status != store.ROUND_OPEN:
            return
        circle = await self.services.directory.circle_by_id(round_.circle_id)
        if circle is None:
            return
        t = translator(circle.locale)
        answers = await store.public_answers(self.services.db, round_id)
        heard = {a.profession_key for a in answers if a.profession_key}
        expected = await self._circle_profession_keys(circle)
        missing = sorted(expected - heard - {"other"})
        left = format_timedelta(
            round_.closes_at - self.services.clock.now(), locale=t.locale, threshold=1.1
        )
        lines = [
            t._(
                "⏳ This round closes in {left}: {answers} from {professions} so far.",
                left=left,
                answers=t.ngettext("{n} answer", "{n} answers", len(answers)),
                professions=t.ngettext("{n} profession", "{n} professions", len(heard - {"other"})),
            )
        ]
        if missing:
            labels = ", ".join(tag_for_key(key).label(t.locale) for key in missing)
            lines.append(t._("Not heard yet this round: {professions}.", professions=labels))
            lines.append(t._("Your view counts: answer in the thread."))
        elif expected:
            lines.append(t._("Every profession of the circle has spoken. Thank you!"))
        ping = await self._ping_once(circle, round_id, "reminder")
        await self.services.platforms.messenger(circle.platform).send(
            self._channel(circle), Content(text="\n".join(lines), ping=ping)
        )

    async def _ping_once(self, circle: Circle, round_id: int, what: str) -> Ping | None:
        """The hosts' opt-in mention for a round's question or reminder: once per round, ever.

        Claimed in the effects ledger under the round, not under whatever posts it: a restart,
        a replay or a second run of the job posts without pinging again.
        """
        ping = await circle_ping(self.services.db, circle.id or 0)
        if ping is None:
            return None
        effects = self.services.effects
        async with effects.scope(event_key("round-ping", str(round_id), what)):
            first = await effects.once("ping", _first_time, encode=_mark, decode=_again)
        return ping if first else None

    async def _circle_profession_keys(self, circle: Circle) -> set[str]:
        """The professions of the circle: its members' and every one that ever answered."""
        assert circle.id is not None
        keys = {tag.key for tag in await circle_professions(self.services.db, circle.id)}
        return keys | await store.answered_profession_keys(self.services.db, circle.id)

    async def _close(self, round_id: int, *, late: bool = False) -> None:
        db = self.services.db
        round_ = await store.get_round(db, round_id)
        if round_ is None or round_.status == store.ROUND_CLOSED:
            return
        circle = await self.services.directory.circle_by_id(round_.circle_id)
        round_.status = store.ROUND_CLOSED
        round_.closed_at = self.services.clock.now()
        round_ = await store.save_round(db, round_)
        if round_.thread_id is not None:
            self._threads[(round_.platform, round_.thread_id)] = round_
        self.services.scheduler.remove(f"rounds:round:{round_id}:remind")
        self.services.scheduler.remove(f"rounds:round:{round_id}:close")
        if circle is None or not self.services.platforms.serves(circle):
            return
        t = translator(circle.locale)
        answers = await store.public_answers(db, round_id)
        professions = {a.profession_key for a in answers if a.profession_key}
        text = t._(
            "This round is closed: {answers} from {professions}. Thank you! "
            "Answers posted from now on are still kept, marked late.",
            answers=t.ngettext("{n} answer", "{n} answers", len(answers)),
            professions=t.ngettext("{n} profession", "{n} professions", len(professions)),
        )
        messenger = self.services.platforms.messenger(circle.platform)
        thread = self._thread_of(round_)
        await messenger.send(self._channel(circle), text, thread=thread)
        if thread is not None:
            await self.services.platforms.get(circle.platform).close_thread(thread)
        await self.services.signals.emit(RoundClosed(round_id, circle.id or 0, late=late))


async def _first_time() -> bool:
    return True


def _mark(_first: bool) -> str:
    return "1"


def _again(_raw: str) -> bool:
    return False
