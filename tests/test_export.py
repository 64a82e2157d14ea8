"""Export to faiss and to PostgreSQL: same neighbours as HammingRetriever.

The PostgreSQL test starts a throwaway server (initdb + pg_ctl on a loopback port, in a
temporary directory) and skips, saying why, when the server binaries are missing.
"""

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile

import numpy as np
import pytest

from skhash import (
    HammingRetriever,
    PackedCodes,
    load_codes,
    pack_codes,
    save_codes,
    to_bit_strings,
    to_faiss_index,
)


def random_codes(n, n_bits, seed):
    rng = np.random.default_rng(seed)
    codes = (rng.random((n, n_bits)) < 0.5).astype(np.uint8)
    dup = min(20, n // 2)
    codes[n // 2 : n // 2 + dup] = codes[:dup]  # exact duplicates: ties to order by index
    return codes


def test_bit_strings():
    np.testing.assert_array_equal(
        to_bit_strings([[0, 1, 1, 0, 0, 0, 0, 0, 1], [1] * 9]), ["011000001", "111111111"]
    )
    codes = random_codes(30, 70, 0)
    strings = to_bit_strings(PackedCodes.from_codes(codes, bitorder="big"))
    assert strings.shape == (30,) and all(len(s) == 70 for s in strings)
    np.testing.assert_array_equal(np.array([list(s) for s in strings]).astype(np.uint8), codes)
    with pytest.raises(ValueError, match="must hold only 0 and 1"):
        to_bit_strings([[0, 2]])


@pytest.mark.parametrize("n_bits", [13, 64])
@pytest.mark.parametrize("source", ["codes", "big-endian file", "path"])
def test_faiss_index_gives_the_retrievers_neighbours(tmp_path, n_bits, source):
    pytest.importorskip("faiss", reason="faiss-cpu not installed: pip install 'skhash[faiss]'")
    db, queries = random_codes(3000, n_bits, 1), random_codes(50, n_bits, 2)
    if source == "codes":
        index = to_faiss_index(db)
    elif source == "path":
        index = to_faiss_index(save_codes(tmp_path / "db", db))
    else:
        save_codes(tmp_path / "db.npy", db, bitorder="big")
        index = to_faiss_index(load_codes(tmp_path / "db.npy", mmap_mode="r"))
    assert index.ntotal == 3000 and index.d == 8 * -(-n_bits // 8)
    dist, ind = index.search(pack_codes(queries, bitorder="little"), 10)
    order = np.lexsort((ind, dist), axis=1)
    dist, ind = np.take_along_axis(dist, order, 1), np.take_along_axis(ind, order, 1)
    ref_dist, ref_ind = (
        HammingRetriever(n_neighbors=10, backend="numpy").fit(db).kneighbors(queries)
    )
    np.testing.assert_array_equal(ind, ref_ind)
    np.testing.assert_array_equal(dist, ref_dist)


@pytest.mark.parametrize(
    "factory, params, kind",
    [
        ("BIVF16", {"nprobe": 16}, "IndexBinaryIVF"),
        ("BHNSW32", {"ef_search": 400}, "IndexBinaryHNSW"),
        ("BMultiHash2x8", {}, "IndexBinaryMultiHash"),
    ],
)
def test_approximate_faiss_indexes(factory, params, kind):
    pytest.importorskip("faiss", reason="faiss-cpu not installed: pip install 'skhash[faiss]'")
    db, queries = random_codes(3000, 64, 1), random_codes(50, 64, 2)
    index = to_faiss_index(db, factory, **params)
    assert type(index).__name__ == kind and index.ntotal == 3000
    dist, ind = index.search(pack_codes(db[:20], bitorder="little"), 1)
    np.testing.assert_array_equal(dist[:, 0], 0)  # every database code finds itself
    if factory != "BMultiHash2x8":  # all cells / a wide beam: as good as exact search
        ref_dist, _ = HammingRetriever(n_neighbors=5, backend="numpy").fit(db).kneighbors(queries)
        dist, _ = index.search(pack_codes(queries, bitorder="little"), 5)
        np.testing.assert_array_equal(np.sort(dist, axis=1), ref_dist)


def test_faiss_index_options_are_checked():
    pytest.importorskip("faiss", reason="faiss-cpu not installed: pip install 'skhash[faiss]'")
    db = random_codes(300, 64, 1)
    with pytest.raises(ValueError, match="not a faiss binary index factory string"):
        to_faiss_index(db, "IVF16,Flat")
    with pytest.raises(ValueError, match="nprobe applies to IVF indexes"):
        to_faiss_index(db, "BFlat", nprobe=4)
    with pytest.raises(ValueError, match="ef_search applies to HNSW"):
        to_faiss_index(db, "BIVF4", ef_search=4)
    with pytest.raises(ValueError, match="needs 128 bits but the codes have 64"):
        to_faiss_index(db, "BMultiHash8x16")


def _postgres_binaries():
    for bindir in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True):
        if all(os.access(os.path.join(bindir, b), os.X_OK) for b in ("initdb", "pg_ctl")):
            return os.path.join(bindir, "initdb"), os.path.join(bindir, "pg_ctl")
    initdb, pg_ctl = shutil.which("initdb"), shutil.which("pg_ctl")
    return (initdb, pg_ctl) if initdb and pg_ctl else None


def _free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def postgres():
    """A connection to a throwaway PostgreSQL server on a loopback port."""
    psycopg = pytest.importorskip(
        "psycopg", reason="psycopg not installed: pip install 'skhash[postgres]'"
    )
    binaries = _postgres_binaries()
    if binaries is None:
        pytest.skip(
            "PostgreSQL server binaries (initdb, pg_ctl) not found: apt-get install postgresql"
        )
    initdb, pg_ctl = binaries
    run_as = []
    owner = None
    if os.geteuid() == 0:  # the server refuses to run as root
        try:
            owner = pwd.getpwnam("postgres")
        except KeyError:
            pytest.skip("running as root and there is no 'postgres' user to run the server")
        runuser = shutil.which("runuser")
        run_as = [runuser, "-u", "postgres", "--"] if runuser else None
        if run_as is None:
            pytest.skip("running as root without runuser to start the server as 'postgres'")
    home = tempfile.mkdtemp(prefix="skhash-pg-")
    if owner is not None:
        os.chown(home, owner.pw_uid, owner.pw_gid)
    data, port = os.path.join(home, "data"), _free_port()

    def run(*args):
        return subprocess.run(
            run_as + list(args), check=True, capture_output=True, text=True, timeout=120
        )

    try:
        run(
            initdb,
            "-D",
            data,
            "-A",
            "trust",
            "-U",
            "postgres",
            "--no-sync",
            "-E",
            "UTF8",
            "--no-locale",
        )
        run(
            pg_ctl,
            "-D",
            data,
            "-l",
            os.path.join(home, "log"),
            "-w",
            "-t",
            "60",
            "-o",
            f"-p {port} -h 127.0.0.1 -k {home} -F",
            "start",
        )
    except subprocess.CalledProcessError as exc:
        shutil.rmtree(home, ignore_errors=True)
        pytest.fail(f"could not start PostgreSQL: {exc.stderr or exc.stdout}")
    try:
        with psycopg.connect(
            host="127.0.0.1", port=port, user="postgres", dbname="postgres", autocommit=True
        ) as connection:
            if connection.info.server_version < 140000:
                pytest.skip("bit_count needs PostgreSQL 14 or later")
            yield connection
    finally:
        subprocess.run(
            run_as + [pg_ctl, "-D", data, "-m", "immediate", "-w", "stop"],
            capture_output=True,
            timeout=60,
        )
        shutil.rmtree(home, ignore_errors=True)


@pytest.mark.parametrize("n_bits", [20, 64])
def test_postgres_top10_equals_retrievers(postgres, n_bits):
    db, queries = random_codes(2000, n_bits, 3), random_codes(15, n_bits, 4)
    queries[:3] = db[[0, 5, 1000]]  # exact matches and their duplicates
    table = f"items_{n_bits}"
    with postgres.cursor() as cur:
        cur.execute(f"CREATE TABLE {table} (id integer PRIMARY KEY, code bit({n_bits}))")
        with cur.copy(f"COPY {table} (id, code) FROM STDIN") as copy:
            for row in enumerate(to_bit_strings(db)):
                copy.write_row(row)
        sql_dist, sql_ind = [], []
        for query in to_bit_strings(queries):
            cur.execute(
                f"SELECT id, bit_count(code # %s::bit({n_bits})) AS distance FROM {table} "
                f"ORDER BY distance, id LIMIT 10",
                (query,),
            )
            rows = cur.fetchall()
            sql_ind.append([r[0] for r in rows])
            sql_dist.append([r[1] for r in rows])
    dist, ind = HammingRetriever(n_neighbors=10, backend="numpy").fit(db).kneighbors(queries)
    np.testing.assert_array_equal(sql_ind, ind)
    np.testing.assert_array_equal(sql_dist, dist)
    assert np.any(dist[:, :-1] == dist[:, 1:])  # ties were ordered by index
