"""Every table of Cercle, registered on ``SQLModel.metadata`` (for Alembic and the schema tests).

Each feature keeps its tables and queries in its own ``storage/<feature>.py`` module; import it
here so migrations see it.
"""

from __future__ import annotations

import storage.courtesy
import storage.digest
import storage.ledger
import storage.models
import storage.professions
import storage.rounds
import storage.votes  # noqa: F401
