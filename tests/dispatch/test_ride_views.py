"""How ride stops are shown: stored legs, legacy rows, the calendar feed's summary and needs."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import icalendar

from dispatch.storage import models as m
from dispatch.exchange.calendar_feed import build_calendar
from dispatch.planning.publish import visit_leg
from dispatch.planning.ride_legs import LEGS_PL, RIDE_STOPS, at_destination, is_ride_leg
from dispatch.planning.schedule import RideInfo, ScheduledVisit

ZONE = ZoneInfo("Europe/Warsaw")
DAY = dt.date(2026, 12, 1)


def ride_request() -> m.VisitRequest:
    return m.VisitRequest(id="R1", senior_id="S1", service="taxi", first_date=DAY, window_start=dt.time(9),
                          window_end=dt.time(10), duration=30, destination_place_id="wsz",
                          appointment=dt.time(11), appointment_minutes=60)


def test_stored_leg_wins_and_legacy_rows_are_read_by_the_appointment() -> None:
    req = ride_request()
    before = dt.datetime(2026, 12, 1, 9, 0, tzinfo=dt.UTC)  # 10:00 local
    after = dt.datetime(2026, 12, 1, 11, 0, tzinfo=dt.UTC)  # 12:00 local
    assert visit_leg(req, after, DAY, ZONE, "dropoff") == "dropoff"
    assert visit_leg(req, before, DAY, ZONE, None) == "outbound"
    assert visit_leg(req, after, DAY, ZONE, None) == "return"
    assert visit_leg(None, before, DAY, ZONE, None) == "visit"


def test_every_leg_has_a_polish_name_and_a_place() -> None:
    assert all(leg in LEGS_PL for leg in RIDE_STOPS)
    assert [at_destination(leg) for leg in RIDE_STOPS] == [False, True, True, False]
    assert not is_ride_leg("visit") and all(is_ride_leg(leg) for leg in RIDE_STOPS)


def test_calendar_event_of_a_drop_off_says_where_and_what_help_without_health_data() -> None:
    start = dt.datetime(2026, 12, 1, 10, 30, tzinfo=ZONE)
    visit = ScheduledVisit(
        uid="R1-20261201-dropoff-W3@carepath", date=DAY, roster_version=1, sequence=1, start=start,
        end=start + dt.timedelta(minutes=20), service="taxi", service_name_pl="Taksówka", service_name_en="Taxi",
        senior_name="Halina Zając", address="WSZ", tasks="", notes_for_workers="", phone="+48 500 000 001",
        ride=RideInfo("dropoff", "destination", "WSZ", dt.datetime(2026, 12, 1, 11, tzinfo=ZONE),
                      wheelchair=True, assistant=True),
    )
    text = build_calendar([visit], [], "Europe/Warsaw", dt.datetime(2026, 11, 26, tzinfo=dt.UTC), DAY, DAY, details=True)
    [event] = icalendar.Calendar.from_ical(text).walk("VEVENT")
    assert str(event["summary"]) == "Przejazd (wysadzenie u celu): Halina Zając"
    description = str(event["description"])
    assert "Cel: WSZ, termin 11:00" in description
    assert "Potrzeby: wózek inwalidzki, asystent MOPR" in description
    assert "Taksówka" not in text.decode()


def test_by_default_a_ride_event_says_only_which_leg_where_and_when() -> None:
    """Without the centre's details setting: the leg, the destination and the appointment time; no name,
    no phone, no needs (a wheelchair says something about health)."""
    start = dt.datetime(2026, 12, 1, 10, 30, tzinfo=ZONE)
    visit = ScheduledVisit(
        uid="R1-20261201-dropoff-W3@carepath", date=DAY, roster_version=1, sequence=1, start=start,
        end=start + dt.timedelta(minutes=20), service="taxi", service_name_pl="Taksówka", service_name_en="Taxi",
        senior_name="Halina Zając", address="WSZ", tasks="do kardiologa", notes_for_workers="klucz u sąsiadki",
        phone="+48 500 000 001",
        ride=RideInfo("dropoff", "destination", "WSZ", dt.datetime(2026, 12, 1, 11, tzinfo=ZONE),
                      wheelchair=True, assistant=True),
    )
    text = build_calendar([visit], [], "Europe/Warsaw", dt.datetime(2026, 11, 26, tzinfo=dt.UTC), DAY, DAY)
    [event] = icalendar.Calendar.from_ical(text).walk("VEVENT")
    assert str(event["summary"]) == "Przejazd (wysadzenie u celu)"
    assert str(event["description"]) == "Cel: WSZ, termin 11:00" and str(event["location"]) == "WSZ"
    for private in ("Halina", "+48", "wózek", "kardiolog", "klucz"):
        assert private not in text.decode(), private
