//! The [`PretextTask`] interface the trainer drives, and the pieces every task file shares:
//! small MLP heads, frozen EMA target networks (BYOL, SPR, ATC), how pixels become model
//! inputs, and the export of the trained encoder.
//!
//! A task owns its data and its networks (built in one `VarStore` the trainer owns): the
//! trainer hands it the indices of the items of one step (its own data order, a function of
//! `(seed, epoch)`) after seeding libtorch with `step_seed(seed, step)`, so every random draw
//! a task makes with libtorch (augmentations, masks, offsets) is reproducible on resume.

use tch::nn::{self, Module};
use tch::{Kind, Tensor};

use crate::error::{Error, Result};
use crate::models::{Encoder, ModelConfig};

/// Prefix of the encoder's variables in a task's VarStore (what is exported).
pub const ENCODER: &str = "encoder";
/// Prefix of frozen target networks (EMA copies of online ones, never optimised).
pub const TARGET: &str = "target";

/// What one step of a task computed.
pub struct TaskLoss {
    /// The scalar loss to minimise.
    pub loss: Tensor,
    /// Extra scalar metrics (accuracy, …) as 0-dim tensors, read only at logging steps so
    /// the loop does not wait on the device every step.
    pub metrics: Vec<(&'static str, Tensor)>,
}

impl TaskLoss {
    /// A loss without extra metrics.
    pub fn new(loss: Tensor) -> Self {
        TaskLoss { loss, metrics: Vec::new() }
    }

