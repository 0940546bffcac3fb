//! Rhai experiment scripts: the sandboxed engine ([`build_engine`]), the run session (run
//! directory, log, parameters), schedule hooks ([`hooks`]), the API modules ([`api`]) and
//! [`run_script`], which `graft run` calls.
//!
//! A run directory holds `config.json` (script, seed, device, every parameter read with its
//! value, the `--set` overrides), a copy of the script, `run.log` (script `print`/`debug`
//! output and progress), `metrics.csv` + TensorBoard events, `checkpoints/`, and whatever the
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

pub mod api;
pub mod engine;
pub mod error;
pub mod exit;
pub mod hooks;
pub mod resolver;
pub mod session;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

pub use engine::{build_engine, ScriptLimits};
pub use error::script_error;
pub use exit::ScriptExit;
pub use hooks::{HookCtx, HookFns, RhaiHooks};
pub use session::{Session, SessionOptions};

use crate::error::{Error, Result};

/// What `graft run` was asked to do.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// The script.
    pub script: PathBuf,
    /// The run directory; default `runs/<script stem>-<UTC timestamp>`.
    pub out: Option<PathBuf>,
    /// `--set key=value` overrides.
    pub overrides: BTreeMap<String, String>,
    /// Master seed.
    pub seed: u64,
    /// Device for models.
    pub device: tch::Device,
    /// Sandbox limits.
    pub limits: ScriptLimits,
    /// Echo the log to stderr.
    pub echo: bool,
}

/// What a finished run leaves.
#[derive(Debug, Clone)]
pub struct RunOutcome {
    /// The run directory.
    pub run_dir: PathBuf,
    /// `--set` keys the script never read (a warning was logged).
    pub unused_overrides: Vec<String>,
    /// The script's `exit(code)`, if it ended through one (`None`: it ran to its end).
    pub exit: Option<ScriptExit>,
}

impl RunOutcome {
    /// The process exit code the run asks for: the script's `exit(code)`, else 0.
    pub fn exit_code(&self) -> u8 {
        self.exit.as_ref().map_or(0, |e| e.code)
    }
}

/// Parse `key=value` pairs; keys must be identifiers and appear once.
pub fn parse_overrides(pairs: &[String]) -> Result<BTreeMap<String, String>> {
    let mut out = BTreeMap::new();
    for pair in pairs {
        let Some((k, v)) = pair.split_once('=') else {
            return Err(Error::Invalid(format!("--set '{pair}': expected key=value")));
        };
        let k = k.trim();
        if k.is_empty() || !k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.') {
            return Err(Error::Invalid(format!(
                "--set '{pair}': the key must be a parameter name (letters, digits, _ and .)"
            )));
        }
        if out.insert(k.to_string(), v.to_string()).is_some() {
            return Err(Error::Invalid(format!("--set {k} is given twice")));
        }
    }
    Ok(out)
}

/// Parameter names the script text passes to `param("…", …)` literally.
pub fn declared_params(source: &str) -> Vec<String> {
    let mut names = Vec::new();
    let mut rest = source;
    while let Some(i) = rest.find("param(") {
        rest = &rest[i + 6..];
        let trimmed = rest.trim_start();
        if let Some(body) = trimmed.strip_prefix('"') {
            if let Some(end) = body.find('"') {
                let name = body[..end].to_string();
                if !names.contains(&name) {
                    names.push(name);
                }
            }
        }
    }
    names
}

