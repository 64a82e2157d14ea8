"""The deep hashers' training loop with callbacks: early stopping, schedules, checkpoints."""

import math

import numpy as np
import pytest
from sklearn.base import clone

torch = pytest.importorskip("torch")

from skhash import AEHasher, IDRAEHasher  # noqa: E402
from skhash.deep import Callback, Checkpoint, EarlyStopping, LRScheduler  # noqa: E402

TINY = dict(n_bits=4, hidden_layer_sizes=(8,), batch_size=32, device="cpu", random_state=0)


@pytest.fixture
def X():
    return np.random.default_rng(0).normal(size=(200, 6))


class Recorder(Callback):
    def __init__(self):
        self.events = []

    def on_train_begin(self, hasher):
        self.events.append(("begin", hasher.n_epochs_))

    def on_batch_end(self, hasher, step, terms):
        self.events.append(("batch", step, set(terms)))

    def on_epoch_end(self, hasher, record):
        self.events.append(("epoch", record["epoch"]))

    def on_train_end(self, hasher):
        self.events.append(("end",))


def test_every_hook_is_called_in_order(X):
    recorder = Recorder()
    IDRAEHasher(**TINY, max_epochs=2, callbacks=[recorder]).fit(X)
    steps = [e for e in recorder.events if e[0] == "batch"]
    per_epoch = math.ceil(200 / 32)
    assert recorder.events[0] == ("begin", 2) and recorder.events[-1] == ("end",)
    assert [s[1] for s in steps] == list(range(2 * per_epoch))
    assert steps[0][2] == {"loss", "reconstruction", "distribution"}
    epoch_positions = [i for i, e in enumerate(recorder.events) if e[0] == "epoch"]
    assert epoch_positions == [1 + per_epoch, 2 + 2 * per_epoch]


def test_a_callback_that_returns_true_stops_training(X):
    class StopAfterOne(Callback):
        def on_epoch_end(self, hasher, record):
            return True

    est = AEHasher(**TINY, max_epochs=5, callbacks=[StopAfterOne()]).fit(X)
    assert est.n_iter_ == 1 and est.n_epochs_ == 5


def test_early_stopping_holds_out_rows_and_restores_the_best_epoch(X):
    stopper = EarlyStopping(patience=2)
    est = AEHasher(
        **TINY, max_epochs=200, lr=0.05, validation_fraction=0.25, callbacks=[stopper]
    ).fit(X)
    assert est.n_train_samples_ == 150
    losses = [h["validation_loss"] for h in est.history_]
    assert stopper.stopped_epoch_ == len(losses) < 200
    assert stopper.best_epoch_ == int(np.argmin(losses)) + 1
    assert stopper.stopped_epoch_ - stopper.best_epoch_ == 2
    assert min(losses) < losses[-1]


def test_early_stopping_restores_networks_of_the_best_epoch(X, monkeypatch):
    # Held-out losses that fall then rise: the best epoch is 2, training stops after 4.
    fake = iter([3.0, 1.0, 2.0, 2.5, 9.0])
    monkeypatch.setattr(AEHasher, "_validation_loss", lambda self, X_valid, Y_valid: next(fake))
    snapshots = []

    class Snapshot(Callback):
        def on_epoch_end(self, hasher, record):
            snapshots.append({k: v.clone() for k, v in hasher.module_.state_dict().items()})

    stopper = EarlyStopping(patience=2)
    est = AEHasher(**TINY, max_epochs=10, callbacks=[Snapshot(), stopper]).fit(X)
    assert est.n_iter_ == 4 and stopper.best_epoch_ == 2
    for name, value in est.module_.state_dict().items():
        assert torch.equal(value, snapshots[1][name])


def test_lr_scheduler_steps_every_epoch(X):
    est = AEHasher(
        **TINY, max_epochs=4, lr=1e-2, callbacks=[LRScheduler("StepLR", step_size=1, gamma=0.5)]
    )
    est.fit(X)
    assert [h["lr"] for h in est.history_] == pytest.approx([1e-2, 5e-3, 2.5e-3, 1.25e-3])
    cosine = AEHasher(**TINY, max_epochs=4, callbacks=[LRScheduler()]).fit(X)
    lrs = [h["lr"] for h in cosine.history_]
    assert lrs[0] == pytest.approx(1e-3) and lrs == sorted(lrs, reverse=True)
    with pytest.raises(ValueError, match="has no 'Nope'"):
        AEHasher(**TINY, max_epochs=1, callbacks=[LRScheduler("Nope")]).fit(X)


