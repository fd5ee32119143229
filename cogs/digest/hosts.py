"""What only hosts are told about a digest: its follow-up question, and whether it is fair.

The fairness line sets each profession's share of the digest's quotes beside its share of the
round's answers, and flags those quoted under :data:`FAIR_RATIO` times their share: a digest
that quotes architects in half its entries when they wrote a tenth of the answers tells the
architects' story. It goes where the follow-up question goes (the hosts' channel, a host's
private reply), never into the digest members read.
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass
from typing import Final

from babel.numbers import format_decimal, format_percent

from bot.cog import Services
from bot.i18n import N_, Translator, translator
from bot.messenger import escape
from bot.platform import HasHostsChannel, PlatformError
from bot.types import Action, ActionStyle, ChannelRef, Content
from cogs.digest import render, votes_view
from cogs.digest.result import SHOWN_DISTINCTIVE, SHOWN_SHARED, Digest, Quote
from storage import rounds as rounds_store
from storage.models import Circle
from storage.rounds import Round

#: A profession quoted under this many times its share of answers is flagged to hosts.
FAIR_RATIO: Final = 0.8
#: What hosts are told where the digest was posted (their channel, or their command's reply).
HOSTS_FOLLOW_UP: Final = N_(
    "The digest of round #{n} is posted. Its follow-up question waits in the suggestions as "
    "#{id}: {question}\n{approve} puts it in the bank."
)


@dataclass(frozen=True, slots=True)
class Share:
    """A profession's part of the digest's quotes and of the round's answers."""

    profession: str
    quotes: int
    answers: int
    quote_share: float
    answer_share: float

    @property
    def under(self) -> bool:
        """Quoted clearly less than it answered."""
        return self.quote_share < FAIR_RATIO * self.answer_share


def public_quotes(d: Digest) -> list[Quote]:
    """The quotes members read in the digest (not those only in the exports)."""
    found = [
        *(t.quote for t in d.shared[:SHOWN_SHARED]),
        *(x.theme.quote for x in d.distinctive[:SHOWN_DISTINCTIVE]),
        *(t.quote for s in d.sub_questions for t in s.themes),
        *(a.quote for a in d.agreement),
    ]
    return [q for q in found if q.text]


def fairness(d: Digest) -> list[Share]:
    """Each profession as shown (small ones as other professions; never "not given"), in the
    participation's order; empty when the digest quotes no one credited by profession."""
    answers = {k: n for k, n in d.participation.by_profession.items() if k}
    quotes = Counter(q.profession for q in public_quotes(d) if q.profession in answers)
    total, quoted = sum(answers.values()), sum(quotes.values())
    if not total or not quoted:
        return []
    return [Share(k, quotes[k], n, quotes[k] / quoted, n / total) for k, n in answers.items()]


def fairness_text(d: Digest, t: Translator) -> str:
    """The fairness line for hosts, in the circle's language; empty when there is no quote."""
    shares = fairness(d)
    if not shares:
        return ""
    ratio = format_decimal(FAIR_RATIO, locale=t.locale)

    def percent(value: float) -> str:
        return format_percent(value, locale=t.locale)

    entries = " · ".join(
        t._(
            "{profession}: {quotes} of the quotes, {answers} of the answers",
            profession=escape(render.profession_label(s.profession, t)),
            quotes=percent(s.quote_share),
            answers=percent(s.answer_share),
        )
        + (" ⚠" if s.under else "")
        for s in shares
    )
    under = [escape(render.profession_label(s.profession, t)) for s in shares if s.under]
    verdict = (
        t._(
            "Quoted under {ratio}× their share of the answers: {professions}.",
            ratio=ratio,
            professions=", ".join(under),
        )
        if under
        else t._(
            "Every profession is quoted at least {ratio}× its share of the answers.", ratio=ratio
        )
    )
    heading = t._("Fairness of the digest (hosts only): quotes and answers by profession.")
    return f"{heading}\n{entries}\n{verdict}"


def with_fairness(text: str, d: Digest, t: Translator) -> str:
    """A private note to hosts, the fairness line after it (and why no vote is ranked)."""
    notes = [n for n in (text, fairness_text(d, t), votes_view.hosts_note(d.votes, t)) if n]
    return "\n\n".join(notes)


def follow_up_text(t: Translator, round_: Round, prompt_id: int, question: str, prefix: str) -> str:
    """Where the follow-up question waits (suggestion ``prompt_id``) and how to approve it."""
    return t._(
        HOSTS_FOLLOW_UP,
        n=round_.number,
        id=prompt_id,
        question=f"*{escape(question)}*",
        approve=f"`{prefix}prompt approve {prompt_id}`",
    )


class HostNotes:
    """Tells hosts, once per posted digest, its follow-up question and its fairness line."""

    def __init__(self, services: Services, log: logging.Logger) -> None:
        self.services = services
        self.log = log

    async def tell(self, circle: Circle, round_: Round, digest: Digest) -> None:
        """The follow-up question is queued in the suggestions (``/prompt suggestions``,
        ``/prompt approve``) and, where the platform has a hosts' channel, shown there with a
        button that adds it to the bank, the fairness line under it."""
        t = translator(circle.locale)
        question = render.follow_up_question(digest, t)
        prompt_id = await self.services.effects.stored(
            "digest_follow_up",
            lambda: self.queue(circle, question),
            encode=str,
            decode=int,
        )
        platform = self.services.platforms.get(circle.platform)
        if not isinstance(platform, HasHostsChannel):
            return
        channel = ChannelRef(circle.platform, circle.space_id, name=circle.name)
        hosts = platform.hosts_channel(channel)
        if hosts is None:
            return
        prefix = self.services.platforms.prefix(circle.platform)
        actions: tuple[Action, ...] = ()
        said = ""
        if prompt_id:
            said = follow_up_text(t, round_, prompt_id, question, prefix)
            actions = (
                Action(
                    t._("Add to the bank"),
                    ("prompt", "approve"),
                    (("id", prompt_id),),
                    channel=channel,
                    style=ActionStyle.SUCCESS,
                ),
            )
        text = with_fairness(said, digest, t)
        if not text:
            return
        try:
            await self.services.platforms.messenger(circle.platform).send(
                hosts, Content(text=text, actions=actions)
            )
        except PlatformError:  # the question still waits in the suggestions
            self.log.exception("could not show round %s's follow-up to the hosts", round_.id)

    async def queue(self, circle: Circle, question: str) -> int:
        """The question as a suggestion of the digest's; ``0`` when the circle already has
        it (suggested, in the bank, or once rejected or removed: not offered again)."""
        db = self.services.db
        circle_id = circle.id or 0
        for status in (
            rounds_store.PROMPT_SUGGESTED,
            rounds_store.PROMPT_ACTIVE,
            rounds_store.PROMPT_REJECTED,
            rounds_store.PROMPT_REMOVED,
        ):
            for prompt in await rounds_store.prompts(db, circle_id, status):
                if prompt.text == question:
                    return (prompt.id or 0) if status == rounds_store.PROMPT_SUGGESTED else 0
        added = await rounds_store.add_prompt(
            db,
            circle_id,
            question,
            [],
            now=self.services.clock.now(),
            status=rounds_store.PROMPT_SUGGESTED,
        )
        return added.id or 0
