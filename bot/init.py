"""``cercle init``: a guided setup that writes a commented ``cercle.toml``.

It asks on standard input (or takes flags, with ``--non-interactive``) for the platform and
its ids, the circle's language, timezone and weekly question time, checks each answer as it
is given, and writes a file that ``cercle check-config`` accepts. Secrets never go in the
file: it names the environment variable that holds each one.
"""

from __future__ import annotations

import argparse
import difflib
import os
import re
import sys
import zoneinfo
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Final, TypeVar
from urllib.parse import urlsplit

from apscheduler.triggers.cron import CronTrigger
from pydantic import ValidationError

from bot.adapters.matrix.settings import USER_ID_RE, MatrixSettings
from bot.config import DEFAULT_SCHEDULE, ConfigError, env_var_name, format_problems, load_config

__all__ = ["Answers", "Invalid", "add_parser", "main", "parse_schedule", "render"]

T = TypeVar("T")

EXIT_USAGE: Final = 2
EXIT_CANCELLED: Final = 1
PLATFORMS: Final = ("console", "discord", "matrix")
LOGINS: Final = ("token", "password")

#: Day names a host may type (English and French, full or first three letters), to cron's.
DAYS: Final = {
    "mon": ("monday", "lundi"),
    "tue": ("tuesday", "mardi"),
    "wed": ("wednesday", "mercredi"),
    "thu": ("thursday", "jeudi"),
    "fri": ("friday", "vendredi"),
    "sat": ("saturday", "samedi"),
    "sun": ("sunday", "dimanche"),
}
_TIME_RE: Final = re.compile(r"(?P<hour>\d{1,2})(?:\s*[:h]\s*(?P<minute>\d{2})?)?")
_CONSOLE_NAME_RE: Final = re.compile(r"[\w.@-]{1,64}")
_SNOWFLAKE_RE: Final = re.compile(r"<?[#@&!]*(?P<id>\d{17,20})>?")

