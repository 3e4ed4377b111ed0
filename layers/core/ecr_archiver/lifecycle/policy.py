"""ECR lifecycle policy grammar (archive era): models, validation, canonical text.

The models accept exactly what PutLifecyclePolicy accepts, field names and lowercase values as in
the policy JSON. Sources: AWS "Lifecycle policy properties", "Examples of lifecycle policies" and
"Lifecycle policy evaluation rules"
(https://docs.aws.amazon.com/AmazonECR/latest/userguide/LifecyclePolicies.html).
Where AWS is silent we take the stricter reading and say so next to the check.
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from collections.abc import Mapping
from enum import StrEnum
from typing import Annotated, Any, Literal, NoReturn, Self

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictInt,
    StrictStr,
    ValidationError,
    model_validator,
)
from pydantic_core import ErrorDetails, PydanticCustomError

from ecr_archiver.errors import LifecyclePolicyInvalid, dotted_path


class TagStatus(StrEnum):
    TAGGED = "tagged"
    UNTAGGED = "untagged"
    ANY = "any"


class StorageClass(StrEnum):
    STANDARD = "standard"
    ARCHIVE = "archive"


class CountType(StrEnum):
    IMAGE_COUNT_MORE_THAN = "imageCountMoreThan"
    SINCE_IMAGE_PUSHED = "sinceImagePushed"
    SINCE_IMAGE_PULLED = "sinceImagePulled"
    SINCE_IMAGE_TRANSITIONED = "sinceImageTransitioned"


class ActionType(StrEnum):
    EXPIRE = "expire"
    TRANSITION = "transition"


# Model constraints on LifecyclePolicyText, and the (non-adjustable) rules-per-policy quota.
MIN_POLICY_TEXT_LENGTH = 100
MAX_POLICY_TEXT_LENGTH = 30_720
MAX_RULES = 50
MAX_WILDCARDS_PER_PATTERN = 4
# "Images must be in archive storage for a minimum of 90 days before deletion" and "You cannot
# configure lifecycle policies that delete images that have been in archive for less than 90 days"
# (AWS lifecycle_policy_examples.html, archive-image.html). AWS does not quote the error, so we
# take the stricter reading: a sinceImageTransitioned rule with countNumber < 90 is rejected.
MIN_DAYS_IN_ARCHIVE_BEFORE_EXPIRY = 90

_SINCE_COUNT_TYPES = frozenset(
    {CountType.SINCE_IMAGE_PUSHED, CountType.SINCE_IMAGE_PULLED, CountType.SINCE_IMAGE_TRANSITIONED}
)
_ERROR_PREFIX = "Invalid parameter at 'LifecyclePolicyText' failed to satisfy constraint: "
_RULE_ERROR = "lifecycle_rule"
_FIELD_ERROR = "lifecycle_field"


def policy_error(what: str) -> LifecyclePolicyInvalid:
    """The exception ECR's PutLifecyclePolicy would answer, worded the way ECR words it."""
    return LifecyclePolicyInvalid(f"{_ERROR_PREFIX}'Lifecycle policy validation failure: {what}'")


def _reject_field(field: str, what: str) -> NoReturn:
    raise PydanticCustomError(_FIELD_ERROR, "{what}", {"what": what, "field": field})


def _reject(what: str) -> NoReturn:
    # A custom pydantic error keeps our wording intact through ValidationError.
    raise PydanticCustomError(_RULE_ERROR, "{what}", {"what": what})


class _PolicyModel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    @model_validator(mode="before")
    @classmethod
    def _no_nulls(cls, data: Any) -> Any:
        # Optional fields are None in Python, but ECR's schema types them as strings or lists;
        # a JSON null is not "omitted" (AWS is silent: stricter reading).
        if isinstance(data, Mapping):
            for key, value in data.items():
                if value is None:
                    _reject_field(str(key), "must not be null; omit it instead")
        return data


class RuleSelection(_PolicyModel):
    tagStatus: TagStatus
    tagPatternList: list[StrictStr] | None = None
    tagPrefixList: list[StrictStr] | None = None
    storageClass: StorageClass | None = None
    countType: CountType
    countUnit: Literal["days"] | None = None
    countNumber: StrictInt

    @property
    def effective_storage_class(self) -> StorageClass:
        """``storageClass`` with AWS's default: "If omitted, standard is used"."""
        return self.storageClass or StorageClass.STANDARD


