//! `collect`: run a policy in an environment for N episodes and write a trajectory dataset.
//!
//! Episodes run in parallel on `workers` threads; a worker claims the next episode number,
//! runs the whole episode in a freshly made env and hands it to the writer, which writes
//! episodes in number order. Episode `e` is reset with seed `seed + e` (as Gymnasium's vector
//! envs seed sub-env `i` with `seed + i`) and its policy draws from a generator derived from
//! `(seed, e)`; the fresh env means no state survives from an earlier episode (MinAtar's
//! sticky last action does survive a reset), so a dataset is the same whatever the worker
//! count.
//! Rendering pixels (`--pixels 64x64`) is what makes collection slow, and what the workers
//! spread over cores.
//!
//! With `action_repeat` k > 1 the env is wrapped in `graft_envs`' `RepeatAction` (the
//! "frame skip" of pixel control: Atari's 4, DMC's action repeat) under the pixel wrapper, so
//! each stored transition is k physics steps with one action, its reward their sum, and only
//! its last frame is rendered. The dataset records it as an `additional_wrappers` entry of
//! its env spec ([`crate::data::DatasetMeta::action_repeat`] reads it back).

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc::sync_channel;

use serde_json::json;

use graft_envs::{
    registry, Action, AddRenderObservation, Env, EnvRng, Info, Kwargs, Obs,
    RenderObservationConfig, RepeatAction,
};

use crate::data::experts::{expert_for, Policy, RandomPolicy};
use crate::data::ipc::Compression;
use crate::data::schema::{env_spec_to_json, ObsView, REPEAT_ACTION};
use crate::data::writer::{DatasetWriter, NewDataset, WriterOptions};
use crate::error::{Error, Result};
use crate::rl::TrainedPolicy;

/// Which policy collects the data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PolicySpec {
    /// Uniform random actions.
    Random,
    /// The env's hand-written expert ([`crate::data::experts`]).
    Heuristic,
    /// A trained RL agent's checkpoint (`graft rl train`), acting deterministically.
    Checkpoint(PathBuf),
}

impl std::str::FromStr for PolicySpec {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "random" => Ok(PolicySpec::Random),
            "heuristic" | "expert" => Ok(PolicySpec::Heuristic),
            _ => match s.strip_prefix("checkpoint:") {
                Some(p) if !p.is_empty() => Ok(PolicySpec::Checkpoint(PathBuf::from(p))),
                _ => Err(Error::Invalid(format!(
                    "--policy '{s}': expected random, heuristic or checkpoint:PATH"
                ))),
            },
        }
    }
}

impl PolicySpec {
    /// Short name stored as `algorithm_name`.
    pub fn name(&self) -> String {
        match self {
            PolicySpec::Random => "random".into(),
            PolicySpec::Heuristic => "heuristic".into(),
            PolicySpec::Checkpoint(p) => format!("checkpoint:{}", p.display()),
        }
    }
}

/// What to collect and where to write it.
#[derive(Debug, Clone)]
pub struct CollectConfig {
    /// Registered env id, e.g. `CartPole-v1`.
    pub env_id: String,
    /// Keyword arguments for `make`.
    pub kwargs: Kwargs,
    /// The collecting policy.
    pub policy: PolicySpec,
    /// Episodes to collect.
    pub episodes: usize,
    /// Record `(width, height)` RGB frames as observations, keeping the state in `state`.
    pub pixels: Option<(u32, u32)>,
    /// Master seed: episode `e` is reset with `seed + e`.
    pub seed: u64,
    /// Worker threads (at least 1).
    pub workers: usize,
    /// Output file.
    pub output: PathBuf,
    /// `dataset_id`; default `"<env>/<policy>-v0"`.
    pub dataset_id: Option<String>,
    /// Record batch compression.
    pub compression: Compression,
    /// Store each step's `info` as JSON.
    pub info: bool,
    /// With this probability a step's action is uniformly random instead of the policy's
    /// (a "noisy expert": the data then also covers states the expert never visits).
    pub epsilon: f64,
    /// Physics steps per stored transition, each with the same action (at least 1; 1 = no
    /// repeat). See the module docs.
    pub action_repeat: usize,
    /// Replace `output` if it exists; without it an existing file is refused (after the env
    /// and policy have been checked, before anything is collected). `true` in
    /// [`CollectConfig::new`], as for a file write; `graft collect` and scripts' `data::collect`
    /// default to `false`.
    pub overwrite: bool,
}

