"""The votes cog's state, its drafting jobs and how statements are posted.

At each point of ``[votes] draft_at`` (percent of a round's length; default two thirds and
the close) a job drafts statements from the answers so far (:mod:`~cogs.votes.drafting`,
over the digest's themes) and posts them in the round's thread, one message each, with
Agree / Disagree / Pass buttons where the platform has buttons. The draft "at the close" runs
:data:`CLOSE_LEAD` before it, so its statements are in the round when the close's digest
reads the votes; a round already closed (a host closed it early) gets no more drafts.

Exactly once: the scheduler claims each job occurrence once and runs it in its own effects
scope; the statements are stored through :meth:`~bot.effects.Effects.stored` (a replay finds
them) and every message goes through the effects ledger, so a crash, a takeover or a
duplicate fire posts nothing twice.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Sequence
from datetime import timedelta
from typing import TYPE_CHECKING, Final

from bot.cog import Cog, Services
from bot.i18n import N_, Translator, translator
from bot.messenger import escape
from bot.platform import Capabilities
from bot.scheduler import JobRun, once
from bot.types import Action, ActionStyle, ChannelRef, Content, MessageRef, ThreadRef
from cogs.rounds.signals import RoundOpened
from cogs.votes.drafting import MAX_DRAFT, MIN_DRAFT, Source, draft
from storage import rounds as rounds_store
from storage import votes as store
from storage.models import Circle
from storage.rounds import Round
from storage.votes import Statement
from storage.writer import GroupReader

if TYPE_CHECKING:
    from bot.config import VotesSettings

#: How long before the close the last draft runs. A job due at the close itself may run after
#: the round's close job, whose digest would then miss the statements it posts.
CLOSE_LEAD: Final = timedelta(minutes=1)
#: The choices, in the order buttons show them.
CHOICE_LABELS = (
    (store.AGREE, N_("Agree"), ActionStyle.SUCCESS),
    (store.DISAGREE, N_("Disagree"), ActionStyle.DANGER),
    (store.PASS, N_("Pass"), ActionStyle.PRIMARY),
)


def draft_job(round_id: int, percent: int) -> str:
    """The key of the job that drafts a round's statements at ``percent`` of its length."""
    return f"votes:round:{round_id}:draft:{percent}"


def vote_usage(t: Translator, prefix: str) -> str:
    """How a vote is typed, with the choice words of the circle's language."""
    return f"`{prefix}vote <n> {t._('agree|disagree|pass')}`"


def how_to_vote(t: Translator, caps: Capabilities, prefix: str) -> str:
    """How to vote here and what other members can see of it."""
    if caps.ephemeral_replies:
        return t._(
            "Vote with the buttons under each statement, or with {usage}: only you see your "
            "vote and my answer. Others see counts by profession in the digest, never who "
            "voted what.",
            usage=vote_usage(t, prefix),
        )
    if not caps.shared_room:
        return t._(
            "Vote with {usage}: my answer comes to you alone. Others see counts by profession "
            "in the digest, never who voted what.",
            usage=vote_usage(t, prefix),
        )
    return t._(
        "Vote with {usage} in a direct conversation with me: a command written here is seen "
        "by the whole room. Others see counts by profession in the digest, never who voted "
        "what.",
        usage=vote_usage(t, prefix),
    )


