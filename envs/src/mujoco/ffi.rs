//! The unsafe surface: the C functions of `shim.c`, which wrap MuJoCo's C API.
//!
//! Nothing here is called outside this folder, and every call site states why it is sound.
//! The shim returns `-1` or a null pointer with MuJoCo's message in a caller-owned buffer when
//! MuJoCo raises a fatal error (it longjmps out of MuJoCo; see the header of `shim.c`);
//! [`call`] turns that into a `Result`.
//!
//! `mjModel` and `mjData` stay opaque: their fields are read through the shim's by-name
//! accessors (MuJoCo's X-macro tables), so no struct layout is copied into Rust.

use std::ffi::{c_char, c_int, c_void, CStr};

/// MuJoCo's `mjModel`, opaque.
#[repr(C)]
pub(crate) struct MjModel {
    _private: [u8; 0],
}

/// MuJoCo's `mjData`, opaque.
#[repr(C)]
pub(crate) struct MjData {
    _private: [u8; 0],
}

/// MuJoCo's `mjOBJ_BODY` (`mjtObj`), for [`graft_mj_name2id`].
pub(crate) const MJ_OBJ_BODY: c_int = 1;

/// MuJoCo's `mjOBJ_CAMERA` (`mjtObj`).
pub(crate) const MJ_OBJ_CAMERA: c_int = 7;

/// `GraftRenderer` of `shim.c` (an mjvScene, mjvCamera, mjvOption, mjvPerturb and
/// mjrContext), opaque.
#[repr(C)]
pub(crate) struct MjRenderer {
    _private: [u8; 0],
}

/// `GraftCamera` of `shim.c`: mjvCamera's fields in a layout the shim defines.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub(crate) struct Camera {
    pub kind: c_int,
    pub fixedcamid: c_int,
    pub trackbodyid: c_int,
    pub lookat: [f64; 3],
    pub distance: f64,
    pub azimuth: f64,
    pub elevation: f64,
    pub orthographic: c_int,
}

/// Element kinds the shim reports for arrays (`KIND_*` in `shim.c`).
pub(crate) const KIND_F64: c_int = 0;
pub(crate) const KIND_I32: c_int = 1;
pub(crate) const KIND_F32: c_int = 2;
pub(crate) const KIND_U8: c_int = 3;

