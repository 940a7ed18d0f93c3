"""A briefing as a Word document (python-docx): the same sections as the HTML rendering,
charts as inline PNG pictures, and every post and event as a real hyperlink.

python-docx has no call for an external hyperlink, so :func:`_hyperlink` writes the
``w:hyperlink`` element and its relationship itself. East Asian text uses 宋体 (headings
黑体), the fonts Chinese offices expect; Word substitutes where they are missing.
"""

from __future__ import annotations

import io
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import docx
from docx.document import Document as DocxDocument
from docx.opc.constants import RELATIONSHIP_TYPE
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Pt, RGBColor
from docx.table import Table
from docx.text.paragraph import Paragraph

from yuqing.errors import UsageError
from yuqing.reports.casework import alert_summary
from yuqing.reports.model import NO_DATA, QUOTE_CHARS, SENTIMENT, Briefing, Citation
from yuqing.reports.render_html import mix

BODY_FONT = "宋体"
HEADING_FONT = "黑体"
_LINK_COLOR = "0563C1"


def _east_asian(style_font: object, name: str) -> None:
    element = style_font._element  # type: ignore[attr-defined]
    rpr = element.get_or_add_rPr()
    rfonts = rpr.find(qn("w:rFonts"))
    if rfonts is None:
        rfonts = OxmlElement("w:rFonts")
        rpr.append(rfonts)
    rfonts.set(qn("w:eastAsia"), name)


def _hyperlink(paragraph: Paragraph, url: str, text: str) -> None:
    """Append ``text`` to ``paragraph`` as an external hyperlink to ``url``."""
    r_id = paragraph.part.relate_to(url, RELATIONSHIP_TYPE.HYPERLINK, is_external=True)
    link = OxmlElement("w:hyperlink")
    link.set(qn("r:id"), r_id)
    run = OxmlElement("w:r")
    rpr = OxmlElement("w:rPr")
    color = OxmlElement("w:color")
    color.set(qn("w:val"), _LINK_COLOR)
    underline = OxmlElement("w:u")
    underline.set(qn("w:val"), "single")
    rpr.append(color)
    rpr.append(underline)
    t = OxmlElement("w:t")
    t.text = text
    t.set(qn("xml:space"), "preserve")
    run.append(rpr)
    run.append(t)
    link.append(run)
    paragraph._p.append(link)


