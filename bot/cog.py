"""What a feature (a cog) is: commands declared as data, event listeners, jobs, a data hook.

A cog receives its services in the constructor (:class:`~bot.services.Services`) and never
imports a platform library or reads the wall clock. Handlers get a context that knows the
circle, the member, their role and a translator in the right language, and that answers
through the messenger.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any, ClassVar, TypeVar

from bot.commands import Choice, CommandSpec, OptionSpec, Scope
from bot.context import CircleContext, CommandContext, Context, EventContext
from bot.registry import Handler
from bot.services import Services
from bot.types import Role, Verdict

F = TypeVar("F", bound=Callable[..., Awaitable[None]])

_SPEC_ATTR = "__cercle_command__"

__all__ = [
    "CircleContext",
    "Cog",
    "CommandContext",
    "Context",
    "EventContext",
    "Services",
    "command",
]


def command(
    *path: str,
    description: str,
    options: Sequence[OptionSpec] = (),
    role: Role = Role.MEMBER,
    scope: Scope = Scope.ANYWHERE,
    private: bool = False,
    slow: bool = False,
    examples: Sequence[str] = (),
    menu: str | None = None,
) -> Callable[[F], F]:
    """Declare a cog method as the handler of a command.

    ``description`` and option descriptions are English message ids, marked with ``N_``.
    A handler of a ``Scope.CIRCLE`` command receives a :class:`~bot.context.CircleContext`.
    """
    spec = CommandSpec(
        path=tuple(path),
        description=description,
        options=tuple(options),
        role=role,
        scope=scope,
        private=private,
        slow=slow,
        examples=tuple(examples),
        menu=menu,
    )

    def decorate(func: F) -> F:
        setattr(func, _SPEC_ATTR, spec)
        return func

    return decorate


class Cog:
    """Base class of features. Override what you need; declare commands with :func:`command`."""

    #: Unique, stable name (used in logs and job keys).
    name: ClassVar[str] = ""

    def __init__(self, services: Services) -> None:
        self.services = services
        self.log = services.log.getChild(self.name or type(self).__name__)

    def commands(self) -> list[tuple[CommandSpec, Handler]]:
        """The commands this cog declares, with their bound handlers."""
        found: list[tuple[CommandSpec, Handler]] = []
        for attr in dir(type(self)):
            spec = getattr(getattr(type(self), attr), _SPEC_ATTR, None)
            if isinstance(spec, CommandSpec):
                found.append((spec, getattr(self, attr)))
        return found

    async def on_start(self) -> None:
        """Called once storage is ready, before adapters connect: register jobs here."""

    async def on_stop(self) -> None:
        """Called at shutdown."""

    async def inspect(self, ctx: EventContext) -> Verdict | None:
        """Judge a post or edit before listeners see it (courtesy rules); ``None``: no opinion.

        The router records the opinion under this cog's name in ``ctx.opinions`` for the
        listeners; an ``advisory`` opinion is recorded but never decides what is shown.
        """
        return None

    async def on_message(self, ctx: EventContext) -> None:
        """A member posted a (non-command) message; ``ctx.verdict`` says how it may be shown."""

    async def on_edit(self, ctx: EventContext) -> None:
        """A member edited a message."""

    async def on_delete(self, ctx: EventContext) -> None:
        """A message was deleted."""

    async def on_reaction(self, ctx: EventContext) -> None:
        """A reaction was added or removed (see ``ctx.event``)."""

    async def on_signal(self, signal: object) -> None:
        """Another cog (or the core) announced something; ignore unknown signals."""

    async def suggest(
        self, spec: CommandSpec, option: OptionSpec, partial: str, ctx: Context
    ) -> list[Choice]:
        """Suggestions for an option with ``autocomplete`` as the member types."""
        return []

    # Member data: every cog says what it stores about a member and can erase it.

    async def export_member_data(self, member_id: int) -> dict[str, Any]:
        """Everything this cog stores about the member, as JSON-ready data."""
        raise NotImplementedError(f"{type(self).__name__} must implement export_member_data")

    async def erase_member_data(self, member_id: int) -> None:
        """Erase everything this cog stores about the member."""
        raise NotImplementedError(f"{type(self).__name__} must implement erase_member_data")
