"""Engines, sessions and migrations of the store."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

from manyi.core.messages import ManyiError, Message


def instant(t: datetime | None) -> datetime | None:
    """A stored time as an aware instant: SQLite keeps no offset, and every time the store
    writes is UTC (PostgreSQL returns the offset itself)."""
    return None if t is None else (t if t.tzinfo is not None else t.replace(tzinfo=UTC))


def default_url() -> str:
    """``MANYI_DATABASE_URL``, else a SQLite file in the user's data directory."""
    url = os.environ.get("MANYI_DATABASE_URL")
    if url:
        return url
    from platformdirs import user_data_dir

    folder = Path(user_data_dir("manyi", appauthor=False))
    folder.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{folder / 'manyi.db'}"


def _sqlite_pragmas(dbapi_conn, _record) -> None:  # pragma: no cover - runs inside SQLAlchemy
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA busy_timeout=5000")
    cur.close()


_ENGINES: dict[str, Engine] = {}


def engine(url: str | None = None) -> Engine:
    """The engine of ``url`` (default: :func:`default_url`), with WAL and foreign keys on
    SQLite; one per URL and process."""
    url = url or default_url()
    if url in _ENGINES:
        return _ENGINES[url]
    _ENGINES[url] = eng = _create(url)
    return eng


def dispose_all() -> None:
    """Close every pooled connection (before a database is dropped, or a process forks)."""
    for eng in _ENGINES.values():
        eng.dispose()
    _ENGINES.clear()
    _CURRENT.clear()


def _create(url: str) -> Engine:
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    try:
        eng = create_engine(url, future=True, pool_pre_ping=True)
    except Exception as exc:  # a malformed URL or a missing driver: the user's to fix
        raise ManyiError(
            Message("store.bad_url", {"url": _safe(url), "detail": str(exc)})
        ) from None
    if eng.dialect.name == "sqlite":
        event.listen(eng, "connect", _sqlite_pragmas)
    return eng


def _safe(url: str) -> str:
    """A URL for a message: the password hidden."""
    if "@" in url and "://" in url:
        scheme, rest = url.split("://", 1)
        creds, host = rest.rsplit("@", 1)
        user = creds.split(":", 1)[0]
        return f"{scheme}://{user}:***@{host}" if ":" in creds else url
    return url


def alembic_config(url: str):
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(resources.files("manyi.store") / "migrations"))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def upgrade(url: str | None = None) -> str:
    """Create or upgrade the schema to the newest migration; returns the revision."""
    from alembic import command
    from alembic.runtime.migration import MigrationContext

    url = url or default_url()
    eng = engine(url)
    try:
        with eng.begin() as conn:
            cfg = alembic_config(url)
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "head")
        with eng.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision() or ""
    except ManyiError:
        raise
    except Exception as exc:  # cannot connect, no permission: one sentence
        raise ManyiError(
            Message("store.unreachable", {"url": _safe(url), "detail": str(exc).splitlines()[0]})
        ) from None


_CURRENT: set[str] = set()


def ensure_schema(url: str | None = None) -> Engine:
    """The engine, with the schema upgraded to the newest migration first (once per process
    and database: a new database is created, an older one upgraded)."""
    url = url or default_url()
    eng = engine(url)
    if url not in _CURRENT:
        upgrade(url)
        _CURRENT.add(url)
    return eng


@contextmanager
def session(url: str | None = None) -> Iterator[Session]:
    """A session in one transaction: committed on success, rolled back on any error."""
    maker = sessionmaker(ensure_schema(url), expire_on_commit=False, future=True)
    with maker() as s:
        with s.begin():
            yield s
