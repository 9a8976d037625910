"""A course's timetable and the slots it makes: pure values and arithmetic, no I/O.

Slots are kept as wall-clock times in the course's own zone ("Monday 10:00"), and turned into
instants day by day, so a class at 10:00 stays at 10:00 across a change of summer time (its
UTC time moves by an hour, not the class).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

#: ISO weekday names (Monday first), as typed in a CSV and shown on buttons' data.
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_FULL_WEEKDAYS = (
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
)
#: A slot lasts 5 minutes to 4 hours (a session's own limit).
SLOT_MINUTES = (5, 240)
#: Opened this many minutes early at most (for arrivals); reminded up to a day before.
EARLY_MINUTES = (0, 60)
REMIND_MINUTES = (0, 1440)
#: A term spans at most a year; a timetable has at most this many weekly slots.
MAX_TERM_DAYS = 366
MAX_SLOTS = 20
#: A new timetable's term: from today, this many weeks.
DEFAULT_TERM_WEEKS = 16
MAX_CSV_BYTES = 64 * 1024


@dataclass(frozen=True, slots=True, order=True)
class SlotRule:
    """One weekly class: weekday (0 = Monday), local start time, length in minutes."""

    weekday: int
    start: time
    minutes: int

    def to_json(self) -> list[object]:
        return [self.weekday, f"{self.start:%H:%M}", self.minutes]

    @classmethod
    def from_json(cls, value: list[object]) -> SlotRule:
        weekday, start, minutes = value
        hours, mins = str(start).split(":")
        return cls(int(str(weekday)), time(int(hours), int(mins)), int(str(minutes)))


@dataclass(frozen=True, slots=True)
class Timetable:
    """A course's recurring slots over a term, in the course's zone.

    `changed_at`: slots that started before the last change are never reported as missed
    (a slot added after it passed was not missed). `group_chat_id`: the group that gets the
    session card too, linked with /timetable sent there.
    """

    course_id: int
    first_day: date
    last_day: date
    changed_at: datetime
    rules: tuple[SlotRule, ...] = ()
    holidays: frozenset[date] = field(default_factory=frozenset)
    early_minutes: int = 0
    remind_minutes: int = 15
    group_chat_id: int | None = None

    @classmethod
    def new(cls, course_id: int, today: date, now: datetime) -> Timetable:
        """An empty timetable whose term starts today."""
        last = today + timedelta(weeks=DEFAULT_TERM_WEEKS) - timedelta(days=1)
        return cls(course_id, today, last, now)


@dataclass(frozen=True, slots=True)
class Slot:
    """One class of a timetable: when it starts and ends (UTC), when its session opens and
    when the teacher is reminded (None: no reminder), and its local start for display."""

    course_id: int
    starts_at: datetime
    ends_at: datetime
    opens_at: datetime
    remind_at: datetime | None
    local_start: datetime

    @property
    def minutes(self) -> int:
        return int((self.ends_at - self.starts_at).total_seconds() // 60)


@dataclass(frozen=True, slots=True)
class SlotRun:
    """What has been done for one slot (a row of `timetable_runs`)."""

    course_id: int
    starts_at: datetime
    reminded: bool = False
    session_id: str | None = None
    open_claimed_until: datetime | None = None
    reported: bool = False


def local_instant(day: date, at: time, zone: ZoneInfo) -> datetime:
    """The UTC instant of a wall-clock time in `zone` on `day`. A time skipped by a change
    to summer time (02:30 on that night) is read with the offset before the change."""
    return datetime.combine(day, at, tzinfo=zone).astimezone(UTC)


def slots_between(
    timetable: Timetable, zone: ZoneInfo, start: datetime, end: datetime
) -> list[Slot]:
    """The timetable's slots starting in [start, end), in order; holidays and days outside
    the term have none."""
    first = max(timetable.first_day, start.astimezone(zone).date() - timedelta(days=1))
    last = min(timetable.last_day, end.astimezone(zone).date() + timedelta(days=1))
    found: list[Slot] = []
    for day in _days(first, last):
        if day in timetable.holidays:
            continue
        for rule in timetable.rules:
            if rule.weekday != day.weekday():
                continue
            starts = local_instant(day, rule.start, zone)
            if not start <= starts < end:
                continue
            opens = starts - timedelta(minutes=timetable.early_minutes)
            remind = (
                opens - timedelta(minutes=timetable.remind_minutes)
                if timetable.remind_minutes
                else None
            )
            found.append(
                Slot(
                    timetable.course_id,
                    starts,
                    starts + timedelta(minutes=rule.minutes),
                    opens,
                    remind,
                    starts.astimezone(zone),
                )
            )
    return sorted(found, key=lambda s: s.starts_at)


def _days(first: date, last: date) -> Iterator[date]:
    day = first
    while day <= last:
        yield day
        day += timedelta(days=1)


def check_timetable(timetable: Timetable) -> str | None:
    """What is wrong with a timetable (a catalog reason), or None."""
    if timetable.last_day < timetable.first_day:
        return "term_order"
    if (timetable.last_day - timetable.first_day).days >= MAX_TERM_DAYS:
        return "term_too_long"
    if len(timetable.rules) > MAX_SLOTS:
        return "too_many_slots"
    return None


# --- CSV ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RejectedLine:
    """A CSV line that was not imported: its number (1-based) and why (a catalog reason)."""

    number: int
    reason: str


@dataclass(frozen=True, slots=True)
class CsvImport:
    """The timetable a CSV makes from the current one, the lines it refused, and whether
    it was saved (a file with nothing usable changes nothing)."""

    timetable: Timetable
    slots: int
    holidays: int
    rejected: tuple[RejectedLine, ...]
    saved: bool = False


def decode_csv(data: bytes) -> str:
    """The file's text: UTF-8 (with or without a byte order mark), else Latin-1 (what Excel
    writes on many Western machines)."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def _delimiter(text: str) -> str:
    """Comma, or the semicolon that spreadsheets in comma-decimal locales write."""
    first = next((line for line in text.splitlines() if line.strip()), "")
    return ";" if first.count(";") > first.count(",") else ","


