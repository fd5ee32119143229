"""Any round's answers give a digest that renders within every platform's limits."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.adapters.memory import MemoryPlatform
from bot.clock import FakeClock
from bot.i18n import translator
from bot.messenger import Messenger
from bot.testing import DEFAULT_START, PROFILES
from cogs.digest import analysis as an
from cogs.digest import clustering, model, render

PROFESSIONS = ["nurse", "architect", "software-developer", "lawyer", "farmer"]
_FR = "réseaux clients outils temps formation confiance manque déçu visibilité"
_EN = "networks clients tools time training trust missing disappointed visibility"
_ODD = ["@everyone", "**gras**", "```", "<@&1>", "\u202e", "\x00", "🧑\u200d⚕️"]
WORDS = st.sampled_from([*_FR.split(" "), *_EN.split(" "), *_ODD])
ANSWER = st.lists(WORDS, min_size=1, max_size=60).map(" ".join) | st.text(max_size=400)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    texts=st.lists(st.tuples(st.sampled_from(PROFESSIONS), ANSWER), min_size=1, max_size=25),
    profile=st.sampled_from(sorted(PROFILES)),
    locale=st.sampled_from(["fr", "en"]),
)
def test_any_answers_render_within_limits(
    texts: list[tuple[str, str]], profile: str, locale: str, encoder: model.Encoder
) -> None:
    answers = [
        model.AnswerIn(str(i), profession, text, author=f"a{i % 7}")
        for i, (profession, text) in enumerate(texts)
    ]
    vectors, _new = clustering.embed_answers(answers, encoder=encoder)
    digest = an.analyse("Une question ?", answers, vectors, locale=locale)
    t = translator(locale)
    caps = PROFILES[profile]
    messenger = Messenger(MemoryPlatform(FakeClock(DEFAULT_START), capabilities=caps))
    for content in render.contents(digest, t, caps, title="Synthèse", chart=b"\x89PNG"):
        for part in messenger.prepare(content):
            assert len(part.text) <= caps.max_message_length
            if part.card is not None:
                assert len(part.card.body) <= render.EMBED_DESCRIPTION
    markdown = render.markdown(digest, t, title="Synthèse")
    assert "@everyone" not in markdown  # member text is escaped, never a mass ping
