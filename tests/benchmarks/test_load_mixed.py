"""The mixed load benchmark's command line and request bodies (fast: no server, no database)."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from benchmarks.load import client, mixed


def test_defaults_are_the_issues_mix() -> None:
    args = mixed.parse_args([])
    assert (args.backend, args.workers, args.coordinators, args.duration) == (["postgresql"], 100, 10, 60.0)
    assert args.coordinator_period == 2.0


def test_arguments_are_parsed_and_checked() -> None:
    args = mixed.parse_args(["--backend", "sqlite", "postgresql", "--workers", "5", "--coordinators", "2",
                             "--duration", "8", "--plan-time-limit", "3"])
    assert args.backend == ["sqlite", "postgresql"] and args.workers == 5 and args.plan_time_limit == 3.0
    with pytest.raises(SystemExit):
        mixed.parse_args(["--workers", "0"])
    with pytest.raises(SystemExit):
        mixed.parse_args(["--backend", "oracle"])


def test_request_dates_are_working_days_a_week_ahead() -> None:
    today = dt.date(2026, 12, 6)  # a Sunday
    dates = mixed.request_dates(today)
    assert len(dates) == 10 and dates[0] == dt.date(2026, 12, 14)
    assert all(d.weekday() < 5 and d >= today + dt.timedelta(days=7) for d in dates)


def test_coordinator_posts_a_valid_one_off_with_a_new_idempotency_key() -> None:
    factory = mixed.RequestFactory("127.0.0.1", 8000, "tok", ("S1", "S2", "S3"), [dt.date(2026, 12, 14)], 0)
    first, second = factory(), factory()
    head, _, body = first.partition(b"\r\n\r\n")
    assert head.startswith(b"POST /api/v1/requests HTTP/1.1")
    assert f"Content-Length: {len(body)}".encode() in head
    payload = json.loads(body)
    assert payload["service"] == "home_care" and payload["window_start"] < payload["window_end"]
    assert "rrule" not in payload
    key = [ln for ln in head.split(b"\r\n") if ln.startswith(b"Idempotency-Key")]
    key2 = [ln for ln in second.partition(b"\r\n\r\n")[0].split(b"\r\n") if ln.startswith(b"Idempotency-Key")]
    assert key and key2 and key != key2


def test_summary_counts_only_the_expected_statuses_as_ok() -> None:
    out = client.Outcome()
    out.add("201", 10.0)
    out.add("409", 12.0)
    out.add("timeout", None)
    row = client.summarise([out], 1.0, ok_statuses=("201",))
    assert (row["requests"], row["ok"], row["errors"], row["timeouts"]) == (3, 1, 1, 1)


def test_the_summary_names_the_seconds_whose_answers_were_slow() -> None:
    """A stall shows as the seconds it lasted (p95 over 50 ms), not only as a worse p95 for the run."""
    out = client.Outcome()
    for second, latency in [(0, 5.0), (0, 6.0), (1, 400.0), (1, 450.0), (2, 7.0)]:
        out.latencies_ms.append(latency)
        out.finished_at.append(1000.0 + second + 0.5)
        out.statuses["200"] = out.statuses.get("200", 0) + 1
    row = client.summarise([out], 3.0)
    assert row["seconds"] == 3 and row["slow_seconds"] == [[1, 450.0, 2]]
