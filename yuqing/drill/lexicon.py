"""The generator's own vocabulary: tone phrases per emotion, synonyms, particles, typos,
background chatter, nicknames and repost comments.

Written for yuqing (not taken from any data set). Scenario files carry the incident's
facts and templates; this module carries what makes each post sound like a different
person: how angry or sad it is, which words it picks, its emoji codes and slips.
"""

from __future__ import annotations

EMOTIONS = ("joy", "anger", "sadness", "fear", "surprise", "neutral")
SENTIMENTS = ("negative", "neutral", "positive")
NEGATIVE_EMOTIONS = ("anger", "sadness", "fear")

# Per emotion: phrases put before the post's facts, phrases after them, emoji codes.
OPENERS: dict[str, tuple[str, ...]] = {
    "anger": ("太气人了！", "真是气死了，", "简直离谱！", "忍不了了，", "无语，", "凭什么？"),
    "sadness": ("心疼，", "看哭了，", "唉，", "真的很难过，", "寒心，"),
    "fear": ("好害怕，", "细思极恐，", "担心死了，", "吓到了，", "不敢想，"),
    "surprise": ("真的假的？", "什么情况？", "刚刷到，", "没想到，", "居然"),
    "joy": ("点赞！", "好消息，", "开心，", "太棒了，", "暖心，"),
    "neutral": ("", "", "关注一下：", "据了解，", "转需：", "【消息】"),
}
CLOSERS: dict[str, tuple[str, ...]] = {
    "anger": (
        "必须严查，给个说法！",
        "相关部门干什么去了？",
        "这种事绝不能不了了之！",
        "要求公开真相，严惩责任人！",
        "敷衍了事，太让人愤怒了",
    ),
    "sadness": ("心里很不是滋味", "希望大家都平安", "太让人难过了", "想想就难受"),
    "fear": (
        "以后还敢吗？",
        "有没有人知道现在什么情况，很担心",
        "会不会还有别的问题？",
        "太可怕了",
    ),
    "surprise": ("有没有知情人说说？", "坐等后续", "这也太突然了", "第一次听说"),
    "joy": ("为他们点赞！", "希望越办越好", "满满的幸福感", "值得推荐"),
    "neutral": ("持续关注。", "等待官方消息。", "后续如何，请关注。", "", ""),
}
EMOJI: dict[str, tuple[str, ...]] = {
    "anger": ("[怒]", "[怒]", "[抓狂]", "[鄙视]", "[怒骂]"),
    "sadness": ("[泪]", "[泪]", "[悲伤]", "[伤心]"),
    "fear": ("[害怕]", "[泪]", "[吃惊]"),
    "surprise": ("[吃惊]", "[疑问]", "[思考]"),
    "joy": ("[赞]", "[哈哈]", "[鼓掌]", "[心]", "[太开心]"),
    "neutral": ("", "", "[思考]", "[围观]"),
}

# Words a writer may swap for one another (each group: interchangeable spellings).
SYNONYMS: tuple[tuple[str, ...], ...] = (
    ("孩子", "娃", "小孩"),
    ("学生", "同学们"),
    ("必须", "一定要", "务必"),
    ("彻查", "严查", "查清楚"),
    ("家长", "家长们"),
    ("视频", "录像"),
    ("警察", "民警"),
    ("现场", "当场"),
    ("回应", "答复", "回复"),
    ("真相", "实情"),
    ("很多", "好多", "不少"),
    ("知道", "清楚"),
    ("希望", "盼望"),
    ("马上", "立刻"),
    ("说法", "交代"),
)
PARTICLES = ("啊", "呢", "吧", "啦", "了", "哦", "呀")
# (correct, slip): homophone or keyboard slips people leave in posts.
TYPOS: tuple[tuple[str, str], ...] = (
    ("的", "得"),
    ("在", "再"),
    ("已经", "以经"),
    ("什么", "神马"),
    ("这样", "酱紫"),
    ("知道", "造"),
    ("喜欢", "稀饭"),
    ("没有", "木有"),
)
NOISE = ("！！！", "。。。", "？？", "～", "…", " ", "!!", "...")

