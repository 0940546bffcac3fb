//! Graft's own seeded random number generator for environments and spaces.
//!
//! xoshiro256++ (Blackman & Vigna, "Scrambled linear pseudorandom number generators", 2021),
//! seeded through SplitMix64 as its authors recommend. It is defined here rather than taken
//! from a crate so that trajectories stay bit-identical across dependency upgrades: the same
//! seed gives the same episode on every machine and every Graft version.
//!
//! It serves spaces' `sample` and Graft's own tests. Where an environment reproduces a Python
//! original's random draws, it uses that original's generator instead: numpy's `Generator`
//! ([`NumpyRng`](crate::NumpyRng)) for Gymnasium's classic control, numpy's legacy
//! `RandomState` for MinAtar.

/// A small, fast, seedable generator (xoshiro256++).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnvRng {
    s: [u64; 4],
}

fn splitmix64(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

impl EnvRng {
    /// A generator whose whole stream is determined by `seed`.
    pub fn seed_from(seed: u64) -> Self {
        let mut sm = seed;
        let s =
            [splitmix64(&mut sm), splitmix64(&mut sm), splitmix64(&mut sm), splitmix64(&mut sm)];
        EnvRng { s }
    }

    /// A generator seeded from the clock and the process id, for `reset(None)` on a fresh env
    /// (Gymnasium seeds from OS entropy in that case).
    pub fn from_entropy() -> Self {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(0);
        let counter = ENTROPY_COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        Self::seed_from(
            nanos
                ^ (std::process::id() as u64).rotate_left(32)
                ^ counter.wrapping_mul(0x9E37_79B9_7F4A_7C15),
        )
    }

    /// The next 64 random bits.
    #[inline]
    pub fn next_u64(&mut self) -> u64 {
        let result = (self.s[0].wrapping_add(self.s[3])).rotate_left(23).wrapping_add(self.s[0]);
        let t = self.s[1] << 17;
        self.s[2] ^= self.s[0];
        self.s[3] ^= self.s[1];
        self.s[1] ^= self.s[2];
        self.s[0] ^= self.s[3];
        self.s[2] ^= t;
        self.s[3] = self.s[3].rotate_left(45);
        result
    }

    /// Uniform in [0, 1) with 53 random bits.
    #[inline]
    pub fn next_f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// Uniform in [low, high).
    #[inline]
    pub fn uniform(&mut self, low: f64, high: f64) -> f64 {
        low + (high - low) * self.next_f64()
    }

    /// Uniform integer in [0, n), without modulo bias (Lemire's method). `n` must be > 0.
    #[inline]
    pub fn below(&mut self, n: u64) -> u64 {
        debug_assert!(n > 0);
        let mut m = (self.next_u64() as u128) * (n as u128);
        if (m as u64) < n {
            let threshold = n.wrapping_neg() % n;
            while (m as u64) < threshold {
                m = (self.next_u64() as u128) * (n as u128);
            }
        }
        (m >> 64) as u64
    }

    /// Standard normal sample (Box–Muller).
    pub fn normal(&mut self) -> f64 {
        let u1 = 1.0 - self.next_f64(); // in (0, 1]
        let u2 = self.next_f64();
        (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
    }

    /// Exponential sample with rate 1.
    pub fn exponential(&mut self) -> f64 {
        -(1.0 - self.next_f64()).ln()
    }

    /// A seed for a child generator (e.g. an action space's sampler), drawn from this stream.
    pub fn derive_seed(&mut self) -> u64 {
        self.next_u64()
    }
}

static ENTROPY_COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_stream_and_different_seeds_differ() {
        let mut a = EnvRng::seed_from(7);
        let mut b = EnvRng::seed_from(7);
        let mut c = EnvRng::seed_from(8);
        let xs: Vec<u64> = (0..16).map(|_| a.next_u64()).collect();
        let ys: Vec<u64> = (0..16).map(|_| b.next_u64()).collect();
        let zs: Vec<u64> = (0..16).map(|_| c.next_u64()).collect();
        assert_eq!(xs, ys);
        assert_ne!(xs, zs);
    }

    #[test]
    fn splitmix_reference_value() {
        // First output of SplitMix64 seeded with 0 (reference implementation by Vigna).
        let mut s = 0u64;
        assert_eq!(splitmix64(&mut s), 0xE220_A839_7B1D_CDAF);
    }

    #[test]
    fn below_is_in_range_and_roughly_uniform() {
        let mut r = EnvRng::seed_from(1);
        let mut counts = [0usize; 6];
        for _ in 0..60_000 {
            counts[r.below(6) as usize] += 1;
        }
        for c in counts {
            assert!((9_000..11_000).contains(&c), "{counts:?}");
        }
    }

    #[test]
    fn uniform_stays_in_bounds() {
        let mut r = EnvRng::seed_from(3);
        for _ in 0..10_000 {
            let x = r.uniform(-0.05, 0.05);
            assert!((-0.05..0.05).contains(&x));
        }
    }
}
