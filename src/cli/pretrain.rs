//! `graft pretrain`: train an encoder with a pretext task and export it; `graft probe`:
//! evaluate an exported encoder's frozen features (linear probe, k-NN, state R², action
//! accuracy), optionally against a random initialisation of the same model.

use std::path::{Path, PathBuf};

use clap::Args;
use tch::nn;

use graft::device::DeviceChoice;
use graft::models::checkpoint::{self, Checkpoint};
use graft::models::ModelConfig;
use graft::optim::{OptimizerConfig, OptimizerKind};
use graft::pretrain::base::pixel_factor;
use graft::pretrain::probe::{probe_control, probe_images, ProbeConfig};
use graft::pretrain::run::{open_images, Source as ProbeData};
use graft::pretrain::sources::FrameOptions;
use graft::pretrain::{run as pretrain, PretrainConfig, TaskConfig, Trajectories, TASKS};
use graft::train::NoHooks;
use graft::{Error, Result};

use crate::cli::values::{at_least, fraction, name_in, non_negative, one_of, positive};

#[derive(Args)]
pub struct PretrainArgs {
    /// Pretext task (required unless --config names one).
    #[arg(long, value_parser = name_in(TASKS))]
    task: Option<String>,
    /// The task's hyperparameters as a JSON object, e.g. '{"temperature": 0.2}'.
    #[arg(long, value_name = "JSON")]
    task_params: Option<String>,
    /// Trajectory dataset (.arrow) for state-action tasks; for image tasks an image tensor
    /// file (.safetensors) or an image dataset (ImageFolder, CIFAR, IDX folder or file).
    #[arg(long)]
    data: Option<PathBuf>,
    /// Resize images to this square side (needed when an image folder's sizes differ; at
    /// least 1).
    #[arg(long, value_parser = at_least::<u32>(1))]
    image_size: Option<u32>,
    /// Trajectory frames to grayscale (as `graft rl train --grayscale`).
    #[arg(long)]
    grayscale: bool,
    /// Stack the last N trajectory frames (as `graft rl train --frame-stack N`; at least 1).
    #[arg(long, value_parser = at_least::<usize>(1))]
    frame_stack: Option<usize>,
    /// Encoder: a preset (nature_cnn, resnet18, vit_tiny, …), a JSON object or a .json file.
    #[arg(long)]
    model: Option<String>,
    /// A whole PretrainConfig as JSON (the other flags override it).
    #[arg(long)]
    config: Option<PathBuf>,
    /// Optimisation steps (at least 1).
    #[arg(long, value_parser = at_least::<u64>(1))]
    steps: Option<u64>,
    /// Passes over the data instead of --steps (at least 1).
    #[arg(long, value_parser = at_least::<u64>(1))]
    epochs: Option<u64>,
    /// Items per step (at least 1).
    #[arg(long, value_parser = at_least::<usize>(1))]
    batch: Option<usize>,
    /// Base learning rate (a finite number above 0).
    #[arg(long, value_parser = positive)]
    lr: Option<f64>,
    /// Optimizer: adam, adamw (weight decay 0.05 unless --weight-decay) or sgd (momentum 0.9).
    #[arg(long, value_parser = one_of(&[OptimizerKind::Adam, OptimizerKind::AdamW, OptimizerKind::Sgd]))]
    optimizer: Option<OptimizerKind>,
    /// Weight decay (a finite number ≥ 0).
    #[arg(long, value_parser = non_negative)]
    weight_decay: Option<f64>,
    /// Clip the global gradient norm to this value (a finite number above 0).
    #[arg(long, alias = "clip", value_parser = positive)]
    max_grad_norm: Option<f64>,
    /// Write a training-state checkpoint every N steps (0: only at the end).
    #[arg(long)]
    checkpoint_every: Option<u64>,
    /// Log metrics every N steps (at least 1; the last step is always logged).
    #[arg(long, value_parser = at_least::<u64>(1))]
    log_every: Option<u64>,
    /// Run directory (default: runs/pretrain-<task>).
    #[arg(long)]
    out: Option<PathBuf>,
    /// Continue from the run directory's last checkpoint.
    #[arg(long, conflicts_with = "overwrite")]
    resume: bool,
    /// Replace a run already in --out (its run files are removed once the inputs are
    /// validated). Without it or --resume, a directory holding a run is refused.
    #[arg(long)]
    overwrite: bool,
}

