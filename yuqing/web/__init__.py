"""The web console and REST API v1 (FastAPI + Jinja2 + uvicorn): ``create_app`` and
``serve``. See docs/web.md."""

from __future__ import annotations

from yuqing.web.app import create_app, serve

__all__ = ["create_app", "serve"]
