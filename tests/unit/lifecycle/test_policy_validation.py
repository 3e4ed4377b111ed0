"""PutLifecyclePolicy grammar: what ECR accepts, and every rejection named in the message."""

from __future__ import annotations

import json
from typing import Any

import pytest

from ecr_archiver.errors import LifecyclePolicyInvalid
from ecr_archiver.lifecycle import (
    LifecyclePolicy,
    canonical_policy_text,
    parse_lifecycle_policy,
    policy_hash,
)
from tests.unit.lifecycle import aws_examples

ECR_PREFIX = (
    "Invalid parameter at 'LifecyclePolicyText' failed to satisfy constraint: "
    "'Lifecycle policy validation failure: "
)
OMIT = object()


# --- builders ------------------------------------------------------------------------------------


def a_rule(priority: int = 1, *, selection: dict[str, Any] | None = None, **overrides: Any) -> dict[str, Any]:
    """A valid standard-class rule (any tag, expire after 30 days) with fields overridden or OMITted."""
    chosen = {"tagStatus": "any", "countType": "sinceImagePushed", "countUnit": "days", "countNumber": 30}
    chosen.update(selection or {})
    rule: dict[str, Any] = {
        "rulePriority": priority,
        "description": f"rule {priority}",
        "selection": {key: value for key, value in chosen.items() if value is not OMIT},
        "action": {"type": "expire"},
    }
    rule.update(overrides)
    return {key: value for key, value in rule.items() if value is not OMIT}


def without(rule: dict[str, Any], key: str) -> dict[str, Any]:
    return {name: value for name, value in rule.items() if name != key}


def transition(**extra: Any) -> dict[str, Any]:
    return {"type": "transition", "targetStorageClass": "archive", **extra}


def archive_expiry_rule(priority: int, **selection: Any) -> dict[str, Any]:
    """A valid archive-class rule: expire images archived for more than 365 days."""
    chosen = {
        "tagStatus": "any",
        "storageClass": "archive",
        "countType": "sinceImageTransitioned",
        "countNumber": 365,
        **selection,
    }
    return a_rule(priority, selection=chosen)


def a_policy(*rules: dict[str, Any]) -> dict[str, Any]:
    return {"rules": list(rules)}


def as_text(policy: dict[str, Any]) -> str:
    """Policy text as a user writes it, padded with JSON whitespace to the API's 100-character floor."""
    return json.dumps(policy, indent=2).ljust(100)


def rejection_of(policy: dict[str, Any] | str) -> str:
    """The ECR-style message the policy is rejected with (as text when given a mapping)."""
    with pytest.raises(LifecyclePolicyInvalid) as caught:
        parse_lifecycle_policy(policy if isinstance(policy, str) else as_text(policy))
    message = caught.value.message
    assert message.startswith(ECR_PREFIX)
    assert message.endswith("'")
    return message


# --- rejections ----------------------------------------------------------------------------------

TAGGED_PROD = {"tagStatus": "tagged", "tagPrefixList": ["prod"]}

