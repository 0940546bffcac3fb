//! Dataset benchmarks: write and read throughput for 1M CartPole transitions and 100k 64x64
//! frames, batch-256 sampling into tensors, and raw `uint8` vs PNG frames.
//!
//! The files are left in `$GRAFT_BENCH_DIR` (default `/tmp/graft-bench-data`) so that
//! `benchmarks/peers/pyarrow_read.py` reads the same files in the same shell run
//! (`benchmarks/peers/run_data.sh`). `GRAFT_BENCH_FRAMES` overrides the 100k frame count.

use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use tch::Device;

use graft::data::{Dataset, DatasetWriter, NewDataset, ObsView, WriterOptions};
use graft::envs::{
    registry, Action, AddRenderObservation, Env, EnvRng, Info, Kwargs, Obs, RenderObservationConfig,
};

fn dir() -> PathBuf {
    let d =
        PathBuf::from(std::env::var("GRAFT_BENCH_DIR").unwrap_or("/tmp/graft-bench-data".into()));
    std::fs::create_dir_all(&d).expect("bench dir");
    d
}

/// One recorded episode: observations (N + 1), actions, rewards, (terminated, truncated).
type Episode = (Vec<Obs>, Vec<i64>, Vec<f64>, Vec<(bool, bool)>);

/// Transitions recorded in memory.
struct Recorded {
    episodes: Vec<Episode>,
    obs_space: graft::envs::Space,
    act_space: graft::envs::Space,
}

fn record(pixels: bool, steps: usize) -> Recorded {
    let base = registry::make("CartPole-v1", &Kwargs::new()).expect("env");
    let mut env: Box<dyn Env> = if pixels {
        Box::new(
            AddRenderObservation::with_config(
                base,
                RenderObservationConfig {
                    render_only: false,
                    size: Some((64, 64)),
                    ..Default::default()
                },
            )
            .expect("pixels"),
        )
    } else {
        base
    };
    let mut rng = EnvRng::seed_from(0);
    let mut episodes = Vec::new();
    let (mut total, mut e) = (0, 0u64);
    while total < steps {
        let mut obs = Obs::zeros(env.observation_space());
        env.reset_into(Some(e), &Kwargs::new(), obs.as_mut()).expect("reset");
        let (mut os, mut acts, mut rews, mut flags) = (vec![obs], vec![], vec![], vec![]);
        loop {
            let a = rng.below(2) as i64;
            let mut next = Obs::zeros(env.observation_space());
            let out = env.step_into(Action::Discrete(a).as_ref(), next.as_mut()).expect("step");
            os.push(next);
            acts.push(a);
            rews.push(out.reward);
            flags.push((out.terminated, out.truncated));
            total += 1;
            if out.terminated || out.truncated || total >= steps {
                break;
            }
        }
        // A cut-short last episode is closed as truncated.
        if let Some(f) = flags.last_mut() {
            f.1 |= !f.0;
        }
        episodes.push((os, acts, rews, flags));
        e += 1;
    }
    Recorded {
        episodes,
        obs_space: env.observation_space().clone(),
        act_space: env.action_space().clone(),
    }
}

fn write(rec: &Recorded, path: &Path) {
    let mut w = DatasetWriter::create(
        path,
        NewDataset::new("bench", rec.obs_space.clone(), rec.act_space.clone()),
        WriterOptions::default(),
    )
    .expect("create");
    let info = Info::new();
    for (os, acts, rews, flags) in &rec.episodes {
        w.begin_episode(ObsView::of(&os[0])).expect("begin");
        for t in 0..acts.len() {
            let a = Action::Discrete(acts[t]);
            w.push_step(
                a.as_ref(),
                rews[t],
                flags[t].0,
                flags[t].1,
                ObsView::of(&os[t + 1]),
                &info,
            )
            .expect("step");
        }
        w.end_episode().expect("end");
    }
    w.finish().expect("finish");
}

/// The records of `path` rewritten by arrow-rs's own file writer to `out`: the same data
/// without Graft's checksums, so opening it costs the structural checks alone (what the
/// checksums add to an open is the difference).
fn copy_without_checksums(path: &Path, out: &Path) {
    let ds = Dataset::open(path).expect("open");
    let file = std::fs::File::create(out).expect("create");
    let mut w = arrow_ipc::writer::FileWriter::try_new(file, ds.schema()).expect("writer");
    for b in ds.record_batches() {
        w.write(b).expect("write");
    }
    w.finish().expect("finish");
}

/// Open, then touch every observation and reward (the same work as the pyarrow peer's sum).
fn open_and_scan(path: &Path) -> f64 {
    let ds = Dataset::open(path).expect("open");
    let mut sum = 0.0f64;
    for b in ds.record_batches() {
        let obs = b.column_by_name("observations").expect("obs");
        let l = arrow_array::cast::AsArray::as_fixed_size_list(obs);
        let v = l.values();
        if let Some(f) =
            arrow_array::cast::AsArray::as_primitive_opt::<arrow_array::types::Float32Type>(v)
        {
            // Eight accumulators, so the compiler can vectorise (numpy sums pairwise).
            let mut acc = [0f64; 8];
            let xs = f.values();
            let mut it = xs.chunks_exact(8);
            for c8 in &mut it {
                for (a, &x) in acc.iter_mut().zip(c8) {
                    *a += x as f64;
                }
            }
            sum += acc.iter().sum::<f64>() + it.remainder().iter().map(|&x| x as f64).sum::<f64>();
        } else {
            let u = arrow_array::cast::AsArray::as_primitive::<arrow_array::types::UInt8Type>(v);
            sum += u.values().iter().map(|&x| x as u64).sum::<u64>() as f64;
        }
        let r = b.column_by_name("rewards").expect("rewards");
        let r = arrow_array::cast::AsArray::as_primitive::<arrow_array::types::Float64Type>(r);
        sum += r.iter().flatten().sum::<f64>();
    }
    sum
}

