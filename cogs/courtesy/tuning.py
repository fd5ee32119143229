"""Tuning: the charter, and the hosts' tools to see and adjust what the rules do.

``/charter`` shows (or, for hosts, replaces) the circle's charter; ``/mod log``, ``strikes``
and ``pardon`` look at decisions and members; ``/mod mode``, ``test``, ``allow`` and ``rule``
tune the rules of one circle, saved as overrides of the defaults (the semantic layer's
switches are in :mod:`~cogs.courtesy.semantic_controls`). Every decision is told in words:
the family, what tripped it (a word or phrase, or the semantic model and its probability),
who decided — never a pattern.
"""

from __future__ import annotations

import re
from typing import Any, Final

from babel.numbers import format_decimal

from bot.cog import CircleContext, CommandContext, command
from bot.commands import Choice, OptionSpec, OptionType, Scope
from bot.i18n import N_, Translator, quoted
from bot.messenger import escape, quote
from bot.platform import PlatformError
from bot.types import Role, UserRef
from cogs.courtesy.base import (
    LAYER_WORDS,
    SEMANTIC_LAYERS,
    WHY,
    CourtesyBase,
    clip,
    decayed,
    matched,
    rules_only,
    semantic_observed,
)
from cogs.courtesy.engine import Decision
from cogs.courtesy.rules import Action, Category, build_settings
from cogs.courtesy.semantic import LAYER_EXAMPLE
from storage import courtesy as store
from storage import members
from storage.models import Circle

_MAX_CHARTER: Final = 1_800

DEFAULT_CHARTER: Final = N_(
    "**The circle's charter**\n\n"
    "1. **Courteous**: no insults, no swearing at anyone, no mockery of a profession.\n"
    "2. **Benevolent**: disagree with ideas, never with people; assume good faith.\n"
    "3. **Lawful**: no threats, no hatred against any group, no harassment.\n"
    "4. **Private**: never publish contact details (phone numbers, e-mail or postal "
    "addresses), yours or anyone else's: I mask them.\n\n"
    "Messages that break the charter may be hidden or held for a host's review. Repeated "
    "breaches lead to a temporary mute, never to an automatic ban."
)

_ACTION_NAMES: Final[dict[str, str]] = {
    "allow": N_("allow"),
    "nudge": N_("nudge"),
    "warn": N_("warn"),
    "redact": N_("redact"),
    "hold": N_("hold"),
    "hide": N_("hide"),
    "approve": N_("approved"),
    "reject": N_("rejected"),
    "report": N_("reported"),
    "mute": N_("muted"),
    "pardon": N_("pardoned"),
    "mode": N_("mode changed"),
    "charter": N_("charter changed"),
    "settings": N_("rules changed"),
}
_MODE_NAMES: Final = {
    store.MODE_OBSERVE: N_("observe (decisions are only logged)"),
    store.MODE_ENFORCE: N_("enforce"),
}


#: A personal detail's kind in words (the rules' term is ``phone FR``: the kind, a region).
_PII_WORDS: Final = {
    "phone": N_("a phone number"),
    "email": N_("an email address"),
    "address": N_("a postal address"),
    "iban": N_("a bank account number"),
}


def pii_words(t: Translator, term: str) -> str:
    """What kind of personal detail a rule found, never the detail nor the pattern's name."""
    kind = term.split()[0] if term.strip() else ""
    return t._(_PII_WORDS[kind]) if kind in _PII_WORDS else t._("a personal detail")


def percent(score: float, t: Translator) -> str:
    """A probability as hosts read it (``94%``, ``94 %``)."""
    return t._("{n}%", n=f"{score * 100:.0f}")


#: The member a host command is about, found by name.
_MEMBER = OptionSpec("member", N_("A member's name"), required=True, rest=True, max_length=100)