REJECTED: list[tuple[str, dict[str, Any], list[str]]] = [
    # structure
    ("no rules", a_policy(), ["at least one rule"]),
    (
        "51 rules",
        a_policy(*(a_rule(p, selection=TAGGED_PROD | {"tagPrefixList": [f"t{p}-"]}) for p in range(1, 52))),
        ["at most 50 rules", "51"],
    ),
    (
        "duplicate priority",
        a_policy(a_rule(1, selection=TAGGED_PROD), a_rule(1)),
        ["rulePriority 1", "unique"],
    ),
    ("rules missing", {"policy": []}, ["'rules' is required"]),
    (
        "unknown top-level field",
        {**a_policy(a_rule()), "version": 1},
        ["'version' is not an allowed property"],
    ),
    (
        "unknown rule field",
        a_policy(a_rule(7, name="x")),
        ["priority 7", "'name' is not an allowed property"],
    ),
    (
        "unknown selection field",
        a_policy(a_rule(3, selection={"tagList": ["a"]})),
        ["priority 3", "'selection.tagList' is not an allowed property"],
    ),
    (
        "unknown action field",
        a_policy(a_rule(3, action={"type": "expire", "force": True})),
        ["priority 3", "'action.force' is not an allowed property"],
    ),
    ("rulePriority missing", a_policy(a_rule(rulePriority=OMIT)), ["'rulePriority' is required"]),
    (
        "selection missing",
        a_policy(without(a_rule(4), "selection")),
        ["priority 4", "'selection' is required"],
    ),
    ("action missing", a_policy(a_rule(4, action=OMIT)), ["priority 4", "'action' is required"]),
    (
        "tagStatus missing",
        a_policy(a_rule(2, selection={"tagStatus": OMIT})),
        ["priority 2", "'selection.tagStatus' is required"],
    ),
    (
        "countType missing",
        a_policy(a_rule(2, selection={"countType": OMIT})),
        ["priority 2", "'selection.countType' is required"],
    ),
    (
        "countNumber missing",
        a_policy(a_rule(2, selection={"countNumber": OMIT})),
        ["priority 2", "'selection.countNumber' is required"],
    ),
    ("action type missing", a_policy(a_rule(2, action={})), ["priority 2", "'action.type' is required"]),
    # values and types
    ("null rules", {"rules": None}, ["'rules' must not be null"]),
    (
        "null storageClass",
        a_policy(a_rule(5, selection={"storageClass": None})),
        ["priority 5", "'selection.storageClass' must not be null"],
    ),
    (
        "null description",
        a_policy(a_rule(5, description=None)),
        ["priority 5", "'description' must not be null"],
    ),
    (
        "uppercase tagStatus",
        a_policy(a_rule(5, selection={"tagStatus": "ANY"})),
        ["priority 5", "'selection.tagStatus' must be", "'ANY'"],
    ),
    (
        "unknown countType",
        a_policy(a_rule(5, selection={"countType": "sinceImageCreated"})),
        ["priority 5", "'selection.countType' must be"],
    ),
    (
        "unknown action",
        a_policy(a_rule(5, action={"type": "archive"})),
        ["priority 5", "'action.type' must be"],
    ),
    (
        "countNumber as string",
        a_policy(a_rule(5, selection={"countNumber": "30"})),
        ["priority 5", "'selection.countNumber'", "integer"],
    ),
    (
        "countNumber as boolean",
        a_policy(a_rule(5, selection={"countNumber": True})),
        ["priority 5", "'selection.countNumber'", "integer"],
    ),
    ("rulePriority as string", a_policy(a_rule(rulePriority="1")), ["'rulePriority'", "integer"]),
    ("rulePriority zero", a_policy(a_rule(0)), ["rulePriority must be a positive integer, got 0"]),
    (
        "countNumber zero",
        a_policy(a_rule(6, selection={"countNumber": 0})),
        ["priority 6", "countNumber must be a positive integer, got 0"],
    ),
    (
        "countNumber negative",
        a_policy(
            a_rule(6, selection={"countType": "imageCountMoreThan", "countUnit": OMIT, "countNumber": -3})
        ),
        ["priority 6", "countNumber must be a positive integer, got -3"],
    ),
    # tag filters
    (
        "tagged without a list",
        a_policy(a_rule(8, selection={"tagStatus": "tagged"})),
        ["priority 8", "'tagged' requires a tagPrefixList or a tagPatternList"],
    ),
    (
        "untagged with prefixes",
        a_policy(a_rule(8, selection={"tagStatus": "untagged", "tagPrefixList": ["a"]})),
        ["priority 8", "tagPrefixList can only be used with tagStatus 'tagged', not 'untagged'"],
    ),
    (
        "untagged with patterns",
        a_policy(a_rule(8, selection={"tagStatus": "untagged", "tagPatternList": ["a*"]})),
        ["priority 8", "tagPatternList can only be used with tagStatus 'tagged', not 'untagged'"],
    ),
    (
        "any with patterns",
        a_policy(a_rule(8, selection={"tagStatus": "any", "tagPatternList": ["a*"]})),
        ["priority 8", "tagPatternList can only be used with tagStatus 'tagged', not 'any'"],
    ),
    (
        "prefixes and patterns",
        a_policy(a_rule(8, selection=TAGGED_PROD | {"tagPatternList": ["v*"]})),
        ["priority 8", "tagPrefixList and tagPatternList cannot be used in the same rule"],
    ),
    (
        "five wildcards",
        a_policy(a_rule(8, selection={"tagStatus": "tagged", "tagPatternList": ["*a*b*c*d*"]})),
        ["priority 8", "'*a*b*c*d*' has 5 wildcards", "at most 4"],
    ),
    (
        "empty prefix list",
        a_policy(a_rule(8, selection={"tagStatus": "tagged", "tagPrefixList": []})),
        ["priority 8", "tagPrefixList must not be empty"],
    ),
    (
        "empty pattern",
        a_policy(a_rule(8, selection={"tagStatus": "tagged", "tagPatternList": ["v*", ""]})),
        ["priority 8", "tagPatternList must not contain an empty string"],
    ),
    (
        "wildcard in a prefix",
        a_policy(a_rule(8, selection={"tagStatus": "tagged", "tagPrefixList": ["v*"]})),
        ["priority 8", "tag prefix 'v*' contains '*'"],
    ),
    (
        "tag list of numbers",
        a_policy(a_rule(8, selection={"tagStatus": "tagged", "tagPrefixList": [1]})),
        ["priority 8", "'selection.tagPrefixList.0'"],
    ),
    # count units
    (
        "countUnit with imageCountMoreThan",
        a_policy(a_rule(9, selection={"countType": "imageCountMoreThan", "countUnit": "days"})),
        ["priority 9", "countUnit cannot be specified when countType is 'imageCountMoreThan'"],
    ),
    (
        "countUnit missing for sinceImagePushed",
        a_policy(a_rule(9, selection={"countUnit": OMIT})),
        ["priority 9", "countUnit 'days' is required when countType is 'sinceImagePushed'"],
    ),
    (
        "countUnit missing for sinceImagePulled",
        a_policy(
            a_rule(9, selection={"countType": "sinceImagePulled", "countUnit": OMIT}, action=transition())
        ),
        ["priority 9", "countUnit 'days' is required when countType is 'sinceImagePulled'"],
    ),
    (
        "countUnit missing for sinceImageTransitioned",
        a_policy(archive_expiry_rule(9, countUnit=OMIT)),
        ["priority 9", "countUnit 'days' is required when countType is 'sinceImageTransitioned'"],
    ),
    (
        "countUnit in hours",
        a_policy(a_rule(9, selection={"countUnit": "hours"})),
        ["priority 9", "'selection.countUnit' must be 'days'", "'hours'"],
    ),
    # count types, storage classes and actions
    (
        "sinceImagePulled with expire",
        a_policy(a_rule(10, selection={"countType": "sinceImagePulled"})),
        ["priority 10", "'sinceImagePulled' cannot be used with the 'expire' action"],
    ),
    (
        "sinceImageTransitioned without storageClass",
        a_policy(archive_expiry_rule(10, storageClass=OMIT)),
        ["priority 10", "'sinceImageTransitioned' requires storageClass 'archive'"],
    ),
    (
        "sinceImageTransitioned on standard",
        a_policy(archive_expiry_rule(10, storageClass="standard")),
        ["priority 10", "'sinceImageTransitioned' requires storageClass 'archive'"],
    ),
    (
        "sinceImageTransitioned with transition",
        a_policy(archive_expiry_rule(10) | {"action": transition()}),
        ["priority 10", "'sinceImageTransitioned' must be used with the 'expire' action, not 'transition'"],
    ),
    (
        "sinceImageTransitioned under 90 days",
        a_policy(archive_expiry_rule(10, countNumber=89)),
        ["priority 10", "at least 90 days", "countNumber 89"],
    ),
    (
        "archive class with sinceImagePushed",
        a_policy(a_rule(11, selection={"storageClass": "archive"})),
        [
            "priority 11",
            "storageClass 'archive' can only be used with countType 'sinceImageTransitioned'",
            "not 'sinceImagePushed'",
        ],
    ),
    (
        "archive class with imageCountMoreThan",
        a_policy(
            a_rule(
                11,
                selection={"storageClass": "archive", "countType": "imageCountMoreThan", "countUnit": OMIT},
            )
        ),
        ["priority 11", "not 'imageCountMoreThan'"],
    ),
    (
        "archive class with sinceImagePulled",
        a_policy(
            a_rule(
                11,
                selection={"storageClass": "archive", "countType": "sinceImagePulled"},
                action=transition(),
            )
        ),
        ["priority 11", "not 'sinceImagePulled'"],
    ),
    (
        "unknown storageClass",
        a_policy(a_rule(11, selection={"storageClass": "glacier"})),
        ["priority 11", "'selection.storageClass' must be"],
    ),
    (
        "transition without target",
        a_policy(a_rule(12, action={"type": "transition"})),
        ["priority 12", "action 'transition' requires targetStorageClass 'archive'"],
    ),
    (
        "transition to standard",
        a_policy(a_rule(12, action=transition(targetStorageClass="standard"))),
        ["priority 12", "'action.targetStorageClass' must be 'archive'"],
    ),
    (
        "target with expire",
        a_policy(a_rule(12, action={"type": "expire", "targetStorageClass": "archive"})),
        ["priority 12", "targetStorageClass can only be used with the 'transition' action"],
    ),
    # rule sets, per storage class
    (
        "two untagged standard rules",
        a_policy(
            a_rule(1, selection={"tagStatus": "untagged"}),
            a_rule(2, selection={"tagStatus": "untagged", "countNumber": 60}),
        ),
        ["Only one rule can select Untagged images per storage class.", "priority 1 and 2"],
    ),
    (
        "two untagged archive rules",
        a_policy(
            archive_expiry_rule(1, tagStatus="untagged"),
            archive_expiry_rule(2, tagStatus="untagged", countNumber=400),
        ),
        ["Only one rule can select Untagged images per storage class.", "archive"],
    ),
    (
        "any before a tagged rule",
        a_policy(a_rule(1), a_rule(2, selection=TAGGED_PROD)),
        [
            "priority 1 has tagStatus 'any'",
            "not the last rule selecting standard images",
            "priority 2 comes after it",
        ],
    ),
    (
        "two any rules in a class",
        a_policy(a_rule(3), a_rule(5, selection={"countNumber": 60})),
        ["priority 3 has tagStatus 'any'"],
    ),
    (
        "any in archive before another archive rule",
        a_policy(archive_expiry_rule(1), archive_expiry_rule(2, tagStatus="untagged", countNumber=400)),
        ["priority 1 has tagStatus 'any'", "archive"],
    ),
    (
        "shared prefix",
        a_policy(
            a_rule(1, selection={"tagStatus": "tagged", "tagPrefixList": ["prod", "v1"]}),
            a_rule(2, selection=TAGGED_PROD),
        ),
        ["priority 1 and 2", "'prod*'", "unique set of prefixes"],
    ),
    (
        "shared pattern",
        a_policy(
            a_rule(1, selection={"tagStatus": "tagged", "tagPatternList": ["*-rc"]}),
            a_rule(2, selection={"tagStatus": "tagged", "tagPatternList": ["*-rc"]}),
        ),
        ["priority 1 and 2", "'*-rc'"],
    ),
    (
        "prefix equal to a pattern",
        a_policy(
            a_rule(1, selection=TAGGED_PROD),
            a_rule(2, selection={"tagStatus": "tagged", "tagPatternList": ["prod*"]}),
        ),
        ["priority 1 and 2", "'prod*'"],
    ),
]


