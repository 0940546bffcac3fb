//! Classic-control frames against Gymnasium 1.4.0's `rgb_array` output.
//!
//! The reference PNGs and their states come from `tests/fixtures/render/gen_frames.py`.
//! Full-size frames must agree pixel by pixel (up to a small tolerance on anti-aliased
//! edges); frames drawn directly at small sizes must agree with an area resize of the
//! reference. Each check is paired with a control showing that a different state fails it.

use std::path::PathBuf;

use graft_envs::render::classic::{draw_acrobot, draw_cartpole, draw_mountain_car, draw_pendulum};
use graft_envs::render::resize_rgb_into;
use graft_envs::EnvError;
use image::RgbImage;
use serde_json::Value;

/// Per-channel difference still counted as agreement (anti-aliased edge pixels).
const TOL: u8 = 8;

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/render")
}

fn records() -> Vec<Value> {
    let text = std::fs::read_to_string(fixtures().join("states.json")).expect("states.json");
    let doc: Value = serde_json::from_str(&text).expect("states.json is JSON");
    doc["frames"].as_array().expect("frames").clone()
}

fn reference(rec: &Value) -> RgbImage {
    let path = fixtures().join(rec["png"].as_str().expect("png"));
    image::open(&path).expect("reference png").to_rgb8()
}

fn f(rec: &Value, key: &str) -> f64 {
    rec[key].as_f64().unwrap_or_else(|| panic!("{key} in {rec}"))
}

fn state(rec: &Value, i: usize) -> f64 {
    rec["state"][i].as_f64().expect("state value")
}

/// Render the scene of `rec` at `w`x`h`, with its state changed by `perturb` (for the
/// controls: a different state must give a clearly different frame).
fn render(rec: &Value, w: u32, h: u32, perturb: f64) -> Vec<u8> {
    let mut out = vec![0u8; (w * h * 3) as usize];
    let env = rec["env"].as_str().expect("env");
    let r = match env {
        "CartPole-v1" => draw_cartpole(
            state(rec, 0) + perturb,
            state(rec, 2) + perturb,
            f(rec, "x_threshold"),
            w,
            h,
            &mut out,
        ),
        "MountainCar-v0" | "MountainCarContinuous-v0" => draw_mountain_car(
            state(rec, 0) + perturb,
            f(rec, "goal_position"),
            f(rec, "min_position"),
            f(rec, "max_position"),
            w,
            h,
            &mut out,
        ),
        "Acrobot-v1" => draw_acrobot(state(rec, 0) + perturb, state(rec, 1), w, h, &mut out),
        "Pendulum-v1" => {
            draw_pendulum(state(rec, 0) + perturb, rec["last_u"].as_f64(), w, h, &mut out)
        }
        other => panic!("unknown env {other}"),
    };
    r.expect("draw");
    out
}

/// The box Pendulum's arrow image covers in the final frame (x0, y0, x1, y1), if drawn.
fn arrow_box(rec: &Value) -> Option<(u32, u32, u32, u32)> {
    let u = rec["last_u"].as_f64()?;
    let s = (500.0 / 4.4 * u.abs() / 2.0) as u32;
    let left = 250 - s / 2;
    // Rows are flipped: pre-flip rows left..left+s become 500-left-s..500-left.
    Some((left, 500 - left - s, left + s, 500 - left))
}

struct Agreement {
    /// Pixels compared.
    total: usize,
    /// Pixels within TOL on every channel.
    within: usize,
    /// Pixels equal on every channel.
    exact: usize,
    /// Non-white pixels of the reference (the scene's foreground).
    foreground: usize,
}

fn agreement(ours: &[u8], reference: &RgbImage, mask: Option<(u32, u32, u32, u32)>) -> Agreement {
    let w = reference.width();
    let mut a = Agreement { total: 0, within: 0, exact: 0, foreground: 0 };
    for (i, (p, q)) in ours.chunks_exact(3).zip(reference.as_raw().chunks_exact(3)).enumerate() {
        let (x, y) = (i as u32 % w, i as u32 / w);
        if let Some((x0, y0, x1, y1)) = mask {
            if x >= x0 && x < x1 && y >= y0 && y < y1 {
                continue;
            }
        }
        a.total += 1;
        let d = (0..3).map(|k| p[k].abs_diff(q[k])).max().unwrap_or(0);
        a.within += (d <= TOL) as usize;
        a.exact += (d == 0) as usize;
        a.foreground += (q != [255, 255, 255]) as usize;
    }
    a
}

