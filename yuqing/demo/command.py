"""`yuqing demo`: a drill scenario through the whole pipeline into ``DIR/yuqing.db``, a
printed summary and login, then the dashboard served while the rest of the story is
replayed live (see :mod:`yuqing.demo.live`; docs/drills.md, "The demo").

With ``serve`` off the whole story is ingested at once and the command returns (for
scripts and tests).
"""

from __future__ import annotations

import sys
from pathlib import Path

import orjson
from rich.console import Console

from yuqing.console import RejectReporter
from yuqing.demo.live import DemoFeed
from yuqing.demo.story import Story
from yuqing.settings import Settings
from yuqing.store.url import open_store

__all__ = ["reset_store", "run_demo", "serve_demo"]


def reset_store(db: Path) -> None:
    """Remove the demo's SQLite file (and its WAL files) so every demo starts afresh."""
    for path in (db, db.with_name(db.name + "-wal"), db.with_name(db.name + "-shm")):
        path.unlink(missing_ok=True)


def _minutes(seconds: float) -> str:
    return f"{seconds / 60:.0f} 分钟" if seconds >= 90 else f"{seconds:.0f} 秒"


def run_demo(
    settings: Settings,
    story: Story,
    folder: Path,
    *,
    console: Console,
    token: str,
    serve: bool = True,
    speed: float = 240.0,
    loop: bool = False,
    host: str | None = None,
    port: int | None = None,
) -> None:
    """Write the story to ``folder/posts.jsonl``, ingest it (all of it without ``serve``;
    its head with it), print the summary and the demo login, then serve the dashboard
    while the rest plays (until Ctrl+C)."""
    from yuqing.users import create_user, new_password

    data = folder / "posts.jsonl"
    data.write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in story.records))
    feed = DemoFeed(settings, story, out=sys.stdout)
    store = open_store(settings.store)
    try:
        with RejectReporter(None, several_sources=False) as reporter:
            report = feed.ingest_at_once(
                store, story.head if serve else story.records, on_reject=reporter
            )
        hits = store.search("过期食材", limit=3)
        demo_password = new_password()  # the demo's admin, to sign in to the dashboard
        create_user(store, "admin", role="admin", password=demo_password, display_name="演示管理员")
    except BaseException:
        feed.stop()
        raise
    finally:
        store.close()
    feed.summary.print(console)
    console.print(f"搜索“过期食材”: {' | '.join(h.snippet for h in hits) or '无结果'}")
    console.print(f"数据: {data}   存储: {settings.store}")
    console.print(f"试试: yuqing --store {settings.store} search 食堂")
    print(report.summary(), flush=True)
    console.print(f"看板登录: 用户名 admin  密码 {demo_password}")
    if not serve:
        feed.stop()
        return
    where = f"http://{host or settings.web.host}:{port or settings.web.port}/"
    console.print(f"舆情看板: {where}  接口令牌: {token}  (Ctrl+C 退出)")
    rest = len(story.tail)
    hours = (story.scenario.end - story.split_at).total_seconds() / 3600
    pace = (
        f"以 {speed:g} 倍速实时回放（约 {_minutes(hours * 3600 / speed)}）" if speed else "尽快回放"
    )
    console.print(
        f"已导入前 {(story.split_at - story.scenario.start).total_seconds() / 3600:g} 小时；"
        f"其余 {hours:g} 小时的 {rest} 条帖文{pace}，新帖文、事件和预警将陆续出现"
        + ("（播完后循环）" if loop else "")
    )
    serve_demo(settings, feed, speed=speed, loop=loop, host=host, port=port)


def serve_demo(
    settings: Settings,
    feed: DemoFeed,
    *,
    speed: float,
    loop: bool = False,
    host: str | None = None,
    port: int | None = None,
) -> None:
    """Start the live replay and serve the dashboard on the demo store (its clock: the
    demo's scenario time) until interrupted; then stop the replay."""
    import uvicorn

    from yuqing.web.app import create_app

    app = create_app(settings, clock=feed.clock)
    feed.start_live(speed, loop=loop)
    try:
        uvicorn.run(
            app,
            host=host or settings.web.host,
            port=port or settings.web.port,
            log_level="warning",  # the console tells the story; requests would drown it
        )
    finally:
        feed.stop()
