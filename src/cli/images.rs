//! `graft images`: look at an image dataset (classes, counts, sizes), write a PNG grid of an
//! augmented batch, and measure the loader (with a ResNet-18 training step beside it).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use clap::{Args, Subcommand};
use rayon::prelude::*;
use tch::nn::{self, ModuleT};
use tch::{Device, Kind, Tensor};

use graft::data::augment::{self, Augment, Pipeline};
use graft::data::images::{self, AnyDataset, Check, ImageDataset, ImageFolder};
use graft::data::loader::{BatchKind, Loader, LoaderConfig};
use graft::models::resnet::ResNetConfig;
use graft::optim::{Optimizer, OptimizerConfig};
use graft::{Error, ModelConfig, Result};

use crate::cli::values::{at_least, name_in};

#[derive(Subcommand)]
pub enum ImagesCommand {
    /// Print the format, sample count, classes with their counts and the image sizes. Every
    /// file of an image folder is checked: a truncated or unreadable one is reported by name
    /// and the exit status is 1.
    Info {
        #[command(flatten)]
        source: SourceArgs,
        /// Decode every image of a folder (slower) instead of checking each file's header and
        /// end marker, to find corruption inside complete files as well. Other formats are
        /// checked whole when opened.
        #[arg(long)]
        verify: bool,
    },
    /// Write a PNG grid of one augmented batch (views of an image side by side).
    Preview {
        #[command(flatten)]
        source: SourceArgs,
        #[command(flatten)]
        aug: AugArgs,
        /// Images in the batch (at least 1; at most the dataset's are shown).
        #[arg(long, default_value_t = 16, value_parser = at_least::<usize>(1))]
        batch: usize,
        /// Augmented views per image (2: SimCLR's pairs; at least 1).
        #[arg(long, default_value_t = 1, value_parser = at_least::<usize>(1))]
        views: usize,
        /// Output PNG path.
        #[arg(short, long)]
        output: PathBuf,
    },
    /// Measure loader throughput (decode + augment, images/s); with --train, also a ResNet-18
    /// training loop on synthetic input and the same loop fed by the loader.
    Bench {
        #[command(flatten)]
        source: SourceArgs,
        #[command(flatten)]
        aug: AugArgs,
        /// Images per batch (at least 1).
        #[arg(long, default_value_t = 256, value_parser = at_least::<usize>(1))]
        batch: usize,
        /// Loader worker threads (0: one per core).
        #[arg(long, default_value_t = 0)]
        workers: usize,
        /// Batches to time (after one warm-up batch; at least 1); the epoch wraps around as
        /// needed.
        #[arg(long, default_value_t = 20, value_parser = at_least::<usize>(1))]
        batches: usize,
        /// Also time ResNet-18 (CIFAR stem, 10-class head, SGD) training steps.
        #[arg(long)]
        train: bool,
        /// Batch size of the training steps (at least 1).
        #[arg(long, default_value_t = 64, value_parser = at_least::<usize>(1))]
        train_batch: usize,
        /// Training steps to time for each of the two loops (at least 1).
        #[arg(long, default_value_t = 5, value_parser = at_least::<usize>(1))]
        train_steps: usize,
    },
}

#[derive(Args)]
pub struct SourceArgs {
    /// An ImageFolder (root/<class>/*.png|jpg), a CIFAR .bin file or folder, an MNIST IDX
    /// file or folder, or an Arrow trajectory file with pixel observations.
    path: PathBuf,
    /// Format, when the path does not tell.
    #[arg(long, value_parser = name_in(images::FORMATS))]
    format: Option<String>,
}

#[derive(Args)]
pub struct AugArgs {
    /// Augmentation preset.
    #[arg(long, default_value = "simclr", value_parser = name_in(augment::PRESETS))]
    preset: String,
    /// Output side of the SimCLR presets' crop (default: the dataset's image side, or 32; at
    /// least 1).
    #[arg(long, value_parser = at_least::<usize>(1))]
    size: Option<usize>,
}

pub fn run(cmd: ImagesCommand, seed: u64) -> Result<()> {
    match cmd {
        ImagesCommand::Info { source, verify } => info(&source, verify),
        ImagesCommand::Preview { source, aug, batch, views, output } => {
            preview(&source, &aug, batch, views, &output, seed)
        }
        ImagesCommand::Bench {
            source,
            aug,
            batch,
            workers,
            batches,
            train,
            train_batch,
            train_steps,
        } => bench(
            &source,
            &aug,
            batch,
            workers,
            batches,
            seed,
            train.then_some((train_batch, train_steps)),
        ),
    }
}

fn open(src: &SourceArgs) -> Result<(String, AnyDataset)> {
    let format = match &src.format {
        Some(f) => f.clone(),
        None => images::detect(&src.path)?,
    };
    let ds = images::open(&src.path, Some(&format))?;
    Ok((format, ds))
}

