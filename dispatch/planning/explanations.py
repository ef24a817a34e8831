"""Why a visit was left out, in Polish and English, with the day's local clock times.

The optimizer explains an unplaced visit as data (``optimizer.model.Unassigned``): a reason
code, the case under it (``details["case"]``, an ``optimizer.model.ReasonCase``) and the facts a
sentence needs, times as minutes from the day's origin.  This module is the one place those
become sentences, the way VROOM leaves the wording of its ``unassigned`` ids to the caller: a
minute is a clock time only through the day's time zone, and on 2026-03-29 (23 hours in
Warsaw) minute 480 is 09:00, on 2026-10-25 (25 hours) 07:00.  ``dispatch.timeutil`` makes the
clock time; ``explain`` makes the sentences.

Everything that shows or stores a reason words it here: the roster's unplaced visits when a
plan is stored (``dispatch.planning.rosters``), the CLI summaries (``fixtures.demo``,
``dispatch.planning.solving``), and the requests that never became visits (``dispatch.planning.problem_builder``).

Where the wording is kept: a roster stores each unplaced visit's sentences next to its code and
facts (``roster_unassigned.message_pl``/``message_en``/``details``), worded when the plan is
stored, through the zone it was planned in.  The facts' minutes count from the local midnight
of that zone, which the roster does not record; wording them again later under another zone
setting would shift every time, and a published version should keep saying what the coordinator
read when acknowledging it.  The code and the facts are stored too, so a corrected translation
can re-word old rosters (``explain`` is a pure function of them, the day and the zone).

Without a day (a problem file solved from the command line has no date), times are printed as
minutes ("min 480"), never as a clock time guessed from a 24-hour day.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from dataclasses import dataclass
from typing import Any, Callable, Mapping, Sequence
from zoneinfo import ZoneInfo

from dispatch.timeutil import LocalReading, from_minutes, utc_to_local
from optimizer import ReasonCase, ReasonCode, Unassigned

log = logging.getLogger(__name__)

Clock = Callable[[int], str]
"""A minute of the day as the text a sentence shows."""


@dataclass(frozen=True)
class Words:
    """One explanation in both languages of the centre."""

    pl: str
    en: str


# ------------------------------------------------------------------------------ clocks


def day_clock(day: dt.date, tz: ZoneInfo | str | None = None) -> Clock:
    """Minutes of ``day`` as local wall-clock times ("08:00"; "00:30 (+1d)" past midnight).

    Through UTC (``timeutil.from_minutes``), so minute 480 of 2026-03-29 reads 09:00 and of
    2026-10-25 07:00 in Warsaw.  In the hour the clocks go back a wall-clock time happens twice,
    so it carries its zone name there ("02:30 CEST" is minute 150 of 2026-10-25, "02:30 CET"
    minute 210).  ``tz`` None: the configured roster zone.
    """

    def clock(minute: int) -> str:
        local = utc_to_local(from_minutes(int(minute), day, tz), tz)
        days = (local.date() - day).days
        text = f"{local:%H:%M}"
        if local.replace(fold=1 - local.fold).utcoffset() != local.utcoffset():
            text = f"{text} {local.tzname()}"
        return text if days == 0 else f"{text} ({days:+d}d)"

    return clock


def minute_clock(minute: int) -> str:
    """A minute as itself ("min 480"): for problems without a day, whose origin has no clock time."""
    return f"min {int(minute)}"


# --------------------------------------------------------------------------- entry points


def explain(reason: ReasonCode | str, details: Mapping[str, Any], day: dt.date | None,
            tz: ZoneInfo | str | None = None, *, strict: bool = False) -> Words:
    """The sentences for one unplaced visit of ``day`` (times local to ``tz``; None: the roster zone).

    ``day`` None words times as minutes (``minute_clock``).  ``strict``: see :func:`word`.
    """
    return word(reason, details, minute_clock if day is None else day_clock(day, tz), strict=strict)


def explain_unassigned(u: Unassigned, day: dt.date | None, tz: ZoneInfo | str | None = None, *,
                       strict: bool = False) -> Words:
    """:func:`explain` for an optimizer ``Unassigned``."""
    return explain(u.reason, u.details, day, tz, strict=strict)


def word(reason: ReasonCode | str, details: Mapping[str, Any], clock: Clock, *, strict: bool = False) -> Words:
    """The sentences for a reason code and its facts, times through ``clock``.

    A case this module does not know, or facts missing from ``details`` (a plan from another
    solver, a hand-written file), get the code's general sentence rather than an error: a
    reason is always shown.  ``strict`` (tests) raises ``LookupError`` instead.
    """
    code = ReasonCode(reason)
    case = details.get("case")
    wording = _CASES.get(case) if isinstance(case, str) else None
    if wording is None:
        if strict:
            raise LookupError(f"no wording for case {case!r} of {code.value}")
        return CODE_WORDS[code]
    try:
        return wording(_Facts(details, clock))
    except (KeyError, TypeError, ValueError) as exc:
        if strict:
            raise LookupError(f"{code.value}/{case}: a fact is missing or malformed: {exc!r}") from exc
        log.warning("reason %s/%s lacks a fact (%r); worded in general terms", code.value, case, exc)
        return CODE_WORDS[code]


# ------------------------------------------------------------------------------ general


CODE_WORDS: Mapping[ReasonCode, Words] = {
    ReasonCode.NO_SKILLED_WORKER: Words(
        "Żaden pracownik w grafiku nie ma wymaganych kwalifikacji.",
        "No worker on duty has the required skills."),
    ReasonCode.NOT_ENOUGH_ELIGIBLE: Words(
        "Wymaga kilku pracowników jednocześnie, a za mało z nich może ją wykonać.",
        "It needs several workers at once, and too few of them may do it."),
    ReasonCode.FORBIDDEN_ONLY: Words(
        "Wszyscy pracownicy z kwalifikacjami są wykluczeni u tego seniora.",
        "Every worker with the skills is excluded for this senior."),
    ReasonCode.NO_WORKER_FREE: Words(
        "Żaden uprawniony pracownik nie jest wolny w oknach czasowych wizyty.",
        "No eligible worker is free in its windows."),
    ReasonCode.DEPENDENCY: Words(
        "Nie da się spełnić jej powiązania z inną wizytą.",
        "Its link to another visit cannot be met."),
    ReasonCode.DISPLACED: Words(
        "Możliwa do zaplanowania, ale czas zajmują ważniejsze wizyty.",
        "Placeable, but the time is taken by more important visits."),
    ReasonCode.NOT_WORTH_IT: Words(
        "Wizyta opcjonalna: jej wstawienie kosztuje więcej niż pominięcie.",
        "Optional and it would cost more to fit in than to leave out."),
    ReasonCode.NOT_FOUND: Words(
        "Wyszukiwanie nie znalazło dla niej miejsca w limicie czasu.",
        "The search found no place for it within the time limit."),
    ReasonCode.NO_CAR_ROOM: Words(
        "Żaden samochód w grafiku nie ma miejsca dla pasażerów.",
        "No car on duty has room for the passengers."),
    ReasonCode.APPOINTMENT_UNREACHABLE: Words(
        "Nawet bezpośredni przejazd nie zdąży na wizytę w miejscu docelowym.",
        "Even a direct trip cannot reach the appointment in time."),
}
"""One general sentence per reason code: for reasons whose case or facts are unknown."""


# ------------------------------------------------------------------------------- facts


class _Facts:
    """The ``details`` of one reason, read the way the sentences need them."""

    def __init__(self, details: Mapping[str, Any], clock: Clock) -> None:
        self.d = details
        self.clock = clock
        self.ride = "ride" in details

    def __getitem__(self, key: str) -> Any:
        return self.d[key]

    def t(self, key: str) -> str:
        """The clock time of the minute under ``key``."""
        return self.clock(self.d[key])

    def windows(self) -> str:
        return ", ".join(f"{self.clock(a)}-{self.clock(b)}" for a, b in self.d["windows"])

    def skills(self) -> str:
        return ", ".join([*self.d["required_skills"], *self.d.get("worker_kinds", ())]) or "-"

    def ids(self, key: str) -> str:
        return ", ".join(self.d[key])

    def slots(self) -> str:
        """A visit's best slot(s): worker and earliest start, one per worker it needs."""
        return ", ".join(f"{s['worker']} {self.clock(s['earliest_start'])}" for s in self.d["slots"])

    def rank(self, prefix: str, pl_mandatory: str = "obowiązkowa") -> tuple[str, str]:
        """How a visit's importance reads (English, Polish): mandatory, or its priority."""
        if self.d[f"{prefix}_mandatory"]:
            return "mandatory", pl_mandatory
        priority = self.d[f"{prefix}_priority"]
        return f"priority {priority}", f"priorytet {priority}"

    def fit(self) -> tuple[str, str]:
        """(worker, clock time) of the insertion that would need another stop to give way."""
        slot = self.d["best_insertion"]
        return slot["worker"], self.clock(slot["pickup_start"] if self.ride else slot["earliest_start"])


