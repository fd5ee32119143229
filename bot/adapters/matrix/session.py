"""The Matrix session: a configured access token, a stored one, or a password login.

The password is used once: the access token and device id it gives are kept in storage, so a
restart reuses the device. The sync filter keeps presence, account data and ephemeral events
out of every sync.
"""

from __future__ import annotations

import json

from nio import LoginResponse, WhoamiResponse

from bot.adapters.matrix.base import SESSION, MatrixBase, log
from bot.logs import register_secret
from bot.platform import PlatformError
from storage import state


class Session(MatrixBase):
    """Logging in, and the filter every sync uses."""

    async def _open_session(self) -> None:
        await self._open_session_once()
        # A token learnt at login or from storage is masked in every log line from now on.
        register_secret(self.client.access_token)

    async def _open_session_once(self) -> None:
        client = self.client
        token = self.settings.access_token
        stored = await self._stored_session()
        if stored is not None:
            # Masked before any request: a hostile server may echo it in an error we log.
            register_secret(stored["access_token"])
        if token is not None:
            client.restore_login(self.user_id, "", token.get_secret_value())
            who = await self._call("whoami", client.whoami)
            assert isinstance(who, WhoamiResponse)
            client.device_id = self.device_id = who.device_id
            return
        if stored is not None:
            client.restore_login(self.user_id, stored["device_id"], stored["access_token"])
            try:
                await self._call("whoami", client.whoami)
            except PlatformError as error:
                log.warning("stored Matrix session refused (%s); logging in again", error)
            else:
                self.device_id = stored["device_id"]
                return
            client.access_token = ""
        password = self.settings.password
        if password is None:
            raise PlatformError("no Matrix access token and no password to log in with")
        # Reuse the device of an earlier login when known, so the account keeps one device.
        client.device_id = stored["device_id"] if stored else None
        response = await self._call(
            "login", client.login, password.get_secret_value(), device_name=self.device_name
        )
        assert isinstance(response, LoginResponse)
        self.device_id = response.device_id
        self.logged_in_with_password = True
        session = {
            "user_id": self.user_id,
            "device_id": response.device_id,
            "access_token": response.access_token,
        }
        await self._set(SESSION, json.dumps(session))

    async def _stored_session(self) -> dict[str, str] | None:
        raw = await state.get_state(self.db, self.name, SESSION)
        if not raw:
            return None
        try:
            session = json.loads(raw)
        except ValueError:
            return None
        if not isinstance(session, dict) or session.get("user_id") != self.user_id:
            return None
        if not all(isinstance(session.get(k), str) for k in ("device_id", "access_token")):
            return None
        return {k: str(v) for k, v in session.items()}

    async def _upload_filter(self) -> str:
        nothing = {"not_types": ["*"]}
        sync_filter = {
            "presence": nothing,
            "account_data": nothing,
            "room": {
                "timeline": {"limit": self.timeline_limit},
                "ephemeral": nothing,
                "account_data": nothing,
            },
        }
        response = await self._call("upload filter", self.client.upload_filter, **sync_filter)
        filter_id: str = response.filter_id
        return filter_id