@pytest.mark.parametrize(
    ("policy", "expected"), [(p, e) for _, p, e in REJECTED], ids=[i for i, _, _ in REJECTED]
)
def test_rejects_what_ecr_rejects_naming_the_problem(policy: dict[str, Any], expected: list[str]) -> None:
    # Given a policy ECR refuses / When it is parsed / Then the ECR-style message names the problem
    message = rejection_of(policy)

    for fragment in expected:
        assert fragment in message


def test_rejects_text_that_is_not_json() -> None:
    message = rejection_of('{"rules": [' + " " * 100)

    assert "the policy is not valid JSON" in message


def test_rejects_json_that_is_not_an_object() -> None:
    message = rejection_of(json.dumps([a_rule()], indent=2))

    assert "must be a JSON object" in message


def test_rejects_duplicate_json_keys() -> None:
    # Given a rule whose rulePriority appears twice in the text
    text = as_text(a_policy(a_rule(1))).replace('"rulePriority": 1', '"rulePriority": 1, "rulePriority": 2')

    message = rejection_of(text)

    assert "duplicate key 'rulePriority'" in message


def test_rejects_nan() -> None:
    text = as_text(a_policy(a_rule(1))).replace('"countNumber": 30', '"countNumber": NaN')

    assert "'NaN' is not valid JSON" in rejection_of(text)


