//! Gymnasium-semantics wrappers against hand-computed values and outside references
//! (Gymnasium 1.4.0 values, from the script at the end of this file): frame stacking,
//! observation normalisation, action rescaling, clipping and repeat, episode statistics, and
//! errors passed through. The pixel wrappers are in tests/wrappers_pixels.rs.

use graft_envs::wrappers::{
    AddRenderObservation, ClipAction, FrameStackObservation, NormalizeObservation, Padding,
    RecordEpisodeStatistics, RenderObservationConfig, RepeatAction, RescaleAction,
};
use graft_envs::{
    Action, ActionRef, Env, EnvError, Info, Kwargs, Obs, ObsMut, Result, Space, StepOutcome,
};
use image::RgbImage;

mod wrappers_common;
use wrappers_common::*;

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

// ---------------------------------------------------------------- actions

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
    // Outside the wrapper's own space: mapped by the same line and handed on, as Gymnasium's
    // wrapper does; this strict env then refuses it, naming its own space.
    let err = env.step(&Action::Continuous(vec![1.5, 0.0])).unwrap_err();
    assert!(matches!(&err, EnvError::InvalidAction { space, .. } if space.contains("Box([-2")));
    assert!(err.to_string().contains("3"), "the mapped action 1.5 -> 3: {err}");
    // NaN and a wrong length are the wrapper's own errors.
    assert!(env.step(&Action::Continuous(vec![f32::NAN, 0.0])).is_err());
    assert!(matches!(
        env.step(&Action::Continuous(vec![0.0])),
        Err(EnvError::WrongActionShape { .. })
    ));

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
