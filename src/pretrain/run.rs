//! [`run`]: one pretraining run from a [`PretrainConfig`] — the one entry point the CLI and
//! Rhai scripts call. It opens the data, fits the model's input shape to it, builds the task,
//! writes `config.json` into the run directory before step 0, runs the [`super::trainer`]
//! loop, and exports the encoder as `encoder.safetensors` with its [`ModelConfig`] in the
//! metadata, loadable with [`crate::models::checkpoint::load`] into
//! `ModelConfig::build(&vs.root())`.
//!
//! Under a launcher (`graft launch`, `graft run --nproc`, torchrun: `WORLD_SIZE > 1`) the run
//! is data-parallel: every rank builds the task, joins the job's process group (Gloo on CPU,
//! NCCL on `cuda:LOCAL_RANK`), and trains its share of each batch
//! ([`super::trainer::fit_data_parallel`]); rank 0 alone creates the run directory and writes
//! `config.json`, the logs, the checkpoints and the encoder, and every rank returns once the
//! encoder is on disk.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Serialize;
use tch::{nn, Device, Kind, Tensor};

use crate::device::DeviceChoice;
use crate::distributed::{world, Backend, DataParallel};
use crate::error::{Error, Result};
use crate::models::checkpoint::{self, CheckpointMeta};
use crate::models::{key_has_prefix, ModelConfig};
use crate::optim::Optimizer;
use crate::report::run_dir::{self, RunDirMode};
use crate::train::{Ended, TrainHooks, CHECKPOINT_FILE};

use super::base::{pixel_factor, PretextTask, ENCODER};
use super::config::{PretrainConfig, TaskConfig};
use super::image::{
    byol::Byol, denoising::Denoising, mae::Mae, rotation::Rotation, simclr::SimClr,
};
use super::sources::{Images, Trajectories};
use super::state::{
    behaviour_cloning::BehaviourCloning, forward_prediction::ForwardPrediction,
    inverse_dynamics::InverseDynamics, sequence::Sequence, state_prediction::StatePrediction,
    temporal_contrastive::TemporalContrastive,
};
use super::trainer::{self, Loop};

/// File name of the exported encoder in the run directory.
pub const ENCODER_FILE: &str = "encoder.safetensors";

/// What a run produced (scripts get it through `Serialize`).
#[derive(Debug, Clone, Serialize)]
pub struct PretrainOutcome {
    /// Steps done.
    pub steps: u64,
    /// How the run ended: budget used, or stopped by a hook.
    pub ended: Ended,
    /// Loss of the first step run by this invocation.
    pub first_loss: Option<f64>,
    /// Mean loss over the last logging interval.
    pub final_loss: Option<f64>,
    /// Latest value of every logged metric.
    pub metrics: BTreeMap<String, f64>,
    /// The exported encoder.
    #[serde(rename = "encoder")]
    pub encoder_path: PathBuf,
    /// The latest training-state checkpoint.
    #[serde(rename = "checkpoint")]
    pub checkpoint_path: PathBuf,
    /// The encoder's configuration (input shape fitted to the data, no head).
    pub model: ModelConfig,
}

/// Data a task reads.
pub enum Source {
    /// A trajectory dataset.
    Trajectories(Box<Trajectories>),
    /// Images in memory.
    Images(Images),
}

/// Open the data of `config` for its task on `device`.
pub fn open_source(config: &PretrainConfig, device: Device) -> Result<Source> {
    let path = &config.data.path;
    if path.as_os_str().is_empty() {
        return Err(Error::Invalid("pretrain config: data.path is not set".into()));
    }
    let factor = pixel_factor(&config.model);
    if config.task.is_image_task() {
        Ok(Source::Images(open_images(path, config.data.image_size, device)?))
    } else {
        let data = Trajectories::open(path, device, factor)?.with_frames(config.data.frames())?;
        Ok(Source::Trajectories(Box::new(data)))
    }
}

