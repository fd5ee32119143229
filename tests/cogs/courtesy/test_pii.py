"""Personal details as members really write them: spelled, spaced, in every address format."""

from __future__ import annotations

import pytest

from cogs.courtesy.engine import MASK, evaluate, redact
from cogs.courtesy.normalize import light
from cogs.courtesy.pii import personal_details


def masked(text: str) -> str:
    """``text`` with every personal detail found in it masked, as the engine masks it."""
    lit = light(text)
    return redact(text, [lit.span(f.start, f.end) for f in personal_details(lit.text)])


def expected(text: str, detail: str) -> str:
    start = text.index(detail)
    return text[:start] + redact(detail, [(0, len(detail))]) + text[start + len(detail) :]


def kinds(text: str) -> list[str]:
    return [found.kind for found in personal_details(light(text).text)]


# ------------------------------------------------------------------ phone numbers

SPELLED_PHONES = [
    # French, read out in pairs
    (
        "appelle-moi au zéro six, douze, trente-quatre, cinquante-six, soixante-dix-huit merci",
        "zéro six, douze, trente-quatre, cinquante-six, soixante-dix-huit",
    ),
    ("mon portable : zero sept quatre-vingt-dix-neuf dix-sept onze quarante", None),
    ("Zéro un, quarante-deux, soixante et onze, quatre-vingts, vingt et un. À plus", None),
    # Belgian and Swiss tens
    ("mon gsm : zéro quatre septante-deux, nonante-neuf, douze, trente et un, ok ?", None),
    ("Natel : zéro septante-neuf, cent vingt-trois, quarante-cinq, huitante-sept", None),
    # digits and words mixed
    ("mon 06 douze 34 cinquante-six 78 pour ce soir", "06 douze 34 cinquante-six 78"),
    ("tel 06 12 34 56 soixante-dix-huit", "06 12 34 56 soixante-dix-huit"),
    ("zéro six, triple zéro, douze, trente-quatre, cinq...", None),
    ("plus trente-trois six douze trente-quatre cinquante-six soixante-dix-huit", None),
    # English, digit by digit
    (
        "my number is zero six one two three four five six seven eight, call me",
        "zero six one two three four five six seven eight",
    ),
    (
        "ring me on oh seven seven double oh nine one one two three four tonight",
        "oh seven seven double oh nine one one two three four",
    ),
    ("text me: four one five, five five five, oh one three four", None),
    ("it's zero two oh seven nine four six double oh nine five eight", None),
    ("Zero Seven Seven Triple Oh Nine Double One Two", None),
]


@pytest.mark.parametrize(("text", "number"), SPELLED_PHONES)
def test_phone_numbers_read_out_in_words_are_masked_word_for_word(
    text: str, number: str | None
) -> None:
    if number is None:
        # The whole message is the number, apart from a word or two of prose around it.
        number = text
        result = masked(text)
        assert kinds(text) == ["phone"]
        assert result.count(MASK) >= sum(c.isalnum() for c in text) * 0.6
        return
    assert kinds(text) == ["phone"]
    assert masked(text) == expected(text, number)


@pytest.mark.parametrize(
    ("text", "number"),
    [
        ("écris au 06-12.34 56/78 ce soir", "06-12.34 56/78"),
        ("tel 06 1234 5678 !", "06 1234 5678"),
        ("depuis l'étranger : +33 (0)6 12 34 56 78, merci", "+33 (0)6 12 34 56 78"),
        ("Call +44 (0)20 7946 0958 any time", "+44 (0)20 7946 0958"),
        ("0612345678 c'est moi", "0612345678"),
        ("mon fixe 04.72.12.34.56", "04.72.12.34.56"),
    ],
)
def test_phone_numbers_with_unusual_separators_are_masked(text: str, number: str) -> None:
    assert masked(text) == expected(text, number)


def test_the_engine_masks_a_spelled_phone_number_and_says_why() -> None:
    text = "Mon numéro : zéro six, douze, trente-quatre, cinquante-six, soixante-dix-huit."
    decision = evaluate(text)
    assert "pii.phone" in {reason.rule for reason in decision.reasons}
    assert decision.redacted_text == masked(text)
    assert decision.redacted_text is not None
    assert decision.redacted_text.startswith("Mon numéro : ")
    assert "douze" not in decision.redacted_text


# ------------------------------------------------------------------ e-mail addresses


