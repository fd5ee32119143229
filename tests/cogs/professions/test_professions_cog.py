"""``/profession``: members set theirs in their own words; hosts settle proposals; signals."""

from __future__ import annotations

from typing import Any

from bot.cog import Cog
from bot.testing import Harness
from cogs.core import CoreCog
from cogs.professions import (
    ProfessionChanged,
    ProfessionsCog,
    circle_professions,
    profession_of,
)
from storage import members
from storage import professions as store


class Recorder(Cog):
    """Records the signals other cogs emit."""

    name = "recorder"

    def __init__(self, services: Any) -> None:
        super().__init__(services)
        self.signals: list[object] = []

    async def on_signal(self, signal: object) -> None:
        self.signals.append(signal)

    async def export_member_data(self, member_id: int) -> dict[str, Any]:
        return {}

    async def erase_member_data(self, member_id: int) -> None:
        return None


COGS = [CoreCog, ProfessionsCog, Recorder]


def harness(profile: str) -> Harness:
    return Harness(profile, cogs=COGS, hosts=["hana"])


def recorder(h: Harness) -> Recorder:
    return next(c for c in h.bot.cogs if isinstance(c, Recorder))


def signals(h: Harness) -> list[ProfessionChanged]:
    return [s for s in recorder(h).signals if isinstance(s, ProfessionChanged)]


def cog(h: Harness) -> ProfessionsCog:
    return next(c for c in h.bot.cogs if isinstance(c, ProfessionsCog))


async def member(h: Harness, name: str) -> int:
    return await h.bot.directory.member_for(h.platform.user(name))


async def circle_id(h: Harness) -> int:
    circle = await h.bot.directory.circle_for(h.platform.channel)
    assert circle is not None and circle.id is not None
    return circle.id


async def speak_english(h: Harness) -> None:
    await h.bot.directory.changed(
        await members.update_circle(h.db, await circle_id(h), locale="en")
    )


async def reply(h: Harness, name: str, text: str) -> str:
    """Run a command and return the one private reply it got."""
    sent = await h.command(name, text)
    assert len(sent) == 1, [s.text for s in sent]
    assert sent[0].to is not None and sent[0].to.id == name.lower()
    return sent[0].text


# ---------------------------------------------------------------- /profession set


async def test_confident_match_keeps_the_members_wording(profile: str) -> None:
    async with harness(profile) as h:
        text = await reply(h, "ana", "/profession set infirmière libérale")
        assert text == "Votre métier : Infirmier / Infirmière (affiché « infirmière libérale »)."
        assert h.public() == []  # private: nothing in the channel
        ana = await member(h, "ana")
        tag = await profession_of(h.db, ana)
        assert tag is not None
        assert (tag.key, tag.isco, tag.wording) == ("nurse", "2221", "infirmière libérale")
        assert tag.display("fr") == "infirmière libérale"
        assert signals(h) == [ProfessionChanged(ana, await circle_id(h), tag)]


async def test_english_circle_answers_in_english(profile: str) -> None:
    async with harness(profile) as h:
        await speak_english(h)
        assert await reply(h, "ana", "/profession set nurse") == "Your profession: Nurse."
        text = await reply(h, "bob", "/profession set devloper")  # a typo
        assert text == "Your profession: Software developer (shown as “devloper”)."
        tag = await profession_of(h.db, await member(h, "bob"))
        assert tag is not None and tag.key == "software_developer"


async def test_close_but_unsure_suggests_and_stores_nothing(profile: str) -> None:
    async with harness(profile) as h:
        text = await reply(h, "ana", "/profession set ingénieur")
        prefix = "/" if profile == "discord" else "!"
        assert text.startswith("Je ne sais pas bien à quel métier correspond « ingénieur »")
        choices = [line for line in text.splitlines() if line.startswith("• ")]
        assert len(choices) == 3 and all("`comme:" in line for line in choices)
        assert "Ingénieur / Ingénieure en génie civil — `comme:civil_engineer`" in text
        assert f"`{prefix}profession set`" in text and "`comme:autre`" in text
        assert await profession_of(h.db, await member(h, "ana")) is None
        assert signals(h) == []

        # The member picks one and keeps their wording.
        text = await reply(h, "ana", "/profession set ingénieur as:civil_engineer")
        assert "Ingénieur / Ingénieure en génie civil (affiché « ingénieur »)" in text
        tag = await profession_of(h.db, await member(h, "ana"))
        assert tag is not None and (tag.key, tag.wording) == ("civil_engineer", "ingénieur")


