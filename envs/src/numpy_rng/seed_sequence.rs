//! numpy's `SeedSequence`: the hash that turns a user's seed into a generator's initial state.
//!
//! The design is Melissa O'Neill's `seed_seq` replacement ("Developing a seed_seq
//! Alternative", pcg-random.org, 2015), as numpy adopted it in `numpy.random.bit_generator`:
//! the entropy (an integer, cut into 32-bit words, least significant first) is hashed into a
//! pool of four 32-bit words, every pool word is mixed into every other, and `generate_state`
//! then draws any number of words from the pool through a second hash. Two constants drive
//! each hash: a starting value and a multiplier that itself evolves after every word.
//!
//! Only what `SeedSequence(entropy)` with the default pool size does is reproduced: no spawn
//! keys (`spawn`), which Gymnasium does not use.

/// Words in the entropy pool (numpy's `DEFAULT_POOL_SIZE`).
pub const POOL_SIZE: usize = 4;

// The constants of O'Neill's hashes, as numpy names them.
const INIT_A: u32 = 0x43b0_d7e5;
const MULT_A: u32 = 0x931e_8875;
const INIT_B: u32 = 0x8b51_f9dd;
const MULT_B: u32 = 0x58f3_8ded;
const MIX_MULT_L: u32 = 0xca01_f9dd;
const MIX_MULT_R: u32 = 0x4973_f715;
const XSHIFT: u32 = 16;

/// `SeedSequence(entropy)`: the entropy words and the pool hashed from them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeedSequence {
    entropy: Vec<u32>,
    pool: [u32; POOL_SIZE],
}

/// The input hash: xor with the running constant, which then advances, multiply, fold.
fn hashmix(value: u32, hash_const: &mut u32) -> u32 {
    let mut v = value ^ *hash_const;
    *hash_const = hash_const.wrapping_mul(MULT_A);
    v = v.wrapping_mul(*hash_const);
    v ^ (v >> XSHIFT)
}

/// Combines two words so that each bit of either affects the result.
fn mix(x: u32, y: u32) -> u32 {
    let r = MIX_MULT_L.wrapping_mul(x).wrapping_sub(MIX_MULT_R.wrapping_mul(y));
    r ^ (r >> XSHIFT)
}

impl SeedSequence {
    /// A sequence over entropy given as 32-bit words, least significant first (numpy's
    /// `SeedSequence(np.array(words, dtype=np.uint32))`). An empty slice hashes as no entropy
    /// at all, which numpy only reaches through an empty array.
    pub fn new(entropy: &[u32]) -> Self {
        let mut hash_const = INIT_A;
        let mut pool = [0u32; POOL_SIZE];
        // The first words go straight into the pool; a short entropy is padded by hashing 0.
        for (i, slot) in pool.iter_mut().enumerate() {
            *slot = hashmix(entropy.get(i).copied().unwrap_or(0), &mut hash_const);
        }
        // Every pool word is mixed into every other one, so late words reach early ones.
        for src in 0..POOL_SIZE {
            for dst in 0..POOL_SIZE {
                if src != dst {
                    let h = hashmix(pool[src], &mut hash_const);
                    pool[dst] = mix(pool[dst], h);
                }
            }
        }
        // Entropy beyond the pool is mixed into each pool word in turn.
        for &word in entropy.iter().skip(POOL_SIZE) {
            for slot in pool.iter_mut() {
                let h = hashmix(word, &mut hash_const);
                *slot = mix(*slot, h);
            }
        }
        SeedSequence { entropy: entropy.to_vec(), pool }
    }

    /// `SeedSequence(seed)` for a non-negative integer seed: what `np.random.default_rng(seed)`
    /// and Gymnasium's `reset(seed=seed)` build. The integer is cut into 32-bit words with the
    /// leading zero words dropped (zero itself is one word, `[0]`).
    pub fn from_u64(seed: u64) -> Self {
        Self::from_u128(u128::from(seed))
    }

    /// [`Self::from_u64`] for integers up to 128 bits (the size of the entropy numpy draws
    /// when no seed is given).
    pub fn from_u128(seed: u128) -> Self {
        Self::new(&int_to_words(seed))
    }

    /// `SeedSequence()` with no seed: 128 bits of entropy from the operating system, as numpy
    /// draws them (`secrets.randbits(128)`), kept so the run can be replayed
    /// ([`Self::entropy_u128`]).
    pub fn from_os_entropy() -> Self {
        Self::from_u128(os_entropy_u128())
    }

    /// The entropy words, least significant first.
    pub fn entropy(&self) -> &[u32] {
        &self.entropy
    }