@pytest.mark.parametrize(
    ("text", "address"),
    [
        (
            "écris-moi : jean point dupont arobase gmail point com stp",
            "jean point dupont arobase gmail point com",
        ),
        ("mail: jean.dupont at gmail dot com (perso)", "jean.dupont at gmail dot com"),
        ("c'est j e a n @ g m a i l . c o m voilà", "j e a n @ g m a i l . c o m"),
        ("Contact jean [at] gmail [dot] com today", "jean [at] gmail [dot] com"),
        ("jean(at)gmail(dot)com", "jean(at)gmail(dot)com"),
        ("reach me: jean dot dupont at outlook dot fr", "jean dot dupont at outlook dot fr"),
        ("marie arobase free point fr", "marie arobase free point fr"),
        ("marie.curie @ orange.fr merci", "marie.curie @ orange.fr"),
        ("email me at john dot doe at gmail dot com", "john dot doe at gmail dot com"),
        ("paul_martin (at) laposte (dot) net", "paul_martin (at) laposte (dot) net"),
        ("write to bob at example dot co dot uk", "bob at example dot co dot uk"),
        ("contact : lea chez orange point fr", "lea chez orange point fr"),
        (
            "sophie tiret martin arobase hotmail point be",
            "sophie tiret martin arobase hotmail point be",
        ),
    ],
)
def test_spelled_and_spaced_e_mail_addresses_are_masked(text: str, address: str) -> None:
    assert kinds(text) == ["email"]
    assert masked(text) == expected(text, address)


def test_the_engine_masks_a_spelled_e_mail_address() -> None:
    text = "écris à jean point dupont arobase gmail point com"
    decision = evaluate(text)
    assert "pii.email" in {reason.rule for reason in decision.reasons}
    assert decision.redacted_text == expected(text, "jean point dupont arobase gmail point com")


# ------------------------------------------------------------------ postal addresses


@pytest.mark.parametrize(
    "address",
    [
        # France
        "12 rue des Lilas, 75011 Paris",
        "12 bis avenue Jean Jaurès",
        "5, boulevard Anspach",
        "2 place de l'Hôtel de Ville",
        "BP 123, 75001 Paris",
        "Lieu-dit Les Granges, 24200 Sarlat",
        "7 allée des Tilleuls, appartement 12",
        # Belgium (number after the street)
        "Rue de la Loi 16, 1000 Bruxelles",
        "Avenue Louise 54",
        "Kerkstraat 12, 2000 Antwerpen",
        # Switzerland
        "Bahnhofstrasse 1, 8001 Zürich",
        "Rue du Rhône 42, 1204 Genève",
        # Canada
        "1234 rue Sherbrooke Ouest, Montréal (Québec) H3A 1B2",
        "100 Queen St W, Toronto, ON M5H 2N2",
        # United Kingdom
        "221B Baker Street, London NW1 6XE",
        "Flat 3, 12 High Street, Oxford OX1 4AB",
        "10 Downing St",
        # United States
        "1600 Pennsylvania Ave NW, Washington, DC 20500",
        "350 5th Ave, New York, NY 10118",
        "742 Evergreen Terrace, Springfield",
        "Apt 4B, 350 5th Ave",
        "PO Box 42",
    ],
)
def test_postal_addresses_are_masked_and_the_rest_is_kept(address: str) -> None:
    text = f"Passe au {address} ; à bientôt"
    assert kinds(text) == ["address"]
    assert masked(text) == expected(text, address)


def test_i_live_at_a_street_address() -> None:
    text = "I live at 14 Maple Road, come by"
    assert masked(text) == expected(text, "14 Maple Road")


def test_a_public_institution_address_is_still_an_address() -> None:
    # An address is an address: the members cannot tell a town hall's from a home's.
    text = "la mairie, 2 place de l'Hôtel de Ville, ouvre à 9 h"
    assert masked(text) == expected(text, "2 place de l'Hôtel de Ville")


# ------------------------------------------------------------------ bank accounts


@pytest.mark.parametrize(
    "iban",
    [
        "FR76 3000 6000 0112 3456 7890 189",
        "BE68 5390 0754 7034",
        "CH93 0076 2011 6238 5295 7",
        "GB82WEST12345698765432",
    ],
)
def test_an_iban_is_masked(iban: str) -> None:
    text = f"mon IBAN : {iban}, merci"
    assert masked(text) == expected(text, iban)


