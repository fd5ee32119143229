"""Personal contact details: phone numbers, e-mail addresses, postal addresses, links.

Searched in the *light* text (NFKC, invisible characters removed), so ``０６ １２…`` or an
e-mail split by a zero-width space are found; spans are offsets into that text. Phone numbers
are confirmed with ``phonenumbers`` (French, Belgian, Swiss, Canadian, British, US formats and
any international number); a cheap pattern picks the candidates first, so messages without a
long run of digits never pay for the parser.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

import phonenumbers

#: National formats tried for numbers written with a trunk ``0``.
TRUNK_REGIONS: Final = ("FR", "BE", "CH", "GB")
#: North American numbers (Canada and the US share the plan).
NANP_REGIONS: Final = ("US", "CA")
_MIN_DIGITS: Final = 9
_MAX_DIGITS: Final = 15

_PHONE_CANDIDATE_RE: Final = re.compile(
    r"(?<![\w+@.,/\-])(?:\+|00)?[\s(]*\d[\d\s().\-/]{7,40}\d(?![\w@]|[.,]\d)"
)
#: Where two numbers written side by side are split ("06 12 34 56 78 / 01 23 45 67 89").
_PHONE_SPLIT_RE: Final = re.compile(r"\s*/\s*|\s{2,}|\s-\s")
_NINE_DIGITS_RE: Final = re.compile(r"\d(?:[^\d\n]{0,4}\d){8}")
_NANP_SHAPE_RE: Final = re.compile(r"^(?:\+?1[\s.\-]?)?\(?\d{3}\)?[\s.\-]?\d{3}[\s.\-]\d{4}$")
_DATE_RE: Final = re.compile(r"\d{1,2}[./\-]\d{1,2}[./\-](?:19|20)\d{2}")
_EMAIL_RE: Final = re.compile(
    r"(?<![\w.%+\-])"
    r"[A-Za-z0-9][A-Za-z0-9._%+\-]{0,63}"
    r"(?:\s*@\s*|\s*[\[({<]\s*(?:at|@|arobase|chez)\s*[\])}>]\s*|\s+(?:at|arobase|chez)\s+)"
    r"[A-Za-z0-9][A-Za-z0-9\-]{0,62}"
    r"(?:(?:\s*\.\s*|\s*[\[({<]\s*(?:dot|point|\.)\s*[\])}>]\s*|\s+(?:dot|point)\s+)"
    r"[A-Za-z0-9][A-Za-z0-9\-]{0,62})+",
    re.IGNORECASE,
)
_AT_WORD_RE: Final = re.compile(
    r"[\[({<]\s*(?:at|arobase|chez)\s*[\])}>]|\s(?:at|arobase|chez)\s+\S+\s+(?:dot|point)\s",
    re.IGNORECASE,
)
#: The spelled-out forms need a real top-level domain at the end (``name at home dot now`` is
#: not an address).
_TLD_RE: Final = re.compile(
    r"(?:com|net|org|fr|be|ch|ca|uk|us|eu|io|info|biz|de|es|it|nl|lu|qc|gouv|edu|gov|me|co|"
    r"app|dev|email|mail|online|pro|tech|xyz|[a-z]{2})",
    re.IGNORECASE,
)
_STREET_FR: Final = (
    r"rue|avenue|av\.?|boulevard|bd|blvd|impasse|all[ée]e|quai|place|pl\.|chemin|ch\.|route|rte"
    r"|cours|square|passage|faubourg|fbg|chauss[ée]e|rond-point|sentier|esplanade|parvis|cit[ée]"
    r"|r[ée]sidence|lotissement|hameau|lieu-dit|voie|venelle|ruelle|mont[ée]e|promenade"
)
_STREET_EN: Final = (
    r"street|st\.?|road|rd\.?|avenue|ave\.?|lane|ln\.?|drive|dr\.?|boulevard|blvd\.?|court|ct\.?"
    r"|way|place|pl\.?|terrace|close|crescent|square|sq\.?|parkway|pkwy|highway|hwy|circle"
    r"|gardens|grove|mews|row|walk|hill"
)
_NAME_WORD: Final = r"[A-Za-zÀ-ÖØ-öø-ÿ'’\-]+"
_CAPITAL_WORD: Final = r"[A-ZÀ-ÖØ-Þ][A-Za-zÀ-ÖØ-öø-ÿ'’\-]*"
_PARTICLE: Final = r"(?i:de|du|des|la|le|les|d'|l'|d’|l’|aux|au|en|sur|sous|saint|sainte|st|ste)"
#: A street name: particles and capitalised words ending with a capitalised one ("de la Paix",
#: "Victor-Hugo"), or particles and any one word ("de la paix"); never a run of lowercase prose
#: ("avenue Foch demain" stops at Foch).
_STREET_NAME: Final = (
    rf"(?:(?:{_PARTICLE}\s+|{_CAPITAL_WORD}[\s\-]?)*{_CAPITAL_WORD}"
    rf"|(?:{_PARTICLE}\s+)+{_NAME_WORD})"
)
#: A town after a postcode: one word of any case, then capitalised words ("75002 Paris").
_TOWN: Final = rf"{_NAME_WORD}(?:[\s\-]{_CAPITAL_WORD}){{0,2}}"
#: "12 rue de la Paix", "3 bis avenue Foch, 75016 Paris", "5, boulevard Anspach".
_ADDRESS_FR_RE: Final = re.compile(
    rf"(?<![\w,.])\d{{1,4}}(?:\s?(?i:bis|ter|[a-d])\b)?,?\s+(?i:{_STREET_FR})\s+{_STREET_NAME}"
    rf"(?:,?\s+(?:\d{{4,5}}|[A-Z]\d[A-Z]\s?\d[A-Z]\d)\s+{_TOWN})?"
)
#: "Rue de la Loi 16, 1000 Bruxelles", "Rue du Rhône 12, 1204 Genève" (number after the name).
_ADDRESS_BE_RE: Final = re.compile(
    rf"\b(?i:{_STREET_FR})\s+(?:{_NAME_WORD}\s+){{0,5}}\d{{1,4}}[a-z]?,?\s+\d{{4}}\s+{_TOWN}"
)
#: "221B Baker Street", "1600 Pennsylvania Avenue NW, Washington, DC 20500", "10 Downing St".
_ADDRESS_EN_RE: Final = re.compile(
    rf"(?<![\w,.])\d{{1,5}}[A-Za-z]?\s+(?:[A-Z][a-z]+\s+){{1,4}}(?i:{_STREET_EN})\b\.?"
    rf"(?:\s+(?:NW|NE|SW|SE|N|S|E|W)\b)?"
    rf"(?:,?\s+[A-Z][a-z]+(?:\s[A-Z][a-z]+)?)?"
    rf"(?:,?\s+(?:[A-Z]{{2}}\s+\d{{5}}(?:-\d{{4}})?|[A-Z]{{1,2}}\d[A-Z\d]?\s?\d[A-Z]{{2}}"
    rf"|[A-Z]\d[A-Z]\s?\d[A-Z]\d))?"
)
_ADDRESS_RES: Final = (_ADDRESS_FR_RE, _ADDRESS_BE_RE, _ADDRESS_EN_RE)
#: Street types, for the cheap test run before the address patterns.
_STREET_WORDS: Final = frozenset(
    {
        # French, Belgian, Swiss
        "rue", "avenue", "av", "boulevard", "bd", "blvd", "impasse", "allée", "allee", "quai",
        "place", "pl", "chemin", "ch", "route", "rte", "cours", "square", "passage", "faubourg",
        "fbg", "chaussée", "chaussee", "sentier", "esplanade", "parvis", "cité", "cite",
        "résidence", "residence", "lotissement", "hameau", "voie", "venelle", "ruelle", "montée",
        "montee", "promenade",
        # British, American, Canadian
        "street", "st", "road", "rd", "lane", "ln", "drive", "dr", "parkway", "pkwy", "highway",
        "hwy", "circle", "gardens", "grove", "mews", "row", "walk", "hill", "terrace", "close",
        "crescent", "sq", "court", "ct", "way", "ave",
    }
)  # fmt: skip
_WORD_RE: Final = re.compile(r"[^\W\d_]+")
_DIGIT_RE: Final = re.compile(r"\d")
_POSTCODE_RE: Final = re.compile(r"\b\d{4,5}\b")
#: Street types that are also common words: the street name after them must be capitalised.
_AMBIGUOUS_STREETS: Final = frozenset(
    {
        "place",
        "pl.",
        "chemin",
        "ch.",
        "route",
        "cours",
        "passage",
        "voie",
        "cite",
        "cité",
        "residence",
        "résidence",
        "square",
        "way",
        "close",
        "court",
        "circle",
        "walk",
        "hill",
        "row",
        "drive",
        "grove",
        "st",
        "st.",
        "dr",
        "dr.",
        "sentier",
        "promenade",
    }
)

_URL_RE: Final = re.compile(
    r"(?:https?://|www\.)[^\s<>\"]+"
    r"|\b[a-z0-9][a-z0-9\-]*(?:\.[a-z0-9\-]+)*\.(?:com|net|org|io|fr|be|ch|ca|co|uk|ly|gg|xyz"
    r"|info|biz|me|app|dev|link|site|online|shop|top|ru|cn)/[^\s<>\"]*",
    re.IGNORECASE,
)
_MASS_MENTION_RE: Final = re.compile(r"@(?:everyone|here|room|channel)\b", re.IGNORECASE)
_MENTION_RE: Final = re.compile(r"<@[!&]?\d+>|@[\w.\-]+:[\w.\-]+|(?<![\w@])@[\w.\-]{2,32}")


@dataclass(frozen=True, slots=True)
class Found:
    """A personal detail: its kind (``phone``, ``email``, ``address``) and its span."""

    kind: str
    start: int
    end: int
    detail: str = ""


def _digits(text: str) -> str:
    return "".join(c for c in text if c.isdigit())


def _phone_region(candidate: str) -> str | None:
    """The region under which ``candidate`` is a plausible phone number, or ``None``."""
    digits = _digits(candidate)
    if not _MIN_DIGITS <= len(digits) <= _MAX_DIGITS or _DATE_RE.search(candidate):
        return None
    stripped = candidate.lstrip("( ")
    if stripped.startswith(("+", "00")):
        text = "+" + digits[2:] if stripped.startswith("00") else stripped
        try:
            number = phonenumbers.parse(text)
        except phonenumbers.NumberParseException:
            return None
        if phonenumbers.is_possible_number(number):
            return phonenumbers.region_code_for_number(number) or "international"
        return None
    if digits.startswith("0"):
        possible: str | None = None
        for region in TRUNK_REGIONS:
            try:
                number = phonenumbers.parse(candidate, region)
            except phonenumbers.NumberParseException:
                continue
            if phonenumbers.is_valid_number(number):
                return region
            if possible is None and phonenumbers.is_possible_number(number):
                possible = region
        # Fictional and newly opened ranges are only "possible"; a trunk 0 followed by nine
        # or ten digits is a phone number in every country we serve.
        return possible if possible is not None and len(digits) in (10, 11) else None
    if _NANP_SHAPE_RE.match(candidate):
        national = digits[1:] if len(digits) == 11 else digits
        if len(national) == 10 and national[0] in "23456789" and national[3] in "23456789":
            return "US/CA"
    return None


def phones(text: str) -> list[Found]:
    """Phone numbers in ``text``."""
    found: list[Found] = []
    if _NINE_DIGITS_RE.search(text) is None:
        return found
    for match in _PHONE_CANDIDATE_RE.finditer(text):
        pieces = [(match.start(), match.group())]
        if _phone_region(match.group().strip()) is None:
            pieces = []
            offset = match.start()
            for part in _PHONE_SPLIT_RE.split(match.group()):
                index = text.find(part, offset)
                pieces.append((index, part))
                offset = index + len(part)
        for start, piece in pieces:
            candidate = piece.strip()
            if not candidate:
                continue
            begin = start + piece.index(candidate)
            for offset, length, region in _phone_within(candidate):
                found.append(Found("phone", begin + offset, begin + offset + length, region))
    return found


def _phone_within(candidate: str) -> list[tuple[int, int, str]]:
    """The phone numbers in ``candidate``: all of it, or every longest run of whole groups.

    Stray groups glued to real numbers ("00 06 12 34 56 78", a code, two numbers side by
    side) must not let any of them through unmasked.
    """
    region = _phone_region(candidate)
    if region is not None:
        return [(0, len(candidate), region)]
    groups = [(m.start(), m.end()) for m in re.finditer(r"\S+", candidate)]
    found: list[tuple[int, int, str]] = []
    first = 0
    while first < len(groups):
        for last in range(len(groups) - 1, first - 1, -1):
            start, end = groups[first][0], groups[last][1]
            region = _phone_region(candidate[start:end])
            if region is not None:
                found.append((start, end - start, region))
                first = last + 1
                break
        else:
            first += 1
    return found


def emails(text: str) -> list[Found]:
    """E-mail addresses, including ``name (at) host (dot) fr`` and ``arobase`` spellings."""
    found: list[Found] = []
    if "@" not in text and _AT_WORD_RE.search(text) is None:
        return found
    for match in _EMAIL_RE.finditer(text):
        value = match.group()
        plain = "@" in value and not any(c.isspace() for c in value)
        last = re.split(r"[\s.\])}>]+", value.rstrip(" .)]}>"))[-1]
        if not plain and not _TLD_RE.fullmatch(last):
            continue
        found.append(Found("email", match.start(), match.end()))
    return found


def _near_number(text: str) -> bool:
    """A street word with a house number before it, or a postcode after it (cheap test)."""
    if _DIGIT_RE.search(text) is None:
        return False
    for match in _WORD_RE.finditer(text):
        if match.group().lower() not in _STREET_WORDS:
            continue
        before = text[max(0, match.start() - 40) : match.start()]
        after = text[match.end() : match.end() + 80]
        if _DIGIT_RE.search(before) or _POSTCODE_RE.search(after):
            return True
    return False


def addresses(text: str) -> list[Found]:
    """Postal addresses where they can be told apart from prose (number + street type...)."""
    found: list[Found] = []
    if not _near_number(text):
        return found
    for regex in _ADDRESS_RES:
        for match in regex.finditer(text):
            value = match.group()
            street = re.search(rf"\b(?:{_STREET_FR}|{_STREET_EN})\b\.?", value, re.IGNORECASE)
            if street is not None and street.group().lower() in _AMBIGUOUS_STREETS:
                after = value[street.end() :].lstrip(" .")
                words = after.split()
                # "1 place de parking" is prose; "2 place Bellecour" is an address.
                if not any(w[:1].isupper() for w in words) and not re.search(r"\d{4,5}", after):
                    continue
            found.append(Found("address", match.start(), match.end()))
    return found


def personal_details(text: str) -> list[Found]:
    """Every phone number, e-mail and postal address, without overlaps, in text order."""
    spans = sorted(emails(text) + addresses(text) + phones(text), key=lambda f: (f.start, -f.end))
    merged: list[Found] = []
    for item in spans:
        if merged and item.start < merged[-1].end:
            if item.end > merged[-1].end:
                last = merged[-1]
                merged[-1] = Found(last.kind, last.start, item.end, last.detail)
            continue
        merged.append(item)
    return merged


def links(text: str) -> list[tuple[int, int, str]]:
    """Links: (start, end, domain)."""
    found: list[tuple[int, int, str]] = []
    if "/" not in text and "www." not in text.lower():
        return found
    for match in _URL_RE.finditer(text):
        url = match.group().rstrip(".,;:!?)]}'\"")
        host = re.sub(r"^(?:https?://)?(?:www\.)?", "", url, flags=re.IGNORECASE)
        domain = re.split(r"[/?#:]", host, maxsplit=1)[0].lower()
        found.append((match.start(), match.start() + len(url), domain))
    return found


def mentions(text: str) -> tuple[bool, int]:
    """Whether ``text`` mentions everyone, and how many distinct members it mentions."""
    if "@" not in text:
        return False, 0
    mass = _MASS_MENTION_RE.search(text) is not None
    named = {m.group().lower() for m in _MENTION_RE.finditer(text)}
    named = {n for n in named if n.lstrip("@") not in ("everyone", "here", "room", "channel")}
    return mass, len(named)