# ------------------------------------------------------------------------------- cases


_EXCLUDED_PL = "(zakaz, wymagany inny pracownik, wymóg płci lub przypięcie)"
_EXCLUDED_EN = "(forbidden, not the required worker, gender requirement or a pin)"
_REPLAN_PL = "zaplanuj ponownie z dłuższym czasem lub wstaw ręcznie"
_REPLAN_EN = "re-plan with more time or place it by hand"


def _nobody_has_skills(f: _Facts) -> Words:
    if f.ride:
        return Words(f"Żaden kierowca w grafiku nie ma wymaganych uprawnień ({f.skills()}).",
                     f"No driver on duty has the required skills ({f.skills()}).")
    return Words(f"Żaden pracownik w grafiku nie ma wymaganych kwalifikacji ({f.skills()}).",
                 f"No worker on duty has the required skills ({f.skills()}).")


def _too_few_skilled(f: _Facts) -> Words:
    n, skilled = f["workers_needed"], f["skilled_workers"]
    return Words(
        f"Wymaga {n} pracowników jednocześnie z kwalifikacjami ({f.skills()}); w grafiku ma je "
        f"tylko {len(skilled)} ({f.ids('skilled_workers')}).",
        f"It needs {n} workers at once with the required skills ({f.skills()}); only "
        f"{len(skilled)} on duty has them ({f.ids('skilled_workers')}).")


