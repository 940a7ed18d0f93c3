"""Deletion of one author's data on request (删除权, PIPL Art. 47).

:func:`delete_author` deletes every stored post whose author handle is exactly the one
asked for (of one source, or of all), with its search index entries, and logs the request
in the audit log (who asked, when, from where, how many posts). Whole posts go, not only
the handle: a post's text is itself the author's personal information, and deleting whole
posts keeps no half-anonymous copy. Aggregates change by exactly those posts (the trend
counts and event sizes shrink by them), which is the honest result of a deletion.

What stays, and why (docs/privacy.md): alerts and briefings already made keep the sample
texts they quoted; events keep their stored summary until the next clustering; a source
that delivers the same posts again stores them again (ask the source to delete them, or
drop the author upstream).
"""

from __future__ import annotations

from dataclasses import dataclass

from yuqing.errors import UsageError
from yuqing.privacy.audit import record
from yuqing.store.base import Store


@dataclass(slots=True, frozen=True)
class AuthorDeletion:
    author: str
    source: str | None
    deleted: int
    dry_run: bool

    def as_dict(self) -> dict[str, object]:
        return {
            "author": self.author,
            "source": self.source,
            "deleted": self.deleted,
            "dry_run": self.dry_run,
        }


def delete_author(
    store: Store,
    author: str,
    *,
    actor: str,
    source: str | None = None,
    client: str = "",
    dry_run: bool = False,
    reason: str = "",
) -> AuthorDeletion:
    """Delete (or with ``dry_run`` count) the posts of ``author``; log a real deletion."""
    handle = author.strip().removeprefix("@")
    if not handle:
        raise UsageError("name the author whose posts to delete (the handle, without @)")
    chosen = source.strip() if source and source.strip() else None
    count = store.delete_author_documents(handle, source=chosen, dry_run=dry_run)
    result = AuthorDeletion(handle, chosen, count, dry_run)
    if not dry_run:
        details: dict[str, object] = {"source": chosen, "deleted": count}
        if reason:
            details["reason"] = reason
        record(store, "delete_author", actor, client=client, target=handle, details=details)
    return result
