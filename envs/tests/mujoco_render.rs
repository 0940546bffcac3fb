//! MuJoCo `rgb_array` frames against Gymnasium 1.4.0's (issue #21, item 5), the rendering
//! arguments, and MuJoCo frames through the pixel wrappers.
//!
//! The fixtures come from `fixtures/render/gen_mujoco_frames.py` (Gymnasium with
//! `MUJOCO_GL=egl`, Mesa's llvmpipe): for each case, the frame after `reset(seed=0)` (which
//! sets the free camera up) and the frame of a later state injected with `set_state`.
//! Rasterisation may differ between GL drivers and CPUs by a few edge pixels, so a frame must
//! agree with Gymnasium's to a mean absolute difference of at most [`MAX_MEAN_ABS`] (of 255)
//! per channel, with at most [`MAX_DIFFERING`] of its pixels off by more than
//! [`PIXEL_THRESHOLD`] in some channel. Measured on the machine that recorded them (same
//! MuJoCo, same Mesa 22.3.6 llvmpipe): 0 and 0, every frame bit-identical.

use std::path::PathBuf;

use graft_envs::mujoco::{
    Ant, HalfCheetah, Hopper, Humanoid, HumanoidStandup, InvertedDoublePendulum, InvertedPendulum,
    MujocoTask, Pusher, Reacher, Swimmer, Walker2d,
};
use graft_envs::{
    AddRenderObservation, Env, EnvError, FrameStackObservation, GrayscaleObservation, Info, Kwargs,
    MujocoEnv, MujocoError, ResizeObservation, Result, Value,
};
use serde_json::Value as Json;

const MAX_MEAN_ABS: f64 = 1.0;
const MAX_DIFFERING: f64 = 0.01;
const PIXEL_THRESHOLD: u8 = 16;

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/render")
}

/// A MuJoCo environment whose state can be injected.
trait Settable: Env {
    fn set(&mut self, qpos: &[f64], qvel: &[f64]) -> Result<()>;
}

impl<T: MujocoTask> Settable for MujocoEnv<T> {
    fn set(&mut self, qpos: &[f64], qvel: &[f64]) -> Result<()> {
        self.set_state(qpos, qvel).map(|_| ())
    }
}

fn build(id: &str, kw: &Kwargs) -> Result<Box<dyn Settable>> {
    Ok(match id {
        "Ant-v5" => Box::new(Ant::from_kwargs(kw)?),
        "HalfCheetah-v5" => Box::new(HalfCheetah::from_kwargs(kw)?),
        "Hopper-v5" => Box::new(Hopper::from_kwargs(kw)?),
        "Humanoid-v5" => Box::new(Humanoid::from_kwargs(kw)?),
        "HumanoidStandup-v5" => Box::new(HumanoidStandup::from_kwargs(kw)?),
        "InvertedPendulum-v5" => Box::new(InvertedPendulum::from_kwargs(kw)?),
        "InvertedDoublePendulum-v5" => Box::new(InvertedDoublePendulum::from_kwargs(kw)?),
        "Pusher-v5" => Box::new(Pusher::from_kwargs(kw)?),
        "Reacher-v5" => Box::new(Reacher::from_kwargs(kw)?),
        "Swimmer-v5" => Box::new(Swimmer::from_kwargs(kw)?),
        "Walker2d-v5" => Box::new(Walker2d::from_kwargs(kw)?),
        other => panic!("no constructor for {other} in this test"),
    })
}

fn to_value(j: &Json) -> Value {
    match j {
        Json::Bool(b) => Value::Bool(*b),
        Json::Number(n) if n.is_i64() => Value::Int(n.as_i64().unwrap()),
        Json::Number(n) => Value::Float(n.as_f64().unwrap()),
        Json::String(s) => Value::Str(s.clone()),
        Json::Object(m) => {
            Value::Map(m.iter().map(|(k, v)| (k.clone(), to_value(v))).collect::<Info>())
        }
        Json::Array(xs) => Value::Floats(xs.iter().map(|x| x.as_f64().unwrap()).collect()),
        Json::Null => panic!("null kwarg"),
    }
}

