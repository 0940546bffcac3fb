//! `rl::train(#{algo, env, config, steps…})` — train a DQN, PPO or SAC agent
//! ([`crate::rl`]) in a registered environment, its outputs (metrics, plots, checkpoint) in a
//! subfolder of the run (`name`, default `rl-<algo>`). `config` fills the agent's serde
//! config (`DqnConfig`, `PpoConfig`, `SacConfig`, the same structs as `graft rl`'s JSON),
//! whose `torso` may name a pretrained encoder (`init_encoder`, `freeze`). Returns
//! `#{env_steps, episodes, evals: [[step, mean return], …], final_return, checkpoint}`.
//!
//! ```rhai
//! let r = rl::train(#{algo: "ppo", env: "CartPole-v1", config: #{total_timesteps: 20000}});
//! print(r.final_return);
//! ```

use rhai::{Array, Dynamic, Map, Module};
use serde::{Deserialize, Serialize};

use super::{fail, from_map, RhaiResult};
use crate::rl::{DqnConfig, PpoConfig, RunOptions, SacConfig, TrainSummary};
use crate::script::error::to_rhai;
use crate::script::session::Session;

/// `rl::train` options besides the agent's own config.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct TrainOptions {
    /// `dqn`, `ppo` or `sac`.
    algo: String,
    /// Registered environment id.
    env: String,
    /// The agent's configuration (defaults for missing fields).
    #[serde(default)]
    config: serde_json::Value,
    /// Subfolder of the run directory (default `rl-<algo>`).
    #[serde(default)]
    name: Option<String>,
    /// Evaluate every this many env steps (0: only at the end).
    #[serde(default)]
    eval_every: u64,
    /// Episodes per evaluation.
    #[serde(default = "default_eval_episodes")]
    eval_episodes: usize,
    /// Seed (default: the run's seed).
    #[serde(default)]
    seed: Option<u64>,
}

fn default_eval_episodes() -> usize {
    10
}

fn agent_config<T: serde::de::DeserializeOwned>(
    algo: &str,
    v: &serde_json::Value,
) -> RhaiResult<T> {
    let v = if v.is_null() { serde_json::json!({}) } else { v.clone() };
    serde_json::from_value(v)
        .map_err(|e| to_rhai(crate::Error::Invalid(format!("rl::train {algo} config: {e}"))))
}

fn train(session: &Session, options: Map) -> RhaiResult<Map> {
    let o: TrainOptions = from_map("rl::train", options)?;
    let name = o.name.clone().unwrap_or_else(|| format!("rl-{}", o.algo));
    let out = session.output_path(&name).map_err(to_rhai)?;
    let opts = RunOptions {
        out: Some(out),
        device: session.device(),
        eval_every: o.eval_every,
        eval_episodes: o.eval_episodes,
        ..RunOptions::default()
    };
    let seed = o.seed.unwrap_or(session.seed());
    let summary: TrainSummary = match o.algo.as_str() {
        "dqn" => crate::rl::dqn::train(
            &agent_config::<DqnConfig>("dqn", &o.config)?,
            &o.env,
            seed,
            &opts,
        ),
        "ppo" => crate::rl::ppo::train(
            &agent_config::<PpoConfig>("ppo", &o.config)?,
            &o.env,
            seed,
            &opts,
        ),
        "sac" => crate::rl::sac::train(
            &agent_config::<SacConfig>("sac", &o.config)?,
            &o.env,
            seed,
            &opts,
        ),
        other => {
            return fail(format!("rl::train: unknown algo '{other}'; expected dqn, ppo or sac"))
        }
    }
    .map_err(to_rhai)?;
    session.log_line(&format!(
        "rl: {} {} for {} env steps, {} episodes, final return {:?}",
        o.algo,
        o.env,
        summary.env_steps,
        summary.episodes,
        summary.final_eval.as_ref().map(|e| e.mean())
    ));
    let mut out = Map::new();
    out.insert("env_steps".into(), Dynamic::from(summary.env_steps as i64));
    out.insert("episodes".into(), Dynamic::from(summary.episodes as i64));
    let evals: Array = summary
        .evals
        .iter()
        .map(|(s, r)| Dynamic::from_array(vec![Dynamic::from(*s as i64), Dynamic::from_float(*r)]))
        .collect();
    out.insert("evals".into(), Dynamic::from_array(evals));
    out.insert(
        "final_return".into(),
        summary.final_eval.as_ref().map_or(Dynamic::UNIT, |e| Dynamic::from_float(e.mean())),
    );
    out.insert(
        "checkpoint".into(),
        summary.checkpoint.map_or(Dynamic::UNIT, |p| Dynamic::from(p.display().to_string())),
    );
    Ok(out)
}

/// The `rl` module.
pub fn module(session: &Session) -> Module {
    let mut m = Module::new();
    let s = session.clone();
    api_fn!(m, "train", |options: Map| train(&s, options));
    m
}
