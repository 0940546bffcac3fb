//! CartPole's parameters (Gymnasium's constructor arguments and defaults) and how they are
//! read from `make`'s keyword arguments and checked.

use serde::{Deserialize, Serialize};

use crate::classic::cartpole::ID;
use crate::classic::{check_kwargs, check_param, kwarg_bool, kwarg_f64, kwarg_str};
use crate::env::Kwargs;
use crate::error::{EnvError, Result};

/// How the state is advanced over one time step.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum KinematicsIntegrator {
    /// Explicit Euler: positions move with the old velocities (Gymnasium's default).
    #[default]
    #[serde(rename = "euler")]
    Euler,
    /// Semi-implicit Euler: velocities first, then positions with the new velocities.
    #[serde(rename = "semi-implicit")]
    SemiImplicit,
}

impl KinematicsIntegrator {
    /// Parse Gymnasium's names (`"euler"`; anything else is semi-implicit there, here only
    /// `"semi-implicit"` / `"semi_implicit"` are accepted).
    pub fn parse(name: &str) -> Option<Self> {
        match name {
            "euler" => Some(Self::Euler),
            "semi-implicit" | "semi_implicit" => Some(Self::SemiImplicit),
            _ => None,
        }
    }
}

/// CartPole's parameters; the defaults are Gymnasium's.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CartPoleConfig {
    /// Reward 0 per step and -1 on termination (Sutton & Barto's formulation) instead of 1.
    pub sutton_barto_reward: bool,
    /// Integration scheme.
    pub kinematics_integrator: KinematicsIntegrator,
    /// Gravitational acceleration (m/s^2).
    pub gravity: f64,
    /// Mass of the cart (kg).
    pub masscart: f64,
    /// Mass of the pole (kg).
    pub masspole: f64,
    /// Half the pole's length (m).
    pub length: f64,
    /// Magnitude of the push (N).
    pub force_mag: f64,
    /// Seconds per step.
    pub tau: f64,
    /// The episode terminates when |theta| exceeds this (radians; 12 degrees).
    pub theta_threshold_radians: f64,
    /// The episode terminates when |x| exceeds this (m).
    pub x_threshold: f64,
}

impl Default for CartPoleConfig {
    fn default() -> Self {
        CartPoleConfig {
            sutton_barto_reward: false,
            kinematics_integrator: KinematicsIntegrator::Euler,
            gravity: 9.8,
            masscart: 1.0,
            masspole: 0.1,
            length: 0.5,
            force_mag: 10.0,
            tau: 0.02,
            theta_threshold_radians: 12.0 * 2.0 * std::f64::consts::PI / 360.0,
            x_threshold: 2.4,
        }
    }
}

impl CartPoleConfig {
    /// Keyword arguments `make` accepts (the field names).
    pub const KWARGS: &'static [&'static str] = &[
        "sutton_barto_reward",
        "kinematics_integrator",
        "gravity",
        "masscart",
        "masspole",
        "length",
        "force_mag",
        "tau",
        "theta_threshold_radians",
        "x_threshold",
    ];

    /// The defaults overridden by `kwargs`; unknown keys or wrong types are
    /// [`EnvError::BadKwarg`].
    pub fn from_kwargs(kwargs: &Kwargs) -> Result<Self> {
        check_kwargs(ID, kwargs, Self::KWARGS)?;
        let mut c = CartPoleConfig::default();
        if let Some(b) = kwarg_bool(ID, kwargs, "sutton_barto_reward")? {
            c.sutton_barto_reward = b;
        }
        if let Some(s) = kwarg_str(ID, kwargs, "kinematics_integrator")? {
            c.kinematics_integrator =
                KinematicsIntegrator::parse(s).ok_or_else(|| EnvError::BadKwarg {
                    env: ID.into(),
                    key: "kinematics_integrator".into(),
                    reason: format!("expected \"euler\" or \"semi-implicit\", got \"{s}\""),
                })?;
        }
        for (key, field) in [
            ("gravity", &mut c.gravity),
            ("masscart", &mut c.masscart),
            ("masspole", &mut c.masspole),
            ("length", &mut c.length),
            ("force_mag", &mut c.force_mag),
            ("tau", &mut c.tau),
            ("theta_threshold_radians", &mut c.theta_threshold_radians),
            ("x_threshold", &mut c.x_threshold),
        ] {
            if let Some(x) = kwarg_f64(ID, kwargs, key)? {
                *field = x;
            }
        }
        Ok(c)
    }

    pub(crate) fn validate(&self) -> Result<()> {
        check_param(ID, "gravity", self.gravity, false)?;
        check_param(ID, "masscart", self.masscart, true)?;
        check_param(ID, "masspole", self.masspole, true)?;
        check_param(ID, "length", self.length, true)?;
        check_param(ID, "force_mag", self.force_mag, false)?;
        check_param(ID, "tau", self.tau, true)?;
        check_param(ID, "theta_threshold_radians", self.theta_threshold_radians, true)?;
        check_param(ID, "x_threshold", self.x_threshold, true)
    }
}
