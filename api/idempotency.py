"""``Idempotency-Key`` on creating POSTs: a retried request is answered, not executed again.

The client sends any unique string (a UUID) in ``Idempotency-Key``.  Keys are per user.

* First use: the key is reserved (a row in ``idempotency_keys``) *in the request's transaction*
  before anything is created, and completed with the answer (status, body, ``Location``) at the
  end.  If the request fails, the transaction rolls back and takes the reservation with it, so a
  failed request can simply be retried with the same key.
* Same key, same request (method, path, query and body, compared by a SHA-256 of their
  canonical JSON): the stored answer is replayed byte for byte, with ``Idempotent-Replayed:
  true``; nothing is created again and nothing is audited.
* Same key, another request: 422 problem ``idempotency-key-reused``.
* Two requests with one key at the same moment, or a retry while the first is still running:
  on SQLite the second waits for the write lock (``BEGIN IMMEDIATE``, see ``dispatch.storage.db``) and then
  replays the first one's answer; on PostgreSQL it waits on the unique index and gets 409
  ``idempotency-key-in-use``, and retrying it then replays the first one's answer.  Never a 500:
  a wait longer than the busy timeout is a 503 with ``Retry-After`` (``api.problems``).

Without the header a POST is simply executed.  A key expires ``CAREPATH_IDEMPOTENCY_KEY_TTL_HOURS``
after its first use (24 h by default; measured with the app's clock): a request with an expired key
is executed as new (the old answer is deleted then), and ``carepath retention apply`` prunes old
keys (``retention_idempotency_keys_days``).  Usage in a route::

    def create(body: XCreate, idem: Idem, ...):
        if (replay := idem.begin(body.model_dump(mode="json", exclude_unset=True))) is not None:
            return replay
        ...
        return idem.finish(201, body_dict, location)
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from typing import Annotated, Any

from fastapi import Depends, Header, Request
from fastapi.responses import JSONResponse
from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from api.clock import now_utc
from api.deps import CurrentUser, current_user, get_session
from api.problems import ProblemError
from dispatch.storage.models import IdempotencyKey

MAX_KEY_LENGTH = 200
REPLAY_HEADER = "Idempotent-Replayed"
_PENDING = 0  # status_code of a reserved key whose request is still running


def fingerprint(method: str, path: str, query: str, payload: Any) -> str:
    """SHA-256 of the request as canonical JSON (key order and whitespace do not matter)."""
    doc = {"method": method.upper(), "path": path, "query": sorted(q for q in query.split("&") if q), "body": payload}
    return hashlib.sha256(json.dumps(doc, sort_keys=True, separators=(",", ":"), default=str).encode()).hexdigest()


class Idempotency:
    """The idempotency state of one request (inert when the client sent no key)."""

    def __init__(self, session: Session, username: str, key: str | None, method: str, path: str, query: str,
                 now: dt.datetime | None = None, ttl: dt.timedelta = dt.timedelta(hours=24)) -> None:
        self.session = session
        self.now = now or dt.datetime.now(dt.UTC)
        self.ttl = ttl
        self.username = username
        self.key = key
        self.method = method
        self.path = path
        self.query = query
        self.row: IdempotencyKey | None = None

    def begin(self, payload: Any) -> JSONResponse | None:
        """The stored answer to replay, or None after reserving the key (or when there is no key)."""
        if self.key is None:
            return None
        digest = fingerprint(self.method, self.path, self.query, payload)
        if (stored := self._stored()) is not None:
            if not self._expired(stored):
                return self._replay(stored, digest)
            self.session.execute(delete(IdempotencyKey).where(col(IdempotencyKey.id) == stored.id))
            self.session.expunge(stored)
        self.row = IdempotencyKey(
            username=self.username, key=self.key, method=self.method, path=self.path,
            request_hash=digest, status_code=_PENDING, response_body={}, created_at=self.now,
        )
        self.session.add(self.row)
        try:
            self.session.flush()
        except IntegrityError:
            # PostgreSQL: a request with this key committed while we waited on the unique index
            # (nothing else was done yet in this transaction).  Replay its answer if it is there.
            self.session.rollback()
            self.row = None
            if (stored := self._stored()) is not None:
                return self._replay(stored, digest)
            raise _in_use() from None
        return None

    def _expired(self, stored: IdempotencyKey) -> bool:
        """Past the key's lifetime: the key is free again (a pending reservation never expires here)."""
        return stored.status_code != _PENDING and stored.created_at + self.ttl <= self.now

    def _stored(self) -> IdempotencyKey | None:
        return self.session.exec(
            select(IdempotencyKey).where(col(IdempotencyKey.username) == self.username, col(IdempotencyKey.key) == self.key)
        ).first()

    def _replay(self, stored: IdempotencyKey, digest: str) -> JSONResponse:
        if stored.status_code == _PENDING:  # only visible if a reservation was ever committed unfinished
            raise _in_use()
        if stored.request_hash != digest:
            raise ProblemError(
                422, "idempotency-key-reused", "Idempotency key reused",
                f"the Idempotency-Key was already used for another request ({stored.method} {stored.path} "
                "with another body); use a new key for a new request",
                [{"field": "Idempotency-Key", "message": "already used for a different request"}],
            )
        headers = {REPLAY_HEADER: "true"}
        if stored.location:
            headers["Location"] = stored.location
        return JSONResponse(stored.response_body, status_code=stored.status_code, headers=headers)

    def finish(self, status_code: int, body: dict[str, Any], location: str | None = None) -> JSONResponse:
        """Record the answer with the reserved key (same transaction) and return it."""
        if self.row is not None:
            self.row.status_code = status_code
            self.row.response_body = body
            self.row.location = location
            self.session.add(self.row)
            self.session.flush()
        headers = {"Location": location} if location else None
        return JSONResponse(body, status_code=status_code, headers=headers)


def _in_use() -> ProblemError:
    return ProblemError(
        409, "idempotency-key-in-use", "Idempotency key in use",
        "another request with this Idempotency-Key was being processed; retry to get its answer",
    )


def idempotency(
    request: Request,
    session: Annotated[Session, Depends(get_session, scope="function")],
    user: Annotated[CurrentUser, Depends(current_user)],
    key: Annotated[
        str | None,
        Header(
            alias="Idempotency-Key",
            max_length=MAX_KEY_LENGTH,
            description="any unique string (a UUID); a retry with the same key and body replays the first answer",
        ),
    ] = None,
) -> Idempotency:
    if key is not None:
        key = key.strip()
        if not key or not key.isprintable() or not key.isascii():
            raise ProblemError(422, "validation-error", "Invalid input", "Idempotency-Key: printable ASCII expected",
                               [{"field": "Idempotency-Key", "message": "printable ASCII, 1-200 characters"}])
    ttl = dt.timedelta(hours=request.app.state.settings.idempotency_key_ttl_hours)
    return Idempotency(session, user.username, key, request.method, request.url.path, request.url.query,
                       now_utc(request), ttl)


Idem = Annotated[Idempotency, Depends(idempotency)]
