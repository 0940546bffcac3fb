//! [`LoopControl`]: what every training loop does between its optimisation steps, in one
//! type — schedule-hook dispatch and the [`Cadence`]'s decisions on evaluation, checkpoint
//! and the end of the run, with hook requests feeding back into them. Pretraining,
//! fine-tuning and the RL harness ([`crate::rl::harness`]) each hold one and do only their
//! own work at the points it names (evaluate what, write which file):
//!
//! ```text
//! let mut control = LoopControl::new(cadence, hooks);
//! loop {
//!     let tick = control.round_start(round, progress, &mut opt, &latest)?; // on_epoch_start
//!     if tick.checkpoint() { /* write the loop's checkpoint */ }
//!     if let Some(ended) = tick.ended() { break; }
//!     // ... one update, progress moves from `before` to `after` ...
//!     let mut tick = control.after_update(before, after, &mut opt, &latest)?; // on_step
//!     if tick.evaluate() {
//!         let metrics = /* the loop's evaluation */;
//!         control.evaluated(&mut tick, &metrics, &mut opt, &latest)?; // on_eval
//!     }
//!     if tick.checkpoint() { /* write the loop's checkpoint */ }
//!     if let Some(ended) = tick.ended() { break; }
//! }
//! ```
//!
//! Units are the loop's own measure of progress (see [`crate::train::cadence`]): env steps
//! for the agents, optimisation steps for pretraining and fine-tuning. A stop asked at a
//! round's start ends the run there, in every loop: no further update, the checkpoint written
//! (a point without progress evaluates nothing new, so it has no evaluation).

use std::collections::BTreeMap;

use crate::error::Result;
use crate::optim::Optimizer;
use crate::train::cadence::{call_hooks, Cadence, HookPoint, HookRequests, Tick};
use crate::train::TrainHooks;

/// Hook dispatch and cadence decisions of one run (see the module docs).
pub struct LoopControl<'h> {
    hooks: &'h mut dyn TrainHooks,
    cadence: Cadence,
    round: u64,
}

impl<'h> LoopControl<'h> {
    /// Control of a run with these periods, calling `hooks`.
    pub fn new(cadence: Cadence, hooks: &'h mut dyn TrainHooks) -> Self {
        LoopControl { hooks, cadence, round: 0 }
    }

    /// The periods.
    pub fn cadence(&self) -> &Cadence {
        &self.cadence
    }

    /// Before round `round` (an epoch; PPO's iteration; one round for loops without rounds),
    /// at `progress`: the hooks' `on_epoch_start`. The returned tick, a point without progress,
    /// holds their requests: a checkpoint, or the end of the run.
    pub fn round_start(
        &mut self,
        round: u64,
        progress: u64,
        opt: &mut Optimizer,
        latest: &BTreeMap<String, f64>,
    ) -> Result<Tick> {
        self.round = round;
        let at = (progress, round, self.cadence.end);
        let asked = call_hooks(self.hooks, HookPoint::RoundStart, at, opt, latest)?;
        Ok(self.cadence.tick(progress, progress, asked))
    }

    /// After the update that moved progress from `before` to `after`: the step hooks when
    /// their period falls due. The returned tick holds every decision of this point.
    pub fn after_update(
        &mut self,
        before: u64,
        after: u64,
        opt: &mut Optimizer,
        latest: &BTreeMap<String, f64>,
    ) -> Result<Tick> {
        let mut tick = self.cadence.tick(before, after, HookRequests::default());
        if tick.due(self.hooks.step_every()) {
            let at = (after, self.round, self.cadence.end);
            tick.ask(call_hooks(self.hooks, HookPoint::Step, at, opt, latest)?);
        }
        Ok(tick)
    }

