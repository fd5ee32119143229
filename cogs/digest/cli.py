"""``cercle digest`` (offline, from JSON lines) and ``cercle demo`` (a simulated week)."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from bot.i18n import translator
from cogs.digest import analysis as an
from cogs.digest import render


def add_parsers(sub: Any) -> None:
    """Declare the ``digest`` and ``demo`` subcommands."""
    digest = sub.add_parser(
        "digest",
        help="digest answers given as JSON lines, offline",
        description="Read one JSON object per line (`profession` and `text`, optionally "
        "`lang`, `author`, `id`) and write the digest: shared themes, distinctive themes, "
        "what is missing, what disappointed, professions not heard. Progress goes to stderr.",
    )
    digest.add_argument(
        "--from-jsonl", dest="source", type=Path, required=True, metavar="FILE", help="answers"
    )
    digest.add_argument("--lang", choices=("fr", "en"), default="fr", help="language of headings")
    digest.add_argument("--format", dest="fmt", choices=("md", "json"), default="md")
    digest.add_argument(
        "--out", type=Path, metavar="DIR", help="write digest.md|json and participation.png here"
    )
    digest.add_argument("--prompt", help="the question (default: the founding question)")
    digest.add_argument(
        "--sub", action="append", default=None, metavar="TEXT", help="a sub-question (repeatable)"
    )
    digest.add_argument(
        "--expect",
        default="",
        metavar="KEYS",
        help="comma-separated profession keys expected (to list those not heard)",
    )
    demo = sub.add_parser(
        "demo",
        help="run a simulated week end to end and save its digest under ./demo-out/",
        description="A complete simulated week on the embedded default: memory adapter, fake "
        "clock, SQLite in a temporary folder. The prompt is posted, members answer in French "
        "and English, comment and react, courtesy rules act, the reminder and the close come, "
        "and the digest is printed and saved (Markdown and PNG).",
    )
    demo.add_argument("--out", type=Path, default=Path("demo-out"), metavar="DIR")
    demo.add_argument("--lang", choices=("fr", "en"), default="fr")
    demo.add_argument("--quiet", action="store_true", help="print only the digest")


def main(args: argparse.Namespace) -> int:
    """Run ``digest`` or ``demo``."""
    if args.command == "demo":
        import asyncio

        from cogs.digest.demo import run_demo

        return asyncio.run(run_demo(args.out, locale=args.lang, quiet=args.quiet))
    return run_offline(args)


def _lines(path: Path) -> Iterator[tuple[int, str]]:
    stream = sys.stdin if str(path) == "-" else path.open(encoding="utf-8")
    try:
        yield from enumerate(stream, 1)
    finally:
        if stream is not sys.stdin:
            stream.close()


def read_answers(path: Path) -> tuple[list[an.AnswerIn], list[str]]:
    """Answers from JSON lines, and a message per unreadable line."""
    answers: list[an.AnswerIn] = []
    problems: list[str] = []
    for number, line in _lines(path):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
            profession, text = str(item["profession"]).strip(), str(item["text"])
        except (ValueError, KeyError, TypeError) as error:
            problems.append(f"line {number}: {error}")
            continue
        answers.append(
            an.AnswerIn(
                id=str(item.get("id", number)),
                profession=_profession_key(profession),
                text=text,
                lang=str(item.get("lang") or ""),
                author=str(item.get("author") or ""),
            )
        )
    return answers, problems


def _profession_key(wording: str) -> str:
    """A vocabulary key as is; a wording matched to a key when confident; else the wording."""
    from cogs.professions import vocabulary
    from cogs.professions.matching import Confidence, resolve
    from cogs.professions.tags import custom_key

    if vocabulary.get(wording) is not None:
        return wording
    found = resolve(wording)
    if found.confidence is Confidence.CONFIDENT and found.best is not None:
        return found.best.key
    return custom_key(wording) if wording else ""


def run_offline(args: argparse.Namespace) -> int:
    """``cercle digest --from-jsonl FILE``."""
    from cogs.rounds.bank import seeds

    answers, problems = read_answers(args.source)
    for problem in problems:
        print(problem, file=sys.stderr)
    founding = seeds()["founding"][args.lang]
    prompt = args.prompt if args.prompt is not None else founding.text
    subs = args.sub if args.sub is not None else ([] if args.prompt else list(founding.subs))

    def progress(done: int, total: int) -> None:
        print(f"\rembedding {done}/{total} sentences", end="", file=sys.stderr, flush=True)
        if done >= total:
            print(file=sys.stderr)

    vectors, _ = an.embed_answers(answers, progress=progress if len(answers) > 200 else None)
    digest = an.analyse(
        prompt,
        answers,
        vectors,
        sub_questions=subs,
        expected=[k for k in args.expect.split(",") if k],
        locale=args.lang,
    )
    t = translator(args.lang)
    if args.fmt == "json":
        output = json.dumps(render.as_json(digest, t), ensure_ascii=False, indent=2) + "\n"
    else:
        output = render.markdown(digest, t, title=t._("Digest")) + "\n"
    if args.out is None:
        sys.stdout.write(output)
    else:
        args.out.mkdir(parents=True, exist_ok=True)
        (args.out / f"digest.{args.fmt}").write_text(output, encoding="utf-8")
        (args.out / render.CHART_NAME).write_bytes(render.chart_png(digest, t))
        print(f"wrote {args.out / f'digest.{args.fmt}'} and {render.CHART_NAME}", file=sys.stderr)
    return 1 if problems else 0


__all__ = ["add_parsers", "main"]
