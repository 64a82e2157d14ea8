"""Figures 2 (precision-recall curves), 3 (seconds per epoch) and 4 (L_G during training)."""

import numpy as np

__all__ = ["plot_figures"]


def plot_figures(results, out, datasets):
    """Write the PNG figures of ``results`` to folder ``out``; returns their file names."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    files = []
    for name, fig in [
        *((f"fig2_pr_{d}.png", _precision_recall(plt, results, d)) for d in datasets),
        ("fig3_epoch_time.png", _epoch_times(plt, results, datasets)),
        ("fig4_distribution_term.png", _distribution_terms(plt, results)),
    ]:
        if fig is not None:
            fig.savefig(out / name, dpi=100, bbox_inches="tight")
            plt.close(fig)
            files.append(name)
    return files


def _precision_recall(plt, results, dataset):
    curves = [c for c in results.pr_curves if c["dataset"] == dataset]
    if not curves:
        return None
    lengths = sorted({c["n_bits"] for c in curves})
    fig, axes = plt.subplots(
        1, len(lengths), figsize=(5 * len(lengths), 4), sharey=True, squeeze=False
    )
    for ax, n_bits in zip(axes[0], lengths, strict=True):
        for c in (c for c in curves if c["n_bits"] == n_bits):
            ax.plot(c["recall"], c["precision"], label=c["method"])
        ax.set(title=f"{dataset}, {n_bits} bits", xlabel="recall", ylabel="precision")
        ax.legend()
    return fig


def _epoch_times(plt, results, datasets):
    timed = [r for r in results.runs if r.epoch_seconds is not None]
    if not timed:
        return None
    fig, ax = plt.subplots(figsize=(6, 4))
    labels, values = [], []
    largest = max(r.n_bits for r in timed)
    for d in datasets:
        for method in dict.fromkeys(r.method for r in timed):
            v = [r.epoch_seconds for r in timed if r.cell == (d, method, largest)]
            if v:
                labels.append(f"{d}\n{method}")
                values.append(np.mean(v))
    ax.bar(range(len(values)), values)
    ax.set_xticks(range(len(values)), labels, rotation=90, fontsize=7)
    ax.set_ylabel("seconds per epoch")
    return fig


def _distribution_terms(plt, results):
    curves = [r for r in results.runs if r.distribution_curve is not None]
    if not curves:
        return None
    fig, ax = plt.subplots(figsize=(6, 4))
    seen = set()
    for r in curves:
        if (r.dataset, r.method) in seen:
            continue
        seen.add((r.dataset, r.method))
        ax.plot(
            range(1, len(r.distribution_curve) + 1),
            r.distribution_curve,
            label=f"{r.dataset} {r.method} ({r.n_bits} bits)",
        )
    ax.set(xlabel="epoch", ylabel="L_G (epoch mean)", yscale="symlog")
    ax.legend(fontsize=7)
    return fig