/// Images for the image tasks: an image tensor file (`.safetensors`, see [`Images::load`]),
/// or any dataset [`crate::data::images::open`](fn@crate::data::images::open) recognises (an ImageFolder, CIFAR, IDX, the
/// frames of a trajectory file), decoded once into memory. With `image_size` each image is
/// resized (bilinear) to that square side; without, all images must have one size.
pub fn open_images(path: &Path, image_size: Option<u32>, device: Device) -> Result<Images> {
    if path.extension().is_some_and(|e| e == "safetensors") {
        return Images::load(path, device);
    }
    let ds = crate::data::images::open(path, None)?;
    let bad = |problem: String| Error::Dataset { path: path.to_path_buf(), problem };
    if ds.is_empty() {
        return Err(bad("the image dataset is empty".into()));
    }
    let labelled = ds.num_classes() > 0;
    let mut images = Vec::with_capacity(ds.len());
    let mut labels = Vec::with_capacity(ds.len());
    for i in 0..ds.len() {
        let sample = ds.get(i)?;
        let [c, h, w] = sample.image.shape();
        let chw =
            Tensor::from_slice(&sample.image.to_chw()).view([1, c as i64, h as i64, w as i64]);
        let chw = match image_size {
            Some(s) if (h, w) != (s as usize, s as usize) => chw
                .to_kind(Kind::Float)
                .upsample_bilinear2d([s as i64, s as i64], false, None, None)
                .round()
                .clamp(0.0, 255.0)
                .to_kind(Kind::Uint8),
            _ => chw,
        };
        if let Some(first) = images.first().map(|t: &Tensor| t.size()) {
            if first != chw.size() {
                return Err(bad(format!(
                    "{} is {:?}, the first image {:?}; give an image size to resize them",
                    ds.describe(i),
                    &chw.size()[1..],
                    &first[1..]
                )));
            }
        }
        images.push(chw);
        labels.push(sample.label.map_or(-1, |l| l as i64));
    }
    let labels = labelled.then(|| Tensor::from_slice(&labels).to_device(device));
    Images::new(Tensor::cat(&images, 0).to_device(device), labels)
}

/// `model` without its head, its input fitted to `shape` (`[C, H, W]` or `[n]`).
pub fn fit_model(model: &ModelConfig, shape: &[i64]) -> Result<ModelConfig> {
    let mut m = model.without_head();
    let bad = |what: &str| {
        Error::Invalid(format!("model '{}' cannot take {what} of shape {shape:?}", model.kind()))
    };
    match (&mut m, shape) {
        (ModelConfig::Mlp(c), [n]) => c.input_dim = *n,
        (ModelConfig::Mlp(c), [ch, h, w]) => c.input_dim = ch * h * w,
        (ModelConfig::NatureCnn(c), [ch, h, w]) => {
            (c.in_channels, c.height, c.width) = (*ch, *h, *w)
        }
        (ModelConfig::ImpalaCnn(c), [ch, h, w]) => {
            (c.in_channels, c.height, c.width) = (*ch, *h, *w)
        }
        (ModelConfig::MinatarCnn(c), [ch, h, w]) => {
            (c.in_channels, c.height, c.width) = (*ch, *h, *w)
        }
        (ModelConfig::DrqCnn(c), [ch, h, w]) => (c.in_channels, c.height, c.width) = (*ch, *h, *w),
        (ModelConfig::Resnet(c), [ch, _, _]) => c.in_channels = *ch,
        (ModelConfig::Vgg(c), [ch, _, _]) => c.in_channels = *ch,
        (ModelConfig::InceptionV3(c), [ch, h, w]) => {
            use crate::models::inception::MIN_SIDE;
            if *h < MIN_SIDE || *w < MIN_SIDE {
                return Err(Error::InputTooSmall {
                    model: "inception_v3".into(),
                    min_side: MIN_SIDE,
                    data: "the pretraining data (examples of shape [C, H, W])".into(),
                    got: shape.to_vec(),
                });
            }
            c.in_channels = *ch;
            // transform_input re-normalises RGB; other channel counts train without it.
            c.transform_input &= *ch == 3;
        }
        (ModelConfig::Vit(c), [ch, h, w]) if h == w => (c.in_channels, c.image_size) = (*ch, *h),
        (_, [_]) => return Err(bad("state vectors")),
        _ => return Err(bad("images")),
    }
    Ok(m)
}

