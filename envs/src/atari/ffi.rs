//! The C functions of `shim.cpp` (graft-envs' interface to ALE's C++ `ALEInterface`).
//!
//! Every function that can reach a C++ exception returns a status (0 = ok) and copies the
//! exception's message into `err`; the rest only read state.

use std::os::raw::{c_char, c_float, c_int};

/// ALE's `ale::ALEInterface`, opaque.
#[repr(C)]
pub struct AleInterface {
    _private: [u8; 0],
}

extern "C" {
    pub fn graft_ale_new(
        repeat_action_probability: c_float,
        max_num_frames: c_int,
        err: *mut c_char,
        err_len: usize,
    ) -> *mut AleInterface;
    pub fn graft_ale_free(ale: *mut AleInterface);
    #[allow(clippy::too_many_arguments)]
    pub fn graft_ale_load(
        ale: *mut AleInterface,
        random_seed: i32,
        rom_path: *const c_char,
        has_mode: c_int,
        mode: c_int,
        has_difficulty: c_int,
        difficulty: c_int,
        err: *mut c_char,
        err_len: usize,
    ) -> c_int;
    pub fn graft_ale_reset(ale: *mut AleInterface, err: *mut c_char, err_len: usize) -> c_int;
    pub fn graft_ale_act(
        ale: *mut AleInterface,
        action: c_int,
        strength: c_float,
        reward: *mut i32,
        err: *mut c_char,
        err_len: usize,
    ) -> c_int;
    pub fn graft_ale_game_over(ale: *const AleInterface, with_truncation: c_int) -> c_int;
    pub fn graft_ale_game_truncated(ale: *const AleInterface) -> c_int;
    pub fn graft_ale_lives(ale: *mut AleInterface) -> c_int;
    pub fn graft_ale_frame_number(ale: *const AleInterface) -> c_int;
    pub fn graft_ale_episode_frame_number(ale: *const AleInterface) -> c_int;
    pub fn graft_ale_screen_dims(ale: *const AleInterface, height: *mut c_int, width: *mut c_int);
    pub fn graft_ale_screen_rgb(ale: *const AleInterface, out: *mut u8);
    pub fn graft_ale_screen_grayscale(ale: *const AleInterface, out: *mut u8);
    pub fn graft_ale_ram_size(ale: *const AleInterface) -> usize;
    pub fn graft_ale_ram(ale: *const AleInterface, out: *mut u8);
    pub fn graft_ale_action_set(
        ale: *const AleInterface,
        full: c_int,
        out: *mut c_int,
        cap: usize,
    ) -> usize;
    pub fn graft_ale_modes(
        ale: *const AleInterface,
        which: c_int,
        out: *mut c_int,
        cap: usize,
    ) -> usize;
}
