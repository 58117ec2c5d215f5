"""RFC 6962 / RFC 9162 Merkle tree hash, inclusion and consistency proofs (stdlib only).

Hashing (RFC 9162 §2.1.1): a leaf is SHA-256(0x00 ‖ data), an interior node is
SHA-256(0x01 ‖ left ‖ right), the empty tree is SHA-256(""). A tree of n leaves splits at k,
the largest power of two below n, so every left subtree is perfect.

In the trail, a leaf's data is the event's stored chain hash as 32 raw bytes (not its text):
the chain hash already commits to the event's canonical JSON and to its predecessor, so a leaf
stands for the whole event while leaves, proofs and exports stay small. Leaves are in global
order, audit_event.id ascending; leaf index = the event's rank in that order (from 0).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence

HASH_SIZE = 32
LEAF_PREFIX = b"\x00"
NODE_PREFIX = b"\x01"
EMPTY_ROOT = hashlib.sha256(b"").digest()

_sha256 = hashlib.sha256


def leaf_hash(data: bytes) -> bytes:
    return _sha256(LEAF_PREFIX + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return _sha256(NODE_PREFIX + left + right).digest()


def _split(n: int) -> int:
    """The largest power of two strictly below n (n ≥ 2)."""
    return 1 << ((n - 1).bit_length() - 1)


class Tree:
    """A log's leaf hashes, with the root of every aligned perfect subtree kept level by level.

    `levels[h]` holds, as one bytes buffer, the roots of subtrees of 2**h leaves starting at
    multiples of 2**h (level 0: the leaf hashes). That is 64 bytes per leaf, and any root,
    inclusion proof or consistency proof of any prefix then costs O(log² n) hashes.
    """

    def __init__(self) -> None:
        self._levels: list[bytearray] = [bytearray()]

    @classmethod
    def of_leaf_hashes(cls, hashes: Iterable[bytes]) -> Tree:
        tree = cls()
        tree.extend_leaf_hashes(hashes)
        return tree

    @classmethod
    def of_leaves(cls, leaves: Iterable[bytes]) -> Tree:
        return cls.of_leaf_hashes(leaf_hash(data) for data in leaves)

    @property
    def size(self) -> int:
        return len(self._levels[0]) // HASH_SIZE

    def extend_leaf_hashes(self, hashes: Iterable[bytes]) -> None:
        """Append leaves given as leaf hashes; interior levels are then completed in bulk."""
        self._levels[0] += b"".join(hashes)
        self._complete_levels()

    def extend_buffer(self, buffer: bytes) -> None:
        """Append leaf hashes given as one buffer of concatenated 32-byte hashes."""
        if len(buffer) % HASH_SIZE:
            raise ValueError("leaf buffer is not a whole number of hashes")
        self._levels[0] += buffer
        self._complete_levels()

    def _complete_levels(self) -> None:
        height = 0
        while len(self._levels[height]) >= 2 * HASH_SIZE:
            below = self._levels[height]
            if height + 1 == len(self._levels):
                self._levels.append(bytearray())
            above = self._levels[height + 1]
            done, wanted = len(above) // HASH_SIZE, len(below) // (2 * HASH_SIZE)
            if done == wanted:
                break
            above += _parents(below, done, wanted)
            height += 1

    def leaf_hash(self, index: int) -> bytes:
        self._check_index(index, self.size)
        return bytes(self._levels[0][index * HASH_SIZE : (index + 1) * HASH_SIZE])

    def root(self, size: int | None = None) -> bytes:
        """The tree head of the first `size` leaves (default: all)."""
        size = self.size if size is None else size
        self._check_size(size)
        return self._hash(0, size) if size else EMPTY_ROOT

    def inclusion_proof(self, index: int, size: int | None = None) -> list[bytes]:
        """PATH(index, D[0:size]) of RFC 9162 §2.1.3.1, leaf side first."""
        size = self.size if size is None else size
        self._check_size(size)
        self._check_index(index, size)
        path: list[bytes] = []
        start, n, m = 0, size, index
        while n > 1:
            k = _split(n)
            if m < k:
                path.append(self._hash(start + k, n - k))
                n = k
            else:
                path.append(self._hash(start, k))
                start, n, m = start + k, n - k, m - k
        path.reverse()
        return path

    def consistency_proof(self, old_size: int, new_size: int | None = None) -> list[bytes]:
        """PROOF(old_size, D[0:new_size]) of RFC 9162 §2.1.4.1 (empty when nothing to prove)."""
        new_size = self.size if new_size is None else new_size
        self._check_size(new_size)
        if not 0 <= old_size <= new_size:
            raise ValueError(f"cannot prove {old_size} leaves consistent with {new_size}")
        if old_size in (0, new_size):
            return []
        proof: list[bytes] = []
        start, n, m, whole = 0, new_size, old_size, True
        while m != n:
            k = _split(n)
            if m <= k:
                proof.append(self._hash(start + k, n - k))
                n = k
            else:
                proof.append(self._hash(start, k))
                start, n, m, whole = start + k, n - k, m - k, False
        if not whole:
            proof.append(self._hash(start, n))
        proof.reverse()
        return proof

    def _hash(self, start: int, n: int) -> bytes:
        """MTH of leaves [start, start + n): perfect aligned subtrees come from the levels."""
        if n & (n - 1) == 0:
            height = n.bit_length() - 1
            offset = (start >> height) * HASH_SIZE
            return bytes(self._levels[height][offset : offset + HASH_SIZE])
        k = _split(n)
        return node_hash(self._hash(start, k), self._hash(start + k, n - k))

    def _check_size(self, size: int) -> None:
        if not 0 <= size <= self.size:
            raise ValueError(f"tree has {self.size} leaves, not {size}")

    @staticmethod
    def _check_index(index: int, size: int) -> None:
        if not 0 <= index < size:
            raise ValueError(f"leaf {index} is outside a tree of {size}")


class Frontier:
    """A log's tree kept as its right edge only: the roots of the perfect subtrees its leaves
    so far divide into (one per set bit of the size), so memory does not grow with the log.

    It gives the root of the whole log, and of each prefix named in `wanted`, recorded as the
    leaves pass that size (`roots`): what verifying checkpoints against the log needs, in one
    pass. Leaves are hashed in bulk level by level, as `Tree` does.
    """

    def __init__(self, wanted: Iterable[int] = ()) -> None:
        self._levels: list[bytearray] = [bytearray()]
        self.size = 0
        self._wanted = sorted({size for size in wanted if size >= 0})
        self.roots: dict[int, bytes] = {}
        self._record()

    def extend_leaf_hashes(self, hashes: Sequence[bytes]) -> None:
        start = 0
        while start < len(hashes):
            # Up to the next size a root is wanted at (sizes passed are popped), then record it.
            end = len(hashes)
            if self._wanted:
                end = min(end, start + self._wanted[0] - self.size)
            self._add(b"".join(hashes[start:end]), end - start)
            start = end
            self._record()

    def root(self) -> bytes:
        """The tree head of every leaf so far."""
        found: bytes | None = None
        for level in self._levels:  # smallest subtree first: it is the rightmost
            if level:
                found = bytes(level) if found is None else node_hash(bytes(level), found)
        return EMPTY_ROOT if found is None else found

    def _add(self, buffer: bytes, count: int) -> None:
        self.size += count
        carry = buffer
        height = 0
        while carry:
            if height == len(self._levels):
                self._levels.append(bytearray())
            level = self._levels[height]
            level += carry
            pairs = len(level) // (2 * HASH_SIZE)
            carry = _parents(level, 0, pairs)
            del level[: pairs * 2 * HASH_SIZE]  # an unpaired right node waits for its sibling
            height += 1

    def _record(self) -> None:
        while self._wanted and self._wanted[0] <= self.size:
            if self._wanted.pop(0) == self.size:
                self.roots[self.size] = self.root()


def _parents(level: bytes | bytearray, first: int, stop: int) -> bytes:
    """The parents of node pairs `first`..`stop - 1` of one level's buffer, in one buffer."""
    pair = 2 * HASH_SIZE
    return b"".join(
        [
            _sha256(NODE_PREFIX + level[i * pair : i * pair + pair]).digest()
            for i in range(first, stop)
        ]
    )