extern "C" {
    pub(crate) fn graft_mj_header_version() -> c_int;
    pub(crate) fn graft_mj_open(path: *const c_char, err: *mut c_char, errsz: c_int) -> c_int;
    pub(crate) fn graft_mj_version() -> c_int;

    pub(crate) fn graft_mj_load_xml(
        filename: *const c_char,
        nfiles: c_int,
        names: *const *const c_char,
        texts: *const *const c_char,
        lens: *const c_int,
        err: *mut c_char,
        errsz: c_int,
    ) -> *mut MjModel;
    pub(crate) fn graft_mj_delete_model(m: *mut MjModel);
    pub(crate) fn graft_mj_make_data(
        m: *const MjModel,
        err: *mut c_char,
        errsz: c_int,
    ) -> *mut MjData;
    pub(crate) fn graft_mj_delete_data(d: *mut MjData);

    pub(crate) fn graft_mj_step(
        m: *const MjModel,
        d: *mut MjData,
        nstep: c_int,
        err: *mut c_char,
        errsz: c_int,
    ) -> c_int;
    pub(crate) fn graft_mj_forward(
        m: *const MjModel,
        d: *mut MjData,
        err: *mut c_char,
        errsz: c_int,
    ) -> c_int;
    pub(crate) fn graft_mj_reset_data(
        m: *const MjModel,
        d: *mut MjData,
        err: *mut c_char,
        errsz: c_int,
    ) -> c_int;

    pub(crate) fn graft_mj_step_legacy(
        m: *const MjModel,
        d: *mut MjData,
        nstep: c_int,
        err: *mut c_char,
        errsz: c_int,
    ) -> c_int;
    pub(crate) fn graft_mj_forward_unactuated(
        m: *mut MjModel,
        d: *mut MjData,
        err: *mut c_char,
        errsz: c_int,
    ) -> c_int;
    pub(crate) fn graft_mj_ncon(d: *const MjData) -> c_int;
    pub(crate) fn graft_mj_time(d: *const MjData) -> f64;
    pub(crate) fn graft_mj_set_time(d: *mut MjData, t: f64);
    pub(crate) fn graft_mj_id2name(m: *const MjModel, obj: c_int, id: c_int) -> *const c_char;
    pub(crate) fn graft_mj_enum(name: *const c_char) -> c_int;
    pub(crate) fn graft_mj_visual_int(
        m: *mut MjModel,
        name: *const c_char,
        value: *const c_int,
        out: *mut c_int,
    ) -> c_int;
    pub(crate) fn graft_mjr_set_rndflag(r: *mut MjRenderer, flag: c_int, value: c_int) -> c_int;
    pub(crate) fn graft_mj_name2id(m: *const MjModel, obj: c_int, name: *const c_char) -> c_int;
    pub(crate) fn graft_mj_timestep(m: *const MjModel) -> f64;
    pub(crate) fn graft_mj_model_size(
        m: *const MjModel,
        name: *const c_char,
        out: *mut i64,
    ) -> c_int;
    pub(crate) fn graft_mj_model_array(
        m: *const MjModel,
        name: *const c_char,
        ptr: *mut *const c_void,
        rows: *mut i64,
        cols: *mut i64,
        kind: *mut c_int,
    ) -> c_int;
    pub(crate) fn graft_mj_data_array(
        m: *const MjModel,
        d: *mut MjData,
        name: *const c_char,
        ptr: *mut *mut c_void,
        rows: *mut i64,
        cols: *mut i64,
        kind: *mut c_int,
    ) -> c_int;

    pub(crate) fn graft_mj_nwarning() -> c_int;
    pub(crate) fn graft_mj_take_warnings(d: *mut MjData, numbers: *mut c_int, lastinfo: *mut c_int);
    pub(crate) fn graft_mj_warning_text(i: c_int, info: c_int, out: *mut c_char, outsz: c_int);

    // Rendering (shim.c); each call needs an OpenGL context current on the calling thread.
    pub(crate) fn graft_mjr_create(
        m: *const MjModel,
        maxgeom: c_int,
        width: c_int,
        height: c_int,
        err: *mut c_char,
        errsz: c_int,
    ) -> *mut MjRenderer;
    pub(crate) fn graft_mjr_free(r: *mut MjRenderer);
    pub(crate) fn graft_mjr_get_camera(r: *const MjRenderer, out: *mut Camera);
    pub(crate) fn graft_mjr_set_camera(r: *mut MjRenderer, cam: *const Camera);
    pub(crate) fn graft_mjr_nvisflag() -> c_int;
    pub(crate) fn graft_mjr_set_visflag(r: *mut MjRenderer, flag: c_int, value: c_int) -> c_int;
    pub(crate) fn graft_mj_extent(m: *const MjModel) -> f64;
    pub(crate) fn graft_mj_ncam(m: *const MjModel) -> c_int;
    pub(crate) fn graft_mjr_render(
        m: *const MjModel,
        d: *mut MjData,
        r: *mut MjRenderer,
        width: c_int,
        height: c_int,
        rgb: *mut u8,
        err: *mut c_char,
        errsz: c_int,
    ) -> c_int;
    pub(crate) fn graft_mjr_offscreen_size(
        r: *const MjRenderer,
        width: *mut c_int,
        height: *mut c_int,
    );

    // The OpenGL context (gl.c): EGL, loaded at run time.
    pub(crate) fn graft_gl_open(library: *const c_char, err: *mut c_char, errsz: c_int) -> c_int;
    pub(crate) fn graft_gl_create_context(err: *mut c_char, errsz: c_int) -> *mut c_void;
    pub(crate) fn graft_gl_make_current(ctx: *mut c_void, err: *mut c_char, errsz: c_int) -> c_int;
    pub(crate) fn graft_gl_release();
    pub(crate) fn graft_gl_destroy_context(ctx: *mut c_void);
}

/// Size of the message buffers handed to the shim (MuJoCo's own messages are at most 1024).
pub(crate) const MESSAGE_LEN: usize = 1024;

/// A zeroed message buffer.
pub(crate) fn message_buffer() -> [c_char; MESSAGE_LEN] {
    [0; MESSAGE_LEN]
}

/// The text in a buffer the shim filled (NUL-terminated by `snprintf`), lossily decoded.
pub(crate) fn message(buf: &[c_char; MESSAGE_LEN]) -> String {
    // SAFETY: the buffer is MESSAGE_LEN long and the shim writes with snprintf(buf, MESSAGE_LEN),
    // which always NUL-terminates; a zeroed buffer is the empty string. The last byte is forced
    // to NUL below in case a caller handed a buffer the shim never wrote.
    let mut copy = *buf;
    copy[MESSAGE_LEN - 1] = 0;
    unsafe { CStr::from_ptr(copy.as_ptr()) }.to_string_lossy().into_owned()
}

/// Run a guarded shim call that writes an error message on failure: `Err(message)` when it
/// returned non-zero.
pub(crate) fn call(f: impl FnOnce(*mut c_char, c_int) -> c_int) -> Result<(), String> {
    let mut err = message_buffer();
    match f(err.as_mut_ptr(), MESSAGE_LEN as c_int) {
        0 => Ok(()),
        _ => Err(message(&err)),
    }
}
