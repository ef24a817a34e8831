"""Planning a week in one job (issue 17, item 6): seven drafts in order, continuity fed forward, and the week report.

Storage tests run on SQLite and PostgreSQL with the small API scenario (two carers W1, W2 and a
driver W3 on Mon-Fri 7-15; seniors S1-S3 with W1 as their regular worker; three care visits every
weekday and one taxi ride on Tuesday).  Every roster a test plans is checked by the independent
checker (``optimizer.check``).  The rest rules are checked on hand-made work spans, DST weeks included.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select
from sqlmodel import Session

from dispatch import jobs
from dispatch.planning import week_report as wr
from dispatch.planning.week_plan import monday_problem, plan_week, served_by, week_of
from dispatch.providers.travel import provider_from_settings
from dispatch.settings import Settings
from dispatch.storage import models as m
from fixtures.seed import load_scenario
from optimizer import check, is_feasible
from optimizer.params import SolveParams
from tests.api.conftest import MON, small_scenario

TZ = "Europe/Warsaw"
#: A deterministic search (stops on solutions and rounds, not on the clock).
PARAMS = SolveParams(time_limit_s=None, solution_limit=30, seed=0, metaheuristic="GREEDY_DESCENT", lns_iterations=30)


def _settings(engine, tmp_path) -> Settings:
    return Settings(database_url=jobs.engine_url(engine), data_dir=tmp_path)


def _plan_checked(engine, tmp_path, **kwargs) -> list:
    planned = plan_week(engine, MON, provider_from_settings(_settings(engine, tmp_path)), PARAMS, TZ, **kwargs)
    for day in planned:
        violations = check(day.built.problem, day.solution)
        assert is_feasible(violations), [v.message for v in violations]
    return planned


def test_only_a_monday_starts_a_week() -> None:
    """A week is planned from its Monday; any other day says which weekday it is."""
    assert monday_problem(MON) is None
    assert "Tuesday, not a Monday" in (monday_problem(MON + dt.timedelta(days=1)) or "")
    assert week_of(MON)[-1] == dt.date(2026, 12, 6)
    with pytest.raises(ValueError, match="not a Monday"):
        plan_week(None, MON + dt.timedelta(days=2), None, PARAMS)  # type: ignore[arg-type]


def test_a_week_is_seven_checked_drafts_and_its_report_counts_them(engine, tmp_path) -> None:
    """Seven drafts, Monday to Sunday (the weekend empty).  The regular carer W1 is off on Wednesday, when
    only W2 works: the report counts 19 visits placed (15 care visits and a ride's 4 stops), two carers per
    senior, 12 of 15 care visits by the regular worker (0.8), no rest breach."""
    base = small_scenario()
    workers = tuple(dataclasses.replace(w, shifts=tuple(p for p in w.shifts if (p.weekday == 2) == (w.id == "W2")))
                    if w.id in ("W1", "W2") else w for w in base.workers)
    with Session(engine) as s:
        load_scenario(s, dataclasses.replace(base, workers=workers))
    planned = _plan_checked(engine, tmp_path)
    assert [p.roster.date for p in planned] == week_of(MON)
    assert all(p.roster.version == 1 for p in planned)
    with Session(engine) as s:
        report = wr.week_report(s, MON, TZ)
    assert [d.version for d in report.days] == [1] * 7 and all(d.status == "draft" for d in report.days)
    assert (report.visits_placed, report.visits_total) == (19, 19)
    assert [(x.senior_id, x.workers, x.visits, x.by_regular) for x in report.seniors] == [
        ("S1", ("W1", "W2"), 5, 4), ("S2", ("W1", "W2"), 5, 4), ("S3", ("W1", "W2"), 5, 4)]
    assert report.distinct_workers_mean == 2.0 and report.regular_share == 0.8
    assert report.rest_breaches == ()
    body = report.as_dict()
    assert body["rest_breaches"] == 0 and body["distinct_workers_per_senior"] == {"mean": 2.0, "max": 2}


def test_workers_of_the_week_s_first_days_are_preferred_on_the_later_ones(engine, tmp_path) -> None:
    """No regular workers on record and W2 off on Monday: W1 serves everyone on Monday and is the preferred
    worker of every visit on Tuesday; from then on each visit prefers whoever served its senior so far this
    week (the optimizer weighs that preference against its other costs).  The report's carers per senior are
    exactly the workers the seven solutions sent to her."""
    base = small_scenario()
    seniors = tuple(dataclasses.replace(x, regular_workers=()) for x in base.seniors)
    workers = tuple(dataclasses.replace(w, shifts=w.shifts[1:]) if w.id == "W2" else w for w in base.workers)
    with Session(engine) as s:
        load_scenario(s, dataclasses.replace(base, seniors=seniors, workers=workers))
    planned = _plan_checked(engine, tmp_path)
    assert {r.worker_id for r in planned[0].solution.routes if r.stops} == {"W1"}
    served = served_by(planned[0].built, planned[0].solution)
    assert served == {"S1": {"W1"}, "S2": {"W1"}, "S3": {"W1"}}
    for day in planned[1:5]:  # Tuesday to Friday: both carers on duty
        for v in day.built.problem.visits:
            if "/" not in v.id:  # ordinary visits (ride legs are "R4@day/pickup"); W3 drives, never a carer
                assert v.preferred_workers == frozenset(served[v.client_id]) - {"W3"}, (day.roster.date, v.id)
        for client, who in served_by(day.built, day.solution).items():
            served.setdefault(client, set()).update(who)
    with Session(engine) as s:
        report = wr.week_report(s, MON, TZ)
    sent: dict[str, set[str]] = {}
    for day in planned:
        visits = day.built.problem.visit_by_id()
        for route in day.solution.routes:
            for stop in route.stops:
                if "/" not in stop.visit_id:  # ordinary visits (ride legs are "R4@day/pickup")
                    sent.setdefault(visits[stop.visit_id].client_id, set()).add(route.worker_id)
    assert {x.senior_id: set(x.workers) for x in report.seniors} == sent
    assert report.regular_share is None  # nobody has regular workers on record


def test_without_continuity_nothing_is_added_to_the_preferred_workers(engine, tmp_path) -> None:
    """The baseline (seven independent days) prefers only the record's regular workers."""
    base = small_scenario()
    seniors = tuple(dataclasses.replace(x, regular_workers=()) for x in base.seniors)
    with Session(engine) as s:
        load_scenario(s, dataclasses.replace(base, seniors=seniors))
    planned = _plan_checked(engine, tmp_path, continuity=False)
    assert all(not v.preferred_workers for p in planned for v in p.built.problem.visits)


def test_a_week_job_stores_seven_drafts_and_lists_them(engine, tmp_path) -> None:
    """The child's body runs a week job: seven draft versions, the job succeeded with each day in its progress."""
    with Session(engine) as s:
        load_scenario(s, small_scenario())
        job = jobs.create_job(s, MON, None, 0.5, "dispatcher", days=7)
        s.commit()
        job_id = job.id
    jobs.run_job(jobs.engine_url(engine), job_id, _settings(engine, tmp_path))
    with Session(engine) as s:
        job = s.get(m.PlanJob, job_id)
        assert job is not None and job.status == m.JobStatus.SUCCEEDED, job and job.error
        days = job.progress["days"]
        assert [d["date"] for d in days] == [d.isoformat() for d in week_of(MON)]
        assert job.progress["visits_total"] == 19 and job.progress["visits_placed"] == 19
        rosters = s.scalars(select(m.Roster).order_by(m.Roster.date)).all()
        assert [(r.date, r.version, r.status) for r in rosters] == [(d, 1, m.RosterStatus.DRAFT) for d in week_of(MON)]
        assert [d["roster_id"] for d in days] == [r.id for r in rosters]
        assert jobs.job_view(job, "process")["days"] == 7


def test_a_week_job_and_a_day_job_of_that_week_exclude_each_other(engine) -> None:
    """While a week job is active, a day job inside its week (or another week job) is a conflict; the day
    after the week is free.  The other way round too."""
    with Session(engine) as s:
        load_scenario(s, small_scenario())
        week = jobs.create_job(s, MON, None, 1, "dispatcher", days=7)
        s.commit()
        with pytest.raises(jobs.JobConflict):
            jobs.create_job(s, MON + dt.timedelta(days=6), None, 1, "dispatcher")
        s.rollback()
        with pytest.raises(jobs.JobConflict):
            jobs.create_job(s, MON, None, 1, "dispatcher", days=7)
        s.rollback()
        jobs.create_job(s, MON + dt.timedelta(days=7), None, 1, "dispatcher")
        s.commit()
        jobs.request_cancel(s, week.id, "dispatcher")
        day = jobs.create_job(s, MON + dt.timedelta(days=3), None, 1, "dispatcher")
        s.commit()
        with pytest.raises(jobs.JobConflict) as conflict:
            jobs.create_job(s, MON, None, 1, "dispatcher", days=7)
        assert conflict.value.job.id == day.id
        s.rollback()
        with pytest.raises(ValueError):
            jobs.create_job(s, MON, None, 1, "dispatcher", days=3)


# -- the rest rules, on hand-made spans


def at(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), ZoneInfo(TZ)).astimezone(dt.UTC)


