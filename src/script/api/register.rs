//! Registering the API on an engine: every static module (`model`, `data`, …) and the
//! run-level functions `param`, `seed`, `run_dir`, `threads` and `set_threads`.

use rhai::Engine;

use super::{data, env, fail, finetune, model, pretrain, report, rl, RhaiResult};
use crate::script::error::to_rhai;
use crate::script::hooks::register_ctx;
use crate::script::session::Session;

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
