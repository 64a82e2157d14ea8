"""The classic catalogue: exact codes for fixed seeds, each method's defining property
checked against an independent computation, and its bad inputs."""

import numpy as np
import pytest
import scipy.linalg
from sklearn.base import clone
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning

import skhash
from skhash import pack_codes

DIGITS, LABELS = load_digits(return_X_y=True)
X, Y = DIGITS[:200], LABELS[:200]

# Packed (little bit order) codes of the first 6 rows of load_digits()[:200], fixed seeds.
EXACT = {
    "PCAHasher(n_bits=16)": "f1086a6efb5e88ad03b94857",
    "PCAHasher(n_bits=16, rotation='random', random_state=0)": "45c6ba19ae0c50715af5f3f0",
    "SKLSHHasher(n_bits=16, random_state=0)": "3ed27f9a9faa1a8abe0a3e98",
    "SphericalHasher(n_bits=16, random_state=0)": "3e0763fb0e3ce56b4d84212f",
    "AGHHasher(n_bits=16, n_anchors=40, random_state=0)": "3ee50808a6348b5158b48b51",
    "AGHHasher(n_bits=16, n_anchors=40, n_layers=2, random_state=0)": "3e000801a6b88b0658838b1f",
    "DSHHasher(n_bits=16, random_state=0)": "40d1bc2e794e97082abab608",
    "KMeansHasher(n_bits=16, random_state=0)": "232bdff19b826ef5e5363ef2",
    "IsotropicHasher(n_bits=16, random_state=0)": "d29d29e2c4460bd7f7f40bf1",
    "CBEHasher(n_bits=16, random_state=0)": "e03439eb17cb1d9d2eda8d25",
    "CBEHasher(n_bits=16, method='learned', random_state=0)": "0b7ed481fa02407f17b4017f",
    "ScalableGraphHasher(n_bits=16, n_bases=60, random_state=0)": "09a6f3795bc33410938c2028",
    "CCAITQHasher(n_bits=16, random_state=0)": "9ab83d53ac7ac1c24fb476d9",
    "SDHHasher(n_bits=16, n_anchors=60, random_state=0)": "95a5b5dce97986eac299558a",
    "KSHHasher(n_bits=16, n_anchors=60, random_state=0)": "390fc79a4ac3f441a37a9539",
    "COSDISHHasher(n_bits=16, random_state=0)": "6502072da39710d9bc6043ef",
}


@pytest.mark.parametrize("spec, expected", EXACT.items(), ids=list(EXACT))
def test_exact_codes_for_fixed_seed(spec, expected):
    hasher = eval(spec, vars(skhash))
    codes = hasher.fit(X, Y).transform(X)  # unsupervised hashers ignore y
    assert codes.shape == (200, 16) and codes.dtype == np.uint8
    assert pack_codes(codes[:6]).tobytes().hex() == expected
    float32 = clone(hasher).fit(X.astype(np.float32), Y)
    assert float32.decision_function(X[:5].astype(np.float32)).dtype == np.float32


def test_pcah_equals_an_independent_pcah():
    centred = X - X.mean(axis=0)
    _, _, vt = np.linalg.svd(centred, full_matrices=False)
    expected = centred @ vt[:8].T > 0
    codes = skhash.PCAHasher(n_bits=8).fit_transform(X).astype(bool)
    flips = np.mean(codes == expected, axis=0) < 0.5  # eigenvector signs
    np.testing.assert_array_equal(codes ^ flips, expected)


def test_sklsh_auto_gamma_is_the_mean_distance_to_the_50th_neighbour():
    hasher = skhash.SKLSHHasher(n_bits=8, random_state=3).fit(X)
    rows = np.random.RandomState(3).choice(len(X), size=100, replace=False)
    distances = np.sort(np.linalg.norm(X[rows, None] - X[None], axis=2), axis=1)
    assert hasher.gamma_ == pytest.approx(1 / distances[:, 49].mean() ** 2, rel=1e-9)
    explicit = X @ hasher.components_ + hasher.offsets_
    np.testing.assert_array_equal(
        hasher.transform(X), (np.cos(explicit) + hasher.thresholds_ > 0).astype(np.uint8)
    )


