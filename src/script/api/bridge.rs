//! Values and errors crossing between Rust and Rhai, shared by the API modules: Rhai maps
//! into serde structs and back, errors located at the script's call, runtime errors from
//! messages.

use rhai::{Dynamic, EvalAltResult, Map};
use serde::de::DeserializeOwned;

use crate::error::Error;
use crate::script::error::to_rhai;

pub(super) type RhaiResult<T> = std::result::Result<T, Box<EvalAltResult>>;

/// Deserialize a Rhai map into a serde struct; an error names `what` and the field
/// (`finetune config: field 'optimizer.lr': …`).
pub(crate) fn from_map<T: DeserializeOwned>(what: &str, map: Map) -> RhaiResult<T> {
    crate::config_error::from_dynamic(what, &Dynamic::from_map(map)).map_err(to_rhai)
}

/// Serialize a value into a Rhai value.
pub(crate) fn to_dyn<T: serde::Serialize>(value: &T) -> RhaiResult<Dynamic> {
    rhai::serde::to_dynamic(value)
}

/// Give `result`'s error the position of the script call in `ctx` if it has none.
pub(crate) fn located<T>(ctx: &rhai::NativeCallContext, result: RhaiResult<T>) -> RhaiResult<T> {
    result.map_err(|mut e| {
        if e.position().is_none() {
            e.set_position(ctx.call_position());
        }
        e
    })
}

/// A runtime error with `msg`.
pub(crate) fn fail<T>(msg: String) -> RhaiResult<T> {
    Err(to_rhai(Error::Invalid(msg)))
}
