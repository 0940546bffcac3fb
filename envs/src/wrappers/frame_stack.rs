//! `FrameStackObservation`: the last `stack_size` observations stacked along a new leading
//! axis, as Gymnasium 1.x's `gymnasium.wrappers.FrameStackObservation`.
//!
//! The stacked space is Gymnasium's `batch_space(space, stack_size)`: a `Box` of shape `S`
//! becomes `[stack_size, ..S]`, `Discrete` becomes `MultiDiscrete`, `MultiDiscrete` becomes a
//! `Box` (`float32` here, since Graft stores integer leaves as `f32`), and a `Dict` stacks each
//! entry. In the flat layout that means each leaf's `stack_size` copies sit side by side,
//! oldest first. At reset the stack is padded with copies of the first observation
//! ([`Padding::Reset`], Gymnasium's default), with the space's "zero" (0 clipped into the
//! bounds; `start` for discrete spaces — Gymnasium's `create_zero_array`, [`Padding::Zero`]),
//! or with a given observation ([`Padding::Custom`]).

use crate::env::{ActionRef, Env, Info, Kwargs, Obs, ObsMut, StepOutcome};
use crate::error::{EnvError, Result};
use crate::space::{BoxSpace, DType, Space};

/// What fills the stack at reset, before enough observations exist.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum Padding {
    /// Copies of the reset observation (Gymnasium's `padding_type="reset"`).
    #[default]
    Reset,
    /// The space's zero observation (Gymnasium's `padding_type="zero"`).
    Zero,
    /// A given observation, which must lie in the inner observation space.
    Custom(Obs),
}

/// One leaf of a space in the flat layout: which part, and how many values.
#[derive(Debug, Clone, Copy)]
struct Leaf {
    u8: bool,
    len: usize,
}

fn leaves(space: &Space, out: &mut Vec<Leaf>) {
    match space {
        Space::Dict(entries) => entries.iter().for_each(|(_, s)| leaves(s, out)),
        Space::Box(b) if b.dtype != DType::F32 => out.push(Leaf { u8: true, len: b.len() }),
        other => out.push(Leaf { u8: false, len: other.f32_len() }),
    }
}

/// Gymnasium's `batch_space(space, n)`.
fn batch_space(space: &Space, n: usize) -> Space {
    match space {
        Space::Discrete { n: k, start } => {
            Space::MultiDiscrete { nvec: vec![*k; n], start: vec![*start; n] }
        }
        Space::MultiDiscrete { nvec, start } => {
            let low: Vec<f64> = start.iter().map(|&s| s as f64).collect();
            let high: Vec<f64> =
                nvec.iter().zip(start).map(|(&k, &s)| (s + k as i64 - 1) as f64).collect();
            Space::Box(BoxSpace::new(
                low.repeat(n),
                high.repeat(n),
                vec![n, nvec.len()],
                DType::F32,
            ))
        }
        Space::Box(b) => {
            let mut shape = vec![n];
            shape.extend(&b.shape);
            Space::Box(BoxSpace::new(b.low.repeat(n), b.high.repeat(n), shape, b.dtype))
        }
        Space::Dict(entries) => {
            Space::Dict(entries.iter().map(|(k, s)| (k.clone(), batch_space(s, n))).collect())
        }
    }
}

/// Gymnasium's `create_zero_array(space)`, in Graft's flat layout.
fn zero_obs(space: &Space, out: &mut Obs) {
    match space {
        Space::Discrete { start, .. } => out.f32.push(*start as f32),
        Space::MultiDiscrete { start, .. } => out.f32.extend(start.iter().map(|&s| s as f32)),
        Space::Box(b) => {
            let zero = b.low.iter().zip(&b.high).map(|(&lo, &hi)| {
                if lo > 0.0 {
                    lo
                } else if hi < 0.0 {
                    hi
                } else {
                    0.0
                }
            });
            if b.dtype == DType::F32 {
                out.f32.extend(zero.map(|z| z as f32));
            } else {
                out.u8.extend(zero.map(|z| z as u8));
            }
        }
        Space::Dict(entries) => entries.iter().for_each(|(_, s)| zero_obs(s, out)),
    }
}

