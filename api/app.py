"""The HTTP API application factory (``carepath serve`` runs ``create_app``).

Thin by design: routers translate HTTP to calls into ``dispatch/`` and back.  The OpenAPI
document lives at ``/api/v1/openapi.json``; every error is RFC 9457 problem+json.
"""

from __future__ import annotations

from fastapi import FastAPI
from sqlalchemy.engine import Engine

from api import problems
from api.login_throttle import LoginThrottle
from dispatch.db import make_engine
from dispatch.settings import Settings, get_settings

API_PREFIX = "/api/v1"


def create_app(settings: Settings | None = None, engine: Engine | None = None) -> FastAPI:
    settings = settings or get_settings()
    app = FastAPI(
        title="carepath",
        version="0.1.0",
        summary="Scheduling and dispatch of in-home services for seniors.",
        openapi_url=f"{API_PREFIX}/openapi.json",
        docs_url=f"{API_PREFIX}/docs",
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.login_throttle = LoginThrottle()
    app.state.engine = engine or make_engine(settings.database_url)
    problems.install(app)

    @app.get(f"{API_PREFIX}/health", operation_id="health-get", tags=["health"])
    def health() -> dict[str, str]:
        """Liveness: the process answers and knows its time zone."""
        return {"status": "ok", "timezone": settings.timezone}

    for router in _routers():
        app.include_router(router, prefix=API_PREFIX)
    return app


def _routers() -> list:
    """Routers present in this build (each module under api/routers exposes ``router``)."""
    import importlib
    import pkgutil

    import api.routers as package

    out = []
    for info in sorted(pkgutil.iter_modules(package.__path__), key=lambda i: i.name):
        module = importlib.import_module(f"api.routers.{info.name}")
        if hasattr(module, "router"):
            out.append(module.router)
    return out
