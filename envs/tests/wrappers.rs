//! Gymnasium-semantics wrappers against hand-computed values and outside references
//! (Gymnasium 1.4.0 and OpenCV 5.0 values, from the script at the end of this file).

use graft_envs::wrappers::{
    AddRenderObservation, ClipAction, FrameStackObservation, GrayscaleObservation,
    NormalizeObservation, Padding, RecordEpisodeStatistics, RenderObservationConfig, RepeatAction,
    RescaleAction, ResizeObservation,
};
use graft_envs::{
    Action, ActionRef, BoxSpace, DType, Env, EnvError, EpisodeState, Info, Kwargs, Obs, ObsMut,
    Result, Space, StepOutcome, Value,
};
use image::RgbImage;

/// Observation `[t + seed, 2t + 1]` (the second bounded to `[1, 100]`), reward `t` at step `t`,
/// terminated after `len` steps; remembers the last action it was given.
struct Line {
    obs_space: Space,
    act_space: Space,
    len: u64,
    t: u64,
    offset: f32,
    state: EpisodeState,
    last_action: Option<Action>,
}

impl Line {
    fn new(len: u64, act_space: Space) -> Self {
        Line {
            obs_space: Space::box_f32(vec![f64::NEG_INFINITY, 1.0], vec![f64::INFINITY, 100.0]),
            act_space,
            len,
            t: 0,
            offset: 0.0,
            state: EpisodeState::NeedsReset,
            last_action: None,
        }
    }

    fn discrete(len: u64) -> Self {
        Line::new(len, Space::discrete(3))
    }

    fn write(&self, obs: ObsMut<'_>) {
        obs.f32[0] = self.t as f32 + self.offset;
        obs.f32[1] = 2.0 * self.t as f32 + 1.0;
    }
}

impl Env for Line {
    fn id(&self) -> &str {
        "Line-v0"
    }
    fn observation_space(&self) -> &Space {
        &self.obs_space
    }
    fn action_space(&self) -> &Space {
        &self.act_space
    }
    fn reset_into(&mut self, seed: Option<u64>, _: &Kwargs, obs: ObsMut<'_>) -> Result<Info> {
        obs.check(&self.obs_space, "Line")?;
        self.t = 0;
        self.offset = seed.unwrap_or(0) as f32;
        self.state = EpisodeState::Running;
        self.write(obs);
        Ok(Info::new())
    }
    fn step_into(&mut self, action: ActionRef<'_>, obs: ObsMut<'_>) -> Result<StepOutcome> {
        self.state.check_step("Line-v0")?;
        self.act_space.check_action("Line-v0", action)?;
        self.last_action = Some(action.to_owned());
        self.t += 1;
        self.write(obs);
        let terminated = self.t >= self.len;
        self.state = EpisodeState::after_step(terminated, false);
        Ok(StepOutcome { reward: self.t as f64, terminated, truncated: false, info: Info::new() })
    }
    /// A 6x4 frame whose red channel is the step count.
    fn render(&self) -> Result<RgbImage> {
        Ok(RgbImage::from_fn(6, 4, |x, y| image::Rgb([self.t as u8, x as u8, y as u8])))
    }
}

/// `[h, w, 3]` images: pixel `(y, x)` is `[t, x, y]`; also used as its own render.
struct Pix {
    space: Space,
    inner: Line,
}

impl Pix {
    fn new(h: usize, w: usize) -> Self {
        Pix {
            space: Space::Box(BoxSpace::uniform(0.0, 255.0, vec![h, w, 3], DType::U8)),
            inner: Line::discrete(100),
        }
    }
    fn write(&self, obs: ObsMut<'_>) {
        let (h, w) = (self.space.shape()[0], self.space.shape()[1]);
        for y in 0..h {
            for x in 0..w {
                let p = (y * w + x) * 3;
                obs.u8[p..p + 3].copy_from_slice(&[self.inner.t as u8, x as u8, y as u8]);
            }
        }
    }
}

impl Env for Pix {
    fn id(&self) -> &str {
        "Pix-v0"
    }
    fn observation_space(&self) -> &Space {
        &self.space
    }
    fn action_space(&self) -> &Space {
        self.inner.action_space()
    }
    fn reset_into(&mut self, seed: Option<u64>, o: &Kwargs, obs: ObsMut<'_>) -> Result<Info> {
        obs.check(&self.space, "Pix")?;
        let mut s = Obs::zeros(self.inner.observation_space());
        let info = self.inner.reset_into(seed, o, s.as_mut())?;
        self.write(obs);
        Ok(info)
    }
    fn step_into(&mut self, a: ActionRef<'_>, obs: ObsMut<'_>) -> Result<StepOutcome> {
        let mut s = Obs::zeros(self.inner.observation_space());
        let out = self.inner.step_into(a, s.as_mut())?;
        self.write(obs);
        Ok(out)
    }
    fn render(&self) -> Result<RgbImage> {
        self.inner.render()
    }
}

