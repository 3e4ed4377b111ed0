"""Scheduled archiving end to end: plan_archive → SQS → archive_images, on the emulator."""

from __future__ import annotations

import json
from datetime import timedelta

import boto3
import pytest
from moto.ec2.utils import generate_instance_identity_document

from tests.integration.archiving.conftest import ACCOUNT, HOST, REGION, Stack

pytestmark = pytest.mark.usefixtures("stack")

MUTATING_ECR_CALLS = (
    "UpdateImageStorageClass",
    "BatchDeleteImage",
    "PutLifecyclePolicy",
    "DeleteLifecyclePolicy",
    "PutImage",
    "PutImageTagMutability",
)


def test_a_dry_run_mutates_nothing(stack: Stack):
    # Given old, unprotected images and a configuration asking for a dry run
    digests = [stack.old_image("team-a/api", f"v{n}") for n in range(3)]
    stack.config(dryRun=True)
    stack.emulator.reset_calls()
    # When a whole run is planned and worked
    stack.plan()
    stack.work_all()
    # Then no mutating call reached ECR, the images stay ACTIVE, and the report says WOULD_ARCHIVE
    assert {op: stack.emulator.calls[op] for op in MUTATING_ECR_CALLS} == dict.fromkeys(MUTATING_ECR_CALLS, 0)
    assert stack.emulator.calls["BatchGetImage"] == 0
    assert {stack.emulator.image_status("team-a/api", d) for d in digests} == {"ACTIVE"}
    assert {stack.outcome("team-a/api", d)[0] for d in digests} == {"WOULD_ARCHIVE"}


def test_the_template_dry_run_wins_over_a_config_asking_for_real(stack: Stack):
    digest = stack.old_image("team-a/api", "v1")
    stack.config(dryRun=False)
    stack.monkeypatch.setenv("DRY_RUN", "true")
    stack.plan()
    stack.work_all()
    assert stack.emulator.image_status("team-a/api", digest) == "ACTIVE"
    assert stack.emulator.calls["UpdateImageStorageClass"] == 0


def test_a_real_run_archives_old_unprotected_images_and_never_pulls(stack: Stack):
    digest = stack.old_image("team-a/api", "v1")
    stack.config(dryRun=False)
    stack.plan()
    stack.work_all()
    assert stack.emulator.image_status("team-a/api", digest) == "ARCHIVED"
    assert stack.outcome("team-a/api", digest) == ("ARCHIVED", None)
    assert stack.emulator.calls["BatchGetImage"] == 0


def test_a_protected_tag_is_never_archived(stack: Stack):
    protected = stack.old_image("team-a/api", "prod-2024")
    latest = stack.old_image("team-a/api", "latest")
    other = stack.old_image("team-a/api", "feature-x")
    stack.config(dryRun=False, protect={"tagPatterns": ["latest", "prod-*"]})
    stack.plan()
    stack.work_all()
    assert stack.emulator.image_status("team-a/api", protected) == "ACTIVE"
    assert stack.emulator.image_status("team-a/api", latest) == "ACTIVE"
    assert stack.emulator.image_status("team-a/api", other) == "ARCHIVED"
    assert stack.outcome("team-a/api", protected) == ("SKIPPED", "PROTECTED_TAG")


def test_an_image_an_ecs_task_references_only_by_digest_is_never_archived(stack: Stack):
    # Given an untagged old image that a running ECS task uses by digest
    in_use = stack.old_image("team-a/api")
    unused = stack.old_image("team-a/api")
    ecs = boto3.client("ecs", region_name=REGION)
    ecs.create_cluster(clusterName="prod")
    instance = boto3.resource("ec2", region_name=REGION).create_instances(
        ImageId="ami-12c6146b", MinCount=1, MaxCount=1
    )[0]
    ecs.register_container_instance(
        cluster="prod", instanceIdentityDocument=json.dumps(generate_instance_identity_document(instance))
    )
    ecs.register_task_definition(
        family="api",
        containerDefinitions=[{"name": "api", "image": f"{HOST}/team-a/api@{in_use}", "memory": 128}],
    )
    ecs.run_task(cluster="prod", taskDefinition="api", launchType="EC2")
    stack.config(dryRun=False)
    # When a run is planned and worked
    stack.plan()
    stack.work_all()
    # Then the digest-referenced image stays ACTIVE while the unused one is archived
    assert stack.emulator.image_status("team-a/api", in_use) == "ACTIVE"
    assert stack.outcome("team-a/api", in_use) == ("SKIPPED", "IN_USE_DIGEST")
    assert stack.emulator.image_status("team-a/api", unused) == "ARCHIVED"


