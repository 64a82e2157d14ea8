"""scikit-learn's estimator checks over every skhash estimator."""

import pickle

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.utils._param_validation import StrOptions
from sklearn.utils.estimator_checks import parametrize_with_checks

from skhash import LSHHasher
from skhash.utils.discovery import all_estimators

# The checks feed tiny random (or scaled-up) data, on which the collapse and unscaled-input
# warnings are the right answer; they are tested in test_bad_inputs.py, not counted here.
pytestmark = [
    pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning"),
    pytest.mark.filterwarnings("ignore:.*X holds values up to:UserWarning"),
    pytest.mark.filterwarnings("ignore:SSDHHasher. no pair of the:UserWarning"),
]

# Tiny deep hashers: one hidden layer of 8 units, 2 epochs, CPU.
_TINY = dict(hidden_layer_sizes=(8,), max_epochs=2, batch_size=16, device="cpu", random_state=0)

# Per class: small settings so that the checks' tiny data sets suffice.
_SMALL = {
    "ITQHasher": dict(n_bits=2, n_iter=5, random_state=0),
    "PCAHasher": dict(n_bits=2),
    "IsotropicHasher": dict(n_bits=2, n_iter=5),
    "KMeansHasher": dict(n_bits=2, bits_per_subspace=1, n_iter=2),
    "AGHHasher": dict(n_anchors=5, n_bits=2),
    "ScalableGraphHasher": dict(n_bases=5),
    "CBEHasher": dict(max_iter=5),
    "CCAITQHasher": dict(n_bits=2, n_iter=5),
    "SDHHasher": dict(n_anchors=5, n_iter=2),
    "KSHHasher": dict(n_anchors=5, n_iter=5),
    "COSDISHHasher": dict(n_iter=2),
    "SpectralHasher": dict(n_bits=3),
    "WGANAEHasher": dict(n_critic=2, critic_hidden_layer_sizes=(8,)),
}
# Parameter values that switch behaviour: each gets its own instance.
_VARIANTS = {
    "LSHHasher": [dict(threshold="median"), dict(center=False)],
    "ITQHasher": [dict(normalize=True)],
    "PCAHasher": [dict(rotation="random")],
    "AGHHasher": [dict(n_layers=2)],
    "CBEHasher": [dict(method="learned")],
    "SKLSHHasher": [dict(gamma=0.5)],
    "IDRAEHasher": [
        dict(schedule="alternating", distance="squared"),
        dict(init="random", scaling="feature"),
        dict(scaling="global"),
    ],
    "AEHasher": [dict(init="random")],
    "LPAEHasher": [dict(init="itq")],
    "WGANAEHasher": [dict(lipschitz="clip"), dict(lipschitz="gp")],
    "SGHHasher": [dict(stochastic=False, hidden_layer_sizes=())],
}


def _instance(cls, **variant):
    params = set(cls().get_params())
    settings = dict(n_bits=4) if "n_bits" in params else {}
    if "max_epochs" in params:
        settings.update(_TINY)
    elif "random_state" in params:
        settings["random_state"] = 0
    settings.update(_SMALL.get(cls.__name__, {}))
    settings.update(variant)
    return cls(**settings)


def _discovered_estimators():
    estimators = []
    for name, cls in all_estimators():
        if name == "HammingRetriever":
            estimators.append(
                cls(LSHHasher(n_bits=4, random_state=0), n_neighbors=1, backend="numpy")
            )
            continue
        if "Features" in name:  # image input: checked in test_features.py
            continue
        estimators.append(_instance(cls))
        estimators += [_instance(cls, **variant) for variant in _VARIANTS.get(name, [])]
    return estimators


ESTIMATORS = _discovered_estimators()


# Switches whose values the common checks cannot or need not run, and where they are tested.
_SWITCHES_TESTED_ELSEWHERE = {
    "activation": "a torch activation looked up by name (test_deep.py: test_bad_parameters)",
    "optimizer": "a torch.optim class looked up by name (test_deep.py: test_bad_parameters)",
    "max_epochs": "'auto' sets the number of epochs only (test_deep.py: test_auto_epochs_*)",
    "layer": "image input (test_features.py)",
    "hasher": "'passthrough' takes 0/1 codes, which the checks' data is not (test_neighbors.py)",
    "backend": "each backend against brute force (test_neighbors.py)",
    "bitorder": "packed input (test_neighbors.py, test_codes_io.py)",
    "algorithm": "every algorithm against brute force (test_mih.py)",
}


