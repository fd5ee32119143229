"""What the parts of the Discord adapter share: their state, declared once, and the logger.

:class:`~bot.adapters.discord.platform.DiscordPlatform` is composed of parts, each a subclass
of :class:`DiscordBase`: receiving (:mod:`~bot.adapters.discord.events`), interactions
(:mod:`~bot.adapters.discord.interactions`), webhook reposts
(:mod:`~bot.adapters.discord.webhooks`) and catch-up (:mod:`~bot.adapters.discord.catchup`).
The platform's constructor sets every attribute. The methods one part calls on another are
declared here for the type checker only: at run time each resolves to the part defining it.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from typing import TYPE_CHECKING, Final

import discord

from bot.adapters.discord.settings import DiscordSettings
from bot.clock import Clock
from bot.commands import CommandSpec
from bot.platform import EventSink, Suggester
from bot.supervisor import Supervisor
from bot.types import ChannelRef, ThreadRef, UserRef
from storage.database import Database

if TYPE_CHECKING:
    from bot.adapters.discord.catchup import _Thread
    from bot.adapters.discord.events import _Client, _Ordered

#: The adapter's one logger, under the name it has always had (log settings and tests use it).
log = logging.getLogger("bot.adapters.discord.platform")

NAME: Final = "discord"


class DiscordBase:
    """The state the parts of :class:`~bot.adapters.discord.platform.DiscordPlatform` share."""

    settings: DiscordSettings
    db: Database
    clock: Clock
    locale: str
    #: False when Discord refused the Message Content intent: members' text arrives empty.
    reads_content: bool
    _specs: dict[tuple[str, ...], CommandSpec]
    _sink: EventSink | None
    _suggester: Suggester | None
    _client: _Client | None
    _threads: dict[int, _Thread]
    _members: OrderedDict[tuple[int, int], discord.Member]
    _last_channel: OrderedDict[int, int]
    #: Per channel, events handed over one at a time.
    _ordered: _Ordered
    #: Runs the catch-up (its state is there for health reports).
    supervisor: Supervisor
    #: Round threads with a message the core could not settle: their position stays before it.
    _behind: set[int]
    _catch_up_again: bool

    if TYPE_CHECKING:
        # platform.py: lifecycle, sending, moderation

        @property
        def client(self) -> discord.Client: ...

        def _messageable(self, channel_id: int) -> discord.PartialMessageable: ...

        async def _user(self, user_id: int) -> discord.User: ...

        async def _member(self, user_id: int, channel: ChannelRef) -> discord.Member: ...

        def _is_host(self, member: discord.Member, where: object) -> bool: ...

        # events.py: receiving

        def _refs(self, channel: object) -> tuple[ChannelRef, ThreadRef | None]: ...

        def _userref(self, user: discord.abc.User) -> UserRef: ...

        async def on_message(self, message: discord.Message) -> None: ...

        async def _receive(self, message: discord.Message, *, ordered: bool = True) -> None: ...

        # catchup.py: no loss

        async def _seen(self, channel_id: int, message_id: int, *, live: bool = False) -> None: ...

        def _refused_live(self, channel_id: int, message_id: int, error: Exception) -> None: ...
