"""``carepath retention apply [--dry-run]``: delete the records past their retention period.

The periods are settings (``CAREPATH_RETENTION_<KIND>_DAYS``; ``dispatch.access.retention`` lists the
kinds).  Meant for a nightly timer; ``--dry-run`` counts what would go and changes nothing.
Wired into the main CLI with ``app.add_typer(retention_app, name="retention")``.
"""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table
from sqlalchemy.exc import SQLAlchemyError

from dispatch.cli.common import fail, out

retention_app = typer.Typer(help="Retention periods of stored records (RODO art. 5(1)(e)).", no_args_is_help=True)


@retention_app.command("apply")
def apply_command(
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Only count what would be deleted.")] = False,
) -> None:
    """Delete every record older than its kind's retention period (one transaction, audited)."""
    import dispatch.clock
    from dispatch.access import retention
    from dispatch.settings import get_settings
    from dispatch.storage.db import make_engine, session_scope

    settings = get_settings()
    engine = make_engine(settings.database_url, settings=settings)
    try:
        with session_scope(engine) as session:
            results = retention.apply(session, settings, dispatch.clock.cli_clock(), dry_run=dry_run)
            if dry_run:
                session.rollback()
    except SQLAlchemyError as exc:
        first = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        raise fail(f"database error ({first}); is the database set up? run 'carepath db upgrade'") from None
    finally:
        engine.dispose()
    table = Table("kind", "kept (days)", "would delete" if dry_run else "deleted")
    for r in results:
        table.add_row(r.name, str(r.days) if r.days else "for ever", str(r.rows))
    out.print(table)
    total = sum(r.rows for r in results)
    out.print(f"{'would delete' if dry_run else 'deleted'} {total} record(s)", highlight=False)