# Every sentence the command says, in French and English. French typography: « », and a
# no-break space before : ; ? !
TEXT: Final[dict[str, dict[str, str]]] = {
    "en": {
        "intro": "Cercle setup: a few questions, then {path} is written. "
        "Press Enter to keep the [default].",
        "platform": "Platform: console (this terminal), discord or matrix",
        "platform_bad": "“{value}” is not a platform: answer console, discord or matrix.",
        "console_host": "Your name in the console (you will be a host)",
        "console_host_bad": "“{value}” cannot be a console name: one word of letters, "
        "digits, . @ - or _.",
        "application_id": "Discord application id (developer portal → General Information)",
        "guild_id": "Discord server id, where commands appear at once (Enter: every server)",
        "host_role_id": "Id of a Discord role whose members are hosts (Enter: none)",
        "review_channel_id": "Id of a hosts-only channel for held messages (Enter: none)",
        "snowflake_bad": "“{value}” is not a Discord id: a number of 17 to 20 digits "
        "(turn on Developer Mode, then right-click → Copy ID).",
        "homeserver": "Matrix homeserver URL",
        "homeserver_bad": "“{value}” is not a homeserver URL: write it like "
        "https://matrix.example.org.",
        "user_id": "The bot's Matrix account",
        "user_id_bad": "“{value}” is not a Matrix user id: write it like @cercle:example.org.",
        "login": "The bot logs in with an access token or a password (token, password)",
        "login_bad": "“{value}”: answer token or password.",
        "inviters": "Who may invite the bot to a room: user ids or :server, comma-separated",
        "inviters_bad": "“{value}” is neither a user id (@name:server) "
        "nor a server (:example.org).",
        "lang_bad": "“{value}”: answer fr (French) or en (English).",
        "timezone": "The circle's timezone (an IANA name such as Europe/Paris)",
        "timezone_bad": "“{value}” is not a timezone: write an IANA name such as "
        "Europe/Paris or America/Montreal.",
        "timezone_close": "“{value}” is not a timezone: did you mean {suggestion}?",
        "schedule": "Weekly question: a day and a time such as “monday 09:00”, "
        "or cron such as “0 9 * * mon”",
        "schedule_bad": "“{value}” is not a schedule: write a day and a time "
        "(“thursday 18:30”) or cron, five fields (“30 18 * * thu”).",
        "schedule_is": "  → {description}; next: {next}",
        "every": "every {day} at {time}",
        "cron": "cron “{cron}”",
        "exists": "{path} already exists: pass --force to overwrite it.",
        "cancelled": "Setup cancelled, nothing written.",
        "missing": "--non-interactive needs {flags}.",
        "written": "Wrote {path}. Check it with: cercle check-config {path}",
        "secret_set": "{name} is set in this shell.",
        "secret_unset": "Before starting the bot, set {name} in its environment: {what}. "
        "It is never written in the file.",
        "what_discord": "the bot token (developer portal → Bot → Reset Token)",
        "what_token": "the bot account's access token",
        "what_password": "the bot account's password",
        "next": "Then start the bot: cercle run",
        "next_console": "Then start the bot: cercle run, and type “{host}> /help”.",
        "invite": "Invite link: cercle discord invite-url",
    },
    "fr": {
        "intro": "Configuration de Cercle : quelques questions, puis {path} est écrit. "
        "Appuyez sur Entrée pour garder la [valeur par défaut].",
        "platform": "Plateforme : console (ce terminal), discord ou matrix",
        "platform_bad": "« {value} » n’est pas une plateforme : répondez console, discord "
        "ou matrix.",
        "console_host": "Votre nom dans la console (vous serez hôte)",
        "console_host_bad": "« {value} » ne peut pas être un nom de console : un seul mot "
        "fait de lettres, de chiffres, de . @ - ou _.",
        "application_id": "Identifiant de l’application Discord (portail des développeurs "
        "→ General Information)",
        "guild_id": "Identifiant du serveur Discord où les commandes apparaissent tout de "
        "suite (Entrée : tous les serveurs)",
        "host_role_id": "Identifiant d’un rôle Discord dont les membres sont hôtes "
        "(Entrée : aucun)",
        "review_channel_id": "Identifiant d’un salon réservé aux hôtes pour les messages "
        "retenus (Entrée : aucun)",
        "snowflake_bad": "« {value} » n’est pas un identifiant Discord : un nombre de 17 à "
        "20 chiffres (activez le mode développeur, puis clic droit → Copier l’identifiant).",
        "homeserver": "Adresse du serveur Matrix",
        "homeserver_bad": "« {value} » n’est pas l’adresse d’un serveur Matrix : écrivez-la "
        "comme https://matrix.example.org.",
        "user_id": "Le compte Matrix du bot",
        "user_id_bad": "« {value} » n’est pas un identifiant Matrix : écrivez-le comme "
        "@cercle:example.org.",
        "login": "Le bot se connecte avec un jeton d’accès ou un mot de passe (token, password)",
        "login_bad": "« {value} » : répondez token ou password.",
        "inviters": "Qui peut inviter le bot dans un salon : identifiants ou :serveur, "
        "séparés par des virgules",
        "inviters_bad": "« {value} » n’est ni un identifiant (@nom:serveur) ni un serveur "
        "(:example.org).",
        "lang_bad": "« {value} » : répondez fr (français) ou en (anglais).",
        "timezone": "Le fuseau horaire du cercle (un nom IANA comme Europe/Paris)",
        "timezone_bad": "« {value} » n’est pas un fuseau horaire : écrivez un nom IANA "
        "comme Europe/Paris ou America/Montreal.",
        "timezone_close": "« {value} » n’est pas un fuseau horaire : vouliez-vous dire "
        "{suggestion} ?",
        "schedule": "Question de la semaine : un jour et une heure comme « lundi 09:00 », "
        "ou une expression cron comme « 0 9 * * mon »",
        "schedule_bad": "« {value} » n’est pas un horaire : écrivez un jour et une heure "
        "(« jeudi 18:30 ») ou une expression cron de cinq champs (« 30 18 * * thu »).",
        "schedule_is": "  → {description} ; prochaine : {next}",
        "every": "chaque {day} à {time}",
        "cron": "cron « {cron} »",
        "exists": "{path} existe déjà : ajoutez --force pour le remplacer.",
        "cancelled": "Configuration annulée, rien n’a été écrit.",
        "missing": "--non-interactive demande {flags}.",
        "written": "{path} est écrit. Vérifiez-le avec : cercle check-config {path}",
        "secret_set": "{name} est défini dans ce terminal.",
        "secret_unset": "Avant de lancer le bot, définissez {name} dans son environnement : "
        "{what}. Il n’est jamais écrit dans le fichier.",
        "what_discord": "le jeton du bot (portail des développeurs → Bot → Reset Token)",
        "what_token": "le jeton d’accès du compte du bot",
        "what_password": "le mot de passe du compte du bot",
        "next": "Lancez ensuite le bot : cercle run",
        "next_console": "Lancez ensuite le bot : cercle run, puis tapez « {host}> /help ».",
        "invite": "Lien d’invitation : cercle discord invite-url",
    },
}


