//! The `Env` trait and the values that cross it, with Gymnasium 1.x semantics.
//!
//! `reset(seed, options) -> (obs, info)` and `step(action) -> Step { obs, reward, terminated,
//! truncated, info }`, as in `gymnasium.Env`. Implementations write observations into
//! caller-owned buffers (`reset_into` / `step_into`), so a vector env steps a whole batch
//! without allocating; `reset` and `step` are the convenient owning forms built on top.

use std::collections::BTreeMap;
use std::fmt;

use image::RgbImage;

use crate::error::{EnvError, Result};
use crate::space::Space;

/// A flat observation, split by element type (see [`Space`]'s layout).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Obs {
    /// Every `f32` leaf of the observation, in order.
    pub f32: Vec<f32>,
    /// Every `u8` / `bool` leaf (images, MinAtar channels), in order.
    pub u8: Vec<u8>,
}

impl Obs {
    /// Zeroed buffers laid out for `space`.
    pub fn zeros(space: &Space) -> Obs {
        Obs { f32: vec![0.0; space.f32_len()], u8: vec![0; space.u8_len()] }
    }

    /// Mutable view for `reset_into` / `step_into`.
    pub fn as_mut(&mut self) -> ObsMut<'_> {
        ObsMut { f32: &mut self.f32, u8: &mut self.u8 }
    }
}

/// A mutable view of observation buffers that an env writes into.
#[derive(Debug)]
pub struct ObsMut<'a> {
    /// Room for `observation_space.f32_len()` values.
    pub f32: &'a mut [f32],
    /// Room for `observation_space.u8_len()` values.
    pub u8: &'a mut [u8],
}

impl ObsMut<'_> {
    /// Reborrow, to pass the view on without giving it up.
    pub fn reborrow(&mut self) -> ObsMut<'_> {
        ObsMut { f32: self.f32, u8: self.u8 }
    }

    /// Fail unless the buffers fit `space`.
    pub fn check(&self, space: &Space, what: &str) -> Result<()> {
        if self.f32.len() != space.f32_len() {
            return Err(EnvError::LengthMismatch {
                what: format!("{what} (float32 part)"),
                expected: space.f32_len(),
                got: self.f32.len(),
            });
        }
        if self.u8.len() != space.u8_len() {
            return Err(EnvError::LengthMismatch {
                what: format!("{what} (uint8 part)"),
                expected: space.u8_len(),
                got: self.u8.len(),
            });
        }
        Ok(())
    }
}

/// An owned action.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// For a `Discrete` space.
    Discrete(i64),
    /// For a `float32` `Box` space.
    Continuous(Vec<f32>),
    /// For a `MultiDiscrete` space.
    MultiDiscrete(Vec<i64>),
}

impl Action {
    /// Borrowed form, as `step_into` takes it.
    pub fn as_ref(&self) -> ActionRef<'_> {
        match self {
            Action::Discrete(a) => ActionRef::Discrete(*a),
            Action::Continuous(xs) => ActionRef::Continuous(xs),
            Action::MultiDiscrete(xs) => ActionRef::MultiDiscrete(xs),
        }
    }
}

/// A borrowed action: what `step_into` takes, so callers need not allocate per step.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ActionRef<'a> {
    /// For a `Discrete` space.
    Discrete(i64),
    /// For a `float32` `Box` space.
    Continuous(&'a [f32]),
    /// For a `MultiDiscrete` space.
    MultiDiscrete(&'a [i64]),
}

impl ActionRef<'_> {
    /// Owned copy.
    pub fn to_owned(&self) -> Action {
        match *self {
            ActionRef::Discrete(a) => Action::Discrete(a),
            ActionRef::Continuous(xs) => Action::Continuous(xs.to_vec()),
            ActionRef::MultiDiscrete(xs) => Action::MultiDiscrete(xs.to_vec()),
        }
    }

    /// The kind and length, for error messages ("a discrete action", "3 float32 values").
    pub fn describe(&self) -> String {
        match self {
            ActionRef::Discrete(_) => "one discrete action".into(),
            ActionRef::Continuous(xs) => format!("{} float32 values", xs.len()),
            ActionRef::MultiDiscrete(xs) => format!("{} discrete values", xs.len()),
        }
    }
}

