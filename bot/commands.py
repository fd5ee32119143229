"""Commands declared once, as data; text parsing, usage and help are derived from the specs.

Every platform uses the same specs: Discord renders them as application commands, text
platforms (Matrix, the console) parse ``/group sub option:value free text`` with
:func:`parse_arguments`, and ``/help`` is generated from them.
"""

from __future__ import annotations

import enum
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from bot.i18n import N_, Translator, english_name, local_name
from bot.types import Role

NAME_RE: Final = re.compile(r"^[a-z0-9_-]{1,32}$")
MAX_DESCRIPTION: Final = 100
MAX_OPTIONS: Final = 25


class OptionType(enum.Enum):
    """The value an option takes."""

    STRING = "string"
    INTEGER = "integer"
    NUMBER = "number"
    BOOLEAN = "boolean"


class Scope(enum.Enum):
    """Where a command may run."""

    #: In a circle's channel or one of its threads.
    CIRCLE = "circle"
    #: Also in a direct conversation with the bot.
    ANYWHERE = "anywhere"


@dataclass(frozen=True, slots=True)
class Choice:
    """A fixed value an option offers; ``label`` is a translatable message id."""

    value: str
    label: str


@dataclass(frozen=True, slots=True)
class OptionSpec:
    """One typed option of a command."""

    name: str
    description: str
    type: OptionType = OptionType.STRING
    required: bool = False
    choices: tuple[Choice, ...] = ()
    #: The free-text option: words that are not ``name:value`` pairs fill it.
    rest: bool = False
    min_value: float | None = None
    max_value: float | None = None
    max_length: int | None = None
    #: The owning cog offers suggestions as the member types (see ``Cog.suggest``).
    autocomplete: bool = False
    #: What usage shows for the value (a translatable message id) instead of the choices: the
    #: command then reads the words itself, in either language (``/vote 3 choix:pour``).
    placeholder: str = ""


@dataclass(frozen=True, slots=True)
class CommandSpec:
    """A command: its path (``("prompt", "add")``), what it does, what it takes, who may run it."""

    path: tuple[str, ...]
    description: str
    options: tuple[OptionSpec, ...] = ()
    role: Role = Role.MEMBER
    scope: Scope = Scope.ANYWHERE
    #: Answer privately (ephemeral where the platform can, else a direct message).
    private: bool = False
    #: May take more than a couple of seconds (Discord then defers its answer).
    slow: bool = False
    #: Extra help lines (message ids) shown by ``/help <command>``.
    examples: tuple[str, ...] = field(default=())
    #: Also offered in a message's menu under this label (a message id; Discord: Apps →
    #: label): choosing it runs the command with the message's id in the first option.
    menu: str | None = None

    @property
    def qualified_name(self) -> str:
        """``prompt add``."""
        return " ".join(self.path)

    @property
    def rest_option(self) -> OptionSpec | None:
        """The free-text option, if the command has one."""
        return next((o for o in self.options if o.rest), None)

    def option(self, name: str) -> OptionSpec | None:
        """The option called ``name``."""
        return next((o for o in self.options if o.name == name), None)

    def option_named(self, name: str) -> OptionSpec | None:
        """The option called ``name`` in English or in French (``texte`` is ``text``)."""
        return self.option(name) or self.option(english_name(name))


class UsageError(Exception):
    """A command was malformed; the member is shown ``problem`` and the generated usage."""

    def __init__(self, spec: CommandSpec | None, problem: str, **params: Any) -> None:
        super().__init__(problem.format(**params) if params else problem)
        self.spec = spec
        self.problem = problem
        self.params = params

    def render(self, t: Translator, prefix: str) -> str:
        """The localized problem followed by the usage line."""
        params = dict(self.params)
        if self.spec is not None and self.spec.option(str(params.get("name"))) is not None:
            params["name"] = local_name(str(params["name"]), t.locale)
        lines = [t._(self.problem, **params)]
        if self.spec is not None:
            lines.append(t._("Usage: {usage}", usage=usage(self.spec, t, prefix)))
        return "\n".join(lines)


