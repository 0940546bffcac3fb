//! The simulation state of one model (`mjData`), and the MuJoCo calls that advance it.
//!
//! A [`Data`] owns its `mjData` and an `Arc` of its [`Model`], so the model outlives it.
//! `qpos`, `qvel`, `ctrl` and every other array are read and written as slices; their
//! addresses are fixed by `mj_makeData` for the life of the `mjData`, so they are looked up
//! once.

use std::ffi::{c_int, c_void, CString};
use std::ptr::NonNull;
use std::sync::Arc;

use crate::mujoco::error::MujocoError;
use crate::mujoco::ffi;
use crate::mujoco::model::Model;
use crate::mujoco::warnings::{Warning, WARNING_NAMES};

/// An address and length inside the `mjData` buffer.
#[derive(Debug, Clone, Copy)]
struct Span {
    ptr: *mut f64,
    len: usize,
    cols: usize,
}

/// An `mjData`, owned; freed with `mj_deleteData` on drop.
#[derive(Debug)]
pub struct Data {
    // Valid from a successful mj_makeData until Drop.
    ptr: NonNull<ffi::MjData>,
    model: Arc<Model>,
    // Inside the mjData buffer: valid as long as `ptr`.
    qpos: Span,
    qvel: Span,
    act: Span,
    ctrl: Span,
    /// Spans of the arrays environments read every step ([`FREQUENT`]), looked up once: a
    /// by-name lookup walks MuJoCo's table of ~100 names in C.
    frequent: [Option<Span>; FREQUENT.len()],
}

/// The mjData arrays read every step by the environments, by name.
const FREQUENT: [&str; 9] = [
    "xpos",
    "xmat",
    "xipos",
    "geom_xpos",
    "site_xpos",
    "sensordata",
    "xanchor",
    "cfrc_ext",
    "subtree_com",
];

// SAFETY: an mjData has no thread affinity; MuJoCo's calls on it are not reentrant, which
// `&mut self` on every mutating method guarantees. The model it refers to is Sync.
unsafe impl Send for Data {}

impl Data {
    /// `mj_makeData` for `model`.
    pub fn new(model: Arc<Model>) -> Result<Data, MujocoError> {
        let mut err = ffi::message_buffer();
        // SAFETY: the model is valid (the Arc keeps it); `err` is MESSAGE_LEN long.
        let ptr = unsafe {
            ffi::graft_mj_make_data(model.as_ptr(), err.as_mut_ptr(), ffi::MESSAGE_LEN as c_int)
        };
        let ptr = NonNull::new(ptr).ok_or_else(|| MujocoError::Simulation {
            env: model.file().to_string(),
            call: "mj_makeData".into(),
            message: ffi::message(&err),
        })?;
        let empty = Span { ptr: NonNull::dangling().as_ptr(), len: 0, cols: 1 };
        let mut data = Data {
            ptr,
            model,
            qpos: empty,
            qvel: empty,
            act: empty,
            ctrl: empty,
            frequent: [None; FREQUENT.len()],
        };
        data.qpos = data.span("qpos").expect("mjData has qpos");
        data.qvel = data.span("qvel").expect("mjData has qvel");
        data.act = data.span("act").expect("mjData has act");
        data.ctrl = data.span("ctrl").expect("mjData has ctrl");
        for (i, name) in FREQUENT.iter().enumerate() {
            data.frequent[i] = data.lookup(name);
        }
        Ok(data)
    }

    /// The model.
    pub fn model(&self) -> &Arc<Model> {
        &self.model
    }

    /// Where the `mjtNum` array `name` of mjData lies, or `None` (unknown or not `mjtNum`).
    /// Raw pointer for the renderer (`mjv_updateScene` takes `mjData*` but writes only its
    /// scratch stack); valid while `self` lives.
    pub(crate) fn raw(&self) -> *mut ffi::MjData {
        self.ptr.as_ptr()
    }

    /// Where the `mjtNum` array `name` of mjData lies: from the table of frequent arrays, or
    /// looked up.
    fn span(&self, name: &str) -> Option<Span> {
        match FREQUENT.iter().position(|n| *n == name) {
            Some(i) => self.frequent[i],
            None => self.lookup(name),
        }
    }

