//! One entry point over the five agents, for the CLI and scripts alike: pick an algorithm
//! by name, read its config (JSON, a file, a Rhai map, or a named preset from the one table
//! [`PRESETS`]), train it, and load a trained agent back from its checkpoint as a
//! deterministic policy (for `graft rl eval` and `graft collect --policy checkpoint:PATH`).

use std::path::Path;

use tch::{nn, Device, Tensor};

use graft_envs::{Action, Env};

use crate::error::{Error, Result};
use crate::rl::dqn::{self, DqnConfig, QNetwork};
use crate::rl::drqv2::{self, DrqV2Config, DrqV2Policy};
use crate::rl::eval::to_actions;
use crate::rl::nets::{ActionSpec, ObsSpec};
use crate::rl::ppo::{self, PpoConfig, PpoNet};
use crate::rl::run::{RunOptions, TrainSummary};
use crate::rl::sac::{self, Actor, SacConfig};
use crate::rl::state::RunCheckpoint;
use crate::rl::td3::{self, Td3Actor, Td3Config};
use crate::train::{NoHooks, TrainHooks};
use graft_envs::wrappers::PixelObservation;

/// The RL algorithms Graft trains: the one list of their names (`graft rl train --algo`,
/// `rl::train(#{algo})`, the `algo` recorded in a checkpoint).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Algo {
    /// Proximal Policy Optimization ([`ppo`]).
    Ppo,
    /// Deep Q-Network ([`dqn`]).
    Dqn,
    /// Soft Actor-Critic ([`sac`]).
    Sac,
    /// Twin Delayed DDPG ([`td3`]).
    Td3,
    /// DrQ-v2, from pixels ([`drqv2`]).
    DrqV2,
}

impl Algo {
    /// Every algorithm, in the order help texts list them.
    pub const ALL: [Algo; 5] = [Algo::Ppo, Algo::Dqn, Algo::Sac, Algo::Td3, Algo::DrqV2];

    /// The algorithm's name: `ppo`, `dqn`, `sac`, `td3` or `drqv2`.
    pub fn name(self) -> &'static str {
        match self {
            Algo::Ppo => "ppo",
            Algo::Dqn => "dqn",
            Algo::Sac => "sac",
            Algo::Td3 => "td3",
            Algo::DrqV2 => "drqv2",
        }
    }

    /// The observation an agent of this algorithm gets on `env_id` when the caller names
    /// none: `(pixels, action_repeat)`. DrQ-v2 on a Control Suite task observes the paper's
    /// 84x84 frames, 3 stacked, with each action repeated twice; otherwise the given pixels
    /// (or the state) and the task's usual repeat (`graft_envs::dmc::default_action_repeat`).
    pub fn observation(
        self,
        env_id: &str,
        pixels: Option<PixelObservation>,
        action_repeat: Option<usize>,
    ) -> (Option<PixelObservation>, usize) {
        let dmc = env_id.starts_with("dmc/");
        if self == Algo::DrqV2 && dmc {
            let pixels = pixels.or_else(|| Some(drqv2::paper_pixels()));
            return (pixels, action_repeat.unwrap_or(drqv2::PAPER_ACTION_REPEAT));
        }
        (pixels, action_repeat.unwrap_or_else(|| graft_envs::dmc::default_action_repeat(env_id)))
    }

    /// "ppo, dqn, sac, td3 or drqv2".
    fn choices() -> String {
        let names: Vec<&str> = Algo::ALL.iter().map(|a| a.name()).collect();
        format!("{} or {}", names[..names.len() - 1].join(", "), names[names.len() - 1])
    }
}

impl std::fmt::Display for Algo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for Algo {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        Algo::ALL.into_iter().find(|a| a.name() == s).ok_or_else(|| {
            Error::Invalid(format!("unknown algorithm '{s}': expected {}", Algo::choices()))
        })
    }
}

impl clap::ValueEnum for Algo {
    fn value_variants<'a>() -> &'a [Self] {
        &Algo::ALL
    }

    fn to_possible_value(&self) -> Option<clap::builder::PossibleValue> {
        Some(clap::builder::PossibleValue::new(self.name()))
    }
}

