"""What changed between two versions of a day's roster: the one diff of stops.

A *stop* is one worker's part of one visit occurrence: (visit request, date, leg) on a
worker, with its start and end.  A two-person visit is two stops with the same key; a taxi
request is one stop per leg.  Comparing two versions sorts every stop into one of:

* **kept**: the same worker does it at the same start and end;
* **moved in time**: the same worker, another start or end;
* **moved to another worker**: one worker had it, another has it now (shown under both:
  ``moved_out`` for the first, ``moved_in`` for the second);
* **added** / **removed**: in the new version only / in the old version only.

Workers who must be told are those with anything but kept stops, or whose breaks moved.

:func:`diff_stops` is pure and is the one comparison: the roster diff endpoint and CLI
(:func:`roster_diff`), the calendar feed's ``SEQUENCE`` (an event's sequence is the version
since which :func:`diff_stops` keeps finding it unchanged, ``dispatch.planning.schedule_changes``) and
the schedule JSON's "changed since you last looked" all call it.  Keys are opaque, so a
worker's calendar can compare its events by ``UID`` with the same function.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlmodel import Session, col

from dispatch.storage import models as m
from dispatch.planning import publish


@dataclass(frozen=True)
class DiffStop:
    """A stop as the diff sees it: what it is (``key``), who does it, when."""

    key: Hashable
    worker_id: str
    start: dt.datetime
    end: dt.datetime


@dataclass(frozen=True)
class StopDiff:
    """Every stop of two versions, sorted (see the module docstring); pairs are (old, new)."""

    kept: list[tuple[DiffStop, DiffStop]] = field(default_factory=list)
    moved_in_time: list[tuple[DiffStop, DiffStop]] = field(default_factory=list)
    reassigned: list[tuple[DiffStop, DiffStop]] = field(default_factory=list)
    added: list[DiffStop] = field(default_factory=list)
    removed: list[DiffStop] = field(default_factory=list)

    def unchanged_keys(self) -> set[tuple[Hashable, str]]:
        """(key, worker) of the kept stops."""
        return {(new.key, new.worker_id) for _, new in self.kept}


def diff_stops(old: Iterable[DiffStop], new: Iterable[DiffStop]) -> StopDiff:
    """Sort the stops of two versions into kept, moved in time, moved to another worker, added, removed.

    Stops are matched by key; within a key (a two-person visit has two stops) the same worker
    is matched first, the rest pair up in worker order as moves from one worker to another.
    """
    olds: dict[Hashable, list[DiffStop]] = {}
    news: dict[Hashable, list[DiffStop]] = {}
    for s in old:
        olds.setdefault(s.key, []).append(s)
    for s in new:
        news.setdefault(s.key, []).append(s)
    out = StopDiff()
    for key in list(olds) + [k for k in news if k not in olds]:
        before = sorted(olds.get(key, []), key=lambda s: s.worker_id)
        after = sorted(news.get(key, []), key=lambda s: s.worker_id)
        rest_after = []
        for n in after:
            same = next((o for o in before if o.worker_id == n.worker_id), None)
            if same is None:
                rest_after.append(n)
                continue
            before.remove(same)
            if (same.start, same.end) == (n.start, n.end):
                out.kept.append((same, n))
            else:
                out.moved_in_time.append((same, n))
        for o, n in zip(before, rest_after):
            out.reassigned.append((o, n))
        out.removed.extend(before[len(rest_after):])
        out.added.extend(rest_after[len(before):])
    return out


# --------------------------------------------------------------------------- two stored versions


@dataclass(frozen=True)
class StopChange:
    """One changed stop in a worker's part of a diff, local times (old and/or new)."""

    visit_request_id: str
    occurrence_date: dt.date
    leg: str
    old_start: dt.datetime | None = None
    old_end: dt.datetime | None = None
    new_start: dt.datetime | None = None
    new_end: dt.datetime | None = None
    other_worker_id: str | None = None
    """For a move to or from another worker: the other worker."""


@dataclass
class WorkerDiff:
    """One worker's part of a diff."""

    worker_id: str
    worker_name: str = ""
    kept: int = 0
    moved_in_time: list[StopChange] = field(default_factory=list)
    moved_in: list[StopChange] = field(default_factory=list)
    moved_out: list[StopChange] = field(default_factory=list)
    added: list[StopChange] = field(default_factory=list)
    removed: list[StopChange] = field(default_factory=list)
    breaks_changed: bool = False

    @property
    def must_be_told(self) -> bool:
        return bool(self.moved_in_time or self.moved_in or self.moved_out or self.added or self.removed
                    or self.breaks_changed)


@dataclass(frozen=True)
class RosterDiff:
    """Two versions of a day compared, per worker; ``from_version`` None: nothing before (all added)."""

    date: dt.date
    area: str | None
    from_version: int | None
    to_version: int
    workers: list[WorkerDiff]

    @property
    def must_tell(self) -> list[str]:
        """Workers whose day changed, by id."""
        return [w.worker_id for w in self.workers if w.must_be_told]

    def counts(self) -> dict[str, int]:
        """Stops per category over all workers (a move to another worker counted once)."""
        return {
            "kept": sum(w.kept for w in self.workers),
            "moved_in_time": sum(len(w.moved_in_time) for w in self.workers),
            "moved_to_another_worker": sum(len(w.moved_in) for w in self.workers),
            "added": sum(len(w.added) for w in self.workers),
            "removed": sum(len(w.removed) for w in self.workers),
        }