class RuleAction(_PolicyModel):
    type: ActionType
    targetStorageClass: Literal["archive"] | None = None


class LifecycleRule(_PolicyModel):
    # AWS documents no lower bound; priorities are compared as "lowest first" and the console
    # numbers rules from 1, so we reject 0 and negatives (stricter reading).
    rulePriority: Annotated[StrictInt, Field(ge=1)]
    description: StrictStr | None = None
    selection: RuleSelection
    action: RuleAction

    @model_validator(mode="after")
    def _check_combinations(self) -> Self:
        problem = _rule_problem(self.selection, self.action)
        if problem:
            _reject(f"Rule with priority {self.rulePriority}: {problem}")
        return self


class LifecyclePolicy(_PolicyModel):
    rules: Annotated[list[LifecycleRule], Field(min_length=1, max_length=MAX_RULES)]

    @model_validator(mode="after")
    def _check_rule_set(self) -> Self:
        problem = _rule_set_problem(self.rules)
        if problem:
            _reject(problem)
        return self

    def rules_by_priority(self) -> list[LifecycleRule]:
        """Rules in the order ECR applies them: lowest ``rulePriority`` first."""
        return sorted(self.rules, key=lambda rule: rule.rulePriority)


def _tag_filter_problem(selection: RuleSelection) -> str | None:
    patterns, prefixes = selection.tagPatternList, selection.tagPrefixList
    if patterns is not None and prefixes is not None:
        return "tagPrefixList and tagPatternList cannot be used in the same rule"
    if selection.tagStatus is TagStatus.TAGGED and patterns is None and prefixes is None:
        return "tagStatus 'tagged' requires a tagPrefixList or a tagPatternList"
    if selection.tagStatus is not TagStatus.TAGGED and (patterns is not None or prefixes is not None):
        listed = "tagPatternList" if patterns is not None else "tagPrefixList"
        return f"{listed} can only be used with tagStatus 'tagged', not '{selection.tagStatus}'"
    entries = patterns if patterns is not None else prefixes
    listed = "tagPatternList" if patterns is not None else "tagPrefixList"
    # AWS does not say whether an empty list or an empty entry is accepted. Both would silently
    # select every tagged image, so we reject them (stricter reading).
    if entries is not None and not entries:
        return f"{listed} must not be empty"
    if entries is not None and any(entry == "" for entry in entries):
        return f"{listed} must not contain an empty string"
    for pattern in patterns or ():
        if pattern.count("*") > MAX_WILDCARDS_PER_PATTERN:
            return (
                f"tag pattern '{pattern}' has {pattern.count('*')} wildcards; "
                f"at most {MAX_WILDCARDS_PER_PATTERN} are allowed per pattern"
            )
    for prefix in prefixes or ():
        # Prefixes are literal. An image tag cannot contain '*', so a prefix holding one could
        # never match; AWS is silent, we reject it rather than accept a rule that never fires.
        if "*" in prefix:
            return f"tag prefix '{prefix}' contains '*'; use tagPatternList for wildcards"
    return None


def _count_problem(selection: RuleSelection) -> str | None:
    count_type = selection.countType
    if count_type is CountType.IMAGE_COUNT_MORE_THAN and selection.countUnit is not None:
        return "countUnit cannot be specified when countType is 'imageCountMoreThan'"
    if count_type in _SINCE_COUNT_TYPES and selection.countUnit is None:
        return f"countUnit 'days' is required when countType is '{count_type}'"
    if selection.countNumber < 1:
        return f"countNumber must be a positive integer, got {selection.countNumber}"
    return None


def _storage_class_problem(selection: RuleSelection, action: RuleAction) -> str | None:
    count_type = selection.countType
    if count_type is CountType.SINCE_IMAGE_TRANSITIONED:
        if selection.storageClass is not StorageClass.ARCHIVE:
            return "countType 'sinceImageTransitioned' requires storageClass 'archive'"
        if action.type is not ActionType.EXPIRE:
            return (
                "countType 'sinceImageTransitioned' must be used with the 'expire' action, "
                f"not '{action.type}'"
            )
        if selection.countNumber < MIN_DAYS_IN_ARCHIVE_BEFORE_EXPIRY:
            return (
                f"images must stay in archive storage for at least {MIN_DAYS_IN_ARCHIVE_BEFORE_EXPIRY} days "
                f"before they can be expired; countNumber {selection.countNumber} is too small"
            )
    elif selection.storageClass is StorageClass.ARCHIVE:
        return (
            f"storageClass 'archive' can only be used with countType 'sinceImageTransitioned', "
            f"not '{count_type}'"
        )
    if count_type is CountType.SINCE_IMAGE_PULLED and action.type is ActionType.EXPIRE:
        return (
            "countType 'sinceImagePulled' cannot be used with the 'expire' action; transition the "
            "images to archive, then expire them with 'sinceImageTransitioned'"
        )
    return None