def span(day: dt.date, start: tuple[int, int], end: tuple[int, int]) -> tuple[dt.datetime, dt.datetime]:
    return at(day, *start), at(day, *end)


def test_a_rest_of_exactly_11_hours_is_kept_a_minute_less_is_a_breach() -> None:
    """Monday's work ends at 20:00: Tuesday from 07:00 is 11 h of rest (kept), from 06:59 a daily-rest breach."""
    tue = MON + dt.timedelta(days=1)
    kept = {"W1": {MON: span(MON, (12, 0), (20, 0)), tue: span(tue, (7, 0), (15, 0))}}
    assert wr.rest_breaches(kept, MON, TZ) == ()
    short = {"W1": {MON: span(MON, (12, 0), (20, 0)), tue: span(tue, (6, 59), (15, 0))}}
    [breach] = wr.rest_breaches(short, MON, TZ)
    assert (breach.rule, breach.rest_hours, breach.required_hours, breach.days) == ("daily_rest", 10.98, 11.0,
                                                                                    (MON, tue))


def test_a_day_longer_than_13_hours_leaves_no_daily_rest() -> None:
    """06:00-19:30 is 13.5 h of work: the 24 h from its start hold only 10.5 h of rest."""
    [breach] = wr.rest_breaches({"W1": {MON: span(MON, (6, 0), (19, 30))}}, MON, TZ)
    assert (breach.rule, breach.rest_hours) == ("daily_rest", 10.5)


