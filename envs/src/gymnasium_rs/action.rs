//! [`GymAction`]: the gymnasium-rs action types (`i32`, `Array1<f32>`) that map onto Graft
//! action spaces.

use ndarray::Array1;

use crate::env::ActionRef;
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
