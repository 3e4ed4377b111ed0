"""Lifecycle policy validation as PutLifecyclePolicy / StartLifecyclePolicyPreview apply it.

Written from AWS's documentation (``lifecycle_policy_parameters.html``, the "Important" boxes of
``lifecycle_policy_examples.html`` and the evaluation rules of ``LifecyclePolicies.html``; project
notes ``shared/reference/ecr-archive-api.md`` §1), independently of the product's own validator,
so a bug in either shows up as a disagreement in the tests. Every problem raises
:class:`PolicyInvalid` with a message in ECR's style, which the callers turn into
``InvalidParameterException``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

MAX_RULES = 50  # "Rules per lifecycle policy: 50" (service quotas)
MIN_LENGTH, MAX_LENGTH = 100, 30_720  # LifecyclePolicyText length (botocore model)
MAX_WILDCARDS = 4  # "at most 4 wildcards per string"
MIN_ARCHIVE_DAYS = 90  # "Images must be in archive storage for a minimum of 90 days before deletion"
TAG_STATUSES = ("tagged", "untagged", "any")
COUNT_TYPES = ("imageCountMoreThan", "sinceImagePushed", "sinceImagePulled", "sinceImageTransitioned")
_SELECTION_KEYS = {
    "tagStatus",
    "tagPatternList",
    "tagPrefixList",
    "storageClass",
    "countType",
    "countUnit",
    "countNumber",
}
_RULE_KEYS = {"rulePriority", "description", "selection", "action"}
_ACTION_KEYS = {"type", "targetStorageClass"}
_PREFIX = "Lifecycle policy validation failure: "


class PolicyInvalid(ValueError):
    """A policy ECR would reject; ``str()`` is the message ECR's error carries."""


@dataclass(frozen=True)
class Selection:
    tagStatus: str
    countType: str
    countNumber: int
    tagPatternList: tuple[str, ...] | None = None
    tagPrefixList: tuple[str, ...] | None = None
    storageClass: str | None = None
    countUnit: str | None = None

    @property
    def effective_storage_class(self) -> str:
        """``standard`` when omitted ("If omitted, standard is used")."""
        return self.storageClass or "standard"


@dataclass(frozen=True)
class Action:
    type: str
    targetStorageClass: str | None = None


@dataclass(frozen=True)
class Rule:
    rulePriority: int
    selection: Selection
    action: Action
    description: str | None = None


@dataclass(frozen=True)
class Policy:
    rules: tuple[Rule, ...]

    def rules_by_priority(self) -> list[Rule]:
        """Lowest ``rulePriority`` first ("Rules are applied from lowest to highest value")."""
        return sorted(self.rules, key=lambda r: r.rulePriority)


def _fail(message: str) -> PolicyInvalid:
    return PolicyInvalid(_PREFIX + message)


def _object(value: Any, where: str, allowed: set[str]) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise _fail(f"{where} must be a JSON object.")
    unknown = sorted(set(value) - allowed)
    if unknown:
        raise _fail(f"{where} has unknown field(s) {unknown}.")
    nulls = sorted(k for k, v in value.items() if v is None)
    if nulls:
        raise _fail(f"{where}: {nulls} must not be null (omit a field instead).")
    return value


