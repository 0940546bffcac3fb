//! Rendezvous through PyTorch's `TCPStore` (c10d): rank 0 serves a small key-value store at
//! `MASTER_ADDR:MASTER_PORT`, every rank connects to it, and process groups exchange their
//! connection details through it. Graft uses the real c10d store (through the C++ shim), so a
//! Graft job rendezvous exactly as a PyTorch job does.

use std::ffi::CString;
use std::ptr;

use super::env::DistEnv;
use super::ffi;
use crate::error::{Error, Result};

/// A connection to (on rank 0: the server of) the job's TCPStore.
pub struct Store {
    raw: *mut ffi::RawStore,
}

// SAFETY: a TCPStore client is not tied to the thread that created it (c10d itself uses
// one store from many threads).
unsafe impl Send for Store {}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").finish_non_exhaustive()
    }
}

impl Store {
    /// Serve (rank 0) or join the store described by `env`. Rank 0 waits until all
    /// `world_size` ranks have connected, the others until the server answers; either fails
    /// after `env.timeout` with an error naming the address.
    pub fn connect(env: &DistEnv) -> Result<Self> {
        quiet_c10d_logs();
        let host = CString::new(env.master_addr.as_str())
            .map_err(|_| Error::Distributed("MASTER_ADDR contains a NUL byte".into()))?;
        let mut raw = ptr::null_mut();
        // SAFETY: valid C string and out-pointer; the shim catches every C++ exception.
        let err = unsafe {
            ffi::graft_c10d_store_new(
                host.as_ptr(),
                env.master_port,
                env.world_size as i64,
                env.is_master() as i32,
                timeout_ms(env.timeout),
                &mut raw,
            )
        };
        let what = if env.is_master() {
            format!(
                "rank 0 serving the TCPStore at {}:{} for {} ranks (timeout {:?})",
                env.master_addr, env.master_port, env.world_size, env.timeout
            )
        } else {
            format!(
                "rank {} connecting to the TCPStore at {}:{} (timeout {:?}; is rank 0 running \
                 and MASTER_ADDR/MASTER_PORT right?)",
                env.rank, env.master_addr, env.master_port, env.timeout
            )
        };
        ffi::check(err, &what)?;
        Ok(Store { raw })
    }

    /// Store `value` under `key` for every rank to read.
    pub fn set(&self, key: &str, value: &[u8]) -> Result<()> {
        let k = key_cstring(key)?;
        // SAFETY: live store, valid key and a byte slice of the given length.
        let err =
            unsafe { ffi::graft_c10d_store_set(self.raw, k.as_ptr(), value.as_ptr(), value.len()) };
        ffi::check(err, &format!("store set '{key}'"))
    }

    /// The value under `key`, waiting (up to the store's timeout) until some rank sets it.
    pub fn get(&self, key: &str) -> Result<Vec<u8>> {
        let k = key_cstring(key)?;
        let mut data = ptr::null_mut();
        let mut len = 0usize;
        // SAFETY: live store, valid key and out-pointers.
        let err = unsafe { ffi::graft_c10d_store_get(self.raw, k.as_ptr(), &mut data, &mut len) };
        ffi::check(err, &format!("store get '{key}'"))?;
        // SAFETY: on success the shim returns a malloc'd buffer of `len` bytes that we own.
        let out = unsafe { std::slice::from_raw_parts(data, len) }.to_vec();
        // SAFETY: freed once with the shim's deallocator.
        unsafe { ffi::graft_c10d_free_bytes(data) };
        Ok(out)
    }

    pub(crate) fn raw(&self) -> *mut ffi::RawStore {
        self.raw
    }
}

impl Drop for Store {
    fn drop(&mut self) {
        // SAFETY: `raw` came from graft_c10d_store_new and is freed exactly once.
        unsafe { ffi::graft_c10d_store_free(self.raw) }
    }
}

/// Unless the user chose a level with `TORCH_CPP_LOG_LEVEL`, keep libtorch's C++ log to
/// errors it cannot report otherwise: c10d logs each rendezvous retry and failure with a C++
/// backtrace, which Graft reports as one error paragraph instead.
fn quiet_c10d_logs() {
    if std::env::var_os("TORCH_CPP_LOG_LEVEL").is_none() {
        // SAFETY: sets a plain global int of libc10; done before any c10d thread starts.
        unsafe { ffi::graft_c10d_set_log_level(3) };
    }
}

fn key_cstring(key: &str) -> Result<CString> {
    CString::new(key).map_err(|_| Error::Distributed(format!("store key {key:?} contains NUL")))
}

/// Milliseconds for the shim, at least 1 (c10d reads 0 as "no timeout").
pub(crate) fn timeout_ms(t: std::time::Duration) -> i64 {
    (t.as_millis().clamp(1, i64::MAX as u128)) as i64
}