#[test]
fn full_size_frames_match_gymnasium() {
    for rec in records() {
        let reference = reference(&rec);
        let (w, h) = reference.dimensions();
        let mask = arrow_box(&rec);
        let ours = render(&rec, w, h, 0.0);
        let a = agreement(&ours, &reference, mask);
        let mismatched = a.total - a.within;
        eprintln!(
            "{}: {:.4}% within {TOL}, {:.4}% exact, {} of {} foreground pixels differ",
            rec["png"],
            100.0 * a.within as f64 / a.total as f64,
            100.0 * a.exact as f64 / a.total as f64,
            mismatched,
            a.foreground
        );
        assert!(a.within as f64 >= 0.99 * a.total as f64, "{}: too many pixels differ", rec["png"]);
        assert!(
            mismatched * 50 <= a.foreground,
            "{}: over 2% of the foreground differs",
            rec["png"]
        );

        // Pendulum's arrow is drawn procedurally: inside its box, require close agreement.
        if let Some((x0, y0, x1, y1)) = mask {
            let (mut n, mut within, mut sum) = (0usize, 0usize, 0u64);
            for y in y0..y1 {
                for x in x0..x1 {
                    let i = ((y * w + x) * 3) as usize;
                    let q = reference.get_pixel(x, y).0;
                    let d = (0..3).map(|k| ours[i + k].abs_diff(q[k])).max().unwrap_or(0);
                    n += 1;
                    within += (d <= 64) as usize;
                    sum += d as u64;
                }
            }
            let mean = sum as f64 / n as f64;
            eprintln!(
                "  arrow box: {:.2}% within 64, mean |diff| {mean:.2}",
                100.0 * within as f64 / n as f64
            );
            assert!(
                within as f64 >= 0.97 * n as f64 && mean < 6.0,
                "{}: arrow differs",
                rec["png"]
            );
        }

        // Control: a different state disagrees on a large part of the foreground.
        let other = render(&rec, w, h, 0.3);
        let b = agreement(&other, &reference, mask);
        assert!(
            (b.total - b.within) * 5 >= b.foreground,
            "{}: a different state still matches; the comparison is too lax",
            rec["png"]
        );
    }
}

/// Mean absolute difference per channel between two frames.
fn mean_abs_diff(a: &[u8], b: &[u8]) -> f64 {
    let sum: u64 = a.iter().zip(b).map(|(x, y)| x.abs_diff(*y) as u64).sum();
    sum as f64 / a.len() as f64
}

#[test]
fn small_frames_match_an_area_resize_of_gymnasium() {
    for rec in records() {
        let reference = reference(&rec);
        for (w, h) in [(64, 64), (84, 84), (160, 120)] {
            let mut resized = vec![0u8; (w * h * 3) as usize];
            resize_rgb_into(&reference, w, h, &mut resized).expect("resize");
            let ours = render(&rec, w, h, 0.0);
            let other = render(&rec, w, h, 0.3);
            let d = mean_abs_diff(&ours, &resized);
            let control = mean_abs_diff(&other, &resized);
            eprintln!(
                "{} at {w}x{h}: mean |diff| {d:.3} (different state {control:.3})",
                rec["png"]
            );
            assert!(d < 1.5, "{} at {w}x{h}: mean |diff| {d}", rec["png"]);
            assert!(control > 2.0 * d, "{} at {w}x{h}: control {control} vs {d}", rec["png"]);
        }
    }
}

#[test]
fn bad_buffers_are_errors() {
    let mut small = vec![0u8; 10];
    assert!(matches!(
        draw_cartpole(0.0, 0.0, 2.4, 64, 64, &mut small),
        Err(EnvError::LengthMismatch { .. })
    ));
    assert!(draw_mountain_car(0.0, 0.5, -1.2, 0.6, 0, 64, &mut []).is_err());
    assert!(draw_acrobot(0.0, 0.0, 64, 0, &mut []).is_err());
    assert!(draw_pendulum(0.0, None, 8, 8, &mut small).is_err());
    // Non-finite states draw something rather than panic.
    let mut out = vec![0u8; 64 * 64 * 3];
    for v in [f64::NAN, f64::INFINITY, -1e300] {
        draw_cartpole(v, v, 2.4, 64, 64, &mut out).expect("draws");
        draw_mountain_car(v, 0.5, -1.2, 0.6, 64, 64, &mut out).expect("draws");
        draw_acrobot(v, v, 64, 64, &mut out).expect("draws");
        draw_pendulum(v, Some(v), 64, 64, &mut out).expect("draws");
        let mut full = vec![0u8; 600 * 400 * 3];
        draw_cartpole(v, v, 2.4, 600, 400, &mut full).expect("draws");
        draw_mountain_car(v, 0.5, -1.2, 0.6, 600, 400, &mut full).expect("draws");
    }
}
