"""Runtime configuration of the dispatch layer, read from ``CAREPATH_*`` variables and ``.env``.

One ``Settings`` object carries every knob that differs between a developer's laptop, CI and a
municipality's server, so no module reads ``os.environ`` itself.  ``get_settings()`` caches it;
tests change the environment and call ``get_settings.cache_clear()`` (or build ``Settings(...)``
directly and pass it down).

Nothing here touches the disk: the default SQLite file lives under ``data_dir``, which
``dispatch.storage.db.make_engine`` creates on demand.
"""

from __future__ import annotations

import logging
from functools import lru_cache
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

#: Signing secrets that were published (in this file, up to 2026-12) and so are known to anyone:
#: refused in every environment (see ``Settings._refuse_known_secret``).
PUBLISHED_SECRET_KEYS = frozenset({"carepath-development-secret-change-me"})
#: A configured secret shorter than this is refused outside development (HS256 wants >= 32 bytes).
MIN_SECRET_KEY_LENGTH = 32

#: Nominatim's usage policy wants a user agent naming the installation; this one names nobody.
PLACEHOLDER_USER_AGENT = "carepath/0.1 (development; set CAREPATH_NOMINATIM_USER_AGENT)"


def default_database_url(data_dir: Path) -> str:
    """The embedded database used when no URL is configured: ``<data_dir>/carepath.db``."""
    return f"sqlite:///{(data_dir / 'carepath.db').as_posix()}"


