"""The `sam build` output: the layer holds ecr_archiver and arm64 dependencies.

`make test` runs `sam build` before pytest. Outside CI, if nothing was built, the test skips;
under CI=true a missing build is a failure.
"""

from __future__ import annotations

import os

import pytest

from tests.template.conftest import ROOT

BUILD = ROOT / ".aws-sam" / "build"


@pytest.fixture(scope="module")
def layer_dir():  # type: ignore[no-untyped-def]
    layer = BUILD / "CoreLayer" / "python"
    if not layer.is_dir():
        if os.environ.get("CI") == "true":
            pytest.fail("sam build output missing under CI: `make test` must build before pytest")
        pytest.skip("no sam build output; run `make build`")
    return layer


def test_layer_contains_the_core_package(layer_dir) -> None:  # type: ignore[no-untyped-def]
    assert (layer_dir / "ecr_archiver" / "__init__.py").is_file()
    assert (layer_dir / "ecr_archiver" / "observability.py").is_file()


def test_layer_contains_arm64_dependencies(layer_dir) -> None:  # type: ignore[no-untyped-def]
    for pkg in ("boto3", "botocore", "aws_lambda_powertools", "pydantic", "pydantic_core"):
        assert (layer_dir / pkg).is_dir(), f"{pkg} missing from the layer"
    compiled = list((layer_dir / "pydantic_core").glob("*.so"))
    assert compiled, "pydantic_core has no compiled extension"
    assert all("aarch64" in so.name for so in compiled), [so.name for so in compiled]


def test_layer_bundles_an_sdk_with_the_archive_apis(layer_dir) -> None:  # type: ignore[no-untyped-def]
    dist = [p.name for p in layer_dir.glob("botocore-*.dist-info")]
    assert dist, "botocore dist-info missing"
    major, minor = (int(x) for x in dist[0].split("-")[1].split(".")[:2])
    assert (major, minor) >= (1, 41)


def test_every_function_is_built(layer_dir) -> None:  # type: ignore[no-untyped-def]
    from tests.template.conftest import load_template
    from tests.template.invariants import functions

    for name in functions(load_template()):
        assert (BUILD / name / "app.py").is_file(), f"{name} was not built"
