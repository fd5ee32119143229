"""The Matrix adapter (matrix-nio, unencrypted rooms only): its lifecycle, composed of parts.

- **Session** (:mod:`~bot.adapters.matrix.session`): logs in with the password once and keeps
  the access token and device id in storage, so restarts reuse the device; or starts from a
  configured access token.
- **Sync** (:mod:`~bot.adapters.matrix.sync`): a filtered sync loop whose token is stored only
  after every event it covers was handled; gaps are filled from ``/messages``; invites are
  accepted only from ``allowed_inviters`` (user ids or ``:server`` suffixes).
- **Output** (:mod:`~bot.adapters.matrix.sending`): ``m.notice`` with ``m.mentions`` empty, so
  nobody is pinged; attachments as ``m.image``/``m.file``.
- **Moderation** (:mod:`~bot.adapters.matrix.moderation`): power levels.
- **Resilience** (:mod:`~bot.adapters.matrix.requests`): bounded retries of 429s and connection
  errors, then :class:`RateLimited`; the sync loop reconnects with exponential backoff.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

from nio import AsyncClient, AsyncClientConfig

from bot.adapters.matrix.base import DM, NEXT_BATCH, RateLimited, log
from bot.adapters.matrix.events import Reaction
from bot.adapters.matrix.moderation import Moderation
from bot.adapters.matrix.requests import Requests
from bot.adapters.matrix.sending import Sending
from bot.adapters.matrix.session import Session
from bot.adapters.matrix.sync import FIRST_RETRY, Syncing
from bot.clock import Clock
from bot.platform import MATRIX_LIKE, Capabilities, EventNotHandled, EventSink, PlatformError
from storage import state

if TYPE_CHECKING:
    from bot.adapters.matrix.settings import MatrixSettings
    from bot.commands import CommandSpec
    from storage.database import Database

__all__ = ["MatrixPlatform", "RateLimited"]


class MatrixPlatform(Requests, Session, Syncing, Sending, Moderation):
    """A Matrix account driven through matrix-nio."""

    def __init__(
        self,
        settings: MatrixSettings,
        db: Database,
        clock: Clock,
        *,
        name: str = "matrix",
        device_name: str = "Cercle",
        timeline_limit: int = 50,
        sync_timeout_ms: int = 30_000,
        max_retries: int = 5,
        retry_floor: float = 0.5,
        retry_cap: float = 30.0,
        reconnect_cap: float = 60.0,
    ) -> None:
        if not settings.homeserver or not settings.user_id:
            raise PlatformError("matrix.homeserver and matrix.user_id are required")
        self.name = name
        self.capabilities: Capabilities = replace(
            MATRIX_LIKE, command_prefix=settings.command_prefix
        )
        self.settings = settings
        self.db = db
        self.clock = clock
        self.user_id: str = settings.user_id
        self.device_name = device_name
        self.timeline_limit = timeline_limit
        self.sync_timeout_ms = sync_timeout_ms
        self.max_retries = max_retries
        self.retry_floor = retry_floor
        self.retry_cap = retry_cap
        self.reconnect_cap = reconnect_cap
        #: How often the homeserver answered 429 (for logs and tests).
        self.rate_limited = 0
        #: Whether this run had to log in with the password (False: a stored session was reused).
        self.logged_in_with_password = False
        self.device_id: str | None = None
        self._client: AsyncClient | None = None
        self._sink: EventSink | None = None
        self._filter_id: str | None = None
        self._next_batch: str | None = None
        self._task: asyncio.Task[None] | None = None
        self._closed = asyncio.Event()
        self._stopping = asyncio.Event()
        self._failure: BaseException | None = None
        self._direct: dict[str, str] = {}  # user id -> direct room id
        self._direct_rooms: set[str] = set()
        self._direct_locks: dict[str, asyncio.Lock] = {}
        self._creators: dict[str, frozenset[str]] = {}  # room id -> creators with infinite power
        self._loaded: set[str] = set()  # rooms whose full state the client holds
        self._reactions: OrderedDict[str, Reaction] = OrderedDict()
        self._thread_tail: OrderedDict[str, str] = OrderedDict()
        self._handled: OrderedDict[str, None] = OrderedDict()
        self._handled_changed = asyncio.Condition()

    # ------------------------------------------------------------ lifecycle

    async def start(self, sink: EventSink) -> None:
        """Log in, catch up from the stored sync token, then keep syncing in the background."""
        self._sink = sink
        self._closed.clear()
        self._stopping.clear()
        self._failure = None
        self._loaded.clear()  # a new client knows no room
        self._client = AsyncClient(
            self.settings.homeserver or "",
            self.user_id,
            config=AsyncClientConfig(
                encryption_enabled=False,
                store_sync_tokens=False,
                # nio retries 429s forever by default: return them to us at once instead, we
                # decide (bounded retries with backoff).
                max_limit_exceeded=0,
                max_timeouts=0,
                request_timeout=60,
            ),
        )
        try:
            await self._open_session()
            for key, room_id in (await state.states_with_prefix(self.db, self.name, DM)).items():
                if room_id:
                    self._direct[key.removeprefix(DM)] = room_id
                    self._direct_rooms.add(room_id)
            self._filter_id = await self._upload_filter()
            self._next_batch = await state.get_state(self.db, self.name, NEXT_BATCH)
            # Catch up now, before serving.
            first_delay = await self._catch_up()
        except BaseException:
            await self._client.close()
            self._client = None
            raise
        self._task = asyncio.create_task(self._loop(first_delay), name=f"{self.name}-sync")

    async def _catch_up(self) -> float:
        """The start-up sync; the delay before the loop's first sync (0 unless it must retry).

        An event the core could not settle (the database is away, say) does not stop the bot
        from starting: the token stays where it was, and the loop syncs again from it, with
        the same backoff as any failed sync.
        """
        try:
            await self._sync_once(timeout_ms=0)
        except EventNotHandled as error:
            delay = min(FIRST_RETRY, self.reconnect_cap)
            log.warning(
                "Matrix: %s; starting anyway, the catch-up is retried from the stored position"
                " in %.1f s",
                error,
                delay,
            )
            return delay
        return 0.0

    async def stop(self) -> None:
        """Stop syncing and close the connection (the session stays valid for a restart)."""
        self._stopping.set()
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if self._client is not None:
            await self._client.close()
            self._client = None
        self._closed.set()

    async def wait_closed(self) -> None:
        """Return when the adapter stopped; raise what stopped it if it failed."""
        await self._closed.wait()
        if self._failure is not None:
            raise self._failure

    async def install_commands(self, specs: Sequence[CommandSpec]) -> None:
        """Nothing to install: commands are text parsed by the core."""
