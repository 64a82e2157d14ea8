import tracemalloc

import numpy as np
import pytest

from skhash import check_codes, hamming_distances, pack_codes, unpack_codes
from skhash.codes._bits import codes_to_words, iter_hamming_distances, packed_to_words


@pytest.mark.parametrize("n_bits", [1, 7, 8, 9, 63, 64, 65, 130, 200, 256])
@pytest.mark.parametrize("bitorder", ["little", "big"])
def test_pack_unpack_round_trip(n_bits, bitorder):
    codes = np.random.default_rng(n_bits).integers(0, 2, size=(13, n_bits), dtype=np.uint8)
    packed = pack_codes(codes, bitorder=bitorder)
    assert packed.shape == (13, -(-n_bits // 8)) and packed.dtype == np.uint8
    np.testing.assert_array_equal(unpack_codes(packed, n_bits, bitorder=bitorder), codes)


def test_bit_orders_match_faiss_and_numpy():
    codes = np.zeros((1, 16), dtype=np.uint8)
    codes[0, [0, 9]] = 1
    # little: bit j -> bit j % 8 of byte j // 8 (faiss); big: numpy.packbits.
    np.testing.assert_array_equal(pack_codes(codes, "little"), [[1, 2]])
    np.testing.assert_array_equal(pack_codes(codes, "big"), np.packbits(codes, axis=1))
    np.testing.assert_array_equal(pack_codes(codes, "big"), [[128, 64]])


def test_bool_and_signed_codes_are_accepted():
    codes = np.array([[True, False, True]])
    np.testing.assert_array_equal(check_codes(codes), [[1, 0, 1]])
    assert check_codes(np.array([[0, 1]], dtype=np.int64)).dtype == np.uint8


@pytest.mark.parametrize(
    "codes, message",
    [
        (np.array([[0, 2, 1]]), "only 0 and 1"),
        (np.array([[-1, 1, 1]]), "only 0 and 1"),
        (np.array([[0.0, 1.0]]), "integer or boolean dtype"),
        (np.array([0, 1, 1]), "2-D array"),
        (np.zeros((2, 2, 2), dtype=np.uint8), "2-D array"),
        (np.array([["0", "1"]]), "integer or boolean dtype"),
    ],
)
def test_invalid_codes_raise(codes, message):
    with pytest.raises(ValueError, match=message):
        pack_codes(codes)


def test_invalid_codes_type_and_width():
    with pytest.raises(TypeError, match="'codes' parameter of check_codes must be an array-like"):
        check_codes(3)
    with pytest.raises(ValueError, match="has 3 bits per row but 4 were expected"):
        check_codes([[0, 1, 1]], n_bits=4)


@pytest.mark.parametrize("bitorder", ["LITTLE", "middle", None, 1])
def test_invalid_bitorder_raises(bitorder):
    with pytest.raises(ValueError, match="'bitorder' parameter of pack_codes must be a str"):
        pack_codes([[0, 1]], bitorder=bitorder)
    with pytest.raises(ValueError, match="'bitorder' parameter of unpack_codes must be a str"):
        unpack_codes(np.zeros((1, 1), np.uint8), 2, bitorder=bitorder)


def test_unpack_validates_packed_shape_and_dtype():
    with pytest.raises(ValueError, match="needs 2"):
        unpack_codes(np.zeros((3, 1), np.uint8), n_bits=9)
    with pytest.raises(ValueError, match="dtype uint8"):
        unpack_codes(np.zeros((3, 2), np.int64), n_bits=9)
    with pytest.raises(ValueError, match="'n_bits' parameter of unpack_codes must be an int"):
        unpack_codes(np.zeros((3, 2), np.uint8), n_bits=0)


@pytest.mark.parametrize("n_bits", [1, 5, 8, 13, 64, 65, 100, 128, 191, 192, 193, 300])
def test_hamming_distances_equal_naive_count(n_bits):
    rng = np.random.default_rng(n_bits)
    a = rng.integers(0, 2, size=(37, n_bits))
    b = rng.integers(0, 2, size=(71, n_bits))
    expected = (a[:, None, :] != b[None, :, :]).sum(axis=2)
    distances = hamming_distances(a, b)
    assert distances.dtype == np.int16  # signed: differences of distances do not wrap
    np.testing.assert_array_equal(distances, expected)
    np.testing.assert_array_equal(hamming_distances(a), (a[:, None] != a[None]).sum(axis=2))


def test_hamming_distances_across_database_blocks():
    # More database rows than one internal block (65,536) exercises the block seams.
    rng = np.random.default_rng(0)
    a = rng.integers(0, 2, size=(3, 70))
    b = rng.integers(0, 2, size=(70_000, 70))
    np.testing.assert_array_equal(hamming_distances(a, b), (a[:, None] != b[None]).sum(axis=2))


def test_hamming_distances_reject_mismatched_widths():
    with pytest.raises(ValueError, match="codes_b has 4 bits per row but 3 were expected"):
        hamming_distances([[0, 1, 1]], [[0, 1, 1, 0]])


def test_blocked_distances_keep_memory_bounded():
    # A 10^4 x 10^6 request, consumed block by block, stays within a few hundred MB.
    rng = np.random.default_rng(0)
    db = packed_to_words(rng.integers(0, 256, size=(1_000_000, 8), dtype=np.uint8))
    queries = codes_to_words(rng.integers(0, 2, size=(10_000, 64)))
    tracemalloc.start()
    blocks = iter_hamming_distances(queries, db)
    start, stop, first = next(blocks)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert start == 0 and 0 < stop < 10_000 and first.shape == (stop, 1_000_000)
    assert peak < 300 * 2**20
    expected = (np.bitwise_count(queries[:2, None, 0] ^ db[None, :, 0])).astype(int)
    np.testing.assert_array_equal(first[:2], expected)


def test_packed_bytes_given_as_codes_get_a_hint_about_bitorder():
    from skhash import HammingRetriever

    codes = np.random.default_rng(0).integers(0, 2, (10, 16)).astype(np.uint8)
    with pytest.raises(ValueError, match=r"look like packed bytes .* bitorder="):
        HammingRetriever().fit(np.packbits(codes, axis=1))
    with pytest.raises(ValueError, match=r"Codes in \{-1, \+1\} convert"):
        HammingRetriever().fit(codes.astype(np.int8) * 2 - 1)
