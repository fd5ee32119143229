"""Every request to the homeserver, with bounded retries; the adapter's own state rows.

429s are retried after the server's ``retry_after_ms`` (with a growing floor) a bounded number
of times, then :class:`~bot.adapters.matrix.base.RateLimited` is raised; connection errors
likewise. Every nio error response becomes a :class:`~bot.platform.PlatformError` here, at the
edge.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
from nio import ErrorResponse

from bot.adapters.matrix.base import MatrixBase, RateLimited, log
from bot.platform import PlatformError
from storage import state


class Requests(MatrixBase):
    """The one way the other parts talk to the homeserver."""

    async def _call(
        self, what: str, func: Callable[..., Awaitable[Any]], *args: Any, **kw: Any
    ) -> Any:
        """Run one nio request: retry 429s and connection errors a bounded number of times."""
        attempt = 0
        while True:
            try:
                response = await func(*args, **kw)
            except (aiohttp.ClientError, TimeoutError) as error:
                if attempt >= self.max_retries or self._stopping.is_set():
                    raise PlatformError(
                        f"Matrix {what}: {error or type(error).__name__}"
                    ) from error
                delay = self._backoff(attempt)
                log.warning("Matrix %s: %s; retry %d in %.1f s", what, error, attempt + 1, delay)
            else:
                if isinstance(response, tuple):  # upload() answers (response, keys)
                    response = response[0]
                if not isinstance(response, ErrorResponse):
                    return response
                if response.status_code not in ("M_LIMIT_EXCEEDED", 429, "429"):
                    raise PlatformError(f"Matrix {what}: {response}")
                self.rate_limited += 1
                if attempt >= self.max_retries:
                    raise RateLimited(f"Matrix {what}: still rate limited after {attempt} retries")
                server = (response.retry_after_ms or 0) / 1000
                delay = min(max(server, self._backoff(attempt)), self.retry_cap)
                log.warning("Matrix %s rate limited; retry %d in %.1f s", what, attempt + 1, delay)
            attempt += 1
            await asyncio.sleep(delay)

    async def _json(self, method: str, path: str) -> dict[str, Any] | ErrorResponse:
        """One request whose answer is a JSON object, read without nio's classes (no
        schema validation, no event objects: a backlog's pages are the hot path); an error
        answer as nio's, for :meth:`_call` to retry or raise."""
        async with await self.client.send(method, path) as response:
            try:
                body = await response.json(content_type=None)
            except ValueError:
                body = None
            status = response.status
        if status == 200 and isinstance(body, dict):
            return body
        fields = body if isinstance(body, dict) else {}
        errcode, retry = fields.get("errcode"), fields.get("retry_after_ms")
        return ErrorResponse(
            str(fields.get("error") or f"HTTP {status}"),
            errcode if isinstance(errcode, str) else str(status),
            retry if isinstance(retry, int) else None,
        )

    def _backoff(self, attempt: int) -> float:
        return float(min(self.retry_floor * 2**attempt, self.retry_cap))

    async def _set(self, key: str, value: str) -> None:
        await state.set_state(self.db, self.name, key, value, now=self.clock.now())
