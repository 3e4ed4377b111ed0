"""Foundation invariants of template.yaml, the SAM transform, and cfn-lint."""

from __future__ import annotations

import copy
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from samtranslator.public.translator import ManagedPolicyLoader
from samtranslator.translator.transform import transform

from tests.template.conftest import ROOT, TEMPLATE_PATH, CfnLoader, load_template
from tests.template.invariants import FUNCTION_DIRS, foundation_violations

PLACEHOLDER_S3 = "s3://ecr-archiver-placeholder/artifact.zip"


def test_template_satisfies_foundation_invariants(template: dict[str, Any]) -> None:
    assert foundation_violations(template) == []


def test_invariant_checks_catch_a_broken_template(template: dict[str, Any], tmp_path: Path) -> None:
    # Given a template that breaks several invariants
    broken = copy.deepcopy(template)
    broken["Globals"]["Function"]["Runtime"] = "python3.12"
    broken["Globals"]["Function"]["Architectures"] = ["x86_64"]
    broken["Parameters"]["DryRun"]["Default"] = "false"
    broken["Resources"]["Loose"] = {"Type": "AWS::SQS::Queue", "Properties": {"QueueName": "fixed"}}
    # When checked, then each is reported
    problems = foundation_violations(broken)
    assert "Globals.Function.Runtime must be python3.13" in problems
    assert "Globals.Function.Architectures must be [arm64]" in problems
    assert "Parameter DryRun must default to 'true'" in problems
    assert "Loose: hard-coded physical name QueueName" in problems


def test_every_function_folder_has_a_handler() -> None:
    for name in FUNCTION_DIRS:
        app = ROOT / "functions" / name / "app.py"
        assert app.is_file(), f"functions/{name}/app.py is missing"
        assert "def lambda_handler(event" in app.read_text()


def test_every_function_resource_points_at_a_function_folder(template: dict[str, Any]) -> None:
    code_uris = {
        r["Properties"]["CodeUri"]
        for r in template["Resources"].values()
        if r["Type"] == "AWS::Serverless::Function"
    }
    assert code_uris <= {f"functions/{n}" for n in FUNCTION_DIRS}


def _with_placeholder_artifacts(template: dict[str, Any]) -> dict[str, Any]:
    t = copy.deepcopy(template)
    for res in t["Resources"].values():
        props = res.get("Properties", {})
        for key in ("CodeUri", "ContentUri"):
            if key in props:
                props[key] = PLACEHOLDER_S3
        if res["Type"] == "AWS::Serverless::Api" and isinstance(props.get("DefinitionUri"), str):
            props["DefinitionUri"] = PLACEHOLDER_S3
    return t


class _OfflinePolicyLoader(ManagedPolicyLoader):
    """The translator asks IAM for managed-policy ARNs; answer offline."""

    def __init__(self) -> None:
        pass

    def load(self) -> dict[str, str]:
        return {}


def sam_transform(template: dict[str, Any]) -> dict[str, Any]:
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    return transform(_with_placeholder_artifacts(template), {}, _OfflinePolicyLoader())


def test_sam_translator_transforms_the_template_offline(template: dict[str, Any]) -> None:
    cfn = sam_transform(template)
    types = {r["Type"] for r in cfn["Resources"].values()}
    assert "AWS::Lambda::LayerVersion" in types
    assert not any(t.startswith("AWS::Serverless::") for t in types)
    for res in cfn["Resources"].values():
        if res["Type"] == "AWS::Lambda::Function":
            assert res["Properties"]["Runtime"] == "python3.13"
            assert res["Properties"]["Architectures"] == ["arm64"]
            assert res["Properties"]["TracingConfig"] == {"Mode": "Active"}


def test_sam_translator_rejects_a_broken_template(template: dict[str, Any]) -> None:
    from samtranslator.model.exceptions import InvalidDocumentException

    broken = copy.deepcopy(template)
    broken["Resources"]["CoreLayer"]["Properties"].pop("ContentUri")
    with pytest.raises(InvalidDocumentException):
        sam_transform(broken)


def _cfn_lint(path: Path) -> subprocess.CompletedProcess[str]:
    exe = shutil.which("cfn-lint") or str(Path(sys.executable).parent / "cfn-lint")
    return subprocess.run(
        [exe, "--format", "parseable", str(path)], capture_output=True, text=True, check=False
    )


def test_cfn_lint_is_clean() -> None:
    result = _cfn_lint(TEMPLATE_PATH)
    assert result.returncode == 0, result.stdout + result.stderr


def test_cfn_lint_fails_on_a_broken_template(tmp_path: Path) -> None:
    broken = load_template()
    broken["Resources"]["AlarmTopic"]["Properties"]["KmsMasterKeyId"] = {"Ref": "NoSuchKey"}
    path = tmp_path / "broken.yaml"
    path.write_text(json.dumps(broken))
    result = _cfn_lint(path)
    assert result.returncode != 0
    assert "NoSuchKey" in result.stdout


def test_sam_validate_lint_is_clean() -> None:
    exe = shutil.which("sam") or str(Path(sys.executable).parent / "sam")
    result = subprocess.run(
        [exe, "validate", "--lint", "--template-file", str(TEMPLATE_PATH)],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "SAM_CLI_TELEMETRY": "0", "AWS_DEFAULT_REGION": "us-east-1"},
        cwd=ROOT,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_samconfig_has_default_and_prod_environments() -> None:
    import tomllib

    cfg = tomllib.loads((ROOT / "samconfig.toml").read_text())
    for env in ("default", "prod"):
        deploy = cfg[env]["deploy"]["parameters"]
        # nested applications (templates/*.yaml) need CAPABILITY_AUTO_EXPAND
        assert deploy["capabilities"] == "CAPABILITY_IAM CAPABILITY_AUTO_EXPAND"
        assert deploy["confirm_changeset"] is True
        assert deploy["resolve_s3"] is True
        assert "region" not in deploy
    assert cfg["default"]["global"]["parameters"]["stack_name"] == "ecr-archiver"


def test_template_yaml_is_plain_yaml_with_cfn_tags() -> None:
    # the loader is what every template test relies on: prove it maps short-form tags
    doc = yaml.load("a: !Ref X\nb: !GetAtt R.Arn\nc: !Sub 'x-${Y}'", Loader=CfnLoader)
    assert doc == {"a": {"Ref": "X"}, "b": {"Fn::GetAtt": ["R", "Arn"]}, "c": {"Fn::Sub": "x-${Y}"}}


def test_nested_applications_share_the_main_templates_function_globals(main_template: dict[str, Any]) -> None:
    from tests.template.conftest import nested_applications

    for app, location in nested_applications(main_template).items():
        nested = load_template(location)
        if not any(r["Type"] == "AWS::Serverless::Function" for r in nested["Resources"].values()):
            continue
        assert nested["Globals"] == main_template["Globals"], f"{app}: {location.name} Globals drifted"
