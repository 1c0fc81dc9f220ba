"""Notices as 公文: 文号 from the ledger's counter, direction, date deadlines, 抄送, .docx."""

import re
import shutil
import zipfile

import docx
import pytest
from test_notices import OFFICE, _build

from geo.errors import SettingsError
from geo.labels import GONGWEN
from geo.ledger.store import Ledger
from geo.policy.documents import DocumentRule
from geo.reports.escalation import escalate
from geo.settings import Settings, settings_from_text

RULE = DocumentRule(abbr="示河长办", contact="王明", phone="0731-12345678", cc=("县水利局",))
SETTINGS = Settings(office_name=OFFICE, central_meridian=114, documents=RULE)
NUMBER = re.compile(r"示河长办(提|通|督|令|报)〔2025〕(\d+)号")


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    return _build(tmp_path_factory.mktemp("gongwen") / "ledger.gpkg", settings=SETTINGS)


@pytest.fixture
def ledger(base, tmp_path):
    path = tmp_path / "ledger.gpkg"
    shutil.copyfile(base, path)
    with Ledger(path, settings=SETTINGS) as led:
        yield led


def _docx_text(path):
    document = docx.Document(str(path))
    cells = [c.text for t in document.tables for row in t.rows for c in row.cells]
    return "\n".join([p.text for p in document.paragraphs] + cells)


def test_the_ladder_as_documents_an_office_sends(ledger, tmp_path):
    out = tmp_path / "notices"
    issued = []
    for day in ("2025-09-26", "2025-10-09", "2025-10-21", "2025-11-04"):
        issued += escalate(ledger, as_of=day, out_dir=out, pdf=False).documents
    numbers = {}
    for path in issued:
        html = path.read_text(encoding="utf-8")
        (found,) = NUMBER.findall(re.search(r'<div class="docno">(.*?)</div>', html).group(1))
        numbers.setdefault(found[0], []).append(int(found[1]))
        assert "Hetu" not in html and "河图" not in html  # no software text
        # the .docx beside it opens and carries the same 文号
        word = _docx_text(path.with_suffix(".docx"))
        assert f"示河长办{found[0]}〔2025〕{found[1]}号" in word
        assert zipfile.is_zipfile(path.with_suffix(".docx"))
    # one counter per 代字 and year, from 1 without gaps
    assert all(sorted(v) == list(range(1, len(v) + 1)) for v in numbers.values())
    assert set(numbers) == {"提", "通", "督", "令", "报"}
    table = ledger.documents()
    assert len(table) == len(issued) and table["file"].is_unique
    by_kind = {k: [p for p in issued if f"_{k}_" in p.name] for k in ("supervision", "order")}
    for paths in by_kind.values():
        for path in paths:
            html = path.read_text(encoding="utf-8")
            to = re.search(r'<div class="to">(.*?)：</div>', html).group(1)
            assert "河长" not in to and "人民政府" in to  # never to a chief
            assert re.search(r"于\d{4}年\d{1,2}月\d{1,2}日前完成整改并反馈", html)
            assert "抄送：" in html and "县水利局" in html
            if "_HZ001_" in path.name:  # the segments' chiefs are copied
                assert "抄送：县级河长王建国（副县长），乡级河长李秀英" in html
            assert "联系人：王明" in html and GONGWEN["receipt_title"] in html
    order = by_kind["order"][0].read_text(encoding="utf-8")
    assert "经提示卡、通知单、督办函仍未整改到位" in order or "经通知单、督办函" in order
    reports = [p for p in issued if "_report_" in p.name]
    assert len(reports) == 2  # with the 督办函 and the 整改令, to the county chief
    text = reports[0].read_text(encoding="utf-8")
    assert "县级河长王建国" in text and "情况的报告" in text and "示河长办督〔2025〕2号" in text
    assert ledger.verify() == []
    # an untrusted description is a text run in Word, kept as it was written
    assert any(
        '<script>alert("xss")</script>' in _docx_text(p.with_suffix(".docx")) for p in issued
    )


def test_a_late_run_words_the_order_by_what_was_sent(ledger, tmp_path):
    res = escalate(ledger, as_of="2025-11-04", out_dir=tmp_path, pdf=False)  # nothing before
    order = next(p for p in res.documents if "_order_" in p.name).read_text(encoding="utf-8")
    assert "经督办" not in order and "仍未整改到位。现责令" in order
    assert "整改令" in order


