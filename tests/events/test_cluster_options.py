"""Optional clusterer features: character bigrams and the runner-up margin."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from yuqing.errors import ConfigError
from yuqing.events import EventClusterer
from yuqing.events.cluster_features import BIGRAM_PREFIX, HASHTAG_PREFIX, FeatureExtractor, norm
from yuqing.models import Document
from yuqing.pipeline.normalize import Normalizer
from yuqing.pipeline.segment import Segmenter

T0 = datetime(2024, 5, 1, 8, tzinfo=UTC)
FOOD = [
    "宁波某中学食堂使用过期食材，多名学生腹痛就医",
    "宁波中学食堂过期食材致学生腹痛，家长要求学校说明",
    "网传宁波一中学食堂过期食材，教育局介入调查",
]
FLOOD = [
    "郑州暴雨地铁停运，乘客被困车厢",
    "郑州暴雨导致地铁停运，多名乘客被困",
    "郑州地铁暴雨被困乘客已全部转移",
]


def make(doc_id: str, text: str, minutes: float = 0.0) -> Document:
    doc = Document(
        id=doc_id, source="weibo", text=text, published_at=T0 + timedelta(minutes=minutes)
    )
    Normalizer().process([doc])
    Segmenter().process([doc])
    return doc


def event_of(doc: Document) -> str | None:
    value = doc.analysis["event_id"]
    assert value is None or isinstance(value, str)
    return value


def test_bigrams_are_prefixed_capped_and_weighted() -> None:
    doc = make("b", "#每日一善# 郑州暴雨地铁停运 郑州暴雨")
    plain = FeatureExtractor(hashtag_weight=0.0, ignore_hashtags={"每日一善"})
    mixed = FeatureExtractor(hashtag_weight=0.0, ignore_hashtags={"每日一善"}, bigram_weight=1.0)
    grams = mixed.bigrams(doc)
    assert grams["~郑州"] > grams["~雨地"] > 0  # tf 2 against tf 1
    assert not any("每日" in g or "一善" in g for g in grams)  # campaign hashtag text left out
    assert len(FeatureExtractor(max_bigrams=3).bigrams(doc)) == 3
    vec = mixed.vector(doc, [])
    words = {f: w for f, w in vec.items() if not f.startswith(BIGRAM_PREFIX)}
    bigram_part = {f: w for f, w in vec.items() if f.startswith(BIGRAM_PREFIX)}
    assert abs(norm(vec) - 1.0) < 1e-9
    assert abs(norm(words) - norm(bigram_part)) < 1e-9  # weight 1: equal lengths
    assert set(words) == set(plain.vector(doc, []))
    assert mixed.vector(make("e", "[哈哈]"), []) == {}  # no word: no vector either


def test_bigram_features_cluster_but_are_no_keywords() -> None:
    docs = [make(f"f{i}", text, i) for i, text in enumerate(FOOD)]
    docs += [make(f"w{i}", text, 10 + i) for i, text in enumerate(FLOOD)]
    clusterer = EventClusterer(bigram_weight=0.5)
    clusterer.process(docs)
    assert len({event_of(d) for d in docs[:3]}) == 1
    assert len({event_of(d) for d in docs[3:]}) == 1
    assert event_of(docs[0]) != event_of(docs[3])
    for event in clusterer.open_events():
        assert event.keywords
        assert not any(w.startswith((BIGRAM_PREFIX, HASHTAG_PREFIX)) for w, _ in event.keywords)


def test_runner_up_margin_leaves_an_ambiguous_post_alone() -> None:
    def run(margin: float) -> tuple[list[Document], Document]:
        docs = [make(f"f{i}", text, i) for i, text in enumerate(FOOD)]
        docs += [make(f"w{i}", text, i) for i, text in enumerate(FLOOD)]
        both = make("both", "宁波中学食堂过期食材 郑州暴雨地铁停运乘客被困", 5)
        EventClusterer(runner_up_margin=margin, tagless_penalty=0.0).process([*docs, both])
        return docs, both

    docs, both = run(0.0)
    assert event_of(both) in {event_of(docs[0]), event_of(docs[3])}
    docs, both = run(0.5)
    assert event_of(both) not in {event_of(docs[0]), event_of(docs[3])}
    clear = make("clear", FOOD[1], 6)
    clusterer = EventClusterer(runner_up_margin=0.5, tagless_penalty=0.0)
    clusterer.process([*docs[:3], *docs[3:], clear])
    assert event_of(clear) == event_of(docs[0])  # a clear winner still joins


@pytest.mark.parametrize(
    "kwargs",
    [{"bigram_weight": -1.0}, {"max_bigrams": 0}, {"runner_up_margin": 1.0}],
)
def test_bad_option_is_a_config_error(kwargs: dict[str, float]) -> None:
    with pytest.raises(ConfigError, match="EventClusterer"):
        EventClusterer(**kwargs)  # type: ignore[arg-type]