# Short comments written in front of a ``//@`` repost, per sentiment.
REPOST_COMMENTS: dict[str, tuple[str, ...]] = {
    "negative": ("转发微博", "扩散", "太过分了[怒]", "[怒][怒]", "必须查", "心疼[泪]", "顶上去"),
    "neutral": ("转发微博", "关注", "mark", "等后续", "转", "[围观]", "求证"),
    "positive": ("转发微博", "点赞[赞]", "好样的", "支持", "[鼓掌]"),
}
# What people say after an official statement, by its quality (generic; scenarios add theirs).
REACTIONS: dict[str, tuple[str, ...]] = {
    "good": (
        "官方回应还算及时，希望后续公开调查结果[赞]",
        "通报写得很清楚，时间线、措施都有，态度诚恳",
        "有回应就好，相信调查组会给大家一个交代",
        "这次回应速度点赞，希望说到做到",
    ),
    "poor": (
        "这通报就是在糊弄人，避重就轻[怒]",
        "一句“正在调查”就完了？敷衍！",
        "通报里连基本事实都没讲清楚，谁信？[鄙视]",
        "官方通报等于没说，越看越气[怒]",
        "态度这么傲慢，难怪大家不信[怒]",
    ),
}

# Background chatter: ordinary life, no incident. {city} {food} {place} are filled in.
CHATTER: tuple[str, ...] = (
    "今天{city}下雨了，出门记得带伞",
    "周末去{place}走走，风景太美了[哈哈]",
    "{city}的{food}真是百吃不厌",
    "新开的奶茶店排队一个小时，味道一般般",
    "刚看完电影，结局太感人了[泪]",
    "加班到十点，打工人太难了",
    "明天考试，祝我好运[加油]",
    "小区门口新开了一家书店，环境很安静",
    "今天跑了五公里，坚持就是胜利[赞]",
    "终于等到周五了，晚上吃{food}",
    "{city}地铁早高峰又挤爆了",
    "猫主子今天又把花盆打翻了[哈哈]",
    "推荐一本好书，周末一口气看完了",
    "{city}今天空气质量优，蓝天白云心情好",
    "带娃去{place}玩了一天，累并快乐着",
    "这周的天气忽冷忽热，大家注意添衣",
    "谁懂啊，外卖又送错了[哈哈]",
    "楼下的桂花开了，香了一整条街",
)
CITIES = ("杭州", "上海", "北京", "成都", "广州", "深圳", "武汉", "南京", "苏州", "西安", "长沙")
FOODS = ("火锅", "早茶", "小笼包", "热干面", "麻辣烫", "烧烤", "汤圆", "煎饺")
PLACES = ("西湖", "东钱湖", "公园", "海边", "古镇", "植物园", "江边步道")

# Nicknames of ordinary users: prefix + suffix + digits.
NICK_PREFIX = ("小", "阿", "大", "老", "爱吃", "快乐的", "不想上班的", "路过的", "一只", "")
NICK_CORE = (
    "鱼",
    "猫",
    "橙子",
    "星星",
    "面包",
    "追风",
    "柠檬",
    "木木",
    "晴天",
    "豆豆",
    "芒果",
    "桃子",
    "青山",
    "小熊",
)
NICK_SUFFIX = ("", "_", "酱", "君", "呀", "妈妈", "爸爸", "同学")

# Where posts come from, with default shares.
SOURCES: dict[str, float] = {
    "weibo": 0.6,
    "douyin": 0.12,
    "wechat": 0.1,
    "news": 0.08,
    "forum": 0.1,
}
URL_HOSTS = ("t.cn", "m.weibo.cn/status", "v.douyin.com", "mp.weixin.qq.com/s")
