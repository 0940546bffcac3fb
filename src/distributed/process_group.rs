//! A c10d process group: the set of ranks of a job and the collectives among them, run by
//! PyTorch's own backends — Gloo on CPU, NCCL on CUDA (see [`super::nccl`]) — reached through
//! Graft's C++ shim. Collectives are blocking here: each call returns when every tensor holds
//! its result (or with an error once a peer is gone or the timeout has passed).

use std::ffi::{c_void, CString};
use std::fmt;
use std::ptr;
use std::str::FromStr;

use tch::Tensor;

use super::env::DistEnv;
use super::ffi;
use super::store::{timeout_ms, Store};
use crate::error::{Error, Result};

/// Which c10d backend runs the collectives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Backend {
    /// Gloo: CPU tensors, TCP between processes.
    #[default]
    Gloo,
    /// NCCL: CUDA tensors, one GPU per rank (`LOCAL_RANK` picks it).
    Nccl,
}

impl Backend {
    /// Every backend: the one list of their names (`graft dist check --backend`).
    pub const ALL: [Backend; 2] = [Backend::Gloo, Backend::Nccl];

    /// `gloo` or `nccl`.
    pub fn name(self) -> &'static str {
        match self {
            Backend::Gloo => "gloo",
            Backend::Nccl => "nccl",
        }
    }
}

impl FromStr for Backend {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        let lower = s.to_ascii_lowercase();
        Backend::ALL.into_iter().find(|b| b.name() == lower).ok_or_else(|| {
            Error::Invalid(format!("unknown distributed backend '{lower}': expected gloo or nccl"))
        })
    }
}

impl fmt::Display for Backend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl clap::ValueEnum for Backend {
    fn value_variants<'a>() -> &'a [Self] {
        &Backend::ALL
    }

    fn to_possible_value(&self) -> Option<clap::builder::PossibleValue> {
        Some(clap::builder::PossibleValue::new(self.name()))
    }
}

/// A process group over every rank of the job. Dropping it closes its connections.
pub struct ProcessGroup {
    raw: *mut ffi::RawPg,
    // Kept for the group's lifetime (c10d may use it again, e.g. to report errors); `Drop`
    // frees `raw` before the fields, so the group always goes before its store.
    _store: Store,
    backend: Backend,
    rank: usize,
    world_size: usize,
    timeout: std::time::Duration,
}

// SAFETY: the group owns its c10d objects (TCPStore client, Gloo/NCCL backend), which are
// not tied to the thread that made them; moving the owner to another thread is what
// PyTorch does with process groups too. Calls still come from one owner at a time (`&self`
// methods block until their collective finishes).
unsafe impl Send for ProcessGroup {}

impl fmt::Debug for ProcessGroup {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ProcessGroup")
            .field("backend", &self.backend)
            .field("rank", &self.rank)
            .field("world_size", &self.world_size)
            .finish()
    }
}

impl ProcessGroup {
    /// Rendezvous through the TCPStore of `env` and connect every pair of ranks. Blocks until
    /// all `world_size` ranks have arrived, or fails after `env.timeout`.
    pub fn new(backend: Backend, env: &DistEnv) -> Result<Self> {
        let store = Store::connect(env)?;
        let raw = match backend {
            Backend::Gloo => {
                let device = CString::new(env.gloo_device())
                    .map_err(|_| Error::Distributed("GLOO_SOCKET_IFNAME contains NUL".into()))?;
                let mut raw = ptr::null_mut();
                // SAFETY: live store, valid C string and out-pointer; exceptions are caught.
                let err = unsafe {
                    ffi::graft_c10d_pg_gloo_new(
                        store.raw(),
                        env.rank as i64,
                        env.world_size as i64,
                        device.as_ptr(),
                        timeout_ms(env.timeout),
                        &mut raw,
                    )
                };
                ffi::check(
                    err,
                    &format!(
                        "rank {} creating the Gloo process group of {} ranks (timeout {:?})",
                        env.rank, env.world_size, env.timeout
                    ),
                )?;
                raw
            }
            Backend::Nccl => super::nccl::create(&store, env)?,
        };
        Ok(ProcessGroup {
            raw,
            _store: store,
            backend,
            rank: env.rank,
            world_size: env.world_size,
            timeout: env.timeout,
        })
    }

