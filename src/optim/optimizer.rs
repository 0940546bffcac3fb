//! Graft's optimizer: SGD (momentum, Nesterov), Adam, AdamW and RMSprop over a VarStore, with one
//! parameter group per model layer group.
//!
//! Why not `tch::nn::Optimizer`? It wraps libtorch's C++ optimizers, whose state (momentum
//! buffers, Adam moments, step counts) tch cannot read or write — so a run could not be
//! resumed exactly — and whose moments cannot be reset when a group is unfrozen. This one keeps
//! its state as named tensors ([`Optimizer::state_tensors`]) that checkpoints store.
//!
//! The update rules are PyTorch's single-tensor implementations (`torch.optim.SGD`, `Adam`,
//! `AdamW`, `RMSprop` with `foreach=False`, no AMSGrad, no maximize), which is what PyTorch
//! runs on CPU:
//!
//! - **SGD**: `g += wd·p`; with momentum `b = μ·b + g` (the first step sets `b = g`); Nesterov
//!   uses `g + μ·b`, otherwise `b`; `p -= lr·update`.
//! - **Adam** (Kingma & Ba 2015, <https://arxiv.org/abs/1412.6980>): `g += wd·p` (L2);
//!   `m = β1·m + (1-β1)·g`, `v = β2·v + (1-β2)·g²`, `p -= lr/(1-β1ᵗ) · m / (√v/√(1-β2ᵗ) + ε)`.
//! - **AdamW** (Loshchilov & Hutter 2019, <https://arxiv.org/abs/1711.05101>): decoupled decay
//!   `p *= 1 - lr·wd` first, then the Adam update without the L2 term.
//! - **RMSprop** (Tieleman & Hinton 2012, lecture 6.5; centred as Graves 2013,
//!   <https://arxiv.org/abs/1308.0850>): `g += wd·p`; `s = α·s + (1-α)·g²`; centred:
//!   `ḡ = α·ḡ + (1-α)·g` and `d = √(s - ḡ²) + ε`, otherwise `d = √s + ε`; with momentum
//!   `b = μ·b + g/d`, `p -= lr·b`, otherwise `p -= lr·g/d`. MinAtar's DQN uses the centred
//!   form (α 0.95, ε 0.01).
//!
//! **Groups.** Each [`LayerGroup`] becomes a parameter group with its own base learning rate,
//! weight decay and frozen flag; keys no group covers go to a trailing group `other`. The
//! effective learning rate is `base lr × lr_factor`, where a schedule sets the factor each
//! step and fine-tuning scripts set per-group base rates. Within a group, tensors of rank ≤ 1
//! (biases, norm scales and shifts) get no weight decay unless
//! [`OptimizerConfig::decay_norms_and_biases`] says otherwise (the usual exclusion of
//! BYOL, MAE and timm).
//!
//! **Freezing** sets `requires_grad = false` on the group's tensors, so backward skips them and
//! their values stay bit-identical. **Unfreezing** can keep or reset the group's moments: a
//! reset (fastai's choice when the set of trainable layers changes) restarts Adam's bias
//! correction for those tensors, as if they were new to the optimizer.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use tch::{nn, Kind, Tensor};

use super::config::{invalid, OptimizerConfig, OptimizerKind};
use super::update_rules::{adam_update, rmsprop_update, sgd_update, Param};
use crate::error::{Error, Result};
use crate::models::LayerGroup;

/// A group's settings, as checkpoints store them and scripts read them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GroupState {
    /// Layer group name (`other` for keys no layer group covers, `all` for [`Optimizer::for_all`]).
    pub name: String,
    /// Base learning rate (the effective one is this × the schedule factor).
    pub lr: f64,
    /// Weight decay of the group's decayed tensors.
    pub weight_decay: f64,
    /// Whether the group is frozen.
    pub frozen: bool,
}

struct Group {
    state: GroupState,
    params: Vec<Param>,
}

/// SGD / Adam / AdamW over the trainable variables of a VarStore, grouped by layer group.
/// See the module documentation for the update rules.
pub struct Optimizer {
    config: OptimizerConfig,
    groups: Vec<Group>,
    lr_factor: f64,
}

impl std::fmt::Debug for Optimizer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Optimizer")
            .field("config", &self.config)
            .field("groups", &self.groups())
            .field("lr_factor", &self.lr_factor)
            .finish()
    }
}