def validate_spec(spec: CommandSpec) -> list[str]:
    """Problems that would stop the spec from working on every platform (empty when fine)."""
    problems: list[str] = []
    if not 1 <= len(spec.path) <= 2:
        problems.append(f"{spec.qualified_name}: a command has one or two words")
    for part in spec.path:
        if not NAME_RE.fullmatch(part):
            problems.append(f"{spec.qualified_name}: {part!r} is not a valid command name")
    if not 1 <= len(spec.description) <= MAX_DESCRIPTION:
        problems.append(
            f"{spec.qualified_name}: description must be 1-{MAX_DESCRIPTION} characters"
        )
    if len(spec.options) > MAX_OPTIONS:
        problems.append(f"{spec.qualified_name}: more than {MAX_OPTIONS} options")
    names = [o.name for o in spec.options]
    if len(set(names)) != len(names):
        problems.append(f"{spec.qualified_name}: two options share a name")
    if sum(o.rest for o in spec.options) > 1:
        problems.append(f"{spec.qualified_name}: more than one free-text option")
    for option in spec.options:
        if not NAME_RE.fullmatch(option.name):
            problems.append(f"{spec.qualified_name}: option {option.name!r} is not a valid name")
        if not 1 <= len(option.description) <= MAX_DESCRIPTION:
            problems.append(
                f"{spec.qualified_name}: option {option.name} description must be "
                f"1-{MAX_DESCRIPTION} characters"
            )
        if len(option.choices) > MAX_OPTIONS:
            problems.append(f"{spec.qualified_name}: option {option.name} has over 25 choices")
        if option.rest and option.type is not OptionType.STRING:
            problems.append(
                f"{spec.qualified_name}: free-text option {option.name} must be a string"
            )
    required_seen_optional = False
    for option in spec.options:  # Discord wants required options first.
        if not option.required:
            required_seen_optional = True
        elif required_seen_optional:
            problems.append(f"{spec.qualified_name}: required option {option.name} after optional")
    return problems


# ---------------------------------------------------------------- parsing

# `name:` counts only when a value follows at once: "votre position: pour" stays text.
_OPTION_RE: Final = re.compile(r"(?<!\S)([a-z0-9_\-à-öø-ÿœ]{1,32}):(?=\S)")
_QUOTES: Final = {'"': '"', "'": "'", "«": "»", "“": "”"}
_TRUE: Final = frozenset({"true", "yes", "y", "on", "1", "oui", "o", "vrai"})
_FALSE: Final = frozenset({"false", "no", "n", "off", "0", "non", "faux"})


def split_path(text: str, specs: Iterable[CommandSpec]) -> tuple[CommandSpec, str] | None:
    """Find the command a text invocation names; return it with the argument text.

    ``text`` has no prefix: ``prompt add text:"..."``. The longest matching path wins.
    """
    words = text.split(None, 2)
    by_path = {spec.path: spec for spec in specs}
    for size in (2, 1):
        if len(words) >= size:
            path = tuple(english_name(w.lower()) for w in words[:size])
            if path in by_path:
                rest = text.split(None, size)
                return by_path[path], rest[size] if len(rest) > size else ""
    return None


def parse_arguments(spec: CommandSpec, text: str) -> dict[str, Any]:
    """Parse ``name:value`` pairs (quotes allowed) and free text into typed option values.

    Raises:
        UsageError: an unknown or repeated option, a bad value, a missing required option.
    """
    return coerce_options(spec, split_arguments(spec, text))


def split_arguments(spec: CommandSpec, text: str) -> dict[str, str]:
    """Split argument text into raw option strings, without checking their values."""
    raw: dict[str, str] = {}
    free: list[str] = []
    pos = 0
    for match in _OPTION_RE.finditer(text):
        if match.start() < pos:
            continue  # inside a quoted value already consumed
        option = spec.option_named(match.group(1))
        if option is None:
            continue  # ordinary text that happens to contain a colon
        name = option.name
        free.append(text[pos : match.start()])
        value, pos = _read_value(spec, match.group(1), text, match.end())
        if name in raw:
            raise UsageError(spec, N_("The option {name} is given twice."), name=name)
        raw[name] = value
    free.append(text[pos:])
    free_text = " ".join(piece.strip() for piece in free if piece.strip())
    rest = spec.rest_option
    if free_text:
        if rest is None:
            # `/prompt approve 3`: a single word is the one required option not given yet.
            missing = [o for o in spec.options if o.required and o.name not in raw]
            if len(missing) == 1 and len(free_text.split()) == 1:
                raw[missing[0].name] = free_text
                return raw
            raise UsageError(spec, N_("I did not understand “{text}”."), text=_clip(free_text))
        # `help command:prompt add` means "prompt add": free words continue the free-text option.
        raw[rest.name] = f"{raw[rest.name]} {free_text}" if rest.name in raw else free_text
    return raw


def coerce_options(spec: CommandSpec, raw: Mapping[str, Any]) -> dict[str, Any]:
    """Check and convert option values (from text or a native command) against the spec."""
    values: dict[str, Any] = {}
    for name in raw:
        if spec.option(name) is None:
            raise UsageError(spec, N_("Unknown option {name}."), name=name)
    for option in spec.options:
        if option.name not in raw or raw[option.name] in (None, ""):
            if option.required:
                raise UsageError(spec, N_("The option {name} is required."), name=option.name)
            values[option.name] = None
            continue
        values[option.name] = _convert(spec, option, raw[option.name])
    return values


