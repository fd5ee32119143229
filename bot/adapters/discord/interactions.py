"""Interactions: slash commands, message menus, autocomplete and action buttons.

A command becomes the core's :class:`~bot.types.CommandInvoked`, answered through its
:class:`Invocation` (public sends in its channel answer the interaction itself). A message
menu runs the command whose spec offers it (``CommandSpec.menu``) on the chosen message; a
click on an action's button (and the modal of an action that asks for an option) runs the
action's command through the core, from what its custom id carries. Without the Message
Content intent, a host running a command is told once per server how to enable it.
"""

from __future__ import annotations

import contextvars
from dataclasses import dataclass
from typing import Any, Final

import discord
from discord import app_commands

from bot.adapters.discord.base import NAME, DiscordBase, log
from bot.adapters.discord.commands import MESSAGE, read_invocation
from bot.adapters.discord.permissions import NO_MENTIONS
from bot.adapters.discord.render import _clip, read_action_id
from bot.commands import CommandSpec, OptionType
from bot.i18n import N_, translator
from bot.platform import SuggestionRequest
from bot.types import ChannelRef, CommandInvoked, ThreadRef

MISSING_INTENT_NOTICE: Final = N_(
    "I cannot read the messages posted here: the Message Content intent of my application is "
    "off, so answers written in threads are lost. To enable it: Discord developer portal → my "
    "application → Bot → Privileged Gateway Intents → turn on Message Content Intent, save, then "
    "restart me. Until then members can still use my commands."
)
DONE: Final = "✅"
#: Discord's error code for a second answer to one interaction.
ALREADY_ACKNOWLEDGED: Final = 40060
#: Discord's longest text input.
_MAX_INPUT: Final = 4000


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


class _Modal(discord.ui.Modal):
    """A modal whose id carries everything: discord.py need not remember it either."""

    def is_finished(self) -> bool:
        """Always: discord.py stores no modal it considers finished (none to leak)."""
        return True


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
        """Slash commands, message menus, autocomplete and action buttons, to the core."""
        if self._sink is None:
            return
        if interaction.type is discord.InteractionType.autocomplete:
            await self._autocomplete(interaction)
            return
        if interaction.type in (
            discord.InteractionType.component,
            discord.InteractionType.modal_submit,
        ):
            await self._action(interaction)
            return
        if interaction.type is not discord.InteractionType.application_command:
            return
        data: Any = interaction.data or {}
        path: tuple[str, ...]
        options: dict[str, Any]
        if data.get("type") == MESSAGE:
            spec = self._menu(str(data.get("name", "")))
            if spec is None or not spec.options:
                await interaction.response.send_message(DONE, ephemeral=True)
                return
            path, options = spec.path, {spec.options[0].name: str(data.get("target_id", ""))}
        else:
            invoked = read_invocation(data)
            path, options = invoked.path, invoked.options
        channel, thread = self._refs(interaction.channel)
        await self._run(interaction, path, options, channel, thread)

    def _menu(self, name: str) -> CommandSpec | None:
        """The command offered in the message menu under ``name`` (its English label)."""
        en = translator("en")
        return next(
            (s for s in self._specs.values() if s.menu is not None and en._(s.menu) == name),
            None,
        )

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
        except discord.HTTPException as error:
            if error.code == ALREADY_ACKNOWLEDGED:
                # A replayed interaction (a resumed gateway session): the core dropped it as
                # handled, and its first delivery answered the member.
                log.info("discord: interaction %s answered before (a replay)", interaction.id)
            else:
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

    # ------------------------------------------------------------ actions

    async def _action(self, interaction: discord.Interaction) -> None:
        """A click on an action's button (or its modal): its command, run in the core.

        The command runs as the member who clicked, as if typed in the action's channel, so
        the core's permission check there decides; a member's click on a host action is
        refused like a member's command. An action that asks for an option first opens a
        modal with the button's id; its submission runs the command with the typed value.
        """
        data: Any = interaction.data or {}
        custom_id = str(data.get("custom_id", ""))
        action = read_action_id(custom_id)
        if action is None:
            return
        options: dict[str, Any] = dict(action.options)
        if action.ask is not None:
            if interaction.type is discord.InteractionType.component:
                await self._ask(interaction, custom_id, action.path, action.ask)
                return
            options[action.ask] = _submitted(data.get("components"), action.ask) or ""
        if action.channel_id is None:
            channel, thread = self._refs(interaction.channel)
        else:
            where = self.client.get_channel(action.channel_id)
            if where is not None:
                channel, thread = self._refs(where)
            else:
                channel, thread = ChannelRef(NAME, str(action.channel_id)), None
        await self._run(interaction, action.path, options, channel, thread)

    async def _ask(
        self, interaction: discord.Interaction, custom_id: str, path: tuple[str, ...], ask: str
    ) -> None:
        """The modal asking for one option: titled by the command, labelled by the option."""
        t = translator(self.locale)
        spec = self._specs.get(path)
        option = spec.option(ask) if spec is not None else None
        title = t._(spec.description) if spec is not None else "/" + " ".join(path)
        label = t._(option.description) if option is not None else ask
        limit = option.max_length if option is not None and option.max_length else _MAX_INPUT
        modal = _Modal(title=_clip(title, 45), custom_id=custom_id, timeout=None)
        modal.add_item(
            discord.ui.TextInput(
                label=_clip(label, 45),
                custom_id=ask,
                style=discord.TextStyle.paragraph,
                max_length=min(limit, _MAX_INPUT),
            )
        )
        try:
            await interaction.response.send_modal(modal)
        except discord.HTTPException:
            log.exception("discord: could not ask for %s of /%s", ask, " ".join(path))
