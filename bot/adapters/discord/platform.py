"""The Discord adapter: discord.py's gateway and REST, translated to and from the core.

Events become the core's neutral events at the edge; application commands are rendered from
the specs (:mod:`bot.adapters.discord.commands`) and synced at login only when their hash
changed. Every send denies all mentions at the API level. Round threads the bot opened are
remembered with the last message seen, so after a restart their history is fed through once.
A content's actions become buttons whose ids carry their command, run through the core when
clicked; the hosts' review channel, when configured, is offered to cogs as the hosts' channel.
Reposts of members' words go through a channel webhook under the author's name and avatar
when the bot may manage webhooks.

:class:`DiscordPlatform` keeps the lifecycle, the command sync, sending and moderation; it is
composed of the parts in :mod:`~bot.adapters.discord.events` (receiving),
:mod:`~bot.adapters.discord.interactions` (commands, menus, autocomplete, actions),
:mod:`~bot.adapters.discord.webhooks` (reposts) and :mod:`~bot.adapters.discord.catchup`
(no loss), over :mod:`~bot.adapters.discord.render` and
:mod:`~bot.adapters.discord.permissions`. Their public names are importable from here too.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime, timedelta
from typing import Any, Final

import discord

from bot.adapters.discord.base import NAME, log
from bot.adapters.discord.catchup import _CLOSED, CATCH_UP, CatchUp, _Thread
from bot.adapters.discord.commands import payload_hash, render_commands
from bot.adapters.discord.events import Receiving, _Client, _Ordered
from bot.adapters.discord.interactions import (
    DONE,
    MISSING_INTENT_NOTICE,
    Interactions,
    Invocation,
    _current,
)
from bot.adapters.discord.permissions import NO_MENTIONS, PERMISSIONS, SCOPES, intents, invite_url
from bot.adapters.discord.render import _clip, action_custom_id, embed_for, message_kwargs
from bot.adapters.discord.settings import DiscordSettings
from bot.adapters.discord.webhooks import WEBHOOK_NAME, Webhooks
from bot.clock import Clock
from bot.commands import CommandSpec
from bot.i18n import N_, translator
from bot.platform import DISCORD_LIKE, EventSink, NotSupported, PlatformError, Suggester
from bot.supervisor import Supervisor
from bot.types import ChannelRef, Content, MessageRef, Role, ThreadRef, UserRef
from storage import state
from storage.database import Database

__all__ = [
    "DMS_CLOSED",
    "DONE",
    "MAX_TIMEOUT",
    "MISSING_INTENT_LOG",
    "MISSING_INTENT_NOTICE",
    "NAME",
    "NO_MENTIONS",
    "PERMISSIONS",
    "SCOPES",
    "WEBHOOK_NAME",
    "Connector",
    "DiscordPlatform",
    "Invocation",
    "action_custom_id",
    "embed_for",
    "gateway_connector",
    "intents",
    "invite_url",
    "message_kwargs",
]

#: Brings a client to READY (login, gateway) and returns the connection's lifetime, if it has
#: one; tests pass a connector that attaches SimCord instead.
Connector = Callable[[discord.Client], Awaitable["asyncio.Future[None] | None"]]

#: Discord's longest timeout.
MAX_TIMEOUT: Final = timedelta(days=28)

MISSING_INTENT_LOG: Final = (
    "discord: the Message Content intent is not enabled for this application, so members' "
    "messages arrive empty and answers in threads cannot be read. Enable it in the developer "
    "portal: https://discord.com/developers/applications → your application → Bot → "
    "Privileged Gateway Intents → Message Content Intent, save, then restart Cercle. Until then "
    "only commands work."
)
DMS_CLOSED: Final = N_(
    "{mention}, I could not send you a private message because your direct messages are "
    "closed. To receive my notes, allow direct messages from members of this server."
)


def gateway_connector(token: str) -> Connector:
    """The production connector: log in, then keep the gateway connection in the background."""

    async def connect(client: discord.Client) -> asyncio.Future[None]:
        await client.login(token)
        runner = asyncio.ensure_future(client.connect(reconnect=True))
        ready = asyncio.ensure_future(client.wait_until_ready())
        done, _ = await asyncio.wait({runner, ready}, return_when=asyncio.FIRST_COMPLETED)
        if runner in done:
            ready.cancel()
            runner.result()  # raises what stopped it (e.g. PrivilegedIntentsRequired)
            raise PlatformError("the Discord gateway closed before the bot was ready")
        return runner

    return connect


class DiscordPlatform(Receiving, Interactions, Webhooks, CatchUp):
    """The :class:`~bot.platform.Platform` for Discord."""

    def __init__(
        self,
        settings: DiscordSettings,
        *,
        db: Database,
        clock: Clock,
        locale: str = "fr",
        connector: Connector | None = None,
        supervisor: Supervisor | None = None,
    ) -> None:
        self.name = NAME
        self.capabilities = DISCORD_LIKE
        self.settings = settings
        self.db = db
        self.clock = clock
        self.locale = locale
        self._connector = connector
        self._host_roles = {int(r) for r in settings.host_role_ids}
        self._specs: dict[tuple[str, ...], CommandSpec] = {}
        self._payload: list[dict[str, Any]] = []
        self._sink: EventSink | None = None
        self._suggester: Suggester | None = None
        self._client: _Client | None = None
        self._runner: asyncio.Future[None] | None = None
        self._closed = asyncio.Event()
        self._ordered = _Ordered()
        self._threads: dict[int, _Thread] = {}
        self._members: OrderedDict[tuple[int, int], discord.Member] = OrderedDict()
        self._last_channel: OrderedDict[int, int] = OrderedDict()
        self.supervisor = supervisor if supervisor is not None else Supervisor(clock)
        self._behind: set[int] = set()
        self._catch_up_again = False
        self._notified: set[int] = set()
        self._webhooks: dict[int, discord.Webhook] = {}
        #: False when Discord refused the Message Content intent: members' text arrives empty.
        self.reads_content = True
        self.synced: list[str] = []

    # ------------------------------------------------------------ lifecycle

    @property
    def client(self) -> discord.Client:
        """The discord.py client (created by :meth:`start`)."""
        if self._client is None:
            raise PlatformError("the Discord adapter is not started")
        return self._client

    def bind_suggestions(self, suggester: Suggester) -> None:
        """Where autocomplete asks for suggestions (the router)."""
        self._suggester = suggester

    async def install_commands(self, specs: Sequence[CommandSpec]) -> None:
        """Render the commands; they are synced at login if their hash changed."""
        self._specs = {spec.path: spec for spec in specs}
        self._payload = render_commands(specs)

    async def start(self, sink: EventSink) -> None:
        """Load the open threads, connect, and fall back without Message Content if refused."""
        self._sink = sink
        self._closed.clear()
        await self._load_threads()
        try:
            await self._connect(message_content=True)
        except discord.PrivilegedIntentsRequired:
            log.error(MISSING_INTENT_LOG)
            self.reads_content = False
            await self._close_client()
            await self._connect(message_content=False)

    async def _connect(self, *, message_content: bool) -> None:
        self._client = _Client(
            self,
            intents=intents(message_content=message_content),
            allowed_mentions=NO_MENTIONS,
            application_id=self.settings.application_id,
        )
        connector = self._connector
        if connector is None:
            token = self.settings.token
            if token is None:
                raise PlatformError("set CERCLE_DISCORD__TOKEN to connect to Discord")
            connector = gateway_connector(token.get_secret_value())
        self._runner = await connector(self._client)
        if self._runner is not None:
            self._runner.add_done_callback(lambda _: self._closed.set())

    async def stop(self) -> None:
        """Stop handing events over and close the connection."""
        self._sink = None
        await self.supervisor.stop(CATCH_UP)
        await self._close_client()
        self._closed.set()

    async def _close_client(self) -> None:
        client = self._client
        if client is None:
            return
        runner, self._runner = self._runner, None
        await client.close()
        if runner is not None:
            await asyncio.gather(runner, return_exceptions=True)

    async def wait_closed(self) -> None:
        """Return when the connection ended for good."""
        await self._closed.wait()

    # ------------------------------------------------------------ commands

    @property
    def payload(self) -> list[dict[str, Any]]:
        """The application commands as synced."""
        return self._payload

    async def sync_commands(self) -> None:
        """Sync the command tree where its stored hash differs (never from ``on_ready``)."""
        client = self.client
        application_id = client.application_id or self.settings.application_id
        if application_id is None:
            log.error("discord: no application id, cannot sync the commands")
            return
        digest = payload_hash(self._payload)
        targets: list[int | None] = list(self.settings.guild_ids) or [None]
        for guild_id in targets:
            key = "commands:global" if guild_id is None else f"commands:guild:{guild_id}"
            if await state.get_state(self.db, NAME, key) == digest:
                log.debug("discord: commands unchanged (%s)", key)
                continue
            try:
                if guild_id is None:
                    await client.http.bulk_upsert_global_commands(application_id, self._payload)
                else:
                    await client.http.bulk_upsert_guild_commands(
                        application_id, guild_id, self._payload
                    )
            except discord.HTTPException:
                log.exception("discord: command sync failed (%s); will retry at next start", key)
                continue
            await state.set_state(self.db, NAME, key, digest, now=self.clock.now())
            self.synced.append(key)
            log.info("discord: %d commands synced (%s)", len(self._payload), key)

    # ------------------------------------------------------------ the hosts' channel

    def hosts_channel(self, channel: ChannelRef) -> ChannelRef | None:
        """The configured review channel, where hosts decide; ``None`` when none is set."""
        review = self.settings.review_channel_id
        if review is None:
            return None
        where = self._client.get_channel(int(review)) if self._client is not None else None
        return ChannelRef(NAME, str(review), name=getattr(where, "name", "") or "")

    def mention_channel(self, where: ChannelRef | ThreadRef) -> str:
        """A link to a channel or thread in the bot's text: ``<#id>``."""
        return f"<#{int(where.id)}>"

    # ------------------------------------------------------------ sending

    def _messageable(self, channel_id: int) -> discord.PartialMessageable:
        return self.client.get_partial_messageable(channel_id)

    def _ref(self, message: discord.Message | discord.PartialMessage) -> MessageRef:
        channel, thread = self._refs(message.channel)
        return MessageRef(channel, str(message.id), thread)

    async def send(
        self, channel: ChannelRef, content: Content, *, thread: ThreadRef | None = None
    ) -> MessageRef:
        """Post in a channel or thread; a command's public answer goes through its interaction."""
        target = int(thread.id if thread else channel.id)
        kwargs = message_kwargs(content)
        invocation = _current.get()
        try:
            if invocation is not None and invocation.channel_id == target:
                answered = await invocation.public(kwargs)
                if answered is not None:
                    return MessageRef(channel, str(answered.id), thread)
                kwargs = message_kwargs(content)  # files are consumed once
            sent = await self._messageable(target).send(**kwargs)
        except discord.HTTPException as error:
            raise PlatformError(f"discord refused a message in {target}: {error}") from error
        return MessageRef(channel, str(sent.id), thread)

    async def send_direct(self, user: UserRef, content: Content) -> MessageRef:
        """A DM; when the member's DMs are closed, an ephemeral or channel notice instead."""
        try:
            target = await self._user(int(user.id))
            sent = await target.send(**message_kwargs(content))
        except discord.Forbidden:
            return await self._dms_closed(user, content)
        except discord.HTTPException as error:
            raise PlatformError(f"discord refused a direct message: {error}") from error
        channel = ChannelRef(NAME, str(sent.channel.id), name=user.label, direct=True)
        return MessageRef(channel, str(sent.id))

    async def _user(self, user_id: int) -> discord.User:
        return self.client.get_user(user_id) or await self.client.fetch_user(user_id)

    async def _dms_closed(self, user: UserRef, content: Content) -> MessageRef:
        invocation = _current.get()
        if invocation is not None and invocation.interaction.user.id == int(user.id):
            await invocation.private(message_kwargs(content))
            channel, thread = self._refs(invocation.interaction.channel)
            return MessageRef(channel, f"ephemeral:{invocation.interaction.id}", thread)
        where = self._last_channel.get(int(user.id))
        if where is None:
            raise PlatformError(f"cannot reach {user.label}: direct messages closed")
        t = translator(self.locale)
        text = t._(DMS_CLOSED, mention=f"<@{int(user.id)}>")
        mentions = discord.AllowedMentions(
            everyone=False, roles=False, users=[discord.Object(int(user.id))]
        )
        sent = await self._messageable(where).send(text, allowed_mentions=mentions)
        return self._ref(sent)

    async def reply_ephemeral(
        self, invocation_token: object, user: UserRef, content: Content
    ) -> None:
        """Answer a command privately through its interaction."""
        if not isinstance(invocation_token, Invocation):
            raise NotSupported("an ephemeral reply needs the command's interaction")
        try:
            await invocation_token.private(message_kwargs(content))
        except discord.HTTPException as error:
            raise PlatformError(f"discord refused an ephemeral reply: {error}") from error

    async def edit(self, message: MessageRef, content: Content) -> None:
        """Edit a message the bot posted."""
        partial = self._partial(message)
        kwargs = message_kwargs(content)
        files = kwargs.pop("files", None)
        if files is not None:
            kwargs["attachments"] = files
        kwargs.setdefault("content", None)
        kwargs.setdefault("embeds", [])
        kwargs.setdefault("view", None)  # the content's actions replace the old buttons
        try:
            await partial.edit(**kwargs)
        except discord.HTTPException as error:
            raise PlatformError(f"discord refused an edit: {error}") from error

    def _partial(self, message: MessageRef) -> discord.PartialMessage:
        target = int(message.thread.id if message.thread else message.channel.id)
        channel = self.client.get_channel(target)
        if isinstance(channel, discord.TextChannel | discord.Thread | discord.DMChannel):
            return channel.get_partial_message(int(message.id))  # knows its server
        return self._messageable(target).get_partial_message(int(message.id))

    async def delete(self, message: MessageRef, *, reason: str = "") -> None:
        """Delete a message (the reason goes to the audit log)."""
        target = int(message.thread.id if message.thread else message.channel.id)
        try:
            await self.client.http.delete_message(
                target, int(message.id), reason=_clip(reason, 512) or None
            )
        except discord.NotFound:
            return
        except discord.HTTPException as error:
            raise PlatformError(f"discord refused a deletion: {error}") from error

    async def react(self, message: MessageRef, emoji: str) -> None:
        """Add the bot's reaction."""
        try:
            await self._partial(message).add_reaction(emoji)
        except discord.HTTPException as error:
            raise PlatformError(f"discord refused a reaction: {error}") from error

    async def start_thread(self, message: MessageRef, name: str) -> ThreadRef:
        """A public thread on the message, remembered until it is closed."""
        try:
            thread = await self._partial(message).create_thread(
                name=_clip(name, 100), auto_archive_duration=10080
            )
        except discord.HTTPException as error:
            raise PlatformError(f"discord refused a thread: {error}") from error
        self._threads[thread.id] = _Thread(int(message.channel.id), thread.id)
        await self._save_thread(thread.id)
        return ThreadRef(message.channel, str(thread.id), thread.name)

    async def close_thread(self, thread: ThreadRef) -> None:
        """Archive and lock the thread: read-only for members."""
        thread_id = int(thread.id)
        try:
            channel = self.client.get_channel(thread_id) or await self.client.fetch_channel(
                thread_id
            )
            if isinstance(channel, discord.Thread):
                await channel.edit(archived=True, locked=True)
        except discord.NotFound:
            pass
        except discord.HTTPException as error:
            raise PlatformError(f"discord refused to close a thread: {error}") from error
        self._threads.pop(thread_id, None)
        await state.set_state(self.db, NAME, f"thread:{thread_id}", _CLOSED, now=self.clock.now())

    async def _member(self, user_id: int, channel: ChannelRef) -> discord.Member:
        where = self.client.get_channel(int(channel.id)) or await self.client.fetch_channel(
            int(channel.id)
        )
        guild = getattr(where, "guild", None)
        if not isinstance(guild, discord.Guild):
            raise NotSupported("members can only be muted in a server")
        cached = self._members.get((guild.id, user_id))
        return cached or guild.get_member(user_id) or await guild.fetch_member(user_id)

    async def mute(self, user: UserRef, channel: ChannelRef, until: datetime) -> None:
        """A timeout (at most Discord's 28 days) in the channel's server."""
        until = min(until, self.clock.now() + MAX_TIMEOUT)
        try:
            member = await self._member(int(user.id), channel)
            await member.timeout(until, reason="Cercle: courtesy rules")
        except discord.HTTPException as error:
            raise PlatformError(f"discord refused a timeout: {error}") from error

    async def unmute(self, user: UserRef, channel: ChannelRef) -> None:
        """Lift the timeout."""
        try:
            member = await self._member(int(user.id), channel)
            await member.timeout(None, reason="Cercle: mute lifted")
        except discord.HTTPException as error:
            raise PlatformError(f"discord refused to lift a timeout: {error}") from error

    async def role_of(self, user: UserRef, channel: ChannelRef) -> Role:
        """Host: may manage the server or its messages here, or holds a configured host role."""
        if channel.direct:
            return Role.MEMBER
        try:
            member = await self._member(int(user.id), channel)
            where = self.client.get_channel(int(channel.id))
        except (discord.HTTPException, NotSupported):
            return Role.MEMBER
        return Role.HOST if self._is_host(member, where) else Role.MEMBER

    def _is_host(self, member: discord.Member, where: object) -> bool:
        if self._host_roles.intersection(role.id for role in member.roles):
            return True
        permissions = (
            where.permissions_for(member)
            if isinstance(where, discord.abc.GuildChannel | discord.Thread)
            else member.guild_permissions
        )
        return permissions.manage_guild or permissions.manage_messages
