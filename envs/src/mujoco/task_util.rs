//! Checks the environments share: a model given through `xml_file` must have the coordinates
//! the environment's code reads (Gymnasium would fail with an `IndexError` mid-step instead).

use crate::error::Result;
use crate::mujoco::error::MujocoError;
use crate::mujoco::model::Model;

/// Fail unless `model` has at least `min_nq` position and `min_nv` velocity coordinates.
pub(crate) fn require_model(env: &str, model: &Model, min_nq: usize, min_nv: usize) -> Result<()> {
    let (nq, nv) = (model.nq(), model.nv());
    if nq < min_nq || nv < min_nv {
        return Err(MujocoError::ModelMismatch {
            env: env.to_string(),
            file: model.file().to_string(),
            reason: format!(
                "needs at least {min_nq} position and {min_nv} velocity coordinates, has {nq} and \
                 {nv}"
            ),
        }
        .into());
    }
    Ok(())
}

/// The id of the body `name` in `model`, or an error naming it (Gymnasium reads such bodies by
/// name, e.g. Reacher's `fingertip`).
pub(crate) fn require_body(env: &str, model: &Model, name: &str) -> Result<usize> {
    model.body_id(name).ok_or_else(|| {
        MujocoError::ModelMismatch {
            env: env.to_string(),
            file: model.file().to_string(),
            reason: format!("has no body called {name:?}"),
        }
        .into()
    })
}

/// Fail unless `model` has at least `min` elements of the size `name` (`"nsite"`, …).
pub(crate) fn require_size(env: &str, model: &Model, name: &str, min: usize) -> Result<()> {
    let got = model.size(name);
    if got < min {
        return Err(MujocoError::ModelMismatch {
            env: env.to_string(),
            file: model.file().to_string(),
            reason: format!("needs {name} >= {min}, has {got}"),
        }
        .into());
    }
    Ok(())
}