fn floats(bits: &Json) -> Vec<f64> {
    bits.as_array().unwrap().iter().map(|b| f64::from_bits(b.as_u64().unwrap())).collect()
}

/// `true` (and the reason printed) when this machine has no libEGL at all: the one case in
/// which the rendering tests are skipped. Any other rendering failure fails them.
fn egl_absent(result: &Result<image::RgbImage>) -> bool {
    match result {
        Err(EnvError::Mujoco(e @ MujocoError::GlUnavailable { reason, .. }))
            if reason.contains("is not installed") =>
        {
            eprintln!("skipped: {e}");
            true
        }
        _ => false,
    }
}

/// (mean absolute difference per channel, fraction of pixels off by more than the threshold)
fn difference(a: &image::RgbImage, b: &image::RgbImage) -> (f64, f64) {
    let (mut sum, mut differing) = (0u64, 0usize);
    for (p, q) in a.pixels().zip(b.pixels()) {
        let d = (0..3).map(|c| p.0[c].abs_diff(q.0[c])).collect::<Vec<_>>();
        sum += d.iter().map(|&x| x as u64).sum::<u64>();
        differing += usize::from(d.iter().any(|&x| x > PIXEL_THRESHOLD));
    }
    let n = a.width() as usize * a.height() as usize;
    (sum as f64 / (3 * n) as f64, differing as f64 / n as f64)
}

#[test]
fn frames_match_gymnasium_rgb_array() {
    let text = std::fs::read_to_string(fixtures().join("mujoco_frames.json")).unwrap();
    let doc: Json = serde_json::from_str(&text).unwrap();
    let mut checked = 0;
    for case in doc["cases"].as_array().unwrap() {
        let id = case["id"].as_str().unwrap();
        let kwargs: Kwargs = case["kwargs"]
            .as_object()
            .unwrap()
            .iter()
            .map(|(k, v)| (k.clone(), to_value(v)))
            .collect();
        let mut env = build(id, &kwargs).unwrap();
        env.reset(Some(0), &Kwargs::new()).unwrap();
        for frame in case["frames"].as_array().unwrap() {
            env.set(&floats(&frame["qpos"]), &floats(&frame["qvel"])).unwrap();
            let ours = env.render();
            if egl_absent(&ours) {
                return;
            }
            let ours = ours.unwrap();
            let name = frame["png"].as_str().unwrap();
            let theirs = image::open(fixtures().join(name)).unwrap().to_rgb8();
            assert_eq!(ours.dimensions(), theirs.dimensions(), "{name}");
            let (mean, differing) = difference(&ours, &theirs);
            println!(
                "{name}: mean |diff| {mean:.4}, pixels off by >{PIXEL_THRESHOLD}: {differing:.4}"
            );
            assert!(
                mean <= MAX_MEAN_ABS && differing <= MAX_DIFFERING,
                "{name} ({id} {kwargs:?}): mean |diff| {mean}, fraction of differing pixels {differing}"
            );
            checked += 1;
        }
    }
    assert_eq!(checked, 26);
}

#[test]
fn render_into_draws_the_same_camera_at_the_requested_size() {
    let kw = Kwargs::from([
        ("width".to_string(), Value::Int(84)),
        ("height".to_string(), Value::Int(84)),
    ]);
    let mut sized = build("Hopper-v5", &kw).unwrap();
    let mut default = build("Hopper-v5", &Kwargs::new()).unwrap();
    sized.reset(Some(3), &Kwargs::new()).unwrap();
    default.reset(Some(3), &Kwargs::new()).unwrap();
    let full = sized.render();
    if egl_absent(&full) {
        return;
    }
    let full = full.unwrap();
    assert_eq!(full.dimensions(), (84, 84));
    // The default env's frame is 480x480; straight at 84x84 it is the 84x84 env's frame.
    assert_eq!(default.render().unwrap().dimensions(), (480, 480));
    let mut small = vec![0u8; 84 * 84 * 3];
    default.render_into(84, 84, &mut small).unwrap();
    assert_eq!(small, full.into_raw());
    // Larger than the offscreen buffer (the model's 640x480): the buffer grows.
    let mut big = vec![0u8; 800 * 500 * 3];
    default.render_into(800, 500, &mut big).unwrap();
    assert!(big.iter().any(|&b| b != big[0]));
    // A frame follows the state.
    let before = default.render().unwrap();
    let action = graft_envs::Action::Continuous(vec![1.0, -1.0, 1.0]);
    for _ in 0..10 {
        default.step(&action).unwrap();
    }
    assert_ne!(default.render().unwrap(), before);
    assert!(matches!(
        default.render_into(84, 84, &mut [0u8; 10]),
        Err(EnvError::Mujoco(MujocoError::Render { .. }))
    ));
}

