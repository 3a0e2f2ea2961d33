"""The Alembic environment and migration scripts (loaded by Alembic, not imported)."""
