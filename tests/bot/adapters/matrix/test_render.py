"""The Matrix renderer stays bounded and well formed whatever the text."""

from __future__ import annotations

from html.parser import HTMLParser

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.adapters.matrix.render import MAX_LABEL, MAX_QUOTE_DEPTH, to_html, to_plain

ALLOWED = {"blockquote", "ul", "li", "br", "strong", "em", "del", "code", "a"}


class Tags(HTMLParser):
    """Checks that only allowed tags appear and that they nest properly; keeps the text."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.open: list[str] = []
        self.text: list[str] = []
        self.seen: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.seen.add(tag)
        if tag != "br":
            self.open.append(tag)

    def handle_endtag(self, tag: str) -> None:
        assert self.open and self.open[-1] == tag, (self.open, tag)
        self.open.pop()

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def parse(rendered: str) -> Tags:
    tags = Tags()
    tags.feed(rendered)
    tags.close()
    assert not tags.open
    assert tags.seen <= ALLOWED
    return tags


def test_thousands_of_quote_marks_nest_to_the_bound_and_keep_the_rest_as_text() -> None:
    rendered = to_html(">" * 3000 + " deep")
    assert rendered.count("<blockquote>") == MAX_QUOTE_DEPTH
    text = "".join(parse(rendered).text)
    assert text == ">" * (3000 - MAX_QUOTE_DEPTH) + " deep"
    assert to_plain(">" * 3000) == ">" * 3000


def test_quotes_within_the_bound_render_as_before() -> None:
    assert to_html("> a\n>> b\n> c\nd") == (
        "<blockquote>a<br><blockquote>b</blockquote>c</blockquote>d"
    )
    assert to_html("> " * MAX_QUOTE_DEPTH + "x").count("<blockquote>") == MAX_QUOTE_DEPTH


def test_an_overlong_label_is_text_not_a_link() -> None:
    label = "a" * (MAX_LABEL + 1)
    rendered = to_html(f"[{label}](https://example.org)")
    assert "<a " not in rendered and label in rendered
    assert '<a href="https://example.org">ok</a>' in to_html("[ok](https://example.org)")


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from([*'>-*_~`[]()\\ \n!#ab<&"', "https://"])).map("".join))
def test_any_text_gives_well_formed_html_with_the_allowed_tags_only(text: str) -> None:
    parse(to_html(text))
    to_plain(text)
