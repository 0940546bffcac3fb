//! `graft collect`: run a policy in an environment and write an Arrow trajectory dataset.

use std::path::PathBuf;

use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};

use graft::data::{collect, CollectConfig, Compression, PolicySpec};
use graft::{Error, Result};

use crate::cli::envs::parse_kwargs;
use crate::cli::values::{at_least, probability};

#[derive(Args)]
pub struct CollectArgs {
    /// Environment id, e.g. CartPole-v1.
    #[arg(long)]
    env: String,
    /// random, heuristic (the env's hand-written expert) or checkpoint:PATH.
    #[arg(long, default_value = "random")]
    policy: String,
    /// Episodes to collect (at least 1).
    #[arg(long, default_value_t = 10, value_parser = at_least::<usize>(1))]
    episodes: usize,
    /// Record WIDTHxHEIGHT RGB frames as observations (the state goes in the `state` column).
    #[arg(long, value_name = "WxH")]
    pixels: Option<String>,
    /// Probability of a uniformly random action instead of the policy's (a noisy expert), in
    /// [0, 1].
    #[arg(long, default_value_t = 0.0, value_parser = probability)]
    epsilon: f64,
    /// Physics steps per stored transition, all with the same action (frame skip / action
    /// repeat; rewards are summed, one frame is stored; 1 = every physics step). Default: the
    /// papers' value for Control Suite tasks (dmc/...: 8 cartpole, 2 finger and walker, 4 the
    /// others), 1 for every other env.
    #[arg(long, value_parser = at_least::<usize>(1))]
    action_repeat: Option<usize>,
    /// Worker threads (default: all cores; at least 1).
    #[arg(long, value_parser = at_least::<usize>(1))]
    workers: Option<usize>,
    /// Compress record batches with LZ4 (smaller files; reads decode instead of mapping).
    #[arg(long)]
    lz4: bool,
    /// Store each step's info dict as JSON in an `info` column.
    #[arg(long)]
    info: bool,
    /// dataset_id to record (default: <env>/<policy>-v0).
    #[arg(long)]
    dataset_id: Option<String>,
    /// Keyword arguments for the environment, e.g. --kwarg g=9.81 (repeatable).
    #[arg(long = "kwarg", value_name = "KEY=VALUE")]
    kwargs: Vec<String>,
    /// Replace the output file if it exists (without it, an existing file is refused).
    #[arg(long)]
    overwrite: bool,
    /// Output file (Arrow IPC), e.g. data.arrow.
    #[arg(short, long)]
    output: PathBuf,
}

pub fn parse_pixels(s: &str) -> Result<(u32, u32)> {
    let bad = || Error::Invalid(format!("--pixels '{s}': expected WIDTHxHEIGHT, e.g. 64x64"));
    let (w, h) = s.split_once(['x', 'X']).ok_or_else(bad)?;
    let (w, h) = (w.parse::<u32>().map_err(|_| bad())?, h.parse::<u32>().map_err(|_| bad())?);
    if w == 0 || h == 0 || w > 4096 || h > 4096 {
        return Err(bad());
    }
    Ok((w, h))
}

pub fn run(args: CollectArgs, seed: u64) -> Result<()> {
    let mut cfg = CollectConfig::new(&args.env, args.output);
    cfg.overwrite = args.overwrite;
    cfg.policy = args.policy.parse::<PolicySpec>()?;
    cfg.episodes = args.episodes;
    cfg.epsilon = args.epsilon;
    cfg.action_repeat =
        args.action_repeat.unwrap_or_else(|| graft_envs::dmc::default_action_repeat(&args.env));
    cfg.pixels = args.pixels.as_deref().map(parse_pixels).transpose()?;
    cfg.seed = seed;
    if let Some(w) = args.workers {
        cfg.workers = w;
    }
    cfg.kwargs = parse_kwargs(&args.kwargs)?;
    cfg.dataset_id = args.dataset_id;
    cfg.compression = if args.lz4 { Compression::Lz4 } else { Compression::None };
    cfg.info = args.info;
    let bar = ProgressBar::new(cfg.episodes as u64);
    bar.set_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} episodes, {msg} [{elapsed} < {eta}]")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let summary = collect(&cfg, &mut |episodes, steps| {
        bar.set_position(episodes as u64);
        bar.set_message(format!("{steps} steps"));
    });
    bar.finish_and_clear();
    let summary = summary?;
    let n = summary.returns.len().max(1) as f64;
    let mean = summary.returns.iter().sum::<f64>() / n;
    println!(
        "{}: {} episodes, {} steps, mean return {mean:.2} ({} policy) written to {}",
        cfg.env_id,
        summary.episodes,
        summary.steps,
        cfg.policy.name(),
        summary.path.display()
    );
    Ok(())
}