async def test_picking_with_as_accepts_labels_and_refuses_unknown(profile: str) -> None:
    async with harness(profile) as h:
        text = await reply(h, "ana", '/profession set prof de maths as:"Professeur"')
        assert text.startswith("Votre métier : Professeur / Professeure (collège, lycée)")
        text = await reply(h, "bob", "/profession set prof de maths as:zorglub")
        assert "Je ne connais pas le métier « zorglub »" in text
        assert await profession_of(h.db, await member(h, "bob")) is None


async def test_unknown_profession_counts_as_other_and_is_proposed(profile: str) -> None:
    async with harness(profile) as h:
        text = await reply(h, "ana", "/profession set astronaute de l'espace lointain")
        assert "Je ne connais pas encore « astronaute de l'espace lointain »" in text
        assert "transmis aux hôtes" in text and "il compte comme « Autre »" in text
        assert h.public() == []  # no ping of the hosts in the channel
        ana = await member(h, "ana")
        tag = await profession_of(h.db, ana)
        assert tag is not None and tag.is_other and tag.wording == "astronaute de l'espace lointain"
        assert [s.tag.key for s in signals(h)] == ["other"]
        pending = await store.proposals(h.db, await circle_id(h))
        assert [(p.member_id, p.wording) for p in pending] == [(ana, tag.wording)]

        me = await reply(h, "ana", "/profession me")
        assert "Votre métier : Autre (affiché « astronaute de l'espace lointain »)." in me
        assert "jusqu’à ce qu’un hôte l’accepte" in me


async def test_choosing_other_explicitly_proposes_the_wording(profile: str) -> None:
    async with harness(profile) as h:
        await reply(h, "ana", "/profession set chef de projet as:other")
        pending = await store.proposals(h.db, await circle_id(h))
        assert [p.wording for p in pending] == ["chef de projet"]


async def test_setting_again_withdraws_the_pending_proposal(profile: str) -> None:
    async with harness(profile) as h:
        await reply(h, "ana", "/profession set dompteur de nuages")
        await reply(h, "ana", "/profession set infirmière")
        assert await store.proposals(h.db, await circle_id(h)) == []
        assert (
            await reply(h, "hana", "/profession proposals")
            == "Aucune proposition n’est en attente."
        )


async def test_a_300_character_profession_is_refused_and_changes_nothing(profile: str) -> None:
    async with harness(profile) as h:
        await reply(h, "ana", "/profession set infirmière")
        before = len(signals(h))
        text = await reply(h, "ana", "/profession set " + "infirmière " * 27 + "abc")
        assert "nom est trop long (300 caractères, 100 au plus)." in text
        prefix = "/" if profile == "discord" else "!"
        assert f"Utilisation : {prefix}profession set <nom>" in text
        tag = await profession_of(h.db, await member(h, "ana"))
        assert tag is not None and (tag.key, tag.wording) == ("nurse", "infirmière")
        assert len(signals(h)) == before
        assert await store.proposals(h.db, await circle_id(h)) == []


async def test_wording_without_words_is_refused(profile: str) -> None:
    async with harness(profile) as h:
        text = await reply(h, "ana", "/profession set ?!…")
        assert text.startswith("Dites-moi votre métier en quelques mots")
        assert await profession_of(h.db, await member(h, "ana")) is None


async def test_profession_me_before_anything_is_set(profile: str) -> None:
    async with harness(profile) as h:
        text = await reply(h, "ana", "/profession me")
        assert text.startswith("Vous ne m’avez pas encore indiqué votre métier")


# ---------------------------------------------------------------- hosts


