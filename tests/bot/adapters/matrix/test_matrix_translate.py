"""Pure parts of the Matrix adapter: Markdown rendering and event translation (no server)."""

from __future__ import annotations

from typing import Any

from bot.adapters.matrix.events import (
    Reaction,
    is_own_join,
    privileged_creators,
    strip_reply_fallback,
    translate,
)
from bot.adapters.matrix.render import to_html, to_plain
from bot.messenger import escape, quote
from bot.types import (
    ChannelRef,
    MessageDeleted,
    MessageEdited,
    MessagePosted,
    ReactionAdded,
    ReactionRemoved,
    UserRef,
)

ROOM = ChannelRef("matrix", "!room:localhost", name="Cercle")


def user(user_id: str) -> UserRef:
    return UserRef("matrix", user_id, user_id[1:4])


def event(kind: str, content: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {
        "type": kind,
        "event_id": "$e1",
        "sender": "@ana:localhost",
        "origin_server_ts": 1_767_600_000_000,
        "content": content,
        **extra,
    }


def no_reaction(_event_id: str) -> Reaction | None:
    return None


def test_markdown_becomes_sanitised_html_and_plain_text() -> None:
    text = "**Circle #1** — _week_ `!answer`\n- one\n- two\n> quoted <b>\n[site](https://x.org)"
    assert to_html(text) == (
        "<strong>Circle #1</strong> — <em>week</em> <code>!answer</code><br>"
        "<ul><li>one</li><li>two</li></ul><blockquote>quoted &lt;b&gt;</blockquote>"
        '<a href="https://x.org">site</a>'
    )
    assert to_plain(text).splitlines()[0] == "Circle #1 — week !answer"


def test_member_text_echoed_by_the_bot_cannot_inject_markup() -> None:
    hostile = "<img src=x onerror=alert(1)> **bold** [x](javascript:alert(1)) `code`"
    rendered = to_html(quote(hostile))
    assert "<img" not in rendered and "<strong>" not in rendered and "<a " not in rendered
    assert to_plain(escape("a_b_c *d*")) == "a_b_c *d*"


def test_thread_answer_comment_edit_reaction_and_redaction() -> None:
    in_thread = {"rel_type": "m.thread", "event_id": "$root", "is_falling_back": True}
    posted = translate(
        event("m.room.message", {"msgtype": "m.text", "body": "hi", "m.relates_to": in_thread}),
        ROOM,
        user,
        no_reaction,
    )
    assert isinstance(posted, MessagePosted)
    assert posted.message.thread is not None and posted.message.thread.id == "$root"
    assert posted.reply_to is None  # a thread's fallback reply is not a reply
    comment = translate(
        event(
            "m.room.message",
            {
                "msgtype": "m.text",
                "body": "> <@ben:localhost> hi\n\nagreed",
                "m.relates_to": {
                    **in_thread,
                    "is_falling_back": False,
                    "m.in_reply_to": {"event_id": "$a"},
                },
            },
        ),
        ROOM,
        user,
        no_reaction,
    )
    assert isinstance(comment, MessagePosted)
    assert comment.reply_to is not None and comment.reply_to.id == "$a"
    assert comment.text == "agreed"
    edit = translate(
        event(
            "m.room.message",
            {
                "msgtype": "m.text",
                "body": "* new",
                "m.new_content": {"msgtype": "m.text", "body": "new"},
                "m.relates_to": {"rel_type": "m.replace", "event_id": "$a"},
            },
        ),
        ROOM,
        user,
        no_reaction,
    )
    assert isinstance(edit, MessageEdited) and edit.message.id == "$a" and edit.text == "new"
    reaction = translate(
        event(
            "m.reaction",
            {"m.relates_to": {"rel_type": "m.annotation", "event_id": "$a", "key": "👍"}},
        ),
        ROOM,
        user,
        no_reaction,
    )
    assert isinstance(reaction, ReactionAdded) and reaction.emoji == "👍"
    deleted = translate(event("m.room.redaction", {"redacts": "$a"}), ROOM, user, no_reaction)
    assert isinstance(deleted, MessageDeleted) and deleted.message.id == "$a"
    taken_back = translate(
        event("m.room.redaction", {}, redacts="$r"),  # room versions < 11 put it at the top
        ROOM,
        user,
        lambda _id: Reaction(ROOM.id, "$a", "@ana:localhost", "👍"),
    )
    assert isinstance(taken_back, ReactionRemoved) and taken_back.message.id == "$a"


def test_bot_notices_and_other_events_mean_nothing() -> None:
    notice = event("m.room.message", {"msgtype": "m.notice", "body": "from a bot"})
    assert translate(notice, ROOM, user, no_reaction) is None
    assert translate(event("m.room.topic", {"topic": "x"}), ROOM, user, no_reaction) is None


def test_own_join_and_room_creators() -> None:
    join = event("m.room.member", {"membership": "join"}, state_key="@bot:localhost")
    assert is_own_join(join, "@bot:localhost")
    rename = {**join, "unsigned": {"prev_content": {"membership": "join"}}}
    assert not is_own_join(rename, "@bot:localhost")
    v12 = event("m.room.create", {"room_version": "12", "additional_creators": ["@b:x"]})
    assert privileged_creators(v12) == {"@ana:localhost", "@b:x"}
    assert privileged_creators(event("m.room.create", {"room_version": "10"})) == frozenset()
    assert strip_reply_fallback("plain") == "plain"


def test_dev_matrix_is_a_subcommand() -> None:
    from bot.cli import build_parser

    args = build_parser().parse_args(["dev-matrix", "--locale", "en", "--port", "8448"])
    assert (args.command, args.locale, args.port) == ("dev-matrix", "en", 8448)
