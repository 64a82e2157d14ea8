"""Imports of optional dependencies, with an error that names the extra to install."""

import importlib

__all__ = ["import_optional"]


def import_optional(module, *, extra, purpose, package=None):
    """Import ``module`` (dotted names allowed) or raise an ``ImportError`` naming ``extra``.

    Parameters
    ----------
    module : str
        Module to import, e.g. ``"faiss"`` or ``"matplotlib.pyplot"``.
    extra : str
        The skhash extra that installs it (``pip install 'skhash[extra]'``).
    purpose : str
        What needs it, the subject of the message (``"backend='faiss'"``).
    package : str, default=None
        The name to show for the dependency (default: ``module``'s top-level name).

    Examples
    --------
    >>> from skhash.utils import import_optional
    >>> import_optional("numpy", extra="core", purpose="this example").__name__
    'numpy'
    """
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        name = package or module.split(".")[0]
        raise ImportError(
            f"{purpose} needs {name}; install the {extra} extra: pip install 'skhash[{extra}]'."
        ) from exc
