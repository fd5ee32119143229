"""Votes: statements of a round (drafted, proposed, posted) and members' private votes.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-21

"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create the statements and votes tables."""
    op.create_table(
        "vote_statements",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("round_id", sa.Integer(), nullable=False),
        sa.Column("circle_id", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("proposed_by", sa.Integer(), nullable=True),
        sa.Column("message_id", sa.String(length=255), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("posted_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["circle_id"],
            ["circles.id"],
            name=op.f("fk_vote_statements_circle_id_circles"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["proposed_by"],
            ["members.id"],
            name=op.f("fk_vote_statements_proposed_by_members"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["round_id"],
            ["rounds.id"],
            name=op.f("fk_vote_statements_round_id_rounds"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_vote_statements")),
    )
    for column in ("circle_id", "proposed_by", "round_id"):
        op.create_index(
            op.f(f"ix_vote_statements_{column}"), "vote_statements", [column], unique=False
        )
    op.create_table(
        "votes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("statement_id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("choice", sa.String(length=16), nullable=False),
        sa.Column("profession_key", sa.String(length=64), nullable=False),
        sa.Column("voted_at", sa.DateTime(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["members.id"],
            name=op.f("fk_votes_member_id_members"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["statement_id"],
            ["vote_statements.id"],
            name=op.f("fk_votes_statement_id_vote_statements"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_votes")),
        sa.UniqueConstraint("statement_id", "member_id", name="uq_votes_once"),
    )
    op.create_index(op.f("ix_votes_member_id"), "votes", ["member_id"], unique=False)
    op.create_index(op.f("ix_votes_statement_id"), "votes", ["statement_id"], unique=False)


def downgrade() -> None:
    """Drop the votes and statements tables."""
    op.drop_index(op.f("ix_votes_statement_id"), table_name="votes")
    op.drop_index(op.f("ix_votes_member_id"), table_name="votes")
    op.drop_table("votes")
    for column in ("round_id", "proposed_by", "circle_id"):
        op.drop_index(op.f(f"ix_vote_statements_{column}"), table_name="vote_statements")
    op.drop_table("vote_statements")
