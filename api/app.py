"""The HTTP API application factory (``carepath serve`` runs ``create_app``).

Thin by design: routers translate HTTP to calls into ``dispatch/`` and back.  The OpenAPI
document lives at ``/api/v1/openapi.json``; every error is RFC 9457 problem+json.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio.to_thread
from fastapi import FastAPI, Request
from sqlalchemy.engine import Engine

from api import console, problems
from api.nul_guard import NulGuard
from api.console.headers import SecurityHeadersMiddleware
from api.log_redaction import install_redaction
from api.body_limit import MULTIPART_OVERHEAD_BYTES, BodyLimitMiddleware, BodyLimits
from dispatch.storage.db import make_engine
from dispatch.providers.geocoding import geocoder_from_settings
from dispatch.exchange.imports import MAX_FILE_BYTES
from dispatch.access.secret_key import signing_secret
from dispatch.clock import Clock
from dispatch.settings import Settings, get_settings

API_PREFIX = "/api/v1"


@asynccontextmanager
async def _threads_for_admitted_requests(app: FastAPI) -> AsyncIterator[None]:
    """Enough worker threads that every request admitted to the database also finds a thread.

    ``api.deps.db_slot`` admits ``db_pool_size + db_max_overflow`` requests; each needs a thread at
    a time, and requests that use no database (health, docs) need a few more.
    """
    from api.deps import db_slots

    limiter = anyio.to_thread.current_default_thread_limiter()
    limiter.total_tokens = max(limiter.total_tokens, db_slots(app) + 8)
    build_routes(app)
    yield


def build_routes(app: FastAPI) -> int:
    """Build every route's request handling now, at startup, rather than on the first requests.

    FastAPI (0.165) builds an included router's routes (dependencies, body and response models) when
    a request first walks that router: about 0.3 s of CPU in the event loop's thread, so the first
    requests after a start queued behind it (issue 21: 100 phones polling a freshly started server
    saw p50 400 ms for three seconds, then 8 ms).  Walks the routers the way a request does; on a
    FastAPI without lazily built routers there is nothing to walk.  Returns the routes built.
    """
    def walk(routes: list) -> int:
        built = 0
        for route in routes:
            candidates = getattr(route, "effective_candidates", None)
            if callable(candidates):
                built += walk(candidates())
                low = getattr(route, "effective_low_priority_routes", None)
                if callable(low):
                    built += len(low())
            else:
                built += 1
        return built

    return walk(list(app.router.routes))


def create_app(settings: Settings | None = None, engine: Engine | None = None, clock: Clock | None = None) -> FastAPI:
    """The app on ``settings``' database (or ``engine``); ``clock`` says what "now" is (``api.clock``)."""
    settings = settings or get_settings()
    app = FastAPI(
        lifespan=_threads_for_admitted_requests,
        title="carepath",
        version="0.1.0",
        summary="Scheduling and dispatch of in-home services for seniors.",
        openapi_url=f"{API_PREFIX}/openapi.json",
        docs_url=f"{API_PREFIX}/docs",
        redoc_url=None,
    )
    app.state.built_for = _built_for(settings)
    bind(app, settings, engine, clock)
    problems.install(app)
    app.add_middleware(NulGuard)  # inside the body limits: it reads JSON and form bodies whole
    app.add_middleware(BodyLimitMiddleware, limits=_body_limits(settings))

    @app.get(f"{API_PREFIX}/health", operation_id="health-get", tags=["health"])
    async def health(request: Request) -> dict[str, str]:
        """Liveness: the process answers and knows its time zone (no database, no worker thread)."""
        return {"status": "ok", "timezone": request.app.state.settings.timezone}

    for router in _routers():
        app.include_router(router, prefix=API_PREFIX)
    console.install(app)  # the web console's pages under /console (and / leading there)
    # Outermost: every answer, the body limit's 413s included, gets the security headers.
    app.add_middleware(SecurityHeadersMiddleware, tile_url=settings.map_tiles, docs_path=f"{API_PREFIX}/docs")
    install_redaction()
    return app


def bind(app: FastAPI, settings: Settings, engine: Engine | None = None, clock: Clock | None = None) -> FastAPI:
    """Point a built app at ``settings``' database (or ``engine``) and ``clock``, forgetting the old ones.

    Everything a request reads per app lives in ``app.state`` and is set here, once.  Why an app is
    ever re-bound: FastAPI builds each route's dependants and response models on an app's first
    requests (about 0.3 s of CPU an app), so the test suite builds one app per process and binds it
    to each test's fresh database.  Settings the middleware was built with (body limits, map tiles)
    cannot change this way: a ``ValueError`` says so, and such an app is built with ``create_app``.
    """
    if app.state.built_for != _built_for(settings):
        raise ValueError("these settings change the app's middleware (body limits or map tiles): build a new app")
    app.state.settings = settings
    app.state.signing_secret = signing_secret(settings)
    app.state.engine = engine or make_engine(settings.database_url, settings=settings)
    app.state.clock = clock  # None: api.clock.clock, read per request
    app.state.geocoder = geocoder_from_settings(settings)  # None unless CAREPATH_GEOCODER=nominatim
    app.state.plan_runner = None  # made on first use for this engine (api.routers.jobs.runner_of)
    return app


def _built_for(settings: Settings) -> tuple[object, ...]:
    """What of ``settings`` is built into the app's middleware (``bind`` refuses to change it)."""
    return (_body_limits(settings), settings.map_tiles)


def _body_limits(settings: Settings) -> BodyLimits:
    """The request body limits from the settings (the upload limit follows the import file limit)."""
    upload = settings.max_upload_body_bytes or MAX_FILE_BYTES + MULTIPART_OVERHEAD_BYTES
    return BodyLimits(settings.max_json_body_bytes, upload, (f"{API_PREFIX}/imports/", "/console/imports"))


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
