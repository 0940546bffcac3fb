//! Augmentations against torchvision's reference outputs (tests/fixtures/images/augment.json,
//! from gen_augment.py) and their invariants (proptest), for both executors of
//! `graft::data::augment`: the per-image one (`Frame`, the loader's) and the batched tensor
//! one (`augment::tensor`, pretraining's), which must also agree with each other for the same
//! seeds.
//!
//! Tolerances: pixel permutations (flip, quarter turns, shifts) are exact; arithmetic agrees
//! with torchvision to 2e-6 (float32 rounding of a different summation order). Both executors
//! compute on floats, as torchvision does on tensors; torchvision's PIL path, which rounds to
//! 8 bits after each step, differs from all three by up to 1/255 per step.

use std::path::{Path, PathBuf};

use graft::data::augment::blur::gaussian_blur;
use graft::data::augment::color::{
    adjust_brightness, adjust_contrast, adjust_hue, adjust_saturation, color_jitter, grayscale,
    jitter_params, normalize, solarize, JitterParams,
};
use graft::data::augment::crop::{
    center_fallback, pad_crop, random_resized_crop_box, resized_crop, CropBox, PadMode,
};
use graft::data::augment::geometry::{hflip, rot90};
use graft::data::augment::tensor::{self as batch, batch_rngs};
use graft::data::augment::{sample_rng, Augment, Frame, Pipeline, ViewConfig, Views};
use graft::data::images::Image;
use proptest::prelude::*;
use serde_json::Value;
use tch::{Kind, Tensor};

mod support;
use support::random_image;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/images").join(name)
}

// ---------------------------------------------------------------- torchvision references

fn frame_of(v: &Value, key: &str) -> Frame {
    let shape: Vec<usize> = serde_json::from_value(v[format!("{key}_shape")].clone()).unwrap();
    let bytes: Vec<u8> = serde_json::from_value(v[key].clone()).unwrap();
    let img = Image::from_chw(&bytes, shape[0], shape[1], shape[2]).unwrap();
    Frame::from_image(&img)
}

fn assert_close(name: &str, got: &Frame, shape: &[usize], want: &[f32], tol: f32) {
    assert_eq!(got.shape().to_vec(), shape, "{name}: shape");
    assert!(got.data.iter().all(|x| x.is_finite()), "{name}: non-finite output");
    let worst = got.data.iter().zip(want).map(|(a, b)| (a - b).abs()).fold(0.0f32, f32::max);
    assert!(worst <= tol, "{name}: max |graft - torchvision| = {worst} > {tol}");
}

/// Frames of one shape as a `[n, C, H, W]` float tensor.
fn batch_of(frames: &[&Frame]) -> Tensor {
    let [c, h, w] = frames[0].shape();
    let data: Vec<f32> = frames.iter().flat_map(|f| f.data.iter().copied()).collect();
    Tensor::from_slice(&data).view([frames.len() as i64, c as i64, h as i64, w as i64])
}

/// Image `i` of a `[n, C, H, W]` tensor as a frame.
fn frame_at(t: &Tensor, i: i64) -> Frame {
    let s = t.size();
    let data =
        Vec::<f32>::try_from(&t.get(i).to_kind(Kind::Float).contiguous().view([-1])).unwrap();
    Frame { data, channels: s[1] as usize, height: s[2] as usize, width: s[3] as usize }
}

type FrameOp = Box<dyn Fn(Frame) -> Frame>;
type BatchOp = Box<dyn Fn(&Tensor) -> Tensor>;

