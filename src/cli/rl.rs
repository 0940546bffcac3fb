//! `graft rl`: train an agent (`train`), evaluate a trained one (`eval`), plot learning curves
//! (`plot`).

use std::path::PathBuf;

use clap::{Args, Subcommand};
use tch::Device;

use graft::report::metrics::METRICS_CSV;
use graft::report::plot::{plot_runs, PlotOptions};
use graft::report::read_metrics_csv;
use graft::rl::eval::{eval_seed, evaluate};
use graft::rl::run::agent_env;
use graft::rl::{AgentConfig, Algo, RunOptions, TrainedPolicy};
use graft::{Error, Result};

use crate::cli::collect::parse_pixels;
use crate::cli::envs::parse_kwargs;
use crate::cli::values::at_least;
use graft::envs::wrappers::PixelObservation;

#[derive(Subcommand)]
pub enum RlCommand {
    /// Train PPO, DQN, SAC, TD3 or DrQ-v2 on an environment.
    Train(TrainArgs),
    /// Evaluate a trained agent deterministically.
    Eval(EvalArgs),
    /// Plot learning curves of one or more run directories into a PNG.
    Plot(PlotArgs),
}

#[derive(Args)]
pub struct TrainArgs {
    /// The algorithm.
    #[arg(long)]
    algo: Algo,
    /// Environment id, e.g. CartPole-v1.
    #[arg(long)]
    env: String,
    /// Hyperparameters: a preset name, a JSON object or a JSON file (the presets are listed
    /// from graft::rl::PRESETS).
    #[arg(long, help = config_help())]
    config: Option<String>,
    /// Env steps to train for (overrides the config's total_timesteps; at least 1).
    #[arg(long, value_parser = at_least::<u64>(1))]
    steps: Option<u64>,
    /// Run directory: metrics.csv, TensorBoard events, config.json, checkpoint, curve.png.
    #[arg(long)]
    out: Option<PathBuf>,
    /// Initialise the torso from this checkpoint's encoder (e.g. a pretraining checkpoint).
    #[arg(long)]
    init_encoder: Option<PathBuf>,
    /// Key prefix of the encoder inside --init-encoder's file ("" for a bare encoder).
    #[arg(long, default_value = "")]
    encoder_prefix: String,
    /// Keep the torso frozen (only the heads learn).
    #[arg(long)]
    freeze_encoder: bool,
    /// Evaluate every N env steps (0: only at the end).
    #[arg(long, default_value_t = 10_000)]
    eval_every: u64,
    /// Episodes per evaluation (at least 1).
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=100_000))]
    eval_episodes: u64,
    /// Write the checkpoint every N env steps (0: only at the end).
    #[arg(long, default_value_t = 50_000)]
    checkpoint_every: u64,
    /// Continue from the run directory's checkpoint.
    #[arg(long, conflicts_with = "overwrite")]
    resume: bool,
    /// Replace a run already in --out (its run files are removed once the inputs are
    /// validated). Without it or --resume, a directory holding a run is refused.
    #[arg(long)]
    overwrite: bool,
    /// Keyword arguments for the environment (repeatable KEY=VALUE).
    #[arg(long = "kwarg", value_name = "KEY=VALUE")]
    kwargs: Vec<String>,
    /// Observe WIDTHxHEIGHT rendered frames instead of the state (pixel-based RL). DrQ-v2 on a
    /// Control Suite task observes its paper's 84x84 frames, 3 stacked, unless given.
    #[arg(long, value_name = "WIDTHxHEIGHT")]
    pixels: Option<String>,
    /// With --pixels: grayscale frames.
    #[arg(long)]
    grayscale: bool,
    /// With --pixels: stack the last N frames (so the agent sees motion; at least 1).
    #[arg(long, default_value_t = 1, value_parser = at_least::<usize>(1))]
    frame_stack: usize,
    /// Hold each action for K physics steps (frame skip), summing rewards; each env step of
    /// the run is then one decision (1 = every physics step). As `graft collect
    /// --action-repeat`. Default: the papers' value for Control Suite tasks (dmc/...: 8
    /// cartpole, 2 finger and walker, 4 the others; DrQ-v2: 2 on every task, as its paper),
    /// 1 for every other env.
    #[arg(long, value_name = "K", value_parser = at_least::<usize>(1))]
    action_repeat: Option<usize>,
}

