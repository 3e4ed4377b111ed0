"""ParameterStore.get_parameters_by_path against moto's SSM: every page, names and types kept."""

from __future__ import annotations

from typing import Any

from ecr_archiver.adapters.ssm import PATH_PAGE_SIZE, ParameterStore, StoredParameter
from ecr_archiver.archiving.config import DEFAULT_CONFIG_PARAMETER

from .conftest import PATH


def test_reads_every_page_recursively_sorted_by_name(ssm: Any, emulator: Any) -> None:
    # Given more parameters than one page holds, some nested, and one outside the path
    names = [f"{PATH}team-{i:02}" for i in range(PATH_PAGE_SIZE * 2 + 3)] + [f"{PATH}org/nested"]
    for name in names:
        ssm.put_parameter(Name=name, Value="v", Type="String")
    ssm.put_parameter(Name=DEFAULT_CONFIG_PARAMETER, Value="{}", Type="String")

    # When read by path
    parameters = ParameterStore(ssm).get_parameters_by_path(PATH)

    # Then every parameter under the path comes back, once, in name order, over three pages
    assert [p.name for p in parameters] == sorted(names)
    assert emulator.calls["ssm:GetParametersByPath"] == 3


def test_keeps_each_parameter_type_and_does_not_decrypt(ssm: Any, emulator: Any) -> None:
    ssm.put_parameter(Name=f"{PATH}list", Value="a,b", Type="StringList")
    ssm.put_parameter(Name=f"{PATH}secret", Value="plain-text", Type="SecureString")

    parameters = {p.name: p for p in ParameterStore(ssm).get_parameters_by_path(PATH)}

    assert parameters[f"{PATH}list"] == StoredParameter(name=f"{PATH}list", type="StringList", value="a,b")
    assert parameters[f"{PATH}secret"].type == "SecureString"
    assert parameters[f"{PATH}secret"].value != "plain-text"


def test_an_absent_path_reads_as_empty(ssm: Any, emulator: Any) -> None:
    assert ParameterStore(ssm).get_parameters_by_path("/nothing/here/") == []