/// One fixture case as the per-image function and the batched one (same parameters for
/// every image of the batch). The colour jitter's batched one is the tensor-operation
/// version (CUDA's); on the CPU the batched executor runs the per-image function itself.
fn case_ops(name: &str, p: &Value) -> (FrameOp, BatchOp) {
    let x = |k: &str| p[k].as_f64().unwrap() as f32;
    let u = |k: &str| p[k].as_u64().unwrap() as usize;
    let list = |k: &str| -> Vec<f32> { serde_json::from_value(p[k].clone()).unwrap() };
    // Per-image parameters for a batch of two.
    let two = |v: f32| [v, v];
    match name {
        n if n.starts_with("resized_crop") => {
            let b: Vec<usize> = serde_json::from_value(p["box"].clone()).unwrap();
            let s: [usize; 2] = serde_json::from_value(p["size"].clone()).unwrap();
            let cb = CropBox { top: b[0], left: b[1], height: b[2], width: b[3] };
            (
                Box::new(move |f| resized_crop(&f, cb, s[0], s[1])),
                Box::new(move |t| batch::resized_crop(t, &[cb, cb], s, &[])),
            )
        }
        "brightness" => {
            let k = x("factor");
            (
                Box::new(move |mut f| {
                    adjust_brightness(&mut f, k);
                    f
                }),
                Box::new(move |t| batch::adjust_brightness(t, &two(k))),
            )
        }
        "contrast" | "contrast_grey" => {
            let k = x("factor");
            (
                Box::new(move |mut f| {
                    adjust_contrast(&mut f, k);
                    f
                }),
                Box::new(move |t| batch::adjust_contrast(t, &two(k))),
            )
        }
        "saturation" => {
            let k = x("factor");
            (
                Box::new(move |mut f| {
                    adjust_saturation(&mut f, k);
                    f
                }),
                Box::new(move |t| batch::adjust_saturation(t, &two(k))),
            )
        }
        "hue_pos" | "hue_neg" => {
            let k = x("factor");
            (
                Box::new(move |mut f| {
                    adjust_hue(&mut f, k);
                    f
                }),
                Box::new(move |t| batch::adjust_hue(t, &two(k))),
            )
        }
        "jitter" | "jitter_grey" => {
            let order: Vec<usize> = serde_json::from_value(p["order"].clone()).unwrap();
            let fs = list("factors");
            let params = JitterParams {
                order: [order[0], order[1], order[2], order[3]],
                factors: [Some(fs[0]), Some(fs[1]), Some(fs[2]), Some(fs[3])],
            };
            (
                Box::new(move |mut f| {
                    color_jitter(&mut f, &params);
                    f
                }),
                Box::new(move |t| batch::color_jitter_ops(t, &[Some(params), Some(params)])),
            )
        }
        "grayscale" => (
            Box::new(|mut f| {
                grayscale(&mut f);
                f
            }),
            Box::new(batch::grayscale),
        ),
        "blur3" | "blur5" => {
            let (k, sigma) = (u("kernel"), x("sigma"));
            (
                Box::new(move |f| gaussian_blur(&f, k, sigma)),
                Box::new(move |t| batch::gaussian_blur(t, k, &[Some(sigma), Some(sigma)])),
            )
        }
        n if n.starts_with("rot90") => {
            let k = u("k");
            (Box::new(move |f| rot90(&f, k)), Box::new(move |t| batch::rot90(t, k as i64)))
        }
        "hflip" => (
            Box::new(|mut f| {
                hflip(&mut f);
                f
            }),
            Box::new(batch::hflip),
        ),
        "shift_replicate" | "shift_zero" => {
            let mode = if name == "shift_zero" { PadMode::Zero } else { PadMode::Replicate };
            let (pad, dy, dx) = (u("pad"), u("dy"), u("dx"));
            (
                Box::new(move |f| pad_crop(&f, pad, dy, dx, mode)),
                Box::new(move |t| batch::pad_crop(t, pad, &[(dy, dx), (dy, dx)], mode)),
            )
        }
        "normalize" => {
            let (m, s) = (list("mean"), list("std"));
            let (m2, s2) = (m.clone(), s.clone());
            (
                Box::new(move |mut f| {
                    normalize(&mut f, &m, &s);
                    f
                }),
                Box::new(move |t| batch::normalize(t, &m2, &s2)),
            )
        }
        "solarize" => {
            let th = x("threshold");
            (
                Box::new(move |mut f| {
                    solarize(&mut f, th);
                    f
                }),
                Box::new(move |t| batch::solarize(t, th)),
            )
        }
        other => panic!("fixture case {other} has no Graft counterpart"),
    }
}

