"""Tests for command specs: text parsing, value checks, usage lines, validation and help."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.commands import (
    Choice,
    CommandSpec,
    OptionSpec,
    OptionType,
    UsageError,
    coerce_options,
    describe,
    help_index,
    parse_arguments,
    split_arguments,
    split_path,
    usage,
    validate_spec,
)
from bot.i18n import translator
from bot.types import Role

EN = translator("en")
FR = translator("fr")

PROMPT = CommandSpec(("prompt",), "Show this week's prompt")
PROMPT_ADD = CommandSpec(
    ("prompt", "add"),
    "Add a prompt to the queue",
    options=(
        OptionSpec("text", "The question", required=True, rest=True, max_length=200),
        OptionSpec(
            "position", "Place in the queue", type=OptionType.INTEGER, min_value=1, max_value=10
        ),
        OptionSpec(
            "weight", "How much it counts", type=OptionType.NUMBER, min_value=0, max_value=1
        ),
        OptionSpec("anonymous", "Hide who asked", type=OptionType.BOOLEAN),
        OptionSpec(
            "kind",
            "Open or closed question",
            choices=(Choice("open", "Open"), Choice("closed", "Closed")),
        ),
    ),
)
PROMPT_REMOVE = CommandSpec(
    ("prompt", "remove"),
    "Remove a prompt",
    options=(OptionSpec("number", "Which prompt", type=OptionType.INTEGER, required=True),),
    role=Role.HOST,
)
DIGEST = CommandSpec(("digest",), "Post the digest now", role=Role.HOST)
SPECS = (PROMPT, PROMPT_ADD, PROMPT_REMOVE, DIGEST)

ADD_USAGE_EN = (
    "/prompt add <text> [position:<number>] [weight:<number>] "
    "[anonymous:<yes|no>] [kind:<open|closed>]"
)


def parse(text: str, spec: CommandSpec = PROMPT_ADD) -> dict[str, object]:
    return parse_arguments(spec, text)


def usage_error(text: str, spec: CommandSpec = PROMPT_ADD) -> UsageError:
    with pytest.raises(UsageError) as caught:
        parse_arguments(spec, text)
    return caught.value


# --- quotes, apostrophes and free text --------------------------------------------------


@pytest.mark.parametrize(
    "quoted",
    [
        '"Bonjour à tous, position:3 compris"',
        "'Bonjour à tous, position:3 compris'",
        "«Bonjour à tous, position:3 compris»",
        "“Bonjour à tous, position:3 compris”",
    ],
    ids=["double", "single", "guillemets", "curly"],
)
def test_every_kind_of_quote_delimits_a_value(quoted: str) -> None:
    values = parse(f"text:{quoted} position:2")
    # The option-looking words inside the quotes belong to the value.
    assert values["text"] == "Bonjour à tous, position:3 compris"
    assert values["position"] == 2


def test_french_apostrophes_in_free_text_are_not_quotes() -> None:
    question = "Comment l'usage des réseaux change-t-il aujourd'hui votre métier ?"
    assert parse(question)["text"] == question


def test_french_apostrophes_around_an_option() -> None:
    values = parse("l'usage d'internet position:4 c'est l'affaire de qui ?")
    assert values["text"] == "l'usage d'internet c'est l'affaire de qui ?"
    assert values["position"] == 4


def test_typographic_apostrophes_in_free_text() -> None:
    question = "L’usage des réseaux, qu’en pensez-vous ?"
    assert parse(question)["text"] == question


def test_multi_line_free_text_keeps_its_lines() -> None:
    text = "Première ligne\nDeuxième ligne\n\nNouveau paragraphe"
    values = parse(text + " position:3")
    assert values["text"] == text
    assert values["position"] == 3


def test_undeclared_option_is_plain_text() -> None:
    values = parse("foo:bar et la suite")
    assert values["text"] == "foo:bar et la suite"
    assert values["position"] is None


def test_declared_name_followed_by_a_space_is_plain_text() -> None:
    # ``position:`` with nothing after it is not a ``name:value`` pair: the words must stay.
    question = "Quelle est votre position: pour ou contre ?"
    values = parse(question)
    assert values["text"] == question
    assert values["position"] is None


def test_unset_options_are_none() -> None:
    assert parse("Une question") == {
        "text": "Une question",
        "position": None,
        "weight": None,
        "anonymous": None,
        "kind": None,
    }


def test_unclosed_quote_is_a_usage_error() -> None:
    error = usage_error('text:"jamais fermé position:2')
    assert "quote" in error.render(EN, "/")


def test_free_text_without_a_rest_option_is_not_understood() -> None:
    error = usage_error("number:2 and more", PROMPT_REMOVE)
    assert "and more" in error.render(EN, "/")


def test_a_single_word_is_the_one_required_option_left() -> None:
    # ``/prompt approve 3`` as hosts type it (and as the digest's note to hosts writes it).
    assert parse("2", PROMPT_REMOVE) == {"number": 2}


def test_a_single_word_is_not_understood_when_the_option_is_given() -> None:
    error = usage_error("number:2 3", PROMPT_REMOVE)
    assert "3" in error.render(EN, "/")


def test_a_single_word_still_goes_through_the_options_checks() -> None:
    error = usage_error("deux", PROMPT_REMOVE)
    assert "number" in error.render(EN, "/")


# --- usage errors and their rendering ----------------------------------------------------


def test_repeated_option_is_a_usage_error() -> None:
    error = usage_error("Une question position:1 position:2")
    rendered = error.render(EN, "/")
    assert "position" in rendered
    assert "twice" in rendered


def test_free_words_continue_a_rest_option_given_by_name() -> None:
    # ``/help command:prompt add`` means "prompt add".
    assert parse('text:"Une question" encore des mots')["text"] == "Une question encore des mots"
    assert parse("text:prompt add")["text"] == "prompt add"


def test_missing_required_option_renders_problem_and_usage_in_english() -> None:
    error = usage_error("position:2")
    rendered = error.render(EN, "/")
    assert rendered.splitlines() == [
        "The option text is required.",
        f"Usage: {ADD_USAGE_EN}",
    ]


def test_missing_required_option_renders_in_french() -> None:
    error = usage_error("position:2")
    rendered = error.render(FR, "!")
    lines = rendered.splitlines()
    assert lines[0] == "L’option texte est obligatoire."  # option names in French, too
    assert lines[1].startswith("Utilisation : !prompt add <texte>")
    assert "[position:<nombre>]" in lines[1]
    assert "[anonymous:<oui|non>]" in lines[1]
    assert "required" not in rendered
    assert "Usage" not in rendered


def test_required_option_given_empty_is_missing() -> None:
    with pytest.raises(UsageError) as caught:
        coerce_options(PROMPT_REMOVE, {"number": ""})
    assert caught.value.render(EN, "/").startswith("The option number is required.")


def test_unknown_native_option_is_refused() -> None:
    with pytest.raises(UsageError) as caught:
        coerce_options(PROMPT_REMOVE, {"number": 2, "colour": "red"})
    assert "colour" in caught.value.render(EN, "/")


# --- typed values -----------------------------------------------------------------------


@pytest.mark.parametrize("value", ["0", "11", "-3"])
def test_integer_out_of_range(value: str) -> None:
    error = usage_error(f"Q position:{value}")
    assert error.render(EN, "/").splitlines()[0] == "position must be between 1 and 10."
    assert error.render(FR, "/").splitlines()[0] == "position doit être compris entre 1 et 10."


@pytest.mark.parametrize("value", ["1", "10", "5"])
def test_integer_in_range(value: str) -> None:
    assert parse(f"Q position:{value}")["position"] == int(value)


@pytest.mark.parametrize("value", ["abc", "2.5", "deux"])
def test_integer_that_is_not_a_number(value: str) -> None:
    error = usage_error(f"Q position:{value}")
    assert error.render(EN, "/").splitlines()[0] == "position takes a number."


@pytest.mark.parametrize("value", ["-0.1", "1.5", "inf", "-inf"])
def test_number_out_of_range(value: str) -> None:
    error = usage_error(f"Q weight:{value}")
    assert error.render(EN, "/").splitlines()[0] == "weight must be between 0 and 1."


@pytest.mark.parametrize("value", ["nan", "NaN"])
def test_number_not_a_number_is_refused(value: str) -> None:
    # NaN is not between 0 and 1: a bounded number option must not accept it.
    with pytest.raises(UsageError):
        parse(f"Q weight:{value}")


def test_number_accepts_decimals() -> None:
    value = parse("Q weight:0.25")["weight"]
    assert isinstance(value, float)
    assert math.isclose(value, 0.25)


def test_range_with_one_open_end_is_rendered_with_an_ellipsis() -> None:
    spec = CommandSpec(
        ("wait",),
        "Wait",
        options=(OptionSpec("days", "How many", type=OptionType.INTEGER, min_value=1),),
    )
    with pytest.raises(UsageError) as caught:
        parse_arguments(spec, "days:0")
    assert caught.value.render(EN, "/").splitlines()[0] == "days must be between 1 and …."


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("yes", True),
        ("true", True),
        ("on", True),
        ("YES", True),
        ("oui", True),
        ("Oui", True),
        ("vrai", True),
        ("no", False),
        ("false", False),
        ("off", False),
        ("non", False),
        ("NON", False),
        ("faux", False),
    ],
)
def test_boolean_in_english_and_french(value: str, expected: bool) -> None:
    assert parse(f"Q anonymous:{value}")["anonymous"] is expected


def test_boolean_refuses_other_words() -> None:
    error = usage_error("Q anonymous:peut-être")
    assert error.render(EN, "/").splitlines()[0] == "anonymous takes yes or no."
    assert error.render(FR, "/").splitlines()[0] == "anonymous attend oui ou non."


def test_native_boolean_passes_through() -> None:
    assert coerce_options(PROMPT_ADD, {"text": "Q", "anonymous": False})["anonymous"] is False


def test_choices_accept_declared_values_only() -> None:
    assert parse("Q kind:closed")["kind"] == "closed"
    error = usage_error("Q kind:maybe")
    assert error.render(EN, "/").splitlines()[0] == "kind takes one of: open, closed."


def test_max_length_counts_characters() -> None:
    assert parse("é" * 200)["text"] == "é" * 200
    error = usage_error("é" * 201)
    assert (
        error.render(EN, "/").splitlines()[0] == "text is too long (201 characters, at most 200)."
    )
    french = error.render(FR, "/").splitlines()[0]
    assert french == "texte est trop long (201 caractères, 200 au plus)."


# --- finding the command ----------------------------------------------------------------


def test_split_path_prefers_the_longest_match() -> None:
    found = split_path("prompt add Une question position:2", SPECS)
    assert found is not None
    spec, arguments = found
    assert spec is PROMPT_ADD
    assert arguments == "Une question position:2"


def test_split_path_falls_back_to_the_shorter_command() -> None:
    found = split_path("prompt addition", SPECS)
    assert found is not None
    assert found[0] is PROMPT
    assert found[1] == "addition"
    only = split_path("prompt", SPECS)
    assert only is not None
    assert only == (PROMPT, "")


def test_split_path_ignores_case_and_keeps_argument_lines() -> None:
    found = split_path("Prompt ADD ligne un\nligne deux", SPECS)
    assert found is not None
    assert found[0] is PROMPT_ADD
    assert found[1] == "ligne un\nligne deux"


def test_split_path_unknown_command() -> None:
    assert split_path("promptx add", SPECS) is None
    assert split_path("", SPECS) is None


# --- usage and help ---------------------------------------------------------------------


def test_usage_exact_in_english() -> None:
    assert usage(PROMPT_ADD, EN) == ADD_USAGE_EN
    assert usage(PROMPT_REMOVE, EN, "!") == "!prompt remove number:<number>"
    assert usage(PROMPT, EN) == "/prompt"


def test_usage_exact_in_french() -> None:
    assert usage(PROMPT_ADD, FR, "!") == (
        "!prompt add <texte> [position:<nombre>] [weight:<nombre>] "
        "[anonymous:<oui|non>] [kind:<open|closed>]"
    )


def test_describe_lists_options_and_host_notice() -> None:
    text = describe(PROMPT_REMOVE, FR, "!")
    assert text.splitlines()[0] == "`!prompt remove number:<nombre>`"
    assert "• `number` (obligatoire) : which prompt" in text
    assert text.splitlines()[-1] == "Réservé aux hôtes."
    assert "hosts only" not in describe(PROMPT_ADD, EN)


def test_help_index_hides_host_commands_from_members() -> None:
    text = help_index(SPECS, EN, "/", Role.MEMBER)
    assert "`/prompt add`" in text
    assert "`/prompt` — Show this week's prompt" in text
    assert "prompt remove" not in text
    assert "digest" not in text
    assert "Host commands" not in text


def test_help_index_shows_host_commands_to_hosts() -> None:
    text = help_index(SPECS, EN, "/", Role.HOST)
    lines = text.splitlines()
    host_header = lines.index("**Host commands**")
    assert lines.index("`/prompt add` — Add a prompt to the queue") < host_header
    assert lines.index("`/digest` — Post the digest now") > host_header
    assert lines.index("`/prompt remove` — Remove a prompt") > host_header


def test_help_index_in_french() -> None:
    text = help_index(SPECS, FR, "!", Role.HOST)
    assert text.startswith("**Commandes**")
    assert "**Commandes des hôtes**" in text
    assert "`!prompt add`" in text
    assert text.endswith("Détails : `!help <commande>`")


def test_help_index_in_english_names_its_placeholder_in_english() -> None:
    assert help_index(SPECS, EN, "/", Role.MEMBER).endswith("Details: `/help <command>`")


# --- spec validation --------------------------------------------------------------------


def options(count: int) -> tuple[OptionSpec, ...]:
    return tuple(OptionSpec(f"o{i}", "An option") for i in range(count))


def test_valid_specs_have_no_problems() -> None:
    for spec in SPECS:
        assert validate_spec(spec) == []
    assert validate_spec(CommandSpec(("a" * 32,), "d" * 100, options=options(25))) == []


@pytest.mark.parametrize(
    ("spec", "fragment"),
    [
        (CommandSpec(("Prompt",), "Show"), "not a valid command name"),
        (CommandSpec(("prompt", "Add"), "Add"), "not a valid command name"),
        (CommandSpec(("a" * 33,), "Show"), "not a valid command name"),
        (CommandSpec(("prompt\n",), "Show"), "not a valid command name"),
        (CommandSpec(("prompt",), "d" * 101), "description must be"),
        (CommandSpec(("prompt",), ""), "description must be"),
        (CommandSpec(("a", "b", "c"), "Three words"), "one or two words"),
        (CommandSpec(("prompt",), "Show", options=options(26)), "more than 25 options"),
        (
            CommandSpec(
                ("prompt",),
                "Show",
                options=(OptionSpec("a", "A"), OptionSpec("b", "B", required=True)),
            ),
            "required option b after optional",
        ),
        (
            CommandSpec(
                ("prompt",),
                "Show",
                options=(OptionSpec("a", "A", rest=True), OptionSpec("b", "B", rest=True)),
            ),
            "more than one free-text option",
        ),
        (
            CommandSpec(("prompt",), "Show", options=(OptionSpec("a", "A"), OptionSpec("a", "B"))),
            "share a name",
        ),
        (
            CommandSpec(("prompt",), "Show", options=(OptionSpec("Texte", "A"),)),
            "option 'Texte' is not a valid name",
        ),
        (
            CommandSpec(("prompt",), "Show", options=(OptionSpec("a", "x" * 101),)),
            "option a description must be",
        ),
        (
            CommandSpec(
                ("prompt",),
                "Show",
                options=(OptionSpec("n", "N", type=OptionType.INTEGER, rest=True),),
            ),
            "must be a string",
        ),
    ],
    ids=[
        "uppercase",
        "uppercase-sub",
        "33-chars",
        "trailing-newline",
        "long-description",
        "empty-description",
        "three-words",
        "26-options",
        "required-after-optional",
        "two-rest",
        "duplicate-option",
        "uppercase-option",
        "long-option-description",
        "integer-rest",
    ],
)
def test_validate_spec_catches(spec: CommandSpec, fragment: str) -> None:
    problems = validate_spec(spec)
    assert any(fragment in problem for problem in problems), problems


# --- properties -------------------------------------------------------------------------

_TOKENS = st.one_of(
    st.text(max_size=12),
    st.sampled_from(
        [
            "text:",
            "position:",
            "weight:",
            "anonymous:",
            "kind:",
            "foo:",
            '"',
            "'",
            "«",
            "»",
            "“",
            "”",
            "l'usage",
            "\n",
            "oui",
            "nan",
            "1e999",
            "9" * 5000,
        ]
    ),
)


@settings(max_examples=150, deadline=None)
@given(st.one_of(st.text(), st.lists(_TOKENS, max_size=12).map(" ".join)))
def test_parse_arguments_returns_values_or_usage_error(text: str) -> None:
    try:
        values = parse_arguments(PROMPT_ADD, text)
    except UsageError as error:
        # Every error must also render, in both languages.
        assert error.render(EN, "/")
        assert error.render(FR, "!")
    else:
        assert isinstance(values, dict)
        assert set(values) == {o.name for o in PROMPT_ADD.options}


@settings(max_examples=100, deadline=None)
@given(st.text())
def test_free_text_alone_is_kept_whole(text: str) -> None:
    only_text = CommandSpec(("say",), "Say", options=(OptionSpec("text", "T", rest=True),))
    try:
        raw = split_arguments(only_text, text)
    except UsageError:
        # Only a ``text:`` followed by an unclosed quote may fail.
        assert "text:" in text
        return
    if "text:" not in text:
        assert raw.get("text", "") == text.strip()
