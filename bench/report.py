"""The JSON result and the printed table, with the targets from the issue.

Why the JSON holds medians plus min/max only for rates: that is the agreed shape (targets are
checked by reading it); the table shows the spread of every metric for the human reader.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from bench.measure import Series


@dataclass(frozen=True)
class Metric:
    key: str
    unit: str
    digits: int
    rate: bool = False
    target: tuple[str, float] | None = None  # (">=" | "<=", bound)


METRICS = [
    Metric("checkin_service_per_s", "/s", 0, rate=True),
    Metric("raw_evalsha_per_s", "/s", 0, rate=True),
    Metric("checkin_service_ratio", "", 3, target=(">=", 0.85)),
    Metric("checkin_p50_ms", "ms", 2),
    Metric("checkin_p99_ms", "ms", 2, target=("<=", 25.0)),
    Metric("updates_per_s", "/s", 0, rate=True),
    Metric("baseline_updates_per_s", "/s", 0, rate=True),
    Metric("updates_ratio", "", 3, target=(">=", 0.8)),
    Metric("sweep_rows_per_s", "/s", 0, rate=True),
    Metric("copy_rows_per_s", "/s", 0, rate=True),
    Metric("sweep_ratio", "", 3, target=(">=", 0.5)),
    Metric("copy_without_fk_rows_per_s", "/s", 0, rate=True),
    Metric("sweep_ratio_without_fk", "", 3),
    Metric("redis_bytes_per_checkin", "B", 1, target=("<=", 100.0)),
    Metric("burst_1000_record_s", "s", 3, target=("<=", 1.0)),
    Metric("redis_bytes_per_update_claim", "B", 2, target=("<=", 2.0)),
    Metric("api_records_per_s", "/s", 0, rate=True),
    Metric("api_store_records_per_s", "/s", 0, rate=True),
    Metric("api_records_ratio", "", 3),
    Metric("dashboard_json_ms", "ms", 1, target=("<=", 100.0)),
    Metric("dashboard_store_ms", "ms", 1),
    Metric("chat_burst_1000_last_reply_s", "s", 3, target=("<=", 2.0)),
    Metric("chat_burst_1000_limited_last_reply_s", "s", 2),
    Metric("chat_burst_floor_ratio", "", 3, target=(">=", 0.9)),
    Metric("web_burst_1000_confirmed_s", "s", 3, target=("<=", 2.0)),
    Metric("web_checkin_per_s", "/s", 0, rate=True),
    Metric("web_service_checkin_per_s", "/s", 0, rate=True),
    Metric("web_checkin_ratio", "", 3, target=(">=", 0.5)),
]

RATIOS = {
    "checkin_service_ratio": ("checkin_service_per_s", "raw_evalsha_per_s"),
    "updates_ratio": ("updates_per_s", "baseline_updates_per_s"),
    "sweep_ratio": ("sweep_rows_per_s", "copy_rows_per_s"),
    "api_records_ratio": ("api_records_per_s", "api_store_records_per_s"),
    "web_checkin_ratio": ("web_checkin_per_s", "web_service_checkin_per_s"),
    "sweep_ratio_without_fk": ("sweep_rows_per_s", "copy_without_fk_rows_per_s"),
}

_OPS: dict[str, Callable[[float, float], bool]] = {">=": operator.ge, "<=": operator.le}


@dataclass(frozen=True)
class Row:
    metric: Metric
    median: float
    low: float
    high: float


def rows_from(series: Mapping[str, Series]) -> list[Row]:
    """One row per metric that was measured; a ratio is the ratio of the two medians.

    A ratio's low/high is the range of the per-repetition ratios (both sides of a repetition
    ran back to back), shown in the table only.
    """
    rows: list[Row] = []
    for metric in METRICS:
        if metric.key in RATIOS:
            top, bottom = (series.get(k) for k in RATIOS[metric.key])
            if not top or not bottom or not top.values or not bottom.values:
                continue
            paired = [a / b for a, b in zip(top.values, bottom.values, strict=True)]
            rows.append(Row(metric, top.median / bottom.median, min(paired), max(paired)))
            continue
        found = series.get(metric.key)
        if found is None or not found.values:
            continue
        rows.append(Row(metric, found.median, found.min, found.max))
    return rows


def met(row: Row) -> bool | None:
    if row.metric.target is None:
        return None
    op, bound = row.metric.target
    return _OPS[op](row.median, bound)


def _clean(value: float, digits: int) -> float | int | None:
    if math.isnan(value) or math.isinf(value):
        return None
    return round(value) if digits == 0 else round(value, digits + 1)


def to_json(rows: list[Row], machine: Mapping[str, Any]) -> dict[str, Any]:
    """The result object: every metric's median, `*_min`/`*_max` for rates, and `machine`."""
    result: dict[str, Any] = {}
    for row in rows:
        digits = row.metric.digits
        result[row.metric.key] = _clean(row.median, digits)
        if row.metric.rate:
            result[f"{row.metric.key}_min"] = _clean(row.low, digits)
            result[f"{row.metric.key}_max"] = _clean(row.high, digits)
    result["machine"] = dict(machine)
    return result


def _fmt(value: float, metric: Metric) -> str:
    if math.isnan(value):
        return "—"
    text = f"{value:,.{metric.digits}f}"
    return f"{text} {metric.unit}".rstrip()


def table(rows: list[Row], notes: list[tuple[str, str]]) -> str:
    """A fixed-width table: metric, median, min, max, target, met?; then the side notes."""
    header = ("metric", "median", "min", "max", "target", "met?")
    lines = [header]
    for row in rows:
        target = met(row)
        target_text = (
            ""
            if row.metric.target is None
            else " ".join((row.metric.target[0], f"{row.metric.target[1]:g}"))
        )
        lines.append(
            (
                row.metric.key,
                _fmt(row.median, row.metric),
                _fmt(row.low, row.metric),
                _fmt(row.high, row.metric),
                target_text,
                "" if target is None else ("yes" if target else "NO"),
            )
        )
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    out = []
    for index, line in enumerate(lines):
        cells = [
            cell.ljust(widths[i]) if i == 0 else cell.rjust(widths[i])
            for i, cell in enumerate(line)
        ]
        out.append("  ".join(cells).rstrip())
        if index == 0:
            out.append("  ".join("-" * w for w in widths))
    if notes:
        out.append("")
        out.append("for information (not in the JSON):")
        width = max(len(label) for label, _ in notes)
        out.extend(f"  {label.ljust(width)}  {value}" for label, value in notes)
    return "\n".join(out)


def markdown_table(rows: list[Row]) -> str:
    """The same table in Markdown, for bench/README.md."""
    out = [
        "| metric | median | min | max | target | met? |",
        "| --- | ---: | ---: | ---: | --- | --- |",
    ]
    for row in rows:
        target = met(row)
        target_text = (
            "" if row.metric.target is None else f"{row.metric.target[0]} {row.metric.target[1]:g}"
        )
        out.append(
            f"| `{row.metric.key}` | {_fmt(row.median, row.metric)} | "
            f"{_fmt(row.low, row.metric)} | {_fmt(row.high, row.metric)} | {target_text} | "
            f"{'' if target is None else ('yes' if target else '**no**')} |"
        )
    return "\n".join(out)