def test_an_image_behind_a_lambda_alias_is_never_archived(stack: Stack):
    # Given a function whose alias "live" points at version 1 (image v1) while $LATEST runs v2;
    # moto resolves each version's image digest through ECR (the repository name must be flat)
    stack.monkeypatch.setenv("MOTO_LAMBDA_STUB_ECR", "false")
    behind_alias = stack.old_image("fnapp", "v1")
    latest = stack.old_image("fnapp", "v2")
    unused = stack.old_image("fnapp", "v0")
    iam = boto3.client("iam", region_name=REGION)
    role = iam.create_role(
        RoleName="fn", AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": []})
    )["Role"]["Arn"]
    lam = boto3.client("lambda", region_name=REGION)
    lam.create_function(
        FunctionName="fn", Role=role, PackageType="Image", Code={"ImageUri": f"{HOST}/fnapp:v1"}
    )
    version = lam.publish_version(FunctionName="fn")["Version"]
    lam.create_alias(FunctionName="fn", Name="live", FunctionVersion=version)
    lam.update_function_code(FunctionName="fn", ImageUri=f"{HOST}/fnapp:v2")
    # And the tag v1 moved away, so only the alias's resolved digest still points at the image
    stack.old_image("fnapp", "v1")
    stack.config(dryRun=False)
    # When a run is planned and worked
    stack.plan()
    stack.work_all()
    # Then the alias's image and $LATEST's stay ACTIVE, and the unused one is archived
    assert stack.emulator.image_status("fnapp", behind_alias) == "ACTIVE"
    assert stack.outcome("fnapp", behind_alias) == ("SKIPPED", "IN_USE_DIGEST")
    assert stack.emulator.image_status("fnapp", latest) == "ACTIVE"
    assert stack.emulator.image_status("fnapp", unused) == "ARCHIVED"


def test_a_referrer_artifact_is_left_to_follow_its_subject(stack: Stack):
    subject = stack.old_image("team-a/api", "v1")
    signature = stack.emulator.push_signature("team-a/api", subject)
    stack.emulator.set_image_times(
        "team-a/api", signature, pushed_at=stack.emulator.clock.now().replace(year=2020)
    )
    stack.config(dryRun=False)
    stack.plan()
    stack.work_all()
    assert stack.emulator.image_status("team-a/api", signature) == "ACTIVE"
    assert stack.emulator.image_status("team-a/api", subject) == "ARCHIVED"


def test_a_preview_started_by_someone_else_with_another_policy_triggers_a_restart(stack: Stack):
    # Given our run planned, then someone else previewing another policy on the same repository
    digest = stack.old_image("team-a/api", "v1")
    stack.config(dryRun=False)
    stack.plan()
    other = {
        "rules": [
            {
                "rulePriority": 1,
                "selection": {"tagStatus": "any", "countType": "imageCountMoreThan", "countNumber": 50},
                "action": {"type": "expire"},
            }
        ]
    }
    stack.ecr.start_lifecycle_policy_preview(
        repositoryName="team-a/api", lifecyclePolicyText=json.dumps(other)
    )
    stack.emulator.reset_calls()
    # When the worker reads the preview
    first = stack.work_once()
    # Then it restarts ours and asks to be retried; the retry archives with our policy
    assert first is not None
    assert first["batchItemFailures"]
    assert stack.emulator.calls["StartLifecyclePolicyPreview"] == 1
    assert stack.emulator.image_status("team-a/api", digest) == "ACTIVE"
    stack.work_all()
    assert stack.emulator.image_status("team-a/api", digest) == "ARCHIVED"


def test_a_preview_still_in_progress_is_retried(stack: Stack):
    from datetime import timedelta

    digest = stack.old_image("team-a/api", "v1")
    stack.emulator.settings.preview_in_progress_for = timedelta(minutes=5)
    stack.config(dryRun=False)
    stack.plan()
    first = stack.work_once()
    assert first is not None
    assert first["batchItemFailures"]
    assert stack.emulator.image_status("team-a/api", digest) == "ACTIVE"
    stack.emulator.clock.advance(timedelta(minutes=6))
    stack.work_all()
    assert stack.emulator.image_status("team-a/api", digest) == "ARCHIVED"


