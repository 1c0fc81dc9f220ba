"""The ``hetu`` commands of 认定, review, responsibility and 回头看 (:mod:`geo.field.review`).

``hetu verdict`` records a 分类判定 (or, with ``--propose``, a township's 核查意见 for the
county), ``hetu duty`` the responsibility and measures of a problem, ``hetu review``
the county's decision on proposals and 申请销号 (县级验收), ``hetu recheck`` the 回头看.
Registered on the ``hetu`` group by :mod:`geo.cli.main`.
"""

from __future__ import annotations

from typing import Any

import click

from geo.cli.common import happened, ledger_arg, open_from_cli
from geo.labels import VERIFICATION
from geo.policy.verification import SEVERITIES, VERDICTS

__all__ = ["COMMANDS", "propose_from_cli"]

_OFFICE = VERIFICATION["county_office"]
_ISSUE_TYPES = ("occupation", "mining", "dumping", "construction", "other")


def _refuse(problems: list) -> None:
    """Print every problem (row, patch, field, why) and exit 1: nothing was written."""
    if problems:
        for p in problems:
            where = f"row {p.row} " if p.row is not None else ""
            click.echo(f"{where}{p.patch_id} {p.field}: {p.reason}", err=True)
        raise click.ClickException(f"{len(problems)} change(s) refused; nothing was applied")


def _ids(values: tuple[str, ...]) -> list[str]:
    """Patch ids given as arguments, each possibly a comma-separated list."""
    return [p.strip() for v in values for p in v.replace("，", ",").split(",") if p.strip()]


def propose_from_cli(led: Any, ids: list[str], target: str, **opts: Any) -> None:
    """``hetu transition --propose``: a township's proposal, for ``hetu review``."""
    from geo.field.review import propose

    if opts.get("deadline"):
        raise click.UsageError("--deadline is the county's: leave it out of a proposal")
    _refuse(propose(led, ids, target, actor=opts["actor"], at=opts.get("at"),
                    note=opts.get("note")))  # fmt: skip
    click.echo(f"{len(ids)} proposal(s) recorded for review")


@click.command()
@ledger_arg
@click.argument("patch_ids", nargs=-1, required=True, metavar="PATCH_ID...")
@click.option("--category", required=True, type=click.Choice(VERDICTS),
              help="认定类别 (不是问题 / 历史不碍洪 / 历史碍洪挂账 / 问题).")  # fmt: skip
@click.option(
    "--feature-class", help="地物类别 (key or name, e.g. bridge or 桥梁): its evidence rule."
)
@click.option("--basis", help="认定依据 (permit number, survey, law article).")
@click.option("--severity", type=click.Choice(SEVERITIES), help="严重程度: 一般, 较严重, 重大.")
@click.option("--flood/--no-flood", "blocks_flood", default=None, help="是否碍洪.")
@click.option("--subtype", help="二级类 (围垦, 采砂, 取土, 弃置垃圾, 违建 …).")
@click.option("--issue-type", type=click.Choice(_ISSUE_TYPES), help="Corrected 问题类型.")
@click.option(
    "--propose", is_flag=True, help="A township's 核查意见: wait in 待审核 for the county."
)
@click.option("--opinion", help="The proposal's text (with --propose).")
@click.option("--deadline", help="整改期限 (YYYY-MM-DD) of a confirmed problem.")
@click.option("--actor", required=True, help="Who decides or proposes (recorded).")
@click.option("--at", callback=happened, help="When (ISO date-time; default now).")
@click.pass_context
def verdict(ctx: click.Context, ledger: str, patch_ids: tuple[str, ...], **opts: Any) -> None:
    """Record the 认定 of PATCH_IDs and move them to the state it means, all or nothing.

    The evidence a verdict needs comes from the classification table ([verification]
    classes): e.g. 不是问题 for a 桥梁 needs the permit and the watermarked site photo.
    """
    from geo.field.review import record_verdict

    fields = {k: opts.pop(k) for k in ("category", "feature_class", "basis", "severity",
                                       "blocks_flood", "subtype", "issue_type")}  # fmt: skip
    ids = _ids(patch_ids)
    with open_from_cli(ctx, ledger) as led:
        _refuse(record_verdict(led, ids, fields, **opts))
    click.echo(f"{len(ids)} verdict(s) recorded" + (" for review" if opts["propose"] else ""))


@click.command()
@ledger_arg
@click.argument("patch_ids", nargs=-1, required=True, metavar="PATCH_ID...")
@click.option("--unit", help="责任单位 (default: the township government and the 行业主管部门).")
@click.option("--person", help="责任人.")
@click.option("--phone", help="责任人联系电话.")
@click.option("--measures", help="整改措施.")
@click.option("--plan", help="整改方案 (staged deadlines).")
@click.option("--case/--no-case", "case_filed", default=None, help="是否立案查处.")
@click.option("--case-unit", help="执法单位.")
@click.option("--case-no", help="案号.")
@click.option("--demolished-m2", type=float, help="拆除面积 (m²).")
@click.option("--cleared-t", type=float, help="清理量 (t).")
@click.option("--cleared-m3", type=float, help="清理量 (m³).")
@click.option("--actor", required=True, help="Who records it.")
@click.option("--at", callback=happened, help="When (ISO date-time; default now).")
@click.pass_context
def duty(ctx: click.Context, ledger: str, patch_ids: tuple[str, ...], **opts: Any) -> None:
    """Record the responsibility, measures, 立案查处 and 整改工程量 of PATCH_IDs."""
    from geo.field.review import record_duty

    actor, at = opts.pop("actor"), opts.pop("at")
    ids = _ids(patch_ids)
    with open_from_cli(ctx, ledger) as led:
        _refuse(record_duty(led, ids, opts, actor=actor, at=at))
    click.echo(f"{len(ids)} patch(es): responsibility recorded")