impl Optimizer {
    /// An optimizer with one parameter group per layer group (in order) and a trailing group
    /// `other` for trainable keys no layer group covers (only when there are such keys). A key
    /// belongs to the first group that matches it. Only tensors that require grad now are
    /// optimised (BatchNorm running statistics are not).
    pub fn new(vs: &nn::VarStore, groups: &[LayerGroup], config: &OptimizerConfig) -> Result<Self> {
        config.validate()?;
        let mut vars: Vec<(String, Tensor)> =
            vs.variables().into_iter().filter(|(_, t)| t.requires_grad()).collect();
        vars.sort_by(|a, b| a.0.cmp(&b.0));
        let mut buckets: Vec<Vec<(String, Tensor)>> =
            (0..=groups.len()).map(|_| Vec::new()).collect();
        for (key, t) in vars {
            let slot = groups.iter().position(|g| g.matches(&key)).unwrap_or(groups.len());
            buckets[slot].push((key, t));
        }
        let mut seen = std::collections::BTreeSet::new();
        for g in groups {
            if !seen.insert(g.name.as_str()) {
                return Err(invalid(format!("layer group '{}' is listed twice", g.name)));
            }
        }
        let mut out = Optimizer { config: config.clone(), groups: Vec::new(), lr_factor: 1.0 };
        let uncovered = buckets.pop().unwrap_or_default();
        for (g, bucket) in groups.iter().zip(buckets) {
            out.push_group(g.name.clone(), bucket);
        }
        if !uncovered.is_empty() {
            if seen.contains("other") {
                return Err(invalid(
                    "a layer group is named 'other' but some trainable keys are in no group".into(),
                ));
            }
            out.push_group("other".to_string(), uncovered);
        }
        if out.groups.iter().all(|g| g.params.is_empty()) {
            return Err(invalid("the model has no trainable parameters".into()));
        }
        Ok(out)
    }

    /// An optimizer with a single group, `all`, over every trainable variable.
    pub fn for_all(vs: &nn::VarStore, config: &OptimizerConfig) -> Result<Self> {
        Self::new(vs, &[LayerGroup::new("all", vec![String::new()])], config)
    }

    fn push_group(&mut self, name: String, bucket: Vec<(String, Tensor)>) {
        let decay_all = self.config.decay_norms_and_biases;
        let params = bucket
            .into_iter()
            .map(|(key, tensor)| Param {
                decay: decay_all || tensor.dim() > 1,
                key,
                tensor,
                buf1: None,
                buf2: None,
                buf3: None,
                steps: 0,
            })
            .collect();
        let state = GroupState {
            name,
            lr: self.config.lr,
            weight_decay: self.config.weight_decay,
            frozen: false,
        };
        self.groups.push(Group { state, params });
    }

    /// The configuration it was built with.
    pub fn config(&self) -> &OptimizerConfig {
        &self.config
    }

    /// Zero the gradients of every optimised tensor.
    pub fn zero_grad(&mut self) {
        for p in self.groups.iter_mut().flat_map(|g| g.params.iter_mut()) {
            p.tensor.zero_grad();
        }
    }

    /// `zero_grad`, backward through `loss`, `step`.
    pub fn backward_step(&mut self, loss: &Tensor) -> Result<()> {
        self.zero_grad();
        loss.f_backward()?;
        self.step()
    }

    /// `zero_grad`, backward, clip the gradient norm to `max_norm`, `step`; returns the norm
    /// before clipping.
    pub fn backward_step_clip(&mut self, loss: &Tensor, max_norm: f64) -> Result<f64> {
        self.zero_grad();
        loss.f_backward()?;
        let norm = self.clip_grad_norm(max_norm);
        self.step()?;
        Ok(norm)
    }

    /// Scale the gradients of unfrozen groups so their joint L2 norm is at most `max_norm`
    /// (PyTorch's `clip_grad_norm_`: factor `max_norm / (norm + 1e-6)` when below 1). Returns
    /// the norm before clipping (0 when no gradient is defined).
    pub fn clip_grad_norm(&mut self, max_norm: f64) -> f64 {
        let grads: Vec<Tensor> = self
            .groups
            .iter()
            .filter(|g| !g.state.frozen)
            .flat_map(|g| g.params.iter())
            .map(|p| p.tensor.grad())
            .filter(|g| g.defined())
            .collect();
        if grads.is_empty() {
            return 0.0;
        }
        tch::no_grad(|| {
            let norms: Vec<Tensor> = grads.iter().map(|g| g.norm().to_kind(Kind::Double)).collect();
            let total = Tensor::stack(&norms, 0).norm().double_value(&[]);
            let coef = max_norm / (total + 1e-6);
            if coef < 1.0 {
                for mut g in grads {
                    let _ = g.g_mul_scalar_(coef);
                }
            }
            total
        })
    }

