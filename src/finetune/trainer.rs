//! The supervised fine-tuning loop: a strategy picks the trainable groups, Graft's optimizer
//! updates them, and schedule hooks ([`TrainHooks`], usually a Rhai script) may change
//! groups, learning rates and weight decay between steps.
//!
//! Per epoch: `on_epoch_start`; shuffled mini-batches (a trailing batch of a single example
//! joins the one before it: BatchNorm cannot train on one, see [`train_batch_lengths`]),
//! each one optimiser step (with `on_step` every `hooks.step_every()` steps); evaluation on
//! the held-out set, then `on_eval` with its metrics. The run's [`LoopControl`] takes those
//! decisions, counting optimisation steps as every fine-tuning cadence does: it evaluates at
//! each epoch's end and where a hook stops the run, and writes the training state
//! (`<run>/checkpoint.safetensors`, atomically, so a failure later never damages it) every
//! `checkpoint_every` steps, where a hook asks and at the end.
//!
//! **BatchNorm of frozen groups** runs in evaluation mode (running statistics used and left
//! untouched) while `frozen_bn_eval` holds — what a frozen feature extractor means in
//! practice (Kornblith et al. 2019, <https://arxiv.org/abs/1805.08974>). Set it to false to
//! let frozen groups keep adapting their statistics, as Keras' `trainable = False` on a
//! BatchNorm layer does not.
//!
//! **Unfreezing and optimizer moments.** With `reset_state_on_unfreeze = true` (the default,
//! fastai's behaviour when the trainable set changes) a group that is unfrozen starts with
//! fresh moments and a fresh Adam bias correction, as if new to the optimizer: moments from
//! before a freeze describe gradients of a network that has since moved. With `false` it
//! resumes its old moments — useful when a group is frozen only briefly.
//!
//! **Data-parallel** ([`Finetuner::with_process_group`], PyTorch DDP's scheme). Every rank
//! draws the same epoch permutation; of each mini-batch, rank `r` of `W` takes items
//! `r, r + W, …`, and its mean loss is weighted by `W · share / batch` so that the averaged
//! gradients are the gradient of the mean over the whole mini-batch even when the last one
//! does not split evenly (a rank with no item of it takes a zero-weighted step on the first
//! one, to join the all-reduce). The logged loss is the mean over the ranks, i.e. the
//! mini-batch's loss; before each evaluation rank 0's variables (BatchNorm statistics
//! included) are broadcast, so all ranks evaluate the same model and hooks decide alike.
//! Rank 0 alone logs and writes checkpoints.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use tch::{nn, Kind, Tensor};

use super::data::{Supervised, Task};
use super::lora::{Lora, LoraConfig, LORA_GROUP};
use super::strategy::Strategy;
use crate::distributed::data_parallel::backward_and_step;
use crate::distributed::{rank_share, DataParallel, ProcessGroup};
use crate::error::{Error, Result};
use crate::models::{BnEvalScope, Encoder, LayerGroup};
use crate::optim::{LrSchedule, Optimizer, OptimizerConfig};
use crate::report::MetricsLogger;
use crate::train::{
    save_train_state, step_seed, Cadence, Ended, LoopControl, TrainHooks, CHECKPOINT_FILE,
};

/// The sizes of an epoch's training mini-batches over `n` examples at `batch` per step: full
/// batches, then the remainder — except that a remainder of exactly one example is merged
/// into the batch before it (449 at 16: 27 of 16 and one of 17). BatchNorm in training mode
/// cannot normalise a single example: PyTorch's `F.batch_norm` raises for it, and libtorch,
/// which does not check, updates the running variance with an unbiased estimate of 0/0 = NaN
/// that then turns every evaluation into NaN. Merging (rather than dropping, as PyTorch's
/// `drop_last` would) keeps every example in every epoch. With `batch` 1 every batch holds
/// one example by request, and a single-example training set cannot be split either.
pub fn train_batch_lengths(n: usize, batch: usize) -> Vec<usize> {
    let batch = batch.max(1);
    let mut lengths = vec![batch; n / batch];
    let rest = n % batch;
    match lengths.last_mut() {
        Some(last) if rest == 1 && batch > 1 => *last += 1,
        _ if rest > 0 => lengths.push(rest),
        _ => {}
    }
    lengths
}

