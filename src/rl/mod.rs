//! Reinforcement-learning agents that use the model zoo's encoders as torsos: DQN, PPO, SAC,
//! TD3 and DrQ-v2, one readable file each, over the environments of [`graft_envs`].
//!
//! Only plumbing is shared: [`harness`] (what happens between updates: hooks, evaluation,
//! checkpoint and resume, metrics, stop requests), [`buffer`] (replay and rollout storage)
//! and [`single_env`] (an off-policy agent's env feeding it),
//! [`gae`], [`nets`] (torsos from the zoo, optionally pretrained and frozen), [`eval`]
//! (deterministic evaluation on separately seeded envs) and [`state`] (the checkpoint file).
//! [`agent`] is the one dispatch over the agents, for the CLI and scripts alike.

pub mod agent;
pub mod atari_scores;
pub mod buffer;
pub mod dqn;
pub mod dqn_net;
pub mod drqv2;
pub mod drqv2_net;
pub mod eval;
pub mod frame_store;
pub mod gae;
pub mod harness;
pub mod nets;
pub mod ppo;
pub mod ppo_net;
pub mod run;
pub mod sac;
pub mod single_env;
pub mod state;
pub mod td3;

pub use crate::train::Ended;
pub use agent::{AgentConfig, Algo, Preset, TrainedPolicy, PRESETS};
pub use dqn::{DqnConfig, DqnOptimizer};
pub use drqv2::DrqV2Config;
pub use eval::{evaluate, EvalStats};
pub use harness::Harness;
pub use nets::TorsoConfig;
pub use ppo::PpoConfig;
pub use run::{RunOptions, TrainReport, TrainSummary};
pub use sac::SacConfig;
pub use td3::Td3Config;
