"""Rounds: circle settings, prompt bank, rounds, answers, comments, reactions.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22

Reserved in the chain so features built in parallel keep one linear history; the feature
fills in its tables here.
"""

from __future__ import annotations

from collections.abc import Sequence

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""


def downgrade() -> None:
    """Revert this revision."""
