"""The store: SQLAlchemy 2 over an embedded SQLite file (default) or PostgreSQL.

``MANYI_DATABASE_URL`` chooses the database (``sqlite:///path.db``,
``postgresql+psycopg://user@host/db``); without it the store is ``manyi.db`` in the user's
data directory (platformdirs). The schema is created and upgraded by Alembic migrations
(``manyi db upgrade``, also run on first use).
"""
