//! numpy's legacy `RandomState` over MT19937, ported bit for bit.
//!
//! MinAtar (Young & Tian 2019, <https://arxiv.org/abs/1903.03176>) and the DeepMind Control
//! Suite draw every random number from `numpy.random.RandomState`. To reproduce their
//! trajectories exactly, this module implements the calls they make, with numpy's legacy
//! algorithms:
//!
//! - seeding with an integer (`RandomState(seed)`, Matsumoto & Nishimura's `init_genrand`)
//!   or with an array of 32-bit words (`init_by_array`);
//! - `rand()` / `random_sample()`: a 53-bit double from two 32-bit outputs, `(a >> 5, b >> 6)`;
//! - `randint(low, high)`: numpy's legacy bounded integers, which draw 32-bit outputs, mask
//!   them to the smallest covering power of two and reject values above the range
//!   (`random_bounded_uint64_fill` with `use_masked = true`); a range of one value draws
//!   nothing;
//! - `uniform(low, high)`: `low + (high - low) * rand()`;
//! - `randn()` / `standard_normal()`: the legacy polar Box-Muller method (`legacy_gauss`),
//!   which draws pairs and keeps the second value for the next call.
//!
//! MT19937 itself: M. Matsumoto and T. Nishimura, "Mersenne Twister: a 623-dimensionally
//! equidistributed uniform pseudo-random number generator", ACM TOMACS 8(1), 1998.

const N: usize = 624;
const M: usize = 397;
const MATRIX_A: u32 = 0x9908_b0df;
const UPPER_MASK: u32 = 0x8000_0000;
const LOWER_MASK: u32 = 0x7fff_ffff;

/// numpy's legacy `RandomState`: MT19937 with numpy's legacy sampling routines.
///
/// Each regeneration of the 624-word state also tempers all 624 outputs into `out`, in one
/// loop the compiler vectorises, so a draw is a load and an increment (MinAtar draws at least
/// two words per step, for the sticky-action `rand()`).
#[derive(Clone)]
pub struct RandomState {
    key: [u32; N],
    /// `key` tempered: the outputs `pos..N` still to be handed out.
    out: [u32; N],
    pos: usize,
    /// The second value of the last polar Box-Muller pair, handed out by the next `randn`.
    gauss: Option<f64>,
}

impl std::fmt::Debug for RandomState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RandomState").field("pos", &self.pos).finish_non_exhaustive()
    }
}

impl PartialEq for RandomState {
    fn eq(&self, other: &Self) -> bool {
        self.pos == other.pos && self.key[..] == other.key[..] && self.gauss == other.gauss
    }
}

impl Eq for RandomState {}

impl RandomState {
    /// `np.random.RandomState(seed)` for an integer seed in `0 ..= 2**32 - 1`.
    pub fn new(seed: u32) -> Self {
        let mut key = [0u32; N];
        let mut s = seed;
        for (i, k) in key.iter_mut().enumerate() {
            *k = s;
            s = 1_812_433_253u32.wrapping_mul(s ^ (s >> 30)).wrapping_add(i as u32 + 1);
        }
        RandomState { key, out: [0; N], pos: N, gauss: None }
    }

    /// `np.random.RandomState(words)` for an array of 32-bit words (`init_by_array`).
    pub fn from_words(words: &[u32]) -> Self {
        let mut st = RandomState::new(19_650_218);
        let mt = &mut st.key;
        let len = words.len().max(1);
        let (mut i, mut j) = (1usize, 0usize);
        for _ in 0..N.max(len) {
            let prev = mt[i - 1] ^ (mt[i - 1] >> 30);
            let w = words.get(j).copied().unwrap_or(0);
            mt[i] = (mt[i] ^ prev.wrapping_mul(1_664_525)).wrapping_add(w).wrapping_add(j as u32);
            i += 1;
            j += 1;
            if i >= N {
                mt[0] = mt[N - 1];
                i = 1;
            }
            if j >= len {
                j = 0;
            }
        }
        for _ in 0..N - 1 {
            let prev = mt[i - 1] ^ (mt[i - 1] >> 30);
            mt[i] = (mt[i] ^ prev.wrapping_mul(1_566_083_941)).wrapping_sub(i as u32);
            i += 1;
            if i >= N {
                mt[0] = mt[N - 1];
                i = 1;
            }
        }
        mt[0] = 0x8000_0000;
        st.pos = N;
        st
    }

