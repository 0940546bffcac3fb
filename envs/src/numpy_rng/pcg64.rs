//! numpy's `PCG64` bit generator: PCG-XSL-RR 128/64.
//!
//! M. E. O'Neill, "PCG: A Family of Simple Fast Space-Efficient Statistically Good Algorithms
//! for Random Number Generation", HMC-CS-2014-0905 (2014). The state is a 128-bit linear
//! congruential generator with an odd increment chosen by the seed; each output first advances
//! the LCG, then folds the new state's two halves together (xor) and rotates the result by the
//! state's top six bits.
//!
//! As numpy's `PCG64`: seeded from [`SeedSequence::generate_state_u64`]`(4)` (words 0-1 the
//! initial state, 2-3 the stream, high word first) through PCG's `srandom` routine; 32-bit
//! draws take the low half of a 64-bit output and keep the high half for the next 32-bit
//! draw (`has_uint32` / `uinteger`); doubles take the top 53 bits of a 64-bit output.

use super::seed_sequence::SeedSequence;

/// PCG's default 128-bit LCG multiplier.
const MULTIPLIER: u128 = (2_549_297_995_355_413_924u128 << 64) | 4_865_540_595_714_422_341u128;

/// The complete state of a [`Pcg64`], as numpy's `PCG64.state` reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Pcg64State {
    /// The LCG state (`state["state"]["state"]`).
    pub state: u128,
    /// The LCG increment, always odd (`state["state"]["inc"]`).
    pub inc: u128,
    /// Whether a 32-bit half is buffered (`state["has_uint32"]`).
    pub has_uint32: bool,
    /// The buffered high half (`state["uinteger"]`).
    pub uinteger: u32,
}

/// numpy's `PCG64` bit generator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pcg64 {
    state: u128,
    inc: u128,
    has_uint32: bool,
    uinteger: u32,
}

impl Pcg64 {
    /// `PCG64(seed_sequence)`.
    pub fn from_seed_sequence(seq: &SeedSequence) -> Self {
        let w = seq.generate_state_u64(4);
        let init_state = (u128::from(w[0]) << 64) | u128::from(w[1]);
        let init_seq = (u128::from(w[2]) << 64) | u128::from(w[3]);
        // PCG's `srandom`: the stream selects the (odd) increment; the initial state is added
        // between two steps so that nearby seeds do not give nearby states.
        let mut rng = Pcg64 { state: 0, inc: (init_seq << 1) | 1, has_uint32: false, uinteger: 0 };
        rng.step();
        rng.state = rng.state.wrapping_add(init_state);
        rng.step();
        rng
    }

    /// A generator in exactly `state` (numpy's `PCG64().state = {...}`). An even increment,
    /// which no seeding produces, is made odd.
    pub fn from_state(state: Pcg64State) -> Self {
        Pcg64 {
            state: state.state,
            inc: state.inc | 1,
            has_uint32: state.has_uint32,
            uinteger: state.uinteger,
        }
    }

    /// The current state.
    pub fn state(&self) -> Pcg64State {
        Pcg64State {
            state: self.state,
            inc: self.inc,
            has_uint32: self.has_uint32,
            uinteger: self.uinteger,
        }
    }

    #[inline]
    fn step(&mut self) {
        self.state = self.state.wrapping_mul(MULTIPLIER).wrapping_add(self.inc);
    }

    /// The next 64 bits (`random_raw()`): advance, then output the new state.
    #[inline]
    pub fn next_u64(&mut self) -> u64 {
        self.step();
        let folded = ((self.state >> 64) as u64) ^ (self.state as u64);
        folded.rotate_right((self.state >> 122) as u32)
    }

    /// The next 32 bits: the buffered high half of the last split output if there is one,
    /// else the low half of a new output (whose high half is buffered).
    #[inline]
    pub fn next_u32(&mut self) -> u32 {
        if self.has_uint32 {
            self.has_uint32 = false;
            return self.uinteger;
        }
        let next = self.next_u64();
        self.has_uint32 = true;
        self.uinteger = (next >> 32) as u32;
        next as u32
    }

    /// A double uniform in `[0, 1)` from the top 53 bits of one 64-bit output (numpy's
    /// `next_double`; the 32-bit buffer is left as it is).
    #[inline]
    pub fn next_f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / 9_007_199_254_740_992.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `np.random.PCG64(0).state` under numpy 2.4.6.
    #[test]
    fn seed_zero_state_matches_numpy() {
        let rng = Pcg64::from_seed_sequence(&SeedSequence::from_u64(0));
        let s = rng.state();
        assert_eq!(s.state, 35399562948360463058890781895381311971);
        assert_eq!(s.inc, 87136372517582989555478159403783844777);
        assert!(!s.has_uint32);
    }

    #[test]
    fn u32_draws_split_one_output_low_half_first() {
        let mut a = Pcg64::from_seed_sequence(&SeedSequence::from_u64(3));
        let mut b = a.clone();
        let x = b.next_u64();
        assert_eq!(a.next_u32(), x as u32);
        assert!(a.state().has_uint32);
        // A double does not consume the buffered half.
        let y = b.next_u64();
        assert_eq!(a.next_f64(), (y >> 11) as f64 / (1u64 << 53) as f64);
        assert_eq!(a.next_u32(), (x >> 32) as u32);
        assert!(!a.state().has_uint32);
        assert_eq!(a.next_u64(), b.next_u64());
    }

    #[test]
    fn state_round_trips() {
        let mut a = Pcg64::from_seed_sequence(&SeedSequence::from_u64(9));
        a.next_u32();
        let mut b = Pcg64::from_state(a.state());
        assert_eq!((a.next_u32(), a.next_u64()), (b.next_u32(), b.next_u64()));
    }
}
