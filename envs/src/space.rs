//! Gymnasium's spaces: `Discrete`, `Box`, `MultiDiscrete` and `Dict`.
//!
//! A space says what observations and actions look like. Each can check membership
//! (`contains_*`) and draw a seeded sample, following `gymnasium.spaces` (1.x): a `Box` samples
//! uniformly where both bounds are finite, from a normal where neither is, and from a shifted
//! exponential where only one is.
//!
//! Observations are stored flat, split by element type: every `f32` leaf goes to the
//! observation's `f32` part, every `u8`/`bool` leaf (images, MinAtar's channels) to its `u8`
//! part, leaves in order (a `Dict` in key order). That keeps a batch of observations two
//! contiguous buffers, which a learner copies into tensors in one go.

use std::fmt;

use crate::env::{Action, ActionRef, Obs};
use crate::error::{EnvError, Result};
use crate::rng::EnvRng;

/// Element type of a `Box` space, as numpy's dtype names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DType {
    /// `float32`: stored in the observation's `f32` part.
    F32,
    /// `uint8`: stored in the `u8` part.
    U8,
    /// `bool`: stored in the `u8` part as 0 or 1.
    Bool,
}

impl DType {
    /// numpy's name for the type.
    pub fn name(self) -> &'static str {
        match self {
            DType::F32 => "float32",
            DType::U8 => "uint8",
            DType::Bool => "bool",
        }
    }
}

/// A (possibly unbounded) box in R^n, `gymnasium.spaces.Box`.
#[derive(Debug, Clone, PartialEq)]
pub struct BoxSpace {
    /// Lower bound per element (`-inf` for unbounded), in row-major order.
    pub low: Vec<f64>,
    /// Upper bound per element (`+inf` for unbounded).
    pub high: Vec<f64>,
    /// Shape, e.g. `[4]` or `[400, 600, 3]`.
    pub shape: Vec<usize>,
    /// Element type.
    pub dtype: DType,
}

impl BoxSpace {
    /// A box with per-element bounds. Bounds of a `float32` box are rounded to `f32`, as numpy
    /// does when Gymnasium builds the space.
    ///
    /// # Panics
    /// When `low`, `high` and `shape` disagree in length; spaces are built by environment code,
    /// not from user input.
    pub fn new(low: Vec<f64>, high: Vec<f64>, shape: Vec<usize>, dtype: DType) -> Self {
        let n: usize = shape.iter().product();
        assert!(low.len() == n && high.len() == n, "Box bounds must match the shape");
        let round = |v: Vec<f64>| match dtype {
            DType::F32 => v.into_iter().map(|x| x as f32 as f64).collect(),
            _ => v,
        };
        BoxSpace { low: round(low), high: round(high), shape, dtype }
    }

    /// A box with the same bounds for every element.
    pub fn uniform(low: f64, high: f64, shape: Vec<usize>, dtype: DType) -> Self {
        let n: usize = shape.iter().product();
        BoxSpace::new(vec![low; n], vec![high; n], shape, dtype)
    }

    /// Number of elements.
    pub fn len(&self) -> usize {
        self.low.len()
    }

    /// Whether the box has no elements.
    pub fn is_empty(&self) -> bool {
        self.low.is_empty()
    }

    fn contains_f32(&self, xs: &[f32]) -> bool {
        xs.len() == self.len()
            && xs.iter().zip(self.low.iter().zip(&self.high)).all(|(&x, (&lo, &hi))| {
                let x = x as f64;
                x >= lo && x <= hi
            })
    }

    fn contains_u8(&self, xs: &[u8]) -> bool {
        xs.len() == self.len()
            && xs.iter().zip(self.low.iter().zip(&self.high)).all(|(&x, (&lo, &hi))| {
                let x = x as f64;
                x >= lo && x <= hi && (self.dtype != DType::Bool || x <= 1.0)
            })
    }

