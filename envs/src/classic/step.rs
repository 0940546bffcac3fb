//! What crosses a classic-control env's edge on `step` and `reset`: the action check of the
//! two continuous envs on the way in, the `f32` observation write on the way out.

use crate::env::{ActionRef, ObsMut};
use crate::error::Result;
use crate::space::Space;

/// The action check of the envs that clip a continuous action into their `Box` as Gymnasium
/// does (Pendulum, MountainCarContinuous): kind, length and finiteness always; the bounds only
/// when the env was built with `strict_actions`.
pub(crate) fn check_clipped_action(
    env: &str,
    space: &Space,
    strict: bool,
    action: ActionRef<'_>,
) -> Result<()> {
    if strict {
        space.check_action(env, action)
    } else {
        space.check_clippable_action(env, action)
    }
}

/// Write `values` (rounded to `f32`, as `np.array(..., dtype=float32)`) into `obs.f32`.
#[inline]
pub(crate) fn write_obs(obs: &mut ObsMut<'_>, values: &[f64]) {
    for (o, &v) in obs.f32.iter_mut().zip(values) {
        *o = v as f32;
    }
}
