"""Addresses to coordinates: the ones given, or looked up by a configured geocoder and cached.

Planning with a guessed location sends a carer to the wrong door, so nothing is guessed: a
place, senior or worker is stored with the coordinates given, or, when a geocoder is configured
(``CAREPATH_GEOCODER=nominatim``), with the coordinates it found for the address.  Without
either, the record's validation names the missing field (``catalog``, ``places``).  This module
is the one path for all of them: the API, the CLI and the spreadsheet imports call
``fill_coordinates`` (one record) or ``prefetch`` (a file's rows).

Nominatim (OpenStreetMap, through geopy) is used as its usage policy asks
(https://operations.osmfoundation.org/policies/nominatim/):

* at most one request a second from this process (``RateLimit``: one request at a time, and the
  next one starts at least ``min_interval_s`` after the previous one ended); several API or CLI
  processes each keep their own limit, so a centre geocoding from several processes at once, or
  in bulk, should run its own server (``CAREPATH_NOMINATIM_URL``);
* a user agent naming the installation (``CAREPATH_NOMINATIM_USER_AGENT``; the placeholder is
  refused outside development, ``dispatch.settings``);
* every answer cached in the database (``models.GeocodeCache``, keyed by the normalised query),
  so the same address is never asked twice; a miss is remembered for ``MISS_TTL``.

No network is touched unless a geocoder is configured, and then only for an address that is not
in the cache.  A geocoder that cannot answer (down, timing out, refusing us) raises
``GeocoderUnavailable`` (the API answers 503) and nothing is cached or stored.

**Transactions.**  A lookup takes up to a second or more; it must not hold SQLite's write lock,
which the API and CLI take when their write transaction begins.  So ``fill_coordinates`` ends the
caller's transaction before it asks the geocoder (it must come before anything is written in it;
it checks) and writes the cache in a short transaction of its own, so an answer survives a
rejected record: correcting a form or a spreadsheet never asks for the same address again.
Imports look every row's address up first (``prefetch``) and then read the cache only
(``network=False``) inside their all-or-nothing transaction.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import threading
import time
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, NamedTuple, Protocol
from urllib.parse import urlsplit

from sqlalchemy import event
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session as OrmSession
from sqlmodel import Session

from dispatch.storage import models as m
from dispatch.catalog.records import InvalidInput, address_changed, err
from dispatch.errors import UserError
from dispatch.settings import Settings, get_settings

log = logging.getLogger(__name__)

#: The public server, used when ``CAREPATH_NOMINATIM_URL`` is not set.
NOMINATIM_PUBLIC_URL = "https://nominatim.openstreetmap.org"
#: A miss ("no such address") is asked again after this long: the map gets new buildings.
MISS_TTL = dt.timedelta(days=30)
#: Characters of a cache key (``models.GeocodeCache.query``); longer addresses are not cached.
MAX_QUERY_LENGTH = 500


class Point(NamedTuple):
    lat: float
    lon: float


class Found(NamedTuple):
    """A geocoder's answer: the point and what the geocoder called the place."""

    lat: float
    lon: float
    label: str


class GeocoderUnavailable(UserError):
    """The geocoder could not answer (down, timed out, refused us); nothing was stored."""

    retry_after_s = 60


# --------------------------------------------------------------------------- addresses and queries

_STREET_PREFIX = re.compile(r"^(ul\.?|ulica)\s+", re.IGNORECASE)


def _clean(text: str | None) -> str:
    return " ".join((text or "").split())


