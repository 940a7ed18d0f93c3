"""End to end through the real CLI on a real SQLite file: ingest -> search -> analyze."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import opencc
import pytest

from yuqing.errors import StoreError
from yuqing.store.url import open_store

REPO = Path(__file__).resolve().parents[1]


def run(args: list[str], cwd: Path, *, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "COLUMNS": "200"}
    return subprocess.run(
        [sys.executable, "-m", "yuqing", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
    )


def write_jsonl(path: Path, records: list[Any]) -> None:
    path.write_text(
        "".join(
            (r if isinstance(r, str) else json.dumps(r, ensure_ascii=False)) + "\n" for r in records
        ),
        encoding="utf-8",
    )


POSTS: list[dict[str, Any]] = [
    {
        "id": "1",
        "text": "宁波一家酒店被曝卫生问题，顾客投诉床单未换",
        "source": "weibo",
        "author": "a",
        "published_at": "2026-11-20 08:00",
    },
    {
        "id": "2",
        "text": "武汉大学樱花节开幕，游客众多[哈哈]",
        "source": "weibo",
        "author": "b",
        "published_at": "2026-11-20T09:00:00+08:00",
    },
    {
        "id": "3",
        "text": "某中学食堂使用过期食材，多名学生腹痛就医[怒]",
        "source": "news",
        "author": "c",
        "published_at": 1763600000,
    },
]


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    return tmp_path


def test_ingest_search_stats_and_reingest(workdir: Path) -> None:
    bad = [
        "{broken json",
        {"id": "4", "text": "   "},
        {"id": "5"},
        {"id": "6", "text": "时间不对", "published_at": "yesterday-ish"},
        {"id": "7", "text": 12345},
    ]
    write_jsonl(workdir / "posts.jsonl", [*POSTS[:2], *bad, POSTS[2]])
    res = run(["ingest", "posts.jsonl", "--rejects", "rejects.jsonl", "--no-analysis"], workdir)
    assert res.returncode == 3, res.stderr
    assert res.stdout.strip().splitlines()[-1] == "read 8, stored 3, duplicates 0, rejected 5"
    for n in (3, 4, 5, 6, 7):
        assert f"line {n}: " in res.stderr
    rejects = [json.loads(line) for line in (workdir / "rejects.jsonl").read_text().splitlines()]
    assert [r["line"] for r in rejects] == [3, 4, 5, 6, 7]
    assert all({"line", "code", "reason", "raw"} <= r.keys() for r in rejects)

    again = run(["ingest", "posts.jsonl", "--no-resume", "--no-analysis"], workdir)
    assert again.stdout.strip().splitlines()[-1] == "read 8, stored 0, duplicates 3, rejected 5"

    hits = run(["search", "酒店", "--json"], workdir)  # a 2-character query
    assert hits.returncode == 0, hits.stderr
    found = [json.loads(line) for line in hits.stdout.splitlines()]
    assert [h["id"] for h in found] == ["1"]
    assert run(["search", "武汉", "--json"], workdir).stdout.count('"id"') == 1  # 武汉 in 武汉大学
    only_news = run(["search", "食堂", "--source", "news", "--json"], workdir)
    assert '"3"' in only_news.stdout
    ranged = run(["search", "宁波", "--since", "2026-11-21", "--json"], workdir)
    assert ranged.stdout.strip() == ""

    stats = json.loads(run(["stats", "--json"], workdir).stdout)
    assert stats["documents"] == 3
    assert stats["sources"] == {"weibo": 2, "news": 1}


def test_traditional_and_simplified_copies_are_duplicates(workdir: Path) -> None:
    simplified = "宁波市鄞州区某小区业主反映物业乱收停车费，要求公开账目"
    traditional = opencc.OpenCC("s2t").convert(simplified)
    assert traditional != simplified
    write_jsonl(
        workdir / "twins.jsonl",
        [
            {"id": "s", "text": simplified, "author": "a", "published_at": "2026-11-20 08:00"},
            {"id": "t", "text": traditional, "author": "b", "published_at": "2026-11-20 09:00"},
        ],
    )
    res = run(["analyze", "twins.jsonl"], workdir)
    assert res.returncode == 0, res.stderr
    out = [json.loads(line) for line in res.stdout.splitlines()]
    assert [o["id"] for o in out] == ["s", "t"]
    assert out[0]["duplicate_of"] is None
    assert out[1]["duplicate_of"] == "s"


def test_analyze_contract(workdir: Path) -> None:
    write_jsonl(workdir / "in.jsonl", [*POSTS, {"id": "x", "text": "https://t.cn/abc"}, "{oops"])
    res = run(["analyze", "in.jsonl", "--output", "out.jsonl", "--rejects", "r.jsonl"], workdir)
    assert res.returncode == 3, res.stderr
    assert "line 5: " in res.stderr
    out = [json.loads(line) for line in (workdir / "out.jsonl").read_text().splitlines()]
    assert [o["id"] for o in out] == ["1", "2", "3", "x"]  # input order
    fields = {
        "sentiment",
        "sentiment_score",
        "emotion",
        "emotion_scores",
        "keywords",
        "regions",
        "duplicate_of",
        "repost_of",
        "risk",
        "explain",
        "event_id",
        "model_version",
    }
    for o in out:
        assert fields <= o.keys()
    assert out[0]["text"] == POSTS[0]["text"]  # the input record as given
    words = [k[0] for k in out[2]["keywords"]]
    assert "过期" in words or "食材" in words or "过期食材" in words


def test_csv_with_column_mapping_and_gbk(workdir: Path) -> None:
    (workdir / "export.csv").write_bytes(
        "编号,内容,时间\n1,网友爆料某地自来水发黄,2026-11-20 10:00\n2,,2026-11-20 11:00\n".encode(
            "gbk"
        )
    )
    res = run(
        [
            "ingest",
            "export.csv",
            "--text-column",
            "内容",
            "--id-column",
            "编号",
            "--time-column",
            "时间",
            "--no-analysis",
        ],
        workdir,
    )
    assert res.returncode == 3
    assert "line 3: " in res.stderr
    assert res.stdout.strip().splitlines()[-1] == "read 2, stored 1, duplicates 0, rejected 1"
    assert '"1"' in run(["search", "自来水", "--json"], workdir).stdout


def test_usage_errors_exit_2(workdir: Path) -> None:
    assert run(["ingest", "nothing-*.jsonl"], workdir).returncode in (1, 2)
    res = run(["ingest", "x.weird"], workdir)
    assert res.returncode == 2
    assert "--kind" in res.stderr
    assert run(["search"], workdir).returncode == 2
    res = run(["--store", "mysql://x", "stats"], workdir)
    assert res.returncode == 1
    assert "mysql" in res.stderr


def test_db_migrate(workdir: Path) -> None:
    res = run(["--store", "sqlite:///m.db", "db", "migrate"], workdir)
    assert res.returncode == 0, res.stderr
    assert "schema version" in res.stdout
    assert (workdir / "m.db").exists()


def test_kill_9_loses_nothing_and_rerun_completes(workdir: Path) -> None:
    n = 60_000
    write_jsonl(
        workdir / "big.jsonl",
        [
            {
                "id": str(i),
                "text": f"第{i}条帖文，关于城市交通拥堵与停车难的讨论{i % 97}",
                "author": f"u{i % 500}",
                "published_at": 1763600000 + i,
            }
            for i in range(n)
        ],
    )
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "yuqing",
            "ingest",
            "big.jsonl",
            "--batch-size",
            "500",
            "--no-analysis",
        ],
        cwd=workdir,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    seen = 0
    deadline = time.monotonic() + 120
    db = workdir / "yuqing.db"
    while time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.3)
        if db.exists():
            store = open_store(f"sqlite:///{db}", migrate=False)
            try:
                seen = store.stats().documents
            except StoreError:
                continue  # the ingest is still creating the schema
            finally:
                store.close()
            if seen >= 2000:
                break
    assert proc.poll() is None, "ingest finished before it could be killed; raise n"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    store = open_store(f"sqlite:///{db}", migrate=False)
    try:
        after_kill = store.stats().documents
    finally:
        store.close()
    assert after_kill >= seen > 0  # everything committed before the kill is still there
    assert after_kill < n
    res = run(
        ["ingest", "big.jsonl", "--batch-size", "2000", "--no-analysis"], workdir, timeout=300
    )
    assert res.returncode == 0, res.stderr
    store = open_store(f"sqlite:///{db}", migrate=False)
    try:
        assert store.stats().documents == n  # completed, no duplicates (ids are unique per source)
    finally:
        store.close()


def test_analyze_events_groups_one_story(workdir: Path) -> None:
    story = [
        "鄞州实验中学食堂被曝使用过期食材，多名学生腹痛就医",
        "鄞州实验中学食堂过期食材事件，家长要求公开采购记录",
        "鄞州实验中学食堂使用过期食材，教育局成立调查组",
    ]
    other = "杭州西湖断桥今天游客很多，周末出行注意安全"
    records = [
        {"id": f"s{i}", "text": t, "published_at": f"2026-11-20 {8 + i:02d}:00"}
        for i, t in enumerate(story)
    ]
    records.append({"id": "o", "text": other, "published_at": "2026-11-20 09:30"})
    write_jsonl(workdir / "ev.jsonl", records)
    res = run(["analyze", "ev.jsonl", "--events"], workdir)
    assert res.returncode == 0, res.stderr
    out = {o["id"]: o for o in map(json.loads, res.stdout.splitlines())}
    events = {out[f"s{i}"]["event_id"] for i in range(3)}
    assert len(events) == 1 and None not in events
    assert out["o"]["event_id"] not in events