impl fmt::Display for ActionRef<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ActionRef::Discrete(a) => write!(f, "{a}"),
            ActionRef::Continuous(xs) => write!(f, "{xs:?}"),
            ActionRef::MultiDiscrete(xs) => write!(f, "{xs:?}"),
        }
    }
}

/// A value in `info` dicts, keyword arguments and reset options.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    Floats(Vec<f64>),
    Map(Info),
}

impl Value {
    /// The value as a float (ints convert), or `None`.
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Value::Float(x) => Some(*x),
            Value::Int(i) => Some(*i as f64),
            _ => None,
        }
    }

    /// The value as a bool, or `None`.
    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Value::Bool(b) => Some(*b),
            _ => None,
        }
    }

    /// The value as a string, or `None`.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }
}

/// Gymnasium's `info` dict: a map from names to [`Value`]s, used through `Deref` /
/// `DerefMut` as a `BTreeMap<String, Value>` (`info.get("episode")`, `info.insert(..)`,
/// `for (k, v) in &info`).
///
/// Most steps report nothing, so the empty case is free: an empty `Info` is one null pointer,
/// built with one store and dropped with one compare. (A plain empty `BTreeMap` costs a
/// call into its drop glue on every step, about 55 instructions, a tenth of a MinAtar step.)
/// The map is allocated on the first mutable access.
#[derive(Clone, Default)]
// The box is the point: a pointer that is null when empty, where a bare `BTreeMap` is three
// words whose drop glue is called on every step.
#[allow(clippy::box_collection)]
pub struct Info(Option<Box<BTreeMap<String, Value>>>);

/// What an empty [`Info`] derefs to.
static EMPTY_INFO: BTreeMap<String, Value> = BTreeMap::new();

impl Info {
    /// An empty info dict (allocates nothing).
    pub const fn new() -> Self {
        Info(None)
    }

    /// The entries as a plain map.
    pub fn into_map(self) -> BTreeMap<String, Value> {
        self.0.map(|m| *m).unwrap_or_default()
    }
}

impl std::ops::Deref for Info {
    type Target = BTreeMap<String, Value>;

    #[inline]
    fn deref(&self) -> &Self::Target {
        self.0.as_deref().unwrap_or(&EMPTY_INFO)
    }
}

impl std::ops::DerefMut for Info {
    #[inline]
    fn deref_mut(&mut self) -> &mut Self::Target {
        self.0.get_or_insert_with(Box::default)
    }
}

impl fmt::Debug for Info {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

/// Equal when the entries are (an emptied map equals a never-filled one).
impl PartialEq for Info {
    fn eq(&self, other: &Self) -> bool {
        **self == **other
    }
}

impl From<BTreeMap<String, Value>> for Info {
    fn from(map: BTreeMap<String, Value>) -> Self {
        Info((!map.is_empty()).then(|| Box::new(map)))
    }
}

impl From<Info> for BTreeMap<String, Value> {
    fn from(info: Info) -> Self {
        info.into_map()
    }
}

impl<const N: usize> From<[(String, Value); N]> for Info {
    fn from(entries: [(String, Value); N]) -> Self {
        entries.into_iter().collect()
    }
}

impl FromIterator<(String, Value)> for Info {
    fn from_iter<I: IntoIterator<Item = (String, Value)>>(iter: I) -> Self {
        BTreeMap::from_iter(iter).into()
    }
}

impl Extend<(String, Value)> for Info {
    fn extend<I: IntoIterator<Item = (String, Value)>>(&mut self, iter: I) {
        let mut iter = iter.into_iter().peekable();
        if iter.peek().is_some() {
            (**self).extend(iter);
        }
    }
}

impl IntoIterator for Info {
    type Item = (String, Value);
    type IntoIter = std::collections::btree_map::IntoIter<String, Value>;

    fn into_iter(self) -> Self::IntoIter {
        self.into_map().into_iter()
    }
}

impl<'a> IntoIterator for &'a Info {
    type Item = (&'a String, &'a Value);
    type IntoIter = std::collections::btree_map::Iter<'a, String, Value>;

