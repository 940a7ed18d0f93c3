"""Chart images for briefings: stacked bars and lines drawn as PNG with Pillow.

Word documents need raster images, and the dashboard's plotly figures are drawn by a
browser. Exporting them through kaleido works here (it drives Debian's Chromium) but costs
about 4 s per figure and a browser process; Pillow draws the same simple charts in a few
milliseconds with no browser (docs/reports.md, Decisions). Chinese labels need a CJK font:
the first of :data:`FONT_PATHS` that exists is used (Debian's ``fonts-noto-cjk``); without
one, Pillow's built-in font draws Latin text and Chinese labels show as boxes.

Only labels and numbers are drawn, never post text.
"""

from __future__ import annotations

import io
import math
from collections.abc import Mapping, Sequence
from functools import lru_cache
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

FONT_PATHS: tuple[str, ...] = (
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf",
)
PALETTE = ("#2f6fb3", "#e6a23c", "#3a9d5d", "#d9534f", "#8e6bb8", "#4bb3c4", "#9aa5b1")
_INK = "#243447"
_GRID = "#dde3ea"
_MAX_TICKS = 12

Font = ImageFont.FreeTypeFont | ImageFont.ImageFont


@lru_cache(maxsize=8)
def font(size: int) -> Font:
    """A CJK-capable font of ``size`` pixels (Pillow's default font when none is installed)."""
    for path in FONT_PATHS:
        if Path(path).exists():
            return ImageFont.truetype(path, size)
    return ImageFont.load_default(size)


def has_cjk_font() -> bool:
    """Whether a CJK font was found (charts then draw Chinese labels)."""
    return any(Path(p).exists() for p in FONT_PATHS)


def _nice_max(value: int) -> tuple[int, int]:
    """A round axis maximum at or above ``value`` and its tick step (about 5 ticks)."""
    if value <= 0:
        return 1, 1
    raw = value / 5
    magnitude = 10 ** math.floor(math.log10(raw)) if raw >= 1 else 1
    step = next(m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= raw)
    step = max(1, int(step))
    return step * math.ceil(value / step), step


class _Canvas:
    """The frame shared by both chart kinds: title, y axis with grid, x labels, legend."""

    def __init__(self, title: str, labels: Sequence[str], top: int, size: tuple[int, int]) -> None:
        self.width, self.height = size
        self.image = Image.new("RGB", size, "white")
        self.draw = ImageDraw.Draw(self.image)
        self.left, self.right = 72, self.width - 24
        self.top, self.bottom = 56, self.height - 96
        self.labels = list(labels)
        self.ymax, step = _nice_max(top)
        self.draw.text((self.left, 14), title, fill=_INK, font=font(22))
        small = font(14)
        for tick in range(0, self.ymax + 1, step):
            y = self.y(tick)
            self.draw.line([(self.left, y), (self.right, y)], fill=_GRID, width=1)
            text = str(tick)
            w = self.draw.textlength(text, font=small)
            self.draw.text((self.left - 8 - w, y - 9), text, fill=_INK, font=small)
        self.draw.line([(self.left, self.bottom), (self.right, self.bottom)], fill=_INK, width=1)

    @property
    def slot(self) -> float:
        return (self.right - self.left) / max(1, len(self.labels))

    def y(self, value: float) -> float:
        return self.bottom - (self.bottom - self.top) * value / self.ymax

    def x_center(self, index: int) -> float:
        return self.left + self.slot * (index + 0.5)

    def x_labels(self) -> None:
        small = font(13)
        every = max(1, math.ceil(len(self.labels) / _MAX_TICKS))
        for i, label in enumerate(self.labels):
            if i % every:
                continue
            w = self.draw.textlength(label, font=small)
            x = self.x_center(i) - w / 2
            x = min(max(x, self.left - 30), self.right - w)
            self.draw.text((x, self.bottom + 8), label, fill=_INK, font=small)

    def legend(self, items: Sequence[tuple[str, str]]) -> None:
        small = font(15)
        x = float(self.left)
        y = self.height - 40
        for name, color in items:
            self.draw.rectangle([x, y + 3, x + 14, y + 17], fill=color)
            self.draw.text((x + 20, y), name, fill=_INK, font=small)
            x += 20 + self.draw.textlength(name, font=small) + 28

    def png(self) -> bytes:
        buffer = io.BytesIO()
        self.image.save(buffer, format="PNG", optimize=True)
        return buffer.getvalue()


def _color(value: str, index: int, colors: Mapping[str, str]) -> str:
    return colors.get(value, PALETTE[index % len(PALETTE)])


def stacked_bars(
    title: str,
    labels: Sequence[str],
    series: Mapping[str, Sequence[int]],
    names: Mapping[str, str],
    colors: Mapping[str, str],
    *,
    size: tuple[int, int] = (1200, 520),
) -> bytes:
    """Bars per label, stacked by series in the given order (first at the bottom); a PNG."""
    totals = [sum(counts[i] for counts in series.values()) for i in range(len(labels))]
    canvas = _Canvas(title, labels, max(totals, default=0), size)
    bar = max(1.0, canvas.slot * 0.8)
    for i in range(len(labels)):
        base = 0
        x0 = canvas.x_center(i) - bar / 2
        for k, (value, counts) in enumerate(series.items()):
            n = counts[i]
            if n:
                top, bottom = canvas.y(base + n), canvas.y(base)
                canvas.draw.rectangle([x0, top, x0 + bar, bottom], fill=_color(value, k, colors))
            base += n
    canvas.x_labels()
    canvas.legend([(names.get(v, v), _color(v, k, colors)) for k, v in enumerate(series)])
    return canvas.png()


def line_chart(
    title: str,
    labels: Sequence[str],
    series: Mapping[str, Sequence[int]],
    names: Mapping[str, str],
    colors: Mapping[str, str],
    *,
    size: tuple[int, int] = (1200, 520),
) -> bytes:
    """One line per series over the labels; a PNG."""
    top = max((max(counts, default=0) for counts in series.values()), default=0)
    canvas = _Canvas(title, labels, top, size)
    for k, (value, counts) in enumerate(series.items()):
        color = _color(value, k, colors)
        points = [(canvas.x_center(i), canvas.y(n)) for i, n in enumerate(counts)]
        if len(points) > 1:
            canvas.draw.line(points, fill=color, width=3, joint="curve")
        for x, y in points:
            canvas.draw.ellipse([x - 3, y - 3, x + 3, y + 3], fill=color)
    canvas.x_labels()
    canvas.legend([(names.get(v, v), _color(v, k, colors)) for k, v in enumerate(series)])
    return canvas.png()
