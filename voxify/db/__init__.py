"""Metadata database: SQLAlchemy 2 models, engine/session, Alembic migrations."""
