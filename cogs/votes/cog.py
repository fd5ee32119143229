"""Statements members vote on privately: ``/statement …`` and ``/vote``.

Members propose statements (held for a host's approval); hosts add, approve, edit and drop
them; the bot drafts some from the answers (:mod:`~cogs.votes.base`). A vote is private:
answered ephemerally where the platform can, else by direct message; one vote a member per
statement, changeable until the circle's next round opens. The digest shows where
professions agree and differ (:mod:`~cogs.votes.standing`).
"""

from __future__ import annotations

import re
from typing import Any, Final

from bot.cog import CircleContext, CommandContext, command
from bot.commands import Choice, OptionSpec, Scope, UsageError
from bot.i18n import N_, Translator, translator
from bot.messenger import escape
from bot.platform import PlatformError
from bot.types import Role
from cogs.votes.base import VotesBase, how_to_vote, vote_usage
from storage import rounds as rounds_store
from storage import votes as store
from storage.rounds import Round
from storage.votes import Statement

MAX_STATEMENT: Final = 200
#: The words a vote may be written with, in English and in French.
CHOICE_WORDS: Final[dict[str, str]] = {
    "agree": store.AGREE,
    "yes": store.AGREE,
    "oui": store.AGREE,
    "pour": store.AGREE,
    "accord": store.AGREE,
    "d'accord": store.AGREE,
    "d’accord": store.AGREE,
    "disagree": store.DISAGREE,
    "no": store.DISAGREE,
    "non": store.DISAGREE,
    "contre": store.DISAGREE,
    "désaccord": store.DISAGREE,
    "pass": store.PASS,
    "passe": store.PASS,
    "passer": store.PASS,
    "skip": store.PASS,
}
CHOICE_NAMES: Final[dict[str, str]] = {
    store.AGREE: N_("agree"),
    store.DISAGREE: N_("disagree"),
    store.PASS: N_("pass"),
}
_NUMBER: Final = re.compile(r"^#?(\d{1,9})\b\s*(.*)$", re.S)

STATEMENT_ID: Final = OptionSpec(
    "id", N_("The statement's number"), required=True, rest=True, max_length=12
)
VOTE_EXAMPLES: Final = (
    N_("Example: {prefix}vote 12 agree (or disagree, or pass)"),
    N_(
        "Nobody sees who voted what: the digest shows counts by profession, and a profession "
        "with fewer than 3 voters is counted with other professions. Where commands are "
        "written as messages in a room (Matrix), vote in a direct conversation with me: a "
        "command written in the room is seen by everyone."
    ),
)


def parse_number(raw: str) -> tuple[int, str] | None:
    """``"#12 rest"`` → ``(12, "rest")``."""
    found = _NUMBER.match(raw.strip())
    return (int(found.group(1)), found.group(2).strip()) if found else None


