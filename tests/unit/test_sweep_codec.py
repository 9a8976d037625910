"""The sweep's one-pass reading of a class's check-ins agrees with the single-value reader."""

from __future__ import annotations

from services.models import AttendanceStatus, CheckIn
from storage.redis.codec import checkin_from, checkins_from


def test_checkins_from_reads_present_late_and_distances() -> None:
    flat = [b"7", b"1764750000123p", b"8", b"1764750060000l", b"9", b"1764750000001p 42"]
    assert checkins_from("s1", flat) == [
        CheckIn("s1", 7, 1764750000123, AttendanceStatus.PRESENT, None),
        CheckIn("s1", 8, 1764750060000, AttendanceStatus.LATE, None),
        CheckIn("s1", 9, 1764750000001, AttendanceStatus.PRESENT, 42),
    ]
    assert checkins_from("s1", flat) == [
        checkin_from("s1", flat[i], flat[i + 1]) for i in range(0, len(flat), 2)
    ]
    assert checkins_from("s1", []) == []
