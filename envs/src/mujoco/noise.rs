//! Where reset noise comes from: numpy's generator, as in Gymnasium.
//!
//! Gymnasium seeds each environment with numpy's `Generator(PCG64(SeedSequence(seed)))` and
//! draws reset noise with `np_random.uniform(low, high, size)` and
//! `np_random.standard_normal(size)`. The MuJoCo environments draw through [`ResetNoise`] from
//! graft-envs' [`NumpyRng`], which reproduces those streams bit for bit, so `reset(seed)` starts
//! in Gymnasium's state for the same seed (`tests/mujoco_parity.rs` checks it).

use crate::numpy_rng::NumpyRng;

/// The draws Gymnasium's MuJoCo `reset_model`s make.
pub trait ResetNoise {
    /// `out[i] = uniform(low, high)`, in order (numpy's `uniform(low, high, size=len)`).
    fn uniform(&mut self, low: f64, high: f64, out: &mut [f64]);
    /// `out[i] = standard_normal()`, in order (numpy's `standard_normal(len)`).
    fn standard_normal(&mut self, out: &mut [f64]);
}

impl ResetNoise for NumpyRng {
    fn uniform(&mut self, low: f64, high: f64, out: &mut [f64]) {
        self.uniform_fill(low, high, out);
    }

    fn standard_normal(&mut self, out: &mut [f64]) {
        self.standard_normal_fill(out);
    }
}

/// The generator the MuJoCo environments draw reset noise from.
pub type NoiseRng = NumpyRng;

/// Gymnasium's `np_random` after `reset(seed=seed)`.
pub fn seeded(seed: u64) -> NoiseRng {
    NumpyRng::from_seed(seed)
}

/// The generator of a first `reset()` without a seed (Gymnasium seeds from OS entropy).
pub fn from_entropy() -> NoiseRng {
    NumpyRng::from_entropy()
}
