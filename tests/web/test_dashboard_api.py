"""The teacher dashboard's JSON API over HTTP (httpx against the real app served in-process):
initData names the user, every course endpoint asks the course's permission as the bot does,
and writes go through the bot's own services (same rules, same audit)."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from typing import Any

import httpx
import openpyxl
import pytest

from bot.container import Services
from bot.web.dashboard import API_PREFIX
from services.clock import ManualClock
from services.models import AttendanceStatus, CourseRole, UserProfile
from tests.conftest import TEACHER_ID, make_settings
from tests.support.bot_harness import BotHarness
from tests.support.dashboard import SeededCourse, seed_course, status_of
from tests.support.miniapp import init_data_for, tampered
from tests.support.web_server import reserve_port, running_web_server

OTHER_TEACHER = 1002
ASSISTANT = 3003
STUDENT_OUTSIDE = 4004


class Desk:
    """The bot and the dashboard's API, with initData signed for whoever asks."""

    def __init__(self, bot: BotHarness, http: httpx.AsyncClient, clock: ManualClock) -> None:
        self.bot = bot
        self.http = http
        self.clock = clock

    @property
    def services(self) -> Services:
        return self.bot.services

    def auth(self, user_id: int) -> dict[str, str]:
        return {"Authorization": f"tma {init_data_for(user_id, self.clock.now())}"}

    async def get(self, path: str, user_id: int = TEACHER_ID) -> httpx.Response:
        return await self.http.get(API_PREFIX + path, headers=self.auth(user_id))

    async def post(self, path: str, user_id: int = TEACHER_ID, **kwargs: Any) -> httpx.Response:
        return await self.http.post(API_PREFIX + path, headers=self.auth(user_id), **kwargs)

    async def json(self, path: str, user_id: int = TEACHER_ID) -> Any:
        response = await self.get(path, user_id)
        assert response.status_code == 200, response.text
        return response.json()


@pytest.fixture
async def desk(services: Services, clock: ManualClock) -> AsyncIterator[Desk]:
    sock, url = reserve_port()
    settings = make_settings(public_url=url, teacher_ids=[TEACHER_ID, OTHER_TEACHER])
    async with (
        BotHarness(settings, services) as bot,
        running_web_server(bot.app, sock=sock) as url,
        httpx.AsyncClient(base_url=url, timeout=30) as http,
    ):
        yield Desk(bot, http, clock)


async def _course(desk: Desk, students: int = 4, sessions: int = 3) -> SeededCourse:
    return await seed_course(
        desk.services, TEACHER_ID, "Chemistry", students=students, sessions=sessions
    )


async def _assistant(desk: Desk, course_id: int) -> None:
    _, token = await desk.services.staff.invite(TEACHER_ID, course_id, CourseRole.ASSISTANT)
    await desk.services.staff.accept(UserProfile(ASSISTANT, "Asa"), token)


async def test_the_table_has_a_letter_per_cell_and_rates_and_grades(desk: Desk) -> None:
    seeded = await _course(desk)
    courses = await desk.json("/courses")
    assert [(c["name"], c["role"]) for c in courses["courses"]] == [("Chemistry", "owner")]
    table = await desk.json(f"/courses/{seeded.course.id}/table")
    assert [s["id"] for s in table["sessions"]] == seeded.sessions
    letters = {"present": "P", "late": "L", "excused": "E", "absent": "A"}
    first = table["students"][0]
    assert first["name"] == "Student000 Test" and first["number"] == "N00000"
    assert first["cells"] == "".join(letters[status_of(0, n)] for n in range(3))
    # present, late, excused: 2 attended of 2 counted (the excused one is not counted).
    assert first["rate"] == 100.0 and first["grade"] is not None
    assert len(table["students"]) == 4 and table["reports"] is True


async def test_a_correction_is_audited_and_shown_on_the_student_page(desk: Desk) -> None:
    seeded = await _course(desk)
    course_id, student, session = seeded.course.id, seeded.students[0], seeded.sessions[0]
    assert status_of(0, 0) == AttendanceStatus.PRESENT
    body = {"session_id": session, "student_id": student, "status": "absent"}
    answer = await desk.post(f"/courses/{course_id}/cells", json=body)
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"old": "present", "new": "absent"}
    page = await desk.json(f"/courses/{course_id}/students/{student}")
    record = page["records"][0]
    assert record["status"] == "absent"
    assert [(c["old"], c["new"]) for c in record["changes"]] == [("present", "absent")]
    table = await desk.json(f"/courses/{course_id}/table")
    assert table["students"][0]["cells"][0] == "A"
    # The chat's /summary of that session shows the change too (the same service path).
    [summary] = await desk.bot.send(TEACHER_ID, f"/summary {session}")
    assert "Present 0 · Late 1 · Absent 2 · Excused 1" in summary
    assert "<b>Absent:</b> Student000 Test, Student003 Test" in summary

    unknown = {"session_id": session, "student_id": 1, "status": "late"}
    missing = await desk.post(f"/courses/{course_id}/cells", json=unknown)
    assert missing.status_code == 404
    nonsense = {"session_id": session, "student_id": student, "status": "gone"}
    assert (await desk.post(f"/courses/{course_id}/cells", json=nonsense)).status_code == 422


