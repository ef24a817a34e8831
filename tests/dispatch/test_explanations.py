"""``dispatch.planning.explanations``: reasons worded in Polish and English with the day's local clock times.

The optimizer gives a reason code, its case and facts, times as minutes from local midnight; on
2026-03-29 (23 hours in Warsaw) local 08:00 is minute 420 and on 2026-10-25 (25 hours) minute
540.  These tests word every case of every code, and check the clock on both DST days, around
midnight and in the hour that happens twice.  The real path (a DST day planned, stored and served)
is ``tests/api/test_explanations_dst.py``.
"""

from __future__ import annotations

import datetime as dt
import re

import pytest

from dispatch.planning.explanations import CODE_WORDS, day_clock, explain, minute_clock
from optimizer.model import REASON_CASES, ReasonCase, ReasonCode

ZONE = "Europe/Warsaw"
SPRING, AUTUMN, REGULAR = dt.date(2026, 3, 29), dt.date(2026, 10, 25), dt.date(2026, 11, 17)
EIGHT = {SPRING: 420, AUTUMN: 540, REGULAR: 480}
"""Local 08:00 as minutes from local midnight."""
POLISH = re.compile(r"[ąćęłńóśźż]|\bnie\b", re.IGNORECASE)
TIMED = {ReasonCase.DELAY_OUTSIDE_WINDOWS, ReasonCase.RETURN_NO_ROOM, ReasonCase.DEARER_THAN_DROPPING,
         ReasonCase.FREE_SLOT, ReasonCase.NEEDS_TOGETHER, ReasonCase.OFF_SHIFT, ReasonCase.KEPT_LESS_IMPORTANT,
         ReasonCase.SAME_RANK, ReasonCase.WORKING_TIME, ReasonCase.BOOKED_MIXED, ReasonCase.WOULD_DISPLACE,
         ReasonCase.ARRIVES_LATE}
"""Cases whose sentence names a clock time (a ride's ``booked_mixed`` names none)."""


def facts(case: ReasonCase, at: int, ride: bool) -> dict[str, object]:
    """Every fact any case's sentence reads, times at minute ``at``; ``ride``: a ride's leg."""
    out: dict[str, object] = {
        "case": case.value, "required_skills": ["lift"], "worker_kinds": ["carer"], "missing_everywhere": ["lift"],
        "skilled_workers": ["W1"], "eligible_workers": ["W1"], "workers_needed": 2, "depends_on": "V0",
        "both_or_neither": True, "start_range": [at, at + 30], "windows": [[at, at + 30]], "worker": "W1",
        "pickup_start": at, "slots": [{"worker": "W1", "earliest_start": at}], "insertion_cost": 5,
        "drop_penalty": 3, "on_shift_in_window": ["W1"],
        "best_insertion": {"worker": "W1", "earliest_start": at, "pickup_start": at}, "would_displace": "V9",
        "displaced_priority": 5, "displaced_mandatory": True, "own_priority": 2, "own_mandatory": False,
        "blocking_visits": ["V9"], "blocking_count": 1, "load": {"seats": 1, "wheelchair": 1},
        "drivers_with_skills": ["W1"], "drivers_with_room": ["W1"], "direct_minutes": 25, "max_ride_time": 20,
        "earliest_pickup": at, "arrival": at + 25, "latest_dropoff": at + 20,
    }
    if ride:
        out["ride"] = ["R1-up", "R1-down"]
    return out


def test_every_reason_code_and_case_has_a_polish_and_an_english_wording() -> None:
    """Each ``ReasonCode`` has a general sentence in both languages, and each of its cases (``REASON_CASES``)
    a sentence of its own for a visit and for a ride: different in the two languages, Polish really
    Polish, and every case belongs to some code."""
    assert set(REASON_CASES) == set(ReasonCode) == set(CODE_WORDS)
    assert {c for cases in REASON_CASES.values() for c in cases} == set(ReasonCase)
    for code in ReasonCode:
        general = CODE_WORDS[code]
        assert general.pl and general.en and general.pl != general.en and POLISH.search(general.pl), code
        for case in REASON_CASES[code]:
            for ride in (False, True):
                words = explain(code, facts(case, 480, ride), REGULAR, ZONE, strict=True)
                assert words != general, (code, case, ride)
                assert words.pl.strip() and words.en.strip() and words.pl != words.en, (code, case, ride)
                assert POLISH.search(words.pl), (code, case, ride, words.pl)


