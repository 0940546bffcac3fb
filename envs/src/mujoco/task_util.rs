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
