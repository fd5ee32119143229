"""Members, their platform accounts, and circles."""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, insert, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from sqlalchemy.sql.dml import Insert
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage import state
from storage.database import Database
from storage.models import Account, Circle, Member
from storage.rounds import CircleSettings
from storage.writer import insert_ignoring_duplicates

CIRCLE_UPDATABLE_FIELDS = frozenset({"name", "locale", "timezone"})


async def _find_account(
    session: AsyncSession, platform: str, platform_user_id: str
) -> Account | None:
    stmt = select(Account).where(
        col(Account.platform) == platform, col(Account.platform_user_id) == platform_user_id
    )
    return (await session.exec(stmt)).first()


async def _find_circle(session: AsyncSession, platform: str, space_id: str) -> Circle | None:
    stmt = select(Circle).where(col(Circle.platform) == platform, col(Circle.space_id) == space_id)
    return (await session.exec(stmt)).first()


async def account_for(
    db: Database,
    platform: str,
    platform_user_id: str,
    display_name: str,
    *,
    now: datetime,
    absent: bool = False,
) -> Account:
    """Return the account of a platform user, creating it and its member if needed.

    A new account gets a new member, created in the same transaction. When the
    display name changed, the account follows it, and so does the member's name
    unless it was changed to something else than the account's previous name.
    ``absent``: the caller has just looked and found no account (it is created without
    looking again; if it appeared meanwhile, the existing one is used).
    """
    account = None
    if not absent:
        async with db.session() as session:
            account = await _find_account(session, platform, platform_user_id)
    if account is not None and account.display_name == display_name:
        return account
    if account is None:
        # Never hold a pooled connection while waiting on the group writer.
        created = await _create_account(db, platform, platform_user_id, display_name, now=now)
        if created is not None:
            return created
    async with db.session() as session:
        account = await _find_account(session, platform, platform_user_id)
        if account is None:  # pragma: no cover - another instance created it: it exists
            raise LookupError(f"account {platform}:{platform_user_id} vanished")
        if account.display_name != display_name:
            owner = await session.get(Member, account.member_id)
            if owner is not None and owner.display_name == account.display_name:
                owner.display_name = display_name
            account.display_name = display_name
            await session.commit()
        return account


async def accounts_of(
    db: Database, users: Sequence[tuple[str, str]]
) -> dict[tuple[str, str], Account]:
    """The accounts that exist among ``users`` (platform, platform user id), by the same key."""
    found: dict[tuple[str, str], Account] = {}
    by_platform: dict[str, list[str]] = {}
    for platform, user_id in users:
        by_platform.setdefault(platform, []).append(user_id)
    async with db.session() as session:
        for platform, ids in by_platform.items():
            for start in range(0, len(ids), 500):
                stmt = select(Account).where(
                    col(Account.platform) == platform,
                    col(Account.platform_user_id).in_(ids[start : start + 500]),
                )
                for account in (await session.exec(stmt)).all():
                    found[(account.platform, account.platform_user_id)] = account
    return found


@dataclass(frozen=True, slots=True)
class _NewAccount:
    platform: str
    platform_user_id: str
    display_name: str
    created_at: datetime


async def _create_account(
    db: Database, platform: str, platform_user_id: str, display_name: str, *, now: datetime
) -> Account | None:
    """Create a member and its account in one transaction, through the group writer.

    Serialising new accounts with the other small writes keeps a burst of first messages
    from waiting on SQLite's write lock, and the newcomers of one transaction are created
    together (:func:`_create_accounts`). ``None`` when the account exists already (another
    instance, or the same user twice in one transaction): the caller looks it up.
    """
    try:
        created: Account | None = await db.write_each(
            _create_accounts, _NewAccount(platform, platform_user_id, display_name, now)
        )
    except IntegrityError:
        return None
    return created


