"""Reading a roster file (CSV or XLSX) into valid rows and a list of rejected lines.

What real registry exports look like: UTF-8 with or without a BOM, UTF-16 from Excel's
"Unicode text", Latin-1/cp1252 from older systems; `,` `;` or tab between fields; a header
row or none. Every line is judged on its own, so one bad line never sinks the file, and each
rejected line is named by its number and a reason. A cell that starts like a spreadsheet
formula (= + - @) is refused, never stored: it could come back out of an export as one.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from services.errors import InvalidArgument
from services.places import (
    MAX_EMAIL_LENGTH,
    MAX_GROUP_LENGTH,
    MAX_NAME_LENGTH,
    PlaceRow,
    clean_student_number,
)

#: Telegram lets bots download files up to 20 MB.
MAX_FILE_BYTES = 20 * 1024 * 1024
#: Data rows one file may carry (a whole faculty's intake fits; a mistake does not).
MAX_ROWS = 5000
#: An XLSX's parts unpacked, at most: a zip bomb (1 MiB unpacking to gigabytes) is refused
#: before it is unpacked; a real 5,000-row roster is a few MiB.
MAX_XLSX_UNPACKED_BYTES = 25 * 1024 * 1024
#: Sheet rows read at most, blank ones included (a sheet of endless blank rows stops here).
MAX_SHEET_ROWS = 10 * MAX_ROWS
SEPARATORS = (",", ";", "\t")
#: Physical lines one quoted CSV record may span (a cell with line breaks in it).
MAX_RECORD_LINES = 5
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")

# Header words (folded) per column, in the languages the bot speaks.
_HEADERS: dict[str, tuple[str, ...]] = {
    "number": (
        "number", "student number", "student no", "student id", "id", "no", "nr", "№",
        "matricula", "matrícula", "número", "numero", "номер", "شماره", "شماره دانشجویی",
    ),
    "name": (
        "name", "full name", "student", "student name", "nombre", "nombre completo",
        "фио", "имя", "نام", "نام و نام خانوادگی",
    ),
    "email": ("email", "e-mail", "mail", "correo", "почта", "ایمیل"),
    "group": ("group", "grupo", "группа", "گروه"),
}  # fmt: skip


class RejectReason(StrEnum):
    """Why a line was not imported (the bot words each)."""

    ENCODING = "encoding"
    SEPARATOR = "separator"
    FIELDS = "fields"
    NUMBER = "number"
    NAME = "name"
    FORMULA = "formula"
    DUPLICATE = "duplicate"
    EMAIL = "email"
    TOO_LONG = "too_long"


@dataclass(frozen=True, slots=True)
class Rejected:
    """A line left out: its number in the file, why, and a detail (the other line, the
    separator) for the reply."""

    line: int
    reason: RejectReason
    detail: str = ""


@dataclass
class RosterFile:
    """The valid rows and the rejected lines of one file."""

    rows: list[PlaceRow] = field(default_factory=list)
    rejected: list[Rejected] = field(default_factory=list)
    header: bool = False


def read_roster(content: bytes, filename: str = "") -> RosterFile:
    """Valid rows and rejected lines of a CSV or XLSX roster.

    Raises:
        InvalidArgument: ("roster_file", problem) for a file that cannot be read at all:
            "too_big", "unreadable", "empty", "too_many_rows", "columns".
    """
    if len(content) > MAX_FILE_BYTES:
        raise InvalidArgument("roster_file", "too_big")
    if content.startswith(b"PK\x03\x04") or filename.lower().endswith((".xlsx", ".xlsm")):
        lines = _xlsx_lines(content)
        return _judge(lines, [])
    lines, bad = _csv_lines(content)
    return _judge(lines, bad)


# --- decoding ------------------------------------------------------------------------------


def _decode(content: bytes) -> tuple[list[tuple[int, str]], list[Rejected]]:
    """(line number, text) of every physical line, and lines that could not be decoded.

    A file that is UTF-8 except for some lines keeps its UTF-8 and refuses those lines (a
    line pasted from a Latin-1 source would otherwise become nonsense); a file with no UTF-8
    at all is read as cp1252 (Windows' Latin-1)."""
    if content.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            text = content.decode("utf-16")
        except UnicodeDecodeError:
            raise InvalidArgument("roster_file", "unreadable") from None
        return list(enumerate(text.splitlines(), start=1)), []
    content = content.removeprefix(b"\xef\xbb\xbf")
    raw_lines = content.splitlines()
    decoded: list[tuple[int, str]] = []
    failed: list[int] = []
    utf8_seen = False
    for number, raw in enumerate(raw_lines, start=1):
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            failed.append(number)
            decoded.append((number, ""))
            continue
        utf8_seen = utf8_seen or not raw.isascii()
        decoded.append((number, text))
    if failed and not utf8_seen:
        return [
            (n, raw.decode("cp1252", errors="replace")) for n, raw in enumerate(raw_lines, start=1)
        ], []
    return decoded, [Rejected(n, RejectReason.ENCODING) for n in failed]


def _csv_lines(content: bytes) -> tuple[list[tuple[int, list[str]]], list[Rejected]]:
    if b"\x00" in content and not content.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise InvalidArgument("roster_file", "unreadable")
    decoded, bad = _decode(content)
    texts = [text for _, text in decoded if text.strip()]
    if not texts:
        raise InvalidArgument("roster_file", "empty")
    separator = _separator(texts[:50])
    lines: list[tuple[int, list[str]]] = []
    bad_lines = {r.line for r in bad}
    joined_into: set[int] = set()
    for index, (number, text) in enumerate(decoded):
        if number in bad_lines or number in joined_into or not text.strip():
            continue
        record, taken = _record(decoded[index:], bad_lines)
        joined_into.update(n for n, _ in decoded[index + 1 : index + taken])
        cells = next(csv.reader([record], delimiter=separator, skipinitialspace=True), [])
        if len(cells) < 2:
            other = next((s for s in SEPARATORS if s != separator and s in text), None)
            if other is not None:
                bad.append(Rejected(number, RejectReason.SEPARATOR, _shown(other)))
                continue
        lines.append((number, cells))
    return lines, bad


def _record(following: list[tuple[int, str]], bad_lines: set[int]) -> tuple[str, int]:
    """The CSV record that starts on the first of `following`, and how many physical lines
    it spans: a quoted cell may hold a line break (Excel's Alt+Enter), which would otherwise
    cut the record in two and store half a name. A quote left open for more than
    `MAX_RECORD_LINES` lines is a stray one: the line is read on its own."""
    text = following[0][1]
    if text.count('"') % 2 == 0:
        return text, 1
    parts = [text]
    for taken, (number, more) in enumerate(following[1:MAX_RECORD_LINES], start=2):
        if number in bad_lines:
            break
        parts.append(more)
        if more.count('"') % 2 == 1:
            return "\n".join(parts), taken
    return text, 1


def _separator(sample: Sequence[str]) -> str:
    """The separator most lines split on into the same number (two or more) of fields."""
    try:
        dialect = csv.Sniffer().sniff("\n".join(sample), delimiters="".join(SEPARATORS))
        if dialect.delimiter in SEPARATORS:
            return dialect.delimiter
    except csv.Error:
        pass
    best, best_score = ",", -1
    for separator in SEPARATORS:
        counts = [len(next(csv.reader([line], delimiter=separator))) for line in sample]
        score = sum(1 for c in counts if c >= 2)
        if score > best_score:
            best, best_score = separator, score
    return best


def _shown(separator: str) -> str:
    return "tab" if separator == "\t" else separator


def _xlsx_lines(content: bytes) -> list[tuple[int, list[str]]]:
    """Rows of the first sheet, read-only; formulas come back as their text (`=...`), so they
    are refused like a typed one."""
    from openpyxl import load_workbook  # imported here: only XLSX imports pay for it

    try:
        with zipfile.ZipFile(io.BytesIO(content)) as packed:
            unpacked = sum(item.file_size for item in packed.infolist())
    except (zipfile.BadZipFile, ValueError, OSError):
        raise InvalidArgument("roster_file", "unreadable") from None
    if unpacked > MAX_XLSX_UNPACKED_BYTES:  # zipfile never unpacks past a part's stated size
        raise InvalidArgument("roster_file", "too_big")
    lines: list[tuple[int, list[str]]] = []
    try:
        book = load_workbook(io.BytesIO(content), read_only=True, data_only=False)
        try:
            sheet = book.worksheets[0]
            for number, row in enumerate(sheet.iter_rows(values_only=True), start=1):
                if number > MAX_SHEET_ROWS:
                    raise InvalidArgument("roster_file", "too_many_rows")
                cells = [_cell_text(value) for value in row]
                while cells and not cells[-1]:
                    cells.pop()
                if cells:
                    lines.append((number, cells))
                if len(lines) > MAX_ROWS + 1:
                    break
        finally:
            book.close()
    except InvalidArgument:
        raise
    except Exception:  # a crafted part: junk XML, a missing sheet... (never a 500)
        raise InvalidArgument("roster_file", "unreadable") from None
    return lines


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


# --- judging lines -------------------------------------------------------------------------


def _columns(first: list[str]) -> dict[str, int] | None:
    """Column positions named by a header row, or None when the row is data."""
    folded = [cell.strip().casefold().rstrip(":") for cell in first]
    if any(clean_student_number(cell) for cell in first[:1]):
        return None
    found: dict[str, int] = {}
    for column, words in _HEADERS.items():
        for index, cell in enumerate(folded):
            if cell in words and index not in found.values():
                found[column] = index
                break
    if "number" in found and "name" in found:
        return found
    return {"number": 0, "name": 1, "email": 2, "group": 3}


def _judge(lines: list[tuple[int, list[str]]], rejected: list[Rejected]) -> RosterFile:
    if not lines:
        if rejected:
            return RosterFile(rejected=sorted(rejected, key=lambda r: r.line))
        raise InvalidArgument("roster_file", "empty")
    columns = _columns(lines[0][1])
    header = columns is not None
    if columns is None:
        columns = {"number": 0, "name": 1, "email": 2, "group": 3}
    data = lines[1:] if header else lines
    if len(data) > MAX_ROWS:
        raise InvalidArgument("roster_file", "too_many_rows")
    result = RosterFile(header=header)
    seen: dict[str, int] = {}
    for number, cells in data:
        verdict = _row(number, cells, columns, seen)
        if isinstance(verdict, Rejected):
            rejected.append(verdict)
        else:
            seen[verdict.student_number] = number
            result.rows.append(verdict)
    result.rejected = sorted(rejected, key=lambda r: r.line)
    return result


def _row(
    line: int, cells: list[str], columns: dict[str, int], seen: dict[str, int]
) -> PlaceRow | Rejected:
    def cell(name: str) -> str:
        index = columns.get(name)
        return cells[index].strip() if index is not None and index < len(cells) else ""

    if any(c.lstrip(" ").startswith(FORMULA_STARTS) for c in cells if c.strip()):
        return Rejected(line, RejectReason.FORMULA)
    if len(cells) < 2:
        return Rejected(line, RejectReason.FIELDS)
    number = clean_student_number(cell("number"))
    if number is None:
        return Rejected(line, RejectReason.NUMBER)
    name = " ".join(cell("name").split())
    if not name or _CONTROL.search(name):
        return Rejected(line, RejectReason.NAME)
    email, group = cell("email") or None, " ".join(cell("group").split()) or None
    if email is not None and not _EMAIL.fullmatch(email):
        return Rejected(line, RejectReason.EMAIL)
    if (
        len(name) > MAX_NAME_LENGTH
        or len(email or "") > MAX_EMAIL_LENGTH
        or len(group or "") > MAX_GROUP_LENGTH
    ):
        return Rejected(line, RejectReason.TOO_LONG)
    if number in seen:
        return Rejected(line, RejectReason.DUPLICATE, str(seen[number]))
    return PlaceRow(line, number, name, email, group)


def rejected_lines(rejected: Iterable[Rejected]) -> list[int]:
    """The line numbers of rejected lines (what tests and the report name)."""
    return [r.line for r in rejected]