/// Fine-tuning hyperparameters (JSON and Rhai maps fill the same struct).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FinetuneConfig {
    /// Which groups train at the start (hooks may change it later).
    pub strategy: Strategy,
    /// Passes over the training set.
    pub epochs: u64,
    /// Examples per optimisation step. A last training batch of one example joins the batch
    /// before it (see [`train_batch_lengths`]); evaluation batches are not changed.
    pub batch_size: usize,
    /// Update rule and base learning rate / weight decay of every group.
    pub optimizer: OptimizerConfig,
    /// Multiplier on every group's base learning rate, per step.
    pub schedule: LrSchedule,
    /// Fraction of the data held out for evaluation (0 = no evaluation).
    pub val_fraction: f64,
    /// Seed of the split, the shuffling and any dropout.
    pub seed: u64,
    /// Run BatchNorm of frozen groups in evaluation mode (module docs).
    pub frozen_bn_eval: bool,
    /// Reset a group's optimizer moments when it is unfrozen (module docs).
    pub reset_state_on_unfreeze: bool,
    /// Clip the global gradient norm to this value.
    pub max_grad_norm: Option<f64>,
    /// Write the run's `checkpoint.safetensors` every this many optimisation steps, the unit
    /// of every fine-tuning cadence (0: only at the end of the run and when a hook asks).
    pub checkpoint_every: u64,
    /// LoRA adapters on transformer layers ([`super::lora`]); the strategy then applies to
    /// the model's own groups and the `lora` group always trains (feature extraction + LoRA
    /// is the usual recipe).
    pub lora: Option<LoraConfig>,
    /// Weight of the auxiliary classifier's loss, added to the main loss in training for
    /// networks that have one (Inception-v3's `AuxLogits`; 0.4 as in PyTorch's fine-tuning
    /// tutorial for it). Classification only; 0 turns it off.
    pub aux_loss_weight: f64,
}

impl Default for FinetuneConfig {
    fn default() -> Self {
        FinetuneConfig {
            strategy: Strategy::Full,
            epochs: 3,
            batch_size: 64,
            optimizer: OptimizerConfig::adam(1e-3),
            schedule: LrSchedule::Constant,
            val_fraction: 0.2,
            seed: 0,
            frozen_bn_eval: true,
            reset_state_on_unfreeze: true,
            max_grad_norm: None,
            checkpoint_every: 0,
            lora: None,
            aux_loss_weight: 0.4,
        }
    }
}

impl FinetuneConfig {
    /// Refuse sizes and fractions that cannot train.
    pub fn validate(&self) -> Result<()> {
        if self.batch_size == 0 {
            return Err(Error::Invalid("finetune: batch_size must be at least 1".into()));
        }
        if !(0.0..1.0).contains(&self.val_fraction) {
            return Err(Error::Invalid(format!(
                "finetune: val_fraction must be in [0, 1), got {}",
                self.val_fraction
            )));
        }
        if let Some(m) = self.max_grad_norm {
            if !(m > 0.0 && m.is_finite()) {
                return Err(Error::Invalid(format!(
                    "finetune: max_grad_norm must be positive, got {m}"
                )));
            }
        }
        if !(self.aux_loss_weight >= 0.0 && self.aux_loss_weight.is_finite()) {
            return Err(Error::Invalid(format!(
                "finetune: aux_loss_weight must be a finite number >= 0, got {}",
                self.aux_loss_weight
            )));
        }
        self.schedule.validate()?;
        self.optimizer.validate()
    }
}

/// What a finished (or stopped) run reports.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FitSummary {
    /// Optimisation steps done.
    pub steps: u64,
    /// Epochs started.
    pub epochs: u64,
    /// How the run ended: its epochs done, or stopped by a hook.
    pub ended: Ended,
    /// Latest value of every metric.
    pub metrics: BTreeMap<String, f64>,
    /// The last checkpoint written, if any.
    pub checkpoint: Option<PathBuf>,
}

/// A model under fine-tuning: its variables, its optimizer (one group per layer group) and
/// the configuration.
pub struct Finetuner<'a> {
    vs: &'a nn::VarStore,
    model: &'a dyn Encoder,
    groups: Vec<LayerGroup>,
    /// The optimizer; public so callers and tests can inspect groups and learning rates.
    pub optimizer: Optimizer,
    config: FinetuneConfig,
    step: u64,
    lora: Option<Lora>,
    dp: Option<DataParallel>,
}

