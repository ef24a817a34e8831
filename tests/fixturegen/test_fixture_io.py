"""Writing scenarios as JSON/CSV tables and reading the JSON form back (fixtures.io)."""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import json
from pathlib import Path

import pytest

from fixtures.generator import generate
from fixtures.io import TABLES, read_scenario, write_scenario
from fixtures.scenario import Scenario, ShiftPattern


@pytest.fixture(scope="module")
def scenario() -> Scenario:
    return generate(21, seniors=60, family_carers=0, workers=14, region="region")


def test_json_round_trip_is_exact(tmp_path: Path, scenario: Scenario) -> None:
    """read_scenario(write_scenario(s)) == s, for a scenario using every field type."""
    write_scenario(scenario, tmp_path)
    assert read_scenario(tmp_path) == scenario


def test_default_demo_scenario_round_trips(tmp_path: Path) -> None:
    """The full demo centre (820 seniors, 180 family carers) survives the JSON round trip too."""
    demo = generate()
    assert read_scenario(write_scenario(demo, tmp_path / "demo")) == demo


def test_times_with_seconds_are_not_truncated(tmp_path: Path, scenario: Scenario) -> None:
    """HH:MM is used for whole minutes only; other times keep their seconds."""
    w = scenario.workers[0]
    odd = dataclasses.replace(w, shifts=(ShiftPattern(0, dt.time(7, 0, 30), dt.time(15, 0)),))
    changed = dataclasses.replace(scenario, workers=(odd, *scenario.workers[1:]))
    write_scenario(changed, tmp_path)
    assert read_scenario(tmp_path) == changed
    first = json.loads((tmp_path / "workers.json").read_text(encoding="utf-8"))[0]
    assert first["shifts"][0] == {"weekday": 0, "start": "07:00:30", "end": "15:00"}


def test_manifest_describes_the_directory(tmp_path: Path, scenario: Scenario) -> None:
    """scenario.json names the scenario, its seed, dates and row counts per table."""
    write_scenario(scenario, tmp_path)
    meta = json.loads((tmp_path / "scenario.json").read_text(encoding="utf-8"))
    assert meta["name"] == scenario.name and meta["seed"] == 21
    assert meta["start_date"] == "2026-11-30" and meta["demo_date"] == "2026-12-01" and meta["days"] == 7
    assert meta["counts"]["seniors"] == 60 and meta["counts"]["requests"] == len(scenario.requests)
    for table in TABLES:
        rows = json.loads((tmp_path / f"{table}.json").read_text(encoding="utf-8"))
        assert len(rows) == meta["counts"][table]


def test_json_is_plain_and_readable(tmp_path: Path, scenario: Scenario) -> None:
    """Enums by value, ISO dates, HH:MM times and Polish letters unescaped."""
    write_scenario(scenario, tmp_path)
    text = (tmp_path / "requests.json").read_text(encoding="utf-8")
    row = json.loads(text)[0]
    assert row["first_date"] == "2026-11-30" and len(row["window_start"]) == 5
    assert isinstance(row["service"], str)
    assert "\\u" not in text


def test_csv_is_for_polish_excel(tmp_path: Path, scenario: Scenario) -> None:
    """CSV: UTF-8 with BOM, ';' separator, one header row, nested values as JSON in a cell."""
    write_scenario(scenario, tmp_path, fmt="csv")
    raw = (tmp_path / "seniors.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    with (tmp_path / "seniors.csv").open(encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh, delimiter=";"))
    assert len(rows) == len(scenario.seniors)
    assert rows[0]["id"] == scenario.seniors[0].id
    address = json.loads(rows[0]["address"])
    assert address["street"] == scenario.seniors[0].address.street
    assert json.loads(rows[0]["needs"]) == [n.value for n in scenario.seniors[0].needs]
    meta = json.loads((tmp_path / "scenario.json").read_text(encoding="utf-8"))
    assert meta["format"] == "csv" and meta["files"]["seniors"] == "seniors.csv"
    for table in TABLES:
        assert (tmp_path / f"{table}.csv").exists()


def test_reading_back_csv_or_an_unknown_format_is_refused(tmp_path: Path, scenario: Scenario) -> None:
    """Only the JSON form is read back; bad format names fail loudly."""
    write_scenario(scenario, tmp_path, fmt="csv")
    with pytest.raises(ValueError, match="JSON"):
        read_scenario(tmp_path)
    with pytest.raises(ValueError):
        write_scenario(scenario, tmp_path / "x", fmt="xlsx")  # type: ignore[arg-type]


def test_unknown_fields_are_rejected(tmp_path: Path, scenario: Scenario) -> None:
    """A row with a field the dataclass does not have is an error, not silently dropped."""
    write_scenario(scenario, tmp_path)
    cars = json.loads((tmp_path / "cars.json").read_text(encoding="utf-8"))
    cars[0]["colour"] = "red"
    (tmp_path / "cars.json").write_text(json.dumps(cars), encoding="utf-8")
    with pytest.raises(ValueError, match="colour"):
        read_scenario(tmp_path)
