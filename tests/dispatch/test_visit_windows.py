"""A request's windows: their order rule, and the minutes of a day they become (DST days included)."""

from __future__ import annotations

import datetime as dt

from dispatch.catalog import visit_windows as vw
from dispatch.catalog.care_rules import gender_rule_after, gender_terms
from dispatch.storage.models import GenderRule
from fixtures import scenario as sc

T = dt.time
SPRING = dt.date(2027, 3, 28)  # 02:00 -> 03:00 in Europe/Warsaw: the day has 1380 minutes
TZ = "Europe/Warsaw"


def test_windows_must_come_in_order_without_touching() -> None:
    """Each window starts after the one before ends; touching windows are one window, so they are refused."""
    assert vw.order_problems([(T(8), T(9)), (T(17), T(18))]) == []
    assert [(i, b) for i, b, _ in vw.order_problems([(T(8), T(9)), (T(9), T(10)), (T(7), T(7, 30))])] == \
        [(1, "start"), (2, "start")]
    assert [(i, b) for i, b, _ in vw.order_problems([(T(8), T(9)), (T(18), T(17))])] == [(1, "end")]


def test_a_normal_day_keeps_the_windows_as_they_are() -> None:
    """08:00-09:00 and 17:00-18:00 on a winter day are minutes 480-540 and 1020-1080."""
    assert vw.day_minutes(dt.date(2026, 12, 1), [(T(8), T(9)), (T(17), T(18))], TZ) == [(480, 540), (1020, 1080)]


def test_the_spring_gap_drops_an_emptied_window_and_merges_what_it_makes_overlap() -> None:
    """02:45-03:10 reads 03:45-03:10 (empty: dropped); 01:00-02:30 reads 01:00-03:30 and swallows 03:00-04:00."""
    assert vw.day_minutes(SPRING, [(T(0, 30), T(1)), (T(2, 45), T(3, 10))], TZ) == [(30, 60)]
    assert vw.day_minutes(SPRING, [(T(1), T(2, 30)), (T(3), T(4))], TZ) == [(60, 180)]


def test_a_start_fits_a_window_or_the_lateness_after_the_last() -> None:
    """Inside any window, or within the soft lateness after the last one only."""
    spans = [(480, 540), (1020, 1080)]
    assert vw.start_fits(spans, 500) and vw.start_fits(spans, 1080)
    assert not vw.start_fits(spans, 600) and not vw.start_fits(spans, 560, lateness=30)
    assert vw.start_fits(spans, 1100, lateness=30)


def test_stored_windows_read_back_from_every_shape() -> None:
    """Stored JSON, API objects and import pairs all give the same times."""
    stored = vw.stored([(T(17), T(18))])
    assert stored == [{"start": "17:00:00", "end": "18:00:00"}]
    row = type("Row", (), {"window_start": T(8), "window_end": T(9), "extra_windows": stored})()
    assert vw.windows_of(row) == [(T(8), T(9)), (T(17), T(18))]
    assert vw.extra_windows(type("R", (), {"extra_windows": [(T(12), T(13))]})()) == [(T(12), T(13))]


def test_gender_is_strict_only_for_intimate_care_of_a_senior_who_requires_it() -> None:
    """require + home care: strict; require + taxi: a wish; prefer: a wish; none: nothing. A fixture
    senior without a rule reads as prefer when it names a gender."""
    home_care = sc.Service(sc.ServiceCode.HOME_CARE, "", "", (), (), 60)
    taxi = sc.Service(sc.ServiceCode.TAXI, "", "", (), (), 30)

    def senior(rule: str | None, gender: str | None = "F") -> object:
        return type("S", (), {"gender_rule": rule, "preferred_gender": gender})()

    assert gender_terms(senior("require"), home_care) == ("F", True)
    assert gender_terms(senior("require"), taxi) == ("F", False)
    assert gender_terms(senior("prefer"), home_care) == ("F", False)
    assert gender_terms(senior("none", None), home_care) == (None, False)
    assert gender_terms(senior(None), home_care) == ("F", False)
    flagged = type("Svc", (), {"code": "taxi", "intimate_care": True})()  # the centre's flag wins over the default
    assert gender_terms(senior("require"), flagged) == ("F", True)


def test_a_rule_not_given_follows_the_preferred_gender() -> None:
    """Naming a gender makes it a wish unless a rule exists; clearing it clears the rule; a given rule is kept."""
    assert gender_rule_after({"preferred_gender": "F"}) is GenderRule.PREFER
    assert gender_rule_after({"preferred_gender": None}) is GenderRule.NONE
    assert gender_rule_after({"preferred_gender": "M"}, {"preferred_gender": "F", "gender_rule": "require"}) is None
    assert gender_rule_after({"gender_rule": "require", "preferred_gender": "F"}) is None