def _too_few_allowed(f: _Facts) -> Words:
    n, skilled, eligible = f["workers_needed"], len(f["skilled_workers"]), len(f["eligible_workers"])
    return Words(
        f"Wymaga {n} pracowników jednocześnie; z {skilled} z kwalifikacjami do tego seniora może "
        f"pójść tylko {eligible} ({f.ids('eligible_workers')}); pozostali są wykluczeni {_EXCLUDED_PL}.",
        f"It needs {n} workers at once; only {eligible} of the {skilled} with the skills "
        f"may go to this senior ({f.ids('eligible_workers')}); the others are excluded {_EXCLUDED_EN}.")


def _all_excluded(f: _Facts) -> Words:
    if f.ride:
        return Words("Wszyscy kierowcy z miejscem w samochodzie są wykluczeni u tego seniora.",
                     "Every driver whose car has room is excluded for this senior.")
    return Words(f"Wszyscy pracownicy z kwalifikacjami są wykluczeni u tego seniora {_EXCLUDED_PL}.",
                 f"Every worker with the skills is excluded for this senior {_EXCLUDED_EN}.")


def _partner_unplaced(f: _Facts) -> Words:
    other = f["depends_on"]
    return Words(f"Planuje się ją tylko razem z wizytą {other}, która nie została zaplanowana.",
                 f"It is planned only together with visit {other}, which is not placed.")


def _before_unplaced(f: _Facts) -> Words:
    other = f["depends_on"]
    return Words(f"Musi nastąpić po wizycie {other}, która nie została zaplanowana.",
                 f"It must follow visit {other}, which is not placed.")


def _delay_outside_windows(f: _Facts) -> Words:
    return Words(f"Wymagany odstęp od powiązanej wizyty wypada poza oknami czasowymi ({f.windows()}).",
                 f"The required delay after the linked visit falls outside its windows ({f.windows()}).")


def _return_no_room(f: _Facts) -> Words:
    worker, at, back = f["worker"], f.t("pickup_start"), f["depends_on"]
    return Words(
        f"Zmieściłby się ({worker}, odbiór {at}), ale planuje się go tylko razem z {back} (powrotem), "
        "na który nie ma miejsca.",
        f"It would fit ({worker}, pickup {at}), but it is planned only together with {back} (the ride "
        "back), for which there is no room after it.")


def _dearer_than_dropping(f: _Facts) -> Words:
    if f.ride:
        worker, at = f["worker"], f.t("pickup_start")
        return Words(f"Przejazd opcjonalny: jego wstawienie kosztuje więcej niż pominięcie "
                     f"(najlepiej: {worker} o {at}).",
                     f"Optional and it would cost more to fit in than to leave out (best: {worker} at {at}).")
    return Words(
        f"Wizyta opcjonalna: jej wstawienie kosztuje więcej niż pominięcie (najlepsze miejsce: {f.slots()}).",
        f"Optional and it would cost more to fit in than to leave out (best slot: {f.slots()}).")


def _free_slot(f: _Facts) -> Words:
    if f.ride:
        worker, at = f["worker"], f.t("pickup_start")
        return Words(f"Jest wolny samochód ({worker}, odbiór {at}), ale wyszukiwanie do niego nie dotarło: "
                     f"{_REPLAN_PL}.",
                     f"A free car exists ({worker}, pickup {at}) but the search did not reach it: {_REPLAN_EN}.")
    return Words(f"Istnieje wolne miejsce ({f.slots()}), ale wyszukiwanie do niego nie dotarło: {_REPLAN_PL}.",
                 f"A free slot exists ({f.slots()}) but the search did not reach it: {_REPLAN_EN}.")


