//! The suite's ids in Graft's registry: `dmc/<domain>-<task>`, each ending at its time limit.

use crate::dmc::env::DmcEnv;
use crate::dmc::tasks::TASKS;
use crate::env::{Env, Kwargs};
use crate::error::Result;
use crate::registry::{Constructor, Registration};

/// The constructor of `TASKS[I]` (a registry entry is a plain `fn`, so each task gets its
/// own instance of this one).
fn make_task<const I: usize>(kwargs: &Kwargs) -> Result<Box<dyn Env>> {
    Ok(Box::new(DmcEnv::new(TASKS[I].id, kwargs)?))
}

/// One entry per task of [`TASKS`]; `make` ends episodes after `episode_steps` control steps.
pub fn registrations() -> Vec<Registration> {
    const MAKERS: [Constructor; TASKS.len()] = [
        make_task::<0>,
        make_task::<1>,
        make_task::<2>,
        make_task::<3>,
        make_task::<4>,
        make_task::<5>,
        make_task::<6>,
        make_task::<7>,
        make_task::<8>,
        make_task::<9>,
        make_task::<10>,
        make_task::<11>,
        make_task::<12>,
        make_task::<13>,
        make_task::<14>,
        make_task::<15>,
        make_task::<16>,
        make_task::<17>,
    ];
    TASKS
        .iter()
        .zip(MAKERS)
        .map(|(spec, make)| Registration {
            id: spec.id,
            max_episode_steps: Some(spec.episode_steps),
            reward_threshold: None,
            nondeterministic: false,
            make,
        })
        .collect()
}
