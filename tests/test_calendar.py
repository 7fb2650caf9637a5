"""Business calendars: working time and due instants, checked against an independent count
(minute by minute, reading each minute's wall clock in the zone) on random calendars with
holidays, adjusted working days (调休), lunch breaks and zones with daylight saving; the
built-in cn calendar against the chinesecalendar package; the command line's JSON."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from manyi.cli import app as cli
from manyi.core.calendar import Calendar, parse_hours
from manyi.core.messages import ManyiError
from manyi.io.calendars import cn, from_dict

runner = CliRunner()
ZONES = ["Asia/Shanghai", "Europe/Berlin", "America/New_York"]
# DST changes: Berlin 2026-03-29 and 10-25 (02:00/03:00), New York 2026-03-08 and 11-01
DAY0 = date(2026, 2, 23)


def brute_seconds(cal: Calendar, start: datetime, end: datetime) -> int:
    """Working seconds in [start, end) counted minute by minute (start and end on minutes)."""
    tz = ZoneInfo(cal.timezone)
    t, total = start, 0
    while t < end:
        local = t.astimezone(tz)
        m = local.hour * 60 + local.minute
        if cal.is_working_day(local.date()) and any(a <= m < b for a, b in cal.hours):
            total += 60
        t += timedelta(minutes=1)
    return total


# working hours whose edges never fall in an hour the clocks repeat (01:00-02:00 in New York,
# 02:00-03:00 in Berlin, on the autumn change): there "the first showing" is a convention
EDGES = [0, 6 * 60, 7 * 60 + 30, 9 * 60, 12 * 60, 13 * 60, 17 * 60 + 30, 18 * 60, 22 * 60, 24 * 60]


@st.composite
def calendars(draw):
    cuts = sorted(draw(st.sets(st.sampled_from(EDGES), min_size=2, max_size=6)))
    spans = [(cuts[i], cuts[i + 1]) for i in range(0, len(cuts) - 1, 2)]
    hours = ",".join(f"{a // 60:02d}:{a % 60:02d}-{b // 60:02d}:{b % 60:02d}" for a, b in spans).split(",")
    weekdays = draw(st.sets(st.integers(0, 6), min_size=1))
    days = [DAY0 + timedelta(days=i) for i in range(300)]
    holidays = draw(st.sets(st.sampled_from(days), max_size=15))
    workdays = draw(st.sets(st.sampled_from(days), max_size=8)) - holidays
    return Calendar(draw(st.sampled_from(ZONES)), parse_hours(hours), frozenset(weekdays),
                    frozenset(holidays), frozenset(workdays))


def instants(days: int = 280):
    return st.integers(0, days * 24 * 60).map(lambda m: datetime(2026, 2, 23, tzinfo=UTC) + timedelta(minutes=m))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(calendars(), instants(), st.integers(0, 9 * 24 * 60))
def test_working_time_between_two_instants_equals_a_minute_by_minute_count(cal, start, minutes):
    end = start + timedelta(minutes=minutes)
    assert cal.between(start, end) == brute_seconds(cal, start, end)
    assert cal.between(end, start) == -cal.between(start, end)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(calendars(), instants(), st.integers(1, 3000))
def test_a_due_instant_is_the_first_with_that_much_working_time(cal, start, minutes):
    due = cal.due(start, f"{minutes}m")
    assert cal.between(start, due) == minutes * 60
    # one minute earlier is too early: the target is reached exactly at the due instant
    assert brute_seconds(cal, start, due - timedelta(minutes=1)) < minutes * 60
    if minutes % 60 == 0:  # hours are sixty working minutes
        assert cal.due(start, f"{minutes // 60}h") == due


@settings(max_examples=60, deadline=None)
@given(calendars(), instants(), st.integers(0, 12))
def test_n_days_is_the_close_of_the_nth_working_day_after_the_day_of_receipt(cal, start, n):
    tz = ZoneInfo(cal.timezone)
    due = cal.due(start, f"{n}d").astimezone(tz)
    day = (due - timedelta(seconds=1)).date()  # a close at 24:00 belongs to the day before
    received = start.astimezone(tz).date()
    working_after = [received + timedelta(days=i) for i in range(1, (day - received).days + 1)
                     if cal.is_working_day(received + timedelta(days=i))]
    if n == 0 and cal.is_working_day(received):
        assert day == received
    else:
        assert len(working_after) == max(n, 1) and working_after[-1] == day
    last_close = max(b for _, b in cal.hours)
    closes = 0 if last_close == 1440 else last_close
    assert due.hour * 60 + due.minute == closes


def test_a_working_day_across_the_spring_change_lasts_what_the_clocks_say():
    ny = Calendar("America/New_York", parse_hours(["01:00-04:00"]), frozenset(range(7)))
    day = date(2026, 3, 8)  # 02:00 EST becomes 03:00 EDT
    a = datetime(2026, 3, 8, tzinfo=ZoneInfo("America/New_York"))
    assert ny.between(a, a + timedelta(days=1)) == 2 * 3600
    late = Calendar("America/New_York", parse_hours(["02:30-05:00"]), frozenset(range(7)))
    assert late.between(a, a + timedelta(days=1)) == 2 * 3600  # opens when the clock jumps to 03:00
    assert late.day_intervals(day)[0][0] == datetime(2026, 3, 8, 7, 0, tzinfo=UTC)
    berlin = Calendar("Europe/Berlin", parse_hours(["00:00-24:00"]), frozenset(range(7)))
    b = datetime(2026, 10, 25, tzinfo=ZoneInfo("Europe/Berlin"))
    assert berlin.between(b, b + timedelta(days=1)) == 25 * 3600  # the autumn day has 25 hours


def test_cn_has_the_official_holidays_and_adjusted_working_days():
    import chinese_calendar

    cal = cn()
    for d in [date(2026, 1, 1) + timedelta(days=i) for i in range(365)]:
        assert cal.is_working_day(d) == chinese_calendar.is_workday(d), d
    assert not cal.is_working_day(date(2026, 10, 1)) and cal.is_working_day(date(2026, 10, 10))  # a Saturday
    start = datetime(2026, 9, 30, 16, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
    assert cal.due(start, "2h") == datetime(2026, 10, 8, 9, 30, tzinfo=ZoneInfo("Asia/Shanghai"))
    assert cal.due(start, "1d") == datetime(2026, 10, 8, 17, 30, tzinfo=ZoneInfo("Asia/Shanghai"))


def test_a_yaml_calendar_starts_from_cn_and_adds_its_own_dates(tmp_path):
    cal = from_dict({"base": "cn", "hours": ["09:00-12:00", "13:00-17:30"],
                     "holidays": ["2026-06-18"], "workdays": ["2026-06-28"]})
    assert not cal.is_working_day(date(2026, 6, 18)) and cal.is_working_day(date(2026, 6, 28))
    assert not cal.is_working_day(date(2026, 6, 19))  # 端午节, from cn
    for bad, key in [({"hours": ["9-12"]}, "HH:MM"), ({"weekdays": ["monday", "xyz"]}, "xyz"),
                     ({"timezone": "Mars/Base"}, "Mars/Base"), ({"base": "us"}, "us"),
                     ({"holidays": ["2026-13-01"]}, "2026-13-01"), ({"hours": ["09:00-12:00", "11:00-13:00"]}, "overlap"),
                     ({"holiday": ["2026-06-18"]}, "holiday")]:
        with pytest.raises(ManyiError) as exc:
            from_dict(bad, "desk.yaml")
        assert key in exc.value.render("en")


def test_the_commands_print_json(tmp_path):
    f = tmp_path / "desk.yaml"
    f.write_text("calendar:\n  timezone: Europe/Berlin\n  hours: ['08:00-12:00', '13:00-17:00']\n"
                 "  weekdays: [mon, tue, wed, thu, fri]\n  holidays: ['2026-04-06']\n", encoding="utf-8")
    r = runner.invoke(cli, ["calendar", "due", "--calendar", str(f), "--start", "2026-04-03T16:30:00+02:00",
                            "--in", "90m", "--format", "json"])
    assert r.exit_code == 0 and json.loads(r.stdout) == {"due": "2026-04-07T09:00:00+02:00"}  # Easter Monday off
    r = runner.invoke(cli, ["calendar", "between", "--calendar", str(f), "--start", "2026-03-27T16:00:00+01:00",
                            "--end", "2026-03-30T09:00:00+02:00", "--format", "json"])
    assert r.exit_code == 0 and json.loads(r.stdout) == {"business_seconds": 2 * 3600}
    r = runner.invoke(cli, ["calendar", "due", "--calendar", "cn", "--start", "2026-09-30T16:00:00+08:00",
                            "--in", "1d", "--format", "json"])
    assert json.loads(r.stdout) == {"due": "2026-10-08T17:30:00+08:00"}
    r = runner.invoke(cli, ["calendar", "due", "--start", "yesterday", "--in", "1h"])
    assert r.exit_code == 2 and "ISO-8601" in r.stderr
