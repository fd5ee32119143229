"""Who a harsh word is aimed at: the context that turns an insult into something else.

* **Reported speech** — a member quoting what was said to them, to report it or ask for help
  ("on m'a traité de « sale con »", "someone wrote 'you stupid cow' under my post"), or a
  legal or charter explanation ("l'injure « connard » est punie par la loi"). The words
  inside the quotation (or after the reporting verb) are someone else's: the member is not
  insulting anyone, and the bot offers them ``/report`` privately.
* **Self-directed** — "I'm such an idiot", "quelle conne je fais": allowed.
* **Aimed at a thing** — "ce logiciel est une daube", "LinkedIn's algorithm is garbage":
  criticism of platforms, products, algorithms and policies is allowed, unless the same
  words also address someone. Swearing stays swearing ("ce logiciel est chiant" gets the
  same gentle reminder as any swear word).

Pure functions over the folded tokens the rules read (lower case, accents stripped).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from cogs.courtesy.normalize import Mapped, Token

#: Quotation marks, paired (a span between them is a quotation).
_QUOTE_SPAN_RE: Final = re.compile(
    r"«[^»]{1,300}»|“[^”]{1,300}”|„[^“”]{1,300}[“”]|\"[^\"]{1,300}\"|(?<!\w)'(?:[^'\n]|(?<=\w)'(?=\w)){1,300}'(?!\w)"
)
#: Reporting frames: someone said, wrote... — they count only with a quotation.
_REPORTING_RE: Final = re.compile(
    r"\b(?:"
    r"(?:m|t|l|nous|vous|les|on|il|elle|ils|elles|qu)\s*(?:'|\s)?\s*(?:a|ont|avait|avaient|"
    r"aurait)\s+(?:dit|ecrit|envoye|lance|repondu|menace|menacee|balance)|"
    r"j\s*'?\s*ai\s+(?:recu|lu|vu|entendu)|recu\s+(?:un|des|ce)\s+(?:message|mail|dm|mp|commentaire)s?|"
    r"(?:ecrit|poste|publie|laisse)\s+(?:sous|en|dans)|sous mon (?:post|message|commentaire)|"
    r"capture d\s*'?\s*ecran|"
    r"(?:told|tells|messaged|dmed|texted|emailed)\s+(?:me|us|her|him|them)|"
    r"(?:wrote|writes|written|said|says|posted|commented|replied|typed|left)|"
    r"(?:got|received|receive|getting)\s+(?:a|an|this|these|some|the)?\s*"
    r"(?:message|dm|comment|email|mail|reply|text)s?|"
    r"screenshot|under my (?:post|comment|photo)|in (?:the|my) (?:dms|inbox|comments)"
    r")\b"
)
#: Frames that introduce someone else's words even without quotation marks: what comes
#: after them is what the member was called ("il m'a traité de connard", "he called me a…").
_CALLED_RE: Final = re.compile(
    r"\b(?:"
    r"(?:traite|traitee|traites|traitees|traiter|qualifie|qualifiee|insulte|insultee)\s+(?:de|d)\b|"
    r"(?:got|get|gets|getting|was|were|been|being|be)\s+called|"
    r"(?:appele|appelee)\s+(?:un|une|le|la)?\s*|"
    r"(?:called|call|calls|calling)\s+(?:me|us|her|him|them|my \w+)|"
    r"(?:threatened|harassed|insulted)\s+(?:me|us|her|him|them|my \w+)|"
    r"(?:told|tells|said to)\s+(?:me|us|her|him|them)\s+(?:that\s+)?(?:i|we|she|he|they)\s*"
    r"(?:was|were|am|are|m|re|s)\b|"
    r"(?:m|t|l|nous|vous|les)\s*'?\s*(?:a|ont|avait)\s+dit\s+(?:que\s+)?(?:j|je|nous|elle|il)"
    r"\s*'?\s*(?:etais|etait|suis|est|etions)\b"
    r")"
)
#: A legal or charter explanation about words.
_LEGAL_RE: Final = re.compile(
    r"\b(?:injure|diffamation|outrage|penal|code penal|loi|la loi|puni|punie|punis|passible|"
    r"amende|delit|juridique|jurisprudence|tribunal|plainte|porter plainte|article|"
    r"the law|illegal|unlawful|offence|offense|defamation|hate speech|slur|banned word|"
    r"banned words|the charter|la charte|liste des mots|list of words|is a slur|est une insulte|"
    r"is an insult|est interdit|is banned|is forbidden|prosecuted|harassment|harcelement|"
    r"report(?:ed|ing)? (?:it|this|them|him|her)|signale(?:r|e)?)\b"
)
_SECOND_PERSON: Final = frozenset(
    {"tu", "t", "te", "toi", "ton", "ta", "tes", "vous", "votre", "vos", "you", "your", "youre",
     "u", "ur", "yours", "toi-meme", "yourself"}
)  # fmt: skip
_SELF_BEFORE: Final = (
    ("je", "suis"), ("j", "suis"), ("i", "m"), ("i", "am"), ("im",), ("je", "me", "sens"),
    ("i", "feel"), ("je", "fais"), ("i", "was"), ("j", "etais"), ("j", "ai", "ete"),
    ("suis", "je"), ("am", "i"), ("me",), ("moi",), ("silly", "me"), ("i", "ve", "been"),
)  # fmt: skip
_FILLERS: Final = frozenset(
    {"un", "une", "vraiment", "trop", "tellement", "grave", "si", "tres", "completement", "le",
     "la", "such", "a", "an", "so", "total", "complete", "absolute", "really", "the", "biggest",
     "plus", "gros", "grosse", "vrai", "vraie", "parfois", "like", "of", "sometimes",
     "quelle", "quel", "what", "de", "d", "encore", "again", "bit", "little", "petit",
     "petite", "peu"}
)  # fmt: skip
_SELF_AFTER: Final = (
    ("je", "fais"), ("je", "suis"), ("i", "am"), ("i", "m"), ("i", "was"), ("que", "je"),
    ("moment", "i"), ("moment", "j"),
)  # fmt: skip
_SELF_AFTER_3: Final = (("que", "je", "suis"), ("qu", "on", "est"))
_EXCLAIM: Final = frozenset({"quel", "quelle", "what", "such", "total", "complete", "mais"})
#: The speaker as the subject of what follows ("…, I just sent", "…, j'ai répondu").
_FIRST_PERSON: Final = frozenset({"je", "j", "i", "im", "ive", "id", "ill"})
_THIRD_PERSON: Final = frozenset(
    {"il", "elle", "ils", "elles", "he", "she", "they", "him", "her", "them", "lui", "leur",
     "his", "their", "son", "sa", "ses", "ce", "cet", "cette", "ces", "this", "that", "these",
     "those", "guy", "gars", "mec", "type", "client", "cliente", "collegue", "colleague"}
)  # fmt: skip
_THINGS: Final = frozenset(
    {"logiciel", "logiciels", "appli", "application", "app", "apps", "algorithme", "algo",
     "algorithm", "algorithms", "algos", "plateforme", "plateformes", "platform", "platforms",
     "site", "website", "software", "tool", "tools", "outil", "outils", "systeme", "system",
     "update", "maj", "interface", "ui", "portal", "portail", "policy", "policies", "politique",
     "reglement", "rule", "rules", "regle", "regles", "process", "procedure", "feature",
     "fonctionnalite", "bug", "bugs", "linkedin", "facebook", "instagram", "insta", "tiktok",
     "twitter", "google", "chatgpt", "teams", "zoom", "slack", "excel", "outlook", "windows",
     "imprimante", "printer", "wifi", "reseau", "network", "formulaire", "form", "version",
     "appareil", "machine", "ordi", "ordinateur", "computer", "laptop", "phone", "telephone",
     "feed", "fil", "moderation", "reform", "reforme", "loi", "law", "decret", "administration",
     "meteo", "weather", "traffic", "trafic", "code", "api", "server", "serveur", "reunion",
     "meeting", "planning", "schedule", "deadline", "contrat", "paperwork", "paperasse",
     "dossier", "mutuelle", "assurance", "banque", "bank", "ai", "ia", "chatbot", "bot",
     "notification", "notifications", "pub", "pubs", "ads", "advert", "adverts", "design",
     "film", "movie", "serie", "show", "book", "livre", "article", "post", "rapport", "report",
     "idea", "idee", "plan", "strategy", "strategie", "produit", "product", "service",
     "budget", "ministere", "government", "gouvernement", "this", "that", "it", "ca", "cela",
     "ce", "cette", "cet"}
)  # fmt: skip
#: Words that, right before a harsh word, make "this"/"ce" point at a thing, not a person.
_DEMONSTRATIVES: Final = frozenset({"this", "that", "it", "ca", "cela", "ce", "cette", "cet"})
_WINDOW: Final = 6


@dataclass(frozen=True, slots=True)
class Frame:
    """How a message speaks: quoting someone, explaining the law, or in its own voice."""

    #: It reports what someone else said or wrote (with a quotation, or "called me").
    reported: bool = False
    #: It explains the law or the charter about words.
    legal: bool = False
    #: The spans of the original text inside quotation marks.
    quoted: tuple[tuple[int, int], ...] = ()
    #: Where, in the original text, the words someone called the member start.
    called_from: int | None = None

    @property
    def speaks_of_words(self) -> bool:
        """Quoting or explaining: the harsh words in it are not the member's own."""
        return self.reported or self.legal