async def test_host_adds_a_proposal_as_a_new_profession(profile: str) -> None:
    async with harness(profile) as h:
        await reply(h, "ana", "/profession set dompteur de nuages")
        await reply(h, "bob", "/profession set Dompteur de nuages")  # same words, other case
        listing = await reply(h, "hana", "/profession proposals")
        assert "#1 “dompteur de nuages” (2 membres)" in listing
        prefix = "/" if profile == "discord" else "!"
        assert f"`{prefix}profession add <n>`" in listing
        recorder(h).signals.clear()

        text = await reply(h, "hana", "/profession add id:1")
        assert text == (
            "« dompteur de nuages » est désormais le métier Dompteur de nuages ; "
            "2 membres mis à jour."
        )
        ana, bob = await member(h, "ana"), await member(h, "bob")
        for who, wording in ((ana, "dompteur de nuages"), (bob, "Dompteur de nuages")):
            tag = await profession_of(h.db, who)
            assert tag is not None and tag.key == "custom:Dompteur de nuages"
            assert tag.label("fr") == tag.label("en") == "Dompteur de nuages"
            assert tag.wording == wording and tag.isco is None
        got = sorted((s.member_id, s.tag.key) for s in signals(h))
        assert got == [(ana, "custom:Dompteur de nuages"), (bob, "custom:Dompteur de nuages")]
        here = await circle_id(h)
        assert all(s.circle_id == here for s in signals(h))
        assert (
            await reply(h, "hana", "/profession proposals")
            == "Aucune proposition n’est en attente."
        )

        # The circle now knows it: the next member is matched at once.
        text = await reply(h, "cy", "/profession set dompteuse de nuages")
        assert text.startswith("Votre métier : Dompteur de nuages")
        text = await reply(h, "hana", "/profession add id:1")
        assert text == "La proposition n°1 est déjà réglée."


async def test_host_adds_with_a_label_of_their_own(profile: str) -> None:
    async with harness(profile) as h:
        # Close to "nurse" but unsure: the member chooses to propose their own wording.
        await reply(h, "ana", "/profession set infirmière puéricultrice de nuit as:other")
        text = await reply(h, "hana", "/profession add id:1 Infirmière puéricultrice")
        assert "est désormais le métier Infirmière puéricultrice ; 1 membre mis à jour." in text
        tag = await profession_of(h.db, await member(h, "ana"))
        assert tag is not None and tag.label("fr") == "Infirmière puéricultrice"
        assert tag.display("fr") == "infirmière puéricultrice de nuit"


async def test_adding_a_known_profession_points_to_merge(profile: str) -> None:
    async with harness(profile) as h:
        await reply(h, "ana", "/profession set dompteur de nuages")
        text = await reply(h, "hana", "/profession add id:1 Infirmière")
        assert "« Infirmière » est déjà un métier que je connais : Infirmier / Infirmière" in text
        assert "profession merge id:1 into:nurse" in text
        tag = await profession_of(h.db, await member(h, "ana"))
        assert tag is not None and tag.is_other


async def test_host_merges_a_proposal_into_an_existing_profession(profile: str) -> None:
    async with harness(profile) as h:
        await reply(h, "ana", "/profession set astronaute de l'espace lointain")
        listing = await reply(h, "hana", "/profession proposals")
        assert "#1 “astronaute de l'espace lointain”" in listing
        recorder(h).signals.clear()

        text = await reply(h, "hana", "/profession merge id:1 into:pilote de ligne")
        assert text == (
            "« astronaute de l'espace lointain » est désormais rattaché à Pilote de ligne ; "
            "1 membre mis à jour."
        )
        ana = await member(h, "ana")
        tag = await profession_of(h.db, ana)
        assert tag is not None and tag.key == "airline_pilot"
        assert tag.wording == "astronaute de l'espace lointain"  # still shown as they said it
        assert [(s.member_id, s.tag) for s in signals(h)] == [(ana, tag)]

        # The merged wording now means that profession in this circle.
        text = await reply(h, "bob", "/profession set Astronaute de l’espace lointain")
        assert text.startswith("Votre métier : Pilote de ligne")


async def test_merge_into_something_unclear_changes_nothing(profile: str) -> None:
    async with harness(profile) as h:
        await reply(h, "ana", "/profession set dompteur de nuages")
        text = await reply(h, "hana", "/profession merge id:1 into:ingénieur")
        assert "Je ne connais pas le métier « ingénieur »." in text
        assert "Vouliez-vous dire l’un de ceux-ci ?" in text and "`dans:civil_engineer`" in text
        text = await reply(h, "hana", "/profession merge id:1 into:other")
        assert "Je ne connais pas le métier « other »." in text
        tag = await profession_of(h.db, await member(h, "ana"))
        assert tag is not None and tag.is_other
        assert len(await store.proposals(h.db, await circle_id(h))) == 1


async def test_unknown_proposal_number(profile: str) -> None:
    async with harness(profile) as h:
        text = await reply(h, "hana", "/profession merge id:42 into:nurse")
        assert text == "Il n’y a pas de proposition n°42 dans ce cercle."


async def test_members_cannot_run_host_commands(profile: str) -> None:
    async with harness(profile) as h:
        await reply(h, "ana", "/profession set dompteur de nuages")
        for command in (
            "/profession proposals",
            "/profession add id:1",
            "/profession merge id:1 into:nurse",
            "/profession list",
        ):
            assert "réservé aux hôtes" in await reply(h, "bob", command)
        pending = await store.proposals(h.db, await circle_id(h))
        assert [p.status for p in pending] == ["pending"]
        tag = await profession_of(h.db, await member(h, "ana"))
        assert tag is not None and tag.is_other


