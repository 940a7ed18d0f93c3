"""Tests of the dedup stage: exact and near duplicates, reposts, window, restart."""

from __future__ import annotations

import itertools
import random
import unicodedata
from datetime import UTC, datetime, timedelta

import numpy as np
import opencc
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from yuqing.errors import ConfigError
from yuqing.models import Document
from yuqing.pipeline.dedup import Deduplicator, content_hash
from yuqing.pipeline.dedup_index import BandTable
from yuqing.pipeline.minhash import MinHasher, jaccard, shingle_set
from yuqing.settings import DedupSettings

T0 = datetime(2024, 5, 1, 8, 0, tzinfo=UTC)
_T2S = opencc.OpenCC("t2s")
SETTINGS = DedupSettings.model_validate(
    {"shingle": 2, "num_perm": 128, "bands": 32, "jaccard": 0.4}
)

POSTS = [
    "今天学校食堂的饭菜里吃出了虫子，学校必须给个说法",
    "宁波地铁三号线早高峰又故障了，大家出门注意绕行",
    "这家医院急诊排队四个小时还没看上病，太让人寒心了",
    "小区物业擅自涨价，业主们准备集体维权讨个公道",
    "暴雨导致城区多处积水，部分路段交通已经中断",
    "疫情期间志愿者们辛苦了，向每一位坚守岗位的人致敬",
    "景区门票突然涨到三百元，网友直呼看不起风景了",
    "外卖小哥雨中送餐摔倒，顾客的一句话让人暖心",
]


def norm(text: str) -> str:
    """Stand-in for the Normalizer: NFKC, Simplified, lower-case."""
    return str(_T2S.convert(unicodedata.normalize("NFKC", text))).lower()


def doc(i: int | str, text: str, minutes: float = 0, quoted: str = "") -> Document:
    return Document(
        id=str(i),
        source="weibo",
        text=text,
        norm_text=norm(text),
        quoted_text=norm(quoted),
        published_at=T0 + timedelta(minutes=minutes),
    )


def random_posts(n: int, seed: int, length: int = 24) -> list[str]:
    rng = random.Random(seed)
    return ["".join(chr(rng.randint(0x4E00, 0x9FA5)) for _ in range(length)) for _ in range(n)]


def edit(text: str, n: int, rng: random.Random) -> str:
    chars = list(text)
    for _ in range(n):
        op, i = rng.choice("ids"), rng.randrange(len(chars))
        new = rng.choice("的了是我不人在有这个上们来到时大地为子中你说生国年着就那和要")
        if op == "i":
            chars.insert(i, new)
        elif op == "d":
            del chars[i]
        else:
            chars[i] = new if chars[i] != new else "啊"
    return "".join(chars)


def test_exact_duplicate_points_at_first_post() -> None:
    dedup = Deduplicator(SETTINGS)
    a, b, c = doc(1, POSTS[0]), doc(2, POSTS[0], 5), doc(3, POSTS[0], 9)
    dedup.process([a, b, c])
    assert a.duplicate_of is None
    assert (b.duplicate_of, b.duplicate_of_source) == ("1", "weibo")
    assert c.duplicate_of == "1"
    assert a.content_hash == b.content_hash == content_hash(a.norm_text)
    assert len(a.content_hash) == 32


@pytest.mark.parametrize("edits", [1, 2, 3])
def test_light_edits_are_near_duplicates(edits: int) -> None:
    rng = random.Random(edits)
    dedup = Deduplicator(SETTINGS)
    originals = [doc(f"o{i}", t, i) for i, t in enumerate(POSTS)]
    copies = [doc(f"c{i}", edit(t, edits, rng), 60 + i) for i, t in enumerate(POSTS)]
    dedup.process(originals + copies)
    assert all(d.duplicate_of is None for d in originals)
    assert [c.duplicate_of for c in copies] == [f"o{i}" for i in range(len(POSTS))]


def test_duplicate_of_names_the_group_original_not_a_chain() -> None:
    rng = random.Random(5)
    first = POSTS[1]
    second = edit(first, 2, rng)
    third = edit(second, 2, rng)
    docs = [doc("a", first), doc("b", second, 1), doc("c", third, 2)]
    Deduplicator(SETTINGS).process(docs)
    assert [d.duplicate_of for d in docs] == [None, "a", "a"]