    /// The generator numpy builds for a 64-bit seed: `RandomState(seed)` when it fits in 32
    /// bits, otherwise `RandomState([low_word, high_word])` (numpy itself refuses such an
    /// integer; this is the array form it accepts).
    pub fn from_u64(seed: u64) -> Self {
        match u32::try_from(seed) {
            Ok(s) => RandomState::new(s),
            Err(_) => RandomState::from_words(&[seed as u32, (seed >> 32) as u32]),
        }
    }

    /// Twist the state and temper the next 624 outputs into `out`; `pos` back to 0. With the
    /// AVX2 build of the same loops where the CPU has it (eight words per instruction instead
    /// of four; integer operations, so the same bits).
    #[inline(never)]
    fn regenerate(&mut self) {
        #[cfg(target_arch = "x86_64")]
        if std::is_x86_feature_detected!("avx2") {
            // SAFETY: the CPU supports AVX2, as just checked.
            unsafe { self.regenerate_avx2() };
            return;
        }
        self.regenerate_portable();
    }

    /// [`Self::regenerate`]'s loops compiled for AVX2.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2")]
    unsafe fn regenerate_avx2(&mut self) {
        self.regenerate_portable();
    }

    #[inline(always)]
    fn regenerate_portable(&mut self) {
        #[inline(always)]
        fn twist(upper: u32, lower: u32, far: u32) -> u32 {
            let y = (upper & UPPER_MASK) | (lower & LOWER_MASK);
            far ^ (y >> 1) ^ (if y & 1 == 1 { MATRIX_A } else { 0 })
        }
        let mt = &mut self.key;
        for k in 0..N - M {
            mt[k] = twist(mt[k], mt[k + 1], mt[k + M]);
        }
        for k in N - M..N - 1 {
            mt[k] = twist(mt[k], mt[k + 1], mt[k + M - N]);
        }
        mt[N - 1] = twist(mt[N - 1], mt[0], mt[M - 1]);
        for (out, &y) in self.out.iter_mut().zip(&self.key) {
            *out = temper(y);
        }
        self.pos = 0;
    }

    /// The next raw 32-bit output (`genrand_int32`).
    #[inline]
    pub fn next_u32(&mut self) -> u32 {
        let pos = if self.pos < N {
            self.pos
        } else {
            self.regenerate();
            0
        };
        self.pos = pos + 1;
        self.out[pos]
    }

    /// `RandomState.rand()` / `random_sample()`: uniform in [0, 1) with 53 bits.
    #[inline]
    pub fn rand(&mut self) -> f64 {
        // numpy computes (a * 2**26 + b) / 2**53 in doubles; every step is exact, so this is
        // the same value.
        self.rand_u53() as f64 / 9_007_199_254_740_992.0
    }

    /// `RandomState.uniform(low, high)`: `low + (high - low) * rand()`, as numpy's legacy
    /// `random_uniform` computes it.
    #[inline]
    pub fn uniform(&mut self, low: f64, high: f64) -> f64 {
        low + (high - low) * self.rand()
    }

    /// `RandomState.randn()` / `standard_normal()`: numpy's `legacy_gauss`, the polar
    /// Box-Muller method. Each pair of accepted uniforms gives two normals; the second is
    /// kept and returned by the next call (so the stream depends on the call order, as
    /// numpy's does).
    pub fn randn(&mut self) -> f64 {
        if let Some(kept) = self.gauss.take() {
            return kept;
        }
        loop {
            let x1 = 2.0 * self.rand() - 1.0;
            let x2 = 2.0 * self.rand() - 1.0;
            let r2 = x1 * x1 + x2 * x2;
            if r2 < 1.0 && r2 != 0.0 {
                let f = (-2.0 * r2.ln() / r2).sqrt();
                self.gauss = Some(f * x1);
                return f * x2;
            }
        }
    }

    /// The integer behind [`RandomState::rand`]: `rand() == rand_u53() / 2**53` exactly, so
    /// `rand() < p` is `rand_u53() < threshold_53(p)` without touching floats.
    #[inline]
    pub fn rand_u53(&mut self) -> u64 {
        let pos = self.pos;
        let (a, b) = if pos + 1 < N {
            // Both words are ready: one bounds check and one update of `pos`.
            self.pos = pos + 2;
            (self.out[pos], self.out[pos + 1])
        } else {
            (self.next_u32(), self.next_u32())
        };
        (((a >> 5) as u64) << 26) | (b >> 6) as u64
    }

