"""A small Discord of the tests' own on 127.0.0.1: the documented REST and gateway shapes.

Unmodified discord.py is pointed at it through ``discord.http.Route.BASE`` and
``discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY``. It answers only what a bot needs to log
in, reach READY with one guild and one text channel, sync its commands, and post, delete and
send a direct message; every REST call is recorded with its arrival time. Routes listed in
``rate_limit_once`` are answered once with a 429 (``retry_after`` in the JSON body, the
``X-RateLimit-*`` and ``Retry-After`` headers) before they succeed.

Shapes follow https://discord.com/developers/docs (Gateway, Users, Channels, Application
Commands, Rate Limits). Quirks of discord.py met on the way: JSON is decoded only when the
Content-Type is exactly ``application/json``; snowflakes must be strings; a 429 without a
``Via`` header is taken for a Cloudflare ban and not retried.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from aiohttp import WSMsgType, web

# Gateway opcodes (https://discord.com/developers/docs/topics/opcodes-and-status-codes).
DISPATCH, HEARTBEAT, IDENTIFY, RESUME, REQUEST_MEMBERS, HELLO, HEARTBEAT_ACK = 0, 1, 2, 6, 8, 10, 11
API = "/api/v10"
WS_PATH = "/gateway-ws"


@dataclass(slots=True)
class Recorded:
    """One REST call the bot made."""

    method: str
    path: str
    headers: dict[str, str]
    json: Any
    status: int
    at: float


@dataclass(slots=True)
class Member:
    """A guild member as the fake server describes them."""

    id: str
    username: str
    global_name: str
    role_ids: list[str] = field(default_factory=list)

    def user(self, *, bot: bool = False) -> dict[str, Any]:
        return {
            "id": self.id,
            "username": self.username,
            "discriminator": "0",
            "global_name": self.global_name,
            "avatar": None,
            "bot": bot,
        }

    def member(self) -> dict[str, Any]:
        return {
            "user": self.user(),
            "nick": None,
            "roles": self.role_ids,
            "joined_at": "2026-01-01T00:00:00+00:00",
            "deaf": False,
            "mute": False,
            "flags": 0,
        }


Handler = Callable[["FakeDiscord", web.Request, re.Match[str], Any], Awaitable[web.Response]]


def json_response(status: int, data: Any, headers: dict[str, str] | None = None) -> web.Response:
    """JSON with exactly ``application/json`` (no charset), as Discord sends it."""
    return web.Response(
        status=status,
        body=json.dumps(data).encode(),
        headers={"Content-Type": "application/json", **(headers or {})},
    )


class FakeDiscord:
    """The server: start it, point discord.py at it, then drive the gateway."""

    def __init__(self, *, token: str, application_id: str = "700000000000000001") -> None:
        self.token = token
        self.application_id = application_id
        self.bot = Member("700000000000000002", "cercle", "Cercle")
        self.owner = Member("700000000000000003", "owner", "Owner")
        self.guild_id = "800000000000000001"
        self.channel_id = "800000000000000002"
        self.members = {
            m.id: m
            for m in (
                self.bot,
                Member("900000000000000001", "ana", "Ana"),
                Member("900000000000000002", "bob", "Bob"),
            )
        }
        #: "METHOD /path" patterns (regex, path after /api/v10) answered once with a 429.
        self.rate_limit_once: set[str] = set()
        self.retry_after = 0.25
        self.requests: list[Recorded] = []
        self.identify: dict[str, Any] | None = None
        self.gateway_ops: list[int] = []
        self.ready_sent = asyncio.Event()
        self._limited: set[str] = set()
        self._ids = itertools.count(1)
        self._seq = 0
        self._ws: web.WebSocketResponse | None = None
        self._changed = asyncio.Condition()
        self._runner: web.AppRunner | None = None
        self.port = 0

    # ------------------------------------------------------------ lifecycle

    async def start(self) -> None:
        """Listen on 127.0.0.1, on a free port."""
        app = web.Application()
        app.router.add_get(WS_PATH, self._gateway)
        app.router.add_route("*", API + "/{tail:.*}", self._rest)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        server = site._server
        assert server is not None
        sockets = getattr(server, "sockets", None) or []
        self.port = int(sockets[0].getsockname()[1])

    async def close(self) -> None:
        """Close the gateway connection and stop listening."""
        if self._ws is not None and not self._ws.closed:
            await self._ws.close()
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def api_base(self) -> str:
        """The value for ``discord.http.Route.BASE``."""
        return f"http://127.0.0.1:{self.port}{API}"

    @property
    def gateway_url(self) -> str:
        """The value for ``DiscordWebSocket.DEFAULT_GATEWAY``."""
        return f"ws://127.0.0.1:{self.port}{WS_PATH}"

    def new_id(self) -> str:
        """A fresh snowflake (as a string, like every id Discord sends)."""
        return str(950000000000000000 + next(self._ids))

    # ------------------------------------------------------------ waiting

    async def wait_for(
        self, method: str, pattern: str, *, count: int = 1, status: int | None = None
    ) -> list[Recorded]:
        """Wait (unbounded: wrap it in ``asyncio.wait_for``) for ``count`` matching calls."""
        async with self._changed:
            while len(found := self.calls(method, pattern, status=status)) < count:
                await self._changed.wait()
            return found

    def calls(self, method: str, pattern: str, *, status: int | None = None) -> list[Recorded]:
        """The recorded REST calls whose path (after /api/v10) fully matches ``pattern``."""
        return [
            r
            for r in self.requests
            if r.method == method
            and re.fullmatch(pattern, r.path)
            and (status is None or r.status == status)
        ]

    async def _record(self, recorded: Recorded) -> None:
        async with self._changed:
            self.requests.append(recorded)
            self._changed.notify_all()

    # ------------------------------------------------------------ gateway

    async def _gateway(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        self._ws = ws
        await ws.send_json({"op": HELLO, "d": {"heartbeat_interval": 41250}, "s": None, "t": None})
        async for message in ws:
            if message.type is not WSMsgType.TEXT:
                continue
            payload = json.loads(message.data)
            op = int(payload["op"])
            self.gateway_ops.append(op)
            if op == HEARTBEAT:
                await ws.send_json({"op": HEARTBEAT_ACK})
            elif op == IDENTIFY:
                self.identify = payload["d"]
                if payload["d"].get("token") != self.token:
                    await ws.close(code=4004, message=b"Authentication failed.")
                    break
                await self._ready()
        return ws

    async def dispatch(self, event: str, data: dict[str, Any]) -> None:
        """Send a DISPATCH (op 0) event with the next sequence number."""
        assert self._ws is not None, "the bot has not connected"
        self._seq += 1
        await self._ws.send_json({"op": DISPATCH, "s": self._seq, "t": event, "d": data})

    async def _ready(self) -> None:
        await self.dispatch(
            "READY",
            {
                "v": 10,
                "user": self.bot.user(bot=True),
                "guilds": [{"id": self.guild_id, "unavailable": True}],
                "session_id": "fake-session",
                "resume_gateway_url": self.gateway_url,
                "application": {"id": self.application_id, "flags": 0},
                "private_channels": [],
            },
        )
        await self.dispatch("GUILD_CREATE", self.guild())
        self.ready_sent.set()

    def guild(self) -> dict[str, Any]:
        """A guild with @everyone, one text channel and its members (GUILD_CREATE)."""
        return {
            "id": self.guild_id,
            "name": "Réseau pro",
            "icon": None,
            "owner_id": self.owner.id,
            "unavailable": False,
            "large": False,
            "member_count": len(self.members),
            "features": [],
            "verification_level": 0,
            "default_message_notifications": 0,
            "explicit_content_filter": 0,
            "mfa_level": 0,
            "nsfw_level": 0,
            "premium_tier": 0,
            "preferred_locale": "fr",
            "system_channel_id": None,
            "system_channel_flags": 0,
            "afk_timeout": 300,
            "afk_channel_id": None,
            "joined_at": "2026-01-01T00:00:00+00:00",
            "emojis": [],
            "stickers": [],
            "roles": [
                {
                    "id": self.guild_id,
                    "name": "@everyone",
                    "permissions": str(1 << 10 | 1 << 11 | 1 << 16),
                    "position": 0,
                    "color": 0,
                    "hoist": False,
                    "managed": False,
                    "mentionable": False,
                    "flags": 0,
                }
            ],
            "channels": [
                {
                    "id": self.channel_id,
                    "type": 0,
                    "guild_id": self.guild_id,
                    "name": "cercle",
                    "position": 0,
                    "permission_overwrites": [],
                    "topic": None,
                    "nsfw": False,
                    "last_message_id": None,
                    "rate_limit_per_user": 0,
                    "parent_id": None,
                }
            ],
            "threads": [],
            "members": [m.member() for m in self.members.values()],
            "voice_states": [],
            "presences": [],
        }

    def message(
        self, author: Member, content: str, *, channel_id: str | None = None
    ) -> dict[str, Any]:
        """A MESSAGE_CREATE payload from a member, in the guild's text channel by default."""
        return {
            "id": self.new_id(),
            "channel_id": channel_id or self.channel_id,
            "guild_id": self.guild_id,
            "author": author.user(),
            "member": {k: v for k, v in author.member().items() if k != "user"},
            "content": content,
            "timestamp": datetime.now(UTC).isoformat(),
            "edited_timestamp": None,
            "tts": False,
            "mention_everyone": False,
            "mentions": [],
            "mention_roles": [],
            "attachments": [],
            "embeds": [],
            "pinned": False,
            "type": 0,
            "flags": 0,
        }

    # ------------------------------------------------------------ REST

    async def _rest(self, request: web.Request) -> web.StreamResponse:
        path = request.path.removeprefix(API)
        body: Any = None
        if request.can_read_body and request.content_type == "application/json":
            body = await request.json()
        key = f"{request.method} {path}"
        status = 0
        try:
            if request.headers.get("Authorization") != f"Bot {self.token}":
                response = json_response(401, {"message": "401: Unauthorized", "code": 0})
            elif (limit := self._limit(key)) is not None:
                response = limit
            else:
                response = await self._route(request.method, path, body)
            status = response.status
            return response
        finally:
            await self._record(
                Recorded(
                    request.method,
                    path,
                    dict(request.headers),
                    body,
                    status,
                    time.monotonic(),
                )
            )

    def _limit(self, key: str) -> web.Response | None:
        for pattern in self.rate_limit_once:
            if re.fullmatch(pattern, key) and pattern not in self._limited:
                self._limited.add(pattern)
                reset = time.time() + self.retry_after
                return json_response(
                    429,
                    {
                        "message": "You are being rate limited.",
                        "retry_after": self.retry_after,
                        "global": False,
                    },
                    {
                        "Retry-After": str(max(1, round(self.retry_after))),
                        "X-RateLimit-Limit": "2",
                        "X-RateLimit-Remaining": "0",
                        "X-RateLimit-Reset": f"{reset:.3f}",
                        "X-RateLimit-Reset-After": f"{self.retry_after:.3f}",
                        "X-RateLimit-Bucket": "fake-commands-bucket",
                        "X-RateLimit-Scope": "user",
                        "Via": "1.1 google",
                    },
                )
        return None

    async def _route(self, method: str, path: str, body: Any) -> web.Response:
        ok = {
            "X-RateLimit-Limit": "5",
            "X-RateLimit-Remaining": "4",
            "X-RateLimit-Reset": f"{time.time() + 1:.3f}",
            "X-RateLimit-Reset-After": "1.000",
            "X-RateLimit-Bucket": "fake-bucket",
        }
        if method == "GET" and path == "/users/@me":
            return json_response(200, self.bot.user(bot=True), ok)
        if method == "GET" and path == "/oauth2/applications/@me":
            return json_response(200, self.application(), ok)
        if method == "GET" and path in ("/gateway", "/gateway/bot"):
            data: dict[str, Any] = {"url": self.gateway_url}
            if path == "/gateway/bot":
                data |= {
                    "shards": 1,
                    "session_start_limit": {
                        "total": 1000,
                        "remaining": 999,
                        "reset_after": 14400000,
                        "max_concurrency": 1,
                    },
                }
            return json_response(200, data, ok)
        if method == "PUT" and re.fullmatch(
            rf"/applications/{self.application_id}(/guilds/\d+)?/commands", path
        ):
            commands = [
                {**c, "id": self.new_id(), "application_id": self.application_id, "version": "1"}
                for c in body or []
            ]
            return json_response(200, commands, ok)
        if method == "GET" and (match := re.fullmatch(r"/users/(\d+)", path)):
            member = self.members.get(match.group(1))
            if member is None:
                return json_response(404, {"message": "Unknown User", "code": 10013})
            return json_response(200, member.user(), ok)
        if method == "POST" and path == "/users/@me/channels":
            member = self.members.get(str((body or {}).get("recipient_id")))
            if member is None:
                return json_response(404, {"message": "Unknown User", "code": 10013})
            dm = {"id": f"1{member.id[1:]}", "type": 1, "recipients": [member.user()]}
            return json_response(200, dm, ok)
        if method == "POST" and (match := re.fullmatch(r"/channels/(\d+)/messages", path)):
            sent = self.message(self.bot, (body or {}).get("content") or "", channel_id=match[1])
            sent["author"] = self.bot.user(bot=True)
            if match[1] != self.channel_id:
                del sent["guild_id"], sent["member"]
            return json_response(200, sent, ok)
        if re.fullmatch(r"/channels/\d+/webhooks", path):  # the bot lacks Manage Webhooks
            return json_response(403, {"message": "Missing Permissions", "code": 50013})
        if method == "DELETE" and re.fullmatch(r"/channels/\d+/messages/\d+", path):
            return web.Response(status=204, headers=ok)
        return json_response(404, {"message": "404: Not Found", "code": 0})

    def application(self) -> dict[str, Any]:
        """The application (GET /oauth2/applications/@me)."""
        return {
            "id": self.application_id,
            "name": "Cercle",
            "icon": None,
            "description": "",
            "bot_public": False,
            "bot_require_code_grant": False,
            "owner": self.owner.user(),
            "team": None,
            "verify_key": "0" * 64,
            "flags": 0,
            "interactions_endpoint_url": None,
        }