    fn sample_f32(&self, rng: &mut EnvRng, out: &mut Vec<f32>) {
        for (&lo, &hi) in self.low.iter().zip(&self.high) {
            let x = match (lo.is_finite(), hi.is_finite()) {
                (true, true) => rng.uniform(lo, hi),
                (false, false) => rng.normal(),
                (true, false) => lo + rng.exponential(),
                (false, true) => hi - rng.exponential(),
            };
            // Rounding to f32 can step just outside a bound; clamp back in.
            out.push((x as f32).clamp(lo as f32, hi as f32));
        }
    }

    fn sample_u8(&self, rng: &mut EnvRng, out: &mut Vec<u8>) {
        for (&lo, &hi) in self.low.iter().zip(&self.high) {
            let lo = lo.max(0.0) as u64;
            let hi = if self.dtype == DType::Bool { hi.min(1.0) } else { hi.min(255.0) } as u64;
            out.push((lo + rng.below(hi - lo + 1)) as u8);
        }
    }
}

/// One of Gymnasium's spaces.
#[derive(Debug, Clone, PartialEq)]
pub enum Space {
    /// Integers `start, start + 1, …, start + n - 1`.
    Discrete { n: u64, start: i64 },
    /// A box of `f32`, `u8` or `bool` values.
    Box(BoxSpace),
    /// Several discrete choices at once: element i in `start[i] .. start[i] + nvec[i]`.
    MultiDiscrete { nvec: Vec<u64>, start: Vec<i64> },
    /// Named sub-spaces, in key order.
    Dict(Vec<(String, Space)>),
}

impl Space {
    /// `Discrete(n)` starting at 0.
    pub fn discrete(n: u64) -> Space {
        Space::Discrete { n, start: 0 }
    }

    /// A `float32` box with per-element bounds and shape `[low.len()]`.
    pub fn box_f32(low: Vec<f64>, high: Vec<f64>) -> Space {
        let n = low.len();
        Space::Box(BoxSpace::new(low, high, vec![n], DType::F32))
    }

    /// A `Dict` space; keys are sorted, as Gymnasium sorts them.
    pub fn dict(mut entries: Vec<(String, Space)>) -> Space {
        entries.sort_by(|a, b| a.0.cmp(&b.0));
        Space::Dict(entries)
    }

    /// Number of `f32` values an observation of this space occupies.
    pub fn f32_len(&self) -> usize {
        match self {
            Space::Discrete { .. } => 1,
            Space::MultiDiscrete { nvec, .. } => nvec.len(),
            Space::Box(b) if b.dtype == DType::F32 => b.len(),
            Space::Box(_) => 0,
            Space::Dict(entries) => entries.iter().map(|(_, s)| s.f32_len()).sum(),
        }
    }

    /// Number of `u8` values an observation of this space occupies.
    pub fn u8_len(&self) -> usize {
        match self {
            Space::Box(b) if b.dtype != DType::F32 => b.len(),
            Space::Dict(entries) => entries.iter().map(|(_, s)| s.u8_len()).sum(),
            _ => 0,
        }
    }

    /// The shape of one sample: `[]` for `Discrete`, `[k]` for `MultiDiscrete`.
    pub fn shape(&self) -> Vec<usize> {
        match self {
            Space::Discrete { .. } => vec![],
            Space::MultiDiscrete { nvec, .. } => vec![nvec.len()],
            Space::Box(b) => b.shape.clone(),
            Space::Dict(_) => vec![],
        }
    }

    /// Whether a flat observation (both parts) lies in this space.
    pub fn contains_obs(&self, f32s: &[f32], u8s: &[u8]) -> bool {
        if f32s.len() != self.f32_len() || u8s.len() != self.u8_len() {
            return false;
        }
        let (mut fi, mut ui) = (0, 0);
        self.contains_obs_at(f32s, u8s, &mut fi, &mut ui)
    }

