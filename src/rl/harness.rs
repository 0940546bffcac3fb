//! The harness every agent's loop runs in: what happens between optimisation steps, so that
//! an agent's file holds only its algorithm (CleanRL's habit). Hook dispatch and the
//! cadence's decisions are the [`LoopControl`] that pretraining and fine-tuning use too
//! ([`crate::train::control`]); the harness adds what is RL's own.
//!
//! The harness owns the run directory, resume (the checkpoint read and checked before any
//! network is built, the networks restored, the action log replayed), episode and metric
//! logging, schedule-hook dispatch, evaluation, the checkpoint (one file,
//! [`CHECKPOINT_FILE`], one [`RunMeta`] written in one place) and stop requests. An agent
//! uses it in three places:
//!
//! ```text
//! let run = Harness::open("ppo", env_id, seed, cfg, opts)?;      // nothing written yet
//! // ... build envs, networks, optimizers ...
//! let mut run = run.begin(end, num_envs, action_dim, &mut parts, hooks)?;
//! loop {
//!     if run.round_start(round, &mut parts)?.is_break() { break; } // on_epoch_start
//!     // ... act (replaying run.replay_action(t) while there is one), learn ...
//!     if run.after_update(env_steps, updates, &mut parts, &policy)?.is_break() {
//!         break;
//!     }
//! }
//! run.finish()
//! ```
//!
//! Units: every count the harness takes or reports is in env steps, summed over the copies of
//! a vector env (`eval_every`, `checkpoint_every`, `stop_after`, the hooks' `step_every` and
//! `ctx.step`). Updates are counted by the agent (gradient steps, or PPO iterations) and only
//! recorded, so a resumed agent knows where its schedules stand.

use std::ops::ControlFlow;
use std::path::PathBuf;
use std::time::Instant;

use serde::Serialize;
use tch::Tensor;

use crate::error::{Error, Result};
use crate::optim::Optimizer;
use crate::rl::eval::{eval_seed, evaluate};
use crate::rl::run::{Recorder, RunOptions, TrainSummary};
use crate::rl::state::{save_run, Part, RunCheckpoint, RunMeta, CHECKPOINT_FILE};
use crate::train::{Cadence, LoopControl, Tick, TrainHooks};

/// A run opened but not started: its options checked and the checkpoint it resumes read and
/// matched against the algorithm, env, seed and observations, before the agent builds its
/// networks (so a mismatch is reported as such rather than as a shape error). Nothing has been
/// written yet.
pub struct Opened<'o> {
    algo: String,
    env_id: String,
    seed: u64,
    config: serde_json::Value,
    opts: &'o RunOptions,
    resume: Option<RunCheckpoint>,
    started: Instant,
}

impl<'o> Opened<'o> {
    /// Updates the resumed run had done (0 for a fresh run): where the agent's schedules
    /// stand.
    pub fn updates_done(&self) -> u64 {
        self.resume.as_ref().map_or(0, |r| r.meta.updates)
    }