#[test]
fn augmentations_match_torchvision() {
    let v: Value =
        serde_json::from_str(&std::fs::read_to_string(fixture("augment.json")).unwrap()).unwrap();
    assert!(v["torchvision"].as_str().unwrap().starts_with("0.26"));
    let rgb = frame_of(&v, "rgb");
    let grey = frame_of(&v, "grey");
    let mut checked = 0;
    for case in v["cases"].as_array().unwrap() {
        let name = case["name"].as_str().unwrap();
        let shape: Vec<usize> = serde_json::from_value(case["shape"].clone()).unwrap();
        let want: Vec<f32> = serde_json::from_value(case["output"].clone()).unwrap();
        let f = if case["input"] == "grey" { grey.clone() } else { rgb.clone() };
        let (per_image, batched) = case_ops(name, &case["params"]);
        // Exact permutations must match exactly; arithmetic to float32 rounding.
        let tol = if name.starts_with("rot") || name.starts_with("shift") || name == "hflip" {
            0.0
        } else {
            2e-6
        };
        assert_close(name, &per_image(f.clone()), &shape, &want, tol);
        // The batched executor on two images: the fixture's input, and a second one (mirrored
        // and darkened) that must come out as the per-image function makes it.
        let mut other = f.clone();
        hflip(&mut other);
        other.data.iter_mut().for_each(|x| *x *= 0.7);
        let out = batched(&batch_of(&[&f, &other]));
        assert_close(&format!("{name} (tensor)"), &frame_at(&out, 0), &shape, &want, tol);
        let want_other = per_image(other.clone());
        let second = format!("{name} (tensor, second image)");
        assert_close(&second, &frame_at(&out, 1), &shape, &want_other.data, tol);
        checked += 1;
    }
    assert_eq!(checked, 22);
    for fb in v["fallback"].as_array().unwrap() {
        let hw: Vec<usize> = serde_json::from_value(fb["image"].clone()).unwrap();
        let b: Vec<usize> = serde_json::from_value(fb["box"].clone()).unwrap();
        let got = center_fallback(hw[0], hw[1], [0.75, 4.0 / 3.0]);
        assert_eq!([got.top, got.left, got.height, got.width].to_vec(), b, "fallback for {hw:?}");
        // The sampler reaches the same box when no attempt can fit.
        let mut rng = sample_rng(0, 0, 0, 0);
        assert_eq!(
            random_resized_crop_box(hw[0], hw[1], [5.0, 6.0], [0.75, 4.0 / 3.0], &mut rng),
            got
        );
    }
}

/// Both executors on the same images with the same per-image generators: the largest
/// difference, after checking shapes.
fn executors_differ_by(p: &Pipeline, imgs: &[Image], seed: u64, view: u64) -> f32 {
    let frames: Vec<Frame> = imgs.iter().map(Frame::from_image).collect();
    let x = batch_of(&frames.iter().collect::<Vec<_>>());
    let out = p.apply_batch(&x, &mut batch_rngs(seed, view, imgs.len())).unwrap();
    let mut worst = 0.0f32;
    for (i, img) in imgs.iter().enumerate() {
        let want = p.apply(img, &mut sample_rng(seed, 0, i as u64, view)).unwrap();
        let got = frame_at(&out, i as i64);
        assert_eq!(got.shape(), want.shape());
        assert!(got.data.iter().all(|x| x.is_finite()));
        worst = got.data.iter().zip(&want.data).map(|(a, b)| (a - b).abs()).fold(worst, f32::max);
    }
    worst
}