    /// Apply one update to every tensor of every unfrozen group that has a gradient.
    pub fn step(&mut self) -> Result<()> {
        let config = self.config.clone();
        let factor = self.lr_factor;
        tch::no_grad(|| {
            for group in self.groups.iter_mut().filter(|g| !g.state.frozen) {
                let lr = group.state.lr * factor;
                let wd = group.state.weight_decay;
                for p in &mut group.params {
                    let grad = p.tensor.grad();
                    if !grad.defined() {
                        continue;
                    }
                    let wd = if p.decay { wd } else { 0.0 };
                    match config.kind {
                        OptimizerKind::Sgd => sgd_update(p, grad, lr, wd, &config),
                        OptimizerKind::Adam | OptimizerKind::AdamW => {
                            adam_update(p, grad, lr, wd, &config)
                        }
                        OptimizerKind::RmsProp => rmsprop_update(p, grad, lr, wd, &config),
                    }
                }
            }
        });
        Ok(())
    }

    /// Group names, in order.
    pub fn group_names(&self) -> Vec<String> {
        self.groups.iter().map(|g| g.state.name.clone()).collect()
    }

    fn group(&self, name: &str) -> Result<&Group> {
        self.groups.iter().find(|g| g.state.name == name).ok_or_else(|| self.unknown(name))
    }

    fn group_mut(&mut self, name: &str) -> Result<&mut Group> {
        let err = self.unknown(name);
        self.groups.iter_mut().find(|g| g.state.name == name).ok_or(err)
    }

    fn unknown(&self, name: &str) -> Error {
        Error::Invalid(format!(
            "unknown parameter group '{name}'; the groups are: {}",
            self.group_names().join(", ")
        ))
    }

    /// Base learning rate of `group`.
    pub fn lr(&self, group: &str) -> Result<f64> {
        Ok(self.group(group)?.state.lr)
    }

    /// Set the base learning rate of `group`.
    pub fn set_lr(&mut self, group: &str, lr: f64) -> Result<()> {
        check_rate("learning rate", lr)?;
        self.group_mut(group)?.state.lr = lr;
        Ok(())
    }

    /// Set the base learning rate of every group.
    pub fn set_lr_all(&mut self, lr: f64) {
        for g in &mut self.groups {
            g.state.lr = lr;
        }
    }

    /// Set the schedule's multiplier on every group's base learning rate.
    pub fn set_lr_factor(&mut self, factor: f64) {
        self.lr_factor = factor;
    }

    /// The schedule's current multiplier.
    pub fn lr_factor(&self) -> f64 {
        self.lr_factor
    }

    /// Weight decay of `group`.
    pub fn weight_decay(&self, group: &str) -> Result<f64> {
        Ok(self.group(group)?.state.weight_decay)
    }

    /// Set the weight decay of `group`.
    pub fn set_weight_decay(&mut self, group: &str, weight_decay: f64) -> Result<()> {
        check_rate("weight decay", weight_decay)?;
        self.group_mut(group)?.state.weight_decay = weight_decay;
        Ok(())
    }

    /// Freeze `group`: its tensors stop requiring grad and are left untouched by `step`.
    pub fn freeze(&mut self, group: &str) -> Result<()> {
        let g = self.group_mut(group)?;
        g.state.frozen = true;
        for p in &mut g.params {
            let _ = p.tensor.set_requires_grad(false);
        }
        Ok(())
    }

    /// Unfreeze `group`; with `reset_state` its moments and step counts start afresh.
    pub fn unfreeze(&mut self, group: &str, reset_state: bool) -> Result<()> {
        let g = self.group_mut(group)?;
        g.state.frozen = false;
        for p in &mut g.params {
            let _ = p.tensor.set_requires_grad(true);
            if reset_state {
                p.buf1 = None;
                p.buf2 = None;
                p.buf3 = None;
                p.steps = 0;
            }
        }
        Ok(())
    }

    /// Whether `group` is frozen.
    pub fn is_frozen(&self, group: &str) -> Result<bool> {
        Ok(self.group(group)?.state.frozen)
    }

    /// VarStore keys of the tensors in `group`.
    pub fn group_keys(&self, group: &str) -> Result<Vec<String>> {
        Ok(self.group(group)?.params.iter().map(|p| p.key.clone()).collect())
    }

    /// Every group's settings, in order.
    pub fn groups(&self) -> Vec<GroupState> {
        self.groups.iter().map(|g| g.state.clone()).collect()
    }

