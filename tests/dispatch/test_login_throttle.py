"""The login back-off (``dispatch.access.login_throttle``) on a real database, both backends.

Time is passed in (``now``), so waits are checked exactly without sleeping.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterator

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from dispatch.access import login_throttle as lt
from dispatch.storage import models as m
from dispatch.storage.db import make_engine

T0 = dt.datetime(2026, 12, 1, 8, 0, tzinfo=dt.UTC)
OFFICE = "198.51.100.10"
ATTACKER = "203.0.113.66"
PAIR, ACCOUNT, ADDRESS = (lt.POLICIES[k] for k in (m.ThrottleKind.PAIR, m.ThrottleKind.ACCOUNT, m.ThrottleKind.ADDRESS))


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


def _at(seconds: float) -> dt.datetime:
    return T0 + dt.timedelta(seconds=seconds)


def _fail(engine: Engine, username: str, address: str | None, now: dt.datetime) -> int:
    """One login attempt with a wrong password: the wait it was refused with, or 0 if it was tried."""
    return lt.attempt(engine, username, address, now)


def _login(engine: Engine, username: str, address: str | None, now: dt.datetime) -> int:
    """One login attempt with the right password: 0 if it got in, else the wait it was refused with."""
    wait = lt.attempt(engine, username, address, now)
    if wait == 0:
        lt.succeeded(engine, username, address, now)
    return wait


def _rows(engine: Engine) -> dict[str, m.LoginThrottle]:
    with Session(engine) as session:
        return {r.key: r for r in session.exec(select(m.LoginThrottle)).all()}


# --------------------------------------------------------------------------- the back-off


def test_delay_policy_is_free_then_doubling_up_to_the_cap() -> None:
    """Each kind's free failures cost nothing; then 1, 2, 4 ... s up to the cap (60 s pair, 10 s account)."""
    assert [PAIR.delay_s(n) for n in range(1, 14)] == [0, 0, 0, 0, 0, 1, 2, 4, 8, 16, 32, 60, 60]
    assert [ACCOUNT.delay_s(n) for n in range(10, 16)] == [0, 1, 2, 4, 8, 10]
    assert ADDRESS.delay_s(100) == 0 and ADDRESS.delay_s(101) == 1 and ADDRESS.delay_s(10_000) == 15 * 60


def test_guessing_from_one_address_backs_off_exponentially_and_is_never_a_lockout(engine: Engine) -> None:
    """One address guessing one password after another is tried at once 5 times, then waits 1, 2,
    4 ... s, never more than a minute; each refused attempt says how long; the owner, trying the
    right password from there when the wait is over, gets in."""
    now, waits = T0, []
    for _ in range(PAIR.free):
        assert _fail(engine, "dispatcher", ATTACKER, now) == 0
    for _ in range(12):
        assert _fail(engine, "dispatcher", ATTACKER, now) == 0
        wait = _fail(engine, "dispatcher", ATTACKER, now)  # tried again at once: refused
        waits.append(wait)
        now += dt.timedelta(seconds=wait)
    assert waits == [1, 2, 4, 8, 16, 32, 60, 60, 60, 60, 60, 60]
    assert _login(engine, "dispatcher", ATTACKER, now) == 0


def test_a_refused_attempt_is_not_counted(engine: Engine) -> None:
    """Hammering during a wait changes nothing: the level and the wait stay as the last failure set them."""
    for _ in range(PAIR.free + 1):
        _fail(engine, "ewa", ATTACKER, T0)
    before = _rows(engine)[f"pair:ewa@{ATTACKER}"]
    for _ in range(50):
        assert _fail(engine, "ewa", ATTACKER, _at(0.5)) == 1
    after = _rows(engine)[f"pair:ewa@{ATTACKER}"]
    assert (after.level, after.retry_at) == (before.level, before.retry_at) == (PAIR.free + 1, _at(1))


def test_failures_leak_away_so_an_old_streak_is_forgotten(engine: Engine) -> None:
    """A pair's failures leak at one per five minutes: after an hour of quiet a dozen old failures
    no longer make anyone wait, and the next failure is free again."""
    now = T0
    for _ in range(12):
        now = _fail_when_allowed(engine, "ewa", ATTACKER, now)
    assert _rows(engine)[f"pair:ewa@{ATTACKER}"].level > 11.5  # less what leaked during the waits
    assert _fail(engine, "ewa", ATTACKER, now) > 0
    later = now + dt.timedelta(hours=1)
    assert _fail(engine, "ewa", ATTACKER, later) == 0
    assert _fail(engine, "ewa", ATTACKER, later) == 0  # within the free allowance again


