//! The MuJoCo ids in Graft's registry, as `gymnasium/envs/__init__.py` (1.4.0) registers them:
//! `max_episode_steps` and `reward_threshold` per id.

use crate::env::{Env, Kwargs};
use crate::error::Result;
use crate::mujoco::{HalfCheetah, Hopper, InvertedPendulum, MujocoEnv, MujocoTask};
use crate::registry::Registration;

fn boxed<T: MujocoTask>(env: Result<MujocoEnv<T>>) -> Result<Box<dyn Env>> {
    env.map(|e| Box::new(e) as Box<dyn Env>)
}

fn entry(
    id: &'static str,
    reward_threshold: Option<f64>,
    make: fn(&Kwargs) -> Result<Box<dyn Env>>,
) -> Registration {
    Registration {
        id,
        max_episode_steps: Some(1000),
        reward_threshold,
        nondeterministic: false,
        make,
    }
}

/// The MuJoCo v5 entries of the registry.
pub fn registrations() -> Vec<Registration> {
    vec![
        entry("HalfCheetah-v5", Some(4800.0), |kw| boxed(HalfCheetah::from_kwargs(kw))),
        entry("Hopper-v5", Some(3800.0), |kw| boxed(Hopper::from_kwargs(kw))),
        entry("InvertedPendulum-v5", Some(950.0), |kw| boxed(InvertedPendulum::from_kwargs(kw))),
    ]
}
