"""Spreadsheet files over a limit are refused while they are read, before the work grows with them
(issue 21: a 95 KB XLSX of 100,000 rows took 61.5 s and 333 MB before its 422).

To show that reading *stopped* at the limit, and did not read everything and count afterwards,
the big files carry a defect after the limit (broken XML in the sheet, bytes that are not UTF-8):
the same defect in a small file is reported, so a reader that went on would have reported it.
"""

from __future__ import annotations

import io
import zipfile

import openpyxl
import pytest

from dispatch.exchange.imports import (
    MAX_CELL_CHARS,
    MAX_COLUMNS,
    MAX_FILE_BYTES,
    MAX_LINE_CHARS,
    MAX_ROWS,
    MAX_XLSX_MEMBERS,
    MAX_XLSX_UNCOMPRESSED_BYTES,
    ImportInvalid,
    read_table,
)

BROKEN_XML = b"<row><c><v>1</v></row>"  # <c> never closed
NOT_UTF8 = b"\xff\xfe\xfa broken\r\n"


def refusal(content: bytes, name: str) -> dict[str, object]:
    """The single error of a refused file."""
    with pytest.raises(ImportInvalid) as info:
        read_table(content, name)
    assert len(info.value.errors) == 1, info.value.errors
    return dict(info.value.errors[0])


def xlsx_with_rows(rows: int, tail: bytes = b"") -> bytes:
    """An XLSX whose first sheet has a header and ``rows`` one-cell rows, then ``tail`` inside
    ``<sheetData>``.  Rows and cells without their optional ``r`` positions, as some writers make them:
    100,000 identical rows pack into a few kilobytes."""
    book = openpyxl.Workbook()
    book.active.append(["senior_id"])
    plain = io.BytesIO()
    book.save(plain)
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(plain.getvalue())) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dest:
        for info in source.infolist():
            data = source.read(info.filename)
            if info.filename == "xl/worksheets/sheet1.xml":
                head = data.partition(b"<sheetData>")[0]
                header = b'<row><c t="inlineStr"><is><t>senior_id</t></is></c></row>'
                body = b'<row><c t="inlineStr"><is><t>S1</t></is></c></row>' * rows
                data = head + b"<sheetData>" + header + body + tail + b"</sheetData></worksheet>"
            dest.writestr(info, data)
    return out.getvalue()


def test_the_reported_xlsx_of_100000_rows_is_refused_at_the_row_limit_without_reading_on() -> None:
    """A file like the issue's (a small XLSX of 100,000 rows) is refused with the row-limit message on the first line
    past the limit; the broken XML after its last row is never reached, while in a small file it is."""
    big = xlsx_with_rows(100_000, BROKEN_XML)
    assert len(big) < MAX_FILE_BYTES and 100_000 > MAX_ROWS
    error = refusal(big, "zlecenia.xlsx")
    assert error["row"] == MAX_ROWS + 2 and error["field"] == "file"
    assert f"more than {MAX_ROWS} rows below the header (MAX_ROWS" in str(error["message"])

    small = refusal(xlsx_with_rows(10, BROKEN_XML), "zlecenia.xlsx")
    assert "not a readable XLSX workbook" in str(small["message"])


def test_a_csv_of_100000_rows_is_refused_at_the_row_limit_without_decoding_on() -> None:
    """A CSV is decoded and split as it is read: 100,000 lines are refused at the first line past the
    limit, and the bytes that are not UTF-8 at its end are never decoded (in a small file they are)."""
    lines = b"senior_id;service\r\n" + b"S1;home_care\r\n" * 100_000
    error = refusal(lines + NOT_UTF8, "zlecenia.csv")
    assert error["row"] == MAX_ROWS + 2 and "MAX_ROWS" in str(error["message"])
    small = refusal(b"senior_id;service\r\n" + b"S1;home_care\r\n" * 10 + NOT_UTF8, "zlecenia.csv")
    assert "not UTF-8" in str(small["message"])


