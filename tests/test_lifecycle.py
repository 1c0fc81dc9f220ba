import datetime as dt
import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from geo._errors import InvalidTransitionError
from geo.labels import STATES
from geo.lifecycle import DEFAULT_LIFECYCLE, deadline_for, overdue_days

LC = DEFAULT_LIFECYCLE


def test_default_states_follow_the_design():
    assert LC.initial == "issued"
    assert set(LC.states) == set(STATES) - {"overdue"}
    assert set(LC.allowed("verifying")) == {"confirmed", "dismissed", "monitored"}
    assert set(LC.allowed("rectified")) == {"closed", "rectifying"}
    assert LC.allowed("closed") == ()
    assert LC.check("dismissed", "confirmed") == "overturn"
    assert LC.check("rectified", "rectifying") == "reject"


def test_illegal_transition_names_the_allowed_ones():
    with pytest.raises(InvalidTransitionError) as err:
        LC.check("issued", "closed", patch_id="TB1")
    text = str(err.value)
    assert "TB1" in text and "verifying" in text and "核查中" in text


def test_final_state_says_so():
    with pytest.raises(InvalidTransitionError, match="final state"):
        LC.check("closed", "rectifying")


def test_unknown_state_lists_states():
    with pytest.raises(InvalidTransitionError, match="unknown state"):
        LC.check("issued", "done")


@given(st.lists(st.sampled_from(LC.states), max_size=30))
def test_any_walk_only_passes_through_allowed_edges(targets):
    """Whatever sequence of targets is asked for, the state only moves along allowed edges."""
    state, path = LC.initial, [LC.initial]
    for target in targets:
        try:
            LC.check(state, target)
        except InvalidTransitionError:
            assert target not in LC.allowed(state)
            continue
        assert target in LC.allowed(state)
        state = target
        path.append(state)
    for a, b in itertools.pairwise(path):
        assert (a, b) in LC.actions


@given(st.dates(min_value=dt.date(2020, 1, 1), max_value=dt.date(2030, 1, 1)))
def test_overdue_days_count_from_the_deadline(day):
    deadline = dt.date(2025, 6, 30)
    n = overdue_days(deadline.isoformat(), "rectifying", day)
    assert n == max(0, (day - deadline).days)
    assert overdue_days(deadline, "closed", day) == 0
    assert overdue_days(None, "rectifying", day) == 0
    assert overdue_days(float("nan"), "rectifying", day) == 0


def test_deadline_in_calendar_days():
    assert deadline_for(dt.date(2025, 12, 20), 30) == dt.date(2026, 1, 19)


def test_open_states():
    assert LC.is_open("rectifying") and not LC.is_open("closed") and not LC.is_open("dismissed")
