//! A compiled MuJoCo model (`mjModel`), loaded from an MJCF file or from XML text.
//!
//! A shared [`Model`] is read-only once loaded, so one model can back many
//! [`Data`](super::Data) (a vector of environments shares it through an `Arc`). A model held
//! by one owner may be written through `&mut` (the DeepMind Control Suite's tasks move targets
//! and recolour sites per episode, as dm_control writes its `physics.model`).

use std::ffi::{c_int, CString};
use std::path::Path;
use std::ptr::NonNull;

use crate::mujoco::error::MujocoError;
use crate::mujoco::{ffi, library};

/// An `mjModel`, owned; freed with `mj_deleteModel` on drop.
#[derive(Debug)]
pub struct Model {
    // Valid from a successful mj_loadXML until Drop; written only through `&mut self`.
    ptr: NonNull<ffi::MjModel>,
    file: String,
    nq: usize,
    nv: usize,
    nu: usize,
    na: usize,
    nbody: usize,
}

// SAFETY: MuJoCo never writes an mjModel during simulation (every function takes it as
// `const mjModel*`), and Graft writes it only through `&mut Model` (exclusive access), so a
// shared `&Model` may be read from several threads and a model moved between them.
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
        Model::load(file, &[])
    }

    /// Compile MJCF text. `name` stands for the file in messages (and in MuJoCo's virtual file
    /// system); the text cannot refer to other files.
    pub fn from_xml_str(name: &str, xml: &str) -> Result<Model, MujocoError> {
        Model::load(name.to_string(), &[(name, xml)])
    }

    /// Compile the MJCF text `files[i].1` named `main` among in-memory files: its
    /// `<include file="...">` elements name the others (e.g. `./common/visual.xml`).
    pub fn from_xml_files(main: &str, files: &[(&str, &str)]) -> Result<Model, MujocoError> {
        if !files.iter().any(|(name, _)| *name == main) {
            return Err(MujocoError::XmlNotFound {
                path: main.to_string(),
                hint: " (not among the files given)".into(),
            });
        }
        Model::load(main.to_string(), files)
    }

    /// Compile `file` from disk (`files` empty) or from the in-memory `files`.
    fn load(file: String, files: &[(&str, &str)]) -> Result<Model, MujocoError> {
        library::ensure_loaded()?;
        let invalid = |message: String| MujocoError::XmlInvalid { file: file.clone(), message };
        let c_name =
            CString::new(file.clone()).map_err(|_| invalid("name contains a NUL".into()))?;
        let mut names = Vec::with_capacity(files.len());
        let mut lens = Vec::with_capacity(files.len());
        for (name, text) in files {
            names.push(CString::new(*name).map_err(|_| invalid(format!("{name:?} has a NUL")))?);
            lens.push(c_int::try_from(text.len()).map_err(|_| invalid("XML too long".into()))?);
        }
        let name_ptrs: Vec<_> = names.iter().map(|n| n.as_ptr()).collect();
        let text_ptrs: Vec<*const std::ffi::c_char> =
            files.iter().map(|(_, text)| text.as_ptr().cast()).collect();
        let nfiles = c_int::try_from(files.len()).map_err(|_| invalid("too many files".into()))?;
        let mut err = ffi::message_buffer();
        // SAFETY: `c_name` and every name are NUL-terminated; `text_ptrs[i]` points to `lens[i]`
        // bytes; all are alive for the call, and MuJoCo copies the texts into its VFS and frees
        // that before the call returns. `err` is MESSAGE_LEN long, as passed.
        let ptr = unsafe {
            ffi::graft_mj_load_xml(
                c_name.as_ptr(),
                nfiles,
                name_ptrs.as_ptr(),
                text_ptrs.as_ptr(),
                lens.as_ptr(),
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

    /// Where mjModel's array `name` lies: address, element count, columns and element kind.
    fn raw_array(&self, name: &str) -> Option<(*const std::ffi::c_void, usize, usize, c_int)> {
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
        (found == 0).then_some((ptr, (rows * cols) as usize, cols as usize, kind))
    }

    /// The array `name` as a slice of `T` (whose shim kind is `want`), with its column count.
    fn typed_array<T>(&self, name: &str, want: c_int) -> Option<(&[T], usize)> {
        let (ptr, len, cols, kind) = self.raw_array(name)?;
        if kind != want {
            return None;
        }
        if len == 0 || ptr.is_null() {
            return Some((&[], cols));
        }
        // SAFETY: mj_loadXML allocated `len` elements of this kind at `ptr` inside the model's
        // buffer; they live as long as the model, and writes need `&mut self`.
        Some((unsafe { std::slice::from_raw_parts(ptr.cast::<T>(), len) }, cols))
    }

    /// The array `name` as a writable slice of `T` (shim kind `want`), with its column count.
    fn typed_array_mut<T>(&mut self, name: &str, want: c_int) -> Option<(&mut [T], usize)> {
        let (ptr, len, cols, kind) = self.raw_array(name)?;
        if kind != want {
            return None;
        }
        if len == 0 || ptr.is_null() {
            return Some((&mut [], cols));
        }
        // SAFETY: as `typed_array`; `&mut self` makes this the only access to the model.
        Some((unsafe { std::slice::from_raw_parts_mut(ptr.cast_mut().cast::<T>(), len) }, cols))
    }

    /// A `mjtNum` array of mjModel by name (e.g. `"actuator_ctrlrange"`, `"qpos0"`,
    /// `"body_mass"`), row-major, with its column count; `None` for an unknown name or one that
    /// is not `mjtNum`.
    pub fn array(&self, name: &str) -> Option<(&[f64], usize)> {
        self.typed_array(name, ffi::KIND_F64)
    }

    /// A `mjtNum` array of mjModel by name, writable (see the module docs).
    pub fn array_mut(&mut self, name: &str) -> Option<(&mut [f64], usize)> {
        self.typed_array_mut(name, ffi::KIND_F64)
    }

    /// An `int` array of mjModel by name (e.g. `"jnt_type"`, `"sensor_adr"`), with its column
    /// count; `None` for an unknown name or one that is not `int`.
    pub fn array_i32(&self, name: &str) -> Option<(&[i32], usize)> {
        self.typed_array(name, ffi::KIND_I32)
    }

    /// An `mjtByte` array of mjModel by name (e.g. `"jnt_limited"`), with its column count;
    /// `None` for an unknown name or one that is not `mjtByte`.
    pub fn array_u8(&self, name: &str) -> Option<(&[u8], usize)> {
        self.typed_array(name, ffi::KIND_U8)
    }

    /// A `float` array of mjModel by name (e.g. `"site_rgba"`, `"mat_rgba"`), with its column
    /// count; `None` for an unknown name or one that is not `float`.
    pub fn array_f32(&self, name: &str) -> Option<(&[f32], usize)> {
        self.typed_array(name, ffi::KIND_F32)
    }

    /// A `float` array of mjModel by name, writable (see the module docs).
    pub fn array_f32_mut(&mut self, name: &str) -> Option<(&mut [f32], usize)> {
        self.typed_array_mut(name, ffi::KIND_F32)
    }

    /// The value of one of MuJoCo's enum constants by name (`"mjOBJ_GEOM"`, `"mjJNT_HINGE"`,
    /// `"mjSENS_GYRO"`, ...; the table in `shim.c`), or `None` for a name the table lacks.
    pub fn lookup_enum(name: &str) -> Option<i32> {
        let c_name = CString::new(name).ok()?;
        // SAFETY: pure lookup in a static table; the name is NUL-terminated.
        let value = unsafe { ffi::graft_mj_enum(c_name.as_ptr()) };
        (value >= 0).then_some(value)
    }

    /// [`Model::lookup_enum`] for the constants Graft's own code names.
    ///
    /// # Panics
    /// On a name the table lacks: a bug in Graft, not something input can reach.
    pub(crate) fn enum_value(name: &str) -> i32 {
        Model::lookup_enum(name).unwrap_or_else(|| panic!("shim.c's enum table lacks {name}"))
    }

    /// The id of the object of kind `kind` (`"mjOBJ_BODY"`, `"mjOBJ_GEOM"`, ...) called `name`,
    /// as `mj_name2id`; `None` for no such object or an unknown kind.
    pub fn id(&self, kind: &str, name: &str) -> Option<usize> {
        let c_name = CString::new(name).ok()?;
        let obj = Model::lookup_enum(kind)?;
        // SAFETY: the model is valid; the name is NUL-terminated and alive for the call.
        let id = unsafe { ffi::graft_mj_name2id(self.as_ptr(), obj, c_name.as_ptr()) };
        usize::try_from(id).ok()
    }

    /// The name of object `id` of kind `kind`, as `mj_id2name` (`None` when it has none or
    /// the kind is unknown).
    pub fn name(&self, kind: &str, id: usize) -> Option<String> {
        let obj = Model::lookup_enum(kind)?;
        let id = c_int::try_from(id).ok()?;
        // SAFETY: the model is valid; mj_id2name returns NULL or a NUL-terminated string
        // inside the model's names buffer, copied here before the borrow ends.
        let ptr = unsafe { ffi::graft_mj_id2name(self.as_ptr(), obj, id) };
        if ptr.is_null() {
            return None;
        }
        // SAFETY: non-null and NUL-terminated, as above.
        Some(unsafe { std::ffi::CStr::from_ptr(ptr) }.to_string_lossy().into_owned())
    }

    /// The id of the body called `name`, as `mj_name2id(m, mjOBJ_BODY, name)`.
    pub fn body_id(&self, name: &str) -> Option<usize> {
        let c_name = CString::new(name).ok()?;
        // SAFETY: the model is valid; the name is NUL-terminated and alive for the call.
        let id = unsafe { ffi::graft_mj_name2id(self.as_ptr(), ffi::MJ_OBJ_BODY, c_name.as_ptr()) };
        usize::try_from(id).ok()
    }

    /// One of the model's integer visual settings (`"shadowsize"`, `"offsamples"`,
    /// `"offwidth"`, `"offheight"`): read, and written when `value` is given. A renderer
    /// made afterwards uses them. `None` for another name.
    pub fn visual_int(&mut self, name: &str, value: Option<i32>) -> Option<i32> {
        let c_name = CString::new(name).ok()?;
        let mut out: c_int = 0;
        let value_ptr = value.as_ref().map_or(std::ptr::null(), |v| v as *const c_int);
        // SAFETY: the model is valid and held exclusively (`&mut self`); the name is
        // NUL-terminated; `value_ptr` is null or points to a local int, `out` is a local.
        let rc = unsafe {
            ffi::graft_mj_visual_int(self.as_mut_ptr(), c_name.as_ptr(), value_ptr, &mut out)
        };
        (rc == 0).then_some(out)
    }

    /// Raw pointer for the shim calls that write the model; valid while `self` lives.
    pub(crate) fn as_mut_ptr(&mut self) -> *mut ffi::MjModel {
        self.ptr.as_ptr()
    }
}

impl Drop for Model {
    fn drop(&mut self) {
        // SAFETY: the pointer came from mj_loadXML and is freed once, here. Every Data holds an
        // Arc<Model>, so no mjData outlives it.
        unsafe { ffi::graft_mj_delete_model(self.ptr.as_ptr()) }
    }
}
