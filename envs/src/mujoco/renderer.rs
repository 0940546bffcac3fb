//! Offscreen rendering of a MuJoCo simulation: Gymnasium 1.4.0's `MujocoRenderer` with an
//! `OffScreenViewer` under `MUJOCO_GL=egl` (`gymnasium/envs/mujoco/mujoco_rendering.py`).
//!
//! The OpenGL context is EGL with no display (`gl.c`; Mesa's llvmpipe software rasteriser
//! where there is no GPU), loaded with `dlopen` the first time a frame is rendered, so nothing
//! else needs GL. A [`Renderer`] is made on the first frame, as Gymnasium makes its viewer on
//! the first `render()`, and sets the camera up as `OffScreenViewer._init_camera` does then:
//! a free camera looking at the median of the geoms' positions from `stat.extent` away; the
//! environment's `default_camera_config` is applied over it, and every frame uses the free
//! camera (`camera_id` -1, also when the model has a camera called `track`) or the model's
//! fixed camera `camera_id` / `camera_name`. Frames are read bottom row first and flipped, as
//! Gymnasium flips them.

use std::ffi::{c_int, c_void, CString};
use std::sync::OnceLock;

use crate::mujoco::data::Data;
use crate::mujoco::error::MujocoError;
use crate::mujoco::ffi;
use crate::mujoco::render_config::{CameraConfig, RenderConfig};

/// The EGL library loaded at run time (Debian's `libegl1`, with Mesa's `libegl-mesa0`);
/// `GRAFT_EGL_LIB` names another.
pub const EGL_LIBRARY: &str = "libEGL.so.1";

/// The EGL library to load: `GRAFT_EGL_LIB` if set, else [`EGL_LIBRARY`].
fn egl_library() -> String {
    std::env::var("GRAFT_EGL_LIB").unwrap_or_else(|_| EGL_LIBRARY.to_string())
}

const CAMERA_FREE: c_int = 0;
const CAMERA_FIXED: c_int = 2;

/// Load libEGL and open its display once per process; the same answer every time after.
fn ensure_gl() -> Result<(), MujocoError> {
    static GL: OnceLock<Result<(), MujocoError>> = OnceLock::new();
    GL.get_or_init(|| {
        let library = egl_library();
        let fail = |reason: String| MujocoError::GlUnavailable { library: library.clone(), reason };
        let lib = CString::new(library.as_str()).map_err(|_| fail("bad library name".into()))?;
        let mut err = ffi::message_buffer();
        // SAFETY: `lib` is NUL-terminated and `err` MESSAGE_LEN long; runs once (OnceLock),
        // before any other gl.c function, as gl.c requires.
        let rc = unsafe {
            ffi::graft_gl_open(lib.as_ptr(), err.as_mut_ptr(), ffi::MESSAGE_LEN as c_int)
        };
        match rc {
            0 => Ok(()),
            -2 => Err(fail(format!("{library} is not installed ({})", ffi::message(&err)))),
            _ => Err(fail(ffi::message(&err))),
        }
    })
    .clone()
}

/// An EGL context, current on the calling thread while this guard lives.
struct Current<'a>(std::marker::PhantomData<&'a GlContext>);

impl Drop for Current<'_> {
    fn drop(&mut self) {
        // SAFETY: the display is open (a context exists); releasing leaves the thread with no
        // current context so that another thread may make this one current later.
        unsafe { ffi::graft_gl_release() }
    }
}

/// An EGL context, owned.
struct GlContext(*mut c_void);

impl GlContext {
    fn new() -> Result<GlContext, String> {
        let mut err = ffi::message_buffer();
        // SAFETY: ensure_gl succeeded before (Renderer::new); `err` is MESSAGE_LEN long.
        let ctx =
            unsafe { ffi::graft_gl_create_context(err.as_mut_ptr(), ffi::MESSAGE_LEN as c_int) };
        if ctx.is_null() {
            return Err(ffi::message(&err));
        }
        Ok(GlContext(ctx))
    }