impl CollectConfig {
    /// Defaults: random policy, 10 episodes, no pixels, seed 0, all cores, an existing output
    /// replaced.
    pub fn new(env_id: &str, output: impl Into<PathBuf>) -> Self {
        CollectConfig {
            env_id: env_id.to_string(),
            kwargs: Kwargs::new(),
            policy: PolicySpec::Random,
            episodes: 10,
            pixels: None,
            seed: 0,
            workers: std::thread::available_parallelism().map_or(1, |n| n.get()),
            output: output.into(),
            dataset_id: None,
            compression: Compression::None,
            info: false,
            epsilon: 0.0,
            action_repeat: 1,
            overwrite: true,
        }
    }

    /// The policy's name as recorded (`heuristic`, `heuristic-eps0.3`, …): the default
    /// dataset id `<env>/<name>-v0` then stays within Minari's id characters.
    pub fn policy_name(&self) -> String {
        match self.epsilon {
            e if e > 0.0 => format!("{}-eps{e}", self.policy.name()),
            _ => self.policy.name(),
        }
    }
}

/// What a collection produced.
#[derive(Debug, Clone, PartialEq)]
pub struct CollectSummary {
    /// The file written.
    pub path: PathBuf,
    /// Episodes written.
    pub episodes: usize,
    /// Transitions written.
    pub steps: usize,
    /// Each episode's return, in order.
    pub returns: Vec<f64>,
}

/// One finished episode, waiting for its turn to be written.
struct EpisodeData {
    obs: Vec<Obs>,
    actions: Vec<Action>,
    rewards: Vec<f64>,
    terminated: Vec<bool>,
    truncated: Vec<bool>,
    infos: Vec<Info>,
}

fn make_env(cfg: &CollectConfig) -> Result<Box<dyn Env>> {
    let mut env = registry::make(&cfg.env_id, &cfg.kwargs)?;
    if cfg.action_repeat > 1 {
        // Inside the pixel wrapper: one frame per stored step, not one per physics step.
        env = Box::new(RepeatAction::new(env, cfg.action_repeat)?);
    }
    Ok(match cfg.pixels {
        None => env,
        Some(size) => Box::new(AddRenderObservation::with_config(
            env,
            RenderObservationConfig { render_only: false, size: Some(size), ..Default::default() },
        )?),
    })
}

fn make_policy(cfg: &CollectConfig, env: &dyn Env) -> Result<Box<dyn Policy>> {
    let inner = make_inner_policy(cfg, env)?;
    if cfg.epsilon > 0.0 {
        return Ok(Box::new(EpsilonPolicy {
            inner,
            epsilon: cfg.epsilon,
            random: RandomPolicy::new(env.action_space().clone()),
            name: cfg.policy_name(),
        }));
    }
    Ok(inner)
}

/// A policy that acts uniformly at random with probability `epsilon`.
struct EpsilonPolicy {
    inner: Box<dyn Policy>,
    epsilon: f64,
    random: RandomPolicy,
    name: String,
}

impl Policy for EpsilonPolicy {
    fn name(&self) -> String {
        self.name.clone()
    }

    fn act(&mut self, obs: ObsView<'_>, rng: &mut EnvRng) -> Result<Action> {
        // The policy always acts, so a stateful one sees every step.
        let action = self.inner.act(obs, rng)?;
        if rng.next_f64() < self.epsilon {
            return self.random.act(obs, rng);
        }
        Ok(action)
    }
}