def _not_explained(f: _Facts) -> Words:
    solver = f.d.get("solver")
    if solver is None:
        return Words("Nie zaplanowano (bez wyjaśnienia).", "Not placed (reasons not computed).")
    if "left_out" in f.d:
        return Words(f"Pominięta dla {solver}: {f['left_out']}.", f"Left out for {solver}: {f['left_out']}.")
    return Words(f"Nie zaplanowana przez {solver}.", f"Not placed by {solver}.")


def _needs_together(f: _Facts) -> Words:
    n, on_shift = f["workers_needed"], f["on_shift_in_window"]
    return Words(
        f"Wymaga {n} pracowników jednocześnie; w oknach czasowych wizyty ({f.windows()}) dyżur ma tylko "
        f"{len(on_shift)} z uprawnionych ({f.ids('on_shift_in_window')}).",
        f"It needs {n} workers at once; only {len(on_shift)} of the eligible workers "
        f"({f.ids('on_shift_in_window')}) is on shift inside its windows ({f.windows()}).")


def _off_shift(f: _Facts) -> Words:
    if f.ride:
        earliest, latest = f.t("earliest_pickup"), f.t("latest_dropoff")
        return Words(f"Żaden kierowca z miejscem w samochodzie nie ma dyżuru, by odebrać o {earliest} "
                     f"lub później i dojechać do {latest}.",
                     f"No driver whose car has room is on shift to pick up at {earliest} or later and "
                     f"arrive by {latest}.")
    return Words(f"Żaden uprawniony pracownik nie ma dyżuru w oknach czasowych wizyty ({f.windows()}).",
                 f"No eligible worker is on shift inside any of its windows ({f.windows()}).")


def _gave_way(f: _Facts, less: bool) -> Words:
    """It fits only if a visit that matters less (``less``) or as much gives way."""
    worker, at = f.fit()
    other = f["would_displace"]
    kind_en, kind_pl = f.rank("displaced")
    if f.ride:
        own_en, own_pl = f.rank("own", "obowiązkowy")
        return Words(
            f"Żaden kierowca nie jest wolny: zmieściłby się u {worker} o {at} tylko kosztem wizyty {other} "
            f"({kind_pl}), {'mniej ważnej niż' if less else 'tak samo ważnej jak'} ten przejazd ({own_pl}).",
            f"No driver is free for it: it would fit with {worker} at {at} only if {other} ({kind_en}) gave "
            f"way, which matters {'less than' if less else 'as much as'} this ride ({own_en}).")
    own_en, own_pl = f.rank("own")
    if less:
        en_why = f"it matters less than this one ({own_en}): re-plan with more time or swap them by hand"
        pl_why = f"jest ona mniej ważna od tej ({own_pl}): zaplanuj ponownie z dłuższym czasem lub zamień je ręcznie"
    else:
        en_why = f"it matters as much as this one ({own_en}): there is room for one of them, not both"
        pl_why = f"jest ona tak samo ważna jak ta ({own_pl}): jest miejsce tylko dla jednej z nich"
    return Words(
        f"Żaden uprawniony pracownik nie jest wolny w oknach czasowych wizyty ({f.windows()}): zmieściłaby się "
        f"u {worker} o {at} tylko kosztem wizyty {other} ({kind_pl}), a {pl_why}.",
        f"No eligible worker is free in its windows ({f.windows()}): it would fit at {worker} {at} only if "
        f"visit {other} ({kind_en}) gave way, and {en_why}.")


def _working_time(f: _Facts) -> Words:
    return Words(
        f"Żaden uprawniony pracownik nie jest wolny w oknach czasowych wizyty ({f.windows()}): pozostała praca "
        "tego dnia (dobowy limit czasu pracy, przerwy) nie zostawia miejsca, choć żadna wizyta nie stoi na "
        "przeszkodzie.",
        f"No eligible worker is free in its windows ({f.windows()}): their other work today (the daily "
        "working-time limit, breaks) leaves no room, though no visit is in the way.")


