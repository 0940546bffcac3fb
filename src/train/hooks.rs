//! Schedule hooks: the points where a training loop hands control to a schedule — a Rhai
//! script (src/script/) or Rust code — which may freeze or unfreeze layer groups, change
//! per-group learning rates and weight decay, read metrics, stop early or ask for a
//! checkpoint. Hooks run between steps, never per sample.

use std::collections::BTreeMap;

use crate::error::Result;
use crate::optim::Optimizer;

/// What a hook sees and may change.
pub struct HookContext<'a> {
    /// Progress so far, in the loop's unit: optimisation steps in pretraining and
    /// fine-tuning, env steps in the RL agents ([`crate::train::cadence`]).
    pub step: u64,
    /// Current epoch (0-based; an RL agent's update round).
    pub epoch: u64,
    /// Planned total steps of the run, in the same unit.
    pub total_steps: u64,
    /// The optimizer: groups, learning rates, weight decay, freezing.
    pub optimizer: &'a mut Optimizer,
    /// Latest value of every logged metric.
    pub metrics: &'a BTreeMap<String, f64>,
    /// Set by a hook to end training after this point.
    pub stop: bool,
    /// Set by a hook to write a checkpoint now.
    pub save_checkpoint: bool,
}

impl<'a> HookContext<'a> {
    /// A context at `step`/`epoch` of `total_steps`, with no stop or save requested.
    pub fn new(
        step: u64,
        epoch: u64,
        total_steps: u64,
        optimizer: &'a mut Optimizer,
        metrics: &'a BTreeMap<String, f64>,
    ) -> Self {
        HookContext {
            step,
            epoch,
            total_steps,
            optimizer,
            metrics,
            stop: false,
            save_checkpoint: false,
        }
    }
}

/// Callbacks a training loop calls. Every method defaults to doing nothing.
pub trait TrainHooks {
    /// Before the first step of each epoch.
    fn on_epoch_start(&mut self, _ctx: &mut HookContext) -> Result<()> {
        Ok(())
    }
    /// After every [`step_every`](Self::step_every)-th step.
    fn on_step(&mut self, _ctx: &mut HookContext) -> Result<()> {
        Ok(())
    }
    /// How often `on_step` runs, in steps; 0 = never.
    fn step_every(&self) -> u64 {
        0
    }
    /// After an evaluation, with its metrics.
    fn on_eval(&mut self, _ctx: &mut HookContext, _metrics: &BTreeMap<String, f64>) -> Result<()> {
        Ok(())
    }
}

/// No hooks.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoHooks;

impl TrainHooks for NoHooks {}
