"""``/profession``: members say what they do in their own words; hosts settle the unknown ones.

A wording the vocabulary recognises confidently is grouped under its canonical profession and
kept for display; a close but unsure one gets suggestions (nothing changes until the member
picks); an unknown one counts as "other" and waits in ``/profession proposals`` until a host
accepts it (``/profession add``) or groups it under an existing profession
(``/profession merge``). Every change is announced with :class:`ProfessionChanged`.
"""

from __future__ import annotations

from typing import Any, Final

from bot.cog import CircleContext, Cog, CommandContext, Context, command
from bot.commands import Choice, CommandSpec, OptionSpec, OptionType, Scope
from bot.i18n import N_, Translator, local_name
from bot.messenger import escape
from bot.types import Role
from cogs.professions import matching, vocabulary
from cogs.professions.matching import Confidence, Match
from cogs.professions.tags import (
    ProfessionChanged,
    ProfessionTag,
    custom_key,
    profession_of,
    tag_for_key,
)
from cogs.professions.vocabulary import normalize
from storage import professions as store
from storage.professions import (
    MAX_LABEL,
    MAX_WORDING,
    OTHER_KEY,
    PROPOSAL_ACCEPTED,
    PROPOSAL_MERGED,
    PROPOSAL_PENDING,
    MemberProfession,
    ProfessionProposal,
)

#: How many suggestions an unsure match offers.
SUGGESTIONS: Final = 3
MAX_CHOICE: Final = 120


def _clean(text: str | None) -> str:
    """Member text on one line, without control characters."""
    return " ".join("".join(c for c in (text or "") if c.isprintable() or c.isspace()).split())


def _label(key: str, locale: str) -> str:
    """A profession's label, ready for Markdown (custom labels are member text)."""
    tag = tag_for_key(key)
    return escape(tag.label(locale)) if tag.is_custom else tag.label(locale)


def _as_value(key: str) -> str:
    """How a member writes this profession in ``as:`` or ``into:``."""
    if " " not in key:
        return key
    return '"' + tag_for_key(key).label("fr").replace('"', "'") + '"'