/// An env whose observations are the fixed image `img` (`[h, w, c]` or `[h, w]`).
struct Still {
    space: Space,
    img: Vec<u8>,
    state: EpisodeState,
}

impl Env for Still {
    fn id(&self) -> &str {
        "Still-v0"
    }
    fn observation_space(&self) -> &Space {
        &self.space
    }
    fn action_space(&self) -> &Space {
        &DISCRETE2
    }
    fn reset_into(&mut self, _: Option<u64>, _: &Kwargs, obs: ObsMut<'_>) -> Result<Info> {
        obs.u8.copy_from_slice(&self.img);
        self.state = EpisodeState::Running;
        Ok(Info::new())
    }
    fn step_into(&mut self, _: ActionRef<'_>, obs: ObsMut<'_>) -> Result<StepOutcome> {
        self.state.check_step("Still-v0")?;
        obs.u8.copy_from_slice(&self.img);
        Ok(StepOutcome { reward: 0.0, terminated: false, truncated: false, info: Info::new() })
    }
    fn render(&self) -> Result<RgbImage> {
        Err(EnvError::Render { env: "Still-v0".into(), reason: "none".into() })
    }
}

static DISCRETE2: Space = Space::Discrete { n: 2, start: 0 };

fn reset<E: Env>(env: &mut E, seed: Option<u64>) -> Obs {
    env.reset(seed, &Kwargs::new()).expect("reset").0
}

fn step<E: Env>(env: &mut E, a: Action) -> graft_envs::Step {
    env.step(&a).expect("step")
}

// ---------------------------------------------------------------- FrameStackObservation

#[test]
fn frame_stack_pads_with_the_reset_observation_and_rolls() {
    let mut env = FrameStackObservation::new(Line::discrete(10), 3).unwrap();
    assert_eq!(
        env.observation_space().to_string(),
        "Box([-inf 1 -inf 1 -inf 1], [inf 100 inf 100 inf 100], (3, 2), float32)"
    );
    assert_eq!(reset(&mut env, Some(5)).f32, [5., 1., 5., 1., 5., 1.]);
    assert_eq!(step(&mut env, Action::Discrete(0)).obs.f32, [5., 1., 5., 1., 6., 3.]);
    assert_eq!(step(&mut env, Action::Discrete(0)).obs.f32, [5., 1., 6., 3., 7., 5.]);
    assert_eq!(step(&mut env, Action::Discrete(0)).obs.f32, [6., 3., 7., 5., 8., 7.]);
    // A new episode forgets the old one.
    assert_eq!(reset(&mut env, Some(2)).f32, [2., 1., 2., 1., 2., 1.]);
}

#[test]
fn frame_stack_zero_padding_is_zero_clipped_into_the_bounds() {
    let mut env =
        FrameStackObservation::with_padding(Line::discrete(10), 3, Padding::Zero).unwrap();
    // The second element's bounds are [1, 100], so its "zero" is 1, as create_zero_array.
    assert_eq!(reset(&mut env, Some(5)).f32, [0., 1., 0., 1., 5., 1.]);
    assert_eq!(step(&mut env, Action::Discrete(1)).obs.f32, [0., 1., 5., 1., 6., 3.]);
    let custom = Obs { f32: vec![-1.0, 9.0], u8: vec![] };
    let mut env =
        FrameStackObservation::with_padding(Line::discrete(10), 2, Padding::Custom(custom))
            .unwrap();
    assert_eq!(reset(&mut env, None).f32, [-1., 9., 0., 1.]);
    let outside = Obs { f32: vec![0.0, 0.0], u8: vec![] };
    assert!(FrameStackObservation::with_padding(Line::discrete(1), 2, Padding::Custom(outside))
        .is_err());
}

