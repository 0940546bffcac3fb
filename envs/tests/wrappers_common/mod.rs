//! Test environments and helpers shared by the wrapper tests (tests/wrappers.rs,
//! tests/wrappers_pixels.rs). Not every test file uses every helper.
#![allow(dead_code)]

use graft_envs::{
    Action, ActionRef, BoxSpace, DType, Env, EnvError, EpisodeState, Info, Kwargs, Obs, ObsMut,
    Result, Space, StepOutcome, Value,
};
use image::RgbImage;

/// Observation `[t + seed, 2t + 1]` (the second bounded to `[1, 100]`), reward `t` at step `t`,
/// terminated after `len` steps; remembers the last action it was given.
pub struct Line {
    pub obs_space: Space,
    pub act_space: Space,
    pub len: u64,
    pub t: u64,
    pub offset: f32,
    pub state: EpisodeState,
    pub last_action: Option<Action>,
}

impl Line {
    pub fn new(len: u64, act_space: Space) -> Self {
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

    pub fn discrete(len: u64) -> Self {
        Line::new(len, Space::discrete(3))
    }

    pub fn write(&self, obs: ObsMut<'_>) {
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
pub struct Pix {
    pub space: Space,
    pub inner: Line,
}

impl Pix {
    pub fn new(h: usize, w: usize) -> Self {
        Pix {
            space: Space::Box(BoxSpace::uniform(0.0, 255.0, vec![h, w, 3], DType::U8)),
            inner: Line::discrete(100),
        }
    }
    pub fn write(&self, obs: ObsMut<'_>) {
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
pub struct Still {
    pub space: Space,
    pub img: Vec<u8>,
    pub state: EpisodeState,
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

pub static DISCRETE2: Space = Space::Discrete { n: 2, start: 0 };

pub fn reset<E: Env>(env: &mut E, seed: Option<u64>) -> Obs {
    env.reset(seed, &Kwargs::new()).expect("reset").0
}

pub fn step<E: Env>(env: &mut E, a: Action) -> graft_envs::Step {
    env.step(&a).expect("step")
}

pub fn step_after_reset<E: Env>(env: &mut E) -> Obs {
    reset(env, None);
    step(env, Action::Discrete(0)).obs
}

pub fn box_line() -> Line {
    Line::new(100, Space::box_f32(vec![-2.0, 0.0], vec![2.0, 10.0]))
}

pub fn last_action<E: Env>(env: &E, inner: impl Fn(&E) -> &Line) -> Vec<f32> {
    match &inner(env).last_action {
        Some(Action::Continuous(xs)) => xs.clone(),
        other => panic!("no continuous action: {other:?}"),
    }
}

pub fn episode(info: &Info) -> (f64, i64, f64) {
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

pub fn pattern(h: usize, w: usize, c: usize) -> Vec<u8> {
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