class VotesBase(Cog):
    """The votes cog's name, its drafting jobs and the posting of statements."""

    name = "votes"

    def __init__(self, services: Services) -> None:
        super().__init__(services)
        db = services.db
        # A vote is on the message path like an answer: concurrent votes share their lookups
        # (three queries a batch, not four a vote) and their write (one upsert a batch).
        self._ballots: GroupReader[tuple[int, int], store.Ballot] = GroupReader(
            functools.partial(store.ballots, db)
        )
        self._casts: GroupReader[store.Choice, None] = GroupReader(self._store_votes)

    async def _store_votes(self, votes: list[store.Choice]) -> dict[store.Choice, None]:
        await store.record_votes(self.services.db, votes, now=self.services.clock.now())
        return {}

    @property
    def settings(self) -> VotesSettings:
        """The ``[votes]`` section."""
        return self.services.config.votes

    async def on_start(self) -> None:
        """Schedule the drafts of every open round this process serves."""
        for round_ in await rounds_store.rounds_with_status(
            self.services.db, rounds_store.ROUND_OPEN
        ):
            circle = await self.services.directory.circle_by_id(round_.circle_id)
            if circle is not None and self.services.platforms.serves(circle):
                self._schedule(round_)

    async def on_signal(self, signal: object) -> None:
        """A round opened: its drafts are due at the configured points."""
        if isinstance(signal, RoundOpened):
            round_ = await rounds_store.get_round(self.services.db, signal.round_id)
            if round_ is not None:
                self._schedule(round_)

    def _schedule(self, round_: Round) -> None:
        round_id = round_.id or 0
        length = round_.closes_at - round_.opened_at
        for percent in self.settings.draft_at:

            async def run(job: JobRun, percent: int = percent) -> None:
                await self.draft_round(round_id)

            at = round_.opened_at + timedelta(seconds=length.total_seconds() * percent / 100)
            at = min(at, round_.closes_at - CLOSE_LEAD)
            self.services.scheduler.add(
                draft_job(round_id, percent), once(at), run, since=round_.opened_at
            )

    # ------------------------------------------------------------ drafting

    async def draft_round(self, round_id: int) -> list[Statement]:
        """Draft statements from the round's answers so far and post them; the new ones."""
        from cogs.digest.build import round_digest  # numpy loads with the first draft

        db = self.services.db
        round_ = await rounds_store.get_round(db, round_id)
        if round_ is None or round_.status != rounds_store.ROUND_OPEN:
            return []  # closed: its digest is computed, a statement now would miss it
        circle = await self.services.directory.circle_by_id(round_.circle_id)
        if circle is None or not self.services.platforms.serves(circle):
            return []
        answers = await rounds_store.public_answers(db, round_id)
        if len({a.member_id for a in answers}) < 2:
            return []
        digest = await round_digest(db, round_, locale=circle.locale, now=self.services.clock.now())
        themes = [*digest.shared, *(d.theme for d in digest.distinctive)]
        sources = [Source(theme.quote.text, theme.quote.lang) for theme in themes]
        existing = await store.statements(db, round_id)
        drafted = [
            s
            for s in existing
            if s.source == store.SOURCE_BOT and s.status != store.STATEMENT_DROPPED
        ]
        names = await store.display_names(db, [a.member_id for a in answers])
        new = draft(
            sources,
            locale=circle.locale,
            names=names,
            existing=[s.text for s in existing],
            limit=MAX_DRAFT - len(drafted),
        )
        if len(drafted) + len(new) < MIN_DRAFT:
            self.log.info("round %s: %d statements drafted, too few to post", round_id, len(new))
            return []

        async def insert() -> list[int]:
            now = self.services.clock.now()
            ids = []
            for text in new:
                added = await store.add_statement(
                    db,
                    round_id,
                    circle.id or 0,
                    text,
                    now=now,
                    source=store.SOURCE_BOT,
                    status=store.STATEMENT_POSTED,
                )
                ids.append(added.id or 0)
            return ids

        ids = await self.services.effects.stored(
            "draft", insert, encode=json.dumps, decode=json.loads
        )
        statements = [s for i in ids if (s := await store.get_statement(db, i)) is not None]
        await self._post(circle, round_, statements, intro=True)
        return statements

    # ------------------------------------------------------------ posting

    @staticmethod
    def _where(round_: Round) -> tuple[ChannelRef, ThreadRef | None]:
        channel = ChannelRef(round_.platform, round_.channel_id)
        thread = ThreadRef(channel, round_.thread_id) if round_.thread_id else None
        return channel, thread

    def _message_of(self, round_: Round, statement: Statement) -> MessageRef | None:
        if not statement.message_id:
            return None
        channel, thread = self._where(round_)
        return MessageRef(channel, statement.message_id, thread)

    def statement_content(self, t: Translator, circle: Circle, statement: Statement) -> Content:
        """A statement as posted: its number and text, and a button per choice."""
        channel = ChannelRef(circle.platform, circle.space_id, name=circle.name)
        actions = tuple(
            Action(
                t._(label),
                ("vote",),
                (("statement", str(statement.id)), ("choice", choice)),
                channel=channel,
                style=style,
            )
            for choice, label, style in CHOICE_LABELS
        )
        number = t._("#{id}", id=statement.id)  # n°12 in French
        return Content(text=f"**{number}** {escape(statement.text)}", actions=actions)

    async def _post(
        self, circle: Circle, round_: Round, statements: Sequence[Statement], *, intro: bool
    ) -> None:
        """Post statements in the round's thread (an introduction first), once each."""
        if not statements:
            return
        t = translator(circle.locale)
        messenger = self.services.platforms.messenger(circle.platform)
        caps = self.services.platforms.get(circle.platform).capabilities
        prefix = self.services.platforms.prefix(circle.platform)
        channel, thread = self._where(round_)
        if intro:
            head = t._("🗳️ **Statements from your answers so far**: do you agree?")
            await messenger.send(channel, head + "\n" + how_to_vote(t, caps, prefix), thread=thread)
        for statement in statements:
            refs = await messenger.send(
                channel, self.statement_content(t, circle, statement), thread=thread
            )
            await store.update_statement(
                self.services.db,
                statement.id or 0,
                status=store.STATEMENT_POSTED,
                message_id=refs[0].id if refs else None,
                posted_at=self.services.clock.now(),
            )
