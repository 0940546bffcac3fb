//! When a training loop runs its step hooks, evaluates, writes its checkpoint and ends: the
//! decisions, taken in one place and returned to the loop, which does the work (burn's
//! checkpointing strategies return actions the same way instead of doing I/O).
//!
//! Every count is in one unit, the loop's own measure of progress. The RL agents count env
//! steps, summed over the copies of a vector env (a PPO update of 4 envs × 128 steps moves 512
//! of them). A period `every` is due when progress crosses one of its multiples between two
//! updates, so a loop that moves in strides (PPO's rollouts) acts at the first update that
//! reaches or passes each multiple, and a period of 0 never falls due.
//!
//! [`crate::rl::harness::Harness`] drives every agent's loop with it.

use serde::{Deserialize, Serialize};

use crate::error::Result;
use crate::optim::Optimizer;
use crate::train::{HookContext, TrainHooks};

/// Whether `every` has a multiple in `(before, after]` (never when `every` is 0).
pub fn due(every: u64, before: u64, after: u64) -> bool {
    every > 0 && before / every != after / every
}

/// How a run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Ended {
    /// It used its budget (or a resumed run found it already used).
    #[default]
    Budget,
    /// It reached `stop_after` and stopped as if killed, after writing its checkpoint, to be
    /// resumed later.
    StopAfter,
    /// A schedule hook asked it to stop (it was evaluated and checkpointed there).
    Hook,
}

impl Ended {
    /// Whether a schedule hook ended the run (what scripts read as `stopped_early`).
    pub fn by_hook(self) -> bool {
        self == Ended::Hook
    }

    /// How a summary line says it: nothing for a run that used its budget.
    pub fn note(self) -> &'static str {
        match self {
            Ended::Budget => "",
            Ended::StopAfter => " (stopped at --stop-after, to be resumed)",
            Ended::Hook => " (stopped early by a hook)",
        }
    }
}

/// Where a loop calls its schedule hooks ([`TrainHooks`]).
pub enum HookPoint<'m> {
    /// Before an update round (PPO's iteration; one round for loops without rounds).
    RoundStart,
    /// Progress crossed a multiple of the hooks' `step_every()`.
    Step,
    /// After an evaluation, with its metrics (`eval/return_mean`, …).
    Eval(&'m std::collections::BTreeMap<String, f64>),
}

/// What hooks asked for.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct HookRequests {
    /// End training (after the evaluation and checkpoint of this point).
    pub stop: bool,
    /// Write the checkpoint now.
    pub save: bool,
}

impl HookRequests {
    /// Both requests, accumulated.
    pub fn merge(&mut self, other: HookRequests) {
        self.stop |= other.stop;
        self.save |= other.save;
    }
}

/// Call `hooks` at `point`, at `step` of `total` in round `round`; returns their requests.
pub fn call_hooks(
    hooks: &mut dyn TrainHooks,
    point: HookPoint<'_>,
    (step, round, total): (u64, u64, u64),
    optimizer: &mut Optimizer,
    metrics: &std::collections::BTreeMap<String, f64>,
) -> Result<HookRequests> {
    let mut ctx = HookContext::new(step, round, total, optimizer, metrics);
    match point {
        HookPoint::RoundStart => hooks.on_epoch_start(&mut ctx)?,
        HookPoint::Step => hooks.on_step(&mut ctx)?,
        HookPoint::Eval(m) => hooks.on_eval(&mut ctx, m)?,
    }
    Ok(HookRequests { stop: ctx.stop, save: ctx.save_checkpoint })
}

/// The periods of a run, all in the loop's unit (see the module docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Cadence {
    /// Evaluate every this many steps (0: only at the end).
    pub eval_every: u64,
    /// Write the checkpoint every this many steps (0: only at the end).
    pub checkpoint_every: u64,
    /// Stop as if killed once this many steps are done, after writing the checkpoint.
    pub stop_after: Option<u64>,
    /// The step the loop ends at.
    pub end: u64,
}

impl Cadence {
    /// The decisions for the update that moved progress from `before` to `after`, with the
    /// requests hooks made since the last update.
    pub fn tick(&self, before: u64, after: u64, asked: HookRequests) -> Tick {
        Tick { cadence: *self, before, after, asked }
    }
}