async def test_another_teacher_and_a_student_get_403_on_every_course_endpoint(
    desk: Desk,
) -> None:
    seeded = await _course(desk)
    course_id, student = seeded.course.id, seeded.students[0]
    # The app's own OpenAPI document: every dashboard endpoint, whoever added it.
    document = (await desk.http.get("/openapi.json")).json()
    paths = {
        path: [m for m in methods if m in ("get", "post", "put", "patch", "delete")]
        for path, methods in document["paths"].items()
        if path.startswith(API_PREFIX)
    }
    course_paths = {p: m for p, m in paths.items() if "{course_id}" in p}
    # Every endpoint but the user's own config and course list is about one course.
    assert set(paths) - set(course_paths) == {f"{API_PREFIX}/config", f"{API_PREFIX}/courses"}
    assert len(course_paths) >= 14
    known = {"course_id": course_id, "student_id": student, "request_id": 1}
    covered = []
    for path, methods in course_paths.items():
        for method in methods:
            # What a well-formed request carries, from the document itself (path values and
            # body examples): a new endpoint is walked as it is added, and the 403 is the
            # course's, not a 422 for a missing field.
            operation = document["paths"][path][method]
            url, body = _well_formed(document, path, operation, known)
            if path.endswith("/cells"):  # a real cell: the seeded first session
                body = {
                    "json": {
                        **body["json"],
                        "session_id": seeded.sessions[0],
                        "student_id": student,
                    }
                }
            for stranger in (OTHER_TEACHER, STUDENT_OUTSIDE):
                response = await desk.http.request(
                    method.upper(), url, headers=desk.auth(stranger), **body
                )
                assert response.status_code == 403, (method, url, stranger, response.text)
            covered.append((method, path))
    assert len(covered) == sum(len(m) for m in course_paths.values())
    assert (
        "delete",
        f"{API_PREFIX}/courses/{{course_id}}/timetable/slots/{{weekday}}/{{start}}",
    ) in covered
    assert ("get", f"{API_PREFIX}/courses/{{course_id}}/claims") in covered
    # Nothing changed: the record and the roster are as seeded.
    table = await desk.json(f"/courses/{course_id}/table")
    assert table["students"][0]["cells"][0] == "P" and len(table["students"]) == 4
    # The other teacher's course list does not name the course.
    assert (await desk.json("/courses", OTHER_TEACHER))["courses"] == []
    # Forged initData (claiming the owner) is 401 before anything is read.
    forged = tampered(init_data_for(OTHER_TEACHER, desk.clock.now()), TEACHER_ID)
    refused = await desk.http.get(
        f"{API_PREFIX}/courses/{course_id}/table", headers={"Authorization": f"tma {forged}"}
    )
    assert refused.status_code == 401


