//! What every agent's run is given and gives back: run options (output directory,
//! evaluation and checkpoint cadence in env steps, device, how the env is met), the episode
//! bookkeeping of a vector env and the metric log (CSV + TensorBoard through
//! [`MetricsLogger`]) that [`crate::rl::harness::Harness`] keeps, and the summary a run
//! returns.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use serde::Serialize;
use tch::Device;

use graft_envs::registry::{make_vec, VecEnv};
use graft_envs::vector::{VectorConfig, VectorEnv};
use graft_envs::wrappers::{PixelObservation, RepeatAction};
use graft_envs::{Env, EnvError, Kwargs};

use crate::error::{Error, Result};
use crate::report::run_dir::{self, RunDirMode};
use crate::report::MetricsLogger;
use crate::rl::eval::EvalStats;
use crate::rl::nets::ObsSpec;
use crate::train::Ended;

/// How to run a training job (not hyperparameters: those are the agent's config).
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// Run directory for metrics, plots and the checkpoint (`None`: nothing is written).
    pub out: Option<PathBuf>,
    /// Where the networks live.
    pub device: Device,
    /// Keyword arguments for the environment (`make(id, kwargs)`).
    pub env_kwargs: Kwargs,
    /// Evaluate every this many env steps (0: only at the end).
    pub eval_every: u64,
    /// Episodes per evaluation.
    pub eval_episodes: usize,
    /// Write the checkpoint every this many env steps (0: only at the end). Needs `out`.
    pub checkpoint_every: u64,
    /// Continue from `out/checkpoint.safetensors` if it exists.
    pub resume: bool,
    /// Replace a run already in `out` (its run files are removed once the inputs have been
    /// validated). Without it or `resume`, a directory holding a run is refused.
    pub overwrite: bool,
    /// What the run was asked to do (algorithm, env, seed, config, …), written to
    /// `out/config.json` when the run starts, after its inputs have been validated.
    pub record: Option<serde_json::Value>,
    /// Stop (as if killed) once this many env steps are done, after writing a checkpoint.
    pub stop_after: Option<u64>,
    /// Emit a progress line at each evaluation (a `tracing` info event; the `graft` binary
    /// shows it on stderr unless `-q`).
    pub verbose: bool,
    /// Observe rendered frames instead of the env's state (pixel-based RL); recorded in the
    /// agent's checkpoint so evaluation rebuilds the same observations.
    pub pixels: Option<PixelObservation>,
    /// Repeat each action this many physics steps (1: none), summing the rewards, as
    /// Gymnasium's `RepeatAction` (frame skip); an env step of the run is one agent decision.
    /// Recorded in the checkpoint with `pixels`.
    pub action_repeat: usize,
}

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions {
            out: None,
            device: Device::Cpu,
            env_kwargs: Kwargs::new(),
            eval_every: 0,
            eval_episodes: 10,
            checkpoint_every: 0,
            resume: false,
            overwrite: false,
            record: None,
            stop_after: None,
            verbose: false,
            pixels: None,
            action_repeat: 1,
        }
    }
}

/// `env` as an agent interacts with it: each action held for `action_repeat` physics steps,
/// then (with `pixels`) rendered observations of the result. The order is collection's
/// (`graft collect --action-repeat`), so an agent sees the frames a dataset stores.
pub fn agent_env(
    env: Box<dyn Env>,
    action_repeat: usize,
    pixels: Option<&PixelObservation>,
) -> Result<Box<dyn Env>> {
    let env: Box<dyn Env> = match action_repeat {
        0 => {
            return Err(Error::Invalid(format!(
                "{}: action_repeat must be at least 1 (1 = every physics step), got 0",
                env.id()
            )))
        }
        1 => env,
        k => Box::new(RepeatAction::new(env, k)?),
    };
    Ok(match pixels {
        None => env,
        Some(p) => p.wrap(env)?,
    })
}

impl RunOptions {
    /// Check the options before anything is built or written: at least one evaluation episode
    /// (the final evaluation reports their mean) and an output directory that does not hold a
    /// run unless resuming or overwriting it. (The action repeat is checked, with the env's
    /// id, where the env is made.)
    pub fn validate(&self) -> Result<()> {
        if self.eval_episodes == 0 {
            return Err(Error::Invalid(
                "eval_episodes must be at least 1 (the final evaluation reports their mean \
                 return), got 0"
                    .into(),
            ));
        }
        if let Some(dir) = &self.out {
            run_dir::check(dir, self.dir_mode()?)?;
        }
        Ok(())
    }