@dataclass(frozen=True)
class AddressQuery:
    """An address to look up: Polish street, house number, postcode and city (in Poland)."""

    street: str | None
    number: str | None
    postcode: str | None
    city: str
    country: str = "pl"

    @property
    def street_line(self) -> str:
        """``Studzienna 2``: the street without the ``ul.`` prefix OpenStreetMap's names lack."""
        street = _STREET_PREFIX.sub("", _clean(self.street))
        return _clean(f"{street} {_clean(self.number)}")

    def text(self) -> str:
        """As a person writes it: ``Studzienna 2, 25-544 Kielce``."""
        town = _clean(f"{_clean(self.postcode)} {_clean(self.city)}")
        return ", ".join(part for part in (self.street_line, town) if part)

    def key(self) -> str:
        """The normalised query the cache is keyed by: case, spacing, ``ul.`` and Unicode forms do
        not matter (``ul. STUDZIENNA  2`` and ``Studzienna 2`` are one address)."""
        parts = (self.street_line, _clean(self.postcode), _clean(self.city), self.country)
        return unicodedata.normalize("NFC", "|".join(parts).casefold())

    def structured(self) -> dict[str, str]:
        """Nominatim's structured query (``street`` is number and name, as it expects)."""
        query = {"city": _clean(self.city), "country": "Polska" if self.country == "pl" else self.country}
        street = _STREET_PREFIX.sub("", _clean(self.street))
        if street:
            query["street"] = _clean(f"{_clean(self.number)} {street}")
        if _clean(self.postcode):
            query["postalcode"] = _clean(self.postcode)
        return query


@dataclass(frozen=True)
class AddressFields:
    """Where a record keeps its address and coordinates (field names, also in error messages).

    ``stored`` False: the address fields only serve the lookup and are dropped from the record
    (a worker's home address: the planner needs the coordinates only).
    """

    lat: str = "lat"
    lon: str = "lon"
    street: str = "street"
    number: str = "number"
    postcode: str = "postcode"
    city: str = "city"
    stored: bool = True

    @property
    def address(self) -> tuple[str, str, str, str]:
        return (self.street, self.number, self.postcode, self.city)

    def query(self, values: Mapping[str, Any]) -> AddressQuery | None:
        """The address in ``values`` as a query, or None without a city (nothing to look up)."""
        city = _clean(values.get(self.city))
        if not city:
            return None
        return AddressQuery(values.get(self.street), values.get(self.number), values.get(self.postcode), city)


#: Seniors and places: the address is stored with the record.
RECORD_ADDRESS = AddressFields()
#: Workers: a home address given only to look up ``home_lat``/``home_lon``, not stored.
WORKER_HOME = AddressFields("home_lat", "home_lon", "home_street", "home_number", "home_postcode", "home_city",
                            stored=False)


# --------------------------------------------------------------------------- providers


class Provider(Protocol):
    """Something that finds an address: ``None`` when there is no such place."""

    source: str

    def search(self, query: AddressQuery) -> Found | None: ...


