"""Reading roster files: encodings, separators, header or none, formulas, XLSX, limits."""

from __future__ import annotations

import io
import time
import zipfile

import pytest
from openpyxl import Workbook

from services.errors import InvalidArgument
from services.places import clean_student_number
from services.roster_file import MAX_ROWS, RejectReason, read_roster

ROWS = [("1001", "Zoë Ñandú", "zoe@uni.example", "G1"), ("1002", "José Müller", "", "G2")]


def text(separator: str = ",", header: bool = True) -> str:
    lines = [separator.join(["Student number", "Name", "E-mail", "Group"])] if header else []
    lines += [separator.join(row) for row in ROWS]
    return "\r\n".join(lines) + "\r\n"


def names(content: bytes, filename: str = "r.csv") -> list[tuple[str, str]]:
    result = read_roster(content, filename)
    assert result.rejected == []
    return [(r.student_number, r.full_name) for r in result.rows]


EXPECTED = [("1001", "Zoë Ñandú"), ("1002", "José Müller")]


@pytest.mark.parametrize(
    "encoded",
    [
        text().encode("utf-8"),
        text().encode("utf-8-sig"),
        text().encode("utf-16"),  # Excel's "Unicode text" (with its BOM)
        text().encode("cp1252"),  # a Windows export: no UTF-8 anywhere, read as cp1252
        text(";").encode("utf-8"),
        text("\t").encode("utf-16"),
        text(header=False).encode("utf-8"),
        text(";", header=False).encode("cp1252"),
    ],
)
def test_encodings_separators_and_headers(encoded: bytes) -> None:
    assert names(encoded) == EXPECTED


def test_columns_found_by_their_header_in_any_order() -> None:
    content = "Group;E-mail;Nombre;Matrícula\nG1;a@b.example;Ana Pérez;77\n".encode()
    [row] = read_roster(content).rows
    assert (row.student_number, row.full_name, row.email, row.group) == (
        "77",
        "Ana Pérez",
        "a@b.example",
        "G1",
    )


def test_each_bad_line_is_named_with_its_reason() -> None:
    lines = [
        "Number,Name,Email",
        "1,Ann,",
        "1,Again,",  # 3: duplicate of line 2
        "2,,",  # 4: empty name
        "3,=cmd|' /C calc'!A0,",  # 5: formula
        "4;Semi;colon",  # 6: wrong separator
        "X,No digits,",  # 7: number
        "5,Bad mail,nope",  # 8: e-mail
        "6,+Plus,",  # 9: formula
        "7," + "N" * 200 + ",",  # 10: too long
        "8",  # 11: one field only
        "9,Good,",
    ]
    content = "\n".join(lines).encode()
    content += b"\n10,Jos\xe9,\n11,R\xc3\xa9ka,\n"  # 13: Latin-1 in a UTF-8 file
    result = read_roster(content)
    assert [(r.line, r.reason, r.detail) for r in result.rejected] == [
        (3, RejectReason.DUPLICATE, "2"),
        (4, RejectReason.NAME, ""),
        (5, RejectReason.FORMULA, ""),
        (6, RejectReason.SEPARATOR, ";"),
        (7, RejectReason.NUMBER, ""),
        (8, RejectReason.EMAIL, ""),
        (9, RejectReason.FORMULA, ""),
        (10, RejectReason.TOO_LONG, ""),
        (11, RejectReason.FIELDS, ""),
        (13, RejectReason.ENCODING, ""),
    ]
    assert [r.line for r in result.rows] == [2, 12, 14]
    assert result.rows[-1].full_name == "Réka"


def test_xlsx_formulas_refused_numbers_kept_as_text() -> None:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["Student number", "Full name"])
    sheet.append([20261001, "Ada Lovelace"])
    sheet.append([20261002, '=HYPERLINK("http://x","y")'])
    sheet.append(["s-77", "Alan Turing"])
    out = io.BytesIO()
    book.save(out)
    result = read_roster(out.getvalue(), "roster.xlsx")
    assert [(r.student_number, r.full_name) for r in result.rows] == [
        ("20261001", "Ada Lovelace"),
        ("S-77", "Alan Turing"),
    ]
    assert [(r.line, r.reason) for r in result.rejected] == [(3, RejectReason.FORMULA)]


@pytest.mark.parametrize(
    ("content", "name", "problem"),
    [
        (b"", "r.csv", "empty"),
        (b"\n\n", "r.csv", "empty"),
        (b"PK\x03\x04 not a zip", "r.xlsx", "unreadable"),
        (b"a\x00b\x00", "r.csv", "unreadable"),
        (
            "\n".join(f"{n},Name {n}" for n in range(MAX_ROWS + 1)).encode(),
            "r.csv",
            "too_many_rows",
        ),
    ],
)
def test_files_that_cannot_be_read_at_all(content: bytes, name: str, problem: str) -> None:
    with pytest.raises(InvalidArgument) as caught:
        read_roster(content, name)
    assert (caught.value.field, caught.value.problem) == ("roster_file", problem)


