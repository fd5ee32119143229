"""The Discord adapter: discord.py's gateway and REST, translated to and from the core.

Events become the core's neutral events at the edge; application commands are rendered from
the specs (:mod:`bot.adapters.discord.commands`) and synced at login only when their hash
changed. Every send denies all mentions at the API level. Round threads the bot opened are
remembered with the last message seen, so after a restart their history is fed through once.
Held messages go to the hosts' review channel with Approve / Reject buttons whose clicks run
``/mod approve|reject`` through the core; reposts of members' words go through a channel
webhook under the author's name and avatar when the bot may manage webhooks.
"""

from __future__ import annotations

import asyncio
import contextvars
import io
import logging
import re
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Final

import discord
from discord import app_commands

from bot.adapters.discord.commands import (
    MESSAGE,
    REPORT_MENU,
    REPORT_PATH,
    payload_hash,
    read_invocation,
    render_commands,
)
from bot.clock import Clock
from bot.commands import CommandSpec, OptionType
from bot.config import DiscordSettings
from bot.i18n import N_, translator
from bot.messenger import escape, quote
from bot.platform import (
    DISCORD_LIKE,
    EventSink,
    HeldMessage,
    NotSupported,
    PlatformError,
    Suggester,
    SuggestionRequest,
)
from bot.types import (
    Card,
    ChannelRef,
    CommandInvoked,
    Content,
    Event,
    MessageDeleted,
    MessageEdited,
    MessagePosted,
    MessageRef,
    ReactionAdded,
    ReactionRemoved,
    Role,
    ThreadRef,
    UserRef,
)
from storage import state
from storage.database import Database

log = logging.getLogger(__name__)

NAME: Final = "discord"
#: Brings a client to READY (login, gateway) and returns the connection's lifetime, if it has
#: one; tests pass a connector that attaches SimCord instead.
Connector = Callable[[discord.Client], Awaitable["asyncio.Future[None] | None"]]

#: What the bot does, and nothing more: the invite asks for exactly these.
PERMISSIONS: Final = discord.Permissions(
    view_channel=True,
    send_messages=True,
    send_messages_in_threads=True,
    create_public_threads=True,
    manage_threads=True,  # lock a round's thread when it closes
    read_message_history=True,  # catch up on a thread after a restart
    add_reactions=True,
    embed_links=True,
    attach_files=True,
    manage_messages=True,  # moderation: delete a message that breaks the charter
    moderate_members=True,  # moderation: time a member out (mute)
    manage_webhooks=True,  # repost a redacted or approved message under its author's name
)
SCOPES: Final = ("bot", "applications.commands")
#: Discord's longest timeout.
MAX_TIMEOUT: Final = timedelta(days=28)
NO_MENTIONS: Final = discord.AllowedMentions.none()

MISSING_INTENT_LOG: Final = (
    "discord: the Message Content intent is not enabled for this application, so members' "
    "messages arrive empty and answers in threads cannot be read. Enable it in the developer "
    "portal: https://discord.com/developers/applications → your application → Bot → "
    "Privileged Gateway Intents → Message Content Intent, save, then restart Cercle. Until then "
    "only commands (/answer) work."
)
MISSING_INTENT_NOTICE: Final = N_(
    "I cannot read the messages posted here: the Message Content intent of my application is "
    "off, so answers written in threads are lost. To enable it: Discord developer portal → my "
    "application → Bot → Privileged Gateway Intents → turn on Message Content Intent, save, then "
    "restart me. Until then members can answer with /answer."
)
DMS_CLOSED: Final = N_(
    "{mention}, I could not send you a private message because your direct messages are "
    "closed. To receive my notes, allow direct messages from members of this server."
)
DONE: Final = "✅"
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
#: The one webhook per channel through which members' words are reposted under their name.
WEBHOOK_NAME: Final = "Cercle"

_EMBED_TITLE: Final = 256
_EMBED_DESCRIPTION: Final = 4096
_EMBED_FIELDS: Final = 25
_EMBED_FIELD_NAME: Final = 256
_EMBED_FIELD_VALUE: Final = 1024
_EMBED_FOOTER: Final = 2048
_EMBED_TOTAL: Final = 6000
_MAX_FILES: Final = 10
_CLOSED: Final = "closed"
_RECENT_LIMIT: Final = 5000


def intents(*, message_content: bool = True) -> discord.Intents:
    """The gateway intents Cercle asks for (only Message Content is privileged)."""
    wanted = discord.Intents.none()
    wanted.guilds = True
    wanted.guild_messages = True
    wanted.dm_messages = True
    wanted.guild_reactions = True
    wanted.message_content = message_content
    return wanted


