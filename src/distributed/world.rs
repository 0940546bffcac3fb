//! The job this process belongs to, as the torchrun environment describes it, and its one
//! process group. Training loops that can run data-parallel (the pretraining trainer) ask
//! [`from_env`] whether they run under a launcher and borrow the group with [`take_group`]
//! and [`return_group`], so a script that pretrains twice rendezvous once: a second TCPStore
//! on the same `MASTER_PORT` would race the first one's shutdown.
//!
//! Without `WORLD_SIZE` and `RANK`, or with `WORLD_SIZE=1`, a process runs alone and nothing
//! here touches the network.

use std::sync::Mutex;

use super::env::DistEnv;
use super::process_group::{Backend, ProcessGroup};
use crate::error::{Error, Result};

/// The group made by the first [`take_group`], kept while no loop borrows it.
static GROUP: Mutex<Option<ProcessGroup>> = Mutex::new(None);

/// The torchrun environment when this process is one of several ranks; `None` when it runs
/// alone (no `WORLD_SIZE`/`RANK`, or `WORLD_SIZE=1`). Some but not all variables, or bad
/// values, are an error naming the variable.
pub fn from_env() -> Result<Option<DistEnv>> {
    if std::env::var_os("WORLD_SIZE").is_none() && std::env::var_os("RANK").is_none() {
        return Ok(None);
    }
    let env = DistEnv::from_env()?;
    Ok((env.world_size > 1).then_some(env))
}

/// This process's rank (0 when it runs alone, or when the environment is unreadable — the
/// training loop reports that error itself).
pub fn rank() -> usize {
    from_env().ok().flatten().map_or(0, |e| e.rank)
}

/// Whether this process writes the run's files: rank 0, or a process running alone.
pub fn is_writer() -> bool {
    rank() == 0
}

/// The job's process group over `backend`: the one kept from an earlier loop, or a new one
/// (a rendezvous with every rank, bounded by the timeout). Give it back with
/// [`return_group`].
pub fn take_group(backend: Backend, env: &DistEnv) -> Result<ProcessGroup> {
    let kept = GROUP.lock().unwrap_or_else(|e| e.into_inner()).take();
    match kept {
        Some(pg) if pg.backend() == backend => Ok(pg),
        Some(pg) => Err(Error::Distributed(format!(
            "this process already joined a {} process group; a {backend} one cannot be made \
             beside it (train every data-parallel stage on the same kind of device)",
            pg.backend()
        ))),
        None => ProcessGroup::new(backend, env),
    }
}

/// Keep `pg` for the next [`take_group`].
pub fn return_group(pg: ProcessGroup) {
    *GROUP.lock().unwrap_or_else(|e| e.into_inner()) = Some(pg);
}