def _booked_mixed(f: _Facts) -> Words:
    if f.ride:
        own_en, own_pl = f.rank("own", "obowiązkowy")
        return Words(
            "Żaden kierowca nie jest wolny: przejazd zmieściłby się w pustym grafiku, ale samochody zajmują "
            f"wizyty nie wszystkie ważniejsze od niego ({own_pl}), a ustąpienie jednej nie zwolni miejsca.",
            "No driver is free for it: placeable in an empty shift, but the cars are booked by visits not all "
            f"more important than this ride ({own_en}), and no single stop giving way frees enough room.")
    own_en, own_pl = f.rank("own")
    n = f["blocking_count"]
    return Words(
        f"Żaden uprawniony pracownik nie jest wolny w oknach czasowych wizyty ({f.windows()}): ich czas zajmuje "
        f"{n} innych wizyt, nie wszystkie ważniejsze od tej ({own_pl}); ustąpienie jednej nie zwolni miejsca.",
        f"No eligible worker is free in its windows ({f.windows()}): their time is booked by {n} other "
        f"visits, not all more important than this one ({own_en}); no single one giving way would free "
        "enough room.")


def _would_displace(f: _Facts) -> Words:
    worker, at = f.fit()
    other = f["would_displace"]
    kind_en, kind_pl = f.rank("displaced")
    if f.ride:
        return Words(
            f"Możliwy do zaplanowania, ale samochody są zajęte: zmieściłby się u {worker} o {at}, gdyby "
            f"ustąpiła wizyta {other} ({kind_pl}).",
            f"Placeable, but the cars are booked: it would fit with {worker} at {at} if {other} ({kind_en}) "
            "gave way.")
    return Words(
        f"Możliwa do zaplanowania, ale czas zajmują inne wizyty: zmieściłaby się u {worker} o {at}, gdyby "
        f"ustąpiła wizyta {other} ({kind_pl}).",
        f"Placeable, but the time is taken by other visits: it would fit at {worker} {at} if visit {other} "
        f"({kind_en}) gave way.")


def _booked_by_more_important(f: _Facts) -> Words:
    if f.ride:
        return Words(
            "Możliwy do zaplanowania w pustym grafiku, ale samochody są zajęte przez ważniejsze wizyty i "
            "ustąpienie jednej nie zwolni miejsca.",
            "Placeable in an empty shift, but the cars are booked by more important visits and no single "
            "stop giving way frees enough room.")
    n = f["blocking_count"]
    return Words(
        f"Możliwa do zaplanowania, ale czas uprawnionych pracowników w jej oknach zajmuje {n} innych, "
        "ważniejszych wizyt; ustąpienie jednej nie zwolni miejsca.",
        f"Placeable, but the eligible workers' time in its windows is booked by {n} other visits, each "
        "more important; no single one giving way would free enough room.")


def _no_room(f: _Facts) -> Words:
    load = ", ".join(f"{k} {q}" for k, q in sorted(f["load"].items())) or "-"
    return Words(f"Żaden samochód w grafiku nie ma miejsca dla pasażerów ({load}).",
                 f"No car on duty has room for the passengers ({load}).")


def _ride_too_long(f: _Facts) -> Words:
    trip, most = f["direct_minutes"], f["max_ride_time"]
    return Words(f"Bezpośredni przejazd trwa {trip} min, dłużej niż dopuszczalne {most} min w samochodzie.",
                 f"The direct trip takes {trip} min, longer than the {most} min the senior may spend in the car.")


def _arrives_late(f: _Facts) -> Words:
    leave, arrive, latest = f.t("earliest_pickup"), f.t("arrival"), f.t("latest_dropoff")
    return Words(f"Nawet przy odbiorze o {leave} senior dotarłby na miejsce o {arrive}, po {latest}.",
                 f"Even leaving at {leave} the senior would reach the destination at {arrive}, after {latest}.")


_CASES: Mapping[str, Callable[[_Facts], Words]] = {
    ReasonCase.NOBODY_HAS_SKILLS.value: _nobody_has_skills,
    ReasonCase.TOO_FEW_SKILLED.value: _too_few_skilled,
    ReasonCase.TOO_FEW_ALLOWED.value: _too_few_allowed,
    ReasonCase.ALL_EXCLUDED.value: _all_excluded,
    ReasonCase.PARTNER_UNPLACED.value: _partner_unplaced,
    ReasonCase.BEFORE_UNPLACED.value: _before_unplaced,
    ReasonCase.DELAY_OUTSIDE_WINDOWS.value: _delay_outside_windows,
    ReasonCase.RETURN_NO_ROOM.value: _return_no_room,
    ReasonCase.DEARER_THAN_DROPPING.value: _dearer_than_dropping,
    ReasonCase.FREE_SLOT.value: _free_slot,
    ReasonCase.NOT_EXPLAINED.value: _not_explained,
    ReasonCase.NEEDS_TOGETHER.value: _needs_together,
    ReasonCase.OFF_SHIFT.value: _off_shift,
    ReasonCase.KEPT_LESS_IMPORTANT.value: lambda f: _gave_way(f, less=True),
    ReasonCase.SAME_RANK.value: lambda f: _gave_way(f, less=False),
    ReasonCase.WORKING_TIME.value: _working_time,
    ReasonCase.BOOKED_MIXED.value: _booked_mixed,
    ReasonCase.WOULD_DISPLACE.value: _would_displace,
    ReasonCase.BOOKED_BY_MORE_IMPORTANT.value: _booked_by_more_important,
    ReasonCase.NO_ROOM.value: _no_room,
    ReasonCase.RIDE_TOO_LONG.value: _ride_too_long,
    ReasonCase.ARRIVES_LATE.value: _arrives_late,
}
"""The sentences of each case (``details["case"]``); ``details["ride"]`` picks a ride's wording."""


