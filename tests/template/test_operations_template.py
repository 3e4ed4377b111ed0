"""The operations region of template.yaml: the dashboard shows what the code emits, and every alarm."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from tests.template.conftest import ROOT, TEMPLATE_PATH, resources_of_type

CODE = ROOT / "layers" / "core" / "ecr_archiver"
SUB_REF = re.compile(r"\$\{([^}]+)\}")


def dashboard_body(resources: dict[str, Any]) -> str:
    return str(resources["OperationsDashboard"]["Properties"]["DashboardBody"]["Fn::Sub"])


def dashboard(resources: dict[str, Any]) -> dict[str, Any]:
    """The body as CloudWatch will parse it, with every ``${...}`` replaced by a placeholder."""
    return dict(json.loads(SUB_REF.sub("placeholder", dashboard_body(resources))))


def metric_rows(resources: dict[str, Any]) -> list[list[Any]]:
    return [
        row
        for widget in dashboard(resources)["widgets"]
        if widget["type"] == "metric"
        for row in widget["properties"]["metrics"]
        if isinstance(row[0], str)
    ]


def code_text() -> str:
    return "\n".join(p.read_text() for p in CODE.rglob("*.py"))


def test_the_dashboard_and_every_alarm_live_in_the_operations_application(
    main_template: dict[str, Any],
) -> None:
    kinds = {"AWS::CloudWatch::Alarm", "AWS::CloudWatch::Dashboard"}
    assert [n for n, r in main_template["Resources"].items() if r["Type"] in kinds] == []
    app = main_template["Resources"]["OperationsApp"]
    assert app["Type"] == "AWS::Serverless::Application"
    assert app["Properties"]["Location"] == "templates/operations.yaml"


def test_the_main_template_fits_cloudformations_inline_limit() -> None:
    assert len(TEMPLATE_PATH.read_bytes()) < 51_200


def test_the_dashboard_is_valid_json_and_refers_only_to_this_stack(resources: dict[str, Any]) -> None:
    refs = {ref.split(".")[0] for ref in SUB_REF.findall(dashboard_body(resources))}
    assert refs - {"AWS::Region", "AWS::StackName"} <= set(resources)
    assert dashboard(resources)["widgets"]
    assert resources["OperationsDashboard"]["Properties"]["DashboardName"] == {
        "Fn::Sub": "${AWS::StackName}-operations"
    }


def test_every_product_metric_on_the_dashboard_is_emitted_by_the_code(resources: dict[str, Any]) -> None:
    # A renamed metric would leave a flat line on the dashboard: each name must be in the code.
    shown = {row[1] for row in metric_rows(resources) if row[0] == "ECRArchiver"}
    code = code_text()
    assert [name for name in sorted(shown) if f'"{name}"' not in code] == []


@pytest.mark.parametrize(
    "metric",
    [
        # images and bytes archived and restored
        "ImagesArchived",
        "BytesArchived",
        "RestoresRequested",
        "BytesRestored",
        # failures
        "ArchiveFailures",
        "RestoreFailures",
        "ExclusionChangesFailed",
        # preview waits, exclusion changes
        "PreviewsNotReady",
        "ExclusionsAdded",
        "ExclusionsRemoved",
        # queue and DLQ depth, functions, API
        "ApproximateNumberOfMessagesVisible",
        "ApproximateAgeOfOldestMessage",
        "Errors",
        "Throttles",
        "Duration",
        "4XXError",
        "5XXError",
        "Latency",
    ],
)
def test_the_dashboard_shows(resources: dict[str, Any], metric: str) -> None:
    assert metric in {row[1] for row in metric_rows(resources)}


def test_the_dashboard_shows_every_dead_letter_queue_and_every_function(resources: dict[str, Any]) -> None:
    body = dashboard_body(resources)
    for queue in resources_of_type(resources, "AWS::SQS::Queue"):
        assert f"${{{queue}.QueueName}}" in body, queue
    for function in resources_of_type(resources, "AWS::Serverless::Function"):
        assert body.count(f"${{{function}}}") >= 3, function  # errors, throttles, duration


def test_the_alarm_widget_lists_every_alarm(resources: dict[str, Any]) -> None:
    (widget,) = [w for w in dashboard(resources)["widgets"] if w["type"] == "alarm"]
    refs = SUB_REF.findall(dashboard_body(resources))
    listed = {ref.removesuffix(".Arn") for ref in refs if ref.endswith(".Arn")}
    assert listed == set(resources_of_type(resources, "AWS::CloudWatch::Alarm"))
    assert len(widget["properties"]["alarms"]) == len(listed)


def test_the_stack_outputs_the_dashboard(template: dict[str, Any]) -> None:
    outputs = template["Outputs"]
    assert outputs["OperationsDashboardName"]["Value"] == {"Ref": "OperationsDashboard"}
    assert "#dashboards:name=${OperationsDashboard}" in outputs["OperationsDashboardUrl"]["Value"]["Fn::Sub"]


def test_the_runbook_covers_every_alarm(resources: dict[str, Any]) -> None:
    runbook = (ROOT / "docs" / "operations.md").read_text()
    alarms = set(resources_of_type(resources, "AWS::CloudWatch::Alarm"))
    assert sorted(a for a in alarms if f"| `{a}` |" not in runbook) == []