    /// How the run treats an output directory that holds a run.
    pub fn dir_mode(&self) -> Result<RunDirMode> {
        RunDirMode::from_flags(self.resume, self.overwrite)
    }

    /// A training env: `make(id, kwargs)`, then the action repeat and pixel wrappers
    /// ([`agent_env`]).
    pub fn make_env(&self, env_id: &str) -> Result<Box<dyn Env>> {
        self.check_kwargs(env_id)?;
        let env = graft_envs::make(env_id, &self.env_kwargs)?;
        agent_env(env, self.action_repeat, self.pixels.as_ref())
    }

    /// An evaluation env: [`make_env`](Self::make_env) without the arguments that only shape
    /// training ([`graft_envs::registry::TRAINING_ONLY_KWARGS`]), so an Atari agent trained on
    /// lives with clipped rewards is scored on whole games in the game's points.
    pub fn make_eval_env(&self, env_id: &str) -> Result<Box<dyn Env>> {
        self.check_kwargs(env_id)?;
        let env = graft_envs::make(env_id, &graft_envs::evaluation_kwargs(&self.env_kwargs))?;
        agent_env(env, self.action_repeat, self.pixels.as_ref())
    }

    /// `num_envs` training envs stepped as a batch: the native vector env where the id has
    /// one, else copies of [`make_env`](Self::make_env) (always so with pixels or an action
    /// repeat).
    pub fn make_vec(&self, env_id: &str, num_envs: usize) -> Result<VecEnv> {
        self.check_kwargs(env_id)?;
        self.check_vec_memory(env_id, num_envs)?;
        if self.pixels.is_none() && self.action_repeat == 1 {
            return Ok(make_vec(env_id, num_envs, &self.env_kwargs, VectorConfig::default())?);
        }
        let envs = VectorEnv::from_fn(
            num_envs,
            |_| self.make_env(env_id).map_err(|e| EnvError::Other(e.to_string())),
            VectorConfig::default(),
        )?;
        Ok(VecEnv::Sync(envs))
    }

    /// The checkpoint to resume from (`out/checkpoint.safetensors` with `resume`), checked
    /// against this run's algorithm, env, seed and observations *before* any network is
    /// built, so a mismatch is reported as such rather than as a shape error.
    pub fn resume_checkpoint(
        &self,
        algo: &str,
        env_id: &str,
        seed: u64,
    ) -> Result<Option<crate::rl::state::RunCheckpoint>> {
        let Some(path) = self.out.as_ref().map(|d| d.join(crate::rl::state::CHECKPOINT_FILE))
        else {
            return Ok(None);
        };
        if !self.resume || !path.exists() {
            return Ok(None);
        }
        let r = crate::rl::state::RunCheckpoint::read(&path)?;
        crate::rl::state::check_resumable(&r.meta, algo, env_id, seed, self, &r.ckpt.path)?;
        Ok(Some(r))
    }

    /// Refuse `num_envs` copies of the env when their observation buffers alone (the
    /// observation, the final observation of an autoreset, the wrappers' frames: about three
    /// observations each, and a few KiB of env state) would not fit in memory — 64 envs of
    /// 4096x4096 frames stacked 64 deep once aborted the process in the allocator.
    fn check_vec_memory(&self, env_id: &str, num_envs: usize) -> Result<()> {
        let env = self.make_env(env_id)?;
        let Ok(obs) = ObsSpec::from_space(env.observation_space()) else {
            // The agent refuses this space itself, with its own message.
            return Ok(());
        };
        let each = 3 * obs.bytes() + 4096;
        crate::device::check_memory(
            &format!("{num_envs} copies of {env_id} ({each} bytes of observations each)"),
            (num_envs as u128).saturating_mul(each),
        )
    }

    /// `env_kwargs` as the JSON object a checkpoint records.
    pub fn kwargs_json(&self) -> serde_json::Map<String, serde_json::Value> {
        crate::data::schema::kwargs_to_map(&self.env_kwargs)
    }

