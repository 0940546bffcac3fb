//! `graft dist check`: a small, complete data-parallel training run — a conv net on a
//! synthetic classification task, data sharded per rank, gradients averaged through c10d,
//! rank 0 reporting throughput and writing the result. It proves a multi-process setup
//! trains, measures how throughput scales with processes, and is what the tests compare
//! against a single process stepping the combined batch.
//!
//! Run without the torchrun variables (no `WORLD_SIZE`), it is the single-process baseline.

use std::path::PathBuf;
use std::time::Instant;

use tch::nn::{self, Module};
use tch::{Device, Kind, Tensor};

use super::data_parallel::{check_world_size, DataParallel, DEFAULT_BUCKET_BYTES, META_WORLD_SIZE};
use super::env::DistEnv;
use super::process_group::{Backend, ProcessGroup};
use super::sampler::{shard_indices, Remainder};
use crate::error::{Error, Result};
use crate::models::checkpoint::save_tensors;
use crate::models::CheckpointMeta;
use crate::optim::{Optimizer, OptimizerConfig};
use crate::report::{MetricsLogger, RunDirMode};

/// Side of the synthetic images (one channel).
const SIDE: i64 = 8;
/// Number of classes of the synthetic task.
const CLASSES: i64 = 10;

/// What `graft dist check` runs.
#[derive(Debug, Clone)]
pub struct CheckConfig {
    /// Optimisation steps (in total, counting those before a resume).
    pub steps: u64,
    /// Samples per step on each rank.
    pub batch: usize,
    /// Samples in the synthetic dataset (one epoch).
    pub dataset: usize,
    /// Optimizer (Graft's, so SGD/Adam/AdamW equal PyTorch's).
    pub optimizer: OptimizerConfig,
    /// Seed of the data, the shuffle and rank 0's initial weights.
    pub seed: u64,
    /// Process-group backend.
    pub backend: Backend,
    /// Train in float64 (for comparisons far below float32's rounding).
    pub double: bool,
    /// Gradient bucket size in bytes (PyTorch DDP's 25 MB by default).
    pub bucket_bytes: usize,
    /// Rank 0 writes the final variables here (safetensors).
    pub out: Option<PathBuf>,
    /// Rank 0 logs loss and throughput here (`metrics.csv` + a TensorBoard event file).
    pub log_dir: Option<PathBuf>,
    /// Rank 0 writes a training-state checkpoint here at the end.
    pub checkpoint: Option<PathBuf>,
    /// Every rank resumes from this training-state checkpoint.
    pub resume: Option<PathBuf>,
    /// Fault injection: this rank exits abruptly (status 3) at `fail_step`, as a lost node
    /// would, so the others' failure handling can be checked.
    pub fail_rank: Option<usize>,
    /// The step at which `fail_rank` exits.
    pub fail_step: u64,
}

impl Default for CheckConfig {
    fn default() -> Self {
        CheckConfig {
            steps: 20,
            batch: 32,
            dataset: 1024,
            optimizer: OptimizerConfig::sgd(0.05, 0.9),
            seed: 0,
            backend: Backend::Gloo,
            double: false,
            bucket_bytes: DEFAULT_BUCKET_BYTES,
            out: None,
            log_dir: None,
            checkpoint: None,
            resume: None,
            fail_rank: None,
            fail_step: 0,
        }
    }
}

/// What a check run measured (on rank 0; other ranks return their own view).
#[derive(Debug, Clone)]
pub struct CheckReport {
    pub world_size: usize,
    pub rank: usize,
    /// Steps run by this invocation.
    pub steps_run: u64,
    /// Mean loss over ranks at the first and the last step run.
    pub first_loss: f64,
    pub last_loss: f64,
    /// Samples per second over all ranks, from the second step run on.
    pub samples_per_sec: f64,
}

impl std::fmt::Display for CheckReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "dist check: {} process(es), {} steps, loss {:.4} -> {:.4}, {:.1} samples/s",
            self.world_size, self.steps_run, self.first_loss, self.last_loss, self.samples_per_sec
        )
    }
}