/// `--config`'s help, with every algorithm's presets.
fn config_help() -> String {
    let names: Vec<String> = Algo::ALL
        .iter()
        .map(|&a| format!("{a}: {}", AgentConfig::preset_names(a).join(", ")))
        .collect();
    format!("Hyperparameters: a preset name ({}), a JSON object or a JSON file", names.join("; "))
}

#[derive(Args)]
pub struct EvalArgs {
    /// A checkpoint file or a run directory.
    checkpoint: PathBuf,
    /// Episodes to run (at least 1).
    #[arg(long, default_value_t = 10, value_parser = at_least::<usize>(1))]
    episodes: usize,
    /// Environment id (default: the one the agent was trained on).
    #[arg(long)]
    env: Option<String>,
}

#[derive(Args)]
pub struct PlotArgs {
    /// Run directories (each with a metrics.csv); series are named after the directories.
    #[arg(required = true)]
    runs: Vec<PathBuf>,
    /// Metric to plot.
    #[arg(long, default_value = "eval/return_mean")]
    tag: String,
    /// Chart title.
    #[arg(long)]
    title: Option<String>,
    /// Output PNG.
    #[arg(short, long)]
    output: PathBuf,
}

pub fn run(cmd: RlCommand, seed: u64, device: Device) -> Result<()> {
    match cmd {
        RlCommand::Train(a) => train(a, seed, device),
        RlCommand::Eval(a) => eval(a, device),
        RlCommand::Plot(a) => {
            let opts = PlotOptions {
                title: a.title.unwrap_or_else(|| a.tag.clone()),
                x_label: "env steps".into(),
                y_label: a.tag.clone(),
            };
            plot_runs(&a.runs, &a.tag, &a.output, &opts)?;
            println!("wrote {}", a.output.display());
            Ok(())
        }
    }
}

fn train(a: TrainArgs, seed: u64, device: Device) -> Result<()> {
    let mut cfg = AgentConfig::for_algo(a.algo, a.config.as_deref(), &a.env)?;
    if let Some(s) = a.steps {
        cfg.set_total_timesteps(s);
    }
    if let Some(p) = &a.init_encoder {
        let torso = cfg.torso_mut();
        torso.init_encoder = Some(p.clone());
        torso.checkpoint_prefix = a.encoder_prefix.clone();
    }
    if a.freeze_encoder {
        if a.init_encoder.is_none() {
            return Err(Error::Invalid(
                "--freeze-encoder needs --init-encoder (a random frozen torso cannot learn)".into(),
            ));
        }
        cfg.torso_mut().freeze = true;
    }
    if a.resume && a.out.is_none() {
        return Err(Error::Invalid(
            "--resume needs --out (the run directory holding the checkpoint)".into(),
        ));
    }
    let pixels = match &a.pixels {
        Some(s) => {
            let (w, h) = parse_pixels(s)?;
            let p = PixelObservation {
                size: [w, h],
                grayscale: a.grayscale,
                frame_stack: a.frame_stack,
            };
            p.validate()?;
            Some(p)
        }
        None if a.grayscale || a.frame_stack != 1 => {
            return Err(Error::Invalid(
                "--grayscale and --frame-stack need --pixels WIDTHxHEIGHT".into(),
            ))
        }
        None => None,
    };
    // The run directory records what was asked; the agent writes it (with config.json) only
    // once its inputs have been validated, so a refused command leaves an earlier run as it
    // was.
    // DrQ-v2 on a Control Suite task defaults to the paper's frames and repeat.
    let (pixels, action_repeat) = a.algo.observation(&a.env, pixels, a.action_repeat);
    let record = serde_json::json!({
        "algo": cfg.algo(), "env": a.env, "seed": seed, "config": cfg.to_json(),
        "pixels": pixels, "action_repeat": action_repeat,
    });
    let opts = RunOptions {
        pixels: pixels.clone(),
        action_repeat,
        out: a.out.clone(),
        device,
        env_kwargs: parse_kwargs(&a.kwargs)?,
        eval_every: a.eval_every,
        eval_episodes: a.eval_episodes as usize,
        checkpoint_every: a.checkpoint_every,
        resume: a.resume,
        overwrite: a.overwrite,
        record: Some(record),
        stop_after: None,
        verbose: true,
    };
    let summary = cfg.train(&a.env, seed, &opts)?;
    let algo = cfg.algo();
    match (&summary.final_eval, summary.resumed_from) {
        (_, Some(done)) if summary.was_already_finished() => {
            println!(
                "{algo} on {} (seed {seed}): the run had already finished ({done} env steps); \
                 nothing to train",
                a.env
            );
            if let Some(last) = a.out.as_deref().and_then(last_eval) {
                println!("its last evaluation: {last}");
            }
        }
        (Some(eval), resumed) => println!(
            "{algo} on {} (seed {seed}): {} env steps{} in {:.1}s ({:.0} steps/s), {} episodes; \
             final evaluation return {:.2} ± {:.2} over {} episodes{}",
            a.env,
            summary.env_steps,
            resumed.map_or(String::new(), |r| format!(" (resumed at {r})")),
            summary.wall_secs,
            summary.steps_per_sec(),
            summary.episodes,
            eval.mean(),
            eval.std(),
            eval.returns.len(),
            human_normalized_note(&a.env, eval.mean()),
        ),
        (None, _) => println!(
            "{algo} on {} (seed {seed}): stopped at {} env steps in {:.1}s ({:.0} steps/s) \
             before any evaluation",
            a.env,
            summary.env_steps,
            summary.wall_secs,
            summary.steps_per_sec(),
        ),
    }
    if let Some(dir) = &a.out {
        let png = dir.join("curve.png");
        let opts = PlotOptions {
            title: format!("{} on {} (seed {seed})", cfg.algo(), a.env),
            x_label: "env steps".into(),
            y_label: "mean evaluation return".into(),
        };
        plot_runs(std::slice::from_ref(dir), "eval/return_mean", &png, &opts)?;
        println!(
            "run directory {}: metrics.csv, TensorBoard events, checkpoint.safetensors, curve.png",
            dir.display()
        );
    }
    Ok(())
}

