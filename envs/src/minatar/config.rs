//! [`MinAtarConfig`]: the options of a MinAtar environment, with minatar's defaults, and their
//! keyword-argument form (what `make` takes and [`specs`](super::specs) lists).

use serde::{Deserialize, Serialize};

use crate::env::{Kwargs, Value};
use crate::error::{EnvError, Result};

/// Options of a MinAtar environment (the keyword arguments of `make`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MinAtarConfig {
    /// Probability that the previous action is repeated instead of the chosen one
    /// (minatar's `sticky_action_prob`, 0.1 by default as in the paper).
    pub sticky_action_prob: f64,
    /// Make the game harder over time where it has a ramp (Asterix, Seaquest, Space Invaders).
    pub difficulty_ramping: bool,
    /// Act through the game's minimal action set (minatar's `-v1` ids) instead of all six.
    pub use_minimal_action_set: bool,
    /// Lay observations out `[C, 10, 10]` instead of minatar's `[10, 10, C]`.
    pub channels_first: bool,
    /// Pixels per cell side in `render()` (1 gives Gymnasium's 10x10 `rgb_array`).
    pub render_cell_px: u32,
}

impl Default for MinAtarConfig {
    fn default() -> Self {
        MinAtarConfig {
            sticky_action_prob: 0.1,
            difficulty_ramping: true,
            use_minimal_action_set: true,
            channels_first: false,
            render_cell_px: 16,
        }
    }
}

impl MinAtarConfig {
    /// The configuration as keyword arguments (what [`specs`](super::specs) lists as defaults).
    pub fn to_kwargs(&self) -> Kwargs {
        let mut k = Kwargs::new();
        k.insert("sticky_action_prob".into(), Value::Float(self.sticky_action_prob));
        k.insert("difficulty_ramping".into(), Value::Bool(self.difficulty_ramping));
        k.insert("use_minimal_action_set".into(), Value::Bool(self.use_minimal_action_set));
        k.insert("channels_first".into(), Value::Bool(self.channels_first));
        k.insert("render_cell_px".into(), Value::Int(self.render_cell_px as i64));
        k
    }

    /// Override fields from keyword arguments; unknown keys and wrong types are errors.
    pub fn apply_kwargs(&mut self, env: &str, kwargs: &Kwargs) -> Result<()> {
        let bad = |key: &str, reason: &str| EnvError::BadKwarg {
            env: env.to_string(),
            key: key.to_string(),
            reason: reason.to_string(),
        };
        for (key, value) in kwargs {
            match key.as_str() {
                "sticky_action_prob" => {
                    let p = value.as_f64().ok_or_else(|| bad(key, "expected a number"))?;
                    self.sticky_action_prob = p;
                }
                "difficulty_ramping" | "use_minimal_action_set" | "channels_first" => {
                    let b = value.as_bool().ok_or_else(|| bad(key, "expected a bool"))?;
                    match key.as_str() {
                        "difficulty_ramping" => self.difficulty_ramping = b,
                        "use_minimal_action_set" => self.use_minimal_action_set = b,
                        _ => self.channels_first = b,
                    }
                }
                "render_cell_px" => match value {
                    Value::Int(n) if (1..=256).contains(n) => self.render_cell_px = *n as u32,
                    _ => return Err(bad(key, "expected an integer in 1..=256")),
                },
                "render_mode" | "display_time" => {}
                _ => {
                    return Err(bad(
                        key,
                        "unknown; MinAtar takes sticky_action_prob, difficulty_ramping, \
                         use_minimal_action_set, channels_first, render_cell_px",
                    ))
                }
            }
        }
        self.validate(env)
    }

    /// Fail on values no game can use.
    pub fn validate(&self, env: &str) -> Result<()> {
        let p = self.sticky_action_prob;
        if !(0.0..=1.0).contains(&p) {
            return Err(EnvError::BadKwarg {
                env: env.to_string(),
                key: "sticky_action_prob".into(),
                reason: format!("{p} is not a probability in [0, 1]"),
            });
        }
        if self.render_cell_px == 0 || self.render_cell_px > 256 {
            return Err(EnvError::BadKwarg {
                env: env.to_string(),
                key: "render_cell_px".into(),
                reason: format!("{} is not in 1..=256", self.render_cell_px),
            });
        }
        Ok(())
    }
}