def test_an_image_deleted_between_preview_and_archive_is_skipped(stack: Stack):
    gone = stack.old_image("team-a/api", "v1")
    kept = stack.old_image("team-a/api", "v2")
    stack.config(dryRun=False)
    stack.plan()
    stack.ecr.batch_delete_image(repositoryName="team-a/api", imageIds=[{"imageDigest": gone}])
    stack.work_all()
    assert stack.outcome("team-a/api", gone) == ("SKIPPED", "IMAGE_NOT_FOUND")
    assert stack.emulator.image_status("team-a/api", kept) == "ARCHIVED"
    assert not stack.failures


def test_an_image_gone_when_the_archive_call_lands_is_skipped_not_failed(stack: Stack):
    digest = stack.old_image("team-a/api", "v1")
    stack.config(dryRun=False)
    stack.plan()
    stack.emulator.faults.set("UpdateImageStorageClass", error_code="ImageNotFoundException", count=1)
    stack.work_all()
    assert stack.outcome("team-a/api", digest) == ("SKIPPED", "IMAGE_NOT_FOUND")


def test_a_continuation_across_two_invocations_archives_every_candidate_exactly_once(stack: Stack):
    # Given 230 old images: three preview pages
    digests = [stack.old_image("team-a/api") for _ in range(230)]
    stack.config(dryRun=False)
    stack.plan()
    # When the first invocation's time budget runs out part-way (5 s margin, 10 ms per check)
    first = stack.work_once(remaining_ms=5_000 + 150 * 10, per_call_ms=10)
    archived_first = stack.emulator.calls["UpdateImageStorageClass"]
    # Then it handed the rest on in a continuation message
    assert first is not None
    assert not first["batchItemFailures"]
    assert 0 < archived_first < 230
    # And the continuation archives the rest: every candidate once, no call wasted on a repeat
    assert stack.work_all() == 1
    assert {stack.emulator.image_status("team-a/api", d) for d in digests} == {"ARCHIVED"}
    assert stack.emulator.calls["UpdateImageStorageClass"] == 230
    records = stack.records("team-a/api")
    assert sorted(r["digest"] for r in records) == sorted(digests)
    assert {r["outcome"] for r in records} == {"ARCHIVED"}


def test_invalid_config_stops_the_run_with_no_mutation(stack: Stack, capsys: pytest.CaptureFixture[str]):
    # Given an old image and a configuration with an unknown field
    digest = stack.old_image("team-a/api", "v1")
    stack.config(dryRun=False, protekt={"tagPatterns": []})
    stack.emulator.reset_calls()
    # When the planner runs, Then it fails naming the field, before any ECR call or message
    from ecr_archiver.errors import ConfigInvalid

    with pytest.raises(ConfigInvalid, match="protekt"):
        stack.plan()
    emf = [json.loads(line) for line in capsys.readouterr().out.splitlines() if '"_aws"' in line]
    assert any(blob.get("ConfigInvalid") == [1.0] for blob in emf)
    assert sum(stack.emulator.calls[op] for op in stack.emulator.calls if ":" not in op) == 0
    assert stack.work_all() == 0
    assert stack.emulator.image_status("team-a/api", digest) == "ACTIVE"


def test_a_lifecycle_rule_ecr_would_reject_stops_the_run_with_no_mutation(stack: Stack):
    digest = stack.old_image("team-a/api", "v1")
    bad = {
        "rules": [
            {
                "rulePriority": 1,
                "selection": {
                    "tagStatus": "any",
                    "countType": "sinceImagePulled",
                    "countUnit": "days",
                    "countNumber": 1,
                },
                "action": {"type": "expire"},
            }
        ]
    }
    stack.config(dryRun=False, repositories=[{"include": ["*"], "lifecyclePolicy": bad}])
    with pytest.raises(Exception, match=r"repositories\[0\]\.lifecyclePolicy"):
        stack.plan()
    assert stack.emulator.calls["StartLifecyclePolicyPreview"] == 0
    assert stack.emulator.image_status("team-a/api", digest) == "ACTIVE"


def test_each_repository_gets_one_summary_report(stack: Stack):
    stack.old_image("team-a/api", "v1")
    stack.old_image("team-b/web", "v1")
    stack.config(dryRun=True)
    planned = stack.plan()
    assert sorted(p["repository"] for p in planned["planned"]) == ["team-a/api", "team-b/web"]
    stack.work_all()
    keys = [o["Key"] for o in stack.s3.list_objects_v2(Bucket=stack.bucket).get("Contents", [])]
    reports = sorted(k for k in keys if k.endswith("report.json"))
    assert len(reports) == 2
    report = json.loads(stack.s3.get_object(Bucket=stack.bucket, Key=reports[0])["Body"].read())
    assert report["status"] == "COMPLETE"
    assert report["totals"]["wouldArchive"] == 1
    assert report["dryRun"] is True
    assert ACCOUNT  # the emulator's account owns every resource above


