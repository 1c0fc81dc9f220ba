"""The lifecycle of a patch: states, allowed transitions, deadlines. Pure, no I/O.

Default (DESIGN.md)::

    issued 已下发 → verifying 核查中 → confirmed 已认定 | dismissed 不是问题 | monitored 挂账监管
    confirmed | monitored → rectifying 整改中 (deadline) → rectified 已整改待验收 → closed 已销号
    rectified → rectifying (acceptance failed, 退回);  dismissed → confirmed (overturned by audit)

The current state of a patch is never stored: it is the ``to_state`` of its
last event. A :class:`Lifecycle` checks a proposed transition and names the
action it is recorded as.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field

from geo._errors import InvalidTransitionError
from geo.labels import STATES, label

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
        States entered with a deadline (rectification).
    open_exempt : frozenset of str
        States that no longer count as open (动态清零 counts the rest).
    """

    initial: str = "issued"
    actions: Mapping[tuple[str, str], str] = field(default_factory=lambda: dict(_DEFAULT_ACTIONS))
    deadline_states: frozenset[str] = frozenset({"rectifying"})
    open_exempt: frozenset[str] = frozenset({"closed", "dismissed", "monitored"})

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


DEFAULT_LIFECYCLE = Lifecycle()


def deadline_for(start: dt.date, days: int) -> dt.date:
    """Return the deadline ``days`` calendar days after ``start``.

    Working days on the Chinese calendar replace this in the tracking issue;
    callers pass dates, so the seam stays the same.
    """
    return start + dt.timedelta(days=days)


def overdue_days(deadline: dt.date | str | None, state: str, as_of: dt.date) -> int:
    """Return how many days a patch is past its deadline on ``as_of`` (0 if not overdue).

    Only patches still being worked on (``confirmed``, ``rectifying``) can be
    overdue; a reported rectification waits on the office, not the chief.
    """
    missing = deadline is None or deadline == "" or deadline != deadline  # NaN from a frame
    if missing or state not in {"confirmed", "rectifying"}:
        return 0
    if isinstance(deadline, str):
        deadline = dt.date.fromisoformat(deadline[:10])
    return max(0, (as_of - deadline).days)
