"""A terminal room: the embedded default when no chat platform is configured.

It reads lines from standard input (or any text stream) and stops cleanly at end of input,
so it can be scripted::

    ana> some text                  ana says something in the circle's channel
    ana> /prompt add text:"..."     ana runs a command (options as name:value, quotes allowed)
    ana>> text                      ana replies inside the current round's thread
    ana>>> text                     ana replies to the thread's latest message by someone else
    ana>+ 👍                        ana reacts to the latest message by someone else (thread
    ana>+2 👍                       first, else channel); ``+2`` the one before it, and so on
    :advance 3d                     with --clock fake: move time on, firing jobs due meanwhile
    :now                            print the (simulated) time
    :help                           this summary

It starts with a banner in the circle's language naming the first commands. Every bot message
is printed as one block, headed by where it was posted; its attachments (a digest's chart, an
export) are saved under ``./console-out/`` and their path printed. The reader runs
under a :class:`~bot.supervisor.Supervisor`: a line that fails is logged and the reader starts
again (with backoff); a line the core could not settle (``EventNotHandled``) is handed again.
"""

from __future__ import annotations

import asyncio
import re
import sys
import threading
from collections.abc import Awaitable, Callable, Sequence
from datetime import timedelta
from pathlib import Path
from typing import Final, TextIO

from bot.adapters.memory import MemoryPlatform
from bot.clock import Clock, parse_duration
from bot.i18n import N_, translator
from bot.platform import Capabilities, EventNotHandled, EventSink
from bot.supervisor import Supervisor
from bot.types import ChannelRef, Content, MessageRef, ThreadRef, UserRef

CONSOLE: Final = Capabilities(
    max_message_length=4000,
    native_commands=False,
    ephemeral_replies=False,
    threads=True,
    reactions=True,
    cards=False,
    command_prefix="/",
    ping="room",
    shared_room=False,  # one person's terminal: nobody else sees a command typed there
)

READER: Final = "console-reader"

_LINE_RE: Final = re.compile(r"^\s*(?P<name>[\w.@-]{1,64})\s*(?P<arrow>>{1,3})\s?(?P<text>.*)$")
_REACT_RE: Final = re.compile(
    r"^\s*(?P<name>[\w.@-]{1,64})\s*>\+(?P<back>\d{0,3})\s+(?P<emoji>\S+)\s*$"
)
#: Where attachments are saved, relative to the working directory.
OUT_DIR: Final = Path("console-out")

HELP: Final = """\
Console syntax:
  NAME> text                 NAME says text in the channel (NAME is created on first use)
  NAME> /group sub opt:value NAME runs a command; quotes allowed: opt:"two words"
  NAME>> text                NAME replies in the current thread
  NAME>>> text               NAME answers the thread's latest message by someone else
  NAME>+ 👍                  NAME reacts to the latest message by someone else (in the
  NAME>+2 👍                 thread, else the channel); +2 the one before it, +3 ...
  :advance 3d | 2h | 1d12h   move the fake clock on (start with --clock fake)
  :now                       print the current time
  :help                      this text
Attachments are saved under ./console-out/. End of input stops the bot."""

BANNER: Final = N_("{bot}, in the console room #{channel}. To begin:")
BANNER_HELP: Final = N_("what I can do")
BANNER_SETUP: Final = N_("the circle's settings (for hosts)")
BANNER_SETUP_NO_HOST: Final = N_("the circle's settings (for hosts: start with --host {name})")
BANNER_ADVANCE: Final = N_("let a day pass (simulated time)")
BANNER_NO_ADVANCE: Final = N_("let a day pass, in simulated time: start with --clock fake")
BANNER_SYNTAX: Final = N_("the console's syntax; end of input (Ctrl-D) stops me")

Advance = Callable[[timedelta], Awaitable[int]]


