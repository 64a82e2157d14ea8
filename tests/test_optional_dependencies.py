"""Without torch or numba, skhash still imports and works: the deep hashers say which
extra to install, the registries list what runs, and the numpy paths take over."""

import subprocess
import sys

CHECK = """
import sys


class NotInstalled:  # as if torch and numba were not installed
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in ("torch", "numba"):
            raise ModuleNotFoundError(f"No module named {name!r}")


sys.meta_path.insert(0, NotInstalled())
import numpy as np
import skhash
from skhash.codes import _kernels
from skhash.utils.discovery import all_estimators, hasher_names

NUMPY_HASHERS = (
    "AGH CBE CCA-ITQ COSDISH DSH ITQ IsoH KMH KSH LSH PCAH SDH SH SKLSH ScalableGraph SpH"
).split()
assert list(hasher_names()) == NUMPY_HASHERS, list(hasher_names())
assert all(not name.endswith("AEHasher") for name, _ in all_estimators("hasher"))
try:
    skhash.IDRAEHasher
except ImportError as exc:
    assert "pip install 'skhash[torch]'" in str(exc), exc
else:
    raise AssertionError("IDRAEHasher imported without torch")
assert not _kernels.available() and not _kernels.enabled()
rng = np.random.default_rng(0)
q, db = rng.integers(0, 2, (5, 16)), rng.integers(0, 2, (50, 16))
y_q, y_db = rng.integers(0, 3, 5), rng.integers(0, 3, 50)
value = skhash.metrics.mean_average_precision(q, db, y_q, y_db)
ind = skhash.HammingRetriever(n_neighbors=3, backend="numpy").fit(db).kneighbors(q)[1]
brute = np.argsort((q[:, None, :] != db[None]).sum(-1), axis=1, kind="stable")[:, :3]
assert (ind == brute).all()
print(round(value, 6))
"""


def test_skhash_works_without_torch_and_numba():
    result = subprocess.run([sys.executable, "-c", CHECK], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    import numpy as np

    import skhash

    rng = np.random.default_rng(0)
    q, db = rng.integers(0, 2, (5, 16)), rng.integers(0, 2, (50, 16))
    y_q, y_db = rng.integers(0, 3, 5), rng.integers(0, 3, 50)
    expected = skhash.metrics.mean_average_precision(q, db, y_q, y_db)  # compiled if present
    assert float(result.stdout) == round(expected, 6)
