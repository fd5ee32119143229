"""What the courtesy cog tells other cogs (through :meth:`bot.app.Bot.emit`)."""

from __future__ import annotations

from dataclasses import dataclass

from bot.types import MessageRef, UserRef


@dataclass(frozen=True, slots=True)
class MessageApproved:
    """A host approved a held message: it is now published (the bot reposted it).

    ``message`` is the original message (for an answer given with ``/answer``, the
    ``command:<id>`` reference the verdict was asked for); ``text`` is what was published
    (personal details masked, if it had any).
    """

    message: MessageRef
    author: UserRef
    text: str


@dataclass(frozen=True, slots=True)
class MessageRejected:
    """A host rejected a held or reported message: it stays out of view for good."""

    message: MessageRef
