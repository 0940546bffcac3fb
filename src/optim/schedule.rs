//! Learning-rate schedules as data: a multiplier on every group's base learning rate, a pure
//! function of the step (so a resumed run recomputes it instead of storing it).
//!
//! - `constant`: 1.
//! - `step`: `gamma^(step / every)` (PyTorch's `StepLR`, counted in steps).
//! - `warmup_cosine`: linear warm-up `(step + 1) / warmup_steps`, then a half cosine from 1 down
//!   to `min_factor` at `total_steps` (Loshchilov & Hutter 2017, "SGDR",
//!   <https://arxiv.org/abs/1608.03983>, with the warm-up of Goyal et al. 2017).
//! - `one_cycle`: PyTorch's `OneCycleLR` with cosine annealing (Smith & Topin 2017,
//!   <https://arxiv.org/abs/1708.07120>): from `1/div_factor` up to 1 over the first
//!   `pct_start` of the steps, then down to `1/(div_factor·final_div_factor)`.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// A learning-rate multiplier as a function of the step. See the module documentation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum LrSchedule {
    /// Always 1.
    #[default]
    Constant,
    /// Multiply by `gamma` every `every` steps.
    Step {
        /// Steps between decays (> 0).
        every: u64,
        /// Decay factor per period.
        gamma: f64,
    },
    /// Linear warm-up, then cosine decay to `min_factor` at the last step.
    WarmupCosine {
        /// Steps of linear warm-up (0 = none).
        warmup_steps: u64,
        /// Factor reached at the end, e.g. 0 or 0.01.
        min_factor: f64,
    },
    /// One-cycle policy.
    OneCycle {
        /// Fraction of the steps spent increasing (PyTorch's default 0.3).
        pct_start: f64,
        /// Initial factor is `1 / div_factor` (PyTorch's default 25).
        div_factor: f64,
        /// Final factor is `1 / (div_factor · final_div_factor)` (PyTorch's default 1e4).
        final_div_factor: f64,
    },
}

impl LrSchedule {
    /// PyTorch's `OneCycleLR` defaults.
    pub fn one_cycle() -> Self {
        LrSchedule::OneCycle { pct_start: 0.3, div_factor: 25.0, final_div_factor: 1e4 }
    }

    /// Refuse parameters that would make the factor meaningless.
    pub fn validate(&self) -> Result<()> {
        let bad = |msg: String| Err(Error::Invalid(format!("lr schedule: {msg}")));
        match *self {
            LrSchedule::Constant => Ok(()),
            LrSchedule::Step { every, gamma } => {
                if every == 0 {
                    bad("step: `every` must be > 0".into())
                } else if !(gamma.is_finite() && gamma >= 0.0) {
                    bad(format!("step: `gamma` must be ≥ 0, got {gamma}"))
                } else {
                    Ok(())
                }
            }
            LrSchedule::WarmupCosine { min_factor, .. } => {
                if !(min_factor.is_finite() && min_factor >= 0.0) {
                    bad(format!("warmup_cosine: `min_factor` must be ≥ 0, got {min_factor}"))
                } else {
                    Ok(())
                }
            }
            LrSchedule::OneCycle { pct_start, div_factor, final_div_factor } => {
                if !(pct_start > 0.0 && pct_start < 1.0) {
                    bad(format!("one_cycle: `pct_start` must be in (0, 1), got {pct_start}"))
                } else if !(div_factor > 0.0 && final_div_factor > 0.0) {
                    bad("one_cycle: `div_factor` and `final_div_factor` must be > 0".into())
                } else {
                    Ok(())
                }
            }
        }
    }

    /// The multiplier at 0-based `step` of a run of `total_steps` steps.
    pub fn factor(&self, step: u64, total_steps: u64) -> f64 {
        match *self {
            LrSchedule::Constant => 1.0,
            LrSchedule::Step { every, gamma } => gamma.powf((step / every.max(1)) as f64),
            LrSchedule::WarmupCosine { warmup_steps, min_factor } => {
                if step < warmup_steps {
                    return (step + 1) as f64 / warmup_steps as f64;
                }
                let span = total_steps.saturating_sub(warmup_steps).max(1) as f64;
                let progress = ((step - warmup_steps) as f64 / span).clamp(0.0, 1.0);
                min_factor
                    + (1.0 - min_factor) * 0.5 * (1.0 + (std::f64::consts::PI * progress).cos())
            }
            LrSchedule::OneCycle { pct_start, div_factor, final_div_factor } => {
                let initial = 1.0 / div_factor;
                let last = initial / final_div_factor;
                // PyTorch's phase ends: the peak is reached at step pct_start·total - 1 and the
                // minimum at step total - 1.
                let peak_at = (pct_start * total_steps as f64 - 1.0).max(1e-9);
                let end_at = (total_steps as f64 - 1.0).max(peak_at + 1e-9);
                let s = step as f64;
                let anneal = |from: f64, to: f64, pct: f64| {
                    to + (from - to) / 2.0
                        * ((std::f64::consts::PI * pct.clamp(0.0, 1.0)).cos() + 1.0)
                };
                if s <= peak_at {
                    anneal(initial, 1.0, s / peak_at)
                } else {
                    anneal(1.0, last, (s - peak_at) / (end_at - peak_at))
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-12
    }

    #[test]
    fn step_decay_by_hand() {
        let s = LrSchedule::Step { every: 10, gamma: 0.5 };
        assert!(close(s.factor(0, 100), 1.0));
        assert!(close(s.factor(9, 100), 1.0));
        assert!(close(s.factor(10, 100), 0.5));
        assert!(close(s.factor(25, 100), 0.25));
    }

    #[test]
    fn warmup_cosine_by_hand() {
        let s = LrSchedule::WarmupCosine { warmup_steps: 4, min_factor: 0.0 };
        assert!(close(s.factor(0, 14), 0.25));
        assert!(close(s.factor(3, 14), 1.0));
        assert!(close(s.factor(4, 14), 1.0));
        // Half-way through the 10 cosine steps: (1 + cos(π/2)) / 2 = 0.5.
        assert!(close(s.factor(9, 14), 0.5));
        assert!(close(s.factor(14, 14), 0.0));
    }

    #[test]
    fn one_cycle_matches_pytorch_values() {
        // torch.optim.lr_scheduler.OneCycleLR(max_lr=1, total_steps=10) (defaults: pct_start
        // 0.3, div 25, final div 1e4, cos), get_last_lr() after 0..9 scheduler steps.
        let expected = [
            0.040000000000000036,
            0.52,
            1.0,
            0.9504846320134737,
            0.8117456539497631,
            0.6112620219362893,
            0.38874197806371075,
            0.18825834605023697,
            0.049519367986526286,
            4e-06,
        ];
        let s = LrSchedule::one_cycle();
        for (step, want) in expected.iter().enumerate() {
            let got = s.factor(step as u64, 10);
            assert!((got - want).abs() < 1e-9, "step {step}: {got} vs {want}");
        }
    }

    #[test]
    fn bad_parameters_are_refused() {
        assert!(LrSchedule::Step { every: 0, gamma: 0.5 }.validate().is_err());
        let s: std::result::Result<LrSchedule, _> =
            serde_json::from_str(r#"{"kind": "warmup_cosine", "warmup": 3}"#);
        assert!(s.is_err());
        let s: LrSchedule = serde_json::from_str(
            r#"{"kind": "warmup_cosine", "warmup_steps": 3, "min_factor": 0.1}"#,
        )
        .unwrap();
        assert!(s.validate().is_ok());
    }
}
