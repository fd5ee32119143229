"""What the parts of the Matrix adapter share: their state, declared once, and the logger.

:class:`~bot.adapters.matrix.platform.MatrixPlatform` is composed of parts, each a subclass of
:class:`MatrixBase`: requests (:mod:`~bot.adapters.matrix.requests`), the session
(:mod:`~bot.adapters.matrix.session`), sync and invites (:mod:`~bot.adapters.matrix.sync`),
sending (:mod:`~bot.adapters.matrix.sending`) and moderation
(:mod:`~bot.adapters.matrix.moderation`). The platform's constructor sets every attribute. The
methods one part calls on another are declared here for the type checker only: at run time each
resolves to the part defining it.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, Final

from nio import AsyncClient, ErrorResponse, MatrixRoom

from bot.adapters.matrix.events import Reaction
from bot.clock import Clock
from bot.platform import Capabilities, EventSink, PlatformError
from storage.database import Database

if TYPE_CHECKING:
    from bot.adapters.matrix.settings import MatrixSettings

#: The adapter's one logger, under the name it has always had (log settings and tests use it).
log = logging.getLogger("bot.adapters.matrix.platform")

# Keys of the adapter's rows in the state table.
SESSION: Final = "session"
NEXT_BATCH: Final = "next_batch"
DM: Final = "dm:"
MUTE: Final = "mute:"
REACTION: Final = "reaction:"

#: How many event ids, reactions and thread tails each in-memory map keeps.
_REMEMBERED: Final = 10_000


class RateLimited(PlatformError):
    """The homeserver kept answering 429 after every allowed retry."""


class MatrixBase:
    """The state the parts of :class:`~bot.adapters.matrix.platform.MatrixPlatform` share."""

    name: str
    capabilities: Capabilities
    settings: MatrixSettings
    db: Database
    clock: Clock
    user_id: str
    device_name: str
    timeline_limit: int
    sync_timeout_ms: int
    max_retries: int
    retry_floor: float
    retry_cap: float
    reconnect_cap: float
    #: How often the homeserver answered 429 (for logs and tests).
    rate_limited: int
    #: Whether this run had to log in with the password (False: a stored session was reused).
    logged_in_with_password: bool
    device_id: str | None
    _client: AsyncClient | None
    _sink: EventSink | None
    _filter_id: str | None
    _next_batch: str | None
    _task: asyncio.Task[None] | None
    _closed: asyncio.Event
    _stopping: asyncio.Event
    _failure: BaseException | None
    _direct: dict[str, str]  # user id -> direct room id
    _direct_rooms: set[str]
    _direct_locks: dict[str, asyncio.Lock]
    _creators: dict[str, frozenset[str]]  # room id -> creators with infinite power
    _loaded: set[str]  # rooms whose full state the client holds
    _reactions: OrderedDict[str, Reaction]
    _thread_tail: OrderedDict[str, str]
    _handled: OrderedDict[str, None]
    _handled_changed: asyncio.Condition

    @property
    def client(self) -> AsyncClient:
        """The nio client (once started)."""
        if self._client is None:
            raise PlatformError(f"{self.name} is not started")
        return self._client

    @staticmethod
    def _remember(store: OrderedDict[str, Any], key: str, value: Any) -> None:
        store[key] = value
        store.move_to_end(key)
        if len(store) > _REMEMBERED:
            store.popitem(last=False)

    if TYPE_CHECKING:
        # requests.py

        async def _call(
            self, what: str, func: Callable[..., Awaitable[Any]], *args: Any, **kw: Any
        ) -> Any: ...

        async def _set(self, key: str, value: str) -> None: ...

        async def _json(self, method: str, path: str) -> dict[str, Any] | ErrorResponse: ...

        # sync.py

        async def _room_state(self, room_id: str) -> MatrixRoom | None: ...

        # sending.py

        async def _remember_direct(self, user_id: str, room_id: str) -> None: ...
