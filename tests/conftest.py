from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest

from manyi.io.instruments import example_path, load_example


@pytest.fixture
def after_sales():
    return load_example("after-sales")


@pytest.fixture
def b2b():
    return load_example("b2b-shipping")


@pytest.fixture
def examples_dir() -> Path:
    return example_path("after-sales").parent


# --- the store on SQLite and PostgreSQL ------------------------------------------------
PG_ADMIN = os.environ.get("MANYI_TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")


def _pg_database():
    import psycopg

    name = f"manyi_t_{uuid.uuid4().hex[:10]}"
    dsn = PG_ADMIN.replace("postgresql+psycopg://", "postgresql://")
    try:
        with psycopg.connect(dsn, autocommit=True, connect_timeout=3) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
    except Exception as exc:  # no server here: say so
        pytest.skip(f"PostgreSQL not reachable at {PG_ADMIN}: {str(exc).splitlines()[0]}")
    base = dsn.rsplit("/", 1)[0]
    return f"{base}/{name}", lambda: _drop(dsn, name)


def _drop(dsn: str, name: str) -> None:
    import psycopg

    from manyi.store import db

    db.dispose_all()
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request, tmp_path, monkeypatch):
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'manyi.db'}"
        monkeypatch.setenv("MANYI_DATABASE_URL", url)
        yield url
        return
    url, drop = _pg_database()
    monkeypatch.setenv("MANYI_DATABASE_URL", url)
    yield url
    drop()





def pytest_configure(config):
    """Tests never touch the user's embedded store: without MANYI_DATABASE_URL they share a
    SQLite file in a temporary folder (store tests choose their own database). Each process
    gets its own: the workers of ``pytest -n`` inherit the controller's environment, and two
    workers running the demo into one file would race."""
    if not os.environ.get("MANYI_DATABASE_URL") or os.environ.get("MANYI_TEST_STORE_AUTO"):
        import tempfile

        folder = tempfile.mkdtemp(prefix="manyi-test-store-")
        os.environ["MANYI_DATABASE_URL"] = f"sqlite:///{folder}/manyi.db"
        os.environ["MANYI_TEST_STORE_AUTO"] = "1"