#[test]
fn frame_stack_of_images_adds_a_leading_axis_and_batches_dicts_leafwise() {
    let mut env = FrameStackObservation::new(Pix::new(2, 3), 4).unwrap();
    assert_eq!(env.observation_space().shape(), vec![4, 2, 3, 3]);
    reset(&mut env, None);
    let o = step(&mut env, Action::Discrete(0)).obs;
    assert_eq!(o.u8.len(), 4 * 2 * 3 * 3);
    // Red channel of pixel (0, 0) in each frame: three padding copies of t=0, then t=1.
    let reds: Vec<u8> = (0..4).map(|k| o.u8[k * 18]).collect();
    assert_eq!(reds, [0, 0, 0, 1]);

    // Dict {pixels, state} stacks per key: all pixel frames, then all states.
    let cfg =
        RenderObservationConfig { render_only: false, size: Some((2, 1)), ..Default::default() };
    let dict = AddRenderObservation::with_config(Line::discrete(10), cfg).unwrap();
    let mut env = FrameStackObservation::new(dict, 2).unwrap();
    assert_eq!(
        env.observation_space().to_string(),
        "Dict('pixels': Box(0, 255, (2, 1, 2, 3), uint8), 'state': Box([-inf 1 -inf 1], [inf 100 inf 100], (2, 2), float32))"
    );
    reset(&mut env, None);
    let o = step(&mut env, Action::Discrete(0)).obs;
    assert_eq!(o.f32, [0., 1., 1., 3.]);
    assert_eq!(o.u8.len(), 2 * 2 * 3);
    assert_eq!((o.u8[0], o.u8[6]), (0, 1)); // red = step count of each frame
}

#[test]
fn frame_stack_rejects_zero_and_batches_discrete_like_gymnasium() {
    assert!(matches!(FrameStackObservation::new(Line::discrete(1), 0), Err(EnvError::Other(_))));
    struct D(Line, Space);
    impl Env for D {
        fn id(&self) -> &str {
            "D"
        }
        fn observation_space(&self) -> &Space {
            &self.1
        }
        fn action_space(&self) -> &Space {
            self.0.action_space()
        }
        fn reset_into(&mut self, _: Option<u64>, _: &Kwargs, obs: ObsMut<'_>) -> Result<Info> {
            obs.f32[0] = 2.0;
            Ok(Info::new())
        }
        fn step_into(&mut self, _: ActionRef<'_>, _: ObsMut<'_>) -> Result<StepOutcome> {
            Err(EnvError::Other("unused".into()))
        }
        fn render(&self) -> Result<RgbImage> {
            self.0.render()
        }
    }
    let env = D(Line::discrete(1), Space::Discrete { n: 4, start: 1 });
    let mut env = FrameStackObservation::with_padding(env, 3, Padding::Zero).unwrap();
    assert_eq!(
        env.observation_space(),
        &Space::MultiDiscrete { nvec: vec![4, 4, 4], start: vec![1, 1, 1] }
    );
    assert_eq!(reset(&mut env, None).f32, [1., 1., 2.]); // Discrete's zero is its start
}

// ---------------------------------------------------------------- NormalizeObservation

/// Gymnasium 1.4.0's NormalizeObservation on the same observations ([0,1], [1,3], [2,5],
/// [3,7]); see the script at the end of this file.
#[test]
fn normalize_matches_gymnasium_running_statistics() {
    let mut env = NormalizeObservation::new(Line::discrete(10)).unwrap();
    assert_eq!(env.observation_space().to_string(), "Box(-inf, inf, (2,), float32)");
    let mut got = vec![reset(&mut env, None).f32];
    for _ in 0..3 {
        got.push(step(&mut env, Action::Discrete(0)).obs.f32);
    }
    // Gymnasium's float32 values, printed as float64: the match is bit for bit.
    let want: [[f64; 2]; 4] = [
        [0.0, 0.007072594948112965],
        [0.9999499320983887, 0.9999997615814209],
        [1.2247446775436401, 1.2247498035430908],
        [1.3416475057601929, 1.3416452407836914],
    ];
    let got64: Vec<Vec<f64>> = got.iter().map(|o| o.iter().map(|&x| x as f64).collect()).collect();
    assert_eq!(got64, want);
    let rms = env.obs_rms();
    let as64 = |xs: &[f32]| xs.iter().map(|&x| x as f64).collect::<Vec<_>>();
    assert_eq!(as64(&rms.mean), [1.499962568283081, 3.9999001026153564]);
    assert_eq!(as64(&rms.var), [1.2500499486923218, 5.00029993057251]);
    assert!((rms.count - 4.0001).abs() < 1e-12);
}

