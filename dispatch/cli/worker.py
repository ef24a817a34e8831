"""``carepath worker``: run planning jobs from the PostgreSQL queue (procrastinate).

With PostgreSQL the API only queues planning jobs; run at least one worker next to it::

    CAREPATH_DATABASE_URL=postgresql://... carepath worker

Each job is solved in a child process of the worker (a solve holds the GIL for its whole run),
so ``--concurrency N`` means up to N solves at once: keep it at or below the number of cores.
A large day is split into areas, and a job hands its areas to the queue: a free worker (here, or
on another machine pointed at the same database) solves an area of a running job before it starts
another job, so adding workers makes a large day's plan come back sooner (``dispatch.jobs.areas``).
With SQLite there is no queue (the API process starts the solves itself) and this command
refuses to run.

Stopping: Ctrl-C or SIGTERM (``systemctl stop``) lets the running jobs finish first (their solver
processes ignore the signal, so a stop sent to the whole service does not cut a solve short); a
second Ctrl-C aborts them (they are then marked failed, nothing stored).  A worker killed outright
(SIGKILL, out of memory, a lost host) takes its solver processes with it; the next worker to look
(another one, or this one restarted) finds its job through procrastinate's worker heartbeats
within ``CAREPATH_WORKER_STALLED_AFTER_S`` and runs it again, or fails it after two such deaths.
"""

from __future__ import annotations

from typing import Annotated, Optional

import typer
from rich.console import Console

err = Console(stderr=True)
out = Console()


def worker(
    concurrency: Annotated[int, typer.Option(min=1, max=64, help="Planning jobs run at the same time.")] = 1,
    once: Annotated[bool, typer.Option("--once", help="Run the jobs waiting now, then exit (for cron or tests).")]
    = False,
    url: Annotated[Optional[str], typer.Option("--url", help="Database URL (default: settings).")] = None,
) -> None:
    """Run planning jobs from the PostgreSQL queue (the API queues them; this solves them)."""
    from sqlalchemy.engine import make_url

    from dispatch import jobs
    from dispatch.storage.db import normalise_database_url
    from dispatch.settings import get_settings

    settings = get_settings()
    database_url = normalise_database_url(url or settings.database_url)
    if make_url(database_url).get_backend_name() != "postgresql":
        err.print("[bold red]error:[/] `carepath worker` needs PostgreSQL (CAREPATH_DATABASE_URL=postgresql://...); "
                  "with SQLite the API runs planning jobs itself", highlight=False)
        raise typer.Exit(2)
    safe = make_url(database_url).render_as_string(hide_password=True)
    out.print(f"carepath worker on {safe}: queue '{jobs.QUEUE_NAME}', concurrency {concurrency}"
              + (" (until the queue is empty)" if once else " (Ctrl-C to stop)"), highlight=False)
    try:
        jobs.work(database_url, settings, wait=not once, concurrency=concurrency)
    except KeyboardInterrupt:
        out.print("worker stopped")
    except Exception as exc:  # noqa: BLE001 - connection and schema problems are the operator's to fix
        err.print(f"[bold red]error:[/] worker failed: {exc}", highlight=False)
        raise typer.Exit(1) from None
