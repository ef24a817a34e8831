"""``carepath reports hours`` on the configured database (both backends): the API's report on the terminal
or in a file; mistakes are a message and exit code 2."""

from __future__ import annotations

import datetime as dt
import io

from sqlmodel import Session

from dispatch.storage import models as m
from tests.cli import test_cli_care
from tests.cli.test_cli_care import run, said

db = test_cli_care.db  # the CLI care tests' database fixture, shared

DAY = dt.date(2026, 12, 1)


def published(engine) -> None:
    """R1 (S1, W1) 08:00-09:00 published on 2026-12-01, started 08:10 and delivered at 09:00 (50 min)."""
    start = dt.datetime(2026, 12, 1, 7, tzinfo=dt.UTC)
    with Session(engine) as s:
        roster = m.Roster(date=DAY, version=1, status=m.RosterStatus.PUBLISHED)
        s.add(roster)
        s.flush()
        s.add(m.RosterAssignment(roster_id=roster.id, worker_id="W1", visit_request_id="R1", occurrence_date=DAY,
                                 sequence=0, arrival=start, start=start, end=start + dt.timedelta(hours=1), leg="visit"))
        s.add(m.VisitCheckin(worker_id="W1", visit_request_id="R1", occurrence_date=DAY, leg="visit",
                             started_at=start + dt.timedelta(minutes=10), finished_at=start + dt.timedelta(hours=1),
                             outcome="delivered"))
        s.commit()


def test_the_hours_report_as_a_table_csv_and_xlsx(db, tmp_path) -> None:
    published(db)
    table = run("reports", "hours", "--from", "2026-12-01", "--to", "2026-12-07", "--by", "worker")
    assert table.exit_code == 0, table.output
    assert "W1" in table.output and "0.83" in said(table) and "40" in said(table)  # 50 min delivered, 40 h norm
    csv_out = run("reports", "hours", "--from", "2026-12-01", "--to", "2026-12-01", "--format", "csv")
    assert csv_out.exit_code == 0, csv_out.output
    assert "S1;Halina Zając;home_care;godziny;0;1;0,83;0;-0,83" in csv_out.output
    target = tmp_path / "godziny.xlsx"
    xlsx = run("reports", "hours", "--from", "2026-12-01", "--to", "2026-12-31", "--by", "service",
               "--format", "xlsx", "--output", str(target))
    assert xlsx.exit_code == 0, xlsx.output
    from openpyxl import load_workbook

    ws = load_workbook(io.BytesIO(target.read_bytes())).active
    assert [c.value for c in ws[2]] == ["home_care", "godziny", 1, 0, 1, 0.83, 0, -0.83]


def test_mistakes_are_a_message_and_exit_code_2(db) -> None:
    for args, words in ((("--from", "2026-12-07", "--to", "2026-12-01"), "before from"),
                        (("--from", "2026-12-01", "--to", "2026-12-07", "--by", "car"), "'car' is not one of"),
                        (("--from", "1.12.2026", "--to", "2026-12-07"), "--from"),
                        (("--from", "2026-12-01", "--to", "2026-12-07", "--format", "xlsx"), "--output")):
        result = run("reports", "hours", *args)
        assert result.exit_code == 2 and words in said(result), (args, result.output)