    /// The entropy as an integer (what numpy's `SeedSequence.entropy` and Gymnasium's
    /// `np_random_seed` report), when it fits in 128 bits.
    pub fn entropy_u128(&self) -> Option<u128> {
        if self.entropy.len() > 4 {
            return None;
        }
        Some(self.entropy.iter().rev().fold(0u128, |acc, &w| (acc << 32) | u128::from(w)))
    }

    /// The hashed pool (numpy's `SeedSequence.pool`).
    pub fn pool(&self) -> [u32; POOL_SIZE] {
        self.pool
    }

    /// `generate_state(n, dtype=np.uint32)`: `n` words drawn from the pool, cycling through it.
    pub fn generate_state_u32(&self, n: usize) -> Vec<u32> {
        let mut hash_const = INIT_B;
        (0..n)
            .map(|i| {
                let mut v = self.pool[i % POOL_SIZE] ^ hash_const;
                hash_const = hash_const.wrapping_mul(MULT_B);
                v = v.wrapping_mul(hash_const);
                v ^ (v >> XSHIFT)
            })
            .collect()
    }

    /// `generate_state(n, dtype=np.uint64)`: `2n` words, paired little-endian (the first of
    /// each pair is the low half), whatever the machine's byte order, as numpy pairs them.
    pub fn generate_state_u64(&self, n: usize) -> Vec<u64> {
        self.generate_state_u32(2 * n)
            .chunks_exact(2)
            .map(|p| u64::from(p[0]) | (u64::from(p[1]) << 32))
            .collect()
    }
}

/// numpy's `_int_to_uint32_array`: 32-bit words, least significant first; `[0]` for zero.
fn int_to_words(mut n: u128) -> Vec<u32> {
    if n == 0 {
        return vec![0];
    }
    let mut words = Vec::with_capacity(4);
    while n > 0 {
        words.push(n as u32);
        n >>= 32;
    }
    words
}

/// 128 bits from the operating system's generator (`/dev/urandom`); where that cannot be read,
/// from the standard library's per-process random hash keys, mixed with the clock and a
/// counter so that two calls never agree.
fn os_entropy_u128() -> u128 {
    use std::io::Read;
    let mut bytes = [0u8; 16];
    let read = std::fs::File::open("/dev/urandom").and_then(|mut f| f.read_exact(&mut bytes));
    if read.is_ok() {
        return u128::from_le_bytes(bytes);
    }
    use std::hash::{BuildHasher, Hasher};
    static COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let count = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    let half = |salt: u64| {
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_u64(salt);
        h.write_u64(count);
        h.write_u128(nanos);
        h.write_u32(std::process::id());
        h.finish()
    };
    (u128::from(half(1)) << 64) | u128::from(half(2))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The pool and state numpy 2.4.6 computes for `SeedSequence(0)` (printed by
    /// `np.random.SeedSequence(0).pool` and `.generate_state(4, np.uint64)`; the fixture test
    /// `tests/numpy_rng.rs` checks many more seeds).
    #[test]
    fn seed_zero_matches_numpy() {
        let s = SeedSequence::from_u64(0);
        assert_eq!(s.pool(), [4265667335, 1328953910, 1320288413, 3365567143]);
        assert_eq!(
            s.generate_state_u64(4),
            [15793235383387715774, 12390638538380655177, 2361836109651742017, 3188717715514472916]
        );
    }

    #[test]
    fn integers_are_cut_into_words_least_significant_first() {
        assert_eq!(int_to_words(0), [0]);
        assert_eq!(int_to_words(7), [7]);
        assert_eq!(int_to_words(1 << 32), [0, 1]);
        assert_eq!(int_to_words(u128::MAX), [u32::MAX; 4]);
        let s = SeedSequence::from_u64(0x1234_5678_9abc_def0);
        assert_eq!(s.entropy(), [0x9abc_def0, 0x1234_5678]);
        assert_eq!(s.entropy_u128(), Some(0x1234_5678_9abc_def0));
        // Short entropy is padded with zero words, so trailing zeros within the pool size do not
        // change the pool (numpy's gh-16539, kept for stream compatibility).
        assert_eq!(SeedSequence::new(&[5]).pool(), SeedSequence::new(&[5, 0]).pool());
        assert_ne!(SeedSequence::new(&[5]).pool(), SeedSequence::new(&[0, 5]).pool());
    }

    #[test]
    fn long_entropy_mixes_every_word() {
        let a = SeedSequence::new(&[1, 2, 3, 4, 5, 6]);
        let b = SeedSequence::new(&[1, 2, 3, 4, 5, 7]);
        assert_ne!(a.pool(), b.pool());
        assert_eq!(a.entropy_u128(), None);
    }

    #[test]
    fn os_entropy_differs_between_calls() {
        assert_ne!(SeedSequence::from_os_entropy().pool(), SeedSequence::from_os_entropy().pool());
    }
}
