"""Throughput of the many-rule matcher (Aho-Corasick prefilter) at 10 to 100,000 rules.

    .venv/bin/python benchmarks/rules.py --rules 10000 100000

Posts: the Weibo texts in ../shared/data when present (else generated), normalized by the
pipeline's Normalizer, with regions from the shipped gazetteer and seeded random
sentiment, emotion and risk. Rules: generated monitoring rules of realistic shapes
(a place and topic words, phrases cut from posts, NEAR/n, NOT, source/sentiment/region
filters, risk thresholds; about 1 in 10,000 has no literal). For each rule count: the
build time (parse + compile + index), the RSS growth, posts/s (wall and CPU) and how many
rules were fully evaluated and matched per post; beside it, the brute-force evaluation
of every rule on a few posts, as the reference. Prints markdown tables.
"""

from __future__ import annotations

import argparse
import csv
import gc
import random
import re
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import psutil

from yuqing.alerts.matcher import RuleMatcher
from yuqing.alerts.rule_match import Subject, compile_rule
from yuqing.alerts.rule_syntax import parse
from yuqing.analysis.regions import Gazetteer, RegionFinder
from yuqing.models import Document
from yuqing.pipeline.normalize import Normalizer

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
FILES = (
    "event_covid19_weibo_hashtags/posts_sample.csv",
    "event_weibo_threads_ma2016/posts.csv",
    "sentiment_weibo_senti_100k/dev.csv",
)
CJK_RUN = re.compile("[\u4e00-\u9fff]{2,}")
_TOPIC_WORDS = (
    "爆炸 火灾 事故 坍塌 塌陷 地震 洪水 暴雨 台风 疫情 封控 核酸 隔离 确诊 医院 医生 护士 学校 "
    "老师 学生 食堂 食品安全 过期 中毒 投诉 维权 欠薪 讨薪 拆迁 征地 城管 执法 警察 派出所 "
    "打人 冲突 聚集 上访 罢工 停工 污染 排放 臭味 噪音 腐败 贪污 受贿 辟谣 谣言 造谣 不实 "
    "物业 业主 烂尾 房价 涨价 停水 停电 交通 堵车 车祸 地铁 高铁 航班 延误 快递 外卖 "
    "诈骗 传销 非法集资 跑路 暴雷 理财 银行 医保 社保 养老金 退休 就业 失业 裁员 工资 加班"
)
TOPICS = tuple(_TOPIC_WORDS.split())
NEGATIONS = ("演习", "广告", "辟谣", "转发抽奖", "测试", "电视剧")


def read_texts(limit: int) -> tuple[list[str], str]:
    texts: list[str] = []
    for name in FILES:
        path = DATA / name
        if path.is_file():
            with path.open(encoding="utf-8", newline="") as handle:
                texts.extend(row["text"] for row in csv.DictReader(handle) if row.get("text"))
    if texts:
        random.Random(3).shuffle(texts)
        return texts[:limit], f"{min(limit, len(texts)):,} Weibo texts from ../shared/data"
    rng = random.Random(7)
    words = [*TOPICS, "今天", "我们", "大家", "真的", "宁波", "武汉", "北京", "上海", "的", "了"]
    made = ["".join(rng.choices(words, k=rng.randint(5, 40))) for _ in range(limit)]
    return made, f"{limit:,} generated posts (../shared/data is absent)"


def make_docs(texts: list[str], finder: RegionFinder) -> list[Document]:
    rng = random.Random(11)
    docs = [Document(id=str(i), source="weibo", text=t) for i, t in enumerate(texts)]
    Normalizer().process(docs)
    for d in docs:
        rumor, group = rng.random(), rng.random()
        d.analysis = {
            "sentiment": rng.choice(("negative", "neutral", "positive")),
            "emotion": rng.choice(("anger", "joy", "sadness", "fear", "surprise", "neutral")),
            "regions": finder.find(d.norm_text),
            "risk": {"rumor": rumor, "group_incident": group, "type": "ordinary"},
        }
    return docs


