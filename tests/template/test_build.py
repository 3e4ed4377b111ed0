"""The `sam build` output: the layer holds ecr_archiver and arm64 dependencies, pruned and precompiled.

`make test` runs `sam build` before pytest. Outside CI, if nothing was built, the test skips;
under CI=true a missing build is a failure.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from tests.template.conftest import ROOT
from tests.template.invariants import layer_makefile_services, layer_makefile_violations

BUILD = ROOT / ".aws-sam" / "build"
LAYER_MAKEFILE = ROOT / "layers" / "core" / "Makefile"
#: Lambda extracts at most 250 MB per function (layers included); the product's budget is 25 MB.
LAYER_MAX_BYTES = 25_000_000
#: Services reached without an explicit client("...") in our code: X-Ray (the X-Ray SDK's
#: sampling client behind Powertools Tracer).
IMPLICIT_SERVICES = {"xray"}
_CLIENT_CALL = re.compile(r"""(?:\bclient|client_for)\((?:[^()"']*,\s*)?["']([a-z0-9-]+)["']""")


def services_called_by_the_code() -> set[str]:
    """Every AWS service the Lambda code makes a client for (``client("ecr")``,
    ``sessions.client_for(arn, "ecs")``), the operator CLI excepted (it is not in the layer)."""
    found: set[str] = set()
    sources = [
        *(ROOT / "layers" / "core" / "ecr_archiver").rglob("*.py"),
        *(ROOT / "functions").rglob("*.py"),
    ]
    for path in sources:
        if "cli" in path.relative_to(ROOT).parts:
            continue
        found.update(_CLIENT_CALL.findall(path.read_text()))
    return found


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


def test_the_layer_makefile_keeps_every_service_the_code_calls() -> None:
    called = services_called_by_the_code()
    assert {"ecr", "sqs", "s3", "ssm"} <= called, called  # the parser still finds the clients
    assert called | IMPLICIT_SERVICES <= set(layer_makefile_services(LAYER_MAKEFILE))


def test_the_layer_makefile_invariant_catches_a_host_build(tmp_path: Path) -> None:
    # Given a Makefile that installs host wheels and neither prunes nor precompiles
    bad = tmp_path / "Makefile"
    bad.write_text("build-CoreLayer:\n\tpip install --target $(ARTIFACTS_DIR)/python -r requirements.txt\n")
    # When checked, then each omission is reported
    problems = layer_makefile_violations(bad, "build-CoreLayer")
    assert "layers/core/Makefile: pip must get --platform manylinux2014_aarch64" in problems
    assert "layers/core/Makefile: must prune botocore/data to BOTOCORE_SERVICES" in problems
    assert "layers/core/Makefile: must precompile with --invalidation-mode unchecked-hash" in problems
    assert layer_makefile_violations(LAYER_MAKEFILE, "build-CoreLayer") == []


def test_the_layer_fits_the_size_budget(layer_dir) -> None:  # type: ignore[no-untyped-def]
    size = sum(p.stat().st_size for p in layer_dir.parent.rglob("*") if p.is_file())
    assert size <= LAYER_MAX_BYTES, f"layer is {size / 1e6:.2f} MB unzipped (budget 25 MB)"


def test_botocore_data_is_pruned_to_the_services_the_code_calls(layer_dir) -> None:  # type: ignore[no-untyped-def]
    data = layer_dir / "botocore" / "data"
    kept = {p.name for p in data.iterdir() if p.is_dir()}
    assert kept == set(layer_makefile_services(LAYER_MAKEFILE))
    assert services_called_by_the_code() | IMPLICIT_SERVICES <= kept
    for name in ("endpoints.json", "partitions.json", "sdk-default-configuration.json", "_retry.json"):
        assert (data / name).is_file(), f"botocore/data/{name} must stay"
    for service in kept:
        assert list((data / service).glob("*/service-2.json*")), f"{service} has no service model"


def test_the_layer_ships_unchecked_bytecode_and_no_cli(layer_dir) -> None:  # type: ignore[no-untyped-def]
    for module in (
        "ecr_archiver/observability",
        "ecr_archiver/archiving/worker",
        "botocore/client",
        "pydantic/main",
    ):
        path = layer_dir / module
        (pyc,) = (path.parent / "__pycache__").glob(f"{path.name}.cpython-313.pyc")
        flags = int.from_bytes(pyc.read_bytes()[4:8], "little")
        assert flags == 0b01, f"{pyc.name}: expected an unchecked-hash pyc (flags {flags:#b})"
    assert not (layer_dir / "ecr_archiver" / "cli").exists(), "the operator CLI does not belong in the layer"


def test_every_nested_function_is_built(layer_dir) -> None:  # type: ignore[no-untyped-def]
    from tests.template.conftest import load_template, nested_applications
    from tests.template.invariants import functions

    for app, location in nested_applications(load_template()).items():
        for name in functions(load_template(location)):
            assert (BUILD / app / name / "app.py").is_file(), f"{app}/{name} was not built"


@pytest.mark.slow
def test_every_module_a_built_handler_imports_ships_precompiled(layer_dir) -> None:  # type: ignore[no-untyped-def]
    # Given each built function, started as Lambda starts it (benchmarks/coldstart.py: a fresh
    # interpreter, sys.path = [its build dir, the layer's python/], its template environment,
    # no bytecode written)
    from benchmarks.coldstart import built_functions, unprecompiled_modules

    functions = built_functions(BUILD)
    assert {f.name for f in functions} >= {
        "plan_archive",
        "archive_images",
        "restore_api",
        "sync_exclusions",
        "auto_restore",
    }
    assert all(f.layer_dirs == (layer_dir,) for f in functions), [f.layer_dirs for f in functions]
    # When it imports its handler and makes its first ECR client, then no module of the layer
    # (failed imports included, e.g. an optional dependency's probe) is compiled from source:
    # /opt is read-only on Lambda, so bytecode the layer does not ship is compiled on every start
    unprecompiled = {f.name: found for f in functions if (found := unprecompiled_modules(f))}
    assert unprecompiled == {}, "\n".join(
        f"{name}: {len(found)} module(s) without shipped bytecode, e.g.\n  " + "\n  ".join(found[:10])
        for name, found in unprecompiled.items()
    )


def test_the_layer_drops_only_a_swagger_ui_bundle_no_function_serves(layer_dir) -> None:  # type: ignore[no-untyped-def]
    # The Makefile prunes the Swagger UI bundle (1.7 MB) to keep every module precompiled within
    # the budget; Powertools reads it only in enable_swagger(), which no function may then call.
    swagger = layer_dir / "aws_lambda_powertools" / "event_handler" / "openapi" / "swagger_ui"
    assert (swagger / "html.py").is_file()
    assert not list(swagger.glob("*.min.js")) + list(swagger.glob("*.min.css"))
    sources = [
        *(ROOT / "functions").rglob("*.py"),
        *(ROOT / "layers" / "core" / "ecr_archiver").rglob("*.py"),
    ]
    serving = [str(p.relative_to(ROOT)) for p in sources if "enable_swagger" in p.read_text()]
    assert serving == [], f"{serving} serve Swagger UI: keep its bundle in layers/core/Makefile"
