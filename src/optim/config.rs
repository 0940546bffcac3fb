//! What an optimizer is asked to be: the update rule ([`OptimizerKind`]) and its
//! hyperparameters ([`OptimizerConfig`], filled from JSON, Rhai maps and CLI flags), checked
//! before any tensor is touched. The rules themselves are in `update_rules.rs`, the
//! formulas in the `optimizer` module docs.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// Which update rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum OptimizerKind {
    /// Stochastic gradient descent, optionally with (Nesterov) momentum.
    Sgd,
    /// Adam with L2 weight decay added to the gradient.
    #[default]
    Adam,
    /// Adam with decoupled weight decay.
    #[serde(rename = "adamw")]
    AdamW,
    /// RMSprop, optionally centred and with momentum.
    #[serde(rename = "rmsprop")]
    RmsProp,
}

impl OptimizerKind {
    /// Every update rule, in the order help texts list them.
    pub const ALL: [OptimizerKind; 4] =
        [OptimizerKind::Sgd, OptimizerKind::Adam, OptimizerKind::AdamW, OptimizerKind::RmsProp];

    /// The rule's name, as in configs: `sgd`, `adam`, `adamw` or `rmsprop`.
    pub fn name(self) -> &'static str {
        match self {
            OptimizerKind::Sgd => "sgd",
            OptimizerKind::Adam => "adam",
            OptimizerKind::AdamW => "adamw",
            OptimizerKind::RmsProp => "rmsprop",
        }
    }
}

impl std::fmt::Display for OptimizerKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl clap::ValueEnum for OptimizerKind {
    fn value_variants<'a>() -> &'a [Self] {
        &OptimizerKind::ALL
    }

    fn to_possible_value(&self) -> Option<clap::builder::PossibleValue> {
        Some(clap::builder::PossibleValue::new(self.name()))
    }
}

/// Optimizer hyperparameters. Defaults are PyTorch's Adam defaults.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct OptimizerConfig {
    /// Update rule: `sgd`, `adam`, `adamw` or `rmsprop`.
    pub kind: OptimizerKind,
    /// Base learning rate of every group (groups can be given their own later).
    pub lr: f64,
    /// SGD or RMSprop momentum μ (0 = none).
    pub momentum: f64,
    /// SGD: Nesterov momentum.
    pub nesterov: bool,
    /// Adam(W): decay rates (β1, β2) of the first and second moment estimates.
    pub betas: [f64; 2],
    /// Adam(W), RMSprop: ε added to the denominator.
    pub eps: f64,
    /// RMSprop: smoothing constant α of the squared-gradient average (PyTorch: 0.99).
    pub alpha: f64,
    /// RMSprop: divide by the gradient's estimated standard deviation instead of its root
    /// mean square (the centred form).
    pub centered: bool,
    /// Weight decay: L2 added to the gradient (SGD, Adam) or decoupled (AdamW).
    pub weight_decay: f64,
    /// `false`: tensors of rank ≤ 1 (biases, norm scales and shifts) get no weight decay.
    pub decay_norms_and_biases: bool,
}

impl Default for OptimizerConfig {
    fn default() -> Self {
        OptimizerConfig {
            kind: OptimizerKind::Adam,
            lr: 1e-3,
            momentum: 0.0,
            nesterov: false,
            betas: [0.9, 0.999],
            eps: 1e-8,
            alpha: 0.99,
            centered: false,
            weight_decay: 0.0,
            decay_norms_and_biases: false,
        }
    }
}

impl OptimizerConfig {
    /// Adam with learning rate `lr` and PyTorch's other defaults.
    pub fn adam(lr: f64) -> Self {
        OptimizerConfig { lr, ..Default::default() }
    }

    /// AdamW with learning rate `lr` and decoupled weight decay `weight_decay`.
    pub fn adamw(lr: f64, weight_decay: f64) -> Self {
        OptimizerConfig { kind: OptimizerKind::AdamW, lr, weight_decay, ..Default::default() }
    }

    /// RMSprop with learning rate `lr`, smoothing constant `alpha`, `eps`, centred or not, no
    /// momentum and no weight decay.
    pub fn rmsprop(lr: f64, alpha: f64, eps: f64, centered: bool) -> Self {
        OptimizerConfig {
            kind: OptimizerKind::RmsProp,
            lr,
            alpha,
            eps,
            centered,
            ..Default::default()
        }
    }

    /// SGD with learning rate `lr` and momentum `momentum`.
    pub fn sgd(lr: f64, momentum: f64) -> Self {
        OptimizerConfig { kind: OptimizerKind::Sgd, lr, momentum, ..Default::default() }
    }

    /// Refuse values PyTorch refuses too.
    pub fn validate(&self) -> Result<()> {
        if !(self.lr.is_finite() && self.lr >= 0.0) {
            return Err(invalid(format!("lr must be ≥ 0, got {}", self.lr)));
        }
        if !(self.weight_decay.is_finite() && self.weight_decay >= 0.0) {
            return Err(invalid(format!("weight_decay must be ≥ 0, got {}", self.weight_decay)));
        }
        if !(0.0..1.0).contains(&self.momentum) {
            return Err(invalid(format!("momentum must be in [0, 1), got {}", self.momentum)));
        }
        if self.nesterov && (self.kind != OptimizerKind::Sgd || self.momentum <= 0.0) {
            return Err(invalid("nesterov needs kind \"sgd\" and momentum > 0".into()));
        }
        for (i, b) in self.betas.iter().enumerate() {
            if !(0.0..1.0).contains(b) {
                return Err(invalid(format!("betas[{i}] must be in [0, 1), got {b}")));
            }
        }
        if !(self.eps.is_finite() && self.eps >= 0.0) {
            return Err(invalid(format!("eps must be ≥ 0, got {}", self.eps)));
        }
        if !(0.0..=1.0).contains(&self.alpha) {
            return Err(invalid(format!("alpha must be in [0, 1], got {}", self.alpha)));
        }
        if self.centered && self.kind != OptimizerKind::RmsProp {
            return Err(invalid("centered needs kind \"rmsprop\"".into()));
        }
        Ok(())
    }
}

pub(super) fn invalid(msg: String) -> Error {
    Error::Invalid(format!("optimizer config: {msg}"))
}
