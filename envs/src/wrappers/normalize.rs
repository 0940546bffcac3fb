//! `NormalizeObservation`: scale observations to roughly zero mean and unit variance with a
//! running estimate, as Gymnasium 1.x's `gymnasium.wrappers.NormalizeObservation`.
//!
//! The running statistics follow Gymnasium's `RunningMeanStd` (Chan et al.'s parallel
//! variance update, <https://en.wikipedia.org/wiki/Algorithms_for_calculating_variance#Parallel_algorithm>)
//! starting from mean 0, variance 1 and count 1e-4, updated with each observation before it
//! is normalized: `(obs - mean) / sqrt(var + epsilon)`. As in Gymnasium (where the statistics
//! take the `float32` dtype of the space) mean and variance are `f32` and the count `f64`,
//! and every operation rounds as numpy does, so values match Gymnasium's.
//!
//! Only the observation's `f32` part is normalized (each `f32` leaf becomes an unbounded
//! `float32` `Box`); `u8` leaves such as pixels pass through, so a `Dict` of pixels and state
//! normalizes the state. Gymnasium refuses spaces without a shape (a `Dict`); this is the
//! one deliberate difference. Set [`NormalizeObservation::set_update_running_mean`] to
//! `false` (or call [`NormalizeObservation::freeze`]) to evaluate with fixed statistics.

use serde::{Deserialize, Serialize};

use crate::env::{ActionRef, Env, Info, Kwargs, ObsMut, StepOutcome};
use crate::error::{EnvError, Result};
use crate::space::{BoxSpace, DType, Space};

/// Running mean and variance of a vector, as Gymnasium's `RunningMeanStd`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunningMeanStd {
    /// Running mean per element.
    pub mean: Vec<f32>,
    /// Running (population) variance per element.
    pub var: Vec<f32>,
    /// Number of samples seen, starting from a small epsilon (1e-4).
    pub count: f64,
}

impl RunningMeanStd {
    /// Mean 0, variance 1, count 1e-4, as Gymnasium starts.
    pub fn new(len: usize) -> Self {
        RunningMeanStd { mean: vec![0.0; len], var: vec![1.0; len], count: 1e-4 }
    }

    /// Update with one sample (a batch of one: batch mean `x`, batch variance 0).
    pub fn update(&mut self, x: &[f32]) {
        let tot = self.count + 1.0;
        // numpy rounds the Python-float scalars to float32 before each operation.
        let (count32, tot32) = (self.count as f32, tot as f32);
        for ((m, v), &x) in self.mean.iter_mut().zip(self.var.iter_mut()).zip(x) {
            let delta = x - *m;
            let new_mean = *m + delta / tot32;
            let m2 = *v * count32 + 0.0 + delta * delta * count32 / tot32;
            *m = new_mean;
            *v = m2 / tot32;
        }
        self.count = tot;
    }
}

/// For each `f32` leaf, an unbounded `float32` box of its shape; `u8` leaves unchanged.
fn normalized_space(space: &Space) -> Space {
    let unbounded = |shape: Vec<usize>| {
        Space::Box(BoxSpace::uniform(f64::NEG_INFINITY, f64::INFINITY, shape, DType::F32))
    };
    match space {
        Space::Dict(entries) => {
            Space::Dict(entries.iter().map(|(k, s)| (k.clone(), normalized_space(s))).collect())
        }
        Space::Box(b) if b.dtype != DType::F32 => space.clone(),
        other => unbounded(other.shape()),
    }
}

/// Normalizes the `f32` part of observations (see the module docs).
#[derive(Debug)]
pub struct NormalizeObservation<E> {
    env: E,
    space: Space,
    rms: RunningMeanStd,
    epsilon: f32,
    update_running_mean: bool,
}

inner_accessors!(NormalizeObservation);

impl<E: Env> NormalizeObservation<E> {
    /// Gymnasium's default `epsilon = 1e-8`.
    pub fn new(env: E) -> Result<Self> {
        Self::with_epsilon(env, 1e-8)
    }

    /// `epsilon` (strictly positive) is added to the variance under the square root.
    pub fn with_epsilon(env: E, epsilon: f64) -> Result<Self> {
        if !(epsilon > 0.0 && epsilon.is_finite()) {
            return Err(EnvError::Other(format!(
                "{}: NormalizeObservation: epsilon must be finite and strictly positive, got \
                 {epsilon}",
                env.id()
            )));
        }
        let inner = env.observation_space();
        if inner.f32_len() == 0 {
            return Err(EnvError::Space {
                space: inner.to_string(),
                reason: format!(
                    "{}: NormalizeObservation: the observation has no float32 part to normalize",
                    env.id()
                ),
            });
        }
        Ok(NormalizeObservation {
            space: normalized_space(inner),
            rms: RunningMeanStd::new(inner.f32_len()),
            epsilon: epsilon as f32,
            update_running_mean: true,
            env,
        })
    }

    /// Whether observations update the statistics (Gymnasium's `update_running_mean`).
    pub fn update_running_mean(&self) -> bool {
        self.update_running_mean
    }

    /// Turn updating of the statistics on or off.
    pub fn set_update_running_mean(&mut self, on: bool) {
        self.update_running_mean = on;
    }

    /// Stop updating the statistics (for evaluation).
    pub fn freeze(&mut self) {
        self.update_running_mean = false;
    }

    /// The running statistics, e.g. to save them with a policy.
    pub fn obs_rms(&self) -> &RunningMeanStd {
        &self.rms
    }

    /// Replace the running statistics (e.g. those saved with a policy, for evaluation).
    pub fn set_obs_rms(&mut self, rms: RunningMeanStd) -> Result<()> {
        let n = self.rms.mean.len();
        if rms.mean.len() != n || rms.var.len() != n {
            return Err(EnvError::LengthMismatch {
                what: format!("{}: NormalizeObservation statistics", self.env.id()),
                expected: n,
                got: rms.mean.len().min(rms.var.len()),
            });
        }
        self.rms = rms;
        Ok(())
    }

    fn normalize(&mut self, xs: &mut [f32]) {
        if self.update_running_mean {
            self.rms.update(xs);
        }
        for ((x, &m), &v) in xs.iter_mut().zip(&self.rms.mean).zip(&self.rms.var) {
            *x = (*x - m) / (v + self.epsilon).sqrt();
        }
    }
}

impl<E: Env> Env for NormalizeObservation<E> {
    forward_env_basics!();

    fn observation_space(&self) -> &Space {
        &self.space
    }

    fn action_space(&self) -> &Space {
        self.env.action_space()
    }

    fn reset_into(
        &mut self,
        seed: Option<u64>,
        options: &Kwargs,
        mut obs: ObsMut<'_>,
    ) -> Result<Info> {
        let info = self.env.reset_into(seed, options, obs.reborrow())?;
        self.normalize(obs.f32);
        Ok(info)
    }

    fn step_into(&mut self, action: ActionRef<'_>, mut obs: ObsMut<'_>) -> Result<StepOutcome> {
        let out = self.env.step_into(action, obs.reborrow())?;
        self.normalize(obs.f32);
        Ok(out)
    }
}
