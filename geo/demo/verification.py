"""The demo's 核查 → 认定 → 整改 → 验收 → 复核 round (issue 17), on a fixed timeline.

Run by :func:`geo.demo.flow.run_demo` after the second batch is worked: the second
batch was issued with a 核查 deadline (``--verify-by``, :data:`VERIFY_BY`), so its
patches still in 核查 are not yet late while the first batch's are; then

- the county's 分类判定 of some of its patches: a 桥梁 dismissed with the permit and the
  watermarked site photo, a 房屋 dismissed as 历史不碍洪 with its explanation, a problem
  kept on the books as 问题·历史碍洪 (挂账监管, with its 监管 review date), problems
  confirmed with 严重程度, 是否碍洪 and 二级类 (one with its 问题类型 corrected);
- two townships' proposals (乡镇核查意见) waiting in 待审核, and one approved;
- the responsibility of the late problems: 责任人, 整改措施, one 立案查处, 整改工程量;
- a 申请销号 returned at 县级验收 with the reason (back to 整改中);
- a 回头看 round of closed and 挂账 patches, one found 反弹回潮 and reopened.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd

from geo.demo.county import write_photo
from geo.field.evidence import attach_evidence
from geo.field.review import apply_recheck, recheck_sample, record_duty, record_verdict, review
from geo.ledger.store import Ledger

__all__ = ["VERIFY_BY", "verification_round"]

#: The 核查 deadline the province gave batch 2026-Q1.
VERIFY_BY = "2026-05-15"
_OFFICE = "县河长办"
_TOWN = "乡镇河长办"


def _files(ledger: Ledger, folder: Path, pid: str, kinds: tuple[str, ...], at: str) -> None:
    """Attach evidence of ``kinds`` to ``pid``: a watermarked photo at the patch, or a PDF."""
    folder.mkdir(parents=True, exist_ok=True)
    centre = ledger.patch_row(pid)["geometry"].centroid
    for kind in kinds:
        if kind == "photo_watermarked":
            path = write_photo(folder / f"{pid}_水印照片.jpg", lon=centre.x, lat=centre.y,
                               taken=dt.datetime.fromisoformat(at), tint=len(pid))  # fmt: skip
        else:
            path = folder / f"{pid}_{kind}.pdf"
            path.write_bytes(f"%PDF-1.4 demo {kind} for {pid}\n".encode())
        attach_evidence(ledger, pid, path, kind=kind, actor=_TOWN, at=at)


def _check(problems: list) -> None:
    if problems:
        raise RuntimeError(f"demo verification round: {problems[0].reason}")


def verification_round(ledger: Ledger, folder: Path) -> None:
    """Run the round (see the module) on the demo ledger; evidence files go to ``folder``."""
    frame = ledger.patches()
    second = sorted(frame.loc[(frame["batch_id"] == "2026-Q1")
                              & frame["state"].eq("verifying"), "patch_id"])  # fmt: skip
    bridge, house, kept, proposed, approved = second[:5]
    confirmed = second[5:7]
    _files(ledger, folder, bridge, ("permit", "photo_watermarked"), "2026-03-18T10:00")
    _files(ledger, folder, house, ("document", "photo_watermarked"), "2026-03-18T10:00")
    _files(ledger, folder, kept, ("document", "photo_watermarked"), "2026-03-18T10:00")
    for pid in (proposed, approved, *confirmed):
        _files(ledger, folder, pid, ("photo_watermarked",), "2026-03-18T11:00")
    at = "2026-03-20T10:00"
    verdicts = [
        ([bridge], {"category": "not_problem", "feature_class": "bridge",
                    "basis": "县水利局涉河建设方案许可（许可文件载明类别、内容、位置、界限）"}),
        ([house], {"category": "not_problem_historic", "feature_class": "building",
                   "basis": "2011年前建成，不碍洪（村委会证明）"}),
        ([kept], {"category": "problem_historic", "feature_class": "building",
                  "severity": "general", "blocks_flood": True, "subtype": "违建",
                  "basis": "历史遗留临河房屋，碍洪，纳入挂账监管"}),
        (confirmed[:1], {"category": "problem", "feature_class": "pile", "severity": "serious",
                         "blocks_flood": True, "subtype": "弃置垃圾", "issue_type": "dumping"}),
        (confirmed[1:], {"category": "problem", "feature_class": "sand", "severity": "general",
                         "blocks_flood": False, "subtype": "取土"}),
    ]  # fmt: skip
    for ids, verdict in verdicts:
        _check(record_verdict(ledger, ids, verdict, actor=_OFFICE, at=at))
    for pid in (proposed, approved):
        _check(record_verdict(
            ledger, [pid], {"category": "not_problem", "feature_class": "other",
                            "basis": "现场为农田灌溉设施"},
            actor=_TOWN, at="2026-04-02T15:00", propose=True, opinion="现场核实不是问题",
        ))  # fmt: skip
    _check(review(ledger, approve=[approved], opinion="同意乡镇核查意见", actor=_OFFICE,
                  at="2026-04-08T10:00"))  # fmt: skip
    late = sorted(frame.loc[(frame["batch_id"] == "2026-Q1") & frame["state"].eq("rectifying")
                            & frame["deadline"].eq("2026-03-31"), "patch_id"])  # fmt: skip
    _check(record_duty(ledger, late[:3], {"person": "乡镇分管负责人", "phone": "0739-1234567",
                                          "measures": "清理堆放物，恢复岸坡",
                                          "plan": "4月15日前清运，4月30日前复绿"},
                       actor=_OFFICE, at="2026-03-05T09:00"))  # fmt: skip
    _check(record_duty(ledger, late[3:4], {"measures": "拆除违法建筑", "case_filed": True,
                                           "case_unit": "县水利局", "case_no": "县水罚〔2026〕3号",
                                           "demolished_m2": 86.5},
                       actor=_OFFICE, at="2026-03-05T09:00"))  # fmt: skip
    waiting = sorted(frame.loc[frame["state"].eq("rectified"), "patch_id"])
    _check(review(ledger, returned=waiting[:1], reason="整改后照片未反映岸坡恢复，退回继续整改",
                  actor=_OFFICE, inspector="县河长办验收组", at="2026-04-10T10:00"))  # fmt: skip
    drawn = recheck_sample(ledger.status_frame(as_of="2026-04-20"), share=0.1, seed=17)
    results = pd.DataFrame({"patch_id": drawn["patch_id"], "result": "ok", "note": "现场无反弹",
                            "row": range(2, len(drawn) + 2)})  # fmt: skip
    closed = results.index[drawn["state"].eq("closed")]
    if len(closed):
        results.loc[closed[0], ["result", "note"]] = ["rebound", "原清理点又见堆放物"]
    _check(apply_recheck(ledger, results, actor=_OFFICE, at="2026-04-20T10:00",
                         round_name="2026年4月回头看"))  # fmt: skip