/// The check's model: two convolutions and a linear classifier.
fn model(p: &nn::Path) -> impl Module {
    let conv = |stride| nn::ConvConfig { stride, padding: 1, ..Default::default() };
    nn::seq()
        .add(nn::conv2d(p / "conv1", 1, 8, 3, conv(1)))
        .add_fn(|x| x.relu())
        .add(nn::conv2d(p / "conv2", 8, 8, 3, conv(2)))
        .add_fn(|x| x.relu())
        .add_fn(|x| x.flatten(1, -1))
        .add(nn::linear(p / "head", 8 * (SIDE / 2) * (SIDE / 2), CLASSES, Default::default()))
}

/// Run the check as this process's rank (world size 1 when `env` is `None`).
pub fn run_check(cfg: &CheckConfig, env: Option<&DistEnv>) -> Result<CheckReport> {
    if cfg.batch == 0 || cfg.dataset == 0 || cfg.steps == 0 {
        return Err(Error::Invalid("dist check: steps, batch and dataset must be positive".into()));
    }
    let (rank, world) = env.map_or((0, 1), |e| (e.rank, e.world_size));
    if let (Some(dir), 0) = (&cfg.log_dir, rank) {
        // Logs of an earlier check are continued only by a resumed one.
        let mode = if cfg.resume.is_some() { RunDirMode::Resume } else { RunDirMode::Fresh };
        crate::report::run_dir::check(dir, mode)?;
    }
    if cfg.dataset < cfg.batch * world {
        return Err(Error::Invalid(format!(
            "dist check: a dataset of {} samples cannot feed {world} process(es) with {} each",
            cfg.dataset, cfg.batch
        )));
    }
    let device = match cfg.backend {
        Backend::Gloo => Device::Cpu,
        Backend::Nccl => Device::Cuda(env.map_or(0, |e| e.local_rank)),
    };
    let kind = if cfg.double { Kind::Double } else { Kind::Float };
    // The dataset is the same on every rank: inputs and a fixed random "teacher" that labels
    // them, drawn from the seed alone.
    tch::manual_seed(cfg.seed as i64);
    let n = cfg.dataset as i64;
    let x_all = Tensor::randn([n, 1, SIDE, SIDE], (kind, Device::Cpu));
    let teacher = Tensor::randn([SIDE * SIDE, CLASSES], (kind, Device::Cpu));
    let y_all = x_all.flatten(1, -1).matmul(&teacher).argmax(1, false);
    // Rendezvous before building the model, so a missing backend or device is reported as
    // such rather than as a failed tensor allocation.
    let pg = match env {
        Some(e) => Some(ProcessGroup::new(cfg.backend, e)?),
        None => None,
    };
    if device.is_cuda() && !tch::Cuda::is_available() {
        return Err(Error::Distributed(format!(
            "--backend {} trains on CUDA, which is not available here",
            cfg.backend
        )));
    }
    // Ranks start from different weights on purpose: the broadcast must make them equal.
    tch::manual_seed(cfg.seed as i64 + 1 + rank as i64);
    // Initialised on the CPU and then moved, so the weights are the same whichever device
    // (and so backend) trains them.
    let mut vs = nn::VarStore::new(Device::Cpu);
    let net = model(&vs.root());
    if cfg.double {
        vs.double();
    }
    vs.set_device(device);
    let mut opt = Optimizer::for_all(&vs, &cfg.optimizer)?;
    let dp = match pg {
        Some(pg) => Some(DataParallel::new(pg, &vs)?.with_bucket_bytes(cfg.bucket_bytes)),
        None => None,
    };
    let mut start_step = 0u64;
    if let Some(path) = &cfg.resume {
        let meta = match &dp {
            Some(dp) => dp.load_train_state(path, &mut vs, &mut opt)?,
            None => {
                check_world_size(path, 1)?;
                crate::train::load_train_state(path, &mut vs, &mut opt)?
            }
        };
        start_step = meta.get("step").and_then(|s| s.as_u64()).unwrap_or(0);
    }
    let steps_per_epoch = (cfg.dataset / world / cfg.batch).max(1) as u64;
    let mut first_loss = f64::NAN;
    let mut last_loss = f64::NAN;
    let mut timer: Option<(Instant, u64)> = None;
    let (mut shard, mut shard_epoch): (Vec<usize>, Option<u64>) = (Vec::new(), None);
    for step in start_step..cfg.steps {
        if cfg.fail_rank == Some(rank) && step == cfg.fail_step {
            tracing::info!(rank, step, "rank {rank}: exiting at step {step} (--fail-rank)");
            std::process::exit(3);
        }
        if timer.is_none() && step > start_step {
            timer = Some((Instant::now(), step));
        }
        let epoch = step / steps_per_epoch;
        if shard_epoch != Some(epoch) {
            shard = shard_indices(cfg.dataset, rank, world, epoch, cfg.seed, true, Remainder::Drop);
            shard_epoch = Some(epoch);
        }
        let at = ((step % steps_per_epoch) as usize) * cfg.batch;
        let idx: Vec<i64> = shard[at..at + cfg.batch].iter().map(|&i| i as i64).collect();
        let idx = Tensor::from_slice(&idx);
        let x = x_all.index_select(0, &idx).to_device(device);
        let y = y_all.index_select(0, &idx).to_device(device);
        let loss = net.forward(&x).cross_entropy_for_logits(&y);
        match &dp {
            Some(dp) => dp.backward_step(&mut opt, &loss)?,
            None => opt.backward_step(&loss)?,
        }
        // The loss is read (a sync) and averaged over ranks (a collective) only where it is
        // reported, so the timed steps are pure training steps.
        if step == start_step || step + 1 == cfg.steps {
            let value = loss.double_value(&[]);
            if !value.is_finite() {
                return Err(Error::Diverged { step: step as usize, loss: value });
            }
            let mean = match &dp {
                Some(dp) => dp.mean_scalar(value)?,
                None => value,
            };
            if step == start_step {
                first_loss = mean;
            }
            last_loss = mean;
        }
    }
    let samples_per_sec = match timer {
        Some((t0, from)) => {
            let secs = t0.elapsed().as_secs_f64();
            ((cfg.steps - from) as usize * cfg.batch * world) as f64 / secs.max(1e-9)
        }
        None => f64::NAN,
    };
    if let Some(dir) = &cfg.log_dir {
        let resumed_at = cfg.resume.is_some().then_some(start_step);
        let logger = match (&dp, resumed_at) {
            (Some(dp), _) => dp.metrics_logger(dir, resumed_at)?,
            (None, Some(step)) => Some(MetricsLogger::resume(dir, step)?),
            (None, None) => Some(MetricsLogger::create(dir)?),
        };
        if let Some(mut log) = logger {
            log.log(start_step, "loss", first_loss)?;
            log.log_all(
                cfg.steps - 1,
                &[("loss", last_loss), ("samples_per_sec", samples_per_sec)],
            )?;
            log.flush()?;
        }
    }
    let meta = serde_json::json!({ "step": cfg.steps, "seed": cfg.seed, META_WORLD_SIZE: world });
    if let Some(path) = &cfg.checkpoint {
        match &dp {
            Some(dp) => dp.save_train_state(path, &vs, &opt, &meta)?,
            None => crate::train::save_train_state(path, &vs, &opt, &meta)?,
        }
    }
    if let Some(path) = &cfg.out {
        if rank == 0 {
            let mut vars: Vec<(String, Tensor)> = vs.variables().into_iter().collect();
            vars.sort_by(|a, b| a.0.cmp(&b.0));
            save_tensors(path, &vars, &CheckpointMeta::new(None, Some(cfg.steps)))?;
        }
        if let Some(dp) = &dp {
            dp.process_group().barrier()?;
        }
    }
    Ok(CheckReport {
        world_size: world,
        rank,
        steps_run: cfg.steps.saturating_sub(start_step),
        first_loss,
        last_loss,
        samples_per_sec,
    })
}