    fn contains_obs_at(&self, f: &[f32], u: &[u8], fi: &mut usize, ui: &mut usize) -> bool {
        match self {
            Space::Discrete { n, start } => {
                let x = f[*fi];
                *fi += 1;
                x.fract() == 0.0 && (x as i64) >= *start && (x as i64) < start + *n as i64
            }
            Space::MultiDiscrete { nvec, start } => {
                let xs = &f[*fi..*fi + nvec.len()];
                *fi += nvec.len();
                xs.iter().zip(nvec.iter().zip(start)).all(|(&x, (&n, &s))| {
                    x.fract() == 0.0 && (x as i64) >= s && (x as i64) < s + n as i64
                })
            }
            Space::Box(b) if b.dtype == DType::F32 => {
                let ok = b.contains_f32(&f[*fi..*fi + b.len()]);
                *fi += b.len();
                ok
            }
            Space::Box(b) => {
                let ok = b.contains_u8(&u[*ui..*ui + b.len()]);
                *ui += b.len();
                ok
            }
            Space::Dict(entries) => entries.iter().all(|(_, s)| s.contains_obs_at(f, u, fi, ui)),
        }
    }

    /// A seeded random observation from this space.
    pub fn sample_obs(&self, rng: &mut EnvRng) -> Obs {
        let mut obs =
            Obs { f32: Vec::with_capacity(self.f32_len()), u8: Vec::with_capacity(self.u8_len()) };
        self.sample_obs_into(rng, &mut obs);
        obs
    }

    fn sample_obs_into(&self, rng: &mut EnvRng, obs: &mut Obs) {
        match self {
            Space::Discrete { n, start } => obs.f32.push((*start + rng.below(*n) as i64) as f32),
            Space::MultiDiscrete { nvec, start } => {
                for (&n, &s) in nvec.iter().zip(start) {
                    obs.f32.push((s + rng.below(n) as i64) as f32);
                }
            }
            Space::Box(b) if b.dtype == DType::F32 => b.sample_f32(rng, &mut obs.f32),
            Space::Box(b) => b.sample_u8(rng, &mut obs.u8),
            Space::Dict(entries) => entries.iter().for_each(|(_, s)| s.sample_obs_into(rng, obs)),
        }
    }

    /// Whether an action lies in this space (right kind, right length, finite, in bounds).
    pub fn contains_action(&self, action: ActionRef<'_>) -> bool {
        self.check_action("", action).is_ok()
    }

    /// Check an action; the error names `env`, the action and the space.
    pub fn check_action(&self, env: &str, action: ActionRef<'_>) -> Result<()> {
        self.check_action_with(env, action, true)
    }

    /// Check an action for an env that clips continuous actions into its `Box` (as Gymnasium's
    /// Pendulum and MountainCarContinuous do): as [`check_action`](Self::check_action), except
    /// that `Box` values may lie outside the bounds. Kind, length and finiteness are still
    /// checked, and discrete actions must still lie in range.
    pub fn check_clippable_action(&self, env: &str, action: ActionRef<'_>) -> Result<()> {
        self.check_action_with(env, action, false)
    }

    fn check_action_with(&self, env: &str, action: ActionRef<'_>, box_bounds: bool) -> Result<()> {
        let outside = || EnvError::InvalidAction {
            env: env.to_string(),
            action: action.to_string(),
            space: self.to_string(),
        };
        let wrong = |expected: String| EnvError::WrongActionShape {
            env: env.to_string(),
            expected,
            got: action.describe(),
        };
        match (self, action) {
            (Space::Discrete { n, start }, ActionRef::Discrete(a)) => {
                if a >= *start && a < start + *n as i64 {
                    Ok(())
                } else {
                    Err(outside())
                }
            }
            (Space::MultiDiscrete { nvec, start }, ActionRef::MultiDiscrete(xs)) => {
                if xs.len() != nvec.len() {
                    return Err(wrong(format!("{} discrete values", nvec.len())));
                }
                if xs
                    .iter()
                    .zip(nvec.iter().zip(start))
                    .all(|(&x, (&n, &s))| x >= s && x < s + n as i64)
                {
                    Ok(())
                } else {
                    Err(outside())
                }
            }
            (Space::Box(b), ActionRef::Continuous(xs)) if b.dtype == DType::F32 => {
                if xs.len() != b.len() {
                    return Err(wrong(format!("{} float32 values", b.len())));
                }
                if xs.iter().any(|x| !x.is_finite()) {
                    return Err(EnvError::NonFiniteAction {
                        env: env.to_string(),
                        action: action.to_string(),
                    });
                }
                if !box_bounds || b.contains_f32(xs) {
                    Ok(())
                } else {
                    Err(outside())
                }
            }
            (Space::Discrete { .. }, _) => Err(wrong("one discrete action".into())),
            (Space::MultiDiscrete { nvec, .. }, _) => {
                Err(wrong(format!("{} discrete values", nvec.len())))
            }
            (Space::Box(b), _) if b.dtype == DType::F32 => {
                Err(wrong(format!("{} float32 values", b.len())))
            }
            _ => Err(EnvError::Space {
                space: self.to_string(),
                reason: "is not an action space".into(),
            }),
        }
    }