/// A model from a preset name, a JSON object or a JSON file.
pub fn parse_model(s: &str) -> Result<ModelConfig> {
    let t = s.trim();
    if t.starts_with('{') {
        return ModelConfig::from_json(t);
    }
    let p = Path::new(t);
    if p.extension().is_some_and(|e| e == "json") {
        let text = graft::inputs::read_text(p, "model file")?;
        return ModelConfig::from_json(&text);
    }
    ModelConfig::preset(t)
}

fn task_from(name: &str, params: Option<&str>) -> Result<TaskConfig> {
    let base = TaskConfig::named(name)?;
    let Some(params) = params else { return Ok(base) };
    let mut v = serde_json::to_value(&base).map_err(|e| Error::Invalid(e.to_string()))?;
    let extra: serde_json::Value = serde_json::from_str(params)
        .map_err(|e| Error::Invalid(format!("--task-params is not JSON: {e}")))?;
    let (Some(obj), Some(add)) = (v.as_object_mut(), extra.as_object()) else {
        return Err(Error::Invalid("--task-params must be a JSON object".into()));
    };
    for (k, x) in add {
        obj.insert(k.clone(), x.clone());
    }
    graft::config_error::from_json_value(&format!("task '{name}'"), v)
}

pub fn run(args: PretrainArgs, device: DeviceChoice, seed: u64) -> Result<()> {
    let mut cfg = match &args.config {
        Some(p) => PretrainConfig::from_json(&graft::inputs::read_text(p, "config file")?)?,
        None => PretrainConfig::default(),
    };
    match (&args.task, &args.config) {
        (Some(t), _) => cfg.task = task_from(t, args.task_params.as_deref())?,
        (None, None) => {
            return Err(Error::Invalid(format!("--task is required; one of {}", TASKS.join(", "))))
        }
        (None, Some(_)) => {}
    }
    if let Some(d) = &args.data {
        cfg.data.path = d.clone();
    }
    cfg.data.image_size = args.image_size.or(cfg.data.image_size);
    cfg.data.grayscale |= args.grayscale;
    cfg.data.frame_stack = args.frame_stack.unwrap_or(cfg.data.frame_stack);
    if cfg.data.path.as_os_str().is_empty() {
        return Err(Error::Invalid("--data is required".into()));
    }
    if let Some(m) = &args.model {
        cfg.model = parse_model(m)?;
    }
    let t = &mut cfg.trainer;
    if let Some(s) = args.steps {
        t.steps = s;
    }
    t.epochs = args.epochs.or(t.epochs);
    if let Some(b) = args.batch {
        t.batch_size = b;
    }
    if let Some(kind) = args.optimizer {
        let lr = t.optimizer.lr;
        t.optimizer = match kind {
            OptimizerKind::Adam => OptimizerConfig::adam(lr),
            OptimizerKind::AdamW => OptimizerConfig::adamw(lr, 0.05),
            OptimizerKind::Sgd => OptimizerConfig::sgd(lr, 0.9),
            // Not among --optimizer's values (refused by clap); configs can ask for it.
            OptimizerKind::RmsProp => OptimizerConfig { kind, lr, ..OptimizerConfig::default() },
        };
    }
    if let Some(lr) = args.lr {
        t.optimizer.lr = lr;
    }
    if let Some(wd) = args.weight_decay {
        t.optimizer.weight_decay = wd;
        if wd > 0.0 && t.optimizer.kind == OptimizerKind::Adam {
            t.optimizer.kind = OptimizerKind::AdamW;
        }
    }
    t.max_grad_norm = args.max_grad_norm.or(t.max_grad_norm);
    if let Some(c) = args.checkpoint_every {
        t.checkpoint_every = c;
    }
    if let Some(l) = args.log_every {
        t.log_every = l;
    }
    t.seed = seed;
    cfg.device = device.to_string();
    cfg.resume = args.resume;
    cfg.overwrite = args.overwrite;
    let out =
        args.out.unwrap_or_else(|| PathBuf::from(format!("runs/pretrain-{}", cfg.task.name())));
    let o = pretrain(&cfg, &out, &mut NoHooks)?;
    if !graft::distributed::world::is_writer() {
        // Under a launcher rank 0 reports for the job.
        return Ok(());
    }
    println!("task        {}", cfg.task.name());
    println!("steps       {}{}", o.steps, o.ended.note());
    if let (Some(a), Some(b)) = (o.first_loss, o.final_loss) {
        println!("loss        {a:.4} -> {b:.4}");
    }
    for (k, v) in &o.metrics {
        if !["loss", "lr_factor", "epoch"].contains(&k.as_str()) {
            println!("{k:<11} {v:.4}");
        }
    }
    println!("encoder     {}", o.encoder_path.display());
    println!("checkpoint  {}", o.checkpoint_path.display());
    println!("run dir     {} (config.json, metrics.csv, TensorBoard events)", out.display());
    Ok(())
}

