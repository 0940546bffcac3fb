//! NCCL process groups for a binary built against the CPU libtorch.
//!
//! `ProcessGroupNCCL` lives in `libtorch_cuda.so`, which the CPU libtorch Graft builds against
//! does not have, and its header needs CUDA's and NCCL's. So the NCCL part of the shim,
//! `csrc/c10d_nccl.cpp`, is a separate shared library, `libgraft_c10d_nccl.so`, built by
//! `scripts/build-nccl-shim.sh` against a CUDA PyTorch 2.11.0 install and loaded here at run
//! time, after [`crate::device::init`] has loaded `libtorch_cuda.so` globally. It only creates
//! the backend; the collectives then run through the same generic c10d calls as Gloo's.
//!
//! The library is looked for at `$GRAFT_NCCL_SHIM`, then beside the running executable.

use std::ffi::{c_char, c_void, CStr, CString};
use std::path::PathBuf;
use std::ptr;

use super::env::DistEnv;
use super::ffi;
use super::store::{timeout_ms, Store};
use crate::device::CudaLoad;
use crate::error::{Error, Result};

/// File name of the NCCL part of the shim.
pub const NCCL_SHIM_FILE: &str = "libgraft_c10d_nccl.so";

type NcclNew = unsafe extern "C" fn(
    store: *mut ffi::RawStore,
    rank: i64,
    world_size: i64,
    device_index: i64,
    timeout_ms: i64,
    out: *mut *mut c_void,
) -> *mut c_char;

/// Where the NCCL shim is expected: `$GRAFT_NCCL_SHIM`, else beside the executable.
pub fn nccl_shim_path() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("GRAFT_NCCL_SHIM").filter(|p| !p.is_empty()) {
        return Some(PathBuf::from(p));
    }
    let exe = std::env::current_exe().ok()?;
    Some(exe.parent()?.join(NCCL_SHIM_FILE))
}

/// Create an NCCL backend on CUDA device `env.local_rank` and wrap it as a process group.
pub(crate) fn create(store: &Store, env: &DistEnv) -> Result<*mut ffi::RawPg> {
    let fail = |why: String| Error::Distributed(format!("NCCL backend unavailable: {why}"));
    match crate::device::init() {
        CudaLoad::Loaded(_) => {}
        CudaLoad::NotPresent => {
            return Err(fail(
                "the libtorch in use has no libtorch_cuda.so (a CPU build); point \
                 LD_LIBRARY_PATH at a CUDA libtorch 2.11.0, or use --backend gloo"
                    .into(),
            ))
        }
        CudaLoad::Failed(why) => {
            return Err(fail(format!("libtorch_cuda.so failed to load: {why}")))
        }
    }
    let path = nccl_shim_path().ok_or_else(|| fail("cannot locate the executable".into()))?;
    if !path.exists() {
        return Err(fail(format!(
            "{} not found; build it with scripts/build-nccl-shim.sh and put it beside the \
             executable or set GRAFT_NCCL_SHIM",
            path.display()
        )));
    }
    let c_path = CString::new(path.as_os_str().as_encoded_bytes())
        .map_err(|_| fail("shim path contains NUL".into()))?;
    // SAFETY: dlopen with a valid path; the handle stays open for the process (the backend's
    // code lives in it).
    let handle = unsafe { libc::dlopen(c_path.as_ptr(), libc::RTLD_NOW | libc::RTLD_GLOBAL) };
    if handle.is_null() {
        return Err(fail(format!("dlopen {}: {}", path.display(), dl_error())));
    }
    // SAFETY: valid handle and symbol name.
    let sym = unsafe { libc::dlsym(handle, c"graft_c10d_nccl_new".as_ptr()) };
    if sym.is_null() {
        return Err(fail(format!("{} lacks graft_c10d_nccl_new", path.display())));
    }
    // SAFETY: the symbol is the function declared in csrc/c10d_nccl.cpp with this signature.
    let nccl_new: NcclNew = unsafe { std::mem::transmute::<*mut c_void, NcclNew>(sym) };
    let mut backend = ptr::null_mut();
    // SAFETY: live store, out-pointer; the shim catches C++ exceptions.
    let err = unsafe {
        nccl_new(
            store.raw(),
            env.rank as i64,
            env.world_size as i64,
            env.local_rank as i64,
            timeout_ms(env.timeout),
            &mut backend,
        )
    };
    ffi::check(
        err,
        &format!("rank {} creating the NCCL process group on cuda:{}", env.rank, env.local_rank),
    )?;
    let mut raw = ptr::null_mut();
    // SAFETY: `backend` is the heap-allocated intrusive_ptr the NCCL shim returned; ownership
    // moves to the process group.
    let err = unsafe {
        ffi::graft_c10d_pg_from_backend(backend, env.rank as i64, env.world_size as i64, &mut raw)
    };
    ffi::check(err, "wrapping the NCCL backend")?;
    Ok(raw)
}

fn dl_error() -> String {
    // SAFETY: dlerror returns a thread-local C string or null.
    let e = unsafe { libc::dlerror() };
    if e.is_null() {
        "unknown error".into()
    } else {
        // SAFETY: non-null pointer from dlerror is a valid C string.
        unsafe { CStr::from_ptr(e) }.to_string_lossy().into_owned()
    }
}
