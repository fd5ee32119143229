"""Alembic migrations of the Cercle database."""
