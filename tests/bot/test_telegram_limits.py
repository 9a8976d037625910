"""The one place that fits long content into Telegram's limits, judged by the fake Bot API
server's own parser (which counts as Telegram does: after entity parsing, in UTF-16 units)."""

from __future__ import annotations

from html import escape

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.telegram_limits import (
    MAX_ALERT_LENGTH,
    MAX_CAPTION_LENGTH,
    MAX_TEXT_LENGTH,
    ShortList,
    alert_text,
    checked_callback_data,
    checked_keyboard,
    fit_blocks,
    fit_html,
    visible_length,
)
from tests.fakes.botapi import parse_formatted_text


def telegram_length(html: str) -> int:
    """What Telegram counts (the fake raises, as Telegram refuses, on malformed HTML)."""
    text, _entities = parse_formatted_text(html, "HTML")
    return len(text.encode("utf-16-le")) // 2


# Text as user data arrives in our HTML: escaped, with emoji and other astral characters.
user_text = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=120
).map(escape)
tag = st.sampled_from(["b", "i", "code", "u"])
fragment = st.one_of(user_text, st.builds(lambda t, x: f"<{t}>{x}</{t}>", tag, user_text))


@settings(max_examples=300, deadline=None)
@given(parts=st.lists(fragment, max_size=60), limit=st.integers(min_value=5, max_value=400))
def test_fit_html_always_fits_and_parses(parts: list[str], limit: int) -> None:
    html = "".join(parts)
    fitted = fit_html(html, limit)
    assert visible_length(fitted) == telegram_length(fitted) <= limit
    assert visible_length(html) == telegram_length(html)
    if telegram_length(html) <= limit:
        assert fitted == html


def test_fit_html_never_cuts_inside_an_entity_or_a_surrogate_pair() -> None:
    html = "<b>" + "&amp;" * 10 + "😀" * 10 + "</b>"
    for limit in range(1, 32):
        fitted = fit_html(html, limit)
        assert telegram_length(fitted) <= limit
        assert fitted.endswith("</b>…") or fitted == html
    assert fit_html("x" * 5000) == "x" * (MAX_TEXT_LENGTH - 1) + "…"
    assert telegram_length(fit_html("<b>" + "y" * 2000 + "</b>", MAX_CAPTION_LENGTH)) == 1024


@settings(max_examples=100, deadline=None)
@given(
    sizes=st.lists(st.integers(min_value=0, max_value=400), min_size=1, max_size=5),
    name_length=st.integers(min_value=1, max_value=100),
    limit=st.integers(min_value=300, max_value=MAX_TEXT_LENGTH),
)
def test_fit_blocks_shortens_lists_fairly_and_counts_what_it_leaves_out(
    sizes: list[int], name_length: int, limit: int
) -> None:
    blocks: list[str | ShortList] = ["<b>Head</b>"]
    for n, size in enumerate(sizes):
        names = [escape(f"<{n}:{i}>".ljust(name_length, "é")) for i in range(size)]
        blocks.append(ShortList(f"<b>L{n}:</b> ", names, ", ", " … and {n} more", cap=60))
    text = fit_blocks(blocks, limit)
    assert telegram_length(text) <= limit
    plain, _ = parse_formatted_text(text, "HTML")
    if plain.endswith("…"):
        return  # nothing but the cut could make it fit (the heads alone are too long)
    for n, size in enumerate(sizes):
        shown = plain.count(f"<{n}:")
        if shown < size:
            assert f" … and {size - shown} more" in plain, (n, size, shown)
        assert shown <= 60


def test_callback_data_and_keyboards() -> None:
    assert checked_callback_data("é" * 32) == "é" * 32
    for bad in ("", "é" * 33, "x" * 65):
        with pytest.raises(ValueError):
            checked_callback_data(bad)
    row = [InlineKeyboardButton(str(i), callback_data=str(i)) for i in range(10)]
    ten_rows = InlineKeyboardMarkup([row] * 10)
    assert checked_keyboard(ten_rows) is ten_rows
    with pytest.raises(ValueError):
        checked_keyboard(InlineKeyboardMarkup([*[row] * 10, row[:1]]))


def test_alert_text_is_the_plain_text_telegram_would_have_shown() -> None:
    html = (
        "You already have an open session: <b>Q&amp;A &lt;1&gt;</b> "
        "(code <code>AB12CD</code>, until 09:30).\nSend /end_session first."
    )
    assert alert_text(html) == (
        "You already have an open session: Q&A <1> (code AB12CD, until 09:30).\n"
        "Send /end_session first."
    )


def test_alert_text_cuts_a_long_text_after_a_whole_word() -> None:
    words = "alpha beta gamma delta epsilon " * 20
    fitted = alert_text(f"<b>{escape(words)}</b>")
    assert len(fitted) <= MAX_ALERT_LENGTH and fitted.endswith("…")
    assert words.startswith(fitted.removesuffix("…"))
    assert fitted.removesuffix("…").split(" ")[-1] in {"alpha", "beta", "gamma", "delta", "epsilon"}
    # One word longer than an alert is cut between characters (there is no better place).
    assert alert_text("x" * 300) == "x" * (MAX_ALERT_LENGTH - 1) + "…"


@settings(max_examples=300, deadline=None)
@given(parts=st.lists(fragment, max_size=12))
def test_alert_text_never_shows_markup_and_always_fits(parts: list[str]) -> None:
    html = "".join(parts)
    plain, _entities = parse_formatted_text(html, "HTML")
    fitted = alert_text(html)
    assert len(fitted.encode("utf-16-le")) // 2 <= MAX_ALERT_LENGTH
    if len(plain.encode("utf-16-le")) // 2 <= MAX_ALERT_LENGTH:
        assert fitted == plain
    else:
        assert fitted.endswith("…") and plain.startswith(fitted.removesuffix("…"))
