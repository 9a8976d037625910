"""The configured code rotation is held to the same bound as `rotate=N`: at least one card
refresh plus the grace period, or the code on the projector is dead most of the time."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from bot.settings import Settings, describe_settings_error


def settings(**values: object) -> Settings:
    return Settings(_env_file=None, bot_token="1:x", **values)  # type: ignore[call-arg,arg-type]


@pytest.mark.parametrize(
    ("rotation", "refresh", "grace"),
    [(0, 5.0, 5), (10, 5.0, 5), (30, 5.0, 5), (7, 1.5, 5), (3600, 300, 300)],
)
def test_rotation_long_enough_is_accepted(rotation: int, refresh: float, grace: int) -> None:
    built = settings(
        code_rotation_seconds=rotation, card_refresh_seconds=refresh, code_grace_seconds=grace
    )
    assert built.code_rotation_seconds == rotation


@pytest.mark.parametrize(("rotation", "shortest"), [(1, 10), (2, 10), (9, 10)])
def test_rotation_shorter_than_refresh_plus_grace_stops_with_one_line(
    rotation: int, shortest: int
) -> None:
    with pytest.raises(ValidationError) as caught:
        settings(code_rotation_seconds=rotation)
    [line] = describe_settings_error(caught.value).splitlines()
    assert "ATTN_CODE_ROTATION_SECONDS" in line and f"at least {shortest}" in line
