"""Courtesy moderation: rules settings, audit log, strikes, mutes, the hosts' queue.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22

"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create the courtesy tables."""
    op.create_table(
        "courtesy_audit",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("circle_id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=True),
        sa.Column("message_id", sa.String(length=255), nullable=True),
        sa.Column("rule", sa.String(length=64), nullable=True),
        sa.Column("category", sa.String(length=16), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("actor", sa.String(length=16), nullable=False),
        sa.Column("actor_member_id", sa.Integer(), nullable=True),
        sa.Column("mode", sa.String(length=16), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["actor_member_id"],
            ["members.id"],
            name=op.f("fk_courtesy_audit_actor_member_id_members"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["circle_id"],
            ["circles.id"],
            name=op.f("fk_courtesy_audit_circle_id_circles"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["members.id"],
            name=op.f("fk_courtesy_audit_member_id_members"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_courtesy_audit")),
    )
    op.create_index(
        op.f("ix_courtesy_audit_circle_id"), "courtesy_audit", ["circle_id"], unique=False
    )
    op.create_index(
        op.f("ix_courtesy_audit_member_id"), "courtesy_audit", ["member_id"], unique=False
    )
    op.create_table(
        "courtesy_mutes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("circle_id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("until", sa.DateTime(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("lifted_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["circle_id"],
            ["circles.id"],
            name=op.f("fk_courtesy_mutes_circle_id_circles"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["members.id"],
            name=op.f("fk_courtesy_mutes_member_id_members"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_courtesy_mutes")),
    )
    op.create_index(
        op.f("ix_courtesy_mutes_circle_id"), "courtesy_mutes", ["circle_id"], unique=False
    )
    op.create_index(
        op.f("ix_courtesy_mutes_member_id"), "courtesy_mutes", ["member_id"], unique=False
    )
    op.create_table(
        "courtesy_queue",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("circle_id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=True),
        sa.Column("platform", sa.String(length=32), nullable=False),
        sa.Column("channel_id", sa.String(length=255), nullable=False),
        sa.Column("channel_name", sa.String(length=200), nullable=False),
        sa.Column("thread_id", sa.String(length=255), nullable=True),
        sa.Column("message_id", sa.String(length=255), nullable=True),
        sa.Column("author_id", sa.String(length=255), nullable=False),
        sa.Column("author_name", sa.String(length=200), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("redacted_text", sa.Text(), nullable=True),
        sa.Column("rule", sa.String(length=64), nullable=True),
        sa.Column("category", sa.String(length=16), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("reporter_member_id", sa.Integer(), nullable=True),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("decided_at", sa.DateTime(), nullable=True),
        sa.Column("decided_by", sa.Integer(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["circle_id"],
            ["circles.id"],
            name=op.f("fk_courtesy_queue_circle_id_circles"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["decided_by"],
            ["members.id"],
            name=op.f("fk_courtesy_queue_decided_by_members"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["members.id"],
            name=op.f("fk_courtesy_queue_member_id_members"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["reporter_member_id"],
            ["members.id"],
            name=op.f("fk_courtesy_queue_reporter_member_id_members"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_courtesy_queue")),
    )
    op.create_index(
        op.f("ix_courtesy_queue_circle_id"), "courtesy_queue", ["circle_id"], unique=False
    )
    op.create_index(
        op.f("ix_courtesy_queue_member_id"), "courtesy_queue", ["member_id"], unique=False
    )
    op.create_index(op.f("ix_courtesy_queue_status"), "courtesy_queue", ["status"], unique=False)
    op.create_table(
        "courtesy_settings",
        sa.Column("circle_id", sa.Integer(), nullable=False),
        sa.Column("mode", sa.String(length=16), nullable=False),
        sa.Column("charter", sa.Text(), nullable=True),
        sa.Column("overrides", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["circle_id"],
            ["circles.id"],
            name=op.f("fk_courtesy_settings_circle_id_circles"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("circle_id", name=op.f("pk_courtesy_settings")),
    )
    op.create_table(
        "courtesy_strikes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("circle_id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("weight", sa.Float(), nullable=False),
        sa.Column("rule", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("cleared_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["circle_id"],
            ["circles.id"],
            name=op.f("fk_courtesy_strikes_circle_id_circles"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["members.id"],
            name=op.f("fk_courtesy_strikes_member_id_members"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_courtesy_strikes")),
    )
    op.create_index(
        op.f("ix_courtesy_strikes_circle_id"), "courtesy_strikes", ["circle_id"], unique=False
    )
    op.create_index(
        op.f("ix_courtesy_strikes_member_id"), "courtesy_strikes", ["member_id"], unique=False
    )


def downgrade() -> None:
    """Drop the courtesy tables."""
    op.drop_index(op.f("ix_courtesy_strikes_member_id"), table_name="courtesy_strikes")
    op.drop_index(op.f("ix_courtesy_strikes_circle_id"), table_name="courtesy_strikes")
    op.drop_table("courtesy_strikes")
    op.drop_table("courtesy_settings")
    op.drop_index(op.f("ix_courtesy_queue_status"), table_name="courtesy_queue")
    op.drop_index(op.f("ix_courtesy_queue_member_id"), table_name="courtesy_queue")
    op.drop_index(op.f("ix_courtesy_queue_circle_id"), table_name="courtesy_queue")
    op.drop_table("courtesy_queue")
    op.drop_index(op.f("ix_courtesy_mutes_member_id"), table_name="courtesy_mutes")
    op.drop_index(op.f("ix_courtesy_mutes_circle_id"), table_name="courtesy_mutes")
    op.drop_table("courtesy_mutes")
    op.drop_index(op.f("ix_courtesy_audit_member_id"), table_name="courtesy_audit")
    op.drop_index(op.f("ix_courtesy_audit_circle_id"), table_name="courtesy_audit")
    op.drop_table("courtesy_audit")
