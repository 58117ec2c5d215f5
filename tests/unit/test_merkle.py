"""RFC 6962 Merkle roots and proofs: published vectors, and an independent library (pymerkle)."""

from __future__ import annotations

import hashlib

import pytest
from pymerkle import InmemoryTree
from pymerkle import verify_consistency as pymerkle_verify_consistency

from engine.trail import merkle

# transparency-dev/merkle testonly/constants.go (the RFC 6962 reference leaves and heads).
LEAVES = [
    bytes.fromhex(h)
    for h in [
        "",
        "00",
        "10",
        "2021",
        "3031",
        "40414243",
        "5051525354555657",
        "606162636465666768696a6b6c6d6e6f",
    ]
]
ROOTS = [
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]
INCLUSION = [  # (index, size, proof)
    (0, 8, ["96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"]),
    (5, 8, ["bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"]),
]  # fmt: skip
CONSISTENCY = [  # (old size, new size, proof)
    (2, 5, ["5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"]),
    (6, 8, ["0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"]),
    (2, 8, ["5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"]),
]  # fmt: skip


def hexes(hashes: list[bytes]) -> list[str]:
    return [h.hex() for h in hashes]


def test_roots_match_the_rfc_6962_reference_heads() -> None:
    tree = merkle.Tree.of_leaves(LEAVES)
    assert [tree.root(size).hex() for size in range(9)] == ROOTS


@pytest.mark.parametrize(("index", "size", "proof"), INCLUSION)
def test_inclusion_proofs_match_the_reference(index: int, size: int, proof: list[str]) -> None:
    tree = merkle.Tree.of_leaves(LEAVES)
    assert hexes(tree.inclusion_proof(index, size)) == proof
    assert merkle.verify_inclusion(
        merkle.leaf_hash(LEAVES[index]), index, size, tree.inclusion_proof(index, size),
        bytes.fromhex(ROOTS[size]),
    )  # fmt: skip


@pytest.mark.parametrize(("old", "new", "proof"), CONSISTENCY)
def test_consistency_proofs_match_the_reference(old: int, new: int, proof: list[str]) -> None:
    tree = merkle.Tree.of_leaves(LEAVES)
    assert hexes(tree.consistency_proof(old, new)) == proof
    roots = bytes.fromhex(ROOTS[old]), bytes.fromhex(ROOTS[new])
    assert merkle.verify_consistency(old, new, *roots, [bytes.fromhex(h) for h in proof])


def entries(count: int) -> list[bytes]:
    """Leaf data as the trail uses it: 32-byte chain hashes."""
    return [hashlib.sha256(f"event {i}".encode()).digest() for i in range(count)]


def independent_tree(data: list[bytes]) -> InmemoryTree:
    tree = InmemoryTree(algorithm="sha256")
    for item in data:
        tree.append_entry(item)
    return tree


@pytest.mark.parametrize("count", [1, 2, 3, 5, 8, 13, 31, 32, 33, 100])
def test_roots_and_inclusion_paths_agree_with_pymerkle(count: int) -> None:
    data = entries(count)
    ours, theirs = merkle.Tree.of_leaves(data), independent_tree(data)
    for size in range(1, count + 1):
        assert ours.root(size) == theirs.get_root(size)
    for index in range(count):
        # pymerkle's path starts with the leaf itself, then the RFC 9162 path.
        assert (
            ours.inclusion_proof(index, count) == theirs.prove_inclusion(index + 1, count).path[1:]
        )


@pytest.mark.parametrize("count", [2, 3, 7, 8, 9, 20, 33])
def test_consistency_proofs_agree_with_pymerkle_roots(count: int) -> None:
    data = entries(count)
    ours, theirs = merkle.Tree.of_leaves(data), independent_tree(data)
    for old in range(1, count + 1):
        old_root, new_root = theirs.get_root(old), theirs.get_root(count)
        assert merkle.verify_consistency(
            old, count, old_root, new_root, ours.consistency_proof(old, count)
        )
        # And pymerkle accepts its own proof between the roots we compute.
        pymerkle_verify_consistency(
            ours.root(old), ours.root(count), theirs.prove_consistency(old, count)
        )


