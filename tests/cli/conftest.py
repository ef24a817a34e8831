"""CLI test fixtures: "now" for commands that read the clock (intake rules of imports and care plans)."""

from __future__ import annotations

import datetime as dt

import pytest

#: Before every date the CLI tests enter (``dispatch.clock.cli_clock``), whatever day the suite runs.
CLI_NOW = dt.datetime(2025, 12, 15, 9, 0, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def _fixed_cli_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    import dispatch.clock

    monkeypatch.setattr(dispatch.clock, "cli_clock", lambda: CLI_NOW)
