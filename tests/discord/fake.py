"""A fake Discord on 127.0.0.1: enough REST and gateway for discord.py to run against.

REST answers what the bot calls (login, application, command sync, interaction callbacks,
follow-ups, channel messages, pins, deletions) and records every request; a test can hold the
answers to some requests, as a slow Discord would. The websocket gateway says
HELLO, takes IDENTIFY, sends READY and one GUILD_CREATE per server, answers heartbeats, and
lets a test dispatch events (INTERACTION_CREATE, GUILD_CREATE, GUILD_DELETE).

Faults, as Discord has them: REST errors before a request takes effect (``fail_next``,
``fail_plan``: 429 with ``retry_after``, 5xx), a second callback to one interaction refused
with 40060, dropped connections (``drop``) that RESUME and replay what was missed, sessions
invalidated (``invalidate``) so the client must IDENTIFY again, refused websocket handshakes
(``refuse_connections``) and a close code answering IDENTIFY (``identify_close``).

Shards, as Discord has them: IDENTIFY may carry ``shard: [id, count]``; READY and GUILD_CREATE
then name only the servers of that shard (``(guild_id >> 22) % count == id``) and events for a
server go to its shard's connection. ``GET /gateway/bot`` recommends ``recommended_shards``;
with ``required_shards`` set, an IDENTIFY with fewer shards (or none) is closed with 4011
(sharding required). A server connected by two live sessions at once (two processes given the
same shard, or shard counts that overlap) is a protocol error Discord would not let pass: it is
kept in :attr:`FakeDiscord.protocol_errors`, which the tests' fixture asserts empty.

Rate limits, when ``limits`` is on (the pin tests and the benchmark; other tests leave it off
and keep their speed): at most :data:`GLOBAL_PER_SECOND` requests in any second (interaction
callbacks and follow-ups are exempt, as on Discord), and per-route buckets of
:data:`CHANNEL_BUCKET` requests per channel for posting, editing and deleting messages and for
pins. Success carries Discord's ``X-RateLimit-*`` headers; a request over a limit is answered
429 with the headers and body Discord sends (``global`` true for the global limit) and kept in
:attr:`FakeDiscord.limited`.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import math
import re
import time
from collections import Counter, deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSMsgType, web

APP_ID = 900000000000000001
USER_ID = 800000000000000001
"""The person using the bot in tests (never a real id)."""
OWNER_ID = 800000000000000002
CHANNEL_ID = 700000000000000001
OTHER_CHANNEL_ID = 700000000000000002
SYSTEM_CHANNEL_ID = 700000000000000003
GUILD_ID = 600000000000000001

BOT_USER = {
    "id": str(APP_ID),
    "username": "safety-bot",
    "discriminator": "0",
    "global_name": None,
    "avatar": None,
    "bot": True,
}
PERSON = {
    "id": str(USER_ID),
    "username": "person",
    "discriminator": "0",
    "global_name": None,
    "avatar": None,
}
TIMESTAMP = "2026-01-01T00:00:00.000000+00:00"

# Permission bits used by the tests (Discord's values).
VIEW_CHANNEL = 1 << 10
SEND_MESSAGES = 1 << 11
EMBED_LINKS = 1 << 14
MANAGE_GUILD = 1 << 5
PIN_MESSAGES = 1 << 51
BOT_NEEDS = VIEW_CHANNEL | SEND_MESSAGES | EMBED_LINKS | PIN_MESSAGES

GLOBAL_PER_SECOND = 50
"""Discord's global rate limit: requests a bot may make per second."""
CHANNEL_BUCKET = (5, 5.0)
"""Requests, seconds: a message route's bucket in one channel (5 messages every 5 seconds)."""
_BUCKETS = (
    ("POST", re.compile(r"^/channels/(\d+)/messages$"), "messages.create"),
    ("PATCH", re.compile(r"^/channels/(\d+)/messages/\d+$"), "messages.edit"),
    ("DELETE", re.compile(r"^/channels/(\d+)/messages/\d+$"), "messages.delete"),
    ("PUT", re.compile(r"^/channels/(\d+)/(?:messages/)?pins/\d+$"), "pins.add"),
    ("DELETE", re.compile(r"^/channels/(\d+)/(?:messages/)?pins/\d+$"), "pins.remove"),
)
"""Routes with a bucket per channel (method, path, bucket hash); others have the global one."""
_EXEMPT = ("/interactions/", "/webhooks/")
"""Interaction endpoints are not bound to the global limit."""
RESUME_BUFFER = 5000
"""Dispatches a session keeps for a RESUME to replay (Discord's buffer is bounded too)."""
DEFERRED = 5
"""Interaction callback type: the answer follows as a follow-up message."""


