//! Interop with the [`gymnasium-rs`](https://crates.io/crates/gymnasium-rs) crate (0.1.x),
//! in both directions, behind the `gymnasium-rs` feature.
//!
//! - [`ToGymnasiumRs`]: a Graft env as a `gymnasium_rs::core::Env<Array1<f32>, A>`, with `A`
//!   `i32` (for `Discrete` action spaces) or `Array1<f32>` (for `float32` `Box` ones), so it
//!   runs under gymnasium-rs's wrappers and loops.
//! - [`FromGymnasiumRs`]: a gymnasium-rs env as a Graft [`Env`], so it runs under Graft's
//!   wrappers, vector envs and agents.
//!
//! What gymnasium-rs 0.1 can express limits the first direction: its observations are a type
//! parameter but its `Space` has only `Discrete(i32)` and a flat `f32` `Box`, so Graft
//! observations must be all-`f32` (no pixel / `u8` leaves; a `Dict` or multi-dimensional box
//! is flattened into one `Box`), and `MultiDiscrete` action spaces have no counterpart.
//! Its `reset` and `step` return no `Result`, so a Graft error (a bad action, stepping after
//! the end) becomes a transition with `truncated = true`, zero reward and
//! `info["error"]`, and is kept for [`ToGymnasiumRs::take_error`]; nothing panics. Its seeds
//! are `i32`: a negative seed is reinterpreted as the `u32` with the same bits.
//!
//! The other direction adds what Graft's contract requires and gymnasium-rs leaves out:
//! action checks, refusing `step` before `reset` and after the end, and catching panics of
//! the foreign env (gymnasium-rs 0.1's own `CartPole` panics in `render` and on malformed
//! reset options) as [`EnvError`]s.

use std::panic::{catch_unwind, AssertUnwindSafe};

use gymnasium_rs::core as gym;
use image::RgbImage;
use ndarray::{Array1, Array3};
use serde_json::Value as Json;

use crate::env::{ActionRef, Env, EpisodeState, Info, Kwargs, Obs, ObsMut, StepOutcome, Value};
use crate::error::{EnvError, Result};
use crate::space::{DType, Space};

