"""The REST API for integrations over HTTP, on real PostgreSQL and Redis (issue 16, build
point 2): every endpoint of its OpenAPI document exercised; pages that add up to the whole
list; ETag and 304; a read token cannot write; a revoked token is refused at once; the rate
limit's 429; a token of one course sees nothing of another; only hashes stored."""

from __future__ import annotations

import hashlib
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import asyncpg
import httpx
import pytest

from bot.container import Services
from services.clock import ManualClock
from services.models import AttendanceStatus, UserProfile
from services.ports.api import ApiScope
from tests.conftest import TEACHER_ID, services_on_the_same_stores
from tests.contract.backends import T0, checkin, session
from tests.support.api_client import api_client

STUDENTS = [
    UserProfile(7001, "Ann", "Lee", username="ann", student_number="S001"),
    UserProfile(7002, "Bob", username="bob", full_name="Robert Roe", student_number="S002"),
    UserProfile(7003, "Cid", student_number="S003"),
    UserProfile(7004, "", username="dee_only"),
    UserProfile(7005, "Eve", "Ng", student_number="S005"),
]
#: Every endpoint of the document, and the test below that exercises it beyond the walk.
COVERED = {
    ("GET", "/api/v1/courses"): "test_every_endpoint_of_the_document_answers",
    ("GET", "/api/v1/courses/{course_id}"): "test_a_token_sees_nothing_of_another_course",
    ("GET", "/api/v1/courses/{course_id}/sessions"): "test_pages_add_up_to_the_whole_list",
    ("GET", "/api/v1/courses/{course_id}/sessions/{session_id}"): (
        "test_a_token_sees_nothing_of_another_course"
    ),
    ("GET", "/api/v1/courses/{course_id}/sessions/{session_id}/records"): (
        "test_pages_add_up_to_the_whole_list"
    ),
    ("GET", "/api/v1/courses/{course_id}/records"): "test_pages_add_up_to_the_whole_list",
    ("GET", "/api/v1/courses/{course_id}/grades"): "test_grades_are_the_reports",
    ("POST", "/api/v1/courses/{course_id}/roster"): "test_a_read_token_cannot_write",
}
ROSTER_CSV = b"student number,name\nS101,Zoe Park\nS102,Yan Li\n=bad,Formula\n"


@dataclass
class Course:
    id: int
    sessions: list[str]


async def seed_course(services: Services, name: str, sessions: int = 3) -> Course:
    """A course of TEACHER_ID with the five students' records in `sessions` sessions (one
    hour apart); Bob absent then corrected to excused in the first."""
    course = await services.courses.new_course(TEACHER_ID, name)
    records = services.records
    await records.users.upsert_profiles(STUDENTS)
    ids = []
    for n in range(sessions):
        sid = f"{name[:4].lower()}{n:08d}"
        at = T0 + timedelta(hours=n)
        marks = [
            checkin(sid, 7001, 1, started_at=at),
            checkin(sid, 7002, None, AttendanceStatus.ABSENT, at),
            checkin(sid, 7003, 12, AttendanceStatus.LATE, at),
            checkin(sid, 7004, 2, started_at=at),
            checkin(sid, 7005, None, AttendanceStatus.ABSENT, at),
        ]
        await records.sessions.persist_session(
            session(sid, started_at=at, course_id=course.id, title=f"Week {n + 1}"), marks
        )
        ids.append(sid)
    await records.attendance.correct_status(
        ids[0], 7002, status=AttendanceStatus.EXCUSED, changed_by=TEACHER_ID, now=T0
    )
    return Course(course.id, ids)


async def new_token(services: Services, course: Course, scope: ApiScope) -> dict[str, str]:
    made = await services.api_tokens.create(TEACHER_ID, course.id, scope)
    return {"Authorization": f"Bearer {made.secret}"}


@pytest.fixture
async def client(services: Services) -> AsyncIterator[httpx.AsyncClient]:
    async with api_client(services) as http:
        yield http


def filled(path: str, course: Course) -> str:
    return path.replace("{course_id}", str(course.id)).replace("{session_id}", course.sessions[0])


async def call(
    client: httpx.AsyncClient, method: str, path: str, headers: dict[str, str]
) -> httpx.Response:
    if method == "POST":
        body = {"content-type": "text/csv"}
        return await client.post(path, content=ROSTER_CSV, headers={**headers, **body})
    return await client.get(path, headers=headers)


