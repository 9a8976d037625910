"""The routers of the web features, served only when ATTN_PUBLIC_URL is set.

A feature adds its router here (one import, one list entry); `create_web_app` includes them
after the webhook and the operational endpoints, so no feature can shadow those.
"""

from __future__ import annotations

from fastapi import APIRouter


def feature_routers() -> list[APIRouter]:
    """Every web feature's router (imported here, not at module level, so a feature's
    imports cost nothing when the web features are off)."""
    from bot.web.api import api_router  # the REST API for integrations (issue 16)
    from bot.web.dashboard import router as dashboard  # the teacher dashboard (issue 16)
    from bot.web.miniapp_api import router as miniapp  # the Mini App check-in (issue 14)
    from bot.web.projector import router as projector  # the projector page (issue 14)

    routers: list[APIRouter] = [api_router(), projector, miniapp, dashboard]
    return routers