    /// After the loop evaluated at `tick` (because [`Tick::evaluate`] said so), with the
    /// evaluation's `metrics`: the hooks' `on_eval`, whose requests join the tick's.
    pub fn evaluated(
        &mut self,
        tick: &mut Tick,
        metrics: &BTreeMap<String, f64>,
        opt: &mut Optimizer,
        latest: &BTreeMap<String, f64>,
    ) -> Result<()> {
        let at = (tick.after, self.round, self.cadence.end);
        tick.ask(call_hooks(self.hooks, HookPoint::Eval(metrics), at, opt, latest)?);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::optim::OptimizerConfig;
    use crate::train::{Ended, HookContext};

    /// Records where it was called and stops at the first evaluation at or after `stop_at`.
    #[derive(Default)]
    struct Probe {
        calls: Vec<(&'static str, u64, u64)>,
        stop_at: u64,
        save_on_step: bool,
    }

    impl TrainHooks for Probe {
        fn on_epoch_start(&mut self, ctx: &mut HookContext) -> Result<()> {
            self.calls.push(("epoch", ctx.step, ctx.epoch));
            Ok(())
        }
        fn on_step(&mut self, ctx: &mut HookContext) -> Result<()> {
            self.calls.push(("step", ctx.step, ctx.epoch));
            ctx.save_checkpoint = self.save_on_step;
            Ok(())
        }
        fn step_every(&self) -> u64 {
            3
        }
        fn on_eval(&mut self, ctx: &mut HookContext, _: &BTreeMap<String, f64>) -> Result<()> {
            self.calls.push(("eval", ctx.step, ctx.epoch));
            ctx.stop = self.stop_at > 0 && ctx.step >= self.stop_at;
            Ok(())
        }
    }

    /// A loop of `end` single-step updates in rounds of 4; returns what it did.
    fn drive(probe: &mut Probe, cadence: Cadence) -> (Vec<(u64, bool, bool)>, Option<Ended>) {
        let vs = tch::nn::VarStore::new(tch::Device::Cpu);
        let _ = vs.root().zeros("w", &[1]);
        let mut opt = Optimizer::for_all(&vs, &OptimizerConfig::sgd(0.1, 0.0)).unwrap();
        let latest = BTreeMap::new();
        let mut control = LoopControl::new(cadence, probe);
        let mut done = Vec::new();
        for step in 0..cadence.end {
            if step % 4 == 0 {
                let tick = control.round_start(step / 4, step, &mut opt, &latest).unwrap();
                done.push((step, tick.evaluate(), tick.checkpoint()));
                if let Some(e) = tick.ended() {
                    return (done, Some(e));
                }
            }
            let mut tick = control.after_update(step, step + 1, &mut opt, &latest).unwrap();
            if tick.evaluate() {
                control.evaluated(&mut tick, &BTreeMap::new(), &mut opt, &latest).unwrap();
            }
            done.push((step + 1, tick.evaluate(), tick.checkpoint()));
            if let Some(e) = tick.ended() {
                return (done, Some(e));
            }
        }
        (done, None)
    }

    #[test]
    fn hooks_run_at_their_periods_and_the_cadence_at_its_own() {
        let mut probe = Probe::default();
        let c = Cadence { eval_every: 5, checkpoint_every: 4, stop_after: None, end: 10 };
        let (done, ended) = drive(&mut probe, c);
        assert_eq!(ended, Some(Ended::Budget));
        let evals: Vec<u64> = done.iter().filter(|d| d.1).map(|d| d.0).collect();
        let ckpts: Vec<u64> = done.iter().filter(|d| d.2).map(|d| d.0).collect();
        assert_eq!(evals, vec![5, 10]);
        assert_eq!(ckpts, vec![4, 8, 10]);
        let steps: Vec<u64> = probe.calls.iter().filter(|c| c.0 == "step").map(|c| c.1).collect();
        assert_eq!(steps, vec![3, 6, 9]);
        // Rounds start at steps 0, 4, 8; a step hook sees the round it falls in.
        assert!(probe.calls.contains(&("epoch", 8, 2)) && probe.calls.contains(&("step", 9, 2)));
    }

    #[test]
    fn an_evaluation_hook_stops_and_a_step_hook_saves() {
        let mut probe = Probe { stop_at: 6, save_on_step: true, ..Probe::default() };
        let c = Cadence { eval_every: 4, checkpoint_every: 0, stop_after: None, end: 100 };
        let (done, ended) = drive(&mut probe, c);
        assert_eq!(ended, Some(Ended::Hook));
        assert_eq!(done.last().unwrap().0, 8, "the first evaluation at or past step 6");
        let ckpts: Vec<u64> = done.iter().filter(|d| d.2).map(|d| d.0).collect();
        assert_eq!(ckpts, vec![3, 6, 8], "asked by the step hook, then at the end");
    }
}
