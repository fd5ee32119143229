"""``cercle demo``: a complete simulated week of a circle, ending with its digest.

Runs the real bot (every default cog) on the in-memory platform with a fake clock and SQLite
in a temporary folder: the question is posted, members of a dozen professions answer in French
and English (from ``data/demo_answers.json``, written for the demo), comment and react, the
courtesy rules act on the few rude or personal-detail messages, two thirds into the round the
bot drafts statements from the answers and members vote on them privately (``/vote`` in a
direct conversation, as on Matrix), the reminder and the close come, and the digest is printed
and saved (Markdown, a web page, the PNG chart and the JSON data) with where professions agree
and where they differ.
"""

from __future__ import annotations

import json
import random
import re
import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

from bot.i18n import translator
from bot.simulation import Simulation
from bot.types import ChannelRef, MessageRef, Visibility
from cogs.digest import analysis as an
from cogs.digest import html, render
from cogs.professions import tag_for_key
from storage import digest as digest_store
from storage import rounds as rounds_store

DATA: Final = Path(__file__).parent / "data" / "demo_answers.json"
#: Monday 5 January 2026, 08:00 in Paris: the first question is due at 09:00.
START: Final = datetime(2026, 1, 5, 7, 0, tzinfo=UTC)
#: A posted statement: its number as the circle writes it (**#12**, **n°12**), then its text.
_STATEMENT: Final = re.compile(r"\*\*(?:#|n°)(\d+)\*\*")
NAMES: Final = (
    "ana",
    "bob",
    "chloe",
    "dan",
    "eva",
    "farid",
    "gaelle",
    "hugo",
    "ines",
    "jules",
    "karim",
    "lea",
    "malik",
    "nora",
    "oscar",
    "paul",
    "rosa",
    "sami",
    "tess",
    "ugo",
    "vera",
    "yasmine",
    "zoe",
)
COMMENTS: Final = (
    "Même constat dans mon métier.",
    "Same here in my field, thank you for saying it.",
    "Je n'avais jamais vu les choses sous cet angle.",
    "Interesting: we face the opposite problem.",
    "Tout à fait d'accord, il faudrait en parler plus souvent.",
    "Could you say more about how you handle it?",
)


@dataclass(frozen=True, slots=True)
class DemoAnswer:
    """One answer written for the demo, with the themes planted in it."""

    profession: str
    lang: str
    text: str
    plants: tuple[str, ...]


def load() -> list[DemoAnswer]:
    """The demo's answers."""
    raw: list[dict[str, Any]] = json.loads(DATA.read_text(encoding="utf-8"))
    return [
        DemoAnswer(item["profession"], item["lang"], item["text"], tuple(item["plants"]))
        for item in raw
    ]


def _say(quiet: bool, text: str) -> None:
    if not quiet:
        print(text, file=sys.stderr)


