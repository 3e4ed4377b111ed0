"""Fixtures for template tests: template.yaml loaded with CloudFormation's short-form tags."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE_PATH = ROOT / "template.yaml"


class CfnLoader(yaml.SafeLoader):
    """SafeLoader that turns ``!Ref x`` into ``{"Ref": x}`` and ``!Sub``/``!GetAtt``/... into ``Fn::*``."""


def _construct(tag: str):  # type: ignore[no-untyped-def]
    def construct(loader: CfnLoader, node: yaml.Node) -> dict[str, Any]:
        if isinstance(node, yaml.ScalarNode):
            value: Any = loader.construct_scalar(node)
            if tag == "GetAtt" and isinstance(value, str):
                value = value.split(".", 1)
        elif isinstance(node, yaml.SequenceNode):
            value = loader.construct_sequence(node, deep=True)
        else:
            value = loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]
        key = "Ref" if tag == "Ref" else f"Fn::{tag}"
        return {key: value}

    return construct


for _tag in (
    "Ref",
    "Sub",
    "GetAtt",
    "If",
    "Equals",
    "Not",
    "And",
    "Or",
    "Join",
    "Select",
    "Split",
    "FindInMap",
    "ImportValue",
    "GetAZs",
    "Base64",
    "Cidr",
    "Condition",
    "Length",
    "ToJsonString",
):
    CfnLoader.add_constructor(f"!{_tag}", _construct(_tag))


def load_template(path: Path = TEMPLATE_PATH) -> dict[str, Any]:
    with path.open() as fh:
        return yaml.load(fh, Loader=CfnLoader)


def _render(value: Any) -> str:
    """A parameter's value as it would read inside ``Fn::Sub``."""
    if isinstance(value, str):
        return value
    if "Ref" in value:
        return "${" + value["Ref"] + "}"
    if "Fn::GetAtt" in value:
        return "${" + ".".join(value["Fn::GetAtt"]) + "}"
    raise ValueError(f"cannot render {value!r} inside Fn::Sub")


def _substitute(node: Any, values: dict[str, Any]) -> Any:
    if isinstance(node, list):
        return [_substitute(item, values) for item in node]
    if not isinstance(node, dict):
        return node
    if set(node) == {"Ref"} and node["Ref"] in values:
        return values[node["Ref"]]
    if "Fn::Sub" in node and isinstance(node["Fn::Sub"], str):
        text = re.sub(
            r"\$\{([A-Za-z0-9]+)\}",
            lambda m: _render(values[m.group(1)]) if m.group(1) in values else m.group(0),
            node["Fn::Sub"],
        )
        return {"Fn::Sub": text}
    return {key: _substitute(value, values) for key, value in node.items()}


def _nested_outputs(node: Any, outputs: dict[str, dict[str, Any]]) -> Any:
    if isinstance(node, list):
        return [_nested_outputs(item, outputs) for item in node]
    if not isinstance(node, dict):
        return node
    att = node.get("Fn::GetAtt")
    if isinstance(att, list) and att[0] in outputs and str(att[1]).startswith("Outputs."):
        return outputs[att[0]][att[1].removeprefix("Outputs.")]
    if "Fn::Sub" in node and isinstance(node["Fn::Sub"], str):

        def output(m: re.Match[str]) -> str:
            app, _, name = m.group(1).partition(".Outputs.")
            return _render(outputs[app][name]) if app in outputs else m.group(0)

        return {"Fn::Sub": re.sub(r"\$\{([A-Za-z0-9]+\.Outputs\.[A-Za-z0-9]+)\}", output, node["Fn::Sub"])}
    return {key: _nested_outputs(value, outputs) for key, value in node.items()}


def nested_applications(template: dict[str, Any]) -> dict[str, Path]:
    """The stack's nested applications with a local ``Location``: resource name -> template path."""
    return {
        name: ROOT / res["Properties"]["Location"]
        for name, res in template["Resources"].items()
        if res["Type"] == "AWS::Serverless::Application" and isinstance(res["Properties"]["Location"], str)
    }


def load_stack(path: Path = TEMPLATE_PATH) -> dict[str, Any]:
    """template.yaml with its nested applications inlined, as one template reads.

    Each nested template's parameters are replaced by what the parent passes (so a nested
    ``!Ref PlanArchiveFunction`` reads as the parent's), ``${ParentStackName}`` by the parent's
    stack name, ``CodeUri`` paths are made relative to the repository, and the parent's
    ``!GetAtt App.Outputs.X`` reads as the nested output's value.
    """
    stack = load_template(path)
    outputs: dict[str, dict[str, Any]] = {}
    for app, location in nested_applications(stack).items():
        nested = load_template(location)
        values = dict(stack["Resources"][app]["Properties"].get("Parameters", {}))
        values["ParentStackName"] = {"Ref": "AWS::StackName"}
        for name, written in nested["Resources"].items():
            res = _substitute(written, values)
            code = res.get("Properties", {}).get("CodeUri")
            if isinstance(code, str):
                res["Properties"]["CodeUri"] = str((location.parent / code).resolve().relative_to(ROOT))
            assert name not in stack["Resources"], f"{name} is in both template.yaml and {location.name}"
            stack["Resources"][name] = res
        stack.setdefault("Conditions", {}).update(_substitute(nested.get("Conditions", {}), values))
        outputs[app] = {k: _substitute(v["Value"], values) for k, v in nested.get("Outputs", {}).items()}
    return _nested_outputs(stack, outputs)  # type: ignore[no-any-return]


@pytest.fixture(scope="session")
def template() -> dict[str, Any]:
    """The whole stack: template.yaml with its nested applications inlined."""
    return load_stack()


@pytest.fixture(scope="session")
def main_template() -> dict[str, Any]:
    """template.yaml alone, as written."""
    return load_template()


@pytest.fixture(scope="session")
def resources(template: dict[str, Any]) -> dict[str, Any]:
    return template["Resources"]


def resources_of_type(resources: dict[str, Any], type_: str) -> dict[str, Any]:
    return {name: res for name, res in resources.items() if res["Type"] == type_}