async def _create_accounts(
    conn: AsyncConnection, wanted: list[_NewAccount]
) -> list[Account | None]:
    """Create the members and accounts of ``wanted``: one multi-row INSERT for each table.

    The first of a platform user in ``wanted`` is created, a later one gets ``None``, as
    does one whose account another instance created first (its member is deleted again).
    """
    first: dict[tuple[str, str], _NewAccount] = {}
    for new in wanted:
        first.setdefault((new.platform, new.platform_user_id), new)
    fresh = list(first.values())
    rows = await conn.execute(
        _member_insert(),
        [{"display_name": new.display_name, "created_at": new.created_at} for new in fresh],
    )
    # RETURNING gives no order: a member is matched by what it holds, and members holding
    # the same name and time are alike, so which of them goes to which account is moot.
    made: dict[tuple[str, datetime], list[int]] = {}
    for member_id, name, created_at in rows:
        made.setdefault((name, created_at), []).append(member_id)
    member_of = {id(new): made[(new.display_name, new.created_at)].pop() for new in fresh}
    values: list[dict[str, Any]] = [
        {
            "member_id": member_of[id(new)],
            "platform": new.platform,
            "platform_user_id": new.platform_user_id,
            "display_name": new.display_name,
            "created_at": new.created_at,
        }
        for new in fresh
    ]
    inserted = await conn.execute(_account_insert(conn.engine), values)
    account_ids = {(platform, user): account_id for account_id, platform, user in inserted}
    lost = [
        member_of[id(new)]
        for new in fresh
        if (new.platform, new.platform_user_id) not in account_ids
    ]
    if lost:
        # Those accounts appeared meanwhile: drop the members made for nothing.
        members = Member.__table__  # type: ignore[attr-defined]
        await conn.execute(delete(members).where(members.c.id.in_(lost)))
    accounts: dict[int, Account] = {}
    for new, row in zip(fresh, values, strict=True):
        account_id = account_ids.get((new.platform, new.platform_user_id))
        if account_id is not None:
            accounts[id(new)] = Account(id=account_id, **row)
    return [
        accounts.get(id(new)) if first[(new.platform, new.platform_user_id)] is new else None
        for new in wanted
    ]


@functools.cache
def _member_insert() -> Insert:
    members = Member.__table__  # type: ignore[attr-defined]
    return insert(members).returning(members.c.id, members.c.display_name, members.c.created_at)


_ACCOUNT_INSERTS: dict[str, Insert] = {}


def _account_insert(engine: AsyncEngine) -> Insert:
    """``INSERT … ON CONFLICT DO NOTHING RETURNING`` an account's id and key, built once."""
    stmt = _ACCOUNT_INSERTS.get(engine.dialect.name)
    if stmt is None:
        accounts = Account.__table__  # type: ignore[attr-defined]
        stmt = insert_ignoring_duplicates(engine, accounts).returning(
            accounts.c.id, accounts.c.platform, accounts.c.platform_user_id
        )
        _ACCOUNT_INSERTS[engine.dialect.name] = stmt
    return stmt


async def get_member(db: Database, member_id: int) -> Member | None:
    """Return a member by id."""
    async with db.session() as session:
        return await session.get(Member, member_id)


async def members_created(db: Database, member_ids: list[int]) -> dict[int, datetime]:
    """When each of these members was first seen (those that exist), in one query."""
    async with db.session() as session:
        stmt = select(Member.id, Member.created_at).where(col(Member.id).in_(member_ids))
        rows = (await session.exec(stmt)).all()
    return {member_id: created for member_id, created in rows if member_id is not None}


async def set_member_locale(db: Database, member_id: int, locale: str | None) -> None:
    """Set (or clear with None) a member's preferred language for private messages.

    Raises:
        LookupError: If the member does not exist.
    """
    stmt = (
        update(Member)
        .where(col(Member.id) == member_id)
        .values(locale=locale)
        .execution_options(synchronize_session=False)
    )
    async with db.session() as session:
        if (await session.exec(stmt)).rowcount == 0:
            await session.rollback()
            raise LookupError(f"no member with id {member_id}")
        await session.commit()


async def get_or_create_circle(
    db: Database,
    platform: str,
    space_id: str,
    *,
    name: str,
    locale: str,
    timezone: str,
    now: datetime,
    schedule: str | None = None,
) -> Circle:
    """Return the circle of a platform space, creating it with the given settings.

    An existing circle is returned unchanged; use :func:`update_circle` to change it. A new
    circle with a ``schedule`` (cron) gets its round settings with it, in the same commit.
    """
    async with db.session() as session:
        circle = await _find_circle(session, platform, space_id)
        if circle is not None:
            return circle
        circle = Circle(
            platform=platform,
            space_id=space_id,
            name=name,
            locale=locale,
            timezone=timezone,
            created_at=now,
        )
        session.add(circle)
        try:
            if schedule is not None:
                await session.flush()
                assert circle.id is not None
                session.add(
                    CircleSettings(circle_id=circle.id, prompt_cron=schedule, created_at=now)
                )
            await session.commit()
        except IntegrityError:
            await session.rollback()
            existing = await _find_circle(session, platform, space_id)
            if existing is None:
                raise
            return existing
        return circle


