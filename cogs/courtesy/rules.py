"""Rules as data: ids, categories, actions, strike weights, thresholds and allow-lists.

The defaults are ``data/rules.toml``; a circle (or ``cercle moderate --config FILE``) overrides
them with a mapping of the same shape, merged on top: a rule's action or weight, thresholds, more
allowed words (``[allow] words``) and its own words per rule (``[words] "insult.strong" = [...]``).
"""

from __future__ import annotations

import enum
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any, Final

from cogs.courtesy.lexicon import DATA_DIR

RULES_FILE: Final = DATA_DIR / "rules.toml"


class Action(enum.StrEnum):
    """What happens to a message, from the mildest."""

    ALLOW = "allow"
    NUDGE = "nudge"
    WARN = "warn"
    REDACT = "redact"
    HOLD = "hold"
    HIDE = "hide"

    @property
    def severity(self) -> int:
        """Rank: the most severe action of a message wins."""
        return _SEVERITY[self]


_SEVERITY: Final = {action: rank for rank, action in enumerate(Action)}


class Category(enum.StrEnum):
    """What kind of problem a rule catches."""

    OK = "ok"
    RUDE = "rude"
    INSULT = "insult"
    PROFANITY = "profanity"
    THREAT = "threat"
    HATE = "hate"
    PII = "pii"
    SPAM = "spam"
    FLOOD = "flood"
    MENTIONS = "mentions"