#[test]
fn the_tensor_executor_matches_the_per_image_one_on_every_step() {
    let every_step = Pipeline::new(vec![
        Augment::RandomShift { pad: 3, mode: PadMode::Zero },
        Augment::RandomRotate90,
        Augment::CenterCrop { size: [14, 15] },
        Augment::Resize { size: [9, 20] },
        Augment::RandomShift { pad: 2, mode: PadMode::Replicate },
        Augment::HorizontalFlip { p: 0.5 },
        Augment::ColorJitter { brightness: 0.8, contrast: 0.8, saturation: 0.8, hue: 0.5, p: 0.9 },
        Augment::RandomGrayscale { p: 0.3 },
        Augment::GaussianBlur { kernel: 5, sigma: [0.1, 2.0], p: 0.5 },
        Augment::RandomSolarize { threshold: 0.4, p: 0.5 },
        Augment::Normalize { mean: vec![0.5], std: vec![0.25] },
    ])
    .unwrap();
    let byol = ViewConfig::byol();
    let cases = [
        ("simclr", Pipeline::simclr(24)),
        ("simclr_cifar", Pipeline::simclr_cifar(12)),
        ("byol view 1", byol.pipeline([20, 20], 0)),
        ("byol view 2", byol.pipeline([20, 20], 1)),
        ("drq", Pipeline::drq()),
        ("every step", every_step),
    ];
    for (name, p) in &cases {
        for (c, seed) in [(3, 11), (3, 12), (1, 13)] {
            if c == 1 && name.starts_with("simclr") {
                continue; // ImageNet statistics are for RGB
            }
            let imgs: Vec<Image> =
                (0..8).map(|i| random_image(16, 16, c, seed * 100 + i)).collect();
            let worst = executors_differ_by(p, &imgs, seed, 1);
            // Normalising by 0.25 scales float32 rounding by 4.
            assert!(worst <= 1e-5, "{name}, {c} channels: batched vs per image differ by {worst}");
        }
    }
}

