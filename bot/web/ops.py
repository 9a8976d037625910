"""The operational endpoints: `/healthz` (alive), `/readyz` (stores reachable), `/metrics`.

nginx answers 404 for them from outside (deploy/nginx.conf); they are for the orchestrator
and Prometheus inside the network.
"""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse, PlainTextResponse

from bot.context import SERVICES_KEY
from bot.metrics import metrics_of
from bot.web.deps import ApplicationDep
from bot.web.state import WebState

READY_TIMEOUT_SECONDS = 2.0

router = APIRouter(include_in_schema=False)


@router.get("/healthz")
@router.head("/healthz", include_in_schema=False)  # load balancers probe with HEAD too
async def healthz() -> Response:
    return PlainTextResponse("ok\n")


@router.get("/readyz")
@router.head("/readyz", include_in_schema=False)
async def readyz(request: Request, application: ApplicationDep) -> Response:
    state: WebState = request.app.state.web
    services = application.bot_data.get(SERVICES_KEY)
    if services is None or state.closing:
        status = "stopping" if state.closing else "starting"
        return JSONResponse({"ready": False, "state": status}, status_code=503)
    checks = await services.ready(READY_TIMEOUT_SECONDS)
    ready = all(checks.values())
    body: dict[str, object] = {"ready": ready}
    body.update({name: "ok" if ok else "unavailable" for name, ok in checks.items()})
    return JSONResponse(body, status_code=200 if ready else 503)


@router.get("/metrics")
async def metrics(application: ApplicationDep) -> Response:
    body, content_type = metrics_of(application).render()
    return Response(body, headers={"Content-Type": content_type})