def test_an_iban_with_wrong_check_digits_is_left_alone() -> None:
    assert personal_details("FR76 1234 5678 9012 3456 7890 123") == []


# ------------------------------------------------------------------ not personal details

NOT_PERSONAL = [
    # order, invoice and ticket numbers
    "commande n° 4839201 toujours pas arrivée",
    "order #100234567 is late again",
    "ticket INC0012345 ouvert hier",
    "facture 2024-000123 réglée",
    # ISBNs, laws, articles, decrees
    "ISBN 978-2-07-036822-8",
    "loi n° 2016-1321 du 7 octobre 2016",
    "article L1152-1 du code du travail",
    "décret 2020-1310 du 29 octobre 2020",
    # years, dates, times, statistics, prices
    "entre 2019 et 2023, puis 2024-2025",
    "le 12/03/2024, le 13/03/2024, le 14/03/2024",
    "ouvert de 9 h à 17 h, les horaires : 08 h 30 - 12 h 00 / 13 h 30 - 17 h 30",
    "73 % des 1 200 répondants",
    "il y a eu 1 500, 2 300, 4 100 et 5 200 participants",
    "ça coûte 1 299,99 € ou 12 x 108,33 €",
    # short helplines and public service numbers
    "appelez le 15, le 17, le 18 ou le 112",
    "le 115, le 119, le 3919, le 3114",
    "dial 911 or 999 or 111",
    # company numbers, IP addresses, versions, coordinates
    "SIRET 732 829 320 00074",
    "SIREN 732829320",
    "serveur 192.168.1.10",
    "version 2.14.3 release 10.0.19045",
    "GPS 48.8566, 2.3522",
    # a town or a postcode alone
    "je vis à Lyon 69003",
    "mon code postal est 75011",
    "il habite place de la République, pas loin",
    "rendez-vous 2 place de parking réservée",
    "On a marché 5 km rue de Rivoli",
    "BP 2023 annual report",
    "we had 2 Google Drive accounts",
    # numbers in words that are not phone numbers
    "j'ai un chat, une chienne, deux poissons, trois lapins et six poules",
    "un deux trois quatre cinq six sept huit neuf dix",
    "one two three four five six seven eight nine ten",
    "On était six, puis douze, puis vingt-quatre, puis quarante-huit et enfin quatre-vingt-seize",
    "il a eu dix-huit ans le trente et un mars deux mille vingt-deux",
    "I'm twenty one, she is thirty two, he is forty five and they are sixty six",
    "en mille neuf cent quatre-vingt-dix-neuf, j'avais six ans et ma sœur douze",
    "one hundred and twenty people, two hundred guests, three hundred chairs",
    "the score was six one, six four, seven five, six two",
    # "at", "dot", "chez", "point" in prose
    "look at example dot com for details",
    "visit us at acme dot co dot uk",
    "I work at Google dot com... no wait",
    "I'm at home. Be there at six",
    "je suis client chez Free point barre",
    "on se retrouve chez Julie point de rendez-vous habituel",
    "je suis chez moi point final",
    "see you at 5 dot 30",
]


@pytest.mark.parametrize("text", NOT_PERSONAL)
def test_numbers_and_words_that_are_not_personal_details_are_left_alone(text: str) -> None:
    assert personal_details(light(text).text) == []
    assert masked(text) == text


@pytest.mark.parametrize(
    "text",
    [
        "commande n° 4839201 et ticket INC0012345",
        "loi n° 2016-1321 du 7 octobre 2016",
        "appelez le 3919 ou le 112",
        "un deux trois quatre cinq six sept huit neuf dix",
        "look at example dot com for details",
        "je vis à Lyon 69003",
    ],
)
def test_the_engine_takes_no_personal_detail_action_on_them(text: str) -> None:
    decision = evaluate(text)
    assert not any(reason.rule.startswith("pii.") for reason in decision.reasons)
    assert decision.redacted_text is None


def test_two_details_in_one_message_are_both_masked_and_nothing_else() -> None:
    text = (
        "tel zéro six, douze, trente-quatre, cinquante-six, soixante-dix-huit"
        " ou jean arobase free point fr"
    )
    result = masked(text)
    assert result.startswith("tel ")
    assert " ou " in result
    assert "douze" not in result and "free" not in result
    assert len(result) == len(text)
