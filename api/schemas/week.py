"""Bodies of the week endpoints (``/rosters/week/{monday}``): the week's report and its day versions."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, Field


class WeekDayPublic(BaseModel):
    """The version of one day the report reads (the latest draft or published one); none if unplanned."""

    date: dt.date
    roster_id: int | None = None
    version: int | None = None
    status: Literal["draft", "published"] | None = None
    visits_placed: int = 0
    visits_total: int = 0
    roster_url: str | None = None


class DistinctWorkers(BaseModel):
    mean: float | None = Field(description="different workers per senior in the week, averaged over the seniors "
                                           "with an ordinary visit placed")
    max: int | None = None


class RestBreachPublic(BaseModel):
    worker_id: str
    rule: Literal["daily_rest", "weekly_rest"]
    rest_hours: float = Field(description="the rest found (daily: between the two days' work; weekly: the longest "
                                          "in the week)")
    required_hours: float
    days: list[dt.date]


class SeniorWeekPublic(BaseModel):
    senior_id: str
    workers: list[str]
    visits: int
    by_regular: int | None = Field(description="visits by a regular worker on her record; null: she has none")


class WeekReportPublic(BaseModel):
    """A week judged as a week (``dispatch.planning.week_report``): continuity of care, visits placed and an
    independent check of the rest rules across the days' latest versions."""

    monday: dt.date
    area: str | None
    days: list[WeekDayPublic]
    visits_placed: int
    visits_total: int
    seniors: int = Field(description="seniors with an ordinary visit placed in the week")
    distinct_workers_per_senior: DistinctWorkers
    regular_share: float | None = Field(
        description="of the ordinary visits of seniors with regular workers on record, the share one of them does")
    rest_breaches: int = Field(description="daily (11 h) and weekly (35 h) rest breaches found (0 expected)")
    breaches: list[RestBreachPublic]
    by_senior: list[SeniorWeekPublic]
