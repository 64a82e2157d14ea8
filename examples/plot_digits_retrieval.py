"""
Hashing digits: LSH, spectral hashing and ITQ compared
======================================================

Fit three hashers on the 8x8 digits of scikit-learn, search the codes in Hamming space, and
compare their precision-recall curves. A database item is relevant to a query when it shows
the same digit.
"""

import matplotlib.pyplot as plt
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

from skhash import HammingRetriever, ITQHasher, LSHHasher, SpectralHasher
from skhash.metrics import RetrievalPRDisplay, mean_average_precision

X, y = load_digits(return_X_y=True)
X_db, X_query, y_db, y_query = train_test_split(
    X / 16.0, y, test_size=300, stratify=y, random_state=0
)

# %%
# Codes and scores
# ----------------
# Each hasher learns from the database only; queries are hashed with the fitted model.

hashers = {
    "LSH": LSHHasher(n_bits=32, random_state=0),
    "SH": SpectralHasher(n_bits=32),
    "ITQ": ITQHasher(n_bits=32, random_state=0),
}
fig, ax = plt.subplots()
for name, hasher in hashers.items():
    db_codes = hasher.fit_transform(X_db)
    query_codes = hasher.transform(X_query)
    score = mean_average_precision(query_codes, db_codes, y_query, y_db)
    print(f"{name}: mAP@all = {score:.3f}")
    RetrievalPRDisplay.from_codes(query_codes, db_codes, y_query, y_db, name=name, ax=ax)
ax.set_title("32-bit codes of load_digits")

# %%
# Nearest neighbours in Hamming space
# -----------------------------------
# The retriever returns integer distances, ordered by (distance, database index).

retriever = HammingRetriever(hasher=ITQHasher(n_bits=32, random_state=0), n_neighbors=5)
retriever.fit(X_db, y_db)
distances, indices = retriever.kneighbors(X_query[:3])
print(distances)
print(y_db[indices], "query labels:", y_query[:3])