def _french_typography(text: str) -> str:
    text = re.sub(r"« ?", "«\u00a0", text)
    text = re.sub(r" ?»", "\u00a0»", text)
    return re.sub(r" ([:;?!])(?=\s|$)", "\u00a0\\1", text)


TEXT["fr"] = {key: _french_typography(value) for key, value in TEXT["fr"].items()}

#: The first question comes before the language is known: it is asked in both.
LANG_PROMPT: Final = "Langue du cercle / Circle language (fr, en)"
_DAY_NAMES: Final = {"en": 0, "fr": 1}


class Invalid(ValueError):
    """An answer that cannot be used; ``key`` names its message in :data:`TEXT`."""

    def __init__(self, key: str, value: str, **extra: str) -> None:
        super().__init__(key)
        self.key = key
        self.value = value
        self.extra = extra

    def tell(self, lang: str) -> str:
        """The message for a host, in ``lang``."""
        shown = self.value if len(self.value) <= 60 else self.value[:59] + "…"
        return TEXT[lang][self.key].format(value=shown, **self.extra)


@dataclass
class Answers:
    """Everything the written file says."""

    lang: str = "fr"
    platform: str = "console"
    timezone: str = "Europe/Paris"
    schedule: str = DEFAULT_SCHEDULE
    console_host: str | None = None
    application_id: int | None = None
    guild_id: int | None = None
    host_role_id: int | None = None
    review_channel_id: int | None = None
    homeserver: str | None = None
    user_id: str | None = None
    login: str = "token"
    inviters: list[str] = field(default_factory=list)

    def secrets(self) -> list[tuple[str, str]]:
        """The environment variables the bot needs, with what each holds (a TEXT key)."""
        if self.platform == "discord":
            return [(env_var_name("discord", "token"), "what_discord")]
        if self.platform == "matrix":
            key = "access_token" if self.login == "token" else "password"
            return [(env_var_name("matrix", key), f"what_{self.login}")]
        return []


# -- parsing one answer ---------------------------------------------------------------------


def parse_lang(text: str) -> str:
    """``fr`` or ``en`` from what a host types (``français``, ``English``…)."""
    word = text.strip().lower()
    for lang, words in {
        "fr": ("fr", "français", "francais", "french", "f"),
        "en": ("en", "english", "anglais", "e"),
    }.items():
        if word in words:
            return lang
    raise Invalid("lang_bad", text)


def parse_platform(text: str) -> str:
    """One of :data:`PLATFORMS`."""
    word = text.strip().lower()
    if word in PLATFORMS:
        return word
    raise Invalid("platform_bad", text)


def parse_console_name(text: str) -> str:
    """A console member's name, as the console reads ``NAME> text``."""
    name = text.strip()
    if _CONSOLE_NAME_RE.fullmatch(name):
        return name
    raise Invalid("console_host_bad", text)


def parse_snowflake(text: str) -> int:
    """A Discord id; a pasted mention such as ``<#123…>`` is accepted too."""
    match = _SNOWFLAKE_RE.fullmatch(text.strip())
    if match is None:
        raise Invalid("snowflake_bad", text)
    return int(match.group("id"))


def parse_homeserver(text: str) -> str:
    """An http(s) homeserver URL; ``matrix.example.org`` means ``https://matrix.example.org``."""
    value = text.strip()
    if value and "://" not in value:
        value = f"https://{value}"
    try:
        checked = MatrixSettings(homeserver=value).homeserver
    except ValidationError:
        raise Invalid("homeserver_bad", text) from None
    assert checked is not None
    return checked


def parse_user_id(text: str) -> str:
    """A Matrix user id, ``@name:server``."""
    value = text.strip()
    if USER_ID_RE.fullmatch(value):
        return value
    raise Invalid("user_id_bad", text)


