"""The local time zone of the project: the zone of every time written without an offset
(files, options), of the months responses count in, and of the built-in business calendar.
A module of its own so that reading a file needs nothing else (docs/responses.md)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

#: mainland China's time, without daylight saving time
LOCAL_TZ = "Asia/Shanghai"


def local(t: datetime) -> datetime:
    """A time as a user wrote it: without an offset it is :data:`LOCAL_TZ` time."""
    return t if t.tzinfo is not None else t.replace(tzinfo=ZoneInfo(LOCAL_TZ))