def _action_problem(action: RuleAction) -> str | None:
    if action.type is ActionType.TRANSITION and action.targetStorageClass is None:
        return "action 'transition' requires targetStorageClass 'archive'"
    if action.type is ActionType.EXPIRE and action.targetStorageClass is not None:
        return "targetStorageClass can only be used with the 'transition' action"
    return None


def _rule_problem(selection: RuleSelection, action: RuleAction) -> str | None:
    return (
        _tag_filter_problem(selection)
        or _count_problem(selection)
        or _action_problem(action)
        or _storage_class_problem(selection, action)
    )


def _rule_set_problem(rules: list[LifecycleRule]) -> str | None:
    seen_priorities: set[int] = set()
    for rule in rules:
        if rule.rulePriority in seen_priorities:
            return (
                f"rulePriority {rule.rulePriority} is used by more than one rule; priorities must be unique"
            )
        seen_priorities.add(rule.rulePriority)

    by_class: dict[str, list[LifecycleRule]] = defaultdict(list)
    for rule in sorted(rules, key=lambda r: r.rulePriority):
        by_class[rule.selection.effective_storage_class].append(rule)
    for storage_class, class_rules in by_class.items():
        problem = _storage_class_rules_problem(storage_class, class_rules)
        if problem:
            return problem
    return None


def _storage_class_rules_problem(storage_class: str, rules: list[LifecycleRule]) -> str | None:
    """Checks AWS states per storage class; ``rules`` are sorted by priority."""
    untagged = [rule.rulePriority for rule in rules if rule.selection.tagStatus is TagStatus.UNTAGGED]
    if len(untagged) > 1:
        return (
            "Only one rule can select Untagged images per storage class. "
            f"Rules with priority {untagged[0]} and {untagged[1]} select untagged {storage_class} images"
        )
    last_priority = rules[-1].rulePriority
    for rule in rules:
        if rule.selection.tagStatus is TagStatus.ANY and rule.rulePriority != last_priority:
            # AWS: "A rule with a tagStatus value of any must have the highest value for
            # rulePriority". Its own combined example has an `any` rule in each storage class,
            # so the constraint applies per storage class.
            return (
                f"Rule with priority {rule.rulePriority} has tagStatus 'any' but is not the last rule "
                f"selecting {storage_class} images (rule with priority {last_priority} comes after it); "
                "a tagStatus 'any' rule must have the highest rulePriority in its storage class"
            )
    # AWS: "The set of all rules selecting a specific storage class must contain a unique set of
    # prefixes." We read it strictly: no tag filter may appear in two rules of one storage class,
    # and patterns count too, a prefix 'p' being the pattern 'p*' (the later rule could never
    # select anything the earlier one does not already protect).
    owner: dict[str, int] = {}
    for rule in rules:
        selection = rule.selection
        filters = [f"{prefix}*" for prefix in selection.tagPrefixList or ()]
        filters += list(selection.tagPatternList or ())
        for tag_filter in dict.fromkeys(filters):
            if tag_filter in owner:
                return (
                    f"Rules with priority {owner[tag_filter]} and {rule.rulePriority} both select tags "
                    f"matching '{tag_filter}' in storage class {storage_class}; the rules selecting a "
                    "storage class must have a unique set of prefixes"
                )
            owner[tag_filter] = rule.rulePriority
    return None


# --- parsing -------------------------------------------------------------------------------------


def _no_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    # json.loads keeps the last of duplicate keys; AWS is silent, so we refuse the ambiguity.
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise ValueError(f"duplicate key '{key}'")
        result[key] = value
    return result


def _no_constants(name: str) -> NoReturn:
    raise ValueError(f"'{name}' is not valid JSON")


