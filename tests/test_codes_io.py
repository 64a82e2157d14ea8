"""Code files (save_codes/load_codes) and the retriever on memory-mapped packed codes."""

import os
import pickle
import tracemalloc

import numpy as np
import pytest
import sklearn

from skhash import HammingRetriever, PackedCodes, load_codes, pack_codes, save_codes


def random_codes(rng, n, n_bits):
    return (rng.random((n, n_bits)) < 0.5).astype(np.uint8)


@pytest.mark.parametrize("bitorder", ["little", "big"])
@pytest.mark.parametrize("n_bits", [5, 64, 77])
@pytest.mark.parametrize("mmap_mode", [None, "r"])
def test_save_load_round_trip(tmp_path, bitorder, n_bits, mmap_mode):
    codes = random_codes(np.random.default_rng(n_bits), 50, n_bits)
    path = tmp_path / "codes.npy"
    save_codes(path, codes, bitorder=bitorder)
    loaded = load_codes(path, mmap_mode=mmap_mode)
    assert (loaded.n_bits, loaded.bitorder, loaded.shape) == (n_bits, bitorder, (50, n_bits))
    assert isinstance(loaded.packed, np.memmap) == (mmap_mode is not None)
    np.testing.assert_array_equal(loaded.packed, pack_codes(codes, bitorder))
    np.testing.assert_array_equal(loaded.unpack(), codes)
    np.testing.assert_array_equal(loaded.unpack(10, 20), codes[10:20])
    # A plain .npy file: numpy reads it without skhash.
    plain = np.load(path)
    np.testing.assert_array_equal(plain[plain.dtype.names[0]], pack_codes(codes, bitorder))
    # PackedCodes are written as they are.
    save_codes(tmp_path / "again.npy", loaded)
    again = load_codes(tmp_path / "again.npy")
    assert again.bitorder == bitorder
    np.testing.assert_array_equal(again.unpack(), codes)


def test_memory_mapped_codes_pickle_by_reference(tmp_path):
    codes = random_codes(np.random.default_rng(0), 20_000, 64)
    save_codes(tmp_path / "codes.npy", codes)
    mapped = load_codes(tmp_path / "codes.npy", mmap_mode="r")
    restored = pickle.loads(pickle.dumps(mapped))
    assert len(pickle.dumps(mapped)) < 1000  # the path, not 160 kB of codes
    assert isinstance(restored.packed, np.memmap)
    np.testing.assert_array_equal(restored.unpack(), codes)
    in_memory = PackedCodes(np.array(mapped.packed[:10]), 64)
    np.testing.assert_array_equal(pickle.loads(pickle.dumps(in_memory)).unpack(), codes[:10])


def test_bad_files_and_arguments(tmp_path):
    np.save(tmp_path / "plain.npy", np.zeros((3, 2), dtype=np.uint8))
    with pytest.raises(ValueError, match="not a code file written by skhash.save_codes"):
        load_codes(tmp_path / "plain.npy")
    with pytest.raises(ValueError, match="must hold only 0 and 1"):
        save_codes(tmp_path / "x.npy", [[0, 2]])
    with pytest.raises(ValueError, match="'bitorder' parameter of save_codes"):
        save_codes(tmp_path / "x.npy", [[0, 1]], bitorder="middle")
    with pytest.raises(ValueError, match="n_bits=12 needs 2"):
        PackedCodes(np.zeros((3, 1), dtype=np.uint8), n_bits=12)