/// An action type of gymnasium-rs that maps onto a Graft action space.
pub trait GymAction: Sized + Send + 'static {
    /// Whether Graft's `space` can be expressed with this action type.
    fn fits(space: &Space) -> bool;

    /// Call `f` with this action as a Graft action for `space` (a `Discrete` action is
    /// shifted by the space's `start`, since gymnasium-rs's `Discrete(n)` starts at 0).
    fn with_graft<T>(&self, space: &Space, f: impl FnOnce(ActionRef<'_>) -> T) -> T;

    /// The gymnasium-rs action for a Graft action, or `None` if the kind differs.
    fn from_graft(action: ActionRef<'_>) -> Option<Self>;
}

impl GymAction for i32 {
    fn fits(space: &Space) -> bool {
        matches!(space, Space::Discrete { n, .. } if *n <= i32::MAX as u64)
    }

    fn with_graft<T>(&self, space: &Space, f: impl FnOnce(ActionRef<'_>) -> T) -> T {
        let start = match space {
            Space::Discrete { start, .. } => *start,
            _ => 0,
        };
        f(ActionRef::Discrete(*self as i64 + start))
    }

    fn from_graft(action: ActionRef<'_>) -> Option<Self> {
        match action {
            ActionRef::Discrete(a) => i32::try_from(a).ok(),
            _ => None,
        }
    }
}

impl GymAction for Array1<f32> {
    fn fits(space: &Space) -> bool {
        matches!(space, Space::Box(b) if b.dtype == DType::F32)
    }

    fn with_graft<T>(&self, _space: &Space, f: impl FnOnce(ActionRef<'_>) -> T) -> T {
        match self.as_slice() {
            Some(xs) => f(ActionRef::Continuous(xs)),
            None => f(ActionRef::Continuous(&self.to_vec())),
        }
    }

    fn from_graft(action: ActionRef<'_>) -> Option<Self> {
        match action {
            ActionRef::Continuous(xs) => Some(Array1::from(xs.to_vec())),
            _ => None,
        }
    }
}

/// Flat `(low, high)` of an all-`f32` space, leaf by leaf.
fn flat_bounds(space: &Space, low: &mut Vec<f32>, high: &mut Vec<f32>) {
    match space {
        Space::Discrete { n, start } => {
            low.push(*start as f32);
            high.push((*start + *n as i64 - 1) as f32);
        }
        Space::MultiDiscrete { nvec, start } => {
            for (&n, &s) in nvec.iter().zip(start) {
                low.push(s as f32);
                high.push((s + n as i64 - 1) as f32);
            }
        }
        Space::Box(b) => {
            low.extend(b.low.iter().map(|&x| x as f32));
            high.extend(b.high.iter().map(|&x| x as f32));
        }
        Space::Dict(entries) => entries.iter().for_each(|(_, s)| flat_bounds(s, low, high)),
    }
}

/// gymnasium-rs's form of a Graft observation space.
fn obs_space_to_gym(space: &Space, env: &str) -> Result<gym::Space> {
    match space {
        Space::Discrete { n, start: 0 } if *n <= i32::MAX as u64 => {
            Ok(gym::Space::Discrete(*n as i32))
        }
        _ if space.u8_len() > 0 => Err(EnvError::Space {
            space: space.to_string(),
            reason: format!(
                "{env}: gymnasium-rs observations are Array1<f32>, and this space has uint8 \
                 leaves (pixels); gymnasium-rs 0.1's Space cannot describe them"
            ),
        }),
        _ => {
            let (mut low, mut high) = (Vec::new(), Vec::new());
            flat_bounds(space, &mut low, &mut high);
            Ok(gym::Space::Box { low: Array1::from(low), high: Array1::from(high) })
        }
    }
}

/// gymnasium-rs's form of a Graft action space.
fn action_space_to_gym(space: &Space, env: &str) -> Result<gym::Space> {
    match space {
        Space::Discrete { n, .. } if *n <= i32::MAX as u64 => Ok(gym::Space::Discrete(*n as i32)),
        Space::Box(b) if b.dtype == DType::F32 => {
            let (mut low, mut high) = (Vec::new(), Vec::new());
            flat_bounds(space, &mut low, &mut high);
            Ok(gym::Space::Box { low: Array1::from(low), high: Array1::from(high) })
        }
        _ => Err(EnvError::Space {
            space: space.to_string(),
            reason: format!(
                "{env}: gymnasium-rs 0.1's Space has only Discrete and Box; no counterpart"
            ),
        }),
    }
}

/// Graft's form of a gymnasium-rs space.
fn space_from_gym(space: &gym::Space, env: &str) -> Result<Space> {
    let bad = |reason: String| EnvError::Space { space: format!("{space:?}"), reason };
    match space {
        gym::Space::Discrete(n) if *n > 0 => Ok(Space::discrete(*n as u64)),
        gym::Space::Discrete(n) => Err(bad(format!("{env}: Discrete({n}) has no elements"))),
        gym::Space::Box { low, high } => {
            if low.len() != high.len() {
                return Err(bad(format!(
                    "{env}: Box bounds differ in length ({} and {})",
                    low.len(),
                    high.len()
                )));
            }
            if low.iter().zip(high).any(|(l, h)| l.partial_cmp(h).is_none_or(|o| o.is_gt())) {
                return Err(bad(format!("{env}: Box low must not exceed high")));
            }
            Ok(Space::box_f32(
                low.iter().map(|&x| x as f64).collect(),
                high.iter().map(|&x| x as f64).collect(),
            ))
        }
    }
}

/// A gymnasium-rs (JSON) value as a Graft [`Value`], where one exists.
fn value_from_json(v: &Json) -> Option<Value> {
    Some(match v {
        Json::Bool(b) => Value::Bool(*b),
        Json::Number(n) => match n.as_i64() {
            Some(i) => Value::Int(i),
            None => Value::Float(n.as_f64()?),
        },
        Json::String(s) => Value::Str(s.clone()),
        Json::Array(xs) => Value::Floats(xs.iter().map(Json::as_f64).collect::<Option<_>>()?),
        Json::Object(m) => Value::Map(
            m.iter().map(|(k, v)| Some((k.clone(), value_from_json(v)?))).collect::<Option<_>>()?,
        ),
        Json::Null => return None,
    })
}

/// A Graft [`Value`] as JSON; non-finite floats become `null`, as `serde_json` writes them.
fn value_to_json(v: &Value) -> Json {
    match v {
        Value::Bool(b) => Json::Bool(*b),
        Value::Int(i) => Json::from(*i),
        Value::Float(x) => Json::from(*x),
        Value::Str(s) => Json::String(s.clone()),
        Value::Floats(xs) => Json::Array(xs.iter().map(|&x| Json::from(x)).collect()),
        Value::Map(m) => {
            Json::Object(m.iter().map(|(k, v)| (k.clone(), value_to_json(v))).collect())
        }
    }
}

fn info_to_gym(info: &Info) -> gym::Info {
    info.iter().map(|(k, v)| (k.clone(), value_to_json(v))).collect()
}

/// Graft's form of a gymnasium-rs info dict; a JSON value Graft has no form for (`null`,
/// arrays of non-numbers) is kept as its JSON text.
fn info_from_gym(info: &gym::Info) -> Info {
    info.iter()
        .map(|(k, v)| (k.clone(), value_from_json(v).unwrap_or_else(|| Value::Str(v.to_string()))))
        .collect()
}

fn options_from_gym(options: &gym::Options, env: &str) -> Result<Kwargs> {
    options
        .iter()
        .map(|(k, v)| {
            let value = value_from_json(v).ok_or_else(|| EnvError::BadKwarg {
                env: env.to_string(),
                key: k.clone(),
                reason: format!("reset option {v} has no Graft form"),
            })?;
            Ok((k.clone(), value))
        })
        .collect()
}

/// A Graft env as a gymnasium-rs env with actions of type `A` (see the module docs).
#[derive(Debug)]
pub struct ToGymnasiumRs<E, A = i32> {
    env: E,
    obs: Obs,
    obs_space: gym::Space,
    action_space: gym::Space,
    /// The env's own action space, to map actions without borrowing `env`.
    graft_action_space: Space,
    last_error: Option<EnvError>,
    _action: std::marker::PhantomData<fn(A)>,
}

impl<E: Env, A: GymAction> ToGymnasiumRs<E, A> {
    /// Wrap `env`; fails when its spaces have no gymnasium-rs form or its action space does
    /// not suit `A` (`i32` for `Discrete`, `Array1<f32>` for `Box`).
    pub fn new(env: E) -> Result<Self> {
        let action_space = action_space_to_gym(env.action_space(), env.id())?;
        if !A::fits(env.action_space()) {
            return Err(EnvError::Space {
                space: env.action_space().to_string(),
                reason: format!(
                    "{}: gymnasium-rs action type {} does not suit this action space",
                    env.id(),
                    std::any::type_name::<A>()
                ),
            });
        }
        Ok(ToGymnasiumRs {
            obs_space: obs_space_to_gym(env.observation_space(), env.id())?,
            obs: Obs::zeros(env.observation_space()),
            action_space,
            graft_action_space: env.action_space().clone(),
            last_error: None,
            _action: std::marker::PhantomData,
            env,
        })
    }

    /// The last error `reset` or `step` turned into a transition, if not yet taken.
    pub fn last_error(&self) -> Option<&EnvError> {
        self.last_error.as_ref()
    }

    /// Take the last error (leaving none).
    pub fn take_error(&mut self) -> Option<EnvError> {
        self.last_error.take()
    }

    /// The wrapped Graft env.
    pub fn inner(&self) -> &E {
        &self.env
    }

    /// The wrapped Graft env, mutably.
    pub fn inner_mut(&mut self) -> &mut E {
        &mut self.env
    }

    /// Unwrap.
    pub fn into_inner(self) -> E {
        self.env
    }

    fn error_info(&mut self, e: EnvError) -> gym::Info {
        let mut info = gym::Info::new();
        info.insert("error".into(), Json::String(e.to_string()));
        self.last_error = Some(e);
        info
    }
}

impl<E: Env, A: GymAction> gym::Env<Array1<f32>, A> for ToGymnasiumRs<E, A> {
    fn observation_space(&self) -> gym::Space {
        self.obs_space.clone()
    }

    fn action_space(&self) -> gym::Space {
        self.action_space.clone()
    }

    fn reset(&mut self, seed: Option<i32>, options: gym::Options) -> (Array1<f32>, gym::Info) {
        let seed = seed.map(|s| s as u32 as u64);
        let result = options_from_gym(&options, self.env.id())
            .and_then(|kw| self.env.reset_into(seed, &kw, self.obs.as_mut()));
        match result {
            Ok(info) => (Array1::from(self.obs.f32.clone()), info_to_gym(&info)),
            Err(e) => {
                self.obs.f32.fill(0.0);
                (Array1::from(self.obs.f32.clone()), self.error_info(e))
            }
        }
    }

    fn step(&mut self, action: A) -> (Array1<f32>, gym::Reward, bool, bool, gym::Info) {
        let (env, obs, space) = (&mut self.env, &mut self.obs, &self.graft_action_space);
        match action.with_graft(space, |a| env.step_into(a, obs.as_mut())) {
            Ok(out) => (
                Array1::from(self.obs.f32.clone()),
                out.reward as f32,
                out.terminated,
                out.truncated,
                info_to_gym(&out.info),
            ),
            Err(e) => (Array1::from(self.obs.f32.clone()), 0.0, false, true, self.error_info(e)),
        }
    }

    fn render(&self) -> Option<Array3<u8>> {
        let frame = self.env.render().ok()?;
        let (w, h) = frame.dimensions();
        Array3::from_shape_vec((h as usize, w as usize, 3), frame.into_raw()).ok()
    }

    fn close(&mut self) {}
}

/// A gymnasium-rs env (observations `Array1<f32>`, actions `A`) as a Graft env.
pub struct FromGymnasiumRs<G, A = i32> {
    env: G,
    id: String,
    obs_space: Space,
    action_space: Space,
    state: EpisodeState,
    _action: std::marker::PhantomData<fn(A)>,
}

impl<G, A> std::fmt::Debug for FromGymnasiumRs<G, A> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FromGymnasiumRs")
            .field("id", &self.id)
            .field("obs_space", &self.obs_space)
            .field("action_space", &self.action_space)
            .field("state", &self.state)
            .finish_non_exhaustive()
    }
}

fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".into())
}

impl<G, A> FromGymnasiumRs<G, A>
where
    G: gym::Env<Array1<f32>, A> + Send,
    A: GymAction,
{
    /// Wrap `env`, naming it `id` in errors; fails when its spaces are malformed.
    pub fn new(id: &str, env: G) -> Result<Self> {
        let obs_space = space_from_gym(&env.observation_space(), id)?;
        let action_space = space_from_gym(&env.action_space(), id)?;
        if !A::fits(&action_space) {
            return Err(EnvError::Space {
                space: action_space.to_string(),
                reason: format!(
                    "{id}: action type {} does not suit this action space",
                    std::any::type_name::<A>()
                ),
            });
        }
        Ok(FromGymnasiumRs {
            env,
            id: id.to_string(),
            obs_space,
            action_space,
            state: EpisodeState::NeedsReset,
            _action: std::marker::PhantomData,
        })
    }

    /// The wrapped gymnasium-rs env.
    pub fn inner(&self) -> &G {
        &self.env
    }

    /// Call the gymnasium-rs env's `close`.
    pub fn close(&mut self) -> Result<()> {
        let env = &mut self.env;
        catch_unwind(AssertUnwindSafe(|| env.close())).map_err(|p| self.panicked("close", &*p))
    }

    /// Unwrap.
    pub fn into_inner(self) -> G {
        self.env
    }

    fn panicked(&self, what: &str, payload: &(dyn std::any::Any + Send)) -> EnvError {
        EnvError::Other(format!(
            "{}: the gymnasium-rs env panicked in {what}: {}",
            self.id,
            panic_message(payload)
        ))
    }

    fn write_obs(&self, x: &Array1<f32>, obs: ObsMut<'_>) -> Result<()> {
        if x.len() != obs.f32.len() {
            return Err(EnvError::LengthMismatch {
                what: format!("{}: gymnasium-rs observation", self.id),
                expected: obs.f32.len(),
                got: x.len(),
            });
        }
        for (o, &v) in obs.f32.iter_mut().zip(x.iter()) {
            *o = v;
        }
        Ok(())
    }
}

impl<G, A> Env for FromGymnasiumRs<G, A>
where
    G: gym::Env<Array1<f32>, A> + Send,
    A: GymAction,
{
    fn id(&self) -> &str {
        &self.id
    }

    fn observation_space(&self) -> &Space {
        &self.obs_space
    }

    fn action_space(&self) -> &Space {
        &self.action_space
    }

    fn reset_into(&mut self, seed: Option<u64>, options: &Kwargs, obs: ObsMut<'_>) -> Result<Info> {
        obs.check(&self.obs_space, &self.id)?;
        let seed = match seed {
            None => None,
            Some(s) => Some(u32::try_from(s).map_err(|_| EnvError::BadKwarg {
                env: self.id.clone(),
                key: "seed".into(),
                reason: format!("gymnasium-rs seeds are 32-bit; {s} does not fit"),
            })? as i32),
        };
        let options: gym::Options =
            options.iter().map(|(k, v)| (k.clone(), value_to_json(v))).collect();
        let env = &mut self.env;
        self.state = EpisodeState::NeedsReset;
        let (x, info) = catch_unwind(AssertUnwindSafe(|| env.reset(seed, options)))
            .map_err(|p| self.panicked("reset", &*p))?;
        self.write_obs(&x, obs)?;
        self.state = EpisodeState::Running;
        Ok(info_from_gym(&info))
    }

    fn step_into(&mut self, action: ActionRef<'_>, obs: ObsMut<'_>) -> Result<StepOutcome> {
        self.state.check_step(&self.id)?;
        obs.check(&self.obs_space, &self.id)?;
        self.action_space.check_action(&self.id, action)?;
        let a = A::from_graft(action).ok_or_else(|| EnvError::WrongActionShape {
            env: self.id.clone(),
            expected: std::any::type_name::<A>().into(),
            got: action.describe(),
        })?;
        let env = &mut self.env;
        let stepped = catch_unwind(AssertUnwindSafe(|| env.step(a)));
        let (x, reward, terminated, truncated, info) = match stepped {
            Ok(t) => t,
            Err(p) => {
                self.state = EpisodeState::NeedsReset;
                return Err(self.panicked("step", &*p));
            }
        };
        self.write_obs(&x, obs)?;
        self.state = EpisodeState::after_step(terminated, truncated);
        Ok(StepOutcome { reward: reward as f64, terminated, truncated, info: info_from_gym(&info) })
    }

    fn render(&self) -> Result<RgbImage> {
        let env = &self.env;
        let frame = catch_unwind(AssertUnwindSafe(|| env.render()))
            .map_err(|p| self.panicked("render", &*p))?;
        let render_err = |reason: String| EnvError::Render { env: self.id.clone(), reason };
        let frame =
            frame.ok_or_else(|| render_err("the gymnasium-rs env returned no frame".into()))?;
        let (h, w, c) = frame.dim();
        if c != 3 {
            return Err(render_err(format!("expected an [H, W, 3] frame, got [{h}, {w}, {c}]")));
        }
        let raw: Vec<u8> = frame.iter().copied().collect();
        RgbImage::from_raw(w as u32, h as u32, raw)
            .ok_or_else(|| render_err("frame size does not match its data".into()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::env::Action;
    use gymnasium_rs::core::Env as GymEnv;
    use gymnasium_rs::envs::cartpole::CartPole as GymCartPole;
    use gymnasium_rs::wrappers::timelimit::TimeLimitWrapper;

    fn cartpole() -> Box<dyn Env> {
        crate::registry::make("CartPole-v1", &Kwargs::new()).expect("CartPole-v1")
    }

    #[test]
    fn graft_env_runs_under_gymnasium_rs_wrappers() {
        let mut adapter = ToGymnasiumRs::<_, i32>::new(cartpole()).unwrap();
        assert_eq!(GymEnv::action_space(&adapter), gym::Space::Discrete(2));
        match GymEnv::observation_space(&adapter) {
            gym::Space::Box { low, .. } => assert_eq!(low.len(), 4),
            other => panic!("{other:?}"),
        }
        let mut env = TimeLimitWrapper::new(&mut adapter, 5);
        let (obs, _) = env.reset_seed(7);
        assert_eq!(obs.len(), 4);
        let mut steps = 0;
        loop {
            let (_, reward, terminated, truncated, info) = env.step(1);
            steps += 1;
            assert_eq!(reward, 1.0);
            assert!(!info.contains_key("error"));
            if terminated || truncated {
                break;
            }
        }
        assert!(steps <= 5);
        let frame = GymEnv::render(&adapter).expect("a frame");
        assert_eq!(frame.dim().2, 3);
    }

    #[test]
    fn graft_errors_become_truncations_with_the_error_kept() {
        let mut env = ToGymnasiumRs::<_, i32>::new(cartpole()).unwrap();
        let (_, _, terminated, truncated, info) = env.step(0); // before reset
        assert!(!terminated && truncated);
        assert!(info["error"].as_str().unwrap_or("").contains("before reset"));
        assert!(matches!(env.take_error(), Some(EnvError::StepBeforeReset { .. })));
        env.reset_seed(0);
        let (_, reward, _, truncated, _) = env.step(7); // not in Discrete(2)
        assert!(truncated && reward == 0.0);
        assert!(matches!(env.last_error(), Some(EnvError::InvalidAction { .. })));
        // Pixel observations and the wrong action type are refused at construction.
        let pixels = crate::wrappers::AddRenderObservation::new(cartpole(), Some((8, 8))).unwrap();
        assert!(ToGymnasiumRs::<_, i32>::new(pixels).is_err());
        assert!(ToGymnasiumRs::<_, Array1<f32>>::new(cartpole()).is_err());
    }

    #[test]
    fn gymnasium_rs_env_runs_as_a_graft_env() {
        let mut env =
            FromGymnasiumRs::<_, i32>::new("gymnasium-rs/CartPole", GymCartPole::new()).unwrap();
        assert_eq!(env.action_space(), &Space::discrete(2));
        assert_eq!(env.observation_space().f32_len(), 4);
        assert!(matches!(env.step(&Action::Discrete(0)), Err(EnvError::StepBeforeReset { .. })));
        let (obs, _) = env.reset(Some(3), &Kwargs::new()).unwrap();
        assert!(obs.f32.iter().all(|x| x.abs() <= 0.05));
        // Same seed, same start.
        let (again, _) = env.reset(Some(3), &Kwargs::new()).unwrap();
        assert_eq!(obs, again);
        assert!(matches!(env.step(&Action::Discrete(2)), Err(EnvError::InvalidAction { .. })));
        let mut n = 0;
        loop {
            let s = env.step(&Action::Discrete(1)).unwrap();
            n += 1;
            if s.terminated || s.truncated {
                break;
            }
            assert!(n < 500, "CartPole pushed one way must fall");
        }
        assert!(matches!(env.step(&Action::Discrete(1)), Err(EnvError::StepAfterDone { .. })));
        // Its render is `unimplemented!()`: a panic there becomes an error.
        assert!(env.render().is_err());
        // Seeds beyond 32 bits have no gymnasium-rs form.
        assert!(env.reset(Some(1 << 40), &Kwargs::new()).is_err());
        // Reset options cross as JSON.
        let mut opts = Kwargs::new();
        opts.insert("low".into(), Value::Float(0.2));
        opts.insert("high".into(), Value::Float(0.3));
        let (obs, _) = env.reset(Some(1), &opts).unwrap();
        assert!(obs.f32.iter().all(|x| (0.2..0.3).contains(x)), "{obs:?}");
    }

    #[test]
    fn round_trip_through_both_adapters_keeps_the_trajectory() {
        let there = ToGymnasiumRs::<_, i32>::new(cartpole()).unwrap();
        let mut back = FromGymnasiumRs::<_, i32>::new("round-trip", there).unwrap();
        let mut direct = cartpole();
        let a = back.reset(Some(11), &Kwargs::new()).unwrap().0;
        let b = direct.reset(Some(11), &Kwargs::new()).unwrap().0;
        assert_eq!(a, b);
        for t in 0..30 {
            let act = Action::Discrete(t % 2);
            let (x, y) = (back.step(&act).unwrap(), direct.step(&act).unwrap());
            assert_eq!((x.obs, x.reward, x.terminated), (y.obs, y.reward, y.terminated));
            if y.terminated || y.truncated {
                break;
            }
        }
        // Graft wrappers compose over the adapter.
        let mut stacked = crate::wrappers::FrameStackObservation::new(back, 2).unwrap();
        assert_eq!(stacked.reset(Some(0), &Kwargs::new()).unwrap().0.f32.len(), 8);
    }
}
