"""Exactly once: the settled events, the performed side effects, and leases on job runs.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-07

"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create the ledger tables; give job runs a lease and an attempt count."""
    op.create_table(
        "handled_events",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("platform", sa.String(length=32), nullable=False),
        sa.Column("channel_id", sa.String(length=255), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=8), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("handled_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_handled_events")),
    )
    op.create_index(
        op.f("ix_handled_events_channel_id"), "handled_events", ["channel_id"], unique=False
    )
    op.create_index(
        op.f("ix_handled_events_handled_at"), "handled_events", ["handled_at"], unique=False
    )
    op.create_table(
        "effects",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("scope", sa.String(length=64), nullable=False),
        sa.Column("result", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_effects")),
    )
    op.create_index(op.f("ix_effects_created_at"), "effects", ["created_at"], unique=False)
    op.create_index(op.f("ix_effects_scope"), "effects", ["scope"], unique=False)
    with op.batch_alter_table("job_runs") as batch:
        batch.add_column(sa.Column("lease_until", sa.DateTime(), nullable=True))
        batch.add_column(sa.Column("attempts", sa.Integer(), nullable=False, server_default="1"))


def downgrade() -> None:
    """Drop the ledger tables and the job runs' lease."""
    with op.batch_alter_table("job_runs") as batch:
        batch.drop_column("attempts")
        batch.drop_column("lease_until")
    op.drop_index(op.f("ix_effects_scope"), table_name="effects")
    op.drop_index(op.f("ix_effects_created_at"), table_name="effects")
    op.drop_table("effects")
    op.drop_index(op.f("ix_handled_events_handled_at"), table_name="handled_events")
    op.drop_index(op.f("ix_handled_events_channel_id"), table_name="handled_events")
    op.drop_table("handled_events")
