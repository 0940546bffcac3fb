//! Reinforcement-learning agents that use the model zoo's encoders as torsos: DQN, PPO and
//! SAC, one readable file each, over the environments of [`graft_envs`].
//!
//! Only plumbing is shared: [`buffer`] (replay and rollout storage), [`gae`], [`nets`]
//! (torsos from the zoo, optionally pretrained and frozen), [`eval`] (deterministic
//! evaluation on separately seeded envs) and [`state`] (checkpoints and exact resume).

pub mod agent;
pub mod buffer;
pub mod dqn;
pub mod eval;
pub mod gae;
pub mod nets;
pub mod ppo;
pub mod ppo_net;
pub mod run;
pub mod sac;
pub mod state;

pub use agent::{AgentConfig, Algo, TrainedPolicy};
pub use dqn::{DqnConfig, DqnOptimizer};
pub use eval::{evaluate, EvalStats};
pub use nets::TorsoConfig;
pub use ppo::PpoConfig;
pub use run::{RunOptions, TrainSummary};
pub use sac::SacConfig;
