//! `NumpyRng`: numpy's `Generator(PCG64(SeedSequence(seed)))`, the generator behind every
//! Gymnasium environment's `np_random`.
//!
//! Gymnasium's `reset(seed=s)` calls `gymnasium.utils.seeding.np_random(s)`, which builds
//! `Generator(PCG64(SeedSequence(s)))`: [`NumpyRng::from_seed`]. Without a seed it hashes 128
//! bits of operating-system entropy instead: [`NumpyRng::from_entropy`]. The draws reproduce
//! `Generator`'s methods, value for value and in the number of 64-bit outputs consumed, so a
//! stream shared by several kinds of draws stays in step with numpy's:
//!
//! | numpy `Generator` | here |
//! |---|---|
//! | `random()` | [`NumpyRng::random`] |
//! | `uniform(low, high)` | [`NumpyRng::uniform`] |
//! | `standard_normal()` | [`NumpyRng::standard_normal`] |
//! | `normal(loc, scale)` | [`NumpyRng::normal`] |
//! | `integers(low, high)` (`int64`, `endpoint=False`) | [`NumpyRng::integers`] |
//!
//! An array call (`size=n`) draws its elements one after the other, exactly as `n` scalar calls
//! would (the `_fill` methods); arrays of bounds (`uniform(low=[..], high=[..])`) pair element
//! `i` of each.

use super::pcg64::Pcg64;
use super::seed_sequence::SeedSequence;
use super::ziggurat;
use crate::error::{EnvError, Result};

/// numpy's default generator, `np.random.default_rng(seed)` (see the module docs).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NumpyRng {
    bits: Pcg64,
}

impl NumpyRng {
    /// `np.random.default_rng(seed)`, which is also what Gymnasium's `reset(seed=seed)` seeds
    /// an environment with (`Generator(PCG64(SeedSequence(seed)))`).
    pub fn from_seed(seed: u64) -> Self {
        Self::from_seed_sequence(&SeedSequence::from_u64(seed))
    }

    /// `Generator(PCG64(seq))`.
    pub fn from_seed_sequence(seq: &SeedSequence) -> Self {
        NumpyRng { bits: Pcg64::from_seed_sequence(seq) }
    }

    /// Gymnasium's `seeding.np_random(None)` (a first `reset()` without a seed): seeded from
    /// 128 bits of operating-system entropy. To know the seed, build the
    /// [`SeedSequence::from_os_entropy`] and keep its [`entropy_u128`](SeedSequence::entropy_u128).
    pub fn from_entropy() -> Self {
        Self::from_seed_sequence(&SeedSequence::from_os_entropy())
    }

    /// A generator over an existing bit generator (`Generator(bit_generator)`).
    pub fn from_bit_generator(bits: Pcg64) -> Self {
        NumpyRng { bits }
    }

    /// The bit generator (`Generator.bit_generator`).
    pub fn bit_generator(&self) -> &Pcg64 {
        &self.bits
    }

    /// The bit generator, to draw raw outputs or set its state.
    pub fn bit_generator_mut(&mut self) -> &mut Pcg64 {
        &mut self.bits
    }

    /// `random()`: uniform in `[0, 1)`, the top 53 bits of one 64-bit output.
    #[inline]
    pub fn random(&mut self) -> f64 {
        self.bits.next_f64()
    }

    /// `uniform(low, high)`: `low + (high - low) * random()`, one 64-bit output.
    ///
    /// numpy refuses bounds whose `high - low` is negative (`ValueError`) or not finite
    /// (`OverflowError`); here such bounds give what the formula gives, so callers that take
    /// bounds from a user check them first with [`uniform_bounds_error`].
    #[inline]
    pub fn uniform(&mut self, low: f64, high: f64) -> f64 {
        low + (high - low) * self.random()
    }

    /// `uniform(low, high, size=out.len())`, written into `out`.
    pub fn uniform_fill(&mut self, low: f64, high: f64, out: &mut [f64]) {
        for o in out {
            *o = self.uniform(low, high);
        }
    }

    /// `standard_normal()`: numpy's ziggurat (one 64-bit output in 99.3% of draws, more in the
    /// wedges and the tail).
    #[inline]
    pub fn standard_normal(&mut self) -> f64 {
        ziggurat::standard_normal(&mut self.bits)
    }

    /// `standard_normal(size=out.len())`, written into `out`.
    pub fn standard_normal_fill(&mut self, out: &mut [f64]) {
        for o in out {
            *o = self.standard_normal();
        }
    }

    /// `normal(loc, scale)`: `loc + scale * standard_normal()` (numpy refuses a negative
    /// `scale`; here it mirrors the draw).
    #[inline]
    pub fn normal(&mut self, loc: f64, scale: f64) -> f64 {
        loc + scale * self.standard_normal()
    }

    /// `integers(low, high)`: uniform in `[low, high)`, as `Generator.integers` draws an
    /// `int64` with `endpoint=False`. A range of one value draws nothing; `high <= low` is
    /// refused, as numpy refuses it.
    pub fn integers(&mut self, low: i64, high: i64) -> Result<i64> {
        if high <= low {
            return Err(EnvError::Other(format!(
                "integers: low ({low}) must be lower than high ({high})"
            )));
        }
        // The closed range [low, high - 1] as an offset and a width, both in two's complement.
        let width = (high as u64).wrapping_sub(1).wrapping_sub(low as u64);
        Ok((low as u64).wrapping_add(self.bounded(width)) as i64)
    }