class ProfessionsCog(Cog):
    """Members' professions, matched against a bilingual vocabulary; hosts settle proposals."""

    name = "professions"

    # ------------------------------------------------------------ member commands

    @command(
        "profession",
        "set",
        description=N_("Say what your profession is, in your own words."),
        options=[
            OptionSpec(
                "name",
                N_("Your profession, as you would say it"),
                required=True,
                rest=True,
                max_length=MAX_WORDING,
                autocomplete=True,
            ),
            OptionSpec(
                "as",
                N_("The profession it belongs to, when I was unsure (or: other)"),
                max_length=MAX_CHOICE,
                autocomplete=True,
            ),
        ],
        scope=Scope.CIRCLE,
        private=True,
        examples=(N_("Example: {prefix}profession set infirmière libérale"),),
    )
    async def set_profession(self, ctx: CircleContext) -> None:
        """Match the member's wording and store it, suggest, or propose it to the hosts."""
        t = ctx.t
        wording = _clean(ctx.options["name"])
        if not normalize(wording):
            await ctx.reply(
                t._(
                    "Tell me your profession in a few words, for example {example}.",
                    example=f"`{ctx.prefix}profession set infirmière`",
                )
            )
            return
        extra = await self._circle_names(ctx.circle_id)
        chosen = _clean(ctx.options["as"])
        if chosen:
            key = self._resolve_choice(chosen, extra, allow_other=True)
            if key is None:
                await ctx.reply(
                    t._(
                        "I do not know the profession “{profession}”. Pick one of the "
                        "suggestions, or use {other} to propose your wording to the hosts.",
                        profession=escape(chosen),
                        other=_other(t),
                    )
                )
                return
        else:
            resolution = matching.resolve(wording, extra)
            if resolution.confidence is Confidence.UNSURE:
                await ctx.reply(self._unsure(t, ctx.prefix, wording, resolution.matches))
                return
            best = resolution.best
            known = resolution.confidence is Confidence.CONFIDENT and best is not None
            key = best.key if known and best is not None else OTHER_KEY
        tag = await self._store(ctx, key, wording)
        if tag.is_other:
            await ctx.reply(
                t._(
                    "I do not know “{wording}” yet, so I have passed it on to the hosts. "
                    "Until one of them accepts it, it counts as “{other}”.",
                    wording=escape(wording),
                    other=tag.label(t.locale),
                )
            )
            return
        await ctx.reply(self._yours(t, tag))

    @command(
        "profession",
        "me",
        description=N_("Show the profession I have for you."),
        private=True,
    )
    async def me(self, ctx: CommandContext) -> None:
        """What is stored about the member's profession."""
        t = ctx.t
        tag = await profession_of(self.services.db, ctx.member_id)
        if tag is None:
            await ctx.reply(
                t._(
                    "You have not told me your profession yet: {command}",
                    command=f"`{ctx.prefix}profession set`",
                )
            )
            return
        lines = [self._yours(t, tag)]
        if tag.is_other:
            lines.append(
                t._("It counts as “{other}” until a host accepts it.", other=tag.label(t.locale))
            )
        await ctx.reply("\n".join(lines))

    # ------------------------------------------------------------ host commands

    @command(
        "profession",
        "proposals",
        description=N_("List the professions members proposed that wait for a host."),
        role=Role.HOST,
        scope=Scope.CIRCLE,
        private=True,
    )
    async def proposals(self, ctx: CircleContext) -> None:
        """Pending proposals, one line per wording, with the closest known profession."""
        t = ctx.t
        groups = self._group(await store.proposals(self.services.db, ctx.circle_id))
        if not groups:
            await ctx.reply(t._("No proposal is waiting."))
            return
        extra = await self._circle_names(ctx.circle_id)
        lines = [t._("Proposals waiting for a host:")]
        for group in groups:
            first = group[0]
            line = f"• #{first.id} “{escape(first.wording)}”"
            if len(group) > 1:
                line += " " + t.ngettext("({n} member)", "({n} members)", len(group))
            closest = matching.rank(first.wording, extra, limit=1)
            if closest and closest[0].score >= matching.SUGGEST:
                line += " — " + t._(
                    "closest: {profession}", profession=self._suggestion(t, closest[0], "into")
                )
            lines.append(line)
        lines.append("")
        lines.append(
            t._(
                "Accept one as a new profession with {add}, or group it under an existing "
                "one with {merge}.",
                add=f"`{ctx.prefix}profession add <n>`",
                merge=f"`{ctx.prefix}profession merge <n> {local_name('into', t.locale)}:<…>`",
            )
        )
        await ctx.reply("\n".join(lines))

    @command(
        "profession",
        "add",
        description=N_("Accept a proposal as a new profession of this circle."),
        options=[
            OptionSpec(
                "id",
                N_("The number of the proposal"),
                OptionType.INTEGER,
                required=True,
                min_value=1,
            ),
            OptionSpec(
                "label",
                N_("The profession's name (the proposed wording if left out)"),
                rest=True,
                max_length=MAX_LABEL,
            ),
        ],
        role=Role.HOST,
        scope=Scope.CIRCLE,
        private=True,
    )
    async def add(self, ctx: CircleContext) -> None:
        """Create a custom profession from a proposal; its proposers get it."""
        t = ctx.t
        proposal = await self._pending(ctx)
        if proposal is None:
            return
        label = _clean(ctx.options["label"]) or proposal.wording[:1].upper() + proposal.wording[1:]
        if not normalize(label):
            await ctx.reply(t._("Give the new profession a name made of words."))
            return
        known = matching.resolve(label)
        if known.confidence is Confidence.CONFIDENT and known.best is not None:
            await ctx.reply(
                t._(
                    "“{label}” is already a profession I know: {profession}. Group the "
                    "proposal under it with {merge}.",
                    label=escape(label),
                    profession=_label(known.best.key, t.locale),
                    merge=f"`{ctx.prefix}profession merge id:{proposal.id} into:{known.best.key}`",
                )
            )
            return
        key = custom_key(label)
        await store.add_custom_profession(
            self.services.db,
            ctx.circle_id,
            key,
            " ".join(label.split()),
            now=self.services.clock.now(),
        )
        changed = await self._settle(ctx, proposal, PROPOSAL_ACCEPTED, key)
        await ctx.reply(
            t.ngettext(
                "“{wording}” is now the profession {profession}; {n} member updated.",
                "“{wording}” is now the profession {profession}; {n} members updated.",
                len(changed),
                wording=escape(proposal.wording),
                profession=_label(key, t.locale),
            )
        )

    @command(
        "profession",
        "merge",
        description=N_("Group a proposal under an existing profession."),
        options=[
            OptionSpec(
                "id",
                N_("The number of the proposal"),
                OptionType.INTEGER,
                required=True,
                min_value=1,
            ),
            OptionSpec(
                "into",
                N_("The existing profession (suggestions as you type)"),
                required=True,
                rest=True,
                max_length=MAX_CHOICE,
                autocomplete=True,
            ),
        ],
        role=Role.HOST,
        scope=Scope.CIRCLE,
        private=True,
    )
    async def merge(self, ctx: CircleContext) -> None:
        """Map a proposal's wording to a known profession; its proposers get it."""
        t = ctx.t
        proposal = await self._pending(ctx)
        if proposal is None:
            return
        target = _clean(ctx.options["into"])
        extra = await self._circle_names(ctx.circle_id)
        key = self._resolve_choice(target, extra, allow_other=False)
        if key is None:
            lines = [t._("I do not know the profession “{profession}”.", profession=escape(target))]
            close = [m for m in matching.rank(target, extra) if m.score >= matching.SUGGEST]
            if close:
                lines.append(t._("Did you mean one of these?"))
                lines += ["• " + self._suggestion(t, m, "into") for m in close[:SUGGESTIONS]]
            await ctx.reply("\n".join(lines))
            return
        changed = await self._settle(ctx, proposal, PROPOSAL_MERGED, key)
        await ctx.reply(
            t.ngettext(
                "“{wording}” is now grouped under {profession}; {n} member updated.",
                "“{wording}” is now grouped under {profession}; {n} members updated.",
                len(changed),
                wording=escape(proposal.wording),
                profession=_label(key, t.locale),
            )
        )

    @command(
        "profession",
        "list",
        description=N_("Show the circle's professions and how many members have each."),
        role=Role.HOST,
        scope=Scope.CIRCLE,
        private=True,
    )
    async def list_professions(self, ctx: CircleContext) -> None:
        """Professions of the circle with member counts (never names)."""
        t = ctx.t
        counts = await store.circle_profession_counts(self.services.db, ctx.circle_id)
        if not counts:
            await ctx.reply(t._("No member of this circle has told me their profession yet."))
            return
        counts = [c for c in counts if c[0] != OTHER_KEY] + [c for c in counts if c[0] == OTHER_KEY]
        lines = [t._("Professions in this circle:")]
        for key, n in counts:
            lines.append(
                f"• {_label(key, t.locale)} — " + t.ngettext("{n} member", "{n} members", n)
            )
        await ctx.reply("\n".join(lines))

    # ------------------------------------------------------------ autocomplete

    async def suggest(
        self, spec: CommandSpec, option: OptionSpec, partial: str, ctx: Context
    ) -> list[Choice]:
        """Professions in the circle's language as the member types."""
        if spec.path[:1] != ("profession",) or option.name not in ("name", "as", "into"):
            return []
        extra = await self._circle_names(ctx.circle.id) if ctx.circle and ctx.circle.id else []
        found = matching.suggest(partial, ctx.t.locale, 25, extra)
        if option.name == "name":  # the label itself: picking it is an exact match
            return [Choice(label[:100], label[:100]) for _key, label in found]
        choices = [Choice(key, label[:100]) for key, label in found if len(key) <= 100]
        if option.name == "as":
            other = Choice(OTHER_KEY, ctx.t._("Other: propose my wording to the hosts"))
            choices = [*choices[:24], other]
        return choices

    # ------------------------------------------------------------ member data

    async def export_member_data(self, member_id: int) -> dict[str, Any]:
        """The member's profession, the circles where they set it, their proposals."""
        db = self.services.db
        current = await store.get_member_profession(db, member_id)
        profession: dict[str, Any] | None = None
        if current is not None:
            tag = tag_for_key(current.key, current.wording)
            profession = {
                "key": tag.key,
                "isco": tag.isco,
                "label_fr": tag.label_fr,
                "label_en": tag.label_en,
                "wording": tag.wording,
                "set_at": current.set_at.isoformat(),
            }
        return {
            "profession": profession,
            "circles": await store.member_circles(db, member_id),
            "proposals": [
                {
                    "id": p.id,
                    "circle_id": p.circle_id,
                    "wording": p.wording,
                    "status": p.status,
                    "resolved_key": p.resolved_key,
                    "created_at": p.created_at.isoformat(),
                    "resolved_at": p.resolved_at.isoformat() if p.resolved_at else None,
                }
                for p in await store.member_proposals(db, member_id)
            ],
        }

    async def erase_member_data(self, member_id: int) -> None:
        """Forget the member's profession, where they set it and their proposals."""
        await store.erase_member(self.services.db, member_id)

    # ------------------------------------------------------------ helpers

    async def _circle_names(self, circle_id: int) -> list[tuple[str, str]]:
        """``(key, name)`` pairs the circle adds to the vocabulary: custom and merged wordings."""
        db = self.services.db
        names = [(c.key, c.label) for c in await store.custom_professions(db, circle_id)]
        settled = await store.proposals(
            db, circle_id, statuses=(PROPOSAL_ACCEPTED, PROPOSAL_MERGED)
        )
        names += [(p.resolved_key, p.wording) for p in settled if p.resolved_key]
        return names

    def _resolve_choice(
        self, text: str, extra: list[tuple[str, str]], *, allow_other: bool
    ) -> str | None:
        """The profession a member or host picked by key or name; ``None`` if not clear."""
        if text == OTHER_KEY or normalize(text) in {"other", "autre"}:
            return OTHER_KEY if allow_other else None
        keys = {key for key, _name in extra}
        if text in keys or vocabulary.get(text) is not None:
            return text
        if text.startswith("custom:"):
            return None  # a custom key of another circle
        resolution = matching.resolve(text, extra)
        best = resolution.best
        if resolution.confidence is Confidence.CONFIDENT and best is not None:
            return best.key
        return None

    async def _store(self, ctx: CircleContext, key: str, wording: str) -> ProfessionTag:
        """Store the member's profession (proposing "other" wording) and announce it."""
        await store.set_member_profession(
            self.services.db,
            ctx.member_id,
            key,
            wording,
            circle_id=ctx.circle_id,
            now=self.services.clock.now(),
            propose=key == OTHER_KEY,
        )
        tag = tag_for_key(key, wording)
        await self.services.signals.emit(ProfessionChanged(ctx.member_id, ctx.circle_id, tag))
        return tag

    async def _pending(self, ctx: CircleContext) -> ProfessionProposal | None:
        """The pending proposal ``id`` of this circle, or tell the host why not."""
        proposal_id: int = ctx.options["id"]
        proposal = await store.get_proposal(self.services.db, proposal_id)
        if proposal is None or proposal.circle_id != ctx.circle_id:
            await ctx.reply(ctx.t._("There is no proposal #{id} in this circle.", id=proposal_id))
            return None
        if proposal.status != PROPOSAL_PENDING:
            await ctx.reply(ctx.t._("Proposal #{id} is already settled.", id=proposal_id))
            return None
        return proposal

    async def _settle(
        self, ctx: CircleContext, proposal: ProfessionProposal, status: str, key: str
    ) -> list[MemberProfession]:
        """Settle every pending proposal of the circle with this wording; announce changes."""
        pending = await store.proposals(self.services.db, proposal.circle_id)
        same = normalize(proposal.wording)
        ids = [p.id for p in pending if p.id is not None and normalize(p.wording) == same]
        changed = await store.resolve_proposals(
            self.services.db, ids, status=status, key=key, now=self.services.clock.now()
        )
        for profession in changed:
            tag = tag_for_key(profession.key, profession.wording)
            await self.services.signals.emit(
                ProfessionChanged(profession.member_id, ctx.circle_id, tag)
            )
        return changed

    @staticmethod
    def _group(pending: list[ProfessionProposal]) -> list[list[ProfessionProposal]]:
        """Pending proposals grouped by wording (as normalised), oldest first."""
        groups: dict[str, list[ProfessionProposal]] = {}
        for proposal in pending:
            groups.setdefault(normalize(proposal.wording), []).append(proposal)
        return list(groups.values())

    @staticmethod
    def _yours(t: Translator, tag: ProfessionTag) -> str:
        label = _label(tag.key, t.locale)
        if tag.has_own_wording:
            return t._(
                "Your profession: {profession} (shown as “{wording}”).",
                profession=label,
                wording=escape(tag.wording),
            )
        return t._("Your profession: {profession}.", profession=label)

    @staticmethod
    def _suggestion(t: Translator, match: Match, option: str) -> str:
        """``Label — `option:key```: how to pick this profession."""
        name = local_name(option, t.locale)
        return f"{_label(match.key, t.locale)} — `{name}:{_as_value(match.key)}`"

    def _unsure(self, t: Translator, prefix: str, wording: str, matches: tuple[Match, ...]) -> str:
        close = [m for m in matches if m.score >= matching.SUGGEST][:SUGGESTIONS]
        lines = [
            t._(
                "I am not sure which profession “{wording}” is. The closest ones:",
                wording=escape(wording),
            ),
            *("• " + self._suggestion(t, m, "as") for m in close),
            t._(
                "Run {command} again with one of them added: your wording stays as you wrote "
                "it. None fits? Add {other} and the hosts will consider it.",
                command=f"`{prefix}profession set`",
                other=_other(t),
            ),
        ]
        return "\n".join(lines)


def _other(t: Translator) -> str:
    """``as:other`` in the reader's language (``comme:autre``)."""
    return f"`{local_name('as', t.locale)}:{local_name('other', t.locale)}`"
