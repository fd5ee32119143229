"""What other cogs use: a member's profession as a tag, the circle's professions, the signal."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from bot.i18n import normalize_locale
from cogs.professions import vocabulary
from cogs.professions.vocabulary import normalize
from storage import professions as store
from storage.database import Database
from storage.professions import OTHER_KEY

#: Keys of professions a circle's host added: the prefix, then the label.
CUSTOM_PREFIX: Final = "custom:"
OTHER_FR: Final = "Autre"
OTHER_EN: Final = "Other"


@dataclass(frozen=True, slots=True)
class ProfessionTag:
    """A profession as answers are tagged with it: canonical key and labels, member's wording."""

    key: str
    #: ISCO-08 unit group, when the profession has one (not for ``other`` or custom ones).
    isco: str | None
    label_fr: str
    label_en: str
    #: The member's own wording ("infirmière libérale"); empty for a bare profession.
    wording: str = ""

    def label(self, locale: str | None) -> str:
        """The canonical label in ``locale`` (French unless English)."""
        return self.label_en if normalize_locale(locale) == "en" else self.label_fr

    @property
    def is_other(self) -> bool:
        """Not (yet) a recognised profession."""
        return self.key == OTHER_KEY

    @property
    def is_custom(self) -> bool:
        """A profession a host of a circle added."""
        return self.key.startswith(CUSTOM_PREFIX)

    @property
    def has_own_wording(self) -> bool:
        """The member worded it differently from the canonical labels."""
        if not self.wording.strip():
            return False
        return normalize(self.wording) not in {normalize(self.label_fr), normalize(self.label_en)}

    def display(self, locale: str | None) -> str:
        """What to show next to the member: their own wording, else the label."""
        return self.wording.strip() if self.has_own_wording else self.label(locale)


@dataclass(frozen=True, slots=True)
class ProfessionChanged:
    """A member's profession was set, or changed because a host accepted or merged it."""

    member_id: int
    #: The circle where it happened (``None`` outside any circle).
    circle_id: int | None
    tag: ProfessionTag


def custom_key(label: str) -> str:
    """The key of a custom profession with this label."""
    return CUSTOM_PREFIX + " ".join(label.split())


def tag_for_key(key: str, wording: str = "") -> ProfessionTag:
    """The tag of a stored profession key (bundled, custom or ``other``), with a wording."""
    if key == OTHER_KEY:
        return ProfessionTag(OTHER_KEY, None, OTHER_FR, OTHER_EN, wording)
    if key.startswith(CUSTOM_PREFIX):
        label = key.removeprefix(CUSTOM_PREFIX)
        return ProfessionTag(key, None, label, label, wording)
    profession = vocabulary.get(key)
    if profession is None:  # a key the vocabulary no longer has: show it as it is
        return ProfessionTag(key, None, key, key, wording)
    return ProfessionTag(key, profession.isco, profession.fr, profession.en, wording)


async def profession_of(db: Database, member_id: int) -> ProfessionTag | None:
    """The member's current profession, with their wording; ``None`` if never set."""
    current = await store.get_member_profession(db, member_id)
    return None if current is None else tag_for_key(current.key, current.wording)


async def circle_professions(db: Database, circle_id: int) -> list[ProfessionTag]:
    """The professions present in the circle, one tag per key (no wording), most common first.

    Members not (yet) recognised appear as one ``other`` tag, last.
    """
    keys = [key for key, _count in await store.circle_profession_counts(db, circle_id)]
    ordered = [key for key in keys if key != OTHER_KEY] + [k for k in keys if k == OTHER_KEY]
    return [tag_for_key(key) for key in ordered]