def test_rejects_text_shorter_than_100_characters() -> None:
    text = '{"rules": []}'.ljust(99)

    message = rejection_of(text)

    assert "the policy text is 99 characters long" in message
    assert "between 100 and 30720" in message


def test_rejects_text_longer_than_30720_characters() -> None:
    text = as_text(a_policy(a_rule(1, description="d" * 30_720)))

    assert "between 100 and 30720" in rejection_of(text)


def test_names_the_rule_by_index_when_its_priority_is_unusable() -> None:
    message = rejection_of(a_policy(a_rule(rulePriority="first")))

    assert "Rule at index 0" in message


# --- acceptance ----------------------------------------------------------------------------------


@pytest.mark.parametrize("text", list(aws_examples.ALL.values()), ids=list(aws_examples.ALL))
def test_accepts_aws_documented_examples(text: str) -> None:
    policy = parse_lifecycle_policy(text)

    assert policy.rules[0].action.type == "transition"
    assert policy.rules[0].action.targetStorageClass == "archive"


def test_accepts_an_any_rule_last_in_each_storage_class() -> None:
    # Given AWS's combined example: an `any` rule for standard (priority 1) and for archive (2)
    policy = parse_lifecycle_policy(aws_examples.COMBINED_ARCHIVE_THEN_EXPIRE)

    assert [rule.selection.effective_storage_class for rule in policy.rules] == ["standard", "archive"]


