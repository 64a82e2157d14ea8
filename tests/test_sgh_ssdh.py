"""SGHHasher (stochastic generative hashing) and SSDHHasher (semantic structure deep hashing)."""

import numpy as np
import pytest
from conftest import check_seeded_fit, load_shared

torch = pytest.importorskip("torch")

from scipy.spatial.distance import cdist, pdist  # noqa: E402
from scipy.stats import norm  # noqa: E402
from sklearn.model_selection import train_test_split  # noqa: E402

from skhash import LSHHasher, SGHHasher, SSDHHasher  # noqa: E402
from skhash.deep import _ssdh  # noqa: E402
from skhash.deep._sgh import _DoublyStochasticNeuron  # noqa: E402
from skhash.metrics import mean_average_precision  # noqa: E402

TINY = dict(n_bits=6, max_epochs=3, batch_size=32, device="cpu")
ALL = [
    SGHHasher(**TINY),
    SGHHasher(stochastic=False, **TINY),
    SGHHasher(hidden_layer_sizes=(16,), **TINY),
    SSDHHasher(**TINY),
    SSDHHasher(hidden_layer_sizes=(16,), n_threshold_samples=50, **TINY),
]
IDS = ["sgh", "sgh-fixed-eps", "sgh-mlp", "ssdh", "ssdh-mlp-sampled"]


@pytest.fixture(scope="module")
def X():
    rng = np.random.default_rng(0)
    centres = rng.uniform(size=(4, 12))
    noisy = centres[rng.integers(0, 4, 200)] + 0.1 * rng.normal(size=(200, 12))
    return np.abs(noisy).astype(np.float32)


# ---------------------------------------------------------------------------- shared behaviour
@pytest.mark.parametrize("estimator", ALL, ids=IDS)
def test_seed_gives_identical_codes_and_leaves_global_rng(estimator, X):
    check_seeded_fit(estimator, X)


@pytest.mark.parametrize("estimator", ALL, ids=IDS)
def test_history_and_fitted_state(estimator, X):
    est = estimator.set_params(random_state=0).fit(X)
    assert est.n_iter_ == 3 and [h["epoch"] for h in est.history_] == [1, 2, 3]
    terms = {"code", "reconstruction", "weight_penalty"}
    if isinstance(est, SSDHHasher):
        terms = {"similar_pairs", "dissimilar_pairs"}
    assert set(est.history_[0]) == {"loss", "epoch", "time"} | terms
    assert not est.module_.training and not hasattr(est, "optimizers_")
    assert not hasattr(est, "_feature_moments")


@pytest.mark.parametrize(
    "estimator, params, match",
    [
        (SGHHasher, {"alpha": -1.0}, "'alpha' parameter"),
        (SGHHasher, {"stochastic": "yes"}, "'stochastic' parameter"),
        (SGHHasher, {"hidden_layer_sizes": (0,)}, "hidden_layer_sizes must be a sequence"),
        (SSDHHasher, {"alpha": -2.0}, "'alpha' parameter"),
        (SSDHHasher, {"n_threshold_samples": 1}, "'n_threshold_samples' parameter"),
        (SSDHHasher, {"device": "tpu-9"}, "device='tpu-9' is not a torch device"),
    ],
)
def test_bad_parameters(estimator, params, match, X):
    with pytest.raises(ValueError, match=match):
        estimator(**{**TINY, **params}).fit(X)


@pytest.mark.parametrize("estimator", [SGHHasher, SSDHHasher])
def test_bad_input(estimator, X):
    bad = X.copy()
    bad[3, 2] = np.inf
    with pytest.raises(ValueError, match="infinity"):
        estimator(**TINY).fit(bad)
    with pytest.raises(ValueError, match="Expected 2D array"):
        estimator(**TINY).fit(X[:, 0])
    fitted = estimator(**TINY, random_state=0).fit(X)
    with pytest.raises(ValueError, match="12 features"):
        fitted.transform(X[:, :5])


