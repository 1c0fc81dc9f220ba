"""Policy: the office's rules as pure values (no data, no pandas).

- :mod:`geo.policy.lifecycle`: states, transitions, evidence rules, deadlines,
  the escalation ladder;
- :mod:`geo.policy.workdays`: the Chinese working-day calendar;
- :mod:`geo.policy.assessment`: the points of the quarterly "4+1" assessment.
"""
