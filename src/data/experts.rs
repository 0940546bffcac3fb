//! Collection policies: uniform random, and hand-written experts for the classic-control
//! tasks, which give "expert" datasets without a trained agent.
//!
//! | env | rule | measured (`tests/data_collect.rs`) |
//! |---|---|---|
//! | CartPole-v1 | linear state feedback (LQR-like): push right when `0.05 x + 0.2 ẋ + 3 θ + 0.6 θ̇ > 0` | return 500 on every seed tried |
//! | MountainCar-v0 | energy pumping: push in the direction of the velocity | goal in about 115–125 steps |
//! | Pendulum-v1 | energy-based swing-up (bang-bang torque that moves the energy toward the upright rest energy), PD control near the top | about −150 mean return |
//! | Acrobot-v1 | pumping: torque against the first link's angular velocity | goal in about 80 steps |
//!
//! Experts read the `f32` part of the observation: the state vector, which the pixel
//! datasets (`AddRenderObservation` with the state kept) carry as well.

use graft_envs::{Action, EnvRng, Space};

use crate::data::schema::ObsView;
use crate::error::{Error, Result};

/// Something that picks actions from observations.
pub trait Policy: Send {
    /// Short name stored as the dataset's `algorithm_name`.
    fn name(&self) -> String;
    /// The action for `obs`.
    fn act(&mut self, obs: ObsView<'_>, rng: &mut EnvRng) -> Result<Action>;
}

/// Uniformly random actions from the action space (Gymnasium's `action_space.sample()`).
#[derive(Debug, Clone)]
pub struct RandomPolicy {
    space: Space,
}

impl RandomPolicy {
    /// Random actions from `space`.
    pub fn new(space: Space) -> Self {
        RandomPolicy { space }
    }
}

impl Policy for RandomPolicy {
    fn name(&self) -> String {
        "random".into()
    }
    fn act(&mut self, _obs: ObsView<'_>, rng: &mut EnvRng) -> Result<Action> {
        Ok(self.space.sample_action(rng)?)
    }
}

/// The classic-control experts (see the module table).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expert {
    CartPole,
    MountainCar,
    Pendulum,
    Acrobot,
}

/// The heuristic expert for env `id`, or an error listing the envs that have one.
pub fn expert_for(id: &str) -> Result<Expert> {
    match id {
        "CartPole-v1" | "CartPole-v0" => Ok(Expert::CartPole),
        "MountainCar-v0" => Ok(Expert::MountainCar),
        "Pendulum-v1" => Ok(Expert::Pendulum),
        "Acrobot-v1" => Ok(Expert::Acrobot),
        _ => Err(Error::Invalid(format!(
            "no heuristic expert for {id}; experts exist for CartPole-v1, MountainCar-v0, \
             Pendulum-v1 and Acrobot-v1"
        ))),
    }
}

impl Expert {
    /// State values the rule reads.
    fn state_len(self) -> usize {
        match self {
            Expert::CartPole => 4,
            Expert::MountainCar => 2,
            Expert::Pendulum => 3,
            Expert::Acrobot => 6,
        }
    }

    /// The expert's action for state `s`.
    pub fn action(self, s: &[f32]) -> Action {
        match self {
            Expert::CartPole => {
                let (x, xd, th, thd) = (s[0], s[1], s[2], s[3]);
                Action::Discrete(i64::from(0.05 * x + 0.2 * xd + 3.0 * th + 0.6 * thd > 0.0))
            }
            Expert::MountainCar => Action::Discrete(if s[1] >= 0.0 { 2 } else { 0 }),
            Expert::Pendulum => {
                let (c, sn, thd) = (s[0], s[1], s[2]);
                let th = sn.atan2(c);
                let u = if c > 0.85 {
                    // Near the top: PD on the angle (0 is upright).
                    -(10.0 * th + 2.0 * thd)
                } else {
                    // Swing-up: dE/dt = u θ̇ with E = θ̇²/6 + 5 cos θ (per unit inertia terms),
                    // so push with θ̇ while E is below the upright rest energy 5.
                    let e = 5.0 - (thd * thd / 6.0 + 5.0 * c);
                    if e * thd >= 0.0 {
                        2.0
                    } else {
                        -2.0
                    }
                };
                Action::Continuous(vec![u.clamp(-2.0, 2.0)])
            }
            Expert::Acrobot => Action::Discrete(if s[4] > 0.0 { 0 } else { 2 }),
        }
    }
}

impl Policy for Expert {
    fn name(&self) -> String {
        "heuristic".into()
    }
    fn act(&mut self, obs: ObsView<'_>, _rng: &mut EnvRng) -> Result<Action> {
        if obs.f32.len() < self.state_len() {
            return Err(Error::Invalid(format!(
                "the {self:?} expert needs the {}-value state, the observation has {} float values",
                self.state_len(),
                obs.f32.len()
            )));
        }
        Ok(self.action(obs.f32))
    }
}