    /// Refuse env arguments agents cannot work with.
    fn check_kwargs(&self, env_id: &str) -> Result<()> {
        if self.env_kwargs.get("channels_first") == Some(&graft_envs::Value::Bool(true)) {
            return Err(Error::Invalid(format!(
                "{env_id}: RL agents read image observations as [H, W, C] and make them \
                 channels-first themselves; drop channels_first=true"
            )));
        }
        Ok(())
    }
}

/// What a finished (or stopped) run reports.
#[derive(Debug, Clone, Default, Serialize)]
pub struct TrainSummary {
    /// Env steps done.
    pub env_steps: u64,
    /// Episodes finished in training.
    pub episodes: u64,
    /// `(env steps, mean evaluation return)` for every evaluation.
    pub evals: Vec<(u64, f64)>,
    /// The last evaluation (serialised as its mean and std, see [`TrainReport`]).
    #[serde(skip)]
    pub final_eval: Option<EvalStats>,
    /// Wall-clock seconds of this invocation (not counting a resumed run's earlier part).
    pub wall_secs: f64,
    /// Env steps of the checkpoint this invocation resumed from (`None`: a fresh run).
    pub resumed_from: Option<u64>,
    /// The checkpoint written, if any.
    pub checkpoint: Option<PathBuf>,
    /// How the run ended: its budget used, `stop_after` reached, or stopped by a hook.
    pub ended: Ended,
}

/// A [`TrainSummary`] as scripts see it (`rl::train`'s result, through
/// `rhai::serde::to_dynamic`) and JSON records it: the summary's fields, the final
/// evaluation as its mean and standard deviation, and whether a hook stopped the run.
#[derive(Debug, Clone, Serialize)]
pub struct TrainReport<'a> {
    /// The summary.
    #[serde(flatten)]
    pub summary: &'a TrainSummary,
    /// Mean return of the last evaluation (none if the run stopped before any).
    pub final_return: Option<f64>,
    /// Its standard deviation.
    pub final_std: Option<f64>,
    /// Whether a schedule hook ended the run (`ended == "hook"`).
    pub stopped_early: bool,
}

impl TrainSummary {
    /// Env steps done by this invocation (a resumed run's earlier steps not counted).
    pub fn steps_this_run(&self) -> u64 {
        self.env_steps.saturating_sub(self.resumed_from.unwrap_or(0))
    }

    /// Env steps per second of this invocation.
    pub fn steps_per_sec(&self) -> f64 {
        self.steps_this_run() as f64 / self.wall_secs.max(1e-9)
    }

    /// Whether this invocation resumed a run that had already used its budget, so there was
    /// nothing to train (and no evaluation was run).
    pub fn was_already_finished(&self) -> bool {
        self.resumed_from.is_some() && self.steps_this_run() == 0 && self.final_eval.is_none()
    }

    /// The summary as scripts and JSON see it.
    pub fn report(&self) -> TrainReport<'_> {
        TrainReport {
            summary: self,
            final_return: self.final_eval.as_ref().map(EvalStats::mean),
            final_std: self.final_eval.as_ref().map(EvalStats::std),
            stopped_early: self.ended == Ended::Hook,
        }
    }
}

/// Write `record` as pretty JSON to `path` atomically (beside it, then renamed).
fn write_record(path: &Path, record: &serde_json::Value) -> Result<()> {
    let text = serde_json::to_string_pretty(record).map_err(|e| Error::Invalid(e.to_string()))?;
    crate::script::session::write_atomic(path, text.as_bytes())
}

/// Episode returns and lengths of N training envs, and the run's metric log.
pub struct Recorder {
    logger: Option<MetricsLogger>,
    returns: Vec<f64>,
    lengths: Vec<u64>,
    /// Episodes finished.
    pub episodes: u64,
    recent: std::collections::VecDeque<f64>,
    verbose: bool,
    started: Instant,
    /// Suppress logging (while replaying the action log on resume).
    pub replaying: bool,
    /// Latest value of every metric logged (what hooks see).
    latest: BTreeMap<String, f64>,
}