def _strings(value: Any, where: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not value or not all(isinstance(v, str) and v for v in value):
        raise _fail(f"'{where}' must be a non-empty list of non-empty strings.")
    return tuple(value)


def _positive_int(value: Any, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise _fail(f"'{where}' must be a positive integer, not {value!r}.")
    return value


def _tag_filters(
    raw: dict[str, Any], status: str, where: str
) -> tuple[tuple[str, ...] | None, tuple[str, ...] | None]:
    patterns = _strings(raw["tagPatternList"], f"{where}.tagPatternList") if "tagPatternList" in raw else None
    prefixes = _strings(raw["tagPrefixList"], f"{where}.tagPrefixList") if "tagPrefixList" in raw else None
    if patterns is not None and prefixes is not None:
        raise _fail(f"{where}: tagPatternList and tagPrefixList cannot be used in the same rule.")
    if status == "tagged" and patterns is None and prefixes is None:
        raise _fail(f"{where}: tagStatus 'tagged' requires tagPrefixList or tagPatternList.")
    if status != "tagged" and (patterns is not None or prefixes is not None):
        raise _fail(f"{where}: tagPatternList and tagPrefixList may only be used with tagStatus 'tagged'.")
    for prefix in prefixes or ():
        if "*" in prefix:
            raise _fail(f"{where}: tag prefix {prefix!r} contains '*'; use tagPatternList for wildcards.")
    for pattern in patterns or ():
        if pattern.count("*") > MAX_WILDCARDS:
            raise _fail(f"{where}: tag pattern {pattern!r} has more than {MAX_WILDCARDS} wildcards.")
    return patterns, prefixes


def _selection(raw_value: Any, where: str) -> Selection:
    raw = _object(raw_value, f"{where}.selection", _SELECTION_KEYS)
    status = raw.get("tagStatus")
    if status not in TAG_STATUSES:
        raise _fail(f"{where}: tagStatus must be one of {list(TAG_STATUSES)}, not {status!r}.")
    count_type = raw.get("countType")
    if count_type not in COUNT_TYPES:
        raise _fail(f"{where}: countType must be one of {list(COUNT_TYPES)}, not {count_type!r}.")
    patterns, prefixes = _tag_filters(raw, status, where)
    unit = raw.get("countUnit")
    if count_type == "imageCountMoreThan" and unit is not None:
        raise _fail(f"{where}: countUnit cannot be used with countType imageCountMoreThan.")
    if count_type != "imageCountMoreThan" and unit != "days":
        raise _fail(f"{where}: countType {count_type} requires countUnit 'days'.")
    storage = raw.get("storageClass")
    if storage is not None and storage not in ("standard", "archive"):
        raise _fail(f"{where}: storageClass must be 'standard' or 'archive', not {storage!r}.")
    return Selection(
        tagStatus=status,
        countType=count_type,
        countNumber=_positive_int(raw.get("countNumber"), f"{where}.countNumber"),
        tagPatternList=patterns,
        tagPrefixList=prefixes,
        storageClass=storage,
        countUnit=unit,
    )


def _action(raw_value: Any, where: str) -> Action:
    raw = _object(raw_value, f"{where}.action", _ACTION_KEYS)
    kind, target = raw.get("type"), raw.get("targetStorageClass")
    if kind not in ("expire", "transition"):
        raise _fail(f"{where}: action type must be 'expire' or 'transition', not {kind!r}.")
    if kind == "transition" and target != "archive":
        raise _fail(f"{where}: a transition action requires targetStorageClass 'archive'.")
    if kind == "expire" and target is not None:
        raise _fail(f"{where}: targetStorageClass is only valid with a transition action.")
    return Action(type=kind, targetStorageClass=target)


def _combination_problem(selection: Selection, action: Action) -> str | None:
    count, storage = selection.countType, selection.storageClass
    if count == "sinceImagePulled" and action.type != "transition":
        return "The sinceImagePulled count type must be used with the transition action."
    if count == "sinceImageTransitioned":
        if selection.countNumber < MIN_ARCHIVE_DAYS:
            return (
                f"Images must be in archive storage for a minimum of {MIN_ARCHIVE_DAYS} days before "
                f"deletion (countNumber {selection.countNumber})."
            )
        if action.type != "expire" or storage != "archive":
            return (
                "The sinceImageTransitioned count type must be used with the expire action and "
                "the archive storage class."
            )
    elif storage == "archive":
        return f"storageClass 'archive' is only supported with countType sinceImageTransitioned, not {count}."
    return None


def _rule(raw_value: Any, index: int) -> Rule:
    raw = _object(raw_value, f"rules[{index}]", _RULE_KEYS)
    priority = _positive_int(raw.get("rulePriority"), f"rules[{index}].rulePriority")
    where = f"rule with priority {priority}"
    if "selection" not in raw or "action" not in raw:
        raise _fail(f"{where}: selection and action are required.")
    selection, action = _selection(raw["selection"], where), _action(raw["action"], where)
    problem = _combination_problem(selection, action)
    if problem:
        raise _fail(f"{where}: {problem}")
    description = raw.get("description")
    return Rule(rulePriority=priority, selection=selection, action=action, description=description)


def _rule_set_problem(rules: list[Rule]) -> str | None:
    priorities = [r.rulePriority for r in rules]
    if len(set(priorities)) != len(priorities):
        duplicate = next(p for p in priorities if priorities.count(p) > 1)
        return f"Each rule must have a unique priority (rulePriority {duplicate} is used twice)."
    for storage in ("standard", "archive"):
        chosen = sorted(
            (r for r in rules if r.selection.effective_storage_class == storage), key=lambda r: r.rulePriority
        )
        if sum(1 for r in chosen if r.selection.tagStatus == "untagged") > 1:
            return f"Only one rule can select Untagged images per storage class ({storage})."
        if any(r.selection.tagStatus == "any" for r in chosen[:-1]):
            return (
                "A rule with tagStatus 'any' must have the highest rulePriority of the rules "
                f"selecting {storage} images."
            )
        # "must contain a unique set of prefixes", read strictly: a tag filter (prefix 'p' being
        # the pattern 'p*') appears in at most one rule of a storage class.
        seen: set[str] = set()
        for r in chosen:
            filters = {f"{p}*" for p in r.selection.tagPrefixList or ()} | set(
                r.selection.tagPatternList or ()
            )
            if seen & filters:
                return (
                    f"The rules selecting the {storage} storage class must contain a unique set of "
                    f"prefixes ({sorted(seen & filters)[0]!r} is in two rules)."
                )
            seen |= filters
    return None


def parse_policy(text: str) -> Policy:
    """Validate ``text``; raises :class:`PolicyInvalid` naming the first problem found."""
    if not MIN_LENGTH <= len(text) <= MAX_LENGTH:
        raise _fail(f"the policy must be {MIN_LENGTH} to {MAX_LENGTH} characters long ({len(text)}).")
    try:
        document = json.loads(text)
    except ValueError as exc:
        raise _fail(f"the policy is not valid JSON ({exc}).") from None
    if not isinstance(document, dict) or not isinstance(document.get("rules"), list) or not document["rules"]:
        raise _fail("the policy must be a JSON object with a non-empty 'rules' list.")
    if len(document["rules"]) > MAX_RULES:
        raise _fail(f"a policy has at most {MAX_RULES} rules ({len(document['rules'])} given).")
    rules = [_rule(raw, index) for index, raw in enumerate(document["rules"])]
    problem = _rule_set_problem(rules)
    if problem:
        raise _fail(problem)
    return Policy(rules=tuple(rules))


def policy_from_document(document: str | dict[str, Any]) -> Policy:
    """:func:`parse_policy` for a policy given as JSON text or as a parsed document."""
    return parse_policy(document if isinstance(document, str) else json.dumps(document))
