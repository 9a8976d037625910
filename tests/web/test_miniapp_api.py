"""The Mini App's JSON API over HTTP (httpx against the real app served in-process): every
check-in outcome answered in the response, by the chat path's rules, and only for the user
Telegram's signed initData names."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from redis.asyncio import Redis

from bot.container import Services
from services.clock import ManualClock
from tests.bot.test_location import FAR, HALL, NEARBY
from tests.bot.test_roles_privacy import everything_stored
from tests.conftest import TEACHER_ID, make_settings
from tests.support.bot_harness import BotHarness
from tests.support.miniapp import init_data_for, tampered
from tests.support.stored_tables import StoredTables
from tests.support.web_server import reserve_port, running_web_server

CHECKIN = "/api/miniapp/checkin"
HISTORY = "/api/miniapp/history"
CONFIG = "/api/miniapp/config"


class MiniAppClient:
    """The bot (for the teacher's side, in chat) and the Mini App's API (the students')."""

    def __init__(self, bot: BotHarness, http: httpx.AsyncClient, clock: ManualClock) -> None:
        self.bot = bot
        self.http = http
        self.clock = clock

    def auth(self, student: int, **kwargs: Any) -> dict[str, str]:
        init_data = init_data_for(student, self.clock.now(), **kwargs)
        return {"Authorization": f"tma {init_data}"}

    async def check_in(self, student: int, code: str, **body: Any) -> httpx.Response:
        return await self.http.post(
            CHECKIN, json={"code": code, **body}, headers=self.auth(student)
        )

    async def outcome(self, student: int, code: str, **body: Any) -> dict[str, Any]:
        response = await self.check_in(student, code, **body)
        assert response.status_code == 200, response.text
        answer: dict[str, Any] = response.json()
        return answer

    async def start_session(self, args: str) -> tuple[str, str]:
        """(session id, code) of a session the teacher starts in chat."""
        replies = await self.bot.send(TEACHER_ID, f"/start_session {args}")
        code = re.search(r"<code>([A-Z0-9]{6})</code>", replies[0])
        assert code, replies
        session = await self.bot.services.sessions.open_session(TEACHER_ID)
        assert session is not None
        return session.id, code[1]

    async def checked_in(self, session_id: str) -> set[int]:
        return set(await self.bot.services.live.checkins.checked_in(session_id))


@pytest.fixture
async def miniapp(services: Services, clock: ManualClock) -> AsyncIterator[MiniAppClient]:
    sock, url = reserve_port()
    settings = make_settings(public_url=url)
    async with (
        BotHarness(settings, services) as bot,
        running_web_server(bot.app, sock=sock) as url,
        httpx.AsyncClient(base_url=url, timeout=10) as http,
    ):
        yield MiniAppClient(bot, http, clock)


async def test_each_outcome_is_answered_in_the_response(miniapp: MiniAppClient) -> None:
    session_id, code = await miniapp.start_session("30 Chemistry")
    recorded = await miniapp.outcome(2001, code.lower())
    assert recorded["outcome"] == "recorded" and recorded["status"] == "present"
    assert recorded["message"].startswith("✅ Checked in to Chemistry at ")
    assert "<b>" not in recorded["message"]  # plain text: the page shows it as text
    again = await miniapp.outcome(2001, code)
    assert again["outcome"] == "duplicate"
    assert again["message"].startswith("You are already checked in to Chemistry")
    wrong = await miniapp.outcome(2002, "ZZZZZZ")
    assert wrong["outcome"] == "wrong_code"
    assert wrong["message"] == "That code is not valid. Check it and try again."
    not_a_code = await miniapp.check_in(2002, "hello there")
    assert not_a_code.status_code == 400
    assert "6 letters and digits" in not_a_code.json()["message"]
    # The QR's link, or its parameter, checks in like the code typed.
    link = f"https://t.me/attn_test_bot?startapp=ci_{session_id}-{code}"
    assert (await miniapp.outcome(2003, link))["outcome"] == "recorded"
    assert (await miniapp.outcome(2004, f"ci_{session_id}-{code}"))["outcome"] == "recorded"
    assert await miniapp.checked_in(session_id) == {2001, 2003, 2004}

    await miniapp.bot.send(TEACHER_ID, "/end_session")
    closed = await miniapp.outcome(2005, code)
    assert closed["outcome"] in ("closed", "wrong_code"), closed
    assert await miniapp.checked_in(session_id) == {2001, 2003, 2004}


async def test_a_replayed_request_is_already_checked_in_never_counted_twice(
    miniapp: MiniAppClient,
) -> None:
    session_id, code = await miniapp.start_session("30 Replay")
    headers = miniapp.auth(2101)
    body = {"code": code}
    first, second = await asyncio.gather(
        miniapp.http.post(CHECKIN, json=body, headers=headers),
        miniapp.http.post(CHECKIN, json=body, headers=headers),
    )
    outcomes = sorted(r.json()["outcome"] for r in (first, second))
    assert outcomes == ["duplicate", "recorded"]
    third = await miniapp.http.post(CHECKIN, json=body, headers=headers)
    assert third.json()["outcome"] == "duplicate"
    present = await miniapp.bot.services.live.checkins.checked_in(session_id)
    assert list(present) == [2101]


async def test_wrong_codes_lock_the_student_out_as_in_chat(miniapp: MiniAppClient) -> None:
    session_id, code = await miniapp.start_session("30 Guessing")
    answers = [(await miniapp.outcome(2201, "ZZZZZ2"))["outcome"] for _ in range(5)]
    assert answers[:4] == ["wrong_code"] * 4 and answers[4] in ("wrong_code", "locked_out")
    locked = await miniapp.outcome(2201, code)
    assert locked["outcome"] == "locked_out"
    assert "wait 10 minutes" in locked["message"]
    # The chat path sees the same lock-out: it is the student's, not the page's.
    [chat] = await miniapp.bot.send(2201, f"/checkin {code}")
    assert "Too many wrong codes" in chat
    assert await miniapp.checked_in(session_id) == set()
    miniapp.clock.advance(minutes=11)
    assert (await miniapp.outcome(2201, code))["outcome"] == "recorded"


async def test_a_student_off_the_roster_is_refused(miniapp: MiniAppClient) -> None:
    [created] = await miniapp.bot.send(TEACHER_ID, "/new_course Algebra")
    join = re.search(r"/join ([A-Z0-9]{8})", created)
    assert join
    await miniapp.bot.send(2301, f"/join {join[1]}")
    session_id, code = await miniapp.start_session("Algebra 60")
    refused = await miniapp.outcome(2302, code)
    assert refused["outcome"] == "not_enrolled"
    assert "not enrolled in the course of Algebra" in refused["message"]
    assert (await miniapp.outcome(2301, code))["outcome"] == "recorded"
    assert await miniapp.checked_in(session_id) == {2301}


async def test_a_location_checked_session_asks_for_the_location_and_judges_it(
    miniapp: MiniAppClient,
) -> None:
    bot = miniapp.bot
    session_id, code = await miniapp.start_session("30 Field trip geo")
    [saved] = await bot.send_location(TEACHER_ID, *HALL)
    assert "Classroom location saved" in saved

    asked = await miniapp.outcome(2401, code)
    assert asked["outcome"] == "needs_location" and asked["location_required"] is True
    assert "allow access to your location" in asked["message"]
    assert "Share my location" not in asked["message"]  # the chat's button is not here

    far = {"latitude": FAR[0], "longitude": FAR[1], "accuracy": 15}
    outside = await miniapp.outcome(2401, code, location=far)
    assert outside["outcome"] == "location_outside" and outside["distance_m"] == 500
    assert "about 500 m" in outside["message"] and "Nothing was recorded" in outside["message"]
    assert await miniapp.checked_in(session_id) == set()

    near = {"latitude": NEARBY[0], "longitude": NEARBY[1], "accuracy": 15}
    inside = await miniapp.outcome(2401, code, location=near)
    assert inside["outcome"] == "recorded", inside
    # A location with its code in one request (the page knew the session checks it).
    assert (await miniapp.outcome(2402, code, location=near))["outcome"] == "recorded"
    present = await bot.services.live.checkins.checked_in(session_id)
    assert set(present) == {2401, 2402} and present[2401].distance_m == 80
    # A wrong code with a location is judged as a code first: nothing recorded.
    assert (await miniapp.outcome(2403, "ZZZZZ2", location=near))["outcome"] == "wrong_code"


async def test_the_code_stays_bound_while_the_location_is_read(miniapp: MiniAppClient) -> None:
    """A rotation between "needs location" and the location does not refuse the student,
    as in the chat; a code that had expired before is refused like a typed one."""
    bot = miniapp.bot
    session_id, code = await miniapp.start_session("30 Walk geo rotate=30")
    await bot.send_location(TEACHER_ID, *HALL)
    assert (await miniapp.outcome(2501, code))["outcome"] == "needs_location"
    miniapp.clock.advance(seconds=61)
    assert await bot.services.rotation.rotate_due_codes()
    near = {"latitude": NEARBY[0], "longitude": NEARBY[1]}
    miniapp.clock.advance(seconds=10)  # the old code's grace is over
    assert (await miniapp.outcome(2501, code, location=near))["outcome"] == "recorded"
    # Another student scanning the old QR now: refused like the old code typed in chat.
    old_scan = f"https://t.me/attn_test_bot?startapp=ci_{session_id}-{code}"
    scanned = await miniapp.outcome(2502, old_scan, location=near)
    [typed] = await bot.send(2503, f"/checkin {code}")
    assert scanned["outcome"] in ("expired_code", "wrong_code"), scanned
    assert scanned["message"] in typed or typed.startswith(scanned["message"][:20])
    assert await miniapp.checked_in(session_id) == {2501}


async def test_refused_init_data_records_nothing(
    miniapp: MiniAppClient, clean_redis: Redis, stored_tables: StoredTables
) -> None:
    session_id, code = await miniapp.start_session("30 Security")
    student, name = 7_301_977, "Zephyrine"
    now = miniapp.clock.now()
    genuine = init_data_for(student, now, first_name=name)
    requests = {
        "missing": {},
        "not tma": {"Authorization": f"Bearer {genuine}"},
        "tampered": {"Authorization": f"tma {genuine.replace(name, 'Zephyrina')}"},
        "another user": {"Authorization": f"tma {tampered(genuine, 2601)}"},
        "another token": {
            "Authorization": "tma "
            + init_data_for(student, now, token="654321:OTHER-token", first_name=name)
        },
        "expired": {
            "Authorization": "tma "
            + init_data_for(student, now - timedelta(minutes=16), first_name=name)
        },
        "future": {
            "Authorization": "tma "
            + init_data_for(student, now + timedelta(minutes=5), first_name=name)
        },
    }
    expected = {
        "missing": "missing",
        "not tma": "missing",
        "tampered": "invalid",
        "another user": "invalid",
        "another token": "invalid",
        "expired": "expired",
        "future": "expired",
    }
    for label, headers in requests.items():
        for method, path, body in (
            ("POST", CHECKIN, {"code": code}),
            ("GET", HISTORY, None),
        ):
            response = await miniapp.http.request(method, path, json=body, headers=headers)
            assert response.status_code == 401, (label, path, response.text)
            assert response.json()["error"] == expected[label], label
            assert "nothing was recorded" in response.json()["message"] or label in (
                "missing",
                "not tma",
            )
    config = await miniapp.http.get(CONFIG, params={"lang": "ru"}, headers=requests["expired"])
    assert config.json()["refusal"]["error"] == "expired"
    assert config.json()["texts"]["submit"] == "Отметиться"

    # The user id in a body is not a way in either: the request is refused as malformed.
    forged = await miniapp.http.post(
        CHECKIN, json={"code": code, "user_id": student}, headers=miniapp.auth(2602)
    )
    assert forged.status_code == 422

    assert await miniapp.checked_in(session_id) == set()
    assert await miniapp.bot.services.live.profiles.cached_profile(student) is None
    assert await miniapp.bot.services.live.profiles.cached_profile(2601) is None
    await miniapp.bot.services.users.settle()
    stored = await everything_stored(clean_redis, stored_tables)
    assert name not in stored and "Zephyrina" not in stored
    keys = [key.decode() async for key in clean_redis.scan_iter(count=1000)]
    assert not [key for key in keys if str(student) in key or "2601" in key]


async def test_history_is_what_the_chat_shows(miniapp: MiniAppClient) -> None:
    bot = miniapp.bot
    [created] = await bot.send(TEACHER_ID, "/new_course Biology")
    join = re.search(r"/join ([A-Z0-9]{8})", created)
    assert join
    await bot.send(2701, f"/join {join[1]}")
    _, code = await miniapp.start_session("Biology 60")
    assert (await miniapp.outcome(2701, code))["outcome"] == "recorded"
    await bot.send(TEACHER_ID, "/end_session")
    miniapp.clock.advance(minutes=1)
    await bot.services.sweeper.sweep_attendances()

    response = await miniapp.http.get(HISTORY, headers=miniapp.auth(2701))
    assert response.status_code == 200
    history = response.json()
    [chat] = await bot.send(2701, "/history")
    assert "Biology" in history["message"]
    assert re.sub(r"<[^>]+>", "", chat).replace("&amp;", "&") == history["message"]
    assert history["courses"][0]["course"] == "Biology"
    assert history["courses"][0]["present"] == 1 and history["courses"][0]["sessions"] == 1


async def test_the_page_texts_follow_the_users_language(miniapp: MiniAppClient) -> None:
    spanish = await miniapp.http.get(CONFIG, headers=miniapp.auth(2801, language_code="es"))
    assert spanish.json()["language"] == "es" and spanish.json()["direction"] == "ltr"
    assert spanish.json()["texts"]["history"] == "Mi asistencia"
    persian = await miniapp.http.get(CONFIG, headers=miniapp.auth(2802, language_code="fa"))
    assert persian.json()["direction"] == "rtl"
    # A language chosen in /settings (in chat, just now) wins over the Telegram app's.
    await miniapp.bot.send(2803, "/start")
    await miniapp.bot.services.users.set_language(2803, "ru")
    chosen = await miniapp.http.get(CONFIG, headers=miniapp.auth(2803, language_code="es"))
    assert chosen.json()["language"] == "ru"
    _, code = await miniapp.start_session("30 Idiomas")
    response = await miniapp.http.post(
        CHECKIN, json={"code": code}, headers=miniapp.auth(2801, language_code="es")
    )
    answer = response.json()
    assert answer["message"].startswith("✅") and "Idiomas" in answer["message"], answer
    assert "Checked in" not in answer["message"]  # in Spanish
    page = await miniapp.http.get("/miniapp")
    csp = page.headers["content-security-policy"]
    assert "script-src 'self' https://telegram.org" in csp and "'unsafe-inline'" not in csp


async def test_a_flooding_user_is_slowed_down_as_in_chat(
    services: Services, clock: ManualClock
) -> None:
    sock, url = reserve_port()
    settings = make_settings(user_rate_per_minute=3, public_url=url)
    async with (
        BotHarness(settings, services) as bot,
        running_web_server(bot.app, sock=sock) as url,
        httpx.AsyncClient(base_url=url, timeout=10) as http,
    ):
        miniapp = MiniAppClient(bot, http, clock)
        headers = miniapp.auth(2901)
        answers = [
            await http.post(CHECKIN, json={"code": "ZZZZZ2"}, headers=headers) for _ in "abc"
        ]
        assert [a.json()["outcome"] for a in answers] == ["wrong_code"] * 3
        refused = await http.post(CHECKIN, json={"code": "ZZZZZ2"}, headers=headers)
        assert refused.status_code == 429 and "Wait a few seconds" in refused.json()["message"]
        assert (await http.get(HISTORY, headers=headers)).status_code == 429
        # Someone else is not slowed down by it.
        other = await http.post(CHECKIN, json={"code": "ZZZZZ2"}, headers=miniapp.auth(2902))
        assert other.json()["outcome"] == "wrong_code"


async def test_a_location_json_cannot_carry_is_refused_not_a_server_error(
    miniapp: MiniAppClient,
) -> None:
    """Python's JSON reader takes NaN and 1e999 (infinity); FastAPI's default 422 echoes
    the input back, which JSON cannot carry, so it answered 500 with a traceback in the
    log. Now a short 422 that repeats nothing that was sent, and nothing recorded."""
    session_id, code = await miniapp.start_session("30 Odd numbers geo")
    await miniapp.bot.send_location(TEACHER_ID, *HALL)
    for latitude in (b"NaN", b"Infinity", b"-Infinity", b"1e999"):
        body = b'{"code":"%s","location":{"latitude":%s,"longitude":13.4}}' % (
            code.encode(),
            latitude,
        )
        response = await miniapp.http.post(
            CHECKIN,
            content=body,
            headers={**miniapp.auth(2951), "Content-Type": "application/json"},
        )
        assert response.status_code == 422, (latitude, response.text)
        assert response.json()["error"] == "invalid_request"
        assert "location.latitude" in response.json()["message"]
    forged = await miniapp.http.post(
        CHECKIN, json={"code": code, "note": "Zephyrine"}, headers=miniapp.auth(2952)
    )
    assert forged.status_code == 422 and "Zephyrine" not in forged.text
    assert await miniapp.checked_in(session_id) == set()


async def test_pages_and_health_checks_answer_head_as_get_without_a_body(
    miniapp: MiniAppClient,
) -> None:
    """Link checkers, chat previews and load balancers ask with HEAD: the same status and
    headers as GET (the page's Content-Security-Policy included), no body. The JSON API
    stays GET/POST only. (The projector page: tests/web/test_projector.py.)"""
    for path in ("/miniapp", "/app/teacher", "/healthz", "/readyz"):
        got = await miniapp.http.get(path)
        head = await miniapp.http.head(path)
        assert (path, head.status_code) == (path, got.status_code)
        assert got.status_code == 200
        assert head.content == b""
        for header in ("content-type", "content-security-policy", "cache-control"):
            assert head.headers.get(header) == got.headers.get(header), (path, header)
    assert (await miniapp.http.head(CONFIG)).status_code == 405