class VotesCog(VotesBase):
    """Statements of a round, private votes on them, and their standing in the digest."""

    # ------------------------------------------------------------ helpers

    async def _statement(self, ctx: CircleContext, raw: str) -> Statement | None:
        """The statement of this circle numbered in ``raw``; ``None`` once told why not."""
        parsed = parse_number(raw)
        found = (
            await store.get_statement(self.services.db, parsed[0]) if parsed is not None else None
        )
        if found is None or found.circle_id != ctx.circle_id:
            await ctx.reply(
                ctx.t._(
                    "There is no statement {id} here. See {command}.",
                    id=f"#{parsed[0]}" if parsed else escape(raw),
                    command=f"`{ctx.prefix}statement list`",
                ),
                private=True,
            )
            return None
        return found

    async def _round(self, statement: Statement) -> Round | None:
        return await rounds_store.get_round(self.services.db, statement.round_id)

    async def _publish(self, ctx: CircleContext, statement: Statement) -> None:
        round_ = await self._round(statement)
        if round_ is not None:
            await self._post(ctx.circle, round_, [statement], intro=False)

    # ------------------------------------------------------------ statements

    @command(
        "statement",
        "add",
        description=N_("Propose a short statement of this round for members to vote on."),
        options=[
            OptionSpec(
                "text",
                N_("One short sentence members can agree or disagree with"),
                required=True,
                rest=True,
                max_length=MAX_STATEMENT,
            )
        ],
        scope=Scope.CIRCLE,
        private=True,
    )
    async def statement_add(self, ctx: CircleContext) -> None:
        """A member's proposal waits for the hosts; a host's statement is posted at once."""
        db = self.services.db
        round_ = await rounds_store.current_round(db, ctx.circle_id)
        if round_ is None or round_.id is None:
            await ctx.reply(ctx.t._("No round is open: statements belong to a round."))
            return
        round_id = round_.id
        text = " ".join(str(ctx.options["text"]).split())
        host = ctx.is_host

        async def insert() -> int:
            added = await store.add_statement(
                db,
                round_id,
                ctx.circle_id,
                text,
                now=self.services.clock.now(),
                source=store.SOURCE_HOST if host else store.SOURCE_MEMBER,
                proposed_by=None if host else ctx.member_id,
            )
            return added.id or 0

        statement_id = await self.services.effects.stored(
            "add_statement", insert, encode=str, decode=int
        )
        statement = await store.get_statement(db, statement_id)
        if statement is None:
            return
        if not host:
            await ctx.reply(
                ctx.t._(
                    "Thank you! Your statement #{id} goes to the hosts; once approved, it is "
                    "posted in the round's thread for everyone to vote on.",
                    id=statement_id,
                )
            )
            return
        await self._publish(ctx, statement)
        await ctx.reply(
            ctx.t._("Statement #{id} is posted in the round's thread.", id=statement_id)
        )

    @command(
        "statement",
        "approve",
        description=N_("Post a statement a member proposed."),
        options=[STATEMENT_ID],
        role=Role.HOST,
        scope=Scope.CIRCLE,
        private=True,
    )
    async def statement_approve(self, ctx: CircleContext) -> None:
        """A proposal goes out to the round's thread."""
        statement = await self._statement(ctx, ctx.options["id"])
        if statement is None:
            return
        if statement.status != store.STATEMENT_PROPOSED:
            await ctx.reply(
                ctx.t._("Statement #{id} is not waiting for approval.", id=statement.id)
            )
            return
        await self._publish(ctx, statement)
        await ctx.reply(
            ctx.t._("Statement #{id} is posted in the round's thread.", id=statement.id)
        )

    @command(
        "statement",
        "drop",
        description=N_("Withdraw a statement (proposed or posted); its votes no longer count."),
        options=[STATEMENT_ID],
        role=Role.HOST,
        scope=Scope.CIRCLE,
        private=True,
    )
    async def statement_drop(self, ctx: CircleContext) -> None:
        """A dropped statement leaves the thread and the digest."""
        statement = await self._statement(ctx, ctx.options["id"])
        if statement is None:
            return
        if statement.status == store.STATEMENT_DROPPED:
            await ctx.reply(ctx.t._("Statement #{id} was already dropped.", id=statement.id))
            return
        await store.update_statement(
            self.services.db, statement.id or 0, status=store.STATEMENT_DROPPED
        )
        round_ = await self._round(statement)
        message = self._message_of(round_, statement) if round_ is not None else None
        if message is not None:
            try:
                await self.services.platforms.get(ctx.circle.platform).delete(message)
            except PlatformError:
                self.log.warning("could not delete statement %s's message", statement.id)
        await ctx.reply(ctx.t._("Statement #{id} dropped.", id=statement.id))

    @command(
        "statement",
        "edit",
        description=N_("Reword a statement before anyone votes on it."),
        options=[
            OptionSpec(
                "text",
                N_("The statement's number, then its new wording"),
                required=True,
                rest=True,
                max_length=MAX_STATEMENT + 12,
            ),
            OptionSpec("id", N_("The statement's number"), max_length=12),
        ],
        role=Role.HOST,
        scope=Scope.CIRCLE,
        private=True,
        examples=(N_("Example: {prefix}statement edit 12 Our tools isolate each profession."),),
    )
    async def statement_edit(self, ctx: CircleContext) -> None:
        """New wording, also on the posted message; refused once votes came in."""
        raw = str(ctx.options["text"])
        number: str | None = ctx.options.get("id")
        if number is None:
            parsed = parse_number(raw)
            if parsed is None or not parsed[1]:
                error = UsageError(ctx.spec, N_("Give the statement's number, then its new text."))
                await ctx.reply(error.render(ctx.t, ctx.prefix))
                return
            number, raw = str(parsed[0]), parsed[1]
        text = " ".join(raw.split())[:MAX_STATEMENT]
        statement = await self._statement(ctx, number)
        if statement is None:
            return
        db = self.services.db
        if statement.status == store.STATEMENT_POSTED and await store.vote_count(
            db, statement.id or 0
        ):
            await ctx.reply(
                ctx.t._(
                    "Members have voted on #{id} already: drop it and add a new statement "
                    "instead, so no vote counts for words it was not given to.",
                    id=statement.id,
                )
            )
            return
        await store.update_statement(db, statement.id or 0, text=text)
        statement.text = text
        round_ = await self._round(statement)
        message = self._message_of(round_, statement) if round_ is not None else None
        if message is not None and statement.status == store.STATEMENT_POSTED:
            content = self.statement_content(translator(ctx.circle.locale), ctx.circle, statement)
            await self.services.platforms.get(ctx.circle.platform).edit(message, content)
        await ctx.reply(
            ctx.t._("Statement #{id} now reads: “{text}”", id=statement.id, text=escape(text))
        )

    @command(
        "statement",
        "list",
        description=N_("Show this round's statements and your votes (hosts: proposals too)."),
        scope=Scope.CIRCLE,
        private=True,
    )
    async def statement_list(self, ctx: CircleContext) -> None:
        """The latest round's statements, the member's own vote on each."""
        db = self.services.db
        round_ = await rounds_store.latest_round(db, ctx.circle_id)
        found = await store.statements(db, round_.id or 0) if round_ is not None else []
        posted = [s for s in found if s.status == store.STATEMENT_POSTED]
        waiting = [s for s in found if s.status == store.STATEMENT_PROPOSED] if ctx.is_host else []
        t = ctx.t
        if not posted and not waiting:
            await ctx.reply(t._("This round has no statement to vote on yet."))
            return
        lines = [t._("**Statements of this round**")]
        for s in posted:
            vote = await store.vote_of(db, s.id or 0, ctx.member_id)
            mine = t._(CHOICE_NAMES[vote.choice]) if vote is not None else t._("not voted")
            lines.append(f"`#{s.id}` {escape(s.text)} — _{mine}_")
        if posted:
            lines.append(how_to_vote(t, ctx.platform.capabilities, ctx.prefix))
        if waiting:
            lines += [
                "",
                t._(
                    "**Waiting for a host** ({approve}, {edit} or {drop})",
                    approve=f"`{ctx.prefix}statement approve`",
                    edit=f"`{ctx.prefix}statement edit`",
                    drop=f"`{ctx.prefix}statement drop`",
                ),
            ]
            lines += [f"`#{s.id}` {escape(s.text)}" for s in waiting]
        await ctx.reply("\n".join(lines))

    # ------------------------------------------------------------ votes

    @command(
        "vote",
        description=N_("Vote privately on a statement: agree, disagree or pass."),
        options=[
            OptionSpec(
                "statement",
                N_("The statement's number (then agree, disagree or pass)"),
                required=True,
                rest=True,
                max_length=40,
            ),
            OptionSpec(
                "choice",
                N_("agree, disagree or pass"),
                choices=tuple(Choice(c, CHOICE_NAMES[c]) for c in store.CHOICES),
                placeholder=N_("agree|disagree|pass"),  # pour|contre|passe in French
            ),
        ],
        private=True,
        examples=VOTE_EXAMPLES,
    )
    async def vote(self, ctx: CommandContext) -> None:
        """Store the member's vote (once, changeable) and confirm it to them alone."""
        t = ctx.t
        parsed = parse_number(str(ctx.options["statement"]))
        word = (ctx.options.get("choice") or (parsed[1] if parsed else "")).strip().lower()
        choice = CHOICE_WORDS.get(word)
        if parsed is None or choice is None:
            error = UsageError(
                ctx.spec, N_("Give the statement's number, then agree, disagree or pass.")
            )
            await ctx.reply(error.render(t, ctx.prefix))
            return
        found = await self._ballots.get((parsed[0], ctx.member_id))
        if (
            found is None
            or found.statement.status != store.STATEMENT_POSTED
            or found.round.platform != ctx.user.platform
            or (ctx.circle is not None and ctx.circle.id != found.statement.circle_id)
        ):
            await ctx.reply(t._("There is no statement #{id} open to votes.", id=parsed[0]))
            return
        statement, before = found.statement, found.previous
        if found.latest_round_id != found.round.id:
            await ctx.reply(
                t._(
                    "Votes on #{id} are closed: the circle has moved on to a new round.",
                    id=parsed[0],
                )
            )
            return
        # No ledger record needed: storing the same vote again (a replay) changes nothing,
        # and an older one never replaces a newer one (see store.record_votes). Awaited
        # until committed, with the votes that came meanwhile.
        await self._casts.get(
            store.Choice(
                statement.id or 0, ctx.member_id, choice, found.profession, ctx.invocation.at
            )
        )
        await ctx.reply(self._confirmation(t, ctx, statement, choice, before))

    def _confirmation(
        self,
        t: Translator,
        ctx: CommandContext,
        statement: Statement,
        choice: str,
        before: store.Vote | None,
    ) -> str:
        name = t._(CHOICE_NAMES[choice])
        if before is not None and before.choice != choice:
            said = t._(
                "Your vote on #{id} is now: {choice} (it was: {before}).",
                id=statement.id,
                choice=name,
                before=t._(CHOICE_NAMES[before.choice]),
            )
        else:
            said = t._("Your vote on #{id} is recorded: {choice}.", id=statement.id, choice=name)
        lines = [
            f"{said} {t._('“{theme}”', theme=escape(statement.text))}",  # « » in French
            t._("You can change it until the next round opens. Nobody sees who voted what."),
        ]
        caps = ctx.platform.capabilities
        if caps.shared_room and not caps.ephemeral_replies and not ctx.channel.direct:
            lines.append(
                t._(
                    "This room saw your command: next time, vote in a direct conversation "
                    "with me ({usage}).",
                    usage=vote_usage(t, ctx.prefix),
                )
            )
        return "\n".join(lines)

    # ------------------------------------------------------------ member data

    async def export_member_data(self, member_id: int) -> dict[str, Any]:
        """The member's votes (with each statement) and the statements they proposed."""
        return await store.member_data(self.services.db, member_id)

    async def erase_member_data(self, member_id: int) -> None:
        """Forget the member's votes and their proposed statements, posted ones taken off
        the platform first (their words are theirs).

        Raises:
            PlatformError: A posted statement of theirs could not be deleted; nothing is
                erased, so erasing again retries it.
        """
        db = self.services.db
        for statement in await store.statements_proposed_by(db, member_id):
            round_ = await self._round(statement)
            message = self._message_of(round_, statement) if round_ is not None else None
            circle = await self.services.directory.circle_by_id(statement.circle_id)
            if message is None or circle is None or not self.services.platforms.serves(circle):
                continue
            await self.services.platforms.get(circle.platform).delete(message)
        await store.erase_member(db, member_id)
