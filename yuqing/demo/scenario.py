"""Generate a small, realistic incident scenario: a school canteen food-safety story in
宁波市鄞州区 unfolding over three days among ordinary background chatter.

``yuqing demo`` no longer uses this generator (it plays the drill scenario
``school-food-safety`` through :mod:`yuqing.drill.generator`, see :mod:`yuqing.demo.story`).
It stays as the compact, fixed fixture that the test suite (tests/web, tests/exports,
tests/streams, tests/runtime), the benchmarks and scripts/release_fixture_build.py build
their stores from: their figures and expectations are tied to its posts.

The posts exercise the whole pipeline: Traditional and Simplified twins, lightly edited
copies, Weibo repost chains (``//@user: ...``), emoji codes, links, hashtags, a rumour,
a call to gather, an official statement, several sources. Deterministic for a seed.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import opencc

_S2T = opencc.OpenCC("s2t")

# (phase start hour, weight, templates) for the incident; {school} {n} {t} filled in.
INCIDENT: list[tuple[int, float, list[str]]] = [
    (
        0,
        1.0,
        [
            "#{school}食堂#孩子回家说午饭的肉有怪味，好几个同学腹痛[泪]，有没有家长知道怎么回事？",
            "{school}的食堂是不是出问题了？我家孩子中午吃完就吐了，已经在鄞州人民医院挂水[泪]",
            "听说{school}今天好多学生肚子疼，食堂用的是过期食材？求证",
        ],
    ),
    (
        6,
        3.0,
        [
            "#{school}食堂#过期食材照片都流出来了，生产日期是去年的！学校必须给个说法[怒]",
            "太气人了，孩子在学校吃的竟然是过期的肉，食堂承包商是谁家亲戚？[怒][怒]",
            "{school}食堂事件：{n}名学生出现腹痛呕吐，家长们要求公开食材采购记录",
            "作为家长真的寒心，每个月交那么多伙食费，孩子吃的是过期食材[泪]",
            "学校到现在一句话都没有，这态度让人失望。@鄞州教育 请回应",
            "食品安全无小事，{school}食堂的事必须彻查，给孩子们一个交代！",
            "鄞州区{school}食堂被曝使用过期食材 多名学生就医 https://news.example.cn/a/{t}",
        ],
    ),
    (
        14,
        1.5,
        [
            "网传{school}有学生食物中毒死亡，紧急扩散！！！",
            "据说{school}校长已经被带走了，消息可靠，大家转发扩散",
            "明天上午9点家长们在{school}门口集合，大家一起去讨个说法，人越多越好！",
            "上百名家长聚集在学校门口拉横幅，要求见校长[怒]",
        ],
    ),
    (
        22,
        1.0,
        [
            "【情况通报】鄞州区教育局：{school}食堂食材问题已成立联合调查组，涉事学生均已就医，无危重病例，网传死亡消息不实。",
            "鄞州区市场监管局已对{school}食堂供应商立案调查，相关食材已封存送检。",
            "辟谣：{school}并无学生死亡，目前就医学生情况稳定，请勿传播不实信息",
        ],
    ),
    (
        30,
        1.2,
        [
            "教育局的通报还算及时，希望调查结果能公开透明[赞]",
            "感谢调查组，孩子已经出院了，希望学校以后把好食品安全关",
            "官方回应了就好，但食堂承包合同的问题也要查清楚",
            "{school}换了新的食堂供应商，家长可以轮流陪餐监督，这个做法不错[赞]",
        ],
    ),
    (
        48,
        0.5,
        [
            "{school}食堂事件调查结果公布：供应商被罚款并清退，两名负责人被问责",
            "一周过去了，{school}的孩子们终于又能放心吃饭了[哈哈]",
        ],
    ),
]

BACKGROUND: list[str] = [
    "今天宁波下雨了，出门记得带伞",
    "周末去东钱湖骑车，风景太美了[哈哈]",
    "杭州亚运场馆开放参观，周末带娃去看看",
    "北京今天空气质量优，蓝天白云心情好",
    "上海地铁14号线早高峰又挤爆了[泪]",
    "新开的奶茶店排队一个小时，味道一般般",
    "广州的早茶真是百吃不厌，虾饺yyds",
    "刚看完电影，结局太感人了，哭得稀里哗啦[泪]",
    "深圳科技园加班到十点，打工人太难了",
    "成都的火锅配冰粉，完美的周五晚上[哈哈]",
    "今天股市大涨，终于回本了[哈哈]",
    "武汉大学的樱花开了，好多游客来拍照",
    "小区门口新开了一家书店，环境很安静",
    "明天考试，祝我好运[加油]",
]

SOURCES = [("weibo", 0.65), ("douyin", 0.1), ("news", 0.1), ("wechat", 0.1), ("forum", 0.05)]
SCHOOL = "鄞州实验中学"


@dataclass(frozen=True, slots=True)
class Scenario:
    """Where the incident happens and when it starts."""

    school: str = SCHOOL
    start: datetime = datetime(2026, 11, 20, 7, 30, tzinfo=UTC)
    hours: int = 72


def _edit(text: str, rng: random.Random) -> str:
    """A light human edit: 1-3 characters inserted, deleted or changed."""
    chars = list(text)
    for _ in range(rng.randint(1, 3)):
        i = rng.randrange(len(chars))
        op = rng.random()
        if op < 0.34 and len(chars) > 5:
            del chars[i]
        elif op < 0.67:
            chars.insert(i, rng.choice("啊呀哦！的了"))
        else:
            chars[i] = rng.choice("啊呀哦！的了")
    return "".join(chars)


def _pick_source(rng: random.Random) -> str:
    return rng.choices([s for s, _ in SOURCES], weights=[w for _, w in SOURCES])[0]


def generate(
    n: int = 600, *, seed: int = 7, scenario: Scenario | None = None
) -> list[dict[str, Any]]:
    """``n`` input records (DESIGN.md input record), sorted by time."""
    sc = scenario or Scenario()
    rng = random.Random(seed)
    records: list[dict[str, Any]] = []
    incident_posts: list[dict[str, Any]] = []
    for i in range(n):
        author = f"user{rng.randrange(400):03d}"
        if rng.random() < 0.3:
            text = rng.choice(BACKGROUND)
            hour = rng.uniform(0, sc.hours)
        else:
            start, _, templates = rng.choices(INCIDENT, weights=[w for _, w, _ in INCIDENT])[0]
            hour = min(sc.hours - 0.01, start + rng.expovariate(1 / 6))
            text = rng.choice(templates).format(school=sc.school, n=rng.randint(12, 40), t=i)
        roll = rng.random()
        if incident_posts and roll < 0.15:
            quoted = rng.choice(incident_posts)
            own = rng.choice(["", "转发微博", "太可怕了[怒]", "关注", "希望尽快查清"])
            text = f"{own}//@{quoted['author']}: {quoted['text']}"
            hour = max(hour, quoted["_hour"] + rng.uniform(0.1, 3))
        elif incident_posts and roll < 0.22:
            text = _edit(rng.choice(incident_posts)["text"], rng)
        elif roll < 0.28:
            text = _S2T.convert(text)  # a Traditional copy, as posted from Hong Kong or Taiwan
        published = sc.start + timedelta(hours=min(hour, sc.hours - 0.01))
        record: dict[str, Any] = {
            "id": f"demo-{i:05d}",
            "text": text,
            "source": _pick_source(rng),
            "author": author,
            "author_followers": int(rng.paretovariate(1.2) * 50),
            "author_verified": rng.random() < 0.05,
            "published_at": published.isoformat(),
            "reposts": int(rng.paretovariate(1.5)) - 1,
            "comments": int(rng.paretovariate(1.5)) - 1,
            "likes": int(rng.paretovariate(1.3) * 2) - 2,
            "_hour": hour,
        }
        if "鄞州" in text or sc.school in text:
            record["region"] = "浙江省宁波市鄞州区"
            incident_posts.append(record)
        records.append(record)
    records.sort(key=lambda r: (r["published_at"], r["id"]))
    for record in records:
        del record["_hour"]
    return records


def iter_jsonl(records: list[dict[str, Any]]) -> Iterator[bytes]:
    import orjson

    for record in records:
        yield orjson.dumps(record) + b"\n"