async def test_list_counts_professions_without_names(profile: str) -> None:
    async with harness(profile) as h:
        assert await reply(h, "hana", "/profession list") == (
            "Aucun membre de ce cercle ne m’a encore indiqué son métier."
        )
        await reply(h, "ana", "/profession set infirmière")
        await reply(h, "bob", "/profession set IDE")
        await reply(h, "cy", "/profession set dompteur de nuages")
        await reply(h, "dan", "/profession set développeuse")
        text = await reply(h, "hana", "/profession list")
        assert text.splitlines() == [
            "Métiers de ce cercle :",
            "• Infirmier / Infirmière — 2 membres",
            "• Développeur / Développeuse — 1 membre",
            "• Autre — 1 membre",
        ]
        assert not any(name in text.lower() for name in ("ana", "bob", "cy", "dan"))
        tags = await circle_professions(h.db, await circle_id(h))
        assert [t.key for t in tags] == ["nurse", "software_developer", "other"]
        assert all(t.wording == "" for t in tags)


# ---------------------------------------------------------------- autocomplete


async def _suggest(h: Harness, who: str, path: tuple[str, ...], option: str, typed: str) -> Any:
    entry = h.bot.commands.get(path)
    assert entry is not None
    spec = entry[0]
    found = spec.option(option)
    assert found is not None and found.autocomplete
    ctx = await h.bot.router.context(h.platform, h.platform.user(who), h.platform.channel, None)
    return await cog(h).suggest(spec, found, typed, ctx)


async def test_autocomplete_in_the_circles_language(profile: str) -> None:
    async with harness(profile) as h:
        french = await _suggest(h, "ana", ("profession", "set"), "name", "infir")
        assert french[0].value == french[0].label == "Infirmier / Infirmière"
        await speak_english(h)
        english = await _suggest(h, "ana", ("profession", "set"), "name", "infir")
        assert english[0].value == "Nurse"
        picked = await _suggest(h, "ana", ("profession", "set"), "as", "kiné")
        assert (picked[0].value, picked[0].label) == ("physiotherapist", "Physiotherapist")
        assert picked[-1].value == "other"
        into = await _suggest(h, "hana", ("profession", "merge"), "into", "dev")
        assert ("software_developer", "Software developer") in [(c.value, c.label) for c in into]
        assert all(len(c.value) <= 100 and len(c.label) <= 100 for c in english + into)


async def test_picking_an_autocompleted_label_is_a_confident_match(profile: str) -> None:
    async with harness(profile) as h:
        label = (await _suggest(h, "ana", ("profession", "set"), "name", "prof"))[0].value
        text = await reply(h, "ana", f"/profession set {label}")
        assert text == f"Votre métier : {label}."


async def test_autocomplete_knows_the_circles_custom_professions(profile: str) -> None:
    async with harness(profile) as h:
        await reply(h, "ana", "/profession set dompteur de nuages")
        await reply(h, "hana", "/profession add id:1")
        found = await _suggest(h, "bob", ("profession", "set"), "name", "dompt")
        assert [c.value for c in found] == ["Dompteur de nuages"]


# ---------------------------------------------------------------- member data


async def test_export_then_erase_member_data(profile: str) -> None:
    async with harness(profile) as h:
        await reply(h, "ana", "/profession set dompteur de nuages")
        ana = await member(h, "ana")
        data = await cog(h).export_member_data(ana)
        assert data["profession"]["key"] == "other"
        assert data["profession"]["wording"] == "dompteur de nuages"
        assert data["circles"] == [await circle_id(h)]
        assert [(p["wording"], p["status"]) for p in data["proposals"]] == [
            ("dompteur de nuages", "pending")
        ]
        await reply(h, "hana", "/profession merge id:1 into:nurse")
        data = await cog(h).export_member_data(ana)
        assert data["profession"]["key"] == "nurse" and data["profession"]["isco"] == "2221"
        assert data["proposals"][0]["status"] == "merged"

        await cog(h).erase_member_data(ana)
        assert await profession_of(h.db, ana) is None
        assert await cog(h).export_member_data(ana) == {
            "profession": None,
            "circles": [],
            "proposals": [],
        }
        assert await circle_professions(h.db, await circle_id(h)) == []