def test_accepts_one_untagged_rule_per_storage_class() -> None:
    policy = a_policy(
        a_rule(1, selection={"tagStatus": "untagged"}, action=transition()),
        archive_expiry_rule(2, tagStatus="untagged"),
    )

    assert len(parse_lifecycle_policy(as_text(policy)).rules) == 2


def test_accepts_the_same_prefix_in_different_storage_classes() -> None:
    policy = a_policy(
        a_rule(1, selection=TAGGED_PROD, action=transition()),
        archive_expiry_rule(2, tagStatus="tagged", tagPrefixList=["prod"]),
    )

    assert len(parse_lifecycle_policy(as_text(policy)).rules) == 2


def test_accepts_non_sequential_priorities_with_any_last() -> None:
    policy = a_policy(
        a_rule(40), a_rule(3, selection=TAGGED_PROD), a_rule(17, selection={"tagStatus": "untagged"})
    )

    parsed = parse_lifecycle_policy(as_text(policy))

    assert [rule.rulePriority for rule in parsed.rules_by_priority()] == [3, 17, 40]


def test_accepts_several_prefixes_and_several_patterns() -> None:
    policy = a_policy(
        a_rule(1, selection={"tagStatus": "tagged", "tagPrefixList": ["alpha", "beta"]}),
        a_rule(2, selection={"tagStatus": "tagged", "tagPatternList": ["*a*b*c*d", "release-*"]}),
    )

    assert len(parse_lifecycle_policy(as_text(policy)).rules) == 2


