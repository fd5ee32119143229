"""Receiving: the sync loop, gaps filled from ``/messages``, invites, translation to events.

The ``next_batch`` token is stored only after every event it covers was handled, so a crash
replays at most what was not handled (the core drops duplicates). When the core could not
settle an event (``EventNotHandled``) the sync fails before its token is stored, and the loop
retries it from the stored token, with backoff; so does the catch-up sync at start-up, which
then does not keep the bot from starting. A restart resumes from the
stored token with the full room state, and a gap (a "limited" timeline) is filled from
``/messages``. History from before the bot joined a room is never handled, and the very first
sync only records where "now" is. Invites are accepted only from ``allowed_inviters``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Iterable
from typing import Any, Final

from nio import MessageDirection, RoomMessagesResponse, SyncResponse

from bot.adapters.matrix.base import NEXT_BATCH, REACTION, MatrixBase, log
from bot.adapters.matrix.events import (
    Reaction,
    is_own_join,
    privileged_creators,
    relation,
    translate,
)
from bot.platform import EventNotHandled, PlatformError
from bot.types import ChannelRef, Event, UserRef
from storage import state

#: Seconds before a failed sync is tried again (doubling, up to ``reconnect_cap``).
FIRST_RETRY: Final = 1.0


class Syncing(MatrixBase):
    """The sync loop and what it hands the core."""

    async def _loop(self, first_delay: float = 0.0) -> None:
        """Sync until stopped, after ``first_delay`` seconds (a catch-up that must be retried)."""
        delay = min(FIRST_RETRY, self.reconnect_cap)
        try:
            if first_delay:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stopping.wait(), first_delay)
                delay = min(first_delay * 2, self.reconnect_cap)
            while not self._stopping.is_set():
                try:
                    await self._sync_once(timeout_ms=self.sync_timeout_ms)
                    delay = min(FIRST_RETRY, self.reconnect_cap)
                except asyncio.CancelledError:
                    raise
                except Exception as error:
                    if isinstance(error, EventNotHandled):
                        # Its token is not stored: the same events come again.
                        log.warning(
                            "Matrix: %s; the sync is retried from the stored position in %.1f s",
                            error,
                            delay,
                        )
                    else:
                        log.warning("Matrix sync failed (%s); retrying in %.1f s", error, delay)
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._stopping.wait(), delay)
                    delay = min(delay * 2, self.reconnect_cap)
        finally:
            self._closed.set()

    async def _sync_once(self, *, timeout_ms: int, full_state: bool = False) -> None:
        since = self._next_batch
        response = await self._call(
            "sync",
            self.client.sync,
            timeout=timeout_ms,
            sync_filter=self._filter_id,
            since=since,
            full_state=full_state or None,
        )
        assert isinstance(response, SyncResponse)
        for room_id, invite in response.rooms.invite.items():
            await self._on_invite(room_id, [e.source for e in invite.invite_state])
        if since is None:
            # First start ever: whatever is already in the rooms is history, never handled.
            log.info(
                "first Matrix sync: %d rooms; history is not handled", len(response.rooms.join)
            )
        for room_id, info in response.rooms.join.items():
            for source in (
                *(e.source for e in info.state),
                *(e.source for e in info.timeline.events),
            ):
                if source.get("type") == "m.room.create":
                    self._creators[room_id] = privileged_creators(source)
        if since is not None:
            for room_id, info in response.rooms.join.items():
                events = [e.source for e in info.timeline.events]
                if info.timeline.limited and info.timeline.prev_batch:
                    events = await self._backfill(room_id, info.timeline.prev_batch, since) + events
                await self._handle_room(room_id, events)
        # Only now is everything this token covers handled: store it.
        self._next_batch = response.next_batch
        await self._set(NEXT_BATCH, response.next_batch)

    async def _backfill(self, room_id: str, start: str, since: str) -> list[dict[str, Any]]:
        """Events between ``since`` and a limited timeline's start (oldest first)."""
        found: list[dict[str, Any]] = []
        token: str | None = start
        for _page in range(100):  # bounded: 100 pages of the filter's size
            response = await self._call(
                "backfill",
                self.client.room_messages,
                room_id,
                start=token,
                end=since,
                direction=MessageDirection.back,
                limit=max(self.timeline_limit, 50),
            )
            assert isinstance(response, RoomMessagesResponse)
            found.extend(e.source for e in response.chunk)
            if not response.chunk or not response.end or response.end == token:
                break
            token = response.end
        else:
            log.warning("room %s: gap larger than the backfill bound; some events skipped", room_id)
        found.reverse()
        if found:
            log.info("room %s: filled a sync gap with %d events", room_id, len(found))
        return found

    async def _handle_room(self, room_id: str, events: list[dict[str, Any]]) -> None:
        # Never handle what happened before the bot joined: cut at its (latest) own join.
        for index in range(len(events) - 1, -1, -1):
            if is_own_join(events[index], self.user_id):
                events = events[index + 1 :]
                break
        for source in events:
            await self._handle_event(room_id, source)

    async def _handle_event(self, room_id: str, source: dict[str, Any]) -> None:
        event_id = source.get("event_id")
        relates = relation(source)
        if relates.get("rel_type") == "m.thread" and isinstance(event_id, str):
            self._remember(self._thread_tail, str(relates.get("event_id")), event_id)
        if source.get("sender") == self.user_id:
            return  # the bot's own output (and its own redactions) are already known
        if source.get("type") == "m.reaction" and isinstance(event_id, str):
            key, target = relates.get("key"), relates.get("event_id")
            if isinstance(key, str) and isinstance(target, str):
                reaction = Reaction(room_id, target, str(source.get("sender")), key)
                self._remember(self._reactions, event_id, reaction)
                await self._set(
                    REACTION + event_id, json.dumps([room_id, target, reaction.user, key])
                )
        redacted = (source.get("content") or {}).get("redacts") or source.get("redacts")
        stored_reaction = None
        if source.get("type") == "m.room.redaction" and isinstance(redacted, str):
            stored_reaction = self._reactions.get(redacted) or await self._stored_reaction(redacted)
        event = translate(
            source,
            self._channel(room_id),
            lambda uid: self._user(room_id, uid),
            lambda _id: stored_reaction,
        )
        if event is not None:
            try:
                await self._deliver(event)
            except EventNotHandled as error:
                raise EventNotHandled(
                    f"event {event_id} in {room_id} not handled: {error}"
                ) from error
        if isinstance(event_id, str):
            self._remember(self._handled, event_id, None)
            async with self._handled_changed:
                self._handled_changed.notify_all()

    async def _stored_reaction(self, event_id: str) -> Reaction | None:
        raw = await state.get_state(self.db, self.name, REACTION + event_id)
        if not raw:
            return None
        room_id, target, user, key = json.loads(raw)
        return Reaction(room_id, target, user, key)

    async def _deliver(self, event: Event) -> None:
        if self._sink is not None:
            await self._sink(event)

    async def wait_handled(self, event_ids: Iterable[str], within: float = 30.0) -> None:
        """Wait until every event in ``event_ids`` went through the sink (for tests and tools)."""
        wanted = set(event_ids)

        async def all_seen() -> None:
            async with self._handled_changed:
                await self._handled_changed.wait_for(lambda: wanted <= self._handled.keys())

        await asyncio.wait_for(all_seen(), within)

    async def _on_invite(self, room_id: str, invite_state: list[dict[str, Any]]) -> None:
        own = next(
            (
                e
                for e in invite_state
                if e.get("type") == "m.room.member" and e.get("state_key") == self.user_id
            ),
            None,
        )
        inviter = str((own or {}).get("sender", ""))
        direct = bool(((own or {}).get("content") or {}).get("is_direct"))
        if not self._allowed_inviter(inviter):
            log.info("declining the invite to %s from %s (not allowed)", room_id, inviter or "?")
            try:
                await self._call("decline invite", self.client.room_leave, room_id)
            except PlatformError as error:
                log.warning("could not decline the invite to %s: %s", room_id, error)
            return
        log.info("joining %s, invited by %s", room_id, inviter)
        await self._call("join", self.client.join, room_id)
        if direct and inviter not in self._direct:
            await self._remember_direct(inviter, room_id)

    def _allowed_inviter(self, user_id: str) -> bool:
        for entry in self.settings.allowed_inviters:
            if user_id == entry or (entry.startswith(":") and user_id.endswith(entry)):
                return True
        return False

    def _channel(self, room_id: str) -> ChannelRef:
        room = self.client.rooms.get(room_id) if self._client is not None else None
        name = room.display_name if room is not None else ""
        return ChannelRef(self.name, room_id, name=name, direct=room_id in self._direct_rooms)

    def _user(self, room_id: str, user_id: str) -> UserRef:
        room = self.client.rooms.get(room_id) if self._client is not None else None
        shown = room.user_name(user_id) if room is not None else None
        return UserRef(self.name, user_id, shown or "")
