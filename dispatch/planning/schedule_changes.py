"""What changed in a worker's published days: calendar sequences and "changed since you last looked".

Both come from comparing a worker's items (visits, breaks) between published versions of a
day with the one diff, ``dispatch.planning.roster_diff.diff_stops``, keyed by the items' stable ``uid``.

* **Calendar SEQUENCE** (RFC 5545 3.8.7.4: it goes up when the event changes, and only then):
  an event's sequence is the first published version from which it has stayed unchanged up
  to the current one; an event a re-publish did not touch keeps its sequence, a changed one
  gets the current version (higher than any before), a cancelled one the version that
  dropped it.
* **Schedule JSON**: the published version of each day the worker was last shown
  (``models.ScheduleRead``) is compared with the current one: each item is ``new`` or
  ``changed`` (or unchanged), and the items no longer theirs are listed as removed.  The
  versions shown are then remembered; only a fetch that sees a new version writes.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from sqlalchemy import bindparam, select
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col

from dispatch.storage import models as m
from dispatch.planning.roster_diff import DiffStop, changed_keys, diff_stops
from dispatch.planning.schedule import (Fetch, Item, RosterRef, ScheduledBreak, ScheduledVisit, _breaks, _rosters,
                                       _visits, published_rosters)

EVER_PUBLISHED = (m.RosterStatus.PUBLISHED, m.RosterStatus.SUPERSEDED)
"""Superseded versions were published once; drafts never were."""

_READS = (
    select(m.ScheduleRead.date, m.ScheduleRead.area, m.ScheduleRead.roster_version)  # type: ignore[call-overload]
    .where(col(m.ScheduleRead.worker_id) == bindparam("worker_id"), col(m.ScheduleRead.date) >= bindparam("start"),
           col(m.ScheduleRead.date) <= bindparam("end"))
)
"""The versions a worker was last shown, per day and area (built once: phones poll)."""

NEW = "new"
CHANGED = "changed"


def _stops(items: Sequence[Item]) -> list[DiffStop]:
    return [DiffStop(i.uid, "", i.start, i.end) for i in items]


def _by_version(session: Session, worker_id: str, rosters: list[RosterRef], zone: ZoneInfo,
                fetch: Fetch[Item]) -> dict[int, list[Item]]:
    """The worker's items per roster id (every roster present, empty if none)."""
    out: dict[int, list[Item]] = {r.id or 0: [] for r in rosters}
    for roster, item in fetch(session, worker_id, rosters, zone):
        out[roster.id or 0].append(item)
    return out


def _chains(rosters: list[RosterRef]) -> dict[tuple[dt.date, str | None], list[RosterRef]]:
    chains: dict[tuple[dt.date, str | None], list[RosterRef]] = {}
    for r in sorted(rosters, key=lambda r: r.version):
        chains.setdefault((r.date, r.area), []).append(r)
    return chains


def _sequences_of(session: Session, worker_id: str, start: dt.date, end: dt.date, zone: ZoneInfo,
                  fetch: Fetch[Item]) -> dict[str, int]:
    rosters = _rosters(session, start, end, EVER_PUBLISHED)
    items = _by_version(session, worker_id, rosters, zone, fetch)
    out: dict[str, int] = {}
    for chain in _chains(rosters).values():
        seq: dict[str, int] = {}
        previous: list[Item] = []
        for roster in chain:
            current = items[roster.id or 0]
            unchanged = {key for key, _ in diff_stops(_stops(previous), _stops(current)).unchanged_keys()}
            before, now = {i.uid for i in previous}, {i.uid for i in current}
            following = {i.uid: (seq[i.uid] if i.uid in unchanged and i.uid in seq else roster.version)
                         for i in current}
            for uid, s in seq.items():  # not in this version: cancelled by it, or already before
                if uid not in now:
                    following[uid] = roster.version if uid in before else s
            seq, previous = following, current
        out.update(seq)
    return out


