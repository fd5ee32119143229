"""Courtesy semantic layer: who decided and why (layer, score, term) in the audit log;
approved examples.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-14

"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Give audit rows a layer, a score and a term; create the approved examples table."""
    with op.batch_alter_table("courtesy_audit") as batch:
        batch.add_column(sa.Column("layer", sa.String(length=16), nullable=True))
        batch.add_column(sa.Column("score", sa.Float(), nullable=True))
        batch.add_column(sa.Column("term", sa.String(length=200), nullable=True))
    op.create_table(
        "courtesy_examples",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("circle_id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["circle_id"],
            ["circles.id"],
            name=op.f("fk_courtesy_examples_circle_id_circles"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["members.id"],
            name=op.f("fk_courtesy_examples_member_id_members"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_courtesy_examples")),
    )
    op.create_index(
        op.f("ix_courtesy_examples_circle_id"), "courtesy_examples", ["circle_id"], unique=False
    )
    op.create_index(
        op.f("ix_courtesy_examples_member_id"), "courtesy_examples", ["member_id"], unique=False
    )


def downgrade() -> None:
    """Drop the approved examples and the audit rows' layer, score and term."""
    op.drop_index(op.f("ix_courtesy_examples_member_id"), table_name="courtesy_examples")
    op.drop_index(op.f("ix_courtesy_examples_circle_id"), table_name="courtesy_examples")
    op.drop_table("courtesy_examples")
    with op.batch_alter_table("courtesy_audit") as batch:
        batch.drop_column("term")
        batch.drop_column("score")
        batch.drop_column("layer")
