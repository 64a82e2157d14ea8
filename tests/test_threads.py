"""``n_jobs``: the thread count inside fit and transform is the one asked for, restored after."""

import numpy as np
import pytest
from threadpoolctl import threadpool_info, threadpool_limits

from skhash.utils.discovery import all_estimators

torch = pytest.importorskip("torch")

HASHERS = dict(all_estimators("hasher"))
TINY = dict(hidden_layer_sizes=(4,), max_epochs=1, batch_size=32, device="cpu")


def blas_threads():
    return {pool["num_threads"] for pool in threadpool_info()}


@pytest.mark.parametrize("name", sorted(HASHERS))
@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")  # tiny fits
@pytest.mark.parametrize("n_jobs", [None, 2])
def test_threads_inside_fit_and_transform_are_n_jobs_and_restored(name, n_jobs, monkeypatch):
    cls = HASHERS[name]
    deep = cls._uses_torch
    est = cls(n_bits=4, n_jobs=n_jobs)
    if deep:
        est.set_params(**TINY, random_state=0)
    seen = []

    def record(method):
        def wrapped(self, *args, **kwargs):
            if kwargs.get("reset", True):  # _validate_X: only the call inside fit
                seen.append((blas_threads(), torch.get_num_threads()))
            return method(self, *args, **kwargs)

        return wrapped

    hook = "_build_modules" if deep else "_validate_X"
    monkeypatch.setattr(cls, hook, record(getattr(cls, hook)))
    monkeypatch.setattr(cls, "_decision_function", record(cls._decision_function))
    X = np.random.default_rng(0).normal(size=(64, 6))
    before_torch = torch.get_num_threads()
    with threadpool_limits(limits=3):
        torch.set_num_threads(3)
        try:
            est.fit(X, np.arange(len(X)) % 3).transform(X)  # unsupervised ones ignore y
            after = (blas_threads(), torch.get_num_threads())
        finally:
            torch.set_num_threads(before_torch)
    expected = 1 if n_jobs is None else n_jobs
    inside = [s for s in seen if s[0]]  # a BLAS library is loaded (numpy's always is)
    assert inside and all(blas == {expected} for blas, _ in inside)
    if deep:
        assert all(t == expected for _, t in seen)
    assert after == ({3}, 3)


@pytest.mark.parametrize("name", sorted(HASHERS))
def test_n_jobs_zero_is_refused(name):
    with pytest.raises(ValueError, match="'n_jobs' parameter"):
        HASHERS[name](n_bits=4, n_jobs=0).fit(np.zeros((10, 5)) + np.arange(5))
