//! Image pipeline benchmarks: PNG decoding and SimCLR augmentation per 32x32 image, and the
//! loader's throughput (decode + SimCLR augment + batch tensor, batch 256, 2 workers) on a
//! 32x32 PNG ImageFolder and on a CIFAR-10 binary file with the same pixels.
//!
//! The data (2560 smooth random 32x32 images) is written to `$GRAFT_BENCH_DIR/images`
//! (default `/tmp/graft-bench-data/images`) on the first run. The side-by-side comparison
//! with torchvision is `benchmarks/peers/run_images.sh`.

use std::hint::black_box;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion, Throughput};

use graft::data::augment::{sample_rng, Pipeline};
use graft::data::images::{decode, Cifar, CifarKind, ColorMode, ImageDataset, ImageFolder};
use graft::data::loader::{Loader, LoaderConfig};
use graft::envs::EnvRng;

const PER_CLASS: usize = 256;
const BATCH: usize = 256;

fn dir() -> PathBuf {
    let base = std::env::var("GRAFT_BENCH_DIR").unwrap_or("/tmp/graft-bench-data".into());
    PathBuf::from(base).join("images")
}

/// Smooth blobs plus a little noise: compresses like natural 32x32 images do.
fn blob_image(rng: &mut EnvRng) -> Vec<u8> {
    let mut img = vec![0f32; 32 * 32 * 3];
    for _ in 0..4 {
        let (cy, cx, r) = (rng.uniform(0.0, 32.0), rng.uniform(0.0, 32.0), rng.uniform(3.0, 16.0));
        let col = [rng.uniform(0.0, 255.0), rng.uniform(0.0, 255.0), rng.uniform(0.0, 255.0)];
        for y in 0..32 {
            for x in 0..32 {
                let d2 = (y as f64 - cy).powi(2) + (x as f64 - cx).powi(2);
                let w = (-d2 / (2.0 * r * r)).exp();
                for c in 0..3 {
                    let p = &mut img[(y * 32 + x) * 3 + c];
                    *p = (*p as f64 * (1.0 - w) + col[c] * w) as f32;
                }
            }
        }
    }
    img.iter().map(|&v| (v as f64 + rng.normal() * 4.0).clamp(0.0, 255.0) as u8).collect()
}

/// Write the folder and the CIFAR file once.
fn data() -> (PathBuf, PathBuf) {
    let d = dir();
    let (folder, cifar) = (d.join("folder"), d.join("data_batch_1.bin"));
    if cifar.exists() {
        return (folder, cifar);
    }
    let mut rng = EnvRng::seed_from(0);
    let mut records = Vec::new();
    for c in 0..10 {
        let cd = folder.join(format!("class{c}"));
        std::fs::create_dir_all(&cd).expect("bench dir");
        for i in 0..PER_CLASS {
            let hwc = blob_image(&mut rng);
            image::save_buffer(
                cd.join(format!("{i:05}.png")),
                &hwc,
                32,
                32,
                image::ColorType::Rgb8,
            )
            .expect("png");
            records.push(c as u8);
            for ch in 0..3 {
                records.extend((0..1024).map(|p| hwc[p * 3 + ch]));
            }
        }
    }
    std::fs::write(&cifar, records).expect("cifar file");
    (folder, cifar)
}

/// Images/s of `loader`, pulling batches across epochs as a training loop does.
fn time_loader<D: ImageDataset + 'static>(loader: &Loader<D>, iters: u64) -> Duration {
    let mut epoch = 0;
    let mut it = loader.epoch(epoch);
    let t0 = Instant::now();
    for _ in 0..iters {
        let b = match it.next() {
            Some(b) => b,
            None => {
                epoch += 1;
                it = loader.epoch(epoch);
                it.next().expect("batch")
            }
        };
        black_box(b.expect("batch"));
    }
    t0.elapsed()
}

fn bench(c: &mut Criterion) {
    let (folder_path, cifar_path) = data();
    let folder = Arc::new(ImageFolder::open(&folder_path).expect("folder"));
    let cifar = Arc::new(Cifar::open(&[&cifar_path], CifarKind::Cifar10).expect("cifar"));
    let pipe = Pipeline::simclr_cifar(32);
    let mut g = c.benchmark_group("images");
    g.sample_size(10).warm_up_time(Duration::from_secs(1)).measurement_time(Duration::from_secs(5));

    let (png_path, _) = &folder.files()[0];
    let bytes = std::fs::read(png_path).expect("png");
    g.throughput(Throughput::Elements(1));
    g.bench_function("decode_png_32", |b| {
        b.iter(|| decode(black_box(&bytes), png_path, ColorMode::Rgb).expect("decode"))
    });
    let img = folder.get(0).expect("image").image;
    let mut i = 0u64;
    g.bench_function("simclr_augment_32", |b| {
        b.iter(|| {
            i += 1;
            pipe.apply(black_box(&img), &mut sample_rng(0, 0, i, 0)).expect("augment")
        })
    });

    g.throughput(Throughput::Elements(BATCH as u64));
    let cfg = LoaderConfig { batch_size: BATCH, workers: 2, drop_last: true, ..Default::default() };
    let lf = Loader::new(folder, pipe.clone(), cfg.clone()).expect("loader");
    g.bench_function("loader_folder_png32_b256", |b| b.iter_custom(|n| time_loader(&lf, n)));
    let lc = Loader::new(cifar, pipe, cfg).expect("loader");
    g.bench_function("loader_cifar_b256", |b| b.iter_custom(|n| time_loader(&lc, n)));
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
