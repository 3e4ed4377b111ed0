"""Template invariants as functions returning violations, so a test can prove they can fail."""

from __future__ import annotations

from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
FUNCTION_DIRS = ("plan_archive", "archive_images", "restore_api", "sync_exclusions")
PHYSICAL_NAME_PROPS = {
    "AWS::Serverless::Function": "FunctionName",
    "AWS::Lambda::Function": "FunctionName",
    "AWS::SQS::Queue": "QueueName",
    "AWS::S3::Bucket": "BucketName",
    "AWS::SNS::Topic": "TopicName",
    "AWS::IAM::Role": "RoleName",
    "AWS::DynamoDB::Table": "TableName",
}


def functions(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {n: r for n, r in template["Resources"].items() if r["Type"] == "AWS::Serverless::Function"}


def foundation_violations(template: dict[str, Any], root: Path = ROOT) -> list[str]:
    """Everything the foundation promises about template.yaml."""
    out: list[str] = []
    glob = template.get("Globals", {}).get("Function", {})
    if glob.get("Runtime") != "python3.13":
        out.append("Globals.Function.Runtime must be python3.13")
    if glob.get("Architectures") != ["arm64"]:
        out.append("Globals.Function.Architectures must be [arm64]")
    if glob.get("Tracing") != "Active":
        out.append("Globals.Function.Tracing must be Active")
    env = glob.get("Environment", {}).get("Variables", {})
    for var in ("POWERTOOLS_SERVICE_NAME", "POWERTOOLS_METRICS_NAMESPACE", "POWERTOOLS_LOG_LEVEL"):
        if var not in env:
            out.append(f"Globals.Function.Environment lacks {var}")
    if not 1 <= int(glob.get("Timeout", 0)) <= 900 or not 128 <= int(glob.get("MemorySize", 0)) <= 10240:
        out.append("Globals.Function needs a sensible Timeout and MemorySize")

    layers = {n: r for n, r in template["Resources"].items() if r["Type"] == "AWS::Serverless::LayerVersion"}
    if len(layers) != 1:
        out.append(f"expected exactly one shared layer, found {sorted(layers)}")
    for name, layer in layers.items():
        if layer.get("Metadata", {}).get("BuildMethod") != "python3.13":
            out.append(f"{name}: Metadata.BuildMethod must be python3.13")
        if layer["Properties"].get("ContentUri") != "layers/core":
            out.append(f"{name}: ContentUri must be layers/core")

    params = template.get("Parameters", {})
    if params.get("DryRun", {}).get("Default") != "true":
        out.append("Parameter DryRun must default to 'true'")
    for p in ("ArchiveSchedule", "ConfigParameterName", "ExclusionsParameterPath"):
        if p not in params:
            out.append(f"missing Parameter {p}")

    for name, fn in functions(template).items():
        props = fn["Properties"]
        code = props.get("CodeUri", "")
        if not isinstance(code, str) or not code.startswith("functions/"):
            out.append(f"{name}: CodeUri must be functions/<name>")
            continue
        app = root / code / "app.py"
        if not app.is_file() or "def lambda_handler(event" not in app.read_text():
            out.append(f"{name}: {code}/app.py must define lambda_handler(event, context)")
        if props.get("Runtime", "python3.13") != "python3.13":
            out.append(f"{name}: overrides the runtime")
        if "LogGroup" not in props.get("LoggingConfig", {}):
            out.append(f"{name}: needs LoggingConfig.LogGroup pointing at a log group with retention")

    for name, res in template["Resources"].items():
        prop = PHYSICAL_NAME_PROPS.get(res["Type"])
        if prop and prop in res.get("Properties", {}):
            out.append(f"{name}: hard-coded physical name {prop}")
        if res["Type"] == "AWS::Logs::LogGroup" and "RetentionInDays" not in res.get("Properties", {}):
            out.append(f"{name}: log group without RetentionInDays")
    return out