class SettingsError(ValueError):
    """Rules settings are invalid; ``problems`` lists every mistake with its key path."""

    def __init__(self, problems: Sequence[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = list(problems)


@dataclass(frozen=True, slots=True)
class Rule:
    """One rule: what it catches, what it does, how many strikes it costs."""

    id: str
    category: Category
    action: Action
    strikes: float
    description: str = ""


@dataclass(frozen=True, slots=True)
class Settings:
    """Every rule and threshold of a circle."""

    rules: Mapping[str, Rule]
    allow: tuple[str, ...] = ()
    words: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    flood_messages: int = 6
    flood_seconds: int = 30
    repeat_count: int = 3
    repeat_minutes: int = 10
    mentions_max: int = 5
    links_new_member_hours: float = 24
    links_max: int = 3
    allowed_domains: tuple[str, ...] = ()
    strike_half_life_hours: float = 72
    mute_at: float = 3.0
    mute_minutes: tuple[int, ...] = (10, 60, 1440)
    #: The semantic layer runs (see :mod:`cogs.courtesy.semantic`).
    semantic: bool = False
    #: Its decisions are logged but not carried out.
    semantic_observe: bool = False
    #: Per family, the probability from which it acts (unset: the trained threshold).
    semantic_thresholds: Mapping[Category, float] = field(default_factory=dict)

    def rule(self, rule_id: str) -> Rule:
        """The rule with this id."""
        return self.rules[rule_id]


_THRESHOLDS: Final[dict[tuple[str, str], tuple[str, type]]] = {
    ("flood", "messages"): ("flood_messages", int),
    ("flood", "seconds"): ("flood_seconds", int),
    ("repeat", "count"): ("repeat_count", int),
    ("repeat", "minutes"): ("repeat_minutes", int),
    ("mentions", "max"): ("mentions_max", int),
    ("links", "new_member_hours"): ("links_new_member_hours", float),
    ("links", "max"): ("links_max", int),
    ("strikes", "half_life_hours"): ("strike_half_life_hours", float),
    ("strikes", "mute_at"): ("mute_at", float),
}
_RULE_KEYS: Final = frozenset({"category", "action", "strikes", "description"})
_TOP_KEYS: Final = frozenset(
    {"rules", "flood", "repeat", "mentions", "links", "strikes", "allow", "words", "semantic"}
)
#: The families the semantic layer names (a threshold each).
SEMANTIC_FAMILIES: Final = ("threat", "hate", "spam", "rude", "insult", "profanity")


@cache
def default_data() -> dict[str, Any]:
    """The shipped defaults, as read from ``rules.toml``."""
    with RULES_FILE.open("rb") as handle:
        return tomllib.load(handle)


def read_settings_file(path: Path) -> dict[str, Any]:
    """Overrides from a TOML file (at the top level or under ``[courtesy]``).

    Raises:
        SettingsError: the file cannot be read or is not TOML.
    """
    try:
        with path.open("rb") as handle:
            data = tomllib.load(handle)
    except OSError as error:
        raise SettingsError([f"{path}: {error.strerror or error}"]) from None
    except tomllib.TOMLDecodeError as error:
        raise SettingsError([f"{path}: not valid TOML ({error})"]) from None
    courtesy = data.get("courtesy")
    return dict(courtesy) if isinstance(courtesy, dict) else data


def _number(value: object, kind: type, where: str, problems: list[str]) -> Any:
    if isinstance(value, bool) or not isinstance(value, int | float):
        problems.append(f"{where}: expected a number, got {value!r}")
        return None
    if value < 0:
        problems.append(f"{where}: must not be negative")
        return None
    if kind is int and not float(value).is_integer():
        problems.append(f"{where}: expected a whole number, got {value!r}")
        return None
    return kind(value)


def build_settings(overrides: Mapping[str, Any] | None = None) -> Settings:
    """The defaults with ``overrides`` merged on top.

    Raises:
        SettingsError: with every problem found (unknown rule, bad action, bad number...).
    """
    base = default_data()
    extra: dict[str, Any] = {}
    problems: list[str] = []
    for key, value in dict(overrides or {}).items():
        if key not in _TOP_KEYS:
            problems.append(
                f"{key}: unknown section (expected one of {', '.join(sorted(_TOP_KEYS))})"
            )
        elif not isinstance(value, Mapping):
            problems.append(f"{key}: expected a table")
        else:
            extra[key] = dict(value)
    rules: dict[str, Rule] = {}
    for rule_id, spec in dict(base["rules"]).items():
        rules[rule_id] = Rule(
            id=rule_id,
            category=Category(spec["category"]),
            action=Action(spec["action"]),
            strikes=float(spec.get("strikes", 0)),
            description=str(spec.get("description", "")),
        )
    for rule_id, spec in dict(extra.get("rules", {})).items():
        where = f"rules.{rule_id}"
        if rule_id not in rules:
            problems.append(f"{where}: unknown rule (known: {', '.join(sorted(rules))})")
            continue
        if not isinstance(spec, Mapping):
            problems.append(f"{where}: expected a table")
            continue
        current = rules[rule_id]
        changes: dict[str, Any] = {}
        for key, value in spec.items():
            if key not in _RULE_KEYS:
                problems.append(f"{where}.{key}: unknown key")
            elif key == "action":
                try:
                    changes["action"] = Action(str(value))
                except ValueError:
                    problems.append(
                        f"{where}.action: {value!r} is not one of {', '.join(a for a in Action)}"
                    )
            elif key == "category":
                try:
                    changes["category"] = Category(str(value))
                except ValueError:
                    problems.append(
                        f"{where}.category: {value!r} is not one of "
                        + ", ".join(c for c in Category)
                    )
            elif key == "strikes":
                number = _number(value, float, f"{where}.strikes", problems)
                if number is not None:
                    changes["strikes"] = number
            else:
                changes["description"] = str(value)
        rules[rule_id] = Rule(
            id=rule_id,
            category=changes.get("category", current.category),
            action=changes.get("action", current.action),
            strikes=changes.get("strikes", current.strikes),
            description=changes.get("description", current.description),
        )
    values: dict[str, Any] = {}
    for (section, key), (name, kind) in _THRESHOLDS.items():
        value = extra.get(section, {}).get(key, base.get(section, {}).get(key))
        if value is not None:
            number = _number(value, kind, f"{section}.{key}", problems)
            if number is not None:
                values[name] = number
    for section in ("flood", "repeat", "mentions", "links", "strikes"):
        for key in dict(extra.get(section, {})):
            if (section, key) not in _THRESHOLDS and (section, key) not in (
                ("links", "allowed_domains"),
                ("strikes", "mute_minutes"),
            ):
                problems.append(f"{section}.{key}: unknown key")
    minutes = extra.get("strikes", {}).get("mute_minutes", base["strikes"]["mute_minutes"])
    if (
        not isinstance(minutes, list)
        or not minutes
        or not all(isinstance(m, int) and not isinstance(m, bool) and m > 0 for m in minutes)
    ):
        problems.append("strikes.mute_minutes: expected a list of positive whole numbers")
    else:
        values["mute_minutes"] = tuple(minutes)
    domains = [
        *base.get("links", {}).get("allowed_domains", []),
        *extra.get("links", {}).get("allowed_domains", []),
    ]
    added = extra.get("allow", {}).get("words", [])
    if not isinstance(added, list) or not all(isinstance(w, str) and w.strip() for w in added):
        problems.append("allow.words: expected a list of words")
        added = []
    allow = [*base.get("allow", {}).get("words", []), *added]
    words: dict[str, tuple[str, ...]] = {}
    for rule_id, terms in dict(extra.get("words", {})).items():
        if rule_id not in rules:
            problems.append(f"words.{rule_id}: unknown rule")
        elif not isinstance(terms, list) or not all(
            isinstance(t, str) and t.strip() for t in terms
        ):
            problems.append(f"words.{rule_id}: expected a list of words")
        else:
            words[rule_id] = tuple(terms)
    semantic = _semantic(base.get("semantic", {}), extra.get("semantic", {}), problems)
    if problems:
        raise SettingsError(problems)
    return Settings(
        semantic=semantic[0],
        semantic_observe=semantic[1],
        semantic_thresholds=semantic[2],
        rules=rules,
        allow=tuple(str(w) for w in allow),
        words=words,
        allowed_domains=tuple(str(d).lower() for d in domains),
        **values,
    )


def _semantic(
    base: Mapping[str, Any], extra: Mapping[str, Any], problems: list[str]
) -> tuple[bool, bool, dict[Category, float]]:
    """``[semantic]``: enabled, observe, and the thresholds per family."""
    flags: list[bool] = []
    for key in ("enabled", "observe"):
        value = extra.get(key, base.get(key, False))
        if not isinstance(value, bool):
            problems.append(f"semantic.{key}: expected true or false, got {value!r}")
            value = False
        flags.append(value)
    for key in extra:
        if key not in ("enabled", "observe", "thresholds"):
            problems.append(f"semantic.{key}: unknown key")
    limits: dict[Category, float] = {}
    thresholds = extra.get("thresholds", {})
    if not isinstance(thresholds, Mapping):
        problems.append("semantic.thresholds: expected a table")
        thresholds = {}
    given = {**dict(base.get("thresholds", {})), **dict(thresholds)}
    for family, value in given.items():
        where = f"semantic.thresholds.{family}"
        if family not in SEMANTIC_FAMILIES:
            problems.append(f"{where}: unknown family (known: {', '.join(SEMANTIC_FAMILIES)})")
            continue
        number = _number(value, float, where, problems)
        if number is None:
            continue
        if not 0 < number <= 1:
            problems.append(f"{where}: expected a probability between 0 and 1, got {value!r}")
            continue
        limits[Category(family)] = number
    return flags[0], flags[1], limits


@cache
def default_settings() -> Settings:
    """The shipped defaults."""
    return build_settings()