class Settings(BaseSettings):
    """All configuration, with defaults that work for a developer out of the box."""

    model_config = SettingsConfigDict(
        env_prefix="CAREPATH_",
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
    )

    data_dir: Path = Path("./data")
    database_url: str = Field(
        default="",
        description="SQLAlchemy URL; empty means the SQLite file <data_dir>/carepath.db.",
    )
    sqlite_busy_timeout_ms: int = Field(
        default=10_000, ge=0, le=600_000,
        description="SQLite: how long a write waits for another writer to finish before answering 503",
    )
    timezone: str = "Europe/Warsaw"

    travel_provider: Literal["offline", "osrm"] = "offline"
    osrm_url: str | None = None
    geocoder: Literal["stored", "nominatim"] = Field(
        default="stored",
        description="stored: coordinates as given (no network); nominatim: look addresses without coordinates up",
    )
    nominatim_user_agent: str = Field(
        default=PLACEHOLDER_USER_AGENT, min_length=1, max_length=200,
        description="names this installation to Nominatim (its usage policy), e.g. 'carepath MOPR Kielce "
                    "(it@mopr.kielce.pl)'; the placeholder is refused outside development",
    )
    nominatim_url: str | None = Field(
        default=None, pattern=r"^https?://[^\s]+$",
        description="a self-hosted Nominatim (e.g. http://127.0.0.1:8088); empty: the public server",
    )
    nominatim_timeout_s: float = Field(default=10.0, gt=0, le=120, description="how long one lookup may take")

    road_factor: float = Field(default=1.35, ge=1.0, description="road distance / straight distance")
    walk_speed_kmh: float = Field(default=4.5, gt=0)
    public_transport_speed_kmh: float = Field(default=15.0, gt=0, description="door to door, incl. waiting")
    car_speed_kmh: float = Field(default=30.0, gt=0, description="urban average")

    map_tiles: str | None = Field(
        default=None, max_length=500,
        description="console map: tile URL template, e.g. https://tile.example.org/{z}/{x}/{y}.png; "
                    "none: places and routes on a plain background (works offline)",
    )
    map_attribution: str = Field(default="", max_length=300, description="console map: the tile server's credit line")

    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] = "INFO"
    environment: str = "development"
    secret_key: SecretStr | None = Field(
        default=None,
        description="signs access tokens; unset in development: a random one kept in <data_dir>/secret_key",
    )

    db_pool_size: int = Field(default=10, ge=1, le=100, description="database connections kept open per process")
    db_max_overflow: int = Field(default=5, ge=0, le=100, description="extra connections opened under load")
    db_connect_timeout_s: int = Field(
        default=5, ge=2, le=120,
        description="PostgreSQL: how long opening a connection may take before the request answers 503 "
                    "(a database restarting or unreachable must not hang requests; libpq's minimum is 2 s)",
    )
    db_queue_timeout_s: float = Field(
        default=15.0, gt=0, le=300,
        description="how long a request may wait for a database connection before a 503 with Retry-After",
    )

    # Request bodies (issue 21): a body over its limit is refused with 413 before it is parsed.
    max_json_body_bytes: int = Field(default=1024 * 1024, ge=1024,
                                     description="largest request body (JSON, forms) the API reads")
    max_upload_body_bytes: int | None = Field(
        default=None, ge=1024,
        description="largest multipart body of a spreadsheet import; empty: the import's file limit "
                    "(dispatch.exchange.imports.MAX_FILE_BYTES, 5 MiB) plus 64 KiB for the multipart envelope",
    )

    # RODO (issue 20).  The calendar feed goes to whatever calendar service a worker uses (Google,
    # Microsoft, Apple...): by default it carries only time, place and service, no names or notes.
    calendar_feed_details: bool = Field(
        default=False,
        description="the calendar feed also carries the senior's name, the visit's tasks, notes for workers and, "
                    "for rides, the phone: only if the centre accepts that the worker's calendar provider holds them",
    )
    idempotency_key_ttl_hours: int = Field(
        default=24, ge=1, le=24 * 90,
        description="an Idempotency-Key is remembered this long; after it, the key is free again (and pruned)",
    )
    # Retention per record kind (`carepath retention apply`, dispatch.access.retention): days after
    # which a record is deleted; 0 keeps it for ever.  Delivered hours (published rosters, check-ins)
    # are records of publicly funded services: keep them at least as long as the accounts need.
    retention_audit_log_days: int = Field(default=5 * 366, ge=0, description="audit rows older than this are deleted")
    retention_checkins_days: int = Field(default=5 * 366, ge=0,
                                         description="check-ins (delivered hours, workers' notes) of days older than this")
    retention_drafts_days: int = Field(default=30, ge=0,
                                       description="draft and superseded roster versions of days older than this")
    retention_plan_jobs_days: int = Field(default=90, ge=0, description="finished planning jobs older than this")
    retention_idempotency_keys_days: int = Field(default=7, ge=0,
                                                 description="idempotency keys older than this (they expire sooner)")
    retention_login_throttles_days: int = Field(default=1, ge=0,
                                                description="login throttle rows this long past their expiry")
    retention_revoked_tokens_days: int = Field(default=1, ge=0,
                                               description="revoked-token rows this long past the token's expiry")
    retention_schedule_reads_days: int = Field(default=90, ge=0,
                                               description="which roster version a worker last saw, for days older than this")
    retention_calendar_tokens_days: int = Field(default=90, ge=0,
                                                description="revoked calendar-feed tokens revoked longer ago than this")

    solve_time_limit_s: int = Field(default=10, gt=0)
    weights_file: Path | None = Field(
        default=None,
        description="TOML with [weights] (and [search]) overriding optimizer/params.toml: the objective's weights",
    )

    # Planning jobs (dispatch.jobs).  SQLite: solver children of the API process at once (each
    # holds a core for its whole time limit); further jobs wait queued for a free slot.
    max_plan_jobs: int = Field(default=2, ge=1, le=32,
                               description="SQLite: planning jobs solving at once per API process; more wait queued")
    # A solver child takes a whole core for its time limit; on a machine it shares with the API
    # (the SQLite default, or `carepath worker` beside `carepath serve`) the phones' requests must come
    # first (benchmarks/README "Mixed load"): the child lowers its own CPU priority by this much.
    solver_nice: int = Field(default=10, ge=0, le=19,
                             description="how much a solver child lowers its CPU priority (nice); 0 keeps it")
    # PostgreSQL: procrastinate's worker heartbeat and stall threshold.  A `carepath worker`
    # silent for `worker_stalled_after_s` is dead; its job is retried by another worker.
    worker_heartbeat_s: float = Field(default=10.0, gt=0, le=300,
                                      description="how often `carepath worker` reports alive (and looks for stalled jobs)")
    worker_stalled_after_s: float = Field(default=30.0, gt=0, le=3600,
                                          description="a worker silent this long is dead: its job is retried or failed")
    # PostgreSQL: a split day's areas go to the queue, solved by any free `carepath worker`
    # (dispatch.jobs.areas); off: the job solves them one after another itself.
    queue_areas: bool = Field(default=True,
                              description="PostgreSQL: hand a split day's areas to the queue's workers")

    # Senior taxi (issue #5).  Defaults from domain.md 1.1 (door-to-door help, return after
    # the appointment) and the programme's Mon-Fri 6:00-20:00 service day; all configurable.
    ride_door_to_car_minutes: int = Field(default=10, ge=0, le=60,
                                          description="helping the senior from the flat into the car")
    ride_car_to_door_minutes: int = Field(default=10, ge=0, le=60,
                                          description="helping the senior from the car to the destination's door")
    ride_wheelchair_extra_minutes: int = Field(default=10, ge=0, le=60,
                                               description="more at each end for a wheelchair: ramp, securing")
    ride_arrival_margin_minutes: int = Field(default=30, ge=0, le=240,
                                             description="arrive at most this long before the appointment")
    ride_time_factor: float = Field(default=1.5, ge=1.0, le=5.0,
                                    description="max ride time = direct travel x factor + extra")
    ride_time_extra_minutes: int = Field(default=15, ge=0, le=120)
    ride_return_wait_minutes: int = Field(default=30, ge=0, le=240,
                                          description="the return pickup may start up to this long after the "
                                                      "appointment's expected end")
    ride_on_call_until: str = Field(default="20:00", pattern=r"^([01]\d|2[0-3]):[0-5]\d$",
                                    description="local end of the taxi day: an on-call return may be picked up until then")
    labour_settlement_months: int = Field(
        default=1, ge=1, le=4,
        description="working-time settlement period in months (art. 129 par. 1 KP: up to 4; the equivalent system: "
                    "1, art. 135); periods run from January (1: months, 3: quarters, 4: Jan-Apr, May-Aug, Sep-Dec)",
    )
    labour_overtime_hours_per_year: int = Field(
        default=150, ge=0, le=416,
        description="overtime a year per employee (art. 151 par. 3 KP: 150 h unless the regulamin says otherwise)",
    )
    labour_max_weekly_hours: int = Field(
        default=48, ge=1, le=60,
        description="working time incl. overtime per week (art. 131 KP: 48 h on average; applied to each week)",
    )
    ride_wheelchair_takes_seat: bool = Field(default=True,
                                             description="a wheelchair passenger also counts one seat (conservative)")

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown IANA time zone {value!r}") from exc
        return value

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper_log_level(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value

    @model_validator(mode="after")
    def _fill_database_url(self) -> Settings:
        if not self.database_url:
            self.database_url = default_database_url(self.data_dir)
        return self

    @property
    def database_url_configured(self) -> bool:
        """Whether a database was named (``CAREPATH_DATABASE_URL`` or ``.env``) rather than defaulted.

        ``carepath demo`` loads into a named database and otherwise keeps to its own SQLite file.
        """
        return self.database_url != default_database_url(self.data_dir)

    @model_validator(mode="after")
    def _stall_after_heartbeats(self) -> Settings:
        # A live worker that missed one beat (a slow query, a GC pause) must not look dead.
        if self.worker_stalled_after_s < 2 * self.worker_heartbeat_s:
            raise ValueError(
                f"CAREPATH_WORKER_STALLED_AFTER_S ({self.worker_stalled_after_s:g}) must be at least twice "
                f"CAREPATH_WORKER_HEARTBEAT_S ({self.worker_heartbeat_s:g})"
            )
        return self

    @model_validator(mode="after")
    def _osrm_needs_url(self) -> Settings:
        if self.travel_provider == "osrm" and not self.osrm_url:
            raise ValueError("CAREPATH_TRAVEL_PROVIDER=osrm needs CAREPATH_OSRM_URL (e.g. http://127.0.0.1:5000)")
        return self

    @model_validator(mode="after")
    def _nominatim_needs_a_name(self) -> Settings:
        if self.geocoder == "nominatim" and self.environment != "development" \
                and self.nominatim_user_agent.strip() == PLACEHOLDER_USER_AGENT:
            raise ValueError("CAREPATH_GEOCODER=nominatim needs CAREPATH_NOMINATIM_USER_AGENT naming this installation "
                             "and a contact (Nominatim's usage policy), e.g. 'carepath MOPR Kielce (it@mopr.kielce.pl)'")
        return self

    @model_validator(mode="after")
    def _refuse_known_secret(self) -> Settings:
        """No server signs tokens with a secret someone else can know.

        A published secret is refused everywhere; outside development the secret must be set
        (a generated file is fine for one machine, not for a site with several servers) and long.
        """
        key = self.secret_key.get_secret_value() if self.secret_key is not None else None
        if key is not None and key in PUBLISHED_SECRET_KEYS:
            raise ValueError("CAREPATH_SECRET_KEY is a secret published in carepath's source: anyone could sign "
                             "tokens with it; set a long random one (python -c 'import secrets; "
                             "print(secrets.token_urlsafe(48))')")
        if self.environment != "development":
            if key is None:
                raise ValueError(f"environment is {self.environment!r} but CAREPATH_SECRET_KEY is not set: set a "
                                 "long random one (python -c 'import secrets; print(secrets.token_urlsafe(48))')")
            if len(key) < MIN_SECRET_KEY_LENGTH:
                raise ValueError(f"CAREPATH_SECRET_KEY has {len(key)} characters; use at least "
                                 f"{MIN_SECRET_KEY_LENGTH} random ones")
        return self

    @property
    def zone(self) -> ZoneInfo:
        """The roster time zone as a ``ZoneInfo``."""
        return ZoneInfo(self.timezone)

    def speed_kmh(self, mode: str) -> float:
        """Average speed for a travel mode (``walk``, ``public_transport`` or ``car``)."""
        speeds = {
            "walk": self.walk_speed_kmh,
            "public_transport": self.public_transport_speed_kmh,
            "car": self.car_speed_kmh,
        }
        try:
            return speeds[mode]
        except KeyError:
            raise ValueError(f"unknown travel mode {mode!r}; expected one of {sorted(speeds)}") from None


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once.  Tests: ``get_settings.cache_clear()`` after changing env."""
    settings = Settings()
    logging.getLogger(__name__).debug("settings loaded for environment %s", settings.environment)
    return settings
