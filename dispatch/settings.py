"""Runtime configuration of the dispatch layer, read from ``CAREPATH_*`` variables and ``.env``.

One ``Settings`` object carries every knob that differs between a developer's laptop, CI and a
municipality's server, so no module reads ``os.environ`` itself.  ``get_settings()`` caches it;
tests change the environment and call ``get_settings.cache_clear()`` (or build ``Settings(...)``
directly and pass it down).

Nothing here touches the disk: the default SQLite file lives under ``data_dir``, which
``dispatch.db.make_engine`` creates on demand.
"""

from __future__ import annotations

import logging
from functools import lru_cache
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

#: The secret shipped for development.  Anyone can read it in this file, hence the refusal
#: to run with it anywhere else (see ``Settings._refuse_default_secret``).
DEFAULT_SECRET_KEY = "carepath-development-secret-change-me"

TravelModeName = Literal["walk", "public_transport", "car"]


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
    timezone: str = "Europe/Warsaw"

    travel_provider: Literal["offline", "osrm"] = "offline"
    osrm_url: str | None = None
    geocoder: Literal["stored", "nominatim"] = "stored"
    nominatim_user_agent: str = "carepath/0.1 (development; set CAREPATH_NOMINATIM_USER_AGENT)"

    road_factor: float = Field(default=1.35, ge=1.0, description="road distance / straight distance")
    walk_speed_kmh: float = Field(default=4.5, gt=0)
    public_transport_speed_kmh: float = Field(default=15.0, gt=0, description="door to door, incl. waiting")
    car_speed_kmh: float = Field(default=30.0, gt=0, description="urban average")

    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] = "INFO"
    environment: str = "development"
    secret_key: SecretStr = SecretStr(DEFAULT_SECRET_KEY)

    solve_time_limit_s: int = Field(default=10, gt=0)
    weights_file: Path | None = Field(
        default=None,
        description="TOML with [weights] (and [search]) overriding optimizer/params.toml: the objective's weights",
    )

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
            self.database_url = f"sqlite:///{(self.data_dir / 'carepath.db').as_posix()}"
        return self

    @model_validator(mode="after")
    def _osrm_needs_url(self) -> Settings:
        if self.travel_provider == "osrm" and not self.osrm_url:
            raise ValueError("CAREPATH_TRAVEL_PROVIDER=osrm needs CAREPATH_OSRM_URL (e.g. http://127.0.0.1:5000)")
        return self

    @model_validator(mode="after")
    def _refuse_default_secret(self) -> Settings:
        if self.environment != "development" and self.secret_key.get_secret_value() == DEFAULT_SECRET_KEY:
            raise ValueError(
                f"environment is {self.environment!r} but CAREPATH_SECRET_KEY is the published development "
                "default: set a long random CAREPATH_SECRET_KEY"
            )
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
        key = getattr(mode, "value", mode)
        try:
            return speeds[key]
        except KeyError:
            raise ValueError(f"unknown travel mode {mode!r}; expected one of {sorted(speeds)}") from None


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once.  Tests: ``get_settings.cache_clear()`` after changing env."""
    settings = Settings()
    logging.getLogger(__name__).debug("settings loaded for environment %s", settings.environment)
    return settings
