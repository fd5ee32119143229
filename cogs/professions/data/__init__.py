"""The bundled professions vocabulary (``professions.json``)."""