def _load_json(text: str) -> object:
    try:
        return json.loads(text, object_pairs_hook=_no_duplicate_keys, parse_constant=_no_constants)
    except json.JSONDecodeError as exc:
        raise policy_error(
            f"the policy is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"
        ) from None
    except ValueError as exc:
        raise policy_error(f"the policy is not valid JSON: {exc}") from None


def parse_lifecycle_policy(text_or_obj: str | Mapping[str, Any]) -> LifecyclePolicy:
    """Validate a lifecycle policy as PutLifecyclePolicy would.

    Text is checked for the API's length limits first; a mapping is the already-decoded JSON.
    Raises ``LifecyclePolicyInvalid`` whose message names the problem (and the rule priority).
    """
    if isinstance(text_or_obj, str):
        length = len(text_or_obj)
        if length < MIN_POLICY_TEXT_LENGTH or length > MAX_POLICY_TEXT_LENGTH:
            raise policy_error(
                f"the policy text is {length} characters long; it must be between "
                f"{MIN_POLICY_TEXT_LENGTH} and {MAX_POLICY_TEXT_LENGTH} characters"
            )
        document = _load_json(text_or_obj)
    else:
        document = text_or_obj
    if not isinstance(document, Mapping):
        raise policy_error("the policy must be a JSON object with a 'rules' array")
    try:
        return LifecyclePolicy.model_validate(dict(document))
    except ValidationError as exc:
        raise policy_error(_describe(exc.errors()[0], document)) from None


def _describe(error: ErrorDetails, document: Mapping[str, Any]) -> str:
    """Turn one pydantic error into ECR-style words, naming the rule by its priority."""
    if error["type"] == _RULE_ERROR:
        return str(error["msg"])
    loc = list(error["loc"])
    subject = ""
    if len(loc) >= 2 and loc[0] == "rules" and isinstance(loc[1], int):
        subject = _rule_subject(document, loc[1])
        loc = loc[2:]
    if error["type"] == _FIELD_ERROR:
        loc.append(error.get("ctx", {}).get("field", ""))
    what = _what_is_wrong(error, dotted_path(loc, "rule"))
    return f"{subject}: {what}" if subject else what


def _what_is_wrong(error: ErrorDetails, path: str) -> str:
    """What ``error`` says about the field at ``path`` (dotted, within its rule)."""
    kind = error["type"]
    if kind == _FIELD_ERROR:
        return f"'{path}' {error['msg']}"
    if kind == "missing":
        return f"'{path}' is required"
    if kind == "extra_forbidden":
        return f"'{path}' is not an allowed property"
    if kind in ("literal_error", "enum"):
        expected = error.get("ctx", {}).get("expected", "")
        return f"'{path}' must be {expected}, got {error['input']!r}"
    if kind == "too_long" and path == "rules":
        return f"a policy can have at most {MAX_RULES} rules, got {len(error['input'])}"
    if kind == "too_short" and path == "rules":
        return "a policy must have at least one rule"
    if kind == "greater_than_equal" and path == "rulePriority":
        return f"rulePriority must be a positive integer, got {error['input']!r}"
    return f"'{path}' is invalid: {error['msg']}"


def _rule_subject(document: Mapping[str, Any], index: int) -> str:
    rules = document.get("rules")
    rule = rules[index] if isinstance(rules, list) and index < len(rules) else None
    priority = rule.get("rulePriority") if isinstance(rule, Mapping) else None
    if isinstance(priority, int) and not isinstance(priority, bool):
        return f"Rule with priority {priority}"
    return f"Rule at index {index}"


# --- canonical form ------------------------------------------------------------------------------


def canonical_policy_text(policy: LifecyclePolicy) -> str:
    """Compact JSON with sorted keys and rules in priority order: stable for comparing and hashing.

    Only the fields the author wrote are kept (no defaults are filled in): two policies are equal
    when ECR would store the same rules, whatever their layout, key order or rule order.
    """
    document = {
        "rules": [rule.model_dump(mode="json", exclude_none=True) for rule in policy.rules_by_priority()]
    }
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def policy_hash(policy: str | Mapping[str, Any] | LifecyclePolicy) -> str:
    """sha256 hex digest of the canonical text; equal for policies that differ only in layout."""
    if not isinstance(policy, LifecyclePolicy):
        policy = parse_lifecycle_policy(policy)
    return hashlib.sha256(canonical_policy_text(policy).encode()).hexdigest()
