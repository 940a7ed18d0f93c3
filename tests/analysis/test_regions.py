"""Regions from the shipped gazetteer: codes, levels, ambiguity, false hits, hints."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from yuqing.analysis import gazetteer_build
from yuqing.analysis.regions import DEFAULT_GAZETTEER, Gazetteer, RegionFinder
from yuqing.errors import ModelError


@pytest.fixture(scope="module")
def finder() -> RegionFinder:
    return RegionFinder()


def codes(found: list[dict[str, str]]) -> list[str]:
    return [r["code"] for r in found]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("宁波今天下雨", [("宁波市", "330200", "city")]),
        ("宁波市发布通告", [("宁波市", "330200", "city")]),
        ("鄞州区一小区", [("鄞州区", "330212", "county")]),
        ("湖北武汉", [("湖北省", "420000", "province"), ("武汉市", "420100", "city")]),
        ("湖北省的新闻", [("湖北省", "420000", "province")]),
        ("广西的米粉", [("广西壮族自治区", "450000", "province")]),
        ("恩施州发布", [("恩施土家族苗族自治州", "422800", "city")]),
        ("寧波市鄞州區", [("宁波市", "330200", "city"), ("鄞州区", "330212", "county")]),
    ],
)
def test_names_resolve_to_codes_and_levels(
    finder: RegionFinder, text: str, expected: list[tuple[str, str, str]]
) -> None:
    assert finder.find(text) == [{"name": n, "code": c, "level": lv} for n, c, lv in expected]


def test_province_short_names(finder: RegionFinder) -> None:
    for short, code in [("浙江", "330000"), ("内蒙古", "150000"), ("新疆", "650000"),
                        ("西藏", "540000"), ("香港", "810000"), ("北京", "110000")]:  # fmt: skip
        assert codes(finder.find(f"{short}网友说")) == [code], short


def test_province_beats_a_city_of_the_same_name(finder: RegionFinder) -> None:
    assert codes(finder.find("吉林的雪")) == ["220000"]
    assert codes(finder.find("海南旅游")) == ["460000"]


def test_ambiguous_short_name_resolved_by_a_co_mentioned_parent(finder: RegionFinder) -> None:
    assert codes(finder.find("北京朝阳一小区")) == ["110000", "110105"]
    assert codes(finder.find("长春朝阳区一小区")) == ["220100", "220104"]
    assert codes(finder.find("南通通州的工厂")) == ["320600", "320612"]


def test_ambiguous_short_name_alone_stays_at_the_least_ambiguous_level(
    finder: RegionFinder,
) -> None:
    # 朝阳: one city (辽宁朝阳市) and several counties: the city level is unambiguous.
    assert codes(finder.find("朝阳的天气")) == ["211300"]
    # 通州: two counties, one of them a municipality's district.
    assert codes(finder.find("通州的房价")) == ["110112"]


def test_weak_names_need_a_co_mentioned_city(finder: RegionFinder) -> None:
    assert finder.find("江北的路") == []
    assert codes(finder.find("宁波江北的路")) == ["330200", "330205"]
    assert finder.find("公安局通报") == []
    assert codes(finder.find("湖北公安县")) == ["420000", "421022"]
    assert finder.find("城区居民") == []
    # 荆州 itself is ambiguous (荆州市, 荆州区); once it falls back to the city, 公安 follows.
    assert codes(finder.find("荆州公安")) == ["421000", "421022"]


@pytest.mark.parametrize(
    "text",
    [
        "今天天气很好，我们去公园散步",
        "公安机关依法处理",
        "这件事在南部地区引起关注",
        "加强合作，共同发展",
        "东方卫视的节目",
        "孙中山先生诞辰纪念",
        "中山大学的学生",
        "大理石地板很滑",
        "这两个方案大同小异",
        "平安银行的理财",
        "发展中国家的经济",
        "阿里巴巴的股价",
        "他夸下海口说一定能做到",
        "新区开发区城区的规划",
        "祝您长寿安康",
        "我们要和平，不要战争",
        "这条路在长江西岸",
        "早上吃了三明治",
        "通道里堆满了杂物",
        "互助合作是美德",
    ],
)
def test_no_false_hits_in_ordinary_sentences(finder: RegionFinder, text: str) -> None:
    assert finder.find(text) == [], text


def test_hint_resolves_and_falls_back(finder: RegionFinder) -> None:
    assert codes(finder.find("江北的路", hint="宁波")) == ["330205"]
    assert codes(finder.find("江北的路", hint="330200")) == ["330205"]
    assert codes(finder.find("今天天气很好", hint="浙江宁波")) == ["330000", "330200"]
    assert codes(finder.find("今天天气很好", hint="330212")) == ["330212"]
    assert finder.find("今天天气很好", hint="火星") == []
    no_fallback = RegionFinder(hint_fallback=False)
    assert no_fallback.find("今天天气很好", hint="宁波") == []


def test_ancestors_and_within(finder: RegionFinder) -> None:
    assert finder.ancestors("330212") == [
        {"name": "宁波市", "code": "330200", "level": "city"},
        {"name": "浙江省", "code": "330000", "level": "province"},
    ]
    assert codes(finder.ancestors("110105")) == ["110000"]  # municipality: no city level
    assert finder.ancestors("330000") == []
    assert finder.ancestors("999999") == []
    assert finder.within("330212", "330000") and finder.within("330200", "330200")
    assert not finder.within("330212", "420000")
    assert finder.division("330200") == {"name": "宁波市", "code": "330200", "level": "city"}


def test_gazetteer_shape() -> None:
    gazetteer = Gazetteer.load()
    levels = [d.level for d in gazetteer.divisions.values()]
    assert levels.count("province") == 34
    assert levels.count("city") > 330 and levels.count("county") > 2800
    for d in gazetteer.divisions.values():
        assert len(d.code) == 6 and d.code.isdigit()
        if d.level != "province":
            assert d.parent in gazetteer.divisions, d
        assert not d.short or len(d.short) >= 2


def test_broken_gazetteer_raises_model_error(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="gazetteer_build"):
        Gazetteer.load(tmp_path / "missing.tsv.gz")
    bad = tmp_path / "bad.tsv.gz"
    with gzip.open(bad, "wt", encoding="utf-8") as handle:
        handle.write("330200\t宁波市\n")
    with pytest.raises(ModelError, match="line 1"):
        Gazetteer.load(bad)


def test_build_is_reproducible_from_a_small_source(tmp_path: Path) -> None:
    source = tmp_path / "adcodes.csv"
    source.write_text(
        "adcode,name\n330000000000,浙江省\n330200000000,宁波市\n330212000000,鄞州区\n"
        "110000000000,北京市\n110100000000,北京市\n110105000000,朝阳区\n990000000000,苏鲁交界\n",
        encoding="utf-8",
    )
    out1, out2 = tmp_path / "a.tsv.gz", tmp_path / "b.tsv.gz"
    assert gazetteer_build.main(["--source", str(source), "--out", str(out1)]) == 0
    assert gazetteer_build.main(["--source", str(source), "--out", str(out2)]) == 0
    assert out1.read_bytes() == out2.read_bytes()
    small = RegionFinder(Gazetteer.load(out1))
    assert codes(small.find("宁波鄞州")) == ["330200", "330212"]
    assert codes(small.ancestors("110105")) == ["110000"]  # 110100 folded into 110000
    assert small.gazetteer.get("990000") is None


def test_short_names_strip_suffixes_and_ethnic_groups() -> None:
    n = gazetteer_build.NATIONS
    assert gazetteer_build.short_name("彭水苗族土家族自治县", "county", n) == "彭水"
    assert gazetteer_build.short_name("博尔塔拉蒙古自治州", "city", n) == "博尔塔拉"
    assert gazetteer_build.short_name("广西壮族自治区", "province", n) == "广西"
    assert gazetteer_build.short_name("忠县", "county", n) == ""
    assert gazetteer_build.short_name("浦东新区", "county", n) == "浦东"


def test_shipped_artifact_is_small() -> None:
    assert DEFAULT_GAZETTEER.stat().st_size < 200_000


@settings(max_examples=200)
@given(st.text(max_size=200))
def test_any_text_gives_valid_regions(text: str) -> None:
    for region in FINDER.find(text):
        assert set(region) == {"name", "code", "level"}
        assert region["level"] in ("province", "city", "county")


FINDER = RegionFinder()
