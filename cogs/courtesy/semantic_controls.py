"""Hosts' controls of the semantic layer: on, observing or off, and its thresholds per family.

``/mod semantic`` switches the layer for one circle; ``/mod threshold`` shows each family's
trained threshold and sets the circle's own. Both are saved as overrides of the defaults.
"""

from __future__ import annotations

from typing import Any, Final

from bot.cog import CircleContext, command
from bot.commands import Choice, OptionSpec, OptionType, Scope
from bot.i18n import N_, decimal, local_name
from bot.types import Role
from cogs.courtesy.base import WHY, CourtesyBase
from cogs.courtesy.rules import SEMANTIC_FAMILIES, Category
from cogs.courtesy.semantic import default_model

SEMANTIC_ENFORCE: Final = "enforce"
SEMANTIC_OBSERVE: Final = "observe"
SEMANTIC_OFF: Final = "off"
_SEMANTIC_NAMES: Final = {
    SEMANTIC_ENFORCE: N_("on: it acts"),
    SEMANTIC_OBSERVE: N_("on, observing only (what it would do is logged)"),
    SEMANTIC_OFF: N_("off"),
}
#: The lowest threshold a host may set: below it the layer would act on nearly everything.
MIN_THRESHOLD: Final = 0.05


class SemanticControls(CourtesyBase):
    """``/mod semantic`` and ``/mod threshold``."""

    @command(
        "mod",
        "semantic",
        description=N_("Turn the semantic layer on (enforce or observe only) or off here."),
        options=[
            OptionSpec(
                "mode",
                N_("enforce, observe or off"),
                rest=True,
                choices=(
                    Choice(SEMANTIC_ENFORCE, N_("enforce")),
                    Choice(SEMANTIC_OBSERVE, N_("observe")),
                    Choice(SEMANTIC_OFF, N_("off")),
                ),
            )
        ],
        role=Role.HOST,
        scope=Scope.CIRCLE,
        private=True,
    )
    async def mod_semantic(self, ctx: CircleContext) -> None:
        """Show or change whether the semantic layer runs, and whether it only observes."""
        mode = ctx.options["mode"]
        state = await self._state(ctx.circle)
        t = ctx.t
        if mode is None:
            settings = state.engine.settings
            current = (
                SEMANTIC_OFF
                if not settings.semantic
                else SEMANTIC_OBSERVE
                if settings.semantic_observe
                else SEMANTIC_ENFORCE
            )
            await ctx.reply(
                t._(
                    "The semantic layer is {state} in this circle.",
                    state=t._(_SEMANTIC_NAMES[current]),
                )
            )
            return
        overrides = state.settings.override_data if state.settings is not None else {}
        semantic: dict[str, Any] = overrides.setdefault("semantic", {})
        semantic["enabled"] = mode != SEMANTIC_OFF
        if mode == SEMANTIC_OFF:
            semantic.pop("observe", None)
        else:
            semantic["observe"] = mode == SEMANTIC_OBSERVE
        await self._save_overrides(ctx, overrides, note=f"semantic: {mode}")
        lines = [
            t._(
                "The semantic layer is now {state} in this circle.",
                state=t._(_SEMANTIC_NAMES[mode]),
            )
        ]
        if mode != SEMANTIC_OFF and default_model() is None:
            lines.append(t._("Its model is not installed, so it changes nothing yet."))
        await ctx.reply("\n".join(lines))

    @command(
        "mod",
        "threshold",
        description=N_(
            "Show or set the probability from which the semantic layer acts, per family."
        ),
        options=[
            OptionSpec(
                "family",
                N_("The family of messages"),
                choices=tuple(Choice(f, WHY[Category(f)]) for f in SEMANTIC_FAMILIES),
            ),
            OptionSpec(
                "value",
                N_("From 0.05 to 1 (0: back to the trained threshold)"),
                OptionType.NUMBER,
                min_value=0,
                max_value=1,
            ),
            OptionSpec("reset", N_("Back to the trained threshold"), OptionType.BOOLEAN),
        ],
        role=Role.HOST,
        scope=Scope.CIRCLE,
        private=True,
    )
    async def mod_threshold(self, ctx: CircleContext) -> None:
        """List the thresholds, or set or remove one family's threshold for this circle."""
        family, value, reset = ctx.options["family"], ctx.options["value"], ctx.options["reset"]
        t = ctx.t
        usage = (
            f"`{ctx.prefix}mod threshold {local_name('family', t.locale)}:"
            f"<{'|'.join(SEMANTIC_FAMILIES)}> "
            f"{local_name('value', t.locale)}:<{MIN_THRESHOLD:g}..1>`"
        )
        if family is None:
            if value is not None or reset:
                await ctx.reply(t._("Name the family: {usage}", usage=usage))
                return
            await ctx.reply(await self._thresholds(ctx))
            return
        if value is not None and 0 < value < MIN_THRESHOLD:
            await ctx.reply(
                t._(
                    "A threshold goes from {low} to 1 (0 or reset:yes removes it): {usage}",
                    low=f"{MIN_THRESHOLD:g}",
                    usage=usage,
                )
            )
            return
        state = await self._state(ctx.circle)
        if value is not None or reset:
            overrides = state.settings.override_data if state.settings is not None else {}
            limits: dict[str, Any] = overrides.setdefault("semantic", {}).setdefault(
                "thresholds", {}
            )
            if reset or not value:
                limits.pop(family, None)
                note = f"semantic.thresholds.{family}: reset"
            else:
                limits[family] = float(value)
                note = f"semantic.thresholds.{family}: {value:g}"
            await self._save_overrides(ctx, overrides, note=note)
        await ctx.reply(await self._thresholds(ctx, only=family))

    async def _thresholds(self, ctx: CircleContext, *, only: str | None = None) -> str:
        """Each family's threshold: the trained one, and the circle's when it set one."""
        t = ctx.t
        settings = (await self._state(ctx.circle)).engine.settings
        model = default_model()
        lines = (
            [] if only else [t._("**Semantic thresholds** (the probability from which it acts)")]
        )
        for name in [only] if only else SEMANTIC_FAMILIES:
            family = Category(name)
            trained = decimal(model.thresholds[family], t.locale) if model is not None else "—"
            own = settings.semantic_thresholds.get(family)
            values = {"family": f"`{name}`", "why": t._(WHY[family]), "trained": trained}
            lines.append(
                t._(
                    "• {family} ({why}): {value} in this circle (trained: {trained})",
                    value=decimal(own, t.locale),
                    **values,
                )
                if own is not None
                else t._("• {family} ({why}): {trained}, as trained", **values)
            )
        if not settings.semantic:
            lines.append(
                t._(
                    "The semantic layer is off in this circle: {command} turns it on.",
                    command=f"`{ctx.prefix}mod semantic observe`",
                )
            )
        return "\n".join(lines)