def make_rules(n: int, docs: list[Document], gazetteer: Gazetteer) -> list[str]:
    """``n`` rules of mixed, realistic shapes (seeded: the first 10 are the same always)."""
    rng = random.Random(5)
    divisions = list(gazetteer.divisions.values())
    places = sorted({d.short or d.name for d in divisions} | {d.name for d in divisions})
    codes = [d.code for d in divisions]
    grams: Counter[str] = Counter()
    for d in docs[:5000]:
        for run in CJK_RUN.findall(d.norm_text):
            grams.update(run[i : i + 2] for i in range(len(run) - 1))
    words = [*TOPICS, *(w for w, _ in grams.most_common(3000)[100:])]
    runs: list[str] = [r for d in docs[:5000] for r in CJK_RUN.findall(d.norm_text) if len(r) >= 6]

    def w() -> str:
        return rng.choice(words)

    def p() -> str:
        return rng.choice(places)

    def phrase() -> str:
        run = rng.choice(runs)
        start = rng.randrange(len(run) - 4)
        return run[start : start + rng.randint(4, 6)]

    shapes: list[tuple[int, Callable[[], str]]] = [
        (25, lambda: f"{p()} ({w()} OR {w()})"),
        (15, lambda: f"{p()} {w()} -{rng.choice(NEGATIONS)}"),
        (10, lambda: f'"{phrase()}"'),
        (10, lambda: f"{p()} NEAR/{rng.randint(2, 20)} {w()}"),
        (10, lambda: f"({p()} OR {p()}) {w()} source:weibo sentiment:negative"),
        (10, lambda: f"region:{rng.choice(codes)} ({w()} OR {w()} OR {w()})"),
        (10, lambda: f"{w()} {w()} risk.group_incident>=0.{rng.randint(5, 9)}"),
        (9, lambda: f"{w()} NEAR/{rng.randint(2, 10)} {w()} -{rng.choice(NEGATIONS)}"),
    ]
    weights = [s[0] for s in shapes]
    makers = [s[1] for s in shapes]
    out = []
    for i in range(n):
        if i % 10_000 == 9_999:  # about 1 in 10,000 rules has no literal at all
            out.append(f"risk.rumor>0.9{rng.randint(0, 9)} NOT 辟谣")
        else:
            out.append(rng.choices(makers, weights)[0]())
    return out


def rss() -> int:
    gc.collect()
    return int(psutil.Process().memory_info().rss)


def measure(rules: list[str], docs: list[Document]) -> dict[str, float]:
    before = rss()
    start = time.perf_counter()
    matcher = RuleMatcher()
    matcher.add_many((f"r{index}", text) for index, text in enumerate(rules))
    matcher.build()
    build = time.perf_counter() - start
    memory = rss() - before
    wall, cpu = time.perf_counter(), time.process_time()
    matched = sum(len(ids) for ids in matcher.match_batch(docs))
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    stats = matcher.stats()
    return {
        "rules": len(rules),
        "build": build,
        "memory": memory / 2**20,
        "wall": len(docs) / wall,
        "cpu": len(docs) / cpu,
        "evaluated": stats.evaluated / len(docs),
        "matched": matched / len(docs),
        "unindexed": stats.unindexed,
        "literals": stats.literals,
    }


def brute_force(rules: list[str], docs: list[Document]) -> float:
    """Posts/s evaluating every rule on every post (the reference without the prefilter)."""
    checks = [compile_rule(parse(text)) for text in rules]
    start = time.perf_counter()
    for d in docs:
        subject = Subject(d)
        for check in checks:
            check(subject)
    return len(docs) / (time.perf_counter() - start)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rules", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--posts", type=int, default=5000, help="posts matched per rule count")
    args = parser.parse_args(argv)
    gazetteer = Gazetteer.load()
    finder = RegionFinder(gazetteer)
    texts, origin = read_texts(args.posts)
    docs = make_docs(texts, finder)
    counts = sorted({10, *args.rules})
    all_rules = make_rules(max(counts), docs, gazetteer)
    print(f"Posts: {origin}; mean length {sum(len(d.norm_text) for d in docs) / len(docs):.0f}")
    print("Python", sys.version.split()[0], "| one process, one core\n")
    print(
        "| rules | build s | RSS growth MiB | literals | unindexed | posts/s (wall) "
        "| posts/s (CPU) | evaluated/post | matched/post |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for count in counts:
        r = measure(all_rules[:count], docs)
        print(
            f"| {count:,} | {r['build']:.2f} | {r['memory']:.0f} | {r['literals']:,.0f} "
            f"| {r['unindexed']:.0f} | {r['wall']:,.0f} | {r['cpu']:,.0f} "
            f"| {r['evaluated']:.1f} | {r['matched']:.2f} |"
        )
    print("\nReference, brute force (every rule evaluated on every post):\n")
    print("| rules | posts/s |")
    print("|---:|---:|")
    for count in (10, 10_000):
        if count <= max(counts):
            sample = docs[: max(20, 200_000 // count)]
            print(f"| {count:,} | {brute_force(all_rules[:count], sample):,.0f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