def test_checkpoint_saves_loadable_state(X, tmp_path):
    path = tmp_path / "ckpt.pt"
    est = IDRAEHasher(**TINY, max_epochs=3, callbacks=[Checkpoint(path, every=2)]).fit(X)
    saved = torch.load(path, weights_only=False)
    assert saved["epoch"] == 2 and len(saved["history"]) == 2
    fresh = clone(est).set_params(callbacks=None, max_epochs=1).fit(X)
    fresh.module_.load_state_dict(saved["module"])
    assert fresh.transform(X).shape == (200, 4)


def test_callbacks_must_be_callback_instances(X):
    with pytest.raises(TypeError, match="callbacks must be a list of skhash.deep.Callback"):
        AEHasher(**TINY, max_epochs=1, callbacks=[print]).fit(X)


def test_early_stopping_validates_its_parameters():
    with pytest.warns(FutureWarning), pytest.raises(ValueError, match="validation_fraction must"):
        EarlyStopping(validation_fraction=1.0)
    with pytest.raises(ValueError, match="patience must be a positive integer"):
        EarlyStopping(patience=0)
    for bad in (math.nan, -0.1, math.inf):
        with pytest.raises(ValueError, match="min_delta must be a finite number"):
            EarlyStopping(min_delta=bad)
    assert EarlyStopping(patience=np.int64(2)).patience == 2


def test_the_hasher_holds_out_validation_rows(X):
    """validation_fraction belongs to the hasher: EarlyStopping alone holds out 0.1, the
    hasher's fraction wins, 0 with EarlyStopping is refused, and the deprecated callback
    fraction still works with a FutureWarning."""
    est = AEHasher(**TINY, max_epochs=1, validation_fraction=0.2).fit(X)
    assert est.n_train_samples_ == 160 and "validation_loss" in est.history_[0]
    assert AEHasher(**TINY, max_epochs=1).fit(X).n_train_samples_ == 200
    early = AEHasher(**TINY, max_epochs=1, callbacks=[EarlyStopping()]).fit(X)
    assert early.n_train_samples_ == 180
    with pytest.raises(ValueError, match="validation_fraction=0: set it above 0"):
        AEHasher(**TINY, max_epochs=1, validation_fraction=0, callbacks=[EarlyStopping()]).fit(X)
    with pytest.warns(FutureWarning, match="set validation_fraction on the hasher"):
        old = EarlyStopping(validation_fraction=0.25)
    assert AEHasher(**TINY, max_epochs=1, callbacks=[old]).fit(X).n_train_samples_ == 150
    with pytest.raises(ValueError, match="'validation_fraction' parameter"):
        AEHasher(**TINY, validation_fraction=1.0).fit(X)


def test_wgan_ae_validation_loss_is_its_training_objective(X):
    from skhash import WGANAEHasher
    from skhash.deep._base import BaseDeepHasher

    est = WGANAEHasher(**TINY, max_epochs=3, callbacks=[EarlyStopping()]).fit(X)
    held_out = [h["validation_loss"] for h in est.history_]
    assert len(held_out) == 3 and all(math.isfinite(v) for v in held_out)

    class StepsOnly(WGANAEHasher):  # a method that trains in steps and has no _loss
        _loss = BaseDeepHasher._loss

    with pytest.raises(ValueError, match="cannot give a validation loss"):
        StepsOnly(**TINY, max_epochs=1, callbacks=[EarlyStopping()]).fit(X)


def test_checkpoint_validates_every(tmp_path):
    for bad in (0, -1, 1.5, True):
        with pytest.raises(ValueError, match="every must be a positive integer"):
            Checkpoint(tmp_path / "c.pt", every=bad)
    assert Checkpoint(tmp_path / "c.pt", every=np.int64(2)).every == 2


def test_fitted_hasher_with_callbacks_pickles(X):
    import pickle

    est = AEHasher(**TINY, max_epochs=3, callbacks=[EarlyStopping(), LRScheduler()]).fit(X)
    again = pickle.loads(pickle.dumps(est))
    np.testing.assert_array_equal(again.transform(X), est.transform(X))


def test_verbose_bar_counts_minibatches(X, capsys):
    pytest.importorskip("tqdm")
    AEHasher(**TINY, max_epochs=2, verbose=True).fit(X)
    err = capsys.readouterr().err
    assert f"{2 * math.ceil(200 / 32)}/{2 * math.ceil(200 / 32)}" in err and "batch" in err
    assert "reconstruction=" in err