/// An agent's configuration, by algorithm.
#[derive(Debug, Clone, PartialEq)]
pub enum AgentConfig {
    /// [`PpoConfig`].
    Ppo(PpoConfig),
    /// [`DqnConfig`].
    Dqn(DqnConfig),
    /// [`SacConfig`].
    Sac(SacConfig),
    /// [`Td3Config`].
    Td3(Td3Config),
    /// [`DrqV2Config`].
    DrqV2(DrqV2Config),
}

/// A named configuration: `(algorithm, name, config)`.
pub type Preset = (Algo, &'static str, fn() -> AgentConfig);

/// The named presets: the one table `graft rl train --config NAME` and
/// `rl::train(#{preset: NAME})` read.
pub const PRESETS: &[Preset] = &[
    (Algo::Ppo, "cartpole", || AgentConfig::Ppo(PpoConfig::cartpole())),
    (Algo::Ppo, "continuous", || AgentConfig::Ppo(PpoConfig::continuous())),
    (Algo::Ppo, "sb3_zoo_cartpole", || AgentConfig::Ppo(PpoConfig::sb3_zoo_cartpole())),
    (Algo::Ppo, "atari", || AgentConfig::Ppo(PpoConfig::atari())),
    (Algo::Ppo, "default", || AgentConfig::Ppo(PpoConfig::default())),
    (Algo::Dqn, "cartpole", || AgentConfig::Dqn(DqnConfig::cartpole())),
    (Algo::Dqn, "sb3_zoo_cartpole", || AgentConfig::Dqn(DqnConfig::sb3_zoo_cartpole())),
    (Algo::Dqn, "minatar", || AgentConfig::Dqn(DqnConfig::minatar())),
    (Algo::Dqn, "atari", || AgentConfig::Dqn(DqnConfig::atari())),
    (Algo::Dqn, "sb3_zoo_atari", || AgentConfig::Dqn(DqnConfig::sb3_zoo_atari())),
    (Algo::Dqn, "atari100k", || AgentConfig::Dqn(DqnConfig::atari100k())),
    (Algo::Dqn, "default", || AgentConfig::Dqn(DqnConfig::default())),
    (Algo::Sac, "pendulum", || AgentConfig::Sac(SacConfig::pendulum())),
    (Algo::Sac, "default", || AgentConfig::Sac(SacConfig::default())),
    (Algo::Td3, "pendulum", || AgentConfig::Td3(Td3Config::pendulum())),
    (Algo::Td3, "default", || AgentConfig::Td3(Td3Config::default())),
    (Algo::DrqV2, "easy", || AgentConfig::DrqV2(DrqV2Config::easy())),
    (Algo::DrqV2, "medium", || AgentConfig::DrqV2(DrqV2Config::medium())),
    (Algo::DrqV2, "hard", || AgentConfig::DrqV2(DrqV2Config::hard())),
    (Algo::DrqV2, "default", || AgentConfig::DrqV2(DrqV2Config::default())),
];

/// Where an agent's config is read from: fields missing from it keep their defaults, unknown
/// ones are refused, and an error names the field ([`crate::config_error`]).
#[derive(Debug, Clone, Copy)]
pub enum ConfigSource<'a> {
    /// JSON text, from `origin` (`--config`, a file's path).
    Json {
        /// The text.
        text: &'a str,
        /// Where it came from, for errors.
        origin: &'a str,
    },
    /// A Rhai map, given to script function `caller` (NaNs stay NaNs: no JSON on the way).
    Rhai {
        /// The map.
        value: &'a rhai::Dynamic,
        /// The script function, for errors (`rl::train`).
        caller: &'a str,
    },
}

impl ConfigSource<'_> {
    fn read<T: serde::de::DeserializeOwned>(&self, algo: Algo) -> Result<T> {
        match *self {
            ConfigSource::Json { text, origin } => {
                crate::config_error::from_json_str(&format!("{algo} config from {origin}"), text)
            }
            ConfigSource::Rhai { value, caller } => {
                crate::config_error::from_dynamic(&format!("{caller} {algo} config"), value)
            }
        }
    }
}