def test_seven_working_days_break_the_weekly_rest_five_keep_it() -> None:
    """Work every day 8-16 leaves 16 h at most: a weekly-rest breach; Monday to Friday leaves Friday 16:00 to
    the week's end (56 h): kept."""
    every = {"W1": {d: span(d, (8, 0), (16, 0)) for d in week_of(MON)}}
    [breach] = wr.rest_breaches(every, MON, TZ)
    assert (breach.rule, breach.rest_hours, breach.required_hours) == ("weekly_rest", 16.0, 35.0)
    weekdays = {"W1": {d: span(d, (8, 0), (16, 0)) for d in week_of(MON)[:5]}}
    assert wr.rest_breaches(weekdays, MON, TZ) == ()


def test_weekly_rest_is_measured_in_real_hours_across_the_dst_change() -> None:
    """Week of 23 March 2026 (clocks go forward on Sunday the 29th): Friday's work ends 20:00 and Sunday's
    starts 07:30, 35.5 h on the clock but 34.5 h of rest: a breach.  In the October week (clocks go back on
    the 25th) the same times give 36.5 h: kept."""
    for monday, rest in ((dt.date(2026, 3, 23), 34.5), (dt.date(2026, 10, 19), 36.5)):
        days = week_of(monday)
        spans = {"W1": {**{d: span(d, (8, 0), (16, 0)) for d in days[:4]}, days[4]: span(days[4], (12, 0), (20, 0)),
                        days[6]: span(days[6], (7, 30), (15, 0))}}
        found = wr.rest_breaches(spans, monday, TZ)
        if rest < 35:
            [breach] = found
            assert (breach.rule, breach.rest_hours) == ("weekly_rest", rest)
        else:
            assert found == ()


