"""Statements drafted from the round's leading themes: one short clause each, nobody named."""

from __future__ import annotations

from cogs.votes.drafting import MAX_CHARS, Source, draft, one_clause


def test_one_clause_of_the_representative_sentence() -> None:
    reply = "Je réponds à Ana : la coordination est aussi notre problème."
    assert one_clause(reply) == "Je réponds à Ana."
    said = "Instagram montre nos chantiers ; rien ne permet d'échanger entre métiers."
    assert one_clause(said) == "Instagram montre nos chantiers."
    assert one_clause("  « les algorithmes enterrent les petits ateliers »  ") == (
        "Les algorithmes enterrent les petits ateliers."
    )


def test_a_clause_naming_a_member_or_mentioning_anyone_is_never_a_statement() -> None:
    drafted = draft(
        [
            Source("Je réponds à Ana : la coordination est aussi notre problème.", "fr"),
            Source("Comme dit @bob, LinkedIn sert surtout à recruter des profils.", "fr"),
            Source("Voir https://exemple.org pour tout le détail du projet.", "fr"),
        ],
        locale="fr",
        names=["Ana Martin", "bob"],
    )
    assert drafted == ["La coordination est aussi notre problème."]


def test_long_clauses_are_cut_where_the_sentence_allows() -> None:
    long = (
        "Les plateformes valorisent les images spectaculaires des chantiers terminés, "
        "alors que le travail de coordination entre les métiers du bâtiment reste "
        "invisible pour les clients comme pour les autres professionnels du secteur"
    )
    statement = one_clause(long)
    assert statement == (
        "Les plateformes valorisent les images spectaculaires des chantiers terminés."
    )
    assert len(statement) <= MAX_CHARS + 1
    # Nowhere to cut: no statement rather than a truncated one.
    assert one_clause("mot " * 60) == ""
    # Too short to say anything.
    assert one_clause("Tout à fait.") == ""


def test_one_statement_per_theme_in_the_circle_language_never_twice() -> None:
    sources = [
        Source("Les réseaux isolent chaque métier dans sa bulle.", "fr"),
        Source("Social networks keep each profession in its own bubble.", "en"),
        Source("Le secret professionnel interdit de partager un cas réel.", "fr"),
        Source("Les réseaux isolent chaque métier dans sa bulle !", "fr"),
        Source("On manque d'un espace neutre pour échanger entre métiers.", "fr"),
    ]
    assert draft(sources, locale="fr") == [
        "Les réseaux isolent chaque métier dans sa bulle.",
        "Le secret professionnel interdit de partager un cas réel.",
        "On manque d'un espace neutre pour échanger entre métiers.",
    ]
    assert draft(sources, locale="en") == [
        "Social networks keep each profession in its own bubble."
    ]
    # What the round already has (posted, proposed or dropped) is not drafted again.
    had = ["les reseaux isolent chaque metier dans sa bulle"]
    again = draft(sources, locale="fr", existing=had)
    assert again[0] == "Le secret professionnel interdit de partager un cas réel."
    assert len(draft(sources, locale="fr", limit=2)) == 2