/// The decisions after one update. Hook requests made while it is handled
/// ([`ask`](Self::ask)) change what comes after them: a stop from a step hook brings an
/// evaluation, one from an evaluation hook a checkpoint.
#[derive(Debug, Clone, Copy)]
pub struct Tick {
    cadence: Cadence,
    /// Progress before the update.
    pub before: u64,
    /// Progress after it.
    pub after: u64,
    asked: HookRequests,
}

impl Tick {
    /// Whether a hook with period `every` is due.
    pub fn due(&self, every: u64) -> bool {
        due(every, self.before, self.after)
    }

    /// Take hooks' requests into account.
    pub fn ask(&mut self, requests: HookRequests) {
        self.asked.merge(requests);
    }

    fn last(&self) -> bool {
        self.after >= self.cadence.end
    }

    /// Evaluate now: every `eval_every`, at the end, and where a hook stops the run — after
    /// an update (a point without progress, a round's start, has nothing new to evaluate).
    pub fn evaluate(&self) -> bool {
        self.after > self.before
            && (self.last() || self.asked.stop || self.due(self.cadence.eval_every))
    }

    /// Write the checkpoint now: every `checkpoint_every`, whenever the run ends, and where a
    /// hook asks for it.
    pub fn checkpoint(&self) -> bool {
        self.ended().is_some() || self.asked.save || self.due(self.cadence.checkpoint_every)
    }

    /// How the run ends here, if it does (a hook's stop first, then the budget, then
    /// `stop_after`).
    pub fn ended(&self) -> Option<Ended> {
        if self.asked.stop {
            Some(Ended::Hook)
        } else if self.last() {
            Some(Ended::Budget)
        } else if self.cadence.stop_after.is_some_and(|s| self.after >= s) {
            Some(Ended::StopAfter)
        } else {
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const C: Cadence =
        Cadence { eval_every: 100, checkpoint_every: 250, stop_after: None, end: 1000 };

    #[test]
    fn periods_fall_due_when_crossed_in_strides_or_single_steps() {
        assert!(!due(0, 0, 1_000));
        assert!(due(100, 99, 100) && !due(100, 100, 101));
        // A stride of 64 crosses 100 between 64 and 128, and 200 between 192 and 256.
        let hits: Vec<u64> =
            (0..8).map(|i| i * 64).filter(|&a| a > 0 && due(100, a - 64, a)).collect();
        assert_eq!(hits, vec![128, 256, 320, 448]);
    }

    #[test]
    fn the_end_evaluates_and_checkpoints_and_a_stop_after_only_checkpoints() {
        let t = C.tick(300, 301, HookRequests::default());
        assert!(!t.evaluate() && !t.checkpoint() && t.ended().is_none());
        let t = C.tick(999, 1000, HookRequests::default());
        assert!(t.evaluate() && t.checkpoint() && t.ended() == Some(Ended::Budget));
        let c = Cadence { stop_after: Some(301), ..C };
        let t = c.tick(300, 301, HookRequests::default());
        assert!(!t.evaluate() && t.checkpoint() && t.ended() == Some(Ended::StopAfter));
        assert!(C.tick(249, 250, HookRequests::default()).checkpoint());
    }

    #[test]
    fn hook_requests_bring_an_evaluation_a_checkpoint_and_the_end() {
        let mut t = C.tick(301, 302, HookRequests::default());
        t.ask(HookRequests { stop: false, save: true });
        assert!(!t.evaluate() && t.checkpoint() && t.ended().is_none());
        t.ask(HookRequests { stop: true, save: false });
        assert!(t.evaluate() && t.ended() == Some(Ended::Hook));
        // A stop asked at a round's start, a point without progress, ends the run there with
        // a checkpoint and no evaluation.
        let t = C.tick(302, 302, HookRequests { stop: true, save: false });
        assert!(!t.evaluate() && t.checkpoint() && t.ended() == Some(Ended::Hook));
        let t = C.tick(300, 300, HookRequests::default());
        assert!(!t.evaluate() && !t.checkpoint() && t.ended().is_none(), "300 is not crossed");
    }
}
