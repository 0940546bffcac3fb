//! Image datasets and the loader: every dataset format on files made here, bad input, loader
//! determinism, scikit-learn's digits exported by scripts/export-digits.py, and the
//! `graft images` commands. The augmentations are in tests/augment.rs.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

use graft::data::augment::Pipeline;
use graft::data::images::{
    train_val_split, Check, Cifar, CifarKind, ColorMode, FolderOptions, Idx, Image, ImageDataset,
    ImageFolder, TensorDataset, TensorLayout, TrajectoryFrames, UnknownFiles, Unlabeled,
};
use graft::data::loader::{normalize_on_device, BatchKind, Loader, LoaderConfig};
use graft::data::{collect, CollectConfig, PolicySpec};
use graft::Error;
use tch::{Kind, Tensor};

mod support;
use support::python;
use support::random_image;

fn tmp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("graft-images-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

// ---------------------------------------------------------------- datasets

/// root/<class>/<i>.png with images whose pixels encode (class, i).
fn make_folder(root: &Path, classes: &[&str], per_class: usize, side: u32) {
    for (c, name) in classes.iter().enumerate() {
        let d = root.join(name);
        std::fs::create_dir_all(&d).unwrap();
        for i in 0..per_class {
            let img = image::RgbImage::from_fn(side, side, |x, y| {
                image::Rgb([(c * 40 + i) as u8, (x * 7) as u8, (y * 5) as u8])
            });
            img.save(d.join(format!("{i}.png"))).unwrap();
        }
    }
}

#[test]
fn image_folder_lists_sorted_classes_and_decodes_png_and_jpeg() {
    let root = tmp_dir("folder");
    make_folder(&root, &["dog", "cat"], 3, 6);
    let jpg = image::RgbImage::from_pixel(5, 4, image::Rgb([200, 100, 50]));
    jpg.save(root.join("dog/x.JPG")).unwrap();
    std::fs::write(root.join("cat/notes.txt"), "hello").unwrap();
    std::fs::write(root.join("README"), "top-level file").unwrap();
    let ds = ImageFolder::open(&root).unwrap();
    assert_eq!(ds.class_names(), ["cat", "dog"]);
    assert_eq!(ds.len(), 7);
    assert_eq!(ds.skipped().len(), 2);
    assert_eq!(ds.labels().unwrap(), vec![0, 0, 0, 1, 1, 1, 1]);
    let s = ds.get(4).unwrap(); // dog/1.png
    assert_eq!((s.label, s.image.shape()), (Some(1), [3, 6, 6]));
    // Pixel (x=2, y=3): [c * 40 + i, 14, 15], c being dog's position in make_folder (0).
    assert_eq!(&s.image.data[(3 * 6 + 2) * 3..][..3], &[1, 14, 15]);
    let j = ds.get(6).unwrap(); // dog/x.JPG, lossy: near the colour
    assert_eq!(j.image.shape(), [3, 4, 5]);
    assert!(j
        .image
        .data
        .chunks(3)
        .all(|p| (p[0] as i32 - 200).abs() < 8 && (p[2] as i32 - 50).abs() < 8));
    assert_eq!(ds.dimensions(6).unwrap(), (5, 4));
    let grey = ImageFolder::open_with(
        &root,
        FolderOptions { color: ColorMode::Gray, ..Default::default() },
    )
    .unwrap();
    assert_eq!(grey.get(0).unwrap().image.channels, 1);
    let strict = ImageFolder::open_with(
        &root,
        FolderOptions { unknown_files: UnknownFiles::Error, ..Default::default() },
    );
    let msg = strict.unwrap_err().to_string();
    assert!(msg.contains("README") && msg.contains("not an image file"), "{msg}");
}

fn expect_err<T: std::fmt::Debug>(r: graft::Result<T>, parts: &[&str]) {
    let msg = r.unwrap_err().to_string();
    for p in parts {
        assert!(msg.contains(p), "error {msg:?} should mention {p:?}");
    }
}

#[test]
fn bad_image_folders_give_errors_naming_the_file() {
    let root = tmp_dir("bad-folder");
    expect_err(ImageFolder::open(root.join("missing")), &["missing", "does not exist"]);
    expect_err(ImageFolder::open(&root), &["no class folders"]);
    make_folder(&root, &["a"], 2, 8);
    std::fs::create_dir_all(root.join("b")).unwrap();
    std::fs::write(root.join("b/readme.md"), "x").unwrap();
    expect_err(ImageFolder::open(&root), &["/b", "no image files"]);
    std::fs::remove_dir_all(root.join("b")).unwrap();
    // Corrupt and truncated files: listed fine, refused on decoding with the path.
    let good = std::fs::read(root.join("a/0.png")).unwrap();
    std::fs::write(root.join("a/2.png"), &good[..good.len() / 2]).unwrap();
    std::fs::write(root.join("a/3.png"), b"definitely not a png").unwrap();
    let mut jpeg = Vec::new();
    image::RgbImage::from_pixel(16, 16, image::Rgb([1, 2, 3]))
        .write_to(&mut std::io::Cursor::new(&mut jpeg), image::ImageFormat::Jpeg)
        .unwrap();
    std::fs::write(root.join("a/4.jpg"), &jpeg[..jpeg.len() / 3]).unwrap();
    std::fs::write(root.join("a/5.jpeg"), b"").unwrap();
    let ds = ImageFolder::open(&root).unwrap();
    assert_eq!(ds.len(), 6);
    assert!(ds.get(0).is_ok());
    expect_err(ds.get(2), &["a/2.png", "cannot decode"]);
    expect_err(ds.get(3), &["a/3.png", "cannot decode"]);
    expect_err(ds.get(4), &["a/4.jpg"]);
    expect_err(ds.get(5), &["a/5.jpeg", "empty"]);
    expect_err(ds.get(6), &["out of range"]);
    // The loader passes the error on instead of panicking, and stops.
    let cfg = LoaderConfig { batch_size: 3, shuffle: false, workers: 2, ..Default::default() };
    let loader = Loader::new(Arc::new(ds), Pipeline::simclr_cifar(8), cfg).unwrap();
    let results: Vec<_> = loader.epoch(0).collect();
    assert!(results[0].is_err(), "batch 0 holds a/2.png");
    assert_eq!(results.len(), 1);
}

fn cifar_bytes(n: usize, kind: CifarKind) -> Vec<u8> {
    let mut out = Vec::new();
    for r in 0..n {
        match kind {
            CifarKind::Cifar10 => out.push((r % 10) as u8),
            _ => out.extend([(r % 20) as u8, (r * 7 % 100) as u8]),
        }
        // Plane c, pixel p holds (r + c * 50 + p) mod 256.
        out.extend((0..3072).map(|k| ((r + (k / 1024) * 50 + k % 1024) % 256) as u8));
    }
    out
}

#[test]
fn cifar_binary_records_and_errors() {
    let dir = tmp_dir("cifar");
    let p10 = dir.join("data_batch_1.bin");
    std::fs::write(&p10, cifar_bytes(5, CifarKind::Cifar10)).unwrap();
    std::fs::write(dir.join("data_batch_2.bin"), cifar_bytes(3, CifarKind::Cifar10)).unwrap();
    let ds = Cifar::open_dir(&dir, CifarKind::Cifar10, true).unwrap();
    assert_eq!((ds.len(), ds.num_classes(), ds.class_names()[3].as_str()), (8, 10, "cat"));
    let s = ds.get(6).unwrap(); // file 2, record 1
    assert_eq!(s.label, Some(1));
    // HWC pixel (y=2, x=3) channel 2: plane 2, offset 2*32+3 → (1 + 100 + 67) % 256.
    assert_eq!(s.image.data[(2 * 32 + 3) * 3 + 2], 168);
    assert!(ds.describe(6).ends_with("data_batch_2.bin#1"));
    let p100 = dir.join("train.bin");
    std::fs::write(&p100, cifar_bytes(4, CifarKind::Cifar100Fine)).unwrap();
    let fine = Cifar::open(&[&p100], CifarKind::Cifar100Fine).unwrap();
    let coarse = Cifar::open(&[&p100], CifarKind::Cifar100Coarse).unwrap();
    assert_eq!(fine.labels().unwrap(), vec![0, 7, 14, 21]);
    assert_eq!(coarse.labels().unwrap(), vec![0, 1, 2, 3]);
    assert_eq!(fine.get(3).unwrap().image, coarse.get(3).unwrap().image);
    // Bad sizes and labels.
    let short = dir.join("short.bin");
    std::fs::write(&short, &cifar_bytes(2, CifarKind::Cifar10)[..5000]).unwrap();
    expect_err(
        Cifar::open(&[&short], CifarKind::Cifar10),
        &["short.bin", "5000", "multiple of", "3073"],
    );
    let mut bad = cifar_bytes(1, CifarKind::Cifar10);
    bad[0] = 12;
    std::fs::write(dir.join("bad.bin"), bad).unwrap();
    expect_err(Cifar::open(&[dir.join("bad.bin")], CifarKind::Cifar10), &["bad.bin", "label 12"]);
    expect_err(
        Cifar::open(&[dir.join("nope.bin")], CifarKind::Cifar10),
        &["nope.bin", "cannot read"],
    );
}

fn idx_bytes(magic: [u8; 4], dims: &[u32], body: &[u8]) -> Vec<u8> {
    let mut out = magic.to_vec();
    for d in dims {
        out.extend(d.to_be_bytes());
    }
    out.extend_from_slice(body);
    out
}

#[test]
fn idx_raw_and_gzip_and_errors() {
    let dir = tmp_dir("idx");
    let pixels: Vec<u8> = (0..3 * 4 * 5).map(|x| x as u8).collect();
    let images = idx_bytes([0, 0, 8, 3], &[3, 4, 5], &pixels);
    let labels = idx_bytes([0, 0, 8, 1], &[3], &[7, 0, 9]);
    std::fs::write(dir.join("train-images-idx3-ubyte"), &images).unwrap();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(&labels).unwrap();
    std::fs::write(dir.join("train-labels-idx1-ubyte.gz"), gz.finish().unwrap()).unwrap();
    let ds = Idx::open(
        dir.join("train-images-idx3-ubyte"),
        Some(&dir.join("train-labels-idx1-ubyte.gz")),
    )
    .unwrap();
    assert_eq!((ds.len(), ds.shape(), ds.num_classes()), (3, Some([1, 4, 5]), 10));
    let s = ds.get(2).unwrap();
    assert_eq!((s.label, s.image.data[0], s.image.data[19]), (Some(9), 40, 59));
    let unl = Idx::open(dir.join("train-images-idx3-ubyte"), None).unwrap();
    assert_eq!((unl.get(0).unwrap().label, unl.num_classes()), (None, 0));
    let bad = |name: &str, bytes: Vec<u8>, parts: &[&str]| {
        std::fs::write(dir.join(name), bytes).unwrap();
        expect_err(Idx::open(dir.join(name), None), parts);
    };
    bad(
        "magic.idx3",
        idx_bytes([8, 0, 8, 3], &[3, 4, 5], &pixels),
        &["magic.idx3", "magic number"],
    );
    bad("labels-as-images.idx3", labels.clone(), &["1 dimension(s), expected 3"]);
    bad("trunc.idx3", images[..images.len() - 7].to_vec(), &["trunc.idx3", "truncated"]);
    bad("header.idx3", images[..9].to_vec(), &["truncated IDX header"]);
    bad("trailing.idx3", [images.clone(), vec![1, 2]].concat(), &["2 trailing bytes"]);
    bad("float.idx3", idx_bytes([0, 0, 0x0d, 3], &[1, 1, 1], &[0; 4]), &["0x0d", "not supported"]);
    bad("gz.idx3", vec![0x1f, 0x8b, 8, 0, 1, 2, 3], &["gz.idx3", "gzip"]);
    let wrong_count = idx_bytes([0, 0, 8, 1], &[2], &[1, 2]);
    std::fs::write(dir.join("l2"), wrong_count).unwrap();
    expect_err(
        Idx::open(dir.join("train-images-idx3-ubyte"), Some(&dir.join("l2"))),
        &["2 labels for 3 images"],
    );
}

#[test]
fn trajectory_frames_tensor_dataset_split_and_unlabeled() {
    let dir = tmp_dir("frames");
    let mut cfg = CollectConfig::new("CartPole-v1", dir.join("px.arrow"));
    (cfg.episodes, cfg.pixels, cfg.policy) = (2, Some((12, 8)), PolicySpec::Random);
    collect(&cfg, &mut |_, _| {}).unwrap();
    let frames = TrajectoryFrames::open(dir.join("px.arrow")).unwrap();
    assert_eq!(frames.len(), frames.dataset().num_rows());
    assert_eq!(frames.shape(), Some([3, 8, 12]));
    let s = frames.get(3).unwrap();
    assert_eq!(
        (s.label, s.image.data.as_slice()),
        (None, frames.dataset().observation_at_row(3).unwrap().u8)
    );
    // State observations are refused with the reason.
    let mut cfg = CollectConfig::new("CartPole-v1", dir.join("state.arrow"));
    cfg.episodes = 1;
    collect(&cfg, &mut |_, _| {}).unwrap();
    expect_err(
        TrajectoryFrames::open(dir.join("state.arrow")),
        &["state.arrow", "not uint8 images"],
    );

    let nhwc = Tensor::arange(2 * 3 * 4 * 3, (Kind::Uint8, tch::Device::Cpu)).view([2, 3, 4, 3]);
    let labels = Tensor::from_slice(&[1i64, 0]);
    let a = TensorDataset::from_tensor(&nhwc, TensorLayout::Nhwc, Some(&labels), vec![]).unwrap();
    let b = TensorDataset::from_tensor(
        &nhwc.permute([0, 3, 1, 2]),
        TensorLayout::Nchw,
        Some(&labels),
        vec![],
    )
    .unwrap();
    assert_eq!(a.get(1).unwrap(), b.get(1).unwrap());
    assert_eq!((a.get(1).unwrap().image.data[5], a.num_classes()), (41, 2));
    assert!(TensorDataset::from_tensor(
        &nhwc.to_kind(Kind::Float),
        TensorLayout::Nhwc,
        None,
        vec![]
    )
    .is_err());

    let imgs: Vec<Image> = (0..50).map(|i| random_image(2, 2, 1, i)).collect();
    let ds = Arc::new(
        TensorDataset::new(&imgs, Some((0..50).map(|i| i % 5).collect()), vec![]).unwrap(),
    );
    let (tr, va) = train_val_split(ds.clone(), 0.2, 7).unwrap();
    assert_eq!((tr.len(), va.len()), (40, 10));
    let mut all: Vec<usize> = tr.indices().iter().chain(va.indices()).copied().collect();
    all.sort();
    assert_eq!(all, (0..50).collect::<Vec<_>>());
    assert_eq!(train_val_split(ds.clone(), 0.2, 7).unwrap().1.indices(), va.indices());
    assert_ne!(train_val_split(ds.clone(), 0.2, 8).unwrap().1.indices(), va.indices());
    assert_eq!(va.get(0).unwrap(), ds.get(va.indices()[0]).unwrap());
    assert!(train_val_split(ds.clone(), 1.5, 0).is_err());
    let unl = Unlabeled(va);
    assert_eq!((unl.get(0).unwrap().label, unl.num_classes(), unl.labels()), (None, 0, None));
}

// ---------------------------------------------------------------- loader

fn small_dataset(n: usize) -> Arc<TensorDataset> {
    let imgs: Vec<Image> = (0..n as u64).map(|i| random_image(10, 12, 3, i)).collect();
    Arc::new(TensorDataset::new(&imgs, Some((0..n).map(|i| i % 3).collect()), vec![]).unwrap())
}

fn collect_epoch(
    loader: &Loader<TensorDataset>,
    epoch: u64,
) -> Vec<(Vec<usize>, Vec<Tensor>, Option<Tensor>)> {
    loader.epoch(epoch).map(|b| b.unwrap()).map(|b| (b.indices, b.views, b.labels)).collect()
}

#[test]
fn loader_is_deterministic_ordered_and_shaped() {
    let ds = small_dataset(23);
    let cfg = |workers, views, drop_last| LoaderConfig {
        batch_size: 5,
        seed: 11,
        views,
        workers,
        drop_last,
        prefetch: 1,
        ..LoaderConfig::default()
    };
    let pipe = Pipeline::simclr_cifar(8);
    let one = Loader::new(ds.clone(), pipe.clone(), cfg(1, 2, false)).unwrap();
    let three = Loader::new(ds.clone(), pipe.clone(), cfg(3, 2, false)).unwrap();
    let a = collect_epoch(&one, 0);
    let b = collect_epoch(&three, 0);
    assert_eq!(a.len(), 5);
    assert_eq!(a.last().unwrap().0.len(), 3);
    for ((ia, va, la), (ib, vb, lb)) in a.iter().zip(&b) {
        assert_eq!(ia, ib);
        assert_eq!(va[0].size(), vec![ia.len() as i64, 3, 8, 8]);
        for (x, y) in va.iter().zip(vb) {
            assert!(x.equal(y), "same seed, different worker count: same batch");
        }
        // Two views of one image are augmented independently.
        assert!(!va[0].equal(&va[1]));
        let want: Vec<i64> = ia.iter().map(|&i| (i % 3) as i64).collect();
        assert_eq!(Vec::<i64>::try_from(la.as_ref().unwrap()).unwrap(), want);
        assert!(lb.as_ref().unwrap().equal(la.as_ref().unwrap()));
    }
    // Every sample once per epoch; a new order and new augmentations next epoch.
    let mut seen: Vec<usize> = a.iter().flat_map(|x| x.0.clone()).collect();
    seen.sort();
    assert_eq!(seen, (0..23).collect::<Vec<_>>());
    let next = collect_epoch(&one, 1);
    assert_ne!(next[0].0, a[0].0);
    // drop_last and an early drop of the iterator.
    let dl = Loader::new(ds.clone(), pipe.clone(), cfg(2, 1, true)).unwrap();
    assert_eq!((dl.batches_per_epoch(), dl.epoch(0).count()), (4, 4));
    let mut it = dl.epoch(3);
    assert!(it.next().unwrap().is_ok());
    drop(it);
    // Another seed, another order.
    let other =
        Loader::new(ds.clone(), pipe, LoaderConfig { seed: 12, ..cfg(1, 1, false) }).unwrap();
    assert_ne!(other.order(0), one.order(0));
}

#[test]
fn loader_uint8_mode_matches_float_and_normalises_on_device() {
    let ds = small_dataset(6);
    let mut pipe = Pipeline::simclr_cifar(8);
    pipe.steps.pop(); // no Normalize: u8 output
    let base =
        LoaderConfig { batch_size: 6, seed: 3, shuffle: false, workers: 2, ..Default::default() };
    let f = Loader::new(ds.clone(), pipe.clone(), base.clone()).unwrap().batch(0, 0).unwrap();
    let u = Loader::new(
        ds.clone(),
        pipe.clone(),
        LoaderConfig { kind: BatchKind::Uint8, ..base.clone() },
    )
    .unwrap()
    .batch(0, 0)
    .unwrap();
    assert_eq!(u.views[0].kind(), Kind::Uint8);
    let back = u.views[0].to_kind(Kind::Float) / 255.0;
    let diff = (back - &f.views[0]).abs().max().double_value(&[]);
    assert!(diff <= 0.5 / 255.0 + 1e-6, "u8 = round(x * 255): {diff}");
    let mean = [0.5f32, 0.4, 0.3];
    let std = [0.2f32, 0.25, 0.3];
    let on_dev = normalize_on_device(&u.views[0], &mean, &std).unwrap();
    let c1 = on_dev.get(0).get(1).get(2).get(3).double_value(&[]);
    let raw = u.views[0].get(0).get(1).get(2).get(3).double_value(&[]);
    assert!((c1 - (raw / 255.0 - 0.4) / 0.25).abs() < 1e-5);
    // Normalised pipelines cannot go to u8; zero batch size is refused.
    assert!(Loader::new(
        ds.clone(),
        Pipeline::simclr_cifar(8),
        LoaderConfig { kind: BatchKind::Uint8, ..base.clone() }
    )
    .is_err());
    assert!(Loader::new(ds, pipe, LoaderConfig { batch_size: 0, ..base }).is_err());
}

#[test]
fn loader_refuses_mixed_sizes_without_a_resizing_step() {
    let root = tmp_dir("mixed");
    make_folder(&root, &["a"], 2, 8);
    image::RgbImage::new(5, 5).save(root.join("a/9.png")).unwrap();
    let ds = Arc::new(ImageFolder::open(&root).unwrap());
    let cfg = LoaderConfig { batch_size: 3, shuffle: false, ..Default::default() };
    let err =
        Loader::new(ds.clone(), Pipeline::drq(), cfg.clone()).unwrap().batch(0, 0).unwrap_err();
    assert!(matches!(err, Error::Invalid(_)) && err.to_string().contains("Resize"), "{err}");
    let ok = Loader::new(ds, Pipeline::simclr(8), cfg).unwrap().batch(0, 0).unwrap();
    assert_eq!(ok.views[0].size(), vec![3, 3, 8, 8]);
}

// ---------------------------------------------------------------- real data and CLI

#[test]
fn sklearn_digits_export_reads_back_exactly() {
    let py = python();
    let dir = tmp_dir("digits");
    let root = dir.join("digits");
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/export-digits.py");
    let out = Command::new(&py).arg(&script).arg(&root).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let ds = ImageFolder::open(&root).unwrap();
    assert_eq!(ds.len(), 1797);
    assert_eq!(ds.class_names(), ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"]);
    // Sample 1000 of sklearn's order, read back through its file name.
    let want = Command::new(&py)
        .args(["-c", "from sklearn.datasets import load_digits as l; d=l(); print(int(d.target[1000]), d.images[1000].flatten().astype(int).tolist())"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&want.stdout);
    let (label, pixels) = text.trim().split_once(' ').unwrap();
    let pixels: Vec<u32> = serde_json::from_str(pixels).unwrap();
    let i = ds.files().iter().position(|(p, _)| p.ends_with(format!("{label}/1000.png"))).unwrap();
    let got = ImageFolder::open_with(
        &root,
        FolderOptions { color: ColorMode::Gray, ..Default::default() },
    )
    .unwrap()
    .get(i)
    .unwrap();
    assert_eq!(got.label, Some(label.parse().unwrap()));
    let scaled: Vec<u8> = pixels.iter().map(|&v| ((v * 255 + 8) / 16) as u8).collect();
    assert_eq!(got.image.data, scaled);
}

fn graft(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_graft")).args(args).output().unwrap()
}

#[test]
fn cli_info_and_preview() {
    let dir = tmp_dir("cli");
    let root = dir.join("pets");
    make_folder(&root, &["cat", "dog"], 3, 10);
    std::fs::write(root.join("cat/thumbs.db"), "x").unwrap();
    let out = graft(&["images", "info", root.to_str().unwrap()]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("samples: 6") && text.contains("1 dog: 3") && text.contains("10x10 (6)"),
        "{text}"
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("1 file(s) skipped"));
    let grid = dir.join("grid.png");
    let args = [
        "--seed",
        "4",
        "images",
        "preview",
        root.to_str().unwrap(),
        "--preset",
        "simclr",
        "--size",
        "16",
    ];
    let out = graft(
        &[&args[..], &["--batch", "4", "--views", "2", "-o", grid.to_str().unwrap()]].concat(),
    );
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let img = image::open(&grid).unwrap();
    // 4 images: 2 per row, each cell 2 views of 64-pixel tiles (16 zoomed 4x) with 2-pixel gaps.
    assert_eq!((img.width(), img.height()), (2 * (2 * 66 + 2), 2 * 66 + 2));
    let out = graft(&["images", "bench", root.to_str().unwrap(), "--batch", "3", "--batches", "2"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("RESULT loader_images_per_s"));
    // The training comparison on a tiny budget (8x8 crops, batch 2, one step each loop).
    let args =
        ["images", "bench", root.to_str().unwrap(), "--preset", "simclr_cifar", "--size", "8"];
    let more =
        ["--batch", "2", "--batches", "1", "--train", "--train-batch", "2", "--train-steps", "1"];
    let out = graft(&[&args[..], &more[..]].concat());
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("RESULT train_synthetic_images_per_s")
            && text.contains("RESULT train_fed_images_per_s"),
        "{text}"
    );
    // CIFAR files are recognised by name and size.
    std::fs::write(dir.join("test_batch.bin"), cifar_bytes(4, CifarKind::Cifar10)).unwrap();
    let out = graft(&["images", "info", dir.join("test_batch.bin").to_str().unwrap()]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("format: cifar10") && text.contains("3 cat: 1") && text.contains("32x32"),
        "{text}"
    );
    let out = graft(&["images", "info", dir.join("nothing").to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("does not exist"));
}

#[test]
fn truncated_and_corrupt_files_are_found_by_name() {
    let dir = tmp_dir("damaged");
    let root = dir.join("pets");
    make_folder(&root, &["cat", "dog"], 2, 12);
    let mut jpeg = Vec::new();
    image::RgbImage::from_fn(24, 16, |x, y| image::Rgb([(x * 9) as u8, (y * 13) as u8, 90]))
        .write_to(&mut std::io::Cursor::new(&mut jpeg), image::ImageFormat::Jpeg)
        .unwrap();
    // Complete files pass, including a JPEG with a few bytes of padding after its end marker.
    let padded = [&jpeg[..], &[0u8; 16][..]].concat();
    std::fs::write(root.join("dog/x.jpg"), &padded).unwrap();
    let out = graft(&["images", "info", root.to_str().unwrap()]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let folder = ImageFolder::open(&root).unwrap();
    assert_eq!(folder.check(4, Check::Complete).unwrap(), (24, 16));
    assert_eq!(folder.check(4, Check::Decode).unwrap(), (24, 16));

    // A PNG cut just before its IEND chunk (all pixel data there, the file not whole), a JPEG
    // cut at two thirds, and a PNG whose pixel data is damaged but whose end is intact.
    let png = std::fs::read(root.join("cat/0.png")).unwrap();
    std::fs::write(root.join("cat/1.png"), &png[..png.len() - 12]).unwrap();
    std::fs::write(root.join("dog/x.jpg"), &jpeg[..jpeg.len() * 2 / 3]).unwrap();
    let mut corrupt = std::fs::read(root.join("dog/0.png")).unwrap();
    let idat = corrupt.windows(4).position(|w| w == b"IDAT").unwrap();
    for b in &mut corrupt[idat + 6..idat + 14] {
        *b ^= 0x5A;
    }
    std::fs::write(root.join("dog/1.png"), &corrupt).unwrap();

    let folder = ImageFolder::open(&root).unwrap();
    expect_err(folder.check(1, Check::Complete), &["cat/1.png", "truncated PNG", "IEND"]);
    expect_err(folder.check(4, Check::Complete), &["dog/x.jpg", "truncated JPEG"]);
    assert!(folder.check(3, Check::Complete).is_ok(), "the end of dog/1.png is intact");
    expect_err(folder.check(3, Check::Decode), &["dog/1.png", "cannot decode"]);

    let out = graft(&["images", "info", root.to_str().unwrap()]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(String::from_utf8_lossy(&out.stdout).contains("samples: 5"));
    assert!(
        stderr.contains("cat/1.png: truncated PNG")
            && stderr.contains("dog/x.jpg: truncated JPEG")
            && stderr.contains("2 of 5 image file(s) are damaged"),
        "{stderr}"
    );
    let out = graft(&["images", "info", "--verify", root.to_str().unwrap()]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("dog/1.png: cannot decode") && stderr.contains("3 of 5 image file(s)"),
        "{stderr}"
    );
}
