"""Command specs rendered as Discord application commands, and interactions read back.

Every spec becomes a slash command (grouped by first word); a spec with a ``menu`` label is
also offered in the message menu (Apps → label), named in English with localizations.
Command, subcommand and option names carry their French names (:data:`bot.i18n.FRENCH_NAMES`):
a French client shows ``/question ajouter``, and the interaction still names ``prompt add``.

Pure data: the payload here is exactly what ``PUT /applications/{id}/commands`` receives, so
``cercle discord commands --json`` and the sync share one function, and its hash decides
whether a sync is needed at all.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from bot.commands import CommandSpec, OptionSpec, OptionType, Scope
from bot.i18n import N_, Translator, local_name, translator
from bot.types import Role

#: Discord's application command types.
CHAT_INPUT: Final = 1
MESSAGE: Final = 3
#: Option types.
SUB_COMMAND: Final = 1
SUB_COMMAND_GROUP: Final = 2
OPTION_TYPES: Final[Mapping[OptionType, int]] = {
    OptionType.STRING: 3,
    OptionType.INTEGER: 4,
    OptionType.BOOLEAN: 5,
    OptionType.NUMBER: 10,
}
#: Interaction contexts: in a server, in the bot's DMs.
CONTEXT_GUILD: Final = 0
CONTEXT_BOT_DM: Final = 1
GUILD_INSTALL: Final = 0
#: MANAGE_MESSAGES: what hides host commands from members by default (servers may override).
HOST_PERMISSIONS: Final = 1 << 13

MAX_NAME: Final = 32
#: Discord's rule for a localized name: letters of any script, digits, - and _, lowercase.
LOCAL_NAME_RE: Final = re.compile(r"[-_\w]{1,32}")
MAX_DESCRIPTION: Final = 100
MAX_OPTIONS: Final = 25
MAX_CHOICES: Final = 25
MAX_CHAT_COMMANDS: Final = 100
MAX_MESSAGE_COMMANDS: Final = 5
#: Discord counts names, descriptions, option values and localizations of one command.
MAX_COMMAND_CHARS: Final = 8000
#: Locales a payload is localized into (Discord's locale codes).
LOCALES: Final = ("fr",)

#: What a group of commands is for, as a sentence (Discord shows it above its subcommands).
GROUP_DESCRIPTIONS: Final[Mapping[str, str]] = {
    "circle": N_("Your circle: the open round, your data, and for hosts its settings and health."),
    "digest": N_("The digest of a round: how you are credited, and for hosts posting it."),
    "mod": N_("Moderation for hosts: the review queue, the rules and members' strikes."),
    "profession": N_("Your profession, and for hosts the circle's professions and proposals."),
    "prompt": N_("The weekly questions: the next one, your suggestions, and for hosts the bank."),
    "statement": N_("Short statements of the round that members vote on."),
}
#: A group no sentence was written for yet.
GROUP_DESCRIPTION: Final = N_("The {group} commands.")


@dataclass(frozen=True, slots=True)
class Invocation:
    """What an application-command interaction asked for, in the core's terms."""

    path: tuple[str, ...]
    options: dict[str, Any]
    #: For autocomplete: the option being typed into.
    focused: str | None = None


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _localized(message: str) -> dict[str, str]:
    return {locale: _clip(translator(locale)._(message), MAX_DESCRIPTION) for locale in LOCALES}


def _english() -> Translator:
    return translator("en")


def _names(name: str) -> dict[str, str]:
    """A command word or option name in each locale where it differs from English."""
    return {
        locale: local_name(name, locale) for locale in LOCALES if local_name(name, locale) != name
    }


def _choice_value(option: OptionSpec, value: str) -> str | int | float:
    if option.type is OptionType.INTEGER:
        return int(value)
    if option.type is OptionType.NUMBER:
        return float(value)
    return value