def _fail_when_allowed(engine: Engine, username: str, address: str | None, now: dt.datetime) -> dt.datetime:
    """Wait as told until a wrong password is tried; the time it was."""
    while wait := _fail(engine, username, address, now):
        now += dt.timedelta(seconds=wait)
    return now


def test_success_clears_the_pair_and_makes_the_address_known(engine: Engine) -> None:
    """The right password clears its pair's failures and back-off and records the address as known."""
    for _ in range(PAIR.free):
        _fail(engine, "ewa", OFFICE, T0)
    assert _login(engine, "ewa", OFFICE, T0) == 0
    pair = _rows(engine)[f"pair:ewa@{OFFICE}"]
    assert pair.level == 0 and pair.retry_at is None and pair.last_success_at == T0
    for _ in range(PAIR.free):
        assert _fail(engine, "ewa", OFFICE, _at(1)) == 0  # a fresh free allowance


# --------------------------------------------------------------------------- nobody can lock out others


def test_an_attacker_at_one_address_cannot_keep_the_owner_out(engine: Engine) -> None:
    """An attacker at one address guessing the dispatcher's password for half an hour, as fast as
    allowed, is held to about one guess a minute, while the dispatcher at the office gets in at
    once every time."""
    assert _login(engine, "dispatcher", OFFICE, T0) == 0
    now, failures = T0, 0
    while now < T0 + dt.timedelta(minutes=30):
        wait = _fail(engine, "dispatcher", ATTACKER, now)
        failures += wait == 0
        now += dt.timedelta(seconds=max(wait, 1))
        assert _login(engine, "dispatcher", OFFICE, now) == 0
    # the free five, the ramp 1 ... 32 s (63 s), then one guess a minute
    assert 30 < failures <= PAIR.free + 6 + 30


def test_an_attacker_on_many_addresses_makes_the_owner_wait_seconds_at_most(engine: Engine) -> None:
    """An attacker rotating through 200 addresses, guessing as fast as the account key allows for
    twenty minutes, is held to about one guess per 10 s; meanwhile, every minute, the dispatcher
    gets in at once from the office (a known address), and from an address never used before
    waits at most 10 s."""
    assert _login(engine, "dispatcher", OFFICE, T0) == 0  # the office becomes a known address
    now, failures, new_address_waits = T0, 0, []
    next_owner = T0 + dt.timedelta(minutes=1)
    while now < T0 + dt.timedelta(minutes=20):
        wait = _fail(engine, "dispatcher", f"203.0.113.{failures % 200 + 1}", now)
        failures += wait == 0
        now += dt.timedelta(seconds=wait)
        if now >= next_owner:
            assert _login(engine, "dispatcher", OFFICE, now) == 0
            new_address_waits.append(_login(engine, "dispatcher", f"192.0.2.{len(new_address_waits) + 1}", now))
            next_owner += dt.timedelta(minutes=1)
    assert failures <= ACCOUNT.free + 4 + 20 * 60 / ACCOUNT.cap_s
    assert max(new_address_waits) == ACCOUNT.cap_s  # the account key is what holds the attacker back ...
    assert all(w <= ACCOUNT.cap_s for w in new_address_waits)  # ... and it never means more than 10 s


def test_guessing_spread_over_many_addresses_is_still_slowed(engine: Engine) -> None:
    """Every failure counts for the account wherever it comes from: after the account's free
    allowance, a guess from yet another new address has to wait."""
    for i in range(ACCOUNT.free + 1):
        assert _fail(engine, "dispatcher", f"203.0.113.{i + 1}", T0) == 0
    assert _fail(engine, "dispatcher", "203.0.113.200", T0) == 1
    assert "address:203.0.113.200" not in _rows(engine)  # a refused attempt writes nothing
    assert _fail(engine, "dispatcher", None, T0) == 1  # no address at all: the account key alone


def test_an_office_of_50_people_mistyping_is_never_throttled(engine: Engine) -> None:
    """Fifty people behind one NAT address each mistype twice and then log in, all within five
    minutes: every attempt is tried at once, none is refused."""
    people = [f"carer.{i:02d}" for i in range(50)]
    now = T0
    for round_ in range(3):
        for name in people:
            now += dt.timedelta(seconds=2)
            if round_ < 2:
                assert _fail(engine, name, OFFICE, now) == 0, (round_, name)
            else:
                assert _login(engine, name, OFFICE, now) == 0, name
    assert now - T0 <= dt.timedelta(minutes=5)


