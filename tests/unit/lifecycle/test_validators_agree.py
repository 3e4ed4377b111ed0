"""The product's policy validator and the emulator's, written independently, agree.

Each one is written from AWS's documented rules on its own, so a bug in either shows up here as a
disagreement instead of being shared by the code and the emulator that is meant to test it.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from ecr_archiver.errors import LifecyclePolicyInvalid
from ecr_archiver.lifecycle import parse_lifecycle_policy
from ecr_emulator.lifecycle_policy import PolicyInvalid, parse_policy
from tests.unit.lifecycle import aws_examples
from tests.unit.lifecycle.test_policy_validation import REJECTED

# Cases where the product is knowingly stricter than what AWS documents for the service.
PRODUCT_STRICTER = {"duplicate key", "unknown top-level field", "null value"}


def product_accepts(policy: str) -> bool:
    try:
        parse_lifecycle_policy(policy)
    except LifecyclePolicyInvalid:
        return False
    return True


def emulator_accepts(policy: str) -> bool:
    try:
        parse_policy(policy)
    except PolicyInvalid:
        return False
    return True


@pytest.mark.parametrize("text", list(aws_examples.ALL.values()), ids=list(aws_examples.ALL))
def test_both_accept_every_aws_example(text: str) -> None:
    assert product_accepts(text)
    assert emulator_accepts(text)


@pytest.mark.parametrize(
    ("name", "policy"), [(n, p) for n, p, _ in REJECTED], ids=[n for n, _, _ in REJECTED]
)
def test_both_reject_what_the_product_rejects(name: str, policy: dict[str, Any]) -> None:
    text = json.dumps(policy)
    assert not product_accepts(text)
    if name not in PRODUCT_STRICTER:
        assert not emulator_accepts(text), f"the emulator accepts {name!r}: {text}"