/// `"; human-normalised 0.63"` for an Atari 100k game, else nothing.
fn human_normalized_note(env_id: &str, mean_return: f64) -> String {
    graft::rl::atari_scores::human_normalized(env_id, mean_return)
        .map_or(String::new(), |h| format!("; human-normalised {h:.3}"))
}

/// The last `eval/return_mean` (with its std and step) of the run in `dir`, as text.
fn last_eval(dir: &std::path::Path) -> Option<String> {
    let rows = read_metrics_csv(&dir.join(METRICS_CSV)).ok()?;
    let last = |tag: &str| rows.iter().rev().find(|r| r.tag == tag);
    let mean = last("eval/return_mean")?;
    let std = last("eval/return_std").map_or(String::new(), |r| format!(" ± {:.2}", r.value));
    Some(format!("mean return {:.2}{std} at {} env steps (metrics.csv)", mean.value, mean.step))
}

fn eval(a: EvalArgs, device: Device) -> Result<()> {
    let meta = graft::rl::state::RunCheckpoint::read(&a.checkpoint)?.meta;
    let env_id = a.env.clone().unwrap_or(meta.env_id.clone());
    // The agent sees what it was trained on: the same env arguments (on its own env, less
    // those that only shape training: whole Atari games, raw points), action repeat and pixel
    // observations.
    let kwargs = if env_id == meta.env_id {
        graft::envs::evaluation_kwargs(&meta.kwargs()?)
    } else {
        Default::default()
    };
    let make = || -> Result<Box<dyn graft::envs::Env>> {
        let env = graft::envs::make(&env_id, &kwargs)?;
        agent_env(env, meta.action_repeat, meta.pixels.as_ref())
    };
    let policy = TrainedPolicy::load(&a.checkpoint, make()?.as_ref(), device)?;
    let stats =
        evaluate(&make, a.episodes, eval_seed(meta.seed), device, &|x| policy.act_tensor(x))?;
    println!(
        "{} agent ({} env steps, seed {}) on {env_id}: mean return {:.2} ± {:.2}, mean length {:.1} over {} episodes{}",
        meta.algo,
        meta.env_steps,
        meta.seed,
        stats.mean(),
        stats.std(),
        stats.mean_length(),
        stats.returns.len(),
        human_normalized_note(&env_id, stats.mean()),
    );
    Ok(())
}
