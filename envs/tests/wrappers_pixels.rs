//! The pixel wrappers against outside references (Gymnasium 1.4.0's grayscale weights,
//! OpenCV 5.0's `INTER_AREA` resize, from the script at the end of tests/wrappers.rs):
//! grayscale, resize, render observations, and a CartPole pixel pipeline end to end.

use graft_envs::wrappers::{
    AddRenderObservation, FrameStackObservation, GrayscaleObservation, NormalizeObservation,
    RecordEpisodeStatistics, RenderObservationConfig, ResizeObservation,
};
use graft_envs::{
    Action, ActionRef, BoxSpace, DType, Env, EnvError, EpisodeState, Info, Kwargs, Obs, ObsMut,
    Result, Space, StepOutcome,
};
use image::RgbImage;

mod wrappers_common;
use wrappers_common::*;

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