class _Writer:
    def __init__(self, briefing: Briefing) -> None:
        self.b = briefing
        self.zone = ZoneInfo(briefing.zone)
        self.doc: DocxDocument = docx.Document()
        normal = self.doc.styles["Normal"]
        normal.font.size = Pt(11)
        _east_asian(normal, BODY_FONT)
        for level in (0, 1, 2):
            _east_asian(
                self.doc.styles["Title" if level == 0 else f"Heading {level}"], HEADING_FONT
            )

    def local(self, when: datetime | None) -> str:
        return when.astimezone(self.zone).strftime("%Y-%m-%d %H:%M") if when else "—"

    def note(self, text: str) -> None:
        run = self.doc.add_paragraph().add_run(text)
        run.italic = True
        run.font.color.rgb = RGBColor(0x8A, 0x6D, 0x3B)

    def cite(self, c: Citation) -> None:
        quote = self.doc.add_paragraph(style="Quote")
        quote.add_run(f"“{c.quote}”" + ("……" if c.truncated else ""))
        meta = self.doc.add_paragraph()
        meta.add_run(f"来源 {c.source} · 编号 ")
        _hyperlink(meta, c.link, c.id)
        if c.author:
            meta.add_run(f" · 作者 {c.author}")
        if c.published_at:
            meta.add_run(f" · {self.local(c.published_at)}")
        if c.url:
            meta.add_run(" · ")
            _hyperlink(meta, c.url, "原文链接")
        for run in meta.runs:
            run.font.size = Pt(9)

    def write(self) -> DocxDocument:
        b, doc = self.b, self.doc
        doc.add_heading(b.title, level=0)
        doc.add_paragraph(
            f"统计时段：{b.period}\n数据截至：{self.local(b.as_of)} · 生成时间："
            f"{self.local(b.generated_at)}\n本报告所有数字均由库中数据计算，所有引文均为库中原文前 "
            f"{QUOTE_CHARS} 字，逐条可核验。"
        )
        if b.empty:
            self.note("本期无数据：统计时段内库中没有帖文。")
        self.figures()
        doc.add_heading("二、图表", level=1)
        for chart in b.charts:
            doc.add_picture(io.BytesIO(chart.png), width=Cm(16))
            doc.add_paragraph(chart.caption).runs[0].font.size = Pt(9)
        if not b.charts:
            self.note(f"{NO_DATA}：本期没有可绘制的数据。")
        if b.kind == "special":
            self.special()
        else:
            self.events()
        self.risks()
        self.alerts()
        self.cases()
        return doc

    def figures(self) -> None:
        self.doc.add_heading("一、核心数据", level=1)
        table = self.doc.add_table(rows=1, cols=3)
        table.style = "Table Grid"
        for cell, text in zip(table.rows[0].cells, ("指标", "数值", "计算依据"), strict=True):
            cell.text = text
        for f in self.b.figures:
            cells = table.add_row().cells
            cells[0].text, cells[1].text = f.label, f.display
            basis = cells[2].paragraphs[0]
            basis.add_run(f"{f.basis} · ")
            _hyperlink(basis, f.link, "查询")
        for f in self.b.figures:
            if f.evidence:
                self.doc.add_paragraph().add_run(f"{f.label} 示例帖文：").bold = True
                for c in f.evidence:
                    self.cite(c)

    def events(self) -> None:
        self.doc.add_heading("三、热点事件", level=1)
        for i, e in enumerate(self.b.events, 1):
            heading = self.doc.add_heading(f"{i}. ", level=2)
            _hyperlink(heading, e.link, e.title)
            self.doc.add_paragraph(
                f"事件 {e.id} · 帖文 {e.posts} · 热度 {e.heat:.1f} · 生命周期 {e.stage_label} · "
                f"负面占比 {e.negative_share * 100:.1f}% · 情感 {mix(e.sentiment, SENTIMENT)}"
            )
            for c in e.quotes:
                self.cite(c)
            for q in e.questions:
                self.doc.add_paragraph(f"主要疑问：{q.label}（{q.posts} 条帖文）")
                for c in q.citations[:1]:
                    self.cite(c)
        if not self.b.events:
            self.note(f"{NO_DATA}：本期没有事件。")

    def special(self) -> None:
        b, doc = self.b, self.doc
        doc.add_heading("三、事件概况", level=1)
        if b.event:
            e = b.event
            p = doc.add_paragraph()
            _hyperlink(p, e.link, e.title)
            p.add_run(f"（{e.id}）")
            rows = [
                ("帖文", str(e.posts)),
                ("热度", f"{e.heat:.1f}"),
                ("生命周期", e.stage_label),
                ("负面占比", f"{e.negative_share * 100:.1f}%"),
                ("首发", self.local(e.first_seen)),
                ("最新", self.local(e.last_seen)),
                ("情感分布", mix(e.sentiment, SENTIMENT)),
                ("阶段依据", "；".join(e.stage_reasons)),
            ]
            table = doc.add_table(rows=0, cols=2)
            table.style = "Table Grid"
            for name, value in rows:
                cells = table.add_row().cells
                cells[0].text, cells[1].text = name, value
        else:
            self.note(f"{NO_DATA}：本时段内该事件没有帖文。")
        doc.add_heading("首发帖文", level=2)
        if b.first_post:
            self.cite(b.first_post)
        else:
            self.note(NO_DATA)
        doc.add_heading("时间线（按小时）", level=2)
        busy = [(label, n) for label, n in b.timeline if n]
        if busy:
            table = doc.add_table(rows=1, cols=2)
            table.style = "Table Grid"
            table.rows[0].cells[0].text, table.rows[0].cells[1].text = "时段", "帖文数"
            for label, n in busy:
                cells = table.add_row().cells
                cells[0].text, cells[1].text = label, str(n)
        else:
            self.note(NO_DATA)
        doc.add_heading("关键帖文（互动量最高）", level=2)
        for c in b.key_posts:
            self.cite(c)
        if not b.key_posts:
            self.note(NO_DATA)
        self.judgement()

    def judgement(self) -> None:
        """群众关切 and 应对策略建议 of a special report, each item with its cited posts."""
        b, doc = self.b, self.doc
        doc.add_heading("群众关切（疑问与诉求）", level=2)
        if b.judgement_note:
            self.note(b.judgement_note)
        for item in [*b.questions, *b.demands]:
            p = doc.add_paragraph()
            p.add_run(f"[{item.kind_label}] {item.label}").bold = True
            p.add_run(f"（{item.posts} 条帖文 · {item.mentions} 次提及）")
            for c in item.citations:
                self.cite(c)
        if not (b.questions or b.demands or b.judgement_note):
            self.note("未发现集中的疑问或诉求")
        doc.add_heading("应对策略建议", level=2)
        for a in b.advice:
            p = doc.add_paragraph()
            p.add_run(f"{a.priority}. {a.name}").bold = True
            p.add_run(f"：{a.summary}\n依据：{a.reason}")
            doc.add_paragraph(f"宜：{'；'.join(a.dos)}\n忌：{'；'.join(a.donts)}")
            for c in a.citations:
                self.cite(c)
        if not b.advice:
            self.note("事件尚平稳，暂无需要的应对策略")
        self.note("建议依据可编辑的规则表，是经验性的参考，不是经验证的模型。")

    def risks(self) -> None:
        self.doc.add_heading("四、风险提示", level=1)
        for r in self.b.risks:
            p = self.doc.add_paragraph()
            p.add_run(r.risk_label).bold = True
            p.add_run(f"（评分 {r.score}）：{'；'.join(r.reasons)}")
            self.cite(r.citation)
        if not self.b.risks:
            self.note(f"{NO_DATA}：本期没有群体性事件风险或谣言嫌疑帖文。")

    def header(self, table: Table, header: tuple[str, ...]) -> None:
        table.style = "Table Grid"
        for cell, text in zip(table.rows[0].cells, header, strict=True):
            cell.text = text

    def alerts(self) -> None:
        self.doc.add_heading("五、预警", level=1)
        if not self.b.alerts:
            self.note(self.b.alerts_note)
            return
        self.doc.add_paragraph(alert_summary(self.b))
        table = self.doc.add_table(rows=1, cols=5)
        self.header(table, ("时间", "级别", "规则", "标题", "状态"))
        for a in self.b.alerts:
            cells = table.add_row().cells
            cells[0].text = self.local(a.created_at)
            cells[1].text = a.severity_label
            cells[2].text = f"{a.rule_id}（{a.kind_label}）"
            _hyperlink(cells[3].paragraphs[0], a.citation.link, a.citation.quote)
            cells[4].text = a.status_label

    def cases(self) -> None:
        self.doc.add_heading("六、处置案件", level=1)
        if not self.b.cases:
            self.note(self.b.cases_note)
            return
        table = self.doc.add_table(rows=1, cols=6)
        self.header(table, ("案件", "级别", "状态", "责任人", "首次发声时限", "及时性"))
        for c in self.b.cases:
            cells = table.add_row().cells
            _hyperlink(cells[0].paragraphs[0], c.citation.link, c.citation.quote)
            cells[1].text = f"{c.level}级（{c.level_label}）"
            cells[2].text = c.status_label
            cells[3].text = c.owner or "—"
            cells[4].text = self.local(c.due)
            cells[5].text = f"{c.timeliness_label}：{c.timeliness_summary}"


def render_docx(briefing: Briefing, out_path: Path) -> Path:
    """Write the briefing to ``out_path`` as .docx and return the path."""
    document = _Writer(briefing).write()
    try:
        document.save(str(out_path))
    except OSError as exc:
        raise UsageError(f"cannot write the report to {out_path}: {exc}") from exc
    return out_path