def event_sequences(session: Session, worker_id: str, start: dt.date, end: dt.date,
                    tz: str | ZoneInfo) -> dict[str, int]:
    """uid -> calendar SEQUENCE for the worker's visits and breaks on ``start``..``end`` (module docstring)."""
    zone = tz if isinstance(tz, ZoneInfo) else ZoneInfo(tz)
    return {**_sequences_of(session, worker_id, start, end, zone, _visits),
            **_sequences_of(session, worker_id, start, end, zone, _breaks)}


@dataclass
class Changes:
    """What changed in a worker's days since they last fetched their schedule."""

    marks: dict[str, str] = field(default_factory=dict)
    """uid -> ``new`` | ``changed`` (unchanged items are not listed)."""
    removed: list[ScheduledVisit] = field(default_factory=list)
    removed_breaks: list[ScheduledBreak] = field(default_factory=list)
    since: list[tuple[dt.date, str | None, int | None, int]] = field(default_factory=list)
    """(day, area, version last shown or None, version shown now) per published day."""


def since_last_fetch(session: Session, worker_id: str, start: dt.date, end: dt.date,
                     tz: str | ZoneInfo, published: list[RosterRef] | None = None) -> Changes:
    """Marks and removals against the versions the worker was last shown (module docstring);
    :func:`remember` then records the versions shown now.  ``published``: the day's published
    versions if the caller has read them already (:func:`schedule.published_rosters`)."""
    zone = tz if isinstance(tz, ZoneInfo) else ZoneInfo(tz)
    current = published if published is not None else published_rosters(session, start, end)
    reads = {(day, area): version for day, area, version in session.execute(_READS, {
        "worker_id": worker_id, "start": start, "end": end}).all()}
    out = Changes()
    stale: list[tuple[RosterRef, int]] = []
    for roster in current:
        seen = reads.get((roster.date, roster.area or ""))
        out.since.append((roster.date, roster.area, seen, roster.version))
        if seen is not None and seen != roster.version:
            stale.append((roster, seen))
    older: list[tuple[RosterRef, RosterRef]] = []
    if stale:  # only after a re-publish: the versions shown last time, read once
        ever = {(r.date, r.area, r.version): r for r in _rosters(session, start, end, EVER_PUBLISHED)}
        for roster, seen in stale:
            old = ever.get((roster.date, roster.area, seen))
            if old is not None:
                older.append((old, roster))
    if older:
        for fetch, removed in ((_visits, out.removed), (_breaks, out.removed_breaks)):
            items = _by_version(session, worker_id, [r for pair in older for r in pair], zone, fetch)
            for old, new in older:
                before = {i.uid: i for i in items[old.id or 0]}
                changed, gone = changed_keys(diff_stops(_stops(items[old.id or 0]), _stops(items[new.id or 0])))
                for uid, _ in changed:
                    out.marks[str(uid)] = CHANGED if uid in before else NEW
                removed.extend(before[str(s.key)] for s in gone if str(s.key) in before)  # type: ignore[arg-type]
    return out


def remember(session: Session, worker_id: str, changes: Changes) -> bool:
    """Record the versions shown now where they differ from the ones shown before; True if anything
    was written (the caller commits).  A simultaneous fetch that stored the same row first wins."""
    wrote = False
    for day, area, seen, version in changes.since:
        if seen == version:
            continue
        wrote = True
        row = session.scalars(select(m.ScheduleRead).where(
            col(m.ScheduleRead.worker_id) == worker_id, col(m.ScheduleRead.date) == day,
            col(m.ScheduleRead.area) == (area or ""))).first()
        if row is not None:
            row.roster_version, row.read_at = version, dt.datetime.now(dt.UTC)
            continue
        try:
            with session.begin_nested():
                session.add(m.ScheduleRead(worker_id=worker_id, date=day, area=area or "", roster_version=version))
        except IntegrityError:
            pass
    return wrote
