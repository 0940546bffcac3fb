//! [`DataParallel`]: PyTorch DDP's recipe for a Graft training loop, with c10d doing the
//! communication (Li et al., VLDB 2020, <https://arxiv.org/abs/2006.15704>).
//!
//! 1. **Same start.** [`DataParallel::new`] broadcasts every variable of the VarStore
//!    (parameters and buffers such as BatchNorm statistics) from rank 0, so replicas that
//!    were initialised with different seeds, or only one of which loaded a checkpoint, agree.
//! 2. **Same step.** [`DataParallel::sync_gradients`] averages the gradients across ranks
//!    before the optimizer steps. Like DDP, it flattens them into buckets of about 25 MB
//!    (one all-reduce per bucket instead of one per tensor; every bucket is in flight at
//!    once) and copies the averages back. With every rank's loss a mean over its own shard
//!    of equal size, the average of the gradients is the gradient of the mean over the
//!    combined batch, so each replica takes the step one process would on that batch.
//! 3. **One writer.** Logs and checkpoints are written by rank 0 only
//!    ([`DataParallel::metrics_logger`], [`DataParallel::save_train_state`]); the others
//!    wait at a barrier so nobody reads a checkpoint before it is complete.
//! 4. **Resume** loads the same checkpoint on every rank and refuses a different world size
//!    (the data shards, and so the run, would differ).
//!
//! The variables a gradient is exchanged for are those that require grad at the time of the
//! call, in key order; frozen groups therefore cost nothing, but every rank must freeze the
//! same ones at the same step (schedules driven by the step number do). A gradient that is
//! undefined on this rank (a parameter the loss did not reach) is sent as zeros and not
//! written back.

use std::path::Path;

use tch::{nn, Kind, Tensor};

use super::process_group::ProcessGroup;
use crate::error::{Error, Result};
use crate::optim::Optimizer;
use crate::report::MetricsLogger;
use crate::train::state::META_TRAIN_STATE;
use crate::train::{load_train_state, save_train_state};

/// PyTorch DDP's default bucket size (`bucket_cap_mb=25`).
pub const DEFAULT_BUCKET_BYTES: usize = 25 * 1024 * 1024;

/// Metadata key under which [`DataParallel::save_train_state`] records the world size.
pub const META_WORLD_SIZE: &str = "world_size";

/// Data-parallel training over a [`ProcessGroup`] for the variables of one VarStore.
#[derive(Debug)]
pub struct DataParallel {
    pg: ProcessGroup,
    /// Every variable, sorted by key: the order is the same on every rank.
    vars: Vec<(String, Tensor)>,
    bucket_bytes: usize,
}

impl DataParallel {
    /// Take over `pg` for the variables of `vs`, broadcasting them from rank 0 first.
    pub fn new(pg: ProcessGroup, vs: &nn::VarStore) -> Result<Self> {
        let mut vars: Vec<(String, Tensor)> = vs.variables().into_iter().collect();
        vars.sort_by(|a, b| a.0.cmp(&b.0));
        let dp = DataParallel { pg, vars, bucket_bytes: DEFAULT_BUCKET_BYTES };
        dp.broadcast_variables()?;
        Ok(dp)
    }

    /// Use buckets of about `bytes` (at least one tensor per bucket however large it is).
    pub fn with_bucket_bytes(mut self, bytes: usize) -> Self {
        self.bucket_bytes = bytes.max(1);
        self
    }

    /// The process group.
    pub fn process_group(&self) -> &ProcessGroup {
        &self.pg
    }

    /// This process's rank.
    pub fn rank(&self) -> usize {
        self.pg.rank()
    }

    /// Number of ranks.
    pub fn world_size(&self) -> usize {
        self.pg.world_size()
    }

    /// Whether this is rank 0, the one that logs and writes checkpoints.
    pub fn is_master(&self) -> bool {
        self.pg.rank() == 0
    }

    /// Overwrite every variable with rank 0's value (done once by [`DataParallel::new`];
    /// call again after loading weights on rank 0 only).
    pub fn broadcast_variables(&self) -> Result<()> {
        let tensors: Vec<Tensor> = self.vars.iter().map(|(_, t)| t.shallow_clone()).collect();
        for (key, t) in &self.vars {
            if !t.is_contiguous() {
                return Err(Error::Distributed(format!(
                    "variable '{key}' is not contiguous and cannot be broadcast in place"
                )));
            }
        }
        self.pg.broadcast(&tensors, 0)
    }

