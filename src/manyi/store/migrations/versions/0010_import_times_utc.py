"""imported response times stored in UTC on SQLite

Before this revision an imported response's time (Asia/Shanghai, as files are read) was
written to SQLite as its wall-clock time, which SQLite keeps without an offset, and read back
as UTC: eight hours late, so that an answer given at 20:00 on 31 March counted in April. The
import now stores UTC; this revision moves the times imported before it back by those eight
hours (Asia/Shanghai has no daylight saving time). PostgreSQL kept the offset and is left
as it is; so are responses given through the survey pages and the API, stored in UTC. The
dashboard's rollup of SQLite stores is emptied and built again from the corrected times.

Revision ID: 0010
Revises: 0009
"""

from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

SHIFT = (
    "UPDATE response SET submitted_at = "
    "strftime('%Y-%m-%d %H:%M:%S', submitted_at, '{hours} hours') || substr(submitted_at, 20) "
    "WHERE source = 'import' AND submitted_at IS NOT NULL"
)


def _shift(hours: str) -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute(SHIFT.format(hours=hours))
        # the dashboard's monthly sums were counted from the old times: built again on first use
        op.execute("DELETE FROM score_rollup")
        op.execute("DELETE FROM rollup_state")


def upgrade() -> None:
    _shift("-8")


def downgrade() -> None:
    _shift("+8")