def check_shape(document: dict[str, Any], schema_ref: dict[str, Any], body: Any) -> None:
    """The body has exactly the properties its declared schema lists (recursively for
    lists of objects): the document describes what the API really answers."""
    schemas = document["components"]["schemas"]
    schema = schemas[schema_ref["$ref"].rsplit("/", 1)[-1]]
    if "enum" in schema:
        assert body in schema["enum"], (schema_ref, body)
        return
    assert set(body) == set(schema["properties"]), (schema_ref, body)
    for name, spec in schema["properties"].items():
        items = spec.get("items", {})
        if spec.get("type") == "array" and "$ref" in items:
            for item in body[name]:
                check_shape(document, items, item)
        elif "$ref" in spec:
            check_shape(document, spec, body[name])


async def test_every_endpoint_of_the_document_answers(
    services: Services, client: httpx.AsyncClient
) -> None:
    course = await seed_course(services, "Maths")
    headers = await new_token(services, course, ApiScope.READ_WRITE)
    document = (await client.get("/api/openapi.json")).json()
    operations = {
        (method.upper(), path): op
        for path, methods in document["paths"].items()
        for method, op in methods.items()
    }
    assert set(operations) == set(COVERED)
    names = set(globals())
    assert set(COVERED.values()) <= names  # each names a test of this module
    assert document["components"]["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"
    for (method, path), op in operations.items():
        assert op.get("summary") and op.get("description"), (method, path)
        assert {"200", "401", "404", "429"} <= set(op["responses"]), (method, path)
        response = await call(client, method, filled(path, course), headers)
        assert response.status_code == 200, (method, path, response.text)
        declared = op["responses"]["200"]["content"]["application/json"]["schema"]
        check_shape(document, declared, response.json())
        # Without a token: 401, as JSON.
        refused = await call(client, method, filled(path, course), {})
        assert refused.status_code == 401, (method, path)
        assert refused.json()["error"]["code"] == "token_refused"
        assert refused.headers["www-authenticate"] == "Bearer"
    [listed] = (await client.get("/api/v1/courses", headers=headers)).json()["items"]
    assert (listed["id"], listed["name"], listed["roster_size"]) == (course.id, "Maths", 2)


async def test_pages_add_up_to_the_whole_list(
    services: Services, client: httpx.AsyncClient
) -> None:
    course = await seed_course(services, "Maths", sessions=4)
    headers = await new_token(services, course, ApiScope.READ)
    base = f"/api/v1/courses/{course.id}"
    for path, size, limit in (
        (f"{base}/records", 20, 3),
        (f"{base}/sessions/{course.sessions[1]}/records", 5, 2),
        (f"{base}/sessions", 4, 3),
        (f"{base}/grades", 5, 2),
    ):
        whole = (await client.get(path, params={"limit": 500}, headers=headers)).json()
        assert len(whole["items"]) == size and whole["next_cursor"] is None, path
        seen: list[Any] = []
        cursor = None
        pages = 0
        while True:
            params: dict[str, Any] = {"limit": limit}
            if cursor:
                params["cursor"] = cursor
            page = (await client.get(path, params=params, headers=headers)).json()
            seen += page["items"]
            pages += 1
            cursor = page["next_cursor"]
            if cursor is None:
                break
        assert seen == whole["items"] and pages == -(-size // limit), path

    records = (await client.get(f"{base}/records", params={"limit": 5}, headers=headers)).json()
    first = records["items"]
    assert [(r["session_id"], r["student_number"], r["name"], r["status"]) for r in first] == [
        (course.sessions[0], "S001", "Ann Lee", "present"),
        (course.sessions[0], "S002", "Robert Roe", "excused"),
        (course.sessions[0], "S003", "Cid", "late"),
        (course.sessions[0], None, None, "present"),  # no number, no name: never the username
        (course.sessions[0], "S005", "Eve Ng", "absent"),
    ]
    assert first[0]["checked_in_at"] == "2025-03-03T09:01:00Z"
    assert first[1]["corrections"] == [
        {"changed_at": "2025-03-03T09:00:00Z", "old_status": "absent", "new_status": "excused"}
    ]
    assert not any("7001" in str(v) or v == "ann" for r in first for v in r.values())
    sessions = (await client.get(f"{base}/sessions", headers=headers)).json()["items"]
    assert [(s["title"], s["present"], s["late"], s["excused"], s["absent"]) for s in sessions][
        :2
    ] == [("Week 1", 2, 1, 1, 1), ("Week 2", 2, 1, 0, 2)]
    assert sessions[0]["attendance_percent"] == 75.0

    # A cursor is good for its own list only, and cannot be forged.
    cursor = records["next_cursor"]
    for path, bad in ((f"{base}/sessions", cursor), (f"{base}/records", cursor[:-4] + "AAAA")):
        refused = await client.get(path, params={"cursor": bad}, headers=headers)
        assert refused.status_code == 400 and refused.json()["error"]["code"] == "bad_cursor"
    too_big = await client.get(f"{base}/records", params={"limit": 501}, headers=headers)
    assert too_big.status_code == 422
    assert too_big.json()["error"]["code"] == "invalid_request"


async def test_grades_are_the_reports(services: Services, client: httpx.AsyncClient) -> None:
    course = await seed_course(services, "Maths", sessions=2)
    headers = await new_token(services, course, ApiScope.READ)
    body = (await client.get(f"/api/v1/courses/{course.id}/grades", headers=headers)).json()
    assert body["policy"]["late_points"] == 0.8 and body["policy"]["warn_below_percent"] == 70
    by_number = {g["student_number"]: g for g in body["items"]}
    found = await services.reports.course_by_id(course.id)
    assert found is not None
    report = await services.reports.report_for(found)
    assert len(body["items"]) == len(report.standings) == 5
    bob = by_number["S002"]
    assert (bob["sessions"], bob["excused"], bob["absent"]) == (2, 1, 1)
    assert (bob["rate_percent"], bob["grade_percent"]) == (0.0, 0.0)
    cid = by_number["S003"]
    assert (cid["rate_percent"], cid["grade_percent"]) == (100.0, 80.0)
    assert [g["name"] for g in body["items"] if g["student_number"] is None] == [None]


async def test_etag_gives_304_until_something_changes(
    services: Services, client: httpx.AsyncClient
) -> None:
    course = await seed_course(services, "Maths")
    headers = await new_token(services, course, ApiScope.READ)
    path = f"/api/v1/courses/{course.id}/records"
    first = await client.get(path, headers=headers)
    etag = first.headers["etag"]
    assert re.fullmatch(r'"[0-9a-f]{32}"', etag)
    assert first.headers["cache-control"] == "private, no-cache"
    again = await client.get(path, headers={**headers, "If-None-Match": etag})
    assert again.status_code == 304 and again.content == b"" and again.headers["etag"] == etag
    weak = await client.get(path, headers={**headers, "If-None-Match": f"W/{etag}"})
    assert weak.status_code == 304
    await services.records.attendance.correct_status(
        course.sessions[2], 7005, status=AttendanceStatus.PRESENT, changed_by=TEACHER_ID, now=T0
    )
    changed = await client.get(path, headers={**headers, "If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["etag"] != etag


async def test_a_read_token_cannot_write(
    services: Services, client: httpx.AsyncClient, database_url: str
) -> None:
    course = await seed_course(services, "Maths", sessions=1)
    read = await new_token(services, course, ApiScope.READ)
    write = await new_token(services, course, ApiScope.READ_WRITE)
    path = f"/api/v1/courses/{course.id}/roster"
    csv = {"content-type": "text/csv"}
    refused = await client.post(path, content=ROSTER_CSV, headers={**read, **csv})
    assert refused.status_code == 403
    assert refused.json() == {
        "error": {"status": 403, "code": "read_only_token", "message": "This token may only read."}
    }
    assert await services.roster.unclaimed(course.id) == []
    wrong = await client.post(path, content=ROSTER_CSV, headers={**write, "content-type": "a/b"})
    assert wrong.status_code == 415
    done = await client.post(path, content=ROSTER_CSV, headers={**write, **csv})
    assert done.json() == {
        "added": 2,
        "already_there": 0,
        "linked": 0,
        "rejected": [{"line": 4, "reason": "formula"}],
        "roster_size": 2,
    }
    twice = await client.post(path, content=ROSTER_CSV, headers={**write, **csv})
    assert (twice.json()["added"], twice.json()["already_there"]) == (0, 2)
    assert [p.full_name for p in await services.roster.unclaimed(course.id)] == [
        "Yan Li",
        "Zoe Park",
    ]
    conn = await asyncpg.connect(database_url)
    try:
        imports = await conn.fetch(
            "SELECT changed_by FROM course_audit WHERE course_id = $1 AND action = $2",
            course.id,
            "roster_import",
        )
    finally:
        await conn.close()
    assert [r["changed_by"] for r in imports] == [TEACHER_ID, TEACHER_ID]


async def test_a_revoked_token_is_refused_at_once(
    services: Services, client: httpx.AsyncClient, database_url: str
) -> None:
    course = await seed_course(services, "Maths", sessions=1)
    made = await services.api_tokens.create(TEACHER_ID, course.id, ApiScope.READ)
    headers = {"Authorization": f"Bearer {made.secret}"}
    path = f"/api/v1/courses/{course.id}/sessions"
    assert (await client.get(path, headers=headers)).status_code == 200
    assert await services.api_tokens.revoke(TEACHER_ID, course.id, made.token.id) is not None
    refused = await client.get(path, headers=headers)
    assert refused.status_code == 401 and refused.json()["error"]["code"] == "token_refused"

    # Only the hash is stored; the last use is recorded.
    conn = await asyncpg.connect(database_url)
    try:
        rows = [dict(r) for r in await conn.fetch("SELECT * FROM api_tokens")]
    finally:
        await conn.close()
    [row] = rows
    assert row["token_hash"] == hashlib.sha256(made.secret.encode()).hexdigest()
    assert not any(made.secret in str(v) for v in row.values())
    assert made.secret[len("attn_") + 6 :] not in row["label"]
    assert row["last_used_at"] is not None and row["revoked_at"] is not None


async def test_the_rate_limit_answers_429_then_refills(
    services: Services, client: httpx.AsyncClient, clock: ManualClock
) -> None:
    course = await seed_course(services, "Maths", sessions=1)
    headers = await new_token(services, course, ApiScope.READ)
    other = await new_token(services, course, ApiScope.READ)
    services.api.requests_per_minute = 3
    clock.set(T0 + timedelta(days=1, seconds=15))
    path = f"/api/v1/courses/{course.id}"
    for _ in range(3):
        assert (await client.get(path, headers=headers)).status_code == 200
    limited = await client.get(path, headers=headers)
    assert limited.status_code == 429 and limited.headers["retry-after"] == "45"
    assert limited.json()["error"]["code"] == "rate_limited"
    assert (await client.get(path, headers=other)).status_code == 200  # its own budget
    clock.advance(seconds=45)
    assert (await client.get(path, headers=headers)).status_code == 200


async def test_the_rate_limit_holds_across_two_processes(
    request: pytest.FixtureRequest,
    services: Services,
    client: httpx.AsyncClient,
    clock: ManualClock,
) -> None:
    """Two bot processes (each its own Application, web server, Redis client and PostgreSQL
    pool) on one Redis: a token's budget is one, whichever process answers. Six requests
    alternating between them with a budget of four: four answered, then 429 from both."""
    other_services = await services_on_the_same_stores(request, clock)
    try:
        async with api_client(other_services) as other_client:
            course = await seed_course(services, "Maths", sessions=1)
            headers = await new_token(services, course, ApiScope.READ)
            for each in (services, other_services):
                each.api.requests_per_minute = 4
            clock.set(T0 + timedelta(days=1, seconds=15))
            path = f"/api/v1/courses/{course.id}"
            statuses = []
            for n in range(6):
                http = (client, other_client)[n % 2]
                statuses.append((await http.get(path, headers=headers)).status_code)
            assert statuses == [200, 200, 200, 200, 429, 429]
            clock.advance(seconds=45)  # the next minute: a fresh budget, shared again
            assert (await other_client.get(path, headers=headers)).status_code == 200
    finally:
        await other_services.close()


async def test_a_token_sees_nothing_of_another_course(
    services: Services, client: httpx.AsyncClient
) -> None:
    mine = await seed_course(services, "Maths", sessions=1)
    theirs = await seed_course(services, "Physics", sessions=1)
    headers = await new_token(services, mine, ApiScope.READ_WRITE)
    document = (await client.get("/api/openapi.json")).json()
    for path, methods in document["paths"].items():
        if "{course_id}" not in path:
            continue
        for method in methods:
            response = await call(client, method.upper(), filled(path, theirs), headers)
            assert response.status_code == 404, (method, path)
            assert response.json()["error"]["code"] == "not_found"
    # Another course's session through my course: not found either.
    foreign = f"/api/v1/courses/{mine.id}/sessions/{theirs.sessions[0]}"
    for suffix in ("", "/records"):
        assert (await client.get(foreign + suffix, headers=headers)).status_code == 404
    own = await client.get(f"/api/v1/courses/{mine.id}", headers=headers)
    assert own.json()["name"] == "Maths"
    assert await services.roster.unclaimed(theirs.id) == []


async def test_the_docs_page_is_served_without_a_cdn(client: httpx.AsyncClient) -> None:
    document = (await client.get("/api/openapi.json")).json()
    page = await client.get("/api/docs")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "<script" not in page.text and "https://" not in page.text
    assert "default-src 'self'" in page.headers["content-security-policy"]
    assert '<link rel="stylesheet" href="/api/docs.css">' in page.text
    for path in document["paths"]:
        assert path in page.text
    css = await client.get("/api/docs.css")
    assert css.status_code == 200 and css.headers["content-type"].startswith("text/css")
