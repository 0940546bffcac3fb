//! `graft rl`: train an agent (`train`), evaluate a trained one (`eval`), plot learning curves
//! (`plot`).

use std::path::PathBuf;

use clap::{Args, Subcommand};
use tch::Device;

use graft::report::plot::{plot_runs, PlotOptions};
use graft::rl::eval::{eval_seed, evaluate};
use graft::rl::run::agent_env;
use graft::rl::{AgentConfig, RunOptions, TrainedPolicy};
use graft::{Error, Result};

use crate::cli::collect::parse_pixels;
use crate::cli::envs::parse_kwargs;
use graft::envs::wrappers::PixelObservation;

#[derive(Subcommand)]
pub enum RlCommand {
    /// Train PPO, DQN or SAC on an environment.
    Train(TrainArgs),
    /// Evaluate a trained agent deterministically.
    Eval(EvalArgs),
    /// Plot learning curves of one or more run directories into a PNG.
    Plot(PlotArgs),
}

#[derive(Args)]
pub struct TrainArgs {
    /// ppo, dqn or sac.
    #[arg(long)]
    algo: String,
    /// Environment id, e.g. CartPole-v1.
    #[arg(long)]
    env: String,
    /// Hyperparameters: a preset name (ppo: cartpole, continuous, sb3_zoo_cartpole; dqn: cartpole,
    /// sb3_zoo_cartpole, minatar; sac: pendulum, default), a JSON object or a JSON file.
    #[arg(long)]
    config: Option<String>,
    /// Env steps to train for (overrides the config's total_timesteps).
    #[arg(long)]
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
    /// Episodes per evaluation.
    #[arg(long, default_value_t = 10)]
    eval_episodes: usize,
    /// Write the checkpoint every N env steps (0: only at the end).
    #[arg(long, default_value_t = 50_000)]
    checkpoint_every: u64,
    /// Continue from the run directory's checkpoint.
    #[arg(long)]
    resume: bool,
    /// Keyword arguments for the environment (repeatable KEY=VALUE).
    #[arg(long = "kwarg", value_name = "KEY=VALUE")]
    kwargs: Vec<String>,
    /// Observe WIDTHxHEIGHT rendered frames instead of the state (pixel-based RL).
    #[arg(long, value_name = "WIDTHxHEIGHT")]
    pixels: Option<String>,
    /// With --pixels: grayscale frames.
    #[arg(long)]
    grayscale: bool,
    /// With --pixels: stack the last N frames (so the agent sees motion).
    #[arg(long, default_value_t = 1)]
    frame_stack: usize,
    /// Hold each action for K physics steps (frame skip), summing rewards; each env step of
    /// the run is then one decision. As `graft collect --action-repeat`.
    #[arg(long, value_name = "K", default_value_t = 1)]
    action_repeat: usize,
    /// Print nothing while training.
    #[arg(long)]
    quiet: bool,
}

#[derive(Args)]
pub struct EvalArgs {
    /// A checkpoint file or a run directory.
    checkpoint: PathBuf,
    /// Episodes to run.
    #[arg(long, default_value_t = 10)]
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
    let mut cfg = AgentConfig::parse(&a.algo, a.config.as_deref(), &a.env)?;
    if let Some(s) = a.steps {
        if s == 0 {
            return Err(Error::Invalid("--steps must be at least 1".into()));
        }
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
    if a.action_repeat == 0 {
        return Err(Error::Invalid(
            "--action-repeat must be at least 1 (1 = every physics step), got 0".into(),
        ));
    }
    let opts = RunOptions {
        pixels: pixels.clone(),
        action_repeat: a.action_repeat,
        out: a.out.clone(),
        device,
        env_kwargs: parse_kwargs(&a.kwargs)?,
        eval_every: a.eval_every,
        eval_episodes: a.eval_episodes.max(1),
        checkpoint_every: a.checkpoint_every,
        resume: a.resume,
        stop_after: None,
        verbose: !a.quiet,
    };
    if let Some(dir) = &a.out {
        std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        let path = dir.join("config.json");
        let record = serde_json::json!({
            "algo": cfg.algo(), "env": a.env, "seed": seed, "config": cfg.to_json(),
            "pixels": pixels, "action_repeat": a.action_repeat,
        });
        let text =
            serde_json::to_string_pretty(&record).map_err(|e| Error::Invalid(e.to_string()))?;
        std::fs::write(&path, text).map_err(|e| Error::io(&path, e))?;
    }
    let summary = cfg.train(&a.env, seed, &opts)?;
    let eval = summary.final_eval.as_ref();
    println!(
        "{} on {} (seed {seed}): {} env steps in {:.1}s ({:.0} steps/s), {} episodes; final evaluation return {:.2} ± {:.2} over {} episodes",
        cfg.algo(),
        a.env,
        summary.env_steps,
        summary.wall_secs,
        summary.env_steps as f64 / summary.wall_secs.max(1e-9),
        summary.episodes,
        eval.map_or(f64::NAN, |e| e.mean()),
        eval.map_or(f64::NAN, |e| e.std()),
        eval.map_or(0, |e| e.returns.len()),
    );
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

fn eval(a: EvalArgs, device: Device) -> Result<()> {
    if a.episodes == 0 {
        return Err(Error::Invalid("--episodes must be at least 1".into()));
    }
    let meta = graft::rl::state::RunCheckpoint::read(&a.checkpoint)?.meta;
    let env_id = a.env.clone().unwrap_or(meta.env_id.clone());
    // The agent sees what it was trained on: the same env arguments (on its own env), action
    // repeat and pixel observations.
    let kwargs = if env_id == meta.env_id { meta.kwargs()? } else { Default::default() };
    let make = || -> Result<Box<dyn graft::envs::Env>> {
        let env = graft::envs::make(&env_id, &kwargs)?;
        agent_env(env, meta.action_repeat, meta.pixels.as_ref())
    };
    let policy = TrainedPolicy::load(&a.checkpoint, make()?.as_ref(), device)?;
    let stats =
        evaluate(&make, a.episodes, eval_seed(meta.seed), device, &|x| policy.act_tensor(x))?;
    println!(
        "{} agent ({} env steps, seed {}) on {env_id}: mean return {:.2} ± {:.2}, mean length {:.1} over {} episodes",
        meta.algo,
        meta.env_steps,
        meta.seed,
        stats.mean(),
        stats.std(),
        stats.mean_length(),
        stats.returns.len()
    );
    Ok(())
}
