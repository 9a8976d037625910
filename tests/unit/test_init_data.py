"""Telegram's initData check, as Telegram documents it: HMAC-SHA-256 with the key derived
from the bot token, constant-time compare, auth_date no older than the allowed age."""

from __future__ import annotations

import hashlib
import hmac
import random
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qsl, quote, unquote_plus

import pytest

from bot.web.init_data import (
    MAX_INIT_DATA_LENGTH,
    InitDataRefused,
    Refusal,
    data_check_string,
    query_pairs,
    signed_init_data,
    unquote_plus_fast,
    validate_init_data,
)
from tests.support.miniapp import init_data_for, tampered

TOKEN = "123456:TEST-token-for-tests"
NOW = datetime(2026, 9, 1, 9, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)

# A vector from an independent implementation of the same documented check (the aiogram
# test suite): bot token "42:TEST", signed by Telegram's rule, not by our code.
OTHER_TOKEN, OTHER_VECTOR, OTHER_DATE = (
    "42:TEST",
    "auth_date=1650385342&user=%7B%22id%22%3A42%2C%22first_name%22%3A%22Test%22%7D"
    "&query_id=test&hash=46d2ea5e32911ec8d30999b56247654460c0d20949b6277af519e76271182803",
    datetime.fromtimestamp(1650385342, UTC),
)


def refusal(init_data: str, token: str = TOKEN, now: datetime = NOW) -> Refusal:
    with pytest.raises(InitDataRefused) as refused:
        validate_init_data(init_data, token, now=now, max_age=HOUR)
    return refused.value.reason


def test_an_independently_signed_vector_is_accepted() -> None:
    user = validate_init_data(OTHER_VECTOR, OTHER_TOKEN, now=OTHER_DATE, max_age=HOUR)
    assert (user.user_id, user.first_name, user.auth_date) == (42, "Test", OTHER_DATE)
    assert refusal(OTHER_VECTOR, TOKEN, OTHER_DATE) is Refusal.INVALID


def test_the_hash_is_the_documented_hmac_of_the_sorted_fields() -> None:
    """secret_key = HMAC_SHA256(key="WebAppData", msg=token); hash = hex HMAC_SHA256(
    secret_key, "k=v" lines sorted by key, without hash), spelled out here by hand."""
    fields = {"user": '{"id":7,"first_name":"Ada"}', "auth_date": "1788253200", "query_id": "q"}
    secret = hmac.new(b"WebAppData", TOKEN.encode(), hashlib.sha256).digest()
    lines = 'auth_date=1788253200\nquery_id=q\nuser={"id":7,"first_name":"Ada"}'
    assert data_check_string(fields) == lines
    expected = hmac.new(secret, lines.encode(), hashlib.sha256).hexdigest()
    assert signed_init_data(fields, TOKEN).endswith(f"hash={expected}")


def test_a_fresh_signed_init_data_names_its_user() -> None:
    init_data = init_data_for(
        77, NOW - timedelta(minutes=5), language_code="fa", start_param="ci_x"
    )
    user = validate_init_data(init_data, TOKEN, now=NOW, max_age=HOUR)
    assert (user.user_id, user.language_code, user.start_param) == (77, "fa", "ci_x")


def test_every_field_is_signed_including_unknown_ones() -> None:
    """A field Telegram adds later (signature, chat_instance ...) is part of the check."""
    fields = {
        "user": '{"id":8,"first_name":"Bo"}',
        "auth_date": str(int(NOW.timestamp())),
        "signature": "abc",
        "chat_instance": "-42",
    }
    good = signed_init_data(fields, TOKEN)
    assert validate_init_data(good, TOKEN, now=NOW, max_age=HOUR).user_id == 8
    assert refusal(good.replace("chat_instance=-42", "chat_instance=-43")) is Refusal.INVALID
    assert refusal(good.replace("signature=abc&", "")) is Refusal.INVALID


@pytest.mark.parametrize(
    ("label", "change", "reason"),
    [
        ("empty", lambda d: "", Refusal.MISSING),
        ("another user", lambda d: tampered(d, 78), Refusal.INVALID),
        ("no hash", lambda d: d.rsplit("&hash=", 1)[0], Refusal.INVALID),
        ("hash in capitals", lambda d: d[:-64] + d[-64:].upper(), Refusal.INVALID),
        ("repeated key", lambda d: d + "&auth_date=1", Refusal.INVALID),
        ("garbage", lambda d: "%%%", Refusal.INVALID),
        ("huge", lambda d: d + "&x=" + "a" * 9000, Refusal.INVALID),
        ("date moved", lambda d: d.replace("auth_date=", "auth_date=1"), Refusal.INVALID),
    ],
)
def test_tampered_init_data_is_refused(label: str, change: object, reason: Refusal) -> None:
    assert callable(change)
    assert refusal(change(init_data_for(77, NOW))) is reason, label