def read_frame(text: str, folded: Mapped) -> Frame:
    """The frame of a message (``text``: light text; ``folded``: its folded form)."""
    quoted = tuple((m.start() + 1, m.end() - 1) for m in _QUOTE_SPAN_RE.finditer(text))
    called = _CALLED_RE.search(folded.text)
    called_from = folded.span(called.end() - 1, called.end())[1] if called else None
    reporting = _REPORTING_RE.search(folded.text) is not None
    legal = _LEGAL_RE.search(folded.text) is not None
    return Frame(
        reported=called is not None or (reporting and bool(quoted)),
        legal=legal and (bool(quoted) or reporting or called is not None),
        quoted=quoted,
        called_from=called_from,
    )


def excused(frame: Frame, tokens: Sequence[Token], first: int, start: int, end: int) -> bool:
    """Whether the frame makes the words at ``start:end`` (``tokens[first]``) someone else's.

    Words inside quotation marks are mentioned, not used — unless the member puts them on
    someone ("t'es un « génie »", "you're a 'genius'"); without quotation marks, the words
    after "called me" / "m'a traité de" are what the member was called.
    """
    for a, b in frame.quoted:
        if a <= start and end <= b:
            return not _addressed_quote(tokens, a, frame.quoted)
    return frame.speaks_of_words and frame.called_from is not None and start >= frame.called_from