class VersionNotFound(LookupError):
    """A version asked for does not exist (or there is no roster at all)."""


def roster_stops(session: Session, roster: m.Roster) -> list[DiffStop]:
    """The stops of a stored version, keyed (request, occurrence date, leg)."""
    rows = session.scalars(select(m.RosterAssignment).where(col(m.RosterAssignment.roster_id) == roster.id)).all()
    return [DiffStop((a.visit_request_id, a.occurrence_date, a.leg or "visit"), a.worker_id, a.start, a.end)
            for a in rows]


def _breaks(session: Session, roster: m.Roster) -> dict[str, list[tuple[dt.datetime, dt.datetime]]]:
    out: dict[str, list[tuple[dt.datetime, dt.datetime]]] = {}
    for b in session.scalars(select(m.RosterBreak).where(col(m.RosterBreak.roster_id) == roster.id)
                             .order_by(col(m.RosterBreak.start))).all():
        out.setdefault(b.worker_id, []).append((b.start, b.end))
    return out


def _change(old: DiffStop | None, new: DiffStop | None, zone: ZoneInfo, other: str | None = None) -> StopChange:
    request_id, date, leg = (new or old).key  # type: ignore[union-attr,misc]
    return StopChange(
        request_id, date, leg,
        old.start.astimezone(zone) if old else None, old.end.astimezone(zone) if old else None,
        new.start.astimezone(zone) if new else None, new.end.astimezone(zone) if new else None, other,
    )


def compare_versions(session: Session, old: m.Roster | None, new: m.Roster, tz: str | ZoneInfo) -> RosterDiff:
    """:func:`diff_stops` of two stored versions, per worker, with breaks; ``old`` None: all added."""
    zone = tz if isinstance(tz, ZoneInfo) else ZoneInfo(tz)
    diff = diff_stops(roster_stops(session, old) if old else [], roster_stops(session, new))
    workers: dict[str, WorkerDiff] = {}

    def of(worker_id: str) -> WorkerDiff:
        return workers.setdefault(worker_id, WorkerDiff(worker_id))

    for _, n in diff.kept:
        of(n.worker_id).kept += 1
    for o, n in diff.moved_in_time:
        of(n.worker_id).moved_in_time.append(_change(o, n, zone))
    for o, n in diff.reassigned:
        of(o.worker_id).moved_out.append(_change(o, n, zone, n.worker_id))
        of(n.worker_id).moved_in.append(_change(o, n, zone, o.worker_id))
    for n in diff.added:
        of(n.worker_id).added.append(_change(None, n, zone))
    for o in diff.removed:
        of(o.worker_id).removed.append(_change(o, None, zone))
    old_breaks = _breaks(session, old) if old else {}
    new_breaks = _breaks(session, new)
    for wid in set(old_breaks) | set(new_breaks):
        if old_breaks.get(wid, []) != new_breaks.get(wid, []):
            of(wid).breaks_changed = True
    names = {w.id: f"{w.first_name} {w.last_name}" for w in session.scalars(
        select(m.Worker).where(col(m.Worker.id).in_(set(workers) or {""}))).all()}
    for w in workers.values():
        w.worker_name = names.get(w.worker_id, w.worker_id)
        for changes in (w.moved_in_time, w.moved_in, w.moved_out, w.added, w.removed):
            changes.sort(key=lambda c: (c.new_start or c.old_start, c.visit_request_id, c.leg))  # type: ignore[arg-type,return-value]
    return RosterDiff(new.date, new.area, old.version if old else None, new.version,
                      sorted(workers.values(), key=lambda w: w.worker_id))


def roster_diff(session: Session, day: dt.date, tz: str | ZoneInfo, from_version: int | None = None,
                to_version: int | None = None, area: str | None = None) -> RosterDiff:
    """The diff of two versions of ``day``: by default the published one against the latest
    (draft or published); with no published version, everything in the latest is added.

    Raises :class:`VersionNotFound` for a version that does not exist, or no roster at all.
    """
    if to_version is None:
        new = publish.latest_roster(session, day, area)
        if new is None:
            raise VersionNotFound(f"there is no roster for {day.isoformat()}" + (f" in area {area}" if area else ""))
    else:
        new = _version(session, day, to_version, area)
    old = publish.published_roster(session, day, area) if from_version is None else _version(
        session, day, from_version, area)
    return compare_versions(session, old, new, tz)


def _version(session: Session, day: dt.date, version: int, area: str | None) -> m.Roster:
    roster = publish.roster_version(session, day, version, area)
    if roster is None:
        raise VersionNotFound(f"there is no version {version} of the roster for {day.isoformat()}"
                              + (f" in area {area}" if area else ""))
    return roster


def changed_keys(diff: StopDiff) -> tuple[set[tuple[Hashable, str]], list[DiffStop]]:
    """For a worker's view: (key, worker) of stops that are new or changed in the new version,
    and the old stops the new version no longer has for that worker."""
    changed = {(n.key, n.worker_id) for _, n in diff.moved_in_time}
    changed |= {(n.key, n.worker_id) for n in diff.added}
    changed |= {(n.key, n.worker_id) for _, n in diff.reassigned}
    gone = list(diff.removed) + [o for o, _ in diff.reassigned]
    return changed, gone


__all__: Sequence[str] = [
    "DiffStop", "RosterDiff", "StopChange", "StopDiff", "VersionNotFound", "WorkerDiff", "changed_keys",
    "compare_versions", "diff_stops", "roster_diff", "roster_stops",
]