@pytest.mark.parametrize("day", [SPRING, AUTUMN, REGULAR], ids=["2026-03-29", "2026-10-25", "regular"])
def test_a_time_at_local_8_reads_8_in_every_case_on_dst_days(day: dt.date) -> None:
    """On both DST days (and a regular one) every case that names a time says 08:00 for local 08:00, in both
    languages; none says the 07:00 or 09:00 that minutes read as a 24-hour day's clock would give."""
    at = EIGHT[day]
    for code, cases in REASON_CASES.items():
        for case in cases:
            for ride in (False, True):
                words = explain(code, facts(case, at, ride), day, ZONE, strict=True)
                for text in (words.pl, words.en):
                    assert "07:00" not in text and "09:00" not in text, text
                    if case in TIMED and not (ride and case is ReasonCase.BOOKED_MIXED):
                        assert "08:00" in text, (case, ride, text)


def test_sentences_read_as_before_with_local_times() -> None:
    """A few sentences whole, on 2026-03-29: a window, a slot behind a more important visit, a ride too late."""
    off = explain(ReasonCode.NO_WORKER_FREE, {"case": "off_shift", "windows": [[420, 450], [840, 900]]}, SPRING, ZONE)
    assert off.en == "No eligible worker is on shift inside any of its windows (08:00-08:30, 15:00-16:00)."
    assert off.pl == "Żaden uprawniony pracownik nie ma dyżuru w oknach czasowych wizyty (08:00-08:30, 15:00-16:00)."
    displaced = explain(ReasonCode.DISPLACED, {
        "case": "would_displace", "best_insertion": {"worker": "W1", "earliest_start": 420}, "would_displace": "V2",
        "displaced_mandatory": True, "displaced_priority": 1}, SPRING, ZONE)
    assert displaced.en == ("Placeable, but the time is taken by other visits: it would fit at W1 08:00 if visit "
                            "V2 (mandatory) gave way.")
    assert displaced.pl == ("Możliwa do zaplanowania, ale czas zajmują inne wizyty: zmieściłaby się u W1 o 08:00, "
                            "gdyby ustąpiła wizyta V2 (obowiązkowa).")
    late = explain(ReasonCode.APPOINTMENT_UNREACHABLE, {
        "case": "arrives_late", "ride": ["R-up", "R-down"], "earliest_pickup": 420, "direct_minutes": 40,
        "arrival": 460, "latest_dropoff": 450}, SPRING, ZONE)
    assert late.en == "Even leaving at 08:00 the senior would reach the destination at 08:40, after 08:30."


def test_the_day_clock_goes_through_the_time_zone() -> None:
    """Minute 0 is local midnight: local 08:00 is minute 420 in spring, 540 in autumn, 480 otherwise; the
    hour skipped in spring is never shown (minute 120 is 03:00); the hour repeated in autumn is shown with
    its zone name (minute 150 is 02:30 CEST, 210 is 02:30 CET); past the day's end, the next day is marked."""
    spring, autumn, regular = (day_clock(d, ZONE) for d in (SPRING, AUTUMN, REGULAR))
    assert (spring(420), autumn(540), regular(480)) == ("08:00", "08:00", "08:00")
    assert (spring(119), spring(120)) == ("01:59", "03:00")
    assert (autumn(119), autumn(150), autumn(210), autumn(240)) == ("01:59", "02:30 CEST", "02:30 CET", "03:00")
    assert (spring(1380), autumn(1500), regular(1440), regular(1441)) == ("00:00 (+1d)",) * 3 + ("00:01 (+1d)",)


def test_without_a_day_times_are_minutes() -> None:
    """A problem file has no date: its reasons give minutes ("min 420"), not a guessed clock time."""
    assert minute_clock(420) == "min 420"
    words = explain(ReasonCode.NO_WORKER_FREE, {"case": "off_shift", "windows": [[420, 450]]}, None)
    assert words.en == "No eligible worker is on shift inside any of its windows (min 420-min 450)."


def test_an_unknown_case_or_missing_fact_gets_the_codes_general_sentence() -> None:
    """A reason from another solver or an older file (no case, an unknown one, a fact missing) is still
    worded, in general terms; ``strict`` (for tests) refuses instead."""
    for details in ({}, {"case": "no_such_case"}, {"case": "off_shift"}):
        assert explain(ReasonCode.NO_WORKER_FREE, details, REGULAR, ZONE) == CODE_WORDS[ReasonCode.NO_WORKER_FREE]
        with pytest.raises(LookupError):
            explain(ReasonCode.NO_WORKER_FREE, details, REGULAR, ZONE, strict=True)
