"""What every settings section is built from: a strict frozen model and two checked field types.

Each adapter declares its own section next to its code (``bot/adapters/<name>/settings.py``);
:mod:`bot.config` assembles the sections into one :class:`~bot.config.Config`.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, BeforeValidator, ConfigDict, SecretStr
from pydantic_core import PydanticCustomError

__all__ = ["Int", "Secret", "Section", "check_port"]


def _reject_bool(value: object) -> object:
    # Pydantic's lax int accepts true/false as 1/0; in a config file that is always a mistake.
    if isinstance(value, bool):
        raise PydanticCustomError("int_type", "expected a whole number, not true/false")
    return value


def _blank_secret_to_none(value: object) -> object:
    # `KEY=${UNSET}` in compose files yields ""; stray newlines come from `$(cat file)`.
    if isinstance(value, str):
        value = value.strip()
        return value or None
    return value


def check_port(port: int | None) -> None:
    """Refuse a URL's port outside 1-65535 (``None``: no port given, the scheme's default)."""
    if port is not None and not 1 <= port <= 65535:
        raise PydanticCustomError("url_port", "the port must be a number from 1 to 65535")


#: A whole number where ``true``/``false`` is an error, not 1/0.
Int = Annotated[int, BeforeValidator(_reject_bool)]
#: A secret read from the environment; blank means unset.
Secret = Annotated[SecretStr | None, BeforeValidator(_blank_secret_to_none)]


class Section(BaseModel):
    """One ``[section]`` of the configuration: unknown keys are errors, values never change."""

    model_config = ConfigDict(extra="forbid", frozen=True)