def test_unrelated_short_posts_are_not_matched() -> None:
    texts = [*POSTS, *random_posts(300, seed=1, length=12), "我爱北京", "我爱上海", "好的", "好"]
    docs = [doc(i, t, i) for i, t in enumerate(texts)]
    Deduplicator(SETTINGS).process(docs)
    assert [d.id for d in docs if d.duplicate_of] == []


def test_traditional_simplified_twins() -> None:
    simplified = POSTS[2]
    traditional = opencc.OpenCC("s2t").convert(simplified)
    assert traditional != simplified
    a, b = doc(1, simplified), doc(2, traditional, 3)
    Deduplicator(SETTINGS).process([a, b])
    assert b.duplicate_of == "1"


def test_repost_of_an_indexed_post() -> None:
    dedup = Deduplicator(SETTINGS)
    original = doc("orig", POSTS[3])
    dedup.process([original])
    plain = doc("r1", f"转发微博//@某用户: {POSTS[3]}", 10, quoted=POSTS[3])
    plain.norm_text = ""  # the Normalizer empties a bare repost marker
    commented = doc("r2", "好!", 11, quoted=POSTS[3] + "!!")
    other = doc("r3", "好!", 12, quoted=POSTS[4])  # quotes an unknown post
    dedup.process([plain, commented, other])
    assert (plain.repost_of, plain.repost_of_source) == ("orig", "weibo")
    assert commented.repost_of == "orig"  # near match of the quoted text
    assert other.repost_of is None
    # short repost comments are not duplicates of each other unless they quote the same post
    assert plain.duplicate_of is None and commented.duplicate_of is None
    assert other.duplicate_of is None
    same = doc("r4", "好!", 13, quoted=POSTS[3] + "!!")
    dedup.process([same])
    assert same.duplicate_of == "r2" and same.repost_of == "orig"


def test_empty_text_is_never_a_duplicate() -> None:
    docs = [doc(i, "", i) for i in range(3)]
    Deduplicator(SETTINGS).process(docs)
    assert all(d.duplicate_of is None and d.repost_of is None for d in docs)
    assert docs[0].content_hash == content_hash("")


def _stream(seed: int) -> list[Document]:
    rng = random.Random(seed)
    texts = POSTS + random_posts(40, seed)
    out: list[Document] = []
    for i in range(120):
        base = rng.choice(texts)
        text = (
            base
            if rng.random() < 0.3
            else edit(base, rng.randint(0, 3), rng)
            if rng.random() < 0.6
            else rng.choice(random_posts(1, i))
        )
        out.append(doc(i, text, i))
    return out


def _labels(docs: list[Document]) -> list[tuple[str | None, str | None]]:
    return [(d.duplicate_of, d.repost_of) for d in docs]


@settings(max_examples=15, deadline=None)
@given(cuts=st.lists(st.integers(min_value=1, max_value=119), max_size=12), seed=st.integers(0, 3))
def test_results_do_not_depend_on_batch_boundaries(cuts: list[int], seed: int) -> None:
    whole = _stream(seed)
    Deduplicator(SETTINGS).process(whole)
    pieces = _stream(seed)
    dedup = Deduplicator(SETTINGS)
    bounds = [0, *sorted(set(cuts)), len(pieces)]
    for lo, hi in itertools.pairwise(bounds):
        dedup.process(pieces[lo:hi])
    assert _labels(pieces) == _labels(whole)
    assert any(d.duplicate_of for d in whole)


def test_posts_outside_the_window_are_not_matched() -> None:
    small = SETTINGS.model_copy(update={"window_days": 30})
    dedup = Deduplicator(small)
    old = doc("old", POSTS[0])
    newer = doc("new", POSTS[1], minutes=31 * 24 * 60)
    late_copy = doc("copy", POSTS[0], minutes=31 * 24 * 60 + 1)
    dedup.process([old, newer, late_copy])
    assert late_copy.duplicate_of is None
    assert dedup.indexed == 2  # "old" was evicted, "copy" re-entered as a new original