#[test]
fn normalize_first_observation_by_hand_and_freeze() {
    // After one sample x from (mean 0, var 1, count 1e-4): mean = x / 1.0001,
    // var = (1e-4 + x^2 * 1e-4 / 1.0001) / 1.0001.
    let mut env = NormalizeObservation::new(Line::discrete(10)).unwrap();
    let o = reset(&mut env, None);
    let (m, v) = (1.0 / 1.0001, (1e-4 + 1e-4 / 1.0001) / 1.0001);
    let want = (1.0 - m) / (v + 1e-8f64).sqrt();
    assert!((o.f32[1] as f64 - want).abs() < 1e-5, "{} vs {want}", o.f32[1]);

    env.freeze();
    assert!(!env.update_running_mean());
    let before = env.obs_rms().clone();
    let o = step(&mut env, Action::Discrete(0)).obs;
    assert_eq!(env.obs_rms(), &before);
    let want1 = (3.0 - before.mean[1]) / (before.var[1] + 1e-8).sqrt();
    assert_eq!(o.f32[1], want1);
    env.set_update_running_mean(true);
    step(&mut env, Action::Discrete(0));
    assert_ne!(env.obs_rms(), &before);
}

#[test]
fn normalize_leaves_pixels_alone_and_rejects_bad_config() {
    let cfg =
        RenderObservationConfig { render_only: false, size: Some((2, 2)), ..Default::default() };
    let dict = AddRenderObservation::with_config(Line::discrete(10), cfg).unwrap();
    let mut env = NormalizeObservation::new(dict).unwrap();
    assert_eq!(
        env.observation_space().to_string(),
        "Dict('pixels': Box(0, 255, (2, 2, 3), uint8), 'state': Box(-inf, inf, (2,), float32))"
    );
    let o = step_after_reset(&mut env);
    assert_eq!(o.u8[0], 1); // raw frame: red = step count
    assert!(o.f32[0] > 0.0 && o.f32[0] < 1.5);

    assert!(NormalizeObservation::with_epsilon(Line::discrete(1), 0.0).is_err());
    assert!(NormalizeObservation::with_epsilon(Line::discrete(1), f64::NAN).is_err());
    assert!(NormalizeObservation::new(Pix::new(2, 2)).is_err()); // nothing in f32
}

fn step_after_reset<E: Env>(env: &mut E) -> Obs {
    reset(env, None);
    step(env, Action::Discrete(0)).obs
}

// ---------------------------------------------------------------- actions

fn box_line() -> Line {
    Line::new(100, Space::box_f32(vec![-2.0, 0.0], vec![2.0, 10.0]))
}

fn last_action<E: Env>(env: &E, inner: impl Fn(&E) -> &Line) -> Vec<f32> {
    match &inner(env).last_action {
        Some(Action::Continuous(xs)) => xs.clone(),
        other => panic!("no continuous action: {other:?}"),
    }
}

#[test]
fn rescale_action_maps_endpoints_and_midpoint() {
    let mut env = RescaleAction::new(box_line(), -1.0, 1.0).unwrap();
    assert_eq!(env.action_space().to_string(), "Box(-1, 1, (2,), float32)");
    reset(&mut env, None);
    for (a, want) in [
        ([-1.0, -1.0], [-2.0, 0.0]),
        ([1.0, 1.0], [2.0, 10.0]),
        ([0.0, 0.0], [0.0, 5.0]),
        ([0.5, -0.5], [1.0, 2.5]),
    ] {
        step(&mut env, Action::Continuous(a.to_vec()));
        assert_eq!(last_action(&env, |e| e.inner()), want);
    }
    // Outside the wrapper's own space: refused, naming that space.
    let err = env.step(&Action::Continuous(vec![1.5, 0.0])).unwrap_err();
    assert!(matches!(&err, EnvError::InvalidAction { space, .. } if space.contains("Box(-1, 1")));

    // Per-element bounds, and a half-bounded element shifts.
    let inner = Line::new(100, Space::box_f32(vec![0.0, 0.0], vec![f64::INFINITY, 1.0]));
    let mut env =
        RescaleAction::with_bounds(inner, vec![1.0, 10.0], vec![f64::INFINITY, 20.0]).unwrap();
    reset(&mut env, None);
    step(&mut env, Action::Continuous(vec![4.0, 15.0]));
    assert_eq!(last_action(&env, |e| e.inner()), [3.0, 0.5]);
}

#[test]
fn rescale_action_rejects_bad_configuration() {
    assert!(matches!(
        RescaleAction::new(Line::discrete(1), -1.0, 1.0),
        Err(EnvError::Space { .. })
    ));
    assert!(RescaleAction::new(box_line(), 1.0, 1.0).is_err());
    assert!(RescaleAction::new(box_line(), 1.0, -1.0).is_err());
    assert!(matches!(
        RescaleAction::with_bounds(box_line(), vec![0.0], vec![1.0]),
        Err(EnvError::LengthMismatch { .. })
    ));
    // Finite target bounds for an unbounded element have no affine map.
    let inner = Line::new(1, Space::box_f32(vec![0.0], vec![f64::INFINITY]));
    assert!(RescaleAction::new(inner, -1.0, 1.0).is_err());
}

