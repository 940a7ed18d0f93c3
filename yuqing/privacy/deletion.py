"""Deletion of one author's data on request (删除权, PIPL Art. 47).

:func:`delete_author` deletes every stored post whose author handle is exactly the one
asked for (of one source, or of all), with its search index entries, and logs the request
in the audit log (who asked, when, from where, how many posts). Whole posts go, not only
the handle: a post's text is itself the author's personal information, and deleting whole
posts keeps no half-anonymous copy. Aggregates change by exactly those posts (the trend
counts and event sizes shrink by them), which is the honest result of a deletion.

The author is also blocked by default (:mod:`yuqing.privacy.blocking`): put on the
store's suppression list, before the deletion, so that a source delivering the same posts
again (a re-read file, a feed, a stream) does not store them again; ``block=False`` only
deletes. The audit entry says whether it blocked.

What stays, and why (docs/privacy.md): alerts and briefings already made keep the sample
texts they quoted; events keep their stored summary until the next clustering.
"""

from __future__ import annotations

from dataclasses import dataclass

from yuqing.errors import UsageError
from yuqing.privacy.audit import record
from yuqing.privacy.blocking import block_author, handle_of, source_of
from yuqing.store.base import Store


@dataclass(slots=True, frozen=True)
class AuthorDeletion:
    author: str
    source: str | None
    deleted: int
    dry_run: bool
    blocked: bool = False  # put on the suppression list (not with dry_run)

    def as_dict(self) -> dict[str, object]:
        return {
            "author": self.author,
            "source": self.source,
            "deleted": self.deleted,
            "dry_run": self.dry_run,
            "blocked": self.blocked,
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
    block: bool = True,
) -> AuthorDeletion:
    """Delete (or with ``dry_run`` count) the posts of ``author``, blocking the author first
    unless ``block`` is off; log a real deletion."""
    handle = handle_of(author)
    if not handle:
        raise UsageError("name the author whose posts to delete (the handle, without @)")
    chosen = source_of(source)
    blocked = block and not dry_run
    if blocked:  # first: a batch ingested meanwhile cannot bring the posts back
        block_author(
            store, handle, actor=actor, source=chosen, client=client, reason=reason, audit=False
        )
    count = store.delete_author_documents(handle, source=chosen, dry_run=dry_run)
    result = AuthorDeletion(handle, chosen, count, dry_run, blocked)
    if not dry_run:
        details: dict[str, object] = {"source": chosen, "deleted": count, "blocked": blocked}
        if reason:
            details["reason"] = reason
        record(store, "delete_author", actor, client=client, target=handle, details=details)
    return result
