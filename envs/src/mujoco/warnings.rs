//! MuJoCo's warnings (`mjtWarning`): counted by the engine in `mjData.warning`, reported by
//! Graft in `info["mujoco_warnings"]` instead of being printed to the console and appended to
//! `MUJOCO_LOG.TXT` as MuJoCo's default handler does.
//!
//! A step whose simulation raised warnings carries
//! `info["mujoco_warnings"] = {"mjWARN_BADCTRL": {"count": 5, "text": "…"}, …}`: how many times
//! each warning was raised during the step (all `frame_skip` MuJoCo steps) and MuJoCo's text
//! for the last one. Steps without warnings carry no such key, so `info` has exactly
//! Gymnasium's keys in the ordinary case.

use std::ffi::c_int;

use crate::env::{Info, Value};
use crate::mujoco::error::MujocoError;
use crate::mujoco::ffi;

/// `mjtWarning`'s names, in MuJoCo 3.17's order.
pub const WARNING_NAMES: [&str; 7] = [
    "mjWARN_INERTIA",
    "mjWARN_CONTACTFULL",
    "mjWARN_CNSTRFULL",
    "mjWARN_BADQPOS",
    "mjWARN_BADQVEL",
    "mjWARN_BADQACC",
    "mjWARN_BADCTRL",
];

/// The key under which a step's warnings appear in `info`.
pub const INFO_KEY: &str = "mujoco_warnings";

/// One kind of warning raised during a call.
#[derive(Debug, Clone, PartialEq)]
pub struct Warning {
    /// MuJoCo's name for it, e.g. `"mjWARN_BADQACC"`.
    pub name: &'static str,
    /// How many times it was raised.
    pub count: u32,
    /// MuJoCo's text for the last occurrence (`mju_warningText`), e.g. `"Nan, Inf or huge
    /// value in QACC at DOF 0. The simulation is unstable."`.
    pub text: String,
}

impl Warning {
    pub(crate) fn new(index: usize, count: c_int, lastinfo: c_int) -> Warning {
        let mut buf = ffi::message_buffer();
        // SAFETY: the library is loaded (a Data exists); `index` < mjNWARNING (checked at load);
        // `buf` is MESSAGE_LEN long, as passed.
        unsafe {
            ffi::graft_mj_warning_text(
                index as c_int,
                lastinfo,
                buf.as_mut_ptr(),
                ffi::MESSAGE_LEN as c_int,
            )
        };
        Warning { name: WARNING_NAMES[index], count: count as u32, text: ffi::message(&buf) }
    }
}

/// Fail unless the loaded MuJoCo has the warnings [`WARNING_NAMES`] lists.
pub(crate) fn check_count() -> Result<(), MujocoError> {
    // SAFETY: returns a compile-time constant of the shim.
    let n = unsafe { ffi::graft_mj_nwarning() } as usize;
    if n == WARNING_NAMES.len() {
        Ok(())
    } else {
        Err(MujocoError::Library {
            path: crate::mujoco::library::library_path(),
            version: crate::mujoco::library::MUJOCO_VERSION.to_string(),
            reason: format!("mjNWARNING is {n}, graft-envs knows {}", WARNING_NAMES.len()),
        })
    }
}

/// Add `warnings` to `info` under [`INFO_KEY`] (nothing when there are none); the same
/// warning from several calls is counted once with the sum of the counts and the last text.
pub(crate) fn add_to_info(warnings: &[Warning], info: &mut Info) {
    if warnings.is_empty() {
        return;
    }
    let mut merged: Vec<Warning> = Vec::new();
    for w in warnings {
        match merged.iter_mut().find(|m| m.name == w.name) {
            Some(m) => {
                m.count += w.count;
                m.text.clone_from(&w.text);
            }
            None => merged.push(w.clone()),
        }
    }
    let map: Info = merged
        .into_iter()
        .map(|w| {
            let entry: Info = [
                ("count".to_string(), Value::Int(w.count as i64)),
                ("text".to_string(), Value::Str(w.text)),
            ]
            .into();
            (w.name.to_string(), Value::Map(entry))
        })
        .collect();
    info.insert(INFO_KEY.to_string(), Value::Map(map));
}