impl AgentConfig {
    /// The config for `algo` on `env_id` from `spec`: `None` picks the preset for the env
    /// ([`AgentConfig::default_for`]); otherwise a preset name, an inline JSON object
    /// (`{"learning_rate": 1e-3}`, unspecified fields keep their defaults, unknown ones are
    /// refused) or a JSON file path.
    pub fn parse(algo: &str, spec: Option<&str>, env_id: &str) -> Result<Self> {
        Self::for_algo(algo.parse()?, spec, env_id)
    }

    /// [`AgentConfig::parse`] for an algorithm already chosen (the CLI's `--algo`).
    pub fn for_algo(algo: Algo, spec: Option<&str>, env_id: &str) -> Result<Self> {
        let Some(spec) = spec else { return Ok(Self::default_for(algo, env_id)) };
        if let Some(c) = Self::preset(algo, spec) {
            return Ok(c);
        }
        if spec.trim_start().starts_with('{') {
            return Self::read(algo, ConfigSource::Json { text: spec, origin: "--config" });
        }
        let path = Path::new(spec);
        if !path.exists() {
            return Err(Error::Invalid(format!(
                "--config '{spec}' is neither a JSON object, a {algo} preset ({}) nor an existing \
                 file",
                Self::preset_names(algo).join(", ")
            )));
        }
        let text = crate::inputs::read_text(path, "config file")?;
        let origin = path.display().to_string();
        Self::read(algo, ConfigSource::Json { text: &text, origin: &origin })
    }

    /// `algo`'s preset named `name`.
    pub fn preset(algo: Algo, name: &str) -> Option<Self> {
        PRESETS.iter().find(|(a, n, _)| *a == algo && *n == name).map(|(_, _, config)| config())
    }