fn bench_vectors(c: &mut Criterion) {
    let n = 1_000_000;
    let rec = record(false, n);
    let path = dir().join("cartpole_1m.arrow");
    let mut g = c.benchmark_group("cartpole_1m");
    g.sample_size(10).measurement_time(Duration::from_secs(8));
    g.throughput(Throughput::Elements(n as u64));
    g.bench_function("write", |b| b.iter(|| write(&rec, &path)));
    g.bench_function("open_index", |b| {
        b.iter(|| black_box(Dataset::open(&path).expect("open").num_transitions()))
    });
    g.bench_function("open_scan", |b| b.iter(|| black_box(open_and_scan(&path))));
    let plain = dir().join("cartpole_1m_no_checksums.arrow");
    copy_without_checksums(&path, &plain);
    g.bench_function("open_index_no_checksums", |b| {
        b.iter(|| black_box(Dataset::open(&plain).expect("open").num_transitions()))
    });
    g.finish();
    let ds = Dataset::open(&path).expect("open");
    let mut rng = EnvRng::seed_from(1);
    c.bench_function("sample_256_vector_to_tensor", |b| {
        b.iter(|| black_box(ds.sample(256, &mut rng, Device::Cpu).expect("sample")))
    });
    // The floor under the sampling figure: creating the six tensors of a batch in libtorch.
    c.bench_function("libtorch_floor_6_tensors", |b| {
        b.iter(|| {
            let o = tch::Tensor::empty([256, 4], (tch::Kind::Float, Device::Cpu));
            let n = tch::Tensor::empty([256, 4], (tch::Kind::Float, Device::Cpu));
            let a = tch::Tensor::empty([256], (tch::Kind::Int64, Device::Cpu));
            let r = tch::Tensor::from_slice(&[0f32; 256]);
            let te = tch::Tensor::from_slice(&[false; 256]);
            let tr = tch::Tensor::from_slice(&[false; 256]);
            black_box((o, n, a, r, te, tr))
        })
    });
    let idx: Vec<usize> =
        (0..ds.num_transitions()).step_by(ds.num_transitions() / 1000).take(1000).collect();
    c.bench_function("transition_random_access", |b| {
        b.iter(|| idx.iter().map(|&i| ds.transition(i).expect("t").reward).sum::<f64>())
    });
}

fn bench_frames(c: &mut Criterion) {
    let n: usize =
        std::env::var("GRAFT_BENCH_FRAMES").ok().and_then(|s| s.parse().ok()).unwrap_or(100_000);
    let rec = record(true, n);
    let path = dir().join("cartpole_frames.arrow");
    let mut g = c.benchmark_group("frames_64x64");
    g.sample_size(10).measurement_time(Duration::from_secs(10));
    g.throughput(Throughput::Elements(n as u64));
    g.bench_function("write", |b| b.iter(|| write(&rec, &path)));
    g.bench_function("open_scan", |b| b.iter(|| black_box(open_and_scan(&path))));
    let plain = dir().join("cartpole_frames_no_checksums.arrow");
    copy_without_checksums(&path, &plain);
    g.bench_function("open_index_no_checksums", |b| {
        b.iter(|| black_box(Dataset::open(&plain).expect("open").num_transitions()))
    });
    g.bench_function("open_index", |b| {
        b.iter(|| black_box(Dataset::open(&path).expect("open").num_transitions()))
    });
    g.finish();
    let ds = Dataset::open(&path).expect("open");
    let mut rng = EnvRng::seed_from(1);
    c.bench_function("sample_256_frames_to_tensor", |b| {
        b.iter(|| black_box(ds.sample(256, &mut rng, Device::Cpu).expect("sample")))
    });

    // Raw uint8 vs PNG for the same 1000 frames.
    let frames: Vec<&[u8]> =
        (0..1000.min(ds.num_transitions())).map(|t| ds.transition(t).expect("t").obs.u8).collect();
    let encode = |f: &[u8]| {
        let mut out = Vec::new();
        let enc = image::codecs::png::PngEncoder::new(&mut out);
        image::ImageEncoder::write_image(enc, f, 64, 64, image::ExtendedColorType::Rgb8)
            .expect("png");
        out
    };
    let t0 = Instant::now();
    let pngs: Vec<Vec<u8>> = frames.iter().map(|f| encode(f)).collect();
    let enc_us = t0.elapsed().as_secs_f64() * 1e6 / frames.len() as f64;
    let png_bytes: usize = pngs.iter().map(|p| p.len()).sum();
    eprintln!(
        "frames: raw {} bytes/frame, PNG {:.0} bytes/frame (mean of {}), PNG encode {enc_us:.1} us/frame; file {} MB for {} rows",
        64 * 64 * 3,
        png_bytes as f64 / pngs.len() as f64,
        pngs.len(),
        ds.file_bytes() / 1_000_000,
        ds.num_rows()
    );
    c.bench_function("frame_decode_png", |b| {
        let mut i = 0;
        b.iter(|| {
            i = (i + 1) % pngs.len();
            black_box(
                image::load_from_memory_with_format(&pngs[i], image::ImageFormat::Png)
                    .expect("decode"),
            )
        })
    });
    c.bench_function("frame_read_raw", |b| {
        let mut i = 0;
        b.iter(|| {
            i = (i + 1) % frames.len();
            black_box(frames[i].to_vec())
        })
    });
}

criterion_group!(benches, bench_vectors, bench_frames);
criterion_main!(benches);
