"""The quarterly 通报 of the 4+1 assessment, in 公文 form (HTML and .docx).

Seed 001 (株洲, "4+1" 督查考核制度): every quarter the office assesses the areas below it
and publishes the result (每个季度的考核结果…进行奖罚). :func:`write_bulletin` writes that
publication for one quarter: 文号 from the ledger's counter (代字 ``bulletin``), 标题
关于<季度>河湖遥感图斑问题整改情况的通报, 主送 各乡镇人民政府, the overall figures, the
ranking with 等次 (:func:`geo.reports.assessment.assess`), the townships graded 优秀 and
不合格 by name, the overdue problems by name, the date by which to rectify and reply,
附件 (the ranking and the overdue list), 署名, 成文日期, 抄送 (the county chiefs and
``[documents] cc``). Every value is plain text: escaped by the template (Jinja2
autoescape) and written as runs in Word.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
from dataclasses import dataclass
from pathlib import Path

import jinja2

from geo.fileio import write_atomic
from geo.labels import BULLETIN, COLUMNS, GONGWEN, GRADES, LEVELS, NOTICE, TEXT
from geo.ledger.chiefs import assistants
from geo.ledger.store import Ledger
from geo.records import is_missing
from geo.reports.assessment import assess, assessment_title, quarter_bounds
from geo.reports.documents import output_folder
from geo.reports.gongwen import Notice, chief_text, date_text, reply_by
from geo.reports.word import table_docx

__all__ = ["BulletinResult", "write_bulletin"]

log = logging.getLogger(__name__)


@dataclass
class BulletinResult:
    """The files of one 通报 and its 文号."""

    html: Path
    docx: Path
    doc_no: str


def _quarter_words(quarter: str) -> str:
    title, _ = assessment_title("", *quarter_bounds(quarter), quarter)
    return title.split("乡镇")[0]  # 2026年第一季度


def write_bulletin(
    ledger: Ledger,
    *,
    quarter: str,
    out_dir: str | os.PathLike,
    as_of: str | None = None,
    listed: int = 50,
) -> BulletinResult:
    """Write the quarter's 通报 (HTML and .docx) into ``out_dir``.

    Parameters
    ----------
    ledger : Ledger
        The open ledger.
    quarter : str
        ``YYYYQn``.
    out_dir : path-like
        The folder (created if missing).
    as_of : str, optional
        Assess up to this day when the quarter is not over (``hetu assess --as-of``).
    listed : int
        At most this many overdue problems named in the list (longest overdue first).

    Returns
    -------
    BulletinResult
        The two files and the 文号 (the same on a rerun for the same quarter).
    """
    settings = ledger.settings
    rule = settings.documents
    first, last = quarter_bounds(quarter)
    if as_of is not None:
        last = min(last, dt.date.fromisoformat(as_of))
    table = assess(ledger, start=first, end=last, as_of=as_of, rule=settings.assessment)
    frame = ledger.status_frame(as_of=last)
    lc = ledger.lifecycle
    late = frame[(frame["overdue_days"] > 0) & frame["state"].map(lc.is_open)]
    late = late.sort_values(["overdue_days", "patch_id"], ascending=[False, True])
    folder = output_folder(out_dir, what="bulletin")
    folder.mkdir(parents=True, exist_ok=True)
    stem = f"{quarter.upper()}_{BULLETIN['file']}"
    (doc_no,) = ledger.take_numbers(
        [(f"{stem}.html", "bulletin", BULLETIN["to"])],
        year=last.year,
        issued_on=last.isoformat(),
    )
    when = _quarter_words(quarter)
    unit = GONGWEN["workdays"] if settings.calendar is not None else GONGWEN["days"]
    n_due, n_closed = int(table["n_due"].sum()), int(table["n_closed"].sum())
    rate = f"{n_closed / n_due:.1%}" if n_due else "—"
    ranked = table[table["rank"].notna()]

    def named(grade: str) -> str:
        return "、".join(ranked.loc[ranked["grade"] == GRADES[grade], "township"].astype(str))

    body = [
        BULLETIN["intro"].format(when=when),
        BULLETIN["overall"].format(
            when=when, due=n_due, closed=n_closed, rate=rate, end=date_text(last), late=len(late)
        ),
        BULLETIN["ranking"],
    ]
    if named("excellent"):
        body.append(BULLETIN["excellent"].format(towns=named("excellent")))
    if named("failing"):
        body.append(BULLETIN["failing"].format(towns=named("failing")))
    if len(late):
        towns = "、".join(dict.fromkeys(late["township"].astype(str)))
        body.append(BULLETIN["late"].format(n=len(late), towns=towns, end=date_text(last)))
    due = reply_by(last, int(rule.reply_days.get("bulletin", 10)), settings.calendar)
    body.append(BULLETIN["ask"].format(deadline=date_text(due), issuer=rule.issuer
                                       or settings.office_name))  # fmt: skip
    chiefs = ledger.chiefs()
    county = chiefs[(chiefs["level"] == "county") & assistants(chiefs).isna()]
    cc = [
        chief_text("county", str(n), "" if is_missing(t) else str(t))
        for n, t in zip(county["name"], county["title"], strict=True)
    ]
    doc = Notice(
        kind="bulletin", kind_label=BULLETIN["kind"],
        title=BULLETIN["title"].format(when=when), doc_no=doc_no,
        issuer=rule.issuer or settings.office_name, to=[BULLETIN["to"]], paragraphs=body,
        deadline=date_text(due), attachments=[BULLETIN["att_ranking"], BULLETIN["att_late"]],
        cc=list(dict.fromkeys([*cc, *rule.cc])), date_text=date_text(last),
        contact="　".join(x for x in (
            f"{GONGWEN['contact']}：{rule.contact}" if rule.contact else "",
            f"{GONGWEN['phone']}：{rule.phone}" if rule.phone else "") if x),
        receipt=False,
    )  # fmt: skip
    rank_head = [BULLETIN["rank"], COLUMNS["township"], BULLETIN["score"], BULLETIN["grade"],
                 BULLETIN["closure_rate"], BULLETIN["overdue"]]  # fmt: skip
    rank_rows = [
        [
            "" if r["rank"] is None or is_missing(r["rank"]) else str(int(r["rank"])),
            str(r["township"]), f"{float(r['score']):.2f}", str(r["grade"]),
            "—" if is_missing(r["closure_rate"]) else f"{float(r['closure_rate']):.1%}",
            str(int(r["n_overdue"])),
        ]
        for r in table.to_dict("records")
    ]  # fmt: skip
    days = f"{COLUMNS['overdue_days']}（{unit.strip('个')}）"
    late_head = [NOTICE["number"], COLUMNS["patch_id"], COLUMNS["township"],
                 COLUMNS["water_name"], COLUMNS["deadline"], days,
                 COLUMNS["description"]]  # fmt: skip
    late_rows = [
        [str(k), str(r["patch_id"]), str(r["township"]),
         "" if is_missing(r["water_name"]) else str(r["water_name"]),
         str(r["deadline"])[:10], str(int(r["overdue_days"])),
         "" if is_missing(r["description"]) else str(r["description"])]
        for k, r in enumerate(late.head(listed).to_dict("records"), start=1)
    ]  # fmt: skip
    tables = [(doc.attachments[0], rank_head, rank_rows), (doc.attachments[1], late_head,
                                                            late_rows)]  # fmt: skip
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("geo.reports", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
    )
    html = env.get_template("bulletin.html.j2").render(doc=doc, gw=GONGWEN, tables=tables,
                                                       levels=LEVELS, text=TEXT)  # fmt: skip
    html_path = folder / f"{stem}.html"
    docx_path = folder / f"{stem}.docx"
    write_atomic(html_path, html.encode("utf-8"))
    write_atomic(docx_path, table_docx(doc, tables))
    log.info("bulletin %s: %s", quarter, doc_no)
    return BulletinResult(html_path, docx_path, doc_no)
