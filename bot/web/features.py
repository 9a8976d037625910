"""The routers of the web features, served only when ATTN_PUBLIC_URL is set.

A feature adds its router here (one import, one list entry); `create_web_app` includes them
after the webhook and the operational endpoints, so no feature can shadow those.
"""

from __future__ import annotations

from fastapi import APIRouter


def feature_routers() -> list[APIRouter]:
    """Every web feature's router (imported here, not at module level, so a feature's
    imports cost nothing when the web features are off)."""
    routers: list[APIRouter] = []
    return routers