fn info(src: &SourceArgs, verify: bool) -> Result<()> {
    let (format, ds) = open(src)?;
    println!("path: {}", src.path.display());
    println!("format: {format}");
    println!("samples: {}", ds.len());
    let names = ds.class_names();
    match ds.labels() {
        Some(labels) => {
            let mut counts = vec![0usize; names.len().max(1)];
            for l in labels {
                if l < counts.len() {
                    counts[l] += 1;
                }
            }
            println!("classes: {}", names.len());
            for (i, name) in names.iter().enumerate() {
                println!("  {i:>3} {name}: {}", counts[i]);
            }
        }
        None => println!("classes: none (label-free)"),
    }
    let mut damaged = Vec::new();
    if format == "folder" {
        // Truncation (an interrupted download or copy) is the usual damage and shows at the
        // end of a file, so by default each file's header and end marker are read: fast on
        // folders of a million images. --verify decodes them all, in parallel.
        let folder = ImageFolder::open(&src.path)?;
        let level = if verify { Check::Decode } else { Check::Complete };
        let checked: Vec<Result<(u32, u32)>> =
            (0..folder.len()).into_par_iter().map(|i| folder.check(i, level)).collect();
        let mut sizes: BTreeMap<(u32, u32), usize> = BTreeMap::new();
        for result in checked {
            match result {
                Ok(size) => *sizes.entry(size).or_default() += 1,
                Err(e) => damaged.push(e),
            }
        }
        let list: Vec<String> = sizes.iter().map(|((w, h), n)| format!("{w}x{h} ({n})")).collect();
        println!("image sizes (WxH): {}", list.join(", "));
        let skipped = folder.skipped();
        if let Some(first) = skipped.first() {
            tracing::warn!(
                skipped = skipped.len(),
                "{} file(s) skipped (not png, jpg or jpeg), e.g. {}",
                skipped.len(),
                first.display()
            );
        }
    } else if let Some([c, h, w]) = ds.shape() {
        println!("image size (WxH): {w}x{h}, channels: {c}");
    }
    if damaged.is_empty() {
        return Ok(());
    }
    for e in &damaged {
        eprintln!("graft: damaged: {e}");
    }
    Err(Error::ImageData {
        path: src.path.clone(),
        problem: format!(
            "{} of {} image file(s) are damaged (listed above); remove or replace them",
            damaged.len(),
            ds.len()
        ),
    })
}

/// The preset for `ds`: SimCLR crops to `--size`, else to the dataset's side, else 32.
fn pipeline(aug: &AugArgs, ds: &dyn ImageDataset) -> Result<Pipeline> {
    let side = aug.size.or_else(|| ds.shape().map(|[_, h, w]| h.min(w))).unwrap_or(32);
    Pipeline::preset(&aug.preset, side)
}

fn preview(
    src: &SourceArgs,
    aug: &AugArgs,
    batch: usize,
    views: usize,
    output: &Path,
    seed: u64,
) -> Result<()> {
    let (_, ds) = open(src)?;
    let mut pipe = pipeline(aug, &*ds)?;
    // Show what the network sees before normalisation: the grid needs values in [0, 1].
    pipe.steps.retain(|s| !matches!(s, Augment::Normalize { .. }));
    let n = ds.len();
    let cfg = LoaderConfig {
        batch_size: batch.min(n),
        seed,
        views,
        workers: 1,
        kind: BatchKind::Uint8,
        ..LoaderConfig::default()
    };
    let loader = Loader::new(Arc::new(ds), pipe, cfg)?;
    let b = loader.batch(0, 0)?;
    let grid = grid(&b.views)?;
    super::envs::save_png_atomically(&grid, output)?;
    println!(
        "{} image(s) x {views} view(s), preset {}, written to {} ({}x{})",
        b.indices.len(),
        aug.preset,
        output.display(),
        grid.width(),
        grid.height()
    );
    Ok(())
}

/// Tiles of `[B, C, H, W]` uint8 views: one row of `views` tiles per image, wrapped into
/// columns so the grid is roughly square; tiles enlarged (nearest) to at least 64 pixels.
fn grid(views: &[Tensor]) -> Result<image::RgbImage> {
    let size = views[0].size();
    let (b, c, h, w) = (size[0] as usize, size[1] as usize, size[2] as usize, size[3] as usize);
    let nv = views.len();
    let zoom = 64usize.div_ceil(h.max(w)).max(1);
    let (th, tw, pad) = (h * zoom, w * zoom, 2usize);
    let per_row = ((b as f64).sqrt().ceil() as usize).max(1);
    let rows = b.div_ceil(per_row);
    let cell_w = nv * (tw + pad) + pad;
    let (gw, gh) = (per_row * cell_w, rows * (th + pad) + pad);
    let mut img = image::RgbImage::from_pixel(gw as u32, gh as u32, image::Rgb([40, 40, 40]));
    for (v, t) in views.iter().enumerate() {
        let data: Vec<u8> = Vec::<u8>::try_from(t.contiguous().view([-1]))?;
        for i in 0..b {
            let (gx, gy) =
                ((i % per_row) * cell_w + pad + v * (tw + pad), (i / per_row) * (th + pad) + pad);
            for y in 0..th {
                for x in 0..tw {
                    let at =
                        |ch: usize| data[((i * c + ch.min(c - 1)) * h + y / zoom) * w + x / zoom];
                    img.put_pixel(
                        (gx + x) as u32,
                        (gy + y) as u32,
                        image::Rgb([at(0), at(1), at(2)]),
                    );
                }
            }
        }
    }
    Ok(img)
}