class RateLimit:
    """At most one call at a time, each starting ``min_interval_s`` or more after the previous one ended.

    ``clock`` and ``sleep`` are injectable so that tests check the spacing without waiting.
    """

    def __init__(self, min_interval_s: float = 1.0, *, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.min_interval_s = min_interval_s
        self.clock = clock
        self.sleep = sleep
        self._lock = threading.Lock()
        self._last_end: float | None = None

    @contextmanager
    def slot(self) -> Iterator[None]:
        with self._lock:
            if self._last_end is not None:
                wait = self._last_end + self.min_interval_s - self.clock()
                if wait > 0:
                    self.sleep(wait)
            try:
                yield
            finally:
                self._last_end = self.clock()


class NominatimProvider:
    """Nominatim's ``/search`` through geopy: structured query, Poland only, rate-limited."""

    def __init__(self, user_agent: str, url: str | None = None, *, timeout_s: float = 10.0,
                 rate_limit: RateLimit | None = None) -> None:
        from geopy.geocoders import Nominatim

        self.source = (url or NOMINATIM_PUBLIC_URL).rstrip("/")
        parts = urlsplit(self.source)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError(f"CAREPATH_NOMINATIM_URL {url!r} is not an http(s) URL")
        self._nominatim = Nominatim(user_agent=user_agent, domain=parts.netloc + parts.path, scheme=parts.scheme,
                                    timeout=timeout_s)
        self.rate_limit = rate_limit or RateLimit()

    def search(self, query: AddressQuery) -> Found | None:
        from geopy.exc import GeopyError

        with self.rate_limit.slot():
            try:
                found = self._nominatim.geocode(query.structured(), exactly_one=True, country_codes=query.country)
            except GeopyError as exc:  # timeouts, 4xx/5xx, refused connections: all "cannot answer now"
                raise GeocoderUnavailable(f"the geocoder at {self.source} could not answer ({type(exc).__name__}: "
                                          f"{exc}); nothing was stored, try again later") from exc
        if found is None:
            return None
        return Found(float(found.latitude), float(found.longitude), str(found.address or "")[:500])


# --------------------------------------------------------------------------- the cached geocoder


class Geocoder:
    """A provider behind the database cache; one per process and provider (``geocoder_from_settings``)."""

    def __init__(self, provider: Provider, *, now: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC)) -> None:
        self.provider = provider
        self.now = now
        self._lock = threading.Lock()  # one miss at a time: two threads never ask for the same address

    def cached(self, session: Session, query: AddressQuery) -> m.GeocodeCache | None:
        """The fresh cache entry for ``query`` (a hit or a remembered miss), read in ``session``."""
        key = query.key()
        if len(key) > MAX_QUERY_LENGTH:
            return None
        with session.no_autoflush:  # a pending write stays pending: ``_release`` refuses it
            row = session.get(m.GeocodeCache, key)
        if row is None or (row.lat is None and _aware(row.looked_up_at) + MISS_TTL < self.now()):
            return None
        return row

    def look_up(self, bind: Any, query: AddressQuery) -> m.GeocodeCache:
        """Ask the provider unless the cache knows the address; cache the answer (own transaction).

        ``bind`` is the engine to cache through; the caller holds no transaction on it.
        """
        with self._lock:
            with Session(bind, expire_on_commit=False) as session:
                row = self.cached(session, query)
                session.commit()
            if row is not None:
                return row
            found = self.provider.search(query)  # GeocoderUnavailable: nothing cached
            row = m.GeocodeCache(query=query.key(), lat=found.lat if found else None, lon=found.lon if found else None,
                                 label=found.label if found else "", source=self.provider.source[:200],
                                 looked_up_at=self.now())
            log.info("geocoded %r: %s", query.text(), f"{row.lat:.5f}, {row.lon:.5f}" if found else "not found")
            if len(row.query) <= MAX_QUERY_LENGTH:
                _store(bind, row)
            return row


def _aware(value: dt.datetime) -> dt.datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)


def _store(bind: Any, row: m.GeocodeCache) -> None:
    with Session(bind, expire_on_commit=False) as session:
        session.merge(row)
        try:
            session.commit()
        except IntegrityError:  # another process stored the same address meanwhile: keep theirs
            session.rollback()


_GEOCODERS: dict[tuple[str, str, float], Geocoder] = {}
_GEOCODERS_LOCK = threading.Lock()


def geocoder_from_settings(settings: Settings | None = None) -> Geocoder | None:
    """The process's geocoder for these settings, or None (``CAREPATH_GEOCODER=stored``, the default).

    One per (URL, user agent, timeout) and process, so the rate limit holds across the API's
    threads and an import.
    """
    s = settings or get_settings()
    if s.geocoder != "nominatim":
        return None
    key = (s.nominatim_url or NOMINATIM_PUBLIC_URL, s.nominatim_user_agent, s.nominatim_timeout_s)
    with _GEOCODERS_LOCK:
        if key not in _GEOCODERS:
            _GEOCODERS[key] = Geocoder(NominatimProvider(s.nominatim_user_agent, s.nominatim_url,
                                                         timeout_s=s.nominatim_timeout_s))
        return _GEOCODERS[key]


