//! Augmentations against torchvision's reference outputs (tests/fixtures/images/augment.json,
//! from gen_augment.py) and their invariants (proptest).

use std::path::{Path, PathBuf};

use graft::data::augment::blur::gaussian_blur;
use graft::data::augment::color::{
    adjust_brightness, adjust_contrast, adjust_hue, adjust_saturation, color_jitter, grayscale,
    normalize, JitterParams,
};
use graft::data::augment::crop::{
    center_fallback, pad_crop, random_resized_crop_box, resized_crop, CropBox, PadMode,
};
use graft::data::augment::geometry::{hflip, rot90};
use graft::data::augment::{sample_rng, Frame, Pipeline};
use graft::data::images::Image;
use proptest::prelude::*;
use serde_json::Value;

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
    let worst = got.data.iter().zip(want).map(|(a, b)| (a - b).abs()).fold(0.0f32, f32::max);
    assert!(worst <= tol, "{name}: max |graft - torchvision| = {worst} > {tol}");
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
        let p = &case["params"];
        let shape: Vec<usize> = serde_json::from_value(case["shape"].clone()).unwrap();
        let want: Vec<f32> = serde_json::from_value(case["output"].clone()).unwrap();
        let mut f = if case["input"] == "grey" { grey.clone() } else { rgb.clone() };
        let x = |k: &str| p[k].as_f64().unwrap() as f32;
        let u = |k: &str| p[k].as_u64().unwrap() as usize;
        let got = match name {
            n if n.starts_with("resized_crop") => {
                let b: Vec<usize> = serde_json::from_value(p["box"].clone()).unwrap();
                let s: Vec<usize> = serde_json::from_value(p["size"].clone()).unwrap();
                let cb = CropBox { top: b[0], left: b[1], height: b[2], width: b[3] };
                resized_crop(&f, cb, s[0], s[1])
            }
            "brightness" => {
                adjust_brightness(&mut f, x("factor"));
                f
            }
            "contrast" | "contrast_grey" => {
                adjust_contrast(&mut f, x("factor"));
                f
            }
            "saturation" => {
                adjust_saturation(&mut f, x("factor"));
                f
            }
            "hue_pos" | "hue_neg" => {
                adjust_hue(&mut f, x("factor"));
                f
            }
            "jitter" => {
                let order: Vec<usize> = serde_json::from_value(p["order"].clone()).unwrap();
                let fs: Vec<f32> = serde_json::from_value(p["factors"].clone()).unwrap();
                let params = JitterParams {
                    order: [order[0], order[1], order[2], order[3]],
                    factors: [Some(fs[0]), Some(fs[1]), Some(fs[2]), Some(fs[3])],
                };
                color_jitter(&mut f, &params);
                f
            }
            "grayscale" => {
                grayscale(&mut f);
                f
            }
            "blur3" | "blur5" => gaussian_blur(&f, u("kernel"), x("sigma")),
            n if n.starts_with("rot90") => rot90(&f, u("k")),
            "hflip" => {
                hflip(&mut f);
                f
            }
            "shift_replicate" => pad_crop(&f, u("pad"), u("dy"), u("dx"), PadMode::Replicate),
            "shift_zero" => pad_crop(&f, u("pad"), u("dy"), u("dx"), PadMode::Zero),
            "normalize" => {
                let m: Vec<f32> = serde_json::from_value(p["mean"].clone()).unwrap();
                let s: Vec<f32> = serde_json::from_value(p["std"].clone()).unwrap();
                normalize(&mut f, &m, &s);
                f
            }
            other => panic!("fixture case {other} has no Graft counterpart"),
        };
        // Exact permutations must match exactly; arithmetic to float32 rounding.
        let tol = if name.starts_with("rot") || name.starts_with("shift") || name == "hflip" {
            0.0
        } else {
            2e-6
        };
        assert_close(name, &got, &shape, &want, tol);
        checked += 1;
    }
    assert_eq!(checked, 20);
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
}
