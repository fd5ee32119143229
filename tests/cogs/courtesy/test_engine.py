"""The rules engine: evasion families, innocent words, cues, personal details, stateful rules."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from cogs.courtesy.engine import MASK, Engine, evaluate, redact
from cogs.courtesy.rules import Action, Category, build_settings

NOW = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


# ------------------------------------------------------------------ evasion families


@pytest.mark.parametrize(
    ("family", "text", "rule"),
    [
        ("plain", "Quel connard.", "insult.strong"),
        ("leetspeak", "t'es un c0nn4rd", "insult.strong"),
        ("leetspeak symbols", "what an a$$hole", "insult.strong"),
        ("leetspeak i/l", "you d1ckhead", "insult.strong"),
        ("mask", "f*ck this", "profanity"),
        ("mask", "bordel de m*rde", "profanity"),
        ("spacing", "c o n n a r d", "insult.strong"),
        ("spacing", "f u c k you", "insult.strong"),
        ("separators", "a.s.s.h.o.l.e", "insult.strong"),
        ("separators", "s_h_i_t", "profanity"),
        ("cut word", "fu-ck off", "insult.strong"),
        ("repeated letters", "connnnnnard", "insult.strong"),
        ("repeated letters", "fuuuuuck", "profanity"),
        ("zero-width", "en\u200bculé", "insult.strong"),
        ("zero-width", "fu\u200bck off", "insult.strong"),
        ("homoglyphs", "соnnаrd", "insult.strong"),
        ("homoglyphs", "you іdіоt", "insult.directed"),
        ("full-width", "ｆｕｃｋ you", "insult.strong"),
        ("accents stripped", "encule", "insult.strong"),
        ("accents added", "cönnärd", "insult.strong"),
        ("capitals", "ENCULÉ", "insult.strong"),
        ("abbreviation", "fdp", "insult.strong"),
        ("abbreviation", "ptn j'en ai marre", "profanity"),
    ],
)
def test_every_evasion_family_is_caught(family: str, text: str, rule: str) -> None:
    decision = evaluate(text)
    assert decision.rule == rule, (family, decision.reasons)
    assert decision.acted


@pytest.mark.parametrize(
    "text",
    [
        "Our assistance team answers in the evening.",
        "Le concours de l'internat a lieu en juin.",
        "J'ai fait sa connaissance au congrès.",
        "I grew up in Scunthorpe.",
        "Let's grab a cocktail after the conference.",
        "Je bosse dans le bâtiment depuis vingt ans.",
        "Une gerbe de fleurs pour la cérémonie.",
        "Nous sommes dans un cul-de-sac.",
        "Our class assignment covers Dickens.",
        "The pilot ran the cockpit checklist.",
        "Hancock and Cockburn co-authored that paper.",
        "I photographed a great tit this morning.",
        "Les salopettes des ouvriers sont neuves.",
        "La putréfaction des feuilles enrichit le sol.",
        "Nous avons bu un verre à Bitche, en Moselle.",
        "La chatte de ma voisine a eu quatre chatons.",
        "The pros and cons of remote work.",
        "He plays a con artist in the film.",
        "Grab a bite to eat before the talk.",
        "Le train a du retard ce matin.",
        "Je suis crevé après cette garde.",
        "La mise en demeure est partie.",
        "Il faut tuer le processus pour relancer le serveur.",
        "Killing the process fixed the memory leak.",
        "I'll shoot you an email tomorrow.",
        "I'll beat you at chess.",
        "I would never hurt you.",
        "Je me suis cassé la gueule dans l'escalier.",
        "Tu vas mourir de rire.",
        "Je vais te retrouver à la gare.",
        "Les étrangers sont les bienvenus.",
        "Winners and losers of the reform.",
        "Scope creep killed the project.",
        "Le risque est nul, je ne le trouve nulle part.",
        "Il a commandé un pain bâtard.",
        "The meeting is at 14:30 on 2024-03-15 in room 101.",
        "Le projet coûte 12 345 678 euros sur trois ans.",
        "La réunion est le 12/03 à 14h30, salle 204.",
        "Il reste 1 place de parking.",
    ],
)
def test_innocent_text_passes(text: str) -> None:
    decision = evaluate(text)
    assert decision.action is Action.ALLOW, decision.reasons


# ------------------------------------------------------------------ cues and context


@pytest.mark.parametrize(
    ("text", "rule"),
    [
        ("Sale con.", "insult.ambiguous"),
        ("Espèce de petite bite", "insult.ambiguous"),
        ("Don't be such a dick.", "insult.ambiguous"),
        ("Only a retard would say that.", "insult.ambiguous"),
        ("T'es qu'un idiot.", "insult.directed"),
        ("What a moron.", "insult.directed"),
        ("Les ingénieurs sont tous des débiles.", "insult.directed"),
        ("Idiot !", "insult.directed"),
    ],
)
def test_words_count_as_insults_after_a_cue(text: str, rule: str) -> None:
    assert evaluate(text).rule == rule


def test_a_mild_word_without_a_cue_is_only_rude() -> None:
    decision = evaluate("He said something idiotic about the moron in the film.")
    assert decision.category is Category.RUDE
    assert decision.action is Action.NUDGE


def test_innocent_words_of_one_language_need_the_cue_of_their_own() -> None:
    assert evaluate("you con").action is Action.ALLOW  # "con" is a French insult
    assert evaluate("sale con").category is Category.INSULT
    assert evaluate("you bite").action is Action.ALLOW


def test_a_known_message_language_silences_the_other_languages_innocent_words() -> None:
    assert evaluate("Only a retard would say that.", "en").acted
    assert not evaluate("Only a retard would say that.", "fr").acted


def test_a_phrase_decides_over_the_words_inside_it() -> None:
    decision = evaluate("You kick ass at this")
    assert decision.category is Category.PROFANITY  # not "ass" as an insult


def test_threats_are_held_for_a_host() -> None:
    for text in ("I'm going to kill you", "Kill yourself.", "Je vais te défoncer.", "kys"):
        decision = evaluate(text)
        assert (decision.action, decision.category) == (Action.HOLD, Category.THREAT), text


def test_hate_against_a_group() -> None:
    assert evaluate("Muslims are vermin").category is Category.HATE
    assert evaluate("mort aux juifs").category is Category.HATE
    assert evaluate("sale pd").category is Category.HATE


@pytest.mark.parametrize(
    "text",
    [
        "Shut up, nobody asked you.",
        "Typical lawyer, always twisting words.",
        "Occupe-toi de tes oignons.",
        "T'es vraiment nul en argumentation.",
        "tg",
    ],
)
def test_rude_phrasing_is_only_nudged(text: str) -> None:
    decision = evaluate(text)
    assert (decision.action, decision.category) == (Action.NUDGE, Category.RUDE)
    assert decision.strikes == 0


def test_reasons_explain_the_decision() -> None:
    decision = evaluate("Ta gueule, connard.")
    assert decision.rule == "insult.strong"
    assert decision.reasons[0].excerpt == "connard"
    assert {r.rule for r in decision.reasons} == {"insult.strong", "rude.dismissive"}
    cued = evaluate("Quel abruti").reasons[0]
    assert (cued.term, cued.cue) == ("abruti", "quel")


# ------------------------------------------------------------------ personal details


@pytest.mark.parametrize(
    ("text", "number"),
    [
        ("Appelez-moi au 06 12 34 56 78.", "06 12 34 56 78"),
        ("Tél. 01.23.45.67.89 (bureau)", "01.23.45.67.89"),
        ("Mon numéro : +33 6 12 34 56 78", "+33 6 12 34 56 78"),
        ("Bel me: 0470 12 34 56", "0470 12 34 56"),
        ("Belgique : +32 470 12 34 56", "+32 470 12 34 56"),
        ("Natel 079 123 45 67", "079 123 45 67"),
        ("Suisse +41 79 123 45 67", "+41 79 123 45 67"),
        ("Montréal: (514) 555-0123", "(514) 555-0123"),
        ("UK mobile 07700 900123.", "07700 900123"),
        ("London office 020 7946 0958", "020 7946 0958"),
        ("Call me at +1 415-555-0134 after 6pm.", "+1 415-555-0134"),
        ("Toll free 1-800-555-0199", "1-800-555-0199"),
        ("0033 6 12 34 56 78 depuis l'étranger", "0033 6 12 34 56 78"),
    ],
)
def test_phone_numbers_are_redacted(text: str, number: str) -> None:
    decision = evaluate(text)
    assert (decision.action, decision.rule) == (Action.REDACT, "pii.phone")
    start = text.index(number)
    expected = text[:start] + redact(number, [(0, len(number))]) + text[start + len(number) :]
    assert decision.redacted_text == expected


@pytest.mark.parametrize(
    ("text", "address"),
    [
        ("Mail me: john.doe@example.com!", "john.doe@example.com"),
        ("Contact: j.doe [at] example [dot] com", "j.doe [at] example [dot] com"),
        ("paul.martin (at) gmail (dot) com", "paul.martin (at) gmail (dot) com"),
        ("écris à marie arobase orange point fr", "marie arobase orange point fr"),
        ("bob at gmail dot com", "bob at gmail dot com"),
        ("jean(at)laposte(dot)net", "jean(at)laposte(dot)net"),
    ],
)
def test_email_addresses_are_redacted(text: str, address: str) -> None:
    decision = evaluate(text)
    assert decision.rule == "pii.email"
    assert decision.redacted_text is not None
    start = text.index(address)
    masked = decision.redacted_text[start : start + len(address)]
    assert set(masked.replace(" ", "")) == {MASK}
    assert decision.redacted_text[:start] == text[:start]


@pytest.mark.parametrize(
    "address",
    [
        "12 rue de la Paix, 75002 Paris",
        "3 bis avenue Foch",
        "Rue de la Loi 16, 1000 Bruxelles",
        "221B Baker Street, London NW1 6XE",
        "1600 Pennsylvania Avenue NW, Washington, DC 20500",
    ],
)
def test_postal_addresses_are_redacted(address: str) -> None:
    text = f"Venez au {address} demain"
    decision = evaluate(text)
    assert decision.rule == "pii.address"
    assert decision.redacted_text == text.replace(address, redact(address, [(0, len(address))]))


def test_an_iban_is_redacted_as_a_bank_account() -> None:
    iban = "FR76 3000 6000 0112 3456 7890 189"
    text = f"Pour le remboursement, mon IBAN : {iban}"
    decision = evaluate(text)
    assert decision.rule == "pii.iban"
    assert decision.redacted_text == text.replace(iban, redact(iban, [(0, len(iban))]))


def test_redaction_masks_only_the_personal_details() -> None:
    text = "Écris-moi : ｍarie@orange.fr ou au 06\u200b12 34 56 78, merci !"
    decision = evaluate(text)
    assert decision.redacted_text is not None
    assert decision.redacted_text.startswith("Écris-moi : ")
    assert decision.redacted_text.endswith(", merci !")
    assert "marie" not in decision.redacted_text and "56" not in decision.redacted_text
    assert len(decision.redacted_text) == len(text)


def test_an_insult_next_to_a_phone_number_is_hidden_and_still_masked() -> None:
    decision = evaluate("connard, appelle le 06 12 34 56 78")
    assert decision.action is Action.HIDE
    assert decision.redacted_text is not None and "06" not in decision.redacted_text


def test_words_inside_an_email_are_not_insults() -> None:
    decision = evaluate("write to connard@example.com")
    assert decision.rule == "pii.email"


# ------------------------------------------------------------------ stateful rules


def test_flooding_is_warned() -> None:
    engine = Engine()
    activity = engine.new_activity()
    decisions = [
        engine.evaluate(
            f"message {i}", author="ana", now=NOW + timedelta(seconds=i), activity=activity
        )
        for i in range(8)
    ]
    assert [d.action for d in decisions[:6]] == [Action.ALLOW] * 6
    assert decisions[6].rule == "flood.rate" and decisions[6].action is Action.WARN
    later = engine.evaluate("calm", author="ana", now=NOW + timedelta(minutes=5), activity=activity)
    assert later.action is Action.ALLOW


def test_repeated_identical_messages_are_hidden() -> None:
    engine = Engine()
    activity = engine.new_activity()
    texts = ["Buy my course!", "buy my COURSE", "Buy   my course !!"]
    decisions = [
        engine.evaluate(t, author="bob", now=NOW + timedelta(minutes=i), activity=activity)
        for i, t in enumerate(texts)
    ]
    assert [d.rule for d in decisions] == [None, None, "flood.repeat"]
    other = engine.evaluate("Buy my course!", author="cy", now=NOW, activity=activity)
    assert other.action is Action.ALLOW  # per member


def test_mass_mentions_are_hidden() -> None:
    assert evaluate("hello @everyone").rule == "mentions.mass"
    assert evaluate("<@1> <@2> <@3> <@4> <@5> look").rule == "mentions.mass"
    assert evaluate("thanks <@1> and <@2>").action is Action.ALLOW


def test_links_from_newcomers_are_held() -> None:
    text = "great deals at https://spam.example/promo"
    newcomer = evaluate(text, now=NOW, joined_at=NOW - timedelta(hours=1))
    assert (newcomer.action, newcomer.rule) == (Action.HOLD, "spam.link")
    regular = evaluate(text, now=NOW, joined_at=NOW - timedelta(days=30))
    assert regular.action is Action.ALLOW
    many = " ".join(f"https://site{i}.example/x" for i in range(4))
    assert evaluate(many).rule == "spam.link"


# ------------------------------------------------------------------ rules as data


def test_rule_actions_are_overridable() -> None:
    engine = Engine(build_settings({"rules": {"profanity": {"action": "allow"}}}))
    assert engine.evaluate("Merde, le serveur est tombé.").action is Action.ALLOW
    strict = Engine(
        build_settings({"rules": {"rude.dismissive": {"action": "warn", "strikes": 1}}})
    )
    decision = strict.evaluate("Shut up.")
    assert (decision.action, decision.strikes) == (Action.WARN, 1)


def test_a_circle_allow_list_lets_jargon_through() -> None:
    assert evaluate("Le con de la voile").action is Action.ALLOW
    assert evaluate("sale con").acted
    engine = Engine(build_settings({"allow": {"words": ["sale con"]}}))
    assert engine.evaluate("le pressing, c'est pour le linge sale con le sait").action is (
        Action.ALLOW
    )


def test_a_circle_can_add_its_own_words() -> None:
    engine = Engine(build_settings({"words": {"insult.strong": ["foobarbaz"]}}))
    assert engine.evaluate("t'es un f00barbaz").rule == "insult.strong"
    assert evaluate("t'es un foobarbaz").action is Action.ALLOW


def test_a_decision_serialises_for_the_batch_tool() -> None:
    assert evaluate("Bonjour").as_json() == {"action": "allow", "category": "ok", "rule": None}
    data = evaluate("06 12 34 56 78").as_json()
    assert data["action"] == "redact" and data["redacted_text"] == "•• •• •• •• ••"
