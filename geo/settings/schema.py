"""What a settings file may hold: every table, key and the type of each value.

:data:`SCHEMA` describes ``hetu.toml`` (the tables and keys of :mod:`geo.settings`);
:func:`check_settings` checks a parsed file against it before any value is used, so a
misspelt key or a value of the wrong type is one clear error naming the file, the table,
the key, what was expected and the closest valid name.
"""

from __future__ import annotations

import datetime as dt
import difflib
import math
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, fields
from typing import Any

from geo.errors import SettingsError, check_keys
from geo.labels import ISSUE_TYPES, LEVELS
from geo.policy.assessment import AssessmentRule
from geo.policy.documents import (
    ADDRESSEES,
    DEFAULT_CODES,
)
from geo.policy.lifecycle import (
    ESCALATION_ACTIONS,
)
from geo.policy.patrols import PERIODS as PATROL_PERIODS
from geo.policy.patrols import PRESETS as PATROL_PRESETS

BASEMAPS = ("osm", "tianditu", "tianditu-img", "none")


@dataclass(frozen=True)
class _Value:
    """What a value must be: its description, an example, and the test."""

    name: str
    example: str
    ok: Callable[[Any], bool]
    choices: tuple[str, ...] = ()


@dataclass(frozen=True)
class _Table:
    """A table: its known keys, or free keys (matching ``key_pattern``) holding ``each``."""

    keys: Mapping[str, _Value | _Table | _Tables] | None = None
    each: _Value | None = None
    key_pattern: str = ""
    key_name: str = ""


@dataclass(frozen=True)
class _Tables:
    """An array of tables (``[[name]]``), each one a :class:`_Table`."""

    table: _Table


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _is_str(value: Any) -> bool:
    return isinstance(value, str)


def _date(value: Any) -> bool:
    if isinstance(value, dt.date):
        return not isinstance(value, dt.datetime)
    try:
        return isinstance(value, str) and len(value) == 10 and bool(dt.date.fromisoformat(value))
    except ValueError:
        return False


def _list_of(ok: Callable[[Any], bool], n: int | None = None) -> Callable[[Any], bool]:
    return lambda v: isinstance(v, list) and n in (None, len(v)) and all(ok(x) for x in v)


def _one_of(choices: Iterable[str]) -> _Value:
    names = tuple(choices)
    return _Value(f"one of {', '.join(names)}", f'"{names[0]}"', lambda v: v in names, names)


_STRING = _Value("a string", '"text"', _is_str)
_INTEGER = _Value("an integer", "30", lambda v: isinstance(v, int) and not isinstance(v, bool))
_DAYS = _Value("an integer >= 1", "30", lambda v: _INTEGER.ok(v) and v >= 1)
_AT_LEAST_0 = _Value("a number >= 0", "50.0", lambda v: _number(v) and math.isfinite(v) and v >= 0)
_ABOVE_0 = _Value("a number > 0", "7.0", lambda v: _number(v) and math.isfinite(v) and v > 0)
_BOOLEAN = _Value("true or false", "true", lambda v: isinstance(v, bool))
_STRINGS = _Value("a list of strings", '["a", "b"]', _list_of(_is_str))
_DATES = _Value("a list of dates YYYY-MM-DD", '["2027-01-01"]', _list_of(_date))
_MONTHS = _Value(
    "a list of months 1-12",
    "[3, 4, 5]",
    _list_of(lambda v: isinstance(v, int) and not isinstance(v, bool) and 1 <= v <= 12),
)
_EXTENT = _Value("a list of 4 numbers", "[113.7, 27.6, 114.3, 28.1]", _list_of(_number, 4))
_KIND_SETS = _Value(
    "a list of lists of evidence kinds", '[["photo_before", "photo_after"]]', _list_of(_STRINGS.ok)
)

#: The working-day keys of ``[problems]`` (geo.policy.sources.SourceClock).
_CLOCK = ("accept_days", "feedback_days", "close_days", "close_days_major")