    fn make_current(&self) -> Result<Current<'_>, String> {
        // SAFETY: the context is alive (self) and is current on no other thread: every use
        // releases it before returning (Current's drop), and the Renderer holding it is used
        // by one thread at a time (&mut).
        ffi::call(|err, n| unsafe { ffi::graft_gl_make_current(self.0, err, n) })?;
        Ok(Current(std::marker::PhantomData))
    }
}

impl Drop for GlContext {
    fn drop(&mut self) {
        // SAFETY: the context was created by graft_gl_create_context and is not current
        // (released after each use).
        unsafe { ffi::graft_gl_destroy_context(self.0) }
    }
}

/// One offscreen viewer: an OpenGL context and MuJoCo's scene, camera, options and GL
/// resources for one model.
pub(crate) struct Renderer {
    // Drop order: `scene` (freed with the context current) before `gl`.
    scene: *mut ffi::MjRenderer,
    gl: GlContext,
    env: &'static str,
    /// `camera_id` resolved as `MujocoRenderer.__init__` does (-1: the free camera).
    camera_id: c_int,
    /// The offscreen buffer's size.
    buffer: (u32, u32),
    /// The arguments it was made with (to make it again with a larger buffer).
    config: RenderConfig,
    /// Bottom-up rows as read from OpenGL, reused between frames.
    pixels: Vec<u8>,
}

// SAFETY: the EGL context and the MuJoCo renderer are used only through `&mut self`, with the
// context made current on the calling thread for the call and released after it, so moving
// the Renderer to another thread is sound (EGL contexts may be current on any one thread).
unsafe impl Send for Renderer {}

impl std::fmt::Debug for Renderer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Renderer")
            .field("camera_id", &self.camera_id)
            .field("buffer", &self.buffer)
            .finish_non_exhaustive()
    }
}

impl Renderer {
    /// Gymnasium's `OffScreenViewer(model, data, width, height, max_geom, visual_options)`
    /// then `_set_cam_config()`, for the simulation's current state. `default_camera` is the
    /// environment's default camera config, used when `config` has none.
    pub(crate) fn new(
        env: &'static str,
        sim: &Data,
        config: &RenderConfig,
        default_camera: &CameraConfig,
    ) -> Result<Renderer, MujocoError> {
        let fail = |call: &str, message: String| MujocoError::Render {
            env: env.into(),
            call: call.into(),
            message,
        };
        let camera_id = resolve_camera(env, sim, config)?;
        ensure_gl()?;
        let gl = GlContext::new().map_err(|m| fail("eglCreateContext", m))?;
        let current = gl.make_current().map_err(|m| fail("eglMakeCurrent", m))?;
        let mut err = ffi::message_buffer();
        // SAFETY: a GL context is current on this thread (`current`); the model is alive for
        // the call and MuJoCo copies what it needs; `err` is MESSAGE_LEN long.
        let scene = unsafe {
            ffi::graft_mjr_create(
                sim.model().as_ptr(),
                config.max_geom as c_int,
                config.width as c_int,
                config.height as c_int,
                err.as_mut_ptr(),
                ffi::MESSAGE_LEN as c_int,
            )
        };
        if scene.is_null() {
            return Err(fail("mjr_makeContext", ffi::message(&err)));
        }
        let (mut w, mut h) = (0, 0);
        // SAFETY: `scene` is a live renderer; the out-pointers are locals.
        unsafe { ffi::graft_mjr_offscreen_size(scene, &mut w, &mut h) };
        drop(current);
        let mut r = Renderer {
            scene,
            gl,
            env,
            camera_id,
            config: config.clone(),
            buffer: (w.max(0) as u32, h.max(0) as u32),
            pixels: Vec::new(),
        };
        // SAFETY: returns a compile-time constant.
        let nvisflag = unsafe { ffi::graft_mjr_nvisflag() } as usize;
        debug_assert_eq!(nvisflag, crate::mujoco::render_config::vis_flag_count());
        for (&flag, &on) in &config.visual_options {
            // SAFETY: `scene` is live; the shim checks the flag's range.
            unsafe { ffi::graft_mjr_set_visflag(r.scene, flag as c_int, on as c_int) };
        }
        for (&flag, &on) in &config.scene_flags {
            // SAFETY: `scene` is live; the shim checks the flag's range.
            unsafe { ffi::graft_mjr_set_rndflag(r.scene, flag as c_int, on as c_int) };
        }
        r.init_camera(sim, config.default_camera_config.as_ref().unwrap_or(default_camera));
        Ok(r)
    }

