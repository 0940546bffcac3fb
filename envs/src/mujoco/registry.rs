//! The MuJoCo ids in Graft's registry, as `gymnasium/envs/__init__.py` (1.4.0) registers them:
//! `max_episode_steps` and `reward_threshold` per id.

use crate::env::Env;
use crate::error::Result;
use crate::mujoco::{
    Ant, HalfCheetah, Hopper, Humanoid, HumanoidStandup, InvertedDoublePendulum, InvertedPendulum,
    MujocoEnv, MujocoTask, Pusher, Reacher, Swimmer, Walker2d,
};
use crate::registry::{Constructor, Registration};

fn boxed<T: MujocoTask>(env: Result<MujocoEnv<T>>) -> Result<Box<dyn Env>> {
    env.map(|e| Box::new(e) as Box<dyn Env>)
}

fn entry(id: &'static str, reward_threshold: Option<f64>, make: Constructor) -> Registration {
    entry_steps(id, 1000, reward_threshold, make)
}

fn entry_steps(
    id: &'static str,
    max_episode_steps: u64,
    reward_threshold: Option<f64>,
    make: Constructor,
) -> Registration {
    Registration {
        id,
        max_episode_steps: Some(max_episode_steps),
        reward_threshold,
        nondeterministic: false,
        make,
    }
}

/// The MuJoCo v5 entries of the registry.
pub fn registrations() -> Vec<Registration> {
    vec![
        entry("HalfCheetah-v5", Some(4800.0), |_, kw| boxed(HalfCheetah::from_kwargs(kw))),
        entry("Hopper-v5", Some(3800.0), |_, kw| boxed(Hopper::from_kwargs(kw))),
        entry("InvertedPendulum-v5", Some(950.0), |_, kw| boxed(InvertedPendulum::from_kwargs(kw))),
        entry("InvertedDoublePendulum-v5", Some(9100.0), |_, kw| {
            boxed(InvertedDoublePendulum::from_kwargs(kw))
        }),
        entry("Swimmer-v5", Some(360.0), |_, kw| boxed(Swimmer::from_kwargs(kw))),
        entry_steps("Reacher-v5", 50, Some(-3.75), |_, kw| boxed(Reacher::from_kwargs(kw))),
        entry("Walker2d-v5", None, |_, kw| boxed(Walker2d::from_kwargs(kw))),
        entry_steps("Pusher-v5", 100, Some(0.0), |_, kw| boxed(Pusher::from_kwargs(kw))),
        entry("Ant-v5", Some(6000.0), |_, kw| boxed(Ant::from_kwargs(kw))),
        entry("Humanoid-v5", None, |_, kw| boxed(Humanoid::from_kwargs(kw))),
        entry("HumanoidStandup-v5", None, |_, kw| boxed(HumanoidStandup::from_kwargs(kw))),
    ]
}
