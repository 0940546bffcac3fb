//! Gymnasium 1.4.0's MuJoCo models, embedded (see `assets/README.md` for their origin and
//! licence), and the resolution of an `xml_file` argument as Gymnasium's `expand_model_path`.

use std::path::PathBuf;
use std::sync::{Arc, Mutex, Weak};

use crate::mujoco::error::MujocoError;
use crate::mujoco::model::Model;

/// The files of `gymnasium/envs/mujoco/assets`, by name.
pub const BUNDLED: [(&str, &str); 14] = [
    ("ant.xml", include_str!("assets/ant.xml")),
    ("half_cheetah.xml", include_str!("assets/half_cheetah.xml")),
    ("hopper.xml", include_str!("assets/hopper.xml")),
    ("humanoid.xml", include_str!("assets/humanoid.xml")),
    ("humanoidstandup.xml", include_str!("assets/humanoidstandup.xml")),
    ("inverted_double_pendulum.xml", include_str!("assets/inverted_double_pendulum.xml")),
    ("inverted_pendulum.xml", include_str!("assets/inverted_pendulum.xml")),
    ("point.xml", include_str!("assets/point.xml")),
    ("pusher.xml", include_str!("assets/pusher.xml")),
    ("pusher_v5.xml", include_str!("assets/pusher_v5.xml")),
    ("reacher.xml", include_str!("assets/reacher.xml")),
    ("swimmer.xml", include_str!("assets/swimmer.xml")),
    ("walker2d.xml", include_str!("assets/walker2d.xml")),
    ("walker2d_v5.xml", include_str!("assets/walker2d_v5.xml")),
];

/// Where a model comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ModelSource {
    /// One of Gymnasium's models, by file name (e.g. `"hopper.xml"`).
    Bundled(&'static str),
    /// An MJCF file on disk.
    File(PathBuf),
}

impl ModelSource {
    /// Gymnasium's `expand_model_path`: a path starting with `.` or `/` is used as it is, one
    /// starting with `~` has the home folder expanded, anything else names one of Gymnasium's
    /// bundled models.
    pub fn from_xml_file(xml_file: &str) -> Result<ModelSource, MujocoError> {
        if xml_file.starts_with('.') || xml_file.starts_with('/') {
            return Ok(ModelSource::File(PathBuf::from(xml_file)));
        }
        if let Some(rest) = xml_file.strip_prefix('~') {
            let home = std::env::var_os("HOME").map(PathBuf::from).unwrap_or_default();
            let rest = rest.trim_start_matches('/');
            return Ok(ModelSource::File(home.join(rest)));
        }
        match BUNDLED.iter().find(|(name, _)| *name == xml_file) {
            Some((name, _)) => Ok(ModelSource::Bundled(name)),
            None => Err(MujocoError::XmlNotFound {
                path: xml_file.to_string(),
                hint: format!(
                    " (a bare name picks one of Gymnasium's models: {}; give a path starting \
                     with '.', '/' or '~' for a file of your own)",
                    BUNDLED.map(|(n, _)| n).join(", ")
                ),
            }),
        }
    }

    /// Load and compile the model.
    ///
    /// A bundled model is compiled once and shared while any environment holds it: the N
    /// copies of a vector env (or of any `make` calls alive together) step on one read-only
    /// `mjModel`, which saves N - 1 compilations and keeps one copy of the model in cache. A
    /// file is compiled on every call, since it may change on disk between calls.
    pub fn load(&self) -> Result<Arc<Model>, MujocoError> {
        match self {
            ModelSource::Bundled(name) => {
                let xml = BUNDLED.iter().find(|(n, _)| n == name).map(|(_, xml)| *xml);
                let xml = xml.ok_or_else(|| MujocoError::XmlNotFound {
                    path: name.to_string(),
                    hint: " (not a bundled model)".into(),
                })?;
                shared_bundled(name, xml)
            }
            ModelSource::File(path) => Ok(Arc::new(Model::from_file(path)?)),
        }
    }
}

/// Bundled models alive somewhere in the process, by name. `Weak`, so a model is freed with
/// the last environment that uses it.
static SHARED: Mutex<Vec<(&'static str, Weak<Model>)>> = Mutex::new(Vec::new());

/// The compiled bundled model `name`, shared with every live environment that uses it.
fn shared_bundled(name: &'static str, xml: &str) -> Result<Arc<Model>, MujocoError> {
    // A poisoned lock only means another thread panicked while holding it; the list is
    // still a valid list of weak pointers.
    let mut shared = SHARED.lock().unwrap_or_else(|e| e.into_inner());
    shared.retain(|(_, weak)| weak.strong_count() > 0);
    if let Some(model) = shared.iter().find(|(n, _)| *n == name).and_then(|(_, w)| w.upgrade()) {
        return Ok(model);
    }
    // Compiled under the lock: concurrent first `make`s of one id compile it once.
    let model = Arc::new(Model::from_xml_str(name, xml)?);
    shared.push((name, Arc::downgrade(&model)));
    Ok(model)
}