def _switches(cls):
    """``(parameter, value, constraints)`` of every string option and boolean of ``cls``."""
    for name, constraints in getattr(cls, "_parameter_constraints", {}).items():
        for constraint in constraints:
            if isinstance(constraint, StrOptions):
                values = sorted(constraint.options - constraint.deprecated)
            elif isinstance(constraint, str) and constraint == "boolean":
                values = [True, False]
            else:
                continue
            for value in values:
                yield name, value, constraints


def test_every_switching_parameter_value_has_an_instance():
    """Every value of every string option and boolean in the estimators' parameter
    constraints is run by the common checks, by this class or one sharing that constraint
    (the same code path), unless it is tested elsewhere for a reason given above."""
    ran = {
        (id(type(e)._parameter_constraints[k]), k, repr(v))
        for e in ESTIMATORS
        for k, v in e.get_params().items()
        if k in getattr(type(e), "_parameter_constraints", {})
    }
    missing = [
        (name, param, value)
        for name, cls in all_estimators()
        for param, value, constraints in _switches(cls)
        if param not in _SWITCHES_TESTED_ELSEWHERE
        and (id(constraints), param, repr(value)) not in ran
    ]
    assert not missing, f"add an instance to _VARIANTS for each of {missing}"
    names = {type(e).__name__ for e in ESTIMATORS}
    assert {"BiHalfHasher", "GreedyHashHasher", "IDRAEHasher", "HammingRetriever"} <= names


# Each entry: check name -> the reason it cannot pass for that estimator.
EXPECTED_FAILED_CHECKS = {
    "CBEHasher": {
        "check_transformer_n_iter": "random CBE (the default) draws its projection and runs "
        "no iterations; n_iter_ exists for method='learned' only"
    },
}


def expected_failed_checks(estimator):
    return EXPECTED_FAILED_CHECKS.get(type(estimator).__name__, {})


@parametrize_with_checks(ESTIMATORS, expected_failed_checks=expected_failed_checks)
def test_sklearn_compatible(estimator, check):
    check(estimator)


@pytest.mark.parametrize("estimator", ESTIMATORS, ids=lambda e: type(e).__name__)
def test_fitted_estimator_pickles_to_identical_codes(estimator):
    X = np.random.default_rng(0).normal(size=(60, 6))
    fitted = _fit(clone(estimator), X)
    restored = pickle.loads(pickle.dumps(fitted))
    np.testing.assert_array_equal(_output(restored, X), _output(fitted, X))


def _fit(estimator, X):
    """Fit, with three classes of labels for the supervised hashers."""
    if estimator.__sklearn_tags__().target_tags.required:
        return estimator.fit(X, np.arange(len(X)) % 3)
    return estimator.fit(X)


def _output(estimator, X):
    """Codes of a hasher, neighbours of a retriever."""
    if hasattr(estimator, "transform"):
        return estimator.transform(X)
    return estimator.kneighbors(X)[1]


HASHERS = [e for e in ESTIMATORS if hasattr(e, "decision_function")]


@pytest.mark.parametrize("hasher", HASHERS, ids=lambda e: type(e).__name__)
def test_hasher_contract(hasher):
    """0/1 uint8 codes that are the signs of decision_function; seeded fits are identical."""
    X = np.random.default_rng(1).normal(size=(80, 6))
    first = _fit(clone(hasher), X)
    codes = first.transform(X)
    assert codes.dtype == np.uint8 and codes.shape == (80, hasher.n_bits)
    assert set(np.unique(codes)) <= {0, 1}
    np.testing.assert_array_equal(codes, (first.decision_function(X) > 0).astype(np.uint8))
    np.testing.assert_array_equal(_fit(clone(hasher), X).transform(X), codes)
