"""Polish and English sentences for the labour rules' findings and limits (``dispatch.catalog.labour``
returns codes and numbers; people read these).  Clock times are local, made through UTC, so a DST
day reads its real clock."""

from __future__ import annotations

import datetime as dt
from typing import Any, Mapping, NamedTuple

from dispatch.catalog import labour
from dispatch.timeutil import from_minutes, utc_to_local

WEEKDAYS_EN = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
WEEKDAYS_PL = ("poniedziałek", "wtorek", "środa", "czwartek", "piątek", "sobota", "niedziela")


class Words(NamedTuple):
    en: str
    pl: str


def hours(minutes: int) -> str:
    """``390`` -> ``6 h 30 min``; ``660`` -> ``11 h``."""
    h, m = divmod(int(minutes), 60)
    return f"{h} h" if m == 0 else (f"{h} h {m} min" if h else f"{m} min")


def finding_words(f: labour.Finding) -> Words:
    """A weekly pattern's broken or strained rule, with its numbers."""
    if f.rule == labour.DAILY_REST:
        day_en, day_pl = WEEKDAYS_EN[f.weekday or 0], WEEKDAYS_PL[f.weekday or 0]
        return Words(
            f"daily rest (art. 132 KP): the doba starting with {day_en}'s first shift leaves at most "
            f"{hours(f.actual_minutes)} of uninterrupted rest; at least {hours(f.limit_minutes)} are required",
            f"odpoczynek dobowy (art. 132 KP): w dobie od pierwszej zmiany ({day_pl}) zostaje najwyżej "
            f"{hours(f.actual_minutes)} nieprzerwanego odpoczynku; wymagane co najmniej {hours(f.limit_minutes)}")
    if f.rule == labour.WEEKLY_REST:
        return Words(
            f"weekly rest (art. 133 KP): the week (Monday 00:00 to Monday 00:00) leaves at most "
            f"{hours(f.actual_minutes)} of uninterrupted rest; at least {hours(f.limit_minutes)} are required",
            f"odpoczynek tygodniowy (art. 133 KP): tydzień (od poniedziałku 00:00) daje najwyżej "
            f"{hours(f.actual_minutes)} nieprzerwanego odpoczynku; wymagane co najmniej {hours(f.limit_minutes)}")
    return Words(
        f"weekly hours: the shifts add up to {hours(f.actual_minutes)} a week, more than the contract's "
        f"{hours(f.limit_minutes)}; the difference is overtime (planning caps it by the settlement period "
        "and the year's overtime limit)",
        f"wymiar tygodniowy: zmiany dają {hours(f.actual_minutes)} tygodniowo, więcej niż {hours(f.limit_minutes)} "
        "z umowy; nadwyżka to nadgodziny (planowanie ogranicza je okresem rozliczeniowym i rocznym limitem)")


def _clock(minute: int, day: dt.date, tz: str | None) -> str:
    local = utc_to_local(from_minutes(int(minute), day, tz), tz)
    days = (local.date() - day).days
    return f"{local:%H:%M}" if days == 0 else f"{local:%H:%M} ({days:+d}d)"


def _local(instant: str, tz: str | None) -> str:
    return f"{utc_to_local(dt.datetime.fromisoformat(instant), tz):%Y-%m-%d %H:%M}"


def limit_words(rule: str, details: Mapping[str, Any], day: dt.date, tz: str | None = None) -> Words:
    """Why a worker's day was cut when it was planned (a stored ``RosterLabourLimit``)."""
    d = details
    if rule == labour.DAILY_REST and d.get("side") == "before":
        at = _clock(d["earliest_start"], day, tz)
        return Words(
            f"11 h daily rest: the work on {d['other_date']} ended at {_local(d['other_end'], tz)}, so this day starts "
            f"at {at} at the earliest",
            f"11 h odpoczynku dobowego: praca {d['other_date']} skończyła się {_local(d['other_end'], tz)}, więc ten "
            f"dzień zaczyna się najwcześniej o {at}")
    if rule == labour.DAILY_REST:
        at = _clock(d["latest_end"], day, tz)
        return Words(
            f"11 h daily rest: the work on {d['other_date']} starts at {_local(d['other_start'], tz)}, so this day "
            f"ends at {at} at the latest",
            f"11 h odpoczynku dobowego: praca {d['other_date']} zaczyna się {_local(d['other_start'], tz)}, więc ten "
            f"dzień kończy się najpóźniej o {at}")
    if rule == labour.WEEKLY_REST:
        how = d.get("how")
        if how == "start_later":
            en, pl = f"this day starts at {_clock(d['start'], day, tz)}", f"ten dzień zaczyna się o {_clock(d['start'], day, tz)}"
        elif how == "end_earlier":
            en, pl = f"this day ends by {_clock(d['end'], day, tz)}", f"ten dzień kończy się do {_clock(d['end'], day, tz)}"
        else:
            en, pl = "no work on this day", "w tym dniu bez pracy"
        return Words(f"35 h weekly rest in the week from {d['week_start']}: {en}",
                     f"35 h odpoczynku tygodniowego w tygodniu od {d['week_start']}: {pl}")
    if rule == labour.WEEKLY_MAXIMUM:
        return Words(
            f"{hours(d['limit_minutes'])} a week (art. 131 KP): {hours(d['worked_minutes'])} already planned in the "
            f"week from {d['week_start']}, so at most {hours(d['cap_minutes'])} on this day",
            f"{hours(d['limit_minutes'])} tygodniowo (art. 131 KP): w tygodniu od {d['week_start']} zaplanowano już "
            f"{hours(d['worked_minutes'])}, więc w tym dniu najwyżej {hours(d['cap_minutes'])}")
    if rule == labour.SETTLEMENT_HOURS:
        return Words(
            f"settlement period {d['period_start']} to {d['period_end']}: norm {hours(d['norm_minutes'])}, "
            f"{hours(d['worked_minutes'])} already planned, {hours(d['overtime_left_minutes'])} of the year's "
            f"overtime left, so at most {hours(d['cap_minutes'])} on this day",
            f"okres rozliczeniowy {d['period_start']} – {d['period_end']}: wymiar {hours(d['norm_minutes'])}, "
            f"zaplanowano już {hours(d['worked_minutes'])}, zostało {hours(d['overtime_left_minutes'])} rocznego "
            f"limitu nadgodzin, więc w tym dniu najwyżej {hours(d['cap_minutes'])}")
    return Words(rule, rule)
