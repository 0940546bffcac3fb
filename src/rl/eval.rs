//! Deterministic evaluation: the greedy (DQN) or mean (PPO, SAC) action over N episodes, on
//! envs seeded apart from training, as CleanRL's `evaluate` and SB3's `evaluate_policy` do.
//!
//! Episode `e` runs on a fresh env reset with seed `eval_seed(seed) + e`, so an evaluation
//! depends only on the policy and the run's seed. All episodes step together, so the policy
//! sees one batch per time step (one forward pass instead of one per episode).

use tch::{Device, Kind, Tensor};

use graft_envs::{Action, Env, Kwargs, Obs};

use crate::error::Result;
use crate::rl::nets::{ActionSpec, ObsSpec};

/// Offset between a run's seed and its evaluation seeds (training envs use `seed + i`).
pub const EVAL_SEED_OFFSET: u64 = 1_000_003;

/// The first evaluation seed of a run seeded `seed`.
pub fn eval_seed(seed: u64) -> u64 {
    seed.wrapping_add(EVAL_SEED_OFFSET)
}

/// Returns and lengths of evaluation episodes.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct EvalStats {
    /// Each episode's undiscounted return.
    pub returns: Vec<f64>,
    /// Each episode's length.
    pub lengths: Vec<u64>,
}

impl EvalStats {
    /// Mean return.
    pub fn mean(&self) -> f64 {
        self.returns.iter().sum::<f64>() / self.returns.len().max(1) as f64
    }

    /// Standard deviation of the returns (population).
    pub fn std(&self) -> f64 {
        let m = self.mean();
        let n = self.returns.len().max(1) as f64;
        (self.returns.iter().map(|r| (r - m) * (r - m)).sum::<f64>() / n).sqrt()
    }

    /// Mean episode length.
    pub fn mean_length(&self) -> f64 {
        self.lengths.iter().sum::<u64>() as f64 / self.lengths.len().max(1) as f64
    }
}

/// Convert a policy's output row `i` into an env action: `[B]` int64 indices for discrete
/// spaces (shifted by the space's `start`), `[B, dim]` floats for continuous ones.
pub fn to_actions(out: &Tensor, spec: &ActionSpec) -> Vec<Action> {
    match spec {
        ActionSpec::Discrete { start, .. } => {
            let idx: Vec<i64> =
                Vec::try_from(&out.to_kind(Kind::Int64).view([-1])).unwrap_or_default();
            idx.into_iter().map(|a| Action::Discrete(a + start)).collect()
        }
        ActionSpec::Continuous { low, .. } => {
            let dim = low.len();
            let flat: Vec<f32> =
                Vec::try_from(&out.to_kind(Kind::Float).reshape([-1])).unwrap_or_default();
            flat.chunks(dim.max(1)).map(|c| Action::Continuous(c.to_vec())).collect()
        }
    }
}

/// Run `episodes` episodes of `policy` (observations `[B, ...]` → actions as [`to_actions`]
/// reads them) on envs from `make_env`, seeded `first_seed + e`.
pub fn evaluate(
    make_env: &dyn Fn() -> Result<Box<dyn Env>>,
    episodes: usize,
    first_seed: u64,
    device: Device,
    policy: &dyn Fn(&Tensor) -> Tensor,
) -> Result<EvalStats> {
    let mut envs: Vec<Box<dyn Env>> = (0..episodes).map(|_| make_env()).collect::<Result<_>>()?;
    let Some(first) = envs.first() else { return Ok(EvalStats::default()) };
    let obs_spec = ObsSpec::from_space(first.observation_space())?;
    let act_spec = ActionSpec::from_space(first.action_space())?;
    let mut obs: Vec<Obs> = Vec::with_capacity(episodes);
    for (e, env) in envs.iter_mut().enumerate() {
        let (o, _) = env.reset(Some(first_seed.wrapping_add(e as u64)), &Kwargs::new())?;
        obs.push(o);
    }
    let mut returns = vec![0.0f64; episodes];
    let mut lengths = vec![0u64; episodes];
    let mut alive: Vec<usize> = (0..episodes).collect();
    while !alive.is_empty() {
        let f32s: Vec<f32> = alive.iter().flat_map(|&e| obs[e].f32.iter().copied()).collect();
        let u8s: Vec<u8> = alive.iter().flat_map(|&e| obs[e].u8.iter().copied()).collect();
        let x = obs_spec.to_tensor(&f32s, &u8s, alive.len(), device);
        let out = tch::no_grad(|| policy(&x));
        let actions = to_actions(&out, &act_spec);
        let mut still = Vec::with_capacity(alive.len());
        for (&e, action) in alive.iter().zip(&actions) {
            let step = envs[e].step(action)?;
            returns[e] += step.reward;
            lengths[e] += 1;
            obs[e] = step.obs;
            if !(step.terminated || step.truncated) {
                still.push(e);
            }
        }
        alive = still;
    }
    Ok(EvalStats { returns, lengths })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn always_left_on_cartpole_ends_early_and_is_seed_deterministic() {
        let make = || Ok(graft_envs::make("CartPole-v1", &Kwargs::new())?);
        let left = |x: &Tensor| Tensor::zeros([x.size()[0]], (Kind::Int64, Device::Cpu));
        let a = evaluate(&make, 3, 7, Device::Cpu, &left).unwrap();
        let b = evaluate(&make, 3, 7, Device::Cpu, &left).unwrap();
        assert_eq!(a, b);
        assert_eq!(a.returns.len(), 3);
        // Pushing left all the time drops the pole within a few dozen steps.
        assert!(a.mean() > 5.0 && a.mean() < 60.0, "mean {}", a.mean());
        assert_eq!(a.returns.iter().map(|r| *r as u64).collect::<Vec<_>>(), a.lengths);
    }
}
