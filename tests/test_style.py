"""The code is ruff clean: ``ruff check`` and ``ruff format --check`` (the project's style)."""

import ast
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("command", [["check"], ["format", "--check"]], ids=" ".join)
def test_ruff(command):
    ruff = shutil.which("ruff") or str(Path(sys.executable).with_name("ruff"))
    if not Path(ruff).exists():
        pytest.skip("ruff is not installed (it comes with the test extra)")
    result = subprocess.run([ruff, *command, "."], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def code_lines(function, source_lines):
    """Lines of ``function`` that hold code: no docstring, comment or blank line."""
    first = function.body[0]
    docstring = (
        range(first.lineno, first.end_lineno + 1)
        if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant)
        else range(0)
    )
    return sum(
        1
        for number in range(function.lineno, function.end_lineno + 1)
        if number not in docstring
        and source_lines[number - 1].strip()
        and not source_lines[number - 1].strip().startswith("#")
    )


def test_the_training_loop_is_in_parts():
    """No method of the shared training loop (where methods are added) is over 45 lines."""
    source = (ROOT / "skhash" / "deep" / "_base.py").read_text()
    lines = source.splitlines()
    (base,) = [
        node
        for node in ast.parse(source).body
        if isinstance(node, ast.ClassDef) and node.name == "BaseDeepHasher"
    ]
    lengths = {
        node.name: code_lines(node, lines)
        for node in base.body
        if isinstance(node, ast.FunctionDef)
    }
    assert len(lengths) > 10 and max(lengths.values()) <= 45, lengths


def test_no_benchmark_file_is_over_300_lines():
    lengths = {
        path.relative_to(ROOT).as_posix(): len(path.read_text().splitlines())
        for path in (ROOT / "benchmarks").rglob("*.py")
    }
    assert lengths and max(lengths.values()) <= 300, lengths
