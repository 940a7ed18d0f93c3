"""The online event clusterer: assignments, links, hashtags, closing, bounds, determinism."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from yuqing.errors import ConfigError
from yuqing.events import Event, EventClusterer, event_id_for
from yuqing.events.cluster_features import StreamDf, norm
from yuqing.models import Document
from yuqing.pipeline.normalize import Normalizer
from yuqing.pipeline.segment import Segmenter
from yuqing.pipeline.stage import Stage

T0 = datetime(2024, 5, 1, 8, tzinfo=UTC)
NORMALIZER = Normalizer()
SEGMENTER = Segmenter()

FOOD = [
    "宁波某中学食堂使用过期食材，多名学生腹痛就医",
    "宁波中学食堂过期食材致学生腹痛，家长要求学校说明",
    "网传宁波一中学食堂过期食材，教育局介入调查",
    "宁波中学食堂被曝使用过期食材 学生腹痛送医",
]
FLOOD = [
    "郑州暴雨地铁停运，乘客被困车厢",
    "郑州暴雨导致地铁停运，多名乘客被困",
    "郑州地铁暴雨被困乘客已全部转移",
]


def make(
    doc_id: str,
    text: str,
    minutes: float = 0.0,
    *,
    source: str = "weibo",
    analysis: dict[str, object] | None = None,
) -> Document:
    """A document run through the real normalize and segment stages."""
    doc = Document(
        id=doc_id, source=source, text=text, published_at=T0 + timedelta(minutes=minutes)
    )
    NORMALIZER.process([doc])
    SEGMENTER.process([doc])
    if analysis:
        doc.analysis.update(analysis)
    return doc


def event_of(doc: Document) -> str | None:
    value = doc.analysis["event_id"]
    assert value is None or isinstance(value, str)
    return value


def test_is_a_stage() -> None:
    clusterer = EventClusterer()
    assert isinstance(clusterer, Stage)
    assert clusterer.name == "events"


def test_same_story_together_and_different_stories_apart() -> None:
    docs = [make(f"f{i}", text, i) for i, text in enumerate(FOOD)]
    docs += [make(f"w{i}", text, 10 + i) for i, text in enumerate(FLOOD)]
    EventClusterer().process(docs)
    food = {event_of(d) for d in docs[: len(FOOD)]}
    flood = {event_of(d) for d in docs[len(FOOD) :]}
    assert len(food) == 1 and len(flood) == 1
    assert food != flood
    assert None not in food | flood


def test_interleaved_stories_stay_apart() -> None:
    docs = []
    for i in range(3):
        docs.append(make(f"f{i}", FOOD[i], 2 * i))
        docs.append(make(f"w{i}", FLOOD[i], 2 * i + 1))
    EventClusterer().process(docs)
    assert len({event_of(d) for d in docs if d.id.startswith("f")}) == 1
    assert len({event_of(d) for d in docs if d.id.startswith("w")}) == 1
    assert event_of(docs[0]) != event_of(docs[1])


def test_hashtag_posts_join_their_event() -> None:
    docs = [
        make("a", "#宁波食堂事件# 太过分了"),
        make("b", "#宁波食堂事件# 希望严查", 1),
        make("c", "真的吗 #宁波食堂事件#", 2),
        make("d", "#郑州暴雨# 注意安全", 3),
    ]
    EventClusterer().process(docs)
    assert event_of(docs[0]) == event_of(docs[1]) == event_of(docs[2])
    assert event_of(docs[3]) != event_of(docs[0])


def test_campaign_hashtags_are_no_signal() -> None:
    docs = [make("a", "#阳光信用# 今天天气很好"), make("b", "#阳光信用# 股票大涨", 1)]
    EventClusterer().process(docs)
    assert event_of(docs[0]) != event_of(docs[1])


def test_duplicates_and_reposts_join_their_original() -> None:
    original = make("o", FOOD[0])
    other = make("x", FLOOD[0], 1)
    dup = make("d", "完全不同的文字内容", 2)
    dup.duplicate_of, dup.duplicate_of_source = "o", "weibo"
    repost = make("r", "转发微博", 3)
    repost.repost_of = "o"  # source omitted: the repost's own source
    EventClusterer().process([original, other, dup, repost])
    assert event_of(dup) == event_of(repost) == event_of(original)
    assert event_of(other) != event_of(original)


def test_link_to_a_post_of_another_source_uses_that_source() -> None:
    original = make("1", FOOD[0], source="news")
    clash = make("1", FLOOD[0], 1, source="weibo")  # same id, other source
    dup = make("d", "转发", 2)
    dup.duplicate_of, dup.duplicate_of_source = "1", "news"
    EventClusterer().process([original, clash, dup])
    assert event_of(dup) == event_of(original) != event_of(clash)


def test_traditional_and_simplified_twins_together() -> None:
    simplified = make("s", "郑州暴雨地铁停运，乘客被困车厢")
    traditional = make("t", "鄭州暴雨地鐵停運，乘客被困車廂", 5)
    assert simplified.norm_text == traditional.norm_text
    EventClusterer().process([simplified, traditional])
    assert event_of(simplified) == event_of(traditional)


def test_post_without_words_stays_out() -> None:
    docs = [make("e", "[哈哈] http://t.cn/abc")]
    EventClusterer().process(docs)
    assert event_of(docs[0]) is None


def test_inactivity_closes_events_and_drain_returns_them() -> None:
    clusterer = EventClusterer(close_after_hours=72)
    first = [make(f"f{i}", text, i) for i, text in enumerate(FOOD)]
    clusterer.process(first)
    assert clusterer.drain_closed() == []
    assert [e.id for e in clusterer.open_events()] == [event_of(first[0])]
    # 10 hours later a same-story post still joins it (similarity decays with time)
    late = make("late", FOOD[1], 10 * 60)
    clusterer.process([late])
    assert event_of(late) == event_of(first[0])
    # 71 hours after its last post the event is still open
    other = make("w", FLOOD[0], (10 + 71) * 60)
    clusterer.process([other])
    assert clusterer.drain_closed() == []
    assert clusterer.open_count == 2
    # 72 hours after its last post, any newer post closes it
    later = make("w2", FLOOD[1], (10 + 72) * 60 + 1)
    clusterer.process([later])
    closed = clusterer.drain_closed()
    assert [e.id for e in closed] == [event_of(first[0])]
    assert closed[0].status == "closed" and closed[0].size == 5
    assert closed[0].last_seen == T0 + timedelta(hours=10)
    assert clusterer.drain_closed() == []
    assert [e.id for e in clusterer.open_events()] == [event_of(other)] == [event_of(later)]
    # a post of the closed story starts a new event: nothing of the old one is kept
    again = make("again", FOOD[0], (10 + 72) * 60 + 2)
    clusterer.process([again])
    assert event_of(again) not in {event_of(first[0]), event_of(later)}


def test_max_open_events_is_respected() -> None:
    clusterer = EventClusterer(max_open_events=3)
    texts = [
        "苹果发布新手机",
        "郑州暴雨地铁停运",
        "宁波食堂过期食材",
        "杭州亚运会开幕",
        "上海马拉松报名",
    ]
    docs = [make(str(i), text, i) for i, text in enumerate(texts)]
    clusterer.process(docs)
    assert clusterer.open_count == 3
    closed = clusterer.drain_closed()
    assert [e.first_post for e in closed] == [("weibo", "0"), ("weibo", "1")]
    assert len(clusterer._index) <= 3 * 2 * clusterer.centroid_features
    assert all(eid in {e.id for e in clusterer.open_events()} for eid in clusterer._tags.values())


def test_close_all_empties_everything() -> None:
    clusterer = EventClusterer()
    clusterer.process([make("a", "#郑州暴雨# " + FLOOD[0]), make("b", FOOD[0], 1)])
    closed = clusterer.close_all()
    assert len(closed) == 2 and all(e.status == "closed" for e in closed)
    assert clusterer.open_count == 0
    assert clusterer._index == {} and clusterer._tags == {}


def test_deterministic_and_independent_of_batch_boundaries() -> None:
    texts = FOOD + FLOOD + ["#郑州暴雨# 大家注意安全", "#宁波食堂# 必须严查", "今天天气不错"]

    def run(cuts: list[int]) -> list[str | None]:
        docs = [make(str(i), text, i) for i, text in enumerate(texts)]
        clusterer = EventClusterer()
        start = 0
        for cut in [*cuts, len(docs)]:
            clusterer.process(docs[start:cut])
            start = cut
        return [event_of(d) for d in docs]

    whole = run([])
    assert run([]) == whole
    assert run([1, 4, 5]) == whole
    assert run([3]) == whole


def test_event_summary_fields() -> None:
    docs = [
        make(
            f"f{i}",
            f"#宁波食堂事件# {text}",
            10 * i,
            source="weibo" if i % 2 == 0 else "news",
            analysis={
                "sentiment": "negative",
                "emotion": "anger" if i < 3 else "fear",
                "regions": [{"name": "宁波市", "code": "330200", "level": "city"}],
            },
        )
        for i, text in enumerate(FOOD)
    ]
    clusterer = EventClusterer()
    clusterer.process(docs)
    (event,) = clusterer.open_events()
    assert event.id == event_id_for("weibo", "f0") == event_of(docs[0])
    assert event.first_post == ("weibo", "f0")
    assert event.first_seen == T0 and event.last_seen == T0 + timedelta(minutes=30)
    assert event.first_seen.tzinfo is not None
    assert event.size == 4
    assert event.sources == {"weibo": 2, "news": 2}
    assert event.sentiment == {"negative": 4}
    assert event.emotion == {"anger": 3, "fear": 1}
    assert event.regions == {"宁波市": 4}
    assert event.hashtags == {"宁波食堂事件": 4}
    assert event.title == "宁波食堂事件"
    words = [word for word, _ in event.keywords]
    assert ("食堂" in words and "过期" in words) or "食材" in words
    assert abs(sum(weight for _, weight in event.keywords) - 1) < 0.01
    data = json.loads(json.dumps(event.as_dict(), ensure_ascii=False))
    assert data["first_post"] == {"source": "weibo", "id": "f0"}
    assert data["status"] == "open" and data["size"] == 4
    assert data["first_seen"] == "2024-05-01T08:00:00+00:00"


def test_title_without_hashtag_is_a_representative_post() -> None:
    docs = [make(f"f{i}", text, i) for i, text in enumerate(FOOD)]
    clusterer = EventClusterer()
    clusterer.process(docs)
    (event,) = clusterer.open_events()
    assert event.title in {d.norm_text for d in docs}


def test_event_type_is_the_public_summary() -> None:
    event = Event(id="ev-1", first_post=("s", "1"), first_seen=T0, last_seen=T0)
    assert event.as_dict()["keywords"] == [] and event.status == "open"


@pytest.mark.parametrize(
    "kwargs",
    [
        {"threshold": 0.0},
        {"close_after_hours": 0},
        {"max_open_events": 0},
        {"soft_weight": 2},
        {"tagless_penalty": -0.1},
        {"df_window": -1},
    ],
)
def test_bad_configuration_is_a_config_error(kwargs: dict[str, float]) -> None:
    with pytest.raises(ConfigError, match="EventClusterer"):
        EventClusterer(**kwargs)  # type: ignore[arg-type]


def test_stream_df_downweights_what_every_recent_post_shares() -> None:
    window = StreamDf(window=3)
    for i in range(5):
        window.reweight({"肺炎": 0.6, f"word{i}": 0.8})
    assert len(window) == 3  # bounded: the oldest posts are forgotten
    out = window.reweight({"肺炎": 0.6, "食堂": 0.8})
    assert out["食堂"] > 0.8 > 0.6 > out["肺炎"]
    assert abs(norm(out) - 1.0) < 1e-9
    assert window.reweight({}) == {} and len(window) == 3  # empty: not counted


def test_stream_df_is_deterministic() -> None:
    posts = [{"a": 1.0}, {"a": 0.6, "b": 0.8}, {"b": 0.6, "c": 0.8}, {"a": 0.8, "c": 0.6}]
    first, second = StreamDf(2), StreamDf(2)
    assert [first.reweight(p) for p in posts] == [second.reweight(p) for p in posts]


def test_tagless_events_ask_more_than_hashtag_events() -> None:
    plain = [make(f"f{i}", text, i) for i, text in enumerate(FOOD)]
    EventClusterer(tagless_penalty=1.0).process(plain)
    assert len({event_of(d) for d in plain}) == len(FOOD)  # no similarity reaches 1 + t
    tagged = [make("t0", "#宁波食堂# " + FOOD[0])]
    tagged += [make(f"t{i}", text, i) for i, text in enumerate(FOOD[1:], start=1)]
    EventClusterer(tagless_penalty=1.0).process(tagged)
    assert len({event_of(d) for d in tagged}) == 1  # the hashtag event takes them
    again = [make(f"f{i}", text, i) for i, text in enumerate(FOOD)]
    EventClusterer(tagless_penalty=0.0).process(again)
    assert len({event_of(d) for d in again}) == 1
