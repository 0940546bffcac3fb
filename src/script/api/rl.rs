//! `rl::train(#{algo, env, config, steps…})` — train a DQN, PPO, SAC, TD3 or DrQ-v2 agent
//! ([`crate::rl`]) in a registered environment, its outputs (metrics, plots, checkpoint) in a
//! subfolder of the run (`name`, default `rl-<algo>`), through the same dispatch and preset
//! table as `graft rl train` ([`AgentConfig`], [`crate::rl::PRESETS`]). The agent's config is
//! `config`: a map filling its serde config (`DqnConfig`, `PpoConfig`, `SacConfig`, the same
//! structs as `graft rl`'s JSON; missing fields keep their defaults), or a preset's name as
//! `graft rl train --config NAME` takes it; `preset: NAME` with a `config` map starts from
//! that preset instead of the defaults (the map's keys replace the preset's). With neither,
//! the env's preset is used, as the CLI does (`continuous` for PPO on Box actions, `pendulum`
//! for SAC on Pendulum). The config's `torso` may name a pretrained encoder (`init_encoder`,
//! `freeze`). `pixels` (`#{size: [w, h], grayscale, frame_stack}`) makes the agent observe
//! rendered frames instead of the state; `action_repeat: k` holds each action for k physics
//! steps (frame skip, as `graft collect --action-repeat`); DrQ-v2 on a Control Suite task
//! takes the paper's frames and repeat when neither is given; `hooks` (PPO, DQN and DrQ-v2,
//! whose hooks see the encoder's groups `encoder.<group>`) is a schedule
//! as for `finetune::run`, whose `ctx.step` counts env steps: it can unfreeze torso groups
//! (PPO: `actor.torso.<group>`, plus `critic.torso.<group>` unless `shared_torso`; DQN:
//! `torso.<group>`) or set their learning rates mid-run. Returns the run's
//! [`TrainReport`](crate::rl::TrainReport): `#{env_steps, episodes, evals: [[step, mean
//! return], …], final_return, final_std, wall_secs, resumed_from, checkpoint, ended,
//! stopped_early}` (`ended`: `"budget"` or `"hook"`).
//!
//! ```rhai
//! let r = rl::train(#{algo: "ppo", env: "CartPole-v1", config: #{total_timesteps: 20000}});
//! print(r.final_return);
//! let zoo = rl::train(#{algo: "dqn", env: "CartPole-v1", preset: "sb3_zoo_cartpole",
//!     config: #{total_timesteps: 5000}});
//! ```

use rhai::{Dynamic, Map, Module, NativeCallContext};

use graft_envs::wrappers::PixelObservation;
use serde::{Deserialize, Serialize};

use super::{fail, from_map, to_dyn, RhaiResult};
use crate::rl::agent::ConfigSource;
use crate::rl::{AgentConfig, Algo, Ended, RunOptions, TrainSummary};
use crate::script::error::to_rhai;
use crate::script::hooks::{Caller, HookFns, RhaiHooks};
use crate::script::session::Session;

/// `rl::train` options besides the agent's own config.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct TrainOptions {
    /// `ppo`, `dqn`, `sac`, `td3` or `drqv2`.
    algo: String,
    /// Registered environment id.
    env: String,
    /// Keyword arguments to `make` (e.g. an Atari game's `preprocessing: true`).
    #[serde(default)]
    env_kwargs: serde_json::Map<String, serde_json::Value>,
    /// A preset to start from (`config`'s keys replace its own).
    #[serde(default)]
    preset: Option<String>,
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
    /// Hold each action for this many physics steps (frame skip); default: the papers' value
    /// for a Control Suite task, 1 otherwise (as the CLI).
    #[serde(default)]
    action_repeat: Option<usize>,
    /// Print an evaluation line to stderr as training goes.
    #[serde(default)]
    verbose: bool,
}

fn default_eval_episodes() -> usize {
    10
}

/// The agent's config from `preset` and `config` (see the module docs), read straight from
/// the Rhai value so that errors name the field and a NaN stays a NaN (through JSON it would
/// become `null`).
fn agent_config(
    algo: Algo,
    env: &str,
    preset: Option<&str>,
    config: Dynamic,
) -> crate::error::Result<AgentConfig> {
    let named = |name: &str| {
        AgentConfig::preset(algo, name).ok_or_else(|| {
            crate::error::Error::Invalid(format!(
                "rl::train: no {algo} preset '{name}' (presets: {})",
                AgentConfig::preset_names(algo).join(", ")
            ))
        })
    };
    let overrides = match (config.is_unit(), config.clone().try_cast::<String>(), preset) {
        (true, _, None) => return Ok(AgentConfig::default_for(algo, env)),
        (true, _, Some(p)) => return named(p),
        (_, Some(name), None) => return named(&name),
        (_, Some(_), Some(_)) => {
            return Err(crate::error::Error::Invalid(
                "rl::train: give the preset as `preset` or `config`, not both".into(),
            ))
        }
        (_, None, _) => config,
    };
    let value = match (preset, overrides.read_lock::<Map>()) {
        (Some(p), Some(map)) => {
            let base = rhai::serde::to_dynamic(named(p)?.to_json())
                .map_err(|e| crate::error::Error::Invalid(e.to_string()))?;
            let mut merged = base.try_cast::<Map>().unwrap_or_default();
            merged.extend(map.iter().map(|(k, v)| (k.clone(), v.clone())));
            Dynamic::from_map(merged)
        }
        _ => overrides.clone(),
    };
    AgentConfig::read(algo, ConfigSource::Rhai { value: &value, caller: "rl::train" })
}