    fn into_iter(self) -> Self::IntoIter {
        (**self).iter()
    }
}

/// Keyword arguments to `make` and options to `reset` (e.g. `{"low": -0.6, "high": -0.4}`).
pub type Kwargs = BTreeMap<String, Value>;

/// What `step_into` returns besides the observation it wrote.
#[derive(Debug, Clone, PartialEq)]
pub struct StepOutcome {
    /// Reward for the transition.
    pub reward: f64,
    /// The MDP reached a terminal state (no bootstrapping past it).
    pub terminated: bool,
    /// The episode was cut short from outside the MDP (time limit); bootstrap from `obs`.
    pub truncated: bool,
    /// Extra diagnostics.
    pub info: Info,
}

/// A whole transition, as `gymnasium.Env.step` returns it.
#[derive(Debug, Clone, PartialEq)]
pub struct Step {
    pub obs: Obs,
    pub reward: f64,
    pub terminated: bool,
    pub truncated: bool,
    pub info: Info,
}

/// A Gymnasium-style environment.
///
/// Implementors check actions with [`Env::check_action`] (by default [`Space::check_action`]
/// against the action space), refuse `step` before `reset` and after the episode ended
/// ([`EnvError::StepBeforeReset`], [`EnvError::StepAfterDone`]), and never panic on user input.
pub trait Env: Send {
    /// The registry id (e.g. `"CartPole-v1"`), used in error messages.
    fn id(&self) -> &str;

    /// The space observations lie in.
    fn observation_space(&self) -> &Space;

    /// The action space, as Gymnasium's `action_space`: what `sample` draws from and
    /// `contains` tests. What `step` accepts is [`check_action`](Self::check_action)'s answer.
    fn action_space(&self) -> &Space;

    /// `Ok` when [`step_into`](Self::step_into) would accept `action` (the episode state
    /// aside); otherwise the error it would give. The default refuses anything outside
    /// [`action_space`](Self::action_space). Envs that clip out-of-box actions as Gymnasium
    /// does (Pendulum, MountainCarContinuous) accept those too, and wrappers that pass actions
    /// through unchanged forward the inner env's answer. A vector env checks a whole batch
    /// with it before any sub-env moves.
    fn check_action(&self, action: ActionRef<'_>) -> Result<()> {
        self.action_space().check_action(self.id(), action)
    }