/// Run a script: check overrides, create the run directory, compile, evaluate.
///
/// `--set` keys are checked twice: before running, a key the script text never passes to
/// `param("key", …)` is an error (almost always a typo, and failing before any work is
/// cheap); after the run, a key that was declared but never read (a branch not taken) is a
/// warning in the log and on stderr, and is returned in [`RunOutcome::unused_overrides`].
pub fn run_script(options: &RunOptions) -> Result<RunOutcome> {
    options.limits.validate()?;
    let source = crate::inputs::read_text(&options.script, "script")?;
    let declared = declared_params(&source);
    for key in options.overrides.keys() {
        if !declared.contains(key) {
            return Err(Error::Invalid(format!(
                "--set {key}: {} never reads a parameter '{key}'; its parameters are: {}",
                options.script.display(),
                if declared.is_empty() { "(none)".to_string() } else { declared.join(", ") }
            )));
        }
    }
    let run_dir = match &options.out {
        Some(dir) => {
            // Under `graft run --nproc N` rank 0 may already have written it; it checks.
            if dir.join(session::RUN_CONFIG).exists() && crate::distributed::world::is_writer() {
                return Err(Error::Invalid(format!(
                    "--out {}: the directory already holds a run; choose a new one",
                    dir.display()
                )));
            }
            dir.clone()
        }
        None if crate::distributed::world::from_env()?.is_some() => {
            return Err(Error::Invalid(
                "a multi-process run needs --out so every rank uses the same run directory \
                 (`graft run --nproc N` passes one)"
                    .into(),
            ))
        }
        None => default_run_dir(&options.script),
    };
    let session = Session::create(SessionOptions {
        script: options.script.clone(),
        run_dir: run_dir.clone(),
        overrides: options.overrides.clone(),
        seed: options.seed,
        device: options.device,
        echo: options.echo,
    })?;
    let file_name = options.script.file_name().map_or("script.rhai".into(), |n| n.to_owned());
    if session.is_writer() {
        let copy = run_dir.join(&file_name);
        std::fs::write(&copy, &source).map_err(|e| Error::io(&copy, e))?;
    }
    session.log_line(&format!("graft run {} -> {}", options.script.display(), run_dir.display()));

    let shown = options.script.display().to_string();
    let engine = build_engine(&options.limits, &session);
    let result = engine
        .compile(&source)
        .map_err(Box::<rhai::EvalAltResult>::from)
        .and_then(|mut ast| {
            ast.set_source(shown.as_str());
            engine.run_ast(&ast)
        })
        .map_err(|e| script_error(&e, &shown));
    if let Err(e) = result {
        session.log_line(&format!("error: {e}"));
        let _ = session.flush();
        return Err(e);
    }
    // Rhai's `run_ast` ends an `exit` normally; Graft's `exit` recorded it in the session.
    let exit = session.take_exit();
    let unused = session.unused_overrides();
    if !unused.is_empty() {
        session.log_line(&format!(
            "warning: --set {} never read by this run (the branch that reads it did not run)",
            unused.join(", ")
        ));
    }
    match &exit {
        Some(e) if e.code != 0 => {
            session.log_line(&format!("script exited with code {}: {e}", e.code));
        }
        Some(e) => session.log_line(&format!("script ended by {e}; run finished")),
        None => session.log_line("run finished"),
    }
    session.flush()?;
    Ok(RunOutcome { run_dir, unused_overrides: unused, exit })
}

/// `runs/<stem>-<YYYYmmdd-HHMMSS>` (UTC), with `-2`, `-3`, … if taken.
pub fn default_run_dir(script: &Path) -> PathBuf {
    let stem = script.file_stem().map_or("run".into(), |s| s.to_string_lossy().into_owned());
    let secs = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let base = format!("{stem}-{}", utc_stamp(secs));
    let mut dir = PathBuf::from("runs").join(&base);
    let mut n = 2;
    while dir.exists() {
        dir = PathBuf::from("runs").join(format!("{base}-{n}"));
        n += 1;
    }
    dir
}

/// `YYYYmmdd-HHMMSS` of a Unix time, UTC (Hinnant's civil-from-days).
fn utc_stamp(secs: u64) -> String {
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}{m:02}{d:02}-{:02}{:02}{:02}", rem / 3600, rem % 3600 / 60, rem % 60)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stamps_are_utc_dates() {
        assert_eq!(utc_stamp(0), "19700101-000000");
        // 2024-02-29 12:34:56 UTC (a leap day).
        assert_eq!(utc_stamp(1_709_210_096), "20240229-123456");
    }

    #[test]
    fn overrides_and_declared_params() {
        let o = parse_overrides(&["lr=0.1".into(), "epochs=3".into()]).unwrap();
        assert_eq!(o["lr"], "0.1");
        assert!(parse_overrides(&["lr".into()]).is_err());
        assert!(parse_overrides(&["lr=1".into(), "lr=2".into()]).is_err());
        assert!(parse_overrides(&["a b=1".into()]).is_err());
        let src = "let lr = param(\"lr\", 1e-3);\nlet e = param( \"epochs\", 3);";
        assert_eq!(declared_params(src), vec!["lr", "epochs"]);
    }
}
