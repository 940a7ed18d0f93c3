"""Group-incident risk: hand-written positive and negative cases (no labelled set exists)."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from yuqing.analysis import lexicon
from yuqing.analysis.group_incident import GroupIncidentScorer

THRESHOLD = lexicon.THRESHOLD

# (text, a substring that some reason must contain)
POSITIVES = [
    ("200多名农民工聚集在项目部门口讨薪，拉横幅要求开发商支付拖欠工资", "聚集类词语: 聚集, 拉横幅"),
    ("某小区上百名业主在售楼处拉横幅维权，抗议开发商延期交房", "人数规模: 上百名业主"),
    ("明天上午9点全市出租车司机罢工，大家都在火车站集合，转发扩散", "罢工罢课类词语: 罢工"),
    ("xx中学学生罢课抗议食堂饭菜质量，数百名学生聚集在操场", "罢工罢课类词语: 罢课"),
    ("工厂欠薪三个月，明天大家一起去市政府讨个说法，人越多越好", "号召行动: 大家一起去"),
    ("村民因征地补偿款问题堵路，与警察发生冲突，现场有人打砸车辆", "堵路冲突类词语"),
    ("数千名投资人聚集在公司总部门口要求退钱，平台爆雷跑路", "人数规模: 数千名投资人"),
    ("家长们今天下午在教育局门口静坐，要求撤换校长", "聚集时间: 今天下午"),
    ("外卖骑手集体停运抗议平台降低配送费", "罢工罢课类词语: 集体停运"),
    ("几百个村民拉横幅堵住大门，不让垃圾焚烧厂开工", "人数规模: 几百个村民"),
    ("明天早上8点在区政府门口集合，所有被烂尾楼坑的业主都来，不见不散", "号召行动: 集合, 都来"),
    ("工人们围堵厂门口讨要工资，已经三个月没发工资了", "欠薪等诉求: 讨要工资"),
    ("出租车司机集体罢运，抗议网约车，数百辆出租车停在市政府前", "罢工罢课类词语: 罢运"),
    ("老师们罢课讨薪，拖欠绩效工资一年多了", "欠薪等诉求: 讨薪"),
    ("大批村民聚集在镇政府门口，与防暴警察对峙", "人数规模: 大批"),
    ("受害人相约下周一去信访局集体上访，请大家转发扩散", "聚集时间: 下周一"),
    ("明天上午九点，全体环卫工人在人民广场集合，讨要被拖欠的工资", "聚集地点"),
    ("台灣某廠數百名員工罷工，聚集在廠門口抗議", "罢工罢课类词语: 罢工"),  # raw Traditional text
]

NEGATIVES = [
    "食堂饭菜里有虫，希望学校给个说法",
    "周杰伦演唱会现场数万名粉丝聚集在体育场外，气氛热烈",
    "辟谣：网传某地发生群体聚集事件不实，经核实并无人员聚集",
    "警方通报：该地没有发生聚集，网传视频系旧视频",
    "今天天气很好，我们在公园散步",
    "回顾当年的工人罢工运动，历史上这是一次重要事件",
    "快递三天了还没到，客服也不理人，太气人了",
    "为防止疫情传播，请市民避免人员聚集",
    "国庆假期景区游客聚集，人山人海",
    "明天上午9点在学校门口集合，春游出发",
    "这家店的奶茶太难喝了，再也不来了",
    "小区物业费又涨了，业主们很不满意",
    "某地发生聚集性疫情，新增病例10例",
    "我市召开信访工作会议，部署下一阶段工作",
    "消费者维权意识越来越强，315晚会曝光多家企业",
    "新年跨年夜数万人聚集在外滩观看灯光秀",
    "纪念五四运动一百周年，回顾当年学生游行的历史",
    "球迷们在广场庆祝球队夺冠，现场上千人欢呼",
    "",
]


@pytest.fixture(scope="module")
def scorer() -> GroupIncidentScorer:
    return GroupIncidentScorer()


@pytest.mark.parametrize(("text", "reason"), POSITIVES)
def test_positive_cases_pass_the_threshold(
    scorer: GroupIncidentScorer, text: str, reason: str
) -> None:
    result = scorer.score(text)
    assert result.score >= THRESHOLD, (text, result)
    assert any(reason in r for r in result.reasons), result.reasons


@pytest.mark.parametrize("text", NEGATIVES)
def test_negative_cases_stay_below_the_threshold(scorer: GroupIncidentScorer, text: str) -> None:
    result = scorer.score(text, anger=0.3)
    assert result.score < THRESHOLD, (text, result)


def test_counts_of_hand_written_cases() -> None:
    assert len(POSITIVES) >= 15 and len(NEGATIVES) >= 15


def test_negation_and_debunking_lower_the_score(scorer: GroupIncidentScorer) -> None:
    plain = scorer.score("工业园区有上百人聚集")
    negated = scorer.score("工业园区没有人聚集")
    debunked = scorer.score("辟谣：工业园区并无上百人聚集")
    assert negated.score < plain.score and debunked.score < plain.score
    assert any(r.startswith("否定表述") for r in negated.reasons)
    assert any(r.startswith("辟谣或否认: 辟谣") for r in debunked.reasons)


def test_single_character_negator_needs_to_be_adjacent(scorer: GroupIncidentScorer) -> None:
    # 无良 four characters before 拖欠工资 is not a negation of the arrears.
    result = scorer.score("无良老板拖欠工资")
    assert "grievance" in result.signals


def test_anger_fear_and_velocity_raise_the_score(scorer: GroupIncidentScorer) -> None:
    text = "工人们在厂门口讨薪"
    base = scorer.score(text).score
    angry = scorer.score(text, anger=0.9).score
    fast = scorer.score(text, anger=0.9, fear=0.5, velocity=200.0)
    assert base < angry < fast.score
    assert any(r.startswith("愤怒情绪: 0.90") for r in fast.reasons)
    assert any(r.startswith("传播速度") for r in fast.reasons)


def test_signals_are_the_logit_contributions(scorer: GroupIncidentScorer) -> None:
    result = scorer.score("数百名工人聚集在市政府门口讨薪", anger=0.5)
    z = sum(result.signals.values())
    assert math.isclose(result.score, 1 / (1 + math.exp(-z)), abs_tol=1e-3)
    assert result.signals["bias"] == lexicon.BIAS
    assert result.signals["anger"] == pytest.approx(lexicon.WEIGHTS["anger"][0] * 0.5)


def test_crowd_sizes_are_parsed(scorer: GroupIncidentScorer) -> None:
    small = scorer.score("3名工人讨薪").signals.get("crowd", 0.0)
    big = scorer.score("三千名工人讨薪").signals["crowd"]
    medium = scorer.score("200多人讨薪").signals["crowd"]
    assert small == 0.0 and 0 < medium < big


def test_weights_override_and_unknown_signal() -> None:
    loud = GroupIncidentScorer(weights={"gathering": 6.0})
    assert loud.score("有人聚集").score > 0.9
    with pytest.raises(ValueError, match="unknown group-incident signals"):
        GroupIncidentScorer(weights={"nonsense": 1.0})


def test_terms_belong_to_one_signal() -> None:
    seen: dict[str, str] = {}
    for signal, terms in lexicon.TERMS.items():
        for term in terms:
            assert seen.setdefault(term, signal) == signal, term
    for signal in lexicon.TERMS:
        assert signal in lexicon.WEIGHTS


@pytest.mark.parametrize(
    "text", ["", "😀😀😀", "hello world", "x" * 200_000, "聚集" * 10_000, "\x00\ufffd"]
)
def test_bad_input_gets_a_defined_result(scorer: GroupIncidentScorer, text: str) -> None:
    result = scorer.score(text, anger=float("nan"), fear=-3.0, velocity=float("inf"))
    assert 0.0 <= result.score <= 1.0


@given(st.text(max_size=300), st.floats(allow_nan=True), st.floats(allow_nan=True))
def test_any_text_scores_in_unit_interval(text: str, anger: float, fear: float) -> None:
    result = GROUP.score(text, anger=anger, fear=fear)
    assert 0.0 <= result.score <= 1.0
    assert all(isinstance(r, str) for r in result.reasons)


GROUP = GroupIncidentScorer()
