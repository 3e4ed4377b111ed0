"""The desired set: parsing parameter values and validating principal ARNs."""

from __future__ import annotations

import pytest

from ecr_archiver.adapters.ssm import StoredParameter
from ecr_archiver.exclusions.logic import desired_exclusions, principal_problem, split_principals
from ecr_archiver.exclusions.models import EXTRA_PRINCIPALS_SOURCE

from .builders import PATH, role, user


def param(name: str, value: str, type_: str = "String") -> StoredParameter:
    return StoredParameter(name=f"{PATH}{name}", type=type_, value=value)


class TestSplitPrincipals:
    def test_string_list_values_are_split_on_commas(self) -> None:
        assert split_principals(f"{role('a')},{role('b')}") == [role("a"), role("b")]

    def test_values_are_split_on_newlines_too(self) -> None:
        assert split_principals(f"{role('a')}\n{role('b')}\r\n{role('c')}") == [role(x) for x in "abc"]

    def test_whitespace_and_empty_items_are_dropped(self) -> None:
        assert split_principals(f"  {role('a')} ,, \n ,{role('b')}  ,") == [role("a"), role("b")]


class TestPrincipalProblem:
    @pytest.mark.parametrize(
        "arn",
        [
            role("scanner"),
            user("ci-bot"),
            "arn:aws:iam::123456789012:role/security/scanners/snyk",
            "arn:aws-cn:iam::123456789012:role/trivy",
            "arn:aws-us-gov:iam::123456789012:role/crowdstrike+=,.@-_",
        ],
    )
    def test_iam_role_and_user_arns_are_valid(self, arn: str) -> None:
        assert principal_problem(arn) is None

    @pytest.mark.parametrize(
        ("value", "hint"),
        [
            ("arn:aws:sts::123456789012:assumed-role/scanner/session-1", "assumed-role"),
            ("arn:aws:iam::123456789012:root", "root"),
            ("snyk-scanner", "not an ARN"),
            ("arn:aws:iam::12345:role/short-account", "IAM role or user"),
            ("arn:aws:iam::123456789012:group/admins", "IAM role or user"),
            ("arn:aws:iam::123456789012:role/", "IAM role or user"),
            ("arn:aws:iam::123456789012:role/caf\u00e9", "IAM role or user"),
        ],
    )
    def test_other_values_are_invalid_with_a_reason(self, value: str, hint: str) -> None:
        problem = principal_problem(value)
        assert problem is not None
        assert hint in problem

    def test_the_200_character_limit_is_inclusive(self) -> None:
        prefix = role("")
        assert principal_problem(prefix + "r" * (200 - len(prefix))) is None
        too_long = principal_problem(prefix + "r" * (201 - len(prefix)))
        assert too_long is not None
        assert "200 characters" in too_long


class TestDesiredExclusions:
    def test_is_the_union_of_every_parameter_deduplicated(self) -> None:
        desired = desired_exclusions(
            [
                param("team-a", f"{role('snyk')},{role('trivy')}", "StringList"),
                param("team-b", f"{role('trivy')}\n{role('ci')}"),
            ]
        )

        assert list(desired.principals) == [role("ci"), role("snyk"), role("trivy")]
        assert desired.principals[role("trivy")] == (f"{PATH}team-a", f"{PATH}team-b")

    def test_extra_principals_are_added_with_their_source(self) -> None:
        desired = desired_exclusions([param("team-a", role("snyk"))], extra=[role("archiver")])

        assert desired.principals[role("archiver")] == (EXTRA_PRINCIPALS_SOURCE,)
        assert desired.from_parameters == 1

    def test_each_invalid_value_is_named_with_its_parameter(self) -> None:
        assumed = "arn:aws:sts::123456789012:assumed-role/scanner/s1"
        desired = desired_exclusions(
            [param("team-a", f"{role('ok')},{assumed}"), param("team-b", "not-an-arn")],
            extra=["arn:aws:iam::123456789012:root"],
        )

        assert [(i.value, i.source) for i in desired.invalid] == [
            (assumed, f"{PATH}team-a"),
            ("not-an-arn", f"{PATH}team-b"),
            ("arn:aws:iam::123456789012:root", EXTRA_PRINCIPALS_SOURCE),
        ]
        assert list(desired.principals) == [role("ok")]

    def test_a_secure_string_is_invalid_and_its_value_is_not_echoed(self) -> None:
        desired = desired_exclusions([param("secret", "kms-ciphertext-or-whatever", "SecureString")])

        (invalid,) = desired.invalid
        assert invalid.source == f"{PATH}secret"
        assert invalid.value == "<SecureString>"
        assert "SecureString" in invalid.problem