def test_spherical_hashing_balances_every_sphere_and_every_pair():
    hasher = skhash.SphericalHasher(n_bits=12, random_state=0).fit(X)
    codes = hasher.transform(X).astype(float)
    np.testing.assert_array_equal(codes.sum(axis=0), len(X) // 2)
    overlaps = (codes.T @ codes)[np.triu_indices(12, k=1)]
    assert np.abs(overlaps - len(X) / 4).mean() <= 0.1 * len(X) / 4


def test_spherical_hashing_warns_when_it_stops_unbalanced():
    with pytest.warns(ConvergenceWarning, match="Increase max_iter"):
        skhash.SphericalHasher(n_bits=32, max_iter=1, random_state=0).fit(X)


def test_isotropic_hashing_gives_every_bit_the_mean_variance():
    hasher = skhash.IsotropicHasher(n_bits=10, random_state=0).fit(X)
    projected = (X - X.mean(axis=0)) @ hasher.components_.T @ hasher.rotation_
    variances = projected.var(axis=0, ddof=1)
    np.testing.assert_allclose(variances, hasher.explained_variance_.mean(), rtol=1e-6)
    np.testing.assert_allclose(hasher.rotation_ @ hasher.rotation_.T, np.eye(10), atol=1e-10)


def test_dsh_planes_bisect_pairs_of_group_centres():
    hasher = skhash.DSHHasher(n_bits=8, random_state=0).fit(X)
    centres = hasher.cluster_centers_
    for normal, intercept in zip(hasher.normals_, hasher.intercepts_, strict=True):
        pair = [
            i
            for i in range(len(centres))
            for j in range(len(centres))
            if np.allclose(centres[i] - centres[j], normal)
        ]
        assert len(pair) == 1
        assert intercept == pytest.approx((centres[pair[0]] - normal / 2) @ normal)


def test_agh_projections_are_the_anchor_graph_eigenvectors():
    hasher = skhash.AGHHasher(n_bits=6, n_anchors=30, random_state=0).fit(X)
    distances = ((X[:, None] - hasher.anchors_[None]) ** 2).sum(axis=2)
    Z = np.zeros_like(distances)
    nearest = np.argsort(distances, axis=1)[:, :2]
    weights = np.exp(-np.take_along_axis(distances, nearest, 1) / hasher.bandwidth_**2)
    np.put_along_axis(Z, nearest, weights / weights.sum(axis=1, keepdims=True), 1)
    graph = Z @ np.diag(1 / Z.sum(axis=0)) @ Z.T
    values, vectors = scipy.linalg.eigh(graph)
    # Eigenvalue 1 belongs to the constant vector of each connected part: left out.
    top = vectors[:, ::-1][:, values[::-1] < 1 - 1e-3][:, :6]
    values = hasher.decision_function(X)
    for j in range(6):  # the same eigenvector, up to sign and scale
        assert abs(np.corrcoef(values[:, j], top[:, j])[0, 1]) > 1 - 1e-8


def test_cbe_equals_the_explicit_circulant_product():
    hasher = skhash.CBEHasher(n_bits=64, random_state=0).fit(X)
    R = scipy.linalg.circulant(hasher.circulant_)  # R[i, j] = r[(i - j) mod d]
    explicit = ((X - hasher.mean_) * hasher.signs_) @ R.T
    np.testing.assert_allclose(hasher.decision_function(X), explicit[:, hasher.bits_], atol=1e-8)


def test_cbe_pads_with_zeros_for_more_bits_than_features():
    hasher = skhash.CBEHasher(n_bits=100, method="learned", random_state=0).fit(X)
    assert hasher.circulant_.shape == (100,) and hasher.transform(X).shape == (200, 100)


def test_kmh_bits_are_the_index_of_the_nearest_codeword():
    hasher = skhash.KMeansHasher(n_bits=8, bits_per_subspace=4, random_state=0).fit(X)
    rotated = (X - hasher.mean_) @ hasher.components_.T
    width = rotated.shape[1] // 2
    expected = []
    for m, codewords in enumerate(hasher.codewords_):
        part = rotated[:, m * width : (m + 1) * width]
        index = ((part[:, None] - codewords[None]) ** 2).sum(axis=2).argmin(axis=1)
        expected.append((index[:, None] >> np.arange(4)) & 1)
    np.testing.assert_array_equal(hasher.transform(X), np.hstack(expected))


def test_kmh_codeword_updates_never_raise_the_objective():
    from skhash.linear._kmh import update_codeword

    rng = np.random.default_rng(0)
    points = rng.normal(size=(300, 3))
    centres = rng.normal(size=(4, 3))
    targets = np.array([[0, 1, 1, 1.4], [1, 0, 1.4, 1], [1, 1.4, 0, 1], [1.4, 1, 1, 0]])
    nearest = ((points[:, None] - centres[None]) ** 2).sum(axis=2).argmin(axis=1)
    counts = np.bincount(nearest, minlength=4).astype(float)
    sums = np.array([points[nearest == j].sum(axis=0) for j in range(4)])

    def objective(c):
        quantisation = sum(((points[nearest == j] - c[j]) ** 2).sum() for j in range(4))
        between = np.linalg.norm(c[:, None] - c[None], axis=2)
        affinity = np.sum(np.outer(counts, counts) * (between - targets) ** 2)
        return quantisation / 300 + 10 * affinity / 300**2

    before = objective(centres)
    for j in range(4):
        centres[j] = update_codeword(j, sums, counts, centres, targets, 300, 10.0)
    assert objective(centres) < before


def test_scalable_graph_hashing_scales_the_data_to_unit_norm():
    hasher = skhash.ScalableGraphHasher(n_bits=8, n_bases=50, random_state=0).fit(X)
    norms = np.linalg.norm((X - hasher.mean_) / hasher.scale_, axis=1)
    assert norms.max() == pytest.approx(1.0)


@pytest.mark.parametrize(
    "hasher, X_bad, message",
    [
        (skhash.KMeansHasher(n_bits=6), X, "multiple of bits_per_subspace"),
        (skhash.KMeansHasher(n_bits=128), X, r"n_bits <= min\(n_samples, n_features\) = 64"),
        (skhash.PCAHasher(n_bits=65), X, r"n_bits <= min\(n_samples, n_features\)"),
        (skhash.IsotropicHasher(n_bits=65), X, r"n_bits <= min\(n_samples, n_features\)"),
        (skhash.DSHHasher(n_bits=200), X, r"round\(alpha \* n_bits\) = 300 samples"),
        (skhash.AGHHasher(n_bits=5, n_layers=2), X, "n_bits must be even"),
        (skhash.AGHHasher(n_bits=64, n_anchors=20), X, "use more anchors"),
        (skhash.AGHHasher(n_nearest_anchors=5, n_anchors=3), X, "use at most n_anchors"),
        (skhash.ScalableGraphHasher(n_bits=64, n_bases=10), X, "n_bits <= n_bases = 10"),
    ],
    ids=lambda v: type(v).__name__ if hasattr(v, "fit") else "",
)
def test_impossible_settings_are_clear_errors(hasher, X_bad, message):
    with pytest.raises(ValueError, match=message):
        hasher.fit(X_bad)


def test_every_hasher_takes_random_state_as_scikit_learn_estimators_do():
    from skhash.utils.discovery import all_estimators

    for name, cls in all_estimators("hasher"):
        assert "random_state" in cls().get_params(), name
    codes = skhash.SpectralHasher(n_bits=8, random_state=3).fit_transform(X)
    np.testing.assert_array_equal(codes, skhash.SpectralHasher(n_bits=8).fit_transform(X))


@pytest.mark.parametrize("name", ["ITQHasher", "SphericalHasher", "SDHHasher"])
def test_images_given_to_a_hasher_get_a_message_about_flattening(name):
    images = DIGITS[:20].reshape(20, 8, 8)
    with pytest.raises(ValueError, match=r"shape \(20, 8, 8\), as images do\. Flatten"):
        getattr(skhash, name)(n_bits=4).fit(images, LABELS[:20])
    fitted = getattr(skhash, name)(n_bits=4).fit(DIGITS[:50], LABELS[:50])
    with pytest.raises(ValueError, match="Flatten each sample"):
        fitted.transform(images)


@pytest.mark.parametrize("bad, what", [(np.nan, "NaN"), (np.inf, "infinity")])
def test_missing_or_infinite_values_get_a_message_naming_the_fix(bad, what):
    data = X.copy()
    data[3, 5] = bad
    with pytest.raises(ValueError, match=f"X contains {what}: ITQHasher hashes .*SimpleImputer"):
        skhash.ITQHasher(n_bits=4).fit(data)
    fitted = skhash.ITQHasher(n_bits=4).fit(X)
    with pytest.raises(ValueError, match=f"X contains {what}"):
        fitted.transform(data)
