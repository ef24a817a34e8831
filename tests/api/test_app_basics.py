"""The application skeleton: OpenAPI document, health, problem+json for unknown paths."""

from __future__ import annotations


def test_openapi_document_is_served_under_api_v1(api) -> None:
    """Integrators find the OpenAPI document at /api/v1/openapi.json."""
    response = api.client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    assert response.json()["info"]["title"] == "carepath"


def test_unknown_path_is_a_problem_json_404(api) -> None:
    """Every error, even a missing route, answers with RFC 9457 problem+json."""
    response = api.client.get("/api/v1/no-such-thing")
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["status"] == 404 and body["type"].endswith("/not-found") and body["detail"]


def test_a_started_app_has_built_its_routes_before_the_first_request(tmp_path, monkeypatch) -> None:
    """FastAPI builds an included router's routes on the first request through it (0.3 s in the event
    loop, which stalled the first phones after a start: issue 21); the app's startup builds them all,
    so no request builds any.  Counted, not timed."""
    import pytest
    from fastapi import routing
    from fastapi.testclient import TestClient

    from api.app import create_app
    from dispatch.settings import Settings
    from dispatch.storage.migrate import upgrade

    if not hasattr(routing, "_IncludedRouter"):
        pytest.skip("this FastAPI builds routes when they are included")
    url = f"sqlite:///{(tmp_path / 'app.db').as_posix()}"
    upgrade(url)
    built: list[object] = []
    real = routing._IncludedRouter._build_effective_context

    def counting(self, route):  # noqa: ANN001 - FastAPI's private signature
        built.append(route)
        return real(self, route)

    monkeypatch.setattr(routing._IncludedRouter, "_build_effective_context", counting)
    app = create_app(Settings(database_url=url, data_dir=tmp_path, secret_key="s" * 40))
    with TestClient(app) as client:
        at_startup = len(built)
        assert client.get("/api/v1/me/schedule").status_code == 401
        assert client.get("/api/v1/seniors").status_code == 401
        assert client.get("/console/login").status_code == 200
        assert at_startup > 100 and len(built) == at_startup