def test_exactly_the_row_limit_is_accepted() -> None:
    content = "\n".join(f"{n},Name {n}" for n in range(1, MAX_ROWS + 1)).encode()
    assert len(read_roster(content).rows) == MAX_ROWS


@pytest.mark.parametrize(
    ("typed", "stored"),
    [("s123", "S123"), (" 2026/01-7 ", "2026/01-7"), ("abc", None), ("1 2", None), ("²3", None)],
)
def test_student_numbers(typed: str, stored: str | None) -> None:
    assert clean_student_number(typed) == stored


def test_a_quoted_cell_with_a_line_break_stays_one_row() -> None:
    """Excel writes a cell typed with Alt+Enter as a quoted field over two lines: one place
    with the whole name, not half a name and a rejected line."""
    content = b'No,Name,Group\r\n1001,"Ada\r\nLovelace",G1\r\n1002,Alan Turing,G2\r\n'
    result = read_roster(content, "r.csv")
    assert result.rejected == []
    assert [(r.line, r.student_number, r.full_name, r.group) for r in result.rows] == [
        (2, "1001", "Ada Lovelace", "G1"),
        (4, "1002", "Alan Turing", "G2"),
    ]


def test_a_stray_quote_does_not_swallow_the_lines_after_it() -> None:
    content = b'No,Name\n1001,Ada "the Countess Lovelace\n1002,Alan Turing\n1003,Grace Hopper\n'
    result = read_roster(content, "r.csv")
    assert result.rejected == []
    assert [(r.line, r.student_number) for r in result.rows] == [
        (2, "1001"),
        (3, "1002"),
        (4, "1003"),
    ]


def _xlsx_with(parts: dict[str, bytes]) -> bytes:
    """A real workbook with some of its parts replaced (a crafted upload)."""
    book = Workbook()
    book.active.append(["number", "name"])
    book.active.append(["1001", "Ann Lee"])
    original = io.BytesIO()
    book.save(original)
    crafted = io.BytesIO()
    with (
        zipfile.ZipFile(original) as source,
        zipfile.ZipFile(crafted, "w", zipfile.ZIP_DEFLATED) as target,
    ):
        for item in source.infolist():
            target.writestr(item.filename, parts.get(item.filename, source.read(item.filename)))
    return crafted.getvalue()


@pytest.mark.parametrize("part", ["xl/worksheets/sheet1.xml", "xl/workbook.xml"])
def test_a_zip_whose_xml_is_junk_is_unreadable_not_a_crash(part: str) -> None:
    with pytest.raises(InvalidArgument) as refused:
        read_roster(_xlsx_with({part: b"<not xml \x00\x01"}), "roster.xlsx")
    assert refused.value.problem == "unreadable"


def test_a_zip_bomb_is_refused_before_it_is_unpacked() -> None:
    """About 1 MiB on the wire that unpacks to ~200 MiB of empty rows: refused at once
    (unpacking it took minutes of the event loop)."""
    sheet = (
        b'<?xml version="1.0"?><worksheet xmlns="http://schemas.openxmlformats.org/'
        b'spreadsheetml/2006/main"><sheetData>'
        + b"<row/>" * 35_000_000
        + b"</sheetData></worksheet>"
    )
    bomb = _xlsx_with({"xl/worksheets/sheet1.xml": sheet})
    assert len(bomb) < 1024 * 1024
    started = time.monotonic()
    with pytest.raises(InvalidArgument) as refused:
        read_roster(bomb, "roster.xlsx")
    assert refused.value.problem == "too_big"
    assert time.monotonic() - started < 1


def test_a_sheet_of_endless_blank_rows_stops_early() -> None:
    """Blank rows are skipped but still counted: a sheet cannot keep the reader busy with
    millions of them while staying under the unpacked-size limit."""
    sheet = (
        b'<?xml version="1.0"?><worksheet xmlns="http://schemas.openxmlformats.org/'
        b'spreadsheetml/2006/main"><sheetData>'
        + b"<row/>" * 60_000
        + b'<row><c t="inlineStr"><is><t>1002</t></is></c>'
        + b'<c t="inlineStr"><is><t>Late Row</t></is></c></row>'
        + b"</sheetData></worksheet>"
    )
    started = time.monotonic()
    with pytest.raises(InvalidArgument) as refused:
        read_roster(_xlsx_with({"xl/worksheets/sheet1.xml": sheet}), "roster.xlsx")
    assert refused.value.problem == "too_many_rows"
    assert time.monotonic() - started < 10
