import datetime as dt
import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from geo.errors import InvalidTransitionError, SettingsError
from geo.labels import STATES
from geo.policy.lifecycle import (
    DEFAULT_LADDER,
    DEFAULT_LIFECYCLE,
    DeadlineRule,
    deadline_for,
    due_step,
    ladder_from_settings,
    lifecycle_from_settings,
    overdue_days,
    rectify_days,
    replay,
)
from geo.policy.workdays import WorkCalendar

LC = DEFAULT_LIFECYCLE


def test_default_states_follow_the_design():
    assert LC.initial == "issued"
    assert set(LC.states) == set(STATES) - {"overdue"}
    assert set(LC.allowed("verifying")) == {"confirmed", "dismissed", "monitored", "proposed"}
    assert set(LC.allowed("proposed")) == {"confirmed", "dismissed", "monitored", "verifying"}
    assert LC.check("proposed", "verifying") == "return" and LC.is_open("monitored")
    assert set(LC.allowed("rectified")) == {"closed", "rectifying"}
    assert LC.allowed("closed") == ("rectifying",)  # an audit can reopen
    assert LC.check("dismissed", "confirmed") == "overturn"
    assert LC.check("rectified", "rectifying") == "reject"


def test_illegal_transition_names_the_allowed_ones():
    with pytest.raises(InvalidTransitionError) as err:
        LC.check("issued", "closed", patch_id="TB1")
    text = str(err.value)
    assert "TB1" in text and "verifying" in text and "核查中" in text


def test_final_state_says_so():
    strict = lifecycle_from_settings({"transitions": {"issued": ["closed"]}}, source="t")
    with pytest.raises(InvalidTransitionError, match="final state"):
        strict.check("closed", "issued")


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


def test_office_lifecycle_from_settings():
    lc = lifecycle_from_settings(
        {
            "transitions": {
                "issued": ["verifying"],
                "verifying": ["confirmed", "dismissed"],
                "confirmed": ["rectifying"],
                "rectifying": ["reviewing"],
                "reviewing": ["closed", "rectifying"],
            },
            "labels": {"reviewing": "复核中"},
            "evidence": {"closed": [["photo_after"]]},
            "actions": {"reviewing->closed": "close"},
        },
        source="hetu.toml",
    )
    assert lc.allowed("rectifying") == ("reviewing",) and lc.label("reviewing") == "复核中"
    assert (
        lc.check("reviewing", "closed") == "close"
        and lc.check("rectifying", "reviewing") == "to_reviewing"
    )
    assert lc.missing_evidence("closed", []) == "photo_after"
    assert lc.missing_evidence("closed", ["photo_after"]) is None
    assert lc.missing_evidence("dismissed", []) is None  # a new graph starts without rules


@pytest.mark.parametrize(
    ("table", "words"),
    [
        ({"transitions": {"issued": ["verifying"], "done": ["closed"]}}, "cannot be reached"),
        ({"transitions": {"issued": ["Checked"]}}, "lower-case identifier"),
        ({"transitions": {"issued": ["reviewing"]}}, "labels"),
        ({"evidence": {"closed": [["selfie"]]}}, "unknown kind"),
        ({"evidence": {"finished": [["permit"]]}}, "not a state"),
        ({"actions": {"issued->closed": "x"}}, "not a transition"),
        ({"open_exempt": ["gone"]}, "unknown"),
    ],
)
def test_bad_lifecycle_settings_are_named(table, words):
    with pytest.raises(SettingsError, match=words):
        lifecycle_from_settings(table, source="hetu.toml")


def test_default_evidence_rules():
    assert LC.missing_evidence("dismissed", []) == "permit or photo_watermarked"
    assert LC.missing_evidence("dismissed", ["photo_watermarked"]) is None
    assert LC.missing_evidence("closed", ["photo_before"]) == "photo_after+photo_before"
    assert LC.missing_evidence("verifying", []) is None


def test_most_specific_deadline_rule_wins():
    rules = [
        DeadlineRule(20, issue_type="dumping"),
        DeadlineRule(5, issue_type="dumping", level="province"),
        DeadlineRule(40, level="province"),
    ]
    assert rectify_days(rules, issue_type="dumping", level="province", default=30) == 5
    assert rectify_days(rules, issue_type="dumping", level="county", default=30) == 20
    assert rectify_days(rules, issue_type="mining", level="province", default=30) == 40
    assert rectify_days(rules, issue_type="mining", level="county", default=30) == 30


def test_working_day_deadline_and_overdue():
    cal = WorkCalendar()
    assert deadline_for(dt.date(2025, 9, 29), 3, calendar=cal) == dt.date(2025, 10, 10)
    assert overdue_days("2025-09-30", "rectifying", dt.date(2025, 10, 10), calendar=cal) == 2


def test_ladder_fires_each_rung_once():
    kw = {
        "state": "rectifying",
        "deadline": "2025-06-30",
        "ladder": DEFAULT_LADDER,
        "calendar": None,
    }
    assert due_step(as_of=dt.date(2025, 6, 20), issued=[], **kw) is None
    assert due_step(as_of=dt.date(2025, 6, 27), issued=[], **kw).action == "reminder"
    assert due_step(as_of=dt.date(2025, 6, 28), issued=["reminder"], **kw) is None
    assert due_step(as_of=dt.date(2025, 7, 1), issued=["reminder"], **kw).action == "notice"
    # a late first run issues the rung that fits, not every rung it missed
    assert due_step(as_of=dt.date(2025, 7, 25), issued=[], **kw).action == "order"
    assert due_step(as_of=dt.date(2025, 7, 26), issued=["order"], **kw) is None
    assert (
        due_step(as_of=dt.date(2025, 7, 26), issued=[], state="closed", deadline="2025-06-30")
        is None
    )


def test_ladder_settings_validated():
    steps = ladder_from_settings([{"action": "reminder", "days": -2, "to": "village"},
                                  {"action": "interview", "days": 30}], source="t")  # fmt: skip
    assert [s.action for s in steps] == ["reminder", "interview"] and steps[1].to_level == "county"
    with pytest.raises(SettingsError, match="not one of"):
        ladder_from_settings([{"action": "scold", "days": 1}], source="t")
    with pytest.raises(SettingsError, match="order of days"):
        ladder_from_settings(
            [{"action": "order", "days": 9}, {"action": "notice", "days": 1}], source="t"
        )


actions = st.lists(st.tuples(st.sampled_from(["A", "B"]), st.sampled_from(LC.states)), max_size=40)


@given(actions)
def test_replaying_accepted_events_gives_the_same_state(moves):
    """Random sequences of actions never reach an invalid state; replay agrees."""
    state = {"A": "issued", "B": "issued"}
    events = [("A", None, "issued"), ("B", None, "issued")]
    for pid, target in moves:
        try:
            LC.check(state[pid], target)
        except InvalidTransitionError:
            continue
        events.append((pid, state[pid], target))
        state[pid] = target
    assert replay(events, LC) == state
    assert all(s in LC.states for s in state.values())


def test_replay_refuses_a_forged_jump():
    with pytest.raises(InvalidTransitionError):
        replay([("A", None, "issued"), ("A", "issued", "closed")], LC)