    /// Start the run: restore `parts` from the checkpoint when resuming, claim the run
    /// directory (writing `config.json`) and open the metric log. The loop ends at env step
    /// `end`; `num_envs` envs step together, each action `action_dim` values wide (what one
    /// entry of the action log holds). Hooks see the optimizer of the first part that has one.
    pub fn begin<'h>(
        self,
        end: u64,
        num_envs: usize,
        action_dim: usize,
        parts: &mut [Part<'_>],
        hooks: &'h mut dyn TrainHooks,
    ) -> Result<Harness<'o, 'h>> {
        let Opened { algo, env_id, seed, config, opts, resume, started } = self;
        let mut actions = Vec::new();
        if let Some(r) = &resume {
            if r.meta.actions_per_step != num_envs * action_dim {
                return Err(Error::Checkpoint {
                    path: r.ckpt.path.clone(),
                    problem: format!(
                        "its action log holds {} values a step; this run takes {num_envs} \
                         env(s) x {action_dim} (was num_envs changed?)",
                        r.meta.actions_per_step
                    ),
                });
            }
            r.restore_parts(parts)?;
            actions = r.actions()?;
        }
        let resumed_from = resume.as_ref().map(|r| r.meta.env_steps);
        let rec = Recorder::new(num_envs, opts, resumed_from)?;
        let start = resumed_from.unwrap_or(0);
        let cadence = Cadence {
            eval_every: opts.eval_every,
            checkpoint_every: opts.checkpoint_every,
            stop_after: opts.stop_after,
            end,
        };
        Ok(Harness {
            meta: RunMeta {
                algo,
                env_id,
                config,
                seed,
                env_steps: start,
                updates: resume.as_ref().map_or(0, |r| r.meta.updates),
                episodes: 0,
                actions_per_step: num_envs * action_dim,
                optimizers: Default::default(),
                pixels: opts.pixels.clone(),
                action_repeat: opts.action_repeat,
                env_kwargs: opts.kwargs_json(),
            },
            opts,
            control: LoopControl::new(cadence, hooks),
            rec,
            actions,
            start,
            started,
            summary: TrainSummary { resumed_from, env_steps: start, ..TrainSummary::default() },
        })
    }
}

/// A started run (see the module docs).
pub struct Harness<'o, 'h> {
    /// The checkpoint's metadata, kept current (env steps, updates, episodes).
    meta: RunMeta,
    opts: &'o RunOptions,
    control: LoopControl<'h>,
    rec: Recorder,
    /// Every action the training envs received, `meta.actions_per_step` values a step.
    actions: Vec<f32>,
    start: u64,
    started: Instant,
    summary: TrainSummary,
}