    /// Average the gradients of the trainable variables across ranks, in buckets.
    pub fn sync_gradients(&self) -> Result<()> {
        if self.world_size() == 1 {
            return Ok(());
        }
        let params: Vec<&Tensor> =
            self.vars.iter().map(|(_, t)| t).filter(|t| t.requires_grad()).collect();
        let buckets = plan_buckets(&params, self.bucket_bytes);
        tch::no_grad(|| {
            let flats: Vec<Tensor> = buckets.iter().map(|b| flatten_grads(&params, b)).collect();
            self.pg.all_reduce_mean(&flats)?;
            for (bucket, flat) in buckets.iter().zip(&flats) {
                copy_back_grads(&params, bucket, flat);
            }
            Ok(())
        })
    }

    /// Average the gradients, then let `optimizer` step: the data-parallel replacement for
    /// `optimizer.step()`.
    pub fn step(&self, optimizer: &mut Optimizer) -> Result<()> {
        self.sync_gradients()?;
        optimizer.step()
    }

    /// `zero_grad`, backward through this rank's `loss`, average the gradients, step.
    pub fn backward_step(&self, optimizer: &mut Optimizer, loss: &Tensor) -> Result<()> {
        optimizer.zero_grad();
        loss.f_backward()?;
        self.step(optimizer)
    }

    /// The mean of a scalar (e.g. this rank's loss) over all ranks, for logging.
    pub fn mean_scalar(&self, value: f64) -> Result<f64> {
        Ok(self.mean_values(&[value])?[0])
    }

    /// The element-wise mean of `values` over all ranks, in one all-reduce (every rank must
    /// pass as many values). Every rank gets the same result, so decisions taken on it (a
    /// hook stopping the run, a divergence check) agree across ranks.
    pub fn mean_values(&self, values: &[f64]) -> Result<Vec<f64>> {
        if values.is_empty() || self.world_size() == 1 {
            return Ok(values.to_vec());
        }
        // On the parameters' device: NCCL reduces CUDA tensors only.
        let device = self.vars.first().map_or(tch::Device::Cpu, |(_, t)| t.device());
        let t = Tensor::from_slice(values).to_kind(Kind::Double).to_device(device);
        self.pg.all_reduce_mean(std::slice::from_ref(&t))?;
        Ok(Vec::<f64>::try_from(t.to_device(tch::Device::Cpu))?)
    }

    /// Give the process group back (to reuse it for another model).
    pub fn into_process_group(self) -> ProcessGroup {
        self.pg
    }

    /// A metrics logger in `dir` on rank 0 (`resumed_at`: the step of the checkpoint a run
    /// resumed from, see [`MetricsLogger::resume`]); `None` on the other ranks, which log
    /// nothing.
    pub fn metrics_logger(
        &self,
        dir: &Path,
        resumed_at: Option<u64>,
    ) -> Result<Option<MetricsLogger>> {
        match (self.is_master(), resumed_at) {
            (false, _) => Ok(None),
            (true, None) => MetricsLogger::create(dir).map(Some),
            (true, Some(step)) => MetricsLogger::resume(dir, step).map(Some),
        }
    }

    /// Rank 0 writes a training-state checkpoint (with the world size added to `meta`);
    /// every rank returns once it is complete on disk.
    pub fn save_train_state(
        &self,
        path: &Path,
        vs: &nn::VarStore,
        optimizer: &Optimizer,
        meta: &serde_json::Value,
    ) -> Result<()> {
        if self.is_master() {
            let mut meta = meta.clone();
            match meta.as_object_mut() {
                Some(map) => {
                    map.insert(META_WORLD_SIZE.into(), self.world_size().into());
                }
                None => {
                    return Err(Error::Invalid(
                        "checkpoint metadata must be a JSON object to record the world size".into(),
                    ))
                }
            }
            save_train_state(path, vs, optimizer, &meta)?;
        }
        self.pg.barrier()
    }

    /// Every rank loads the checkpoint written by [`DataParallel::save_train_state`]; fails
    /// when it was written by a job of another world size.
    pub fn load_train_state(
        &self,
        path: &Path,
        vs: &mut nn::VarStore,
        optimizer: &mut Optimizer,
    ) -> Result<serde_json::Value> {
        check_world_size(path, self.world_size())?;
        load_train_state(path, vs, optimizer)
    }
}

/// Fail, before anything is loaded, unless the training-state checkpoint at `path` was
/// written by a job of `world_size` processes (a checkpoint without a record counts as
/// written by one process).
pub fn check_world_size(path: &Path, world_size: usize) -> Result<()> {
    let saved = saved_world_size(path)?;
    if saved == world_size {
        return Ok(());
    }
    Err(Error::Checkpoint {
        path: path.to_path_buf(),
        problem: format!(
            "written by a job of {saved} process(es), resumed with {world_size}; resume with \
             the same number of processes (the data shards depend on it)"
        ),
    })
}