fn make_inner_policy(cfg: &CollectConfig, env: &dyn Env) -> Result<Box<dyn Policy>> {
    match &cfg.policy {
        PolicySpec::Random => Ok(Box::new(RandomPolicy::new(env.action_space().clone()))),
        PolicySpec::Heuristic => Ok(Box::new(expert_for(&cfg.env_id)?)),
        PolicySpec::Checkpoint(p) => {
            // The agent acts on what it was trained on: the env's own observations (with
            // --pixels, the state part), so its spaces come from the unwrapped env.
            let meta = crate::rl::state::RunCheckpoint::read(p)?.meta;
            if let Some(pixels) = meta.pixels {
                return Err(Error::Invalid(format!(
                    "--policy checkpoint:{}: the agent acts on pixel observations ({pixels:?}); \
                     collection drives a policy with the env's own observations, so use an \
                     agent trained on states",
                    p.display()
                )));
            }
            // An agent decides once per `action_repeat` physics steps; driven at another rate it
            // would act on dynamics it never saw.
            if meta.action_repeat != cfg.action_repeat {
                return Err(Error::Invalid(format!(
                    "--policy checkpoint:{}: the agent was trained with action repeat {}; \
                     collect with --action-repeat {} (got {})",
                    p.display(),
                    meta.action_repeat,
                    meta.action_repeat,
                    cfg.action_repeat
                )));
            }
            let base = registry::make(&cfg.env_id, &cfg.kwargs)?;
            let agent = TrainedPolicy::load(p, base.as_ref(), tch::Device::Cpu)?;
            if agent.meta.env_id != cfg.env_id {
                return Err(Error::Invalid(format!(
                    "--policy checkpoint:{}: the agent was trained on {}, not {}",
                    p.display(),
                    agent.meta.env_id,
                    cfg.env_id
                )));
            }
            Ok(Box::new(CheckpointPolicy { agent, name: cfg.policy.name() }))
        }
    }
}

/// A trained RL agent acting deterministically (greedy / mean action).
struct CheckpointPolicy {
    agent: TrainedPolicy,
    name: String,
}

impl Policy for CheckpointPolicy {
    fn name(&self) -> String {
        self.name.clone()
    }
    fn act(&mut self, obs: ObsView<'_>, _rng: &mut EnvRng) -> Result<Action> {
        self.agent.act(obs.f32, obs.u8)
    }
}

fn run_episode(
    env: &mut dyn Env,
    policy: &mut dyn Policy,
    seed: u64,
    e: usize,
    keep_info: bool,
) -> Result<EpisodeData> {
    let mut rng = EnvRng::seed_from(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ (e as u64 + 1));
    let mut obs = Obs::zeros(env.observation_space());
    env.reset_into(Some(seed.wrapping_add(e as u64)), &Kwargs::new(), obs.as_mut())?;
    let mut data = EpisodeData {
        obs: vec![obs],
        actions: Vec::new(),
        rewards: Vec::new(),
        terminated: Vec::new(),
        truncated: Vec::new(),
        infos: Vec::new(),
    };
    loop {
        let current = data.obs.last().ok_or_else(|| Error::Invalid("no observation".into()))?;
        let action = policy.act(ObsView::of(current), &mut rng)?;
        let mut next = Obs::zeros(env.observation_space());
        let out = env.step_into(action.as_ref(), next.as_mut())?;
        data.obs.push(next);
        data.actions.push(action);
        data.rewards.push(out.reward);
        data.terminated.push(out.terminated);
        data.truncated.push(out.truncated);
        if keep_info {
            data.infos.push(out.info);
        }
        if out.terminated || out.truncated {
            return Ok(data);
        }
    }
}

fn write_episode(w: &mut DatasetWriter, ep: &EpisodeData) -> Result<f64> {
    let no_info = Info::new();
    w.begin_episode(ObsView::of(&ep.obs[0]))?;
    for t in 0..ep.actions.len() {
        w.push_step(
            ep.actions[t].as_ref(),
            ep.rewards[t],
            ep.terminated[t],
            ep.truncated[t],
            ObsView::of(&ep.obs[t + 1]),
            ep.infos.get(t).unwrap_or(&no_info),
        )?;
    }
    w.end_episode()?;
    Ok(ep.rewards.iter().sum())
}