def _addressed_quote(
    tokens: Sequence[Token], quote_start: int, quoted: Sequence[tuple[int, int]]
) -> bool:
    """The quotation starting at ``quote_start`` is said *to* someone, right before it."""
    outside = [
        t.text
        for t in tokens
        if t.end <= quote_start and not any(a <= t.start and t.end <= b for a, b in quoted)
    ]
    before = outside[-3:]
    return any(w in _SECOND_PERSON or w in ("espece", "sale") for w in before)


def self_directed(tokens: Sequence[Token], first: int, last: int) -> bool:
    """The harsh word at ``tokens[first:last + 1]`` describes the speaker themself.

    "I'm such an idiot", "quelle conne je fais", "abruti que je suis", and an exclamation
    followed by what the speaker did ("what a muppet, I just sent…", "quel idiot, j'ai…")
    when nobody else is named or addressed.
    """
    if _addresses_someone(tokens, first):
        return False
    before = [t.text for t in tokens[max(0, first - _WINDOW) : first]]
    while before and before[-1] in _FILLERS:
        before.pop()
    if any(tuple(before[-len(p) :]) == p for p in _SELF_BEFORE):
        return True
    after = [t.text for t in tokens[last + 1 : last + 1 + _WINDOW]]
    if tuple(after[:2]) in _SELF_AFTER or tuple(after[:3]) in _SELF_AFTER_3:
        return True
    # An exclamation ("what a muppet", "quel idiot", "total moron moment") followed by what
    # the speaker did, nobody else named.
    exclaimed = first <= 2 or (bool(before) and before[-1] in _EXCLAIM)
    nearby = [t.text for t in tokens[max(0, first - _WINDOW) : last + 1 + _WINDOW]]
    return (
        exclaimed
        and any(w in _FIRST_PERSON for w in after)
        and not any(w in _THIRD_PERSON for w in nearby)
        and not any(t.text in _SECOND_PERSON for t in tokens)
    )


def aimed_at_thing(tokens: Sequence[Token], first: int) -> bool:
    """The harsh word at ``tokens[first]`` qualifies a thing (software, a platform, a rule)."""
    if _addresses_someone(tokens, first):
        return False
    window = [t.text for t in tokens[max(0, first - _WINDOW) : first]]
    named = [w for w in window if w in _THINGS and w not in _DEMONSTRATIVES]
    return bool(named)


def _addresses_someone(tokens: Sequence[Token], first: int) -> bool:
    around = tokens[max(0, first - _WINDOW) : first + 3]
    return any(t.text in _SECOND_PERSON for t in around)
