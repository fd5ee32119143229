"""Every command of every cog, by path; names are unique across cogs."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from bot.commands import Choice, CommandSpec, OptionSpec
from bot.context import Context

Handler = Callable[[Any], Awaitable[None]]
"""A command handler: takes the :class:`~bot.context.CommandContext` (or a subclass)."""


class CommandOwner(Protocol):
    """What declares commands (a cog): its handlers, and suggestions for its options."""

    def commands(self) -> list[tuple[CommandSpec, Handler]]:
        """The commands declared, with their bound handlers."""

    async def suggest(
        self, spec: CommandSpec, option: OptionSpec, partial: str, ctx: Context
    ) -> list[Choice]:
        """Suggestions for an option as the member types."""


class CommandRegistry:
    """Every command of every cog, by path; a path declared twice is a programming error."""

    def __init__(self) -> None:
        self._by_path: dict[tuple[str, ...], tuple[CommandSpec, Handler, CommandOwner]] = {}

    def add(self, owner: CommandOwner) -> None:
        """Register the owner's commands."""
        for spec, handler in owner.commands():
            if spec.path in self._by_path:
                other = self._by_path[spec.path][2]
                raise ValueError(
                    f"command {spec.qualified_name!r} declared by both "
                    f"{type(other).__name__} and {type(owner).__name__}"
                )
            self._by_path[spec.path] = (spec, handler, owner)

    @property
    def specs(self) -> list[CommandSpec]:
        """All command specs, sorted by path."""
        return [self._by_path[path][0] for path in sorted(self._by_path)]

    def get(self, path: tuple[str, ...]) -> tuple[CommandSpec, Handler, CommandOwner] | None:
        """The command at ``path``."""
        return self._by_path.get(path)

    def find(self, name: str) -> list[CommandSpec]:
        """Commands whose path starts with ``name`` (``prompt`` or ``prompt add``)."""
        words = tuple(name.lower().lstrip("/!").split())
        return [spec for spec in self.specs if spec.path[: len(words)] == words]
