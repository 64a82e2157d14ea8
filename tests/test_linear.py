import pickle
import warnings

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.datasets import load_digits
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skhash import ITQHasher, LSHHasher, SpectralHasher, pack_codes

HASHERS = [
    LSHHasher(n_bits=16, random_state=0),
    LSHHasher(n_bits=16, threshold="median", random_state=0),
    ITQHasher(n_bits=16, random_state=0),
    ITQHasher(n_bits=16, normalize=True, random_state=0),
    SpectralHasher(n_bits=16),
]
# Packed (little bit order) codes of the first 6 training rows, fixed seeds.
EXPECTED_HEX = [
    "1063cdd4e29ce910c1639830",
    "1163cdd4e29ce990c1639930",
    "43c41e198c8df0310ef7f1e1",
    "45e69a39942770598f5565c9",
    "19c307410121cf4275c62f70",
]


@pytest.fixture(scope="module")
def digits():
    return load_digits().data[:200]


@pytest.mark.parametrize(
    "hasher, expected", list(zip(HASHERS, EXPECTED_HEX, strict=True)), ids=repr
)
def test_exact_codes_for_fixed_seed(hasher, expected, digits):
    codes = clone(hasher).fit_transform(digits)
    assert codes.dtype == np.uint8 and codes.shape == (200, 16)
    assert pack_codes(codes[:6]).tobytes().hex() == expected


@pytest.mark.parametrize("hasher", HASHERS, ids=repr)
def test_fit_transform_equals_fit_then_transform(hasher, digits):
    a = clone(hasher).fit_transform(digits)
    b = clone(hasher).fit(digits).transform(digits)
    np.testing.assert_array_equal(a, b)
    fitted = clone(hasher).fit(digits)
    np.testing.assert_array_equal(fitted.transform(digits), fitted.decision_function(digits) > 0)


@pytest.mark.parametrize("hasher", HASHERS, ids=repr)
def test_pickle_and_clone(hasher, digits):
    fitted = clone(hasher).fit(digits)
    restored = pickle.loads(pickle.dumps(fitted))
    np.testing.assert_array_equal(restored.transform(digits), fitted.transform(digits))
    unfitted = clone(fitted)
    assert unfitted.get_params() == fitted.get_params()
    assert not hasattr(unfitted, "n_features_in_")


@pytest.mark.parametrize("hasher", HASHERS, ids=repr)
def test_pandas_output_and_feature_names(hasher, digits):
    pd = pytest.importorskip("pandas")
    frame = pd.DataFrame(digits, columns=[f"pixel{i}" for i in range(64)])
    out = clone(hasher).set_output(transform="pandas").fit(frame).transform(frame)
    prefix = type(hasher).__name__.lower()
    assert list(out.columns) == [f"{prefix}{i}" for i in range(16)]
    assert out.shape == (200, 16)


@pytest.mark.parametrize("hasher", HASHERS, ids=repr)
def test_in_pipeline_after_scaler(hasher, digits):
    pipe = make_pipeline(StandardScaler(), clone(hasher)).fit(digits)
    scaled = StandardScaler().fit_transform(digits)
    np.testing.assert_array_equal(
        pipe.transform(digits), clone(hasher).fit(scaled).transform(scaled)
    )


@pytest.mark.parametrize("hasher", HASHERS, ids=repr)
def test_float32_input_is_kept(hasher, digits):
    fitted = clone(hasher).fit(digits.astype(np.float32))
    assert fitted.decision_function(digits.astype(np.float32)).dtype == np.float32


def test_lsh_equals_independent_sign_projection(digits):
    codes = LSHHasher(n_bits=24, random_state=7).fit_transform(digits)
    projection = np.random.RandomState(7).standard_normal((64, 24))
    expected = ((digits - digits.mean(axis=0)) @ projection > 0).astype(np.uint8)
    np.testing.assert_array_equal(codes, expected)
    uncentred = LSHHasher(n_bits=24, center=False, random_state=7).fit_transform(digits)
    np.testing.assert_array_equal(uncentred, (digits @ projection > 0).astype(np.uint8))


def test_lsh_median_threshold_balances_bits(digits):
    codes = LSHHasher(n_bits=32, threshold="median", random_state=0).fit_transform(digits)
    np.testing.assert_allclose(codes.mean(axis=0), 0.5, atol=0.05)


def test_lsh_may_have_more_bits_than_features():
    X = np.random.default_rng(0).normal(size=(50, 3))
    assert LSHHasher(n_bits=40, random_state=0).fit_transform(X).shape == (50, 40)


def test_itq_rotation_is_orthogonal_and_lowers_quantization_loss(digits):
    itq = ITQHasher(n_bits=16, random_state=0).fit(digits)
    np.testing.assert_allclose(itq.rotation_ @ itq.rotation_.T, np.eye(16), atol=1e-10)
    np.testing.assert_allclose(itq.components_ @ itq.components_.T, np.eye(16), atol=1e-10)
    assert itq.n_iter_ == 50 and itq.mean_.shape == (64,)
    start = ITQHasher(n_bits=16, n_iter=0, random_state=0).fit(digits)
    assert itq.quantization_loss_ < start.quantization_loss_
    V = (digits - itq.mean_) @ itq.components_.T
    loss_without_rotation = np.sum((np.where(V >= 0, 1, -1) - V) ** 2) / len(V)
    assert itq.quantization_loss_ < loss_without_rotation


def test_itq_rejects_more_bits_than_features():
    X = np.random.default_rng(0).normal(size=(50, 8))
    with pytest.raises(ValueError, match=r"n_bits <= min\(n_samples, n_features\) = 8"):
        ITQHasher(n_bits=9).fit(X)