    /// `RandomState.randint(n)`: uniform in `0 .. n` by masked rejection; `n` must be >= 1
    /// (`n == 1` consumes nothing, as in numpy).
    #[inline]
    pub fn randint(&mut self, n: u32) -> u32 {
        self.bounded(n.saturating_sub(1))
    }

    /// `RandomState.randint(low, high)`: uniform in `low .. high` (`high > low`).
    #[inline]
    pub fn randint_range(&mut self, low: i32, high: i32) -> i32 {
        let rng = (high - low - 1).max(0) as u32;
        low + self.bounded(rng) as i32
    }

    /// A value in `0 ..= rng`, numpy's `buffered_bounded_masked_uint32`.
    #[inline]
    fn bounded(&mut self, rng: u32) -> u32 {
        if rng == 0 {
            return 0;
        }
        if rng == u32::MAX {
            return self.next_u32();
        }
        let mask = u32::MAX >> rng.leading_zeros();
        loop {
            let v = self.next_u32() & mask;
            if v <= rng {
                return v;
            }
        }
    }
}

/// MT19937's output tempering of one state word.
#[inline(always)]
fn temper(mut y: u32) -> u32 {
    y ^= y >> 11;
    y ^= (y << 7) & 0x9d2c_5680;
    y ^= (y << 15) & 0xefc6_0000;
    y ^ (y >> 18)
}

/// The integer `t` with `rand() < p` exactly when `rand_u53() < t`, for `p` in `[0, 1]`.
///
/// `rand()` is `k / 2**53` for an integer `k`, and `p * 2**53` is exact (a power-of-two
/// scaling), so `k / 2**53 < p` is `k < p * 2**53`, which for an integer `k` is
/// `k < ceil(p * 2**53)`.
pub fn threshold_53(p: f64) -> u64 {
    (p.clamp(0.0, 1.0) * 9_007_199_254_740_992.0).ceil() as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integer_threshold_agrees_with_the_float_compare() {
        let ps = [0.0, 0.1, 0.5, 1.0 / 3.0, 0.999_999_999, 1.0, f64::MIN_POSITIVE, 1e-300];
        let mut r = RandomState::new(7);
        for _ in 0..20_000 {
            let k = r.rand_u53();
            let x = k as f64 / 9_007_199_254_740_992.0;
            for &p in &ps {
                assert_eq!(x < p, k < threshold_53(p), "k={k} p={p}");
            }
        }
        // Edges: values right at and next to the threshold.
        for &p in &ps {
            let t = threshold_53(p);
            for k in [t.saturating_sub(1), t, t + 1] {
                let x = k as f64 / 9_007_199_254_740_992.0;
                assert_eq!(x < p, k < t, "k={k} p={p}");
            }
        }
    }

    /// The paired fast path of `rand_u53` gives what two single draws give, at every offset
    /// into the 624-word block (the odd shifts put a pair across each regeneration).
    #[test]
    fn paired_draws_equal_single_draws_across_regenerations() {
        let mut paired = RandomState::new(3);
        let mut single = paired.clone();
        for i in 0..5000 {
            if i % 7 == 0 {
                assert_eq!(paired.next_u32(), single.next_u32());
            }
            let (a, b) = (single.next_u32() >> 5, single.next_u32() >> 6);
            assert_eq!(paired.rand_u53(), ((a as u64) << 26) | b as u64, "draw {i}");
            assert_eq!(paired, single);
        }
    }

    #[test]
    fn reference_outputs_of_init_genrand_5489() {
        // The reference implementation's default seed gives 3499211612 first.
        let mut r = RandomState::new(5489);
        assert_eq!(r.next_u32(), 3_499_211_612);
    }

    #[test]
    fn reference_outputs_of_init_by_array() {
        // mt19937ar.c's test vector: init_by_array({0x123, 0x234, 0x345, 0x456}).
        let mut r = RandomState::from_words(&[0x123, 0x234, 0x345, 0x456]);
        let first: Vec<u32> = (0..5).map(|_| r.next_u32()).collect();
        assert_eq!(first, [1_067_595_299, 955_945_823, 477_289_528, 4_107_218_783, 4_228_976_476]);
    }
}