def parse_login(text: str) -> str:
    """``token`` or ``password`` (French words accepted)."""
    word = text.strip().lower()
    aliases = {"jeton": "token", "access_token": "token", "mot de passe": "password"}
    word = aliases.get(word, word)
    if word in LOGINS:
        return word
    raise Invalid("login_bad", text)


def parse_inviters(text: str) -> list[str]:
    """User ids and ``:server`` suffixes, separated by commas or spaces."""
    entries = [entry for entry in re.split(r"[,\s]+", text.strip()) if entry]
    for entry in entries:
        try:
            MatrixSettings(allowed_inviters=[entry])
        except ValidationError:
            raise Invalid("inviters_bad", entry) from None
    return entries


def parse_timezone(text: str) -> str:
    """An IANA timezone; the case of a known name is fixed (``europe/paris``)."""
    name = text.strip()
    known = zoneinfo.available_timezones()
    by_lower = {zone.lower(): zone for zone in known}
    if name.lower() in by_lower:
        return by_lower[name.lower()]
    close = difflib.get_close_matches(name.lower(), list(by_lower), n=1, cutoff=0.6)
    if close:
        raise Invalid("timezone_close", text, suggestion=by_lower[close[0]])
    raise Invalid("timezone_bad", text)


def _day(word: str) -> str | None:
    word = word.lower().rstrip(".")
    if len(word) < 3:
        return None
    found = {cron for cron, names in DAYS.items() for name in names if name.startswith(word)}
    return found.pop() if len(found) == 1 else None


def parse_schedule(text: str, timezone: str = "UTC") -> str:
    """Cron from ``monday 09:00``, ``jeudi 18h30``, ``fri 9`` or five cron fields."""
    value = " ".join(text.split())
    fields = value.split(" ")
    if len(fields) == 5:
        try:
            CronTrigger.from_crontab(value, timezone=zoneinfo.ZoneInfo(timezone))
        except ValueError:
            raise Invalid("schedule_bad", text) from None
        return value
    if len(fields) in (1, 2):
        day = _day(fields[0])
        time = _TIME_RE.fullmatch(fields[1]) if len(fields) == 2 else _TIME_RE.fullmatch("9")
        if day is not None and time is not None:
            hour, minute = int(time.group("hour")), int(time.group("minute") or 0)
            if hour <= 23 and minute <= 59:
                return f"{minute} {hour} * * {day}"
    raise Invalid("schedule_bad", text)


def schedule_words(cron: str, lang: str) -> str:
    """``every monday at 09:00`` for a weekly cron, else the cron itself, in ``lang``."""
    minute, hour, dom, month, dow = cron.split(" ")
    if dom == month == "*" and dow in DAYS and minute.isdigit() and hour.isdigit():
        day = DAYS[dow][_DAY_NAMES[lang]]
        day = day.capitalize() if lang == "en" else day
        return TEXT[lang]["every"].format(day=day, time=f"{int(hour):02d}:{int(minute):02d}")
    return TEXT[lang]["cron"].format(cron=cron)


def describe_schedule(cron: str, timezone: str, lang: str, now: datetime) -> str:
    """``  → every monday at 09:00; next: 2026-12-14 09:00 (Europe/Paris)`` in ``lang``."""
    zone = zoneinfo.ZoneInfo(timezone)
    trigger = CronTrigger.from_crontab(cron, timezone=zone)
    upcoming = trigger.get_next_fire_time(None, now.astimezone(zone))
    shown = "—" if upcoming is None else f"{upcoming:%Y-%m-%d %H:%M} ({timezone})"
    return TEXT[lang]["schedule_is"].format(description=schedule_words(cron, lang), next=shown)


# -- defaults read from this machine ----------------------------------------------------------


def default_lang(env: dict[str, str]) -> str:
    """English when the terminal's locale is English, else French (the bot's default)."""
    for name in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = env.get(name, "")
        if value:
            return "en" if value.lower().startswith("en") else "fr"
    return "fr"


def default_timezone(env: dict[str, str]) -> str:
    """This machine's IANA timezone (``TZ``, then ``/etc/localtime``), else Europe/Paris."""
    candidates = [env.get("TZ", "").lstrip(":")]
    localtime = Path("/etc/localtime")
    if localtime.is_symlink():
        target = str(localtime.resolve())
        if "zoneinfo/" in target:
            candidates.append(target.split("zoneinfo/", 1)[1])
    known = zoneinfo.available_timezones()
    return next((c for c in candidates if c in known), "Europe/Paris")


