"""Conditional GET of feeds and pages with httpx.

:meth:`Fetcher.get` sends ``If-None-Match`` (the stored ETag) and ``If-Modified-Since``
(the stored Last-Modified) when it has them, a User-Agent naming yuqing, and a timeout;
it follows redirects and stops reading past :data:`~yuqing.sources.web.MAX_FETCH_BYTES`.
It never raises for a failed fetch: a :class:`FetchResult` says what happened (304: nothing
new; 5xx, 408, 429 and transport errors: try again later; other 4xx: a broken address).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import httpx

from yuqing import __version__
from yuqing.plans.politeness import retry_after
from yuqing.sources.web import MAX_FETCH_BYTES

__all__ = ["FetchResult", "Fetcher"]


@dataclass(slots=True, frozen=True)
class FetchResult:
    """One GET: ``status`` (None when no answer came), the body of a 200, the validators
    to send next time, the seconds a ``Retry-After`` asked for, and an error sentence."""

    url: str
    status: int | None
    body: bytes | None = None
    etag: str | None = None
    last_modified: str | None = None
    retry_after: float | None = None
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300 and self.body is not None

    @property
    def not_modified(self) -> bool:
        return self.status == 304


class Fetcher:
    """A pooled httpx client for plan fetches. ``transport`` is for tests of odd servers;
    the poller's tests use a real local HTTP server."""

    def __init__(
        self,
        *,
        user_agent: str,
        timeout: float,
        max_bytes: int = MAX_FETCH_BYTES,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.user_agent = user_agent.replace("{version}", __version__)
        self.max_bytes = max_bytes
        self._client = httpx.Client(
            follow_redirects=True,
            timeout=httpx.Timeout(timeout),
            headers={"User-Agent": self.user_agent},
            transport=transport,
        )

    def get(
        self, url: str, *, etag: str | None, last_modified: str | None, now: datetime
    ) -> FetchResult:
        headers: dict[str, str] = {}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        try:
            with self._client.stream("GET", url, headers=headers) as response:
                status = response.status_code
                asked = retry_after(response.headers.get("retry-after"), now)
                new_etag = response.headers.get("etag") or etag
                new_modified = response.headers.get("last-modified") or last_modified
                if status == 304:
                    return FetchResult(url, status, None, new_etag, new_modified, asked)
                if status >= 400:
                    return FetchResult(
                        url,
                        status,
                        etag=etag,
                        last_modified=last_modified,
                        retry_after=asked,
                        error=f"{url}: HTTP {status}",
                    )
                body = bytearray()
                for part in response.iter_bytes():
                    body += part
                    if len(body) > self.max_bytes:
                        return FetchResult(
                            url,
                            status,
                            etag=etag,
                            last_modified=last_modified,
                            error=f"{url}: the response is over {self.max_bytes:,} bytes",
                        )
                return FetchResult(url, status, bytes(body), new_etag, new_modified, asked)
        except httpx.TimeoutException as exc:
            return FetchResult(
                url,
                None,
                etag=etag,
                last_modified=last_modified,
                error=f"{url}: no answer within the timeout ({type(exc).__name__})",
            )
        except httpx.HTTPError as exc:
            return FetchResult(
                url,
                None,
                etag=etag,
                last_modified=last_modified,
                error=f"{url}: {type(exc).__name__}: {exc}",
            )

    def close(self) -> None:
        self._client.close()
