"""A small EventBridge event-pattern matcher: the subset the template's rules use.

Supported, per AWS's content-filtering rules: literal values (a list of alternatives), ``prefix``,
``exists``, ``anything-but`` (literal list), nested objects, ``$or``, and arrays in the event (a
field matches when any element matches).
"""

from __future__ import annotations

from typing import Any

_MISSING = object()


def matches(pattern: dict[str, Any], event: Any) -> bool:
    if not isinstance(event, dict):
        return False
    for key, expected in pattern.items():
        if key == "$or":
            if not any(matches(branch, event) for branch in expected):
                return False
        elif not _field_matches(expected, event.get(key, _MISSING)):
            return False
    return True


def _field_matches(expected: Any, value: Any) -> bool:
    if isinstance(expected, dict):
        candidates = value if isinstance(value, list) else [value]
        return any(matches(expected, item) for item in candidates)
    if not isinstance(expected, list):
        raise ValueError(f"a pattern leaf must be a list, got {expected!r}")
    values = value if isinstance(value, list) else [value]
    return any(_leaf(rule, v) for rule in expected for v in values) or (
        value is _MISSING and any(isinstance(r, dict) and r.get("exists") is False for r in expected)
    )


def _leaf(rule: Any, value: Any) -> bool:
    if not isinstance(rule, dict):
        return value is not _MISSING and rule == value
    if "exists" in rule:
        return (value is not _MISSING) is bool(rule["exists"])
    if value is _MISSING:
        return False
    if "prefix" in rule:
        return isinstance(value, str) and value.startswith(rule["prefix"])
    if "anything-but" in rule:
        banned = rule["anything-but"]
        return value not in (banned if isinstance(banned, list) else [banned])
    raise ValueError(f"unsupported pattern operator {rule!r}")
