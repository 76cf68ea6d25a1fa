"""Persistence: typed models, the engine, the job queue and the Alembic migrations."""
