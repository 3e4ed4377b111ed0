"""SyncExclusionsSettings: the function's environment, validated at cold start."""

from __future__ import annotations

import pytest

from ecr_archiver.errors import SettingsInvalid
from ecr_archiver.exclusions.settings import SyncExclusionsSettings
from ecr_archiver.settings import load_settings

from .builders import PATH, role


def load(**env: str) -> SyncExclusionsSettings:
    return load_settings(SyncExclusionsSettings, {"EXCLUSIONS_PARAMETER_PATH": PATH, **env})


def test_only_the_path_is_required_and_dry_run_is_the_default() -> None:
    options = load().sync_options()

    assert (options.parameter_path, options.extra_principals) == (PATH, ())
    assert (options.allow_empty, options.dry_run) == (False, True)


def test_cloudformation_flags_are_parsed() -> None:
    options = load(ALLOW_EMPTY_SYNC="true", DRY_RUN="false").sync_options()

    assert (options.allow_empty, options.dry_run) == (True, False)


def test_extra_principals_are_a_comma_joined_list() -> None:
    settings = load(EXTRA_EXCLUDED_PRINCIPALS=f" {role('a')},{role('b')} ,")

    assert settings.extra_principals == (role("a"), role("b"))


def test_an_empty_comma_delimited_list_means_no_extra_principals() -> None:
    assert load(EXTRA_EXCLUDED_PRINCIPALS="").extra_principals == ()


@pytest.mark.parametrize(
    "path", ["ecr-archiver/pull-time-exclusions/", "/ecr-archiver/pull-time-exclusions", "/"]
)
def test_a_path_that_is_not_absolute_and_slash_terminated_fails_fast(path: str) -> None:
    with pytest.raises(SettingsInvalid, match="EXCLUSIONS_PARAMETER_PATH"):
        load(EXCLUSIONS_PARAMETER_PATH=path)


def test_a_missing_path_fails_fast() -> None:
    with pytest.raises(SettingsInvalid, match="EXCLUSIONS_PARAMETER_PATH"):
        load_settings(SyncExclusionsSettings, {})
