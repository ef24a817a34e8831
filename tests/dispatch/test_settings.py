"""Settings come from CAREPATH_* variables and .env, with safe defaults and a production guard."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from dispatch.settings import PUBLISHED_SECRET_KEYS, Settings, get_settings


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


def test_production_without_a_secret_refuses_to_start(clean_settings: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Outside development a missing or short CAREPATH_SECRET_KEY stops start-up; a long random one is accepted."""
    monkeypatch.setenv("CAREPATH_ENVIRONMENT", "production")
    with pytest.raises(ValidationError, match="CAREPATH_SECRET_KEY is not set"):
        Settings()
    monkeypatch.setenv("CAREPATH_SECRET_KEY", "short-secret")
    with pytest.raises(ValidationError, match="at least 32"):
        Settings()
    monkeypatch.setenv("CAREPATH_SECRET_KEY", "x" * 48)
    s = Settings()
    assert s.secret_key is not None and s.secret_key.get_secret_value() == "x" * 48
    assert "x" * 48 not in repr(s), "the secret must not leak into logs via repr"


@pytest.mark.parametrize("environment", ["development", "production"])
def test_published_secret_is_refused_everywhere(clean_settings: Path, monkeypatch: pytest.MonkeyPatch,
                                               environment: str) -> None:
    """The secret that was once in the source is refused even in development: anyone could sign tokens."""
    monkeypatch.setenv("CAREPATH_ENVIRONMENT", environment)
    for published in PUBLISHED_SECRET_KEYS:
        monkeypatch.setenv("CAREPATH_SECRET_KEY", published)
        with pytest.raises(ValidationError, match="published"):
            Settings()


def test_unset_secret_in_development_is_generated_once_and_kept(clean_settings: Path) -> None:
    """Without CAREPATH_SECRET_KEY a random secret is made in <data_dir>/secret_key (0600) and reused."""
    from dispatch.access.secret_key import secret_file, signing_secret

    s = Settings(data_dir=clean_settings / "data")
    assert s.secret_key is None
    first = signing_secret(s)
    path = secret_file(s)
    assert path.exists() and oct(path.stat().st_mode & 0o777) == "0o600"
    assert len(first) >= 48 and first not in PUBLISHED_SECRET_KEYS
    assert signing_secret(Settings(data_dir=clean_settings / "data")) == first, "a restart keeps the secret"
    other = signing_secret(Settings(data_dir=clean_settings / "elsewhere"))
    assert other != first, "two installs never share a secret"


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


def test_planning_job_limits_and_worker_thresholds(clean_settings: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Two solves at once on SQLite, a worker heartbeat every 10 s and dead after 30 s by default;
    the variables set them, and a stall threshold under two heartbeats (a live worker that missed
    one beat would look dead) or a limit of 0 is refused."""
    s = Settings()
    assert (s.max_plan_jobs, s.worker_heartbeat_s, s.worker_stalled_after_s) == (2, 10.0, 30.0)
    monkeypatch.setenv("CAREPATH_MAX_PLAN_JOBS", "1")
    monkeypatch.setenv("CAREPATH_WORKER_HEARTBEAT_S", "0.5")
    monkeypatch.setenv("CAREPATH_WORKER_STALLED_AFTER_S", "2")
    s = Settings()
    assert (s.max_plan_jobs, s.worker_heartbeat_s, s.worker_stalled_after_s) == (1, 0.5, 2.0)
    with pytest.raises(ValidationError, match="CAREPATH_WORKER_STALLED_AFTER_S"):
        Settings(worker_heartbeat_s=10, worker_stalled_after_s=15)
    with pytest.raises(ValidationError):
        Settings(max_plan_jobs=0)