# --------------------------------------------------------- requests that never became visits
#
# A request that cannot become a visit on a day (``dispatch.planning.problem_builder.SKIP_CAUSES``) is
# stored among the roster's unplaced visits under ``SKIPPED_REASON`` with its ``cause``.  Its
# times are the request's own local wall-clock times (no minutes involved), named as given.


def unknown_senior(request_id: str, senior_id: str) -> Words:
    return Words(f"nieznany senior {senior_id}", f"unknown senior {senior_id}")


def unknown_destination(request_id: str, place_id: str) -> Words:
    return Words(f"nieznany cel przejazdu {place_id}", f"unknown destination {place_id}")


def window_emptied_by_dst(request_id: str, day: dt.date, windows: str, several: bool, start: dt.time,
                          reading: LocalReading) -> Words:
    """Every window's start lies in the spring-forward gap and, read as RFC 5545 says, after its end."""
    when = day.isoformat()
    return Words(
        f"zlecenie {request_id}: okn{'a' if several else 'o'} {windows} {'są puste' if several else 'jest puste'} "
        f"w dniu {when}: godzina {start:%H:%M} nie istnieje (zmiana czasu na letni), liczona jest jako "
        f"{reading.meant:%H:%M} (RFC 5545), czyli po końcu okna; popraw okno zlecenia",
        f"request {request_id}: its window{'s' if several else ''} {windows} {'are' if several else 'is'} empty on "
        f"{when}: {reading.resolution()}, after the window's end; change the window")


def window_passed_before_replan(request_id: str, day: dt.date, windows: str, replan_from: str) -> Words:
    """A re-plan from ``replan_from`` (a local clock time): every window of the request closed before it
    and it was not under way, so no plan from then on can place it (``dispatch.planning.replan``)."""
    when = day.isoformat()
    return Words(
        f"zlecenie {request_id}: okno {windows} w dniu {when} minęło przed {replan_from} (od tej godziny "
        f"plan jest układany na nowo), a wizyta się nie zaczęła; umów nowy termin",
        f"request {request_id}: its window {windows} on {when} closed before {replan_from} (the time the day "
        f"is re-planned from) and the visit had not started; arrange a new time")


def required_workers_away(request_id: str, day: dt.date, named: Sequence[str], away: Sequence[str]) -> Words:
    when, names, gone = day.isoformat(), ", ".join(named), ", ".join(away)
    return Words(
        f"zlecenie {request_id}: może je wykonać tylko {names} (wymagani pracownicy); w dniu {when} "
        f"niedostępni: {gone} (nieobecność, brak zmiany, inny rejon lub zakaz u seniora)",
        f"request {request_id}: only {names} may do it (required_workers); not available on {when}: {gone} "
        "(absent, no shift that day, outside the planned area, or forbidden for the senior)")


def pinned_worker_off(request_id: str, day: dt.date, worker: str) -> Words:
    when = day.isoformat()
    return Words(
        f"zlecenie {request_id} jest przypięte w dniu {when} do {worker}, który tego dnia nie pracuje "
        "(nieobecność, brak zmiany lub inny rejon); zmień lub usuń przypięcie",
        f"request {request_id} is pinned to {worker} on {when}, who does not work that day (absent, "
        "no shift, or outside the planned area); change or remove the pin")


def pinned_worker_excluded(request_id: str, day: dt.date, worker: str) -> Words:
    when = day.isoformat()
    return Words(
        f"zlecenie {request_id} jest przypięte w dniu {when} do {worker}, który nie może go wykonać (zakaz, "
        "spoza wymaganych pracowników, inny rodzaj pracownika lub brak kwalifikacji, albo wizyta "
        "dwuosobowa); zmień lub usuń przypięcie",
        f"request {request_id} is pinned to {worker} on {when}, who may not do it (forbidden, not among "
        "its required workers, another kind or missing skills, or a two-person visit); change or remove "
        "the pin")