@pytest.mark.parametrize(
    "selection",
    [
        {"countType": "imageCountMoreThan", "countUnit": OMIT, "countNumber": 1},
        {"countType": "sinceImagePushed", "countNumber": 1},
        {"countType": "sinceImagePulled", "countNumber": 90},
    ],
    ids=["imageCountMoreThan", "sinceImagePushed", "sinceImagePulled"],
)
def test_accepts_transition_with_the_standard_count_types(selection: dict[str, Any]) -> None:
    policy = a_policy(a_rule(1, selection=selection | {"storageClass": "standard"}, action=transition()))

    assert parse_lifecycle_policy(as_text(policy)).rules[0].selection.storageClass == "standard"


def test_accepts_90_days_in_archive_before_expiry() -> None:
    policy = parse_lifecycle_policy(as_text(a_policy(archive_expiry_rule(1, countNumber=90))))

    assert policy.rules[0].selection.countNumber == 90


def test_accepts_exactly_50_rules() -> None:
    rules = [a_rule(p, selection={"tagStatus": "tagged", "tagPrefixList": [f"t{p}-"]}) for p in range(1, 51)]

    assert len(parse_lifecycle_policy(as_text(a_policy(*rules))).rules) == 50


def test_checks_the_content_of_a_100_character_text() -> None:
    # Given a text exactly at the length floor (no valid policy is that short)
    text = '{"rules": []}'.ljust(100)

    message = rejection_of(text)

    assert "at least one rule" in message


def test_accepts_text_of_30720_characters() -> None:
    text = json.dumps(a_policy(a_rule(1, description="")), separators=(",", ":"))
    padding = 30_720 - len(text)
    padded = text.replace('"description":""', '"description":"' + "d" * padding + '"')
    assert len(padded) == 30_720

    assert parse_lifecycle_policy(padded).rules[0].description == "d" * padding


def test_does_not_apply_the_text_length_limit_to_a_decoded_policy() -> None:
    # Given an already-decoded policy with a description longer than any policy text may be
    policy = a_policy(a_rule(1, description="d" * 30_720))

    assert parse_lifecycle_policy(policy).rules[0].rulePriority == 1


def test_round_trips_with_camel_case_names_and_lowercase_values() -> None:
    policy = parse_lifecycle_policy(aws_examples.COMBINED_ARCHIVE_THEN_EXPIRE)

    dumped = policy.model_dump(mode="json", exclude_none=True)

    assert dumped == json.loads(aws_examples.COMBINED_ARCHIVE_THEN_EXPIRE)


# --- canonical text and hash ---------------------------------------------------------------------


def test_canonical_text_ignores_layout_key_order_and_rule_order() -> None:
    original = json.loads(aws_examples.COMBINED_ARCHIVE_THEN_EXPIRE)
    reordered = {"rules": [dict(reversed(rule.items())) for rule in reversed(original["rules"])]}

    assert policy_hash(json.dumps(reordered)) == policy_hash(aws_examples.COMBINED_ARCHIVE_THEN_EXPIRE)


def test_canonical_text_is_compact_sorted_and_reparses_to_the_same_policy() -> None:
    policy = parse_lifecycle_policy(aws_examples.ARCHIVE_PROD_OLDER_THAN_30_DAYS)

    text = canonical_policy_text(policy)

    assert text.startswith('{"rules":[{"action":{"targetStorageClass":"archive","type":"transition"},')
    assert " " not in text.replace("Archive production images older than 30 days", "")
    assert LifecyclePolicy.model_validate_json(text) == policy


def test_hash_changes_when_a_rule_changes() -> None:
    changed = aws_examples.ARCHIVE_NOT_PULLED_90_DAYS.replace('"countNumber": 90', '"countNumber": 91')

    assert policy_hash(changed) != policy_hash(aws_examples.ARCHIVE_NOT_PULLED_90_DAYS)


def test_hash_is_sha256_hex_of_the_canonical_text() -> None:
    import hashlib

    policy = parse_lifecycle_policy(aws_examples.ARCHIVE_NOT_PULLED_90_DAYS)
    expected = hashlib.sha256(canonical_policy_text(policy).encode()).hexdigest()

    assert policy_hash(aws_examples.ARCHIVE_NOT_PULLED_90_DAYS) == expected
    assert policy_hash(policy) == expected
