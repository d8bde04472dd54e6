"""Database engine and sessions; the edge that opens a session owns its transaction."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

log = logging.getLogger(__name__)
_AFTER_ROLLBACK = "voxify.after_rollback"


def make_engine(url: str) -> Engine:
    """Create an engine; SQLite gets WAL, a busy timeout and foreign keys."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    if parsed.drivername == "postgresql":  # prefer psycopg 3, the driver we ship
        url = parsed.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions that keep loaded attributes after commit (rows are returned to callers)."""
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def session_scope(factory: sessionmaker[Session]) -> Iterator[Session]:
    """One unit of work: commit on success, roll back on any error.

    Work registered with :func:`after_rollback` runs after a rollback, each in its own new
    transaction (what a refused request must still record, such as the refusal itself).
    """
    session = factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        for work in session.info.pop(_AFTER_ROLLBACK, ()):
            try:
                with session_scope(factory) as fresh:
                    work(fresh)
            except Exception:  # the original error is what the caller must see
                log.warning("work after a rollback failed", exc_info=True)
        raise
    finally:
        session.close()


def after_rollback(session: Session, work: Callable[[Session], None]) -> None:
    """Run ``work`` in a fresh transaction if ``session``'s transaction rolls back."""
    session.info.setdefault(_AFTER_ROLLBACK, []).append(work)
