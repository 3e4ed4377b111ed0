"""ECR lifecycle policies: the archive-era grammar, validated exactly as PutLifecyclePolicy does.

``parse_lifecycle_policy`` turns policy text (or decoded JSON) into a ``LifecyclePolicy`` or raises
``LifecyclePolicyInvalid`` worded like ECR's ``InvalidParameterException``. ``canonical_policy_text``
and ``policy_hash`` give a layout-independent form for comparing a repository's policy with ours.
"""

from ecr_archiver.lifecycle.policy import (
    MAX_POLICY_TEXT_LENGTH,
    MAX_RULES,
    MIN_DAYS_IN_ARCHIVE_BEFORE_EXPIRY,
    MIN_POLICY_TEXT_LENGTH,
    ActionType,
    CountType,
    LifecyclePolicy,
    LifecycleRule,
    RuleAction,
    RuleSelection,
    StorageClass,
    TagStatus,
    canonical_policy_text,
    parse_lifecycle_policy,
    policy_error,
    policy_hash,
)

__all__ = [
    "MAX_POLICY_TEXT_LENGTH",
    "MAX_RULES",
    "MIN_DAYS_IN_ARCHIVE_BEFORE_EXPIRY",
    "MIN_POLICY_TEXT_LENGTH",
    "ActionType",
    "CountType",
    "LifecyclePolicy",
    "LifecycleRule",
    "RuleAction",
    "RuleSelection",
    "StorageClass",
    "TagStatus",
    "canonical_policy_text",
    "parse_lifecycle_policy",
    "policy_error",
    "policy_hash",
]