    /// [`Data::span`] through MuJoCo's name table.
    fn lookup(&self, name: &str) -> Option<Span> {
        let c_name = CString::new(name).ok()?;
        let (mut ptr, mut rows, mut cols, mut kind) =
            (std::ptr::null_mut::<c_void>(), 0i64, 0i64, 0 as c_int);
        // SAFETY: model and data are valid; the name is NUL-terminated; out-pointers are locals.
        let found = unsafe {
            ffi::graft_mj_data_array(
                self.model.as_ptr(),
                self.ptr.as_ptr(),
                c_name.as_ptr(),
                &mut ptr,
                &mut rows,
                &mut cols,
                &mut kind,
            )
        };
        if found != 0 || kind != ffi::KIND_F64 {
            return None;
        }
        let (len, cols) = ((rows * cols) as usize, cols as usize);
        if len == 0 || ptr.is_null() {
            return Some(Span { ptr: NonNull::dangling().as_ptr(), len: 0, cols });
        }
        Some(Span { ptr: ptr.cast(), len, cols })
    }

    fn slice(&self, s: Span) -> &[f64] {
        // SAFETY: `s` lies inside this mjData's buffer (or is empty and dangling-but-aligned),
        // alive as long as `self`; the shared borrow of `self` excludes writers.
        unsafe { std::slice::from_raw_parts(s.ptr, s.len) }
    }

    fn slice_mut(&mut self, s: Span) -> &mut [f64] {
        // SAFETY: as `slice`; the exclusive borrow of `self` makes this the only access. The
        // four spans are distinct arrays, but each borrow holds all of `self` anyway.
        unsafe { std::slice::from_raw_parts_mut(s.ptr, s.len) }
    }

    /// Generalised positions (`nq`).
    pub fn qpos(&self) -> &[f64] {
        self.slice(self.qpos)
    }

    /// Generalised positions, writable.
    pub fn qpos_mut(&mut self) -> &mut [f64] {
        self.slice_mut(self.qpos)
    }

    /// Generalised velocities (`nv`).
    pub fn qvel(&self) -> &[f64] {
        self.slice(self.qvel)
    }

    /// Generalised velocities, writable.
    pub fn qvel_mut(&mut self) -> &mut [f64] {
        self.slice_mut(self.qvel)
    }

    /// Actuator activations (`na`).
    pub fn act(&self) -> &[f64] {
        self.slice(self.act)
    }

    /// Controls (`nu`).
    pub fn ctrl(&self) -> &[f64] {
        self.slice(self.ctrl)
    }

    /// Controls, writable.
    pub fn ctrl_mut(&mut self) -> &mut [f64] {
        self.slice_mut(self.ctrl)
    }

    /// Any `mjtNum` array of mjData by name (`"xpos"`, `"cfrc_ext"`, `"cinert"`, …; MuJoCo's
    /// `MJDATA_POINTERS`), row-major, with its column count; `None` for an unknown name.
    pub fn array(&self, name: &str) -> Option<(&[f64], usize)> {
        let span = self.span(name)?;
        Some((self.slice(span), span.cols))
    }

    /// Any `mjtNum` array of mjData by name, writable.
    pub fn array_mut(&mut self, name: &str) -> Option<(&mut [f64], usize)> {
        let span = self.span(name)?;
        Some((self.slice_mut(span), span.cols))
    }

    /// The model, writable, when this data is its only holder (`None` while it is shared).
    pub fn model_mut(&mut self) -> Option<&mut Model> {
        Arc::get_mut(&mut self.model)
    }

    /// Number of active contacts (`ncon`).
    pub fn ncon(&self) -> usize {
        // SAFETY: the data is valid; reads one int.
        unsafe { ffi::graft_mj_ncon(self.ptr.as_ptr()) }.max(0) as usize
    }

    /// Simulation time (`time`).
    pub fn time(&self) -> f64 {
        // SAFETY: the data is valid; reads one double.
        unsafe { ffi::graft_mj_time(self.ptr.as_ptr()) }
    }

    /// Set the simulation time.
    pub fn set_time(&mut self, t: f64) {
        // SAFETY: the data is valid and `&mut self` exclusive; writes one double.
        unsafe { ffi::graft_mj_set_time(self.ptr.as_ptr(), t) }
    }