def pinned_start_outside(request_id: str, day: dt.date, start: dt.time, windows: str) -> Words:
    when = day.isoformat()
    return Words(
        f"zlecenie {request_id} jest przypięte w dniu {when} na {start:%H:%M}, poza jego oknami {windows}; "
        "zmień przypięcie lub okna",
        f"request {request_id} is pinned to start at {start:%H:%M} on {when}, outside its windows "
        f"{windows}; change the pin or the windows")


__all__ = [
    "CODE_WORDS",
    "Clock",
    "Words",
    "day_clock",
    "explain",
    "explain_unassigned",
    "minute_clock",
    "pinned_start_outside",
    "pinned_worker_excluded",
    "pinned_worker_off",
    "required_workers_away",
    "unknown_destination",
    "unknown_senior",
    "window_emptied_by_dst",
    "window_passed_before_replan",
    "word",
]


# --------------------------------------------------------- why one worker cannot take a visit
#
# A recommendation (``dispatch.planning.recommend``) says why the next best workers cannot take a visit:
# the optimizer's reason for that worker alone (``optimizer.recommend``), the same codes, cases
# and facts as an unplaced visit's, worded about the one worker.


def worker_refusal(worker: str, u: Unassigned, day: dt.date | None, tz: ZoneInfo | str | None = None) -> Words:
    """Why ``worker`` (a name) cannot take the visit, from their reason alone; a case without a
    sentence of its own gets the visit's sentence after the name."""
    f = _Facts(u.details, minute_clock if day is None else day_clock(day, tz))
    case = u.details.get("case")
    try:
        words = _WORKER_CASES[case](worker, f) if isinstance(case, str) and case in _WORKER_CASES else None
    except (KeyError, TypeError, ValueError):
        words = None
    if words is None:
        general = word(u.reason, u.details, f.clock)
        words = Words(f"{worker}: {general.pl}", f"{worker}: {general.en}")
    return words


def _worker_booked(worker: str, f: _Facts) -> Words:
    at_worker, at = f.fit()
    other = f["would_displace"]
    kind_en, kind_pl = f.rank("displaced")
    return Words(f"{worker} jest zajęty/a: wizyta zmieściłaby się o {at} tylko kosztem wizyty {other} ({kind_pl}).",
                 f"{worker} is booked: it would fit at {at} only if visit {other} ({kind_en}) gave way.")


_WORKER_CASES: Mapping[str, Callable[[str, _Facts], Words]] = {
    ReasonCase.NOBODY_HAS_SKILLS.value: lambda w, f: Words(
        f"{w} nie ma wymaganych kwalifikacji ani rodzaju pracy dla tej usługi ({f.skills()}).",
        f"{w} lacks the skills or the kind of work this service needs ({f.skills()})."),
    ReasonCase.ALL_EXCLUDED.value: lambda w, f: Words(
        f"{w} jest wykluczony/a u tego seniora {_EXCLUDED_PL}.",
        f"{w} is excluded for this senior {_EXCLUDED_EN}."),
    ReasonCase.OFF_SHIFT.value: lambda w, f: Words(
        f"{w} nie ma dyżuru w oknach czasowych wizyty ({f.windows()}).",
        f"{w} is not on shift inside its windows ({f.windows()})."),
    ReasonCase.WOULD_DISPLACE.value: _worker_booked,
    ReasonCase.KEPT_LESS_IMPORTANT.value: _worker_booked,
    ReasonCase.SAME_RANK.value: _worker_booked,
    ReasonCase.BOOKED_MIXED.value: lambda w, f: Words(
        f"{w} ma w oknach czasowych wizyty ({f.windows()}) {f['blocking_count']} innych wizyt; ustąpienie "
        "jednej nie zwolni miejsca.",
        f"{w} is booked by {f['blocking_count']} other visits in its windows ({f.windows()}); no single one "
        "giving way frees enough room."),
    ReasonCase.BOOKED_BY_MORE_IMPORTANT.value: lambda w, f: Words(
        f"{w} ma w oknach czasowych wizyty {f['blocking_count']} ważniejszych wizyt; ustąpienie jednej nie "
        "zwolni miejsca.",
        f"{w} is booked by {f['blocking_count']} more important visits in its windows; no single one giving "
        "way frees enough room."),
    ReasonCase.WORKING_TIME.value: lambda w, f: Words(
        f"Pozostała praca {w} tego dnia (dobowy limit czasu pracy, przerwy) nie zostawia miejsca w oknach "
        f"czasowych wizyty ({f.windows()}).",
        f"{w}'s other work today (the daily working-time limit, breaks) leaves no room in its windows "
        f"({f.windows()})."),
}
"""Sentences about one worker, per case (``details["case"]``)."""


