//! `AddRenderObservation`: rendered frames as observations (pixel-based RL), as Gymnasium
//! 1.x's `gymnasium.wrappers.AddRenderObservation`.
//!
//! With `render_only` the observation is the `[H, W, 3]` `uint8` frame alone; otherwise a
//! `Dict` of the frame under `render_key` (default `"pixels"`) and the original observation
//! under `obs_key` (default `"state"`), or, when the env's space is already a `Dict`, its
//! entries plus the frame. Keys are sorted, as Gymnasium's `Dict` sorts them, which fixes
//! where the frame sits in the flat layout.
//!
//! `size = Some((width, height))` renders small frames straight through the env's
//! `render_into` fast path, instead of Gymnasium's full-size `render()`; `None` uses the
//! full `render()` frame, whose size is read from one render at construction. Like Gymnasium,
//! which calls `env.reset()` to learn the frame shape, an env that cannot render before its
//! first reset is reset once here; the wrapper still refuses `step` until the caller's own
//! `reset`.

use crate::env::{ActionRef, Env, Info, Kwargs, Obs, ObsMut, StepOutcome};
use crate::error::{EnvError, Result};
use crate::space::{BoxSpace, DType, Space};

/// Options of [`AddRenderObservation`], with Gymnasium's defaults.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RenderObservationConfig {
    /// Observe only the frame (`true`), or the frame and the original observation.
    pub render_only: bool,
    /// Key of the frame in a `Dict` observation.
    pub render_key: String,
    /// Key of the original observation when it is not itself a `Dict`.
    pub obs_key: String,
    /// `(width, height)` of the frame; `None` for the env's full `render()` size.
    pub size: Option<(u32, u32)>,
}

impl Default for RenderObservationConfig {
    fn default() -> Self {
        RenderObservationConfig {
            render_only: true,
            render_key: "pixels".into(),
            obs_key: "state".into(),
            size: None,
        }
    }
}

/// Adds (or substitutes) rendered frames to observations (see the module docs).
#[derive(Debug)]
pub struct AddRenderObservation<E> {
    env: E,
    space: Space,
    /// `(width, height)` of the frame.
    size: (u32, u32),
    /// Whether `size` is the full `render()` size (no resizing).
    full: bool,
    render_only: bool,
    /// Where the frame's bytes start in the output's `u8` part.
    pixel_offset: usize,
    /// Inner observation, when it cannot be written straight into the output.
    scratch: Obs,
    /// The env was reset at construction; refuse `step` until the caller resets.
    needs_reset: bool,
}

inner_accessors!(AddRenderObservation);

impl<E: Env> AddRenderObservation<E> {
    /// Observe `size = (width, height)` frames only (`None`: full size).
    pub fn new(env: E, size: Option<(u32, u32)>) -> Result<Self> {
        Self::with_config(env, RenderObservationConfig { size, ..Default::default() })
    }

    /// Wrap with explicit options.
    pub fn with_config(mut env: E, config: RenderObservationConfig) -> Result<Self> {
        let mut needs_reset = false;
        let (size, full) = match config.size {
            Some((w, h)) if w == 0 || h == 0 => {
                return Err(EnvError::Render {
                    env: env.id().to_string(),
                    reason: format!(
                        "AddRenderObservation: frame size must be positive, got {w}x{h}"
                    ),
                })
            }
            Some(s) => (s, false),
            None => {
                let frame = match env.render() {
                    Ok(f) => f,
                    Err(_) => {
                        let mut o = Obs::zeros(env.observation_space());
                        env.reset_into(None, &Kwargs::new(), o.as_mut())?;
                        needs_reset = true;
                        env.render()?
                    }
                };
                (frame.dimensions(), true)
            }
        };
        let pixels = Space::Box(BoxSpace::uniform(
            0.0,
            255.0,
            vec![size.1 as usize, size.0 as usize, 3],
            DType::U8,
        ));
        let inner = env.observation_space().clone();
        let (space, pixel_offset) = if config.render_only {
            (pixels, 0)
        } else {
            let mut entries = match &inner {
                Space::Dict(entries) => {
                    if entries.iter().any(|(k, _)| *k == config.render_key) {
                        return Err(EnvError::Space {
                            space: inner.to_string(),
                            reason: format!(
                                "{}: AddRenderObservation: render_key '{}' already exists in \
                                 the observation space",
                                env.id(),
                                config.render_key
                            ),
                        });
                    }
                    entries.clone()
                }
                other => {
                    if config.obs_key == config.render_key {
                        return Err(EnvError::Other(format!(
                            "{}: AddRenderObservation: obs_key and render_key are both '{}'",
                            env.id(),
                            config.obs_key
                        )));
                    }
                    vec![(config.obs_key.clone(), other.clone())]
                }
            };
            entries.push((config.render_key.clone(), pixels));
            let space = Space::dict(entries);
            let mut offset = 0;
            if let Space::Dict(es) = &space {
                for (k, s) in es {
                    if *k == config.render_key {
                        break;
                    }
                    offset += s.u8_len();
                }
            }
            (space, offset)
        };
        Ok(AddRenderObservation {
            scratch: Obs::zeros(&inner),
            space,
            size,
            full,
            render_only: config.render_only,
            pixel_offset,
            needs_reset,
            env,
        })
    }