/// Build the task of `config` over `source` in `vs` (the model already fitted).
pub fn build_task(
    vs: &nn::VarStore,
    task: &TaskConfig,
    model: &ModelConfig,
    source: Source,
) -> Result<Box<dyn PretextTask>> {
    let factor = pixel_factor(model);
    let needs =
        |kind: &str| Error::Invalid(format!("pretext task '{}' needs {kind} data", task.name()));
    Ok(match (task, source) {
        (TaskConfig::InverseDynamics(c), Source::Trajectories(d)) => {
            Box::new(InverseDynamics::new(vs, model, *d, c)?)
        }
        (TaskConfig::ForwardPrediction(c), Source::Trajectories(d)) => {
            Box::new(ForwardPrediction::new(vs, model, *d, c)?)
        }
        (TaskConfig::TemporalContrastive(c), Source::Trajectories(d)) => {
            Box::new(TemporalContrastive::new(vs, model, *d, c)?)
        }
        (TaskConfig::BehaviourCloning(c), Source::Trajectories(d)) => {
            Box::new(BehaviourCloning::new(vs, model, *d, c)?)
        }
        (TaskConfig::StatePrediction(c), Source::Trajectories(d)) => {
            Box::new(StatePrediction::new(vs, model, *d, c)?)
        }
        (TaskConfig::NextAction(c), Source::Trajectories(d)) => {
            Box::new(Sequence::new(vs, model, *d, c, false)?)
        }
        (TaskConfig::MaskedAction(c), Source::Trajectories(d)) => {
            Box::new(Sequence::new(vs, model, *d, c, true)?)
        }
        (TaskConfig::Denoising(c), Source::Images(d)) => {
            Box::new(Denoising::new(vs, model, d, factor, c)?)
        }
        (TaskConfig::Rotation(c), Source::Images(d)) => {
            Box::new(Rotation::new(vs, model, d, factor, c)?)
        }
        (TaskConfig::Simclr(c), Source::Images(d)) => {
            Box::new(SimClr::new(vs, model, d, factor, c)?)
        }
        (TaskConfig::Byol(c), Source::Images(d)) => Box::new(Byol::new(vs, model, d, factor, c)?),
        (TaskConfig::Mae(c), Source::Images(d)) => Box::new(Mae::new(vs, model, d, factor, c)?),
        (_, Source::Images(_)) => return Err(needs("trajectory")),
        (_, Source::Trajectories(_)) => return Err(needs("image")),
    })
}

/// Everything [`run`] builds before the loop, for callers that drive the loop themselves
/// (tests, benchmarks).
pub struct Prepared {
    /// The task.
    pub task: Box<dyn PretextTask>,
    /// Its variables.
    pub vs: nn::VarStore,
    /// The optimizer: one group per encoder layer group, then `other` (heads).
    pub optimizer: Optimizer,
    /// The fitted encoder configuration.
    pub model: ModelConfig,
}

/// Open the data, fit the model and build task and optimizer, seeded by the trainer's seed.
pub fn prepare(config: &PretrainConfig) -> Result<Prepared> {
    let device: DeviceChoice = config.device.parse()?;
    let device = device.resolve()?;
    let source = open_source(config, device)?;
    let shape = match &source {
        Source::Trajectories(t) => t.input_shape(),
        Source::Images(i) => i.shape().to_vec(),
    };
    let model = fit_model(&config.model, &shape)?;
    tch::manual_seed(config.trainer.seed as i64);
    let vs = nn::VarStore::new(device);
    let task = build_task(&vs, &config.task, &model, source)?;
    let optimizer = Optimizer::new(&vs, &task.encoder().layer_groups(), &config.trainer.optimizer)?;
    Ok(Prepared { task, vs, optimizer, model })
}

