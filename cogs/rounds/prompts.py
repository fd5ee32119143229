"""The circle's question bank: ``/prompt add|list|remove|next|skip|now`` for hosts, and the
members' suggestions (``/prompt suggest``) that hosts approve or reject.

The bank rotates least-used first: posting or skipping a question counts one use, so no
question is asked twice before every other one has been asked.
"""

from __future__ import annotations

from typing import Any, Final

from bot.cog import CircleContext, Context, command
from bot.commands import Choice, CommandSpec, OptionSpec, OptionType, Scope
from bot.i18n import N_
from bot.messenger import escape
from bot.types import Role
from cogs.rounds.bank import MAX_SUBS, render
from cogs.rounds.lifecycle import LifecycleMixin
from cogs.rounds.shared import empty_bank, when
from storage import rounds as store
from storage.rounds import Prompt

MAX_PROMPT: Final = 1000
MAX_SUB: Final = 200
QUESTION_ID: Final = OptionSpec(
    "id", N_("The question's number"), OptionType.INTEGER, required=True, min_value=1
)
SUGGESTION_ID: Final = OptionSpec(
    "id", N_("The suggestion's number"), OptionType.INTEGER, required=True, min_value=1
)


class PromptsMixin(LifecycleMixin):
    """The question bank and the suggestions queue (``/prompt now`` opens a round)."""

    async def _add_prompt(self, ctx: CircleContext, subs: list[str], **extra: Any) -> int:
        """Store the question of ``ctx``'s text option; its id (once per command, see effects)."""
        prompt = await store.add_prompt(
            self.services.db,
            ctx.circle_id,
            ctx.options["text"],
            subs,
            now=self.services.clock.now(),
            **extra,
        )
        assert prompt.id is not None
        return prompt.id

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
    async def prompt_add(self, ctx: CircleContext) -> None:
        """Add a prompt written by a host."""
        subs = [ctx.options[f"sub{i}"] for i in range(1, MAX_SUBS + 1) if ctx.options[f"sub{i}"]]
        prompt_id = await self.services.effects.stored(
            "add_prompt",
            lambda: self._add_prompt(ctx, subs),
            encode=str,
            decode=int,
        )
        await ctx.reply(ctx.t._("Question #{id} added to the bank.", id=prompt_id))

    @command(
        "prompt",
        "list",
        description=N_("Show the circle's question bank, next first."),
        role=Role.HOST,
        scope=Scope.CIRCLE,
        private=True,
    )
    async def prompt_list(self, ctx: CircleContext) -> None:
        """List the active bank in rotation order."""
        bank = await store.prompts(self.services.db, ctx.circle_id)
        if not bank:
            await ctx.reply(empty_bank(ctx))
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
    async def prompt_remove(self, ctx: CircleContext) -> None:
        """Take a prompt out of rotation."""
        await self._move(
            ctx,
            store.PROMPT_ACTIVE,
            store.PROMPT_REMOVED,
            N_("Question #{id} removed from the bank."),
        )

    async def _move(
        self, ctx: CircleContext, source: str, target: str, done: str, *, private: bool = False
    ) -> None:
        """Move the prompt named by the ``id`` option from one status to another."""
        prompt = await self._prompt_or_say(ctx, source)
        if prompt is not None:
            await store.set_prompt_status(self.services.db, prompt.id or 0, target)
            await ctx.reply(ctx.t._(done, id=prompt.id), private=private)

    async def _prompt_or_say(self, ctx: CircleContext, status: str) -> Prompt | None:
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
    async def prompt_next(self, ctx: CircleContext) -> None:
        """What comes next and when."""
        await ctx.reply(await self._next_text(ctx))

    @command(
        "prompt",
        "skip",
        description=N_("Skip the next question in the rotation."),
        role=Role.HOST,
        scope=Scope.CIRCLE,
    )
    async def prompt_skip(self, ctx: CircleContext) -> None:
        """Move the next prompt to the back of the rotation."""
        bank = await store.prompts(self.services.db, ctx.circle_id)
        if not bank:
            await ctx.reply(empty_bank(ctx))
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
    async def prompt_now(self, ctx: CircleContext) -> None:
        """Open a round immediately (unless one is open)."""
        # Marked before anything else: a replay of this command (the bot died while it ran)
        # finds the round it opened itself, which is not "a round still open" to the host
        # (its post, if unfinished, is completed at start).
        first = await self.services.effects.once("prompt-now", _first, encode=_mark, decode=_again)
        current = await store.current_round(self.services.db, ctx.circle_id)
        if current is not None:
            if not first:
                return
            await ctx.reply(
                ctx.t._(
                    "Round #{n} is still open until {when}.",
                    n=current.number,
                    when=when(ctx.t, ctx.circle, current.closes_at),
                ),
                private=True,
            )
            return
        opened = await self.open_round(ctx.circle_id, scheduled_for=self.services.clock.now())
        if opened is None:
            await ctx.reply(
                empty_bank(ctx),
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
    async def prompt_suggest(self, ctx: CircleContext) -> None:
        """Queue a member's suggestion for the hosts."""
        prompt_id = await self.services.effects.stored(
            "suggest_prompt",
            lambda: self._add_prompt(
                ctx, [], status=store.PROMPT_SUGGESTED, suggested_by=ctx.member_id
            ),
            encode=str,
            decode=int,
        )
        await ctx.reply(
            ctx.t._("Thank you! Your suggestion #{id} goes to the hosts.", id=prompt_id)
        )

    @command(
        "prompt",
        "suggestions",
        description=N_("Show the questions members suggested."),
        role=Role.HOST,
        scope=Scope.CIRCLE,
        private=True,
    )
    async def prompt_suggestions(self, ctx: CircleContext) -> None:
        """The suggestions queue."""
        queue = await store.prompts(self.services.db, ctx.circle_id, store.PROMPT_SUGGESTED)
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
    async def prompt_approve(self, ctx: CircleContext) -> None:
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
    async def prompt_reject(self, ctx: CircleContext) -> None:
        """Decline a suggestion."""
        await self._move(
            ctx,
            store.PROMPT_SUGGESTED,
            store.PROMPT_REJECTED,
            N_("Suggestion #{id} declined."),
            private=True,
        )

    # ------------------------------------------------------------ autocomplete

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


async def _first() -> bool:
    return True


def _mark(_first: bool) -> str:
    return "1"


def _again(_raw: str) -> bool:
    return False