class ConsolePlatform(MemoryPlatform):
    """The memory platform, driven by lines of text and printing what the bot says.

    ``supervisor`` runs the reader (its state is there for health reports); by default the
    platform has one of its own.
    """

    def __init__(
        self,
        clock: Clock,
        *,
        input: TextIO | None = None,
        output: TextIO | None = None,
        channel: str = "circle",
        hosts: Sequence[str] = (),
        bot_name: str = "Cercle",
        advance: Advance | None = None,
        supervisor: Supervisor | None = None,
        locale: str = "fr",
        out_dir: Path = OUT_DIR,
    ) -> None:
        super().__init__(clock, name="console", capabilities=CONSOLE, channel=channel, hosts=hosts)
        self._input = input if input is not None else sys.stdin
        self._output = output if output is not None else sys.stdout
        self._bot_name = bot_name
        self._advance = advance
        self._locale = locale
        self._host_names = list(hosts)
        self.out_dir = out_dir
        self.supervisor = supervisor if supervisor is not None else Supervisor(clock)
        self._lines: asyncio.Queue[str | None] = asyncio.Queue()
        #: The line being handled, kept until it is (or fails for another reason).
        self._pending: str | None = None
        self._number = 0
        self.current_thread: ThreadRef | None = None

    async def start(self, sink: EventSink) -> None:
        """Greet, then start reading lines."""
        await super().start(sink)
        self._output.write(self.banner() + "\n\n")
        self._output.flush()
        self._pump()
        self.supervisor.start(READER, self._read_loop)

    async def stop(self) -> None:
        """Stop reading."""
        await self.supervisor.stop(READER)
        await super().stop()

    # ------------------------------------------------------------ output

    async def send(
        self, channel: ChannelRef, content: Content, *, thread: ThreadRef | None = None
    ) -> MessageRef:
        """Print a post."""
        ref = await super().send(channel, content, thread=thread)
        where = f"#{channel.name or channel.id}"
        if thread is not None:
            where += f" › {thread.name or thread.id}"
        self._print(where, content)
        return ref

    async def send_direct(self, user: UserRef, content: Content) -> MessageRef:
        """Print a direct message."""
        ref = await super().send_direct(user, content)
        self._print(f"private → {user.label}", content)
        return ref

    async def edit(self, message: MessageRef, content: Content) -> None:
        """Print the new version of an edited message."""
        await super().edit(message, content)
        self._print(f"edited {message.id}", content)

    async def start_thread(self, message: MessageRef, name: str) -> ThreadRef:
        """Open a thread; ``NAME>>`` lines go there from now on."""
        thread = await super().start_thread(message, name)
        self.current_thread = thread
        return thread

    def banner(self) -> str:
        """The first lines a newcomer reads, in the circle's language."""
        t = translator(self._locale)
        host = self._host_names[0] if self._host_names else "ana"
        rows = [
            ("ana> /help", t._(BANNER_HELP)),
            (
                f"{host}> /circle setup",
                t._(BANNER_SETUP) if self._host_names else t._(BANNER_SETUP_NO_HOST, name=host),
            ),
            (
                ":advance 1d",
                t._(BANNER_ADVANCE if self._advance is not None else BANNER_NO_ADVANCE),
            ),
            (":help", t._(BANNER_SYNTAX)),
        ]
        width = max(len(line) for line, _ in rows) + 3
        head = t._(BANNER, bot=self._bot_name, channel=self.channel.name or self.channel.id)
        return "\n".join([head, *(f"  {line:<{width}}{what}" for line, what in rows)])

    def _print(self, where: str, content: Content) -> None:
        lines = [f"[{where}] {self._bot_name}:"]
        if content.ping is not None:
            lines.append("@room" if content.ping.role is None else f"@{content.ping.role}")
        lines.append(content.text)
        lines.extend(
            f"(attachment saved: {self._save(a.filename, a.data)}, {len(a.data):,} bytes)"
            for a in content.attachments
        )
        self._output.write("\n".join(lines).rstrip() + "\n\n")
        self._output.flush()

    def _save(self, filename: str, data: bytes) -> Path:
        """Write an attachment under :attr:`out_dir`, never over an earlier one."""
        self.out_dir.mkdir(parents=True, exist_ok=True)
        name = Path(filename).name or "attachment"
        path = self.out_dir / name
        stem, suffix = path.stem, path.suffix
        n = 1
        while path.exists():
            n += 1
            path = self.out_dir / f"{stem}-{n}{suffix}"
        path.write_bytes(data)
        return path

    def notice(self, text: str) -> None:
        """A line from the console itself (not the bot)."""
        self._output.write(f"-- {text}\n")
        self._output.flush()

    # ------------------------------------------------------------ input

    def _pump(self) -> None:
        loop = asyncio.get_running_loop()
        queue = self._lines

        def pump() -> None:
            # A daemon thread: a blocked terminal read must never keep the process alive.
            try:
                for line in self._input:
                    loop.call_soon_threadsafe(queue.put_nowait, line)
            finally:
                loop.call_soon_threadsafe(queue.put_nowait, None)

        threading.Thread(target=pump, name="console-stdin", daemon=True).start()

    async def _read_loop(self) -> None:
        while True:
            if self._pending is None:
                line = await self._lines.get()
                if line is None:
                    self._closed.set()
                    return
                self._number += 1
                self._pending = line
            try:
                await self.handle_line(self._pending.rstrip("\r\n"), self._number)
            except EventNotHandled:
                raise  # the line is kept: handed again when the reader starts again
            except Exception:
                self._pending = None
                raise
            self._pending = None

    async def handle_line(self, line: str, number: int = 0) -> None:
        """Act on one line of the console syntax."""
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            return
        if stripped.startswith(":"):
            await self._directive(stripped[1:])
            return
        react = _REACT_RE.match(line)
        if react is not None:
            await self._react(react["name"], react["emoji"], int(react["back"] or 1), number)
            return
        match = _LINE_RE.match(line)
        if match is None:
            self.notice(f"line {number}: expected `name> text` (type :help for the syntax)")
            return
        name, arrow, text = match["name"], match["arrow"], match["text"]
        if not text.strip():
            return
        thread = reply_to = None
        if arrow != ">":
            if self.current_thread is None:
                self.notice(f"line {number}: there is no thread to reply in yet")
                return
            thread = self.current_thread
        if arrow == ">>>":
            reply_to = self._latest_in_thread(thread, excluding=self.user(name))
            if reply_to is None:
                self.notice(f"line {number}: nobody else has posted in the thread yet")
                return
        await self.post(name, text, thread=thread, reply_to=reply_to)

    async def _react(self, name: str, emoji: str, back: int, number: int) -> None:
        """``NAME>+N emoji``: react to the N-th latest message by someone else, here."""
        user = self.user(name)
        where = self.current_thread
        here = [
            p.ref
            for p in self.posted.values()
            if p.ref.thread == where and p.author.id != user.id and not p.deleted
        ]
        here += [
            s.ref
            for s in self.sent
            if s.where in ("channel", "thread") and s.ref.thread == where and not s.deleted
        ]
        # Members' posts and the bot's messages share one counter, the last part of their id.
        here.sort(key=lambda ref: int(ref.id.rsplit("-", 1)[-1]))
        if not 1 <= back <= len(here):
            self.notice(f"line {number}: there is no message {back} back to react to")
            return
        await self.add_reaction(name, here[-back], emoji)

    def _latest_in_thread(self, thread: ThreadRef | None, excluding: UserRef) -> MessageRef | None:
        for posted in reversed(self.posted.values()):
            if (
                posted.ref.thread == thread
                and posted.author.id != excluding.id
                and not posted.deleted
            ):
                return posted.ref
        return None

    async def _directive(self, text: str) -> None:
        word, _, argument = text.strip().partition(" ")
        word = word.lower()
        if word == "help":
            self._output.write(HELP + "\n")
        elif word == "now":
            self.notice(self.clock.now().isoformat(timespec="minutes"))
        elif word == "advance":
            if self._advance is None:
                self.notice(":advance needs the fake clock: start with --clock fake")
                return
            try:
                delta = parse_duration(argument)
            except ValueError as error:
                self.notice(str(error))
                return
            ran = await self._advance(delta)
            self.notice(
                f"advanced {argument.strip()} to {self.clock.now().isoformat(timespec='minutes')}"
                f" ({ran} job{'s' if ran != 1 else ''} ran)"
            )
        else:
            self.notice(f"unknown directive :{word} (type :help)")