    /// The names of `algo`'s presets.
    pub fn preset_names(algo: Algo) -> Vec<&'static str> {
        PRESETS.iter().filter(|(a, _, _)| *a == algo).map(|(_, name, _)| *name).collect()
    }

    /// The preset for `algo` on `env_id` when none is named: `continuous` for PPO on Box
    /// actions, `pendulum` for SAC and TD3 on Pendulum, otherwise the algorithm's defaults (CleanRL's
    /// CartPole / classic-control values).
    pub fn default_for(algo: Algo, env_id: &str) -> Self {
        let continuous = graft_envs::make(env_id, &Default::default())
            .map(|e| matches!(e.action_space(), graft_envs::Space::Box(_)))
            .unwrap_or(false);
        match algo {
            Algo::Ppo if continuous => AgentConfig::Ppo(PpoConfig::continuous()),
            Algo::Ppo => AgentConfig::Ppo(PpoConfig::default()),
            Algo::Dqn => AgentConfig::Dqn(DqnConfig::default()),
            Algo::Sac if env_id.starts_with("Pendulum") => AgentConfig::Sac(SacConfig::pendulum()),
            Algo::Sac => AgentConfig::Sac(SacConfig::default()),
            Algo::Td3 if env_id.starts_with("Pendulum") => AgentConfig::Td3(Td3Config::pendulum()),
            Algo::Td3 => AgentConfig::Td3(Td3Config::default()),
            Algo::DrqV2 => AgentConfig::DrqV2(DrqV2Config::for_task(env_id)),
        }
    }

    /// `algo`'s config read from `source`: the one place a config type is chosen by
    /// algorithm.
    pub fn read(algo: Algo, source: ConfigSource<'_>) -> Result<Self> {
        Ok(match algo {
            Algo::Ppo => AgentConfig::Ppo(source.read(algo)?),
            Algo::Dqn => AgentConfig::Dqn(source.read(algo)?),
            Algo::Sac => AgentConfig::Sac(source.read(algo)?),
            Algo::Td3 => AgentConfig::Td3(source.read(algo)?),
            Algo::DrqV2 => AgentConfig::DrqV2(source.read(algo)?),
        })
    }

    /// The algorithm.
    pub fn kind(&self) -> Algo {
        match self {
            AgentConfig::Ppo(_) => Algo::Ppo,
            AgentConfig::Dqn(_) => Algo::Dqn,
            AgentConfig::Sac(_) => Algo::Sac,
            AgentConfig::Td3(_) => Algo::Td3,
            AgentConfig::DrqV2(_) => Algo::DrqV2,
        }
    }

    /// The algorithm's name.
    pub fn algo(&self) -> &'static str {
        self.kind().name()
    }

    /// Override the training budget.
    pub fn set_total_timesteps(&mut self, steps: u64) {
        match self {
            AgentConfig::Ppo(c) => c.total_timesteps = steps,
            AgentConfig::Dqn(c) => c.total_timesteps = steps,
            AgentConfig::Sac(c) => c.total_timesteps = steps,
            AgentConfig::Td3(c) => c.total_timesteps = steps,
            AgentConfig::DrqV2(c) => c.total_timesteps = steps,
        }
    }

    /// The torso settings (pretrained encoder, freezing).
    pub fn torso_mut(&mut self) -> &mut crate::rl::nets::TorsoConfig {
        match self {
            AgentConfig::Ppo(c) => &mut c.torso,
            AgentConfig::Dqn(c) => &mut c.torso,
            AgentConfig::Sac(c) => &mut c.torso,
            AgentConfig::Td3(c) => &mut c.torso,
            AgentConfig::DrqV2(c) => &mut c.torso,
        }
    }

    /// The config as JSON (what the run directory records).
    pub fn to_json(&self) -> serde_json::Value {
        let v = match self {
            AgentConfig::Ppo(c) => serde_json::to_value(c),
            AgentConfig::Dqn(c) => serde_json::to_value(c),
            AgentConfig::Sac(c) => serde_json::to_value(c),
            AgentConfig::Td3(c) => serde_json::to_value(c),
            AgentConfig::DrqV2(c) => serde_json::to_value(c),
        };
        v.unwrap_or(serde_json::Value::Null)
    }

    /// Train on `env_id`.
    pub fn train(&self, env_id: &str, seed: u64, opts: &RunOptions) -> Result<TrainSummary> {
        self.train_with_hooks(env_id, seed, opts, None)
    }

    /// Train on `env_id` with schedule hooks (PPO and DQN; DrQ-v2's hooks see its encoder;
    /// SAC's and TD3's actor and critics have separate optimizers, so they refuse them): the
    /// one agent dispatch,
    /// used by `graft rl train` and `rl::train` alike.
    pub fn train_with_hooks(
        &self,
        env_id: &str,
        seed: u64,
        opts: &RunOptions,
        hooks: Option<&mut dyn TrainHooks>,
    ) -> Result<TrainSummary> {
        let mut none = NoHooks;
        let (given, hooks) = match hooks {
            Some(h) => (true, h),
            None => (false, &mut none as &mut dyn TrainHooks),
        };
        match self {
            AgentConfig::Ppo(c) => ppo::train_with_hooks(c, env_id, seed, opts, hooks),
            AgentConfig::Dqn(c) => dqn::train_with_hooks(c, env_id, seed, opts, hooks),
            AgentConfig::Sac(_) if given => Err(Error::Invalid(
                "hooks are supported for ppo and dqn, not sac (its actor, critics and \
                 temperature have separate optimizers)"
                    .into(),
            )),
            AgentConfig::Sac(c) => sac::train(c, env_id, seed, opts),
            AgentConfig::Td3(_) if given => Err(Error::Invalid(
                "hooks are supported for ppo and dqn, not td3 (its actor and critics have \
                 separate optimizers)"
                    .into(),
            )),
            AgentConfig::Td3(c) => td3::train(c, env_id, seed, opts),
            AgentConfig::DrqV2(c) => drqv2::train_with_hooks(c, env_id, seed, opts, hooks),
        }
    }
}

enum Net {
    Ppo(PpoNet),
    Dqn(QNetwork),
    Sac(Actor),
    Td3(Td3Actor),
    DrqV2(Box<DrqV2Policy>),
}

/// A trained agent read from its checkpoint, acting deterministically.
pub struct TrainedPolicy {
    net: Net,
    _vs: nn::VarStore,
    obs: ObsSpec,
    action: ActionSpec,
    /// The run's metadata (algorithm, env, config, counters).
    pub meta: crate::rl::state::RunMeta,
    device: Device,
}

impl std::fmt::Debug for TrainedPolicy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TrainedPolicy")
            .field("algo", &self.meta.algo)
            .field("env", &self.meta.env_id)
            .finish()
    }
}