    /// `_init_camera` then `_set_cam_config`.
    fn init_camera(&mut self, sim: &Data, config: &CameraConfig) {
        let mut cam = ffi::Camera::default();
        // SAFETY: `scene` is live; `cam` is a local of the shim's layout.
        unsafe { ffi::graft_mjr_get_camera(self.scene, &mut cam) };
        cam.kind = CAMERA_FREE;
        cam.fixedcamid = -1;
        if let Some((xpos, _)) = sim.array("geom_xpos") {
            for (i, l) in cam.lookat.iter_mut().enumerate() {
                *l = median(xpos.iter().skip(i).step_by(3).copied().collect());
            }
        }
        // SAFETY: the model is alive; reads one field.
        cam.distance = unsafe { ffi::graft_mj_extent(sim.model().as_ptr()) };
        let set_i = |x: Option<i32>, f: &mut c_int| x.into_iter().for_each(|v| *f = v);
        let set_f = |x: Option<f64>, f: &mut f64| x.into_iter().for_each(|v| *f = v);
        set_i(config.kind, &mut cam.kind);
        set_i(config.fixedcamid, &mut cam.fixedcamid);
        set_i(config.trackbodyid, &mut cam.trackbodyid);
        if let Some(l) = config.lookat {
            cam.lookat = l;
        }
        set_f(config.distance, &mut cam.distance);
        set_f(config.azimuth, &mut cam.azimuth);
        set_f(config.elevation, &mut cam.elevation);
        if let Some(o) = config.orthographic {
            cam.orthographic = o as c_int;
        }
        // SAFETY: `scene` is live; `cam` is a local.
        unsafe { ffi::graft_mjr_set_camera(self.scene, &cam) };
    }

    /// One `width` x `height` frame of the simulation's current state, as RGB rows top
    /// first (`out.len() == width * height * 3`), as `OffScreenViewer.render("rgb_array",
    /// camera_id)` gives it. The offscreen buffer grows when the frame is larger.
    pub(crate) fn render(
        &mut self,
        sim: &Data,
        width: u32,
        height: u32,
        out: &mut [u8],
    ) -> Result<(), MujocoError> {
        let env = self.env;
        let fail = |call: &str, message: String| MujocoError::Render {
            env: env.into(),
            call: call.into(),
            message,
        };
        let row = width as usize * 3;
        if out.len() != row * height as usize {
            return Err(fail(
                "render",
                format!(
                    "output buffer has {} bytes, {width}x{height} RGB needs {}",
                    out.len(),
                    row * height as usize
                ),
            ));
        }
        if width > self.buffer.0 || height > self.buffer.1 {
            // Made again with the larger buffer: mjr_resizeOffscreen inside the shim's
            // guarded creation.
            let config = RenderConfig {
                width: width.max(self.buffer.0),
                height: height.max(self.buffer.1),
                ..self.config.clone()
            };
            let mut cam = ffi::Camera::default();
            // SAFETY: `scene` is live; `cam` is a local.
            unsafe { ffi::graft_mjr_get_camera(self.scene, &mut cam) };
            let bigger = Renderer::new(env, sim, &config, &CameraConfig::default())?;
            // SAFETY: `bigger.scene` is live; `cam` is a local.
            unsafe { ffi::graft_mjr_set_camera(bigger.scene, &cam) };
            *self = bigger;
        }
        let mut cam = ffi::Camera::default();
        // SAFETY: `scene` is live; `cam` is a local.
        unsafe { ffi::graft_mjr_get_camera(self.scene, &mut cam) };
        // MujocoRenderer.render passes camera_id on every frame.
        cam.kind = if self.camera_id == -1 { CAMERA_FREE } else { CAMERA_FIXED };
        cam.fixedcamid = self.camera_id;
        // SAFETY: as above.
        unsafe { ffi::graft_mjr_set_camera(self.scene, &cam) };
        self.pixels.resize(out.len(), 0);
        let current = self.gl.make_current().map_err(|m| fail("eglMakeCurrent", m))?;
        let (m, d) = (sim.model().as_ptr(), sim.raw());
        let (scene, pixels) = (self.scene, self.pixels.as_mut_ptr());
        // SAFETY: a GL context is current (`current`); model and data are alive and not
        // otherwise in use during the call (the caller holds the simulation borrowed);
        // mjv_updateScene writes only mjData's scratch stack; `pixels` has width*height*3
        // bytes, which the offscreen buffer covers (grown above).
        let result = ffi::call(|err, n| unsafe {
            ffi::graft_mjr_render(m, d, scene, width as c_int, height as c_int, pixels, err, n)
        });
        drop(current);
        result.map_err(|msg| fail("mjr_render", msg))?;
        // OpenGL reads bottom row first; Gymnasium flips with rgb_img[::-1, :].
        for (dst, src) in out.chunks_exact_mut(row).zip(self.pixels.chunks_exact(row).rev()) {
            dst.copy_from_slice(src);
        }
        Ok(())
    }
}

