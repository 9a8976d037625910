"""Timetable arithmetic: wall-clock slots in the course's zone across a change of summer
time, holidays and term bounds; and the CSV reader's verdict on every kind of bad line."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

from services.timetable_slots import (
    RejectedLine,
    SlotRule,
    Timetable,
    parse_timetable_csv,
    slots_between,
)

MADRID = ZoneInfo("Europe/Madrid")
T0 = datetime(2027, 3, 1, tzinfo=UTC)


def term() -> Timetable:
    """Mon/Wed 10:00 for 90 minutes, 15-28 March 2027 and the week after; the 24th off.
    Madrid moves to summer time on Sunday 28 March 2027."""
    return Timetable(
        1,
        date(2027, 3, 15),
        date(2027, 4, 4),
        T0,
        rules=(SlotRule(0, time(10), 90), SlotRule(2, time(10), 90)),
        holidays=frozenset({date(2027, 3, 24)}),
        early_minutes=5,
        remind_minutes=15,
    )


def test_slots_keep_their_local_time_across_the_change_to_summer_time() -> None:
    slots = slots_between(term(), MADRID, T0, datetime(2027, 5, 1, tzinfo=UTC))
    assert [s.local_start.strftime("%a %d %H:%M %Z") for s in slots] == [
        "Mon 15 10:00 CET",
        "Wed 17 10:00 CET",
        "Mon 22 10:00 CET",
        "Mon 29 10:00 CEST",
        "Wed 31 10:00 CEST",
    ]
    assert [s.starts_at.hour for s in slots] == [9, 9, 9, 8, 8]  # UTC
    first = slots[0]
    assert first.minutes == 90
    assert first.opens_at == datetime(2027, 3, 15, 8, 55, tzinfo=UTC)
    assert first.remind_at == datetime(2027, 3, 15, 8, 40, tzinfo=UTC)


def test_only_slots_starting_in_the_window_are_given() -> None:
    start = datetime(2027, 3, 17, 9, 0, tzinfo=UTC)
    slots = slots_between(term(), MADRID, start, datetime(2027, 3, 22, 9, 0, tzinfo=UTC))
    assert [s.starts_at for s in slots] == [start]


def test_a_csv_with_bad_lines_imports_the_good_ones_and_names_each_bad_one() -> None:
    data = (
        b"kind;value;start;minutes\n"  # a header, and semicolons
        b"slot;Mon;10:00;90\n"
        b"slot;wednesday;10:00;90\n"
        b"slot;Mon;10:00;60\n"  # the same class twice
        b"slot;Funday;10:00;90\n"
        b"slot;Tue;25:00;90\n"
        b"slot;Thu;10:00;999\n"
        b"slot;Fri;=1+1;90\n"
        b"term;2027-03-15;2027-04-04\n"
        b"holiday;2027-03-24\n"
        b"holiday;2027-13-01\n"
        b"\n"
        b"lunch;12:00\n"
        b"early;5\n"
        b"remind;lots\n"
        b"slot;Mon\n"
    )
    empty = Timetable(1, date(2027, 1, 1), date(2027, 1, 31), T0, remind_minutes=10)
    result = parse_timetable_csv(data, empty, T0)
    assert result.timetable == Timetable(
        1,
        date(2027, 3, 15),
        date(2027, 4, 4),
        T0,
        rules=(SlotRule(0, time(10), 90), SlotRule(2, time(10), 90)),
        holidays=frozenset({date(2027, 3, 24)}),
        early_minutes=5,
        remind_minutes=10,
    )
    assert result.rejected == (
        RejectedLine(4, "duplicate"),
        RejectedLine(5, "weekday"),
        RejectedLine(6, "time"),
        RejectedLine(7, "length"),
        RejectedLine(8, "formula"),
        RejectedLine(11, "date"),
        RejectedLine(13, "kind"),
        RejectedLine(15, "remind_value"),
        RejectedLine(16, "slot_fields"),
    )


def test_a_latin1_csv_is_read() -> None:
    data = "slot,Mon,10:00,90\nholiday,2027-03-24\nnoël,1\n".encode("latin-1")
    empty = Timetable(1, date(2027, 3, 1), date(2027, 3, 31), T0)
    result = parse_timetable_csv(data, empty, T0)
    assert result.timetable.rules == (SlotRule(0, time(10), 90),)
    assert result.rejected == (RejectedLine(3, "kind"),)


def test_a_csv_with_bare_cr_line_ends_or_binary_bytes_is_read_not_an_error() -> None:
    # Excel for Mac's "CSV (Macintosh)" ends lines with a bare CR; a binary file (a photo
    # sent by mistake) has CRs and NULs in the middle of fields. Both used to raise
    # csv.Error out of the reader: a 500 on the dashboard, no reply in the chat.
    empty = Timetable(1, date(2027, 3, 1), date(2027, 3, 31), T0)
    mac = parse_timetable_csv(b"slot,Mon,10:00,90\rslot,Wed,12:00,60\r", empty, T0)
    assert mac.timetable.rules == (SlotRule(0, time(10), 90), SlotRule(2, time(12), 60))
    binary = parse_timetable_csv(bytes(range(256)) * 10, empty, T0)
    assert binary.timetable.rules == () and binary.rejected


def test_a_term_near_the_calendars_ends_is_not_a_date() -> None:
    # 9999-12-31 was taken; counting its coming classes then overflowed (a day past
    # date.max) and the timetable could no longer be shown.
    empty = Timetable(1, date(2027, 3, 1), date(2027, 3, 31), T0)
    data = b"slot,Mon,10:00,90\nterm,9999-12-01,9999-12-31\nholiday,0001-01-01\n"
    result = parse_timetable_csv(data, empty, T0)
    assert result.rejected == (RejectedLine(2, "date"), RejectedLine(3, "date"))
    assert (result.timetable.first_day, result.timetable.last_day) == (
        date(2027, 3, 1),
        date(2027, 3, 31),
    )