@dataclass
class Recorded:
    """One REST request the bot made."""

    method: str
    path: str
    query: Mapping[str, str]
    body: Any
    authorization: str = ""
    """The ``Authorization`` header (``Bot <token>``), to tell which token the bot used."""


@dataclass
class Session:
    """One gateway session (one shard): its connection is replaced when the client RESUMEs."""

    ws: web.WebSocketResponse
    shard: tuple[int, int] = (0, 1)
    sequence: int = 0
    identify: dict[str, Any] = field(default_factory=dict)
    session_id: str = ""
    valid: bool = True
    """False once invalidated: a RESUME is answered with INVALID_SESSION."""
    sent: deque[dict[str, Any]] = field(default_factory=lambda: deque(maxlen=RESUME_BUFFER))
    resumed_from: list[int | None] = field(default_factory=list)
    """The sequence number of each RESUME of this session."""
    replayed: int = 0
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    """Held while sending, so a RESUME's replay keeps the sequence in order."""


def text_channel(channel_id: int, guild_id: int, name: str, deny: int = 0) -> dict[str, Any]:
    """A guild text channel; ``deny`` removes bits from @everyone there."""
    overwrites = []
    if deny:
        overwrites.append({"id": str(guild_id), "type": 0, "allow": "0", "deny": str(deny)})
    return {
        "id": str(channel_id),
        "type": 0,
        "guild_id": str(guild_id),
        "name": name,
        "position": 0,
        "permission_overwrites": overwrites,
        "nsfw": False,
        "parent_id": None,
        "topic": None,
        "last_message_id": None,
        "rate_limit_per_user": 0,
    }


