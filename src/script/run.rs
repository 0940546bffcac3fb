//! `graft run` from Rust: what it is asked ([`RunOptions`]), what a finished run leaves
//! ([`RunOutcome`]), [`run_script`] itself, and the default run directory.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use super::engine::{build_engine, ScriptLimits};
use super::error::script_error;
use super::exit::ScriptExit;
use super::overrides::declared_params;
use super::session::{self, Session, SessionOptions};
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

    // Whatever the script draws before a seeded stage (`model::build`'s initialisation, above
    // all) follows the master seed too: `--seed 0` and `--seed 1` build different networks.
    tch::manual_seed(crate::train::step_seed(options.seed, 0));
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
}
