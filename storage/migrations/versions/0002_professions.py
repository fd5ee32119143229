"""Professions: members' professions, proposals and custom professions.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22

Reserved in the chain so features built in parallel keep one linear history; the feature
fills in its tables here.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create the professions tables."""
    op.create_table(
        "member_professions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=120), nullable=False),
        sa.Column("wording", sa.String(length=100), nullable=False),
        sa.Column("set_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["members.id"],
            name=op.f("fk_member_professions_member_id_members"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_member_professions")),
        sa.UniqueConstraint("member_id", name=op.f("uq_member_professions_member_id")),
    )
    op.create_index(op.f("ix_member_professions_key"), "member_professions", ["key"], unique=False)
    op.create_table(
        "circle_profession_members",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("circle_id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("set_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["circle_id"],
            ["circles.id"],
            name=op.f("fk_circle_profession_members_circle_id_circles"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["members.id"],
            name=op.f("fk_circle_profession_members_member_id_members"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_circle_profession_members")),
        sa.UniqueConstraint("circle_id", "member_id", name="uq_circle_profession_members_member"),
    )
    op.create_index(
        op.f("ix_circle_profession_members_member_id"),
        "circle_profession_members",
        ["member_id"],
        unique=False,
    )
    op.create_table(
        "custom_professions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("circle_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=120), nullable=False),
        sa.Column("label", sa.String(length=100), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["circle_id"],
            ["circles.id"],
            name=op.f("fk_custom_professions_circle_id_circles"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_custom_professions")),
        sa.UniqueConstraint("circle_id", "key", name="uq_custom_professions_key"),
    )
    op.create_table(
        "profession_proposals",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("circle_id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("wording", sa.String(length=100), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("resolved_key", sa.String(length=120), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("resolved_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["circle_id"],
            ["circles.id"],
            name=op.f("fk_profession_proposals_circle_id_circles"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["members.id"],
            name=op.f("fk_profession_proposals_member_id_members"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_profession_proposals")),
    )
    op.create_index(
        op.f("ix_profession_proposals_circle_id"),
        "profession_proposals",
        ["circle_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_profession_proposals_member_id"),
        "profession_proposals",
        ["member_id"],
        unique=False,
    )


def downgrade() -> None:
    """Drop the professions tables."""
    op.drop_index(op.f("ix_profession_proposals_member_id"), table_name="profession_proposals")
    op.drop_index(op.f("ix_profession_proposals_circle_id"), table_name="profession_proposals")
    op.drop_table("profession_proposals")
    op.drop_table("custom_professions")
    op.drop_index(
        op.f("ix_circle_profession_members_member_id"), table_name="circle_profession_members"
    )
    op.drop_table("circle_profession_members")
    op.drop_index(op.f("ix_member_professions_key"), table_name="member_professions")
    op.drop_table("member_professions")
