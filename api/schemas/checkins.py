"""Bodies of the check-in endpoints (``POST /me/visits/{uid}/start`` and ``/finish``) and the
check-in state the roster view shows per visit.

``at`` is local time without an offset (``"08:05"`` on the visit's day, or ``"2026-12-01T08:05"``);
answers give local times with the offset, as every roster time.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, Field

from api.schemas.common import InputModel
from dispatch.planning.checkin import NOTE_MAX

AT_DOC = ("local time without an offset: HH:MM on the visit's day or YYYY-MM-DDTHH:MM (Europe/Warsaw); "
          "default: now. An offset or Z is refused (422)")


class CheckinStart(InputModel):
    """Optional body of ``POST /me/visits/{uid}/start``."""

    at: str | None = Field(default=None, max_length=40, description=AT_DOC)
    note: str | None = Field(default=None, max_length=NOTE_MAX)


class CheckinFinish(InputModel):
    """Optional body of ``POST /me/visits/{uid}/finish``."""

    at: str | None = Field(default=None, max_length=40, description=AT_DOC)
    outcome: Literal["delivered", "absent", "refused"] = Field(
        default="delivered", description="delivered; or not delivered: the senior was absent (nobody opened) "
                                         "or refused the visit. A visit never started can be finished only as "
                                         "not delivered")
    note: str | None = Field(default=None, max_length=NOTE_MAX)


class CheckinPublic(BaseModel):
    """A stop's check-in: when it started and finished (local, with offset) and how it went."""

    uid: str
    visit_request_id: str
    occurrence_date: dt.date
    leg: str
    status: Literal["started", "finished"]
    started_at: dt.datetime
    finished_at: dt.datetime | None
    outcome: str | None
    note: str


class CheckinState(BaseModel):
    """A planned stop's check-in state in the roster view, with the flags at the server's clock."""

    status: Literal["planned", "started", "finished"]
    started_at: dt.datetime | None = None
    finished_at: dt.datetime | None = None
    outcome: str | None = Field(default=None, description="delivered, absent or refused (when finished)")
    note: str = ""
    late: bool = Field(default=False, description="published, not started, 15 min or more after the planned "
                                                  "start and before the planned end")
    missed: bool = Field(default=False, description="published, not started, and the planned end has passed")
