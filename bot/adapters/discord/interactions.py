"""Interactions: slash commands, the report menu, autocomplete and the review buttons.

A command becomes the core's :class:`~bot.types.CommandInvoked`, answered through its
:class:`Invocation` (public sends in its channel answer the interaction itself). Held messages
go to the hosts' review channel with Approve / Reject buttons whose clicks (and the reject
modal) run ``/mod approve|reject`` through the core. Without the Message Content intent, a
host running a command is told once per server how to enable it.
"""

from __future__ import annotations

import contextvars
import re
from dataclasses import dataclass
from typing import Any, Final

import discord
from discord import app_commands

from bot.adapters.discord.base import NAME, DiscordBase, log
from bot.adapters.discord.commands import MESSAGE, REPORT_MENU, REPORT_PATH, read_invocation
from bot.adapters.discord.permissions import NO_MENTIONS
from bot.adapters.discord.render import _clip
from bot.commands import CommandSpec, OptionType
from bot.i18n import N_, translator
from bot.messenger import escape, quote
from bot.platform import DISCORD_LIKE, HeldMessage, PlatformError, SuggestionRequest
from bot.types import ChannelRef, CommandInvoked, ThreadRef

MISSING_INTENT_NOTICE: Final = N_(
    "I cannot read the messages posted here: the Message Content intent of my application is "
    "off, so answers written in threads are lost. To enable it: Discord developer portal → my "
    "application → Bot → Privileged Gateway Intents → turn on Message Content Intent, save, then "
    "restart me. Until then members can answer with /answer."
)
DONE: Final = "✅"


@dataclass(slots=True)
class Invocation:
    """The reply token of a command: the interaction and what was answered through it."""

    interaction: discord.Interaction
    deferred: bool = False
    answered: bool = False
    spec: CommandSpec | None = None

    @property
    def channel_id(self) -> int | None:
        """Where the command was run (the thread, when in one)."""
        return self.interaction.channel_id

    async def private(self, kwargs: dict[str, Any]) -> None:
        """Answer only the member who ran the command."""
        response = self.interaction.response
        if not response.is_done():
            await response.send_message(ephemeral=True, **kwargs)
        else:
            await self.interaction.followup.send(ephemeral=True, **kwargs)
        self.answered = True

    async def public(self, kwargs: dict[str, Any]) -> discord.Message | None:
        """Answer in the open through the interaction, if it has not been acknowledged yet."""
        if self.interaction.response.is_done():
            return None
        callback = await self.interaction.response.send_message(**kwargs)
        self.answered = True
        resource = callback.resource
        return resource if isinstance(resource, discord.Message) else None

    async def finish(self) -> None:
        """Acknowledge a command nobody answered through (Discord shows a failure otherwise)."""
        if not self.interaction.response.is_done():
            await self.interaction.response.send_message(DONE, ephemeral=True)
        elif self.deferred and not self.answered:
            await self.interaction.edit_original_response(content=DONE)


#: The command being handled in this task: public sends in its channel answer it directly.
_current: contextvars.ContextVar[Invocation | None] = contextvars.ContextVar(
    "cercle_discord_invocation", default=None
)


# ------------------------------------------------------------ review

REVIEW_TEXT: Final = N_("**{name}** in {channel}, held by rule {rule} (queue #{id}):")
APPROVE_LABEL: Final = N_("Approve")
REJECT_LABEL: Final = N_("Reject")
REJECT_TITLE: Final = N_("Reject #{id}")
REASON_LABEL: Final = N_("Why (sent to the author)")
APPROVE_PATH: Final = ("mod", "approve")
REJECT_PATH: Final = ("mod", "reject")
#: Buttons and modals of the review channel: the ids carry everything, so they still work
#: after a restart (persistent) without any view kept in memory.
_REVIEW_ID: Final = re.compile(r"cercle:review:(approve|reject):(\d+):(\d+)")
_REASON_ID: Final = "reason"


def review_custom_id(action: str, channel_id: int | str, item_id: int) -> str:
    """The custom id of a review button (or of the reject modal): action, channel, queue item."""
    return f"cercle:review:{action}:{channel_id}:{item_id}"