def parse_weekday(word: str) -> int | None:
    """0-6 from `mon`, `Monday` or ISO 1-7."""
    lowered = word.strip().lower()
    if lowered in WEEKDAYS:
        return WEEKDAYS.index(lowered)
    if lowered in _FULL_WEEKDAYS:
        return _FULL_WEEKDAYS.index(lowered)
    if len(lowered) == 1 and lowered in "1234567":
        return int(lowered) - 1
    return None


def parse_clock(word: str) -> time | None:
    """A 24-hour `HH:MM` (ASCII digits only)."""
    parts = word.strip().split(":")
    if len(parts) != 2 or not all(p.isascii() and p.isdigit() for p in parts):
        return None
    hours, minutes = int(parts[0]), int(parts[1])
    if len(parts[1]) != 2 or not (0 <= hours < 24 and 0 <= minutes < 60):
        return None
    return time(hours, minutes)


#: The days a term or a holiday may name: a date near the calendar's ends (0001, 9999)
#: cannot have its coming classes counted (a day past `date.max`), so the page and the
#: chat could not show the timetable again.
FIRST_DAY, LAST_DAY = date(2000, 1, 1), date(2199, 12, 31)


def parse_day(word: str) -> date | None:
    """An ISO date, `2027-03-01`, between `FIRST_DAY` and `LAST_DAY`."""
    text = word.strip()
    if not text.isascii() or len(text) != 10:
        return None
    try:
        day = date.fromisoformat(text)
    except ValueError:
        return None
    return day if FIRST_DAY <= day <= LAST_DAY else None


def _minutes(word: str, bounds: tuple[int, int]) -> int | None:
    text = word.strip()
    if not (text.isascii() and text.isdigit()) or len(text) > 4:
        return None
    value = int(text)
    return value if bounds[0] <= value <= bounds[1] else None


