"""Failed logins slow guessing down without letting anyone lock another person out.

The old rule (5 failures locked an account for 15 minutes, 50 failed an address for 15
minutes, kept in the process) let anyone lock ``dispatcher`` out with five wrong passwords and
one mistyping office lock out everyone behind its address.  Now failures only ever *slow
down* the next attempt, by an exponential back-off with a low cap, counted under three keys:

``pair`` (one account from one address): **strong**.  After ``free`` failures each one makes
    the next attempt from there wait 1, 2, 4 ... s, up to one minute.  This is what stops a
    guesser at one address; only people behind the guesser's own address share the key, and
    they wait at most a minute per attempt, never a quarter of an hour.
``account`` (one account from anywhere): **mild**.  More failures free, a cap of 10 s.  It
    slows guessing spread over many addresses (a botnet gets one try per 10 s per account,
    not one per address per second), and it is the only key an attacker elsewhere shares with
    the account's owner, hence the low cap.  It does not apply at all from a *known address*,
    one the account logged in from successfully in the last ``KNOWN_FOR`` (the office, home):
    otherwise an attacker sending one wrong password every 10 s could keep the owner waiting
    indefinitely.  From a new address the owner can still be made to wait, 10 s at a time,
    while such an attack goes on; an admin sees it in the list of throttles.
``address`` (any account from one address): **generous**.  100 failures are free and leak
    away at 100 per 15 minutes, so an office NAT of 50 people mistyping never reaches it; a
    guesser spraying many accounts from one address does, and then waits up to 15 minutes.
    An admin can clear it (``clear``; ``DELETE /api/v1/auth/throttles/{key}``,
    ``carepath users clear-throttle KEY``), audited.

Each key holds a failure *level*: +1 per failure, leaking away at a fixed rate (so old
failures are forgotten gradually rather than all at once at the end of a window).  An attempt
is refused (429 with Retry-After) while any key that applies is inside its back-off; a refused
attempt is not counted, so hammering during the wait changes nothing.  A successful login
clears its pair (and makes the address known); it does not clear the account key, which
would let an attacker's guesses start afresh every time the owner logs in.  IPv6 addresses
count per /64, the block one subscriber holds, so rotating addresses inside it gains nothing.
Names that are no account are counted like any other (as ``dispatch.access.users.login_name`` reads
them), so the answers tell nothing about which accounts exist.

**The address** is the one uvicorn reports: the peer's, or the ``X-Forwarded-For`` address
when the peer is a proxy uvicorn trusts (``FORWARDED_ALLOW_IPS``, by default this machine).
Behind a proxy elsewhere that is not trusted, every caller has the proxy's address: pairs
and the address key then count everyone together (still only a back-off, and clearable).

**Where the state lives: the database** (table ``login_throttles``), not Redis.  Every API
process of a site already shares the database and reads it for every login (the user row),
so throttling adds no service, no new way to fail, and works the same on SQLite (the demo,
a one-office install) and PostgreSQL; Redis would be a second thing to run, secure and keep
up for the one purpose.  Logins are rare enough that a row write per attempt costs nothing.

**Charged before the password is checked.**  ``attempt`` first reads the keys' rows (a
refused attempt costs a read, no write, so hammering during a wait does not queue up writes
on SQLite's one write lock); if the attempt may go ahead, it decides again and records the
attempt as a failure in one short transaction that holds the keys' rows locked
(PostgreSQL row locks; on SQLite the first statement is a write, so the transaction holds
the write lock), and commits before the slow password hash is verified; ``succeeded`` then
refunds it.  So parallel attempts cannot all pass the check before any failure is recorded,
and a process that dies mid-login leaves a failure, not a free guess.  The price: while an
account or address is already past its free allowance, a successful login there sets the
back-off as a failure would (the refund takes back the count, not that one wait).
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import math
from dataclasses import dataclass

from sqlalchemy import delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine
from sqlmodel import Session, col

from dispatch.access import audit
from dispatch.storage.db import session_scope
from dispatch.errors import UserError
from dispatch.storage.models import LoginThrottle, ThrottleKind
from dispatch.access.users import login_name

#: An address the account logged in from this recently is known: the account key does not apply there.
KNOWN_FOR = dt.timedelta(days=30)
#: Longest stored account and address (usernames are at most 64 characters; an IPv6 text is at most 45).
ACCOUNT_LEN = 64
ADDRESS_LEN = 64
#: Expired rows deleted per attempt at most (pruning stays cheap however many there are).
PRUNE_BATCH = 100


@dataclass(frozen=True)
class Policy:
    """How one kind of key backs off: ``free`` failures cost nothing, then each failure makes
    the next attempt wait ``base_s``, then twice that, ... up to ``cap_s``; the failure level
    leaks away at ``leak_per_s`` failures a second."""

    free: int
    base_s: float
    cap_s: float
    leak_per_s: float

    def delay_s(self, level: float) -> float:
        """The wait after a failure that left the level at ``level``."""
        excess = math.ceil(level - self.free - 1e-9)
        if excess <= 0:
            return 0.0
        return min(self.cap_s, self.base_s * 2.0 ** min(excess - 1, 40))


POLICIES: dict[ThrottleKind, Policy] = {
    ThrottleKind.PAIR: Policy(free=5, base_s=1.0, cap_s=60.0, leak_per_s=1 / 300),
    ThrottleKind.ACCOUNT: Policy(free=10, base_s=1.0, cap_s=10.0, leak_per_s=1 / 60),
    ThrottleKind.ADDRESS: Policy(free=100, base_s=1.0, cap_s=15 * 60.0, leak_per_s=100 / (15 * 60)),
}


class ThrottleNotFound(UserError):
    """No failures are counted under that key (404)."""

    def __init__(self, key: str) -> None:
        super().__init__(f"no login throttle '{key}' (nothing is counted under it now)")
        self.key = key


@dataclass(frozen=True)
class ThrottleKey:
    kind: ThrottleKind
    key: str
    account: str | None
    address: str | None


@dataclass(frozen=True)
class ThrottleState:
    """One key as an admin sees it."""

    key: str
    kind: ThrottleKind
    account: str | None
    address: str | None
    failures: float
    """Failures not yet leaked away."""
    retry_after_s: int
    """Seconds until a login may be tried under this key (0: now)."""
    last_failure_at: dt.datetime | None
    known_address: bool
    """Pair keys: the account logged in from this address within ``KNOWN_FOR``."""


# --------------------------------------------------------------------------- keys


def address_group(address: str) -> str:
    """The address as counted: IPv4 as is, IPv6 as its /64 (one subscriber's block)."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address[:ADDRESS_LEN]
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.IPv6Network(f"{ip}/64", strict=False))
    return str(ip)