def guild(
    guild_id: int = GUILD_ID,
    *,
    everyone: int = VIEW_CHANNEL | SEND_MESSAGES | EMBED_LINKS,
    bot_role: int = BOT_NEEDS,
    system_channel: bool = True,
    channels: Iterable[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """A GUILD_CREATE payload: @everyone with ``everyone``, the bot with a role of ``bot_role``."""
    role_id = guild_id + 1
    if channels is None:
        channels = [
            text_channel(CHANNEL_ID, guild_id, "general"),
            text_channel(OTHER_CHANNEL_ID, guild_id, "announcements"),
            text_channel(SYSTEM_CHANNEL_ID, guild_id, "welcome"),
        ]
    return {
        "id": str(guild_id),
        "name": "Test server",
        "icon": None,
        "owner_id": str(OWNER_ID),
        "member_count": 3,
        "large": False,
        "features": [],
        "preferred_locale": "en-US",
        "system_channel_id": str(SYSTEM_CHANNEL_ID) if system_channel else None,
        "system_channel_flags": 0,
        "joined_at": TIMESTAMP,
        "roles": [
            _role(guild_id, "@everyone", everyone, 0),
            _role(role_id, "safety-bot", bot_role, 1, managed=True),
        ],
        "members": [
            {
                "user": BOT_USER,
                "roles": [str(role_id)],
                "joined_at": TIMESTAMP,
                "deaf": False,
                "mute": False,
                "flags": 0,
            }
        ],
        "channels": list(channels),
        "threads": [],
        "emojis": [],
        "stickers": [],
        "voice_states": [],
        "presences": [],
        "stage_instances": [],
        "guild_scheduled_events": [],
        "soundboard_sounds": [],
    }


def guilds_on(shard: int, count: int, how_many: int = 1) -> list[int]:
    """Server ids whose events Discord sends to ``shard`` of ``count`` (ids are timestamps
    shifted left by 22 bits; the shard is the timestamp modulo the count)."""
    found: list[int] = []
    candidate = GUILD_ID
    while len(found) < how_many:
        if FakeDiscord.shard_of(candidate, count) == shard:
            found.append(candidate)
        candidate += 1 << 22
    return found


def _role(role_id: int, name: str, permissions: int, position: int, **extra: Any) -> dict[str, Any]:
    return {
        "id": str(role_id),
        "name": name,
        "permissions": str(permissions),
        "position": position,
        "color": 0,
        "hoist": False,
        "managed": False,
        "mentionable": False,
        "flags": 0,
        **extra,
    }


class FakeDiscord:
    """The fake server; ``api`` and ``gateway`` are the URLs to point discord.py at."""

    def __init__(
        self,
        guilds: Iterable[dict[str, Any]] = (),
        *,
        recommended_shards: int = 1,
        outage: Iterable[int] = (),
        token: str | None = None,
        limits: bool = False,
    ) -> None:
        self.token = token
        """When set, the only bot token taken: any other is refused (401, close 4004)."""
        self.guilds = {int(g["id"]): g for g in guilds}
        self.outage = set(outage)
        """Servers listed in READY that never arrive (a Discord outage): they stay unavailable."""
        self.recommended_shards = recommended_shards
        self.requests: list[Recorded] = []
        self.sessions: list[Session] = []
        self.sync_count = 0
        self._ids = itertools.count(1_000_000_000_000_000_001)
        self._changed = asyncio.Condition()
        self._runner: web.AppRunner | None = None
        self.port = 0
        self.fail_next: dict[tuple[str, str], int] = {}
        self.posts: dict[int, dict[str, Any]] = {}
        """Messages the bot posted in channels, by id, as they show now."""
        self.hidden: set[int] = set()
        """Channels the bot can no longer see: posting and editing there is refused."""
        """(method, path suffix) -> HTTP status to answer once, e.g. to refuse a pin."""
        self.fail_plan: dict[str, list[int]] = {}
        """Path fragment -> statuses to answer, one per request whose path has it, in order."""
        self.retry_after = 0.05
        """Seconds a 429 asks the client to wait."""
        self.injected: Counter[int] = Counter()
        """Statuses answered instead of doing a request (``fail_next`` and ``fail_plan``)."""
        self.acknowledged: dict[str, int] = {}
        """Interaction id -> the type of its one accepted callback."""
        self.answers: Counter[str] = Counter()
        """Interaction id -> messages the person got: a callback with a message, follow-ups."""
        self.duplicates = 0
        """Callbacks refused because the interaction was already acknowledged (40060)."""
        self._tokens: dict[str, str] = {}
        self.connections = 0
        """Websocket handshakes asked for, refused ones included."""
        self.refuse_connections = 0
        """How many coming websocket handshakes to refuse with HTTP 502."""
        self.refused = 0
        self.identify_close: int | None = None
        """A close code to answer IDENTIFY with, e.g. 4004 (authentication failed)."""
        self.required_shards: int | None = None
        """When set, an IDENTIFY with fewer shards is closed with 4011 (sharding required)."""
        self.sharding_refused = 0
        """IDENTIFYs closed with 4011."""
        self.protocol_errors: list[str] = []
        """What the bot did that Discord would not allow (a server on two live sessions)."""
        self.routed: dict[str, tuple[int, int]] = {}
        """Interaction id -> the shard (id, count) whose connection it was dispatched on."""
        self.invalid_resumes = 0
        """RESUMEs answered with INVALID_SESSION (d: false)."""
        self.held: dict[tuple[str, str], asyncio.Event] = {}
        self.dispatched: Counter[str] = Counter()
        """Events sent with :meth:`dispatch`, by name (``INTERACTION_CREATE``, ...)."""
        self.limits = limits
        """Enforce Discord's rate limits and send its headers (see the module docstring)."""
        self.limited: list[Recorded] = []
        """Requests answered 429 because they broke a rate limit."""
        self._global: deque[float] = deque()
        self._buckets: dict[tuple[str, str], _Bucket] = {}

    @property
    def api(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/v10"

    @property
    def gateway(self) -> str:
        return f"ws://127.0.0.1:{self.port}/gateway"

    async def start(self, port: int = 0) -> None:
        """Listen on ``port`` of 127.0.0.1 (a free one when 0)."""
        app = web.Application()
        app.router.add_get("/gateway", self._gateway)
        app.router.add_route("*", "/api/v10/{path:.*}", self._rest)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", port)
        await site.start()
        server = site._server
        assert server is not None
        self.port = server.sockets[0].getsockname()[1]  # type: ignore[attr-defined]

    async def stop(self) -> None:
        for gate in self.held.values():
            gate.set()
        for session in self.sessions:
            await session.ws.close()
        if self._runner is not None:
            await self._runner.cleanup()

    # -- waiting on what the bot did ------------------------------------------------------

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    async def wait_for(self, check: Callable[[], Any], within: float = 5.0) -> Any:
        """Wait until ``check()`` returns something truthy (at most ``within`` s); return it."""

        async def waiting() -> Any:
            async with self._changed:
                while True:
                    found = check()
                    if found:
                        return found
                    await self._changed.wait()

        return await asyncio.wait_for(waiting(), within)

    def hold(self, method: str, contains: str) -> asyncio.Event:
        """Keep the answers to ``method`` requests whose path has ``contains`` waiting until
        the returned event is set (the request is recorded as soon as it arrives)."""
        gate = self.held[(method, contains)] = asyncio.Event()
        return gate

    def find(self, method: str, suffix: str = "", contains: str = "") -> list[Recorded]:
        """Recorded ``method`` requests whose path ends with ``suffix`` and has ``contains``."""
        return [
            r
            for r in self.requests
            if r.method == method and r.path.endswith(suffix) and contains in r.path
        ]

    def existing_post(self, channel_id: int, content: str) -> int:
        """A message the bot posted in ``channel_id`` before the test began; returns its id."""
        message = self._message(channel_id, {"content": content})
        self.posts[int(message["id"])] = message
        return int(message["id"])

    def delete_by_hand(self, message_id: int) -> None:
        """A moderator deletes one of the bot's posts."""
        del self.posts[message_id]

    # -- REST -----------------------------------------------------------------------------

    async def _rest(self, request: web.Request) -> web.Response:
        path = "/" + request.match_info["path"]
        raw = await request.read()
        body = json.loads(raw) if raw else None
        recorded = Recorded(
            request.method,
            path,
            dict(request.query),
            body,
            request.headers.get("Authorization", ""),
        )
        self.requests.append(recorded)
        await self._notify()
        if self.token is not None and request.headers.get("Authorization") != f"Bot {self.token}":
            return _json({"message": "401: Unauthorized", "code": 0}, 401)
        for (method, contains), gate in self.held.items():
            if request.method == method and contains in path:
                await gate.wait()
        bucket = None
        if self.limits:
            refused, bucket = self._rate_limit(request.method, path)
            if refused is not None:
                self.limited.append(recorded)
                return refused
        for (method, suffix), status in list(self.fail_next.items()):
            if request.method == method and path.endswith(suffix):
                del self.fail_next[(method, suffix)]
                return self._failure(status)
        for fragment, statuses in self.fail_plan.items():
            if fragment in path and statuses:
                return self._failure(statuses.pop(0))
        response = self._answer(request.method, path, body)
        if bucket is not None:
            response.headers.update(bucket.headers())
        await self._notify()  # what the request did (an answer counted) is visible now
        return response

    def _rate_limit(self, method: str, path: str) -> tuple[web.Response | None, _Bucket | None]:
        """A 429 if the request breaks the global limit or its bucket's (else it is counted),
        and its bucket, if its route has one."""
        now = time.monotonic()
        bucket = None
        for route_method, pattern, name in _BUCKETS:
            found = pattern.match(path)
            if method == route_method and found:
                key = (name, found.group(1))
                bucket = self._buckets.setdefault(key, _Bucket(name, *CHANNEL_BUCKET))
        exempt = path.startswith(_EXEMPT)
        while self._global and self._global[0] <= now - 1:
            self._global.popleft()
        if not exempt and len(self._global) >= GLOBAL_PER_SECOND:
            retry_after = self._global[0] + 1 - now
            response = _limited(retry_after, is_global=True)
            response.headers.update({"X-RateLimit-Global": "true", "X-RateLimit-Scope": "global"})
            return response, bucket
        if bucket is not None:
            bucket.refill(now)
            if bucket.remaining == 0:
                response = _limited(bucket.resets_at - now, is_global=False)
                response.headers.update({**bucket.headers(), "X-RateLimit-Scope": "user"})
                return response, bucket
            bucket.remaining -= 1
        if not exempt:
            self._global.append(now)
        return None, bucket

    def _failure(self, status: int) -> web.Response:
        """An error answered before the request did anything, as Discord would send it."""
        self.injected[status] += 1
        if status == 429:
            # Discord's own 429 (not Cloudflare's) comes through its proxy: Via is set.
            limited = {"message": "You are being rate limited.", "retry_after": self.retry_after}
            response = _json({**limited, "global": False}, 429)
            response.headers["Via"] = "1.1 google"
            return response
        if status >= 500:
            return _json({"message": "Server error", "code": 0}, status)
        return _json({"message": "Missing Permissions", "code": 50013}, status)

    def _answer(self, method: str, path: str, body: Any) -> web.Response:
        parts = path.strip("/").split("/")
        if (method, path) == ("GET", "/users/@me"):
            return _json(BOT_USER)
        if (method, path) == ("GET", "/oauth2/applications/@me"):
            return _json(
                {
                    "id": str(APP_ID),
                    "name": "safety-bot",
                    "description": "",
                    "icon": None,
                    "bot_public": True,
                    "bot_require_code_grant": False,
                    "owner": PERSON,
                    "verify_key": "0" * 64,
                    "flags": 0,
                }
            )
        if (method, path) == ("GET", "/gateway/bot"):
            return _json(
                {
                    "url": self.gateway,
                    "shards": self.recommended_shards,
                    "session_start_limit": {
                        "total": 1000,
                        "remaining": 1000,
                        "reset_after": 0,
                        "max_concurrency": 1,
                    },
                }
            )
        if method == "PUT" and parts[0] == "applications" and parts[-1] == "commands":
            self.sync_count += 1
            return _json(
                [
                    {**c, "id": str(next(self._ids)), "application_id": str(APP_ID), "version": "1"}
                    for c in body
                ]
            )
        if method == "POST" and parts[0] == "interactions":
            interaction_id = parts[1]
            if interaction_id in self.acknowledged:
                self.duplicates += 1
                refused = {"message": "Interaction has already been acknowledged.", "code": 40060}
                return _json(refused, 400)
            self.acknowledged[interaction_id] = body.get("type")
            if body.get("type") != DEFERRED:
                self.answers[interaction_id] += 1
            return _json(
                {
                    "interaction": {
                        "id": interaction_id,
                        "type": 2,
                        "response_message_loading": body.get("type") == 5,
                        "response_message_ephemeral": bool(
                            (body.get("data") or {}).get("flags", 0) & 64
                        ),
                    }
                }
            )
        if method == "POST" and parts[0] == "webhooks":
            interaction_id = self._tokens.get(parts[2], "")
            if interaction_id not in self.acknowledged:
                # A follow-up needs the interaction acknowledged first.
                return _json({"message": "Unknown Webhook", "code": 10015}, 404)
            self.answers[interaction_id] += 1
            return _json(self._message(0, body, webhook=True))
        if parts[0] == "channels" and int(parts[1]) in self.hidden:
            return _json({"message": "Missing Access", "code": 50001}, 403)
        if method == "POST" and parts[0] == "channels" and parts[-1] == "messages":
            posted = self._message(int(parts[1]), body)
            self.posts[int(posted["id"])] = posted
            return _json(posted)
        if method == "PATCH" and parts[0] == "channels" and parts[2] == "messages":
            message = self.posts.get(int(parts[3]))
            if message is None:
                return _json({"message": "Unknown Message", "code": 10008}, 404)
            message.update({k: body[k] for k in ("content", "embeds", "components") if k in body})
            return _json(message)
        if parts[0] == "channels" and "pins" in parts:
            return web.Response(status=204)
        if method == "DELETE" and parts[0] == "channels" and parts[-2] == "messages":
            return web.Response(status=204)
        return _json({"message": "404: Not Found", "code": 0}, 404)

    def _message(self, channel_id: int, body: Any, *, webhook: bool = False) -> dict[str, Any]:
        message = {
            "id": str(next(self._ids)),
            "channel_id": str(channel_id or CHANNEL_ID),
            "type": 0,
            "author": BOT_USER,
            "content": body.get("content") or "",
            "embeds": body.get("embeds") or [],
            "components": body.get("components") or [],
            "attachments": [],
            "mentions": [],
            "mention_roles": [],
            "mention_everyone": False,
            "pinned": False,
            "tts": False,
            "timestamp": TIMESTAMP,
            "edited_timestamp": None,
            "flags": body.get("flags") or 0,
        }
        if webhook:
            message["webhook_id"] = str(APP_ID)
        return message

    # -- gateway --------------------------------------------------------------------------

    async def _gateway(self, request: web.Request) -> web.StreamResponse:
        self.connections += 1
        if self.refuse_connections:
            self.refuse_connections -= 1
            self.refused += 1
            return web.Response(status=502, text="Bad Gateway")
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        session = Session(ws)
        await ws.send_json({"op": 10, "d": {"heartbeat_interval": 45000}, "s": None, "t": None})
        async for message in ws:
            if message.type is not WSMsgType.TEXT:
                continue
            data = json.loads(message.data)
            if data["op"] == 1:
                await ws.send_json({"op": 11, "d": None, "s": None, "t": None})
            elif data["op"] == 2 and self.identify_close is not None:
                await ws.close(code=self.identify_close)
            elif data["op"] == 2 and self._too_few_shards(data["d"]):
                self.sharding_refused += 1
                await ws.close(code=4011)  # sharding required
            elif data["op"] == 2 and self.token is not None and data["d"]["token"] != self.token:
                await ws.close(code=4004)  # authentication failed
            elif data["op"] == 2:
                session.identify = data["d"]
                session.shard = tuple(data["d"].get("shard") or (0, 1))  # type: ignore[assignment]
                session.session_id = f"fake-session-{len(self.sessions)}"
                self._check_no_overlap(session)
                self.sessions.append(session)
                await self._ready(session)
                await self._notify()
            elif data["op"] == 6:
                session = await self._resume(ws, data["d"]) or session
                await self._notify()
        return ws

    async def _resume(self, ws: web.WebSocketResponse, resume: dict[str, Any]) -> Session | None:
        """RESUME (op 6): replay what the session missed, then RESUMED; or INVALID_SESSION."""
        found = [s for s in self.sessions if s.session_id == resume["session_id"] and s.valid]
        if not found:
            self.invalid_resumes += 1
            await ws.send_json({"op": 9, "d": False, "s": None, "t": None})
            return None
        session = found[0]
        async with session.lock:
            session.ws = ws
            session.resumed_from.append(resume["seq"])
            for message in list(session.sent):
                if message["s"] > (resume["seq"] or 0):
                    session.replayed += 1
                    await ws.send_json(message)
            await self._emit(session, "RESUMED", {})
        return session

    async def drop(self, code: int = 4000, session: Session | None = None) -> None:
        """Close a session's connection with ``code`` (4000: unknown error); it stays resumable."""
        await (session or self._live()).ws.close(code=code)

    async def invalidate(self, session: Session | None = None, *, code: int | None = None) -> None:
        """End a session: INVALID_SESSION (op 9, d false) on its connection, or, with ``code``
        (4009: session timed out), a close; either way the client must IDENTIFY again."""
        session = session or self._live()
        session.valid = False
        if code is None:
            await session.ws.send_json({"op": 9, "d": False, "s": None, "t": None})
        else:
            await session.ws.close(code=code)

    def _live(self) -> Session:
        return next(s for s in reversed(self.sessions) if s.valid)

    @staticmethod
    def shard_of(guild_id: int, count: int) -> int:
        """The shard of ``count`` that Discord sends ``guild_id``'s events to."""
        return (guild_id >> 22) % count

    def _too_few_shards(self, identify: dict[str, Any]) -> bool:
        _shard_id, count = identify.get("shard") or (0, 1)
        return self.required_shards is not None and count < self.required_shards

    def live(self) -> list[Session]:
        """Sessions connected now (not closed, not invalidated)."""
        return [s for s in self.sessions if s.valid and not s.ws.closed]

    def _check_no_overlap(self, new: Session) -> None:
        """Record a protocol error for each server ``new`` shares with a live session."""
        shard_id, count = new.shard
        if not 0 <= shard_id < count:
            self.protocol_errors.append(f"IDENTIFY with shard {[shard_id, count]}")
        for old in self.live():
            shared = [
                g
                for g in [*self.guilds, *self.outage]
                if self.shard_of(g, count) == shard_id
                and self.shard_of(g, old.shard[1]) == old.shard[0]
            ]
            if shared:
                self.protocol_errors.append(
                    f"shard {list(new.shard)} connected while shard {list(old.shard)} is:"
                    f" {len(shared)} servers on both"
                )

    async def _ready(self, session: Session) -> None:
        shard_id, count = session.shard
        listed = [*self.guilds, *self.outage]
        mine = [g for g in listed if self.shard_of(g, count) == shard_id]
        await self._send(
            session,
            "READY",
            {
                "v": 10,
                "user": BOT_USER,
                "guilds": [{"id": str(g), "unavailable": True} for g in mine],
                "session_id": session.session_id,
                "resume_gateway_url": self.gateway,
                "application": {"id": str(APP_ID), "flags": 0},
                "shard": [shard_id, count],
            },
        )
        for guild_id in mine:
            if guild_id not in self.outage:
                await self._send(session, "GUILD_CREATE", self.guilds[guild_id])

    async def _send(self, session: Session, event: str, data: Any) -> None:
        async with session.lock:
            await self._emit(session, event, data)

    async def _emit(self, session: Session, event: str, data: Any) -> None:
        """Number and keep a dispatch; send it now if connected, else a RESUME replays it."""
        session.sequence += 1
        message = {"op": 0, "t": event, "s": session.sequence, "d": data}
        session.sent.append(message)
        if not session.ws.closed:
            with contextlib.suppress(ConnectionResetError):
                await session.ws.send_json(message)

    async def dispatch(self, event: str, data: Any, guild_id: int | None = None) -> None:
        """Send an event on the newest session of the shard that owns ``guild_id`` (or of any
        shard): a restarted bot has a new one; a dropped one gets it when it resumes."""
        for session in reversed(self.sessions):
            shard_id, count = session.shard
            if session.valid and (guild_id is None or self.shard_of(guild_id, count) == shard_id):
                await self._send(session, event, data)
                self.dispatched[event] += 1
                if event == "INTERACTION_CREATE":
                    self.routed[data["id"]] = session.shard
                return
        raise AssertionError("no gateway session")

    # -- interactions ---------------------------------------------------------------------

    def interaction(
        self,
        name: str,
        options: Mapping[str, Any] | None = None,
        *,
        locale: str = "en-US",
        guild_id: int | None = GUILD_ID,
        channel_id: int = CHANNEL_ID,
        permissions: int = VIEW_CHANNEL | SEND_MESSAGES,
        app_permissions: int = BOT_NEEDS,
        installed_in_guild: bool = True,
        resolved_channels: Mapping[int, int] | None = None,
        person: Mapping[str, Any] = PERSON,
        nick: str | None = None,
    ) -> dict[str, Any]:
        """An INTERACTION_CREATE payload for a slash command.

        ``guild_id`` None is a DM; ``installed_in_guild`` False is a user-installed app used in
        a server that never added the bot. ``resolved_channels`` maps channel ids given as
        options to the person's permissions there. ``person`` is who uses the command (a
        Discord user object) and ``nick`` their server nickname.
        """
        interaction_id = str(next(self._ids))
        token = f"interaction-token-{interaction_id}"
        self._tokens[token] = interaction_id
        option_list = []
        for key, value in (options or {}).items():
            kind = 7 if key == "channel" else 3
            option_list.append({"name": key, "type": kind, "value": str(value)})
        data: dict[str, Any] = {
            "id": str(next(self._ids)),
            "name": name,
            "type": 1,
            "options": option_list,
        }
        if resolved_channels:
            data["resolved"] = {
                "channels": {
                    str(cid): {
                        **text_channel(cid, guild_id or 0, f"channel-{cid}"),
                        "permissions": str(perms),
                    }
                    for cid, perms in resolved_channels.items()
                }
            }
        payload: dict[str, Any] = {
            "id": interaction_id,
            "application_id": str(APP_ID),
            "type": 2,
            "token": token,
            "version": 1,
            "data": data,
            "locale": locale,
            "app_permissions": str(app_permissions),
            "entitlements": [],
            "attachment_size_limit": 10_485_760,
        }
        if guild_id is None:
            payload["context"] = 1
            payload["channel"] = {"id": str(channel_id), "type": 1, "recipients": [person]}
            payload["channel_id"] = str(channel_id)
            payload["user"] = person
            payload["authorizing_integration_owners"] = {"1": person["id"]}
        else:
            payload["context"] = 0
            payload["guild_id"] = str(guild_id)
            payload["guild"] = {"id": str(guild_id), "locale": "en-US", "features": []}
            payload["guild_locale"] = "en-US"
            payload["channel"] = text_channel(channel_id, guild_id, "general")
            payload["channel_id"] = str(channel_id)
            payload["member"] = {
                "user": person,
                "nick": nick,
                "roles": [],
                "joined_at": TIMESTAMP,
                "deaf": False,
                "mute": False,
                "flags": 0,
                "permissions": str(permissions),
            }
            owners = {"0": str(guild_id)} if installed_in_guild else {"1": person["id"]}
            payload["authorizing_integration_owners"] = owners
        return payload

    async def interact(self, name: str, options: Mapping[str, Any] | None = None, **kw: Any) -> Any:
        """Dispatch a slash command; return the interaction callback body the bot sent."""
        payload = self.interaction(name, options, **kw)
        guild_id = kw.get("guild_id", GUILD_ID)
        await self.dispatch("INTERACTION_CREATE", payload, guild_id)
        found = await self.wait_for(lambda: self.find("POST", "/callback", payload["id"]))
        return found[0].body

    async def interact_deferred(
        self, name: str, options: Mapping[str, Any] | None = None, **kw: Any
    ) -> tuple[Any, Any]:
        """Dispatch a command that may defer: (callback body, follow-up body or None)."""
        payload = self.interaction(name, options, **kw)
        await self.dispatch("INTERACTION_CREATE", payload, kw.get("guild_id", GUILD_ID))
        found = await self.wait_for(lambda: self.find("POST", "/callback", payload["id"]))
        callback = found[0].body
        if callback["type"] != 5:
            return callback, None
        token = payload["token"]
        followed = await self.wait_for(
            lambda: self.find("POST", contains=f"/webhooks/{APP_ID}/{token}")
        )
        return callback, followed[0].body


@dataclass
class _Bucket:
    """A per-route rate limit in one channel: ``limit`` requests, refilled ``per`` seconds
    after the first of a window (Discord's fixed windows)."""

    name: str
    limit: int
    per: float
    remaining: int = 0
    resets_at: float = 0.0

    def refill(self, now: float) -> None:
        if now >= self.resets_at:
            self.remaining = self.limit
            self.resets_at = now + self.per

    def headers(self) -> dict[str, str]:
        """Discord's headers describing the bucket now."""
        reset_after = max(0.0, self.resets_at - time.monotonic())
        return {
            "X-RateLimit-Limit": str(self.limit),
            "X-RateLimit-Remaining": str(self.remaining),
            "X-RateLimit-Reset": f"{time.time() + reset_after:.3f}",
            "X-RateLimit-Reset-After": f"{reset_after:.3f}",
            "X-RateLimit-Bucket": self.name,
        }


def _limited(retry_after: float, *, is_global: bool) -> web.Response:
    """Discord's 429: its body, ``Retry-After`` in whole seconds, and ``Via`` (it came through
    Discord's proxy, not Cloudflare's ban)."""
    body = {"message": "You are being rate limited.", "retry_after": round(retry_after, 3)}
    response = _json({**body, "global": is_global}, 429)
    response.headers["Retry-After"] = str(max(1, math.ceil(retry_after)))
    response.headers["Via"] = "1.1 google"
    return response


def _json(data: Any, status: int = 200) -> web.Response:
    # discord.py parses JSON only when Content-Type is exactly application/json.
    return web.Response(
        body=json.dumps(data).encode(), status=status, headers={"Content-Type": "application/json"}
    )
