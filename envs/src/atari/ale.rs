//! A safe handle on one ALE emulator (`ale::ALEInterface`), through `shim.cpp`.

use std::ffi::CString;
use std::os::raw::{c_char, c_int};
use std::path::Path;
use std::ptr::NonNull;

use super::error::AtariError;
use super::ffi;

/// ALE's 18 joystick actions, by id (`ale_py.Action`), for `get_action_meanings`.
pub const ACTION_MEANINGS: [&str; 18] = [
    "NOOP",
    "FIRE",
    "UP",
    "RIGHT",
    "LEFT",
    "DOWN",
    "UPRIGHT",
    "UPLEFT",
    "DOWNRIGHT",
    "DOWNLEFT",
    "UPFIRE",
    "RIGHTFIRE",
    "LEFTFIRE",
    "DOWNFIRE",
    "UPRIGHTFIRE",
    "UPLEFTFIRE",
    "DOWNRIGHTFIRE",
    "DOWNLEFTFIRE",
];

/// Room for a C++ exception's message.
const ERR_LEN: usize = 512;

/// One emulator. Owns its `ALEInterface`; freed on drop.
pub struct Ale {
    ptr: NonNull<ffi::AleInterface>,
    /// The env id, for error messages.
    env: String,
}

// An `ALEInterface` has no thread affinity (ale-py's vector env steps them on worker
// threads); `Ale` is only ever used through `&mut` or `&` by one owner at a time.
unsafe impl Send for Ale {}

impl std::fmt::Debug for Ale {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ale").field("env", &self.env).finish_non_exhaustive()
    }
}

impl Drop for Ale {
    fn drop(&mut self) {
        // SAFETY: `ptr` came from graft_ale_new and is freed only here.
        unsafe { ffi::graft_ale_free(self.ptr.as_ptr()) }
    }
}

/// Refuse a buffer of the wrong size before C++ writes into it.
fn fits(what: &str, expected: usize, out: &[u8]) -> crate::Result<()> {
    if out.len() == expected {
        Ok(())
    } else {
        Err(crate::EnvError::LengthMismatch { what: what.into(), expected, got: out.len() })
    }
}

/// Runs a shim call that reports C++ exceptions through a message buffer.
fn checked(
    env: &str,
    what: &str,
    call: impl FnOnce(*mut c_char, usize) -> c_int,
) -> Result<(), AtariError> {
    let mut err = [0 as c_char; ERR_LEN];
    if call(err.as_mut_ptr(), ERR_LEN) == 0 {
        return Ok(());
    }
    // SAFETY: the shim NUL-terminates what it writes; the buffer starts zeroed.
    let message = unsafe { std::ffi::CStr::from_ptr(err.as_ptr()) }.to_string_lossy().into_owned();
    Err(AtariError::Ale { env: env.into(), what: what.into(), message })
}

impl Ale {
    /// A new emulator with Gymnasium's AtariEnv settings: sticky-action probability and the
    /// per-episode frame limit (`None`: ALE's default, no limit). No ROM is loaded yet.
    pub fn new(
        env: &str,
        repeat_action_probability: f32,
        max_num_frames: Option<u32>,
    ) -> Result<Ale, AtariError> {
        let frames = max_num_frames.map_or(0, |n| n.min(i32::MAX as u32) as c_int);
        let mut raw = std::ptr::null_mut();
        checked(env, "start", |err, len| {
            // SAFETY: plain values and a message buffer of `len` bytes.
            raw = unsafe { ffi::graft_ale_new(repeat_action_probability, frames, err, len) };
            c_int::from(raw.is_null())
        })?;
        let ptr = NonNull::new(raw).ok_or_else(|| AtariError::Ale {
            env: env.into(),
            what: "start".into(),
            message: "no interface".into(),
        })?;
        Ok(Ale { ptr, env: env.into() })
    }

    /// `setInt("random_seed", seed)`, then `loadROM(rom)` and the mode and difficulty, as
    /// AtariEnv's `seed_game` + `load_game` (a load restarts the console from power-on).
    pub fn load(
        &mut self,
        random_seed: i32,
        rom: &Path,
        mode: Option<u32>,
        difficulty: Option<u32>,
    ) -> Result<(), AtariError> {
        let path =
            CString::new(rom.as_os_str().as_encoded_bytes()).map_err(|_| AtariError::Ale {
                env: self.env.clone(),
                what: "load its ROM".into(),
                message: format!("the path {} contains a NUL byte", rom.display()),
            })?;
        let ptr = self.ptr.as_ptr();
        checked(&self.env, &format!("load the ROM {}", rom.display()), |err, len| {
            // SAFETY: a live interface, a NUL-terminated path, a message buffer.
            unsafe {
                ffi::graft_ale_load(
                    ptr,
                    random_seed,
                    path.as_ptr(),
                    c_int::from(mode.is_some()),
                    mode.unwrap_or(0) as c_int,
                    c_int::from(difficulty.is_some()),
                    difficulty.unwrap_or(0) as c_int,
                    err,
                    len,
                )
            }
        })
    }

    /// `reset_game()`: a new episode (ALE's own no-op frames and the game's start actions).
    pub fn reset_game(&mut self) -> Result<(), AtariError> {
        let ptr = self.ptr.as_ptr();
        // SAFETY: a live interface and a message buffer.
        checked(&self.env, "reset the game", |err, len| unsafe {
            ffi::graft_ale_reset(ptr, err, len)
        })
    }

