"""留痕: the trail's Merkle tree, signed checkpoints and logs."""