    /// A seeded random action from this space.
    pub fn sample_action(&self, rng: &mut EnvRng) -> Result<Action> {
        match self {
            Space::Discrete { n, start } => Ok(Action::Discrete(start + rng.below(*n) as i64)),
            Space::MultiDiscrete { nvec, start } => Ok(Action::MultiDiscrete(
                nvec.iter().zip(start).map(|(&n, &s)| s + rng.below(n) as i64).collect(),
            )),
            Space::Box(b) if b.dtype == DType::F32 => {
                let mut xs = Vec::with_capacity(b.len());
                b.sample_f32(rng, &mut xs);
                Ok(Action::Continuous(xs))
            }
            _ => Err(EnvError::Space {
                space: self.to_string(),
                reason: "is not an action space".into(),
            }),
        }
    }
}

fn fmt_bound(xs: &[f64]) -> String {
    if xs.windows(2).all(|w| w[0] == w[1]) {
        xs.first().map(|x| fmt_num(*x)).unwrap_or_default()
    } else {
        format!("[{}]", xs.iter().map(|x| fmt_num(*x)).collect::<Vec<_>>().join(" "))
    }
}

fn fmt_num(x: f64) -> String {
    if x == f64::INFINITY {
        "inf".into()
    } else if x == f64::NEG_INFINITY {
        "-inf".into()
    } else if x.abs() >= 1e30 {
        format!("{:e}", x as f32)
    } else {
        // Bounds are stored as f64 but hold f32 (or integer) values: print the shortest form
        // that reads back as the same f32, as numpy prints float32 arrays.
        format!("{}", x as f32)
    }
}

