"""Supervised hashers: labels as scikit-learn takes them, the released SDH and KSH code
run in Octave (``tests/fixtures/make_supervised_fixtures.m``), and model selection."""

from pathlib import Path

import numpy as np
import pytest
import scipy.io
import scipy.linalg
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV

from skhash import CCAITQHasher, COSDISHHasher, ITQHasher, KSHHasher, SDHHasher
from skhash.metrics import map_scorer, mean_average_precision
from skhash.supervised._cosdish import maximise_binary_quadratic
from skhash.supervised._sdh import supervised_discrete_hashing

FIXTURES = Path(__file__).parent / "fixtures"
REF = scipy.io.loadmat(FIXTURES / "supervised_reference.mat", squeeze_me=True)
_INPUT = scipy.io.loadmat(FIXTURES / "supervised_input.mat", squeeze_me=True)
X, XQ = _INPUT["X"], _INPUT["Xq"]
Y = _INPUT["y"].astype(int) - 1
ANCHORS = _INPUT["anchor_rows"].astype(int) - 1
LABELLED = _INPUT["labelled_rows"].astype(int) - 1

SUPERVISED = [
    CCAITQHasher(n_bits=8, random_state=0),
    SDHHasher(n_bits=8, n_anchors=40, random_state=0),
    KSHHasher(n_bits=8, n_anchors=40, random_state=0),
    COSDISHHasher(n_bits=8, random_state=0),
]
ids = [type(h).__name__ for h in SUPERVISED]


@pytest.mark.parametrize("hasher", SUPERVISED, ids=ids)
def test_fit_without_labels_is_a_clear_error(hasher):
    with pytest.raises(ValueError, match="requires y .* supervised hasher, fit\\(X, y\\)"):
        clone(hasher).fit(X)


@pytest.mark.parametrize("hasher", SUPERVISED, ids=ids)
@pytest.mark.parametrize(
    "labels, message",
    [
        (Y[:-1], "y has 239 labels but X has 240 rows"),
        (np.zeros(240), "needs at least two classes"),
        (np.linspace(0, 1, 240), "type 'continuous'"),
        (np.zeros((240, 1)) + np.arange(1), "y has 1 column|at least two classes"),
    ],
    ids=["wrong-length", "one-class", "continuous", "one-column"],
)
def test_bad_labels_are_clear_errors(hasher, labels, message):
    with pytest.raises(ValueError, match=message):
        clone(hasher).fit(X, labels)


@pytest.mark.parametrize("hasher", SUPERVISED, ids=ids)
def test_one_hot_indicator_and_strings_give_the_class_vector_codes(hasher):
    expected = clone(hasher).fit(X, Y).transform(XQ)
    one_hot = np.eye(3, dtype=int)[Y]
    np.testing.assert_array_equal(clone(hasher).fit(X, one_hot).transform(XQ), expected)
    names = np.array(["cat", "dog", "eel"])[Y]
    fitted = clone(hasher).fit(X, names)
    np.testing.assert_array_equal(fitted.transform(XQ), expected)
    assert list(fitted.classes_) == ["cat", "dog", "eel"]


@pytest.mark.parametrize("hasher", SUPERVISED, ids=ids)
def test_multi_label_indicator_is_accepted(hasher):
    multi = np.eye(3, dtype=int)[Y]
    multi[::7, (Y[::7] + 1) % 3] = 1  # every seventh item also has a second label
    codes = clone(hasher).fit(X, multi).transform(XQ)
    assert codes.shape == (60, 8)


@pytest.mark.parametrize("hasher", SUPERVISED, ids=ids)
def test_supervised_codes_beat_itq_on_separable_classes(hasher):
    """Queries are the first 60 training rows, the database the other 180."""
    itq = ITQHasher(n_bits=8, random_state=0).fit(X)
    codes = clone(hasher).fit(X, Y)

    def score(fitted):
        return mean_average_precision(
            fitted.transform(X[:60]), fitted.transform(X[60:]), Y[:60], Y[60:]
        )

    assert score(codes) > score(itq)


