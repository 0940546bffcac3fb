//! Per-rank data shards, as PyTorch's `DistributedSampler` makes them: every rank draws the
//! same permutation of the dataset for an epoch (from the shared seed and the epoch number),
//! then takes every `world_size`-th index starting at its rank. The shards are disjoint, equal
//! in length, and together cover the dataset once per epoch.
//!
//! When the dataset length is not a multiple of the world size, the ranks would get unequal
//! shards and one would wait at a collective the others never reach. Two remedies, as in
//! PyTorch: **pad** (default) repeats indices from the start of the permutation until the
//! length divides evenly (a few samples count twice that epoch), **drop** leaves out the
//! permutation's tail (a few samples are skipped that epoch; with a different permutation
//! each epoch, different ones).

/// How [`shard_indices`] evens out a length that the world size does not divide.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Remainder {
    /// Repeat indices from the start of the permutation (PyTorch's `drop_last=False`).
    #[default]
    Pad,
    /// Leave out the permutation's tail (PyTorch's `drop_last=True`).
    Drop,
}

/// The dataset indices rank `rank` of `world_size` visits in `epoch`, in order. With
/// `shuffle`, the permutation is drawn from `(seed, epoch)` only, so every rank computes the
/// same one without communicating; without it, the identity.
///
/// # Panics
/// If `world_size` is 0 or `rank >= world_size` ([`super::DistEnv`] rules both out).
pub fn shard_indices(
    len: usize,
    rank: usize,
    world_size: usize,
    epoch: u64,
    seed: u64,
    shuffle: bool,
    remainder: Remainder,
) -> Vec<usize> {
    assert!(world_size > 0 && rank < world_size, "rank {rank} outside world size {world_size}");
    let mut perm: Vec<usize> = (0..len).collect();
    if shuffle {
        let mut rng = SplitMix64(seed ^ epoch.wrapping_mul(0xA076_1D64_78BD_642F));
        // Fisher-Yates, back to front.
        for i in (1..len).rev() {
            let j = (rng.next() % (i as u64 + 1)) as usize;
            perm.swap(i, j);
        }
    }
    let total = match remainder {
        Remainder::Drop => len / world_size * world_size,
        Remainder::Pad => len.div_ceil(world_size) * world_size,
    };
    if total > len && len > 0 {
        let pad: Vec<usize> = perm.iter().copied().cycle().take(total - len).collect();
        perm.extend(pad);
    }
    perm.truncate(total);
    rank_share(&perm, rank, world_size)
}

/// The items of one global batch that rank `rank` of `world_size` takes: `rank`,
/// `rank + world_size`, … — the one rule by which every data-parallel loop splits its data
/// (an epoch's permutation in [`shard_indices`], a step's batch in pretraining and
/// fine-tuning). Over the ranks the shares are disjoint and cover `batch`; their lengths
/// differ by at most one, and are equal when `world_size` divides the length.
pub fn rank_share<T: Copy>(batch: &[T], rank: usize, world_size: usize) -> Vec<T> {
    batch.iter().skip(rank).step_by(world_size.max(1)).copied().collect()
}

/// Vigna's SplitMix64: tiny, and the same on every platform, which is all a shared shuffle
/// needs.
struct SplitMix64(u64);

impl SplitMix64 {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::BTreeSet;

    proptest! {
        #[test]
        fn shards_are_disjoint_equal_and_cover(len in 0usize..200, world in 1usize..6,
                                               epoch in 0u64..4, seed: u64, shuffle: bool) {
            let pad: Vec<Vec<usize>> = (0..world)
                .map(|r| shard_indices(len, r, world, epoch, seed, shuffle, Remainder::Pad))
                .collect();
            let n = len.div_ceil(world);
            prop_assert!(pad.iter().all(|s| s.len() == n));
            let covered: BTreeSet<usize> = pad.iter().flatten().copied().collect();
            prop_assert_eq!(covered, (0..len).collect::<BTreeSet<_>>());
            let drop: Vec<Vec<usize>> = (0..world)
                .map(|r| shard_indices(len, r, world, epoch, seed, shuffle, Remainder::Drop))
                .collect();
            prop_assert!(drop.iter().all(|s| s.len() == len / world));
            let all: Vec<usize> = drop.iter().flatten().copied().collect();
            let distinct: BTreeSet<usize> = all.iter().copied().collect();
            prop_assert_eq!(all.len(), distinct.len());
            prop_assert!(all.iter().all(|&i| i < len));
        }

        #[test]
        fn batch_shares_partition_the_batch(batch in proptest::collection::vec(0u32..1000, 0..50),
                                            world in 1usize..7) {
            let shares: Vec<Vec<u32>> = (0..world).map(|r| rank_share(&batch, r, world)).collect();
            let (min, max) = (shares.iter().map(Vec::len).min(), shares.iter().map(Vec::len).max());
            prop_assert!(max.unwrap() - min.unwrap() <= 1);
            // Interleaving the shares position by position gives the batch back.
            let mut back: Vec<u32> = Vec::new();
            for i in 0..batch.len().div_ceil(world) {
                back.extend(shares.iter().filter_map(|s| s.get(i)));
            }
            prop_assert_eq!(back, batch);
        }
    }

    #[test]
    fn union_of_shards_is_the_single_process_order() {
        // Rank r takes positions r, r + W, ... of the one shared permutation: interleaving
        // the shards gives back the order a single process would visit.
        let one = shard_indices(12, 0, 1, 3, 7, true, Remainder::Pad);
        let a = shard_indices(12, 0, 2, 3, 7, true, Remainder::Pad);
        let b = shard_indices(12, 1, 2, 3, 7, true, Remainder::Pad);
        let interleaved: Vec<usize> = a.iter().zip(&b).flat_map(|(x, y)| [*x, *y]).collect();
        assert_eq!(interleaved, one);
        assert_ne!(one, (0..12).collect::<Vec<_>>(), "shuffle left the identity");
        assert_ne!(one, shard_indices(12, 0, 1, 4, 7, true, Remainder::Pad), "epoch ignored");
    }

    #[test]
    fn pad_repeats_the_start_without_shuffle() {
        // len 5 over 2 ranks: [0 1 2 3 4 | 0] -> rank 0 gets 0 2 4, rank 1 gets 1 3 0.
        assert_eq!(shard_indices(5, 0, 2, 0, 0, false, Remainder::Pad), vec![0, 2, 4]);
        assert_eq!(shard_indices(5, 1, 2, 0, 0, false, Remainder::Pad), vec![1, 3, 0]);
        assert_eq!(shard_indices(5, 1, 2, 0, 0, false, Remainder::Drop), vec![1, 3]);
    }
}
