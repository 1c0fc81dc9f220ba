import datetime as dt
import warnings

import pytest
from hypothesis import given
from hypothesis import strategies as st

from geo.policy.workdays import CalendarWarning, WorkCalendar

CAL = WorkCalendar()
D = dt.date


def test_national_day_and_make_up_day_2025():
    assert not CAL.is_workday(D(2025, 10, 1)) and not CAL.is_workday(D(2025, 10, 8))
    assert CAL.is_workday(D(2025, 9, 28))  # a Sunday worked (调休)
    assert CAL.is_workday(D(2025, 10, 11))  # a Saturday worked (调休)
    # 3 working days after 2025-09-29 (Mon): 09-30, 10-09, 10-10
    assert CAL.add(D(2025, 9, 29), 3) == D(2025, 10, 10)
    assert CAL.between(D(2025, 9, 30), D(2025, 10, 9)) == 1


def test_spring_festival_2026():
    # State Council 2026: off 02-15 to 02-23; Saturdays 02-14 and 02-28 worked
    assert not CAL.is_workday(D(2026, 2, 17)) and not CAL.is_workday(D(2026, 2, 23))
    assert CAL.is_workday(D(2026, 2, 14)) and CAL.is_workday(D(2026, 2, 28))
    assert CAL.add(D(2026, 2, 14), 1) == D(2026, 2, 24)


def test_unknown_year_falls_back_with_a_warning():
    with pytest.warns(CalendarWarning, match="2027"):
        assert CAL.is_workday(D(2027, 3, 3))  # a Wednesday
    with pytest.warns(CalendarWarning):
        assert not CAL.is_workday(D(2027, 3, 6))  # a Saturday


def test_office_entered_year_is_used_without_warning():
    cal = WorkCalendar.from_lists(holidays=["2027-01-01"], workdays=["2027-01-09"])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert not cal.is_workday(D(2027, 1, 1))
        assert cal.is_workday(D(2027, 1, 9))  # a Saturday made up
        assert cal.is_workday(D(2027, 1, 4))


def test_deadline_crossing_into_the_next_year_does_not_crash():
    cal = WorkCalendar.from_lists(holidays=["2027-01-01"])
    assert cal.add(D(2026, 12, 28), 5) == D(2027, 1, 5)  # 12-29, 30, 31, 01-04, 01-05


@given(st.dates(min_value=D(2005, 1, 1), max_value=D(2026, 11, 30)), st.integers(0, 40))
def test_add_and_between_agree(start, n):
    end = CAL.add(start, n)
    assert CAL.between(start, end) == n
    assert end == start or CAL.is_workday(end)