def test_spectral_hashing_gives_more_bits_than_pca_dims():
    X = np.random.default_rng(0).normal(size=(300, 3)) * [5.0, 1.0, 0.5]
    sh = SpectralHasher(n_bits=10).fit(X)
    assert sh.components_.shape == (3, 3)
    codes = sh.transform(X)
    assert codes.shape == (300, 10)
    # The widest axis carries the most modes: modes 1, 2, 3, ... of axis 0 come first.
    assert sh.modes_[0, 0] == 1 and sh.modes_[1, 0] == 2
    assert (np.count_nonzero(sh.modes_, axis=1) == 1).all()
    assert len({tuple(row) for row in codes.T}) == 10  # no duplicate bits


@pytest.mark.parametrize("hasher", HASHERS, ids=repr)
@pytest.mark.parametrize(
    "X, error, message",
    [
        (np.array([[np.nan, 1.0], [0.0, 1.0], [1.0, 2.0]]), ValueError, "NaN"),
        (np.array([[np.inf, 1.0], [0.0, 1.0], [1.0, 2.0]]), ValueError, "infinity"),
        (np.ones((1, 4)), ValueError, "1 sample"),
        (np.array([[1 + 1j, 2], [3, 4j]]), ValueError, "Complex data not supported"),
        (np.array([["a", "b"], ["c", "d"]]), ValueError, "could not convert"),
        (np.ones((5, 0)), ValueError, "0 feature"),
    ],
)
def test_bad_training_data_raises(hasher, X, error, message):
    with pytest.raises(error, match=message):
        clone(hasher).fit(X)


@pytest.mark.parametrize("hasher", HASHERS, ids=repr)
def test_invalid_n_bits_and_feature_mismatch(hasher, digits):
    with pytest.raises(ValueError, match="'n_bits' parameter .* must be an int in the range"):
        clone(hasher).set_params(n_bits=0).fit(digits)
    fitted = clone(hasher).fit(digits)
    with pytest.raises(ValueError, match="X has 10 features, but .* is expecting 64"):
        fitted.transform(digits[:, :10])
    with pytest.raises(ValueError, match="NaN"):
        fitted.transform(np.full((2, 64), np.nan))


def test_one_feature_works_where_the_method_allows():
    X = np.random.default_rng(0).normal(size=(40, 1))
    assert LSHHasher(n_bits=4, random_state=0).fit_transform(X).shape == (40, 4)
    assert SpectralHasher(n_bits=4).fit_transform(X).shape == (40, 4)
    with pytest.raises(ValueError, match="n_features=1"):
        ITQHasher(n_bits=4).fit(X)


def test_spectral_hashing_is_silent_on_digits_with_constant_pixels():
    import warnings

    X = load_digits().data / 16  # some pixels are always 0: zero-spread principal axes
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        codes = SpectralHasher(n_bits=64).fit(X).transform(X)
    assert codes.shape == (len(X), 64)


def test_itq_float32_rotation_gives_the_float64_codes_up_to_ties():
    """The rotation's products run in float32: against the same loop in float64 (Gong's
    ITQ.m), the codes agree except where a projection is within rounding of zero."""
    from sklearn.utils import check_random_state

    from skhash.linear._itq import itq_rotation
    from skhash.linear._pca import random_rotation

    X = load_digits().data
    itq = ITQHasher(n_bits=32, random_state=0).fit(X)
    V = (X - itq.mean_) @ itq.components_.T
    rotation = random_rotation(32, check_random_state(1), np.float64)
    for _ in range(50):
        u, _, vt = np.linalg.svd(np.where(V @ rotation >= 0, 1.0, -1.0).T @ V)
        rotation = (u @ vt).T
    ours = itq_rotation(V, 50, check_random_state(1))
    np.testing.assert_allclose(ours, rotation, atol=1e-4)
    reference, projected = V @ rotation, V @ ours
    differ = (reference >= 0) != (projected >= 0)
    assert differ.mean() < 1e-3
    assert np.all(np.abs(reference[differ]) < 1e-4 * np.abs(reference).max())


def test_itq_transform_is_one_product_equal_to_centring_then_rotating(digits):
    itq = ITQHasher(n_bits=16, random_state=0).fit(digits)
    expected = ((digits - itq.mean_) @ itq.components_.T) @ itq.rotation_
    np.testing.assert_allclose(itq.decision_function(digits), expected, atol=1e-9)
    np.testing.assert_array_equal(itq.transform(digits), (expected > 0).astype(np.uint8))


@pytest.mark.parametrize("normalize", [False, True])
def test_itq_transform_checks_its_output_for_non_finite_input(normalize):
    """transform skips the pass over X for NaN and infinity: they show in the projections,
    and X is checked only then (huge finite features that overflow are still hashed)."""
    X = np.random.default_rng(0).normal(size=(100, 8))
    itq = ITQHasher(n_bits=4, normalize=normalize, random_state=0).fit(X)
    for bad in (np.nan, np.inf, -np.inf):
        X_bad = X[:5].copy()
        X_bad[2, 3] = bad
        match = "X contains NaN" if np.isnan(bad) else "X contains infinity"
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # the error alone, no numpy RuntimeWarning
            with pytest.raises(ValueError, match=match):
                itq.transform(X_bad)
    # Each row sums to about 2 x 1.7e308 along one bit's projection axis: an overflow.
    huge = 1.7e308 * np.sign((itq.components_.T @ itq.rotation_).T)
    if not normalize:
        assert np.isinf(itq.decision_function(huge)).any()  # the overflow case is exercised
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        np.testing.assert_array_equal(
            itq.transform(huge), (itq.decision_function(huge) > 0).astype(np.uint8)
        )