fn bench(
    src: &SourceArgs,
    aug: &AugArgs,
    batch: usize,
    workers: usize,
    batches: usize,
    seed: u64,
    train: Option<(usize, usize)>,
) -> Result<()> {
    let (format, ds) = open(src)?;
    let pipe = pipeline(aug, &*ds)?;
    let ds = Arc::new(ds);
    let cfg = LoaderConfig {
        batch_size: batch,
        seed,
        workers,
        drop_last: true,
        ..LoaderConfig::default()
    };
    let loader = Loader::new(ds.clone(), pipe.clone(), cfg)?;
    if loader.batches_per_epoch() == 0 {
        return Err(Error::Invalid(format!(
            "the dataset has {} images, fewer than one batch of {batch}",
            ds.len()
        )));
    }
    println!(
        "dataset: {} ({format}, {} images), preset {}, batch {batch}",
        src.path.display(),
        ds.len(),
        aug.preset
    );
    // Warm-up batch (file cache, thread start), then `batches` timed ones.
    let mut epoch = 0;
    let mut iter = loader.epoch(epoch);
    let next = |iter: &mut graft::data::loader::EpochIter, epoch: &mut u64| -> Result<Tensor> {
        loop {
            if let Some(b) = iter.next() {
                return Ok(b?.views.remove(0));
            }
            *epoch += 1;
            *iter = loader.epoch(*epoch);
        }
    };
    let _ = next(&mut iter, &mut epoch)?;
    let t0 = Instant::now();
    for _ in 0..batches {
        let _ = next(&mut iter, &mut epoch)?;
    }
    let rate = (batches * batch) as f64 / t0.elapsed().as_secs_f64();
    println!("RESULT loader_images_per_s {rate:.1}");
    drop(iter);
    if let Some((tb, steps)) = train {
        train_bench(ds, pipe, tb, steps, workers, seed)?;
    }
    Ok(())
}

/// ResNet-18 (CIFAR stem, 10 classes) SGD steps (Graft's optimizer, momentum 0.9): on one fixed synthetic batch (compute
/// only), then fed by the loader (compute + waiting for data). Equal rates mean the loader
/// keeps the loop fed.
fn train_bench(
    ds: Arc<AnyDataset>,
    pipe: Pipeline,
    batch: usize,
    steps: usize,
    workers: usize,
    seed: u64,
) -> Result<()> {
    tch::manual_seed(seed as i64);
    let vs = nn::VarStore::new(Device::Cpu);
    let model = ModelConfig::Resnet(ResNetConfig::resnet18().cifar(10)).build(&vs.root())?;
    let mut opt = Optimizer::for_all(&vs, &OptimizerConfig::sgd(0.01, 0.9))?;
    let loader = Loader::new(
        ds,
        pipe,
        LoaderConfig {
            batch_size: batch,
            seed,
            workers,
            drop_last: true,
            ..LoaderConfig::default()
        },
    )?;
    let mut step = |x: &Tensor, y: &Tensor| -> Result<()> {
        let loss = model.forward_t(x, true).cross_entropy_for_logits(y);
        opt.backward_step(&loss)
    };
    let mut iter = loader.epoch(0);
    let first = iter.next().ok_or_else(|| Error::Invalid("no batch".into()))??;
    let x = first.views[0].shallow_clone();
    let y = first
        .labels
        .unwrap_or_else(|| Tensor::zeros([batch as i64], (Kind::Int64, Device::Cpu)))
        .remainder(10);
    step(&x, &y)?; // warm-up
    let t0 = Instant::now();
    for _ in 0..steps {
        step(&x, &y)?;
    }
    let synthetic = (steps * batch) as f64 / t0.elapsed().as_secs_f64();
    println!("RESULT train_synthetic_images_per_s {synthetic:.1}");
    let t0 = Instant::now();
    let mut done = 0;
    let mut epoch = 0;
    while done < steps {
        match iter.next() {
            Some(b) => {
                let b = b?;
                let y = b.labels.unwrap_or_else(|| y.shallow_clone()).remainder(10);
                step(&b.views[0], &y)?;
                done += 1;
            }
            None => {
                epoch += 1;
                iter = loader.epoch(epoch);
            }
        }
    }
    let fed = (steps * batch) as f64 / t0.elapsed().as_secs_f64();
    println!("RESULT train_fed_images_per_s {fed:.1}");
    println!("fed / synthetic: {:.2}", fed / synthetic);
    Ok(())
}
