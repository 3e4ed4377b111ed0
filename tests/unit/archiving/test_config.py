"""The configuration contract: defaults, selection and validation."""

from __future__ import annotations

import json

import pytest

from ecr_archiver.archiving.config import DEFAULT_CONFIG, parse_config
from ecr_archiver.errors import ConfigInvalid


def test_the_default_config_is_a_dry_run_protecting_latest_and_in_use_images():
    cfg = parse_config(json.dumps(DEFAULT_CONFIG))
    assert cfg.dry_run is True
    assert cfg.protect.tag_patterns == ["latest"]
    assert (cfg.protect.in_use.ecs, cfg.protect.in_use.lambda_) == (True, True)
    rule = cfg.repositories[0].lifecycle_policy["rules"][0]  # type: ignore[index]
    assert rule["selection"]["countType"] == "sinceImagePulled"
    assert rule["selection"]["countNumber"] == 90


def test_an_empty_object_means_the_defaults():
    cfg = parse_config("{}")
    assert cfg.dry_run is True
    assert cfg.selection_for("anything") is not None
    assert cfg.protect.tag_patterns == ["latest"]


def test_the_issue_example_is_valid():
    parse_config(
        {
            "dryRun": True,
            "repositories": [
                {
                    "include": ["team-a/*"],
                    "exclude": ["team-a/keep-*"],
                    "lifecyclePolicy": DEFAULT_CONFIG["repositories"][0]["lifecyclePolicy"],
                },
                {"include": ["*"]},
            ],
            "protect": {
                "tagPatterns": ["latest", "prod-*"],
                "inUse": {"ecs": True, "lambda": True, "roleArns": ["arn:aws:iam::111122223333:role/reader"]},
                "images": ["team-a/api:1.2.3", "team-a/api@sha256:" + "a" * 64],
            },
            "maxImagesPerRun": 5000,
        }
    )


@pytest.mark.parametrize(
    ("document", "field"),
    [
        ({"protect": {"images": ["no-tag-or-digest"]}}, "protect.images"),
        ({"protect": {"inUse": {"roleArns": ["not-an-arn"]}}}, "protect.inUse.roleArns[0]"),
        ({"repositories": []}, "repositories"),
        ({"repositories": [{"exclude": ["x"]}]}, "repositories[0].include"),
    ],
)
def test_errors_name_the_field(document, field):
    with pytest.raises(ConfigInvalid) as caught:
        parse_config(document)
    assert field in caught.value.message


def test_a_repository_excluded_by_the_first_entry_can_be_selected_by_a_later_one():
    cfg = parse_config({"repositories": [{"include": ["a/*"], "exclude": ["a/keep"]}, {"include": ["*"]}]})
    assert cfg.selection_for("a/keep") is cfg.repositories[1]
    assert cfg.selection_for("a/x") is cfg.repositories[0]


def test_a_repository_no_entry_includes_is_not_selected():
    cfg = parse_config({"repositories": [{"include": ["team-a/*"]}]})
    assert cfg.selection_for("team-b/web") is None


def test_workers_share_the_account_wide_archive_rate():
    from ecr_archiver.archiving.settings import WorkerSettings
    from ecr_archiver.settings import load_settings

    env = {"WORK_QUEUE_URL": "q", "REPORT_BUCKET": "bucket", "ARCHIVE_MAX_TPS": "20"}
    assert load_settings(WorkerSettings, env).instance_max_tps == 20
    assert load_settings(WorkerSettings, {**env, "WORKER_MAX_CONCURRENCY": "4"}).instance_max_tps == 5


def test_the_shared_rate_schedule_needs_the_registry_it_belongs_to():
    import pytest

    from ecr_archiver.archiving.settings import WorkerSettings
    from ecr_archiver.errors import SettingsInvalid
    from ecr_archiver.settings import load_settings

    env = {"WORK_QUEUE_URL": "q", "REPORT_BUCKET": "bucket", "STATE_TABLE_NAME": "state"}
    with pytest.raises(SettingsInvalid, match="REGISTRY_ID"):
        load_settings(WorkerSettings, env)
    settings = load_settings(WorkerSettings, {**env, "REGISTRY_ID": "123456789012"})
    assert settings.shared_rate
    assert not load_settings(WorkerSettings, {"WORK_QUEUE_URL": "q", "REPORT_BUCKET": "bucket"}).shared_rate


def test_a_worker_keeps_enough_calls_in_flight_to_reach_the_whole_rate_alone():
    from ecr_archiver.archiving.settings import WorkerSettings
    from ecr_archiver.settings import load_settings

    env = {
        "WORK_QUEUE_URL": "q",
        "REPORT_BUCKET": "bucket",
        "STATE_TABLE_NAME": "state",
        "REGISTRY_ID": "1" * 12,
    }
    assert load_settings(WorkerSettings, {**env, "ARCHIVE_MAX_TPS": "20"}).archive_threads == 8
    assert load_settings(WorkerSettings, {**env, "ARCHIVE_MAX_TPS": "100"}).archive_threads == 20
    assert load_settings(WorkerSettings, {**env, "ARCHIVE_MAX_TPS": "1000"}).archive_threads == 64
