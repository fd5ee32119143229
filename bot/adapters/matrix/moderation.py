"""Moderation through power levels: mute, unmute, who counts as a host, who may ping the room."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from nio import RoomGetStateEventResponse

from bot.adapters.matrix.base import MUTE, MatrixBase
from bot.types import ChannelRef, Ping, Role, UserRef
from storage import state


class Moderation(MatrixBase):
    """Power levels: the one lever Matrix gives a bot over members."""

    async def _power_levels(self, room_id: str) -> dict[str, Any]:
        response = await self._call(
            "read power levels",
            self.client.room_get_state_event,
            room_id,
            "m.room.power_levels",
        )
        assert isinstance(response, RoomGetStateEventResponse)
        return dict(response.content)

    async def mute(self, user: UserRef, channel: ChannelRef, until: datetime) -> None:
        """Lower the member's power level below ``events_default`` (remembering the old one)."""
        levels = await self._power_levels(channel.id)
        users = dict(levels.get("users") or {})
        key = f"{MUTE}{channel.id}:{user.id}"
        if not await state.get_state(self.db, self.name, key):
            await self._set(key, json.dumps({"level": users.get(user.id)}))
        users[user.id] = int(levels.get("events_default", 0)) - 1
        await self._call(
            "mute",
            self.client.room_put_state,
            channel.id,
            "m.room.power_levels",
            {**levels, "users": users},
        )

    async def unmute(self, user: UserRef, channel: ChannelRef) -> None:
        """Give the member back the power level they had before the mute."""
        key = f"{MUTE}{channel.id}:{user.id}"
        raw = await state.get_state(self.db, self.name, key)
        if not raw:
            return
        previous = json.loads(raw).get("level")
        levels = await self._power_levels(channel.id)
        users = dict(levels.get("users") or {})
        if previous is None:
            users.pop(user.id, None)
        else:
            users[user.id] = previous
        await self._call(
            "unmute",
            self.client.room_put_state,
            channel.id,
            "m.room.power_levels",
            {**levels, "users": users},
        )
        await self._set(key, "")

    async def role_of(self, user: UserRef, channel: ChannelRef) -> Role:
        """Host when the member's power level in the room reaches ``host_power_level``."""
        if channel.direct:
            return Role.MEMBER
        room = await self._room_state(channel.id)  # its creators too, first
        if user.id in self._creators.get(channel.id, ()):
            return Role.HOST  # room versions 12+: creators outrank every power level
        if room is not None:
            level = room.power_levels.get_user_level(user.id)
        else:
            levels = await self._power_levels(channel.id)
            level = int((levels.get("users") or {}).get(user.id, levels.get("users_default", 0)))
        return Role.HOST if level >= self.settings.host_power_level else Role.MEMBER

    async def may_ping(self, channel: ChannelRef, ping: Ping) -> bool:
        """Whether the bot's power level reaches what the room asks for ``@room``."""
        me = self.user_id
        if me in self._creators.get(channel.id, ()):
            return True
        levels = await self._power_levels(channel.id)
        needed = int((levels.get("notifications") or {}).get("room", 50))
        mine = int((levels.get("users") or {}).get(me, levels.get("users_default", 0)))
        return mine >= needed
