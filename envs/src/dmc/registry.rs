//! The suite's ids in Graft's registry: `dmc/<domain>-<task>`, each ending at its time limit.

use crate::dmc::env::DmcEnv;
use crate::dmc::tasks::TASKS;
use crate::registry::Registration;

/// One entry per task of [`TASKS`]; `make` ends episodes after `episode_steps` control steps.
pub fn registrations() -> Vec<Registration> {
    TASKS
        .iter()
        .map(|spec| Registration {
            id: spec.id,
            max_episode_steps: Some(spec.episode_steps),
            reward_threshold: None,
            nondeterministic: false,
            make: |id, kwargs| Ok(Box::new(DmcEnv::new(id, kwargs)?)),
        })
        .collect()
}
