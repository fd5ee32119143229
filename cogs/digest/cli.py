"""``cercle digest`` (offline, from JSON lines), ``cercle demo`` (a simulated week) and
``cercle archive`` (every posted digest as a web page)."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from bot.i18n import translator
from cogs.digest import analysis as an
from cogs.digest import html, render
from storage.database import Database


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
    digest.add_argument(
        "--format",
        dest="fmt",
        choices=("md", "json", "html"),
        default="md",
        help="html: one self-contained page, the chart inside",
    )
    digest.add_argument(
        "--out",
        type=Path,
        metavar="DIR",
        help="write digest.md|json|html and participation.png here",
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
        "and the digest is printed and saved (Markdown, HTML, JSON and the PNG chart).",
    )
    demo.add_argument("--out", type=Path, default=Path("demo-out"), metavar="DIR")
    demo.add_argument("--lang", choices=("fr", "en"), default="fr")
    demo.add_argument("--quiet", action="store_true", help="print only the digest")
    archive = sub.add_parser(
        "archive",
        help="write every posted digest as a web page, with an index",
        description="Read the digests posted so far from the bot's database and write one "
        "self-contained HTML page per digest (the chart inside, nothing fetched) and an "
        "index.html linking them, newest first. Pages already there are replaced.",
    )
    archive.add_argument("out", type=Path, metavar="DIR", help="where to write the pages")
    archive.add_argument(
        "--config", type=Path, help="TOML file (default: $CERCLE_CONFIG or ./cercle.toml)"
    )
    archive.add_argument("--db", metavar="URL", help="database URL (overrides the configuration)")
    archive.add_argument(
        "--lang", choices=("fr", "en"), help="language of the index (default: the newest digest's)"
    )


def main(args: argparse.Namespace) -> int:
    """Run ``digest``, ``demo`` or ``archive``."""
    if args.command == "demo":
        from cogs.digest.demo import run_demo

        return asyncio.run(run_demo(args.out, locale=args.lang, quiet=args.quiet))
    if args.command == "archive":
        return asyncio.run(run_archive(args))
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
    elif args.fmt == "html":
        output = html.page(digest, t, title=t._("Digest"), chart=render.chart_png(digest, t))
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


async def run_archive(args: argparse.Namespace) -> int:
    """``cercle archive DIR``: the database comes from the configuration, or ``--db``."""
    from bot.config import ConfigError, Override, default_config_path, format_problems, load_config

    path = args.config or default_config_path()
    overrides = [Override("database.url", args.db, "--db")] if args.db is not None else []
    try:
        config = load_config(path, overrides=overrides)
    except ConfigError as error:
        print(format_problems(error.problems, path), file=sys.stderr)
        return 2
    db = Database(config.database.url)
    try:
        if not await db.is_up_to_date():
            print(f"{db.url}: the schema is not current; run `cercle db upgrade`", file=sys.stderr)
            return 1
        written = await write_archive(db, args.out, locale=args.lang)
    finally:
        await db.dispose()
    print(f"wrote {written} digest pages and {args.out / 'index.html'}", file=sys.stderr)
    return 0


async def write_archive(db: Database, out: Path, *, locale: str | None = None) -> int:
    """One page per posted digest and an ``index.html`` linking them, newest first.

    Returns:
        How many digest pages were written.
    """
    pages = await archive_pages(db, locale=locale)
    await asyncio.to_thread(_write_pages, out, pages)
    return len(pages) - 1


async def archive_pages(db: Database, *, locale: str | None = None) -> dict[str, str]:
    """The archive's files by name: a page per posted digest, then ``index.html``."""
    from storage import digest as store

    posted = await store.posted(db)
    pages: dict[str, str] = {}
    entries: list[html.IndexEntry] = []
    for record, round_, circle in posted:
        t = translator(record.locale)
        when = round_.closed_at or record.posted_at or record.created_at
        date = render.long_date(t, when, circle.timezone)
        meta = f"{circle.name} · {date}" if circle.name else date
        title = render.title(t, round_.number)
        digest = an.from_dict(json.loads(record.data))
        name = f"circle-{record.circle_id}-round-{round_.number}.html"
        pages[name] = html.page(digest, t, title=title, meta=meta, chart=record.chart)
        entries.append(html.IndexEntry(name, title, meta, digest.prompt))
    newest = posted[0][0].locale if posted else "fr"
    pages["index.html"] = html.index(entries, translator(locale or newest))
    return pages


def _write_pages(out: Path, pages: dict[str, str]) -> None:
    out.mkdir(parents=True, exist_ok=True)
    for name, text in pages.items():
        (out / name).write_text(text, encoding="utf-8")


__all__ = ["add_parsers", "archive_pages", "main", "write_archive"]