impl<'o> Harness<'o, '_> {
    /// Open a run of algorithm `algo` (the name its checkpoint records) with configuration
    /// `config` (recorded in the checkpoint, so `graft rl eval` can rebuild the agent).
    pub fn open(
        algo: &str,
        env_id: &str,
        seed: u64,
        config: &impl Serialize,
        opts: &'o RunOptions,
    ) -> Result<Opened<'o>> {
        let started = Instant::now();
        opts.validate()?;
        let resume = opts.resume_checkpoint(algo, env_id, seed)?;
        let config = serde_json::to_value(config)
            .map_err(|e| Error::Invalid(format!("{algo} config: {e}")))?;
        Ok(Opened { algo: algo.into(), env_id: env_id.into(), seed, config, opts, resume, started })
    }

    /// Env steps done (the resumed checkpoint's until the first update).
    pub fn env_steps(&self) -> u64 {
        self.meta.env_steps
    }

    /// Updates done (the resumed checkpoint's until the first update).
    pub fn updates(&self) -> u64 {
        self.meta.updates
    }

    /// The logged action of step `t` (one entry: `num_envs × action_dim` values) while a
    /// resumed run is replayed, `None` past the log. Episode logging is muted while replaying:
    /// those episodes were logged by the run that took them.
    pub fn replay_action(&mut self, t: u64) -> Option<&[f32]> {
        let width = self.meta.actions_per_step.max(1);
        let at = usize::try_from(t).ok()?.checked_mul(width)?;
        let logged = self.actions.get(at..at + width);
        self.rec.replaying = logged.is_some();
        logged
    }

    /// Whether the step just taken replayed the log (see
    /// [`replay_action`](Self::replay_action)).
    pub fn replaying(&self) -> bool {
        self.rec.replaying
    }

    /// Append one step's actions to the log.
    pub fn log_action(&mut self, actions: &[f32]) {
        self.actions.extend_from_slice(actions);
    }

    /// Count env `i`'s step; when `done`, log the episode's return and length at `step`.
    pub fn on_step(&mut self, i: usize, reward: f64, done: bool, step: u64) -> Result<()> {
        self.rec.on_step(i, reward, done, step)
    }

    /// Log scalars (losses, rates) at `step`.
    pub fn log(&mut self, step: u64, values: &[(&str, f64)]) -> Result<()> {
        self.rec.log(step, values)
    }

    /// Before update round `round` (PPO's iteration; a loop without rounds calls it once
    /// with 0): the hooks' `on_epoch_start`, seeing the optimizer of `parts`. `Break` when a
    /// hook ended the run here (the checkpoint of `parts` written, no further update).
    pub fn round_start(&mut self, round: u64, parts: &mut [Part<'_>]) -> Result<ControlFlow<()>> {
        let at = self.meta.env_steps;
        let tick = self.control.round_start(round, at, hooked(parts)?, self.rec.latest())?;
        self.conclude(&tick, parts)
    }

    /// After an update that brought the run to `env_steps` with `updates` done: the step
    /// hooks when due, the evaluation of `policy` (observations `[B, ...]` to deterministic
    /// actions) when due and the evaluation hooks, the checkpoint of `parts` when due.
    /// `Break` when the run ends here (budget, `stop_after` or a hook's stop).
    pub fn after_update(
        &mut self,
        env_steps: u64,
        updates: u64,
        parts: &mut [Part<'_>],
        policy: &dyn Fn(&Tensor) -> Tensor,
    ) -> Result<ControlFlow<()>> {
        let before = self.meta.env_steps;
        (self.meta.env_steps, self.meta.updates) = (env_steps, updates);
        let mut tick =
            self.control.after_update(before, env_steps, hooked(parts)?, self.rec.latest())?;
        if tick.evaluate() {
            let opts = self.opts;
            let make = || opts.make_eval_env(&self.meta.env_id);
            let seed = eval_seed(self.meta.seed);
            let stats = evaluate(&make, opts.eval_episodes, seed, opts.device, policy)?;
            let sps = (env_steps - self.start) as f64 / self.started.elapsed().as_secs_f64();
            let metrics = self.rec.log_eval(env_steps, &stats, sps)?;
            self.control.evaluated(&mut tick, &metrics, hooked(parts)?, self.rec.latest())?;
            self.summary.evals.push((env_steps, stats.mean()));
            self.summary.final_eval = Some(stats);
        }
        self.summary.env_steps = env_steps;
        self.conclude(&tick, parts)
    }

    /// The checkpoint of `parts` when `tick` says so, and whether the run ends there.
    fn conclude(&mut self, tick: &Tick, parts: &mut [Part<'_>]) -> Result<ControlFlow<()>> {
        if tick.checkpoint() {
            self.save(parts)?;
        }
        Ok(match tick.ended() {
            Some(ended) => {
                self.summary.ended = ended;
                ControlFlow::Break(())
            }
            None => ControlFlow::Continue(()),
        })
    }

    /// Write the checkpoint (when the run has a directory): `parts`, the action log and the
    /// run's metadata.
    fn save(&mut self, parts: &[Part<'_>]) -> Result<()> {
        let Some(path) = self.checkpoint_path() else { return Ok(()) };
        self.meta.episodes = self.rec.episodes;
        save_run(&path, parts, &self.actions, &self.meta)?;
        self.summary.checkpoint = Some(path);
        Ok(())
    }

    fn checkpoint_path(&self) -> Option<PathBuf> {
        self.opts.out.as_ref().map(|d| d.join(CHECKPOINT_FILE))
    }

    /// Flush the logs and return the run's summary.
    pub fn finish(mut self) -> Result<TrainSummary> {
        self.rec.flush()?;
        self.summary.episodes = self.rec.episodes;
        self.summary.wall_secs = self.started.elapsed().as_secs_f64();
        Ok(self.summary)
    }
}

/// The optimizer hooks see: the first part's that has one.
fn hooked<'p>(parts: &'p mut [Part<'_>]) -> Result<&'p mut Optimizer> {
    parts
        .iter_mut()
        .find_map(|p| p.opt.as_deref_mut())
        .ok_or_else(|| Error::Invalid("schedule hooks need an agent part with an optimizer".into()))
}
