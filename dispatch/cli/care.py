"""``carepath decisions``, ``carepath care-plans``, ``carepath intake-rules``, ``carepath senior-absences``:
care decisions on the configured database through the same ``dispatch`` use cases as the API.

Writes are audited with the actor ``cli:<operating-system user>``; "now" for the intake rules is
``dispatch.clock.cli_clock``.  Mistakes end with every problem on its own line (``field:
message``, imports ``line N, field: message``) and exit code 2.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console

from dispatch import clock
from dispatch.catalog import care_plans
from dispatch.exchange import decision_import
from dispatch.catalog import entitlements
from dispatch.catalog import intake_rules
from dispatch.catalog import senior_absences
from dispatch.storage.care_models import BudgetPeriod, BudgetUnit
from dispatch.cli.catalog import _table, fail
from dispatch.cli.users import _actor, _session
from dispatch.errors import UserError
from dispatch.exchange.imports import MAX_FILE_BYTES, parse_time

decisions_app = typer.Typer(help="Decisions: a senior's budget of hours or rides of a service per period.",
                            no_args_is_help=True)
plans_app = typer.Typer(help="Care plans: regular visits line by line, expanded into visit requests.",
                        no_args_is_help=True)
rules_app = typer.Typer(help="Intake rules per service: quotas, lead time, service hours, cancellation.",
                        no_args_is_help=True)
absences_app = typer.Typer(help="Seniors' absences (hospital, holiday): no care-plan visits then.",
                           no_args_is_help=True)

out = Console()


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise typer.BadParameter(f"{text!r} is not a date (YYYY-MM-DD)") from None


DateArg = Annotated[str, typer.Option(help="YYYY-MM-DD")]


# --------------------------------------------------------------------------- decisions


@decisions_app.command("add")
def decisions_add(
    senior_id: Annotated[str, typer.Argument(help="Senior id.")],
    service: Annotated[str, typer.Argument(help="Service code, e.g. home_care.")],
    reference: Annotated[str, typer.Option(help="Reference number, e.g. MOPR-OP.8221.123.2026.")],
    amount: Annotated[float, typer.Option(help="Hours or rides per period.")],
    unit: Annotated[BudgetUnit, typer.Option(help="hours | rides")],
    period: Annotated[BudgetPeriod, typer.Option(help="day | week | month | year")],
    valid_from: Annotated[str, typer.Option("--from", help="First valid day, YYYY-MM-DD.")],
    valid_to: Annotated[str, typer.Option("--to", help="Last valid day, YYYY-MM-DD.")],
    note: Annotated[str, typer.Option(help="Free text.")] = "",
) -> None:
    """Enter a decision."""
    data = {"senior_id": senior_id, "service": service, "reference": reference, "amount": amount, "unit": unit,
            "period": period, "valid_from": _date(valid_from), "valid_to": _date(valid_to), "note": note}
    try:
        with _session() as session:
            row = entitlements.create_decision(session, _actor(), data)
            summary = (f"added decision {row.id} ({row.reference}): {row.amount:g} {row.unit.value} per "
                       f"{row.period.value} of {row.service} for {row.senior_id}, {row.valid_from} to {row.valid_to}")
    except UserError as exc:
        raise fail(exc) from None
    out.print(summary, highlight=False)


@decisions_app.command("list")
def decisions_list(senior_id: Annotated[Optional[str], typer.Option("--senior", help="Senior id.")] = None) -> None:
    """List decisions."""
    try:
        with _session() as session:
            rows = [(d.id, d.senior_id, d.service, d.reference, f"{d.amount:g} {d.unit.value}/{d.period.value}",
                     f"{d.valid_from} - {d.valid_to}")
                    for d in session.scalars(entitlements.decision_query(senior_id).order_by(entitlements.Decision.id)).all()]
    except UserError as exc:
        raise fail(exc) from None
    out.print(_table(("id", "senior", "service", "reference", "budget", "valid"), rows))


@decisions_app.command("import")
def decisions_import(
    file: Annotated[Path, typer.Argument(help="A .csv (';', UTF-8) or .xlsx file.")],
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Check every row, write nothing.")] = False,
) -> None:
    """Import decisions from a spreadsheet: all rows or none."""
    try:
        content = file.read_bytes()[:MAX_FILE_BYTES + 1]
    except OSError as exc:
        raise fail(UserError(f"cannot read {file}: {exc.strerror or exc}")) from None
    try:
        with _session() as session:
            result = decision_import.import_decisions(session, _actor(), content, file.name, dry_run=dry_run)
            if dry_run:
                session.rollback()
    except UserError as exc:
        raise fail(exc) from None
    verb = "would import" if dry_run else "imported"
    out.print(f"{verb} {len(result.ids)} decisions from {result.rows} row(s) of {file.name}", highlight=False)


# --------------------------------------------------------------------------- care plans


@plans_app.command("add")
def plans_add(
    senior_id: Annotated[str, typer.Argument(help="Senior id.")],
    service: Annotated[str, typer.Argument(help="Service code, e.g. home_care.")],
    line: Annotated[list[str], typer.Option("--line", help="'Mon-Fri 07:30-09:00 hygiene 60 min' (repeat).")],
    valid_from: Annotated[str, typer.Option("--from", help="First day, YYYY-MM-DD.")],
    valid_to: Annotated[str, typer.Option("--to", help="Last day, YYYY-MM-DD.")],
    skip_public_holidays: Annotated[bool, typer.Option("--skip-public-holidays", help="No visits on holidays.")] = False,
    note: Annotated[str, typer.Option(help="Free text.")] = "",
) -> None:
    """Enter a care plan."""
    try:
        lines = [care_plans.parse_line(text) for text in line]
    except ValueError as exc:
        raise fail(UserError(f"--line: {exc}")) from None
    data = {"senior_id": senior_id, "service": service, "valid_from": _date(valid_from), "valid_to": _date(valid_to),
            "skip_public_holidays": skip_public_holidays, "note": note, "lines": lines}
    try:
        with _session() as session:
            plan = care_plans.create_plan(session, _actor(), data)
            shown = "; ".join(care_plans.line_text(x) for x in plan.lines)
            summary = f"added care plan {plan.id} for {plan.senior_id} ({plan.service}): {shown}"
    except UserError as exc:
        raise fail(exc) from None
    out.print(summary, highlight=False)


@plans_app.command("expand")
def plans_expand(
    plan_id: Annotated[str, typer.Argument(help="Care plan id.")],
    start: Annotated[str, typer.Option("--from", help="First date, YYYY-MM-DD.")],
    end: Annotated[str, typer.Option("--to", help="Last date, YYYY-MM-DD.")],
    override_reason: Annotated[Optional[str], typer.Option(help="Accept intake-rule violations (audited).")] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Check and report, create nothing.")] = False,
) -> None:
    """Create the plan's visit requests for a date range (idempotent)."""
    try:
        with _session() as session:
            result = care_plans.expand(session, _actor(), plan_id, _date(start), _date(end), now=clock.cli_clock(),
                                       override_reason=override_reason, dry_run=dry_run)
            if dry_run:
                session.rollback()
    except UserError as exc:
        raise fail(exc) from None
    skipped = ", ".join(f"{len(v)} {k}" for k, v in result.skipped.items())
    verb = "would create" if dry_run else "created"
    out.print(f"{verb} {len(result.created)} visit request(s) for {plan_id}, {result.start} to {result.end}; "
              f"{result.already} already expanded" + (f"; skipped: {skipped}" if skipped else ""), highlight=False)


