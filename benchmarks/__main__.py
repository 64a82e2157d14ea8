"""One entry point for the benchmarks: ``python -m benchmarks NAME [options]``.

``python -m benchmarks --list`` lists them; ``python -m benchmarks NAME --help`` gives the
options of one. Every benchmark is a module of this folder with a ``main(argv)``; data come
from :mod:`skhash.datasets` (``$SKHASH_DATA`` or ``../shared/data``).
"""

import ast
import importlib
import pkgutil
import sys
from pathlib import Path


def available():
    """Benchmark name -> first line of its docstring."""
    names = {}
    folder = Path(__file__).parent
    for module in pkgutil.iter_modules([str(folder)]):
        if module.name.startswith("_"):
            continue
        # Read the docstring without importing (imports pull in torch, faiss...).
        source = (
            folder / module.name / "__init__.py" if module.ispkg else folder / f"{module.name}.py"
        )
        tree = ast.parse(source.read_text())
        doc = (ast.get_docstring(tree) or "").strip()
        names[module.name] = doc.splitlines()[0] if doc else ""
    return names


def main(argv=None):
    argv = sys.argv[1:] if argv is None else list(argv)
    if not argv or argv[0] in ("--list", "-l", "--help", "-h"):
        print(__doc__.strip().splitlines()[0])
        for name, summary in sorted(available().items()):
            print(f"  {name:<24} {summary}")
        return 0
    name, rest = argv[0], argv[1:]
    if name not in available():
        print(f"unknown benchmark {name!r}; python -m benchmarks --list", file=sys.stderr)
        return 2
    importlib.import_module(f"benchmarks.{name}").main(rest)
    return 0


if __name__ == "__main__":
    sys.exit(main())