class Tuning(CourtesyBase):
    """The charter and the hosts' tools to look at decisions and tune the rules."""

    # ------------------------------------------------------------ /charter

    @command(
        "charter",
        description=N_("Show the circle's charter (hosts may replace it)."),
        options=[
            OptionSpec("set", N_("Hosts: the new charter text"), max_length=_MAX_CHARTER),
            OptionSpec("reset", N_("Hosts: back to the default charter"), OptionType.BOOLEAN),
        ],
        private=True,
    )
    async def charter(self, ctx: CommandContext) -> None:
        """Show the charter; hosts replace or reset it."""
        new, reset = ctx.options["set"], ctx.options["reset"]
        if new or reset:
            if not ctx.is_host:
                await ctx.reply(ctx.t._("Only hosts can change the charter."))
                return
            if ctx.circle is None:
                await ctx.reply(ctx.t._("Use this command in the circle's channel."))
                return
            circle_id = ctx.circle.id or 0
            now = self.services.clock.now()
            await store.save_settings(
                self.services.db, circle_id, now=now, charter=new, reset_charter=bool(reset)
            )
            await self._host_log(ctx, "charter", note="reset" if reset else clip(new))
            self._states.pop(circle_id, None)
            await ctx.reply(
                ctx.t._("The charter is back to the default.")
                if reset
                else ctx.t._("The circle's charter is updated.")
            )
            return
        await ctx.reply(await self.charter_text(ctx.circle, ctx.t))

    async def charter_text(self, circle: Circle | None, t: Translator) -> str:
        """The circle's charter, or the default one in the circle's language."""
        if circle is not None:
            state = await self._state(circle)
            if state.settings is not None and state.settings.charter:
                return state.settings.charter
        return t._(DEFAULT_CHARTER)

    # ------------------------------------------------------------ /mod log|strikes|pardon

    async def _member(self, ctx: CommandContext, query: str) -> tuple[int, UserRef] | None:
        """The member a host names (display name, platform id or mention)."""
        cleaned = query.strip().lstrip("@")
        mention = re.fullmatch(r"<@!?(\d+)>", query.strip())
        if mention:
            cleaned = mention.group(1)
        accounts = await store.find_accounts(self.services.db, ctx.channel.platform, cleaned)
        found = {a.member_id: a for a in accounts}
        if not found:
            await ctx.reply(ctx.t._("I know no member called {name}.", name=escape(cleaned)))
            return None
        if len(found) > 1:
            await ctx.reply(
                ctx.t._("Several members are called {name}; use their id.", name=escape(cleaned))
            )
            return None
        account = next(iter(found.values()))
        user = UserRef(account.platform, account.platform_user_id, account.display_name)
        return account.member_id, user

    @command(
        "mod",
        "log",
        description=N_("Show recent moderation decisions, optionally about one member."),
        options=[OptionSpec("member", N_("A member's name"), rest=True, max_length=100)],
        role=Role.HOST,
        scope=Scope.CIRCLE,
        private=True,
    )
    async def mod_log(self, ctx: CircleContext) -> None:
        """Show the audit log."""
        member_id: int | None = None
        if ctx.options["member"]:
            found = await self._member(ctx, ctx.options["member"])
            if found is None:
                return
            member_id = found[0]
        entries = await store.recent_log(self.services.db, ctx.circle_id, member_id=member_id)
        t = ctx.t
        if not entries:
            await ctx.reply(t._("No decisions yet."))
            return
        names = await self._names(
            [e.member_id for e in entries] + [e.actor_member_id for e in entries]
        )
        lines = [t._("**Recent decisions**")]
        for entry in entries:
            actor = (
                t._("rules")
                if entry.actor == store.ACTOR_RULES
                else escape(names.get(entry.actor_member_id or 0, "?"))
            )
            observed = " " + t._("(observe mode)") if entry.mode == store.MODE_OBSERVE else ""
            why = self._why_logged(entry, t)
            lines.append(
                f"{self._when(entry.created_at, ctx.circle)} · "
                f"**{t._(_ACTION_NAMES.get(entry.action, entry.action))}**{observed} · "
                f"{escape(names.get(entry.member_id or 0, '—'))} · "
                f"{'`' + entry.rule + '`' if entry.rule else '—'} · {actor}"
                + (f" · {why}" if why else "")
            )
        await ctx.reply("\n".join(lines))

    @staticmethod
    def _why_logged(entry: store.AuditEntry, t: Translator) -> str:
        """A rules' decision in words: its family, who decided and on what."""
        if entry.actor != store.ACTOR_RULES or entry.category == Category.OK:
            return ""
        try:
            family = t._(WHY[Category(entry.category)])
        except ValueError:
            return ""
        layer = t._(LAYER_WORDS[entry.layer]) if entry.layer in LAYER_WORDS else ""
        if entry.layer in SEMANTIC_LAYERS and entry.score is not None:
            return t._(
                "{family}, by {layer} ({score})",
                family=family,
                layer=layer,
                score=percent(entry.score, t),
            )
        if layer and entry.term and entry.category == Category.PII:
            return t._(
                "{family}, by {layer}: {detail}",
                family=family,
                layer=layer,
                detail=pii_words(t, entry.term),
            )
        if layer and entry.term:
            return t._(
                "{family}, by {layer}: “{term}”",
                family=family,
                layer=layer,
                term=escape(clip(entry.term, 80)),
            )
        return family

    async def _names(self, ids: list[int | None]) -> dict[int, str]:
        names: dict[int, str] = {}
        for member_id in {i for i in ids if i is not None}:
            member = await members.get_member(self.services.db, member_id)
            if member is not None:
                names[member_id] = member.display_name
        return names

    @command(
        "mod",
        "strikes",
        description=N_("Show a member's strikes (they halve with time) and mute."),
        options=[_MEMBER],
        role=Role.HOST,
        scope=Scope.CIRCLE,
        private=True,
    )
    async def mod_strikes(self, ctx: CircleContext) -> None:
        """Show a member's decayed strikes and any running mute."""
        found = await self._member(ctx, ctx.options["member"])
        if found is None:
            return
        member_id, user = found
        circle_id = ctx.circle_id
        now = self.services.clock.now()
        settings = (await self._state(ctx.circle)).engine.settings
        strikes = await store.active_strikes(self.services.db, circle_id, member_id)
        total = decayed(strikes, now, settings.strike_half_life_hours)
        mute = await store.active_mute(self.services.db, circle_id, member_id, now=now)
        t = ctx.t
        lines = [
            t.ngettext_decimal(
                "{name}: {strikes} strike now (a mute at {limit}; they halve every {hours} h).",
                "{name}: {strikes} strikes now (a mute at {limit}; they halve every {hours} h).",
                f"{total:.2f}",
                name=f"**{escape(user.label)}**",
                strikes=format_decimal(total, "0.00", locale=t.locale),  # 0,40 in French
                limit=f"{settings.mute_at:g}",
                hours=f"{settings.strike_half_life_hours:g}",
            ),
            t._("Muted until {until}.", until=self._when(mute.until, ctx.circle))
            if mute is not None
            else t._("Not muted."),
        ]
        for strike in strikes[-10:]:
            lines.append(
                f"• {self._when(strike.created_at, ctx.circle)} `{strike.rule}` +{strike.weight:g}"
            )
        await ctx.reply("\n".join(lines))

    @command(
        "mod",
        "pardon",
        description=N_("Clear a member's strikes and lift their mute."),
        options=[_MEMBER],
        role=Role.HOST,
        scope=Scope.CIRCLE,
        private=True,
    )
    async def mod_pardon(self, ctx: CircleContext) -> None:
        """Clear strikes and unmute."""
        found = await self._member(ctx, ctx.options["member"])
        if found is None:
            return
        member_id, user = found
        circle_id = ctx.circle_id
        now = self.services.clock.now()
        cleared = await store.clear_strikes(self.services.db, circle_id, member_id, now=now)
        lifted = await store.lift_mutes(self.services.db, circle_id, member_id, now=now)
        if lifted:
            try:
                await ctx.platform.unmute(user, ctx.channel)
            except PlatformError:
                self.log.warning("could not unmute %s", user.id, exc_info=True)
        await self._host_log(ctx, "pardon", member_id=member_id, note=f"{cleared} strikes")
        await ctx.messenger.send_direct(
            user, ctx.t._("A host cleared your strikes in the circle. Welcome back!")
        )
        await ctx.reply(
            ctx.t._("{name} is pardoned: strikes cleared, not muted.", name=escape(user.label))
        )

    # ------------------------------------------------------------ /mod mode|test|allow|rule

    @command(
        "mod",
        "mode",
        description=N_("Enforce the rules, or only observe (log) to tune them."),
        options=[
            OptionSpec(
                "mode",
                N_("observe or enforce"),
                rest=True,
                choices=(
                    Choice(store.MODE_OBSERVE, N_("observe")),
                    Choice(store.MODE_ENFORCE, N_("enforce")),
                ),
            )
        ],
        role=Role.HOST,
        scope=Scope.CIRCLE,
        private=True,
    )
    async def mod_mode(self, ctx: CircleContext) -> None:
        """Show or change the circle's moderation mode."""
        mode = ctx.options["mode"]
        if mode is None:
            current = (await self._state(ctx.circle)).mode
            await ctx.reply(
                ctx.t._("The circle is in {mode} mode.", mode=ctx.t._(_MODE_NAMES[current]))
            )
            return
        circle_id = ctx.circle_id
        await store.save_settings(
            self.services.db, circle_id, now=self.services.clock.now(), mode=mode
        )
        self._states.pop(circle_id, None)
        await self._host_log(ctx, "mode", note=mode)
        await ctx.reply(
            ctx.t._("The circle is now in {mode} mode.", mode=ctx.t._(_MODE_NAMES[mode]))
        )

    @command(
        "mod",
        "test",
        description=N_("Show what the rules would do with a text, and why."),
        options=[OptionSpec("text", N_("The text to try"), required=True, rest=True)],
        role=Role.HOST,
        scope=Scope.CIRCLE,
        private=True,
    )
    async def mod_test(self, ctx: CircleContext) -> None:
        """Explain the decision on a text, without acting or counting it."""
        state = await self._state(ctx.circle)
        decision = state.engine.evaluate(ctx.options["text"])
        settings = state.engine.settings
        semantic_only = semantic_observed(decision, settings)
        await ctx.reply(
            self.explain(
                decision,
                ctx.t,
                observe=semantic_only or state.mode == store.MODE_OBSERVE,
                instead=rules_only(decision, settings) if semantic_only else None,
            )
        )

    @staticmethod
    def explain(
        decision: Decision,
        t: Translator,
        *,
        observe: bool = False,
        instead: Decision | None = None,
    ) -> str:
        """A decision and its reasons, in words, for hosts.

        ``observe``: the decision would only be logged; ``instead``: what is done meanwhile
        (the word rules' decision where the semantic layer only observes).
        """
        if not decision.acted:
            return "\n".join(
                [t._("Nothing to act on: the rules allow it."), *_allowed(decision, t)]
            )
        values = {
            "action": t._(_ACTION_NAMES[str(decision.action)]),
            "why": t._(WHY[decision.category]),
            "rule": f"`{decision.rule}`",
        }
        lines = [
            t._("Observe: would **{action}**, for {why} (rule {rule}); only logged.", **values)
            if observe
            else t._("Decision: **{action}**, for {why} (rule {rule}).", **values)
        ]
        layer = t._(LAYER_WORDS.get(decision.layer or "", LAYER_WORDS["rules"]))
        if decision.score is not None:
            lines.append(
                t._(
                    "Decided by {layer}, {score} sure.",
                    layer=layer,
                    score=percent(decision.score, t),
                )
            )
        else:
            lines.append(t._("Decided by {layer}.", layer=layer))
        for reason in decision.reasons:
            line = f"• `{reason.rule}` → {t._(_ACTION_NAMES[str(reason.action)])}"
            if reason.score is not None:
                line += " — " + t._(
                    "{layer}, {score}",
                    layer=t._(LAYER_WORDS.get(reason.layer, reason.layer)),
                    score=percent(reason.score, t),
                )
                lines.append(line)
                continue
            if reason.excerpt:
                line += " — " + quoted(escape(clip(reason.excerpt, 80)), t.locale)
            words = matched(reason)
            if reason.category is Category.PII:
                line += f" ({pii_words(t, words)})"
            elif words and words != reason.excerpt:
                term = quoted(escape(clip(words, 60)), t.locale)
                line += " " + t._("(matches {term})", term=term)
            if reason.cue:
                line += " " + t._("after the cue {cue}", cue=quoted(escape(reason.cue), t.locale))
            lines.append(line)
        if decision.redacted_text is not None:
            lines.append(t._("Shown as:") + "\n" + quote(decision.redacted_text))
        if instead is not None:
            lines.append(
                t._(
                    "Meanwhile the word rules: **{action}**.",
                    action=t._(_ACTION_NAMES[str(instead.action)]),
                )
                if instead.acted
                else t._("Meanwhile the word rules let it through.")
            )
        return "\n".join(lines)

    @command(
        "mod",
        "allow",
        description=N_("Allow a word or phrase in this circle (professional jargon)."),
        options=[
            OptionSpec("word", N_("The word or phrase"), required=True, rest=True, max_length=80),
            OptionSpec("remove", N_("Take it off the allow-list"), OptionType.BOOLEAN),
        ],
        role=Role.HOST,
        scope=Scope.CIRCLE,
        private=True,
    )
    async def mod_allow(self, ctx: CircleContext) -> None:
        """Add a word to (or remove it from) the circle's allow-list."""
        word = " ".join(ctx.options["word"].split())
        remove = bool(ctx.options["remove"])
        state = await self._state(ctx.circle)
        overrides = state.settings.override_data if state.settings is not None else {}
        allow = overrides.setdefault("allow", {})
        words: list[str] = [w for w in allow.get("words", []) if w.lower() != word.lower()]
        if not remove:
            words.append(word)
        allow["words"] = words
        await self._save_overrides(ctx, overrides, note=("-" if remove else "+") + word)
        await ctx.reply(
            ctx.t._("“{word}” is no longer on the allow-list.", word=escape(word))
            if remove
            else ctx.t._("“{word}” is now allowed in this circle.", word=escape(word))
        )

    @command(
        "mod",
        "rule",
        description=N_("Show a rule, or change its action or strikes in this circle."),
        options=[
            OptionSpec("rule", N_("The rule id, e.g. profanity"), required=True, rest=True),
            OptionSpec(
                "action",
                N_("What the rule does"),
                choices=tuple(Choice(a.value, _ACTION_NAMES[a.value]) for a in Action),
            ),
            OptionSpec(
                "strikes", N_("Strikes it costs"), OptionType.NUMBER, min_value=0, max_value=10
            ),
        ],
        role=Role.HOST,
        scope=Scope.CIRCLE,
        private=True,
    )
    async def mod_rule(self, ctx: CircleContext) -> None:
        """Show or override one rule for this circle."""
        rule_id = ctx.options["rule"].strip()
        state = await self._state(ctx.circle)
        t = ctx.t
        if rule_id not in state.engine.settings.rules:
            known = ", ".join(f"`{r}`" for r in sorted(state.engine.settings.rules))
            await ctx.reply(
                t._("Unknown rule {rule}. The rules: {rules}.", rule=rule_id, rules=known)
            )
            return
        action, strikes = ctx.options["action"], ctx.options["strikes"]
        if action is not None or strikes is not None:
            overrides = state.settings.override_data if state.settings is not None else {}
            spec: dict[str, Any] = overrides.setdefault("rules", {}).setdefault(rule_id, {})
            if action is not None:
                spec["action"] = action
            if strikes is not None:
                spec["strikes"] = strikes
            await self._save_overrides(ctx, overrides, note=f"{rule_id}: {spec}")
            state = await self._state(ctx.circle)
        rule = state.engine.settings.rules[rule_id]
        await ctx.reply(
            t.ngettext_decimal(
                "Rule {rule} ({category}): {action}, {strikes} strike.",
                "Rule {rule} ({category}): {action}, {strikes} strikes.",
                f"{rule.strikes:g}",
                rule=f"`{rule.id}`",
                category=t._(WHY[rule.category]),
                action=t._(_ACTION_NAMES[str(rule.action)]),
                strikes=f"{rule.strikes:g}",
            )
        )

    async def _save_overrides(
        self, ctx: CircleContext, overrides: dict[str, Any], note: str
    ) -> None:
        build_settings(overrides)  # refuse what would not load
        circle_id = ctx.circle_id
        await store.save_settings(
            self.services.db, circle_id, now=self.services.clock.now(), overrides=overrides
        )
        state = self._states.pop(circle_id, None)
        fresh = await self._state(ctx.circle)
        if state is not None:
            fresh.activity = state.activity
        await self._host_log(ctx, "settings", note=clip(note))


def _allowed(decision: Decision, t: Translator) -> list[str]:
    """Why an allowed message was let through, when something else than silence decided."""
    judgement = decision.semantic
    if decision.reported:
        return [t._("Why: quoted speech (allowed): harsh words reported or explained.")]
    if judgement is not None and judgement.layer == LAYER_EXAMPLE:
        return [
            t._(
                "Why: {layer} ({score} alike).",
                layer=t._(LAYER_WORDS[LAYER_EXAMPLE]),
                score=percent(judgement.score, t),
            )
        ]
    return []