def test_another_bots_signature_is_refused() -> None:
    assert refusal(init_data_for(77, NOW, token="654321:OTHER")) is Refusal.INVALID


def test_old_or_future_init_data_is_refused_however_well_signed() -> None:
    assert refusal(init_data_for(77, NOW - HOUR - timedelta(seconds=1))) is Refusal.EXPIRED
    assert validate_init_data(init_data_for(77, NOW - HOUR), TOKEN, now=NOW, max_age=HOUR)
    assert refusal(init_data_for(77, NOW + timedelta(minutes=2))) is Refusal.EXPIRED
    assert validate_init_data(
        init_data_for(77, NOW + timedelta(seconds=30)), TOKEN, now=NOW, max_age=HOUR
    )


def test_a_signed_init_data_without_a_real_user_is_refused() -> None:
    date = str(int(NOW.timestamp()))
    for user in ('{"id":"77"}', '{"id":0}', '{"id":5,"is_bot":true}', "[1]", "nope"):
        assert refusal(signed_init_data({"user": user, "auth_date": date}, TOKEN)) is (
            Refusal.INVALID
        ), user
    assert refusal(signed_init_data({"auth_date": date}, TOKEN)) is Refusal.INVALID
    no_date = signed_init_data({"user": quote('{"id":5}')}, TOKEN)
    assert refusal(no_date) is Refusal.INVALID


def test_a_refusal_knows_the_language_the_data_claims() -> None:
    with pytest.raises(InitDataRefused) as refused:
        validate_init_data(
            init_data_for(77, NOW - 2 * HOUR, language_code="ru"), TOKEN, now=NOW, max_age=HOUR
        )
    assert refused.value.language_code == "ru"


def test_a_user_nested_a_thousand_deep_is_refused_not_an_error() -> None:
    """The user object is read before the hash is checked (to word the refusal): JSON
    nested deeper than Python's recursion limit raised RecursionError, which no caller
    expects, so anyone's forged header was a 500 and a traceback on every Mini App API call."""
    deep = "[" * 3000 + "]" * 3000
    assert refusal(f"user={deep}&auth_date=1788253200&hash=00") is Refusal.INVALID
    deep = "[" * 1200 + "]" * 1200  # (signed, it is percent-encoded: still under the limit)
    signed = signed_init_data({"user": deep, "auth_date": str(int(NOW.timestamp()))}, TOKEN)
    assert len(signed) <= MAX_INIT_DATA_LENGTH
    assert refusal(signed) is Refusal.INVALID


def test_the_query_is_split_exactly_as_the_standard_library_splits_it() -> None:
    """`query_pairs` is `parse_qsl(strict_parsing=True, keep_blank_values=True)` without its
    cost: the same pairs, or a refusal where parse_qsl raises, for every odd string."""
    rng = random.Random(14)
    alphabet = "ab=&%+2E9;xz é"
    cases = ["", "a", "a=", "=b", "a=1&&b=2", "&a=1", "a=1&", "a=%zz", "a+b=c+d", "a=b=c", "x=%"]
    cases += [
        "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 14))) for _ in range(20_000)
    ]
    cases.append(init_data_for(42, datetime.now(UTC)))
    for case in cases:
        try:
            expected: list[tuple[str, str]] | None = parse_qsl(
                case, keep_blank_values=True, strict_parsing=True
            )
        except ValueError:
            expected = None
        assert query_pairs(case) == expected, case


def test_the_fast_unquote_reads_every_string_as_urllib_does() -> None:
    """`unquote_plus_fast` decodes the escapes with a C codec: it must give urllib's string
    for anything, including what it hands back to urllib (backslashes, broken escapes,
    invalid UTF-8, non-ASCII text)."""
    pieces = [
        "%",
        "+",
        "a",
        "Z",
        "0",
        "%2",
        "%7B",
        "%e2",
        "%80",
        "%C3",
        "%A9",
        "%aF",
        "é",
        "€",
        " ",
        "\\",
        "\\x41",
        "\\u0041",
        "%zz",
        "%4",
        "%%",
        "\ud800",
        "\n",
        "%5C",
        "=",
    ]
    rng = random.Random(14)
    for _ in range(20_000):
        text = "".join(rng.choice(pieces) for _ in range(rng.randint(0, 10)))
        assert unquote_plus_fast(text) == unquote_plus(text), text
    user = quote('{"id":1,"first_name":"Анна Мария","last_name":"O\'Brien \\\\ +"}')
    assert unquote_plus_fast(user) == unquote_plus(user)
