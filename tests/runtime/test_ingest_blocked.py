"""Ingest drops the posts of authors on the suppression list (yuqing.privacy.blocking)
before the pipeline, reading the list once per batch: a real SQLite store, a real file
source and the real pipeline (without the models)."""

from __future__ import annotations

from contextlib import closing
from datetime import UTC, datetime
from pathlib import Path

import orjson
import pytest

from yuqing.models import Rejection
from yuqing.privacy.blocking import block_author
from yuqing.runtime.factory import build_pipeline
from yuqing.runtime.ingest import Ingestor
from yuqing.settings import load_settings
from yuqing.sources.base import Source
from yuqing.sources.resolve import open_sources
from yuqing.store.base import SuppressedAuthor
from yuqing.store.url import open_store

AUTHORS = ["alice", "bob", "alice", "carol", "@alice", "alice"]


def _write(path: Path) -> None:
    lines = [
        {
            "id": str(i),
            "source": "news" if i == 5 else "weibo",
            "author": author,
            "text": f"学校食堂第{i}次涨价，学生不满",
            "published_at": datetime(2026, 11, 25, 8, i, tzinfo=UTC).isoformat(),
        }
        for i, author in enumerate(AUTHORS)
    ]
    lines.append({"id": "7", "text": "   "})  # a rejection, for the rejects count
    path.write_bytes(b"\n".join(orjson.dumps(x) for x in lines) + b"\n")


def test_blocked_authors_dropped_once_per_batch(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    posts = tmp_path / "posts.jsonl"
    _write(posts)
    settings = load_settings(None, overrides={"store": f"sqlite:///{tmp_path / 's.db'}"})
    with closing(open_store(settings.store)) as store:
        block_author(store, "@alice", actor="cli:test", source="weibo")
        [logged] = store.audit_log(action="block_author")
        assert (logged.target, logged.details) == ("alice", {"source": "weibo", "new": True})
        reads: list[str] = []
        listed, mark = store.suppressed_authors, store.suppression_mark

        def counted_list() -> list[SuppressedAuthor]:
            reads.append("list")
            return listed()

        def counted_mark() -> tuple[int, int]:
            reads.append("mark")
            return mark()

        monkeypatch.setattr(store, "suppressed_authors", counted_list)
        monkeypatch.setattr(store, "suppression_mark", counted_mark)
        rejected: list[Rejection] = []

        def on_reject(source: Source, rejection: Rejection) -> None:
            rejected.append(rejection)

        ingestor = Ingestor(
            store,
            build_pipeline(settings, analysis=False),
            batch_size=3,
            resume=False,
            on_reject=on_reject,
        )
        report = ingestor.run(open_sources([str(posts)], zone=settings.zone))
        assert (report.read, report.stored, report.existing, report.rejected) == (7, 4, 0, 1)
        assert report.blocked == 2  # weibo's alice; "@alice" is another handle, as for deletion
        assert report.summary() == "read 7, stored 4, duplicates 0, rejected 1, blocked 2"
        assert [r.line for r in rejected] == [7]  # blocked posts are no rejection
        # The mark once a batch with new posts (3 a batch; the last is blank); the list once.
        assert reads == ["mark", "list", "mark"]
        since = datetime(2026, 1, 1, tzinfo=UTC)
        stored = {(d.source, d.author) for d in store.recent_documents(since, 10)}
        assert stored == {
            ("weibo", "bob"),
            ("weibo", "carol"),
            ("weibo", "@alice"),
            ("news", "alice"),
        }

        # Known posts are counted as duplicates before the list is looked at.
        again = ingestor.run(open_sources([str(posts)], zone=settings.zone))
        assert (again.stored, again.existing, again.blocked) == (0, 4, 2)
        assert reads.count("list") == 1

        # A change of the list is seen by the next batch of the same ingestor.
        assert store.unsuppress_author("alice", "weibo")
        block_author(store, "bob", actor="cli:test")
        third = ingestor.run(open_sources([str(posts)], zone=settings.zone))
        assert (third.stored, third.existing, third.blocked) == (2, 4, 0)
        assert reads.count("list") == 2