/// Collect `cfg.episodes` episodes into `cfg.output`; `progress(episodes, steps)` is called
/// after each episode is written.
pub fn collect(
    cfg: &CollectConfig,
    progress: &mut dyn FnMut(usize, usize),
) -> Result<CollectSummary> {
    if cfg.action_repeat == 0 {
        return Err(Error::Invalid(format!(
            "collect {}: action_repeat must be at least 1 (1 = every physics step), got 0",
            cfg.env_id
        )));
    }
    if let Some((w, h)) = cfg.pixels {
        // The one size check of pixel observations (the CLI, scripts and agents share it):
        // a 100000x100000 frame would abort inside the renderer's allocation.
        let p = graft_envs::wrappers::PixelObservation {
            size: [w, h],
            grayscale: false,
            frame_stack: 1,
        };
        p.validate().map_err(|e| Error::Invalid(format!("collect {}: {e}", cfg.env_id)))?;
    }
    let probe = make_env(cfg)?;
    // Fail on a bad policy before creating any file.
    drop(make_policy(cfg, probe.as_ref())?);
    if cfg.output.exists() && !cfg.overwrite {
        return Err(Error::Dataset {
            path: cfg.output.clone(),
            problem: "the file exists; pass --overwrite (scripts: overwrite: true) to replace it, \
                      or choose another name"
                .into(),
        });
    }
    let spec = registry::spec(&cfg.env_id)?;
    // Innermost first, as they are applied.
    let mut wrappers = Vec::new();
    if cfg.action_repeat > 1 {
        wrappers.push(json!({
            "name": REPEAT_ACTION,
            "kwargs": {"num_repeats": cfg.action_repeat},
        }));
    }
    if let Some((w, h)) = cfg.pixels {
        wrappers.push(json!({
            "name": "AddRenderObservation",
            "kwargs": {"render_only": false, "render_key": "pixels", "obs_key": "state", "size": [w, h]},
        }));
    }
    let short = cfg.env_id.split('-').next().unwrap_or(&cfg.env_id).to_lowercase();
    let mut writer = DatasetWriter::create(
        &cfg.output,
        NewDataset {
            dataset_id: cfg
                .dataset_id
                .clone()
                .unwrap_or(format!("{short}/{}-v0", cfg.policy_name())),
            observation_space: probe.observation_space().clone(),
            action_space: probe.action_space().clone(),
            env_spec: Some(env_spec_to_json(&spec, &cfg.kwargs, wrappers)),
            algorithm_name: cfg.policy_name(),
            info: cfg.info,
        },
        WriterOptions { batch_rows: None, compression: cfg.compression },
    )?;
    drop(probe);
    let workers = cfg.workers.clamp(1, cfg.episodes.max(1));
    let next = AtomicUsize::new(0);
    let stop = AtomicBool::new(false);
    let mut returns = Vec::with_capacity(cfg.episodes);
    let result: Result<()> = std::thread::scope(|scope| {
        let (tx, rx) = sync_channel::<(usize, Result<EpisodeData>)>(2 * workers);
        for _ in 0..workers {
            let tx = tx.clone();
            let (next, stop) = (&next, &stop);
            scope.spawn(move || {
                let setup = make_env(cfg).and_then(|env| make_policy(cfg, env.as_ref()));
                let mut policy = match setup {
                    Ok(x) => x,
                    Err(e) => {
                        let _ = tx.send((usize::MAX, Err(e)));
                        return;
                    }
                };
                while !stop.load(Ordering::Relaxed) {
                    let e = next.fetch_add(1, Ordering::Relaxed);
                    if e >= cfg.episodes {
                        break;
                    }
                    // A fresh env per episode: an env may carry state across resets
                    // (MinAtar keeps its sticky `last_action`, as minatar does), so with one
                    // env per worker episode `e` would depend on which episodes that worker
                    // happened to run before it — on thread scheduling. Fresh, every episode
                    // depends only on (seed, e) and the dataset on nothing else. (Policies are
                    // stateless, so one per worker is enough.)
                    let ep = make_env(cfg).and_then(|mut env| {
                        run_episode(env.as_mut(), policy.as_mut(), cfg.seed, e, cfg.info)
                    });
                    if tx.send((e, ep)).is_err() {
                        break;
                    }
                }
            });
        }
        drop(tx);
        let mut waiting: BTreeMap<usize, EpisodeData> = BTreeMap::new();
        let mut written = 0usize;
        let outcome = (|| {
            for (e, ep) in rx.iter() {
                waiting.insert(e, ep?);
                while let Some(ep) = waiting.remove(&written) {
                    returns.push(write_episode(&mut writer, &ep)?);
                    written += 1;
                    progress(written, writer.steps() as usize);
                }
            }
            Ok(())
        })();
        if outcome.is_err() {
            stop.store(true, Ordering::Relaxed);
            // Drain so that no worker blocks on a full channel.
            for _ in rx.iter() {}
        }
        outcome
    });
    result?;
    let steps = writer.steps() as usize;
    let episodes = writer.episodes() as usize;
    writer.finish()?;
    Ok(CollectSummary { path: cfg.output.clone(), episodes, steps, returns })
}
