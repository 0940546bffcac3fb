//! The `graft` command line.
//!
//! User errors print one paragraph and exit with status 1 (usage errors, such as a value out
//! of its range or not among the choices, exit with clap's 2; `graft run` exits with the code
//! a script passes to `exit(n)`); an unexpected panic prints a short "this is a bug" message
//! instead of a backtrace.
//!
//! Results go to stdout; the library's diagnostics are `tracing` events that the subscriber
//! installed here writes to stderr (`-v`, `-q`, `RUST_LOG`: see `cli::logging`).

mod cli;

use std::process::ExitCode;

use clap::{ArgAction, Args, Parser, Subcommand};

use graft::device::{self, DeviceChoice};
use graft::{doctor, Result};

#[derive(Parser)]
#[command(name = "graft", version, about = "Transfer learning for RL and vision on libtorch", long_about = None)]
struct Cli {
    #[command(flatten)]
    global: GlobalOpts,
    #[command(subcommand)]
    command: Command,
}

#[derive(Args)]
struct GlobalOpts {
    /// Where to compute: auto (CUDA when available), cpu, cuda or cuda:N.
    #[arg(long, global = true, default_value = "auto", value_parser = cli::values::DeviceParser)]
    device: DeviceChoice,
    /// libtorch intra-op threads (default: all cores; at most the logical cores unless
    /// --force-threads).
    #[arg(long, global = true)]
    threads: Option<usize>,
    /// Allow --threads above the machine's logical cores (up to 1024).
    #[arg(long, global = true)]
    force_threads: bool,
    /// Master seed; every component's seed derives from it.
    #[arg(long, global = true, default_value_t = 0)]
    seed: u64,
    /// More detail on stderr: -v debug, -vv trace (RUST_LOG, when set, overrides -v/-q).
    #[arg(short, long, global = true, action = ArgAction::Count)]
    verbose: u8,
    /// Less on stderr: -q warnings and errors only (no progress lines, no echo of a script's
    /// log), -qq errors only. Results on stdout are unchanged.
    #[arg(short, long, global = true, action = ArgAction::Count)]
    quiet: u8,
}

#[derive(Subcommand)]
enum Command {
    /// Print Graft's and libtorch's versions, where libtorch was loaded from, CUDA devices,
    /// cuDNN and threads; optionally run a short training check on the chosen device.
    Doctor {
        /// Train a small conv net for a few steps and check that the loss falls.
        #[arg(long)]
        train_check: bool,
        /// Optimisation steps for --train-check (at least 50).
        #[arg(long, default_value_t = 60, value_parser = cli::values::at_least::<usize>(50))]
        steps: usize,
    },
    /// Environments: list the registry, render a frame.
    #[command(subcommand)]
    Envs(cli::envs::EnvsCommand),
    /// Run a policy in an environment and write an Arrow trajectory dataset.
    Collect(cli::collect::CollectArgs),
    /// Trajectory datasets: info, validate, Parquet export and import.
    #[command(subcommand)]
    Data(cli::data::DataCommand),
    /// Checkpoints: metadata and parameter counts per layer group, differences between two.
    #[command(subcommand)]
    Ckpt(cli::ckpt::CkptCommand),
    /// Run a Rhai experiment script in its own run directory.
    Run(cli::run::RunArgs),
    /// Image datasets: info, a PNG grid of an augmented batch, loader benchmark.
    #[command(subcommand)]
    Images(cli::images::ImagesCommand),
    /// Run `graft ARGS…` as N local data-parallel workers (the torchrun variables set):
    /// `graft launch --nproc 2 -- --threads 1 dist check`.
    Launch(cli::dist::LaunchArgs),
    /// Distributed training: a small data-parallel check run.
    #[command(subcommand)]
    Dist(cli::dist::DistCommand),
    /// Reinforcement learning: train PPO/DQN/SAC agents, evaluate them, plot learning curves.
    #[command(subcommand)]
    Rl(cli::rl::RlCommand),
    /// Pretrain an encoder with a pretext task; writes a run directory and encoder.safetensors.
    Pretrain(cli::pretrain::PretrainArgs),
    /// Evaluate an exported encoder's frozen features (linear probe, k-NN, state R², actions).
    Probe(cli::pretrain::ProbeArgs),
}

fn run(cli: Cli) -> Result<ExitCode> {
    device::init();
    let choice = cli.global.device;
    let threads = device::set_threads(cli.global.threads, cli.global.force_threads)?;
    let trains = matches!(
        cli.command,
        Command::Run(_)
            | Command::Rl(cli::rl::RlCommand::Train(_))
            | Command::Pretrain(_)
            | Command::Probe(_)
    ) || matches!(&cli.command, Command::Doctor { train_check: true, .. });
    if let Some(note) = trains.then(|| device::contention_note(threads)).flatten() {
        tracing::warn!(threads, "{note}");
    }
    match cli.command {
        Command::Doctor { train_check, steps } => {
            print!("{}", doctor::report());
            device::check_libtorch()?;
            if train_check {
                let dev = choice.resolve()?;
                // train_check seeds libtorch itself, so the check is reproducible per seed.
                println!("{}", doctor::train_check(dev, steps, cli.global.seed)?);
            }
        }
        Command::Envs(cmd) => cli::envs::run(cmd)?,
        Command::Collect(args) => cli::collect::run(args, cli.global.seed)?,
        Command::Data(cmd) => cli::data::run(cmd)?,
        Command::Ckpt(cmd) => cli::ckpt::run(cmd)?,
        // A script's `exit(n)` is the process's exit code.
        Command::Run(args) => return cli::run::run(args, choice, cli.global.seed),
        Command::Images(cmd) => cli::images::run(cmd, cli.global.seed)?,
        Command::Launch(args) => cli::dist::launch(args)?,
        Command::Dist(cmd) => cli::dist::run(cmd, cli.global.seed)?,
        Command::Rl(cmd) => cli::rl::run(cmd, cli.global.seed, choice.resolve()?)?,
        Command::Pretrain(args) => cli::pretrain::run(args, choice, cli.global.seed)?,
        Command::Probe(args) => cli::pretrain::probe(args, choice, cli.global.seed)?,
    }
    Ok(ExitCode::SUCCESS)
}

fn main() -> ExitCode {
    // Die quietly on a closed pipe (`graft envs list | head`), as Unix tools do, instead of
    // panicking on the failed write.
    // SAFETY: restoring the default disposition of SIGPIPE before any thread is started.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    std::panic::set_hook(Box::new(|info| {
        if graft::contain::is_contained() {
            // A library's panic that Graft turns into an error (see graft::contain).
            return;
        }
        eprintln!(
            "graft: internal error (this is a bug in Graft, please report it): {info}\n\
             Set RUST_BACKTRACE=1 for details."
        );
        if std::env::var("RUST_BACKTRACE").is_ok_and(|v| v != "0") {
            eprintln!("{}", std::backtrace::Backtrace::force_capture());
        }
    }));
    device::keep_freed_heap();
    let cli = Cli::parse();
    cli::logging::init(cli.global.verbose, cli.global.quiet);
    match run(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("graft: error: {e}");
            ExitCode::FAILURE
        }
    }
}