def verify_inclusion(
    leaf: bytes, index: int, size: int, proof: Sequence[bytes], root: bytes
) -> bool:
    """RFC 9162 §2.1.3.2: does `proof` show the leaf hash `leaf` at `index` under `root`?"""
    if not 0 <= index < size:
        return False
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            r = node_hash(r, p)
        fn, sn = fn >> 1, sn >> 1
    return sn == 0 and r == root


def verify_consistency(
    old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]
) -> bool:
    """RFC 9162 §2.1.4.2: is the tree (old_size, old_root) a prefix of (new_size, new_root)?"""
    if not 0 <= old_size <= new_size:
        return False
    if old_size == new_size:
        return not proof and old_root == new_root
    if old_size == 0:
        return not proof  # every tree extends the empty one
    path = list(proof)
    if old_size & (old_size - 1) == 0:
        path.insert(0, old_root)
    if not path:
        return False
    roots = _consistency_roots(old_size, new_size, path)
    return roots == (old_root, new_root)


def _consistency_roots(
    old_size: int, new_size: int, path: list[bytes]
) -> tuple[bytes, bytes] | None:
    """The (old, new) roots a consistency path leads to, or None when it is malformed."""
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return None
        if fn & 1 or fn == sn:
            fr, sr = node_hash(c, fr), node_hash(c, sr)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            sr = node_hash(sr, c)
        fn, sn = fn >> 1, sn >> 1
    return (fr, sr) if sn == 0 else None
