//! `EnvSpec`: what the registry knows about an environment id, as `gymnasium.envs.registration`.

use crate::env::Kwargs;

/// The registration of one environment id.
#[derive(Debug, Clone, PartialEq)]
pub struct EnvSpec {
    /// Gymnasium's id, e.g. `"CartPole-v1"` or `"MinAtar/Breakout-v1"`.
    pub id: String,
    /// Episodes are truncated after this many steps by `make` (a `TimeLimit`), if set.
    pub max_episode_steps: Option<u64>,
    /// The return at which the task counts as solved, if Gymnasium declares one.
    pub reward_threshold: Option<f64>,
    /// Whether the same seed can still give different trajectories.
    pub nondeterministic: bool,
    /// Default keyword arguments (the constructor's defaults, overridable in `make`).
    pub kwargs: Kwargs,
}
