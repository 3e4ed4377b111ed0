"""``scripts/check_function_length.py``: the lint gate on function length, run on temporary files."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "check_function_length.py"


def function(name: str, body_lines: int, *, indent: str = "", decorators: int = 0) -> str:
    """A function of exactly ``body_lines + 1`` lines (def line included), after its decorators."""
    lines = [f"{indent}@staticmethod" for _ in range(decorators)]
    lines.append(f"{indent}def {name}() -> None:")
    lines += [f"{indent}    x = {i}" for i in range(body_lines)]
    return "\n".join(lines) + "\n"


def run(tmp_path: Path, source: str, *args: str) -> subprocess.CompletedProcess[str]:
    (tmp_path / "module.py").write_text(source)
    return subprocess.run(
        [sys.executable, str(SCRIPT), *args, str(tmp_path)], capture_output=True, text=True, check=False
    )


def test_a_function_over_the_limit_fails_with_its_place_name_and_length(tmp_path: Path):
    result = run(tmp_path, "\n" + function("too_long", 60))

    assert result.returncode == 1
    assert result.stdout.splitlines() == [f"{tmp_path / 'module.py'}:2 too_long 61 lines"]


def test_a_function_at_the_limit_passes(tmp_path: Path):
    result = run(tmp_path, function("just_fits", 59))

    assert result.returncode == 0, result.stdout
    assert result.stdout == ""


def test_decorators_do_not_count(tmp_path: Path):
    source = "class Box:\n" + function("decorated", 59, indent="    ", decorators=3)

    assert run(tmp_path, source).returncode == 0


def test_methods_are_checked_and_named_by_their_class(tmp_path: Path):
    result = run(tmp_path, "class Box:\n" + function("method", 61, indent="    "))

    assert result.returncode == 1
    assert "Box.method 62 lines" in result.stdout


def test_max_sets_the_limit(tmp_path: Path):
    source = function("medium", 20)

    assert run(tmp_path, source, "--max", "21").returncode == 0
    assert run(tmp_path, source, "--max", "20").returncode == 1


@pytest.mark.parametrize("name", ["too_long", "Box.too_long"])
def test_an_allowed_offender_passes(tmp_path: Path, name: str):
    source = "class Box:\n" + function("too_long", 70, indent="    ") + function("short", 3)

    result = run(tmp_path, source, "--allow", name)

    assert result.returncode == 0, result.stdout


def test_an_allowance_covers_only_the_function_it_names(tmp_path: Path):
    source = function("known_debt", 70) + function("new_debt", 70)

    result = run(tmp_path, source, "--allow", "known_debt")

    assert result.returncode == 1
    assert "new_debt 71 lines" in result.stdout
    assert "known_debt" not in result.stdout


@pytest.mark.parametrize("stale", ["short", "missing"])
def test_an_allowance_for_a_function_within_the_limit_or_absent_fails_as_stale(tmp_path: Path, stale: str):
    source = function("too_long", 70) + function("short", 3)

    result = run(tmp_path, source, "--allow", "too_long", "--allow", stale)

    assert result.returncode == 1
    assert result.stdout.splitlines() == [
        f"stale allowance: --allow {stale} (no function by that name is over 60 lines)"
    ]
