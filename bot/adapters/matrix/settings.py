"""The ``[matrix]`` section of the configuration."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from pydantic import Field, field_validator
from pydantic_core import PydanticCustomError

from bot.settings import Int, Secret, Section, check_port

#: A Matrix user id, e.g. ``@cercle:example.org``.
USER_ID_RE = re.compile(r"@[^:\s]+:\S+")
_SERVER_SUFFIX_RE = re.compile(r":[^:\s]\S*")
_PREFIX_RE = re.compile(r"\S{1,3}")


class MatrixSettings(Section):
    """The ``[matrix]`` section."""

    homeserver: str | None = Field(default=None, description="Homeserver URL (http or https).")
    user_id: str | None = Field(default=None, description="Bot account, e.g. @cercle:example.org.")
    password: Secret = Field(
        default=None, description="Account password; environment only (CERCLE_MATRIX__PASSWORD)."
    )
    access_token: Secret = Field(
        default=None,
        description="Access token; environment only (CERCLE_MATRIX__ACCESS_TOKEN).",
    )
    command_prefix: str = Field(default="!", description="Prefix of text commands, e.g. !help.")
    host_power_level: Int = Field(
        default=50, ge=0, le=100, description="Room power level that makes a member a host."
    )
    allowed_inviters: list[str] = Field(
        default_factory=list,
        description="User ids or ':server' suffixes whose room invites are accepted.",
    )

    @field_validator("homeserver")
    @classmethod
    def _check_homeserver(cls, value: str | None) -> str | None:
        if value is None:
            return None
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise PydanticCustomError(
                "homeserver_url", "must be an http(s) URL such as https://matrix.example.org"
            )
        try:
            port = parts.port
        except ValueError:  # not a number, or above 65535
            port = -1
        check_port(port)
        return value.rstrip("/")

    @field_validator("user_id")
    @classmethod
    def _check_user_id(cls, value: str | None) -> str | None:
        if value is not None and not USER_ID_RE.fullmatch(value):
            raise PydanticCustomError(
                "matrix_user_id", "must look like @name:server, e.g. @cercle:example.org"
            )
        return value

    @field_validator("command_prefix")
    @classmethod
    def _check_prefix(cls, value: str) -> str:
        if not _PREFIX_RE.fullmatch(value):
            raise PydanticCustomError(
                "command_prefix", "must be 1 to 3 characters without spaces, e.g. '!'"
            )
        return value

    @field_validator("allowed_inviters")
    @classmethod
    def _check_inviters(cls, value: list[str]) -> list[str]:
        for index, entry in enumerate(value):
            if not (USER_ID_RE.fullmatch(entry) or _SERVER_SUFFIX_RE.fullmatch(entry)):
                raise PydanticCustomError(
                    "matrix_inviter",
                    "entry {index} must be a user id (@name:server) or a server suffix "
                    "(:example.org), got {entry}",
                    {"index": index, "entry": repr(entry[:60])},
                )
        return value
