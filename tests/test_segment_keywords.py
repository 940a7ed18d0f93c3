"""The segment and keywords stages, the stopword list and the shipped idf table."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from tests.conftest import shared_data
from yuqing.errors import ConfigError, ModelError
from yuqing.models import Document
from yuqing.pipeline.idf_build import build, main, source_files
from yuqing.pipeline.keywords import IdfTable, KeywordExtractor
from yuqing.pipeline.normalize import Normalizer
from yuqing.pipeline.segment import Segmenter, load_stopwords, read_user_dict
from yuqing.pipeline.stage import Pipeline, Stage

POST = (
    "宁波某中学食堂被曝使用过期食材，多名学生吃了以后腹痛住院，家长们要求学校给个说法！"
    "食堂承包商至今没有回应。"
)


@pytest.fixture(scope="module")
def segmenter() -> Segmenter:
    return Segmenter()


def analysed(text: str, *stages: Stage) -> Document:
    doc = Document(id="1", source="test", text=text)
    Pipeline([Normalizer(), *stages]).process([doc])
    return doc


# -- segmentation --------------------------------------------------------------------


def test_stages_follow_the_protocol(segmenter: Segmenter) -> None:
    assert isinstance(segmenter, Stage) and segmenter.name == "segment"
    extractor = KeywordExtractor()
    assert isinstance(extractor, Stage) and extractor.name == "keywords"


def test_cut_drops_punctuation_whitespace_and_stopwords(segmenter: Segmenter) -> None:
    tokens = segmenter.cut("我们 在 武汉大学 吃饭了，真的 很好吃！！ ~~ 3.5元")
    assert "，" not in tokens and " " not in tokens and "~~" not in tokens
    assert "我们" not in tokens and "在" not in tokens and "了" not in tokens
    assert "武汉大学" in tokens and "3.5" in tokens


def test_stopwords_kept_when_asked() -> None:
    assert "我们" in Segmenter(stopwords=False).cut("我们在武汉")


def test_stopword_list_is_shipped() -> None:
    words = load_stopwords()
    assert 300 <= len(words) <= 500
    assert {"的", "了", "是", "在", "和", "一个", "没有", "我们", "你们", "他们"} <= words


def test_user_dictionary_changes_segmentation(tmp_path: Path) -> None:
    text = "鄞州区新城街道发生一起事故，涉事网约车平台回应"
    assert "鄞州区新城街道" not in Segmenter().cut(text)
    user = tmp_path / "user.txt"
    user.write_text("# 本地地名\n鄞州区新城街道 1000 ns\n網約車平台\n\n", encoding="utf-8")
    tokens = Segmenter(user_dict=user).cut(text)
    assert "鄞州区新城街道" in tokens
    assert "网约车平台" in tokens  # entries are normalized like the text
    assert "鄞州区新城街道" not in Segmenter().cut(text)  # only that segmenter changed


def test_missing_user_dictionary_names_the_path(tmp_path: Path) -> None:
    missing = tmp_path / "nope.txt"
    with pytest.raises(ConfigError, match=r"nope\.txt"):
        Segmenter(user_dict=missing)


def test_malformed_user_dictionary_entry_names_the_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.txt"
    bad.write_text("好词 10 n\n坏词 十 n 多余\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"bad\.txt, line 2"):
        read_user_dict(bad)


def test_process_fills_tokens_from_norm_text() -> None:
    doc = analysed("臺灣網絡輿情//@a: 原文不算", Segmenter())
    assert doc.tokens == ["台湾", "网络", "舆情"]
    assert analysed("[哈哈]", Segmenter()).tokens == []


# -- keywords ------------------------------------------------------------------------


def test_idf_table_loads() -> None:
    table = IdfTable.default()
    assert table is IdfTable.default()
    assert table.n_docs > 100_000 and len(table) > 20_000
    assert table.idf("的") < table.idf("食堂") < table.idf("没见过的词xyz") == table.max_idf


def test_idf_table_round_trip_and_errors(tmp_path: Path) -> None:
    path = tmp_path / "idf.tsv.gz"
    IdfTable({"武汉": 5, "食堂": 1}, 10).save(path)
    table = IdfTable.load(path)
    assert (table.n_docs, table.df("武汉"), table.df("无")) == (10, 5, 0)
    assert table.idf("武汉") < table.idf("食堂") < table.idf("无")
    with pytest.raises(ModelError, match="missing"):
        IdfTable.load(tmp_path / "absent.tsv.gz")
    broken = tmp_path / "broken.tsv.gz"
    broken.write_bytes(gzip.compress(b"#documents\t3\nonly-a-token\n"))
    with pytest.raises(ModelError, match="line 2"):
        IdfTable.load(broken)


def test_keywords_of_a_sample_post_are_sensible() -> None:
    doc = analysed(POST, Segmenter(stopwords=False), KeywordExtractor())
    words = [word for word, _ in doc.keywords]
    assert len(words) == 8
    assert {"食堂", "过期", "食材"} <= set(words)
    assert words[0] == "食堂"  # twice in the post and specific
    assert not {"的", "了", "我们", "没有"} & set(words)
    weights = [weight for _, weight in doc.keywords]
    assert weights == sorted(weights, reverse=True)
    assert sum(weights) == pytest.approx(1, abs=1e-3)


def test_keywords_skip_single_characters_and_numbers() -> None:
    extractor = KeywordExtractor(idf=IdfTable({"城市": 1}, 10), top_k=3)
    # 城市: 2 * (ln(11 / 2) + 1) = 5.4095; 地铁, unseen: ln(11) + 1 = 3.3979
    assert extractor.extract(["吃", "2020", "3.5", "10%", "城市", "城市", "地铁"]) == [
        ("城市", 0.6142),
        ("地铁", 0.3858),
    ]
    assert extractor.extract([]) == [] and extractor.extract(["的", "1"]) == []
    with pytest.raises(ConfigError):
        KeywordExtractor(top_k=0)


def test_keywords_are_deterministic_on_ties() -> None:
    extractor = KeywordExtractor(idf=IdfTable({}, 10), top_k=2)
    assert extractor.extract(["乙乙", "甲甲", "丙丙"]) == [("乙乙", 0.5), ("甲甲", 0.5)]


# -- the table builder ---------------------------------------------------------------


def test_build_counts_distinct_texts(tmp_path: Path) -> None:
    folder = tmp_path / "sentiment_demo"
    folder.mkdir()
    (folder / "data.csv").write_text(
        "id,label,text\n1,0,武汉的食堂\n2,0,武汉的食堂\n3,1,武汉的学生\n4,1,武漢的食堂！\n",
        encoding="utf-8",
    )
    (tmp_path / "other").mkdir()
    files = source_files(tmp_path)
    assert files == [folder / "data.csv"]
    table = build(files, min_df=2, log=False)
    assert table.n_docs == 3  # the repeated line counts once; 武漢的食堂！ is a new text
    assert table.df("武汉") == 3 and table.df("食堂") == 2 and "学生" not in table
    out = tmp_path / "idf.tsv.gz"
    assert main(["--data", str(tmp_path), "--out", str(out), "--min-df", "1"]) == 0
    assert IdfTable.load(out).df("学生") == 1
    assert main(["--data", str(tmp_path / "absent"), "--out", str(out)]) == 2


def test_shipped_table_covers_the_shared_datasets() -> None:
    data = shared_data()
    names = {path.parent.name for path in source_files(data)}
    assert {"sentiment_weibo_senti_100k", "topic_thucnews_titles", "rumor_weibo_ma2016"} <= names
