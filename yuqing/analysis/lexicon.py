"""Vocabulary and weights of the group-incident (群体性事件) risk score.

Everything the score knows lives here, in one place, so that it can be read, reviewed and
tuned without touching the scoring code (:mod:`yuqing.analysis.group_incident`).
Terms are Simplified Chinese; the scorer adds their Traditional spellings itself.

``WEIGHTS`` is the logistic model: ``score = sigmoid(BIAS + sum(weight * signal))``, where
each signal is in 0..1 (vocabulary signals: 1 for one distinct term, 1.25 for two, 1.5
for three or more). docs/risk-and-regions.md explains every row.
"""

from __future__ import annotations

from typing import Final

BIAS: Final = -3.5
THRESHOLD: Final = 0.5  # group_incident when score >= THRESHOLD

# signal name → (weight, Chinese label used in reasons)
WEIGHTS: Final[dict[str, tuple[float, str]]] = {
    "gathering": (2.4, "聚集类词语"),
    "strike": (2.4, "罢工罢课类词语"),
    "petition": (1.6, "上访信访类词语"),
    "blockade": (2.0, "堵路冲突类词语"),
    "protest": (1.2, "抗议维权类词语"),
    "grievance": (1.2, "欠薪等诉求"),
    "mobilize": (1.6, "号召行动"),
    "spread_call": (0.5, "号召扩散"),
    "place": (0.9, "聚集地点"),
    "time": (0.5, "聚集时间"),
    "crowd": (1.6, "人数规模"),
    "plan": (0.8, "时间地点与行动俱全"),
    "anger": (1.2, "愤怒情绪"),
    "fear": (0.5, "恐惧情绪"),
    "velocity": (1.0, "传播速度"),
    "debunk": (-2.5, "辟谣或否认"),
    "negated": (-0.5, "否定表述"),
    "hearsay": (-0.3, "传闻表述"),
    "historical": (-1.5, "历史回顾"),
    "benign": (-1.5, "文娱或日常聚集"),
}

# Vocabulary signals: each term counts once per text, unless negated nearby.
TERMS: Final[dict[str, tuple[str, ...]]] = {
    "gathering": (
        "聚集", "聚众", "集会", "游行", "示威", "静坐", "拉横幅", "打横幅", "举横幅", "挂横幅",
        "拉条幅", "举牌", "喊口号", "上街", "围堵政府", "聚在", "堵在门口", "集体上门",
    ),
    "strike": (
        "罢工", "罢课", "罢市", "罢运", "罢驶", "集体停运", "集体停工", "停工抗议", "停运抗议",
        "集体停课", "集体辞职",
    ),
    "petition": ("上访", "信访", "集体上访", "进京上访", "越级上访", "请愿", "联名信"),
    "blockade": (
        "堵路", "封路", "堵门", "围堵", "拦车", "拦路", "堵塞交通", "堵住大门", "冲击政府",
        "冲击派出所", "打砸", "打砸抢", "砸车", "掀翻", "警民冲突", "肢体冲突",
        "发生冲突", "推搡", "对峙", "围攻", "防暴", "催泪", "封堵",
    ),
    "protest": ("抗议", "维权", "讨说法", "要说法", "讨个说法", "讨公道", "讨回公道", "维护权益"),
    "grievance": (
        "讨薪", "欠薪", "拖欠工资", "拖欠薪资", "工资拖欠", "讨要工资", "讨要工钱", "农民工工资",
        "血汗钱", "烂尾", "停贷", "爆雷", "暴雷", "非法集资", "强拆", "强制拆迁", "征地",
        "拆迁补偿", "补偿款", "不发工资", "讨债", "退学费", "跑路",
    ),
    "mobilize": (
        "大家一起去", "一起去", "都来", "都去", "集合", "相约", "约好", "组织起来", "团结起来",
        "站出来", "不见不散", "到场", "人越多越好", "人多力量大", "一起维权", "联合起来",
        "准时到", "统一行动", "一起上", "不去的",
    ),
    "spread_call": ("转发扩散", "求扩散", "请扩散", "求转发", "请转发", "让更多人知道", "扩散出去"),
}  # fmt: skip

# Whole-text dampeners.
DEBUNK: Final = (
    "辟谣", "谣言", "不实", "假消息", "造谣", "谣传", "系谣", "澄清", "经核实", "并无此事",
    "纯属捏造", "失实",
)  # fmt: skip
HEARSAY: Final = ("网传", "据说", "听说", "传言", "疑似", "据传")
HISTORICAL: Final = (
    "当年", "那年", "多年前", "历史上", "回顾", "回忆", "纪念", "周年", "往事", "上世纪",
    "年代", "曾经", "史料", "历史",
)  # fmt: skip
BENIGN: Final = (
    "演唱会", "音乐节", "粉丝", "歌迷", "球迷", "庆祝", "跨年", "景区", "游客", "旅游", "婚礼",
    "聚会", "同学会", "年会", "展会", "招聘会", "马拉松", "赛事", "比赛", "排队", "抢购",
    "促销", "开业", "签售", "见面会", "接机", "应援", "灯光秀", "烟花", "庙会", "广场舞",
    "花车", "巡游", "春游", "秋游", "研学", "军训", "团建", "毕业典礼", "运动会", "施工",
    "聚集性疫情", "聚集性感染", "聚集性", "聚集场所", "聚众赌博", "动物", "鸟类", "候鸟", "鱼群",
)  # fmt: skip

# A vocabulary hit preceded within NEGATION_WINDOW characters by one of these does not
# count ("没有聚集", "并无人员聚集", "严禁聚集", "避免人员聚集").
NEGATORS: Final = (
    "没有", "没", "未", "无", "并无", "并未", "不存在", "不是", "否认", "不会", "不要", "别",
    "禁止", "严禁", "防止", "避免", "不得", "请勿", "勿", "杜绝", "不再", "不举办", "劝散",
)  # fmt: skip
NEGATION_WINDOW: Final = 4

# Pieces of the place / time / crowd patterns.
PLACE_NOUNS: Final = (
    "广场", "政府", "市政府", "区政府", "县政府", "镇政府", "乡政府", "街道办", "信访局",
    "信访办", "门口", "大门", "楼下", "厂门口", "售楼处", "售楼部", "工地", "校门", "市委",
    "区委", "县委", "派出所", "公安局", "项目部", "总部", "工厂", "公司门口", "车站", "路口",
    "人民路", "大道",
)  # fmt: skip
CROWD_NOUNS: Final = (
    "人", "名", "群众", "村民", "工人", "业主", "学生", "员工", "农民工", "家长", "司机",
    "居民", "职工", "商户", "师生", "老师", "教师", "网友", "民众", "市民", "债权人", "投资人",
)  # fmt: skip
VAGUE_CROWD: Final = (
    "大批", "大量群众", "大量人员", "人山人海", "黑压压", "成群结队", "蜂拥", "一大群",
    "越来越多的人", "围满了人", "挤满了人",
)  # fmt: skip
CROWD_MIN: Final = 30  # fewer people than this is not a crowd signal
CROWD_FULL: Final = 1000  # this many or more is the full signal (log scale between)
