"""Business calendars: working time between instants and due instants of service levels.

A calendar is a time zone, the working hours of a working day (e.g. 09:00-12:00 and
13:00-17:30, a lunch break between), the working weekdays, and two lists of exceptions:
holidays (closed although a weekday) and adjusted working days (调休: open although a
weekend). Hours are wall-clock times of the zone, so a working day across a daylight-saving
change lasts what the clocks say it lasts: every instant is converted through the zone
(``zoneinfo``), and the working time of an interval is its real elapsed time.

Durations (docs/cases.md):

- ``Nm`` and ``Nh`` count working time only: the due instant is where the working time after
  the start reaches N minutes or hours (a start outside working hours waits for the next
  opening; a target reached exactly at a closing time is due at that closing time);
- ``Nd`` is "by the close of the N-th working day after the day of receipt": the local date of
  the start is the day of receipt, working or not; ``0d`` is the close of that day if it is a
  working day, else of the next working day.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from manyi.core.localtime import LOCAL_TZ
from manyi.core.messages import ManyiError, Message

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([mhd])\s*$")
HOURS = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")
MAX_DAYS = 3660  # a search never walks more than ten years of days


@dataclass(frozen=True)
class Calendar:
    """A business calendar. ``hours`` are (start, end) minutes after local midnight, sorted and
    not overlapping (end may be 1440, midnight at the end of the day)."""

    timezone: str = LOCAL_TZ
    hours: tuple[tuple[int, int], ...] = ((540, 720), (780, 1050))
    weekdays: frozenset[int] = frozenset({0, 1, 2, 3, 4})
    holidays: frozenset[date] = field(default_factory=frozenset)
    workdays: frozenset[date] = field(default_factory=frozenset)
    name: str = ""

    @property
    def zone(self) -> ZoneInfo:
        return _zone(self.timezone)

    def is_working_day(self, d: date) -> bool:
        if d in self.workdays:
            return True
        if d in self.holidays:
            return False
        return d.weekday() in self.weekdays

    def day_intervals(self, d: date) -> list[tuple[datetime, datetime]]:
        """The working intervals of local date ``d`` as UTC instants (empty on a closed day)."""
        if not self.is_working_day(d):
            return []
        return [(_at(d, a, self.zone), _at(d, b, self.zone)) for a, b in self.hours]

    # --- arithmetic -------------------------------------------------------------------------
    def between(self, start: datetime, end: datetime) -> float:
        """Working seconds in [start, end); negative when ``end`` is before ``start``."""
        start, end = _utc(start, self.zone), _utc(end, self.zone)
        if end < start:
            return -self.between(end, start)
        total = 0.0
        d = start.astimezone(self.zone).date() - timedelta(days=1)
        last = end.astimezone(self.zone).date() + timedelta(days=1)
        while d <= last:
            for a, b in self.day_intervals(d):
                lo, hi = max(a, start), min(b, end)
                if hi > lo:
                    total += (hi - lo).total_seconds()
            d += timedelta(days=1)
        return total

    def add(self, start: datetime, seconds: float) -> datetime:
        """The instant when ``seconds`` of working time after ``start`` have passed."""
        start = _utc(start, self.zone)
        if not self.hours or not (self.weekdays or self.workdays):
            raise ManyiError(Message("cal.never_open", {"name": self.name or "calendar"}))
        left = float(seconds)
        d = start.astimezone(self.zone).date() - timedelta(days=1)
        for _ in range(MAX_DAYS):
            for a, b in self.day_intervals(d):
                lo = max(a, start)
                if b <= lo:
                    continue
                span = (b - lo).total_seconds()
                if left <= span:
                    return lo + timedelta(seconds=left)
                left -= span
            d += timedelta(days=1)
        raise ManyiError(Message("cal.never_open", {"name": self.name or "calendar"}))

    def close_of_working_day(self, start: datetime, n: int) -> datetime:
        """The close of the ``n``-th working day after the local day of ``start`` (``n`` = 0:
        that day if it is a working day, else the next working day)."""
        start = _utc(start, self.zone)
        d = start.astimezone(self.zone).date()
        if n == 0 and self.is_working_day(d):
            return self.day_intervals(d)[-1][1]
        count = 0
        for _ in range(MAX_DAYS):
            d += timedelta(days=1)
            if self.is_working_day(d) and self.hours:
                count += 1
                if count >= max(n, 1):
                    return self.day_intervals(d)[-1][1]
        raise ManyiError(Message("cal.never_open", {"name": self.name or "calendar"}))

    def due(self, start: datetime, duration: str) -> datetime:
        """The due instant of a duration (``30m``, ``4h``, ``3d``) from ``start``."""
        amount, unit = parse_duration(duration)
        if unit == "d":
            return self.close_of_working_day(start, int(amount))
        return self.add(start, amount * (60 if unit == "m" else 3600))

    def local(self, t: datetime) -> datetime:
        """``t`` in the calendar's zone (for display: ISO-8601 with the zone's offset)."""
        return _utc(t, self.zone).astimezone(self.zone)


def parse_duration(text: str) -> tuple[float, str]:
    """``"30m"`` → (30, "m"); days must be whole."""
    m = DURATION.match(str(text))
    if not m:
        raise ManyiError(Message("cal.bad_duration", {"value": text}))
    amount, unit = float(m.group(1)), m.group(2)
    if unit == "d" and amount != int(amount):
        raise ManyiError(Message("cal.bad_duration", {"value": text}))
    return amount, unit


def parse_hours(spans: list[str]) -> tuple[tuple[int, int], ...]:
    """``["09:00-12:00", "13:00-17:30"]`` → minutes after midnight, checked: each span ends
    after it starts, spans do not overlap, no time after 24:00."""
    out = []
    for s in spans:
        m = HOURS.match(str(s))
        if not m:
            raise ManyiError(Message("cal.bad_hours", {"value": s}))
        h1, m1, h2, m2 = (int(g) for g in m.groups())
        a, b = h1 * 60 + m1, h2 * 60 + m2
        if m1 > 59 or m2 > 59 or a >= b or b > 1440:
            raise ManyiError(Message("cal.bad_hours", {"value": s}))
        out.append((a, b))
    out.sort()
    for (_, b), (a, _) in zip(out, out[1:], strict=False):
        if a < b:
            raise ManyiError(Message("cal.overlap", {"value": ", ".join(map(str, spans))}))
    return tuple(out)


def parse_weekdays(days: list[str]) -> frozenset[int]:
    out = set()
    for d in days:
        k = str(d).strip().lower()[:3]
        if k not in WEEKDAYS:
            raise ManyiError(Message("cal.bad_weekday", {"value": d, "choices": ", ".join(WEEKDAYS)}))
        out.add(WEEKDAYS.index(k))
    return frozenset(out)


@lru_cache(maxsize=64)
def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ManyiError(Message("cal.bad_zone", {"value": name})) from None


def zone(name: str) -> ZoneInfo:
    """The time zone ``name`` (a clear message for an unknown one)."""
    return _zone(name)


def _at(d: date, minutes: int, tz: ZoneInfo) -> datetime:
    """Local wall-clock ``minutes`` after midnight of ``d`` in ``tz``, as a UTC instant.

    24:00 is the next midnight. A wall time that the clocks skip (spring forward) is the
    instant they jump: the first moment the clock shows that time or later. A wall time they
    show twice (fall back) is its first showing."""
    if minutes >= 1440:
        local = datetime.combine(d + timedelta(days=1), time(0), tzinfo=tz)
    else:
        local = datetime.combine(d, time(minutes // 60, minutes % 60), tzinfo=tz)
    u = local.astimezone(UTC)
    if u.astimezone(tz).replace(tzinfo=None) == local.replace(tzinfo=None):
        return u
    # skipped: the jump lies between the two readings of the offset; find its second
    lo, hi = sorted((int(local.replace(fold=1).astimezone(UTC).timestamp()), int(u.timestamp())))
    wall = local.replace(tzinfo=None)
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if datetime.fromtimestamp(mid, UTC).astimezone(tz).replace(tzinfo=None) >= wall:
            hi = mid
        else:
            lo = mid
    return datetime.fromtimestamp(hi, UTC)


def _utc(t: datetime, tz: ZoneInfo) -> datetime:
    """An aware UTC instant; a naive time is read in the calendar's zone."""
    if t.tzinfo is None:
        t = t.replace(tzinfo=tz)
    return t.astimezone(UTC)