def test_continuity_counts_ordinary_visits_and_regular_share_only_where_there_are_regulars() -> None:
    """A taxi driver is not a carer; a senior without regular workers is left out of the share."""
    t = at(MON, 8)
    stops = [wr.Stop(MON, "W1", "S1", "visit", t, t), wr.Stop(MON, "W2", "S1", "visit", t, t),
             wr.Stop(MON, "W3", "S1", "pickup", t, t), wr.Stop(MON, "W2", "S2", "visit", t, t),
             wr.Stop(MON, "W1", "S2", None, t, t)]
    seniors = wr.continuity(stops, {"S1": ("W1",), "S2": ()})
    assert [(x.senior_id, x.workers, x.visits, x.by_regular) for x in seniors] == [
        ("S1", ("W1", "W2"), 2, 1), ("S2", ("W1", "W2"), 2, None)]
    report = wr.WeekReport(MON, None, (), seniors)
    assert report.regular_share == 0.5 and report.distinct_workers_mean == 2.0 and report.distinct_workers_max == 2


def test_a_week_job_cancelled_on_wednesday_keeps_monday_and_tuesday_whole(engine, tmp_path, monkeypatch) -> None:
    """A cancel arriving while Wednesday is solved: the job ends cancelled, Wednesday is rolled back, and the
    two whole days stored before stay as drafts, listed in the job's progress; nothing after is planned."""
    import optimizer

    with Session(engine) as s:
        load_scenario(s, small_scenario())
        job_id = jobs.create_job(s, MON, None, 0.5, "dispatcher", days=7).id
        s.commit()
    real_solve = optimizer.solve
    solved: list[str] = []

    def solve_then_cancel_on_wednesday(problem, params, stop=None):
        solution = real_solve(problem, params, stop)
        solved.append(problem.name)
        if problem.name == "roster 2026-12-02":
            with Session(engine) as s:
                jobs.request_cancel(s, job_id, "dispatcher")
                s.commit()
        return solution

    monkeypatch.setattr(optimizer, "solve", solve_then_cancel_on_wednesday)
    jobs.run_job(jobs.engine_url(engine), job_id, _settings(engine, tmp_path))
    assert solved == ["roster 2026-11-30", "roster 2026-12-01", "roster 2026-12-02"]
    with Session(engine) as s:
        job = s.get(m.PlanJob, job_id)
        assert job is not None and job.status == m.JobStatus.CANCELLED
        assert [d["date"] for d in job.progress["days"]] == ["2026-11-30", "2026-12-01"]
        stored = s.scalars(select(m.Roster).order_by(m.Roster.date)).all()
        assert [(r.date, r.version) for r in stored] == [(MON, 1), (MON + dt.timedelta(days=1), 1)]
        assert s.scalar(select(func.count()).select_from(m.RosterAssignment)
                        .where(m.RosterAssignment.roster_id.not_in([r.id for r in stored]))) == 0


def test_a_beat_that_knows_fewer_stored_days_does_not_write_over_the_progress(engine) -> None:
    """The race behind a flaky cancel-on-Wednesday run: a heartbeat that read the days done before
    Tuesday was stored, and wrote after, dropped Tuesday from the job's progress.  Such a beat now
    writes nothing, and the job stays its own (it is not taken for lost); a beat that knows as many
    days writes as before."""
    import os

    from dispatch.jobs.child import DAYS_STORED, _Heartbeat

    tuesday = {"date": "2026-12-01"}
    with Session(engine) as s:
        s.add(m.PlanJob(id="week", date=MON, status=m.JobStatus.RUNNING, created_by="x", runner_pid=os.getpid(),
                        days=7, progress={"days": [{"date": "2026-11-30"}, tuesday], DAYS_STORED: 2}))
        s.commit()
    beat = _Heartbeat(engine, "week")
    beat.extra = {"days": [{"date": "2026-11-30"}], DAYS_STORED: 1}
    beat.progress(dataclasses.make_dataclass("P", ["solutions_found", "best_cost", "visits_placed", "visits_total",
                                                   "elapsed_s"])(1, 10, 3, 5, 0.5))
    beat._beat()
    with Session(engine) as s:
        job = s.get(m.PlanJob, "week")
        assert job.progress[DAYS_STORED] == 2 and job.progress["days"][1] == tuesday
    assert not beat.stop_requested.is_set() and beat.lost_reason is None

    beat.extra = {"days": [{"date": "2026-11-30"}, tuesday], DAYS_STORED: 2}
    beat._beat()
    with Session(engine) as s:
        job = s.get(m.PlanJob, "week")
        assert job.progress[DAYS_STORED] == 2 and job.progress["visits_placed"] == 3