async def get_circle(db: Database, platform: str, space_id: str) -> Circle | None:
    """Return the circle of a platform space, if any."""
    async with db.session() as session:
        return await _find_circle(session, platform, space_id)


async def circle_by_id(db: Database, circle_id: int) -> Circle | None:
    """Return the circle with this id, if any."""
    async with db.session() as session:
        return await session.get(Circle, circle_id)


async def update_circle(db: Database, circle_id: int, **changes: str) -> Circle:
    """Change a circle's ``name``, ``locale`` and/or ``timezone``.

    Raises:
        TypeError: If asked to change any other field.
        LookupError: If the circle does not exist.
    """
    unknown = set(changes) - CIRCLE_UPDATABLE_FIELDS
    if unknown:
        raise TypeError(f"cannot update circle field(s): {', '.join(sorted(unknown))}")
    async with db.session() as session:
        circle = await session.get(Circle, circle_id)
        if circle is None:
            raise LookupError(f"no circle with id {circle_id}")
        for field, value in changes.items():
            setattr(circle, field, value)
        await session.commit()
        return circle


async def member_record(db: Database, member_id: int) -> dict[str, object]:
    """The member and their platform accounts, JSON-ready."""
    async with db.session() as session:
        member = await session.get(Member, member_id)
        if member is None:
            return {}
        accounts = (
            await session.exec(select(Account).where(col(Account.member_id) == member_id))
        ).all()
        return {
            "id": member.id,
            "display_name": member.display_name,
            "locale": member.locale,
            "created_at": member.created_at.isoformat(),
            "accounts": [
                {
                    "platform": a.platform,
                    "user_id": a.platform_user_id,
                    "display_name": a.display_name,
                    "created_at": a.created_at.isoformat(),
                }
                for a in accounts
            ],
        }


async def delete_member(db: Database, member_id: int) -> None:
    """Delete a member, their accounts and (by cascade) every row that belongs to them."""
    async with db.session() as session:
        await session.exec(delete(Member).where(col(Member.id) == member_id))
        await session.commit()


async def account_of(db: Database, member_id: int, platform: str) -> Account | None:
    """The member's account on one platform."""
    async with db.session() as session:
        stmt = select(Account).where(
            col(Account.member_id) == member_id, col(Account.platform) == platform
        )
        return (await session.exec(stmt)).first()


# ---------------------------------------------------------------- posts in a member's name

#: Where the bot's posts carrying a member's words are kept (``adapter_state``), to delete them
#: on the platform when the member is forgotten.
_POSTS = "privacy"


@dataclass(frozen=True, slots=True)
class PostInName:
    """A message the bot posted with a member's words (a masked repost, an ``/answer``…)."""

    platform: str
    channel_id: str
    message_id: str
    thread_id: str | None = None


def _post_key(member_id: int, platform: str, message_id: str) -> str:
    # Hashed: platform message ids can be longer than a key may be.
    digest = hashlib.sha256(f"{platform}\x1f{message_id}".encode()).hexdigest()[:32]
    return f"post:{member_id}:{digest}"


async def remember_post(db: Database, member_id: int, post: PostInName, *, now: datetime) -> None:
    """Keep a message the bot posted in the member's name (deleted when they are forgotten)."""
    value = json.dumps(
        [post.platform, post.channel_id, post.message_id, post.thread_id], ensure_ascii=False
    )
    await state.set_state(
        db, _POSTS, _post_key(member_id, post.platform, post.message_id), value, now=now
    )


async def posts_in_name_of(db: Database, member_id: int) -> list[PostInName]:
    """The messages the bot posted in the member's name, as far as they are kept."""
    values = await state.states_with_prefix(db, _POSTS, f"post:{member_id}:")
    posts = []
    for value in values.values():
        platform, channel_id, message_id, thread_id = json.loads(value)
        posts.append(PostInName(platform, channel_id, message_id, thread_id))
    return sorted(posts, key=lambda p: (p.platform, p.channel_id, p.message_id))


async def forget_post(db: Database, member_id: int, post: PostInName) -> None:
    """Stop keeping a message posted in the member's name (it was deleted)."""
    await state.delete_state(db, _POSTS, _post_key(member_id, post.platform, post.message_id))
