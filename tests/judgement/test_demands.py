"""The questions-and-demands digest: a hand-labelled sample, measured, plus concrete cases.

The sample below is written for these tests: two incidents (a school canteen serving
expired food, a night-time forced demolition), each post with the questions (``q:``) and
demands (``d:kind[:object]``) a reader finds in it and a substring of the clause that
says it. ``measure`` scores extraction and grouping against those labels; the floors
asserted are the figures measured when the method was written (docs/judgement.md).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from yuqing.errors import UsageError
from yuqing.judgement.demands import Mention, digest, extract, group_mentions
from yuqing.models import Document
from yuqing.pipeline.normalize import Normalizer

NORMALIZER = Normalizer()
T0 = datetime(2024, 5, 10, 0, 30, tzinfo=UTC)  # 08:30 in Shanghai

Gold = list[tuple[str, str]]  # (label, substring of the clause that says it)

CANTEEN: list[tuple[str, Gold]] = [
    ("某中学食堂用过期肉给孩子吃，为什么没人管？", [("q:supervise", "没人管")]),
    ("食堂的肉是不是过期的？我家孩子回来就拉肚子", [("q:expired", "是不是过期")]),
    ("学校食堂到底有没有用过期食材？", [("q:expired", "过期食材")]),
    ("为什么学校食堂会用过期的食材给学生吃？", [("q:expired", "过期的食材")]),
    ("孩子吃坏了肚子，谁来负责？", [("q:who", "谁来负责")]),
    ("出了这种事到底谁负责？？", [("q:who", "谁负责")]),
    ("强烈要求学校公开食材检测报告！", [("d:disclose:report", "检测报告")]),
    ("请尽快公布检测结果，家长们都在等", [("d:disclose:report", "检测结果")]),
    ("要求学校向全体家长公开道歉", [("d:apologize", "道歉")]),
    ("学校必须给家长一个说法！", [("d:explain", "说法")]),
    ("家长们要求学校赔偿全部医药费", [("d:compensate", "赔偿")]),
    ("食堂承包商和校长到底是什么关系？", [("q:contractor", "什么关系")]),
    ("这家承包商是谁的亲戚？怎么中标的？", [("q:contractor", "亲戚"), ("q:contractor", "中标")]),
    ("严惩涉事食堂负责人！", [("d:accountability", "严惩")]),
    ("必须追责，不能让孩子白受罪", [("d:accountability", "追责")]),
    ("教育局平时有没有检查过这个食堂？", [("q:supervise", "检查")]),
    ("监管部门为什么一直不作为？", [("q:supervise", "不作为")]),
    ("孩子们现在身体怎么样了？有没有住院的？", [("q:health", "怎么样"), ("q:health", "住院")]),
    ("要求彻查食材来源！", [("d:investigate", "彻查")]),
    (
        "希望有关部门介入调查，查清楚到底是哪家供应商",
        [("d:investigate", "介入调查"), ("q:contractor", "供应商")],
    ),
    ("学校食堂过期肉事件，目前已有12名学生就医。", []),
    ("市市场监管局已介入调查，涉事食堂已停业整顿。", []),
    ("校方已向家长道歉，并表示将承担医疗费用。", []),
    ("心疼孩子们[泪]", []),
    ("我家也在这个学校读书，太吓人了", []),
    ("为何食堂用变质食材？校方必须给个说法", [("q:expired", "变质食材"), ("d:explain", "说法")]),
    ("要求更换食堂承包商！", [("d:rectify", "更换")]),
    ("到底怎么回事啊？", [("q:what", "怎么回事")]),
    ("食堂这是怎么回事？学校出来回应一下", [("q:what", "怎么回事"), ("d:explain", "回应")]),
    ("能不能把后厨监控公开出来？", [("q:cctv", "监控"), ("d:disclose:cctv", "监控")]),
    ("要求公开后厨监控视频", [("d:disclose:cctv", "监控")]),
    ("學校食堂為什麼用過期食材？誰來負責？", [("q:expired", "过期食材"), ("q:who", "谁来负责")]),
    (
        "強烈要求公開檢測報告，向家長道歉！",
        [("d:disclose:report", "检测报告"), ("d:apologize", "道歉")],
    ),
    ("给孩子吃过期肉，这学校凭什么收那么贵的伙食费？", [("q:fee", "伙食费")]),
    ("伙食费每个月800，为什么吃的是过期肉？", [("q:expired", "过期肉")]),
    (
        "食材到底是哪里采购的？进货渠道有没有问题？",
        [("q:contractor", "采购"), ("q:contractor", "进货")],
    ),
]

DEMOLITION: list[tuple[str, Gold]] = [
    ("凌晨三点强拆民房，凭什么？", [("q:night", "凌晨")]),
    ("为什么要半夜拆房子？", [("q:night", "半夜")]),
    ("强拆有没有合法手续？", [("q:legal", "合法手续")]),
    ("拆迁是否经过了法定程序？", [("q:legal", "法定程序")]),
    ("凭什么强拆？有没有法律依据？", [("q:legal", "凭什么强拆"), ("q:legal", "法律依据")]),
    ("补偿标准是多少？为什么比隔壁村低那么多？", [("q:comp", "补偿标准"), ("q:comp", "隔壁村")]),
    ("每平米才补偿800，凭什么这么低？", [("q:comp", "这么低")]),
    ("要求立即停止强拆！", [("d:halt:demolition", "停止强拆")]),
    ("叫停违法强拆", [("d:halt:demolition", "叫停")]),
    ("要求按市场价赔偿！", [("d:compensate", "赔偿")]),
    ("必须合理补偿村民，先安置后拆迁", [("d:compensate", "补偿")]),
    ("要求公开拆迁补偿方案", [("d:disclose:plan", "补偿方案")]),
    ("请公布征地批文和补偿标准", [("d:disclose:plan", "批文")]),
    ("严惩带头强拆的人！", [("d:accountability", "严惩")]),
    ("要求追究镇政府责任", [("d:accountability", "追究")]),
    ("老人被拖出房子受伤了，谁来负责？", [("q:who", "谁来负责")]),
    ("打伤老人谁负责？", [("q:who", "谁负责")]),
    ("希望上级部门彻查此事", [("d:investigate", "彻查")]),
    ("镇政府回应称系依法拆除违章建筑。", []),
    ("村民房屋被拆，一家五口无处可住", []),
    ("到底怎么回事？", [("q:what", "怎么回事")]),
    (
        "这件事到底怎么回事，镇里能不能出来说清楚？",
        [("q:what", "怎么回事"), ("q:explain", "说清楚"), ("d:explain", "说清楚")],
    ),
    ("要求镇政府公开道歉", [("d:apologize", "道歉")]),
    ("太欺负人了，心寒", []),
    ("強拆有沒有合法手續？誰批准的？", [("q:legal", "合法手续"), ("q:legal", "批准")]),
    ("要求立即停工，等协商好再说", [("d:halt:demolition", "停工")]),
    ("这种强拆是不是违法的？", [("q:legal", "违法")]),
    ("为什么村民事先没收到任何通知？", [("q:notice", "通知")]),
    ("拆迁前有没有公告？村民知不知道？", [("q:notice", "公告"), ("q:notice", "知不知道")]),
    ("公开补偿标准！", [("d:disclose:plan", "补偿标准")]),
    ("镇里的拆迁补偿款到底发给谁了？", [("q:comp", "补偿款")]),
    ("补偿款为什么迟迟不到位？", [("q:comp", "补偿款")]),
]


def make(
    doc_id: str, text: str, hours: float = 0.0, *, duplicate_of: str | None = None
) -> Document:
    """A document run through the real normalize stage."""
    doc = Document(
        id=doc_id,
        source="weibo",
        text=text,
        published_at=T0 + timedelta(hours=hours),
        duplicate_of=duplicate_of,
    )
    NORMALIZER.process([doc])
    return doc


def event_docs(sample: list[tuple[str, Gold]], prefix: str) -> list[Document]:
    return [make(f"{prefix}{i}", text, hours=i * 0.25) for i, (text, _) in enumerate(sample)]


@dataclass
class Scores:
    question_recall: float
    demand_recall: float
    precision: float  # of extracted mentions, those that match a labelled one
    pair_precision: float
    pair_recall: float
    bcubed_f1: float


def _type(label: str) -> str:
    return "question" if label.startswith("q:") else label.split(":")[1]


def measure(threshold: float | None = None) -> Scores:
    """Extraction and grouping quality on the labelled sample."""
    found = {"q": [0, 0], "d": [0, 0]}
    matched_mentions = total_mentions = 0
    items: list[tuple[str, str]] = []  # (gold label, predicted group), event-prefixed
    for prefix, sample in (("c", CANTEEN), ("d", DEMOLITION)):
        docs = event_docs(sample, prefix)
        mentions = [m for d in docs for m in extract(d)]
        groups = group_mentions(mentions) if threshold is None else None
        if threshold is not None:
            groups = group_mentions(mentions, threshold=threshold)
        assert groups is not None
        predicted: dict[int, str] = {}
        for gi, (_, members) in enumerate(groups):
            for m in members:
                predicted[id(m)] = f"{prefix}{gi}"
        by_doc: dict[str, list[Mention]] = {}
        for m in mentions:
            by_doc.setdefault(m.doc.id, []).append(m)
        total_mentions += len(mentions)
        for doc, (_, gold) in zip(docs, sample, strict=True):
            pool = list(by_doc.get(doc.id, []))
            for label, part in gold:
                side = found["q" if label.startswith("q:") else "d"]
                side[1] += 1
                hit = next((m for m in pool if m.group == _type(label) and part in m.phrase), None)
                if hit is not None:
                    side[0] += 1
                    pool.remove(hit)
                    matched_mentions += 1
                    items.append((prefix + label, predicted[id(hit)]))
    same_gold = same_pred = same_both = 0
    for (g1, p1), (g2, p2) in itertools.combinations(items, 2):
        same_gold += g1 == g2
        same_pred += p1 == p2
        same_both += g1 == g2 and p1 == p2
    b_p = sum(
        sum(1 for g2, p2 in items if p2 == p and g2 == g) / sum(1 for _, p2 in items if p2 == p)
        for g, p in items
    ) / len(items)
    b_r = sum(
        sum(1 for g2, p2 in items if p2 == p and g2 == g) / sum(1 for g2, _ in items if g2 == g)
        for g, p in items
    ) / len(items)
    return Scores(
        question_recall=found["q"][0] / found["q"][1],
        demand_recall=found["d"][0] / found["d"][1],
        precision=matched_mentions / total_mentions,
        pair_precision=same_both / same_pred,
        pair_recall=same_both / same_gold,
        bcubed_f1=2 * b_p * b_r / (b_p + b_r),
    )


def test_sample_is_large_enough() -> None:
    assert len(CANTEEN) + len(DEMOLITION) >= 60


def test_measured_quality_on_the_labelled_sample() -> None:
    scores = measure()
    print(scores)  # shown with -s; docs/judgement.md quotes these figures
    # measured: 1.00, 1.00, 0.97, 1.00, 0.42, 0.83 (docs/judgement.md)
    assert scores.question_recall >= 0.95
    assert scores.demand_recall >= 0.95
    assert scores.precision >= 0.95
    assert scores.pair_precision >= 0.9
    assert scores.pair_recall >= 0.4
    assert scores.bcubed_f1 >= 0.8


def padding(n: int, start: int = 0) -> list[Document]:
    """Posts with neither a question nor a demand, to reach ``min_posts``."""
    return [make(f"pad{start + i}", f"第{i}条:心疼孩子们,太难过了") for i in range(n)]


def test_a_question_asked_several_ways_is_one_line() -> None:
    texts = [
        "食堂为什么用过期食材？",
        "为何食堂要用过期的食材？？",
        "食堂到底是不是用了过期食材啊",
        "學校食堂為什麼用過期食材",
        "食堂凭什么用过期食材[怒]",
    ]
    docs = [make(f"q{i}", t, i) for i, t in enumerate(texts)] + padding(20)
    result = digest(docs)
    assert result.enough_data
    assert len(result.questions) == 1
    item = result.questions[0]
    assert item.posts == 5 and item.phrasings >= 2  # most normalize to one key
    assert "过期食材" in item.label
    assert 2 <= len(item.samples) <= 3
    assert all(s.source == "weibo" and "过期" in s.sentence for s in item.samples)


def test_disclose_and_apologize_stay_apart() -> None:
    docs = [
        make("a1", "要求学校公开检测报告"),
        make("a2", "强烈要求公布检测报告！"),
        make("b1", "要求学校公开道歉"),
        make("b2", "学校必须向家长道歉"),
        make("b3", "要求校长道歉"),
        *padding(20),
    ]
    result = digest(docs)
    kinds = {item.kind: item for item in result.demands}
    assert set(kinds) == {"disclose", "apologize"}
    assert kinds["apologize"].posts == 3 and kinds["apologize"].kind_label == "要求道歉"
    assert kinds["disclose"].posts == 2 and kinds["disclose"].kind_label == "要求公开"
    assert [item.kind for item in result.demands] == ["apologize", "disclose"]  # ranked


def test_reported_actions_are_not_demands() -> None:
    docs = [make("r1", "校方已向家长道歉"), make("r2", "监管局已介入调查，涉事食堂将停业整顿")]
    assert [m for d in docs for m in extract(d) if m.group != "question"] == []


def test_duplicates_count_once() -> None:
    docs = [make("o1", "要求彻查食材来源！")]
    docs += [make(f"o1-{i}", "要求彻查食材来源！！", i, duplicate_of="o1") for i in range(30)]
    docs += [make("o2", "希望有关部门彻查", 1), *padding(20)]
    result = digest(docs)
    (item,) = result.demands
    assert item.kind == "investigate"
    assert item.posts == 2  # o1 and its 30 copies are one post, o2 the other
    assert item.mentions == 32
    assert result.posts_used == 22


def test_too_few_posts_is_not_enough_data() -> None:
    docs = [make(f"f{i}", "为什么食堂用过期食材？要求公开检测报告") for i in range(5)]
    result = digest(docs, min_posts=20)
    assert not result.enough_data
    assert result.questions == [] and result.demands == []
    assert result.note == "帖文不足（5 条），不生成摘要"
    copies = [make(f"g{i}", "要求道歉", duplicate_of="g0" if i else None) for i in range(25)]
    assert not digest(copies).enough_data  # 25 copies of one post are one post


def test_traditional_text_after_normalization() -> None:
    docs = [
        make("t1", "強烈要求公開檢測報告！"),
        make("t2", "為什麼學校不公開檢測報告？誰來負責？"),
        make("t3", "要求公开检测报告"),
        *padding(20),
    ]
    result = digest(docs)
    (disclose,) = result.demands
    assert disclose.kind == "disclose" and disclose.posts == 2
    labels = {item.label for item in result.questions}
    assert "谁来负责?" in labels
    assert any("公开检测报告" in label for label in labels)


def test_trend_buckets_in_the_zone() -> None:
    # 23:30 and 00:10 UTC on May 9/10 are 07:30 and 08:10 in Shanghai: one day there.
    base = datetime(2024, 5, 9, 23, 30, tzinfo=UTC)
    docs = [
        Document(id=f"w{i}", source="weibo", text="谁来负责？", published_at=base + delta)
        for i, delta in enumerate(
            [timedelta(0), timedelta(minutes=40), timedelta(hours=3, minutes=5)]
        )
    ]
    NORMALIZER.process(docs)
    hourly = digest(docs, min_posts=3)
    (item,) = hourly.questions
    shanghai = ZoneInfo("Asia/Shanghai")
    assert [(t.hour, n) for t, n in item.trend] == [(7, 1), (8, 1), (9, 0), (10, 1)]
    assert all(t.tzinfo == shanghai for t, _ in item.trend)
    daily = digest(docs, min_posts=3, bucket="day")
    assert [(t.isoformat(), n) for t, n in daily.questions[0].trend] == [
        ("2024-05-10T00:00:00+08:00", 3)
    ]
    utc_daily = digest(docs, min_posts=3, bucket="day", zone=ZoneInfo("UTC"))
    assert [n for _, n in utc_daily.questions[0].trend] == [1, 2]


def test_bad_arguments() -> None:
    with pytest.raises(UsageError, match="bucket"):
        digest([], bucket="week")  # type: ignore[arg-type]
    with pytest.raises(UsageError, match="top"):
        digest([], top=0)


def test_no_questions_or_demands_is_said() -> None:
    result = digest(padding(25))
    assert result.enough_data and result.questions == [] and result.demands == []
    assert "未发现" in result.note


def test_digest_of_a_labelled_event_ranks_the_common_concerns() -> None:
    docs = event_docs(CANTEEN, "c")
    result = digest(docs, min_posts=20, top=3)
    assert len(result.questions) == 3
    assert result.questions[0].label in {"谁来负责?"} or result.questions[0].posts >= 3
    assert result.demands[0].posts >= result.demands[-1].posts
    payload = result.as_dict()
    assert payload["enough_data"] is True and payload["questions"][0]["trend"]


def test_a_large_event_is_digested() -> None:
    """3,000 posts go through (speed is measured outside the tests: docs/judgement.md)."""
    texts = [text for text, _ in CANTEEN + DEMOLITION]
    docs = [
        make(f"big{i}", f"{texts[i % len(texts)]} 第{i % 97}楼", hours=(i % 240) / 10)
        for i in range(3000)
    ]
    result = digest(docs)
    assert result.enough_data and result.questions
    assert sum(item.posts for item in result.questions) <= 3000