    /// dm_control's legacy `Physics.step(nstep)`: finish the pending step with `mj_step2`,
    /// `nstep - 1` whole `mj_step`s, then `mj_step1` (see `graft_mj_step_legacy` in `shim.c`);
    /// MuJoCo's message on a fatal error.
    pub(crate) fn step_legacy(&mut self, nstep: u32) -> Result<(), String> {
        let n = c_int::try_from(nstep).map_err(|_| format!("{nstep} steps is too many"))?;
        let (m, d) = (self.model.as_ptr(), self.ptr.as_ptr());
        // SAFETY: as in `step`.
        ffi::call(|err, len| unsafe { ffi::graft_mj_step_legacy(m, d, n, err, len) })
    }

    /// `mj_forward` with actuation disabled, as dm_control's reset runs it. Needs the model
    /// to itself (the call sets and restores a model flag): an error while it is shared.
    pub(crate) fn forward_unactuated(&mut self) -> Result<(), String> {
        let d = self.ptr.as_ptr();
        let model = Arc::get_mut(&mut self.model)
            .ok_or_else(|| "mj_forward without actuation needs an unshared model".to_string())?;
        let m = model.as_mut_ptr();
        // SAFETY: as in `step`; the model is held exclusively (Arc::get_mut), so writing its
        // option flags for the call races with nothing.
        ffi::call(|err, len| unsafe { ffi::graft_mj_forward_unactuated(m, d, err, len) })
    }

    /// `nstep` × `mj_step`, then `mj_rnePostConstraint`; MuJoCo's message on a fatal error.
    pub(crate) fn step(&mut self, nstep: u32) -> Result<(), String> {
        let n = c_int::try_from(nstep).map_err(|_| format!("{nstep} steps is too many"))?;
        let (m, d) = (self.model.as_ptr(), self.ptr.as_ptr());
        // SAFETY: model and data are valid and belong together; `&mut self` makes this the only
        // call on the mjData. On a fatal error the shim longjmps back out of MuJoCo.
        ffi::call(|err, len| unsafe { ffi::graft_mj_step(m, d, n, err, len) })
    }

    /// `mj_forward`; MuJoCo's message on a fatal error.
    pub(crate) fn forward(&mut self) -> Result<(), String> {
        let (m, d) = (self.model.as_ptr(), self.ptr.as_ptr());
        // SAFETY: as in `step`.
        ffi::call(|err, len| unsafe { ffi::graft_mj_forward(m, d, err, len) })
    }

    /// `mj_resetData`; MuJoCo's message on a fatal error.
    pub(crate) fn reset(&mut self) -> Result<(), String> {
        let (m, d) = (self.model.as_ptr(), self.ptr.as_ptr());
        // SAFETY: as in `step`.
        ffi::call(|err, len| unsafe { ffi::graft_mj_reset_data(m, d, err, len) })
    }

    /// The warnings MuJoCo counted since the last call (mjData's `warning` counters, which
    /// this zeroes), in MuJoCo's order.
    pub(crate) fn take_warnings(&mut self, out: &mut Vec<Warning>) {
        let mut numbers = [0 as c_int; WARNING_NAMES.len()];
        let mut lastinfo = [0 as c_int; WARNING_NAMES.len()];
        // SAFETY: the data is valid; the shim writes mjNWARNING ints to each array, and
        // `warnings::check_count` verified at load that mjNWARNING == WARNING_NAMES.len().
        unsafe {
            ffi::graft_mj_take_warnings(
                self.ptr.as_ptr(),
                numbers.as_mut_ptr(),
                lastinfo.as_mut_ptr(),
            )
        };
        for (i, (&n, &info)) in numbers.iter().zip(&lastinfo).enumerate() {
            if n > 0 {
                out.push(Warning::new(i, n, info));
            }
        }
    }
}

impl Drop for Data {
    fn drop(&mut self) {
        // SAFETY: the pointer came from mj_makeData and is freed once, here; the model (Arc)
        // is still alive.
        unsafe { ffi::graft_mj_delete_data(self.ptr.as_ptr()) }
    }
}
