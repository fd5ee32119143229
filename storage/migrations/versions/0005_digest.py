"""Digests: one stored digest per round, and the answers' sentence-embedding cache.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-22

"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create the digest tables."""
    op.create_table(
        "digests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("round_id", sa.Integer(), nullable=False),
        sa.Column("circle_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("locale", sa.String(length=8), nullable=False),
        sa.Column("data", sa.Text(), nullable=False),
        sa.Column("markdown", sa.Text(), nullable=False),
        sa.Column("chart", sa.LargeBinary(), nullable=True),
        sa.Column("message_ids", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("posted_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["circle_id"],
            ["circles.id"],
            name=op.f("fk_digests_circle_id_circles"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["round_id"],
            ["rounds.id"],
            name=op.f("fk_digests_round_id_rounds"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_digests")),
        sa.UniqueConstraint("round_id", name=op.f("uq_digests_round_id")),
    )
    op.create_index(op.f("ix_digests_circle_id"), "digests", ["circle_id"], unique=False)
    op.create_table(
        "digest_embeddings",
        sa.Column("answer_id", sa.Integer(), nullable=False),
        sa.Column("text_hash", sa.String(length=40), nullable=False),
        sa.Column("sentences", sa.Integer(), nullable=False),
        sa.Column("dims", sa.Integer(), nullable=False),
        sa.Column("vectors", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["answer_id"],
            ["answers.id"],
            name=op.f("fk_digest_embeddings_answer_id_answers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("answer_id", name=op.f("pk_digest_embeddings")),
    )


def downgrade() -> None:
    """Drop the digest tables."""
    op.drop_table("digest_embeddings")
    op.drop_index(op.f("ix_digests_circle_id"), table_name="digests")
    op.drop_table("digests")