#: Every table and key a ``hetu.toml`` may hold (the module docstring documents each).
SCHEMA = _Table(
    {
        "office": _Table(
            {
                "name": _STRING,
                "admin_code": _STRING,
                "extent": _EXTENT,
                "central_meridian": _INTEGER,
            }
        ),
        "townships": _Table(each=_STRING, key_pattern=r"\d{9}", key_name="a 9-digit township code"),
        "lifecycle": _Table(
            {
                "rectify_days": _DAYS,
                "verify_days": _DAYS,
                "review_days": _DAYS,
                "initial": _STRING,
                "transitions": _Table(each=_STRINGS),
                "actions": _Table(each=_STRING),
                "evidence": _Table(each=_KIND_SETS),
                "labels": _Table(each=_STRING),
                "deadline_states": _STRINGS,
                "open_exempt": _STRINGS,
                "deadline": _Tables(
                    _Table(
                        {
                            "issue_type": _one_of(ISSUE_TYPES),
                            "level": _one_of(LEVELS),
                            "days": _DAYS,
                        }
                    )
                ),
            }
        ),
        "calendar": _Table(
            {"count": _one_of(("workdays", "calendar")), "holidays": _DATES, "workdays": _DATES}
        ),
        "escalation": _Table(
            {
                "template": _STRING,
                "pdf": _BOOLEAN,
                "steps": _Tables(
                    _Table(
                        {
                            "action": _one_of(ESCALATION_ACTIONS),
                            "days": _INTEGER,
                            "to": _one_of(LEVELS),
                        }
                    )
                ),
            }
        ),
        "export": _Table({"template": _STRING, "column_map": _STRING}),
        "evidence": _Table(
            {"max_distance_m": _AT_LEAST_0, "far_photo": _one_of(("warn", "refuse"))}
        ),
        "surveys": _Table({"within_m": _AT_LEAST_0}),
        "patrols": _Table(
            {
                "preset": _one_of(PATROL_PRESETS),
                "within_m": _AT_LEAST_0,
                "every_days": _Table(dict.fromkeys(LEVELS, _ABOVE_0)),
                "levels": _Table(
                    {
                        level: _Table(
                            {
                                "per": _one_of(PATROL_PERIODS),
                                "times": _DAYS,
                                "months": _MONTHS,
                                "min_minutes": _AT_LEAST_0,
                                "min_km": _AT_LEAST_0,
                            }
                        )
                        for level in LEVELS
                    }
                ),
            }
        ),
        "ingest": _Table({"profile": _STRING}),
        "matching": _Table({"near_m": _AT_LEAST_0}),
        "map": _Table({"basemap": _one_of(BASEMAPS), "tianditu_key": _STRING}),
        "assessment": _Table({f.name: _AT_LEAST_0 for f in fields(AssessmentRule)}),
        "township_classes": _Table(
            each=_STRING, key_pattern=r"\d{9}", key_name="a 9-digit township code"
        ),
        "documents": _Table(
            {
                **dict.fromkeys(
                    ("issuer", "abbr", "number", "contact", "phone", "seal", "word_template"),
                    _STRING,
                ),
                "cc": _STRINGS,
                "codes": _Table(dict.fromkeys(DEFAULT_CODES, _STRING)),
                "to": _Table(dict.fromkeys(ESCALATION_ACTIONS, _one_of(ADDRESSEES))),
                "reply_days": _Table(dict.fromkeys(ESCALATION_ACTIONS, _DAYS)),
            }
        ),
        "verification": _Table(
            {
                "classes": _Table(
                    each=_Table(  # type: ignore[arg-type]
                        {
                            "label": _STRING,
                            "group": _STRING,
                            "verdicts": _STRINGS,
                            "evidence": _Table(each=_KIND_SETS),
                        }
                    ),
                    key_pattern=r"[a-z][a-z0-9_]*",
                    key_name="a lower-case identifier (e.g. bridge)",
                ),
                "duty_units": _Table(dict.fromkeys(ISSUE_TYPES, _STRING)),
            }
        ),
        "problems": _Table(
            {
                **dict.fromkeys(_CLOCK, _DAYS),
                "point_buffer_m": _ABOVE_0,
                "sources": _Table(
                    each=_Table(dict.fromkeys(_CLOCK, _DAYS)),  # type: ignore[arg-type]
                    key_pattern=r".+",
                    key_name="a problem source (12345, 举报, 暗访 …)",
                ),
            }
        ),
    }
)


def check_settings(data: Mapping[str, Any], *, source: str = "settings") -> None:
    """Check parsed settings against :data:`SCHEMA`: every table, key and value type.

    Parameters
    ----------
    data : mapping
        The parsed TOML document.
    source : str
        The file, named in error messages.

    Raises
    ------
    SettingsError
        For an unknown table or key (naming the closest valid one), a value of the
        wrong type (naming the table, the key, the type expected and the value), or
        a key outside every table.
    """
    tables = SCHEMA.keys or {}
    for key, value in data.items():
        if key not in tables and not isinstance(value, dict):
            homes = [
                f"[{name}]"
                for name, table in tables.items()
                if isinstance(table, _Table) and table.keys and key in table.keys
            ]
            raise SettingsError(
                f"{source}: {key} = {value!r} is outside every table; "
                f"put it under {' or '.join(homes) or 'its [table]'}"
            )
    _check_table(data, SCHEMA, "", source=source)


def _check_table(table: Mapping[str, Any], schema: _Table, name: str, *, source: str) -> None:
    """Check one table; ``name`` is its dotted name (``""``: the file) or ``[[name]] n``."""
    label = name if name.startswith("[[") else f"[{name}]"
    where = f"{source}: {label}" if name else f"{source}:"
    if schema.keys is not None:
        check_keys(table, schema.keys, where=where, what="key" if name else "table")
    dotted = name.split("]]")[0].lstrip("[")
    for key, value in table.items():
        node = schema.each if schema.keys is None else schema.keys[key]
        if schema.key_pattern and not re.fullmatch(schema.key_pattern, key):
            raise SettingsError(f"{where} key {key!r} must be {schema.key_name}")
        sub = f"{dotted}.{key}" if dotted else key
        if isinstance(node, _Table):
            if not isinstance(value, dict):
                raise SettingsError(
                    f"{where} {key} must be a table (keys under [{sub}]), got {value!r}"
                )
            _check_table(value, node, sub, source=source)
        elif isinstance(node, _Tables):
            if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
                raise SettingsError(
                    f"{where} {key} must be an array of tables (keys under each "
                    f"[[{sub}]]), got {value!r}"
                )
            for i, item in enumerate(value):
                _check_table(item, node.table, f"[[{sub}]] {i + 1}", source=source)
        elif node is not None and not node.ok(value):
            close = difflib.get_close_matches(str(value), node.choices, n=1)
            example = f'"{close[0]}"' if close else node.example
            default = " to use the default" if schema.keys and not name.startswith("[[") else ""
            raise SettingsError(
                f"{where} {key} must be {node.name}, got {value!r}; write it as "
                f"{key} = {example} or delete the line{default}"
            )