    /// Add a metric.
    pub fn with(mut self, name: &'static str, value: Tensor) -> Self {
        self.metrics.push((name, value.detach()));
        self
    }
}

/// A self-supervised (or supervised-from-trajectories) objective over one dataset.
pub trait PretextTask {
    /// The task's name, e.g. `"simclr"`.
    fn name(&self) -> &'static str;
    /// How many items the trainer's sampler permutes each epoch (transitions, windows,
    /// images).
    fn num_items(&self) -> usize;
    /// The loss on items `indices` (`train = false`: evaluation, no dropout).
    fn loss(&mut self, indices: &[usize], train: bool) -> Result<TaskLoss>;
    /// Called after every optimizer step (EMA target updates); `step` counts from 1.
    fn after_step(&mut self, _step: u64, _total_steps: u64) -> Result<()> {
        Ok(())
    }
    /// The encoder being pretrained (variables under [`ENCODER`]).
    fn encoder(&self) -> &dyn Encoder;
}

/// A two-layer MLP head `in → hidden → out` with ReLU (or a single linear layer when
/// `hidden` is 0), the projection/prediction heads of the papers.
#[derive(Debug)]
pub struct Head {
    layers: Vec<nn::Linear>,
    norm: Option<nn::BatchNorm>,
}

impl Head {
    /// A head under `p`; `batch_norm` puts a BatchNorm after the hidden layer (BYOL, SimCLR v2).
    pub fn new(p: &nn::Path, input: i64, hidden: i64, output: i64, batch_norm: bool) -> Self {
        if hidden == 0 {
            return Head {
                layers: vec![nn::linear(p / "0", input, output, Default::default())],
                norm: None,
            };
        }
        Head {
            layers: vec![
                nn::linear(p / "0", input, hidden, Default::default()),
                nn::linear(p / "2", hidden, output, Default::default()),
            ],
            norm: batch_norm.then(|| nn::batch_norm1d(p / "1", hidden, Default::default())),
        }
    }
}

impl nn::ModuleT for Head {
    fn forward_t(&self, xs: &Tensor, train: bool) -> Tensor {
        let mut x = self.layers[0].forward(xs);
        if self.layers.len() > 1 {
            if let Some(n) = &self.norm {
                x = x.apply_t(n, train);
            }
            x = self.layers[1].forward(&x.relu());
        }
        x
    }
}

/// Mark every variable under `prefix` as not requiring gradients (so the optimizer, built
/// afterwards, leaves it alone) and copy the online network's values into it: variable
/// `<prefix>.<key>` gets `<key>`'s value.
pub fn init_target(vs: &nn::VarStore, prefix: &str) -> Result<EmaPairs> {
    let vars = vs.variables();
    let mut pairs = Vec::new();
    let dot = format!("{prefix}.");
    for (name, target) in &vars {
        let Some(online_name) = name.strip_prefix(&dot) else { continue };
        let online = vars.get(online_name).ok_or_else(|| {
            Error::Invalid(format!(
                "target variable '{name}' has no online variable '{online_name}'"
            ))
        })?;
        let mut t = target.shallow_clone();
        let _ = t.set_requires_grad(false);
        tch::no_grad(|| t.copy_(online));
        pairs.push((t, online.shallow_clone()));
    }
    if pairs.is_empty() {
        return Err(Error::Invalid(format!("no target variables under '{prefix}'")));
    }
    Ok(EmaPairs { pairs })
}

/// `(target, online)` variable pairs of an EMA target network.
pub struct EmaPairs {
    pairs: Vec<(Tensor, Tensor)>,
}

impl EmaPairs {
    /// `target ← m · target + (1 − m) · online`, for parameters and BatchNorm statistics.
    pub fn update(&mut self, momentum: f64) {
        tch::no_grad(|| {
            for (t, o) in &mut self.pairs {
                // lerp: t + (1 - m) (o - t)
                let _ = t.lerp_(o, 1.0 - momentum);
            }
        });
    }
}

/// BYOL's momentum schedule: from `base` at step 0 up to 1 at the end, along a cosine
/// (Grill et al. 2020, §3.2: τ = 1 − (1 − τ_base)(cos(πk/K) + 1)/2).
pub fn cosine_momentum(base: f64, step: u64, total: u64) -> f64 {
    let k = step as f64 / total.max(1) as f64;
    1.0 - (1.0 - base) * ((std::f64::consts::PI * k).cos() + 1.0) / 2.0
}

/// The factor that turns pixels in `[0, 1]` into what the model's first layer expects:
/// models with their own `input_scale` (the RL CNNs, usually 1/255) take raw pixel values.
pub fn pixel_factor(model: &ModelConfig) -> f64 {
    let scale = match model {
        ModelConfig::NatureCnn(c) => c.input_scale,
        ModelConfig::ImpalaCnn(c) => c.input_scale,
        ModelConfig::MinatarCnn(c) => c.input_scale,
        ModelConfig::DrqCnn(c) => c.input_scale,
        _ => 1.0,
    };
    if scale > 0.0 {
        1.0 / scale
    } else {
        1.0
    }
}

/// `[B, H, W, C]` uint8 frames → `[B, C, H, W]` float in `[0, 1]`.
pub fn frames_to_unit(frames: &Tensor) -> Tensor {
    frames.permute([0, 3, 1, 2]).to_kind(Kind::Float) / 255.0
}

/// Cross-entropy for discrete targets with the mean accuracy as a metric.
pub fn classification(logits: &Tensor, targets: &Tensor) -> TaskLoss {
    let loss = logits.cross_entropy_for_logits(targets);
    let acc = logits.argmax(-1, false).eq_tensor(targets).to_kind(Kind::Float).mean(Kind::Float);
    TaskLoss::new(loss).with("accuracy", acc)
}

/// Refuse a non-positive or otherwise bad hyperparameter with the task's name.
pub fn check(task: &str, ok: bool, problem: impl FnOnce() -> String) -> Result<()> {
    if ok {
        Ok(())
    } else {
        Err(Error::Invalid(format!("{task}: {}", problem())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn byol_momentum_runs_from_base_to_one() {
        assert!((cosine_momentum(0.996, 0, 100) - 0.996).abs() < 1e-12);
        assert!((cosine_momentum(0.996, 50, 100) - 0.998).abs() < 1e-12);
        assert!((cosine_momentum(0.996, 100, 100) - 1.0).abs() < 1e-12);
    }

    #[test]
    fn targets_start_equal_to_online_and_follow_by_ema() {
        let vs = nn::VarStore::new(tch::Device::Cpu);
        let root = vs.root();
        let online = root.var("w", &[3], nn::Init::Const(1.0));
        let target = (&root / TARGET).var("w", &[3], nn::Init::Const(0.0));
        let mut ema = init_target(&vs, TARGET).unwrap();
        assert!(target.equal(&online));
        assert!(!target.requires_grad());
        tch::no_grad(|| {
            let mut o = online.shallow_clone();
            let _ = o.fill_(3.0);
        });
        ema.update(0.75); // 0.75 · 1 + 0.25 · 3 = 1.5
        assert!((target.double_value(&[0]) - 1.5).abs() < 1e-6);
        assert!(init_target(&vs, "nothing").is_err());
    }
}
