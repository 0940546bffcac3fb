//! Graft's API as Rhai static modules — `model`, `data`, `finetune`, `pretrain`, `rl`,
//! `report`, `env` — plus
//! the run-level functions `param(name, default)`, `seed()`, `run_dir()`, `threads()` and
//! `set_threads(n)` (libtorch's intra-op threads for the rest of the run). Heavy work
//! happens in Rust: a script call starts a whole collection, training run or evaluation,
//! never one sample. Config maps go through `rhai::serde::from_dynamic` into the same serde
//! structs JSON files use.

/// Register a module function that receives the call context, so any error it returns is
/// located at the script's call (Rhai does not position errors of module-qualified calls).
// The immediately called closure gives `?` inside `$body` a scope to return from.
macro_rules! api_fn {
    ($m:expr, $name:expr, |$($arg:ident : $ty:ty),*| -> $ret:ty $body:block) => {
        $m.set_native_fn(
            $name,
            move |ctx: rhai::NativeCallContext, $($arg: $ty),*| -> $ret {
                #[allow(clippy::redundant_closure_call)]
                $crate::script::api::located(&ctx, (|| -> $ret { $body })())
            },
        )
    };
    ($m:expr, $name:expr, |$($arg:ident : $ty:ty),*| $body:expr) => {
        $m.set_native_fn($name, move |ctx: rhai::NativeCallContext, $($arg: $ty),*| {
            #[allow(clippy::redundant_closure_call)]
            $crate::script::api::located(&ctx, (|| $body)())
        })
    };
}

pub mod data;
pub mod env;
pub mod finetune;
pub mod model;
pub mod pretrain;
pub mod report;
pub mod rl;

use rhai::{Dynamic, Engine, EvalAltResult, Map};
use serde::de::DeserializeOwned;

use super::error::to_rhai;
use super::hooks::register_ctx;
use super::session::Session;
use crate::error::Error;

type RhaiResult<T> = std::result::Result<T, Box<EvalAltResult>>;

/// Register every API module and run-level function on `engine`.
pub fn register_all(engine: &mut Engine, session: &Session) {
    register_ctx(engine);
    register_params(engine, session);
    engine.register_static_module("model", model::module(session).into());
    engine.register_static_module("data", data::module(session).into());
    engine.register_static_module("finetune", finetune::module(session).into());
    engine.register_static_module("report", report::module(session).into());
    engine.register_static_module("env", env::module().into());
    engine.register_static_module("pretrain", pretrain::module(session).into());
    engine.register_static_module("rl", rl::module(session).into());
    model::register_types(engine);
    data::register_types(engine);
}

fn register_params(engine: &mut Engine, session: &Session) {
    let s = session.clone();
    engine.register_fn("param", move |name: &str, default: f64| -> RhaiResult<f64> {
        // config.json records parameters as JSON, which would write a NaN as `null`.
        if !default.is_finite() {
            return fail(format!(
                "param(\"{name}\", {default}): the default must be a finite number"
            ));
        }
        let v = s.param(name, serde_json::json!(default)).map_err(to_rhai)?;
        Ok(v.as_f64().unwrap_or(default))
    });
    let s = session.clone();
    engine.register_fn("param", move |name: &str, default: i64| -> RhaiResult<i64> {
        let v = s.param(name, serde_json::json!(default)).map_err(to_rhai)?;
        Ok(v.as_i64().unwrap_or(default))
    });
    let s = session.clone();
    engine.register_fn("param", move |name: &str, default: bool| -> RhaiResult<bool> {
        let v = s.param(name, serde_json::json!(default)).map_err(to_rhai)?;
        Ok(v.as_bool().unwrap_or(default))
    });
    let s = session.clone();
    engine.register_fn("param", move |name: &str, default: &str| -> RhaiResult<String> {
        let v = s.param(name, serde_json::json!(default)).map_err(to_rhai)?;
        Ok(v.as_str().unwrap_or(default).to_string())
    });
    let s = session.clone();
    engine.register_fn("seed", move || s.seed() as i64);
    let s = session.clone();
    engine.register_fn("run_dir", move || s.run_dir().display().to_string());
    // Small networks gain little from intra-op threads, and OpenMP threads that spin-wait
    // on a busy machine can make a step many times slower: a script may choose.
    engine.register_fn("set_threads", |n: i64| -> RhaiResult<i64> {
        if !(1..=1024).contains(&n) {
            return fail(format!("set_threads({n}): the thread count must be between 1 and 1024"));
        }
        crate::device::set_threads(Some(n as usize), false).map(|t| t as i64).map_err(to_rhai)
    });
    engine.register_fn("threads", || tch::get_num_threads() as i64);
}

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