impl<'a> Finetuner<'a> {
    /// Build the optimizer over `model`'s layer groups and apply the strategy.
    pub fn new(
        vs: &'a nn::VarStore,
        model: &'a dyn Encoder,
        config: FinetuneConfig,
    ) -> Result<Self> {
        config.validate()?;
        let mut groups = model.layer_groups();
        let lora = match &config.lora {
            Some(c) => Some(Lora::attach(vs, &groups, c)?),
            None => None,
        };
        let mut all = groups.clone();
        if let Some(l) = &lora {
            all.push(l.group());
        }
        let mut optimizer = Optimizer::new(vs, &all, &config.optimizer)?;
        let model_groups: Vec<String> = groups.iter().map(|g| g.name.clone()).collect();
        let trainable = config.strategy.trainable(&model_groups)?;
        for name in &model_groups {
            if !trainable.contains(name) {
                optimizer.freeze(name)?;
            }
        }
        if let Some(l) = &lora {
            groups.push(l.group());
        }
        Ok(Finetuner { vs, model, groups, optimizer, config, step: 0, lora, dp: None })
    }

    /// Train data-parallel over `pg` (see the module docs): broadcasts rank 0's variables
    /// now (LoRA adapters included). Every rank must call it with the same configuration.
    pub fn with_process_group(mut self, pg: ProcessGroup) -> Result<Self> {
        self.dp = Some(DataParallel::new(pg, self.vs)?);
        Ok(self)
    }

    /// Give the process group of [`Finetuner::with_process_group`] back.
    pub fn take_process_group(&mut self) -> Option<ProcessGroup> {
        self.dp.take().map(DataParallel::into_process_group)
    }

    /// Whether this process logs and writes checkpoints (rank 0, or not data-parallel).
    pub fn is_writer(&self) -> bool {
        self.dp.as_ref().is_none_or(DataParallel::is_master)
    }

    /// The configuration.
    pub fn config(&self) -> &FinetuneConfig {
        &self.config
    }

    /// Optimisation steps done so far.
    pub fn steps_done(&self) -> u64 {
        self.step
    }

    /// Key prefixes of every frozen group: their BatchNorm layers are held in eval mode.
    fn frozen_prefixes(&self) -> Vec<String> {
        if !self.config.frozen_bn_eval {
            return Vec::new();
        }
        let frozen: Vec<String> =
            self.optimizer.groups().into_iter().filter(|g| g.frozen).map(|g| g.name).collect();
        self.groups
            .iter()
            .filter(|g| frozen.contains(&g.name))
            .flat_map(|g| g.prefixes.iter().cloned())
            .collect()
    }

    fn loss(&self, task: Task, out: &Tensor, y: &Tensor) -> Result<Tensor> {
        Ok(match task {
            Task::Classification => {
                let classes = out.size().last().copied().unwrap_or(0);
                let max = y.max().int64_value(&[]);
                if max >= classes {
                    return Err(Error::Invalid(format!(
                        "class index {max} but the model outputs only {classes} logits; give \
                         the head as many outputs as there are classes"
                    )));
                }
                out.cross_entropy_for_logits(y)
            }
            Task::Regression => {
                let target = if y.dim() == 1 { y.unsqueeze(1) } else { y.shallow_clone() };
                if out.size() != target.size() {
                    return Err(Error::ShapeMismatch {
                        what: "regression output".into(),
                        expected: target.size(),
                        got: out.size(),
                    });
                }
                out.f_mse_loss(&target, tch::Reduction::Mean)?
            }
        })
    }

    /// One optimisation step on `(x, y)`; returns the loss.
    pub fn train_step(&mut self, task: Task, x: &Tensor, y: &Tensor) -> Result<f64> {
        self.weighted_step(task, x, y, 1.0)
    }

    /// [`Finetuner::train_step`] with this rank's mean loss scaled by `weight` before the
    /// gradients are averaged over the ranks; returns the mean of the weighted losses over
    /// the ranks (the mini-batch's loss).
    fn weighted_step(&mut self, task: Task, x: &Tensor, y: &Tensor, weight: f64) -> Result<f64> {
        let (rank, world) = self.dp.as_ref().map_or((0, 1), |d| (d.rank(), d.world_size()));
        tch::manual_seed(step_seed(self.config.seed, self.step * world as u64 + rank as u64));
        let (out, aux) = {
            let _bn = BnEvalScope::enter(self.frozen_prefixes());
            let _lora = self.lora.as_ref().map(Lora::scope);
            self.model.forward_aux(x, true)
        };
        let main = self.loss(task, &out, y)?;
        let loss = match aux {
            Some(aux) if task == Task::Classification && self.config.aux_loss_weight > 0.0 => {
                main + self.loss(task, &aux, y)? * self.config.aux_loss_weight
            }
            _ => main,
        };
        let loss = if weight == 1.0 { loss } else { loss * weight };
        let mut value = loss.double_value(&[]);
        if let Some(dp) = &self.dp {
            value = dp.mean_scalar(value)?;
        }
        if !value.is_finite() {
            return Err(Error::Diverged { step: self.step as usize, loss: value });
        }
        // With every group frozen (a schedule may do that for a while) nothing requires a
        // gradient: the step only counts.
        if loss.requires_grad() {
            let (clip, dp) = (self.config.max_grad_norm, self.dp.as_ref());
            backward_and_step(&mut self.optimizer, &loss, clip, dp)?;
        }
        self.step += 1;
        Ok(value)
    }