def render_option(option: OptionSpec) -> dict[str, Any]:
    """One typed option."""
    en = _english()
    payload: dict[str, Any] = {
        "type": OPTION_TYPES[option.type],
        "name": option.name,
        "name_localizations": _names(option.name),
        "description": _clip(en._(option.description), MAX_DESCRIPTION),
        "description_localizations": _localized(option.description),
        "required": option.required,
    }
    if option.choices:
        payload["choices"] = [
            {
                "name": _clip(en._(choice.label), MAX_DESCRIPTION),
                "name_localizations": _localized(choice.label),
                "value": _choice_value(option, choice.value),
            }
            for choice in option.choices
        ]
    elif option.autocomplete:
        payload["autocomplete"] = True
    if option.type in (OptionType.INTEGER, OptionType.NUMBER):
        if option.min_value is not None:
            payload["min_value"] = option.min_value
        if option.max_value is not None:
            payload["max_value"] = option.max_value
    if option.type is OptionType.STRING and option.max_length is not None:
        payload["max_length"] = min(option.max_length, 6000)
    return payload


def _leaf(spec: CommandSpec, name: str) -> dict[str, Any]:
    return {
        "name": name,
        "name_localizations": _names(name),
        "description": _clip(_english()._(spec.description), MAX_DESCRIPTION),
        "description_localizations": _localized(spec.description),
        "options": [render_option(option) for option in spec.options],
    }


def _access(specs: Sequence[CommandSpec]) -> dict[str, Any]:
    """Who sees a top-level command: members unless every part is for hosts; where it runs."""
    hosts_only = all(spec.role >= Role.HOST for spec in specs)
    guild_only = all(spec.scope is Scope.CIRCLE for spec in specs)
    return {
        "default_member_permissions": str(HOST_PERMISSIONS) if hosts_only else None,
        "contexts": [CONTEXT_GUILD] if guild_only else [CONTEXT_GUILD, CONTEXT_BOT_DM],
        "integration_types": [GUILD_INSTALL],
    }


def render_commands(specs: Iterable[CommandSpec]) -> list[dict[str, Any]]:
    """The application commands for ``specs``: one-word commands, and groups by first word.

    Raises:
        ValueError: a word is both a command and a group (Discord cannot express it).
    """
    specs = list(specs)
    singles: dict[str, CommandSpec] = {}
    groups: dict[str, list[CommandSpec]] = {}
    for spec in specs:
        if len(spec.path) == 1:
            singles[spec.path[0]] = spec
        else:
            groups.setdefault(spec.path[0], []).append(spec)
    clash = sorted(set(singles) & set(groups))
    if clash:
        raise ValueError(f"commands both plain and grouped: {', '.join(clash)}")
    payload: list[dict[str, Any]] = []
    for name, spec in singles.items():
        payload.append({"type": CHAT_INPUT, **_leaf(spec, name), **_access([spec])})
    for name, members in groups.items():
        members = sorted(members, key=lambda s: s.path)
        sentence = GROUP_DESCRIPTIONS.get(name, GROUP_DESCRIPTION)
        payload.append(
            {
                "type": CHAT_INPUT,
                "name": name,
                "name_localizations": _names(name),
                "description": _clip(_english()._(sentence, group=name), MAX_DESCRIPTION),
                "description_localizations": {
                    locale: _clip(
                        translator(locale)._(sentence, group=local_name(name, locale)),
                        MAX_DESCRIPTION,
                    )
                    for locale in LOCALES
                },
                "options": [{"type": SUB_COMMAND, **_leaf(spec, spec.path[1])} for spec in members],
                **_access(members),
            }
        )
    payload.sort(key=lambda command: command["name"])
    menus = [_menu(spec, spec.menu) for spec in specs if spec.menu is not None and spec.options]
    payload.extend(sorted(menus, key=lambda command: command["name"]))
    return payload


def _menu(spec: CommandSpec, label: str) -> dict[str, Any]:
    """A message context-menu command running ``spec`` with the chosen message's id in its
    first option."""
    access = _access([spec])
    command: dict[str, Any] = {
        "type": MESSAGE,
        "name": _english()._(label),
        "name_localizations": {locale: translator(locale)._(label) for locale in LOCALES},
        "contexts": access["contexts"],
        "integration_types": access["integration_types"],
    }
    if access["default_member_permissions"] is not None:  # hidden from members, like hosts'
        command["default_member_permissions"] = access["default_member_permissions"]
    return command


