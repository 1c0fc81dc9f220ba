"""The lifecycle of a patch: states, allowed transitions, deadlines. Pure, no I/O.

Default (docs/architecture.md, Lifecycle)::

    issued 已下发 → verifying 核查中 → confirmed 已认定 | dismissed 不是问题 | monitored 挂账监管
    confirmed | monitored → rectifying 整改中 (deadline) → rectified 已整改待验收 → closed 已销号
    rectified → rectifying (acceptance failed, 退回);  dismissed → confirmed (overturned by audit)

The current state of a patch is never stored: it is the ``to_state`` of its
last event (:func:`replay`). A :class:`Lifecycle` checks a proposed transition,
names the action it is recorded as, and says what evidence it needs;
:func:`lifecycle_from_settings` builds an office's own from ``[lifecycle]``.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from geo.errors import InvalidTransitionError, SettingsError
from geo.labels import STATES, label
from geo.policy.workdays import WorkCalendar

#: Event action that creates a patch in its initial state.
ISSUE_ACTION = "issue"

_DEFAULT_ACTIONS: dict[tuple[str, str], str] = {
    ("issued", "verifying"): "verify",
    ("verifying", "confirmed"): "confirm",
    ("verifying", "dismissed"): "dismiss",
    ("verifying", "monitored"): "monitor",
    ("confirmed", "rectifying"): "rectify",
    ("monitored", "rectifying"): "rectify",
    ("rectifying", "rectified"): "report",
    ("rectified", "closed"): "close",
    ("rectified", "rectifying"): "reject",
    ("dismissed", "confirmed"): "overturn",
    ("closed", "rectifying"): "reopen",
    # propose and decide: a township's 核查意见 waits for the county's 审核认定
    ("issued", "proposed"): "propose",
    ("verifying", "proposed"): "propose",
    ("proposed", "confirmed"): "approve",
    ("proposed", "dismissed"): "approve",
    ("proposed", "monitored"): "approve",
    ("proposed", "verifying"): "return",
}

#: States in which a patch's deadline runs: 核查 (issued, verifying, a proposal awaiting the
#: county's review), 整改 (confirmed, rectifying) and the 监管 review date of 挂账监管
#: (docs/architecture.md, Deadlines in every state).
CLOCK_STATES = frozenset(
    {"issued", "verifying", "proposed", "confirmed", "rectifying", "monitored"}
)
#: States whose overdue patches are chased with the escalation ladder (卡单函令).
ESCALATED_STATES = frozenset({"issued", "verifying", "confirmed", "rectifying"})

#: Evidence kinds an office attaches (佐证材料).
EVIDENCE_KINDS = ("photo_before", "photo_after", "photo_watermarked", "permit", "document")

_DEFAULT_EVIDENCE: dict[str, tuple[frozenset[str], ...]] = {
    "dismissed": (frozenset({"permit"}), frozenset({"photo_watermarked"})),
    "closed": (frozenset({"photo_before", "photo_after"}),),
}


@dataclass(frozen=True)
class Lifecycle:
    """A state machine of patch states.

    Attributes
    ----------
    initial : str
        The state a newly issued patch is in.
    actions : mapping
        ``(from_state, to_state) -> action name`` for every allowed transition.
    deadline_states : frozenset of str
        States entered with a deadline: 整改期限 at 认定 (kept into 整改中) and on
        every entry to 整改中, the 监管 review date of 挂账监管.
    open_exempt : frozenset of str
        States that no longer count as open (动态清零 counts the rest): a problem
        on the books (挂账监管) is open, as the province counts it.
    """

    initial: str = "issued"
    actions: Mapping[tuple[str, str], str] = field(default_factory=lambda: dict(_DEFAULT_ACTIONS))
    deadline_states: frozenset[str] = frozenset({"confirmed", "rectifying", "monitored"})
    open_exempt: frozenset[str] = frozenset({"closed", "dismissed"})
    evidence: Mapping[str, tuple[frozenset[str], ...]] = field(
        default_factory=lambda: dict(_DEFAULT_EVIDENCE)
    )
    labels: Mapping[str, str] = field(default_factory=dict)

    @property
    def states(self) -> tuple[str, ...]:
        """All states, the initial one first, in the order the actions name them."""
        seen = [self.initial]
        for a, b in self.actions:
            for s in (a, b):
                if s not in seen:
                    seen.append(s)
        return tuple(seen)

    def allowed(self, state: str) -> tuple[str, ...]:
        """Return the states reachable from ``state`` in one transition."""
        return tuple(b for (a, b) in self.actions if a == state)

    def check(self, from_state: str, to_state: str, *, patch_id: str = "") -> str:
        """Return the action name of a transition, or raise if it is not allowed.

        Parameters
        ----------
        from_state, to_state : str
            Current and proposed state.
        patch_id : str
            Named in the error message.

        Returns
        -------
        str
            The action the event is recorded as.

        Raises
        ------
        InvalidTransitionError
            Naming the allowed target states.
        """
        if to_state not in self.states:
            raise InvalidTransitionError(
                f"unknown state {to_state!r}; states are: {', '.join(self.states)}"
            )
        action = self.actions.get((from_state, to_state))
        if action is None:
            allowed = self.allowed(from_state)
            options = (
                ", ".join(f"{s} ({label(STATES, s)})" for s in allowed)
                if allowed
                else "none (final state)"
            )
            who = f"patch {patch_id} " if patch_id else ""
            raise InvalidTransitionError(
                f"{who}cannot go from {from_state} ({label(STATES, from_state)}) to "
                f"{to_state} ({label(STATES, to_state)}); allowed from {from_state}: {options}"
            )
        return action

    def is_open(self, state: str) -> bool:
        """Whether a patch in ``state`` still counts as open (not yet cleared)."""
        return state not in self.open_exempt

    def missing_evidence(self, to_state: str, kinds: Iterable[str]) -> str | None:
        """Describe the evidence a move to ``to_state`` still needs, or ``None`` if it has it.

        Parameters
        ----------
        to_state : str
            The target state.
        kinds : iterable of str
            Kinds of evidence the patch has (e.g. ``photo_before``).
        """
        options = self.evidence.get(to_state, ())
        have = set(kinds)
        if not options or any(need <= have for need in options):
            return None
        return " or ".join("+".join(sorted(need)) for need in options)

    def label(self, state: str) -> str:
        """The Chinese label of a state (the office's own for states it added)."""
        return self.labels.get(state) or label(STATES, state)


DEFAULT_LIFECYCLE = Lifecycle()

_NAME = re.compile(r"[a-z][a-z0-9_]*")


def lifecycle_from_settings(table: Mapping[str, Any], *, source: str = "settings") -> Lifecycle:
    """Build and validate an office's lifecycle from its ``[lifecycle]`` table.

    Keys (all optional; the default lifecycle otherwise): ``initial``;
    ``transitions`` (``from = [to, ...]``, replacing the default graph);
    ``actions`` (``"from->to" = name``); ``evidence`` (``to = [[kind, ...], ...]``,
    any one set satisfies); ``labels`` (``state = 中文`` for states you add);
    ``deadline_states`` and ``open_exempt`` (lists of states).

    Raises
    ------
    SettingsError
        Naming the key, for unknown states, names that are not identifiers,
        states unreachable from the initial one, or unknown evidence kinds.
    """
    base = DEFAULT_LIFECYCLE
    initial = table.get("initial", base.initial)
    actions = dict(base.actions)
    if "transitions" in table:
        actions = {}
        for src, targets in table["transitions"].items():
            if not isinstance(targets, list):
                raise SettingsError(f"{source}: [lifecycle.transitions] {src} must be a list")
            for dst in targets:
                actions[(src, dst)] = _DEFAULT_ACTIONS.get((src, dst), f"to_{dst}")
    for key, name in table.get("actions", {}).items():
        src, _, dst = key.partition("->")
        if (src, dst) not in actions:
            raise SettingsError(f"{source}: [lifecycle.actions] {key!r} is not a transition")
        actions[(src, dst)] = name
    states = {initial} | {s for pair in actions for s in pair}
    for state in states:
        if not _NAME.fullmatch(state):
            raise SettingsError(
                f"{source}: state {state!r} must be a lower-case identifier (e.g. reviewing)"
            )
    reach, todo = {initial}, [initial]
    while todo:
        cur = todo.pop()
        for a, b in actions:
            if a == cur and b not in reach:
                reach.add(b)
                todo.append(b)
    if states - reach:
        raise SettingsError(
            f"{source}: [lifecycle] state(s) {sorted(states - reach)} cannot be reached from "
            f"{initial!r}; add a transition to them or remove them"
        )
    evidence = dict(base.evidence) if "transitions" not in table else {}
    for dst, options in table.get("evidence", {}).items():
        if dst not in states:
            raise SettingsError(f"{source}: [lifecycle.evidence] {dst!r} is not a state")
        sets = tuple(frozenset(o) for o in options)
        bad = sorted({k for o in sets for k in o} - set(EVIDENCE_KINDS))
        if bad:
            raise SettingsError(
                f"{source}: [lifecycle.evidence] {dst}: unknown kind(s) {bad}; "
                f"use {', '.join(EVIDENCE_KINDS)}"
            )
        evidence[dst] = sets
    labels = {str(k): str(v) for k, v in table.get("labels", {}).items()}
    unlabelled = sorted(s for s in states if s not in STATES and s not in labels)
    if unlabelled:
        raise SettingsError(f"{source}: give [lifecycle.labels] for new state(s) {unlabelled}")
    chosen = {}
    for key in ("deadline_states", "open_exempt"):
        if key not in table:  # the defaults, for the states this graph has
            chosen[key] = getattr(base, key) & states
            continue
        values = frozenset(table[key])
        if values - states:
            raise SettingsError(
                f"{source}: [lifecycle] {key} names unknown {sorted(values - states)}"
            )
        chosen[key] = values
    return Lifecycle(initial, actions, evidence=evidence, labels=labels, **chosen)


@dataclass(frozen=True)
class DeadlineRule:
    """Rectification time for patches of a type and/or river level (most specific wins)."""

    days: int
    issue_type: str | None = None
    level: str | None = None

    def matches(self, issue_type: str | None, level: str | None) -> int:
        """Return how specific the match is (0 none-but-default, -1 no match)."""
        if self.issue_type is not None and self.issue_type != issue_type:
            return -1
        if self.level is not None and self.level != level:
            return -1
        return (self.issue_type is not None) + (self.level is not None)


def rectify_days(
    rules: Iterable[DeadlineRule], *, issue_type: str | None, level: str | None, default: int
) -> int:
    """Return the days to rectify from the most specific matching rule, else ``default``."""
    best, days = -1, default
    for rule in rules:
        score = rule.matches(issue_type, level)
        if score > best:
            best, days = score, rule.days
    return days


def deadline_for(start: dt.date, days: int, *, calendar: WorkCalendar | None = None) -> dt.date:
    """Return the deadline ``days`` after ``start`` (working days with a calendar)."""
    if calendar is None:
        return start + dt.timedelta(days=days)
    return calendar.add(start, days)


def overdue_days(
    deadline: dt.date | str | None,
    state: str,
    as_of: dt.date,
    *,
    calendar: WorkCalendar | None = None,
) -> int:
    """Return how many days a patch is past its deadline on ``as_of`` (0 if not overdue).

    Only patches whose clock runs (:data:`CLOCK_STATES`: 核查 not finished,
    认定 and 整改, a 挂账监管 review date) can be overdue; a reported
    rectification waits on the office, not the chief. With a calendar the count
    is in working days.
    """
    missing = deadline is None or deadline == "" or deadline != deadline  # NaN from a frame
    if missing or state not in CLOCK_STATES:
        return 0
    if isinstance(deadline, str):
        deadline = dt.date.fromisoformat(deadline[:10])
    if calendar is not None:
        return calendar.between(deadline, as_of)
    return max(0, (as_of - deadline).days)


@dataclass(frozen=True)
class EscalationStep:
    """One rung of the escalation ladder (卡单函令).

    Attributes
    ----------
    action : str
        ``reminder`` 提示卡, ``notice`` 通知单, ``supervision`` 督办函, ``order`` 整改令,
        or ``interview`` 约谈 / ``bulletin`` 通报.
    days : int
        When it is due, in days relative to the deadline (negative: before it).
    to_level : str
        The chief level it is addressed to.
    """

    action: str
    days: int
    to_level: str


DEFAULT_LADDER = (
    EscalationStep("reminder", -3, "village"),
    EscalationStep("notice", 1, "township"),
    EscalationStep("supervision", 10, "county"),
    EscalationStep("order", 20, "county"),
)
ESCALATION_ACTIONS = ("reminder", "notice", "supervision", "order", "interview", "bulletin")


def ladder_from_settings(steps: Iterable[Mapping[str, Any]], *, source: str) -> tuple:
    """Build and validate ``[[escalation.steps]]`` (``action``, ``days``, ``to``)."""
    out = []
    for i, step in enumerate(steps):
        action, days, to = step.get("action"), step.get("days"), step.get("to", "county")
        if action not in ESCALATION_ACTIONS:
            raise SettingsError(
                f"{source}: escalation step {i + 1}: action {action!r} is not one of "
                f"{', '.join(ESCALATION_ACTIONS)}"
            )
        if not isinstance(days, int) or isinstance(days, bool):
            raise SettingsError(f"{source}: escalation step {i + 1}: days must be an integer")
        if to not in {"province", "city", "county", "township", "village"}:
            raise SettingsError(f"{source}: escalation step {i + 1}: to {to!r} is not a level")
        out.append(EscalationStep(action, days, to))
    if [s.days for s in out] != sorted(s.days for s in out):
        raise SettingsError(f"{source}: escalation steps must be in order of days")
    return tuple(out)


def due_step(
    *,
    state: str,
    deadline: dt.date | str | None,
    issued: Iterable[str],
    as_of: dt.date,
    ladder: tuple[EscalationStep, ...] = DEFAULT_LADDER,
    calendar: WorkCalendar | None = None,
) -> EscalationStep | None:
    """Return the escalation step due for a patch on ``as_of``, or ``None``.

    The highest step whose day has come is due, unless it or a higher step was
    already issued for the same deadline (``issued``: the actions recorded since
    the deadline was set). So a daily run issues each rung once, and a run that
    starts late issues the rung that fits, not every rung it missed.
    """
    missing = deadline is None or deadline == "" or deadline != deadline
    if missing or state not in ESCALATED_STATES:
        return None
    if isinstance(deadline, str):
        deadline = dt.date.fromisoformat(deadline[:10])
    if as_of >= deadline:
        rel = calendar.between(deadline, as_of) if calendar else (as_of - deadline).days
    else:
        rel = -(calendar.between(as_of, deadline) if calendar else (deadline - as_of).days)
    done = set(issued)
    rank = {s.action: i for i, s in enumerate(ladder)}
    top = max((rank[a] for a in done if a in rank), default=-1)
    due = [i for i, s in enumerate(ladder) if s.days <= rel]
    if not due or max(due) <= top:
        return None
    return ladder[max(due)]


def replay(
    events: Iterable[tuple[str, str | None, str]], lifecycle: Lifecycle = DEFAULT_LIFECYCLE
) -> dict[str, str]:
    """Fold events ``(patch_id, from_state, to_state)`` in order into each patch's state.

    Raises
    ------
    InvalidTransitionError
        If an event does not start from the patch's state or is not allowed;
        events that keep the state (escalation notices, evidence) are accepted.
    """
    state: dict[str, str] = {}
    for pid, src, dst in events:
        cur = state.get(pid)
        if cur is None:
            if src is not None or dst != lifecycle.initial:
                raise InvalidTransitionError(f"patch {pid}: first event must issue it")
        elif src != cur:
            raise InvalidTransitionError(f"patch {pid}: event from {src} but state is {cur}")
        elif src != dst:
            lifecycle.check(src, dst, patch_id=pid)
        state[pid] = dst
    return state
