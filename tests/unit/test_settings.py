"""Settings: the model and .env.example agree; bad settings fail with one clear line."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from bot.settings import Settings

ROOT = Path(__file__).resolve().parents[2]


def example_names() -> set[str]:
    text = (ROOT / ".env.example").read_text()
    return set(re.findall(r"^(ATTN_[A-Z_]+)=", text, flags=re.MULTILINE))


def test_env_example_lists_every_setting_and_nothing_else() -> None:
    fields = {"ATTN_" + name.upper() for name in Settings.model_fields}
    assert example_names() == fields


def test_every_setting_in_env_example_has_a_comment() -> None:
    lines = (ROOT / ".env.example").read_text().splitlines()
    for i, line in enumerate(lines):
        if line.startswith("ATTN_"):
            previous = [x for x in lines[:i] if x.strip()][-1]
            assert previous.startswith("#") or lines[i - 1].startswith("ATTN_"), line


def test_id_lists_are_comma_separated() -> None:
    settings = Settings(_env_file=None, bot_token="1:x", teacher_ids="1001, 1002,")  # type: ignore[call-arg,arg-type]
    assert settings.teacher_ids == [1001, 1002]


def run_cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("ATTN_")}
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT / "tests",  # no .env here
    )


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({}, "ATTN_BOT_TOKEN is required"),
        ({"ATTN_BOT_TOKEN": "not-a-token-SECRETVALUE"}, "ATTN_BOT_TOKEN must look like"),
        ({"ATTN_BOT_TOKEN": "1:SECRETVALUE", "ATTN_TEACHER_IDS": "1,bob"}, "ATTN_TEACHER_IDS"),
        ({"ATTN_BOT_TOKEN": "1:SECRETVALUE", "ATTN_SESSION_MINUTES": "0"}, "ATTN_SESSION_MINUTES"),
        ({"ATTN_BOT_TOKEN": "1:SECRETVALUE", "ATTN_TIMEZONE": "Mars/Base"}, "ATTN_TIMEZONE"),
    ],
)
def test_bad_settings_stop_with_one_clear_line(env: dict[str, str], named: str) -> None:
    result = run_cli(env, "check-config")
    assert result.returncode == 2
    assert named in result.stderr
    assert "Traceback" not in result.stderr and "SECRETVALUE" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_check_config_accepts_good_settings_and_hides_the_token() -> None:
    result = run_cli({"ATTN_BOT_TOKEN": "1:SECRETVALUE", "ATTN_TEACHER_IDS": "5,6"}, "check-config")
    assert result.returncode == 0, result.stderr
    assert "configuration OK" in result.stdout and "teachers:   2" in result.stdout
    assert "SECRETVALUE" not in result.stdout + result.stderr


def test_empty_urls_mean_embedded_servers() -> None:
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None, bot_token="1:x", redis_url="", database_url=" ", telegram_api_url=""
    )
    assert settings.redis_url is None and settings.database_url is None
    assert settings.telegram_api_url is None


def test_readme_documents_every_setting() -> None:
    readme = (ROOT / "README.md").read_text()
    missing = [
        name
        for name in ("ATTN_" + field.upper() for field in Settings.model_fields)
        if name not in readme
    ]
    assert missing == []


def test_check_config_says_how_to_make_a_webhook_secret() -> None:
    env = {"ATTN_BOT_TOKEN": "1:SECRETVALUE"}
    result = run_cli(env, "check-config")
    assert result.returncode == 0, result.stderr
    assert 'python3 -c "import secrets; print(secrets.token_urlsafe(32))"' in result.stdout
    short = {**env, "ATTN_WEBHOOK_URL": "https://bot.example.org/hook"}
    result = run_cli({**short, "ATTN_WEBHOOK_SECRET": "tooShort-SECRET"}, "check-config")
    assert result.returncode == 2 and "tooShort" not in result.stderr
    assert result.stderr.strip().splitlines() == [
        "configuration error: ATTN_WEBHOOK_SECRET must be at least 32 characters (it has 15); "
        'make one with python3 -c "import secrets; print(secrets.token_urlsafe(32))"'
    ]
    made = subprocess.run(
        [sys.executable, "-c", "import secrets; print(secrets.token_urlsafe(32))"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    result = run_cli({**short, "ATTN_WEBHOOK_SECRET": made}, "check-config")
    assert result.returncode == 0, result.stderr
    assert "webhook" in result.stdout and made not in result.stdout + result.stderr


@pytest.mark.parametrize("ids", ["1001,²", "١٠٠١", "1001,１２", "-1001", "0"])
def test_id_lists_accept_ascii_user_ids_only_with_the_settings_own_hint(ids: str) -> None:
    """A superscript, Arabic-Indic or full-width digit (pasted from a chat or a spreadsheet)
    passes `str.isdigit()`: "²" then failed with Python's "invalid literal for int()" and
    "١٠٠١" was silently read as 1001. User ids are positive ASCII numbers, in both lists."""
    from pydantic import ValidationError

    from bot.settings import describe_settings_error
    from tests.conftest import make_settings

    for field in ("teacher_ids", "admin_ids"):
        with pytest.raises(ValidationError) as caught:
            make_settings(**{field: ids})
        described = describe_settings_error(caught.value)
        assert "comma-separated Telegram user ids" in described, described
        assert "invalid literal" not in described