def payload_hash(payload: Sequence[Mapping[str, Any]]) -> str:
    """A stable digest of a payload: a sync is needed only when it changes."""
    canonical = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def check_limits(payload: Sequence[Mapping[str, Any]]) -> list[str]:
    """What in a payload Discord would refuse (empty when fine)."""
    problems: list[str] = []
    chat = [c for c in payload if c.get("type", CHAT_INPUT) == CHAT_INPUT]
    menus = [c for c in payload if c.get("type") == MESSAGE]
    if len(chat) > MAX_CHAT_COMMANDS:
        problems.append(f"{len(chat)} slash commands, at most {MAX_CHAT_COMMANDS}")
    if len(menus) > MAX_MESSAGE_COMMANDS:
        problems.append(f"{len(menus)} message commands, at most {MAX_MESSAGE_COMMANDS}")
    for command in payload:
        where = str(command["name"])
        chars = _count_chars(command)
        if chars > MAX_COMMAND_CHARS:
            problems.append(f"{where}: {chars} characters, at most {MAX_COMMAND_CHARS}")
        if command.get("type", CHAT_INPUT) == MESSAGE:
            if not 1 <= len(where) <= MAX_NAME:
                problems.append(f"{where}: a menu name has 1-{MAX_NAME} characters")
            continue
        problems += _check_node(command, where)
    return problems


def _check_node(node: Mapping[str, Any], where: str) -> list[str]:
    from bot.commands import NAME_RE

    problems = []
    if not NAME_RE.fullmatch(str(node["name"])):
        problems.append(f"{where}: invalid name {node['name']!r}")
    for locale, name in node.get("name_localizations", {}).items():
        if not LOCAL_NAME_RE.fullmatch(name) or name != name.lower():
            problems.append(f"{where}: invalid {locale} name {name!r}")
    descriptions = [
        node.get("description", ""),
        *node.get("description_localizations", {}).values(),
    ]
    if not all(1 <= len(d) <= MAX_DESCRIPTION for d in descriptions):
        problems.append(f"{where}: descriptions must have 1-{MAX_DESCRIPTION} characters")
    if set(node.get("description_localizations", {})) != set(LOCALES):
        problems.append(f"{where}: missing description localizations")
    options = node.get("options", [])
    if len(options) > MAX_OPTIONS:
        problems.append(f"{where}: {len(options)} options, at most {MAX_OPTIONS}")
    for option in options:
        inner = f"{where} {option['name']}"
        problems += _check_node(option, inner)
        choices = option.get("choices", [])
        if len(choices) > MAX_CHOICES:
            problems.append(f"{inner}: {len(choices)} choices, at most {MAX_CHOICES}")
        if choices and option.get("autocomplete"):
            problems.append(f"{inner}: choices and autocomplete exclude each other")
        for choice in choices:
            names = [choice["name"], *choice.get("name_localizations", {}).values()]
            if not all(1 <= len(n) <= MAX_DESCRIPTION for n in names):
                problems.append(f"{inner}: choice names must have 1-{MAX_DESCRIPTION} characters")
    return problems


def _count_chars(node: Mapping[str, Any]) -> int:
    total = len(str(node.get("name", ""))) + len(str(node.get("description", "")))
    for key in ("name_localizations", "description_localizations"):
        total += sum(len(v) for v in node.get(key, {}).values())
    for choice in node.get("choices", []):
        total += len(choice["name"]) + len(str(choice["value"]))
        total += sum(len(v) for v in choice.get("name_localizations", {}).values())
    return total + sum(_count_chars(option) for option in node.get("options", []))


def read_invocation(data: Mapping[str, Any]) -> Invocation:
    """The path and option values of a slash-command (or autocomplete) interaction."""
    path = [str(data["name"])]
    options: Sequence[Mapping[str, Any]] = data.get("options") or []
    while len(options) == 1 and options[0].get("type") in (SUB_COMMAND, SUB_COMMAND_GROUP):
        path.append(str(options[0]["name"]))
        options = options[0].get("options") or []
    values: dict[str, Any] = {}
    focused: str | None = None
    for option in options:
        values[str(option["name"])] = option.get("value")
        if option.get("focused"):
            focused = str(option["name"])
    return Invocation(tuple(path), values, focused)
