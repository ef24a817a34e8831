"""Settings come from CAREPATH_* variables and .env, with safe defaults and a production guard."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from dispatch.settings import DEFAULT_SECRET_KEY, Settings, get_settings


def test_defaults_point_at_a_sqlite_file_under_data_dir(clean_settings: Path) -> None:
    """Without configuration the database is data/carepath.db, the zone Warsaw, travel offline."""
    s = Settings()
    assert s.database_url == "sqlite:///data/carepath.db"
    assert s.timezone == "Europe/Warsaw"
    assert s.travel_provider == "offline" and s.geocoder == "stored"
    assert (s.road_factor, s.walk_speed_kmh, s.public_transport_speed_kmh, s.car_speed_kmh) == (1.35, 4.5, 15, 30)
    assert s.solve_time_limit_s == 10
    assert s.speed_kmh("public_transport") == 15
    assert not (clean_settings / "data").exists(), "settings must not create directories"


def test_environment_variables_override_defaults(clean_settings: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """CAREPATH_-prefixed variables set fields; data_dir moves the default database."""
    monkeypatch.setenv("CAREPATH_DATA_DIR", "/srv/carepath")
    monkeypatch.setenv("CAREPATH_CAR_SPEED_KMH", "42.5")
    monkeypatch.setenv("CAREPATH_LOG_LEVEL", "debug")
    s = get_settings()
    assert s.database_url == "sqlite:////srv/carepath/carepath.db"
    assert s.car_speed_kmh == 42.5
    assert s.log_level == "DEBUG"


def test_dotenv_file_is_read_and_env_wins_over_it(clean_settings: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A .env in the working directory is read; a real environment variable beats it."""
    (clean_settings / ".env").write_text(
        "CAREPATH_DATABASE_URL=postgresql+psycopg://u@db/carepath\nCAREPATH_ROAD_FACTOR=1.5\n", encoding="utf-8"
    )
    monkeypatch.setenv("CAREPATH_ROAD_FACTOR", "1.2")
    s = Settings()
    assert s.database_url == "postgresql+psycopg://u@db/carepath"
    assert s.road_factor == 1.2


def test_get_settings_is_cached_until_cleared(clean_settings: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """get_settings() reads once; tests change the environment and clear the cache."""
    first = get_settings()
    monkeypatch.setenv("CAREPATH_TIMEZONE", "Europe/Berlin")
    assert get_settings() is first
    get_settings.cache_clear()
    assert get_settings().timezone == "Europe/Berlin"


def test_default_secret_refused_outside_development(clean_settings: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """In production the published development secret stops start-up; a real one is accepted."""
    monkeypatch.setenv("CAREPATH_ENVIRONMENT", "production")
    with pytest.raises(ValidationError, match="CAREPATH_SECRET_KEY"):
        Settings()
    monkeypatch.setenv("CAREPATH_SECRET_KEY", "x" * 48)
    s = Settings()
    assert s.secret_key.get_secret_value() != DEFAULT_SECRET_KEY
    assert "x" * 48 not in repr(s), "the secret must not leak into logs via repr"


def test_bad_values_are_rejected(clean_settings: Path) -> None:
    """Unknown zones, providers, an OSRM provider without URL and road factors below 1 are errors."""
    with pytest.raises(ValidationError, match="time zone"):
        Settings(timezone="Mars/Olympus")
    with pytest.raises(ValidationError):
        Settings(travel_provider="google")
    with pytest.raises(ValidationError, match="OSRM_URL"):
        Settings(travel_provider="osrm")
    with pytest.raises(ValidationError):
        Settings(road_factor=0.9)
    with pytest.raises(ValueError, match="travel mode"):
        Settings().speed_kmh("bicycle")