impl Drop for Renderer {
    fn drop(&mut self) {
        // MuJoCo's GL objects belong to the context: free them with it current. If it cannot
        // be made current (EGL failing at exit), the context's destruction frees them anyway.
        if let Ok(current) = self.gl.make_current() {
            // SAFETY: `scene` came from graft_mjr_create and is freed once, here.
            unsafe { ffi::graft_mjr_free(self.scene) };
            drop(current);
        }
    }
}

/// `MujocoRenderer.__init__`'s camera: `camera_id` as given; `camera_name` through
/// `mj_name2id`; neither: the free camera (-1; Gymnasium resolves a camera called `track`
/// but then uses the free camera so that `default_camera_config` takes effect). Unlike
/// Gymnasium, which renders from the free camera for a name the model lacks, an unknown
/// name or an id past the model's cameras is refused.
fn resolve_camera(env: &str, sim: &Data, config: &RenderConfig) -> Result<c_int, MujocoError> {
    let m = sim.model().as_ptr();
    // SAFETY: the model is alive; reads one field.
    let ncam = unsafe { ffi::graft_mj_ncam(m) };
    let fail =
        |message: String| MujocoError::Render { env: env.into(), call: "camera".into(), message };
    match (config.camera_id, &config.camera_name) {
        (Some(id), _) if id >= ncam => Err(fail(format!(
            "camera_id {id} is past the model's {ncam} cameras (-1 is the free camera)"
        ))),
        (Some(id), _) => Ok(id),
        (None, Some(name)) => {
            let c_name =
                CString::new(name.as_str()).map_err(|_| fail("camera_name has a NUL".into()))?;
            // SAFETY: the model is alive; the name is NUL-terminated.
            let id = unsafe { ffi::graft_mj_name2id(m, ffi::MJ_OBJ_CAMERA, c_name.as_ptr()) };
            if id < 0 {
                return Err(fail(format!("the model has no camera named {name:?}")));
            }
            Ok(id)
        }
        (None, None) => Ok(-1),
    }
}

/// numpy's `median`: the middle value, or the mean of the two middle values.
fn median(mut xs: Vec<f64>) -> f64 {
    if xs.is_empty() {
        return 0.0;
    }
    xs.sort_by(f64::total_cmp);
    let n = xs.len();
    if n % 2 == 1 {
        xs[n / 2]
    } else {
        (xs[n / 2 - 1] + xs[n / 2]) / 2.0
    }
}

#[cfg(test)]
mod tests {
    use super::median;
    use crate::mujoco::{ffi, render_config};

    #[test]
    fn visual_option_names_are_the_headers_flags() {
        // SAFETY: returns a compile-time constant; needs no library.
        let n = unsafe { ffi::graft_mjr_nvisflag() };
        assert_eq!(n as usize, render_config::vis_flag_count());
    }

    #[test]
    fn median_is_numpys() {
        assert_eq!(median(vec![3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(vec![4.0, 1.0, 2.0, 3.0]), 2.5);
        assert_eq!(median(vec![]), 0.0);
    }
}