def review_view(locale: str, channel_id: int | str, item_id: int) -> discord.ui.View:
    """Approve / Reject buttons with persistent custom ids (no timeout)."""
    t = translator(locale)
    view = discord.ui.View(timeout=None)
    view.add_item(
        discord.ui.Button(
            style=discord.ButtonStyle.success,
            label=t._(APPROVE_LABEL),
            custom_id=review_custom_id("approve", channel_id, item_id),
        )
    )
    view.add_item(
        discord.ui.Button(
            style=discord.ButtonStyle.danger,
            label=t._(REJECT_LABEL),
            custom_id=review_custom_id("reject", channel_id, item_id),
        )
    )
    return view


def _submitted(components: Any, custom_id: str) -> str | None:
    """The value a modal submitted for ``custom_id`` (in rows or labels, at any depth)."""
    if isinstance(components, list):
        for component in components:
            found = _submitted(component, custom_id)
            if found is not None:
                return found
    elif isinstance(components, dict):
        if components.get("custom_id") == custom_id and "value" in components:
            return str(components["value"])
        return _submitted(
            components.get("components") or components.get("component") or [], custom_id
        )
    return None


class Interactions(DiscordBase):
    """The part of :class:`~bot.adapters.discord.platform.DiscordPlatform` answering commands."""

    _notified: set[int]

    async def on_interaction(self, interaction: discord.Interaction) -> None:
        """Slash commands, the report menu and autocomplete, handed to the core."""
        if self._sink is None:
            return
        if interaction.type is discord.InteractionType.autocomplete:
            await self._autocomplete(interaction)
            return
        if interaction.type in (
            discord.InteractionType.component,
            discord.InteractionType.modal_submit,
        ):
            await self._review_decision(interaction)
            return
        if interaction.type is not discord.InteractionType.application_command:
            return
        data: Any = interaction.data or {}
        path: tuple[str, ...]
        options: dict[str, Any]
        if data.get("type") == MESSAGE:
            report = self._specs.get(REPORT_PATH)
            if report is None or data.get("name") != translator("en")._(REPORT_MENU):
                await interaction.response.send_message(DONE, ephemeral=True)
                return
            path, options = REPORT_PATH, {"message": str(data.get("target_id", ""))}
        else:
            invoked = read_invocation(data)
            path, options = invoked.path, invoked.options
        channel, thread = self._refs(interaction.channel)
        await self._run(interaction, path, options, channel, thread)

    async def _run(
        self,
        interaction: discord.Interaction,
        path: tuple[str, ...],
        options: dict[str, Any],
        channel: ChannelRef,
        thread: ThreadRef | None,
    ) -> None:
        """Hand a command to the core and answer through ``interaction``."""
        sink = self._sink
        if sink is None:
            return
        spec = self._specs.get(path)
        invocation = Invocation(interaction, spec=spec)
        if spec is not None and spec.slow:
            await interaction.response.defer(ephemeral=True, thinking=True)
            invocation.deferred = True
        event = CommandInvoked(
            channel=channel,
            user=self._userref(interaction.user),
            at=interaction.created_at,
            id=str(interaction.id),
            path=path,
            options={k: v for k, v in options.items() if v is not None},
            thread=thread,
            reply_token=invocation,
        )
        token = _current.set(invocation)
        try:
            await sink(event)
            await self._tell_hosts_about_intent(invocation)
            await invocation.finish()
        except discord.HTTPException:
            log.exception("discord: could not answer interaction %s", interaction.id)
        finally:
            _current.reset(token)

    async def _tell_hosts_about_intent(self, invocation: Invocation) -> None:
        interaction = invocation.interaction
        guild_id = interaction.guild_id
        if self.reads_content or guild_id is None or guild_id in self._notified:
            return
        user = interaction.user
        if not isinstance(user, discord.Member) or not self._is_host(user, interaction.channel):
            return
        self._notified.add(guild_id)
        await invocation.private(
            {"content": translator(self.locale)._(MISSING_INTENT_NOTICE)}
            | {"allowed_mentions": NO_MENTIONS}
        )

    async def _autocomplete(self, interaction: discord.Interaction) -> None:
        data: Any = interaction.data or {}
        invoked = read_invocation(data)
        spec = self._specs.get(invoked.path)
        option = spec.option(invoked.focused) if spec and invoked.focused else None
        choices: list[app_commands.Choice[Any]] = []
        if option is not None and self._suggester is not None:
            channel, thread = self._refs(interaction.channel)
            request = SuggestionRequest(
                channel=channel,
                user=self._userref(interaction.user),
                path=invoked.path,
                option=option.name,
                partial=str(invoked.options.get(option.name) or ""),
                thread=thread,
            )
            for suggestion in (await self._suggester(request))[:25]:
                value: Any = suggestion.value
                if option.type is OptionType.INTEGER:
                    value = int(value)
                elif option.type is OptionType.NUMBER:
                    value = float(value)
                else:
                    value = _clip(str(value), 100)
                label = _clip(suggestion.label or str(suggestion.value), 100)
                choices.append(app_commands.Choice(name=label, value=value))
        try:
            await interaction.response.autocomplete(choices)
        except discord.HTTPException:
            log.warning("discord: autocomplete answered too late for %s", interaction.id)

    # ------------------------------------------------------------ review

    async def _review_decision(self, interaction: discord.Interaction) -> None:
        """A click on Approve / Reject (or the reject modal): ``/mod approve|reject`` in the core.

        The command runs as if typed in the held message's channel, so the core's permission
        check there decides; a member's click is refused like a member's command.
        """
        data: Any = interaction.data or {}
        match = _REVIEW_ID.fullmatch(str(data.get("custom_id", "")))
        if match is None:
            return
        action, channel_id, item_id = match[1], int(match[2]), int(match[3])
        options: dict[str, Any] = {"id": item_id}
        if action == "reject":
            if interaction.type is discord.InteractionType.component:
                await self._ask_reason(interaction, channel_id, item_id)
                return
            options["reason"] = _submitted(data.get("components"), _REASON_ID) or ""
        where = self.client.get_channel(channel_id)
        channel = ChannelRef(NAME, str(channel_id), name=getattr(where, "name", "") or "")
        path = APPROVE_PATH if action == "approve" else REJECT_PATH
        await self._run(interaction, path, options, channel, None)

    async def _ask_reason(
        self, interaction: discord.Interaction, channel_id: int, item_id: int
    ) -> None:
        t = translator(self.locale)
        modal = discord.ui.Modal(
            title=_clip(t._(REJECT_TITLE, id=item_id), 45),
            custom_id=review_custom_id("reject", channel_id, item_id),
            timeout=900,
        )
        modal.add_item(
            discord.ui.TextInput(
                label=_clip(t._(REASON_LABEL), 45),
                custom_id=_REASON_ID,
                style=discord.TextStyle.paragraph,
                max_length=500,
            )
        )
        try:
            await interaction.response.send_modal(modal)
        except discord.HTTPException:
            log.exception("discord: could not ask why #%s is rejected", item_id)

    async def review(self, held: HeldMessage) -> bool:
        """Post a held message in the hosts' review channel with Approve / Reject buttons."""
        review_channel = self.settings.review_channel_id
        if review_channel is None:
            return False
        t = translator(held.locale)
        where = held.message.thread or held.message.channel
        header = t._(
            REVIEW_TEXT,
            name=escape(held.author.label),
            channel=f"<#{int(where.id)}>",
            rule=f"`{held.rule or '?'}`",
            id=held.item_id,
        )
        text = _clip(header + "\n" + quote(held.text), DISCORD_LIKE.max_message_length)
        view = review_view(held.locale, held.message.channel.id, held.item_id)
        try:
            await self._messageable(review_channel).send(
                text, view=view, allowed_mentions=NO_MENTIONS
            )
        except discord.HTTPException as error:
            raise PlatformError(f"discord refused the review message: {error}") from error
        return True
