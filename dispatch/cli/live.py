"""``carepath rosters diff`` and ``carepath recommend``: the live day's questions from the command line.

The same services as ``GET /rosters/{date}/diff`` (``dispatch.planning.roster_diff``) and
``POST /rosters/{date}/recommendations`` (``dispatch.planning.recommend``); nothing is written.
"""

from __future__ import annotations

from typing import Annotated, Optional

import typer
from rich.console import Console

from dispatch.cli.rosters import _day, rosters_app
from dispatch.cli.users import _fail, _session
from dispatch.errors import UserError

out = Console()


def _hm(value: object) -> str:
    return "-" if value is None else f"{value:%H:%M}"


@rosters_app.command("diff")
def diff(
    date: Annotated[str, typer.Argument(help="The day, YYYY-MM-DD (local).")],
    from_version: Annotated[Optional[int], typer.Option("--from", min=1, help="Old version (default: published).")]
    = None,
    to_version: Annotated[Optional[int], typer.Option("--to", min=1, help="New version (default: the latest).")]
    = None,
) -> None:
    """What changed between two versions of DATE, per worker, and who must be told."""
    from dispatch.planning.roster_diff import VersionNotFound, roster_diff
    from dispatch.settings import get_settings

    day = _day(date)
    try:
        with _session() as session:
            d = roster_diff(session, day, get_settings().timezone, from_version, to_version)
    except VersionNotFound as exc:
        raise _fail(str(exc)) from None
    old = "nothing" if d.from_version is None else f"version {d.from_version}"
    out.print(f"{day.isoformat()}: {old} -> version {d.to_version}; "
              + ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in d.counts().items()), highlight=False)
    for w in d.workers:
        if not w.must_be_told:
            continue
        out.print(f"[bold]{w.worker_id}[/] {w.worker_name}: kept {w.kept}"
                  + (", breaks moved" if w.breaks_changed else ""), highlight=False)
        for c in w.moved_in_time:
            out.print(f"  moved  {c.visit_request_id} ({c.leg}) {_hm(c.old_start)} -> {_hm(c.new_start)}", highlight=False)
        for c in w.moved_in:
            out.print(f"  from {c.other_worker_id}  {c.visit_request_id} ({c.leg}) {_hm(c.new_start)}", highlight=False)
        for c in w.moved_out:
            out.print(f"  to {c.other_worker_id}  {c.visit_request_id} ({c.leg}) {_hm(c.old_start)}", highlight=False)
        for c in w.added:
            out.print(f"  added  {c.visit_request_id} ({c.leg}) {_hm(c.new_start)}", highlight=False)
        for c in w.removed:
            out.print(f"  removed  {c.visit_request_id} ({c.leg}) {_hm(c.old_start)}", highlight=False)
    out.print("Tell: " + (", ".join(d.must_tell) or "nobody"), highlight=False)


def recommend(
    date: Annotated[str, typer.Argument(help="The day, YYYY-MM-DD (local).")],
    request: Annotated[str, typer.Option("--request", help="A stored visit request active that day.")],
    top: Annotated[int, typer.Option(min=1, max=20, help="How many options.")] = 5,
) -> None:
    """Who can take request ID on DATE, and when: the cheapest feasible options in the latest roster."""
    from dispatch.planning.recommend import recommend_for
    from dispatch.settings import get_settings

    day = _day(date)
    try:
        with _session() as session:
            view = recommend_for(session, day, get_settings(), request_id=request, top=top)
    except UserError as exc:
        raise _fail(str(exc)) from None
    against = "an empty plan" if view.roster_version is None else f"version {view.roster_version}"
    out.print(f"{request} on {day.isoformat()} (against {against}, {view.elapsed_s:.2f} s):", highlight=False)
    if not view.options:
        out.print("  no feasible option", highlight=False)
    for i, o in enumerate(view.options, 1):
        who = " + ".join(f"{w.worker_id} {w.worker_name}" for w in o.workers)
        gives = f"; displaces {o.displaces['visit_request_id']}" if o.displaces else ""
        out.print(f"  {i}. {who} {o.start:%H:%M}-{o.end:%H:%M}, cost {o.cost_increase:+d}{gives}", highlight=False)
    for r in view.others:
        out.print(f"  - {r.message_en}", highlight=False)
