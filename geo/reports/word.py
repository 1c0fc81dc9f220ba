"""Notices as editable Word files (.docx, python-docx), the same 公文 as the HTML.

Offices finish documents in WPS or Word and stamp them: :func:`notice_docx` writes
a :class:`geo.reports.gongwen.Notice` with the GB/T 9704-2012 page (A4, margins
37/35/28/26 mm, 仿宋 三号 text, 小标宋 二号 title, red 发文机关标志 and rule), the 文号, the
problem list and the 回执 as Word tables. Every value is written as a text run: no
field, formula or markup in any text is interpreted.
"""

from __future__ import annotations

import base64
import copy
import io
import re
from collections.abc import Mapping, Sequence
from typing import Any

from docx import Document
from docx.enum.section import WD_ORIENT
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_BREAK
from docx.oxml.ns import qn
from docx.shared import Mm, Pt, RGBColor
from docx.text.paragraph import Paragraph

from geo.errors import SettingsError
from geo.labels import GONGWEN
from geo.reports.gongwen import Notice

BODY_FONT, TITLE_FONT, HEAD_FONT = "仿宋_GB2312", "方正小标宋简体", "黑体"
RED = RGBColor(0xCC, 0x00, 0x00)


def _run(paragraph: Any, text: str, *, font: str = BODY_FONT, size: float = 16,
         bold: bool = False, color: RGBColor | None = None) -> Any:  # fmt: skip
    run = paragraph.add_run(text)
    run.font.size = Pt(size)
    run.font.bold = bold
    run.font.name = font
    run._element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), font)
    if color is not None:
        run.font.color.rgb = color
    return run


def _para(document: Any, text: str = "", *, align: Any = None, indent: bool = False,
          **font: Any) -> Any:  # fmt: skip
    p = document.add_paragraph()
    p.paragraph_format.line_spacing = Pt(28)
    p.paragraph_format.space_after = Pt(0)
    if indent:
        p.paragraph_format.first_line_indent = Pt(32)
    if align is not None:
        p.alignment = align
    if text:
        _run(p, text, **font)
    return p


