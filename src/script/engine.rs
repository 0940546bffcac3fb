//! The one Rhai engine Graft uses, for the binary and the tests alike: sandboxed (operation
//! budget, call depth, expression depth, string/array/map sizes, a module resolver that only
//! reads the script's own folder and the schedule library), `print`/`debug` routed to the run
//! log, and Graft's API registered as static modules (`model`, `data`, `finetune`, `report`,
//! `env`) plus the run-level functions `param`, `seed` and `run_dir`, and Graft's `exit`,
//! which replaces Rhai's so that `exit(n)` becomes the run's exit code ([`super::exit`]).
//!
//! Rhai itself has no filesystem or process access; scripts reach files only through the
//! API (datasets and checkpoints to read, and the run directory to write).

use serde::{Deserialize, Serialize};

use super::api;
use super::exit::register_exit;
use super::resolver::SandboxResolver;
use super::session::Session;
use crate::error::{Error, Result};

/// Resource limits of a script. Exceeding one stops the script with a located error.
///
/// Rhai reads 0 as "no limit" for the operations, expression depths and sizes; Graft refuses
/// 0 there ([`ScriptLimits::validate`]) so that a limit is never lifted by accident.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ScriptLimits {
    /// Rhai operations per run (hooks included); an infinite loop ends here.
    pub max_operations: u64,
    /// Nested function calls.
    pub max_call_levels: usize,
    /// Nesting depth of expressions at the top level.
    pub max_expr_depth: usize,
    /// Nesting depth of expressions inside functions.
    pub max_fn_expr_depth: usize,
    /// Characters in one string.
    pub max_string_size: usize,
    /// Elements in one array.
    pub max_array_size: usize,
    /// Entries in one object map.
    pub max_map_size: usize,
    /// Modules imported.
    pub max_modules: usize,
}

impl Default for ScriptLimits {
    fn default() -> Self {
        ScriptLimits {
            // A few seconds of pure script work: far above what orchestration and hooks need
            // (hooks run per epoch or every N steps, never per sample).
            max_operations: 50_000_000,
            max_call_levels: 64,
            max_expr_depth: 64,
            max_fn_expr_depth: 32,
            max_string_size: 1 << 20,
            max_array_size: 100_000,
            max_map_size: 10_000,
            max_modules: 64,
        }
    }
}

impl ScriptLimits {
    /// Refuse a limit of 0 where Rhai would read it as "unlimited" (operations, expression
    /// depths, string/array/map sizes). `max_call_levels` and `max_modules` may be 0 (no
    /// function calls, no imports).
    pub fn validate(&self) -> Result<()> {
        let unlimited_at_zero = [
            ("max_operations (--max-operations)", self.max_operations),
            ("max_expr_depth", self.max_expr_depth as u64),
            ("max_fn_expr_depth", self.max_fn_expr_depth as u64),
            ("max_string_size", self.max_string_size as u64),
            ("max_array_size", self.max_array_size as u64),
            ("max_map_size", self.max_map_size as u64),
        ];
        match unlimited_at_zero.iter().find(|(_, v)| *v == 0) {
            Some((name, _)) => Err(Error::Invalid(format!(
                "script limit {name} must be at least 1, got 0 (Rhai would read 0 as no limit)"
            ))),
            None => Ok(()),
        }
    }
}

/// Build the engine for `session`: limits, sandboxed imports, logging, and Graft's API.
///
/// `limits` should have passed [`ScriptLimits::validate`] ([`super::run_script`] checks them);
/// a 0 here would lift that limit, as in Rhai.
pub fn build_engine(limits: &ScriptLimits, session: &Session) -> rhai::Engine {
    let mut engine = rhai::Engine::new();
    engine
        .set_max_operations(limits.max_operations)
        .set_max_call_levels(limits.max_call_levels)
        .set_max_expr_depths(limits.max_expr_depth, limits.max_fn_expr_depth)
        .set_max_string_size(limits.max_string_size)
        .set_max_array_size(limits.max_array_size)
        .set_max_map_size(limits.max_map_size)
        .set_max_modules(limits.max_modules);
    // `eval` would compile text at run time outside the import sandbox's view; scripts have
    // no need for it.
    engine.disable_symbol("eval");
    engine.set_module_resolver(SandboxResolver::new(session.import_roots()));

    let log = session.clone();
    engine.on_print(move |text| log.log_line(text));
    let log = session.clone();
    engine.on_debug(move |text, source, pos| {
        let at = match source {
            Some(src) if !pos.is_none() => {
                format!("{src}:{}:{}", pos.line().unwrap_or(0), pos.position().unwrap_or(0))
            }
            _ if !pos.is_none() => {
                format!("{}:{}", pos.line().unwrap_or(0), pos.position().unwrap_or(0))
            }
            _ => String::new(),
        };
        log.log_line(&format!("[debug {at}] {text}"));
    });

    register_exit(&mut engine, session);
    api::register_all(&mut engine, session);
    engine
}