#[test]
fn clip_action_clips_into_bounds_and_refuses_nan() {
    let mut env = ClipAction::new(box_line()).unwrap();
    assert_eq!(env.action_space().to_string(), "Box(-inf, inf, (2,), float32)");
    reset(&mut env, None);
    step(&mut env, Action::Continuous(vec![5.0, -7.0]));
    assert_eq!(last_action(&env, |e| e.inner()), [2.0, 0.0]);
    step(&mut env, Action::Continuous(vec![-0.5, 3.0]));
    assert_eq!(last_action(&env, |e| e.inner()), [-0.5, 3.0]);
    assert!(matches!(
        env.step(&Action::Continuous(vec![f32::NAN, 0.0])),
        Err(EnvError::NonFiniteAction { .. })
    ));
    assert!(ClipAction::new(Line::discrete(1)).is_err());
}

#[test]
fn repeat_action_sums_rewards_and_stops_at_the_end() {
    let mut env = RepeatAction::new(Line::discrete(5), 2).unwrap();
    reset(&mut env, None);
    let s = step(&mut env, Action::Discrete(1));
    assert_eq!((s.reward, s.terminated, s.obs.f32.clone()), (1.0 + 2.0, false, vec![2.0, 5.0]));
    let s = step(&mut env, Action::Discrete(1));
    assert_eq!((s.reward, s.terminated), (3.0 + 4.0, false));
    // Only one step is left: the repeat stops early on termination.
    let s = step(&mut env, Action::Discrete(1));
    assert_eq!((s.reward, s.terminated, s.obs.f32), (5.0, true, vec![5.0, 11.0]));
    assert!(matches!(env.step(&Action::Discrete(1)), Err(EnvError::StepAfterDone { .. })));
    assert!(RepeatAction::new(Line::discrete(5), 0).is_err());
}

// ---------------------------------------------------------------- episode statistics

fn episode(info: &Info) -> (f64, i64, f64) {
    match info.get("episode") {
        Some(Value::Map(m)) => (
            m["r"].as_f64().unwrap(),
            match m["l"] {
                Value::Int(l) => l,
                _ => panic!("l is not an int"),
            },
            m["t"].as_f64().unwrap(),
        ),
        other => panic!("no episode stats: {other:?}"),
    }
}

#[test]
fn episode_statistics_report_return_length_and_time() {
    let mut env = RecordEpisodeStatistics::with_options(Line::discrete(3), 2, "episode");
    for ep in 0..3 {
        reset(&mut env, None);
        assert!(step(&mut env, Action::Discrete(0)).info.is_empty());
        assert!(step(&mut env, Action::Discrete(0)).info.is_empty());
        let s = step(&mut env, Action::Discrete(0));
        assert!(s.terminated);
        let (r, l, t) = episode(&s.info);
        assert_eq!((r, l), (1.0 + 2.0 + 3.0, 3));
        assert!((0.0..60.0).contains(&t));
        assert_eq!(env.episode_count, ep + 1);
    }
    // buffer_length 2 keeps the last two episodes.
    assert_eq!(env.return_queue, [6.0, 6.0]);
    assert_eq!(env.length_queue, [3, 3]);
    assert_eq!(env.time_queue.len(), 2);
    // An episode cut short by a reset does not count.
    reset(&mut env, None);
    step(&mut env, Action::Discrete(0));
    reset(&mut env, None);
    step(&mut env, Action::Discrete(0));
    step(&mut env, Action::Discrete(0));
    let s = step(&mut env, Action::Discrete(0));
    assert_eq!(episode(&s.info).0, 6.0);
    assert_eq!(env.episode_count, 4);
}

// ---------------------------------------------------------------- pixels

#[test]
fn grayscale_matches_gymnasium_weights_and_truncation() {
    let px = [10, 200, 30, 255, 0, 0, 0, 255, 0, 0, 0, 255, 1, 2, 3, 255, 255, 255];
    let still = |shape: Vec<usize>| Still {
        space: Space::Box(BoxSpace::uniform(0.0, 255.0, shape, DType::U8)),
        img: px.to_vec(),
        state: EpisodeState::NeedsReset,
    };
    let mut env = GrayscaleObservation::new(still(vec![1, 6, 3]), false).unwrap();
    assert_eq!(env.observation_space().shape(), vec![1, 6]);
    // numpy: sum(px * [0.2125, 0.7154, 0.0721], axis=-1).astype(uint8)
    assert_eq!(reset(&mut env, None).u8, [147, 54, 182, 18, 1, 255]);
    let env = GrayscaleObservation::new(still(vec![1, 6, 3]), true).unwrap();
    assert_eq!(env.observation_space().shape(), vec![1, 6, 1]);

    assert!(matches!(
        GrayscaleObservation::new(Line::discrete(1), false),
        Err(EnvError::Space { .. })
    ));
    assert!(GrayscaleObservation::new(still(vec![2, 3, 3]), false).is_ok());
    assert!(GrayscaleObservation::new(still(vec![6, 3]), false).is_err()); // no channels
}