def invite_url(application_id: int) -> str:
    """The link that adds the bot to a server with exactly :data:`PERMISSIONS`."""
    return discord.utils.oauth_url(application_id, permissions=PERMISSIONS, scopes=SCOPES)


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


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


def embed_for(card: Card) -> discord.Embed:
    """A card as an embed within Discord's limits (fields dropped last-first if needed)."""
    embed = discord.Embed(
        title=_clip(card.title, _EMBED_TITLE) or None,
        description=_clip(card.body, _EMBED_DESCRIPTION) or None,
    )
    for name, value in card.fields[:_EMBED_FIELDS]:
        embed.add_field(
            name=_clip(name, _EMBED_FIELD_NAME) or "\u200b",
            value=_clip(value, _EMBED_FIELD_VALUE) or "\u200b",
            inline=False,
        )
    if card.footer:
        embed.set_footer(text=_clip(card.footer, _EMBED_FOOTER))
    while len(embed) > _EMBED_TOTAL and embed.fields:
        embed.remove_field(len(embed.fields) - 1)
    if len(embed) > _EMBED_TOTAL and embed.description:
        embed.description = _clip(embed.description, len(embed.description) - len(embed) + 6000)
    return embed


def message_kwargs(content: Content) -> dict[str, Any]:
    """What ``send``/``edit`` take for ``content``: text, an embed, files, no mentions."""
    kwargs: dict[str, Any] = {"allowed_mentions": NO_MENTIONS}
    if content.text:
        kwargs["content"] = content.text
    files = [
        discord.File(io.BytesIO(a.data), filename=a.filename, description=a.description or None)
        for a in content.attachments[:_MAX_FILES]
    ]
    if content.card is not None:
        embed = embed_for(content.card)
        image = next((a for a in content.attachments if a.content_type.startswith("image/")), None)
        if image is not None:
            embed.set_image(url=f"attachment://{image.filename}")
        kwargs["embeds"] = [embed]
    if files:
        kwargs["files"] = files
    return kwargs


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


class _Client(discord.Client):
    """discord.py's client, its events forwarded to the platform."""

    def __init__(self, platform: DiscordPlatform, **options: Any) -> None:
        super().__init__(**options)
        self.platform = platform

    async def setup_hook(self) -> None:
        """At login, before the gateway: sync the commands if they changed."""
        await self.platform.sync_commands()

    async def on_ready(self) -> None:
        """Connected (again): catch up on the round threads."""
        self.platform.schedule_catch_up()

    async def on_message(self, message: discord.Message) -> None:
        await self.platform.on_message(message)

    async def on_raw_message_edit(self, payload: discord.RawMessageUpdateEvent) -> None:
        await self.platform.on_edit(payload)

    async def on_raw_message_delete(self, payload: discord.RawMessageDeleteEvent) -> None:
        await self.platform.on_delete(payload.channel_id, payload.message_id)

    async def on_raw_bulk_message_delete(self, payload: discord.RawBulkMessageDeleteEvent) -> None:
        for message_id in sorted(payload.message_ids):
            await self.platform.on_delete(payload.channel_id, message_id)

    async def on_raw_reaction_add(self, payload: discord.RawReactionActionEvent) -> None:
        await self.platform.on_reaction(payload, added=True)

    async def on_raw_reaction_remove(self, payload: discord.RawReactionActionEvent) -> None:
        await self.platform.on_reaction(payload, added=False)

    async def on_interaction(self, interaction: discord.Interaction) -> None:
        await self.platform.on_interaction(interaction)


@dataclass(slots=True)
class _Thread:
    parent_id: int
    last_id: int


@dataclass(slots=True)
class _Ordered:
    """Per channel, events are handed over one at a time, in arrival order."""

    locks: dict[int, tuple[asyncio.Lock, int]] = field(default_factory=dict)

    async def run(self, key: int, call: Awaitable[None]) -> None:
        lock, users = self.locks.get(key, (asyncio.Lock(), 0))
        self.locks[key] = (lock, users + 1)
        try:
            async with lock:
                await call
        finally:
            lock, users = self.locks[key]
            if users <= 1:
                del self.locks[key]
            else:
                self.locks[key] = (lock, users - 1)


