//! Loading libmujoco, once per process.
//!
//! The library is not linked (see `envs/build.rs`): the first MuJoCo model loads it from the
//! path the build recorded, `$GRAFT_HOME/mujoco-3.17.0/lib/libmujoco.so.3.17.0` through the
//! clone's `.mujoco/current`. `GRAFT_MUJOCO_LIB` overrides the path at run time, for a binary
//! carried to a machine where the cache lives elsewhere. The shim refuses a library whose
//! version differs from the headers it was compiled against, since it reads mjModel and mjData
//! with their layout.

use std::ffi::CString;
use std::sync::OnceLock;

use crate::mujoco::error::MujocoError;
use crate::mujoco::ffi;

/// The MuJoCo release graft-envs is built against (PyPI's `mujoco` wheel).
pub const MUJOCO_VERSION: &str = env!("GRAFT_MUJOCO_VERSION");

/// Where the build found libmujoco.
const BUILD_LIBRARY: &str = env!("GRAFT_MUJOCO_LIB");

/// The path libmujoco is loaded from: `GRAFT_MUJOCO_LIB` if set, else the build's.
pub fn library_path() -> String {
    std::env::var("GRAFT_MUJOCO_LIB").unwrap_or_else(|_| BUILD_LIBRARY.to_string())
}

/// Load libmujoco if this process has not yet; the same answer every time after.
pub(crate) fn ensure_loaded() -> Result<(), MujocoError> {
    static LOADED: OnceLock<Result<(), MujocoError>> = OnceLock::new();
    LOADED.get_or_init(open).clone()
}

fn open() -> Result<(), MujocoError> {
    let path = library_path();
    let fail = |reason: String| MujocoError::Library {
        path: path.clone(),
        version: MUJOCO_VERSION.to_string(),
        reason,
    };
    let c_path = CString::new(path.clone()).map_err(|_| fail("the path contains a NUL".into()))?;
    // SAFETY: `c_path` is a NUL-terminated string alive for the call; the shim copies what it
    // needs. This runs once (OnceLock), before any other shim function, as the shim requires:
    // it fills its function table and installs MuJoCo's log handler here.
    ffi::call(|err, n| unsafe { ffi::graft_mj_open(c_path.as_ptr(), err, n) }).map_err(fail)?;
    crate::mujoco::warnings::check_count()
}

/// The loaded library's version as MuJoCo encodes it (3017000 for 3.17.0), once loaded.
pub fn loaded_version() -> Result<i32, MujocoError> {
    ensure_loaded()?;
    // SAFETY: the library is loaded (above); mj_version takes no arguments.
    Ok(unsafe { ffi::graft_mj_version() })
}

/// The version of the headers the shim was compiled against, in MuJoCo's encoding.
pub fn header_version() -> i32 {
    // SAFETY: returns a compile-time constant; needs no library.
    unsafe { ffi::graft_mj_header_version() }
}
