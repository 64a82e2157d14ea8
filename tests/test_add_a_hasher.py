"""Adding a deep hasher is one file and one export: docs/contributing.rst's example, applied
to a copy of the package, is found by every registry without touching anything else."""

import os
import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

pytest.importorskip("torch")

ROOT = Path(__file__).resolve().parents[1]

CHECK = """
import sys
import skhash
from skhash.utils.discovery import all_estimators, hasher_names

assert "torch" not in sys.modules, "import skhash imported torch"
assert "SignHasher" in skhash.__all__ and "SignHasher" in dir(skhash)
cls = skhash.SignHasher
assert cls.__module__ == "skhash.deep._sign"
assert ("SignHasher", cls) in all_estimators("hasher")
assert hasher_names()["Sign"] is cls
codes = cls(n_bits=8, max_epochs=2, device="cpu", random_state=0).fit(
    __import__("numpy").random.default_rng(0).normal(size=(64, 5))
).transform(__import__("numpy").ones((3, 5)))
assert codes.shape == (3, 8) and codes.dtype.name == "uint8"
print("ok")
"""


def _documented_example():
    text = (ROOT / "docs" / "contributing.rst").read_text()
    block = re.search(r"\.\. code-block:: python\n\n((?:    .*\n|\n)+)", text).group(1)
    return textwrap.dedent(block)


def test_documented_hasher_is_one_file_and_one_export(tmp_path):
    package = tmp_path / "skhash"
    shutil.copytree(ROOT / "skhash", package, ignore=shutil.ignore_patterns("__pycache__"))
    (package / "deep" / "_sign.py").write_text(_documented_example())
    init = package / "deep" / "__init__.py"
    exports = "_EXPORTS = {\n"
    assert exports in init.read_text()
    init.write_text(init.read_text().replace(exports, exports + '    "SignHasher": "._sign",\n'))

    env = dict(os.environ, PYTHONPATH=str(tmp_path))
    result = subprocess.run(
        [sys.executable, "-c", CHECK], cwd=tmp_path, env=env, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"
