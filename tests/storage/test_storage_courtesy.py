"""Courtesy storage: settings, audit log, strikes, mutes, the queue, member data."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from storage import Database, members
from storage import courtesy as store


async def _circle(db: Database, now: datetime) -> int:
    circle = await members.get_or_create_circle(
        db, "discord", "chan", name="circle", locale="fr", timezone="Europe/Paris", now=now
    )
    assert circle.id is not None
    return circle.id


async def _member(db: Database, name: str, now: datetime) -> int:
    return (await members.account_for(db, "discord", name, name.title(), now=now)).member_id


async def test_settings_are_created_then_changed_field_by_field(
    db: Database, now: datetime
) -> None:
    circle = await _circle(db, now)
    assert await store.get_settings(db, circle) is None
    row = await store.save_settings(db, circle, now=now, mode=store.MODE_OBSERVE)
    assert (row.mode, row.charter, row.override_data) == ("observe", None, {})
    row = await store.save_settings(
        db, circle, now=now, charter="Soyons aimables.", overrides={"allow": {"words": ["x"]}}
    )
    assert (row.mode, row.charter) == ("observe", "Soyons aimables.")
    assert row.override_data == {"allow": {"words": ["x"]}}
    row = await store.save_settings(db, circle, now=now, reset_charter=True)
    assert row.charter is None
    with pytest.raises(ValueError, match="unknown mode"):
        await store.save_settings(db, circle, now=now, mode="ban")


async def test_audit_log_newest_first_and_by_member(db: Database, now: datetime) -> None:
    circle = await _circle(db, now)
    ana, hana = await _member(db, "ana", now), await _member(db, "hana", now)
    for minutes, member, action in ((0, ana, "hide"), (1, None, "mode"), (2, ana, "approve")):
        await store.log(
            db,
            store.AuditEntry(
                circle_id=circle,
                member_id=member,
                action=action,
                actor=store.ACTOR_HOST if action != "hide" else store.ACTOR_RULES,
                actor_member_id=hana if action != "hide" else None,
                created_at=now + timedelta(minutes=minutes),
            ),
        )
    assert [e.action for e in await store.recent_log(db, circle)] == ["approve", "mode", "hide"]
    assert [e.action for e in await store.recent_log(db, circle, member_id=ana)] == [
        "approve",
        "hide",
    ]
    assert len(await store.recent_log(db, circle, limit=1)) == 1


async def test_strikes_are_cleared_and_mutes_counted_and_lifted(
    db: Database, now: datetime
) -> None:
    circle = await _circle(db, now)
    bob = await _member(db, "bob", now)
    for weight in (2.0, 1.0):
        await store.add_strike(
            db,
            store.Strike(circle_id=circle, member_id=bob, weight=weight, rule="r", created_at=now),
        )
    assert [s.weight for s in await store.active_strikes(db, circle, bob)] == [2.0, 1.0]
    assert await store.clear_strikes(db, circle, bob, now=now) == 2
    assert await store.active_strikes(db, circle, bob) == []
    await store.add_mute(
        db,
        store.Mute(circle_id=circle, member_id=bob, until=now + timedelta(hours=1), created_at=now),
    )
    assert await store.count_mutes(db, circle, bob, since=now - timedelta(days=1)) == 1
    assert await store.count_mutes(db, circle, bob, since=now + timedelta(seconds=1)) == 0
    running = await store.active_mute(db, circle, bob, now=now)
    assert running is not None and running.until == now + timedelta(hours=1)
    assert await store.active_mute(db, circle, bob, now=now + timedelta(hours=2)) is None
    assert await store.lift_mutes(db, circle, bob, now=now) == 1
    assert await store.active_mute(db, circle, bob, now=now) is None


async def test_queue_items_are_decided_once(db: Database, now: datetime) -> None:
    circle = await _circle(db, now)
    bob, hana = await _member(db, "bob", now), await _member(db, "hana", now)
    item = await store.enqueue(
        db,
        store.QueueItem(
            circle_id=circle,
            member_id=bob,
            platform="discord",
            channel_id="chan",
            message_id="m1",
            author_id="bob",
            author_name="Bob",
            text="Sale con.",
            rule="insult.ambiguous",
            category="insult",
            source=store.SOURCE_RULES,
            created_at=now,
        ),
    )
    assert item.id is not None
    assert [i.id for i in await store.pending(db, circle)] == [item.id]
    assert await store.get_item(db, circle + 1, item.id) is None
    decided = await store.decide(
        db, item.id, store.STATUS_REJECTED, host=hana, reason="non", now=now
    )
    assert decided is not None and (decided.status, decided.reason) == ("rejected", "non")
    assert (
        await store.decide(db, item.id, store.STATUS_APPROVED, host=hana, reason="", now=now)
        is None
    )
    assert await store.pending(db, circle) == []
    with pytest.raises(ValueError):
        await store.decide(db, item.id, "pending", host=hana, reason="", now=now)


async def test_accounts_are_found_by_name_or_id(db: Database, now: datetime) -> None:
    ana = await _member(db, "ana", now)
    assert [a.member_id for a in await store.find_accounts(db, "discord", "ANA")] == [ana]
    assert [a.member_id for a in await store.find_accounts(db, "discord", " Ana ")] == [ana]
    assert await store.find_accounts(db, "matrix", "ana") == []
    assert [a.platform_user_id for a in await store.accounts_of(db, ana)] == ["ana"]


async def test_member_data_is_exported_then_erased(db: Database, now: datetime) -> None:
    circle = await _circle(db, now)
    bob, ana, hana = [await _member(db, n, now) for n in ("bob", "ana", "hana")]
    await store.log(
        db,
        store.AuditEntry(
            circle_id=circle, member_id=bob, action="hide", actor="rules", created_at=now
        ),
    )
    await store.log(
        db,
        store.AuditEntry(
            circle_id=circle,
            member_id=ana,
            action="approve",
            actor="host",
            actor_member_id=bob,
            created_at=now,
        ),
    )
    await store.add_strike(
        db, store.Strike(circle_id=circle, member_id=bob, weight=1, rule="r", created_at=now)
    )
    await store.enqueue(
        db,
        store.QueueItem(
            circle_id=circle,
            member_id=ana,
            platform="discord",
            channel_id="chan",
            source=store.SOURCE_REPORT,
            reporter_member_id=bob,
            note="rude",
            decided_by=hana,
            created_at=now,
        ),
    )
    exported = await store.export_member(db, bob)
    assert [d["action"] for d in exported["decisions"]] == ["hide"]
    assert len(exported["strikes"]) == 1 and exported["reports_made"][0]["note"] == "rude"
    assert isinstance(exported["strikes"][0]["created_at"], str)
    await store.erase_member(db, bob)
    assert await store.export_member(db, bob) == {
        "decisions": [],
        "strikes": [],
        "mutes": [],
        "queued_messages": [],
        "reports_made": [],
        "approved_examples": [],
    }
    [kept] = await store.recent_log(db, circle, member_id=ana)
    assert kept.actor_member_id is None
    [report] = await store.pending(db, circle)
    assert report.reporter_member_id is None and report.note == ""


async def test_audit_rows_keep_the_deciding_layer_and_its_score(
    db: Database, now: datetime
) -> None:
    circle = await _circle(db, now)
    bob = await _member(db, "bob", now)
    await store.log(
        db,
        store.AuditEntry(
            circle_id=circle,
            member_id=bob,
            rule="semantic.threat",
            category="threat",
            action="hold",
            actor=store.ACTOR_RULES,
            layer="encoder",
            score=0.93,
            created_at=now,
        ),
    )
    [entry] = await store.recent_log(db, circle)
    assert (entry.layer, entry.score) == ("encoder", 0.93)


async def test_examples_are_kept_per_circle_exported_and_forgotten(
    db: Database, now: datetime
) -> None:
    circle = await _circle(db, now)
    other = (
        await members.get_or_create_circle(
            db, "discord", "other", name="o", locale="en", timezone="UTC", now=now
        )
    ).id
    assert other is not None
    bob, ana = await _member(db, "bob", now), await _member(db, "ana", now)
    for minutes, (where, who, text) in enumerate(
        ((circle, bob, "premier"), (circle, ana, "second"), (other, bob, "ailleurs"))
    ):
        await store.add_example(
            db,
            store.Example(
                circle_id=where,
                member_id=who,
                text=text,
                created_at=now + timedelta(minutes=minutes),
            ),
        )
    assert [e.text for e in await store.examples(db, circle)] == ["premier", "second"]
    assert await store.example_circles(db, bob) == {circle, other}
    exported = await store.export_member(db, bob)
    assert sorted(e["text"] for e in exported["approved_examples"]) == ["ailleurs", "premier"]
    await store.erase_member(db, bob)
    assert [e.text for e in await store.examples(db, circle)] == ["second"]
    assert await store.examples(db, other) == []
    assert await store.example_circles(db, bob) == set()