    /// Loss (and accuracy for classification) of the model in inference mode on `data`.
    pub fn evaluate(&self, data: &Supervised) -> Result<BTreeMap<String, f64>> {
        let mut out = BTreeMap::new();
        if data.is_empty() {
            return Ok(out);
        }
        let device = self.vs.device();
        let n = data.len() as i64;
        let (mut loss_sum, mut correct) = (0.0, 0i64);
        let _lora = self.lora.as_ref().map(Lora::scope);
        tch::no_grad(|| -> Result<()> {
            let mut start = 0;
            while start < n {
                let len = (self.config.batch_size as i64).min(n - start);
                let idx = Tensor::arange_start(start, start + len, (Kind::Int64, tch::Device::Cpu));
                let (x, y) = data.select(&idx, device);
                let logits = self.model.forward_t(&x, false);
                loss_sum += self.loss(data.task, &logits, &y)?.double_value(&[]) * len as f64;
                if data.task == Task::Classification {
                    correct +=
                        logits.argmax(-1, false).eq_tensor(&y).sum(Kind::Int64).int64_value(&[]);
                }
                start += len;
            }
            Ok(())
        })?;
        out.insert("val/loss".to_string(), loss_sum / n as f64);
        if data.task == Task::Classification {
            out.insert("val/accuracy".to_string(), correct as f64 / n as f64);
        }
        Ok(out)
    }

    /// The LoRA adapters, if configured (and not merged yet).
    pub fn lora(&self) -> Option<&Lora> {
        self.lora.as_ref()
    }

    /// Fold LoRA updates into the weights and drop the adapters (no-op without LoRA). The
    /// `lora` optimizer group stays but no longer touches the model.
    pub fn merge_lora(&mut self) -> Result<()> {
        match self.lora.take() {
            Some(l) => {
                self.groups.retain(|g| g.name != LORA_GROUP);
                l.merge(self.vs)
            }
            None => Ok(()),
        }
    }

    /// Save variables, optimizer state and progress to `path` (atomic); data-parallel,
    /// rank 0 writes (with the world size) and every rank returns once it is on disk.
    pub fn save(&self, path: &Path, epoch: u64) -> Result<()> {
        if let Some(dir) = path.parent().filter(|_| self.is_writer()) {
            std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        }
        let meta = serde_json::json!({ "step": self.step, "epoch": epoch });
        match &self.dp {
            Some(dp) => dp.save_train_state(path, self.vs, &self.optimizer, &meta),
            None => save_train_state(path, self.vs, &self.optimizer, &meta),
        }
    }

    /// Write the training state to `path` (when the run has a directory), with the epochs
    /// completed so far, and record it in `summary`.
    fn checkpoint(
        &self,
        path: Option<&Path>,
        steps_per_epoch: u64,
        summary: &mut FitSummary,
    ) -> Result<()> {
        if let Some(path) = path {
            self.save(path, self.step / steps_per_epoch.max(1))?;
            summary.checkpoint = Some(path.to_path_buf());
        }
        Ok(())
    }

    /// The evaluation at an epoch's end (or where a hook stops the run): the held-out
    /// metrics and the epoch's mean training loss so far, logged with every group's learning
    /// rate. Data-parallel, rank 0's variables are broadcast first (BatchNorm statistics
    /// included), so every rank evaluates the same model and hooks decide alike.
    fn end_of_epoch(
        &self,
        val: Option<&Supervised>,
        epoch_loss: f64,
        logger: &mut Option<&mut MetricsLogger>,
    ) -> Result<BTreeMap<String, f64>> {
        if let Some(dp) = &self.dp {
            dp.broadcast_variables()?;
        }
        let mut metrics = match val {
            Some(v) => self.evaluate(v)?,
            None => BTreeMap::new(),
        };
        metrics.insert("train/epoch_loss".into(), epoch_loss);
        if let Some(l) = logger.as_deref_mut() {
            for (k, v) in &metrics {
                l.log(self.step, k, *v)?;
            }
            for g in self.optimizer.groups() {
                l.log(self.step, &format!("lr/{}", g.name), g.lr * self.optimizer.lr_factor())?;
            }
            l.flush()?;
        }
        Ok(metrics)
    }

