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
//!
//! [`Env`]: crate::Env
//! [`EnvError`]: crate::EnvError

mod action;
mod from_gymnasium_rs;
mod space;
mod to_gymnasium_rs;
mod value;

pub use action::GymAction;
pub use from_gymnasium_rs::FromGymnasiumRs;
pub use to_gymnasium_rs::ToGymnasiumRs;