# --------------------------------------------------------------------------- intake rules


@rules_app.command("show")
def rules_show() -> None:
    """The intake rules of every service that has some."""
    from sqlalchemy import select

    from dispatch.storage.care_models import IntakeRule

    try:
        with _session() as session:
            rows = [(r.service, r.month_quota, r.year_quota, r.lead_working_days,
                     ",".join(intake_rules.WEEKDAY_NAMES[d] for d in r.service_days or []),
                     f"{r.service_from:%H:%M}-{r.service_to:%H:%M}" if r.service_from and r.service_to else "",
                     r.cancel_working_days, "yes" if r.no_past else "no")
                    for r in session.scalars(select(IntakeRule).order_by(IntakeRule.service)).all()]
    except UserError as exc:
        raise fail(exc) from None
    out.print(_table(("service", "month", "year", "lead (working days)", "days", "hours", "cancel (working days)",
                      "no past"), rows))


@rules_app.command("set")
def rules_set(
    service: Annotated[str, typer.Argument(help="Service code.")],
    month_quota: Annotated[Optional[int], typer.Option(help="Days with a booking per senior per month.")] = None,
    year_quota: Annotated[Optional[int], typer.Option(help="... per year.")] = None,
    lead_working_days: Annotated[Optional[int], typer.Option(help="Book at least N working days ahead.")] = None,
    days: Annotated[Optional[str], typer.Option(help="Weekdays the service runs, e.g. Mon-Fri.")] = None,
    hours: Annotated[Optional[str], typer.Option(help="Service hours, e.g. 06:00-20:00.")] = None,
    cancel_working_days: Annotated[Optional[int], typer.Option(help="Cancel at least N working days before.")] = None,
    allow_past: Annotated[bool, typer.Option("--allow-past", help="Accept dates before today.")] = False,
) -> None:
    """Replace a service's intake rules (options left out: no limit)."""
    data: dict[str, object] = {"month_quota": month_quota, "year_quota": year_quota,
                               "lead_working_days": lead_working_days, "cancel_working_days": cancel_working_days,
                               "no_past": not allow_past}
    try:
        if days:
            data["service_days"] = care_plans.parse_days(days)
        if hours:
            lo, _, hi = hours.partition("-")
            data["service_from"], data["service_to"] = parse_time(lo.strip()), parse_time(hi.strip())
    except ValueError as exc:
        raise fail(UserError(str(exc))) from None
    try:
        with _session() as session:
            intake_rules.set_rule(session, _actor(), service, data)
    except UserError as exc:
        raise fail(exc) from None
    out.print(f"intake rules of {service} set", highlight=False)


# --------------------------------------------------------------------------- seniors' absences


@absences_app.command("add")
def absences_add(
    senior_id: Annotated[str, typer.Argument(help="Senior id.")],
    start: Annotated[str, typer.Option("--from", help="First day away, YYYY-MM-DD.")],
    end: Annotated[str, typer.Option("--to", help="Last day away, YYYY-MM-DD.")],
    reason: Annotated[str, typer.Option(help="E.g. hospital.")] = "",
) -> None:
    """Record that a senior is away (no care-plan visits then)."""
    try:
        with _session() as session:
            row = senior_absences.create_absence(session, _actor(), senior_id,
                                                 {"from_date": _date(start), "to_date": _date(end), "reason": reason})
            summary = f"added absence {row.id} of {senior_id}: {row.from_date} to {row.to_date}"
    except UserError as exc:
        raise fail(exc) from None
    out.print(summary, highlight=False)
