"""Members, accounts and circles."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

import pytest
from sqlalchemy import event, func
from sqlmodel import SQLModel, col, select

from storage import Account, Circle, Database, Member
from storage.members import (
    account_for,
    get_circle,
    get_member,
    get_or_create_circle,
    set_member_locale,
    update_circle,
)


async def _count(db: Database, model: type[SQLModel]) -> int:
    async with db.session() as session:
        return (await session.exec(select(func.count()).select_from(model))).one()


async def test_account_for_creates_account_and_member(db: Database, now: datetime) -> None:
    account = await account_for(db, "discord", "1234", "Ada", now=now)
    assert account.id is not None
    assert (account.platform, account.platform_user_id, account.display_name) == (
        "discord",
        "1234",
        "Ada",
    )
    assert account.created_at == now

    member = await get_member(db, account.member_id)
    assert member is not None
    assert member.display_name == "Ada"
    assert member.locale is None


async def test_account_for_is_idempotent(db: Database, now: datetime) -> None:
    first = await account_for(db, "discord", "1234", "Ada", now=now)
    second = await account_for(db, "discord", "1234", "Ada", now=now + timedelta(days=1))
    assert (second.id, second.member_id) == (first.id, first.member_id)
    assert second.created_at == now
    assert await _count(db, Account) == 1
    assert await _count(db, Member) == 1


async def test_account_for_follows_display_name_changes(db: Database, now: datetime) -> None:
    first = await account_for(db, "discord", "1234", "Ada", now=now)
    renamed = await account_for(db, "discord", "1234", "Ada L.", now=now)
    assert renamed.id == first.id
    assert renamed.display_name == "Ada L."
    member = await get_member(db, first.member_id)
    assert member is not None and member.display_name == "Ada L."


async def test_member_name_chosen_elsewhere_is_kept(db: Database, now: datetime) -> None:
    account = await account_for(db, "discord", "1234", "Ada", now=now)
    async with db.session() as session:
        member = await session.get(Member, account.member_id)
        assert member is not None
        member.display_name = "Ada Lovelace"
        await session.commit()

    renamed = await account_for(db, "discord", "1234", "ada_99", now=now)
    assert renamed.display_name == "ada_99"
    member = await get_member(db, account.member_id)
    assert member is not None and member.display_name == "Ada Lovelace"


async def test_accounts_on_two_platforms_get_distinct_members(db: Database, now: datetime) -> None:
    discord = await account_for(db, "discord", "1234", "Ada", now=now)
    matrix = await account_for(db, "matrix", "@ada:example.org", "Ada", now=now)
    same_id_other_platform = await account_for(db, "matrix", "1234", "Bob", now=now)
    assert len({discord.id, matrix.id, same_id_other_platform.id}) == 3
    assert len({discord.member_id, matrix.member_id, same_id_other_platform.member_id}) == 3


async def test_concurrent_account_for_creates_one_account(db: Database, now: datetime) -> None:
    accounts = await asyncio.gather(
        *(account_for(db, "matrix", "@ada:example.org", "Ada", now=now) for _ in range(10))
    )
    assert len({a.id for a in accounts}) == 1
    assert len({a.member_id for a in accounts}) == 1
    assert await _count(db, Account) == 1
    assert await _count(db, Member) == 1  # losers' members were rolled back


async def test_set_member_locale(db: Database, now: datetime) -> None:
    account = await account_for(db, "discord", "1234", "Ada", now=now)
    await set_member_locale(db, account.member_id, "en")
    member = await get_member(db, account.member_id)
    assert member is not None and member.locale == "en"

    await set_member_locale(db, account.member_id, None)
    member = await get_member(db, account.member_id)
    assert member is not None and member.locale is None


async def test_set_locale_of_unknown_member_raises(db: Database) -> None:
    with pytest.raises(LookupError):
        await set_member_locale(db, 999, "en")


async def test_deleting_a_member_cascades_to_accounts(db: Database, now: datetime) -> None:
    kept = await account_for(db, "discord", "1", "Kept", now=now)
    gone = await account_for(db, "discord", "2", "Gone", now=now)
    async with db.session() as session:
        member = await session.get(Member, gone.member_id)
        assert member is not None
        await session.delete(member)
        await session.commit()

    async with db.session() as session:
        remaining = (await session.exec(select(col(Account.id)))).all()
    assert remaining == [kept.id]


async def test_get_or_create_circle(db: Database, now: datetime) -> None:
    assert await get_circle(db, "discord", "chan-1") is None
    created = await get_or_create_circle(
        db, "discord", "chan-1", name="Atelier", locale="fr", timezone="Europe/Paris", now=now
    )
    assert created.id is not None
    assert (created.name, created.locale, created.timezone, created.created_at) == (
        "Atelier",
        "fr",
        "Europe/Paris",
        now,
    )

    again = await get_or_create_circle(
        db, "discord", "chan-1", name="Other", locale="en", timezone="UTC", now=now
    )
    assert again.id == created.id
    assert again.name == "Atelier"  # existing settings are not overwritten

    found = await get_circle(db, "discord", "chan-1")
    assert found is not None and found.id == created.id
    assert await get_circle(db, "matrix", "chan-1") is None


async def test_concurrent_get_or_create_circle_creates_one(db: Database, now: datetime) -> None:
    circles = await asyncio.gather(
        *(
            get_or_create_circle(
                db, "matrix", "!room:x", name="R", locale="fr", timezone="UTC", now=now
            )
            for _ in range(8)
        )
    )
    assert len({c.id for c in circles}) == 1
    assert await _count(db, Circle) == 1


async def test_update_circle(db: Database, now: datetime) -> None:
    circle = await get_or_create_circle(
        db, "discord", "chan-1", name="Atelier", locale="fr", timezone="Europe/Paris", now=now
    )
    assert circle.id is not None
    updated = await update_circle(db, circle.id, locale="en", timezone="America/Montreal")
    assert (updated.name, updated.locale, updated.timezone) == (
        "Atelier",
        "en",
        "America/Montreal",
    )
    stored = await get_circle(db, "discord", "chan-1")
    assert stored is not None
    assert (stored.locale, stored.timezone) == ("en", "America/Montreal")


async def test_update_circle_rejects_other_fields_and_unknown_ids(
    db: Database, now: datetime
) -> None:
    circle = await get_or_create_circle(
        db, "discord", "chan-1", name="A", locale="fr", timezone="UTC", now=now
    )
    assert circle.id is not None
    with pytest.raises(TypeError, match="space_id"):
        await update_circle(db, circle.id, space_id="chan-2")
    with pytest.raises(LookupError):
        await update_circle(db, circle.id + 100, name="B")
    stored = await get_circle(db, "discord", "chan-1")
    assert stored is not None and stored.space_id == "chan-1"


async def test_newcomers_arriving_together_each_get_their_own_member(
    db: Database, now: datetime
) -> None:
    # Same names, same or different times: members alike are interchangeable, others not.
    users = [
        (f"u{i}", "Ada" if i % 2 else f"Bob {i}", now + timedelta(seconds=i % 3)) for i in range(30)
    ]
    statements: list[str] = []

    def count(_c: object, _cur: object, statement: str, *_rest: object) -> None:
        statements.append(statement)

    event.listen(db.engine.sync_engine, "before_cursor_execute", count)
    try:
        accounts = await asyncio.gather(
            *(account_for(db, "discord", uid, name, now=at, absent=True) for uid, name, at in users)
        )
    finally:
        event.remove(db.engine.sync_engine, "before_cursor_execute", count)
    assert [(a.platform_user_id, a.display_name, a.created_at) for a in accounts] == users
    assert len({a.member_id for a in accounts}) == 30
    for account in accounts:
        member = await get_member(db, account.member_id)
        assert member is not None
        assert (member.display_name, member.created_at) == (
            account.display_name,
            account.created_at,
        )
    assert await _count(db, Member) == await _count(db, Account) == 30
    # Created together, not one statement per newcomer.
    assert sum(s.startswith("INSERT INTO members") for s in statements) <= 3


async def test_a_user_twice_in_one_batch_and_one_already_known_make_no_extra_member(
    db: Database, now: datetime
) -> None:
    known = await account_for(db, "discord", "old", "Olga", now=now)
    later = now + timedelta(minutes=1)
    # absent=True: as if another instance had created "old" between lookup and creation.
    accounts = await asyncio.gather(
        account_for(db, "discord", "twice", "Tom", now=later, absent=True),
        account_for(db, "discord", "new", "Nina", now=later, absent=True),
        account_for(db, "discord", "twice", "Tom", now=later, absent=True),
        account_for(db, "discord", "old", "Olga", now=later, absent=True),
    )
    tom, nina, tom_again, olga = accounts
    assert (tom.id, tom.member_id) == (tom_again.id, tom_again.member_id)
    assert (olga.id, olga.member_id, olga.created_at) == (known.id, known.member_id, now)
    assert nina.member_id not in {tom.member_id, olga.member_id}
    # The members made for "twice"'s second arrival and for "old" were never kept.
    assert await _count(db, Member) == await _count(db, Account) == 3