@click.command()
@ledger_arg
@click.option("--approve", "approve", multiple=True, metavar="IDS", help="Approve (comma list).")
@click.option("--return", "returned", multiple=True, metavar="IDS", help="Return (comma list).")
@click.option("--reason", help="Why returned (required with --return).")
@click.option("--opinion", help="验收意见 or the approval's opinion.")
@click.option("--inspector", help="验收人 (default --actor).")
@click.option("--sheet", type=click.Path(exists=True, dir_okay=False), help="Apply a review sheet.")
@click.option("-o", "--output", type=click.Path(dir_okay=False),
              help="Write the review sheet of what awaits the county (.xlsx).")  # fmt: skip
@click.option(
    "--actor", default=VERIFICATION["county_office"], show_default=True, help="Who decides."
)
@click.option("--at", callback=happened, help="When (ISO date-time; default now).")
@click.pass_context
def review(ctx: click.Context, ledger: str, **opts: Any) -> None:
    """County review: approve or return proposals (待审核) and 申请销号 (已整改待验收).

    Approving a proposal applies its verdict; approving a reported rectification is
    县级验收 (→ 已销号, with 验收人 and 验收意见). A return goes back to 核查中 or
    整改中 with --reason. -o writes a sheet of everything awaiting review; --sheet
    applies a filled one (同意/退回 and a reason per row), all or nothing.
    """
    from geo.field.review import apply_review_sheet, write_review_sheet
    from geo.field.review import review as decide

    approve, returned = _ids(opts["approve"]), _ids(opts["returned"])
    if not (approve or returned or opts["sheet"] or opts["output"]):
        raise click.UsageError("give --approve, --return, --sheet or -o")
    with open_from_cli(ctx, ledger) as led:
        if opts["output"]:
            path = write_review_sheet(led.status_frame(), opts["output"])
            click.echo(f"review sheet written to {path}")
        if opts["sheet"]:
            _refuse(apply_review_sheet(led, opts["sheet"], actor=opts["actor"], at=opts["at"]))
            click.echo(f"{opts['sheet']}: applied")
        if approve or returned:
            _refuse(decide(led, approve=approve, returned=returned, reason=opts["reason"],
                           opinion=opts["opinion"], actor=opts["actor"],
                           inspector=opts["inspector"], at=opts["at"]))  # fmt: skip
            click.echo(f"{len(approve)} approved, {len(returned)} returned")


@click.command()
@ledger_arg
@click.option("--sample", "share", type=float, help="Share of closed and 挂账 patches to draw.")
@click.option("--seed", type=int, default=None, help="Seed of the draw (record it).")
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="The 回头看 sheet (.xlsx).")
@click.option("--apply", "sheet", type=click.Path(exists=True, dir_okay=False),
              help="Apply a filled 回头看 sheet.")  # fmt: skip
@click.option("--round", "round_name", help="The round's name (e.g. 2026年一季度).")
@click.option(
    "--actor", default=VERIFICATION["county_office"], show_default=True, help="Who rechecked."
)
@click.option("--at", callback=happened, help="When (ISO date-time; default now).")
@click.pass_context
def recheck(ctx: click.Context, ledger: str, **opts: Any) -> None:
    """回头看: draw closed and 挂账 patches by township (--sample --seed -o), or apply results.

    A 反弹回潮 result reopens the patch (→ 整改中); a 挂账 patch found as it was gets
    its next 监管 review date.
    """
    from geo.field.review import (
        apply_recheck,
        read_recheck_sheet,
        recheck_sample,
        write_recheck_sheet,
    )

    with open_from_cli(ctx, ledger) as led:
        if opts["sheet"]:
            results = read_recheck_sheet(opts["sheet"])
            _refuse(apply_recheck(led, results, actor=opts["actor"], at=opts["at"],
                                  round_name=opts["round_name"]))  # fmt: skip
            bad = int((results["result"] == "rebound").sum())
            click.echo(f"{len(results)} 回头看 result(s) applied, {bad} reopened as 反弹回潮")
            return
        if opts["share"] is None or opts["seed"] is None or not opts["output"]:
            raise click.UsageError("give --sample SHARE --seed N -o SHEET, or --apply SHEET")
        sample = recheck_sample(led.status_frame(), share=opts["share"], seed=opts["seed"])
        path = write_recheck_sheet(sample, opts["output"], seed=opts["seed"], share=opts["share"])
    click.echo(f"{len(sample)} patch(es) drawn; sheet written to {path}")


COMMANDS = [verdict, duty, review, recheck]
