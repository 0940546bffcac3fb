//! `graft launch` and `graft dist`: multi-process data-parallel training on one machine or
//! many (see `graft::distributed`).
//!
//! `launch --nproc N -- ARGS…` runs `graft ARGS…` as N local workers with the torchrun
//! variables set (torchrun itself, or any launcher that sets them, works too, also across
//! machines). `dist check` is a small data-parallel training run: it trains under a launcher
//! and prints the loss and throughput; alone, it is the single-process baseline.

use std::ffi::OsString;
use std::path::PathBuf;

use clap::{Args, Subcommand};
use graft::distributed::{self, Backend, CheckConfig, DistEnv, LaunchOptions};
use graft::optim::{OptimizerConfig, OptimizerKind};
use graft::{Error, Result};

use crate::cli::values::{at_least, one_of, positive};

#[derive(Args)]
pub struct LaunchArgs {
    /// Number of worker processes (at least 1).
    #[arg(long, value_parser = at_least::<usize>(1))]
    pub nproc: usize,
    /// TCPStore port on 127.0.0.1 (default: a free one).
    #[arg(long)]
    pub master_port: Option<u16>,
    /// The worker's graft arguments, after `--` (global options such as --threads go here).
    #[arg(last = true, required = true)]
    pub args: Vec<OsString>,
}

#[derive(Subcommand)]
pub enum DistCommand {
    /// Train a small conv net data-parallel for a few steps; print loss and samples/s.
    Check(CheckArgs),
}

#[derive(Args)]
pub struct CheckArgs {
    /// Process-group backend: gloo (trains on the CPU) or nccl (on cuda:LOCAL_RANK).
    #[arg(long, default_value = "gloo", ignore_case = true)]
    backend: Backend,
    /// Optimisation steps in total (at least 1).
    #[arg(long, default_value_t = 20, value_parser = at_least::<u64>(1))]
    steps: u64,
    /// Samples per step on each process (at least 1).
    #[arg(long, default_value_t = 32, value_parser = at_least::<usize>(1))]
    batch: usize,
    /// Samples in the synthetic dataset (at least 1).
    #[arg(long, default_value_t = 1024, value_parser = at_least::<usize>(1))]
    dataset: usize,
    /// Optimizer: sgd (momentum 0.9), adam or adamw (weight decay 0.01).
    #[arg(long, default_value = "sgd",
          value_parser = one_of(&[OptimizerKind::Sgd, OptimizerKind::Adam, OptimizerKind::AdamW]))]
    optimizer: OptimizerKind,
    /// Learning rate (a finite number above 0).
    #[arg(long, default_value_t = 0.05, value_parser = positive)]
    lr: f64,
    /// Train in float64.
    #[arg(long)]
    double: bool,
    /// Gradient bucket size in KiB (default: PyTorch DDP's 25 MiB; at least 1).
    #[arg(long, default_value_t = 25 * 1024, value_parser = at_least::<usize>(1))]
    bucket_kb: usize,
    /// Rank 0 writes the final variables to this safetensors file.
    #[arg(long)]
    out: Option<PathBuf>,
    /// Rank 0 logs loss and samples/s to this directory (metrics.csv, TensorBoard events).
    #[arg(long)]
    log_dir: Option<PathBuf>,
    /// Rank 0 writes a training-state checkpoint here at the end.
    #[arg(long)]
    checkpoint: Option<PathBuf>,
    /// Resume from a training-state checkpoint written with the same number of processes.
    #[arg(long)]
    resume: Option<PathBuf>,
    /// Fault injection: this rank exits abruptly at --fail-step, as a lost node would.
    #[arg(long)]
    fail_rank: Option<usize>,
    /// Step at which --fail-rank exits.
    #[arg(long, default_value_t = 0)]
    fail_step: u64,
}

pub fn launch(args: LaunchArgs) -> Result<()> {
    let mut opts = LaunchOptions::new(args.nproc, args.args);
    opts.master_port = args.master_port;
    distributed::launch_with(&opts)
}

pub fn run(cmd: DistCommand, seed: u64) -> Result<()> {
    match cmd {
        DistCommand::Check(args) => check(args, seed),
    }
}

fn check(args: CheckArgs, seed: u64) -> Result<()> {
    // The check's PyTorch peer (benchmarks/peers/torch_ddp.py) knows these three, the only
    // values --optimizer takes.
    let optimizer = match args.optimizer {
        OptimizerKind::Sgd => OptimizerConfig::sgd(args.lr, 0.9),
        OptimizerKind::Adam => OptimizerConfig::adam(args.lr),
        OptimizerKind::AdamW => OptimizerConfig::adamw(args.lr, 0.01),
        OptimizerKind::RmsProp => {
            return Err(Error::Invalid("dist check: --optimizer rmsprop is not supported".into()))
        }
    };
    let cfg = CheckConfig {
        steps: args.steps,
        batch: args.batch,
        dataset: args.dataset,
        optimizer,
        seed,
        backend: args.backend,
        double: args.double,
        bucket_bytes: args.bucket_kb.saturating_mul(1024),
        out: args.out,
        log_dir: args.log_dir,
        checkpoint: args.checkpoint,
        resume: args.resume,
        fail_rank: args.fail_rank,
        fail_step: args.fail_step,
    };
    // Without the torchrun variables this is the single-process baseline; with some but not
    // all of them, a clear error.
    let env = if std::env::var_os("WORLD_SIZE").is_some() || std::env::var_os("RANK").is_some() {
        Some(DistEnv::from_env()?)
    } else {
        None
    };
    let report = distributed::run_check(&cfg, env.as_ref())?;
    if report.rank == 0 {
        println!("{report}");
    }
    Ok(())
}