/// Run `config` with its outputs in `out_dir` (created if missing): `config.json`,
/// `metrics.csv`, TensorBoard events, `checkpoint.safetensors` and
/// `encoder.safetensors`. A directory that already holds a run is refused unless
/// `config.resume` (continue from the checkpoint there) or `config.overwrite` (replace it);
/// see [`crate::report::run_dir`].
pub fn run(
    config: &PretrainConfig,
    out_dir: &Path,
    hooks: &mut dyn TrainHooks,
) -> Result<PretrainOutcome> {
    let dist = world::from_env()?;
    let writer = dist.as_ref().is_none_or(|e| e.is_master());
    let mut config = config.clone();
    if let Some(env) = &dist {
        // One GPU per rank: `cuda` (or `auto` on a CUDA machine) means cuda:LOCAL_RANK.
        let device = config.device.parse::<DeviceChoice>()?.resolve()?;
        if matches!(device, Device::Cuda(_)) && !config.device.contains(':') {
            config.device = format!("cuda:{}", env.local_rank);
        }
    }
    let config = &config;
    // Refused before the data is opened; nothing is written until the inputs are validated.
    let mode = RunDirMode::from_flags(config.resume, config.overwrite)?;
    if writer {
        run_dir::check(out_dir, mode)?;
    }
    let Prepared { mut task, mut vs, mut optimizer, model } = prepare(config)?;
    // The rendezvous comes before rank 0 writes anything, so every rank has passed its own
    // checks of the run directory by then.
    let dp = match &dist {
        Some(env) => {
            let backend = if vs.device() == Device::Cpu { Backend::Gloo } else { Backend::Nccl };
            let pg = world::take_group(backend, env)?;
            Some(DataParallel::new(pg, &vs)?)
        }
        None => None,
    };
    let result = (|| -> Result<(trainer::LoopOutcome, PathBuf)> {
        if writer {
            run_dir::start(out_dir, mode)?;
            let mut saved = config.clone();
            saved.model = model.clone();
            let cfg_path = out_dir.join("config.json");
            std::fs::write(&cfg_path, saved.to_json()).map_err(|e| Error::io(&cfg_path, e))?;
        }
        let outcome = trainer::fit_data_parallel(
            task.as_mut(),
            Loop {
                config: &config.trainer,
                vs: &mut vs,
                optimizer: &mut optimizer,
                out_dir,
                resume: config.resume,
                hooks,
                stop_after: None,
            },
            dp.as_ref(),
        )?;
        let encoder_path = out_dir.join(ENCODER_FILE);
        if writer {
            export_encoder(&vs, &model, outcome.steps, &encoder_path)?;
        }
        if let Some(dp) = &dp {
            // The other ranks may read the encoder next (a script fine-tuning it).
            dp.process_group().barrier()?;
        }
        Ok((outcome, encoder_path))
    })();
    if let Some(dp) = dp {
        world::return_group(dp.into_process_group());
    }
    let (outcome, encoder_path) = result?;
    Ok(PretrainOutcome {
        steps: outcome.steps,
        ended: outcome.ended,
        first_loss: outcome.first_loss,
        final_loss: outcome.final_loss,
        metrics: outcome.metrics,
        encoder_path,
        checkpoint_path: out_dir.join(CHECKPOINT_FILE),
        model,
    })
}

/// Write the variables under `encoder.` of `vs` as a stand-alone encoder checkpoint (keys
/// without the prefix, `model` in the metadata), checked by building `model` at the root of
/// a fresh VarStore and loading them strictly.
pub fn export_encoder(
    vs: &nn::VarStore,
    model: &ModelConfig,
    step: u64,
    path: &Path,
) -> Result<()> {
    let out = nn::VarStore::new(Device::Cpu);
    let _encoder = model.build(&out.root())?;
    let src = vs.variables();
    let dot = format!("{ENCODER}.");
    tch::no_grad(|| -> Result<()> {
        for (name, mut t) in out.variables() {
            let key = format!("{dot}{name}");
            let v = src.get(&key).ok_or_else(|| {
                Error::Invalid(format!("encoder export: the task has no variable '{key}'"))
            })?;
            t.copy_(&v.to_device(Device::Cpu));
        }
        Ok(())
    })?;
    let extra = src.keys().filter(|k| key_has_prefix(k, ENCODER)).count();
    if extra != out.variables().len() {
        return Err(Error::Invalid(format!(
            "encoder export: the task's encoder has {extra} variables, the model {}",
            out.variables().len()
        )));
    }
    checkpoint::save(path, &out, &CheckpointMeta::new(Some(model), Some(step)))
}
