"""Personal fields (个人信息) shown only to the roles that need them.

Author handles and follower counts of posts are personal information of the people who
wrote them. ``[privacy] personal_roles`` (default admin and analyst) see them; other roles
(viewers) see :data:`MASK` instead of a handle and no follower count, in the API
(:func:`yuqing.web.views.document_dict`), the pages (the ``handle`` filter and the
``shows_personal()`` global of the templates) and the exports.

One switch per request: :func:`yuqing.web.auth.authorize` calls :func:`set_visibility` with
the principal's role once it knows it, and every serializer asks :func:`personal_visible`.
It is a context variable, so it is per request (each request runs in its own context, which
the thread running a sync route inherits); where nobody set it (the CLI, the library) the
fields are shown: whoever runs the CLI has the database anyway.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextvars import ContextVar

MASK = "用户***"

_VISIBLE: ContextVar[bool] = ContextVar("yuqing_personal_fields_visible", default=True)


def set_visibility(role: str, personal_roles: Sequence[str]) -> None:
    """Whether this request's principal (of ``role``) sees personal fields."""
    _VISIBLE.set(role in personal_roles)


def personal_visible() -> bool:
    return _VISIBLE.get()


def masked_handle(handle: str | None) -> str | None:
    """The handle, or :data:`MASK` when personal fields are hidden (None stays None)."""
    if handle is None or not handle or personal_visible():
        return handle
    return MASK


def masked_count(count: int | None) -> int | None:
    """A follower count, or None when personal fields are hidden."""
    return count if personal_visible() else None