/// Gymnasium's `repr` of spaces, e.g. `Discrete(2)`, `Box(-1.0, 1.0, (1,), float32)`.
impl fmt::Display for Space {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Space::Discrete { n, start: 0 } => write!(f, "Discrete({n})"),
            Space::Discrete { n, start } => write!(f, "Discrete({n}, start={start})"),
            Space::MultiDiscrete { nvec, .. } => write!(f, "MultiDiscrete({nvec:?})"),
            Space::Box(b) => {
                let shape = match b.shape.len() {
                    1 => format!("({},)", b.shape[0]),
                    _ => format!(
                        "({})",
                        b.shape.iter().map(|s| s.to_string()).collect::<Vec<_>>().join(", ")
                    ),
                };
                write!(
                    f,
                    "Box({}, {}, {shape}, {})",
                    fmt_bound(&b.low),
                    fmt_bound(&b.high),
                    b.dtype.name()
                )
            }
            Space::Dict(entries) => {
                let parts: Vec<String> =
                    entries.iter().map(|(k, s)| format!("'{k}': {s}")).collect();
                write!(f, "Dict({})", parts.join(", "))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn discrete_contains_respects_start() {
        let s = Space::Discrete { n: 3, start: -1 };
        assert!(s.contains_action(ActionRef::Discrete(-1)));
        assert!(s.contains_action(ActionRef::Discrete(1)));
        assert!(!s.contains_action(ActionRef::Discrete(2)));
        assert!(!s.contains_action(ActionRef::Continuous(&[0.0])));
    }

    #[test]
    fn box_rejects_nan_wrong_length_and_out_of_bounds() {
        let s = Space::box_f32(vec![-2.0], vec![2.0]);
        assert!(s.contains_action(ActionRef::Continuous(&[1.5])));
        assert!(matches!(
            s.check_action("P", ActionRef::Continuous(&[f32::NAN])),
            Err(EnvError::NonFiniteAction { .. })
        ));
        assert!(matches!(
            s.check_action("P", ActionRef::Continuous(&[0.0, 0.0])),
            Err(EnvError::WrongActionShape { .. })
        ));
        assert!(matches!(
            s.check_action("P", ActionRef::Continuous(&[2.5])),
            Err(EnvError::InvalidAction { .. })
        ));
        assert!(matches!(
            s.check_action("P", ActionRef::Discrete(0)),
            Err(EnvError::WrongActionShape { .. })
        ));
    }

    #[test]
    fn clippable_actions_skip_only_the_box_bounds() {
        let s = Space::box_f32(vec![-2.0], vec![2.0]);
        assert!(s.check_clippable_action("P", ActionRef::Continuous(&[-1e30])).is_ok());
        assert!(matches!(
            s.check_clippable_action("P", ActionRef::Continuous(&[f32::INFINITY])),
            Err(EnvError::NonFiniteAction { .. })
        ));
        assert!(matches!(
            s.check_clippable_action("P", ActionRef::Continuous(&[0.0, 0.0])),
            Err(EnvError::WrongActionShape { .. })
        ));
        let d = Space::discrete(3);
        assert!(matches!(
            d.check_clippable_action("M", ActionRef::Discrete(3)),
            Err(EnvError::InvalidAction { .. })
        ));
        let md = Space::MultiDiscrete { nvec: vec![2], start: vec![0] };
        assert!(md.check_clippable_action("M", ActionRef::MultiDiscrete(&[2])).is_err());
    }

    #[test]
    fn samples_lie_in_the_space() {
        let mut rng = EnvRng::seed_from(0);
        let spaces = [
            Space::discrete(5),
            Space::box_f32(
                vec![-1.0, f64::NEG_INFINITY, 0.0, f64::NEG_INFINITY],
                vec![1.0, f64::INFINITY, f64::INFINITY, 3.0],
            ),
            Space::MultiDiscrete { nvec: vec![2, 3], start: vec![0, -1] },
            Space::dict(vec![
                (
                    "pixels".into(),
                    Space::Box(BoxSpace::uniform(0.0, 255.0, vec![2, 2, 3], DType::U8)),
                ),
                ("state".into(), Space::box_f32(vec![-1.0; 2], vec![1.0; 2])),
            ]),
            Space::Box(BoxSpace::uniform(0.0, 1.0, vec![10, 10, 4], DType::Bool)),
        ];
        for s in &spaces {
            for _ in 0..200 {
                let o = s.sample_obs(&mut rng);
                assert!(s.contains_obs(&o.f32, &o.u8), "{s}: {o:?}");
            }
            if let Ok(a) = s.sample_action(&mut rng) {
                assert!(s.contains_action(a.as_ref()), "{s}: {a:?}");
            }
        }
    }

    #[test]
    fn display_matches_gymnasium_repr() {
        assert_eq!(Space::discrete(2).to_string(), "Discrete(2)");
        assert_eq!(Space::box_f32(vec![-1.0], vec![1.0]).to_string(), "Box(-1, 1, (1,), float32)");
        let img = Space::Box(BoxSpace::uniform(0.0, 255.0, vec![400, 600, 3], DType::U8));
        assert_eq!(img.to_string(), "Box(0, 255, (400, 600, 3), uint8)");
    }

    #[test]
    fn f32_bounds_are_rounded_like_numpy() {
        let s = BoxSpace::uniform(0.1, 0.2, vec![1], DType::F32);
        assert_eq!(s.low[0], 0.1f32 as f64);
    }
}