/// The world size recorded in a training-state checkpoint, read from the safetensors header
/// alone (8-byte little-endian length, then JSON) so the tensors are not read twice.
fn saved_world_size(path: &Path) -> Result<usize> {
    use std::io::Read;
    let problem = |p: String| Error::Checkpoint { path: path.to_path_buf(), problem: p };
    let mut file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    let mut len = [0u8; 8];
    file.read_exact(&mut len).map_err(|e| Error::io(path, e))?;
    let len = u64::from_le_bytes(len);
    if len > 100 << 20 {
        return Err(problem(format!("safetensors header of {len} bytes is implausible")));
    }
    let mut header = vec![0u8; len as usize];
    file.read_exact(&mut header).map_err(|e| Error::io(path, e))?;
    let header: serde_json::Value = serde_json::from_slice(&header)
        .map_err(|e| problem(format!("safetensors header is not JSON: {e}")))?;
    let state = header
        .get("__metadata__")
        .and_then(|m| m.get(META_TRAIN_STATE))
        .and_then(|s| s.as_str())
        .ok_or_else(|| problem("not a training-state checkpoint".into()))?;
    let state: serde_json::Value = serde_json::from_str(state)
        .map_err(|e| problem(format!("training state metadata is malformed: {e}")))?;
    Ok(state.get("meta").and_then(|m| m.get(META_WORLD_SIZE)).and_then(|w| w.as_u64()).unwrap_or(1)
        as usize)
}

/// The gradients of `params[bucket]` as one flat tensor, zeros standing in for undefined ones.
fn flatten_grads(params: &[&Tensor], bucket: &[usize]) -> Tensor {
    let parts: Vec<Tensor> = bucket
        .iter()
        .map(|&i| {
            let g = params[i].grad();
            if g.defined() {
                g.reshape([-1])
            } else {
                Tensor::zeros([params[i].numel() as i64], (params[i].kind(), params[i].device()))
            }
        })
        .collect();
    Tensor::cat(&parts, 0)
}

/// Copy the slices of `flat` back into the (defined) gradients of `params[bucket]`.
fn copy_back_grads(params: &[&Tensor], bucket: &[usize], flat: &Tensor) {
    let mut offset = 0i64;
    for &i in bucket {
        let n = params[i].numel() as i64;
        let mut g = params[i].grad();
        if g.defined() {
            g.copy_(&flat.narrow(0, offset, n).view_as(&g));
        }
        offset += n;
    }
}

/// Group consecutive tensors of the same kind and device into buckets of at most `cap`
/// bytes (a tensor larger than `cap` gets a bucket of its own).
fn plan_buckets(params: &[&Tensor], cap: usize) -> Vec<Vec<usize>> {
    let mut buckets: Vec<Vec<usize>> = Vec::new();
    let mut bytes = 0usize;
    for (i, t) in params.iter().enumerate() {
        let size = t.numel() * t.kind().elt_size_in_bytes();
        let same_type = buckets
            .last()
            .and_then(|b| b.last())
            .is_some_and(|&j| params[j].kind() == t.kind() && params[j].device() == t.device());
        match buckets.last_mut() {
            Some(b) if same_type && bytes + size <= cap => {
                b.push(i);
                bytes += size;
            }
            _ => {
                buckets.push(vec![i]);
                bytes = size;
            }
        }
    }
    buckets
}

/// One optimisation step on `loss`, the same in every data-parallel loop: gradients, their
/// average over `dp`'s ranks when given, the global norm clipped to `max_grad_norm` when
/// given (after the average, as DDP with `clip_grad_norm_` does), the update.
pub fn backward_and_step(
    optimizer: &mut Optimizer,
    loss: &Tensor,
    max_grad_norm: Option<f64>,
    dp: Option<&DataParallel>,
) -> Result<()> {
    optimizer.zero_grad();
    loss.f_backward()?;
    if let Some(dp) = dp {
        dp.sync_gradients()?;
    }
    if let Some(m) = max_grad_norm {
        optimizer.clip_grad_norm(m);
    }
    optimizer.step()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_respect_the_cap_and_the_kind() {
        let a = Tensor::zeros([10], (Kind::Float, tch::Device::Cpu)); // 40 bytes
        let b = Tensor::zeros([10], (Kind::Float, tch::Device::Cpu));
        let c = Tensor::zeros([10], (Kind::Double, tch::Device::Cpu)); // 80 bytes
        let d = Tensor::zeros([100], (Kind::Double, tch::Device::Cpu)); // 800 bytes
        let params = [&a, &b, &c, &d];
        assert_eq!(plan_buckets(&params, 100), vec![vec![0, 1], vec![2], vec![3]]);
        assert_eq!(plan_buckets(&params, 1000), vec![vec![0, 1], vec![2, 3]]);
        assert_eq!(plan_buckets(&params, 40), vec![vec![0], vec![1], vec![2], vec![3]]);
    }
}
