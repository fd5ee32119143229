"""Receiving: the sync loop, gaps filled from ``/messages``, invites, translation to events.

The ``next_batch`` token is stored only after every event it covers was handled, so a crash
replays at most what was not handled (the core drops duplicates). When the core could not
settle an event (``EventNotHandled``) the sync fails before its token is stored, and the loop
retries it from the stored token, with backoff; so does the catch-up sync at start-up, which
then does not keep the bot from starting. A restart resumes from the stored token, and a gap
(a "limited" timeline) is filled from ``/messages``. A room's full state (members, power
levels) is loaded when it first has news or is asked about, not every room's at start: after
a downtime most rooms (each member's direct room) have none. History from before the bot
joined a room is never handled, and the very first sync only records where "now" is. Invites
are accepted only from ``allowed_inviters``.

A room with a backlog (:data:`~bot.adapters.batches.BATCH_FROM` events or more in one sync,
as after a downtime) is handled in batches (:func:`~bot.adapters.batches.run_batch`): a
sender's events in order, a command or an event about another of the batch alone, platform
effects taking turns. Gaps are read in pages of :data:`BACKFILL_PAGE` events.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Iterable, Sequence
from typing import Any, Final

from nio import (
    Api,
    MatrixRoom,
    MessageDirection,
    RoomGetStateResponse,
    RoomMemberEvent,
    SyncResponse,
)
from nio import Event as NioEvent

from bot.adapters.batches import BATCH_FROM, MAX_BATCH, run_batch
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
#: Events a page of ``/messages`` asks for when filling a gap (Synapse gives at most 1,000).
BACKFILL_PAGE: Final = 1000
#: Rooms whose gaps are filled at once.
BACKFILLS: Final = 8


def _event_id(source: dict[str, Any]) -> str | None:
    event_id = source.get("event_id")
    return event_id if isinstance(event_id, str) else None


class Syncing(MatrixBase):
    """The sync loop and what it hands the core."""

    async def _loop(self, first_delay: float = 0.0) -> None:
        """Sync until stopped, after ``first_delay`` seconds (a catch-up that must be retried)."""
        delay = min(FIRST_RETRY, self.reconnect_cap)
        retrying = bool(first_delay)
        try:
            if first_delay:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stopping.wait(), first_delay)
                delay = min(first_delay * 2, self.reconnect_cap)
            while not self._stopping.is_set():
                try:
                    # A retry reads what is there without waiting: Synapse's waiting sync,
                    # asked again from before the bot joined a room, answers with the room up
                    # to the join only, and the backlog after it would be skipped.
                    await self._sync_once(timeout_ms=0 if retrying else self.sync_timeout_ms)
                    retrying = False
                    delay = min(FIRST_RETRY, self.reconnect_cap)
                except asyncio.CancelledError:
                    raise
                except Exception as error:
                    retrying = True
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

    async def _sync_once(self, *, timeout_ms: int) -> None:
        since = self._next_batch
        response = await self._call(
            "sync",
            self.client.sync,
            timeout=timeout_ms,
            sync_filter=self._filter_id,
            since=since,
        )
        assert isinstance(response, SyncResponse)
        for room_id, invite in response.rooms.invite.items():
            await self._on_invite(room_id, [e.source for e in invite.invite_state])
        if since is None:
            # First start ever: whatever is already in the rooms is history, never handled.
            log.info(
                "first Matrix sync: %d rooms; history is not handled", len(response.rooms.join)
            )
        self._note_creators(response)
        self._loaded.difference_update(response.rooms.leave)
        if since is None:
            self._loaded.update(response.rooms.join)  # a first sync gives every room's state
        else:
            # Gaps (a room busy while the bot was away) are filled side by side, while the
            # rooms seen for the first time get their full state.
            gate = asyncio.Semaphore(BACKFILLS)

            async def gap(room_id: str, prev_batch: str) -> list[dict[str, Any]]:
                async with gate:
                    return await self._backfill(room_id, prev_batch, since)

            joined = list(response.rooms.join.items())
            gaps, _ = await asyncio.gather(
                asyncio.gather(
                    *(
                        gap(room_id, info.timeline.prev_batch)
                        for room_id, info in joined
                        if info.timeline.limited and info.timeline.prev_batch
                    )
                ),
                self._load_state([r for r, _ in joined if r not in self._loaded]),
            )
            filled = iter(gaps)
            for room_id, info in joined:
                events = [e.source for e in info.timeline.events]
                if info.timeline.limited and info.timeline.prev_batch:
                    events = next(filled) + events
                await self._handle_room(room_id, events)
        # Only now is everything this token covers handled: store it.
        self._next_batch = response.next_batch
        await self._set(NEXT_BATCH, response.next_batch)

    async def _load_state(self, rooms: Sequence[str]) -> None:
        """The full state (members, power levels, creators) of ``rooms``, side by side.

        After a restart the client knows no room, and an incremental sync gives a room's
        state changes only: a room is loaded before its first events are handled, the
        others (most, after a downtime) stay unread. Read from ``/rooms/{id}/state``: a
        full-state sync costs the homeserver every room's state (measured 0.4-0.6 s on a
        cold Synapse even filtered to one room, against 15 ms for this read).
        """
        gate = asyncio.Semaphore(BACKFILLS)

        async def load(room_id: str) -> None:
            async with gate:
                response = await self._call("read room state", self.client.room_get_state, room_id)
            assert isinstance(response, RoomGetStateResponse)
            self._apply_state(room_id, response.events)

        await asyncio.gather(*(load(room_id) for room_id in rooms))

    def _apply_state(self, room_id: str, events: list[dict[str, Any]]) -> None:
        """Give the client's room the state ``events``, as nio does a sync's state."""
        room = self.client.rooms.get(room_id)
        if room is None:
            room = self.client.rooms[room_id] = MatrixRoom(room_id, self.user_id)
        for source in events:
            if source.get("type") == "m.room.create":
                self._creators[room_id] = privileged_creators(source)
            event = NioEvent.parse_event(source)
            if isinstance(event, RoomMemberEvent):
                room.handle_membership(event)
            else:
                room.handle_event(event)
        self._loaded.add(room_id)

    async def _room_state(self, room_id: str) -> MatrixRoom | None:
        """The client's room with its full state, loaded first if need be (None: the bot is
        not in it, or it cannot be read now)."""
        if room_id not in self._loaded:
            try:
                await self._load_state([room_id])
            except PlatformError as error:
                log.info("room %s: state not read (%s)", room_id, error)
        # Never the partial room an incremental sync made (default power levels, some members).
        return self.client.rooms.get(room_id) if room_id in self._loaded else None

    def _note_creators(self, response: SyncResponse) -> None:
        for room_id, info in response.rooms.join.items():
            for source in (
                *(e.source for e in info.state),
                *(e.source for e in info.timeline.events),
            ):
                if source.get("type") == "m.room.create":
                    self._creators[room_id] = privileged_creators(source)

    async def _backfill(self, room_id: str, start: str, since: str) -> list[dict[str, Any]]:
        """Events between ``since`` and a limited timeline's start (oldest first)."""
        found: list[dict[str, Any]] = []
        token: str | None = start
        for _page in range(100):  # bounded: 100 pages
            method, path = Api.room_messages(
                self.client.access_token,
                room_id,
                start=token,
                end=since,
                direction=MessageDirection.back,
                limit=max(self.timeline_limit, BACKFILL_PAGE),
            )
            page = await self._call("backfill", self._json, method, path)
            chunk, end = page.get("chunk"), page.get("end")
            events = [e for e in chunk if isinstance(e, dict)] if isinstance(chunk, list) else []
            found.extend(events)
            if not events or not isinstance(end, str) or end == token:
                break
            token = end
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
        if len(events) < BATCH_FROM:
            for source in events:
                await self._handle_event(room_id, source)
            return
        # A backlog (a sync covering a downtime): batches of events side by side. The sync
        # token is stored after the whole response, as one at a time; a failure replays the
        # response and the core drops what it settled.
        for start in range(0, len(events), MAX_BATCH):
            batch = events[start : start + MAX_BATCH]
            _done, failure = await run_batch(
                batch,
                lambda source: self._handle_event(room_id, source),
                lane=lambda source: str(source.get("sender")),
                ident=_event_id,
                depends=self._depends,
            )
            for source in batch:  # a thread's tail is its latest event, whatever finished last
                relates = relation(source)
                if relates.get("rel_type") == "m.thread" and (known := _event_id(source)):
                    self._remember(self._thread_tail, str(relates.get("event_id")), known)
            if failure is not None:
                raise failure

    def _depends(self, source: dict[str, Any], ids: set[str]) -> bool:
        """Whether handling ``source`` may depend on the events of ``ids`` (earlier in its
        batch) or change what later ones meet."""
        content = source.get("content")
        content = content if isinstance(content, dict) else {}
        body = content.get("body")
        # A command may change what every later event meets (a round opened, a member muted).
        if isinstance(body, str) and body.startswith(self.capabilities.command_prefix):
            return True
        relates = relation(source)
        targets = [content.get("redacts"), source.get("redacts")]
        if relates.get("rel_type") != "m.thread":  # a thread's root is not its answers' cause
            targets.append(relates.get("event_id"))
        replied = relates.get("m.in_reply_to")
        if isinstance(replied, dict) and not relates.get("is_falling_back"):
            targets.append(replied.get("event_id"))
        # A reply, reaction, edit or redaction of an event of the batch comes after it.
        return any(isinstance(t, str) and t in ids for t in targets)

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