def _read_value(spec: CommandSpec, name: str, text: str, start: int) -> tuple[str, int]:
    if start < len(text) and text[start] in _QUOTES:
        closing = _QUOTES[text[start]]
        end = text.find(closing, start + 1)
        if end == -1:
            raise UsageError(spec, N_("A quote is not closed after {name}:."), name=name)
        return text[start + 1 : end], end + 1
    end = start
    while end < len(text) and not text[end].isspace():
        end += 1
    return text[start:end], end


def _convert(spec: CommandSpec, option: OptionSpec, value: Any) -> Any:
    text = value.strip() if isinstance(value, str) else value
    if option.type is OptionType.STRING:
        text = str(text)
        if option.max_length is not None and len(text) > option.max_length:
            raise UsageError(
                spec,
                N_("{name} is too long ({length} characters, at most {limit})."),
                name=option.name,
                length=len(text),
                limit=option.max_length,
            )
        converted: Any = text
    elif option.type is OptionType.BOOLEAN:
        if isinstance(text, bool):
            converted = text
        elif str(text).lower() in _TRUE:
            converted = True
        elif str(text).lower() in _FALSE:
            converted = False
        else:
            raise UsageError(spec, N_("{name} takes yes or no."), name=option.name)
    else:
        try:
            converted = int(text) if option.type is OptionType.INTEGER else float(text)
        except (TypeError, ValueError):
            raise UsageError(spec, N_("{name} takes a number."), name=option.name) from None
        if math.isnan(converted):
            raise UsageError(spec, N_("{name} takes a number."), name=option.name)
        if (option.min_value is not None and converted < option.min_value) or (
            option.max_value is not None and converted > option.max_value
        ):
            raise UsageError(
                spec,
                N_("{name} must be between {low} and {high}."),
                name=option.name,
                low=_num(option.min_value),
                high=_num(option.max_value),
            )
    if (
        option.choices
        and not option.placeholder
        and str(converted) not in {c.value for c in option.choices}
    ):
        raise UsageError(
            spec,
            N_("{name} takes one of: {choices}."),
            name=option.name,
            choices=", ".join(c.value for c in option.choices),
        )
    return converted


def _num(value: float | None) -> str:
    if value is None:
        return "…"
    return str(int(value)) if float(value).is_integer() else str(value)


def _clip(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


# ---------------------------------------------------------------- usage and help


def _placeholder(option: OptionSpec, t: Translator) -> str:
    if option.placeholder:
        return t._(option.placeholder)
    if option.choices:
        return "|".join(c.value for c in option.choices)
    names = {
        OptionType.STRING: N_("text"),
        OptionType.INTEGER: N_("number"),
        OptionType.NUMBER: N_("number"),
        OptionType.BOOLEAN: N_("yes|no"),
    }
    return t._(names[option.type])


def usage(spec: CommandSpec, t: Translator, prefix: str = "/") -> str:
    """One line such as ``/prompt add <text> [position:<number>]``."""
    parts = [prefix + spec.qualified_name]
    for option in spec.options:
        name = local_name(option.name, t.locale)
        token = f"<{name}>" if option.rest else f"{name}:<{_placeholder(option, t)}>"
        parts.append(token if option.required else f"[{token}]")
    return " ".join(parts)


def describe(spec: CommandSpec, t: Translator, prefix: str = "/") -> str:
    """Full help for one command: usage, description, each option and examples."""
    lines = [f"`{usage(spec, t, prefix)}`", t._(spec.description)]
    for option in spec.options:
        need = t._("required") if option.required else t._("optional")
        line = t._(
            "{option} ({need}): {description}",
            option=f"`{local_name(option.name, t.locale)}`",
            need=need,
            description=_after_colon(t._(option.description), t),
        )
        lines.append(f"• {line}")
    lines.extend(t._(example, prefix=prefix) for example in spec.examples)
    if spec.role >= Role.HOST:
        lines.append(t._("For hosts only."))
    return "\n".join(lines)


def _after_colon(text: str, t: Translator) -> str:
    """French goes on in lower case after a colon (``(obligatoire) : le texte``)."""
    if t.locale == "fr" and text[:1].isupper() and not text[1:2].isupper():
        return text[0].lower() + text[1:]
    return text


def help_index(specs: Sequence[CommandSpec], t: Translator, prefix: str, role: Role) -> str:
    """The list of commands a member with ``role`` may run, one line each."""
    member_lines: list[str] = []
    host_lines: list[str] = []
    for spec in sorted(specs, key=lambda s: s.path):
        if spec.role > role:
            continue
        line = f"`{prefix}{spec.qualified_name}` — {t._(spec.description)}"
        (host_lines if spec.role >= Role.HOST else member_lines).append(line)
    out = [t._("**Commands**"), *member_lines]
    if host_lines:
        out += ["", t._("**Host commands**"), *host_lines]
    placeholder = t._("command")  # what the member types after /help, in their language
    out += ["", t._("Details: {usage}", usage=f"`{prefix}help <{placeholder}>`")]
    return "\n".join(out)