# --------------------------------------------------------- what an edited plan breaks
#
# A hand edit is answered with the checker's findings (``dispatch.planning.plan_findings``): a rule code,
# facts with times as minutes of the day, worded here with the day's clock.  A rule without a
# sentence of its own keeps the checker's English with its minutes turned into clock times.

_MINUTES = re.compile(r"minutes (\d+)-(\d+)|minute (\d+)")


def clocked(message: str, clock: Clock) -> str:
    """The checker's message with "minute 490" / "minutes 480-510" as clock times."""
    def one(m: re.Match[str]) -> str:
        if m.group(3) is not None:
            return clock(int(m.group(3)))
        return f"{clock(int(m.group(1)))}-{clock(int(m.group(2)))}"

    return _MINUTES.sub(one, message)


def finding_words(rule: str, facts: Mapping[str, Any], clock: Clock, fallback_en: str) -> Words:
    """The sentences of one finding of an edited plan (``rule``: a checker rule or a soft cost)."""
    f = _Facts(facts, clock)
    wording = _FINDINGS.get(rule)
    if wording is not None:
        try:
            return wording(f)
        except (KeyError, TypeError, ValueError):
            pass
    en = clocked(fallback_en, clock)
    return Words(f"Naruszona reguła {rule}: {en}", en)


def _outside(f: _Facts) -> Words:
    v, at = f["visit"], f.t("start")
    return Words(f"Wizyta {v} zaczęłaby się o {at}, poza oknami czasowymi ({f.windows()}).",
                 f"Visit {v} would start at {at}, outside its windows ({f.windows()}).")


def _too_late(f: _Facts) -> Words:
    v, at, due, late, most = f["visit"], f.t("start"), f.t("due"), f["late"], f["max_lateness"]
    return Words(f"Wizyta {v} zaczęłaby się o {at}, {late} min po końcu ostatniego okna ({due}); dopuszczalne "
                 f"spóźnienie to {most} min.",
                 f"Visit {v} would start at {at}, {late} min after its last window ends ({due}); at most {most} "
                 "min late is allowed.")


def _past_shift(f: _Facts) -> Words:
    w, end, shift_end, most = f["worker"], f.t("end"), f.t("shift_end"), f["max_overtime"]
    return Words(f"{w} skończył(a)by o {end}, po końcu zmiany ({shift_end}) i dopuszczalnych {most} min nadgodzin.",
                 f"{w} would finish at {end}, past the shift end ({shift_end}) and the {most} min of overtime "
                 "allowed.")


def _over_work(f: _Facts) -> Words:
    w, work, limit = f["worker"], f["work"], f["limit"]
    return Words(f"{w} pracował(a)by dziś {work} min; limit to {limit} min.",
                 f"{w} would work {work} min today; the limit is {limit} min.")


def _unreachable(f: _Facts) -> Words:
    w, v, at = f["worker"], f["visit"], f.t("start")
    if f.d.get("earliest") is None:
        return Words(f"{w} nie zdąży na wizytę {v} o {at}.", f"{w} cannot be at visit {v} by {at}.")
    earliest = f.t("earliest")
    return Words(f"{w} nie zdąży na wizytę {v} o {at}: najwcześniej o {earliest}.",
                 f"{w} cannot be at visit {v} by {at}: the earliest is {earliest}.")


def _late_warning(f: _Facts) -> Words:
    v, at, due = f["visit"], f.t("start"), f.t("due")
    return Words(f"Wizyta {v} zacznie się z opóźnieniem: o {at}, po końcu okna ({due}).",
                 f"Visit {v} starts late: at {at}, after its window ends ({due}).")


def _overtime_warning(f: _Facts) -> Words:
    w, end, shift_end = f["worker"], f.t("end"), f.t("shift_end")
    return Words(f"{w} skończy o {end}, po końcu zmiany ({shift_end}): nadgodziny.",
                 f"{w} finishes at {end}, after the shift ends ({shift_end}): overtime.")


_FINDINGS: Mapping[str, Callable[[_Facts], Words]] = {
    "time_window": _outside,
    "lateness_exceeded": _too_late,
    "shift_end_exceeded": _past_shift,
    "max_work_exceeded": _over_work,
    "start_before_arrival": _unreachable,
    "lateness": _late_warning,
    "overtime": _overtime_warning,
}