# -- asking -----------------------------------------------------------------------------------


class Cancelled(Exception):
    """End of input or Ctrl-C before the last answer."""


class Asker:
    """Asks on standard input, shows the default, and asks again until an answer is usable."""

    def __init__(self, lang: str) -> None:
        self.lang = lang

    def ask(self, prompt: str, parse: Callable[[str], T], default: str | None = None) -> T:
        """The parsed answer; Enter takes ``default`` (``None``: an answer is needed, ``""``:
        the question is optional and ``parse`` reads an empty answer)."""
        shown = f" [{default}]" if default else ""
        colon = "\u00a0: " if self.lang == "fr" else ": "
        while True:
            try:
                text = input(f"{prompt}{shown}{colon}")
            except (EOFError, KeyboardInterrupt):
                raise Cancelled from None
            if not sys.stdin.isatty():
                print()  # the answer came from a pipe: end the prompt's line
            if not text.strip():
                if default is None:
                    continue
                text = default
            try:
                return parse(text)
            except Invalid as error:
                print(error.tell(self.lang))

    def text(self, key: str) -> str:
        """A prompt of :data:`TEXT` in this language."""
        return TEXT[self.lang][key]


def _optional(parse: Callable[[str], T]) -> Callable[[str], T | None]:
    def parse_or_none(text: str) -> T | None:
        return None if not text.strip() else parse(text)

    return parse_or_none


def ask_all(asker: Asker, given: Answers, flags: set[str]) -> Answers:
    """Ask every question whose flag was not given; ``given`` holds the flags' values."""
    a = given
    t = asker.text

    def wanted(name: str) -> bool:
        return name not in flags

    if wanted("platform"):
        a.platform = asker.ask(t("platform"), parse_platform, "console")
    if a.platform == "console" and wanted("console_host"):
        a.console_host = asker.ask(t("console_host"), parse_console_name, "ana")
    if a.platform == "discord":
        if wanted("application_id"):
            a.application_id = asker.ask(t("application_id"), parse_snowflake)
        for name in ("guild_id", "host_role_id", "review_channel_id"):
            if wanted(name):
                setattr(a, name, asker.ask(t(name), _optional(parse_snowflake), ""))
    if a.platform == "matrix":
        if wanted("homeserver"):
            a.homeserver = asker.ask(t("homeserver"), parse_homeserver)
        server = urlsplit(a.homeserver or "").hostname or "example.org"
        if wanted("user_id"):
            a.user_id = asker.ask(t("user_id"), parse_user_id, f"@cercle:{server}")
        if wanted("login"):
            a.login = asker.ask(t("login"), parse_login, "token")
        if wanted("inviters"):
            own = (a.user_id or f"@cercle:{server}").split(":", 1)[1]
            a.inviters = asker.ask(t("inviters"), parse_inviters, f":{own}")
    if wanted("timezone"):
        a.timezone = asker.ask(t("timezone"), parse_timezone, a.timezone)
    if wanted("schedule"):
        default = "lundi 09:00" if asker.lang == "fr" else "monday 09:00"
        a.schedule = asker.ask(
            t("schedule"), lambda text: parse_schedule(text, a.timezone), default
        )
        print(describe_schedule(a.schedule, a.timezone, asker.lang, datetime.now().astimezone()))
    return a


# -- the file ---------------------------------------------------------------------------------