fn pattern(h: usize, w: usize, c: usize) -> Vec<u8> {
    let mut v = Vec::with_capacity(h * w * c);
    for y in 0..h {
        for x in 0..w {
            for ch in 0..c {
                v.push(((x * 37 + y * 91 + ch * 53 + x * y * 7) % 256) as u8);
            }
        }
    }
    v
}

/// `(source [h, w, c], target (h, w), expected bytes)`.
type ResizeCase = ((usize, usize, usize), (usize, usize), &'static [u8]);

/// `cv2.resize(img, (w, h), interpolation=cv2.INTER_AREA)` on `pattern`, OpenCV 5.0.
#[test]
fn resize_matches_opencv_inter_area() {
    let cases: [ResizeCase; 4] = [
        (
            (10, 12, 3),
            (4, 5),
            &[
                96, 128, 142, 119, 129, 157, 141, 130, 119, 103, 130, 141, 117, 132, 121, 122, 137,
                126, 142, 135, 145, 153, 133, 114, 121, 132, 125, 141, 130, 144, 108, 140, 133,
                127, 129, 114, 140, 133, 135, 118, 128, 105, 141, 113, 124, 134, 106, 117, 158,
                126, 145, 101, 137, 138, 137, 139, 123, 122, 111, 147,
            ],
        ),
        (
            (8, 12, 3),
            (4, 6),
            &[
                66, 119, 172, 147, 136, 125, 100, 153, 142, 117, 106, 159, 134, 123, 112, 87, 140,
                129, 127, 116, 105, 108, 161, 150, 153, 142, 131, 134, 123, 112, 115, 104, 157,
                160, 149, 138, 124, 177, 102, 133, 122, 111, 142, 131, 120, 151, 140, 129, 96, 149,
                138, 169, 94, 83, 121, 110, 163, 94, 147, 136, 131, 120, 109, 168, 93, 146, 141,
                130, 119, 114, 103, 156,
            ],
        ),
        (
            (4, 5, 1),
            (7, 9),
            &[
                0, 7, 37, 52, 74, 96, 111, 141, 148, 23, 30, 62, 77, 100, 123, 139, 119, 114, 91,
                100, 135, 153, 179, 205, 223, 53, 11, 137, 146, 184, 152, 104, 132, 151, 86, 71,
                182, 192, 233, 151, 28, 59, 79, 120, 130, 58, 69, 115, 111, 107, 140, 163, 208,
                219, 17, 29, 75, 98, 133, 168, 191, 237, 249,
            ],
        ),
        (
            (7, 9, 1),
            (3, 10),
            &[
                52, 88, 125, 161, 116, 88, 124, 136, 87, 124, 64, 114, 107, 140, 190, 159, 107,
                140, 133, 183, 186, 54, 93, 131, 182, 148, 89, 144, 154, 22,
            ],
        ),
    ];
    for ((h, w, c), (dh, dw), want) in cases {
        let shape = if c == 1 { vec![h, w] } else { vec![h, w, c] };
        let still = Still {
            space: Space::Box(BoxSpace::uniform(0.0, 255.0, shape, DType::U8)),
            img: pattern(h, w, c),
            state: EpisodeState::NeedsReset,
        };
        let mut env = ResizeObservation::new(still, dh, dw).unwrap();
        let mut want_shape = vec![dh, dw];
        if c > 1 {
            want_shape.push(c);
        }
        assert_eq!(env.observation_space().shape(), want_shape);
        let got = reset(&mut env, None).u8;
        let worst = got.iter().zip(want).map(|(&a, &b)| (a as i32 - b as i32).abs()).max();
        // OpenCV's integer paths may round a tie the other way (see resize.rs).
        assert!(worst <= Some(1), "{h}x{w}x{c} -> {dh}x{dw}: {got:?}");
    }
}

#[test]
fn resize_rejects_bad_configuration() {
    assert!(ResizeObservation::new(Pix::new(4, 4), 0, 2).is_err());
    assert!(ResizeObservation::new(Line::discrete(1), 2, 2).is_err());
    let mut env = ResizeObservation::new(Pix::new(4, 6), 2, 3).unwrap();
    assert_eq!(env.observation_space().shape(), vec![2, 3, 3]);
    assert!(matches!(env.step(&Action::Discrete(0)), Err(EnvError::StepBeforeReset { .. })));
}

#[test]
fn render_observation_pixels_only_and_with_state() {
    // Full size: the 6x4 frame of `render()`.
    let mut env = AddRenderObservation::new(Line::discrete(10), None).unwrap();
    assert_eq!(env.observation_space().to_string(), "Box(0, 255, (4, 6, 3), uint8)");
    reset(&mut env, None);
    let o = step(&mut env, Action::Discrete(0)).obs;
    assert!(o.f32.is_empty());
    assert_eq!(&o.u8[..6], &[1, 0, 0, 1, 1, 0]); // (t, x, y) at (0,0) and (0,1)

    // Small frames through render_into (here: the default resize of the 6x4 frame).
    let cfg = RenderObservationConfig {
        render_only: false,
        render_key: "rgb".into(),
        obs_key: "vec".into(),
        size: Some((3, 2)),
    };
    let mut env = AddRenderObservation::with_config(Line::discrete(10), cfg).unwrap();
    assert_eq!(
        env.observation_space().to_string(),
        "Dict('rgb': Box(0, 255, (2, 3, 3), uint8), 'vec': Box([-inf 1], [inf 100], (2,), float32))"
    );
    let o = reset(&mut env, Some(4));
    assert_eq!(o.f32, [4.0, 1.0]);
    assert_eq!(o.u8.len(), 2 * 3 * 3);
    assert!(env.observation_space().contains_obs(&o.f32, &o.u8));
}

/// An env with a `Dict` observation `{"a": u8[2], "z": u8[1]}`: the frame goes between them.
#[test]
fn render_observation_inserts_the_frame_in_key_order() {
    struct DictEnv(Line, Space);
    impl Env for DictEnv {
        fn id(&self) -> &str {
            "DictEnv"
        }
        fn observation_space(&self) -> &Space {
            &self.1
        }
        fn action_space(&self) -> &Space {
            self.0.action_space()
        }
        fn reset_into(&mut self, s: Option<u64>, o: &Kwargs, obs: ObsMut<'_>) -> Result<Info> {
            let mut x = Obs::zeros(self.0.observation_space());
            self.0.reset_into(s, o, x.as_mut())?;
            obs.u8.copy_from_slice(&[7, 8, 9]);
            Ok(Info::new())
        }
        fn step_into(&mut self, a: ActionRef<'_>, obs: ObsMut<'_>) -> Result<StepOutcome> {
            let mut x = Obs::zeros(self.0.observation_space());
            let out = self.0.step_into(a, x.as_mut())?;
            obs.u8.copy_from_slice(&[17, 18, 19]);
            Ok(out)
        }
        fn render(&self) -> Result<RgbImage> {
            self.0.render()
        }
    }
    let u8box = |n| Space::Box(BoxSpace::uniform(0.0, 255.0, vec![n], DType::U8));
    let space = Space::dict(vec![("a".into(), u8box(2)), ("z".into(), u8box(1))]);
    let cfg =
        RenderObservationConfig { render_only: false, size: Some((1, 1)), ..Default::default() };
    let mut env =
        AddRenderObservation::with_config(DictEnv(Line::discrete(5), space.clone()), cfg).unwrap();
    // The 1x1 frame is the mean of the 6x4 frame at t = 0: (0, 2.5, 1.5) rounded.
    assert_eq!(reset(&mut env, None).u8, [7, 8, 0, 3, 2, 9]);
    let o = step(&mut env, Action::Discrete(0)).obs;
    assert_eq!(o.u8[..2], [17, 18]);
    assert_eq!(o.u8[5], 19);
    // A render_key that already exists is refused.
    let cfg = RenderObservationConfig {
        render_only: false,
        render_key: "a".into(),
        ..Default::default()
    };
    assert!(AddRenderObservation::with_config(DictEnv(Line::discrete(5), space), cfg).is_err());
}

#[test]
fn render_observation_does_not_hide_step_before_reset() {
    // Full size needs one render; an env that can render only after reset is reset once at
    // construction, but the wrapper still refuses `step` until the caller resets.
    struct Late(Line);
    impl Env for Late {
        fn id(&self) -> &str {
            "Late"
        }
        fn observation_space(&self) -> &Space {
            self.0.observation_space()
        }
        fn action_space(&self) -> &Space {
            self.0.action_space()
        }
        fn reset_into(&mut self, s: Option<u64>, o: &Kwargs, obs: ObsMut<'_>) -> Result<Info> {
            self.0.reset_into(s, o, obs)
        }
        fn step_into(&mut self, a: ActionRef<'_>, obs: ObsMut<'_>) -> Result<StepOutcome> {
            self.0.step_into(a, obs)
        }
        fn render(&self) -> Result<RgbImage> {
            match self.0.state {
                EpisodeState::NeedsReset => {
                    Err(EnvError::Render { env: "Late".into(), reason: "reset first".into() })
                }
                _ => self.0.render(),
            }
        }
    }
    let mut env = AddRenderObservation::new(Late(Line::discrete(5)), None).unwrap();
    assert!(matches!(env.step(&Action::Discrete(0)), Err(EnvError::StepBeforeReset { .. })));
    reset(&mut env, None);
    assert!(env.step(&Action::Discrete(0)).is_ok());
    assert!(AddRenderObservation::new(Line::discrete(5), Some((0, 3))).is_err());
}

#[test]
fn wrappers_pass_step_before_reset_and_after_done_through() {
    let mut env = RecordEpisodeStatistics::new(
        NormalizeObservation::new(FrameStackObservation::new(Line::discrete(1), 2).unwrap())
            .unwrap(),
    );
    assert!(matches!(env.step(&Action::Discrete(0)), Err(EnvError::StepBeforeReset { .. })));
    reset(&mut env, None);
    assert!(step(&mut env, Action::Discrete(0)).terminated);
    assert!(matches!(env.step(&Action::Discrete(0)), Err(EnvError::StepAfterDone { .. })));
    // Wrong buffer sizes are refused, not sliced.
    let mut small = Obs { f32: vec![0.0; 2], u8: vec![] };
    assert!(env.reset_into(None, &Kwargs::new(), small.as_mut()).is_err());
}

// ---------------------------------------------------------------- a real env

#[test]
fn cartpole_pixel_pipeline_and_statistics() {
    let make = || graft_envs::make("CartPole-v1", &Kwargs::new()).expect("CartPole-v1");
    // Atari-style pixel pipeline: 84x84 frames, grayscale, 4-frame stack.
    let env = AddRenderObservation::new(make(), Some((84, 84))).unwrap();
    let env = GrayscaleObservation::new(env, false).unwrap();
    let mut env = FrameStackObservation::new(env, 4).unwrap();
    assert_eq!(env.observation_space().to_string(), "Box(0, 255, (4, 84, 84), uint8)");
    let o = reset(&mut env, Some(0));
    assert_eq!(o.u8.len(), 4 * 84 * 84);
    assert!(o.u8.iter().any(|&p| p != o.u8[0]), "a blank frame");
    let frame = 84 * 84;
    assert_eq!(o.u8[..frame], o.u8[3 * frame..]); // padded with the reset frame

    // Statistics over a whole CartPole episode: reward 1 per step.
    let mut env = RecordEpisodeStatistics::new(NormalizeObservation::new(make()).unwrap());
    reset(&mut env, Some(3));
    let mut steps = 0;
    let info = loop {
        let s = step(&mut env, Action::Discrete(steps % 2));
        steps += 1;
        if s.terminated || s.truncated {
            break s.info;
        }
    };
    let (r, l, _) = episode(&info);
    assert_eq!((r, l), (steps as f64, steps));
}

// The values above came from this script (Gymnasium 1.4.0, numpy 2.4, OpenCV 5.0):
//
// ```python
// import numpy as np, gymnasium as gym, cv2
// from gymnasium.wrappers import NormalizeObservation
// class Line(gym.Env):  # obs [t, 2t + 1]
//     observation_space = gym.spaces.Box(np.array([-np.inf, 1], np.float32),
//                                        np.array([np.inf, 100], np.float32))
//     action_space = gym.spaces.Discrete(2)
//     def reset(self, seed=None, options=None):
//         self.t = 0; return np.array([0, 1], np.float32), {}
//     def step(self, a):
//         self.t += 1
//         return np.array([self.t, 2 * self.t + 1], np.float32), float(self.t), False, False, {}
// env = NormalizeObservation(Line())
// print([env.reset()[0]] + [env.step(0)[0] for _ in range(3)], env.obs_rms.mean, env.obs_rms.var)
// def pattern(h, w, c):
//     y, x, ch = np.meshgrid(np.arange(h), np.arange(w), np.arange(c), indexing="ij")
//     return ((x * 37 + y * 91 + ch * 53 + x * y * 7) % 256).astype(np.uint8)
// img = pattern(10, 12, 3)   # [:, :, 0] for the one-channel cases
// print(cv2.resize(img, (5, 4), interpolation=cv2.INTER_AREA).reshape(-1).tolist())
// ```