fn train(ctx: &NativeCallContext, session: &Session, mut options: Map) -> RhaiResult<Dynamic> {
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
    let algo = match o.algo.parse::<Algo>() {
        Ok(a) => a,
        Err(e) => return fail(format!("rl::train: {e}")),
    };
    let cfg = agent_config(algo, &o.env, o.preset.as_deref(), config).map_err(to_rhai)?;
    if let Some(p) = &o.pixels {
        p.validate().map_err(|e| to_rhai(e.into()))?;
    }
    let name = o.name.clone().unwrap_or_else(|| format!("rl-{}", o.algo));
    let out = session.output_path(&name).map_err(to_rhai)?;
    let env_kwargs =
        crate::data::schema::kwargs_from_json(&serde_json::Value::Object(o.env_kwargs.clone()))
            .map_err(|e| to_rhai(crate::Error::Invalid(format!("rl::train: env_kwargs: {e}"))))?;
    // DrQ-v2 on a Control Suite task defaults to the paper's frames and repeat.
    let (pixels, action_repeat) = algo.observation(&o.env, o.pixels.clone(), o.action_repeat);
    let opts = RunOptions {
        out: Some(out),
        device: session.device(),
        env_kwargs,
        eval_every: o.eval_every,
        eval_episodes: o.eval_episodes,
        pixels,
        action_repeat,
        verbose: o.verbose,
        ..RunOptions::default()
    };
    let seed = o.seed.unwrap_or(session.seed());
    let main_file = session.script().display().to_string();
    // Unfreezing a torso group starts its Adam moments afresh, as fine-tuning does.
    let mut rhai_hooks = hooks.map(|h| RhaiHooks::new(h, Caller::Context(ctx), true, &main_file));
    let result = cfg.train_with_hooks(
        &o.env,
        seed,
        &opts,
        rhai_hooks.as_mut().map(|h| h as &mut dyn crate::train::TrainHooks),
    );
    let summary: TrainSummary = match &mut rhai_hooks {
        Some(h) => h.finish(session, result)?,
        None => result.map_err(to_rhai)?,
    };
    let final_return = match &summary.final_eval {
        Some(e) => format!("final return {:.2} ± {:.2}", e.mean(), e.std()),
        None => "stopped before any evaluation".to_string(),
    };
    let ended = if summary.ended == Ended::Hook { " (stopped by a hook)" } else { "" };
    session.log_line(&format!(
        "rl: {algo} {} for {} env steps{ended}, {} episodes, {final_return}",
        o.env, summary.env_steps, summary.episodes,
    ));
    to_dyn(&summary.report())
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rl::{DqnConfig, PpoConfig, SacConfig};

    fn map(pairs: &[(&str, Dynamic)]) -> Dynamic {
        Dynamic::from_map(pairs.iter().map(|(k, v)| ((*k).into(), v.clone())).collect())
    }

    #[test]
    fn scripts_read_the_clis_presets_and_defaults() {
        let dqn = |preset, config| agent_config(Algo::Dqn, "CartPole-v1", preset, config);
        assert_eq!(
            dqn(None, Dynamic::from("minatar")).unwrap(),
            AgentConfig::Dqn(DqnConfig::minatar())
        );
        assert_eq!(
            dqn(Some("sb3_zoo_cartpole"), Dynamic::UNIT).unwrap(),
            AgentConfig::Dqn(DqnConfig::sb3_zoo_cartpole())
        );
        // Neither: the env's preset, as `graft rl train` without --config.
        let sac = agent_config(Algo::Sac, "Pendulum-v1", None, Dynamic::UNIT).unwrap();
        assert_eq!(sac, AgentConfig::Sac(SacConfig::pendulum()));
        let ppo = agent_config(Algo::Ppo, "Pendulum-v1", None, Dynamic::UNIT).unwrap();
        assert_eq!(ppo, AgentConfig::Ppo(PpoConfig::continuous()));
        // A map fills the defaults, as --config JSON does; with a preset, that preset.
        let steps = map(&[("total_timesteps", Dynamic::from(300_i64))]);
        let want = DqnConfig { total_timesteps: 300, ..DqnConfig::default() };
        assert_eq!(dqn(None, steps.clone()).unwrap(), AgentConfig::Dqn(want));
        let want = DqnConfig { total_timesteps: 300, ..DqnConfig::sb3_zoo_cartpole() };
        assert_eq!(dqn(Some("sb3_zoo_cartpole"), steps).unwrap(), AgentConfig::Dqn(want));
    }

    #[test]
    fn bad_presets_and_fields_are_named() {
        let dqn = |preset, config| agent_config(Algo::Dqn, "CartPole-v1", preset, config);
        let e = dqn(None, Dynamic::from("breakout")).unwrap_err().to_string();
        assert!(
            e.contains("'breakout'")
                && e.contains("minatar, atari, sb3_zoo_atari, atari100k, default"),
            "{e}"
        );
        let e = dqn(Some("minatar"), Dynamic::from("cartpole")).unwrap_err().to_string();
        assert!(e.contains("not both"), "{e}");
        let bad = map(&[("buffer_sise", Dynamic::from(1_i64))]);
        let e = dqn(Some("minatar"), bad).unwrap_err().to_string();
        assert!(e.contains("rl::train dqn config") && e.contains("buffer_sise"), "{e}");
        // A NaN over a preset stays a NaN (validation refuses it when training starts).
        let nan = map(&[("learning_rate", Dynamic::from_float(f64::NAN))]);
        let AgentConfig::Dqn(c) = dqn(Some("minatar"), nan).unwrap() else { panic!("not dqn") };
        assert!(c.learning_rate.is_nan() && c.buffer_size == DqnConfig::minatar().buffer_size);
    }
}