/// Stacks the last `stack_size` observations (see the module docs).
#[derive(Debug)]
pub struct FrameStackObservation<E> {
    env: E,
    space: Space,
    stack_size: usize,
    padding: Padding,
    leaves: Vec<Leaf>,
    /// Ring of the last `stack_size` inner observations; `head` is the oldest.
    frames: Vec<Obs>,
    head: usize,
}

inner_accessors!(FrameStackObservation);

impl<E: Env> FrameStackObservation<E> {
    /// Stack `stack_size` (at least 1) observations, padding with copies of the first.
    pub fn new(env: E, stack_size: usize) -> Result<Self> {
        Self::with_padding(env, stack_size, Padding::Reset)
    }

    /// Stack `stack_size` (at least 1) observations with the given padding.
    pub fn with_padding(env: E, stack_size: usize, padding: Padding) -> Result<Self> {
        if stack_size == 0 {
            return Err(EnvError::Other(format!(
                "{}: FrameStackObservation: stack_size must be at least 1, got 0",
                env.id()
            )));
        }
        let inner = env.observation_space();
        let padding = match padding {
            Padding::Zero => {
                let mut z = Obs::default();
                zero_obs(inner, &mut z);
                Padding::Custom(z)
            }
            Padding::Custom(o) if !inner.contains_obs(&o.f32, &o.u8) => {
                return Err(EnvError::Space {
                    space: inner.to_string(),
                    reason: format!(
                        "{}: FrameStackObservation: the padding observation is not in the \
                         observation space",
                        env.id()
                    ),
                })
            }
            p => p,
        };
        let mut lv = Vec::new();
        leaves(inner, &mut lv);
        Ok(FrameStackObservation {
            space: batch_space(inner, stack_size),
            frames: vec![Obs::zeros(inner); stack_size],
            head: 0,
            stack_size,
            padding,
            leaves: lv,
            env,
        })
    }

    /// Number of observations in a stack.
    pub fn stack_size(&self) -> usize {
        self.stack_size
    }

    /// Write the stack, oldest first, leaf by leaf.
    fn write_stack(&self, obs: ObsMut<'_>) {
        let (mut fo, mut uo) = (0, 0); // offsets in the stacked output
        let (mut fi, mut ui) = (0, 0); // offsets in one inner observation
        for leaf in &self.leaves {
            for k in 0..self.stack_size {
                let frame = &self.frames[(self.head + k) % self.stack_size];
                if leaf.u8 {
                    obs.u8[uo..uo + leaf.len].copy_from_slice(&frame.u8[ui..ui + leaf.len]);
                    uo += leaf.len;
                } else {
                    obs.f32[fo..fo + leaf.len].copy_from_slice(&frame.f32[fi..fi + leaf.len]);
                    fo += leaf.len;
                }
            }
            if leaf.u8 {
                ui += leaf.len;
            } else {
                fi += leaf.len;
            }
        }
    }
}

impl<E: Env> Env for FrameStackObservation<E> {
    forward_env_basics!();

    fn observation_space(&self) -> &Space {
        &self.space
    }

    fn action_space(&self) -> &Space {
        self.env.action_space()
    }

    fn reset_into(&mut self, seed: Option<u64>, options: &Kwargs, obs: ObsMut<'_>) -> Result<Info> {
        obs.check(&self.space, self.env.id())?;
        // The newest slot is the last one; the rest are padding.
        let last = self.stack_size - 1;
        self.head = 0;
        let info = self.env.reset_into(seed, options, self.frames[last].as_mut())?;
        let (pad, rest) = self.frames.split_at_mut(last);
        let fill = match &self.padding {
            Padding::Custom(o) => o,
            _ => &rest[0],
        };
        for f in pad {
            f.f32.copy_from_slice(&fill.f32);
            f.u8.copy_from_slice(&fill.u8);
        }
        self.write_stack(obs);
        Ok(info)
    }

    fn step_into(&mut self, action: ActionRef<'_>, obs: ObsMut<'_>) -> Result<StepOutcome> {
        obs.check(&self.space, self.env.id())?;
        // The oldest slot becomes the newest.
        let slot = self.head;
        let out = self.env.step_into(action, self.frames[slot].as_mut())?;
        self.head = (self.head + 1) % self.stack_size;
        self.write_stack(obs);
        Ok(out)
    }
}