def _well_formed(
    document: dict[str, Any], path: str, operation: dict[str, Any], known: dict[str, int]
) -> tuple[str, dict[str, Any]]:
    """The URL with every path value filled (the test's own ids, else the parameter's
    example) and the request's body (the JSON body's example, or raw bytes for the roster
    file, which is sent as the body itself)."""
    values: dict[str, object] = {}
    for parameter in operation.get("parameters", []):
        if parameter["in"] == "path":
            name = parameter["name"]
            examples = parameter.get("examples") or parameter["schema"].get("examples")
            values[name] = known[name] if name in known else examples[0]
    url = path.format(**values)
    content = operation.get("requestBody", {}).get("content", {})
    if "application/json" not in content:
        return url, ({"content": b"N1,Someone\n"} if path.endswith("/roster") else {})
    schema = content["application/json"]["schema"]
    if "$ref" in schema:
        schema = document["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
    return url, {"json": _example(document, schema)}


def _example(document: dict[str, Any], schema: dict[str, Any]) -> Any:
    """A body model's declared example, or one made from its fields' types."""
    if schema.get("examples"):
        return schema["examples"][0]
    made: dict[str, Any] = {}
    for name, field in schema.get("properties", {}).items():
        if "$ref" in field:
            enum = document["components"]["schemas"][field["$ref"].rsplit("/", 1)[-1]]["enum"]
            made[name] = enum[0]
        else:
            made[name] = {"integer": 1, "boolean": True, "string": "x"}[field["type"]]
    return made


async def test_an_assistant_corrects_but_may_not_import_export_or_remove(desk: Desk) -> None:
    seeded = await _course(desk)
    course_id, student = seeded.course.id, seeded.students[1]
    await _assistant(desk, course_id)
    courses = await desk.json("/courses", ASSISTANT)
    assert [c["role"] for c in courses["courses"]] == ["assistant"]
    table = await desk.json(f"/courses/{course_id}/table", ASSISTANT)
    assert table["reports"] is False and "rate" not in table["students"][0]
    body = {"session_id": seeded.sessions[1], "student_id": student, "status": "late"}
    done = await desk.post(f"/courses/{course_id}/cells", ASSISTANT, json=body)
    assert done.status_code == 200 and done.json()["new"] == "late"
    roster = await desk.post(f"/courses/{course_id}/roster", ASSISTANT, content=b"N9,Nine\n")
    assert roster.status_code == 403
    assert (await desk.get(f"/courses/{course_id}/export.xlsx", ASSISTANT)).status_code == 403
    removed = await desk.http.delete(
        f"{API_PREFIX}/courses/{course_id}/students/{student}", headers=desk.auth(ASSISTANT)
    )
    assert removed.status_code == 403
    assert len((await desk.json(f"/courses/{course_id}/table"))["students"]) == 4


async def test_roster_import_removal_and_report_files(desk: Desk) -> None:
    seeded = await _course(desk)
    course_id = seeded.course.id
    csv = b"number,name\nS100,Grace Hopper\nS101,Alan Turing\nS101,Twice\n"
    imported = await desk.post(
        f"/courses/{course_id}/roster", params={"filename": "roster.csv"}, content=csv
    )
    assert imported.status_code == 200, imported.text
    answer = imported.json()
    assert answer["added"] == 2 and answer["roster_size"] == 6
    assert [r["line"] for r in answer["rejected"]] == [4]
    again = await desk.post(
        f"/courses/{course_id}/roster", params={"filename": "roster.csv"}, content=csv
    )
    assert again.json()["added"] == 0 and again.json()["already_there"] == 2

    removed = await desk.http.delete(
        f"{API_PREFIX}/courses/{course_id}/students/{seeded.students[3]}",
        headers=desk.auth(TEACHER_ID),
    )
    assert removed.status_code == 200 and removed.json()["roster_size"] == 5

    xlsx = await desk.get(f"/courses/{course_id}/export.xlsx")
    assert xlsx.status_code == 200
    assert "attachment" in xlsx.headers["content-disposition"]
    assert xlsx.headers["content-disposition"].endswith(f'-{course_id}.xlsx"')
    book = openpyxl.load_workbook(io.BytesIO(xlsx.content))
    names = [str(row[2].value) for row in book.worksheets[0].iter_rows(min_row=2)]
    assert "Student000 Test" in names and "Grace Hopper" in names
    csv_file = await desk.get(f"/courses/{course_id}/export.csv")
    assert csv_file.status_code == 200 and csv_file.headers["content-type"].startswith("text/csv")
    assert "Student001 Test" in csv_file.text


async def test_an_excuse_is_approved_from_the_queue(desk: Desk) -> None:
    seeded = await _course(desk)
    course_id = seeded.course.id
    # Student 1 was late in session 0 (status_of(1, 0)): they ask for an excuse.
    student, session = seeded.students[1], seeded.sessions[0]
    assert status_of(1, 0) == AttendanceStatus.LATE
    submitted = await desk.services.excuses.submit(student, session, "Doctor", None)
    queue = await desk.json(f"/courses/{course_id}/excuses")
    [waiting] = queue["requests"]
    assert waiting["id"] == submitted.request.id and waiting["reason"] == "Doctor"
    decided = await desk.post(
        f"/courses/{course_id}/excuses/{waiting['id']}", json={"approve": True}
    )
    assert decided.status_code == 200, decided.text
    assert decided.json()["state"] == "approved"
    page = await desk.json(f"/courses/{course_id}/students/{student}")
    assert page["records"][0]["status"] == "excused"
    assert page["records"][0]["changes"][-1]["new"] == "excused"
    twice = await desk.post(
        f"/courses/{course_id}/excuses/{waiting['id']}", json={"approve": False}
    )
    assert twice.status_code == 409
    assert (await desk.json(f"/courses/{course_id}/excuses"))["requests"] == []


async def _co_teacher(desk: Desk, course_id: int) -> None:
    _, token = await desk.services.staff.invite(TEACHER_ID, course_id, CourseRole.CO_TEACHER)
    await desk.services.staff.accept(UserProfile(OTHER_TEACHER, "Cora"), token)


async def test_the_timetable_is_changed_as_with_the_bots_buttons(desk: Desk) -> None:
    seeded = await _course(desk, students=1, sessions=1)
    course_id = seeded.course.id
    base = f"/courses/{course_id}/timetable"
    empty = await desk.json(base)
    assert empty["slots"] == [] and empty["classes"] == [] and empty["holidays"] == []
    added = await desk.post(f"{base}/slots", json={"weekday": 0, "start": "10:00", "minutes": 90})
    assert added.status_code == 200, added.text
    assert added.json()["slots"] == [{"weekday": 0, "start": "10:00", "minutes": 90}]
    assert added.json()["classes"]  # the coming Mondays
    await desk.post(f"{base}/slots", json={"weekday": 3, "start": "14:30", "minutes": 60})
    # The bot's own reading of the timetable: the same service, the same stored rules.
    _, stored = await desk.services.timetables.course_timetable(TEACHER_ID, course_id)
    assert [(r.weekday, f"{r.start:%H:%M}", r.minutes) for r in stored.rules] == [
        (0, "10:00", 90),
        (3, "14:30", 60),
    ]
    removed = await desk.http.delete(
        f"{API_PREFIX}{base}/slots/0/10:00", headers=desk.auth(TEACHER_ID)
    )
    assert removed.status_code == 200
    assert [s["weekday"] for s in removed.json()["slots"]] == [3]

    term = await desk.http.put(
        f"{API_PREFIX}{base}/term",
        headers=desk.auth(TEACHER_ID),
        json={"first_day": "2026-02-01", "last_day": "2026-06-30"},
    )
    assert term.status_code == 200 and term.json()["last_day"] == "2026-06-30"
    times = await desk.http.put(
        f"{API_PREFIX}{base}/times",
        headers=desk.auth(TEACHER_ID),
        json={"early_minutes": 5, "remind_minutes": 30},
    )
    assert times.json()["early_minutes"] == 5 and times.json()["remind_minutes"] == 30
    for _ in range(2):  # skipping a day twice keeps it skipped (no toggle back)
        skipped = await desk.http.put(
            f"{API_PREFIX}{base}/holidays/2026-04-02", headers=desk.auth(TEACHER_ID)
        )
        assert skipped.json()["holidays"] == ["2026-04-02"]
    held = await desk.http.delete(
        f"{API_PREFIX}{base}/holidays/2026-04-02", headers=desk.auth(TEACHER_ID)
    )
    assert held.json()["holidays"] == []

    # Bad input: a short message (in the page's language), and nothing saved.
    before = await desk.json(base)
    bad = {
        "slots": ("post", {"weekday": 1, "start": "9:5", "minutes": 60}),
        "term": ("put", {"first_day": "2026-07-01", "last_day": "2026-06-30"}),
        "times": ("put", {"early_minutes": 61, "remind_minutes": 15}),
    }
    messages = {}
    for kind, (method, body) in bad.items():
        answer = await desk.http.request(
            method.upper(), f"{API_PREFIX}{base}/{kind}", headers=desk.auth(TEACHER_ID), json=body
        )
        assert answer.status_code == 400, answer.text
        messages[kind] = answer.json()["message"]
    assert messages["slots"] == "Type the start as HH:MM (24-hour)."
    assert messages["term"] == "The term would end before it starts."
    assert "from 0 to 60" in messages["times"]
    too_long = await desk.post(
        f"{base}/slots", json={"weekday": 1, "start": "09:00", "minutes": 500}
    )
    assert too_long.status_code == 400 and "from 5 to 240" in too_long.json()["message"]
    bad_day = await desk.http.put(
        f"{API_PREFIX}{base}/holidays/someday",
        headers={**desk.auth(TEACHER_ID), "Accept-Language": "ru"},
    )
    assert bad_day.status_code == 400
    assert bad_day.json()["message"] == "Укажите дату в виде ГГГГ-ММ-ДД."
    assert await desk.json(base) == before

    # A CSV as the chat reads one: the refused line named, in the chat's words.
    csv = b"slot,Tue,09:00,60\nslot,Someday,09:00,60\nholiday,2026-04-07\n"
    imported = await desk.post(f"{base}/import", content=csv)
    assert imported.status_code == 200, imported.text
    answer = imported.json()
    assert (
        answer["saved"] is True
        and {"weekday": 1, "start": "09:00", "minutes": 60} in answer["slots"]
    )
    assert "Line 2: unknown day of the week" in answer["report"]
    nothing = await desk.post(f"{base}/import", content=b"nonsense\n")
    assert nothing.json()["saved"] is False
    assert "timetable is unchanged" in nothing.json()["report"]
    too_big = await desk.post(f"{base}/import", content=b"x" * (64 * 1024 + 1))
    assert too_big.status_code == 400 and "64 KB" in too_big.json()["message"]
    # A group linked in the chat is unlinked from the page.
    await desk.services.timetables.link_group(TEACHER_ID, course_id, -100_123)
    assert (await desk.json(base))["group_linked"] is True
    unlinked = await desk.http.delete(f"{API_PREFIX}{base}/group", headers=desk.auth(TEACHER_ID))
    assert unlinked.status_code == 200 and unlinked.json()["group_linked"] is False


async def test_an_assistant_may_not_change_the_timetable_a_co_teacher_may(desk: Desk) -> None:
    seeded = await _course(desk, students=1, sessions=1)
    course_id = seeded.course.id
    base = f"{API_PREFIX}/courses/{course_id}/timetable"
    await _assistant(desk, course_id)
    await _co_teacher(desk, course_id)
    slot = {"weekday": 2, "start": "08:00", "minutes": 45}
    writes: list[tuple[str, str, dict[str, Any]]] = [
        ("GET", base, {}),
        ("POST", f"{base}/slots", {"json": slot}),
        ("DELETE", f"{base}/slots/2/08:00", {}),
        ("PUT", f"{base}/term", {"json": {"first_day": "2026-02-01", "last_day": "2026-03-01"}}),
        ("PUT", f"{base}/times", {"json": {"early_minutes": 0, "remind_minutes": 0}}),
        ("PUT", f"{base}/holidays/2026-02-10", {}),
        ("DELETE", f"{base}/holidays/2026-02-10", {}),
        ("DELETE", f"{base}/group", {}),
        ("POST", f"{base}/import", {"content": b"slot,Mon,10:00,60\n"}),
    ]
    for method, url, body in writes:
        refused = await desk.http.request(method, url, headers=desk.auth(ASSISTANT), **body)
        assert refused.status_code == 403, (method, url, refused.text)
    assert (await desk.json(f"/courses/{course_id}/timetable"))["slots"] == []
    # A co-teacher has SETTINGS, as in the bot's /timetable.
    done = await desk.http.post(f"{base}/slots", headers=desk.auth(OTHER_TEACHER), json=slot)
    assert done.status_code == 200 and done.json()["slots"] == [slot]


async def test_a_claim_is_approved_and_the_student_joins(desk: Desk) -> None:
    seeded = await _course(desk, students=1, sessions=1)
    course_id = seeded.course.id
    imported = await desk.post(
        f"/courses/{course_id}/roster", params={"filename": "r.csv"}, content=b"S100,Grace\n"
    )
    assert imported.status_code == 200
    claim = await desk.services.roster.claim(UserProfile(5005, "Ada"), course_id, "S999")
    assert claim.request is not None
    request_id = claim.request.id
    listed = await desk.json(f"/courses/{course_id}/claims")
    assert [(c["id"], c["student"], c["number"]) for c in listed["claims"]] == [
        (request_id, "Ada", "S999")
    ]
    await _assistant(desk, course_id)  # an assistant may not decide claims (no MANAGE)
    assert (await desk.get(f"/courses/{course_id}/claims", ASSISTANT)).status_code == 403
    wrong_course = await seed_course(
        desk.services, TEACHER_ID, "Other", students=0, sessions=0, first_student=1
    )
    misplaced = await desk.post(
        f"/courses/{wrong_course.course.id}/claims/{request_id}", json={"approve": True}
    )
    assert misplaced.status_code == 404  # the request is of another course: nothing decided
    decided = await desk.post(f"/courses/{course_id}/claims/{request_id}", json={"approve": True})
    assert decided.status_code == 200 and decided.json() == {"approved": True}
    again = await desk.post(f"/courses/{course_id}/claims/{request_id}", json={"approve": False})
    assert again.status_code == 404  # decided already: no waiting claim by that id
    table = await desk.json(f"/courses/{course_id}/table")
    assert 5005 in {s["id"] for s in table["students"]}
    assert (await desk.json(f"/courses/{course_id}/claims"))["claims"] == []