#[test]
fn mujoco_frames_feed_the_pixel_wrappers() {
    let env = graft_envs::make("HalfCheetah-v5", &Kwargs::new()).unwrap();
    let mut probe = build("HalfCheetah-v5", &Kwargs::new()).unwrap();
    probe.reset(Some(0), &Kwargs::new()).unwrap();
    if egl_absent(&probe.render()) {
        return;
    }
    let pixels = AddRenderObservation::new(env, Some((96, 96))).unwrap();
    let resized = ResizeObservation::new(pixels, 64, 64).unwrap();
    let gray = GrayscaleObservation::new(resized, false).unwrap();
    let mut stacked = FrameStackObservation::new(gray, 4).unwrap();
    assert_eq!(stacked.observation_space().shape(), vec![4, 64, 64]);
    let (obs, _) = stacked.reset(Some(0), &Kwargs::new()).unwrap();
    assert_eq!(obs.u8.len(), 4 * 64 * 64);
    let last = &obs.u8[3 * 64 * 64..];
    assert!(last.iter().any(|&b| b != last[0]), "a blank frame");
    let step = stacked.step(&graft_envs::Action::Continuous(vec![0.5; 6])).unwrap();
    assert_eq!(step.obs.u8.len(), 4 * 64 * 64);
}

#[test]
fn render_arguments_are_checked() {
    let bad = |pairs: Vec<(&str, Value)>| {
        let kw: Kwargs = pairs.into_iter().map(|(k, v)| (k.to_string(), v)).collect();
        build("HalfCheetah-v5", &kw).err()
    };
    // Both cameras, as Gymnasium refuses them; sizes and types.
    for pairs in [
        vec![("camera_id", Value::Int(0)), ("camera_name", Value::Str("track".into()))],
        vec![("width", Value::Int(0))],
        vec![("height", Value::Float(84.0))],
        vec![("camera_id", Value::Int(-2))],
        vec![("default_camera_config", Value::Float(1.0))],
    ] {
        assert!(matches!(bad(pairs), Some(EnvError::BadKwarg { .. })));
    }
    // Cameras the model lacks are refused at the first frame.
    for pairs in
        [vec![("camera_id", Value::Int(5))], vec![("camera_name", Value::Str("nope".into()))]]
    {
        let kw: Kwargs = pairs.into_iter().map(|(k, v)| (k.to_string(), v)).collect();
        let mut env = build("HalfCheetah-v5", &kw).unwrap();
        env.reset(Some(0), &Kwargs::new()).unwrap();
        match env.render() {
            Err(EnvError::Mujoco(MujocoError::Render { call, .. })) => assert_eq!(call, "camera"),
            other => panic!("{other:?}"),
        }
    }
    // `make` passes the rendering arguments through.
    let env = graft_envs::make_with(
        "Hopper-v5",
        [
            ("render_mode", Value::Str("rgb_array".into())),
            ("width", Value::Int(64)),
            ("height", Value::Int(48)),
        ],
    )
    .unwrap();
    match env.render() {
        Ok(frame) => assert_eq!(frame.dimensions(), (64, 48)),
        Err(e) => assert!(matches!(e, EnvError::Mujoco(MujocoError::GlUnavailable { .. })), "{e}"),
    }
}
