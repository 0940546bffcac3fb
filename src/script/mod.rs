//! Rhai experiment scripts: the sandboxed engine ([`build_engine`]), the run session (run
//! directory, log, parameters), schedule hooks ([`hooks`]), the API modules ([`api`]) and
//! [`run_script`], which `graft run` calls.
//!
//! A run directory holds `config.json` (script, seed, device, every parameter read with its
//! value, the `--set` overrides), a copy of the script, `run.log` (script `print`/`debug`
//! output and progress), `metrics.csv` + TensorBoard events, `checkpoint.safetensors`, and whatever the
//! script writes through `model::save`, `data::collect` and `report::`.
//!
//! **How a run ends.** A script that runs to its end, or calls `exit()` / `exit(0)`, ends the
//! run normally ("run finished", `graft run` exits 0). `exit(n)` with `n` in 1..=255 ends it
//! with that code: [`RunOutcome::exit`] holds it, and `graft run` exits with status `n` after
//! saying `script exited with code n: exit(n) at file:line:col`. Inside a training hook,
//! `exit(0)` means "stop training now, successfully" (the loop winds down as after
//! `ctx.stop()`, then the script ends), and `exit(n > 0)` aborts training and ends the run with
//! status `n`, naming the hook and the step. Errors (syntax, runtime, `throw`, a sandbox limit)
//! end the run with [`Error::Script`], located, with the script call stack; `graft run` then
//! exits with status 1. See [`exit`] for the details. The user guides are `docs/scripts.md` and
//! `docs/finetuning.md` in the repository.
//!
//! **From Rust.** [`run_script`] is `graft run`: a script file, `--set` overrides, a run
//! directory. To evaluate a script held in a string, build the engine on a [`Session`]; it is
//! the same sandboxed engine with the same API modules, and `print` goes to the run log.
//!
//! ```
//! use std::collections::BTreeMap;
//! use graft::script::{
//!     build_engine, parse_overrides, run_script, RunOptions, ScriptLimits, Session,
//!     SessionOptions,
//! };
//! use tch::Device;
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let dir = std::env::temp_dir().join(format!("graft-doc-script-{}", std::process::id()));
//! # let _ = std::fs::remove_dir_all(&dir);
//! std::fs::create_dir_all(&dir)?;
//!
//! // A script in a string, on a session of its own (run directory `dir/inline`).
//! let session = Session::create(SessionOptions {
//!     script: dir.join("inline.rhai"), // its folder is where `import` looks
//!     run_dir: dir.join("inline"),
//!     overrides: BTreeMap::from([("width".to_string(), "32".to_string())]),
//!     seed: 7,
//!     device: Device::Cpu,
//!     echo: false,
//! })?;
//! let engine = build_engine(&ScriptLimits::default(), &session);
//! let groups: rhai::Array = engine.eval(
//!     r#"
//!     let m = model::build(#{kind: "mlp", input_dim: 4, hidden: [param("width", 64), 64]});
//!     print(`${m.num_params} parameters, seed ${seed()}`);
//!     m.groups
//!     "#,
//! )?;
//! assert_eq!(groups.len(), 2); // one layer group per hidden layer
//! session.flush()?;
//! let log = std::fs::read_to_string(dir.join("inline/run.log"))?;
//! assert!(log.contains("2272 parameters, seed 7")); // 4·32 + 32 + 32·64 + 64
//!
//! // A script file, as `graft run tiny.rhai --set epochs=7` runs it.
//! let script = dir.join("tiny.rhai");
//! std::fs::write(
//!     &script,
//!     r#"
//!     let epochs = param("epochs", 3);
//!     report::json("result.json", #{epochs: epochs});
//!     if epochs > 5 { exit(3); }
//!     "#,
//! )?;
//! let outcome = run_script(&RunOptions {
//!     script,
//!     out: Some(dir.join("run")),
//!     overrides: parse_overrides(&["epochs=7".to_string()])?,
//!     seed: 1,
//!     device: Device::Cpu,
//!     limits: ScriptLimits::default(),
//!     echo: false,
//! })?;
//! assert_eq!(outcome.exit_code(), 3); // `graft run` would exit with status 3
//! let result = std::fs::read_to_string(outcome.run_dir.join("result.json"))?;
//! assert!(result.contains("7"));
//! assert!(outcome.run_dir.join("config.json").exists()); // seed, parameters, overrides
//! # std::fs::remove_dir_all(&dir)?;
//! # Ok(())
//! # }
//! ```
//!
//! [`Error::Script`]: crate::error::Error::Script

pub mod api;
pub mod engine;
pub mod error;
pub mod exit;
pub mod hooks;
mod overrides;
pub mod resolver;
mod run;
pub mod session;

pub use engine::{build_engine, ScriptLimits};
pub use error::script_error;
pub use exit::ScriptExit;
pub use hooks::{HookCtx, HookFns, RhaiHooks};
pub use overrides::{declared_params, parse_overrides};
pub use run::{default_run_dir, run_script, RunOptions, RunOutcome};
pub use session::{Session, SessionOptions};
