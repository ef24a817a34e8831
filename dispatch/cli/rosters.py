"""``carepath rosters plan|publish``: a day planned and published from the command line.

Why: a centre starting from nothing should get to a published roster with commands alone
(README "Starting a centre from nothing"), and an operator on the server needs the same
steps without an HTTP client.  Both call the services the API calls: ``rosters.plan_day``
(checked by the independent checker, stored as a new draft version) and
``publish.publish_latest`` (the latest draft, its unplaced mandatory visits acknowledged by
request id exactly as ``POST /rosters/{date}/publish`` needs them).  Audited as ``cli:<user>``.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Annotated, Optional

import typer
from rich.console import Console

from dispatch.cli.users import _actor, _fail, _session
from dispatch.errors import UserError

if TYPE_CHECKING:
    from dispatch.settings import Settings
    from optimizer import SolveParams, Weights

rosters_app = typer.Typer(help="Plan and publish a day's roster.", no_args_is_help=True)
out = Console()


def _weights_and_params(settings: Settings, time_limit: float | None) -> tuple[Weights, SolveParams]:
    """The objective's weights and the solver's parameters from the settings' weights file (one message
    naming the file when it cannot be read), for every command that plans."""
    from optimizer import load_params, load_weights

    try:
        return load_weights(settings.weights_file), load_params(settings.weights_file, time_limit_s=time_limit)
    except (OSError, ValueError, TypeError) as exc:
        raise _fail(f"weights file {settings.weights_file}: {exc}") from None


def _day(value: str) -> dt.date:
    from dispatch.limits import date_problem

    try:
        day = dt.date.fromisoformat(value)
    except ValueError:
        raise _fail(f"DATE: '{value}' is not a date in the form YYYY-MM-DD") from None
    if (problem := date_problem(day)) is not None:
        raise _fail(f"DATE: {problem}")
    return day


@rosters_app.command("plan")
def plan(
    date: Annotated[str, typer.Argument(help="The day, YYYY-MM-DD (local).")],
    time_limit: Annotated[float, typer.Option(min=0.1, max=3600, help="Search time in seconds.")] = 10.0,
) -> None:
    """Plan DATE (city-wide) and store it as a new draft version; prints the summary, unplaced mandatory first."""
    from dispatch.storage.db import make_engine
    from dispatch.cli.summary import print_summary
    from dispatch.planning.rosters import InfeasiblePlan, plan_day
    from dispatch.settings import get_settings
    from dispatch.providers.travel import provider_from_settings

    day = _day(date)
    settings = get_settings()
    weights, params = _weights_and_params(settings, time_limit)
    engine = make_engine()
    try:
        with out.status(f"planning {day.isoformat()} ..."):
            planned = plan_day(engine, day, provider_from_settings(settings), params, settings.timezone, weights)
    except InfeasiblePlan as exc:
        raise _fail(f"the solver's plan failed the independent checker (a bug; nothing stored): {exc}") from None
    except UserError as exc:
        raise _fail(str(exc)) from None
    finally:
        engine.dispose()
    print_summary(out, planned)
    out.print(f"Stored as draft version {planned.roster.version}; publish it with "
              f"[bold]carepath rosters publish {day.isoformat()}[/].", highlight=False)


@rosters_app.command("publish")
def publish(
    date: Annotated[str, typer.Argument(help="The day, YYYY-MM-DD (local).")],
    acknowledge: Annotated[Optional[list[str]], typer.Option(
        "--acknowledge", help="A request id of an unplaced mandatory visit you publish without (repeat for each).",
    )] = None,
) -> None:
    """Publish the latest draft of DATE; unplaced mandatory visits must each be acknowledged by request id."""
    from dispatch.planning import publish as pub

    day = _day(date)
    try:
        with _session() as session:
            latest = pub.latest_roster(session, day)
            if latest is None:
                raise UserError(f"no roster for {day.isoformat()}: plan it first (carepath rosters plan {day})")
            try:
                roster = pub.publish_latest(session, day, pub.etag(latest), _actor(), None, acknowledge or [])
            except pub.UnacknowledgedMandatory as exc:  # worded here, while its rows are still loaded
                lines = [f"  {u.visit_request_id}: {u.message_en}" for u in exc.unplaced]
                hint = " ".join(f"--acknowledge {rid}" for rid in pub.mandatory_request_ids(exc.unplaced))
                raise UserError(f"{exc}.\nUnplaced mandatory visits of version {latest.version}:\n" + "\n".join(lines)
                                + f"\nPublish without them only knowingly: carepath rosters publish {day} {hint}") \
                    from None
            version = roster.version
    except (pub.PublishConflict, pub.PreconditionFailed) as exc:
        raise _fail(f"not published: {exc}") from None
    except UserError as exc:
        raise _fail(str(exc)) from None
    out.print(f"Published version {version} of {day.isoformat()}.")


@rosters_app.command("replan")
def replan(
    date: Annotated[str, typer.Argument(help="The day, YYYY-MM-DD (local); it must have a published roster.")],
    from_: Annotated[Optional[str], typer.Option(
        "--from", help="Re-plan from this local time HH:MM; work starting before it is kept (default: now).")] = None,
    unavailable: Annotated[Optional[list[str]], typer.Option(
        "--unavailable", help="worker:ID@HH:MM[-HH:MM] or car:ID@HH:MM[-HH:MM]: out from (until) then; repeat.",
    )] = None,
    reason: Annotated[Optional[str], typer.Option(help="Why (kept in the audit log).")] = None,
    time_limit: Annotated[float, typer.Option(min=0.1, max=3600, help="Search time in seconds.")] = 5.0,
) -> None:
    """Re-plan the published roster of DATE with as few changes as possible; stores a new draft.

    Run on the server by its operator, who acts as an admin: a day whose end has passed is
    re-planned too, and that override is audited with --reason.
    """
    from dispatch import clock
    from dispatch.planning import replan as rp
    from dispatch.storage.db import make_engine
    from dispatch.storage.models import UserRole
    from dispatch.planning.rosters import InfeasiblePlan
    from dispatch.settings import get_settings
    from dispatch.providers.travel import provider_from_settings

    day = _day(date)
    settings = get_settings()
    now = clock.cli_clock()
    try:
        start = rp.parse_clock(from_, "--from") if from_ is not None else None
        if start is None:
            start = rp.default_from_time(now, day, settings.timezone)
        spec = rp.ReplanSpec(start, tuple(rp.parse_unavailable(u, i) for i, u in enumerate(unavailable or [])),
                             reason)
    except rp.ReplanInputError as exc:
        raise _fail(f"--unavailable {str(exc)}" if exc.field.startswith("unavailable") else str(exc)) from None
    weights, params = _weights_and_params(settings, time_limit)
    engine = make_engine()
    try:
        with out.status(f"re-planning {day.isoformat()} from {start:%H:%M} ..."):
            roster, counts, solution = rp.replan_and_store(
                engine, day, spec, provider_from_settings(settings), params, settings.timezone, weights,
                now=now, actor=_actor(), role=UserRole.ADMIN)
    except InfeasiblePlan as exc:
        raise _fail(f"the solver's plan failed the independent checker (a bug; nothing stored): {exc}") from None
    except UserError as exc:
        raise _fail(str(exc)) from None
    finally:
        engine.dispose()
    k = solution.kpis
    out.print(f"Re-planned {day.isoformat()} from {start:%H:%M}: of {counts.before} published stops "
              f"{counts.kept} kept, {counts.moved_in_time} moved in time, {counts.moved_worker} to another worker, "
              f"{counts.removed} removed; {counts.added} added"
              + (f"; {k.visits_placed} of {k.visits_total} visits placed" if k else "") + ".", highlight=False)
    out.print(f"Stored as draft version {roster.version}; publish it with "
              f"[bold]carepath rosters publish {day.isoformat()}[/].", highlight=False)


def _monday(value: str) -> dt.date:
    from dispatch.planning.week_plan import monday_problem

    day = _day(value)
    if (problem := monday_problem(day)) is not None:
        raise _fail(f"MONDAY: {problem}")
    return day


def _print_week(monday: dt.date) -> None:
    """The week's report (``dispatch.planning.week_report``) over the latest version of each day."""
    from dispatch.planning.week_report import week_report
    from dispatch.settings import get_settings

    with _session() as session:
        report = week_report(session, monday, get_settings().timezone)
    for d in report.days:
        out.print(f"  {d.date:%a %Y-%m-%d}: " + (f"version {d.version} ({d.status}), {d.visits_placed} of "
                                                 f"{d.visits_total} visits placed" if d.version else "not planned"),
                  highlight=False)
    share = "n/a" if report.regular_share is None else f"{report.regular_share:.0%}"
    mean = "n/a" if report.distinct_workers_mean is None else f"{report.distinct_workers_mean:.2f}"
    out.print(f"Week of {monday.isoformat()}: {report.visits_placed} of {report.visits_total} visits placed; "
              f"{len(report.seniors)} seniors, {mean} different workers each on average (at most "
              f"{report.distinct_workers_max or 0}); {share} of visits by their regular workers; "
              f"{len(report.rest_breaches)} rest breaches.", highlight=False)
    for b in report.rest_breaches:
        out.print(f"  [red]{b.rule}[/] {b.worker_id}: {b.rest_hours} h of rest where {b.required_hours} h are due "
                  f"({', '.join(x.isoformat() for x in b.days)})", highlight=False)