    /// This process's rank.
    pub fn rank(&self) -> usize {
        self.rank
    }

    /// Number of ranks.
    pub fn world_size(&self) -> usize {
        self.world_size
    }

    /// The backend running the collectives.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Replace every tensor by its sum over all ranks. Tensors must be contiguous, and each
    /// rank must pass tensors of the same shapes, kinds and order.
    pub fn all_reduce_sum(&self, tensors: &[Tensor]) -> Result<()> {
        self.all_reduce(tensors, false)
    }

    /// Replace every tensor by its mean over all ranks (the sum divided by the world size,
    /// as PyTorch's DDP averages gradients).
    pub fn all_reduce_mean(&self, tensors: &[Tensor]) -> Result<()> {
        self.all_reduce(tensors, true)
    }

    fn all_reduce(&self, tensors: &[Tensor], average: bool) -> Result<()> {
        let ptrs = raw_tensors(tensors, "all-reduce")?;
        // SAFETY: live group; the pointers are tch tensor handles (`at::Tensor*`) borrowed
        // for the duration of the call.
        let err = unsafe {
            ffi::graft_c10d_allreduce(self.raw, ptrs.as_ptr(), ptrs.len(), average as i32)
        };
        ffi::check(err, &self.failed(&format!("all-reduce of {} tensor(s)", tensors.len())))
    }

    /// Overwrite every tensor with its value on rank `root`.
    pub fn broadcast(&self, tensors: &[Tensor], root: usize) -> Result<()> {
        if root >= self.world_size {
            return Err(Error::Distributed(format!(
                "broadcast: root {root} is outside world size {}",
                self.world_size
            )));
        }
        let ptrs = raw_tensors(tensors, "broadcast")?;
        // SAFETY: as in `all_reduce`.
        let err =
            unsafe { ffi::graft_c10d_broadcast(self.raw, ptrs.as_ptr(), ptrs.len(), root as i64) };
        ffi::check(err, &self.failed(&format!("broadcast from rank {root}")))
    }

    /// Return once every rank has called `barrier`.
    pub fn barrier(&self) -> Result<()> {
        // SAFETY: live group.
        let err = unsafe { ffi::graft_c10d_barrier(self.raw) };
        ffi::check(err, &self.failed("barrier"))
    }

    /// Context for a failed collective: what failed on which rank, and the usual causes.
    fn failed(&self, what: &str) -> String {
        format!(
            "rank {} of {}: {what} failed (usual causes: another rank died or hung past the \
             {:?} timeout, or the ranks passed different tensors)",
            self.rank, self.world_size, self.timeout
        )
    }
}

impl Drop for ProcessGroup {
    fn drop(&mut self) {
        // SAFETY: `raw` came from the shim and is freed exactly once.
        unsafe { ffi::graft_c10d_pg_free(self.raw) }
    }
}

/// tch's tensor handles (`at::Tensor*`) for the shim, after the checks c10d would otherwise
/// fail on less clearly: collectives work on the raw memory of defined, contiguous tensors.
fn raw_tensors(tensors: &[Tensor], what: &str) -> Result<Vec<*mut c_void>> {
    for (i, t) in tensors.iter().enumerate() {
        if !t.defined() {
            return Err(Error::Distributed(format!("{what}: tensor {i} is undefined")));
        }
        if !t.is_contiguous() {
            return Err(Error::Distributed(format!(
                "{what}: tensor {i} (shape {:?}) is not contiguous; pass `.contiguous()` copies",
                t.size()
            )));
        }
    }
    Ok(tensors.iter().map(|t| t.as_ptr() as *mut c_void).collect())
}