COMMENTS: Final[dict[str, dict[str, str]]] = {
    "en": {
        "head": "Cercle configuration, written by `cercle init`. Check it with "
        "`cercle check-config`, start the bot with `cercle run`. config.example.toml "
        "explains every key; any key can also be set in the environment as "
        "CERCLE_<SECTION>__<KEY>.",
        "secrets": "Secrets are never written here. The bot reads, from its environment:",
        "no_secrets": "This platform needs no secret.",
        "adapters": "Where the bot talks.",
        "locale": 'Language of new circles: "fr" or "en".',
        "timezone": "Timezone of new circles (an IANA name): their schedule and digests.",
        "schedule": "When new circles get their weekly question ({description}), as cron: "
        "minute hour day-of-month month day-of-week. Hosts change a circle's own with "
        "/circle setup.",
        "database": "Where data is stored. By default a SQLite file in ./data:",
        "postgres": "For PostgreSQL (or set CERCLE_DATABASE__URL, which wins over this file):",
        "console": "Console members who are hosts (they can run host commands).",
        "application_id": "The application id from the Discord developer portal.",
        "guild_ids": "Servers where slash commands appear at once (empty: every server, "
        "slower to appear).",
        "host_role_ids": "Roles whose members are hosts, besides Manage Server or Manage Messages.",
        "review_channel_id": "A hosts-only channel where held messages wait with Approve / "
        "Reject buttons.",
        "homeserver": "The homeserver and the bot's account.",
        "inviters": "Whose room invitations the bot accepts: user ids or :server.",
    },
    "fr": {
        "head": "Configuration de Cercle, écrite par `cercle init`. Vérifiez-la avec "
        "`cercle check-config`, lancez le bot avec `cercle run`. config.example.toml "
        "explique chaque clé ; toute clé peut aussi venir de l’environnement, sous le nom "
        "CERCLE_<SECTION>__<CLÉ>.",
        "secrets": "Les secrets ne sont jamais écrits ici. Le bot lit, dans son environnement :",
        "no_secrets": "Cette plateforme n’a besoin d’aucun secret.",
        "adapters": "Où le bot parle.",
        "locale": 'Langue des nouveaux cercles : "fr" ou "en".',
        "timezone": "Fuseau horaire des nouveaux cercles (un nom IANA) : leur horaire et "
        "leurs synthèses.",
        "schedule": "Quand les nouveaux cercles reçoivent leur question de la semaine "
        "({description}), en cron : minute heure jour-du-mois mois jour-de-la-semaine. Les "
        "hôtes changent celui d’un cercle avec /circle setup.",
        "database": "Où les données sont gardées. Par défaut, un fichier SQLite dans ./data :",
        "postgres": "Pour PostgreSQL (ou définissez CERCLE_DATABASE__URL, qui l’emporte sur "
        "ce fichier) :",
        "console": "Membres de la console qui sont hôtes (ils peuvent lancer les commandes "
        "des hôtes).",
        "application_id": "L’identifiant de l’application, dans le portail des développeurs "
        "Discord.",
        "guild_ids": "Serveurs où les commandes apparaissent tout de suite (vide : tous les "
        "serveurs, plus lents à les montrer).",
        "host_role_ids": "Rôles dont les membres sont hôtes, en plus de ceux qui peuvent "
        "gérer le serveur ou les messages.",
        "review_channel_id": "Un salon réservé aux hôtes où les messages retenus attendent, "
        "avec les boutons Approuver / Refuser.",
        "homeserver": "Le serveur Matrix et le compte du bot.",
        "inviters": "De qui le bot accepte les invitations : identifiants ou :serveur.",
    },
}


COMMENTS["fr"] = {key: _french_typography(value) for key, value in COMMENTS["fr"].items()}


def _toml(value: object) -> str:
    if isinstance(value, str):
        escaped = value.replace("\\", "\\\\").replace('"', '\\"')
        return f'"{escaped}"'
    if isinstance(value, list):
        return "[" + ", ".join(_toml(item) for item in value) + "]"
    return str(value)


def _comment(text: str, width: int = 92) -> list[str]:
    lines: list[str] = []
    line = "#"
    # Split on plain spaces only: a no-break space keeps French punctuation on its line.
    for word in filter(None, text.split(" ")):
        if len(line) + 1 + len(word) > width:
            lines.append(line)
            line = "#"
        line += " " + word
    return [*lines, line]


