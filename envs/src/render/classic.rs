//! Scenes of the classic-control environments, drawn at any frame size with Gymnasium's
//! geometry and colours (scaled from its full-size `rgb_array` frames).
//!
//! Every function writes an RGB frame as HWC bytes (`width * height * 3`) into `out`.
// SCAFFOLD: the render helper replaces these bodies with the real drawing code.

use crate::error::{EnvError, Result};

fn pending() -> Result<()> {
    Err(EnvError::Render {
        env: "classic control".into(),
        reason: "drawing not implemented yet".into(),
    })
}

/// CartPole (full size 600x400): cart at position `x`, pole at angle `theta` (radians);
/// `x_threshold` sets the world width (Gymnasium: world width = 2 * x_threshold).
pub fn draw_cartpole(
    _x: f64,
    _theta: f64,
    _x_threshold: f64,
    _width: u32,
    _height: u32,
    _out: &mut [u8],
) -> Result<()> {
    pending()
}

/// MountainCar / MountainCarContinuous (full size 600x400): car at `position`, flag at
/// `goal_position`, track over `[min_position, max_position]`.
pub fn draw_mountain_car(
    _position: f64,
    _goal_position: f64,
    _min_position: f64,
    _max_position: f64,
    _width: u32,
    _height: u32,
    _out: &mut [u8],
) -> Result<()> {
    pending()
}

/// Acrobot (full size 500x500): link angles `theta1`, `theta2` (radians).
pub fn draw_acrobot(
    _theta1: f64,
    _theta2: f64,
    _width: u32,
    _height: u32,
    _out: &mut [u8],
) -> Result<()> {
    pending()
}

/// Pendulum (full size 500x500): angle `theta` (0 = upright), and the last torque `last_u`
/// (drawn as Gymnasium's arrow, scaled by |u|; `None` before the first step).
pub fn draw_pendulum(
    _theta: f64,
    _last_u: Option<f64>,
    _width: u32,
    _height: u32,
    _out: &mut [u8],
) -> Result<()> {
    pending()
}