async def run_demo(out: Path, *, locale: str = "fr", quiet: bool = False) -> int:
    """Simulate the week; print the digest and save it under ``out``."""
    answers = load()
    rng = random.Random(7)
    async with Simulation("matrix", start=START, hosts=["hana"]) as h:
        await h.say("hana", "Bonjour à toutes et à tous !")
        if locale != "fr":
            await h.command("hana", f"/circle setup language:{locale}")
        members: list[tuple[str, DemoAnswer]] = []
        for index, answer in enumerate(answers):
            name = f"{NAMES[index % len(NAMES)]}{index // len(NAMES) + 1}"
            label = tag_for_key(answer.profession).label_fr
            await h.command(name, f"/profession set {label}")
            members.append((name, answer))
        _say(quiet, f"-- {len(members)} members set their profession")
        await h.advance("1h05m")
        prompt = next(
            (s.text for s in h.public() if "question" in s.text.lower() and "**" in s.text), ""
        )
        _say(quiet, "-- the question is posted:\n" + prompt)
        thread = list(h.platform.threads.values())[-1]
        refs: list[tuple[str, DemoAnswer, MessageRef]] = []
        for name, answer in members:
            refs.append((name, answer, await h.say(name, answer.text, thread=thread)))
            await h.advance("20m")
        comments = 0
        for _, answer, ref in refs[::4]:
            other = rng.choice([m for m, a, _ in refs if a.profession != answer.profession])
            await h.say(other, rng.choice(COMMENTS), thread=thread, reply_to=ref)
            comments += 1
        reactions = 0
        for name, answer, ref in refs:
            wanted = 4 if "cross" in answer.plants else rng.randint(0, 2)
            for reactor, _, _ in rng.sample(refs, wanted):
                if reactor != name:
                    await h.platform.add_reaction(reactor, ref, rng.choice(("👍", "❤️", "💯")))
                    reactions += 1
        _say(quiet, f"-- {len(refs)} answers, {comments} comments, {reactions} reactions posted")
        circle = await h.bot.directory.circle_for(h.platform.channel)
        assert circle is not None and circle.id is not None
        round_ = await rounds_store.latest_round(h.db, circle.id)
        assert round_ is not None and round_.id is not None
        stored = await rounds_store.answers(h.db, round_.id)
        acted = [a for a in stored if a.visibility != Visibility.VISIBLE.stored]
        _say(
            quiet,
            f"-- courtesy rules acted on {len(acted)} answers: "
            + ", ".join(sorted({a.visibility for a in acted}) or ["none"]),
        )
        before = len(h.sent)
        await h.advance("3d12h")  # statements at two thirds; the reminder a day before the close
        reminder = [s.text for s in h.sent[before:] if s.where == "channel"]
        _say(quiet, "-- reminder:\n" + "\n".join(reminder))
        statements = [s.text for s in h.public() if _STATEMENT.match(s.text)]
        _say(quiet, "-- statements drafted from the answers:\n" + "\n".join(statements))
        votes = await _vote(h, members, statements, rng)
        _say(quiet, f"-- {votes} private votes from {len(members)} members")
        await h.advance("1d")
        record = await digest_store.get(h.db, round_.id)
        if record is None or record.status != digest_store.DIGEST_POSTED:
            print("the digest was not posted", file=sys.stderr)
            return 1
        _say(quiet, "-- the round closed; the digest is posted:")
        print(record.markdown)
        t = translator(locale)
        closed = await rounds_store.get_round(h.db, round_.id)
        when = (closed.closed_at if closed is not None else None) or h.clock.now()
        page = html.page(
            an.from_dict(json.loads(record.data)),
            t,
            title=render.title(t, round_.number),
            meta=render.long_date(t, when, "Europe/Paris"),
            chart=record.chart,
        )
        _save(out, record.markdown, record.chart or b"", record.data, page)
        _say(quiet, f"-- saved digest.md, digest.html and participation.png in {out}/")
    return 0


async def _vote(
    h: Simulation,
    members: list[tuple[str, DemoAnswer]],
    statements: list[str],
    rng: random.Random,
) -> int:
    """Most members vote on each statement in a direct conversation with the bot. The first
    statement is agreed across professions; on the others each profession leans its own way,
    so the digest has both bridges and cruxes."""
    numbers = [int(found[1]) for text in statements if (found := _STATEMENT.match(text))]
    professions = sorted({a.profession for _, a in members})
    lean = {
        (n, p): 0.85 if i == 0 else rng.choice((0.1, 0.5, 0.9))
        for i, n in enumerate(numbers)
        for p in professions
    }
    votes = 0
    for name, answer in members:
        direct = ChannelRef(h.platform.name, f"dm-{name}", direct=True)
        for number in numbers:
            if rng.random() < 0.25:  # not everyone votes on everything
                continue
            roll = rng.random()
            agree = lean[(number, answer.profession)]
            choice = "agree" if roll < agree else "pass" if roll < agree + 0.08 else "disagree"
            await h.platform.command(name, f"/vote {number} {choice}", channel=direct)
            votes += 1
        await h.advance("1m")
    return votes


def _save(out: Path, markdown: str, chart: bytes, data: str, page: str) -> None:
    out.mkdir(parents=True, exist_ok=True)
    (out / "digest.md").write_text(markdown + "\n", encoding="utf-8")
    (out / "digest.html").write_text(page, encoding="utf-8")
    (out / "participation.png").write_bytes(chart)
    (out / "digest.json").write_text(data, encoding="utf-8")
