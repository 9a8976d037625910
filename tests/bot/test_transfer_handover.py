"""A course's transfer takes the former owner's integrations with it (issue 16): the API
tokens they made stop working at once (401 from the real API app) and the course's webhook
is removed, each audited as /api_tokens and /webhook audit it; the admin is told so, and the
new owner too, in their own language, so they can make new ones."""

from __future__ import annotations

from tests.bot.test_api_tokens import new_token
from tests.bot.test_course_lifecycle import OTHER, audit, make_teacher
from tests.bot.test_course_staff import new_course
from tests.conftest import ADMIN_ID, TEACHER_ID
from tests.support.api_client import api_client
from tests.support.bot_harness import BotHarness
from tests.support.stored_tables import StoredTables

HOOK = "https://lms.example.org/attn"


async def test_a_transfer_revokes_the_tokens_and_switches_the_webhook_off(
    bot: BotHarness, stored_tables: StoredTables
) -> None:
    await make_teacher(bot, OTHER)
    await bot.send(OTHER, "/courses", language_code="ru")  # the new owner reads Russian
    course_id, code = await new_course(bot)
    tokens = [await new_token(bot, TEACHER_ID, course_id, letter) for letter in "rw"]
    await bot.send(TEACHER_ID, f"/webhook {HOOK}")
    assert [r["url"] for r in await stored_tables.rows("course_webhooks")] == [HOOK]

    path = f"/api/v1/courses/{course_id}"
    async with api_client(bot.services) as api:
        for token in tokens:
            answered = await api.get(path, headers={"Authorization": f"Bearer {token}"})
            assert answered.status_code == 200
        before = len(bot.request.calls)
        await bot.send(ADMIN_ID, f"/transfer_course {code} {OTHER}")
        for token in tokens:
            refused = await api.get(path, headers={"Authorization": f"Bearer {token}"})
            assert refused.status_code == 401
            assert refused.json()["error"]["code"] == "token_refused"
    sent = {
        c.params["chat_id"]: c.params["text"]
        for c in bot.request.calls[before:]
        if c.method == "sendMessage"
    }
    assert sent[ADMIN_ID] == (
        f"<b>Math 101</b> now belongs to teacher {OTHER}.\n"
        "2 REST API tokens of the course were revoked (the former teacher held them): "
        "/api_tokens makes new ones.\n"
        "The course's webhook was switched off (it sent to the former teacher's address): "
        "/webhook sets a new one."
    )
    assert sent[OTHER] == (
        "Администратор передал вам курс <b>Math 101</b> (0 студентов). Он уже есть в /courses.\n"
        "2 токена REST API курса отозваны (они были у прежнего преподавателя): "
        "/api_tokens создаёт новые.\n"
        "Вебхук курса отключён (он отправлял данные на адрес прежнего преподавателя): "
        "/webhook задаёт новый."
    )
    assert sent[TEACHER_ID] == "An admin gave your course <b>Math 101</b> to another teacher."

    assert await stored_tables.rows("course_webhooks") == []
    rows = sorted(await stored_tables.rows("api_tokens"), key=lambda r: r["id"])
    assert [(r["revoked_by"], r["revoked_at"] is not None) for r in rows] == [(ADMIN_ID, True)] * 2
    changes = [a for a in await audit(stored_tables) if a[1] == ADMIN_ID]
    assert changes == [
        ("transfer", ADMIN_ID, str(TEACHER_ID), str(OTHER)),
        ("api_token_revoke", ADMIN_ID, f"{rows[0]['id']} read {rows[0]['label']}", None),
        ("api_token_revoke", ADMIN_ID, f"{rows[1]['id']} read_write {rows[1]['label']}", None),
        ("webhook_clear", ADMIN_ID, HOOK, None),
    ]

    # The new owner makes their own: a fresh token works, only theirs is in force.
    [listing] = await bot.send(OTHER, "/api_tokens", language_code="ru")
    assert "Токенов пока нет." in listing  # the former owner's are not listed
    fresh = await new_token(bot, OTHER, course_id, "r")
    async with api_client(bot.services) as api:
        answered = await api.get(path, headers={"Authorization": f"Bearer {fresh}"})
        assert answered.status_code == 200
