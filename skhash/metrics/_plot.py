"""Plots of retrieval precision-recall curves (matplotlib is optional)."""

import numpy as np

from ..utils import import_optional
from ._curves import hamming_radius_pr_curve, precision_recall_curve

__all__ = ["RetrievalPRDisplay"]


def _import_pyplot():
    return import_optional("matplotlib.pyplot", extra="plot", purpose="Plotting")


class RetrievalPRDisplay:
    """Precision-recall curve of Hamming retrieval, in the style of scikit-learn displays.

    Build it with :meth:`from_codes` (computes the curve) or from precomputed arrays, then
    :meth:`plot`.

    Parameters
    ----------
    precision, recall : ndarray
        Points of the curve.
    thresholds : ndarray, default=None
        Rank cut-offs or Hamming radii of the points.
    kind : {"rank", "radius"}, default="rank"
        What ``thresholds`` are.
    name : str, default=None
        Legend label.

    Attributes
    ----------
    line_ : matplotlib Line2D
        The plotted curve.
    ax_ : matplotlib Axes
        Axes of the plot.
    figure_ : matplotlib Figure
        Figure of the plot.

    Examples
    --------
    >>> import numpy as np
    >>> from skhash.metrics import RetrievalPRDisplay
    >>> rng = np.random.default_rng(0)
    >>> codes, y = rng.integers(0, 2, (50, 8)), rng.integers(0, 3, 50)
    >>> display = RetrievalPRDisplay.from_codes(codes, None, y, None, kind="radius")
    >>> display.thresholds.tolist()
    [0, 1, 2, 3, 4, 5, 6, 7, 8]
    """

    def __init__(self, precision, recall, *, thresholds=None, kind="rank", name=None):
        if kind not in ("rank", "radius"):
            raise ValueError(f"kind must be 'rank' or 'radius', got {kind!r}.")
        self.precision = np.asarray(precision)
        self.recall = np.asarray(recall)
        self.thresholds = None if thresholds is None else np.asarray(thresholds)
        self.kind = kind
        self.name = name

    @classmethod
    def from_codes(
        cls,
        query_codes,
        db_codes,
        y_query,
        y_db,
        *,
        kind="rank",
        name=None,
        ax=None,
        plot=True,
        **kwargs,
    ):
        """Compute the curve from codes and labels, and plot it when ``plot``.

        Parameters
        ----------
        query_codes, db_codes, y_query, y_db :
            See :func:`~skhash.metrics.mean_average_precision`.
        kind : {"rank", "radius"}, default="rank"
            :func:`~skhash.metrics.precision_recall_curve` (rank cut-offs) or
            :func:`~skhash.metrics.hamming_radius_pr_curve` (hash lookup).
        name : str, default=None
            Legend label.
        ax : matplotlib Axes, default=None
            Axes to draw on; a new figure when ``None``.
        plot : bool, default=True
            Draw the curve (needs matplotlib).
        **kwargs
            Arguments of the curve function (``ranks``, ``ties``, ``average``...).

        Returns
        -------
        display : RetrievalPRDisplay
        """
        if kind == "rank":
            precision, recall, thresholds = precision_recall_curve(
                query_codes, db_codes, y_query, y_db, **kwargs
            )
        elif kind == "radius":
            precision, recall, thresholds = hamming_radius_pr_curve(
                query_codes, db_codes, y_query, y_db, **kwargs
            )
        else:
            raise ValueError(f"kind must be 'rank' or 'radius', got {kind!r}.")
        display = cls(precision, recall, thresholds=thresholds, kind=kind, name=name)
        return display.plot(ax=ax) if plot else display

    def plot(self, ax=None, *, name=None, **kwargs):
        """Draw the curve (recall on x, precision on y).

        Parameters
        ----------
        ax : matplotlib Axes, default=None
            Axes to draw on; a new figure when ``None``.
        name : str, default=None
            Legend label; overrides the one given at construction.
        **kwargs
            Passed to :meth:`matplotlib.axes.Axes.plot`.

        Returns
        -------
        display : RetrievalPRDisplay
            ``self``, with ``line_``, ``ax_`` and ``figure_`` set.
        """
        plt = _import_pyplot()
        if ax is None:
            _, ax = plt.subplots()
        name = self.name if name is None else name
        kwargs.setdefault("drawstyle", "steps-post" if self.kind == "radius" else "default")
        if name is not None:
            kwargs.setdefault("label", name)
        (self.line_,) = ax.plot(self.recall, self.precision, **kwargs)
        ax.set(xlabel="Recall", ylabel="Precision", xlim=(-0.01, 1.01), ylim=(-0.01, 1.01))
        if name is not None:
            ax.legend(loc="lower left")
        self.ax_, self.figure_ = ax, ax.figure
        return self