    /// Start an episode. `seed` reseeds the env's generator (as `reset(seed=…)` does);
    /// `None` continues the current stream. Writes the first observation into `obs`.
    fn reset_into(&mut self, seed: Option<u64>, options: &Kwargs, obs: ObsMut<'_>) -> Result<Info>;

    /// Advance one step with `action`; write the next observation into `obs`.
    fn step_into(&mut self, action: ActionRef<'_>, obs: ObsMut<'_>) -> Result<StepOutcome>;

    /// A full-size RGB frame with Gymnasium's `rgb_array` geometry and colours.
    fn render(&self) -> Result<RgbImage>;

    /// An RGB frame of `width` x `height` written as HWC bytes into `out` (len `w*h*3`), for
    /// pixel-based RL. The default renders full size and resizes; envs override it with a
    /// direct small-frame path.
    fn render_into(&self, width: u32, height: u32, out: &mut [u8]) -> Result<()> {
        let full = self.render()?;
        crate::render::resize_rgb_into(&full, width, height, out)
    }

    /// Frames per second Gymnasium's `metadata["render_fps"]` declares.
    fn render_fps(&self) -> u32 {
        30
    }

    /// Start an episode and return the first observation (allocating form of `reset_into`).
    fn reset(&mut self, seed: Option<u64>, options: &Kwargs) -> Result<(Obs, Info)> {
        let mut obs = Obs::zeros(self.observation_space());
        let info = self.reset_into(seed, options, obs.as_mut())?;
        Ok((obs, info))
    }

    /// Advance one step (allocating form of `step_into`).
    fn step(&mut self, action: &Action) -> Result<Step> {
        let mut obs = Obs::zeros(self.observation_space());
        let out = self.step_into(action.as_ref(), obs.as_mut())?;
        Ok(Step {
            obs,
            reward: out.reward,
            terminated: out.terminated,
            truncated: out.truncated,
            info: out.info,
        })
    }
}

impl<E: Env + ?Sized> Env for Box<E> {
    fn id(&self) -> &str {
        (**self).id()
    }
    fn observation_space(&self) -> &Space {
        (**self).observation_space()
    }
    fn action_space(&self) -> &Space {
        (**self).action_space()
    }
    fn check_action(&self, action: ActionRef<'_>) -> Result<()> {
        (**self).check_action(action)
    }
    fn reset_into(&mut self, seed: Option<u64>, options: &Kwargs, obs: ObsMut<'_>) -> Result<Info> {
        (**self).reset_into(seed, options, obs)
    }
    fn step_into(&mut self, action: ActionRef<'_>, obs: ObsMut<'_>) -> Result<StepOutcome> {
        (**self).step_into(action, obs)
    }
    fn render(&self) -> Result<RgbImage> {
        (**self).render()
    }
    fn render_into(&self, width: u32, height: u32, out: &mut [u8]) -> Result<()> {
        (**self).render_into(width, height, out)
    }
    fn render_fps(&self) -> u32 {
        (**self).render_fps()
    }
}

/// Tracks whether an episode is running, so envs refuse `step` before `reset` and after the
/// end with the right error.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum EpisodeState {
    /// No `reset` yet.
    #[default]
    NeedsReset,
    /// An episode is running.
    Running,
    /// The last step terminated or truncated the episode.
    Done,
}

impl EpisodeState {
    /// `Ok` when stepping is allowed; otherwise the error naming `env`.
    #[inline]
    pub fn check_step(self, env: &str) -> Result<()> {
        match self {
            EpisodeState::Running => Ok(()),
            EpisodeState::NeedsReset => Err(EnvError::StepBeforeReset { env: env.to_string() }),
            EpisodeState::Done => Err(EnvError::StepAfterDone { env: env.to_string() }),
        }
    }

    /// The state after a step with these flags.
    #[inline]
    pub fn after_step(terminated: bool, truncated: bool) -> Self {
        if terminated || truncated {
            EpisodeState::Done
        } else {
            EpisodeState::Running
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_info_allocates_nothing_and_reads_as_an_empty_map() {
        let info = Info::new();
        assert!(info.0.is_none());
        assert!(info.is_empty() && info.get("episode").is_none());
        assert_eq!((&info).into_iter().count(), 0);
        assert_eq!(format!("{info:?}"), "{}");
        // Reading never allocates; nor does building from nothing.
        let collected: Info = std::iter::empty().collect();
        assert!(collected.0.is_none() && Info::from(BTreeMap::new()).0.is_none());
    }

    #[test]
    fn info_behaves_as_a_map() {
        let mut info = Info::new();
        info.insert("b".into(), Value::Int(2));
        info.insert("a".into(), Value::Bool(true));
        assert_eq!(info.len(), 2);
        assert_eq!(info["b"], Value::Int(2));
        let keys: Vec<&String> = info.keys().collect();
        assert_eq!(keys, ["a", "b"]);
        let same: Info =
            [("a".to_string(), Value::Bool(true)), ("b".to_string(), Value::Int(2))].into();
        assert_eq!(info, same);
        assert_eq!(format!("{info:?}"), r#"{"a": Bool(true), "b": Int(2)}"#);
        // An emptied map equals a never-filled one.
        let mut emptied = same.clone();
        emptied.clear();
        assert_eq!(emptied, Info::new());
        assert_ne!(info, Info::new());
        let map: BTreeMap<String, Value> = info.clone().into();
        assert_eq!(Info::from(map), info);
        let owned: Vec<(String, Value)> = info.into_iter().collect();
        assert_eq!(owned.len(), 2);
        let mut extended = Info::new();
        extended.extend(std::iter::empty());
        assert!(extended.0.is_none());
        extended.extend(owned);
        assert_eq!(extended, same);
    }
}