impl TrainedPolicy {
    /// Load the agent in `path` (a checkpoint file or a run directory) for an env with these
    /// spaces (checked against the networks' shapes).
    pub fn load(path: &Path, env: &dyn Env, device: Device) -> Result<Self> {
        let run = RunCheckpoint::read(path)?;
        let obs = ObsSpec::from_space(env.observation_space())?;
        let action = ActionSpec::from_space(env.action_space())?;
        let vs = nn::VarStore::new(device);
        let bad_config = |e: serde_json::Error| Error::Checkpoint {
            path: run.ckpt.path.clone(),
            problem: format!("its {} config cannot be read: {e}", run.meta.algo),
        };
        let config = run.meta.config.clone();
        // Rebuilding must not read a pretraining checkpoint again: the weights are in this file.
        let strip = |mut t: crate::rl::nets::TorsoConfig| {
            t.init_encoder = None;
            t
        };
        let algo = run.meta.algo.parse::<Algo>().map_err(|e| Error::Checkpoint {
            path: run.ckpt.path.clone(),
            problem: e.to_string(),
        })?;
        let net = match algo {
            Algo::Ppo => {
                let mut c: PpoConfig = serde_json::from_value(config).map_err(bad_config)?;
                c.torso = strip(c.torso);
                let net = PpoNet::new(&vs, &c, &obs, &action)?;
                run.restore("policy", &vs, None)?;
                Net::Ppo(net)
            }
            Algo::Dqn => {
                let mut c: DqnConfig = serde_json::from_value(config).map_err(bad_config)?;
                c.torso = strip(c.torso);
                let ActionSpec::Discrete { n, .. } = action else {
                    return Err(Error::Invalid(format!(
                        "a dqn agent cannot act in {} (continuous actions)",
                        env.id()
                    )));
                };
                let net = QNetwork::new(&vs.root(), &c, &obs, n)?;
                run.restore("q", &vs, None)?;
                Net::Dqn(net)
            }
            Algo::Sac => {
                let mut c: SacConfig = serde_json::from_value(config).map_err(bad_config)?;
                c.torso = strip(c.torso);
                let ActionSpec::Continuous { low, high } = &action else {
                    return Err(Error::Invalid(format!(
                        "a sac agent cannot act in {} (discrete actions)",
                        env.id()
                    )));
                };
                let net = Actor::new(&vs, &c, &obs, low, high)?;
                run.restore("actor", &vs, None)?;
                Net::Sac(net)
            }
            Algo::Td3 => {
                let mut c: Td3Config = serde_json::from_value(config).map_err(bad_config)?;
                c.torso = strip(c.torso);
                let ActionSpec::Continuous { low, high } = &action else {
                    return Err(Error::Invalid(format!(
                        "a td3 agent cannot act in {} (discrete actions)",
                        env.id()
                    )));
                };
                let net = Td3Actor::new(&vs.root(), &c, &obs, low, high)?;
                run.restore("actor", &vs, None)?;
                Net::Td3(net)
            }
            Algo::DrqV2 => {
                let c: DrqV2Config = serde_json::from_value(config).map_err(bad_config)?;
                let policy = DrqV2Policy::new(&c, env, device)?;
                let (encoder, actor) = policy.stores();
                run.restore("encoder", encoder, None)?;
                run.restore("actor", actor, None)?;
                Net::DrqV2(Box::new(policy))
            }
        };
        Ok(TrainedPolicy { net, _vs: vs, obs, action, meta: run.meta, device })
    }

    /// Deterministic actions for a batch of observations `[B, ...]`: `[B]` int64 or `[B, d]`.
    pub fn act_tensor(&self, x: &Tensor) -> Tensor {
        tch::no_grad(|| match &self.net {
            Net::Ppo(n) => n.act_deterministic(x),
            Net::Dqn(q) => q.forward(x).argmax(1, false),
            Net::Sac(a) => a.act_deterministic(x),
            Net::Td3(a) => a.forward(x),
            Net::DrqV2(p) => p.act(x),
        })
    }

    /// The action for one observation given as its `f32` and `u8` parts.
    pub fn act(&self, f32s: &[f32], u8s: &[u8]) -> Result<Action> {
        let x = self.obs.to_tensor(f32s, u8s, 1, self.device);
        to_actions(&self.act_tensor(&x), &self.action)
            .pop()
            .ok_or_else(|| Error::Invalid("the policy returned no action".into()))
    }
}