    /// `(width, height)` of the frames.
    pub fn frame_size(&self) -> (u32, u32) {
        self.size
    }

    fn frame_len(&self) -> usize {
        self.size.0 as usize * self.size.1 as usize * 3
    }

    fn render_frame(&self, out: &mut [u8]) -> Result<()> {
        if self.full {
            let frame = self.env.render()?;
            if frame.dimensions() != self.size {
                return Err(EnvError::Render {
                    env: self.env.id().to_string(),
                    reason: format!(
                        "AddRenderObservation: frame size changed from {:?} to {:?}",
                        self.size,
                        frame.dimensions()
                    ),
                });
            }
            out.copy_from_slice(frame.as_raw());
            Ok(())
        } else {
            self.env.render_into(self.size.0, self.size.1, out)
        }
    }

    /// Run `f` (the inner reset or step) with the inner observation written where it belongs
    /// in `obs`, then render the frame into its place.
    fn observe<T>(
        &mut self,
        obs: ObsMut<'_>,
        f: impl FnOnce(&mut E, ObsMut<'_>) -> Result<T>,
    ) -> Result<T> {
        obs.check(&self.space, self.env.id())?;
        let (off, n) = (self.pixel_offset, self.frame_len());
        let inner_u8 = self.scratch.u8.len();
        let out = if self.render_only {
            f(&mut self.env, self.scratch.as_mut())?
        } else if off == inner_u8 {
            // The frame comes after every inner byte (always so for state-only envs).
            f(&mut self.env, ObsMut { f32: &mut *obs.f32, u8: &mut obs.u8[..inner_u8] })?
        } else if off == 0 {
            f(&mut self.env, ObsMut { f32: &mut *obs.f32, u8: &mut obs.u8[n..] })?
        } else {
            let out = f(&mut self.env, ObsMut { f32: &mut *obs.f32, u8: &mut self.scratch.u8 })?;
            obs.u8[..off].copy_from_slice(&self.scratch.u8[..off]);
            obs.u8[off + n..].copy_from_slice(&self.scratch.u8[off..]);
            out
        };
        self.render_frame(&mut obs.u8[off..off + n])?;
        Ok(out)
    }
}

impl<E: Env> Env for AddRenderObservation<E> {
    forward_env_basics!();

    fn observation_space(&self) -> &Space {
        &self.space
    }

    fn action_space(&self) -> &Space {
        self.env.action_space()
    }

    fn reset_into(&mut self, seed: Option<u64>, options: &Kwargs, obs: ObsMut<'_>) -> Result<Info> {
        let info = self.observe(obs, |env, o| env.reset_into(seed, options, o))?;
        self.needs_reset = false;
        Ok(info)
    }

    fn step_into(&mut self, action: ActionRef<'_>, obs: ObsMut<'_>) -> Result<StepOutcome> {
        if self.needs_reset {
            return Err(EnvError::StepBeforeReset { env: self.env.id().to_string() });
        }
        self.observe(obs, |env, o| env.step_into(action, o))
    }
}
