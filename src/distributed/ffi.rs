//! Raw bindings to Graft's C++ shim over PyTorch's c10d (`csrc/c10d_shim.h`), plus the one
//! helper that turns the shim's error strings into [`Error`]s. Everything else in
//! `graft::distributed` goes through the safe types built on these.

use std::ffi::{c_char, c_int, c_void, CStr};

use crate::error::{Error, Result};

#[repr(C)]
pub(crate) struct RawStore {
    _private: [u8; 0],
}

#[repr(C)]
pub(crate) struct RawPg {
    _private: [u8; 0],
}

extern "C" {
    pub(crate) fn graft_c10d_free_error(err: *mut c_char);
    pub(crate) fn graft_c10d_free_bytes(bytes: *mut u8);
    pub(crate) fn graft_c10d_set_log_level(level: c_int);
    pub(crate) fn graft_c10d_store_new(
        host: *const c_char,
        port: u16,
        world_size: i64,
        is_master: c_int,
        timeout_ms: i64,
        out: *mut *mut RawStore,
    ) -> *mut c_char;
    pub(crate) fn graft_c10d_store_set(
        store: *mut RawStore,
        key: *const c_char,
        value: *const u8,
        len: usize,
    ) -> *mut c_char;
    pub(crate) fn graft_c10d_store_get(
        store: *mut RawStore,
        key: *const c_char,
        value: *mut *mut u8,
        len: *mut usize,
    ) -> *mut c_char;
    pub(crate) fn graft_c10d_store_free(store: *mut RawStore);
    pub(crate) fn graft_c10d_pg_gloo_new(
        store: *mut RawStore,
        rank: i64,
        world_size: i64,
        device: *const c_char,
        timeout_ms: i64,
        out: *mut *mut RawPg,
    ) -> *mut c_char;
    pub(crate) fn graft_c10d_pg_from_backend(
        backend: *mut c_void,
        rank: i64,
        world_size: i64,
        out: *mut *mut RawPg,
    ) -> *mut c_char;
    pub(crate) fn graft_c10d_allreduce(
        pg: *mut RawPg,
        tensors: *const *mut c_void,
        n: usize,
        average: c_int,
    ) -> *mut c_char;
    pub(crate) fn graft_c10d_broadcast(
        pg: *mut RawPg,
        tensors: *const *mut c_void,
        n: usize,
        root: i64,
    ) -> *mut c_char;
    pub(crate) fn graft_c10d_barrier(pg: *mut RawPg) -> *mut c_char;
    pub(crate) fn graft_c10d_pg_free(pg: *mut RawPg);
}

/// Turn a shim return value into a `Result`: NULL is success, anything else a message the
/// shim allocated (freed here). `what` names the operation for the error.
pub(crate) fn check(err: *mut c_char, what: &str) -> Result<()> {
    if err.is_null() {
        return Ok(());
    }
    // SAFETY: a non-null return is a NUL-terminated string malloc'd by the shim, owned by us.
    let msg = unsafe { CStr::from_ptr(err) }.to_string_lossy().trim().to_string();
    // SAFETY: freed once, with the shim's matching deallocator.
    unsafe { graft_c10d_free_error(err) };
    Err(Error::Distributed(format!("{what}: {msg}")))
}
