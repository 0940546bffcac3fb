//! A compiled MuJoCo model (`mjModel`), loaded from an MJCF file or from XML text.
//!
//! A [`Model`] is read-only once loaded, so one model can back many [`Data`](super::Data)
//! (a vector of environments shares it through an `Arc`).

use std::ffi::{c_int, CString};
use std::path::Path;
use std::ptr::NonNull;

use crate::mujoco::error::MujocoError;
use crate::mujoco::{ffi, library};

/// An `mjModel`, owned; freed with `mj_deleteModel` on drop.
#[derive(Debug)]
pub struct Model {
    // Valid from a successful mj_loadXML until Drop; never written through.
    ptr: NonNull<ffi::MjModel>,
    file: String,
    nq: usize,
    nv: usize,
    nu: usize,
    na: usize,
    nbody: usize,
}

// SAFETY: MuJoCo never writes an mjModel during simulation (every function takes it as
// `const mjModel*`), and Graft never writes it after loading, so it may be read from several
// threads and moved between them.
unsafe impl Send for Model {}
unsafe impl Sync for Model {}

impl Model {
    /// Load and compile the MJCF file at `path` (MuJoCo resolves its includes and meshes
    /// relative to it). A missing file gives [`MujocoError::XmlNotFound`], a file MuJoCo
    /// refuses [`MujocoError::XmlInvalid`] with MuJoCo's message.
    pub fn from_file(path: &Path) -> Result<Model, MujocoError> {
        let file = path.display().to_string();
        if !path.is_file() {
            return Err(MujocoError::XmlNotFound { path: file, hint: String::new() });
        }
        Model::load(file, None)
    }

    /// Compile MJCF text. `name` stands for the file in messages (and in MuJoCo's virtual file
    /// system); the text cannot refer to other files.
    pub fn from_xml_str(name: &str, xml: &str) -> Result<Model, MujocoError> {
        Model::load(name.to_string(), Some(xml))
    }

    fn load(file: String, xml: Option<&str>) -> Result<Model, MujocoError> {
        library::ensure_loaded()?;
        let invalid = |message: String| MujocoError::XmlInvalid { file: file.clone(), message };
        let c_name =
            CString::new(file.clone()).map_err(|_| invalid("name contains a NUL".into()))?;
        let (text, len) = match xml {
            Some(xml) => {
                let len = c_int::try_from(xml.len()).map_err(|_| invalid("XML too long".into()))?;
                (xml.as_ptr().cast(), len)
            }
            None => (std::ptr::null(), 0),
        };
        let mut err = ffi::message_buffer();
        // SAFETY: `c_name` is NUL-terminated and `text` points to `len` bytes (or is null with
        // len 0), both alive for the call; MuJoCo copies the text into its VFS and frees that
        // before the call returns. `err` is MESSAGE_LEN long, as passed.
        let ptr = unsafe {
            ffi::graft_mj_load_xml(
                c_name.as_ptr(),
                text,
                len,
                err.as_mut_ptr(),
                ffi::MESSAGE_LEN as c_int,
            )
        };
        let ptr = NonNull::new(ptr).ok_or_else(|| invalid(ffi::message(&err)))?;
        let mut model = Model { ptr, file, nq: 0, nv: 0, nu: 0, na: 0, nbody: 0 };
        model.nq = model.size("nq");
        model.nv = model.size("nv");
        model.nu = model.size("nu");
        model.na = model.size("na");
        model.nbody = model.size("nbody");
        Ok(model)
    }

    /// The file the model came from (or the name given to [`Model::from_xml_str`]).
    pub fn file(&self) -> &str {
        &self.file
    }

    /// Raw pointer for the shim; valid while `self` lives.
    pub(crate) fn as_ptr(&self) -> *const ffi::MjModel {
        self.ptr.as_ptr()
    }

    /// One of mjModel's sizes by name (`"nq"`, `"ngeom"`, …; MuJoCo's `MJMODEL_SIZES`).
    ///
    /// # Panics
    /// On a name that is not one of MuJoCo's sizes: names are written in Graft's code.
    pub fn size(&self, name: &str) -> usize {
        let c_name = CString::new(name).expect("size names have no NUL");
        let mut out = 0i64;
        // SAFETY: the model is valid (self); the name is NUL-terminated; `out` is a valid i64.
        let found = unsafe { ffi::graft_mj_model_size(self.as_ptr(), c_name.as_ptr(), &mut out) };
        assert!(found == 0, "mjModel has no size called {name}");
        out as usize
    }

    /// Number of generalised coordinates (`qpos` length).
    pub fn nq(&self) -> usize {
        self.nq
    }

    /// Number of degrees of freedom (`qvel` length).
    pub fn nv(&self) -> usize {
        self.nv
    }

    /// Number of actuators (`ctrl` length, the action length).
    pub fn nu(&self) -> usize {
        self.nu
    }

    /// Number of actuator activations (`act` length).
    pub fn na(&self) -> usize {
        self.na
    }

    /// Number of bodies, the world included.
    pub fn nbody(&self) -> usize {
        self.nbody
    }

    /// The simulation time step, `opt.timestep`.
    pub fn timestep(&self) -> f64 {
        // SAFETY: the model is valid (self); reads one double.
        unsafe { ffi::graft_mj_timestep(self.as_ptr()) }
    }

    /// A `mjtNum` array of mjModel by name (e.g. `"actuator_ctrlrange"`, `"qpos0"`,
    /// `"body_mass"`), row-major, with its column count; `None` for an unknown name or one that
    /// is not `mjtNum`.
    pub fn array(&self, name: &str) -> Option<(&[f64], usize)> {
        let c_name = CString::new(name).ok()?;
        let (mut ptr, mut rows, mut cols, mut kind) = (std::ptr::null(), 0i64, 0i64, 0 as c_int);
        // SAFETY: the model is valid; the name is NUL-terminated; the out-pointers are locals.
        let found = unsafe {
            ffi::graft_mj_model_array(
                self.as_ptr(),
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
        let len = (rows * cols) as usize;
        if len == 0 || ptr.is_null() {
            return Some((&[], cols as usize));
        }
        // SAFETY: mj_loadXML allocated `rows * cols` doubles at `ptr` inside the model's buffer;
        // they live as long as the model, and nothing writes them (see the Send/Sync note).
        let slice = unsafe { std::slice::from_raw_parts(ptr.cast::<f64>(), len) };
        Some((slice, cols as usize))
    }

    /// The id of the body called `name`, as `mj_name2id(m, mjOBJ_BODY, name)`.
    pub fn body_id(&self, name: &str) -> Option<usize> {
        let c_name = CString::new(name).ok()?;
        // SAFETY: the model is valid; the name is NUL-terminated and alive for the call.
        let id = unsafe { ffi::graft_mj_name2id(self.as_ptr(), ffi::MJ_OBJ_BODY, c_name.as_ptr()) };
        usize::try_from(id).ok()
    }
}

impl Drop for Model {
    fn drop(&mut self) {
        // SAFETY: the pointer came from mj_loadXML and is freed once, here. Every Data holds an
        // Arc<Model>, so no mjData outlives it.
        unsafe { ffi::graft_mj_delete_model(self.ptr.as_ptr()) }
    }
}