def parse_timetable_csv(data: bytes, current: Timetable, now: datetime) -> CsvImport:
    """Read a timetable file. One line per fact, the first field saying which:

        slot,Mon,10:00,90        a weekly class (weekday, start, minutes)
        term,2027-02-01,2027-06-30
        holiday,2027-04-01       (or a range: holiday,2027-04-14,2027-04-18)
        early,5                  open the session 5 minutes early
        remind,15                remind the teacher 15 minutes before

    Comma or semicolon, UTF-8 or Latin-1; a header line and empty lines are skipped. The
    file's slots and holidays replace the timetable's when it has any valid slot; every
    other line is refused with its number and the reason.
    """
    text = decode_csv(data[:MAX_CSV_BYTES]).replace("\0", "")
    # newline="": a bare CR ends a line (Excel for Mac's "CSV (Macintosh)") instead of
    # being a csv.Error for a line break inside an unquoted field.
    rows = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(text))
    rules: set[SlotRule] = set()
    holidays: set[date] = set()
    rejected: list[RejectedLine] = []
    changes: dict[str, object] = {}
    for number, row in enumerate(rows, start=1):
        fields = [f.strip() for f in row]
        if not any(fields):
            continue
        kind = fields[0].lower()
        if number == 1 and kind in ("kind", "type", "what"):
            continue
        reason = _read_line(kind, fields[1:], rules, holidays, changes)
        if reason is not None:
            rejected.append(RejectedLine(number, reason))
    timetable = replace(current, changed_at=now, **changes)  # type: ignore[arg-type]
    if rules:
        timetable = replace(timetable, rules=tuple(sorted(rules)), holidays=frozenset(holidays))
    elif holidays:
        timetable = replace(timetable, holidays=timetable.holidays | holidays)
    return CsvImport(timetable, len(rules), len(holidays), tuple(rejected))


def _read_line(
    kind: str,
    values: list[str],
    rules: set[SlotRule],
    holidays: set[date],
    changes: dict[str, object],
) -> str | None:
    """Take one line into the sets; the reason it was refused, or None."""
    if any(v.startswith(("=", "+", "@")) for v in values):
        return "formula"
    if kind == "slot":
        if len(values) != 3:
            return "slot_fields"
        weekday, start = parse_weekday(values[0]), parse_clock(values[1])
        minutes = _minutes(values[2], SLOT_MINUTES)
        if weekday is None:
            return "weekday"
        if start is None:
            return "time"
        if minutes is None:
            return "length"
        if any(r.weekday == weekday and r.start == start for r in rules):
            return "duplicate"
        if len(rules) >= MAX_SLOTS:
            return "too_many_slots"
        rules.add(SlotRule(weekday, start, minutes))
        return None
    if kind in ("term", "holiday"):
        if not 1 <= len(values) <= 2 or (kind == "term" and len(values) != 2):
            return f"{kind}_fields"
        days = [parse_day(v) for v in values]
        first, last = days[0], days[-1]
        if first is None or last is None:
            return "date"
        if last < first or (last - first).days >= MAX_TERM_DAYS:
            return "date_order"
        if kind == "term":
            changes.update(first_day=first, last_day=last)
        else:
            holidays.update(_days(first, last))
        return None
    if kind in ("early", "remind"):
        bounds = EARLY_MINUTES if kind == "early" else REMIND_MINUTES
        value = _minutes(values[0], bounds) if len(values) == 1 else None
        if value is None:
            return f"{kind}_value"
        changes[f"{kind}_minutes"] = value
        return None
    return "kind"


def class_days(timetable: Timetable, from_day: date, skip: int, limit: int) -> list[date]:
    """Days of the term from `from_day` on that have a class by the weekly rules, holidays
    included (so one can be held again), after the first `skip` of them; at most `limit`."""
    weekdays = {rule.weekday for rule in timetable.rules}
    found: list[date] = []
    for day in _days(max(from_day, timetable.first_day), timetable.last_day):
        if day.weekday() in weekdays:
            found.append(day)
            if len(found) >= skip + limit:
                break
    return found[skip:]
