"""Digest storage: one digest per round, claimed once; the embedding cache follows answers."""

from __future__ import annotations

from datetime import datetime, timedelta

from storage import Database, rounds
from storage import digest as store
from storage.members import account_for, get_or_create_circle
from storage.rounds import Round
from storage.types import Visibility

VISIBLE = Visibility.VISIBLE.stored


async def _round_with_answer(db: Database, now: datetime) -> tuple[int, int, int]:
    circle = await get_or_create_circle(
        db, "discord", "c1", name="c1", locale="fr", timezone="Europe/Paris", now=now
    )
    member = (await account_for(db, "discord", "ana", "ana", now=now)).member_id
    created = await rounds.create_round(
        db,
        Round(
            circle_id=circle.id or 0,
            number=0,
            scheduled_for=now,
            opened_at=now,
            closes_at=now,
            platform="discord",
            channel_id="c1",
        ),
    )
    assert created is not None and created.id is not None
    answer = await rounds.add_answer(
        db,
        round_id=created.id,
        member_id=member,
        platform="discord",
        message_id="m1",
        text="Une réponse.",
        created_at=now,
    )
    assert answer is not None
    return circle.id or 0, created.id, answer


async def test_a_digest_is_claimed_once(db: Database, now: datetime) -> None:
    circle, round_id, _ = await _round_with_answer(db, now)
    assert await store.claim(db, round_id, circle, now=now)
    assert not await store.claim(db, round_id, circle, now=now)
    assert [r.round_id for r in await store.pending(db)] == [round_id]
    record = await store.get(db, round_id)
    assert record is not None
    record.status = store.DIGEST_POSTED
    record.data = '{"author": "member:7"}'
    record.chart = b"\x89PNG"
    await store.save(db, record)
    assert await store.pending(db) == []
    assert [r.round_id for r in await store.containing(db, '"author": "member:7"')] == [round_id]
    assert await store.containing(db, '"author": "member:8"') == []


async def test_vectors_are_cached_replaced_and_go_with_their_answer(
    db: Database, now: datetime
) -> None:
    _, _, answer = await _round_with_answer(db, now)
    first = store.CachedVectors("h1", 2, 4, b"\x00" * 16)
    await store.store_vectors(db, [(answer, first)], now=now)
    assert await store.cached_vectors(db, [answer]) == {answer: first}
    second = store.CachedVectors("h2", 1, 4, b"\x01" * 8)
    await store.store_vectors(db, [(answer, second)], now=now)
    assert await store.cached_vectors(db, [answer, 999]) == {answer: second}
    await rounds.delete_by_message(db, "discord", "m1")
    assert await store.cached_vectors(db, [answer]) == {}


async def test_answers_without_vectors_are_the_new_and_the_edited_ones_never_the_hidden(
    db: Database, now: datetime
) -> None:
    _, round_id, first = await _round_with_answer(db, now)
    member = (await account_for(db, "discord", "bob", "bob", now=now)).member_id
    ids = [first]
    for i in range(2, 5):
        answer = await rounds.add_answer(
            db, round_id=round_id, member_id=member, platform="discord",
            message_id=f"m{i}", text=f"Réponse {i}.", created_at=now,
        )  # fmt: skip
        assert answer is not None
        ids.append(answer)
    texts = ["Une réponse.", "Réponse 2.", "Réponse 3.", "Réponse 4."]
    assert await store.answers_without_vectors(db, round_id) == list(zip(ids, texts, strict=True))
    vectors = store.CachedVectors("h", 1, 4, b"\x00" * 8)
    await store.store_vectors(db, [(i, vectors) for i in ids[:3]], now=now)
    assert await store.answers_without_vectors(db, round_id) == [(ids[3], "Réponse 4.")]

    later = now + timedelta(minutes=1)
    await rounds.edit_answer(db, ids[1], "Réponse 2, revue.", VISIBLE, now=later)
    await rounds.edit_answer(db, ids[3], "Réponse 4, cachée.", Visibility.HIDDEN.stored, now=later)
    assert await store.answers_without_vectors(db, round_id) == [(ids[1], "Réponse 2, revue.")]
    assert await store.answers_without_vectors(db, round_id, after=ids[1]) == []
    assert await store.answers_without_vectors(db, round_id, limit=0) == []
    await store.store_vectors(db, [(ids[1], vectors)], now=later)
    assert await store.answers_without_vectors(db, round_id) == []


async def test_professions_of_members(db: Database, now: datetime) -> None:
    from storage.professions import set_member_profession

    member = (await account_for(db, "discord", "bob", "bob", now=now)).member_id
    await set_member_profession(db, member, "architect", "architecte", circle_id=None, now=now)
    assert await store.professions_of(db, [member, 12345]) == {member: "architect"}