    /// The state as named tensors: `optimizer/<key>/<buffer>` for the buffers that exist
    /// (PyTorch's names: `momentum_buffer` for SGD, `exp_avg` and `exp_avg_sq` for Adam,
    /// `square_avg`, `grad_avg` and `momentum_buffer` for RMSprop) and
    /// `optimizer/<key>/step` (int64 scalar) for tensors updated at least once.
    pub fn state_tensors(&self) -> Vec<(String, Tensor)> {
        let names = self.buffer_names();
        let mut out = Vec::new();
        for p in self.groups.iter().flat_map(|g| g.params.iter()) {
            for (name, buf) in names.iter().zip([&p.buf1, &p.buf2, &p.buf3]) {
                if let Some(b) = buf {
                    out.push((format!("{STATE_PREFIX}{}/{name}", p.key), b.shallow_clone()));
                }
            }
            if p.steps > 0 {
                out.push((format!("{STATE_PREFIX}{}/step", p.key), Tensor::from(p.steps as i64)));
            }
        }
        out
    }

    /// The checkpoint names of `buf1`, `buf2`, `buf3` (`-`: not used by this rule).
    fn buffer_names(&self) -> [&'static str; 3] {
        match self.config.kind {
            OptimizerKind::Sgd => ["momentum_buffer", "-", "-"],
            OptimizerKind::Adam | OptimizerKind::AdamW => ["exp_avg", "exp_avg_sq", "-"],
            OptimizerKind::RmsProp => ["square_avg", "grad_avg", "momentum_buffer"],
        }
    }

    /// Restore group settings and state saved by [`groups`](Self::groups) and
    /// [`state_tensors`](Self::state_tensors). Group names must match; every state tensor must
    /// belong to a parameter of this optimizer with the right shape. Nothing changes unless
    /// the whole check passes.
    pub fn load_state(
        &mut self,
        groups: &[GroupState],
        tensors: &BTreeMap<String, Tensor>,
    ) -> Result<()> {
        let saved: Vec<&str> = groups.iter().map(|g| g.name.as_str()).collect();
        let ours = self.group_names();
        if saved != ours.iter().map(String::as_str).collect::<Vec<_>>() {
            return Err(Error::Invalid(format!(
                "optimizer state has groups [{}] but this optimizer has [{}]",
                saved.join(", "),
                ours.join(", ")
            )));
        }
        let names = self.buffer_names();
        let mut shapes: BTreeMap<&str, Vec<i64>> = BTreeMap::new();
        for p in self.groups.iter().flat_map(|g| g.params.iter()) {
            shapes.insert(p.key.as_str(), p.tensor.size());
        }
        for (name, t) in tensors.iter().filter(|(k, _)| k.starts_with(STATE_PREFIX)) {
            let rest = &name[STATE_PREFIX.len()..];
            let (key, buffer) = rest
                .rsplit_once('/')
                .ok_or_else(|| Error::Invalid(format!("optimizer state: bad entry '{name}'")))?;
            let shape = shapes.get(key).ok_or_else(|| {
                Error::Invalid(format!("optimizer state: '{name}' names no optimised parameter"))
            })?;
            let ok = if buffer == "step" {
                t.numel() == 1
            } else if buffer != "-" && names.contains(&buffer) {
                &t.size() == shape
            } else {
                return Err(Error::Invalid(format!("optimizer state: unknown buffer in '{name}'")));
            };
            if !ok {
                return Err(Error::ShapeMismatch {
                    what: format!("optimizer state '{name}'"),
                    expected: if buffer == "step" { vec![] } else { shape.clone() },
                    got: t.size(),
                });
            }
        }
        for (group, state) in self.groups.iter_mut().zip(groups) {
            group.state = state.clone();
            for p in &mut group.params {
                let _ = p.tensor.set_requires_grad(!state.frozen);
                let get = |b: &str| {
                    tensors.get(&format!("{STATE_PREFIX}{}/{b}", p.key)).map(|t| {
                        t.to_device(p.tensor.device()).to_kind(p.tensor.kind()).contiguous()
                    })
                };
                p.buf1 = get(names[0]);
                p.buf2 = get(names[1]);
                p.buf3 = get(names[2]);
                p.steps = tensors
                    .get(&format!("{STATE_PREFIX}{}/step", p.key))
                    .map(|t| t.int64_value(&[]).max(0) as u64)
                    .unwrap_or(0);
            }
        }
        Ok(())
    }
}

/// Prefix of optimizer state tensors in a checkpoint.
pub const STATE_PREFIX: &str = "optimizer/";

fn check_rate(what: &str, v: f64) -> Result<()> {
    if v.is_finite() && v >= 0.0 {
        Ok(())
    } else {
        Err(Error::Invalid(format!("{what} must be a finite value ≥ 0, got {v}")))
    }
}