# --------------------------------------------------------------------------- records


def not_found(fields: AddressFields, values: Mapping[str, Any], query: AddressQuery) -> InvalidInput:
    """The 422 for an address the geocoder does not know, naming the street (or the city)."""
    field_name = fields.street if _clean(values.get(fields.street)) else fields.city
    return InvalidInput([err(field_name, f"the geocoder found no place at {query.text()!r}; check the street, "
                                         f"number, postcode and city, or give {fields.lat} and {fields.lon}")])


def needs_lookup(fields: AddressFields, data: Mapping[str, Any], before: Mapping[str, Any] | None) -> bool:
    """True when the record's coordinates should come from its address.

    A new record: neither coordinate given.  A change (``before`` = the stored values): an address
    field changed and no coordinate was sent with it.
    """
    if data.get(fields.lat) is not None or data.get(fields.lon) is not None:
        return False
    if before is None:
        return True
    if fields.lat in data or fields.lon in data:
        return False  # an explicit null: validation says it may not be
    return address_changed(data, before, fields.address)


def fill_coordinates(
    session: Session, geocoder: Geocoder | None, data: Mapping[str, Any], fields: AddressFields = RECORD_ADDRESS,
    *, before: Mapping[str, Any] | None = None, network: bool = True,
) -> dict[str, Any]:
    """``data`` with coordinates looked up from its address where ``needs_lookup`` says so.

    Without a geocoder, or an address without a city, ``data`` comes back as it is and the
    record's validation names the missing coordinate.  An unknown address raises ``InvalidInput``
    naming the address field; a geocoder that cannot answer raises ``GeocoderUnavailable``.
    ``network=False`` reads the cache only (inside an import's transaction, after ``prefetch``).
    Call it before anything is written in ``session``'s transaction: a lookup ends it (see the
    module docstring).
    """
    out = dict(data)
    if not fields.stored:
        address = {name: out.pop(name, None) for name in fields.address}
    else:
        address = {name: out.get(name, (before or {}).get(name)) for name in fields.address}
    lookup = needs_lookup(fields, {**out, **address} if not fields.stored else out, before if fields.stored else None)
    query = fields.query(address)
    if geocoder is None or not lookup or query is None:
        return out
    row = geocoder.cached(session, query)
    if row is None and network:
        _release(session)
        row = geocoder.look_up(session.get_bind(), query)
    if row is None:
        return out
    if row.lat is None or row.lon is None:
        raise not_found(fields, address, query)
    out[fields.lat], out[fields.lon] = row.lat, row.lon
    return out


def prefetch(session: Session, geocoder: Geocoder | None, queries: Iterable[AddressQuery]) -> int:
    """Look up every address not in the cache yet (before an import's transaction); the number asked.

    A geocoder that cannot answer stops it with ``GeocoderUnavailable``; the answers cached until
    then stay cached.
    """
    if geocoder is None:
        return 0
    missing = list({q.key(): q for q in queries if geocoder.cached(session, q) is None}.values())
    if not missing:
        return 0
    _release(session)
    for query in missing:
        geocoder.look_up(session.get_bind(), query)
    return len(missing)


_WROTE = "carepath_geocoding_wrote"


@event.listens_for(OrmSession, "after_flush")
def _note_write(session: OrmSession, _context: Any) -> None:
    session.info[_WROTE] = True


@event.listens_for(OrmSession, "after_transaction_end")
def _forget_write(session: OrmSession, transaction: Any) -> None:
    if transaction.parent is None:
        session.info.pop(_WROTE, None)


def _release(session: Session) -> None:
    """End the caller's transaction, which must not have written anything yet (see the module docstring)."""
    if session.new or session.dirty or session.deleted or session.info.get(_WROTE):
        raise RuntimeError("addresses are looked up before anything is written in the transaction")
    session.commit()