class DiscordPlatform:
    """The :class:`~bot.platform.Platform` for Discord."""

    def __init__(
        self,
        settings: DiscordSettings,
        *,
        db: Database,
        clock: Clock,
        locale: str = "fr",
        connector: Connector | None = None,
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
        self._catching_up: asyncio.Task[None] | None = None
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
        if self._catching_up is not None:
            self._catching_up.cancel()
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

    # ------------------------------------------------------------ receiving

    def _refs(self, channel: object) -> tuple[ChannelRef, ThreadRef | None]:
        if isinstance(channel, discord.Thread):
            parent = channel.parent
            ref = ChannelRef(NAME, str(channel.parent_id), name=getattr(parent, "name", "") or "")
            return ref, ThreadRef(ref, str(channel.id), channel.name)
        if isinstance(channel, discord.DMChannel | discord.GroupChannel):
            return ChannelRef(NAME, str(channel.id), direct=True), None
        channel_id = int(getattr(channel, "id", 0))
        known = self._threads.get(channel_id)
        if known is not None:  # a thread of ours, not in the cache
            ref = ChannelRef(NAME, str(known.parent_id))
            return ref, ThreadRef(ref, str(channel_id))
        return ChannelRef(NAME, str(channel_id), name=getattr(channel, "name", "") or ""), None

    def _channel(self, channel_id: int) -> object:
        return self.client.get_channel(channel_id) or self._messageable(channel_id)

    def _userref(self, user: discord.abc.User) -> UserRef:
        if isinstance(user, discord.Member):
            self._members[(user.guild.id, user.id)] = user
            self._members.move_to_end((user.guild.id, user.id))
            if len(self._members) > _RECENT_LIMIT:
                self._members.popitem(last=False)
        return UserRef(NAME, str(user.id), user.display_name)

    def _ignored(self, author: discord.abc.User) -> bool:
        return author.bot or (self._client is not None and author == self._client.user)

    async def _deliver(self, key: int, event: Event) -> None:
        sink = self._sink
        if sink is None:
            return
        await self._ordered.run(key, sink(event))

    async def on_message(self, message: discord.Message) -> None:
        """A member's message, a thread answer or a reply (a comment)."""
        if self._ignored(message.author) or message.type not in (
            discord.MessageType.default,
            discord.MessageType.reply,
        ):
            return
        if not self.reads_content and message.guild is not None and not message.content:
            log.debug("discord: message %s unreadable without Message Content", message.id)
            return
        channel, thread = self._refs(message.channel)
        reply_to = None
        reference = message.reference
        if message.type is discord.MessageType.reply and reference and reference.message_id:
            if reference.channel_id == message.channel.id:
                reply_to = MessageRef(channel, str(reference.message_id), thread)
            else:
                where, in_thread = self._refs(self._channel(reference.channel_id))
                reply_to = MessageRef(where, str(reference.message_id), in_thread)
        self._last_channel[message.author.id] = message.channel.id
        self._last_channel.move_to_end(message.author.id)
        if len(self._last_channel) > _RECENT_LIMIT:
            self._last_channel.popitem(last=False)
        event = MessagePosted(
            MessageRef(channel, str(message.id), thread),
            self._userref(message.author),
            message.content,
            message.created_at,
            reply_to,
        )
        await self._deliver(message.channel.id, event)
        await self._seen(message.channel.id, message.id)

    async def on_edit(self, payload: discord.RawMessageUpdateEvent) -> None:
        """A member edited a message (embed unfurls, with no edit time, are not edits)."""
        message = payload.message
        if self._ignored(message.author) or message.edited_at is None:
            return
        if not self.reads_content and message.guild is not None and not message.content:
            return
        channel, thread = self._refs(message.channel)
        event = MessageEdited(
            MessageRef(channel, str(message.id), thread),
            self._userref(message.author),
            message.content,
            message.edited_at,
        )
        await self._deliver(message.channel.id, event)

    async def on_delete(self, channel_id: int, message_id: int) -> None:
        """A message was deleted."""
        channel, thread = self._refs(self._channel(channel_id))
        event = MessageDeleted(MessageRef(channel, str(message_id), thread), self.clock.now())
        await self._deliver(channel_id, event)

    async def on_reaction(self, payload: discord.RawReactionActionEvent, *, added: bool) -> None:
        """A member reacted, or took a reaction back."""
        me = self._client.user if self._client else None
        if me is not None and payload.user_id == me.id:
            return
        member = payload.member
        if member is not None:
            if member.bot:
                return
            user = self._userref(member)
        else:
            cached = self.client.get_user(payload.user_id)
            if cached is not None and cached.bot:
                return
            name = cached.display_name if cached else ""
            user = UserRef(NAME, str(payload.user_id), name)
        channel, thread = self._refs(self._channel(payload.channel_id))
        ref = MessageRef(channel, str(payload.message_id), thread)
        kind = ReactionAdded if added else ReactionRemoved
        await self._deliver(
            payload.channel_id, kind(ref, user, str(payload.emoji), self.clock.now())
        )

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

    async def _webhook(self, channel_id: int) -> discord.Webhook | None:
        """The channel's Cercle webhook, found or created once, then cached."""
        cached = self._webhooks.get(channel_id)
        if cached is not None:
            return cached
        channel = self.client.get_channel(channel_id) or await self.client.fetch_channel(channel_id)
        if not isinstance(channel, discord.TextChannel):
            return None
        me = self.client.user
        existing = [
            w
            for w in await channel.webhooks()
            if w.name == WEBHOOK_NAME and w.token and me is not None and w.user == me
        ]
        webhook = existing[0] if existing else None
        if webhook is None:
            webhook = await channel.create_webhook(
                name=WEBHOOK_NAME, reason="Cercle: repost members' words under their name"
            )
        self._webhooks[channel_id] = webhook
        return webhook

    async def _avatar(self, user: UserRef, channel: ChannelRef) -> str | None:
        try:
            member: discord.abc.User = await self._member(int(user.id), channel)
        except (discord.HTTPException, NotSupported):
            try:
                member = await self._user(int(user.id))
            except discord.HTTPException:
                return None
        return member.display_avatar.url

    async def repost_as(
        self, author: UserRef, text: str, channel: ChannelRef, *, thread: ThreadRef | None = None
    ) -> MessageRef | None:
        """Repost through the channel's webhook with the author's name and avatar.

        ``None`` (the core then reposts with "{name} wrote:") when the bot lacks Manage
        Webhooks there, or Discord refuses the name.
        """
        channel_id = int(channel.id)
        kwargs: dict[str, Any] = {
            "content": _clip(text, DISCORD_LIKE.max_message_length),
            "username": _clip(author.label, 80),
            "allowed_mentions": NO_MENTIONS,
            "wait": True,
        }
        if thread is not None:
            kwargs["thread"] = discord.Object(int(thread.id))
        for _attempt in range(2):
            try:
                webhook = await self._webhook(channel_id)
                if webhook is None:
                    return None
                avatar = await self._avatar(author, channel)
                if avatar is not None:
                    kwargs["avatar_url"] = avatar
            except discord.Forbidden:
                log.info("discord: no Manage Webhooks in %s; attributed repost", channel_id)
                return None
            except discord.HTTPException as error:
                log.warning("discord: no webhook in %s (%s); attributed repost", channel_id, error)
                return None
            try:
                sent = await webhook.send(**kwargs)
            except discord.NotFound:
                self._webhooks.pop(channel_id, None)  # deleted by someone: make a new one
                continue
            except discord.HTTPException as error:
                log.warning("discord: webhook repost refused in %s: %s", channel_id, error)
                return None
            return MessageRef(channel, str(sent.id), thread)
        return None

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

    # ------------------------------------------------------------ no loss

    async def _load_threads(self) -> None:
        stored = await state.states_with_prefix(self.db, NAME, "thread:")
        for key, value in stored.items():
            if value == _CLOSED or ":" not in value:
                continue
            parent, last = value.split(":", 1)
            self._threads[int(key.removeprefix("thread:"))] = _Thread(int(parent), int(last))

    async def _save_thread(self, thread_id: int) -> None:
        known = self._threads.get(thread_id)
        if known is not None:
            await state.set_state(
                self.db,
                NAME,
                f"thread:{thread_id}",
                f"{known.parent_id}:{known.last_id}",
                now=self.clock.now(),
            )

    async def _seen(self, channel_id: int, message_id: int) -> None:
        known = self._threads.get(channel_id)
        if known is not None and message_id > known.last_id:
            known.last_id = message_id
            await self._save_thread(channel_id)

    def schedule_catch_up(self) -> None:
        """Fetch what the open round threads received while the bot was away (once at a time)."""
        if self._catching_up is None or self._catching_up.done():
            self._catching_up = asyncio.ensure_future(self.catch_up())

    async def catch_up(self) -> None:
        """Feed every message posted in an open round thread since the last one seen."""
        for thread_id in list(self._threads):
            known = self._threads.get(thread_id)
            if known is None:
                continue
            try:
                channel = self.client.get_channel(thread_id) or await self.client.fetch_channel(
                    thread_id
                )
                if not isinstance(channel, discord.Thread):
                    continue
                count = 0
                async for message in channel.history(
                    limit=None, after=discord.Object(known.last_id), oldest_first=True
                ):
                    await self.on_message(message)
                    await self._seen(thread_id, message.id)
                    count += 1
                if count:
                    log.info("discord: caught up on %d messages in thread %s", count, thread_id)
            except discord.NotFound:
                self._threads.pop(thread_id, None)
            except discord.HTTPException:
                log.exception("discord: could not catch up on thread %s", thread_id)