@pytest.mark.parametrize("n_bits", [12, 64, 130])
def test_retriever_on_packed_file_matches_in_memory_search(tmp_path, n_bits):
    rng = np.random.default_rng(n_bits)
    db = random_codes(rng, 800, n_bits)
    db[400:450] = db[0]  # many exact ties across database blocks
    queries = np.vstack([random_codes(rng, 40, n_bits), db[:3]])
    save_codes(tmp_path / "db.npy", db, bitorder="big")
    reference = HammingRetriever(n_neighbors=25, backend="numpy").fit(db)
    # A tiny working memory: the database is searched in several blocks.
    with sklearn.config_context(working_memory=0.01):
        mapped = HammingRetriever(n_neighbors=25).fit(load_codes(tmp_path / "db.npy", "r"))
        threaded = HammingRetriever(n_neighbors=25, n_jobs=2).fit(mapped.packed_codes_)
        assert mapped.codes_ is None and mapped.backend_ == "numpy"
        assert -(-len(db) // mapped._index._plan(len(queries))[1]) >= 3  # database blocks
        np.testing.assert_array_equal(
            threaded.kneighbors(queries)[1], reference.kneighbors(queries)[1]
        )
        for X in (queries, None):
            dist, ind = mapped.kneighbors(X)
            ref_dist, ref_ind = reference.kneighbors(X)
            np.testing.assert_array_equal(ind, ref_ind)
            np.testing.assert_array_equal(dist, ref_dist)
            r_dist, r_ind = mapped.radius_neighbors(X, radius=n_bits // 2 - 3)
            ref_r_dist, ref_r_ind = reference.radius_neighbors(X, radius=n_bits // 2 - 3)
            for a, b, c, d in zip(r_dist, ref_r_dist, r_ind, ref_r_ind, strict=True):
                np.testing.assert_array_equal(a, b)
                np.testing.assert_array_equal(c, d)
    restored = pickle.loads(pickle.dumps(mapped))
    assert len(pickle.dumps(mapped)) < 2000  # the file's path, not its codes
    np.testing.assert_array_equal(restored.kneighbors(queries)[1], reference.kneighbors(queries)[1])


def test_packed_fit_rejects_a_hasher_and_bitorder():
    packed = PackedCodes.from_codes(np.eye(4, dtype=np.uint8))
    with pytest.raises(ValueError, match="hasher='passthrough' and bitorder=None"):
        HammingRetriever(bitorder="big").fit(packed)
    with pytest.raises(ValueError, match="holds no codes"):
        HammingRetriever().fit(PackedCodes(np.zeros((0, 1), dtype=np.uint8), n_bits=4))
    with pytest.raises(ValueError, match="y has .* labels but there are"):
        HammingRetriever().fit(packed, [0, 1])
    queries, y = np.eye(4, dtype=np.uint8), [0, 0, 1, 1]
    in_memory = HammingRetriever().fit(packed.unpack(), y).score(queries, y)
    assert HammingRetriever().fit(packed, y).score(queries, y) == in_memory == 0.875


def test_search_of_memory_mapped_codes_uses_bounded_memory(tmp_path):
    """An 8 MB code file searched with 0.5 MB of working memory allocates about 1 MB."""
    n_db, n_bytes = 1_000_000, 8
    raw = np.memmap(tmp_path / "raw.bin", dtype=np.uint8, mode="w+", shape=(n_db, n_bytes))
    rng = np.random.default_rng(0)
    for start in range(0, n_db, 250_000):  # never hold the whole database
        raw[start : start + 250_000] = rng.integers(0, 256, (250_000, n_bytes), dtype=np.uint8)
    raw.flush()
    save_codes(tmp_path / "db.npy", PackedCodes(raw, n_bits=64))
    db = load_codes(tmp_path / "db.npy", mmap_mode="r")
    queries = db.unpack(1000, 1020)
    with sklearn.config_context(working_memory=0.5):
        retriever = HammingRetriever(n_neighbors=10).fit(db)
        tracemalloc.start()
        dist, ind = retriever.kneighbors(queries)
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    assert peak < db.packed.nbytes / 4, f"peak {peak} bytes for a {db.packed.nbytes} B file"
    assert np.all(ind[:, 0] == np.arange(1000, 1020)) and np.all(dist[:, 0] == 0)
    faiss = pytest.importorskip("faiss", reason="faiss-cpu not installed (reference search)")
    index = faiss.IndexBinaryFlat(64)
    index.add(np.asarray(db.packed))
    ref_dist, _ = index.search(np.asarray(db.packed[1000:1020]), 10)
    np.testing.assert_array_equal(dist, ref_dist)


def test_loading_never_opens_a_code_file_writable(tmp_path):
    path = save_codes(tmp_path / "c.npy", [[0, 1, 1], [1, 0, 0]])
    size = os.path.getsize(path)
    for mode in ("w+", "r+"):
        with pytest.raises(ValueError, match="'mmap_mode' parameter of load_codes"):
            load_codes(path, mmap_mode=mode)
    assert os.path.getsize(path) == size
    np.testing.assert_array_equal(load_codes(path, mmap_mode="c").unpack(), [[0, 1, 1], [1, 0, 0]])


# --- files that are never lost ------------------------------------------------------------


def test_a_failed_save_leaves_the_old_file_whole_and_no_temporary(tmp_path, monkeypatch):
    from skhash.codes import _io

    path = tmp_path / "codes.npy"
    old = random_codes(np.random.default_rng(0), 300, 64)
    save_codes(path, old)
    monkeypatch.setattr(_io, "_WRITE_BLOCK_BYTES", 64 * 8)  # many blocks

    calls = []

    def interrupted(codes, bitorder):
        calls.append(1)
        if len(calls) == 3:
            raise KeyboardInterrupt  # Ctrl-C in the middle of the save
        return pack_codes(codes, bitorder)

    monkeypatch.setattr(_io, "pack_codes", interrupted)
    with pytest.raises(KeyboardInterrupt):
        save_codes(path, random_codes(np.random.default_rng(1), 300, 64))
    np.testing.assert_array_equal(load_codes(path).unpack(), old)
    assert os.listdir(tmp_path) == ["codes.npy"]


def test_a_full_disk_is_an_oserror_and_keeps_the_old_file(tmp_path, monkeypatch):
    import errno

    path = tmp_path / "codes.npy"
    old = random_codes(np.random.default_rng(0), 100, 16)
    save_codes(path, old)

    def full(fd, offset, length):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "posix_fallocate", full, raising=False)
    with pytest.raises(OSError, match="No space left"):
        save_codes(path, random_codes(np.random.default_rng(1), 100, 16))
    np.testing.assert_array_equal(load_codes(path).unpack(), old)
    assert os.listdir(tmp_path) == ["codes.npy"]


def test_a_killed_save_leaves_the_old_file_or_the_new_one(tmp_path):
    """SIGKILL at random moments of repeated saves: the file always loads, whole."""
    import signal
    import subprocess
    import sys
    import time

    path = tmp_path / "codes.npy"
    first = np.zeros((2_000_000, 64), dtype=np.uint8)
    save_codes(path, first)
    script = (
        "import numpy as np, sys\n"
        "from skhash import save_codes\n"
        "codes = np.ones((2_000_000, 64), dtype=np.uint8)\n"
        "print('ready', flush=True)\n"
        "while True:\n"
        "    save_codes(sys.argv[1], codes)\n"
    )
    for delay in (0.05, 0.2, 0.4):
        process = subprocess.Popen(
            [sys.executable, "-c", script, str(path)], stdout=subprocess.PIPE, text=True
        )
        assert process.stdout.readline().strip() == "ready"
        time.sleep(delay)
        process.send_signal(signal.SIGKILL)
        process.wait()
        codes = load_codes(path).unpack()  # verified against its checksum
        assert len(codes) == 2_000_000 and codes.min() == codes.max()


def test_a_flipped_byte_is_detected(tmp_path):
    path = tmp_path / "codes.npy"
    codes = random_codes(np.random.default_rng(0), 200, 40)
    save_codes(path, codes)
    data = bytearray(path.read_bytes())
    data[-7] ^= 0x10
    path.write_bytes(bytes(data))
    for mode in (None, "r"):
        with pytest.raises(ValueError, match="is damaged: its codes do not match the CRC32"):
            load_codes(path, mmap_mode=mode)
    unchecked = load_codes(path, verify=False).unpack()
    assert (unchecked != codes).sum() == 1


def test_files_without_a_checksum_still_load(tmp_path):
    codes = random_codes(np.random.default_rng(0), 30, 12)
    dtype = np.dtype([("skhash:n_bits=12:bitorder=little", np.uint8, (2,))])
    np.save(tmp_path / "old.npy", pack_codes(codes).view(dtype).ravel())
    np.testing.assert_array_equal(load_codes(tmp_path / "old.npy").unpack(), codes)


def test_saving_over_a_memory_mapped_file_is_safe(tmp_path):
    path = tmp_path / "codes.npy"
    codes = random_codes(np.random.default_rng(0), 500, 64)
    save_codes(path, codes)
    mapped = load_codes(path, mmap_mode="r")
    retriever = HammingRetriever(n_neighbors=3).fit(mapped)
    expected = retriever.kneighbors(codes[:5])
    save_codes(path, codes[:10])  # shorter: the old map must not fault (SIGBUS)
    np.testing.assert_array_equal(retriever.kneighbors(codes[:5])[1], expected[1])
    save_codes(path, load_codes(path, mmap_mode="r"))  # onto itself: not zeros
    np.testing.assert_array_equal(load_codes(path).unpack(), codes[:10])


def test_save_codes_refuses_a_folder_and_honours_bitorder_of_packed_codes(tmp_path):
    with pytest.raises(ValueError, match="names a folder"):
        save_codes(str(tmp_path) + os.sep, [[0, 1]])
    with pytest.raises(ValueError, match="names a folder"):
        save_codes(tmp_path, [[0, 1]])
    assert os.listdir(tmp_path) == []
    codes = random_codes(np.random.default_rng(0), 20, 13)
    packed = PackedCodes.from_codes(codes, bitorder="little")
    save_codes(tmp_path / "big.npy", packed, bitorder="big")
    loaded = load_codes(tmp_path / "big.npy")
    assert loaded.bitorder == "big"
    np.testing.assert_array_equal(loaded.packed, pack_codes(codes, "big"))
    assert load_codes(save_codes(tmp_path / "own.npy", packed)).bitorder == "little"


def test_checkpoint_saves_are_atomic(tmp_path, monkeypatch):
    torch = pytest.importorskip("torch")
    from skhash import AEHasher
    from skhash.deep import Checkpoint

    path = tmp_path / "ckpt.pt"
    X = np.random.default_rng(0).normal(size=(64, 5))
    AEHasher(n_bits=4, max_epochs=1, callbacks=[Checkpoint(path)], random_state=0).fit(X)
    before = path.read_bytes()

    def killed(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(torch, "save", killed)
    with pytest.raises(KeyboardInterrupt), pytest.warns(UserWarning, match="interrupted"):
        AEHasher(n_bits=4, max_epochs=1, callbacks=[Checkpoint(path)], random_state=1).fit(X)
    assert path.read_bytes() == before and os.listdir(tmp_path) == ["ckpt.pt"]
