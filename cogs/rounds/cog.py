"""Circle rounds: a weekly cross-profession prompt, answers and comments in its thread.

Each circle has a schedule (cron, in its timezone). At each slot the bot posts the next prompt
of the circle's bank, opens a thread, reminds once before the close (no ping: counts and the
professions not heard yet), then closes the thread. A member's top-level message in the thread
is an answer, a reply to an answer is a comment; both are tagged with the profession the
author had at that moment.

Exactly one post per slot: the scheduler's ledger claims each (job, time) once, and the round
row (unique per circle and slot) is written before the post, so a duplicate fire, a restart or
a second instance finds it and posts nothing.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any, Final
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel.dates import format_datetime, format_timedelta
from sqlmodel import col, select

from bot.cog import Cog, CommandContext, Context, EventContext, Services, command
from bot.commands import Choice, CommandSpec, OptionSpec, OptionType, Scope
from bot.i18n import N_, Translator, translator
from bot.messenger import escape, quote
from bot.scheduler import JobRun, cron, fire_times, once
from bot.types import (
    ChannelRef,
    Content,
    MessageDeleted,
    MessageEdited,
    MessagePosted,
    MessageRef,
    ReactionAdded,
    Role,
    ThreadRef,
    Verdict,
    Visibility,
)
from cogs.courtesy.signals import MessageApproved, MessageRejected
from cogs.professions import (
    ProfessionChanged,
    ProfessionTag,
    circle_professions,
    profession_of,
    tag_for_key,
)
from cogs.rounds.bank import MAX_SUBS, render, seed_keys
from cogs.rounds.signals import AnswerStored, RoundClosed, RoundOpened
from storage import members, state
from storage import rounds as store
from storage.models import Circle
from storage.rounds import Answer, CircleSettings, Prompt, Round

MAX_PROMPT: Final = 1000
MAX_SUB: Final = 200
MAX_ANSWER: Final = 4000
_ASKED: Final = "asked-profession"
QUESTION_ID: Final = OptionSpec(
    "id", N_("The question's number"), OptionType.INTEGER, required=True, min_value=1
)
SUGGESTION_ID: Final = OptionSpec(
    "id", N_("The suggestion's number"), OptionType.INTEGER, required=True, min_value=1
)
DEFAULT_CHARTER: Final = N_(
    "Courteous, benevolent and lawful: we discuss ideas, never people, and nobody posts "
    "personal contact details. See {charter}."
)


def _visibility(verdict: Verdict | None) -> str:
    return (verdict.visibility if verdict else Visibility.VISIBLE).name.lower()


class RoundsCog(Cog):
    """Schedules, posts, collects and closes the weekly rounds of every circle."""

    name = "rounds"

    def __init__(self, services: Services) -> None:
        super().__init__(services)
        self._settings: dict[int, CircleSettings] = {}
        # Hot-path caches (every answer needs its round and its author's profession).
        self._threads: dict[tuple[str, str], Round] = {}
        self._professions: dict[int, ProfessionTag | None] = {}
        self._asked: set[int] = set()

    # ------------------------------------------------------------ lifecycle

    async def on_start(self) -> None:
        """Rebuild every job from stored truth; finish what a crash interrupted."""
        now = self.services.clock.now()
        self._asked = await self._members_asked()
        for settings in await store.all_settings(self.services.db):
            circle = await self.services.directory.circle_by_id(settings.circle_id)
            if circle is not None and self.services.platforms.serves(circle):
                self._schedule_opening(circle, settings)
                self._settings[settings.circle_id] = settings
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

    async def _members_asked(self) -> set[int]:
        """Members already asked for their profession (the question is asked once, ever)."""
        prefix = f"{_ASKED}:"
        values = await state.states_with_prefix(self.services.db, self.name, prefix)
        return {int(key.removeprefix(prefix)) for key, value in values.items() if value}

    async def ensure(self, circle: Circle) -> CircleSettings:
        """Give a circle its settings, its prompt bank and its schedule on first sight."""
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
            f"rounds:{circle_id}:open",
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
        settings = await self.ensure(circle)
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
        settings = await self.ensure(circle)
        t = translator(circle.locale)
        messenger = self.services.platforms.messenger(circle.platform)
        channel = self._channel(circle)
        refs = await messenger.send(channel, self._prompt_content(t, circle, settings, round_))
        round_.message_id = refs[0].id
        platform = self.services.platforms.get(circle.platform)
        if platform.capabilities.threads:
            title = t._("Circle #{n}", n=round_.number)
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
            t._("**Circle #{n} — question of the week**", n=round_.number),
            "",
            f"**{round_.prompt_text}**",
        ]
        lines += [f"• {sub}" for sub in subs]
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
            t._("Closes {when}.", when=self._when(t, circle, round_.closes_at)),
            "",
            "_"
            + (settings.charter_line or t._(DEFAULT_CHARTER, charter=f"`{prefix}charter`"))
            + "_",
        ]
        return Content(text="\n".join(lines))

    def _when(self, t: Translator, circle: Circle, at: datetime) -> str:
        return format_datetime(
            at, "EEEE d MMMM, HH:mm", tzinfo=ZoneInfo(circle.timezone), locale=t.locale
        )

    @staticmethod
    def _channel(circle: Circle) -> ChannelRef:
        return ChannelRef(circle.platform, circle.space_id, name=circle.name)

    # ------------------------------------------------------------ reminder and close

    async def _remind(self, round_id: int) -> None:
        round_ = await store.get_round(self.services.db, round_id)
        if round_ is None or round_.status != store.ROUND_OPEN:
            return
        circle = await self.services.directory.circle_by_id(round_.circle_id)
        if circle is None:
            return
        t = translator(circle.locale)
        answers = [a for a in await store.answers(self.services.db, round_id) if _counted(a)]
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
        await self.services.platforms.messenger(circle.platform).send(
            self._channel(circle), "\n".join(lines)
        )

    async def _circle_profession_keys(self, circle: Circle) -> set[str]:
        assert circle.id is not None
        keys = {tag.key for tag in await circle_professions(self.services.db, circle.id)}
        async with self.services.db.session() as session:
            stmt = (
                select(Answer.profession_key)
                .join(Round, col(Round.id) == col(Answer.round_id))
                .where(col(Round.circle_id) == circle.id, col(Answer.profession_key).is_not(None))
                .distinct()
            )
            keys |= {key for key in (await session.exec(stmt)).all() if key}
        return keys

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
        answers = [a for a in await store.answers(db, round_id) if _counted(a)]
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

    def _thread_of(self, round_: Round) -> ThreadRef | None:
        if round_.thread_id is None:
            return None
        return ThreadRef(ChannelRef(round_.platform, round_.channel_id), round_.thread_id)

    # ------------------------------------------------------------ members' messages

    async def _round_of_thread(self, ctx: Context) -> Round | None:
        if ctx.thread is None:
            return None
        key = (ctx.platform.name, ctx.thread.id)
        cached = self._threads.get(key)
        if cached is not None:
            return cached
        round_ = await store.round_by_thread(self.services.db, *key)
        if round_ is not None:
            self._threads[key] = round_
        return round_

    async def _profession(self, member_id: int) -> ProfessionTag | None:
        if member_id not in self._professions:
            self._professions[member_id] = await profession_of(self.services.db, member_id)
        return self._professions[member_id]

    async def on_message(self, ctx: EventContext) -> None:
        """An answer, or a comment when it replies to an answer, in a round's thread."""
        if ctx.circle is None or ctx.member_id is None:
            return
        await self.ensure(ctx.circle)
        round_ = await self._round_of_thread(ctx)
        if round_ is None:
            return
        event = ctx.event
        assert isinstance(event, MessagePosted)
        await self._store_contribution(ctx, round_, event.message, event.reply_to, ctx.verdict)

    async def _store_contribution(
        self,
        ctx: Context,
        round_: Round,
        message: MessageRef,
        reply_to: MessageRef | None,
        verdict: Verdict | None,
    ) -> int | None:
        assert ctx.member_id is not None and round_.id is not None
        db = self.services.db
        text = verdict.text if verdict else ""
        tag = await self._profession(ctx.member_id)
        now = self.services.clock.now()
        parent: Answer | None = None
        if reply_to is not None:
            parent = await store.answer_by_message(db, ctx.platform.name, reply_to.id)
            if parent is None:
                sibling = await store.comment_by_message(db, ctx.platform.name, reply_to.id)
                if sibling is not None and sibling.answer_id is not None:
                    async with db.session() as session:
                        parent = await session.get(Answer, sibling.answer_id)
        common = {
            "round_id": round_.id,
            "member_id": ctx.member_id,
            "platform": ctx.platform.name,
            "message_id": message.id,
            "text": text,
            "profession_key": tag.key if tag else None,
            "visibility": _visibility(verdict),
            "created_at": now,
        }
        if parent is not None:
            stored = await store.add_comment(db, answer_id=parent.id, **common)
        else:
            stored = await store.add_answer(
                db,
                profession_wording=tag.wording if tag else "",
                late=round_.status == store.ROUND_CLOSED,
                **common,
            )
        if stored is not None and tag is None:
            await self._ask_profession_once(ctx)
        if stored is not None and parent is None:
            await self.services.signals.emit(AnswerStored(round_.id, round_.circle_id))
        return stored

    async def _ask_profession_once(self, ctx: Context) -> None:
        assert ctx.member_id is not None
        if ctx.member_id in self._asked:
            return
        self._asked.add(ctx.member_id)
        key = f"{_ASKED}:{ctx.member_id}"
        await state.set_state(self.services.db, self.name, key, "1", now=self.services.clock.now())
        await ctx.send_private(
            ctx.t._(
                "Thank you for your answer! Which profession do you speak from? Tell the circle "
                "with {command}: your answers of this round will be tagged with it.",
                command=f"`{ctx.prefix}profession set`",
            )
        )

    async def on_edit(self, ctx: EventContext) -> None:
        """An edited answer keeps its history; an edited comment is updated."""
        event = ctx.event
        assert isinstance(event, MessageEdited)
        db = self.services.db
        now = self.services.clock.now()
        text = ctx.verdict.text if ctx.verdict else event.text
        answer = await store.answer_by_message(db, ctx.platform.name, event.message.id)
        if answer is not None:
            await store.edit_answer(db, answer.id or 0, text, _visibility(ctx.verdict), now=now)
            return
        comment = await store.comment_by_message(db, ctx.platform.name, event.message.id)
        if comment is not None:
            await store.edit_comment(db, comment.id or 0, text, _visibility(ctx.verdict), now=now)

    async def on_delete(self, ctx: EventContext) -> None:
        """A deleted answer or comment is removed, unless moderation took it out of view.

        The courtesy rules delete the original of a redacted, held or hidden message
        themselves; that deletion must not lose what a host may still approve.
        """
        assert isinstance(ctx.event, MessageDeleted)
        await store.delete_by_message(
            self.services.db, ctx.platform.name, ctx.event.message.id, only_visible=True
        )

    async def on_reaction(self, ctx: EventContext) -> None:
        """Reactions to answers are how readers take part."""
        event = ctx.event
        if ctx.member_id is None or isinstance(
            event, MessagePosted | MessageEdited | MessageDeleted
        ):
            return
        db = self.services.db
        answer = await store.answer_by_message(db, ctx.platform.name, event.message.id)
        if answer is None or answer.id is None:
            return
        if isinstance(event, ReactionAdded):
            await store.add_reaction(
                db, answer.id, ctx.member_id, event.emoji, now=self.services.clock.now()
            )
        else:
            await store.remove_reaction(db, answer.id, ctx.member_id, event.emoji)

    async def on_signal(self, signal: object) -> None:
        """Follow hosts' moderation decisions and members' professions.

        An approved held answer becomes visible (with the text as published); a rejected one
        stays hidden. A member's untagged answers of open rounds get their new profession.
        """
        if isinstance(signal, MessageApproved):
            await store.publish(
                self.services.db, signal.message.channel.platform, signal.message.id, signal.text
            )
        elif isinstance(signal, MessageRejected):
            await store.set_visibility(
                self.services.db, signal.message.channel.platform, signal.message.id, "hidden"
            )
        elif isinstance(signal, ProfessionChanged):
            self._professions[signal.member_id] = signal.tag
            open_rounds = await store.rounds_with_status(self.services.db, store.ROUND_OPEN)
            await store.tag_untagged(
                self.services.db,
                signal.member_id,
                [r.id for r in open_rounds if r.id is not None],
                signal.tag.key,
                signal.tag.wording,
            )

    # ------------------------------------------------------------ /answer

    @command(
        "answer",
        description=N_("Answer this week's question (where you can't post in the thread)."),
        options=[
            OptionSpec("text", N_("Your answer"), required=True, rest=True, max_length=MAX_ANSWER)
        ],
        scope=Scope.CIRCLE,
        private=True,
    )
    async def answer(self, ctx: CommandContext) -> None:
        """Store an answer given as a command and show it in the round's thread."""
        assert ctx.circle is not None
        await self.ensure(ctx.circle)
        round_ = await store.current_round(self.services.db, ctx.circle.id or 0)
        if round_ is None:
            await ctx.reply(
                ctx.t._("No round is open right now: {next}", next=await self._next_text(ctx))
            )
            return
        text = ctx.options["text"]
        verdict = await self.services.verdicts.judge(ctx, text, ident=ctx.invocation.id)
        message = MessageRef(ctx.channel, f"command:{ctx.invocation.id}", ctx.thread)
        stored = await self._store_contribution(ctx, round_, message, None, verdict)
        if stored is None:
            return
        if verdict.public:
            tag = await profession_of(self.services.db, ctx.member_id or 0)
            who = f"**{escape(ctx.user.label)}**"
            if tag is not None:
                who += f" ({escape(tag.label(ctx.t.locale))})"
            await ctx.messenger.send(
                ctx.channel,
                ctx.t._("{who} answered:", who=who) + "\n" + quote(verdict.text),
                thread=self._thread_of(round_),
            )
            await ctx.reply(ctx.t._("Thank you, your answer is in the round."))
        else:
            await ctx.reply(ctx.t._("Thank you: your answer waits for a host's review."))

    # ------------------------------------------------------------ /prompt

    @command(
        "prompt",
        "add",
        description=N_("Add a question to the circle's bank."),
        options=[
            OptionSpec("text", N_("The question"), required=True, rest=True, max_length=MAX_PROMPT),
            OptionSpec("sub1", N_("A first sub-question"), max_length=MAX_SUB),
            OptionSpec("sub2", N_("A second sub-question"), max_length=MAX_SUB),
            OptionSpec("sub3", N_("A third sub-question"), max_length=MAX_SUB),
        ],
        role=Role.HOST,
        scope=Scope.CIRCLE,
        examples=(
            N_('Example: {prefix}prompt add What surprised you this year? sub1:"Good" sub2:"Bad"'),
        ),
    )
    async def prompt_add(self, ctx: CommandContext) -> None:
        """Add a prompt written by a host."""
        assert ctx.circle is not None
        await self.ensure(ctx.circle)
        subs = [ctx.options[f"sub{i}"] for i in range(1, MAX_SUBS + 1) if ctx.options[f"sub{i}"]]
        prompt = await store.add_prompt(
            self.services.db,
            ctx.circle.id or 0,
            ctx.options["text"],
            subs,
            now=self.services.clock.now(),
        )
        await ctx.reply(ctx.t._("Question #{id} added to the bank.", id=prompt.id))

    @command(
        "prompt",
        "list",
        description=N_("Show the circle's question bank, next first."),
        role=Role.HOST,
        scope=Scope.CIRCLE,
        private=True,
    )
    async def prompt_list(self, ctx: CommandContext) -> None:
        """List the active bank in rotation order."""
        assert ctx.circle is not None
        await self.ensure(ctx.circle)
        bank = await store.prompts(self.services.db, ctx.circle.id or 0)
        if not bank:
            await ctx.reply(self._empty_bank(ctx))
            return
        lines = [ctx.t._("**Question bank** (next first)")]
        for prompt in bank:
            words = render(prompt, ctx.circle.locale)
            used = (
                ctx.t.ngettext("asked once", "asked {n} times", prompt.times_used)
                if prompt.times_used
                else ctx.t._("never asked")
            )
            lines.append(f"`#{prompt.id}` {escape(words.text)} — _{used}_")
        await ctx.reply("\n".join(lines))

    @command(
        "prompt",
        "remove",
        description=N_("Remove a question from the bank."),
        options=[QUESTION_ID],
        role=Role.HOST,
        scope=Scope.CIRCLE,
    )
    async def prompt_remove(self, ctx: CommandContext) -> None:
        """Take a prompt out of rotation."""
        await self._move(
            ctx,
            store.PROMPT_ACTIVE,
            store.PROMPT_REMOVED,
            N_("Question #{id} removed from the bank."),
        )

    async def _move(
        self, ctx: CommandContext, source: str, target: str, done: str, *, private: bool = False
    ) -> None:
        """Move the prompt named by the ``id`` option from one status to another."""
        prompt = await self._prompt_or_say(ctx, source)
        if prompt is not None:
            await store.set_prompt_status(self.services.db, prompt.id or 0, target)
            await ctx.reply(ctx.t._(done, id=prompt.id), private=private)

    @staticmethod
    def _empty_bank(ctx: CommandContext) -> str:
        return ctx.t._(
            "The bank is empty: add a question with {command}.",
            command=f"`{ctx.prefix}prompt add`",
        )

    async def _prompt_or_say(self, ctx: CommandContext, status: str) -> Prompt | None:
        assert ctx.circle is not None
        prompt = await store.get_prompt(self.services.db, ctx.circle.id or 0, ctx.options["id"])
        if prompt is None or prompt.status != status:
            await ctx.reply(
                ctx.t._(
                    "There is no question #{id} here. See {command}.",
                    id=ctx.options["id"],
                    command=f"`{ctx.prefix}prompt list`",
                ),
                private=True,
            )
            return None
        return prompt

    @command(
        "prompt",
        "next",
        description=N_("Show which question comes next, and when."),
        scope=Scope.CIRCLE,
        private=True,
    )
    async def prompt_next(self, ctx: CommandContext) -> None:
        """What comes next and when."""
        await ctx.reply(await self._next_text(ctx))

    async def _next_text(self, ctx: CommandContext) -> str:
        assert ctx.circle is not None
        await self.ensure(ctx.circle)
        bank = await store.prompts(self.services.db, ctx.circle.id or 0)
        when = self.services.scheduler.next_fire_time(f"rounds:{ctx.circle.id}:open")
        if not bank:
            return self._empty_bank(ctx)
        words = render(bank[0], ctx.circle.locale)
        if when is None:
            return ctx.t._("Next question: “{text}” (no date scheduled).", text=escape(words.text))
        return ctx.t._(
            "Next question, {when}: “{text}”",
            when=self._when(ctx.t, ctx.circle, when),
            text=escape(words.text),
        )

    @command(
        "prompt",
        "skip",
        description=N_("Skip the next question in the rotation."),
        role=Role.HOST,
        scope=Scope.CIRCLE,
    )
    async def prompt_skip(self, ctx: CommandContext) -> None:
        """Move the next prompt to the back of the rotation."""
        assert ctx.circle is not None
        await self.ensure(ctx.circle)
        bank = await store.prompts(self.services.db, ctx.circle.id or 0)
        if not bank:
            await ctx.reply(self._empty_bank(ctx))
            return
        await store.mark_used(self.services.db, bank[0].id or 0)
        await ctx.reply(
            ctx.t._("Skipped: “{text}”.", text=escape(render(bank[0], ctx.circle.locale).text))
            + "\n"
            + await self._next_text(ctx)
        )

    @command(
        "prompt",
        "now",
        description=N_("Open a round with the next question right now."),
        role=Role.HOST,
        scope=Scope.CIRCLE,
    )
    async def prompt_now(self, ctx: CommandContext) -> None:
        """Open a round immediately (unless one is open)."""
        assert ctx.circle is not None
        await self.ensure(ctx.circle)
        current = await store.current_round(self.services.db, ctx.circle.id or 0)
        if current is not None:
            await ctx.reply(
                ctx.t._(
                    "Round #{n} is still open until {when}.",
                    n=current.number,
                    when=self._when(ctx.t, ctx.circle, current.closes_at),
                ),
                private=True,
            )
            return
        opened = await self.open_round(ctx.circle.id or 0, scheduled_for=self.services.clock.now())
        if opened is None:
            await ctx.reply(
                self._empty_bank(ctx),
                private=True,
            )

    @command(
        "prompt",
        "suggest",
        description=N_("Suggest a question to the hosts."),
        options=[
            OptionSpec("text", N_("The question"), required=True, rest=True, max_length=MAX_PROMPT)
        ],
        scope=Scope.CIRCLE,
        private=True,
    )
    async def prompt_suggest(self, ctx: CommandContext) -> None:
        """Queue a member's suggestion for the hosts."""
        assert ctx.circle is not None
        await self.ensure(ctx.circle)
        prompt = await store.add_prompt(
            self.services.db,
            ctx.circle.id or 0,
            ctx.options["text"],
            [],
            now=self.services.clock.now(),
            status=store.PROMPT_SUGGESTED,
            suggested_by=ctx.member_id,
        )
        await ctx.reply(
            ctx.t._("Thank you! Your suggestion #{id} goes to the hosts.", id=prompt.id)
        )

    @command(
        "prompt",
        "suggestions",
        description=N_("Show the questions members suggested."),
        role=Role.HOST,
        scope=Scope.CIRCLE,
        private=True,
    )
    async def prompt_suggestions(self, ctx: CommandContext) -> None:
        """The suggestions queue."""
        assert ctx.circle is not None
        queue = await store.prompts(self.services.db, ctx.circle.id or 0, store.PROMPT_SUGGESTED)
        if not queue:
            await ctx.reply(ctx.t._("No suggestion is waiting."))
            return
        lines = [
            ctx.t._(
                "**Suggestions** ({approve} or {reject})",
                approve=f"`{ctx.prefix}prompt approve`",
                reject=f"`{ctx.prefix}prompt reject`",
            )
        ]
        lines += [f"`#{p.id}` {escape(p.text)}" for p in queue]
        await ctx.reply("\n".join(lines))

    @command(
        "prompt",
        "approve",
        description=N_("Accept a suggested question into the bank."),
        options=[SUGGESTION_ID],
        role=Role.HOST,
        scope=Scope.CIRCLE,
    )
    async def prompt_approve(self, ctx: CommandContext) -> None:
        """Move a suggestion into the bank."""
        await self._move(
            ctx,
            store.PROMPT_SUGGESTED,
            store.PROMPT_ACTIVE,
            N_("Suggestion #{id} is now in the bank."),
        )

    @command(
        "prompt",
        "reject",
        description=N_("Decline a suggested question."),
        options=[SUGGESTION_ID],
        role=Role.HOST,
        scope=Scope.CIRCLE,
    )
    async def prompt_reject(self, ctx: CommandContext) -> None:
        """Decline a suggestion."""
        await self._move(
            ctx,
            store.PROMPT_SUGGESTED,
            store.PROMPT_REJECTED,
            N_("Suggestion #{id} declined."),
            private=True,
        )

    # ------------------------------------------------------------ /circle

    @command(
        "circle",
        "status",
        description=N_("Show the open round: time left, answers by profession."),
        scope=Scope.CIRCLE,
        private=True,
    )
    async def circle_status(self, ctx: CommandContext) -> None:
        """The open round and who has spoken, by profession (never by name)."""
        assert ctx.circle is not None
        await self.ensure(ctx.circle)
        t = ctx.t
        round_ = await store.latest_round(self.services.db, ctx.circle.id or 0)
        if round_ is None or round_.status != store.ROUND_OPEN:
            nothing_open = t._(
                "No round is open right now: {next}", next=await self._next_text(ctx)
            )
            if round_ is None:
                await ctx.reply(nothing_open)
                return
            header = [
                t._(
                    "**Round #{n}** (closed): “{text}”",
                    n=round_.number,
                    text=escape(round_.prompt_text),
                ),
            ]
        else:
            left = format_timedelta(
                round_.closes_at - self.services.clock.now(), locale=t.locale, threshold=1.1
            )
            header = [
                t._("**Round #{n}**: “{text}”", n=round_.number, text=escape(round_.prompt_text)),
                t._(
                    "Closes in {left} ({when}).",
                    left=left,
                    when=self._when(t, ctx.circle, round_.closes_at),
                ),
            ]
            nothing_open = ""
        answers = [a for a in await store.answers(self.services.db, round_.id or 0) if _counted(a)]
        comments = [
            c
            for c in await store.comments(self.services.db, round_.id or 0)
            if c.visibility in ("visible", "redacted")
        ]
        lines = [
            *header,
            t._(
                "{answers} and {comments} so far.",
                answers=t.ngettext("{n} answer", "{n} answers", len(answers)),
                comments=t.ngettext("{n} comment", "{n} comments", len(comments)),
            ),
        ]
        by_profession: dict[str, list[int]] = {}
        for a in answers:
            by_profession.setdefault(a.profession_key or "", [0, 0])[0] += 1
        for c in comments:
            by_profession.setdefault(c.profession_key or "", [0, 0])[1] += 1
        for key, (n_answers, n_comments) in sorted(
            by_profession.items(), key=lambda kv: (-kv[1][0], kv[0])
        ):
            label = tag_for_key(key).label(t.locale) if key else t._("profession not given")
            counts = t._(
                "{profession}: {answers}, {comments}",
                profession=label,
                answers=t.ngettext("{n} answer", "{n} answers", n_answers),
                comments=t.ngettext("{n} comment", "{n} comments", n_comments),
            )
            lines.append(f"• {counts}")
        if nothing_open:
            lines += ["", nothing_open]
        await ctx.reply("\n".join(lines))

    @command(
        "circle",
        "setup",
        description=N_("Change the circle's language, timezone, schedule and round length."),
        options=[
            OptionSpec(
                "language",
                N_("fr or en"),
                choices=(Choice("fr", N_("French")), Choice("en", N_("English"))),
            ),
            OptionSpec("timezone", N_("An IANA timezone, e.g. Europe/Paris"), max_length=64),
            OptionSpec(
                "schedule", N_("When questions are posted, as cron: 0 9 * * mon"), max_length=100
            ),
            OptionSpec(
                "round_days",
                N_("How many days a round stays open"),
                OptionType.NUMBER,
                min_value=0.25,
                max_value=30,
            ),
            OptionSpec(
                "reminder_hours",
                N_("Hours before the close for the reminder (0: none)"),
                OptionType.INTEGER,
                min_value=0,
                max_value=240,
            ),
            OptionSpec("charter", N_("The charter line shown with each question"), max_length=300),
        ],
        role=Role.HOST,
        scope=Scope.CIRCLE,
        private=True,
    )
    async def circle_setup(self, ctx: CommandContext) -> None:
        """Validate every change first; apply all of them or none."""
        assert ctx.circle is not None
        circle = ctx.circle
        settings = await self.ensure(circle)
        t = ctx.t
        o = ctx.options
        problems: list[str] = []
        timezone = o["timezone"] or circle.timezone
        try:
            ZoneInfo(timezone)
        except (ZoneInfoNotFoundError, ValueError):
            problems.append(
                t._(
                    "Unknown timezone “{tz}”: use a name such as Europe/Paris or America/Montreal.",
                    tz=escape(timezone),
                )
            )
        schedule = o["schedule"] or settings.prompt_cron
        trigger = None
        if not problems:
            try:
                trigger = cron(schedule, timezone)
            except (ValueError, TypeError):
                problems.append(
                    t._(
                        "“{cron}” is not a schedule: write minute hour day month weekday, "
                        "e.g. 0 9 * * mon.",
                        cron=escape(schedule),
                    )
                )
        round_hours = (
            round(o["round_days"] * 24) if o["round_days"] is not None else settings.round_hours
        )
        reminder_hours = (
            o["reminder_hours"] if o["reminder_hours"] is not None else settings.reminder_hours
        )
        if trigger is not None:
            now = self.services.clock.now()
            upcoming = list(fire_times(trigger, now, now + timedelta(days=400)))[:2]
            if len(upcoming) == 2 and upcoming[1] - upcoming[0] < timedelta(hours=round_hours):
                problems.append(
                    t._(
                        "A round must close before the next question: it can last at most "
                        "{hours} hours with this schedule.",
                        hours=int((upcoming[1] - upcoming[0]).total_seconds() // 3600),
                    )
                )
            elif not upcoming:
                problems.append(t._("This schedule never fires."))
        if reminder_hours >= round_hours:
            problems.append(
                t._("The reminder must come before the close ({hours} hours).", hours=round_hours)
            )
        if problems:
            await ctx.reply("\n".join(f"• {p}" for p in problems))
            return
        if o["language"] or o["timezone"]:
            circle = await members.update_circle(
                self.services.db,
                circle.id or 0,
                locale=o["language"] or circle.locale,
                timezone=timezone,
            )
            await self.services.directory.changed(circle)
        settings = self._settings[circle.id or 0] = await store.update_settings(
            self.services.db,
            circle.id or 0,
            prompt_cron=schedule,
            round_hours=round_hours,
            reminder_hours=reminder_hours,
            charter_line=o["charter"] if o["charter"] is not None else settings.charter_line,
        )
        self._schedule_opening(circle, settings)
        t = translator(circle.locale)
        when = self.services.scheduler.next_fire_time(f"rounds:{circle.id}:open")
        await ctx.reply(
            t._(
                "Settings saved. Language: {lang}; timezone: {tz}; questions: {cron}; "
                "rounds last {hours} h, reminder {reminder} h before the close.",
                lang=circle.locale,
                tz=circle.timezone,
                cron=f"`{settings.prompt_cron}`",
                hours=settings.round_hours,
                reminder=settings.reminder_hours,
            )
            + (
                "\n" + t._("Next question: {when}.", when=self._when(t, circle, when))
                if when
                else ""
            )
        )

    # ------------------------------------------------------------ member data

    async def export_member_data(self, member_id: int) -> dict[str, Any]:
        """Answers (with earlier versions), comments, reactions and suggested questions."""
        data: dict[str, Any] = await store.member_data(self.services.db, member_id)
        for answer in data["answers"]:
            answer["earlier_versions"] = [
                r.text for r in await store.revisions(self.services.db, int(answer["id"]))
            ]
        return data

    async def erase_member_data(self, member_id: int) -> None:
        """Forget the member's answers, comments and reactions."""
        await store.erase_member(self.services.db, member_id)
        self._professions.pop(member_id, None)
        self._asked.discard(member_id)
        await state.set_state(
            self.services.db, self.name, f"{_ASKED}:{member_id}", "", now=self.services.clock.now()
        )

    async def suggest(
        self, spec: CommandSpec, option: OptionSpec, partial: str, ctx: Context
    ) -> list[Choice]:
        """Prompt ids as you type (for remove/approve/reject)."""
        if ctx.circle is None or option.name != "id":
            return []
        status = (
            store.PROMPT_SUGGESTED
            if spec.path[-1] in ("approve", "reject")
            else store.PROMPT_ACTIVE
        )
        found = await store.prompts(self.services.db, ctx.circle.id or 0, status)
        return [
            Choice(str(p.id), f"#{p.id} {render(p, ctx.circle.locale).text}"[:100])
            for p in found
            if str(p.id).startswith(partial.strip())
        ][:25]


def _counted(answer: Answer) -> bool:
    """Held or hidden answers are never counted nor shown."""
    return answer.visibility in ("visible", "redacted")