def test_an_image_in_use_in_another_account_is_protected_through_a_configured_role(stack: Stack):
    # Given a service in account 111122223333 deploying our image by digest, and a reader role there
    in_use = stack.old_image("team-a/api")
    role_arn = "arn:aws:iam::111122223333:role/ecr-archiver-inuse-reader"
    creds = boto3.client("sts", region_name=REGION).assume_role(RoleArn=role_arn, RoleSessionName="setup")
    other = boto3.client(
        "ecs",
        region_name=REGION,
        aws_access_key_id=creds["Credentials"]["AccessKeyId"],
        aws_secret_access_key=creds["Credentials"]["SecretAccessKey"],
        aws_session_token=creds["Credentials"]["SessionToken"],
    )
    other.register_task_definition(
        family="consumer",
        containerDefinitions=[{"name": "c", "image": f"{HOST}/team-a/api@{in_use}", "memory": 128}],
    )
    other.create_cluster(clusterName="shared")
    other.create_service(cluster="shared", serviceName="consumer", taskDefinition="consumer", desiredCount=0)
    stack.config(dryRun=False, protect={"inUse": {"ecs": True, "lambda": False, "roleArns": [role_arn]}})
    # When a run is planned and worked
    stack.plan()
    stack.work_all()
    # Then the other account's use protects the image
    assert stack.emulator.image_status("team-a/api", in_use) == "ACTIVE"
    assert stack.outcome("team-a/api", in_use) == ("SKIPPED", "IN_USE_DIGEST")


def test_an_image_in_use_in_another_region_is_protected_when_that_region_is_configured(stack: Stack):
    # Given a service in eu-west-1 deploying our us-east-1 image by tag
    in_use = stack.old_image("team-a/api", ["v3"])
    other = boto3.client("ecs", region_name="eu-west-1")
    other.register_task_definition(
        family="eu", containerDefinitions=[{"name": "c", "image": f"{HOST}/team-a/api:v3", "memory": 128}]
    )
    other.create_cluster(clusterName="eu")
    other.create_service(cluster="eu", serviceName="eu", taskDefinition="eu", desiredCount=0)
    stack.config(
        dryRun=False, protect={"inUse": {"ecs": True, "lambda": False, "regions": [REGION, "eu-west-1"]}}
    )
    # When a run is planned and worked
    stack.plan()
    stack.work_all()
    # Then the other region's use protects the image
    assert stack.emulator.image_status("team-a/api", in_use) == "ACTIVE"
    assert stack.outcome("team-a/api", in_use) == ("SKIPPED", "IN_USE_TAG")


def test_the_platform_images_of_an_in_use_index_are_not_archived(stack: Stack):
    # Given an old multi-arch index, tagged v1, that an ECS service deploys by tag
    index, children = stack.emulator.push_index(
        "team-a/multi", "v1", pushed_at=stack.emulator.clock.now() - timedelta(days=200)
    )
    ecs = boto3.client("ecs", region_name=REGION)
    ecs.register_task_definition(
        family="multi",
        containerDefinitions=[{"name": "m", "image": f"{HOST}/team-a/multi:v1", "memory": 128}],
    )
    ecs.create_cluster(clusterName="prod")
    ecs.create_service(cluster="prod", serviceName="multi", taskDefinition="multi", desiredCount=0)
    stack.config(dryRun=False)
    # When a run is planned and worked
    stack.plan()
    stack.work_all()
    # Then neither the index nor any of its platform images is archived, and we decided so
    # ourselves: not one archive call was left for ECR to refuse
    assert stack.emulator.image_status("team-a/multi", index) == "ACTIVE"
    assert stack.outcome("team-a/multi", index) == ("SKIPPED", "IN_USE_TAG")
    assert {stack.emulator.image_status("team-a/multi", c) for c in children} == {"ACTIVE"}
    assert {stack.outcome("team-a/multi", c) for c in children} == {("SKIPPED", "POSSIBLE_INDEX_CHILD")}
    assert stack.emulator.calls["UpdateImageStorageClass"] == 0