def throttle_keys(username: str, address: str | None) -> list[ThrottleKey]:
    """The keys a login attempt for ``username`` (as typed) from ``address`` counts under."""
    account = login_name(username)[:ACCOUNT_LEN]
    keys = [ThrottleKey(ThrottleKind.ACCOUNT, f"account:{account}", account, None)]
    if address:
        group = address_group(address)
        keys.append(ThrottleKey(ThrottleKind.ADDRESS, f"address:{group}", None, group))
        keys.append(ThrottleKey(ThrottleKind.PAIR, f"pair:{account}@{group}", account, group))
    return sorted(keys, key=lambda k: k.key)


# --------------------------------------------------------------------------- login


def attempt(engine: Engine, username: str, address: str | None, now: dt.datetime) -> int:
    """Seconds to wait before a login may be tried (0: go ahead, already counted as a failure).

    Its own short transaction, committed before the caller checks the password, so other
    processes see the attempt at once; call ``succeeded`` if the password was right.
    """
    keys = throttle_keys(username, address)
    with Session(engine) as session:  # a plain read first: hammering during a wait writes nothing
        wait = _wait_for(_current_rows(session, keys), now)
    if wait:
        return wait
    with session_scope(engine) as session:
        rows = _locked_rows(session, keys, now)
        wait = _wait_for(rows, now)  # again, under the lock: another attempt may have come first
        if wait:
            return wait
        for row in rows.values():
            _add_failure(row, now)
        session.flush()
        _prune(session, now, [k.key for k in keys])
    return 0


def _wait_for(rows: dict[ThrottleKind, LoginThrottle], now: dt.datetime) -> int:
    """Whole seconds until every key that applies allows an attempt (0: now)."""
    wait = max((_wait_s(row, now) for row in rows.values() if _applies(row, rows, now)), default=0.0)
    return max(1, math.ceil(wait)) if wait > 0 else 0


def succeeded(engine: Engine, username: str, address: str | None, now: dt.datetime) -> None:
    """Refund the attempt ``attempt`` counted: the password was right.

    The pair is cleared and its address becomes known for the account; the account and
    address keys get the failure back.
    """
    keys = throttle_keys(username, address)
    with session_scope(engine) as session:
        for row in _locked_rows(session, keys, now).values():
            if row.kind is ThrottleKind.PAIR:
                row.level, row.retry_at, row.last_success_at = 0.0, None, now
            else:
                row.level = max(0.0, _level(row, now) - 1)
                if POLICIES[row.kind].delay_s(row.level) == 0:
                    row.retry_at = None
            row.updated_at = now
            row.expires_at = _expiry(row)


def _current_rows(session: Session, keys: list[ThrottleKey]) -> dict[ThrottleKind, LoginThrottle]:
    statement = select(LoginThrottle).where(col(LoginThrottle.key).in_([k.key for k in keys]))
    return {row.kind: row for row in session.scalars(statement).all()}


def _locked_rows(session: Session, keys: list[ThrottleKey], now: dt.datetime) -> dict[ThrottleKind, LoginThrottle]:
    """The keys' rows (made if missing), locked for this transaction, by kind.

    The insert comes first: on SQLite it takes the write lock (waiting for it like BEGIN
    IMMEDIATE) before anything is read; on PostgreSQL the rows are then locked in key order
    (every caller uses the same order, so two logins cannot deadlock).
    """
    values = [
        {"key": k.key, "kind": k.kind.value, "account": k.account, "address": k.address, "level": 0.0,
         "updated_at": now, "expires_at": now}
        for k in keys
    ]
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    table = LoginThrottle.__table__  # type: ignore[attr-defined]
    session.execute(dialect.insert(table).values(values).on_conflict_do_nothing(index_elements=["key"]))
    statement = (
        select(LoginThrottle)
        .where(col(LoginThrottle.key).in_([k.key for k in keys]))
        .order_by(col(LoginThrottle.key))
        .with_for_update()
    )
    return {row.kind: row for row in session.scalars(statement).all()}