def test_grid_search_passes_the_labels_through():
    search = GridSearchCV(
        SDHHasher(n_bits=8, n_anchors=40, random_state=0),
        {"bandwidth": [1.0, "auto"]},
        scoring=map_scorer(),
        cv=2,
        error_score="raise",
    ).fit(X, Y)
    assert set(search.cv_results_["mean_test_score"].round(6)) and search.best_score_ > 0.5


def test_sdh_from_the_released_start_learns_its_projection():
    sigma = float(REF["sdh_sigma"])
    sq = ((X[:, None] - X[ANCHORS][None]) ** 2).sum(axis=2)
    phi = np.hstack([np.exp(-sq / (2 * sigma**2)), np.ones((len(X), 1))])
    Ymat = np.eye(3)[Y]
    P, B, _ = supervised_discrete_hashing(phi, Ymat, _INPUT["Zinit"], 5, 1e-5, 1e-2, 1.0)
    np.testing.assert_array_equal(B, REF["sdh_B"])
    np.testing.assert_allclose(P, REF["sdh_W"], rtol=1e-6, atol=1e-8)
    sdh = SDHHasher(n_bits=8, bandwidth=sigma)
    sdh.anchors_, sdh.bandwidth_, sdh.projection_ = X[ANCHORS], sigma, P
    np.testing.assert_array_equal(sdh._decision_function(XQ) > 0, REF["sdh_codes"])


def test_ksh_on_the_released_anchors_and_labels_learns_its_projections():
    ksh = KSHHasher(n_bits=8)
    ksh._fit_anchors(X, np.eye(3)[Y], X[ANCHORS], LABELLED)
    assert ksh.bandwidth_ == pytest.approx(REF["ksh_sigma"], rel=1e-12)
    np.testing.assert_allclose(ksh.kernel_mean_, REF["ksh_mvec"], rtol=1e-12)
    np.testing.assert_array_equal(ksh.refined_, REF["ksh_flag"].astype(bool))
    signs = np.sign(np.sum(ksh.projection_ * REF["ksh_A"], axis=0))
    np.testing.assert_allclose(ksh.projection_ * signs, REF["ksh_A"], rtol=1e-5, atol=1e-7)
    codes = ksh.transform(XQ)
    flips = signs < 0
    np.testing.assert_array_equal(np.where(flips, 1 - codes, codes), REF["ksh_codes"])


def test_cca_itq_directions_solve_the_generalised_eigenproblem():
    cca = CCAITQHasher(n_bits=2, regularization=1e-4, random_state=0).fit(X, Y)
    centred = X - X.mean(axis=0)
    Ymat = np.eye(3)[Y] - np.eye(3)[Y].mean(axis=0)
    n = len(X) - 1
    Cxx = centred.T @ centred / n + 1e-4 * np.eye(16)
    Cxy = centred.T @ Ymat / n
    Cyy = Ymat.T @ Ymat / n + 1e-4 * np.eye(3)
    values, _ = scipy.linalg.eigh(Cxy @ np.linalg.solve(Cyy, Cxy.T), Cxx)
    np.testing.assert_allclose(cca.correlations_, np.sqrt(values[::-1][:2]), rtol=1e-8)


def test_binary_quadratic_local_search_reaches_a_one_flip_optimum():
    rng = np.random.default_rng(0)
    Q = rng.normal(size=(10, 10))
    Q = Q + Q.T
    np.fill_diagonal(Q, 0)
    g = rng.normal(size=10)
    b = maximise_binary_quadratic(Q, g, np.ones(10))
    value = b @ Q @ b + g @ b
    for i in range(10):
        flipped = b.copy()
        flipped[i] *= -1
        assert flipped @ Q @ flipped + g @ flipped <= value + 1e-12
    assert value >= np.ones(10) @ Q @ np.ones(10) + g.sum()


def test_a_dask_array_fits_on_the_same_sampled_rows_of_X_and_y():
    da = pytest.importorskip("dask.array")
    import skhash

    with skhash.config_context(dask_fit="sample", dask_fit_n_samples=200):
        fitted = SDHHasher(n_bits=8, n_anchors=40, random_state=0).fit(
            da.from_array(X, chunks=50), da.from_array(Y, chunks=50)
        )
    assert fitted.n_features_in_ == 16 and fitted.transform(XQ).shape == (60, 8)
