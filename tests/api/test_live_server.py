"""The ``LiveServer`` behind the ``live_api`` fixture: it serves the app over real HTTP and, once
stopped, leaves no thread and no listening port behind (other tests start many of them)."""

from __future__ import annotations

import threading

import httpx
import pytest

from api.app import create_app
from tests.api.conftest import PASSWORDS, LiveServer, _prepared_database


def test_live_server_serves_the_app_and_stops_without_leftovers(database_url: str, tmp_path) -> None:
    """After start, a login and an authenticated GET answer over a real socket; after stop, the server's
    threads (its own and the thread pool's) end and the port refuses connections."""
    settings, engine = _prepared_database(database_url, tmp_path)
    before = {t.ident for t in threading.enumerate()}
    try:
        with LiveServer(create_app(settings, engine)) as server:
            with httpx.Client(base_url=server.base_url, timeout=30) as client:
                token = client.post("/api/v1/auth/token", data={"username": "coordinator",
                                                               "password": PASSWORDS["coordinator"]})
                assert token.status_code == 200, token.text
                listed = client.get("/api/v1/requests",
                                    headers={"Authorization": f"Bearer {token.json()['access_token']}"})
                assert listed.status_code == 200, listed.text
            url = server.base_url
            assert any(t.ident not in before for t in threading.enumerate())
    finally:
        engine.dispose()
    leftovers = [t for t in threading.enumerate() if t.ident not in before]
    for thread in leftovers:  # the thread pool's workers are told to stop as the loop ends: a moment
        thread.join(5)
    assert [t.name for t in leftovers if t.is_alive()] == []
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{url}/api/v1/health", timeout=5)