# ---------------------------------------------------------------------------- SGH
def test_doubly_stochastic_neuron_forward_and_gradient():
    logits = torch.tensor([[-2.0, 0.0, 1.0, 3.0]], dtype=torch.float64, requires_grad=True)
    eps = torch.tensor([[0.1, 0.6, 0.5, 0.99]], dtype=torch.float64)
    h = _DoublyStochasticNeuron.apply(logits, eps)
    # sigmoid = 0.119, 0.5, 0.731, 0.953
    np.testing.assert_array_equal(h.detach().numpy(), [[1.0, 0.0, 1.0, 0.0]])
    weights = torch.tensor([[1.0, -2.0, 0.5, 4.0]], dtype=torch.float64)
    (h * weights).sum().backward()
    prob = torch.sigmoid(logits.detach())
    # For a loss linear in h, E_eps[h] = sigmoid(logits): the estimator is exact.
    torch.testing.assert_close(logits.grad, weights * prob * (1 - prob))


def test_sgh_encoder_is_linear_and_codes_threshold_half(X):
    est = SGHHasher(**TINY, random_state=0).fit(X)
    (linear,) = est.module_["encoder"]
    W = linear.weight.detach().numpy()
    b = linear.bias.detach().numpy()
    np.testing.assert_allclose(est.decision_function(X), X @ W.T + b, rtol=1e-5, atol=1e-5)
    prob = 1 / (1 + np.exp(-(X @ W.T + b)))
    np.testing.assert_array_equal(est.transform(X), (prob > 0.5).astype(np.uint8))


def test_sgh_loss_terms_match_a_direct_computation(X):
    est = SGHHasher(**TINY, stochastic=False, alpha=0.3, beta=0.2, random_state=0).fit(X)
    batch = torch.tensor(X[:50])
    with torch.no_grad():
        terms = est._loss(batch)
    (linear,) = est.module_["encoder"]
    decoder = est.module_["decoder"]
    W, b, U, scale, shift = (
        p.detach().numpy().astype(float)
        for p in (linear.weight, linear.bias, decoder.weight, decoder.scale, decoder.shift)
    )
    logits = X[:50] @ W.T + b
    h = (logits > 0).astype(float)
    x_hat = (h @ U) * np.abs(scale) + shift
    reconstruction = 0.5 * ((x_hat - X[:50]) ** 2).sum() / 50
    prob = 1 / (1 + np.exp(-logits))
    code = -(h * np.log(prob) + (1 - h) * np.log(1 - prob)).sum() / 50
    penalty = 0.5 * ((W**2).sum() + (U**2).sum()) / 50
    assert float(terms["reconstruction"]) == pytest.approx(reconstruction, rel=1e-4)
    assert float(terms["code"]) == pytest.approx(code, rel=1e-4)
    assert float(terms["weight_penalty"]) == pytest.approx(penalty, rel=1e-4)
    expected = reconstruction + 0.3 * code + 0.2 * penalty
    assert float(terms["loss"]) == pytest.approx(expected, rel=1e-4)


def test_sgh_learns_to_reconstruct(X):
    """The decoder starts at the data mean; training lowers the reconstruction error."""
    est = SGHHasher(**{**TINY, "max_epochs": 30}, random_state=0).fit(X)
    mean_error = 0.5 * ((X - X.mean(axis=0)) ** 2).sum(axis=1).mean()
    first, last = est.history_[0]["reconstruction"], est.history_[-1]["reconstruction"]
    assert last < 0.5 * mean_error and last < 0.5 * first


def test_sgh_stochastic_and_fixed_eps_train_differently(X):
    stochastic = SGHHasher(**TINY, random_state=0).fit(X)
    fixed = SGHHasher(**TINY, stochastic=False, random_state=0).fit(X)
    assert stochastic.history_[0]["loss"] != fixed.history_[0]["loss"]


# ---------------------------------------------------------------------------- SSDH
def _reference_thresholds(X, alpha):
    """The released code's recipe on all pairs i < j, with scipy."""
    distances = pdist(X.astype(np.float64), "cosine")
    counts, edges = np.histogram(distances, bins=200, range=(0, 2))
    mode = edges[np.argmax(counts)]
    left, right = distances[distances <= mode], distances[distances > mode]
    _, sigma_left = norm.fit(np.concatenate([left, 2 * mode - left]))
    _, sigma_right = norm.fit(np.concatenate([2 * mode - right, right]))
    return mode, mode - alpha * sigma_left, mode + alpha * sigma_right