#[derive(Args)]
pub struct ProbeArgs {
    /// An exported encoder (encoder.safetensors of a pretraining run).
    #[arg(long)]
    encoder: PathBuf,
    /// Trajectory dataset (.arrow), or labelled images: an image tensor file (.safetensors)
    /// or an image dataset (ImageFolder, CIFAR, IDX).
    #[arg(long)]
    data: PathBuf,
    /// Resize images to this square side (at least 1).
    #[arg(long, value_parser = at_least::<u32>(1))]
    image_size: Option<u32>,
    /// Trajectory frames to grayscale (as the encoder was pretrained).
    #[arg(long)]
    grayscale: bool,
    /// Stack the last N trajectory frames (as the encoder was pretrained; at least 1).
    #[arg(long, default_value_t = 1, value_parser = at_least::<usize>(1))]
    frame_stack: usize,
    /// Also probe a random initialisation of the same model (same seed) for comparison.
    #[arg(long)]
    baseline: bool,
    /// Fraction of items (images) or episodes (trajectories) the probes are fitted on
    /// (strictly between 0 and 1).
    #[arg(long, default_value_t = 0.8, value_parser = fraction)]
    train_fraction: f64,
    /// Neighbours of the k-NN probe (at least 1; at most the training items are used).
    #[arg(long, default_value_t = 20, value_parser = at_least::<usize>(1))]
    k: usize,
    /// Print JSON instead of a table.
    #[arg(long)]
    json: bool,
}

pub fn probe(args: ProbeArgs, device: DeviceChoice, seed: u64) -> Result<()> {
    let device = device.resolve()?;
    let meta = Checkpoint::read(&args.encoder)?.meta;
    let model = meta.model_config()?.ok_or_else(|| Error::Checkpoint {
        path: args.encoder.clone(),
        problem: "no model config in its metadata (graft.config), so the encoder cannot be built"
            .into(),
    })?;
    let cfg = ProbeConfig {
        train_fraction: args.train_fraction,
        k: args.k,
        seed,
        ..ProbeConfig::default()
    };
    let factor = pixel_factor(&model);
    let arrow = args.data.extension().is_some_and(|e| e == "arrow");
    // The data is opened once for both probes; the probes refuse data the encoder's input
    // layer cannot take (a state encoder given pixels) before any forward pass.
    let data = if arrow {
        let frames = FrameOptions { grayscale: args.grayscale, stack: args.frame_stack };
        let data = Trajectories::open(&args.data, device, factor)?.with_frames(frames)?;
        ProbeData::Trajectories(Box::new(data))
    } else {
        ProbeData::Images(open_images(&args.data, args.image_size, device)?)
    };
    let evaluate = |load: bool| -> Result<serde_json::Value> {
        tch::manual_seed(seed as i64);
        let mut vs = nn::VarStore::new(device);
        let encoder = model.build(&vs.root())?;
        if load {
            checkpoint::load(&mut vs, &args.encoder)?;
        }
        Ok(match &data {
            ProbeData::Trajectories(d) => serde_json::to_value(probe_control(&encoder, d, &cfg)?),
            ProbeData::Images(i) => serde_json::to_value(probe_images(&encoder, factor, i, &cfg)?),
        }
        .unwrap_or_default())
    };
    let mut out = serde_json::json!({ "pretrained": evaluate(true)? });
    if args.baseline {
        out["random_init"] = evaluate(false)?;
    }
    if args.json {
        println!("{}", serde_json::to_string_pretty(&out).unwrap_or_default());
        return Ok(());
    }
    for (name, v) in out.as_object().into_iter().flatten() {
        println!("{name}");
        for (k, x) in v.as_object().into_iter().flatten() {
            match x.as_f64() {
                Some(f) if k.contains("accuracy") || k.contains("r2") => {
                    println!("  {k:<18} {f:.4}")
                }
                _ => println!("  {k:<18} {x}"),
            }
        }
    }
    Ok(())
}