#[test]
fn views_replay_under_the_libtorch_seed_and_are_the_pipelines_of_that_seed() {
    let imgs: Vec<Image> = (0..5).map(|i| random_image(12, 12, 3, 40 + i)).collect();
    let frames: Vec<Frame> = imgs.iter().map(Frame::from_image).collect();
    let x = batch_of(&frames.iter().collect::<Vec<_>>());
    let views = Views::new(&ViewConfig::byol(), [12, 12]).unwrap();
    tch::manual_seed(7);
    let a = views.pair(&x).unwrap();
    tch::manual_seed(7);
    let seed = batch::torch_seed().unwrap();
    assert_eq!(a.size(), [10, 3, 12, 12]);
    for v in 0..2 {
        let want = views.pipeline(v).apply_batch(&x, &mut batch_rngs(seed, v as u64, 5)).unwrap();
        assert!(a.narrow(0, 5 * v as i64, 5).equal(&want), "view {v}");
    }
    tch::manual_seed(8);
    assert!(!views.pair(&x).unwrap().equal(&a), "another seed, other views");
    assert!(a.min().double_value(&[]) >= -1e-6 && a.max().double_value(&[]) <= 1.0 + 1e-6);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn crop_boxes_fit_and_respect_scale_and_ratio(h in 1usize..64, w in 1usize..64, seed in any::<u64>()) {
        let mut rng = sample_rng(seed, 0, 0, 0);
        let b = random_resized_crop_box(h, w, [0.08, 1.0], [0.75, 4.0 / 3.0], &mut rng);
        prop_assert!(b.height >= 1 && b.width >= 1);
        prop_assert!(b.top + b.height <= h && b.left + b.width <= w);
        if b != center_fallback(h, w, [0.75, 4.0 / 3.0]) {
            // A sampled box: its area and ratio come from the ranges, up to rounding w and h.
            let area = (b.height * b.width) as f64 / (h * w) as f64;
            let slack = (b.height + b.width + 1) as f64 / (h * w) as f64;
            prop_assert!(area <= 1.0 + slack && area >= 0.08 - slack, "area {area}");
            let r = b.width as f64 / b.height as f64;
            let rs = (b.width as f64 + 0.5) / (b.height as f64 - 0.5).max(0.5);
            let rl = (b.width as f64 - 0.5).max(0.5) / (b.height as f64 + 0.5);
            prop_assert!(rs >= 0.75 - 1e-9 && rl <= 4.0 / 3.0 + 1e-9, "ratio {r}");
        }
    }

    #[test]
    fn pipelines_give_fixed_shapes_bounded_values_and_repeat_by_seed(
        h in 4usize..40, w in 4usize..40, seed in any::<u64>(), idx in 0u64..1000,
    ) {
        let img = random_image(h, w, 3, seed);
        let mut simclr = Pipeline::simclr(24);
        simclr.steps.pop(); // drop Normalize to check the [0, 1] range
        let a = simclr.apply(&img, &mut sample_rng(seed, 1, idx, 0)).unwrap();
        prop_assert_eq!(a.shape(), [3, 24, 24]);
        // Convex combinations (resampling, blur) may round a hair past 1, as in torchvision.
        prop_assert!(a.data.iter().all(|&x| (-1e-6..=1.0 + 1e-6).contains(&x)));
        let b = simclr.apply(&img, &mut sample_rng(seed, 1, idx, 0)).unwrap();
        prop_assert_eq!(&a, &b);
        let drq = Pipeline::drq().apply(&img, &mut sample_rng(seed, 0, idx, 1)).unwrap();
        prop_assert_eq!(drq.shape(), [3, h, w]);
        // A shift only moves pixels: every output value is an input value.
        let src = Frame::from_image(&img);
        prop_assert!(drq.data.iter().all(|x| src.data.contains(x)));
        // The crop-before-conversion fast path equals converting the whole image first.
        let rrc = Pipeline::new(vec![Pipeline::simclr(16).steps[0].clone()]).unwrap();
        let fast = rrc.apply(&img, &mut sample_rng(seed, 2, idx, 0)).unwrap();
        let b = random_resized_crop_box(h, w, [0.08, 1.0], [0.75, 4.0 / 3.0], &mut sample_rng(seed, 2, idx, 0));
        prop_assert_eq!(fast, resized_crop(&Frame::from_image(&img), b, 16, 16));
        let norm = Pipeline::simclr_cifar(8).apply(&img, &mut sample_rng(seed, 0, idx, 0)).unwrap();
        prop_assert!(norm.data.iter().all(|x| x.is_finite() && x.abs() < 3.0));
    }

    #[test]
    fn batched_views_equal_per_image_views_at_any_size(
        h in 4usize..40, w in 4usize..40, grey in any::<bool>(), seed in any::<u64>(),
    ) {
        let c = if grey { 1 } else { 3 };
        let imgs: Vec<Image> = (0..3).map(|i| random_image(h, w, c, seed ^ i)).collect();
        for (cfg, view) in [(ViewConfig::simclr(), 0), (ViewConfig::byol(), 1)] {
            let p = cfg.pipeline([h, w], view);
            let worst = executors_differ_by(&p, &imgs, seed, view as u64);
            prop_assert!(worst <= 1e-5, "view {view}: {worst}");
        }
    }

    #[test]
    fn jitter_as_tensor_operations_equals_the_per_image_jitter(
        h in 1usize..24, w in 1usize..24, grey in any::<bool>(), seed in any::<u64>(),
    ) {
        // The CUDA path of the batched executor, on the CPU: every image its own order and
        // factors (some not jittered), against the per-image function.
        let c = if grey { 1 } else { 3 };
        let frames: Vec<Frame> =
            (0..6).map(|i| Frame::from_image(&random_image(h, w, c, seed ^ i))).collect();
        let mut rng = sample_rng(seed, 0, 0, 0);
        let params: Vec<Option<JitterParams>> = (0..6)
            .map(|i| (i != 2).then(|| jitter_params([0.8, 0.8, 0.8, 0.5], &mut rng)))
            .collect();
        let out = batch::color_jitter_ops(&batch_of(&frames.iter().collect::<Vec<_>>()), &params);
        for (i, (f, p)) in frames.iter().zip(&params).enumerate() {
            let mut want = f.clone();
            if let Some(p) = p {
                color_jitter(&mut want, p);
            }
            let got = frame_at(&out, i as i64);
            let worst = got.data.iter().zip(&want.data).map(|(a, b)| (a - b).abs()).fold(0.0f32, f32::max);
            // Four adjustments in a row: a contrast mean summed in another order, then a hue
            // step dividing by a small chroma, can grow float32 rounding past one step's 2e-6.
            prop_assert!(worst <= 1e-5 && got.data.iter().all(|x| x.is_finite()), "image {i}: {worst}");
        }
    }
}
