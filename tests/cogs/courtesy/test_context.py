"""Who a harsh word is aimed at: quoting a harasser, oneself, a piece of software."""

from __future__ import annotations

import pytest

from cogs.courtesy.engine import Engine
from cogs.courtesy.rules import Action, build_settings


@pytest.fixture(scope="module")
def rules() -> Engine:
    """The word rules and the context, without the semantic layer (what context changes)."""
    return Engine(build_settings({"semantic": {"enabled": False}}))


@pytest.mark.parametrize(
    "text",
    [
        "Hier en réunion un client m'a traité de connard devant toute l'équipe, je fais quoi ?",
        "Sous ma publication quelqu'un a écrit « espèce d'abrutie », je signale ou j'ignore ?",
        "A patient called me a stupid bitch during my shift, how do you all cope with that?",
        "Someone left the comment 'you worthless idiot' under our clinic's post.",
        "Rappel : traiter quelqu'un de « sale con » en public, c'est une injure punie par la loi.",
        "The charter bans words like 'moron' when they target a member; please report them.",
    ],
)
def test_quoted_abuse_reported_by_its_victim_is_allowed_and_report_is_offered(
    rules: Engine, text: str
) -> None:
    decision = rules.evaluate(text)
    assert decision.action is Action.ALLOW, decision.reasons
    assert decision.reported


@pytest.mark.parametrize(
    "text",
    [
        "Tu es vraiment un « génie », toi, un vrai connard.",
        "You're a 'professional', sure, you absolute idiot.",
        "Espèce de crétin, t'as encore cassé la prod.",
    ],
)
def test_insults_said_to_someone_still_act_even_with_quotation_marks(
    rules: Engine, text: str
) -> None:
    assert rules.evaluate(text).acted


@pytest.mark.parametrize(
    "text",
    [
        "Je suis vraiment trop conne, j'ai oublié le rendez-vous de 14 h.",
        "I'm such an idiot, I sent the invoice to the wrong client.",
        "What a muppet, I locked my keys in the van again.",
        "Quel idiot, j'ai répondu dans le mauvais fil.",
    ],
)
def test_insults_about_oneself_are_allowed(rules: Engine, text: str) -> None:
    assert rules.evaluate(text).action is Action.ALLOW


@pytest.mark.parametrize(
    "text",
    [
        "Ce logiciel de facturation est une vraie daube depuis la mise à jour.",
        "LinkedIn's algorithm is garbage, it only shows sponsored posts now.",
        "Franchement le nouveau portail RH est débile, trois clics pour un congé.",
    ],
)
def test_harsh_words_about_platforms_and_tools_are_allowed(rules: Engine, text: str) -> None:
    assert rules.evaluate(text).action is Action.ALLOW


@pytest.mark.parametrize(
    "text",
    [
        "Putain, ce logiciel a encore planté pendant la démo.",
        "Ce logiciel est une vraie merde depuis la mise à jour.",
        "Fucking hell, the server is down again.",
        "Ton logiciel est nul et toi aussi, t'es débile.",
    ],
)
def test_swearing_or_insults_next_to_a_thing_still_count(rules: Engine, text: str) -> None:
    assert rules.evaluate(text).acted