def test_exactly_the_row_limit_is_read() -> None:
    """MAX_ROWS rows below the header are accepted (the limit is inclusive), in CSV and XLSX alike."""
    table = read_table(b"senior_id;service\r\n" + b"S1;home_care\r\n" * MAX_ROWS, "ok.csv")
    assert len(table.rows) == MAX_ROWS and table.rows[-1][0] == MAX_ROWS + 1
    assert len(read_table(xlsx_with_rows(MAX_ROWS), "ok.xlsx").rows) == MAX_ROWS


def test_a_row_far_below_the_data_counts_and_stops_reading() -> None:
    """openpyxl fills missing rows in; a sheet with one more row at line 1,000,000 is refused at the limit
    instead of producing a million empty rows first."""
    far = b'<row r="1000000"><c r="A1000000"><v>1</v></c></row>'
    error = refusal(xlsx_with_rows(3, far), "far.xlsx")
    assert error["row"] == MAX_ROWS + 2 and "empty rows count too" in str(error["message"])


def test_zip_bomb_is_refused_by_its_declared_sizes_before_parsing() -> None:
    """An XLSX whose parts unpack to more than MAX_XLSX_UNCOMPRESSED_BYTES (here 60 MB of zeros packed into
    about 60 KB) is refused by the archive's declared sizes; parsing never starts (zeros are not XML, and
    parsing them would say 'not a readable XLSX workbook')."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        with archive.open("xl/worksheets/sheet1.xml", "w") as member:
            chunk = b"\0" * (1024 * 1024)
            for _ in range(MAX_XLSX_UNCOMPRESSED_BYTES // len(chunk) + 10):
                member.write(chunk)
    content = out.getvalue()
    assert len(content) < MAX_FILE_BYTES
    error = refusal(content, "bomb.xlsx")
    assert "MAX_XLSX_UNCOMPRESSED_BYTES" in str(error["message"]) and error["field"] == "file"


def test_an_archive_of_too_many_parts_is_refused_before_parsing() -> None:
    """An XLSX with more than MAX_XLSX_MEMBERS parts is refused by counting them, unopened."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for n in range(MAX_XLSX_MEMBERS + 1):
            archive.writestr(f"xl/media/part{n}.bin", b"")
    error = refusal(out.getvalue(), "many.xlsx")
    assert f"{MAX_XLSX_MEMBERS + 1} parts" in str(error["message"]) and "MAX_XLSX_MEMBERS" in str(error["message"])


def test_columns_cells_and_lines_over_their_limits_are_refused_where_they_are() -> None:
    """Too many columns, a cell too long and a CSV line too long are each refused with the line and the
    column (by header name where there is one) and the limit's name."""
    wide = refusal(";".join(f"c{i}" for i in range(MAX_COLUMNS + 1)).encode() + b"\r\n", "wide.csv")
    assert (wide["row"], wide["field"]) == (1, f"column {MAX_COLUMNS + 1}") and "MAX_COLUMNS" in str(wide["message"])

    book = openpyxl.Workbook()
    book.active.append(["senior_id", "tasks"])
    book.active.append(["S1", "x" * (MAX_CELL_CHARS + 1)])
    buffer = io.BytesIO()
    book.save(buffer)
    long_cell = refusal(buffer.getvalue(), "long.xlsx")
    assert (long_cell["row"], long_cell["field"]) == (2, "tasks") and "MAX_CELL_CHARS" in str(long_cell["message"])
    quoted = refusal(b'senior_id;tasks\r\nS1;"' + b"y\n" * MAX_CELL_CHARS + b'"\r\n', "long.csv")
    assert quoted["field"] == "tasks" and "MAX_CELL_CHARS" in str(quoted["message"])

    def line_of(cells: int) -> bytes:  # cells each at the cell limit
        return b";".join([b"z" * MAX_CELL_CHARS] * cells) + b"\r\n"

    fits = MAX_LINE_CHARS // (MAX_CELL_CHARS + 1)
    long_line = refusal(line_of(fits + 1) + line_of(fits + 1), "line.csv")
    assert long_line["row"] == 1 and "MAX_LINE_CHARS" in str(long_line["message"])
    assert len(read_table(line_of(fits) + line_of(fits), "ok.csv").rows) == 1
