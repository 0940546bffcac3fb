//! Space conversions between Graft's [`Space`] and gymnasium-rs 0.1's `Space` (only
//! `Discrete` and a flat `f32` `Box`), in both directions.

use gymnasium_rs::core as gym;
use ndarray::Array1;

use crate::error::{EnvError, Result};
use crate::space::{DType, Space};

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
pub(super) fn obs_space_to_gym(space: &Space, env: &str) -> Result<gym::Space> {
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
pub(super) fn action_space_to_gym(space: &Space, env: &str) -> Result<gym::Space> {
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
pub(super) fn space_from_gym(space: &gym::Space, env: &str) -> Result<Space> {
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
