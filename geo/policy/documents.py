"""How the office's documents (公文) are numbered, addressed and timed: ``[documents]``.

The defaults follow published rules, named in ``docs/documents.md``:

- the elements of a document (发文机关标志, 发文字号 ``代字〔年份〕序号号``, 标题
  关于…的<文种>, 主送机关, 正文, 附件说明, 发文机关署名, 成文日期, 印章, 抄送机关)
  are those of GB/T 9704-2012 《党政机关公文格式》;
- the direction: 夏河县河长制工作督办制度 (2017) makes the 督办对象 of the county
  河长制办公室 the 乡级责任单位 and 下级河长, and the county chiefs are those whose
  批办事项 it chases; so 通知单, 督办函 and 整改令 go to the township government
  (主送 the 乡镇人民政府), the segment's chiefs are copied (抄送), and the county chief
  receives a 情况报告 (:data:`REPORTED_LEVELS`);
- 卡单函令 (株洲): 卡 = 提示卡 to a chief, 单 = 通知单, 函 = 督办函, 令 = 整改令.

Reply times (``reply_days``, counted like deadlines: working days by default) are
the office's own choice; the defaults (通知单 10, 督办函 10, 整改令 5 working days) are
Hetu's and are stated as such in the docs.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from geo.errors import SettingsError

#: Who receives each rung: ``chief`` (the addressed chief by name) or ``township``
#: (the government of the township of the patch's segment, 乡镇人民政府).
ADDRESSEES = ("chief", "township")
#: Rungs that may never be addressed to a chief: an office does not order its own chief.
ORGAN_ONLY = ("supervision", "order")
#: Chief levels that receive a 情况报告 (situation report) instead of an order.
REPORTED_LEVELS = ("county", "city", "province")
#: The 代字 of each kind of document in its 文号 (the ``{code}`` of the pattern).
DEFAULT_CODES = {
    "reminder": "提",
    "notice": "通",
    "supervision": "督",
    "order": "令",
    "interview": "约",
    "bulletin": "通报",
    "report": "报",
}
DEFAULT_TO = {
    "reminder": "chief",
    "notice": "township",
    "supervision": "township",
    "order": "township",
    "interview": "chief",
    "bulletin": "township",
}
DEFAULT_REPLY_DAYS = {"notice": 10, "supervision": 10, "order": 5, "bulletin": 10}


@dataclass(frozen=True)
class DocumentRule:
    """The office's document settings (``[documents]``).

    Attributes
    ----------
    issuer : str
        发文机关 (empty: the office's name, ``[office] name``).
    abbr : str
        机关代字 in the 文号, e.g. ``示河长办``.
    number : str
        The 文号 pattern: ``{abbr}``, ``{code}`` (the kind's 代字), ``{year}`` and
        ``{seq}`` (the per-year counter kept in the ledger, per code).
    codes : dict
        Kind (rung or ``report``) → 代字.
    to : dict
        Rung → ``chief`` or ``township`` (:data:`ADDRESSEES`).
    reply_days : dict
        Rung → days given to rectify and reply (反馈), counted like deadlines.
    contact, phone : str
        联系人 and 联系电话 printed under the text.
    cc : tuple of str
        Organs always copied (抄送), after the segment's chiefs.
    seal : str or None
        Path of the seal image (印章, PNG), printed over the signature; none: a blank area.
    word_template : str or None
        Path of the office's own Word file with named fields (``{文号}`` …,
        :data:`geo.reports.word.FIELDS`) the .docx notices are written into.
    """

    issuer: str = ""
    abbr: str = "河长办"
    number: str = "{abbr}{code}〔{year}〕{seq}号"
    codes: dict[str, str] = field(default_factory=lambda: dict(DEFAULT_CODES))
    to: dict[str, str] = field(default_factory=lambda: dict(DEFAULT_TO))
    reply_days: dict[str, int] = field(default_factory=lambda: dict(DEFAULT_REPLY_DAYS))
    contact: str = ""
    phone: str = ""
    cc: tuple[str, ...] = ()
    seal: str | None = None
    word_template: str | None = None

    def doc_no(self, kind: str, year: int, seq: int) -> str:
        """The 文号 of the ``seq``-th document of ``kind`` in ``year``."""
        code = self.codes.get(kind, "")
        return self.number.format(abbr=self.abbr, code=code, year=year, seq=seq)

    def addressee(self, action: str) -> str:
        """``chief`` or ``township``: who receives ``action``."""
        return self.to.get(action, "township")


DEFAULT_DOCUMENTS = DocumentRule()


def document_rule_from_toml(
    table: Mapping[str, Any],
    *,
    source: str,
    seal: str | None = None,
    word_template: str | None = None,
) -> DocumentRule:
    """Build a :class:`DocumentRule` from a checked ``[documents]`` table.

    Raises
    ------
    SettingsError
        If the number pattern names an unknown field or lacks ``{seq}``, or a
        督办函/整改令 is to go to a chief.
    """
    pattern = table.get("number", DocumentRule.number)
    try:
        pattern.format(abbr="", code="", year=2026, seq=1)
    except (KeyError, IndexError, ValueError) as exc:
        raise SettingsError(
            f"{source}: [documents] number {pattern!r} is not a pattern of {{abbr}} {{code}} "
            f'{{year}} {{seq}} ({exc}); write it like "{{abbr}}{{code}}〔{{year}}〕{{seq}}号"'
        ) from None
    if "{seq}" not in pattern:
        raise SettingsError(f"{source}: [documents] number {pattern!r} needs {{seq}}")
    to = {**DEFAULT_TO, **table.get("to", {})}
    for action in ORGAN_ONLY:
        if to.get(action) == "chief":
            raise SettingsError(
                f'{source}: [documents.to] {action} = "chief": a county office does not '
                f'order a chief; use "township" (the chief is copied and gets a 情况报告)'
            )
    return DocumentRule(
        issuer=table.get("issuer", ""),
        abbr=table.get("abbr", DocumentRule.abbr),
        number=pattern,
        codes={**DEFAULT_CODES, **table.get("codes", {})},
        to=to,
        reply_days={**DEFAULT_REPLY_DAYS, **table.get("reply_days", {})},
        contact=table.get("contact", ""),
        phone=table.get("phone", ""),
        cc=tuple(table.get("cc", ())),
        seal=seal,
        word_template=word_template,
    )
