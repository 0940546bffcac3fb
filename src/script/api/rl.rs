//! `rl::train(#{algo, env, config, steps…})` — train a DQN, PPO or SAC agent
//! ([`crate::rl`]) in a registered environment, its outputs (metrics, plots, checkpoint) in a
//! subfolder of the run (`name`, default `rl-<algo>`). `config` fills the agent's serde
//! config (`DqnConfig`, `PpoConfig`, `SacConfig`, the same structs as `graft rl`'s JSON),
//! whose `torso` may name a pretrained encoder (`init_encoder`, `freeze`). `pixels`
//! (`#{size: [w, h], grayscale, frame_stack}`) makes the agent observe rendered frames
//! instead of the state; `action_repeat: k` holds each action for k physics steps (frame
//! skip, as `graft collect --action-repeat`); `hooks` (PPO and DQN) is a schedule as for `finetune::run`, whose
//! `ctx.step` counts env steps: it can unfreeze torso groups (PPO: `actor.torso.<group>`,
//! plus `critic.torso.<group>` unless `shared_torso`; DQN: `torso.<group>`) or set their
//! learning rates mid-run. Returns `#{env_steps, episodes, evals: [[step, mean return], …],
//! final_return, final_std, wall_secs, stopped_early, checkpoint}`.
//!
//! ```rhai
//! let r = rl::train(#{algo: "ppo", env: "CartPole-v1", config: #{total_timesteps: 20000}});
//! print(r.final_return);
//! ```

use rhai::{Array, Dynamic, Map, Module, NativeCallContext};

use graft_envs::wrappers::PixelObservation;
use serde::{Deserialize, Serialize};

use super::{fail, from_map, RhaiResult};
use crate::rl::{Algo, DqnConfig, PpoConfig, RunOptions, SacConfig, TrainSummary};
use crate::script::error::to_rhai;
use crate::script::hooks::{Caller, HookFns, RhaiHooks};
use crate::script::session::Session;

/// `rl::train` options besides the agent's own config.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct TrainOptions {
    /// `dqn`, `ppo` or `sac`.
    algo: String,
    /// Registered environment id.
    env: String,
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
    /// Observe rendered frames instead of the state.
    #[serde(default)]
    pixels: Option<PixelObservation>,
    /// Hold each action for this many physics steps (frame skip).
    #[serde(default = "default_action_repeat")]
    action_repeat: usize,
    /// Print an evaluation line to stderr as training goes.
    #[serde(default)]
    verbose: bool,
}

fn default_eval_episodes() -> usize {
    10
}

fn default_action_repeat() -> usize {
    1
}

/// The agent's config from the `config` map (defaults for missing fields), read straight from
/// the Rhai value so that errors name the field and a NaN stays a NaN (through JSON it would
/// become `null`).
fn agent_config<T: serde::de::DeserializeOwned>(algo: &str, v: &Dynamic) -> RhaiResult<T> {
    let empty = Dynamic::from_map(Map::new());
    let v = if v.is_unit() { &empty } else { v };
    crate::config_error::from_dynamic(&format!("rl::train {algo} config"), v).map_err(to_rhai)
}

fn train(ctx: &NativeCallContext, session: &Session, mut options: Map) -> RhaiResult<Map> {
    let hooks = match options.remove("hooks") {
        None => None,
        Some(h) => match h.try_cast::<Map>() {
            Some(map) => Some(HookFns::from_map(&map).map_err(to_rhai)?),
            None => return fail("rl::train: hooks must be a map #{on_step: |ctx| ...}".into()),
        },
    };
    // The agent's own config is kept apart: see `agent_config`.
    let config = options.remove("config").unwrap_or(Dynamic::UNIT);
    let o: TrainOptions = from_map("rl::train", options)?;
    if let Some(p) = &o.pixels {
        p.validate().map_err(|e| to_rhai(e.into()))?;
    }
    let name = o.name.clone().unwrap_or_else(|| format!("rl-{}", o.algo));
    let out = session.output_path(&name).map_err(to_rhai)?;
    let opts = RunOptions {
        out: Some(out),
        device: session.device(),
        eval_every: o.eval_every,
        eval_episodes: o.eval_episodes,
        pixels: o.pixels.clone(),
        action_repeat: o.action_repeat,
        verbose: o.verbose,
        ..RunOptions::default()
    };
    let seed = o.seed.unwrap_or(session.seed());
    let main_file = session.script().display().to_string();
    // Unfreezing a torso group starts its Adam moments afresh, as fine-tuning does.
    let mut rhai_hooks =
        RhaiHooks::new(hooks.clone().unwrap_or_default(), Caller::Context(ctx), true, &main_file);
    let algo = match o.algo.parse::<Algo>() {
        Ok(a) => a,
        Err(e) => return fail(format!("rl::train: {e}")),
    };
    let result = match algo {
        Algo::Dqn => crate::rl::dqn::train_with_hooks(
            &agent_config::<DqnConfig>("dqn", &config)?,
            &o.env,
            seed,
            &opts,
            &mut rhai_hooks,
        ),
        Algo::Ppo => crate::rl::ppo::train_with_hooks(
            &agent_config::<PpoConfig>("ppo", &config)?,
            &o.env,
            seed,
            &opts,
            &mut rhai_hooks,
        ),
        Algo::Sac if hooks.is_some() => {
            return fail(
                "rl::train: hooks are supported for ppo and dqn, not sac (its actor, critics \
                 and temperature have separate optimizers)"
                    .into(),
            )
        }
        Algo::Sac => {
            crate::rl::sac::train(&agent_config::<SacConfig>("sac", &config)?, &o.env, seed, &opts)
        }
    };
    let summary: TrainSummary = rhai_hooks.finish(session, result)?;
    let final_return = match &summary.final_eval {
        Some(e) => format!("final return {:.2} ± {:.2}", e.mean(), e.std()),
        None => "stopped before any evaluation".to_string(),
    };
    session.log_line(&format!(
        "rl: {algo} {} for {} env steps, {} episodes, {final_return}",
        o.env, summary.env_steps, summary.episodes,
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
        "final_std".into(),
        summary.final_eval.as_ref().map_or(Dynamic::UNIT, |e| Dynamic::from_float(e.std())),
    );
    out.insert("wall_secs".into(), Dynamic::from_float(summary.wall_secs));
    out.insert("stopped_early".into(), Dynamic::from(summary.stopped_early));
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
    m.set_native_fn("train", move |ctx: NativeCallContext, options: Map| {
        super::located(&ctx, train(&ctx, &s, options))
    });
    m
}