    /// `integers(low, high, size=out.len())`, written into `out`.
    pub fn integers_fill(&mut self, low: i64, high: i64, out: &mut [i64]) -> Result<()> {
        for o in out {
            *o = self.integers(low, high)?;
        }
        Ok(())
    }

    /// Uniform in the closed range `[0, max]`, as numpy's `random_bounded_uint64_fill` with
    /// Lemire's method (what `Generator.integers` uses; the masked method is only
    /// `RandomState`'s): nothing drawn for `max = 0`; a 32-bit range from 32-bit draws, which
    /// share the bit generator's buffered half-output; a 64-bit range from 64-bit draws.
    pub fn bounded(&mut self, max: u64) -> u64 {
        if max == 0 {
            0
        } else if max == u64::from(u32::MAX) {
            u64::from(self.bits.next_u32())
        } else if max < u64::from(u32::MAX) {
            u64::from(self.lemire_u32(max as u32))
        } else if max == u64::MAX {
            self.bits.next_u64()
        } else {
            self.lemire_u64(max)
        }
    }

    /// Lemire, "Fast Random Integer Generation in an Interval", ACM TOMACS 29(1), 2019
    /// (<https://arxiv.org/abs/1805.10941>): the high half of `draw * n` for `n = max + 1`,
    /// rejecting the low halves below `2^32 mod n` that would bias it. `max < 2^32 - 1`.
    fn lemire_u32(&mut self, max: u32) -> u32 {
        let n = max + 1;
        let mut m = u64::from(self.bits.next_u32()) * u64::from(n);
        // `n` bounds the threshold, so the remainder is only computed when it can matter.
        if (m as u32) < n {
            let threshold = (u32::MAX - max) % n;
            while (m as u32) < threshold {
                m = u64::from(self.bits.next_u32()) * u64::from(n);
            }
        }
        (m >> 32) as u32
    }

    /// [`Self::lemire_u32`] with 64-bit draws and a 128-bit product. `max < 2^64 - 1`.
    fn lemire_u64(&mut self, max: u64) -> u64 {
        let n = max + 1;
        let mut m = u128::from(self.bits.next_u64()) * u128::from(n);
        if (m as u64) < n {
            let threshold = (u64::MAX - max) % n;
            while (m as u64) < threshold {
                m = u128::from(self.bits.next_u64()) * u128::from(n);
            }
        }
        (m >> 64) as u64
    }
}

/// numpy's refusal of `uniform(low, high)`, if it refuses these bounds: a `high - low` that is
/// not finite (`OverflowError`) or negative (`ValueError`).
pub fn uniform_bounds_error(low: f64, high: f64) -> Option<String> {
    let range = high - low;
    if !range.is_finite() {
        Some(format!("high - low range exceeds valid bounds (low {low}, high {high})"))
    } else if range < 0.0 {
        Some(format!("high - low < 0 (low {low}, high {high})"))
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uniform_is_the_affine_map_of_random() {
        let mut a = NumpyRng::from_seed(1);
        let mut b = a.clone();
        for _ in 0..100 {
            let u = b.random();
            assert_eq!(a.uniform(-0.05, 0.05), -0.05 + (0.05 - -0.05) * u);
        }
        let mut xs = [0.0; 4];
        a.uniform_fill(2.0, 3.0, &mut xs);
        assert_eq!(xs, std::array::from_fn(|_| b.uniform(2.0, 3.0)));
    }

    #[test]
    fn integers_of_one_value_draw_nothing_and_empty_ranges_are_refused() {
        let mut a = NumpyRng::from_seed(2);
        let before = a.clone();
        assert_eq!(a.integers(7, 8), Ok(7));
        assert_eq!(a, before);
        assert!(a.integers(3, 3).is_err() && a.integers(3, -1).is_err());
        assert_eq!(a.integers(i64::MIN, i64::MIN + 1), Ok(i64::MIN));
    }

    #[test]
    fn bounded_uses_32_bit_draws_for_32_bit_ranges() {
        let mut a = NumpyRng::from_seed(4);
        a.bounded(2);
        assert!(a.bit_generator().state().has_uint32);
        a.bounded(2);
        assert!(!a.bit_generator().state().has_uint32);
        a.bounded(1 << 40);
        assert!(!a.bit_generator().state().has_uint32);
    }

    #[test]
    fn numpy_refuses_what_uniform_bounds_error_names() {
        assert_eq!(uniform_bounds_error(-1.0, 1.0), None);
        assert_eq!(uniform_bounds_error(1.0, 1.0), None);
        assert!(uniform_bounds_error(1.0, 0.0).unwrap().contains("< 0"));
        assert!(uniform_bounds_error(0.0, f64::INFINITY).is_some());
        assert!(uniform_bounds_error(f64::NAN, 0.0).is_some());
        assert!(uniform_bounds_error(-1e308, 1e308).is_some());
    }
}
