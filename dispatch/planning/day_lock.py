"""A roster day whose end has passed is closed: only an admin may change it, and that is audited.

Re-planning, hand edits and publishing rewrite what workers were told to do.  Once the day is
over, its roster is the record of what was planned (and, with check-ins, of what happened), so a
dispatcher must not rewrite it by accident; an admin may correct it, and the audit log says who,
when and why.  Every service that changes a day's roster calls :func:`require_open_day` (one
rule, one place); the API maps :class:`DayClosed` to 409 problem+json.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from sqlmodel import Session

from dispatch.access import audit
from dispatch.errors import UserError
from dispatch.storage.models import UserRole
from dispatch.timeutil import day_origin


class DayClosed(UserError):
    """The day's end has passed and the actor is not an admin."""

    def __init__(self, day: dt.date, ended_at: dt.datetime, action: str) -> None:
        self.day = day
        self.ended_at = ended_at
        self.action = action
        super().__init__(
            f"{day.isoformat()} ended at {ended_at.isoformat(timespec='minutes')} (UTC); its roster is closed: "
            f"only an admin may {action} it"
        )


def day_end(day: dt.date, tz: ZoneInfo | str | None = None) -> dt.datetime:
    """The aware UTC instant the local day ends (the next local midnight; DST days are 23 or 25 h)."""
    return day_origin(day + dt.timedelta(days=1), tz)


def is_closed(day: dt.date, now: dt.datetime, tz: ZoneInfo | str | None = None) -> bool:
    """True once ``now`` (aware) is at or after the end of ``day`` in ``tz``."""
    return now >= day_end(day, tz)


def require_open_day(
    session: Session,
    day: dt.date,
    *,
    actor: str,
    role: UserRole,
    action: str,
    now: dt.datetime,
    tz: ZoneInfo | str | None = None,
    reason: str | None = None,
) -> bool:
    """Refuse to change a closed day unless ``role`` is admin; returns True when an admin overrides.

    ``action`` is a verb phrase for the message and the audit row (``"re-plan"``, ``"edit"``,
    ``"publish"``).  An admin's change of a closed day adds a ``roster.closed_day_override`` audit row
    (with ``reason``) to the caller's transaction, so it is committed with the change itself.
    """
    if not is_closed(day, now, tz):
        return False
    if role is not UserRole.ADMIN:
        raise DayClosed(day, day_end(day, tz), action)
    audit.record(
        session, actor, "roster.closed_day_override", "roster", day.isoformat(),
        {"action": {"old": None, "new": action}, "reason": {"old": None, "new": reason}},
    )
    return True