    /// Train on `train` for the configured epochs, evaluating on `val` after each, calling
    /// `hooks`, logging to `logger` and checkpointing into `out_dir/checkpoint.safetensors`.
    pub fn fit(
        &mut self,
        train: &Supervised,
        val: Option<&Supervised>,
        hooks: &mut dyn TrainHooks,
        mut logger: Option<&mut MetricsLogger>,
        out_dir: Option<&Path>,
    ) -> Result<FitSummary> {
        if train.is_empty() {
            return Err(Error::Invalid("finetune: the training set is empty".into()));
        }
        for (set, name) in std::iter::once((train, "the training set"))
            .chain(val.map(|v| (v, "the validation set")))
        {
            crate::models::check_input(self.model, &set.x.size()[1..], name)?;
        }
        if !self.is_writer() {
            logger = None;
        }
        let (rank, world) = self.dp.as_ref().map_or((0, 1), |d| (d.rank(), d.world_size()));
        let device = self.vs.device();
        let n = train.len() as i64;
        let lengths = train_batch_lengths(train.len(), self.config.batch_size);
        let steps_per_epoch = lengths.len() as u64;
        let total_steps = steps_per_epoch * self.config.epochs;
        // Optimisation steps are the unit; every epoch ends with an evaluation.
        let cadence = Cadence {
            eval_every: steps_per_epoch,
            checkpoint_every: self.config.checkpoint_every,
            stop_after: None,
            end: total_steps,
        };
        let mut control = LoopControl::new(cadence, hooks);
        let ckpt_path = out_dir.map(|d| d.join(CHECKPOINT_FILE));
        let mut latest: BTreeMap<String, f64> = BTreeMap::new();
        let mut summary = FitSummary {
            steps: 0,
            epochs: 0,
            ended: Ended::Budget,
            metrics: BTreeMap::new(),
            checkpoint: None,
        };
        'epochs: for epoch in 0..self.config.epochs {
            summary.epochs = epoch + 1;
            let tick = control.round_start(epoch, self.step, &mut self.optimizer, &latest)?;
            if tick.checkpoint() {
                self.checkpoint(ckpt_path.as_deref(), steps_per_epoch, &mut summary)?;
            }
            if let Some(ended) = tick.ended() {
                summary.ended = ended;
                break;
            }
            // The epoch's order depends only on (seed, epoch).
            tch::manual_seed(step_seed(self.config.seed ^ 0x5EED_0FE9_0C00, epoch));
            let perm = Vec::<i64>::try_from(&Tensor::randperm(n, (Kind::Int64, tch::Device::Cpu)))?;
            let (mut loss_sum, mut seen) = (0.0, 0usize);
            let mut start = 0;
            for &len in &lengths {
                let items = &perm[start..start + len];
                start += len;
                // This rank's share of the mini-batch; a rank with none of it takes a
                // zero-weighted step on its first item, to join the all-reduce.
                let share = rank_share(items, rank, world);
                let (idx, weight) = match share.len() {
                    0 => (vec![items[0]], 0.0),
                    k => (share, (world * k) as f64 / len as f64),
                };
                let (x, y) = train.select(&Tensor::from_slice(&idx), device);
                let factor = self.config.schedule.factor(self.step, total_steps);
                self.optimizer.set_lr_factor(factor);
                let loss = self.weighted_step(train.task, &x, &y, weight)?;
                loss_sum += loss * len as f64;
                seen += len;
                latest.insert("train/loss".into(), loss);
                if let Some(l) = logger.as_deref_mut() {
                    l.log(self.step, "train/loss", loss)?;
                }
                let mut tick =
                    control.after_update(self.step - 1, self.step, &mut self.optimizer, &latest)?;
                if tick.evaluate() {
                    let metrics = self.end_of_epoch(val, loss_sum / seen as f64, &mut logger)?;
                    latest.extend(metrics.iter().map(|(k, v)| (k.clone(), *v)));
                    control.evaluated(&mut tick, &metrics, &mut self.optimizer, &latest)?;
                }
                if tick.checkpoint() {
                    self.checkpoint(ckpt_path.as_deref(), steps_per_epoch, &mut summary)?;
                }
                if let Some(ended) = tick.ended() {
                    summary.ended = ended;
                    break 'epochs;
                }
            }
        }
        summary.steps = self.step;
        summary.metrics = latest;
        Ok(summary)
    }
}