impl Recorder {
    /// Bookkeeping for `num_envs` envs; logs into `opts.out` if set. `resume_step`: the run
    /// resumes from a checkpoint at that env step, so the log is cut back to it first (rows
    /// written after the checkpoint by the stopped run, or a half-written last row, would
    /// otherwise appear twice or corrupt the file) and continued.
    pub fn new(num_envs: usize, opts: &RunOptions, resume_step: Option<u64>) -> Result<Self> {
        if let Some(dir) = &opts.out {
            // The first write of the run: its inputs were validated by now.
            run_dir::start(dir, opts.dir_mode()?)?;
            if let Some(record) = &opts.record {
                write_record(&dir.join("config.json"), record)?;
            }
        }
        let logger = match (&opts.out, resume_step) {
            (Some(dir), Some(step)) => Some(MetricsLogger::resume(dir, step)?),
            (Some(dir), None) => {
                let mut l = MetricsLogger::create(dir)?;
                // Write the header now, so a run killed early leaves a well-formed file.
                l.flush()?;
                Some(l)
            }
            (None, _) => None,
        };
        Ok(Recorder {
            logger,
            returns: vec![0.0; num_envs],
            lengths: vec![0; num_envs],
            episodes: 0,
            recent: Default::default(),
            verbose: opts.verbose,
            started: Instant::now(),
            replaying: false,
            latest: BTreeMap::new(),
        })
    }

    /// Count env `i`'s step; when `done`, log the episode's return and length at `step`.
    pub fn on_step(&mut self, i: usize, reward: f64, done: bool, step: u64) -> Result<()> {
        self.returns[i] += reward;
        self.lengths[i] += 1;
        if done {
            self.episodes += 1;
            let (r, l) = (self.returns[i], self.lengths[i]);
            self.returns[i] = 0.0;
            self.lengths[i] = 0;
            self.recent.push_back(r);
            if self.recent.len() > 20 {
                self.recent.pop_front();
            }
            if !self.replaying {
                self.log(
                    step,
                    &[("charts/episodic_return", r), ("charts/episodic_length", l as f64)],
                )?;
            }
        }
        Ok(())
    }

    /// Mean return of the last 20 training episodes.
    pub fn recent_return(&self) -> f64 {
        self.recent.iter().sum::<f64>() / self.recent.len().max(1) as f64
    }

    /// Log scalars at `step` (no-op without an output directory or while replaying).
    pub fn log(&mut self, step: u64, values: &[(&str, f64)]) -> Result<()> {
        if self.replaying {
            return Ok(());
        }
        for (k, v) in values {
            self.latest.insert(k.to_string(), *v);
        }
        match &mut self.logger {
            Some(l) if !self.replaying => l.log_all(step, values),
            _ => Ok(()),
        }
    }

    /// Log an evaluation and print a progress line; returns the evaluation's metrics, as
    /// `on_eval` hooks see them.
    pub fn log_eval(
        &mut self,
        step: u64,
        stats: &EvalStats,
        sps: f64,
    ) -> Result<BTreeMap<String, f64>> {
        let eval = [
            ("eval/return_mean", stats.mean()),
            ("eval/return_std", stats.std()),
            ("eval/length_mean", stats.mean_length()),
        ];
        let mut values = eval.to_vec();
        values.push(("charts/SPS", sps));
        self.log(step, &values)?;
        if self.verbose {
            let (mean, std, train, secs) = (
                stats.mean(),
                stats.std(),
                self.recent_return(),
                self.started.elapsed().as_secs_f64(),
            );
            tracing::info!(
                step,
                eval_return_mean = mean,
                eval_return_std = std,
                train_return = train,
                steps_per_sec = sps,
                "step {step:>9}  eval return {mean:>8.2} ± {std:<7.2} train return (last 20) {train:>8.2}  {sps:>7.0} steps/s  {secs:.0}s",
            );
        }
        if let Some(l) = &mut self.logger {
            l.flush()?;
        }
        Ok(eval.into_iter().map(|(k, v)| (k.to_string(), v)).collect())
    }

    /// Latest value of every metric logged.
    pub fn latest(&self) -> &BTreeMap<String, f64> {
        &self.latest
    }

    /// Flush the logs.
    pub fn flush(&mut self) -> Result<()> {
        match &mut self.logger {
            Some(l) => l.flush(),
            None => Ok(()),
        }
    }
}
