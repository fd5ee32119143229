"""Professions: members' professions, proposals and custom professions.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22

Reserved in the chain so features built in parallel keep one linear history; the feature
fills in its tables here.
"""

from __future__ import annotations

from collections.abc import Sequence

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""


def downgrade() -> None:
    """Revert this revision."""
