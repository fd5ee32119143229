"""Personal contact details: phone numbers, e-mail addresses, postal addresses, links.

Searched in the *light* text (NFKC, invisible characters removed), so ``０６ １２…`` or an
e-mail split by a zero-width space are found; spans are offsets into that text. Phone numbers
are confirmed with ``phonenumbers`` (French, Belgian, Swiss, Canadian, British, US formats and
any international number); a cheap pattern picks the candidates first, so messages without a
long run of digits never pay for the parser.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass
from typing import Final

import phonenumbers

from cogs.courtesy.spelled import (
    Piece,
    Rewritten,
    counting,
    might_spell_numbers,
    number_runs,
    rewrite_email_spelling,
    rough_tokens,
)

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
#: Top-level domains a spelled-out address may end with (a plain ``name@host.tld`` may end
#: with any).
_TLDS: Final = frozenset(
    {
        "com", "net", "org", "info", "biz", "edu", "gov", "gouv", "int", "eu", "fr", "be", "ch",
        "ca", "qc", "lu", "mc", "uk", "us", "de", "at", "es", "it", "pt", "nl", "ie", "se", "no",
        "dk", "fi", "pl", "cz", "ro", "gr", "ru", "ma", "tn", "dz", "sn", "ci", "cm", "re", "ht",
        "jp", "cn", "in", "br", "au", "nz", "mx", "ar", "za", "io", "co", "me", "tv", "cc", "ai",
        "app", "dev", "email", "mail", "online", "pro", "tech", "xyz", "site", "shop", "club",
    }
)  # fmt: skip
#: Mailbox providers: "marie chez orange point fr" is an address, "client chez Free" is not.
_MAIL_PROVIDERS: Final = frozenset(
    {
        "gmail", "googlemail", "hotmail", "outlook", "live", "msn", "yahoo", "ymail", "icloud",
        "me", "aol", "gmx", "proton", "protonmail", "pm", "tutanota", "orange", "wanadoo", "free",
        "sfr", "neuf", "laposte", "bbox", "numericable", "bluewin", "sunrise", "hispeed",
        "skynet", "telenet", "proximus", "voo", "videotron", "sympatico", "bell", "rogers",
        "btinternet", "sky", "zoho", "yandex", "mail", "mailo", "infomaniak",
    }
)  # fmt: skip
#: Words before "at" that make "... at example dot com" a place or a website, not a mailbox.
_NOT_A_MAILBOX: Final = frozenset(
    {
        "me", "us", "him", "her", "them", "it", "you", "one", "this", "that", "here", "there",
        "look", "looking", "looked", "site", "website", "page", "blog", "online", "available",
        "find", "found", "visit", "visiting", "check", "shop", "buy", "sold", "work", "works",
        "working", "worked", "job", "stay", "staying", "meet", "arrive", "live", "lives",
        "living", "based", "hosted", "listed", "posted", "published", "is", "are", "was",
        "were", "be", "am", "i", "we", "they", "he", "she", "info", "details", "more", "up",
        "out", "both", "all", "or", "and", "then", "also", "now", "only", "just", "free",
    }
)  # fmt: skip
_TLD_ALTERNATION: Final = "|".join(sorted(_TLDS, key=len, reverse=True))
_AT_WORDS: Final = frozenset({"at", "arobase", "chez"})
_DOT_WORDS: Final = frozenset({"dot", "point"})
_HEAD_WORD_RE: Final = re.compile(r"\s*([A-Za-z]{2,6})\b")
#: Anything :func:`rewrite_email_spelling` would change.
_SPELLING_HINT_RE: Final = re.compile(
    r"[\[({<]\s*(?:at|arobase|chez|@|dot|point|\.)\s*[\])}>]|\s@|@\s|\s\.\s"
    r"|\s(?:at|arobase|chez|dot|point|tiret|dash|hyphen|underscore)\s"
    r"|(?<!\S)[A-Za-z0-9]\s[A-Za-z0-9]\s",
    re.IGNORECASE,
)
_EMAIL_STRICT_RE: Final = re.compile(
    r"(?<![\w.%+\-])(?P<local>[A-Za-z0-9][A-Za-z0-9._%+\-]{0,63})@"
    r"(?P<domain>[A-Za-z0-9][A-Za-z0-9\-]{0,62}(?:\.[A-Za-z0-9][A-Za-z0-9\-]{0,62})*)"
    r"\.(?P<tld>[A-Za-z]{2,24})(?![A-Za-z0-9\-])",
)
_STREET_FR: Final = (
    r"rue|avenue|av\.?|boulevard|bd|blvd|impasse|all[ée]e|quai|place|pl\.|chemin|ch\.|route|rte"
    r"|cours|square|passage|faubourg|fbg|chauss[ée]e|rond-point|sentier|esplanade|parvis|cit[ée]"
    r"|r[ée]sidence|lotissement|hameau|lieu-dit|voie|venelle|ruelle|mont[ée]e|promenade"
    r"|via|viale|piazza|corso|strada"
)
_STREET_EN: Final = (
    r"street|st\.?|road|rd\.?|avenue|ave\.?|lane|ln\.?|drive|dr\.?|boulevard|blvd\.?|court|ct\.?"
    r"|way|place|pl\.?|terrace|close|crescent|square|sq\.?|parkway|pkwy|highway|hwy|circle"
    r"|gardens|grove|mews|row|walk|hill"
)
#: German, Swiss German and Flemish street names are one word ("Bahnhofstrasse", "Kerkstraat").
_COMPOUND_STREET: Final = (
    r"[A-ZÄÖÜ][a-zäöüßéè\-]+(?:strasse|straße|str\.|gasse|weg|platz|allee|straat|laan|plein"
    r"|steenweg|dreef)"
)
_COMPOUND_SUFFIXES: Final = (
    "strasse", "straße", "str", "gasse", "weg", "platz", "allee", "straat", "laan", "plein",
    "steenweg", "dreef",
)  # fmt: skip
_NAME_WORD: Final = r"[A-Za-zÀ-ÖØ-öø-ÿ'’\-]+"
_CAPITAL_WORD: Final = r"[A-ZÀ-ÖØ-Þ][A-Za-zÀ-ÖØ-öø-ÿ'’\-]*"
_PARTICLE: Final = r"(?i:de|du|des|la|le|les|aux|au|en|sur|sous|saint|sainte|st|ste)"
_ELISION: Final = r"(?i:[dl]['’])"
#: A street name: particles and capitalised words ending with a capitalised one ("de la Paix",
#: "Victor-Hugo", "de l'Hôtel de Ville"), or particles and any one word ("de la paix"); never
#: a run of lowercase prose ("avenue Foch demain" stops at Foch).
_STREET_NAME: Final = (
    rf"(?:(?:{_PARTICLE}\s+|{_ELISION}|{_CAPITAL_WORD}[\s\-]?)*{_CAPITAL_WORD}"
    rf"|(?:{_PARTICLE}\s+|{_ELISION})+{_NAME_WORD})"
)
#: A town after a postcode: one word of any case, then capitalised words ("75002 Paris").
_TOWN: Final = rf"{_NAME_WORD}(?:[\s\-]{_CAPITAL_WORD}){{0,2}}(?:\s+(?i:cedex)(?:\s\d{{1,2}})?)?"
_CA_POSTCODE: Final = r"[A-Z]\d[A-Z]\s?\d[A-Z]\d"
_CA_PROVINCE: Final = r"(?:\(\s*[A-ZÉ][\w\-]+\s*\)|(?:QC|ON|BC|AB|MB|NB|NL|NS|PE|SK|YT|NT|NU)\b)"
#: After a French-style street: "75011 Paris", "H3A 1B2 Montréal", or the Canadian order
#: "Montréal (Québec) H3A 1B2".
_FR_TAIL: Final = (
    rf"(?:,?\s+(?:\d{{4,5}}|{_CA_POSTCODE})\s+{_TOWN}"
    rf"|,?\s+{_TOWN}(?:,?\s*{_CA_PROVINCE})?,?\s+{_CA_POSTCODE})?"
)
#: "Flat 3", "Apt 4B", "Suite 200", "appartement 12", "bât. B": part of the address around it.
_UNIT: Final = (
    r"(?i:flat|apt\.?|apartment|suite|unit|appartement|appt\.?|b[âa]t\.?|b[âa]timent|escalier"
    r"|esc\.?)\s*#?\s*[A-Z0-9]{1,5}\b"
)
#: "12 rue de la Paix", "3 bis avenue Foch, 75016 Paris", "5, boulevard Anspach".
_ADDRESS_FR_RE: Final = re.compile(
    rf"(?<![\w,.])(?:{_UNIT},?\s+)?\d{{1,4}}(?:\s?(?i:bis|ter|[a-d])\b)?,?\s+(?i:{_STREET_FR})\s+"
    rf"{_STREET_NAME}(?:,?\s+{_UNIT})?{_FR_TAIL}"
)
#: "Rue de la Loi 16, 1000 Bruxelles", "Rue du Rhône 12, 1204 Genève" (number after the name).
_ADDRESS_BE_RE: Final = re.compile(
    rf"\b(?i:{_STREET_FR})\s+(?:{_NAME_WORD}\s+){{0,5}}\d{{1,4}}[a-z]?,?\s+\d{{4}}\s+{_TOWN}"
)
#: "Rue de la Loi 16", "Avenue Louise 54." without a postcode: the street word and name are
#: capitalised and nothing follows the number but punctuation.
_ADDRESS_BE_SHORT_RE: Final = re.compile(
    rf"\b(?:Rue|Avenue|Boulevard|Chauss[ée]e|Place|Quai|Chemin|Route|Via|Piazza)\s+"
    rf"(?:{_PARTICLE}\s+|{_ELISION})*{_CAPITAL_WORD}(?:[\s\-](?:{_PARTICLE}\s+|{_ELISION})*"
    rf"{_CAPITAL_WORD}){{0,3}}\s+\d{{1,4}}[a-z]?(?=\s*(?:[,;!?)]|\.(?!\d)|$))"
)
#: "Bahnhofstrasse 1, 8001 Zürich", "Kerkstraat 12".
_ADDRESS_DE_RE: Final = re.compile(
    rf"\b{_COMPOUND_STREET}\s+\d{{1,4}}[a-z]?\b(?:,?\s+\d{{4,5}}\s+{_TOWN})?"
)
_EN_NAME_WORD: Final = r"(?:[A-Z][a-z]+|\d{1,3}(?:st|nd|rd|th))"
#: "221B Baker Street", "1600 Pennsylvania Avenue NW, Washington, DC 20500", "350 5th Ave",
#: "100 Queen St W, Toronto, ON M5H 2N2", "Flat 3, 12 High Street, Oxford OX1 4AB".
_ADDRESS_EN_RE: Final = re.compile(
    rf"(?<![\w,.])(?:{_UNIT},?\s+)?\d{{1,5}}[A-Za-z]?\s+(?:{_EN_NAME_WORD}\s+){{1,4}}"
    rf"(?i:{_STREET_EN})\b\.?"
    rf"(?:\s+(?:NW|NE|SW|SE|N|S|E|W)\b)?"
    rf"(?:,?\s+{_UNIT})?"
    rf"(?:,?\s+[A-Z][a-z]+(?:\s[A-Z][a-z]+)?)?"
    rf"(?:,?\s+(?:[A-Z]{{2}}\s+\d{{5}}(?:-\d{{4}})?|[A-Z]{{1,2}}\d[A-Z\d]?\s?\d[A-Z]{{2}}"
    rf"|(?:[A-Z]{{2}}\s+)?{_CA_POSTCODE}))?"
)
#: "BP 123, 75001 Paris", "boîte postale 12", "CS 50001", "PO Box 42".
_ADDRESS_BOX_RE: Final = re.compile(
    rf"(?<![\w.])(?:B\.?P\.?|(?i:bo[îi]te\s+postale|case\s+postale|p\.?\s?o\.?\s+box)"
    rf"|CS(?=\s?\d{{5}}))\s?(?!(?:19|20)\d\d\b)\d{{1,6}}\b{_FR_TAIL}"
)
#: "Lieu-dit Les Granges, 24200 Sarlat": a named place with no number.
_LIEU_DIT_RE: Final = re.compile(
    rf"\b(?i:lieu[\s\-]?dit)\s+(?:{_PARTICLE}\s+|{_ELISION})*{_CAPITAL_WORD}"
    rf"(?:[\s\-](?:{_PARTICLE}\s+|{_ELISION})*{_CAPITAL_WORD}){{0,3}}{_FR_TAIL}"
)
_ADDRESS_RES: Final = (
    _ADDRESS_FR_RE,
    _ADDRESS_BE_RE,
    _ADDRESS_BE_SHORT_RE,
    _ADDRESS_DE_RE,
    _ADDRESS_EN_RE,
    _ADDRESS_BOX_RE,
)
#: Street types, for the cheap test run before the address patterns.
_STREET_WORDS: Final = frozenset(
    {
        # French, Belgian, Swiss
        "rue", "avenue", "av", "boulevard", "bd", "blvd", "impasse", "allée", "allee", "quai",
        "place", "pl", "chemin", "ch", "route", "rte", "cours", "square", "passage", "faubourg",
        "fbg", "chaussée", "chaussee", "sentier", "esplanade", "parvis", "cité", "cite",
        "résidence", "residence", "lotissement", "hameau", "voie", "venelle", "ruelle", "montée",
        "montee", "promenade", "via", "viale", "piazza", "corso", "strada",
        # British, American, Canadian
        "street", "st", "road", "rd", "lane", "ln", "drive", "dr", "parkway", "pkwy", "highway",
        "hwy", "circle", "gardens", "grove", "mews", "row", "walk", "hill", "terrace", "close",
        "crescent", "sq", "court", "ct", "way", "ave",
    }
)  # fmt: skip
#: Words a box number follows ("BP 123", "PO Box 42").
_BOX_WORDS: Final = frozenset({"bp", "box", "postale", "cs"})
#: Substrings of every compound street word (checked before looking at each word).
_COMPOUND_HINTS: Final = (
    "strasse", "straße", "str.", "straat", "gasse", "weg ", "platz", "allee", "laan", "plein ",
    "steenweg", "dreef",
)  # fmt: skip
_WORD_RE: Final = re.compile(r"[^\W\d_]+")
_DIGIT_RE: Final = re.compile(r"\d")
#: Street types that are also common words: the street name after them must be capitalised.
_AMBIGUOUS_STREETS: Final = frozenset(
    {
        "place", "pl.", "chemin", "ch.", "route", "cours", "passage", "voie", "cite", "cité",
        "residence", "résidence", "square", "way", "close", "court", "circle", "walk", "hill",
        "row", "drive", "grove", "st", "st.", "dr", "dr.", "sentier", "promenade", "via", "corso",
    }
)  # fmt: skip
_STREET_WORD_RE: Final = re.compile(rf"\b(?:{_STREET_FR}|{_STREET_EN})\b\.?", re.IGNORECASE)
_ELIDED_RE: Final = re.compile(r"^[dl]['’]", re.IGNORECASE)
#: IBANs: country, check digits, then the account in groups of four.
_IBAN_RE: Final = re.compile(r"\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,3})?\b")
_IBAN_HINT_RE: Final = re.compile(r"[A-Z]{2}\d{2}")
_IBAN_LENGTHS: Final = {
    "FR": 27, "MC": 27, "BE": 16, "CH": 21, "LI": 21, "LU": 20, "DE": 22, "GB": 22, "IE": 22,
    "ES": 24, "IT": 27, "PT": 25, "NL": 18, "AT": 20, "PL": 28, "SE": 24, "DK": 18, "NO": 15,
    "FI": 18, "GR": 27, "CZ": 24, "RO": 24, "MA": 28, "TN": 24, "SN": 28, "CI": 28,
}  # fmt: skip

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
    """A personal detail: its kind (``phone``, ``email``, ``address``, ``iban``) and its span."""

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


def phones(text: str, tokens: list[str] | None = None) -> list[Found]:
    """Phone numbers in ``text``, in digits or read out in words.

    ``tokens``: :func:`~cogs.courtesy.spelled.rough_tokens` of ``text``, when the caller has
    them already.
    """
    if tokens is None:
        tokens = rough_tokens(text)
    found = _spelled_phones(text) if might_spell_numbers(tokens) else []
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


def _spelled_phones(text: str) -> list[Found]:
    """Phone numbers read out in words ("zéro six, douze...", "oh seven seven double oh...")."""
    found: list[Found] = []
    for run in number_runs(text):
        first = 0
        while first < len(run):
            for last in range(len(run) - 1, first - 1, -1):
                window = run[first : last + 1]
                region = _spelled_region(window)
                if region is not None:
                    found.append(Found("phone", window[0].start, window[-1].end, region))
                    first = last + 1
                    break
            else:
                first += 1
    return found


def _spelled_region(window: list[Piece]) -> str | None:
    """The region of the number these pieces read out, or ``None``."""
    if not any(piece.spelled for piece in window):
        return None
    digits = "".join(piece.digits for piece in window)
    plus = digits.startswith("+")
    digits = digits.lstrip("+")
    if "+" in digits or not _MIN_DIGITS <= len(digits) <= _MAX_DIGITS or counting(window):
        return None
    if plus:
        return _phone_region("+" + digits)
    if digits.startswith("0"):
        return _phone_region(digits)
    # North American numbers: the usual 3-3-4 shape, then the same checks as for digits.
    national = digits[1:] if len(digits) == 11 and digits[0] == "1" else digits
    if len(national) != 10:
        return None
    return _phone_region(f"{national[:3]} {national[3:6]} {national[6:]}")


def emails(text: str, tokens: list[str] | None = None) -> list[Found]:
    """E-mail addresses, written plainly or spelled out.

    ``jean point dupont arobase gmail point com``, ``jean (at) gmail (dot) com``,
    ``j e a n @ g m a i l . c o m`` are rewritten first (:func:`rewrite_email_spelling`);
    a spelled address must end with a real top-level domain (``name at home dot now`` is not
    one), and ``look at example dot com`` is a website, not a mailbox.
    """
    found: list[Found] = []
    if "@" not in text:
        words = set(rough_tokens(text) if tokens is None else tokens)
        if _AT_WORDS.isdisjoint(words):
            return found
        if not _spelled_tld(tokens if tokens is not None else rough_tokens(text), words) and (
            not _dotted_tld(text)
        ):
            return found
    if _SPELLING_HINT_RE.search(text) is None:
        for match in _EMAIL_STRICT_RE.finditer(text):
            found.append(Found("email", match.start(), match.end()))
        return found
    rewritten = rewrite_email_spelling(text)
    position = 0
    while (spelled := _EMAIL_STRICT_RE.search(rewritten.text, position)) is not None:
        if not _plausible_email(rewritten, spelled):
            position = spelled.start() + 1
            continue
        start, end = rewritten.span(spelled.start(), spelled.end())
        found.append(Found("email", start, end))
        position = spelled.end()
    return found


def _spelled_tld(tokens: list[str], words: set[str]) -> bool:
    """``dot com``, ``point fr``: a spelled dot before a top-level domain."""
    if _DOT_WORDS.isdisjoint(words):
        return False
    return any(
        token in _DOT_WORDS and following in _TLDS and (token, following) != ("point", "de")
        for token, following in itertools.pairwise(tokens)
    )


def _dotted_tld(text: str) -> bool:
    """``.com``, ``. fr``: a dot before a top-level domain (cheaper than a pattern)."""
    for part in text.split(".")[1:]:
        head = _HEAD_WORD_RE.match(part)
        if head is not None and head.group(1).lower() in _TLDS:
            return True
    return False


def _plausible_email(rewritten: Rewritten, match: re.Match[str]) -> bool:
    """A rewritten address is one if its spelling is what a member would write."""
    origins = rewritten.origins(match.start(), match.end()) - {""}
    if not origins:
        return True
    tld = match.group("tld").lower()
    if tld not in _TLDS:
        return False
    if tld == "de" and rewritten.origin(match.start("tld") - 1) == "point":
        # "chez Julie point de rendez-vous" is French prose; a German address says "dot de".
        return False
    at = rewritten.origin(match.start("domain") - 1)
    if at not in ("atword", "chez"):
        return True
    local, domain = match.group("local").lower(), match.group("domain").lower()
    if at == "chez":
        # "client chez free point fr" is prose: only a mailbox provider or a name built like
        # an address ("jean.dupont chez monsite point fr") makes it one.
        return domain.split(".")[0] in _MAIL_PROVIDERS or re.search(r"[._\-\d]", local) is not None
    return local not in _NOT_A_MAILBOX


def _near_number(text: str, tokens: list[str]) -> bool:
    """A street word near a number, or a box word before one (cheap test)."""
    if _DIGIT_RE.search(text) is None:
        return False
    words = set(tokens)
    compound = any(part in text for part in _COMPOUND_HINTS)
    if _STREET_WORDS.isdisjoint(words) and _BOX_WORDS.isdisjoint(words) and not compound:
        return False
    for match in _WORD_RE.finditer(text):
        word = match.group().lower()
        if word in _STREET_WORDS:
            before = text[max(0, match.start() - 40) : match.start()]
            after = text[match.end() : match.end() + 80]
            if _DIGIT_RE.search(before) or _DIGIT_RE.search(after):
                return True
        elif (word in _BOX_WORDS or word.endswith(_COMPOUND_SUFFIXES)) and _DIGIT_RE.search(
            text, match.end(), match.end() + 4
        ):
            return True
    return False


def addresses(text: str, tokens: list[str] | None = None) -> list[Found]:
    """Postal addresses where they can be told apart from prose (number + street type...).

    A bare town or postcode ("je vis à Lyon 69003") is never one.
    """
    found: list[Found] = []
    if "ieu" in text and (lieu := _LIEU_DIT_RE.search(text)) is not None:
        found.append(Found("address", lieu.start(), lieu.end()))
    if not _near_number(text, rough_tokens(text) if tokens is None else tokens):
        return found
    for regex in _ADDRESS_RES:
        for match in regex.finditer(text):
            value = match.group()
            street = _STREET_WORD_RE.search(value)
            if (
                street is not None
                and street.group().lower() in _AMBIGUOUS_STREETS
                # "10 Downing St": after a capitalised name, St and Dr are a street's.
                and not (regex is _ADDRESS_EN_RE and street.group().rstrip(".") in ("St", "Dr"))
            ):
                after = value[street.end() :].lstrip(" .")
                words = [_ELIDED_RE.sub("", w) for w in after.split()]
                # "1 place de parking" is prose; "2 place Bellecour" is an address.
                if not any(w[:1].isupper() for w in words) and not re.search(r"\d{4,5}", after):
                    continue
            found.append(Found("address", match.start(), match.end()))
    return found


def ibans(text: str) -> list[Found]:
    """IBANs (personal financial data); the check digits must hold."""
    found: list[Found] = []
    if _IBAN_HINT_RE.search(text) is None:
        return found
    for match in _IBAN_RE.finditer(text):
        compact = match.group().replace(" ", "")
        if _IBAN_LENGTHS.get(compact[:2]) != len(compact):
            continue
        rearranged = compact[4:] + compact[:4]
        number = "".join(str(int(c, 36)) for c in rearranged)
        if int(number) % 97 == 1:
            found.append(Found("iban", match.start(), match.end()))
    return found


def personal_details(text: str) -> list[Found]:
    """Every phone number, e-mail and postal address, without overlaps, in text order."""
    tokens = rough_tokens(text)
    found = emails(text, tokens) + addresses(text, tokens) + phones(text, tokens)
    if _DIGIT_RE.search(text) is not None:
        found += ibans(text)
    spans = sorted(found, key=lambda f: (f.start, -f.end))
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
