//! Where reset noise comes from: the one place to switch to numpy's generator.
//!
//! Gymnasium seeds each environment with numpy's `Generator(PCG64(SeedSequence(seed)))` and
//! draws reset noise with `np_random.uniform(low, high, size)` and
//! `np_random.standard_normal(size)`. Until graft-envs has those generators bit for bit
//! (issue #21, item 4), Graft's own [`EnvRng`] stands in: the same distributions, seeded, but
//! not numpy's streams, so `reset(seed)` gives a different (equally distributed) start state
//! than Gymnasium's. The MuJoCo environments draw only through [`ResetNoise`] and get their
//! generator only from [`seeded`] / [`from_entropy`], so the switch is this file.

use crate::rng::EnvRng;

/// The draws Gymnasium's MuJoCo `reset_model`s make.
pub trait ResetNoise {
    /// `out[i] = uniform(low, high)`, in order (numpy's `uniform(low, high, size=len)`).
    fn uniform(&mut self, low: f64, high: f64, out: &mut [f64]);
    /// `out[i] = standard_normal()`, in order (numpy's `standard_normal(len)`).
    fn standard_normal(&mut self, out: &mut [f64]);
}

impl ResetNoise for EnvRng {
    fn uniform(&mut self, low: f64, high: f64, out: &mut [f64]) {
        for x in out {
            *x = EnvRng::uniform(self, low, high);
        }
    }

    fn standard_normal(&mut self, out: &mut [f64]) {
        for x in out {
            *x = self.normal();
        }
    }
}

/// The generator the MuJoCo environments draw reset noise from.
pub type NoiseRng = EnvRng;

/// A generator whose stream is fixed by `seed` (`reset(seed=…)`).
pub fn seeded(seed: u64) -> NoiseRng {
    EnvRng::seed_from(seed)
}

/// A generator for the first `reset()` without a seed (Gymnasium seeds from OS entropy).
pub fn from_entropy() -> NoiseRng {
    EnvRng::from_entropy()
}
