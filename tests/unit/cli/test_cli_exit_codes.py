"""Exit codes are named in one place, and their numbers never change (scripts depend on them)."""

from __future__ import annotations

import pytest
from pydantic import BaseModel

from ecr_archiver import errors
from ecr_archiver.cli.exit_codes import ExitCode
from ecr_archiver.cli.failures import CliFailure, failure_for


def test_the_numbers_are_the_documented_ones():
    assert {code.name: int(code) for code in ExitCode} == {
        "OK": 0,
        "UNEXPECTED": 1,
        "USAGE": 2,
        "INVALID": 3,
        "AWS": 4,
        "PARTIAL": 5,
        "TIMEOUT": 6,
        "PENDING": 7,
    }
    assert ExitCode.ABORTED == 1


def test_a_failure_exits_with_a_plain_int():
    failure = CliFailure("nope", ExitCode.TIMEOUT)
    assert failure.exit_code == 6
    assert type(failure.exit_code) is int


@pytest.mark.parametrize(
    ("exc", "code"),
    [
        (errors.ConfigInvalid("bad"), ExitCode.INVALID),
        (errors.AwsServiceError("refused"), ExitCode.AWS),
        (ValueError("bad value"), ExitCode.INVALID),
        (FileNotFoundError(2, "No such file", "x.json"), ExitCode.INVALID),
    ],
)
def test_user_errors_map_to_their_exit_code(exc: Exception, code: ExitCode):
    failure = failure_for(exc)
    assert failure is not None
    assert failure.exit_code == code


def test_a_validation_error_names_the_field():
    class Model(BaseModel):
        size: int

    try:
        Model.model_validate({"size": "big"})
    except Exception as exc:
        failure = failure_for(exc)
    assert failure is not None
    assert failure.exit_code == ExitCode.INVALID
    assert failure.format_message().startswith("invalid size 'big':")


def test_a_bug_is_not_a_user_error():
    assert failure_for(KeyError("x")) is None
