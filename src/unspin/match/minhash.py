"""MinHash signatures and LSH banding, in numpy.

A document is a set of 64-bit shingle hashes. Its signature holds, for each of `num_perm` hash
functions h_i, the minimum of h_i over the set; two signatures agree at position i with
probability equal to the Jaccard similarity of the two sets, so the share of agreeing positions
estimates it. h_i(x) = mix(a_i * x + b_i) over 64-bit words (a_i odd, so the affine step is a
permutation of the 64-bit space; `mix` is splitmix64's finaliser, which spreads the low-entropy
differences of the affine step across every bit). The top 32 bits are kept: a chance 32-bit
collision (one in four billion) is far below MinHash's own sampling error, and it halves the
index.

LSH: the signature is cut into `bands` bands of `rows` values; documents sharing all the values
of any band become candidates. A pair with Jaccard J collides in at least one band with
probability 1 - (1 - J^rows)^bands, an S-curve whose steep part sits near (1/bands)^(1/rows).

Everything is vectorised over many documents at once (`signatures` takes the shingles of a whole
batch, flattened, with offsets); memory stays bounded by processing `chunk` shingles at a time.
"""

from __future__ import annotations

import numpy as np

EMPTY = np.uint32(0xFFFFFFFF)  # every position of the signature of an empty set
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_FNV = np.uint64(0x100000001B3)


def mix64(x: np.ndarray) -> np.ndarray:
    """splitmix64's finaliser, elementwise, in place on a fresh copy; wrapping uint64 arithmetic."""
    x = np.array(x, dtype=np.uint64, copy=True)
    x ^= x >> np.uint64(30)
    x *= _M1
    x ^= x >> np.uint64(27)
    x *= _M2
    x ^= x >> np.uint64(31)
    return x


def combine(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """An order-sensitive 64-bit hash of two hash arrays (for n-gram shingles)."""
    return mix64(mix64(np.asarray(a, dtype=np.uint64)) * _FNV ^ np.asarray(b, dtype=np.uint64))


class MinHasher:
    """`num_perm` seeded hash functions; the same seed gives the same signatures everywhere."""

    def __init__(self, num_perm: int = 128, seed: int = 1) -> None:
        if num_perm < 1:
            raise ValueError("num_perm must be at least 1")
        rng = np.random.Generator(np.random.PCG64(seed))
        self.num_perm = num_perm
        self.seed = seed
        self.a = rng.integers(0, 2**63, size=num_perm, dtype=np.uint64) * np.uint64(2) + np.uint64(1)
        self.b = rng.integers(0, 2**63, size=num_perm, dtype=np.uint64)

    def signature(self, hashes: np.ndarray) -> np.ndarray:
        """The (num_perm,) uint32 signature of one set of uint64 hashes."""
        return self.signatures(np.asarray(hashes, dtype=np.uint64), np.array([0, len(hashes)]))[0]

    def signatures(self, hashes: np.ndarray, offsets: np.ndarray, chunk: int = 1 << 16) -> np.ndarray:
        """(documents, num_perm) uint32: document d's set is hashes[offsets[d]:offsets[d+1]]."""
        hashes = np.asarray(hashes, dtype=np.uint64)
        offsets = np.asarray(offsets, dtype=np.int64)
        n = len(offsets) - 1
        out = np.full((n, self.num_perm), EMPTY, dtype=np.uint32)
        d = 0
        while d < n:
            # As many whole documents as fit in `chunk` shingles (at least one).
            stop = int(np.searchsorted(offsets, offsets[d] + chunk, side="right")) - 1
            stop = min(max(stop, d + 1), n)
            lo, hi = int(offsets[d]), int(offsets[stop])
            if hi > lo:
                values = self._hash(hashes[lo:hi])  # (shingles, num_perm)
                starts = offsets[d:stop] - lo
                nonempty = offsets[d + 1:stop + 1] > offsets[d:stop]
                out[d:stop][nonempty] = np.minimum.reduceat(values, starts[nonempty], axis=0)
            d = stop
        return out

    def _hash(self, x: np.ndarray) -> np.ndarray:
        v = x[:, None] * self.a[None, :] + self.b[None, :]
        v ^= v >> np.uint64(30)
        v *= _M1
        v ^= v >> np.uint64(27)
        v *= _M2
        v ^= v >> np.uint64(31)
        return (v >> np.uint64(32)).astype(np.uint32)


def jaccard_estimate(signature: np.ndarray, others: np.ndarray) -> np.ndarray:
    """The share of agreeing positions between one signature and each row of `others`;
    0 for empty sets (an empty signature agrees with nothing, itself included)."""
    signature = np.asarray(signature)
    agree = (np.asarray(others) == signature[None, :]) & (signature[None, :] != EMPTY)
    return agree.mean(axis=1)


def band_keys(signatures: np.ndarray, bands: int, rows: int) -> np.ndarray:
    """(documents, bands) uint32: a hash of each band's `rows` values. 32 bits suffice: two
    documents whose band values differ share a key by chance once in four billion, and every
    candidate is checked against its whole signature anyway."""
    signatures = np.atleast_2d(signatures)
    if bands * rows > signatures.shape[1]:
        raise ValueError(f"{bands} bands of {rows} rows need {bands * rows} values, signature has {signatures.shape[1]}")
    n = signatures.shape[0]
    values = signatures[:, : bands * rows].reshape(n, bands, rows).astype(np.uint64)
    band = np.arange(bands, dtype=np.uint64)
    k = np.broadcast_to(band * _M2 + np.uint64(0x84222325CBF29CE4), (n, bands)).copy()
    for r in range(rows):
        k ^= values[:, :, r]
        k *= _FNV
    return (mix64(k) >> np.uint64(32)).astype(np.uint32)


def collision_probability(jaccard: float, bands: int, rows: int) -> float:
    """P(a pair with this Jaccard similarity shares at least one band)."""
    return 1.0 - (1.0 - jaccard ** rows) ** bands


__all__ = ["EMPTY", "MinHasher", "band_keys", "collision_probability", "combine", "jaccard_estimate", "mix64"]