def test_index_is_bounded_by_max_entries() -> None:
    bounded = SETTINGS.model_copy(update={"max_entries": 1000})
    dedup = Deduplicator(bounded)
    texts = random_posts(1500, seed=9)
    dedup.process([doc(i, t, i) for i, t in enumerate(texts)])
    assert dedup.indexed == 1000
    first_again, last_again = doc("f", texts[0], 2000), doc("l", texts[-1], 2001)
    dedup.process([first_again, last_again])
    assert first_again.duplicate_of is None
    assert last_again.duplicate_of == "1499"
    table = dedup.index.table
    table.scan(dedup.index.head)
    assert table.live_at_scan <= 1000 * (bounded.bands + 1)  # band keys + exact key
    assert table.dropped < 0.005 * 1500 * bounded.bands  # a rare lost band, never a post


def test_table_memory_stays_flat_past_max_entries() -> None:
    bounded = SETTINGS.model_copy(update={"max_entries": 1000})
    dedup = Deduplicator(bounded)
    texts = random_posts(6000, seed=11)
    sizes = []
    for lo in range(0, 6000, 500):
        dedup.process([doc(i, t, i) for i, t in enumerate(texts[lo : lo + 500], start=lo)])
        sizes.append(dedup.index.table.slots)
    assert dedup.indexed == 1000
    assert sizes[-1] == sizes[len(sizes) // 2]  # no growth once the ring is full
    assert sizes[-1] <= 1000 * (bounded.bands + 1) / 0.5
    late = doc("late", texts[-1], 9000)
    dedup.process([late])
    assert late.duplicate_of == "5999"


def test_warm_after_restart_gives_the_same_results() -> None:
    reference = _stream(2)
    Deduplicator(SETTINGS).process(reference)
    stored = _stream(2)
    first = Deduplicator(SETTINGS)
    first.process(stored[:70])
    restarted = Deduplicator(SETTINGS)
    assert restarted.warm(stored[:70]) == first.indexed
    before = _labels(stored[:70])
    restarted.process(stored[70:])
    assert _labels(stored[:70]) == before  # warm() marks nothing
    assert _labels(stored) == _labels(reference)


def test_bands_must_divide_num_perm() -> None:
    with pytest.raises(ConfigError, match="multiple of bands"):
        Deduplicator(DedupSettings.model_validate({"num_perm": 100, "bands": 32}))


def test_minhash_estimates_jaccard_and_short_texts_have_one_shingle() -> None:
    hasher = MinHasher(2, 128)
    a, b = POSTS[0], edit(POSTS[0], 2, random.Random(3))
    sig = hasher.signatures([a, b, "好"])
    estimate = float((sig[0] == sig[1]).mean())
    assert abs(estimate - jaccard(shingle_set(a, 2), shingle_set(b, 2))) < 0.2
    assert shingle_set("好", 2) == {"好"}
    values, starts = hasher.shingle_values(["好", "好的"])
    assert list(starts) == [0, 1] and values[0] != values[1]


def test_band_table_keeps_keys_through_growth_rescans_and_eviction() -> None:
    rng = np.random.default_rng(5)
    keys = (rng.integers(0, 2**32, 60_000, dtype=np.uint64) | np.uint64(1)).astype(np.uint32)
    keys = rng.permutation(np.unique(keys))  # (hash values: in no particular order)
    table = BandTable(max_keys=keys.size, buckets=64)  # grows by splitting many times
    for lo in range(0, keys.size, 5000):
        part = keys[lo : lo + 5000]
        seq, pos = table.lookup(part)
        assert (seq == -1).all()
        table.write(part, np.arange(lo, lo + part.size, dtype=np.int64), pos, 0, lo + part.size)
    seq, pos = table.lookup(keys)
    found = seq >= 0
    assert found.mean() > 0.999  # a rare key whose two buckets were full is dropped
    assert (seq[found] == np.arange(keys.size)[found]).all()
    assert found.sum() + table.dropped == keys.size
    head = keys.size // 2  # evict the older half: its slots are cleared and rebased
    table.scan(head)
    assert table.base == head and table.live_at_scan == (seq >= head).sum()
    again, _ = table.lookup(keys)
    assert (again[seq >= head] == seq[seq >= head]).all()
    assert (again[(seq >= 0) & (seq < head)] == -1).all()
    newer = keys[:10]  # newest writer wins
    table.write(
        newer, np.full(10, keys.size, dtype=np.int64), table.lookup(newer)[1], head, keys.size + 1
    )
    assert (table.lookup(newer)[0] == keys.size).all()