@rosters_app.command("plan-week")
def plan_week(
    monday: Annotated[str, typer.Argument(help="The week's Monday, YYYY-MM-DD (local).")],
    time_limit: Annotated[float, typer.Option(min=0.1, max=3600, help="Search time in seconds, per day.")] = 10.0,
) -> None:
    """Plan MONDAY to Sunday (city-wide) in order, each day a new draft seeing the days before it; prints the week.

    Continuity of care: each day prefers, for a senior none of whose regular workers can come, the
    workers who served her earlier in the week.  Each day is then published on its own
    (``carepath rosters publish DATE``).
    """
    from dispatch.storage.db import make_engine
    from dispatch.planning.rosters import InfeasiblePlan
    from dispatch.planning.week_plan import plan_week as plan
    from dispatch.settings import get_settings
    from dispatch.providers.travel import provider_from_settings

    first = _monday(monday)
    settings = get_settings()
    weights, params = _weights_and_params(settings, time_limit)
    engine = make_engine()
    try:
        with out.status(f"planning the week of {first.isoformat()} ...") as status:
            plan(engine, first, provider_from_settings(settings), params, settings.timezone, weights,
                 on_day=lambda p: status.update(f"planning {p.day:%a %Y-%m-%d} ({p.index + 1} of 7) ..."))
    except InfeasiblePlan as exc:
        raise _fail(f"the solver's plan failed the independent checker (a bug; that day not stored): {exc}") from None
    except UserError as exc:
        raise _fail(str(exc)) from None
    finally:
        engine.dispose()
    _print_week(first)
    out.print("Stored as new draft versions; review and publish each day with "
              "[bold]carepath rosters publish DATE[/].", highlight=False)


@rosters_app.command("week")
def week(monday: Annotated[str, typer.Argument(help="The week's Monday, YYYY-MM-DD (local).")]) -> None:
    """The week from MONDAY as a week: visits placed, continuity of care, rest breaches (latest version of each day)."""
    _print_week(_monday(monday))