def render(a: Answers, lang: str) -> str:
    """The commented TOML text of ``a``, its comments in ``lang``."""
    c = COMMENTS[lang]
    texts = TEXT[lang]
    out = [*_comment(c["head"]), "#"]
    secrets = a.secrets()
    if secrets:
        out += _comment(c["secrets"])
        out += [f"#   {name} — {texts[what]}" for name, what in secrets]
    else:
        out += _comment(c["no_secrets"])
    description = schedule_words(a.schedule, lang)

    def key(name: str, value: object, comment: str | None = None) -> None:
        if comment is not None:
            out.extend(_comment(comment))
        out.append(f"{name} = {_toml(value)}")

    out += ["", "[bot]"]
    key("adapters", [a.platform], c["adapters"])
    key("locale", a.lang, c["locale"])
    key("timezone", a.timezone, c["timezone"])
    key("schedule", a.schedule, c["schedule"].format(description=description))
    out += ["", "[database]", *_comment(c["database"])]
    out.append('# url = "sqlite+aiosqlite:///./data/cercle.db"')
    out += _comment(c["postgres"])
    out.append('# url = "postgresql+asyncpg://cercle@localhost/cercle"')
    if a.platform == "console":
        out += ["", "[console]"]
        key("hosts", [a.console_host] if a.console_host else [], c["console"])
    if a.platform == "discord":
        out += ["", "[discord]"]
        key("application_id", a.application_id, c["application_id"])
        key("guild_ids", [a.guild_id] if a.guild_id else [], c["guild_ids"])
        key("host_role_ids", [a.host_role_id] if a.host_role_id else [], c["host_role_ids"])
        out.extend(_comment(c["review_channel_id"]))
        if a.review_channel_id:
            out.append(f"review_channel_id = {a.review_channel_id}")
        else:
            out.append("# review_channel_id = 123456789012345678")
    if a.platform == "matrix":
        out += ["", "[matrix]"]
        key("homeserver", a.homeserver, c["homeserver"])
        key("user_id", a.user_id)
        key("allowed_inviters", a.inviters, c["inviters"])
    return "\n".join(out) + "\n"


# -- the command ------------------------------------------------------------------------------