def test_ssdh_thresholds_match_the_reference(X, monkeypatch):
    monkeypatch.setattr(_ssdh, "_DISTANCE_BLOCK", 37)  # several blocks, a ragged last one
    got = _ssdh.fit_similarity_thresholds(torch.tensor(X), 1.5)
    np.testing.assert_allclose(got, _reference_thresholds(X, 1.5), rtol=1e-5)

    est = SSDHHasher(**TINY, alpha=1.5, random_state=0).fit(X)  # the sample is all of X
    fitted = (est.distance_mode_, est.similar_threshold_, est.dissimilar_threshold_)
    np.testing.assert_allclose(fitted, _reference_thresholds(X, 1.5), rtol=1e-5)
    assert est.similar_threshold_ < est.distance_mode_ < est.dissimilar_threshold_


def test_ssdh_learns_thresholds_from_a_bounded_sample(X, monkeypatch):
    seen = []
    original = _ssdh.fit_similarity_thresholds

    def recording(sample, alpha):
        seen.append(sample)
        return original(sample, alpha)

    monkeypatch.setattr(_ssdh, "fit_similarity_thresholds", recording)
    est = SSDHHasher(**TINY, n_threshold_samples=40, random_state=0).fit(X)
    (sample,) = seen
    assert sample.shape == (40, 12)
    # Distinct rows of X: a sample without replacement.
    rows = {tuple(row) for row in sample.numpy()}
    assert len(rows) == 40 and rows <= {tuple(row) for row in X}
    assert est.distance_mode_ == pytest.approx(_reference_thresholds(sample.numpy(), 2.0)[0])


def test_ssdh_minibatch_loss_matches_a_direct_computation(X):
    est = SSDHHasher(**TINY, random_state=0).fit(X)
    batch = X[:40]
    with torch.no_grad():
        terms = est._loss(torch.tensor(batch))
    distances = cdist(batch, batch, "cosine")
    S = (distances < est.similar_threshold_).astype(float)
    S -= distances > est.dissimilar_threshold_
    Z = np.tanh(est.decision_function(batch).astype(float))
    expected = (np.abs(S) * (Z @ Z.T / 6 - S) ** 2).mean()
    assert float(terms["loss"]) == pytest.approx(expected, rel=1e-4)
    assert float(terms["similar_pairs"]) == pytest.approx((S == 1).mean())
    assert float(terms["dissimilar_pairs"]) == pytest.approx((S == -1).mean())
    assert 0 < (S == 1).mean() < 1 and 0 < (S == -1).mean() < 1


def test_ssdh_training_fits_the_pseudo_similarities(X):
    est = SSDHHasher(**{**TINY, "max_epochs": 20}, lr=1e-2, random_state=0).fit(X)
    assert est.loss_curve_[-1] < 0.5 * est.loss_curve_[0]


# ---------------------------------------------------------------------------- quality
@pytest.mark.quality
def test_both_beat_lsh_on_cifar_features_at_64_bits():
    """Reduced run of benchmarks/bench_sgh_ssdh_quality.py: 3000 database rows, 500 queries.

    Full run (9000 / 1000, default epochs): benchmarks/bench_sgh_ssdh_quality.py.
    """
    data = load_shared("cifar10_test_efficientnet_lite0.npz")
    order = np.random.default_rng(0).permutation(len(data["labels"]))
    X, y = data["features"][order].astype(np.float32), data["labels"][order]
    X_db, X_query, y_db, y_query = train_test_split(
        X[:3500], y[:3500], test_size=500, stratify=y[:3500], random_state=0
    )

    def score(hasher):
        hasher.fit(X_db)
        codes = hasher.transform(X_query), hasher.transform(X_db)
        return mean_average_precision(*codes, y_query, y_db)

    lsh = score(LSHHasher(n_bits=64, random_state=0))
    sgh = score(SGHHasher(n_bits=64, max_epochs=10, device="cpu", random_state=0))
    ssdh = score(SSDHHasher(n_bits=64, max_epochs=10, device="cpu", random_state=0))
    assert sgh > lsh + 0.03, (sgh, lsh)
    assert ssdh > lsh + 0.03, (ssdh, lsh)


def test_exported_lazily_from_skhash():
    import skhash
    import skhash.deep

    for name in ["SGHHasher", "SSDHHasher"]:
        assert name in skhash.__all__ and name in dir(skhash)
        assert getattr(skhash, name) is getattr(skhash.deep, name)
