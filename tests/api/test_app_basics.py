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