def _applies(row: LoginThrottle, rows: dict[ThrottleKind, LoginThrottle], now: dt.datetime) -> bool:
    """Every key applies, except the account key from an address the account is known at."""
    if row.kind is not ThrottleKind.ACCOUNT:
        return True
    pair = rows.get(ThrottleKind.PAIR)
    return not (pair is not None and _known(pair, now))


def _known(pair: LoginThrottle, now: dt.datetime) -> bool:
    return pair.last_success_at is not None and now - pair.last_success_at < KNOWN_FOR


def _level(row: LoginThrottle, now: dt.datetime) -> float:
    """The failure level now: what was counted minus what has leaked away since."""
    elapsed = max(0.0, (now - row.updated_at).total_seconds())
    return max(0.0, row.level - elapsed * POLICIES[row.kind].leak_per_s)


def _wait_s(row: LoginThrottle, now: dt.datetime) -> float:
    return max(0.0, (row.retry_at - now).total_seconds()) if row.retry_at is not None else 0.0


def _add_failure(row: LoginThrottle, now: dt.datetime) -> None:
    row.level = _level(row, now) + 1
    row.updated_at = row.last_failure_at = now
    delay = POLICIES[row.kind].delay_s(row.level)
    if delay > 0:
        retry = now + dt.timedelta(seconds=delay)
        row.retry_at = retry if row.retry_at is None else max(row.retry_at, retry)
    row.expires_at = _expiry(row)


def _expiry(row: LoginThrottle) -> dt.datetime:
    """When the row stops meaning anything: level leaked to 0, back-off over, address no longer known."""
    policy = POLICIES[row.kind]
    ends = [row.updated_at + dt.timedelta(seconds=row.level / policy.leak_per_s)]
    if row.retry_at is not None:
        ends.append(row.retry_at)
    if row.last_success_at is not None:
        ends.append(row.last_success_at + KNOWN_FOR)
    return max(ends)


def _prune(session: Session, now: dt.datetime, keep: list[str]) -> None:
    """Delete up to ``PRUNE_BATCH`` expired rows that no other login holds (never waits for one)."""
    expired = (
        select(LoginThrottle.key)
        .where(col(LoginThrottle.expires_at) < now, col(LoginThrottle.key).not_in(keep))
        .limit(PRUNE_BATCH)
        .with_for_update(skip_locked=True)
    )
    keys = list(session.scalars(expired).all())
    if keys:
        session.execute(delete(LoginThrottle).where(col(LoginThrottle.key).in_(keys)))


# --------------------------------------------------------------------------- admins


def _state(row: LoginThrottle, now: dt.datetime) -> ThrottleState:
    return ThrottleState(
        key=row.key, kind=row.kind, account=row.account, address=row.address,
        failures=round(_level(row, now), 2), retry_after_s=math.ceil(_wait_s(row, now)),
        last_failure_at=row.last_failure_at,
        known_address=row.kind is ThrottleKind.PAIR and _known(row, now),
    )


def _counting(state: ThrottleState) -> bool:
    return state.failures > 0 or state.retry_after_s > 0


def list_throttles(session: Session, now: dt.datetime, limit: int = 100) -> list[ThrottleState]:
    """Keys with failures still counted or a back-off still running, longest wait first."""
    statement = (
        select(LoginThrottle)
        .where(col(LoginThrottle.expires_at) > now, col(LoginThrottle.level) > 0)
        .order_by(col(LoginThrottle.retry_at).desc().nulls_last(), col(LoginThrottle.level).desc(),
                  col(LoginThrottle.key))
        .limit(limit)
    )
    states = [_state(row, now) for row in session.scalars(statement).all()]
    return [s for s in states if _counting(s)]


def clear(session: Session, actor: str, key: str, now: dt.datetime) -> ThrottleState:
    """Forget the failures counted under ``key`` and end its back-off; audited as ``login_throttle.clear``.

    A pair stays a known address.  Returns the state as it was before.
    """
    row = session.scalars(select(LoginThrottle).where(col(LoginThrottle.key) == key).with_for_update()).first()
    before = _state(row, now) if row is not None else None
    if row is None or before is None or not _counting(before):
        raise ThrottleNotFound(key)
    row.level, row.retry_at, row.updated_at = 0.0, None, now
    row.expires_at = _expiry(row)
    session.add(row)
    session.flush()
    audit.record(session, actor, "login_throttle.clear", "login_throttle", key[:64], {
        "key": key,
        "failures": {"old": before.failures, "new": 0},
        "retry_after_s": {"old": before.retry_after_s, "new": 0},
    })
    return before