def test_a_regenerated_notice_keeps_its_number(ledger, tmp_path):
    first = escalate(ledger, as_of="2025-10-21", out_dir=tmp_path, pdf=False).documents
    gone = first[0]
    before = gone.read_text(encoding="utf-8")
    gone.unlink()
    gone.with_suffix(".docx").unlink()
    again = escalate(ledger, as_of="2025-10-21", out_dir=tmp_path, pdf=False)
    assert again.regenerated == [gone] and gone.with_suffix(".docx").is_file()
    assert NUMBER.findall(gone.read_text(encoding="utf-8")) == NUMBER.findall(before)


def test_documents_settings_are_checked():
    with pytest.raises(SettingsError, match="does not order a chief"):
        settings_from_text('[documents.to]\nsupervision = "chief"\n', source="hetu.toml")
    with pytest.raises(SettingsError, match="needs"):
        settings_from_text('[documents]\nnumber = "{abbr}〔{year}〕"\n', source="hetu.toml")
    with pytest.raises(SettingsError, match="pattern"):
        settings_from_text('[documents]\nnumber = "{nope}{seq}"\n', source="hetu.toml")
    ok = settings_from_text('[documents]\nabbr = "示河长办"\ncc = ["县水利局"]\n', source="x")
    assert ok.documents.doc_no("supervision", 2026, 3) == "示河长办督〔2026〕3号"


def test_the_demo_escalation_writes_documents_an_office_can_send(demo_copy, tmp_path):
    from click.testing import CliRunner

    from geo.cli.main import cli

    out = tmp_path / "notices"
    for day in ("2026-05-06", "2026-06-01"):
        ran = CliRunner().invoke(
            cli, ["escalate", str(demo_copy), "--as-of", day, "-o", str(out), "--no-pdf"]
        )
        assert ran.exit_code == 0, ran.output
    pages = sorted(out.glob("*.html"))
    kinds = {p.name.split("_")[1] for p in pages}
    assert {"supervision", "report"} <= kinds, kinds
    for page in pages:
        html = page.read_text(encoding="utf-8")
        number = re.search(r'<div class="docno">(.*?)</div>', html).group(1)
        assert re.fullmatch(r"河长办(提|通|督|令|报)〔2026〕\d+号", number), number
        assert number in _docx_text(page.with_suffix(".docx"))  # the same 文号 in Word
        to = re.search(r'<div class="to">(.*?)：</div>', html).group(1)
        kind = page.name.split("_")[1]
        if kind in ("notice", "supervision", "order"):
            assert "河长" not in to and to.endswith(("人民政府", "办事处")), to
            assert re.search(r"于2026年\d{1,2}月\d{1,2}日前完成整改并反馈", html)
            assert "抄送：" in html
        if kind == "report":
            assert to.startswith("县级河长")
        assert "Hetu" not in html and "河图" not in html


def test_an_office_word_template_is_filled_field_by_field(base, tmp_path):
    template = tmp_path / "公文模板.docx"
    made = docx.Document()
    for text in ("{发文机关}", "{文号}", "{标题}", "{主送}", "{正文}", "附件：{附件说明}",
                 "{成文日期}", "抄送：{抄送}", "（此件公开发布）"):  # fmt: skip
        made.add_paragraph(text)
    made.save(str(template))
    rule = DocumentRule(abbr="示河长办", word_template=str(template))
    settings = Settings(office_name=OFFICE, central_meridian=114, documents=rule)
    path = tmp_path / "ledger.gpkg"
    shutil.copyfile(base, path)
    with Ledger(path, settings=settings) as led:
        res = escalate(led, as_of="2025-10-21", out_dir=tmp_path / "n", pdf=False)
    page = next(p for p in res.documents if "_HZ001_" in p.name and "_supervision_" in p.name)
    number = re.search(r'<div class="docno">(.*?)</div>', page.read_text("utf-8")).group(1)
    texts = [p.text for p in docx.Document(str(page.with_suffix(".docx"))).paragraphs]
    assert texts[:3] == [OFFICE, number, "关于加快整改河湖遥感图斑问题的督办函"]
    assert "人民政府" in texts[3] and texts[4].startswith("你单位辖区内有")
    assert texts[5].startswith("整改完成后")  # each paragraph of the text its own paragraph
    assert "（此件公开发布）" in texts and not any("{" in t for t in texts)
    assert any(t.startswith("抄送：县级河长王建国") for t in texts)