def test_a_tree_grown_in_steps_equals_one_built_at_once() -> None:
    data = entries(1000)
    grown = merkle.Tree()
    for start in range(0, 1000, 37):
        grown.extend_leaf_hashes(merkle.leaf_hash(d) for d in data[start : start + 37])
    whole = merkle.Tree.of_leaves(data)
    assert [grown.root(s) for s in (1, 500, 512, 999, 1000)] == [
        whole.root(s) for s in (1, 500, 512, 999, 1000)
    ]


def test_wrong_leaf_index_size_or_root_fail_inclusion() -> None:
    tree = merkle.Tree.of_leaves(entries(11))
    proof, leaf, root = tree.inclusion_proof(4), tree.leaf_hash(4), tree.root()
    assert merkle.verify_inclusion(leaf, 4, 11, proof, root)
    assert not merkle.verify_inclusion(tree.leaf_hash(5), 4, 11, proof, root)
    assert not merkle.verify_inclusion(leaf, 5, 11, proof, root)
    assert not merkle.verify_inclusion(leaf, 4, 8, proof, root)  # another shape
    assert not merkle.verify_inclusion(leaf, 4, 11, proof, tree.root(10))
    assert not merkle.verify_inclusion(leaf, 4, 11, proof[:-1], root)
    assert not merkle.verify_inclusion(leaf, 4, 11, [*proof, root], root)


def test_a_rewritten_prefix_is_not_consistent() -> None:
    data = entries(20)
    before = merkle.Tree.of_leaves(data[:12])
    data[3] = hashlib.sha256(b"rewritten").digest()
    after = merkle.Tree.of_leaves(data)
    proof = after.consistency_proof(12, 20)
    assert not merkle.verify_consistency(12, 20, before.root(), after.root(), proof)
    assert merkle.verify_consistency(12, 20, after.root(12), after.root(), proof)
    assert not merkle.verify_consistency(13, 12, after.root(13), after.root(12), [])


def test_empty_and_equal_sizes() -> None:
    tree = merkle.Tree.of_leaves(entries(4))
    assert merkle.Tree().root() == merkle.EMPTY_ROOT
    assert tree.consistency_proof(4, 4) == [] and tree.consistency_proof(0, 4) == []
    assert merkle.verify_consistency(4, 4, tree.root(), tree.root(), [])
    assert not merkle.verify_consistency(4, 4, tree.root(), tree.root(3), [])
    with pytest.raises(ValueError):
        tree.inclusion_proof(4)


def test_the_right_edge_gives_the_reference_heads_at_every_size_asked_for() -> None:
    leaves = [merkle.leaf_hash(leaf) for leaf in LEAVES]
    for step in (1, 3, 8):
        frontier = merkle.Frontier(wanted=range(len(LEAVES) + 2))
        for start in range(0, len(leaves), step):
            frontier.extend_leaf_hashes(leaves[start : start + step])
        assert frontier.size == len(LEAVES)
        assert frontier.root().hex() == ROOTS[-1]
        assert [frontier.roots[size].hex() for size in range(len(LEAVES) + 1)] == ROOTS
        assert len(LEAVES) + 1 not in frontier.roots  # a size the log never reached


@pytest.mark.parametrize("count", [1, 2, 5, 64, 65, 1000, 4097])
def test_the_right_edge_agrees_with_the_whole_tree_and_stays_small(count: int) -> None:
    leaves = [merkle.leaf_hash(i.to_bytes(4, "big")) for i in range(count)]
    tree = merkle.Tree.of_leaf_hashes(leaves)
    wanted = {0, 1, count // 3, count // 2 + 1, count}
    frontier = merkle.Frontier(wanted)
    for start in range(0, count, 97):
        frontier.extend_leaf_hashes(leaves[start : start + 97])
    assert frontier.root() == tree.root()
    assert frontier.roots == {size: tree.root(size) for size in wanted}
    assert sum(len(level) for level in frontier._levels) <= 32 * count.bit_length()