def test_spraying_from_one_address_throttles_it_until_an_admin_clears_it(engine: Engine) -> None:
    """One address trying 101 different accounts at once passes the generous per-address
    allowance; then everyone behind it waits, until an admin clears the address (audited)."""
    for i in range(ADDRESS.free + 1):
        assert _fail(engine, f"user{i}", ATTACKER, T0) == 0
    assert _login(engine, "ewa", ATTACKER, T0) == 1
    listed = {s.key: s for s in _list(engine, T0)}
    assert listed[f"address:{ATTACKER}"].retry_after_s == 1 and listed[f"address:{ATTACKER}"].failures == 101
    with Session(engine) as session:
        before = lt.clear(session, "admin", f"address:{ATTACKER}", T0)
        session.commit()
    assert before.failures == 101
    assert _login(engine, "ewa", ATTACKER, T0) == 0
    with Session(engine) as session:
        rows = session.exec(select(m.AuditLog).where(col(m.AuditLog.action) == "login_throttle.clear")).all()
    assert [(r.actor, r.entity, r.entity_id) for r in rows] == [("admin", "login_throttle", f"address:{ATTACKER}")]
    assert rows[0].changes["failures"] == {"old": 101, "new": 0}


def test_clearing_a_key_with_nothing_counted_is_not_found(engine: Engine) -> None:
    """Clearing an unknown key, or one whose failures have leaked away, raises ThrottleNotFound."""
    _fail(engine, "ewa", OFFICE, T0)
    with Session(engine) as session:
        with pytest.raises(lt.ThrottleNotFound):
            lt.clear(session, "admin", "address:192.0.2.1", T0)
        with pytest.raises(lt.ThrottleNotFound):
            lt.clear(session, "admin", f"pair:ewa@{OFFICE}", T0 + dt.timedelta(hours=1))
        assert lt.clear(session, "admin", f"pair:ewa@{OFFICE}", T0).failures == 1


def _list(engine: Engine, now: dt.datetime) -> list[lt.ThrottleState]:
    with Session(engine) as session:
        return lt.list_throttles(session, now)


# --------------------------------------------------------------------------- keys, storage


def test_ipv6_addresses_count_per_64_and_usernames_as_logged_in() -> None:
    """Addresses in one /64 share keys (one subscriber's block); ' Ewa' and 'ewa' are one account."""
    a = lt.throttle_keys(" Ewa", "2001:db8:1:2::1")
    b = lt.throttle_keys("ewa", "2001:db8:1:2:ffff:0:0:9")
    assert a == b
    assert {k.key for k in a} == {"account:ewa", "address:2001:db8:1:2::/64", "pair:ewa@2001:db8:1:2::/64"}
    assert lt.address_group("::ffff:198.51.100.10") == "198.51.100.10"
    assert lt.throttle_keys("x" * 500, "testclient")[0].account == "x" * lt.ACCOUNT_LEN


def test_state_is_shared_by_every_engine_on_the_database(database_url: str) -> None:
    """A failure recorded through one engine (one API process) is counted by another."""
    first, second = make_engine(database_url), make_engine(database_url)
    try:
        for _ in range(PAIR.free + 1):
            assert _fail(first, "ewa", ATTACKER, T0) == 0
        assert _fail(second, "ewa", ATTACKER, T0) == 1
    finally:
        first.dispose()
        second.dispose()


def test_rows_that_mean_nothing_any_more_are_deleted(engine: Engine) -> None:
    """A row whose failures leaked away (and that is no known address) is deleted by a later
    attempt; a known address is kept for 30 days."""
    _fail(engine, "ewa", ATTACKER, T0)
    _login(engine, "anna", OFFICE, T0)
    _fail(engine, "zofia", "192.0.2.1", T0 + dt.timedelta(days=1))
    keys = set(_rows(engine))
    assert f"pair:ewa@{ATTACKER}" not in keys and "account:ewa" not in keys
    assert f"pair:anna@{OFFICE}" in keys and "pair:zofia@192.0.2.1" in keys
    _fail(engine, "zofia", "192.0.2.1", T0 + dt.timedelta(days=31))
    assert f"pair:anna@{OFFICE}" not in set(_rows(engine))


def test_parallel_attempts_cannot_all_slip_through_before_a_failure_is_counted(engine: Engine) -> None:
    """Twenty simultaneous attempts on one account from one address: the attempt is counted when
    it is allowed, under a lock, so exactly the free five plus the one that starts the back-off
    are tried (the rest answered with a wait), on both backends."""
    results: list[int] = []
    lock = threading.Lock()
    start = threading.Barrier(20)

    def one() -> None:
        start.wait()
        wait = _fail(engine, "dispatcher", ATTACKER, T0)
        with lock:
            results.append(wait)

    threads = [threading.Thread(target=one) for _ in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == [0] * (PAIR.free + 1) + [1] * (20 - PAIR.free - 1)