    /// `act(action, strength)`: one emulator frame; the frame's reward. `action` is an ALE
    /// action id (0..18), checked by the caller.
    #[inline]
    pub fn act(&mut self, action: i32, strength: f32) -> Result<i32, AtariError> {
        let ptr = self.ptr.as_ptr();
        let mut reward = 0i32;
        checked(&self.env, "act", |err, len| {
            // SAFETY: a live interface, an out-pointer to a local, a message buffer.
            unsafe { ffi::graft_ale_act(ptr, action, strength, &mut reward, err, len) }
        })?;
        Ok(reward)
    }

    /// `game_over(with_truncation)`.
    pub fn game_over(&self, with_truncation: bool) -> bool {
        // SAFETY: a live interface.
        unsafe { ffi::graft_ale_game_over(self.ptr.as_ptr(), c_int::from(with_truncation)) != 0 }
    }

    /// `game_truncated()`: the episode reached `max_num_frames_per_episode`.
    pub fn game_truncated(&self) -> bool {
        // SAFETY: a live interface.
        unsafe { ffi::graft_ale_game_truncated(self.ptr.as_ptr()) != 0 }
    }

    /// `lives()`.
    pub fn lives(&self) -> i32 {
        // SAFETY: a live interface (ALE's lives() only reads, but is not declared const).
        unsafe { ffi::graft_ale_lives(self.ptr.as_ptr()) }
    }

    /// `getFrameNumber()`: frames since the ROM was loaded.
    pub fn frame_number(&self) -> i32 {
        // SAFETY: a live interface.
        unsafe { ffi::graft_ale_frame_number(self.ptr.as_ptr()) }
    }

    /// `getEpisodeFrameNumber()`: frames since the episode began.
    pub fn episode_frame_number(&self) -> i32 {
        // SAFETY: a live interface.
        unsafe { ffi::graft_ale_episode_frame_number(self.ptr.as_ptr()) }
    }

    /// `(height, width)` of the screen (210 x 160 on the 2600).
    pub fn screen_dims(&self) -> (usize, usize) {
        let (mut h, mut w) = (0, 0);
        // SAFETY: a live interface and two out-pointers.
        unsafe { ffi::graft_ale_screen_dims(self.ptr.as_ptr(), &mut h, &mut w) };
        (h.max(0) as usize, w.max(0) as usize)
    }

    /// `getScreenRGB()` into `out` (`height * width * 3` bytes).
    pub fn screen_rgb(&self, out: &mut [u8]) -> crate::Result<()> {
        let (h, w) = self.screen_dims();
        fits("RGB screen buffer", h * w * 3, out)?;
        // SAFETY: `out` holds the whole screen (checked).
        unsafe { ffi::graft_ale_screen_rgb(self.ptr.as_ptr(), out.as_mut_ptr()) };
        Ok(())
    }

    /// `getScreenGrayscale()` into `out` (`height * width` bytes).
    pub fn screen_grayscale(&self, out: &mut [u8]) -> crate::Result<()> {
        let (h, w) = self.screen_dims();
        fits("grayscale screen buffer", h * w, out)?;
        // SAFETY: `out` holds the whole screen (checked).
        unsafe { ffi::graft_ale_screen_grayscale(self.ptr.as_ptr(), out.as_mut_ptr()) };
        Ok(())
    }

    /// Bytes of RAM (128).
    pub fn ram_size(&self) -> usize {
        // SAFETY: a live interface.
        unsafe { ffi::graft_ale_ram_size(self.ptr.as_ptr()) }
    }

    /// `getRAM()` into `out` (`ram_size()` bytes).
    pub fn ram(&self, out: &mut [u8]) -> crate::Result<()> {
        fits("RAM buffer", self.ram_size(), out)?;
        // SAFETY: `out` holds the whole RAM (checked).
        unsafe { ffi::graft_ale_ram(self.ptr.as_ptr(), out.as_mut_ptr()) };
        Ok(())
    }

    /// `getMinimalActionSet()` (`full = false`) or `getLegalActionSet()` (`full = true`).
    pub fn action_set(&self, full: bool) -> Vec<i32> {
        self.read_list(|out, cap| unsafe {
            // SAFETY: `out` has room for `cap` ints.
            ffi::graft_ale_action_set(self.ptr.as_ptr(), c_int::from(full), out, cap)
        })
    }

    /// `getAvailableModes()`.
    pub fn available_modes(&self) -> Vec<u32> {
        self.modes(0)
    }

    /// `getAvailableDifficulties()`.
    pub fn available_difficulties(&self) -> Vec<u32> {
        self.modes(1)
    }

    fn modes(&self, which: c_int) -> Vec<u32> {
        let values = self.read_list(|out, cap| unsafe {
            // SAFETY: `out` has room for `cap` ints.
            ffi::graft_ale_modes(self.ptr.as_ptr(), which, out, cap)
        });
        values.into_iter().map(|v| v as u32).collect()
    }

    /// A list the shim writes with a capacity and returns the length of.
    fn read_list(&self, call: impl Fn(*mut c_int, usize) -> usize) -> Vec<i32> {
        let mut out = vec![0 as c_int; 32];
        let n = call(out.as_mut_ptr(), out.len());
        if n > out.len() {
            out.resize(n, 0);
            call(out.as_mut_ptr(), n);
        }
        out.truncate(n);
        out
    }
}
