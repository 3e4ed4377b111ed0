"""Template invariants as functions returning violations, so a test can prove they can fail."""

from __future__ import annotations

from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
FUNCTION_DIRS = ("plan_archive", "archive_images", "restore_api", "sync_exclusions", "auto_restore")
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


#: What the layer Makefile must pass pip: Lambda's python3.13 arm64 wheels whatever the build host.
LAYER_PIP_FLAGS = (
    "--platform manylinux2014_aarch64",
    "--implementation cp",
    "--python-version 3.13",
    "--only-binary=:all:",
)


def layer_makefile_services(makefile: Path) -> list[str]:
    """``BOTOCORE_SERVICES`` of the layer Makefile: the botocore models the layer keeps."""
    for line in makefile.read_text().splitlines():
        if line.startswith("BOTOCORE_SERVICES"):
            return line.split("=", 1)[1].split()
    return []


def layer_makefile_violations(makefile: Path, target: str) -> list[str]:
    """The layer is built for Lambda arm64 cp313, pruned and precompiled."""
    if not makefile.is_file():
        return [f"{makefile.name}: missing (BuildMethod makefile needs layers/core/Makefile)"]
    text = makefile.read_text()
    out: list[str] = []
    if f"\n{target}:" not in text:
        out.append(f"layers/core/Makefile: no {target} target")
    for flag in LAYER_PIP_FLAGS:
        if flag not in text:
            out.append(f"layers/core/Makefile: pip must get {flag}")
    if "$(ARTIFACTS_DIR)/python" not in text:
        out.append("layers/core/Makefile: must install into $(ARTIFACTS_DIR)/python")
    if not layer_makefile_services(makefile) or "botocore/data" not in text:
        out.append("layers/core/Makefile: must prune botocore/data to BOTOCORE_SERVICES")
    if "compileall" not in text or "unchecked-hash" not in text:
        out.append("layers/core/Makefile: must precompile with --invalidation-mode unchecked-hash")
    return out


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
        metadata = layer.get("Metadata", {})
        if metadata.get("BuildMethod") != "makefile":
            out.append(f"{name}: Metadata.BuildMethod must be makefile (layers/core/Makefile)")
        if metadata.get("BuildArchitecture") != "arm64":
            out.append(f"{name}: Metadata.BuildArchitecture must be arm64")
        if layer["Properties"].get("ContentUri") != "layers/core":
            out.append(f"{name}: ContentUri must be layers/core")
        out.extend(layer_makefile_violations(root / "layers" / "core" / "Makefile", f"build-{name}"))

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
