"""The digest of each round, posted in the circle's channel once the round closes.

Exactly once: the digest row (unique per round) is claimed before anything is posted, so a
duplicate signal, a restart or a second instance posts nothing more; a digest claimed but
never posted (the bot stopped in between) is posted at the next start.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
from datetime import timedelta
from typing import Any, Final

from bot.cog import CircleContext, Cog, CommandContext, Services, command
from bot.commands import Choice, OptionSpec, OptionType, Scope, UsageError
from bot.i18n import N_, Translator, translator
from bot.platform import PlatformError
from bot.types import Attachment, ChannelRef, Content, MessageRef, Role
from cogs.digest import render, result, votes
from cogs.digest.embedding import Embeddings
from cogs.digest.hosts import HostNotes, follow_up_text, with_fairness
from cogs.rounds.signals import AnswerStored, RoundClosed
from storage import digest as store
from storage import rounds as rounds_store
from storage.models import Circle
from storage.rounds import Round

#: After a start, the open rounds' answers still without vectors are embedded this soon.
EMBED_RESUME: Final = timedelta(seconds=5)
#: How long a stop waits for a running embedding to finish its chunk and store it (seconds).
STOP_WAIT: Final = 1.0
#: ``round:<n>`` of ``/digest now`` and ``/digest export``; unset: the last closed round.
ROUND_OPTION: Final = OptionSpec(
    "round", N_("The round's number (default: the last closed round)"), OptionType.INTEGER
)


class DigestCog(Cog):
    """Posts, previews and exports the digests of the circle's rounds."""

    name = "digest"

    def __init__(self, services: Services) -> None:
        super().__init__(services)
        self._posting: set[int] = set()
        #: Set at stop: embeddings end after their current chunk (see ``build.embed_round``).
        self._stopping = asyncio.Event()
        self._embeddings = Embeddings(services, self._stopping)
        self._hosts = HostNotes(services, self.log)

    async def on_start(self) -> None:
        """Post digests claimed before a stop but never posted; resume embedding open rounds."""
        db = self.services.db
        for record in await store.pending(db):
            await self.post_digest(record.round_id)
        due = self.services.clock.now() + EMBED_RESUME
        for round_ in await rounds_store.rounds_with_status(db, rounds_store.ROUND_OPEN):
            circle = await self.services.directory.circle_by_id(round_.circle_id)
            if (
                round_.id is not None
                and circle is not None
                and self.services.platforms.serves(circle)
            ):
                self._embeddings.at(round_.id, due)

    async def on_stop(self) -> None:
        """Let a running embedding store its current chunk and end, for a bounded time."""
        self._stopping.set()
        try:
            async with asyncio.timeout(STOP_WAIT):
                await self._embeddings.idle.wait()
        except TimeoutError:
            self.log.warning("digest work still running after %.1f s: abandoned", STOP_WAIT)

    async def on_signal(self, signal: object) -> None:
        """A round closed: its digest is due. Answers arrive: embed them soon, in batches."""
        if isinstance(signal, RoundClosed):
            from cogs.digest.build import Stopped  # numpy loads with the first digest

            with contextlib.suppress(Stopped):  # left pending: posted at the next start
                await self.post_digest(signal.round_id)
        elif isinstance(signal, AnswerStored):
            self._embeddings.soon(signal.round_id)

    # ------------------------------------------------------------ the digest

    async def compute(self, round_: Round, circle: Circle) -> result.Digest:
        """Analyse a round (embeddings cached in storage for the next time), read its votes.

        Raises:
            Stopped: The bot is stopping (the vectors computed so far are stored).
        """
        from cogs.digest.build import round_digest  # numpy loads with the first digest

        async with self._embeddings.round(round_.id or 0):
            digest = await round_digest(
                self.services.db,
                round_,
                locale=circle.locale,
                now=self.services.clock.now(),
                stop=self._stopping,
                min_group=self.services.config.digest.min_profession_size,
            )
        return await votes.with_votes(self.services.db, digest, round_, self.services.config)

    def _title(self, t: Translator, round_: Round) -> str:
        return render.title(t, round_.number)

    def _day(self, t: Translator, round_: Round, circle: Circle) -> str:
        """The day a round's digest is about: its close (now, while it is open)."""
        return render.long_date(t, round_.closed_at or self.services.clock.now(), circle.timezone)

    async def _render(
        self, digest: result.Digest, circle: Circle, round_: Round
    ) -> tuple[str, bytes, list[Content]]:
        t = translator(circle.locale)
        caps = self.services.platforms.get(circle.platform).capabilities
        title = self._title(t, round_)
        chart = await asyncio.to_thread(
            render.chart_png, digest, t, number=round_.number, day=self._day(t, round_, circle)
        )
        text = render.markdown(digest, t, title=title)
        messages = render.contents(digest, t, caps, title=title, chart=chart)
        return text, chart, messages

    async def post_digest(self, round_id: int) -> bool:
        """Post a closed round's digest once; ``False`` if it was posted already."""
        db = self.services.db
        if round_id in self._posting:
            return False
        round_ = await rounds_store.get_round(db, round_id)
        if round_ is None:
            return False
        circle = await self.services.directory.circle_by_id(round_.circle_id)
        if circle is None or not self.services.platforms.serves(circle):
            return False
        now = self.services.clock.now()
        self._posting.add(round_id)
        try:
            if not await store.claim(db, round_id, circle.id or 0, now=now):
                existing = await store.get(db, round_id)
                if existing is None or existing.status == store.DIGEST_POSTED:
                    return False
            record = await store.get(db, round_id)
            assert record is not None
            digest = await self.compute(round_, circle)
            text, chart, messages = await self._render(digest, circle, round_)
            record.locale = circle.locale
            record.data = json.dumps(digest.as_dict(), ensure_ascii=False)
            record.markdown = text
            record.chart = chart
            record = await store.save(db, record)
            messenger = self.services.platforms.messenger(circle.platform)
            channel = ChannelRef(circle.platform, circle.space_id, name=circle.name)
            refs = []
            for message in messages:
                refs += await messenger.send(channel, message)
            record.status = store.DIGEST_POSTED
            record.posted_at = self.services.clock.now()
            record.message_ids = json.dumps([r.id for r in refs])
            await store.save(db, record)
            await self._hosts.tell(circle, round_, digest)
            return True
        finally:
            self._posting.discard(round_id)

    # ------------------------------------------------------------ commands

    async def _latest(self, ctx: CircleContext) -> Round | None:
        round_ = await rounds_store.latest_round(self.services.db, ctx.circle_id)
        if round_ is None:
            await ctx.reply(ctx.t._("There is no round to digest yet."), private=True)
        return round_

    async def _chosen(self, ctx: CircleContext) -> Round | None:
        """The round of ``round:<n>``, else the last closed one; ``None`` once told why not."""
        db = self.services.db
        number = ctx.options.get("round")
        latest = await rounds_store.latest_round(db, ctx.circle_id)
        if latest is None:
            await ctx.reply(ctx.t._("There is no round to digest yet."), private=True)
            return None
        if number is not None:
            round_ = await store.round_numbered(db, ctx.circle_id, int(number))
            if round_ is None:
                problem = UsageError(
                    ctx.spec,
                    N_("There is no round #{n} in this circle: its rounds go from #1 to #{last}."),
                    n=number,
                    last=latest.number,
                )
                await ctx.reply(problem.render(ctx.t, ctx.prefix), private=True)
            return round_
        round_ = await store.last_closed_round(db, ctx.circle_id)
        if round_ is None:
            await ctx.reply(
                ctx.t._(
                    "No round has closed yet. Round #{n} is still open: {command} gives its "
                    "interim digest.",
                    n=latest.number,
                    command=f"`{ctx.prefix}{ctx.spec.qualified_name} round:{latest.number}`",
                ),
                private=True,
            )
        return round_

    @command(
        "digest",
        "preview",
        description=N_("Preview the digest of the current round (only you see it)."),
        role=Role.HOST,
        scope=Scope.CIRCLE,
        private=True,
        slow=True,
    )
    async def preview(self, ctx: CircleContext) -> None:
        """The digest as it would be posted now, privately."""
        round_ = await self._latest(ctx)
        if round_ is None:
            return
        digest = await self.compute(round_, ctx.circle)
        _, _, messages = await self._render(digest, ctx.circle, round_)
        for message in messages:
            await ctx.reply(message)
        question = render.follow_up_question(digest, ctx.t)
        hint = render.host_hint(question, ctx.t, prefix=ctx.prefix)
        await ctx.reply(with_fairness(hint, digest, ctx.t))

    @command(
        "digest",
        "now",
        description=N_("Post the digest of the last closed round (or of round:<n>) now."),
        options=[ROUND_OPTION],
        role=Role.HOST,
        scope=Scope.CIRCLE,
        slow=True,
    )
    async def now(self, ctx: CircleContext) -> None:
        """Closed round: its digest, once. Open round (``round:<n>``): an interim digest."""
        round_ = await self._chosen(ctx)
        if round_ is None:
            return
        if round_.status == rounds_store.ROUND_CLOSED:
            if not await self.post_digest(round_.id or 0):
                await ctx.reply(
                    ctx.t._("The digest of round #{n} was already posted.", n=round_.number),
                    private=True,
                )
                return
            record = await store.get(self.services.db, round_.id or 0)
            if record is not None and record.data:
                digest = result.from_dict(json.loads(record.data))
                await self._hint(ctx, digest, round_)
            return
        digest = await self.compute(round_, ctx.circle)
        _, _, messages = await self._render(digest, ctx.circle, round_)
        channel = ChannelRef(ctx.circle.platform, ctx.circle.space_id, name=ctx.circle.name)
        await ctx.messenger.send(
            channel, ctx.t._("Interim digest: round #{n} is still open.", n=round_.number)
        )
        for message in messages:
            await ctx.messenger.send(channel, message)
        await self._hint(ctx, digest, None)

    async def _hint(self, ctx: CircleContext, digest: result.Digest, closed: Round | None) -> None:
        """Tell the host who posted a digest, privately, what to do with its follow-up."""
        question = render.follow_up_question(digest, ctx.t)
        queued = None
        if closed is not None:
            for prompt in await rounds_store.prompts(
                self.services.db, ctx.circle_id, rounds_store.PROMPT_SUGGESTED
            ):
                if prompt.text == question:
                    queued = prompt.id
        if queued:
            assert closed is not None
            text = follow_up_text(ctx.t, closed, queued, question, ctx.prefix)
        else:
            text = render.host_hint(question, ctx.t, prefix=ctx.prefix)
        await ctx.reply(with_fairness(text, digest, ctx.t), private=True)

    @command(
        "digest",
        "export",
        description=N_("Get the digest of the last closed round (or of round:<n>) as a file."),
        options=[
            OptionSpec(
                "format",
                N_("md, json or csv"),
                choices=(
                    Choice("md", N_("Markdown")),
                    Choice("json", N_("JSON")),
                    Choice("csv", N_("CSV")),
                ),
            ),
            ROUND_OPTION,
        ],
        role=Role.HOST,
        scope=Scope.CIRCLE,
        private=True,
        slow=True,
    )
    async def export(self, ctx: CircleContext) -> None:
        """A round's digest (as stored when posted, else computed now) as an attachment."""
        round_ = await self._chosen(ctx)
        if round_ is None:
            return
        fmt = ctx.options.get("format") or "md"
        record = await store.get(self.services.db, round_.id or 0)
        if record is not None and record.data:
            digest = result.from_dict(json.loads(record.data))
        else:
            digest = await self.compute(round_, ctx.circle)
        t = ctx.t
        stem = f"digest-{round_.number}"
        if fmt == "json":
            data = json.dumps(render.as_json(digest, t), ensure_ascii=False, indent=2)
            file = Attachment(f"{stem}.json", data.encode(), "application/json")
        elif fmt == "csv":
            file = Attachment(f"{stem}.csv", render.as_csv(digest, t).encode(), "text/csv")
        else:
            text = render.markdown(digest, t, title=self._title(t, round_))
            file = Attachment(f"{stem}.md", text.encode(), "text/markdown")
        said = (
            t._("The digest of round #{n}, as a file.", n=round_.number)
            if round_.status == rounds_store.ROUND_CLOSED
            else t._("The interim digest of round #{n} (still open), as a file.", n=round_.number)
        )
        await ctx.reply(Content(text=said, attachments=(file,)))

    # ------------------------------------------------------------ member data

    async def _records_quoting(self, member_id: int) -> list[store.DigestRecord]:
        return await store.containing(self.services.db, f'"author": "member:{member_id}"')

    @command(
        "digest",
        "credit",
        description=N_("Choose to be named next to your quotes, or credited by profession only."),
        options=[
            OptionSpec(
                "named",
                N_("yes: your name with your profession; no: profession only"),
                OptionType.BOOLEAN,
                required=True,
            )
        ],
        private=True,
    )
    async def credit(self, ctx: CommandContext) -> None:
        """Opt in or out of being named in future digests (profession only by default)."""
        named = bool(ctx.options["named"])
        await store.set_named(
            self.services.db,
            ctx.member_id,
            ctx.user.label if named else None,
            now=self.services.clock.now(),
        )
        await ctx.reply(
            ctx.t._("From the next digest on, your quotes show your name and your profession.")
            if named
            else ctx.t._("Your quotes are credited by profession only.")
        )

    async def export_member_data(self, member_id: int) -> dict[str, Any]:
        """The member's sentences quoted in stored digests, and whether they chose to be named."""
        who = f"member:{member_id}"
        quotes = []
        for record in await self._records_quoting(member_id):
            digest = result.from_dict(json.loads(record.data))
            quotes += [
                {"round_id": record.round_id, "text": q.text}
                for q in _quotes(digest)
                if q.author == who
            ]
        named = (await store.named_members(self.services.db)).get(member_id)
        return {"digest_quotes": quotes, "named_in_quotes_as": named}

    async def erase_member_data(self, member_id: int) -> None:
        """Take the member's quotes out of stored digests and of the digests posted on the
        platform (their vectors go with the answers); forget their choice about being named.

        Raises:
            PlatformError: A posted digest could be neither edited nor deleted; that digest
                is left as it was, so erasing again retries it.
        """
        db = self.services.db
        await store.forget_named(db, member_id)
        who = f"member:{member_id}"
        for record in await self._records_quoting(member_id):
            digest = _without_author(result.from_dict(json.loads(record.data)), who)
            t = translator(record.locale)
            round_ = await rounds_store.get_round(db, record.round_id)
            title = self._title(t, round_) if round_ is not None else t._("Digest")
            circle = await self.services.directory.circle_by_id(record.circle_id)
            here = circle if circle is not None and self.services.platforms.serves(circle) else None
            if record.status == store.DIGEST_POSTED and here is None:
                self.log.warning("digest %s is posted where this process cannot edit", record.id)
            elif record.status == store.DIGEST_POSTED and here is not None:
                ids = await self._amend_posted(record, digest, here, t, title)
                record.message_ids = json.dumps(ids)
            record.data = json.dumps(digest.as_dict(), ensure_ascii=False)
            record.markdown = render.markdown(digest, t, title=title)
            await store.save(db, record)

    async def _amend_posted(
        self,
        record: store.DigestRecord,
        digest: result.Digest,
        circle: Circle,
        t: Translator,
        title: str,
    ) -> list[str]:
        """Edit a posted digest's messages into ``digest``; delete those it no longer needs or
        that cannot be edited. Returns the ids of the messages that carry it now."""
        platform = self.services.platforms.get(circle.platform)
        messenger = self.services.platforms.messenger(circle.platform)
        contents = render.contents(
            digest, t, platform.capabilities, title=title, chart=record.chart
        )
        parts = [part for content in contents for part in messenger.prepare(content)]
        channel = ChannelRef(circle.platform, circle.space_id, name=circle.name)
        posted = [MessageRef(channel, str(i)) for i in json.loads(record.message_ids or "[]")]
        kept: list[str] = []
        for index, message in enumerate(posted):
            if index < len(parts):
                try:
                    await platform.edit(message, parts[index])
                    kept.append(message.id)
                    continue
                except PlatformError:
                    self.log.warning("could not edit digest message %s", message.id, exc_info=True)
            await platform.delete(message)
        if posted:  # shorter text can still need one message more (cut between entries)
            for part in parts[len(posted) :]:
                kept.append((await platform.send(channel, part)).id)
        return kept


def _quotes(d: result.Digest) -> list[result.Quote]:
    return [
        *(t.quote for t in d.shared),
        *(x.theme.quote for x in d.distinctive),
        *(t.quote for s in d.sub_questions for t in s.themes),
        *(a.quote for a in d.agreement),
    ]


def _without_author(d: result.Digest, who: str) -> result.Digest:
    """The digest with every quote of one author blanked (its counts stay: they are anonymous)."""

    def clean(q: result.Quote) -> result.Quote:
        return result.Quote("", q.lang, "", "", "", "") if q.author == who else q

    def theme(t: result.Theme) -> result.Theme:
        return dataclasses.replace(t, quote=clean(t.quote))

    return dataclasses.replace(
        votes.without_author(d, who),
        shared=tuple(theme(t) for t in d.shared),
        distinctive=tuple(dataclasses.replace(x, theme=theme(x.theme)) for x in d.distinctive),
        sub_questions=tuple(
            dataclasses.replace(s, themes=tuple(theme(t) for t in s.themes))
            for s in d.sub_questions
        ),
        agreement=tuple(
            dataclasses.replace(a, quote=clean(a.quote))
            for a in d.agreement
            if a.quote.author != who
        ),
        quoted=(),
    )