def _table(document: Any, header: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    table = document.add_table(rows=1, cols=len(header))
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    for cell, text in zip(table.rows[0].cells, header, strict=True):
        _run(cell.paragraphs[0], text, size=10.5, bold=True)
    for values in rows:
        cells = table.add_row().cells
        for cell, text in zip(cells, values, strict=True):
            _run(cell.paragraphs[0], str(text), size=10.5)


def _front(doc: Notice) -> Any:
    """A new Word document with the notice's page, head, text, 附件说明, 署名 and 抄送."""
    document = Document()
    section = document.sections[0]
    section.orientation = WD_ORIENT.PORTRAIT
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.top_margin, section.bottom_margin = Mm(37), Mm(35)
    section.left_margin, section.right_margin = Mm(28), Mm(26)
    centre, right = WD_ALIGN_PARAGRAPH.CENTER, WD_ALIGN_PARAGRAPH.RIGHT
    _para(document, doc.issuer, align=centre, font=TITLE_FONT, size=26, bold=True, color=RED)
    _para(document, doc.doc_no, align=centre)
    rule = _para(document, "─" * 24, align=centre, color=RED, size=12)
    rule.paragraph_format.space_after = Pt(12)
    _para(document, doc.title, align=centre, font=TITLE_FONT, size=22)
    _para(document)
    _para(document, "、".join(doc.to) + GONGWEN["to_colon"])
    for text in doc.paragraphs:
        _para(document, text, indent=True)
    _para(document)
    for k, name in enumerate(doc.attachments, start=1):
        head = f"{GONGWEN['attachments']}：" if k == 1 else "　　　"
        _para(document, f"{head}{k}. {name}", indent=True)
    _para(document)
    if doc.seal:
        sign = _para(document, align=right)
        sign.add_run().add_picture(io.BytesIO(doc.seal), width=Mm(40))
    else:
        _para(document, GONGWEN["seal"], align=right, size=10.5, color=RGBColor(0xAA, 0xAA, 0xAA))
    _para(document, doc.issuer, align=right)
    _para(document, doc.date_text, align=right)
    if doc.contact:
        _para(document, f"（{doc.contact}）", indent=True)
    if doc.cc:
        _para(document)
        _para(document, f"{GONGWEN['cc']}：{'，'.join(doc.cc)}。", size=14)
    return document


#: The named fields an office's Word template may hold, each written as ``{name}``.
FIELDS = ("发文机关", "文号", "标题", "主送", "正文", "附件说明", "成文日期", "联系人", "抄送")
_FIELD = re.compile(r"\{(" + "|".join(FIELDS) + r")\}")


def _filled(doc: Notice, template: str) -> Any:
    """The office's template with its named fields filled in, one pass, as plain text.

    A paragraph holding ``{正文}`` becomes one paragraph per paragraph of the text (the
    template's formatting kept); any other field is replaced where it stands. Values
    are never read for fields again (a ``{文号}`` in a description stays as written).
    """
    values = {
        "发文机关": doc.issuer,
        "文号": doc.doc_no,
        "标题": doc.title,
        "主送": "、".join(doc.to) + GONGWEN["to_colon"],
        "附件说明": "；".join(f"{k}. {a}" for k, a in enumerate(doc.attachments, start=1)),
        "成文日期": doc.date_text,
        "联系人": doc.contact,
        "抄送": "，".join(doc.cc),
    }
    try:
        document = Document(template)
    except (OSError, ValueError, KeyError) as exc:
        raise SettingsError(
            f"[documents] word_template {template}: not a Word .docx file ({exc}); "
            "fix the path or leave it out"
        ) from None
    cells = [c for t in document.tables for row in t.rows for c in row.cells]
    paragraphs = [*document.paragraphs, *(p for c in cells for p in c.paragraphs)]
    for para in paragraphs:
        text = para.text
        if not _FIELD.search(text):
            continue
        if text.strip() == "{正文}":
            body = list(doc.paragraphs)
            para.runs[0].text = body[0] if body else ""
            for run in para.runs[1:]:
                run.text = ""
            anchor = para
            for line in body[1:]:
                new = copy.deepcopy(para._p)
                anchor._p.addnext(new)
                anchor = Paragraph(new, para._parent)
                anchor.runs[0].text = line
            continue
        filled = _FIELD.sub(lambda m: values.get(m.group(1), "\n".join(doc.paragraphs)), text)
        if para.runs:
            para.runs[0].text = filled
            for run in para.runs[1:]:
                run.text = ""
    return document


def table_docx(
    doc: Notice, tables: Sequence[tuple[str, Sequence[str], Sequence[Sequence[str]]]]
) -> bytes:
    """Return a 公文 whose 附件 are tables (a 通报's ranking and lists) as .docx bytes.

    Parameters
    ----------
    doc : Notice
        The 公文 elements.
    tables : sequence of (title, headers, rows)
        One 附件 each, in the order of ``doc.attachments``.
    """
    document = _front(doc)
    centre = WD_ALIGN_PARAGRAPH.CENTER
    for k, (title, header, rows) in enumerate(tables, start=1):
        _para(document).add_run().add_break(WD_BREAK.PAGE)
        _para(document, f"{GONGWEN['attachments']}{k}", font=HEAD_FONT)
        _para(document, title, align=centre, font=TITLE_FONT, size=18)
        _table(document, list(header), [[str(v) for v in r] for r in rows])
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def notice_docx(
    doc: Notice,
    rows: Sequence[Mapping[str, Any]],
    headers: Mapping[str, str],
    *,
    before_deadline: bool = False,
    note: str = "",
    template: str | None = None,
) -> bytes:
    """Return the notice as a .docx file's bytes.

    Parameters
    ----------
    doc : Notice
        The 公文 elements.
    rows : sequence of mapping
        The patch table (the ``rows`` of :func:`geo.reports.documents.render_notice`).
    headers : mapping
        Its headers.
    before_deadline : bool
        Show days left instead of overdue days.
    note : str
        A line under the problem list (how days are counted, the chain head).
    template : str, optional
        The office's own Word file (``[documents] word_template``) whose named fields
        (:data:`FIELDS`, e.g. ``{文号}``) are filled; the 附件 follow its text.
    """
    document = _front(doc) if template is None else _filled(doc, template)
    centre = WD_ALIGN_PARAGRAPH.CENTER
    # 附件1: the problem list
    _para(document).add_run().add_break(WD_BREAK.PAGE)
    _para(document, f"{GONGWEN['attachments']}1", font=HEAD_FONT)
    _para(document, doc.attachments[0], align=centre, font=TITLE_FONT, size=18)
    last = "days_left" if before_deadline else "overdue_days"
    keys = ["no", "patch_id", "issue_type", "township", "segment", "area", "deadline", last,
            "description"]  # fmt: skip
    _table(document, [headers[k] for k in keys], [[str(r[k]) for k in keys] for r in rows])
    if note:
        _para(document, note, size=9)
    if doc.receipt:
        _para(document).add_run().add_break(WD_BREAK.PAGE)
        _para(document, f"{GONGWEN['attachments']}2", font=HEAD_FONT)
        _para(document, GONGWEN["receipt_title"], align=centre, font=TITLE_FONT, size=18)
        _para(document, f"{GONGWEN['receipt_doc']}：{doc.doc_no}", size=14)
        head = [headers["no"], headers["patch_id"], GONGWEN["receipt_measures"],
                GONGWEN["receipt_done"]]  # fmt: skip
        _table(document, head, [[str(r["no"]), str(r["patch_id"]), "", ""] for r in rows])
        for key in ("receipt_unit", "receipt_head", "phone", "receipt_date"):
            _para(document, f"{GONGWEN[key]}：", size=14)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def _picture(cell_or_paragraph: Any, uri: Any, width_mm: float) -> None:
    """Add a ``data:`` URI image (built by Hetu: PNG or JPEG, base64) as a picture."""
    text = str(uri or "")
    if not text.startswith(("data:image/png;base64,", "data:image/jpeg;base64,")):
        return
    data = base64.b64decode(text.split(",", 1)[1])
    cell_or_paragraph.add_run().add_picture(io.BytesIO(data), width=Mm(width_mm))


def dossier_docx(context: Mapping[str, Any]) -> bytes:
    """Return a dossier (一斑一档) as .docx bytes, from its page's context.

    The same sections as the page (:mod:`geo.reports.dossier`): basic facts and chiefs,
    the two imagery chips (前时相/后时相) with their indices, the history, the evidence
    with photo thumbnails, and the 验收 block; every value a text run.
    """
    labels = context["labels"]
    document = Document()
    section = document.sections[0]
    section.page_width, section.page_height = Mm(210), Mm(297)
    for side in ("top_margin", "bottom_margin", "left_margin", "right_margin"):
        setattr(section, side, Mm(20))
    centre = WD_ALIGN_PARAGRAPH.CENTER
    _para(document, context["office"], align=centre, size=12)
    _para(document, labels["title"], align=centre, font=TITLE_FONT, size=18)
    _para(document, f"{context['patch_id']} · {context['as_of']}", align=centre, size=11)
    _para(document, labels["basics"], font=HEAD_FONT, size=14)
    rows = [[f["label"], f["value"]] for f in context["facts"]]
    rows += [[c["label"], c["value"]] for c in context["chiefs"]]
    _table(document, [labels["basics"], ""], rows)
    _para(document, labels["imagery"], font=HEAD_FONT, size=14)
    if not context["chips"]:
        _para(document, labels["no_imagery"], size=11)
    for chip in context["chips"]:
        p = _para(document, f"{chip['role']} {chip['acquired_on']}", size=11, bold=True)
        _picture(p, chip["uri"], 70)
        for text in (chip["note"], chip["line"]):
            if text:
                _para(document, text, size=10.5)
    _para(document, labels["history"], font=HEAD_FONT, size=14)
    heads = [labels["at"], labels["actor"], labels["action"], labels["change"],
             context["columns"]["deadline"], labels["note"], labels["files"]]  # fmt: skip
    keys = ["at", "actor", "action", "change", "deadline", "note", "files"]
    _table(document, heads, [[e[k] for k in keys] for e in context["history"]])
    _para(document, labels["evidence"], font=HEAD_FONT, size=14)
    if not context["evidence"]:
        _para(document, labels["no_evidence"], size=11)
    else:
        heads = [labels["kind"], labels["filename"], labels["taken_at"], labels["position"],
                 labels["checks"], labels["photo"]]  # fmt: skip
        keys = ["kind", "filename", "taken_at", "position", "checks"]
        _table(document, heads, [[v[k] for k in keys] + [""] for v in context["evidence"]])
        table = document.tables[-1]
        for row, v in zip(table.rows[1:], context["evidence"], strict=True):
            _picture(row.cells[-1].paragraphs[0], v["thumb"], 30)
    _para(document, labels["acceptance"], font=HEAD_FONT, size=14)
    _table(
        document,
        [labels["acceptance"], ""],
        [[labels["acceptance_by"], ""],
         [labels["acceptance_town"], labels["acceptance_date"]],
         [labels["acceptance_county"], labels["acceptance_date"]]],
    )  # fmt: skip
    _para(document, context["footer"], size=9)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()
