"""Overdue first statements while the web server runs (docs/response.md).

The router's lifespan starts one background thread with the app: every ``[cases]
check_interval`` (wall time; the first check one interval after start) it runs
:meth:`yuqing.cases.overdue_alerts.DeadlineWatch.check` on a store of its own, with the app's
clock, and delivers each new alert through the configured ``[[alerts.channels]]``
(delivery attempts go to the store's delivery log, as in ``yuqing run``). The check is
idempotent across processes (one alert per case and deadline in the store), so ``yuqing
run`` and ``yuqing serve`` on one store may both run it.

``POST /api/v1/cases/check-deadlines`` runs the same check at once (a token is needed):
for an operator, a cron job or a drill on scenario time.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import APIRouter, FastAPI, Request

from yuqing.alerts.delivery import Dispatcher
from yuqing.alerts.dispatcher_setup import dispatcher_for
from yuqing.cases.overdue_alerts import DeadlineWatch
from yuqing.errors import YuqingError
from yuqing.web.deps import WebState
from yuqing.web.routes_api import ERRORS, State, Token

LOG = logging.getLogger("yuqing.web.deadlines")


def _dispatcher(state: WebState) -> Dispatcher:
    return dispatcher_for(state.settings, clock=state.clock)


class _Watcher:
    """The background thread of one app."""

    def __init__(self, state: WebState) -> None:
        self.state = state
        self.stop = threading.Event()
        self.dispatcher = _dispatcher(state)
        self.watch = DeadlineWatch(state.settings, state.clock, submit=self.dispatcher.submit)
        self.thread = threading.Thread(target=self._loop, name="yuqing-deadlines", daemon=True)

    def _loop(self) -> None:
        interval = self.state.settings.cases.check_seconds
        while not self.stop.wait(interval):
            try:
                with self.state.store() as store:
                    raised = self.watch.check(store)
                if raised:
                    LOG.info("overdue first statements: %d alert(s) raised", len(raised))
            except YuqingError as exc:  # a failing check must not end the server
                LOG.error("checking case deadlines failed: %s", exc)

    def close(self) -> None:
        self.stop.set()
        self.thread.join(5.0)
        self.dispatcher.close(5.0)


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    state: WebState = app.state.web
    watcher = _Watcher(state)
    app.state.deadline_watcher = watcher
    watcher.thread.start()
    try:
        yield
    finally:
        watcher.close()


router = APIRouter(prefix="/api/v1", tags=["cases"], responses=ERRORS, lifespan=lifespan)


@router.post(
    "/cases/check-deadlines",
    summary="Raise the alerts of overdue first statements now (each once)",
)
def check_deadlines(request: Request, state: State, token: Token) -> dict[str, Any]:
    del token
    watcher: _Watcher | None = getattr(request.app.state, "deadline_watcher", None)
    submit = watcher.dispatcher.submit if watcher is not None else None
    watch = DeadlineWatch(state.settings, state.clock, submit=submit)
    with state.store() as store:
        raised = watch.check(store)
    return {
        "ok": True,
        "raised": len(raised),
        "alerts": [a.as_payload() for a in raised],
    }