#: Flags and the :class:`Answers` field each fills, with its parser.
FLAGS: Final[dict[str, tuple[str, Callable[[str], object]]]] = {
    "platform": ("platform", parse_platform),
    "console_host": ("console_host", parse_console_name),
    "application_id": ("application_id", parse_snowflake),
    "guild_id": ("guild_id", parse_snowflake),
    "host_role_id": ("host_role_id", parse_snowflake),
    "review_channel_id": ("review_channel_id", parse_snowflake),
    "homeserver": ("homeserver", parse_homeserver),
    "user_id": ("user_id", parse_user_id),
    "login": ("login", parse_login),
    "inviter": ("inviters", parse_inviters),
    "timezone": ("timezone", parse_timezone),
}


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``cercle init`` to the command line."""
    init = sub.add_parser(
        "init",
        help="write a commented cercle.toml from a few questions (or flags)",
        description="Ask for the platform and its ids, the circle's language, timezone and "
        "weekly question time, and write a commented configuration that `cercle "
        "check-config` accepts. Secrets are never written: the file names the environment "
        "variable to set. With --non-interactive, the flags give the answers.",
    )
    init.add_argument(
        "file", type=Path, nargs="?", default=Path("cercle.toml"), help="default: ./cercle.toml"
    )
    init.add_argument("--force", action="store_true", help="overwrite an existing file")
    init.add_argument(
        "--non-interactive", action="store_true", help="ask nothing: take the flags below"
    )
    init.add_argument("--lang", help="fr or en: the circle's language and this command's")
    init.add_argument("--platform", help="console, discord or matrix (default: console)")
    init.add_argument("--timezone", help="IANA timezone (default: this machine's)")
    init.add_argument("--day", help="day of the weekly question, e.g. monday (default)")
    init.add_argument("--time", help="its time, e.g. 09:00 (default)")
    init.add_argument("--cron", help="or the schedule as cron, e.g. '0 9 * * mon'")
    init.add_argument("--console-host", metavar="NAME", help="console: your member name")
    init.add_argument("--application-id", metavar="ID", help="discord: the application id")
    init.add_argument("--guild-id", metavar="ID", help="discord: the server's id")
    init.add_argument("--host-role-id", metavar="ID", help="discord: a hosts' role id")
    init.add_argument("--review-channel-id", metavar="ID", help="discord: a hosts' channel id")
    init.add_argument("--homeserver", metavar="URL", help="matrix: the homeserver URL")
    init.add_argument("--user-id", metavar="ID", help="matrix: the bot's @name:server")
    init.add_argument("--login", help="matrix: token (default) or password")
    init.add_argument(
        "--inviter", action="append", metavar="ID", help="matrix: who may invite it (repeatable)"
    )


def _from_flags(args: argparse.Namespace, answers: Answers) -> tuple[set[str], list[str]]:
    """Fill ``answers`` from the flags given; the names given, and every problem as text."""
    given: set[str] = set()
    problems: list[str] = []
    lang = answers.lang
    for flag, (name, parse) in FLAGS.items():
        raw = getattr(args, flag)
        if raw is None:
            continue
        text = ",".join(raw) if isinstance(raw, list) else str(raw)
        try:
            setattr(answers, name, parse(text))
        except Invalid as error:
            problems.append(f"--{flag.replace('_', '-')}: {error.tell(lang)}")
            continue
        given.add(name)
    if args.cron is not None or args.day is not None or args.time is not None:
        text = args.cron if args.cron is not None else f"{args.day or 'monday'} {args.time or '9'}"
        flag = "--cron" if args.cron is not None else "--day/--time"
        try:
            answers.schedule = parse_schedule(text, answers.timezone)
            given.add("schedule")
        except Invalid as error:
            problems.append(f"{flag}: {error.tell(lang)}")
    return given, problems


def _missing(answers: Answers, given: set[str]) -> list[str]:
    """Flags --non-interactive cannot do without."""
    needed = {"discord": ["application_id"], "matrix": ["homeserver", "user_id"]}
    return [
        f"--{name.replace('_', '-')}"
        for name in needed.get(answers.platform, [])
        if name not in given
    ]


def _finish(answers: Answers) -> None:
    if answers.platform == "matrix" and not answers.inviters and answers.user_id:
        answers.inviters = [":" + answers.user_id.split(":", 1)[1]]


def _check(scratch: Path, answers: Answers) -> list[str]:
    """Problems ``cercle check-config`` would list in ``scratch``, the secrets assumed set."""
    try:
        load_config(scratch, env={name: "set-in-the-environment" for name, _ in answers.secrets()})
    except ConfigError as error:
        return format_problems(error.problems, scratch).splitlines()
    return []


def _say_next(
    answers: Answers, lang: str, path: Path, env: dict[str, str], *, schedule: bool
) -> None:
    texts = TEXT[lang]
    if schedule:
        now = datetime.now().astimezone()
        print(describe_schedule(answers.schedule, answers.timezone, lang, now))
    print(texts["written"].format(path=path))
    for name, what in answers.secrets():
        key = "secret_set" if env.get(name, "").strip() else "secret_unset"
        print(texts[key].format(name=name, what=texts[what]))
    if answers.platform == "console":
        print(texts["next_console"].format(host=answers.console_host or "ana"))
    else:
        print(texts["next"])
    if answers.platform == "discord":
        print(texts["invite"])


def main(args: argparse.Namespace, env: dict[str, str] | None = None) -> int:
    """Run ``cercle init``; the exit code (0 written, 1 cancelled, 2 refused)."""
    env = dict(os.environ) if env is None else env
    path: Path = args.file
    lang = default_lang(env)
    lang_given = args.lang is not None
    if lang_given:
        try:
            lang = parse_lang(args.lang)
        except Invalid as error:
            print(f"--lang: {error.tell(lang)}", file=sys.stderr)
            return EXIT_USAGE
    if path.exists() and not args.force:
        print(TEXT[lang]["exists"].format(path=path), file=sys.stderr)
        return EXIT_USAGE
    answers = Answers(lang=lang, timezone=default_timezone(env))
    given, problems = _from_flags(args, answers)
    if args.non_interactive:
        missing = _missing(answers, given)
        if missing:
            problems.append(TEXT[lang]["missing"].format(flags=", ".join(missing)))
    if problems:
        print("\n".join(problems), file=sys.stderr)
        return EXIT_USAGE
    if not args.non_interactive:
        print(TEXT[lang]["intro"].format(path=path))
        try:
            if not lang_given:
                # The first answer also picks the language of every later question.
                lang = answers.lang = Asker(lang).ask(LANG_PROMPT, parse_lang, lang)
            answers = ask_all(Asker(lang), answers, given)
        except Cancelled:
            print()
            print(TEXT[lang]["cancelled"], file=sys.stderr)
            return EXIT_CANCELLED
    _finish(answers)
    path.parent.mkdir(parents=True, exist_ok=True)
    scratch = path.with_name(f".{path.name}.tmp")
    scratch.write_text(render(answers, lang), encoding="utf-8")
    problems = _check(scratch, answers)
    if problems:  # pragma: no cover - every answer was checked; a guard against drift
        scratch.unlink()
        print("\n".join(problems), file=sys.stderr)
        return EXIT_USAGE
    scratch.replace(path)
    _say_next(answers, lang, path, env, schedule=args.non_interactive)
    return 0
