//! A script run's state on the Rust side: its directory, the log that `print` writes to,
//! the parameters the script read (`param("lr", 3e-4)`) with their `--set` overrides, the
//! metrics logger, the master seed and the device. Shared (`Rc`) by the engine's callbacks
//! and the API modules; one session per run, on one thread.
//!
//! **Parameters.** `param(name, default)` returns the `--set name=value` override parsed
//! as the default's type (integer, float, bool or string) or the default itself, and records
//! both in `config.json` in the run directory, rewritten atomically each time a new name is
//! read, so even a run that fails early leaves its resolved configuration. An override of
//! the wrong type is an error naming the parameter, the expected type and the value.
//! Overrides the script never reads are reported by [`Session::unused_overrides`].
//!
//! **Ranks.** Under `graft run --nproc N` every rank runs the same script, and only rank 0
//! writes the run directory (log, `config.json`, metrics, the stages' outputs). The other
//! ranks write nothing there: the data-parallel stages (`pretrain::run`, `finetune::run`)
//! write on rank 0 only, and what the single-process stages would write (RL, collected data,
//! saved models, plots, `report::log`) goes to a private scratch folder of the rank, deleted
//! when the run ends, while reads still find rank 0's files in the run directory.

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};
use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::rc::Rc;

use serde_json::{json, Value};
use tch::Device;

use super::exit::ScriptExit;
use crate::error::{Error, Result};
use crate::report::MetricsLogger;

/// Name of the log file in a run directory.
pub const RUN_LOG: &str = "run.log";
/// Name of the resolved configuration in a run directory.
pub const RUN_CONFIG: &str = "config.json";

/// How a session starts.
#[derive(Debug, Clone)]
pub struct SessionOptions {
    /// The script being run (its folder is an import root).
    pub script: PathBuf,
    /// Run directory (created if missing).
    pub run_dir: PathBuf,
    /// `--set key=value` pairs.
    pub overrides: BTreeMap<String, String>,
    /// Master seed.
    pub seed: u64,
    /// Where models are built.
    pub device: Device,
    /// Echo log lines as `tracing` info events as well (the binary shows them on stderr).
    pub echo: bool,
}

struct State {
    options: SessionOptions,
    /// `None` on rank 0 (or alone); the private folder of another rank.
    scratch: Option<PathBuf>,
    log: Option<File>,
    params: BTreeMap<String, Value>,
    used: BTreeSet<String>,
    metrics: Metrics,
    report_step: u64,
    /// Set by the script's `exit(code)` (see [`super::exit`]).
    exit: Option<ScriptExit>,
}

/// The run's metrics logger: not yet opened, open, or lent to a training loop.
enum Metrics {
    Unopened,
    Open(MetricsLogger),
    Lent,
}

/// Shared handle on a run's state. Cloning shares it.
#[derive(Clone)]
pub struct Session(Rc<RefCell<State>>);

impl Session {
    /// Create the run directory and its log, and write the initial `config.json` — on rank 0
    /// of a multi-process job (or alone); another rank gets a reader's session (see the
    /// module docs).
    pub fn create(options: SessionOptions) -> Result<Session> {
        Self::create_for_rank(options, crate::distributed::world::rank())
    }

    /// [`Session::create`] as rank `rank` of a job.
    pub fn create_for_rank(options: SessionOptions, rank: usize) -> Result<Session> {
        let (log, scratch) = if rank == 0 {
            let dir = &options.run_dir;
            std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
            let log_path = dir.join(RUN_LOG);
            (Some(File::create(&log_path).map_err(|e| Error::io(&log_path, e))?), None)
        } else {
            let dir =
                std::env::temp_dir().join(format!("graft-run-rank{rank}-{}", std::process::id()));
            std::fs::create_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
            (None, Some(dir))
        };
        let session = Session(Rc::new(RefCell::new(State {
            options,
            scratch,
            log,
            params: BTreeMap::new(),
            used: BTreeSet::new(),
            metrics: Metrics::Unopened,
            report_step: 0,
            exit: None,
        })));
        session.write_config()?;
        Ok(session)
    }

    /// The run directory.
    pub fn run_dir(&self) -> PathBuf {
        self.0.borrow().options.run_dir.clone()
    }

    /// Whether this process writes the run directory (rank 0, or a process alone).
    pub fn is_writer(&self) -> bool {
        self.0.borrow().scratch.is_none()
    }

    /// Where this process writes: the run directory, or another rank's scratch folder.
    pub fn write_dir(&self) -> PathBuf {
        let st = self.0.borrow();
        st.scratch.clone().unwrap_or_else(|| st.options.run_dir.clone())
    }

    /// The script's path.
    pub fn script(&self) -> PathBuf {
        self.0.borrow().options.script.clone()
    }

    /// The master seed.
    pub fn seed(&self) -> u64 {
        self.0.borrow().options.seed
    }

    /// The device models are built on.
    pub fn device(&self) -> Device {
        self.0.borrow().options.device
    }

    /// Folders imports may read: the script's folder, then the schedule library.
    pub fn import_roots(&self) -> Vec<PathBuf> {
        let script = self.script();
        let mut roots = vec![script.parent().map(Path::to_path_buf).unwrap_or_default()];
        if roots[0].as_os_str().is_empty() {
            roots[0] = PathBuf::from(".");
        }
        roots.extend(library_dirs());
        roots
    }

    /// Append a line to the run log and, when echoing, emit it as an info event (the `graft`
    /// binary shows those on stderr unless `-q`; a library user's subscriber decides).
    pub fn log_line(&self, text: &str) {
        let mut st = self.0.borrow_mut();
        if st.options.echo {
            tracing::info!("{text}");
        }
        if let Some(f) = st.log.as_mut() {
            // A failing log write must not abort training; the line was still emitted.
            let _ = writeln!(f, "{text}");
        }
    }

    /// Use the metrics logger of the run (`metrics.csv` + TensorBoard events), created on
    /// first use. Refused while a training loop holds it (inside hooks).
    pub fn with_metrics<T>(&self, f: impl FnOnce(&mut MetricsLogger) -> Result<T>) -> Result<T> {
        let mut logger = self.take_metrics()?;
        let result = f(&mut logger);
        self.return_metrics(logger);
        result
    }

    /// Lend the metrics logger to a training loop; give it back with [`Self::return_metrics`].
    /// Meanwhile `report::log` is refused (hooks read metrics from `ctx` instead).
    pub fn take_metrics(&self) -> Result<MetricsLogger> {
        let mut st = self.0.borrow_mut();
        match std::mem::replace(&mut st.metrics, Metrics::Lent) {
            Metrics::Open(m) => Ok(m),
            Metrics::Unopened => {
                match MetricsLogger::create(st.scratch.as_ref().unwrap_or(&st.options.run_dir)) {
                    Ok(m) => Ok(m),
                    Err(e) => {
                        st.metrics = Metrics::Unopened;
                        Err(e)
                    }
                }
            }
            Metrics::Lent => Err(Error::Invalid(
                "report::log cannot write metrics while training runs (inside a hook); the \
                 training loop logs them"
                    .into(),
            )),
        }
    }

    /// Give the metrics logger back after [`Self::take_metrics`].
    pub fn return_metrics(&self, logger: MetricsLogger) {
        self.0.borrow_mut().metrics = Metrics::Open(logger);
    }

    /// Next step number for `report::log` calls that give none.
    pub fn next_report_step(&self) -> u64 {
        let mut st = self.0.borrow_mut();
        st.report_step += 1;
        st.report_step
    }

    /// Resolve parameter `name`: its override parsed like `default`, or `default`.
    pub fn param(&self, name: &str, default: Value) -> Result<Value> {
        let value = {
            let mut st = self.0.borrow_mut();
            let value = match st.options.overrides.get(name) {
                Some(text) => parse_like(name, text, &default)?,
                None => default,
            };
            st.used.insert(name.to_string());
            if let Some(previous) = st.params.get(name) {
                if *previous != value {
                    return Err(Error::Invalid(format!(
                        "param '{name}' read twice with different defaults ({previous} and {value})"
                    )));
                }
                return Ok(value);
            }
            st.params.insert(name.to_string(), value.clone());
            value
        };
        self.write_config()?;
        Ok(value)
    }

    /// Record the script's call to `exit` (the latest call wins).
    pub fn record_exit(&self, exit: ScriptExit) {
        self.0.borrow_mut().exit = Some(exit);
    }

    /// Note that the recorded exit was called inside `hook` at training step `step`.
    pub fn exit_in_hook(&self, hook: &str, step: u64) {
        if let Some(exit) = self.0.borrow_mut().exit.as_mut() {
            exit.hook = Some((hook.to_string(), step));
        }
    }

    /// The recorded exit, taken out (the run ends with it, or it was superseded by an error).
    pub fn take_exit(&self) -> Option<ScriptExit> {
        self.0.borrow_mut().exit.take()
    }

    /// Overrides the script has not read (so far).
    pub fn unused_overrides(&self) -> Vec<String> {
        let st = self.0.borrow();
        st.options.overrides.keys().filter(|k| !st.used.contains(*k)).cloned().collect()
    }

    /// Rewrite `config.json` (atomically): script, seed, device, parameters and overrides.
    pub fn write_config(&self) -> Result<()> {
        let st = self.0.borrow();
        if st.scratch.is_some() {
            return Ok(());
        }
        let config = json!({
            "script": st.options.script.display().to_string(),
            "seed": st.options.seed,
            "device": crate::device::name(st.options.device),
            "params": st.params,
            "overrides": st.options.overrides,
        });
        let text = serde_json::to_string_pretty(&config)
            .map_err(|e| Error::Invalid(format!("config.json: {e}")))?;
        write_atomic(&st.options.run_dir.join(RUN_CONFIG), text.as_bytes())
    }

    /// Flush the metrics and the log.
    pub fn flush(&self) -> Result<()> {
        let mut st = self.0.borrow_mut();
        if let Metrics::Open(m) = &mut st.metrics {
            m.flush()?;
        }
        if let Some(f) = st.log.as_mut() {
            let _ = f.flush();
        }
        Ok(())
    }

    /// A path for the script to write: relative paths go inside the run directory (on ranks
    /// other than 0, inside their scratch folder); absolute paths and `..` are refused
    /// (scripts write only into their run).
    pub fn output_path(&self, rel: &str) -> Result<PathBuf> {
        Ok(self.write_dir().join(relative_output(rel)?))
    }

    /// [`Session::output_path`] in the run directory on every rank, for data-parallel stages
    /// that write on rank 0 only and that every rank reads (resume, the exported encoder).
    pub fn shared_output_path(&self, rel: &str) -> Result<PathBuf> {
        Ok(self.run_dir().join(relative_output(rel)?))
    }

    /// A path for the script to read: relative paths are taken from the script's folder,
    /// then the run directory; absolute paths are allowed (datasets, checkpoints).
    pub fn input_path(&self, path: &str) -> PathBuf {
        let p = Path::new(path);
        if p.is_absolute() {
            return p.to_path_buf();
        }
        if let Some(mine) = self.0.borrow().scratch.as_ref().map(|d| d.join(p)) {
            if mine.exists() {
                return mine;
            }
        }
        let in_run = self.run_dir().join(p);
        if in_run.exists() {
            return in_run;
        }
        let script = self.script();
        let base = script.parent().unwrap_or(Path::new("."));
        let beside = base.join(p);
        if beside.exists() {
            beside
        } else {
            p.to_path_buf()
        }
    }
}

/// `rel` as a path inside a run directory: relative, without `..`.
fn relative_output(rel: &str) -> Result<&Path> {
    let p = Path::new(rel);
    if rel.is_empty()
        || p.is_absolute()
        || p.components().any(|c| !matches!(c, std::path::Component::Normal(_)))
    {
        return Err(Error::Invalid(format!(
            "output path '{rel}': scripts write only inside their run directory; give a \
             relative path without '..'"
        )));
    }
    Ok(p)
}

impl Drop for State {
    fn drop(&mut self) {
        // A rank's scratch folder holds only duplicates of rank 0's outputs.
        if let Some(dir) = &self.scratch {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

/// The schedule library folders: `$GRAFT_SCRIPT_LIB` if set, else `scripts/lib` under the
/// current directory, else the one in Graft's source tree.
pub fn library_dirs() -> Vec<PathBuf> {
    if let Some(dir) = std::env::var_os("GRAFT_SCRIPT_LIB") {
        return vec![PathBuf::from(dir)];
    }
    let local = PathBuf::from("scripts/lib");
    if local.is_dir() {
        return vec![local];
    }
    vec![Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/lib")]
}

/// Parse an override `text` as the type of `default`.
fn parse_like(name: &str, text: &str, default: &Value) -> Result<Value> {
    let bad = |what: &str| {
        Error::Invalid(format!(
            "--set {name}={text}: parameter '{name}' is {what} (default {default}), and '{text}' \
             is not"
        ))
    };
    Ok(match default {
        Value::Bool(_) => match text {
            "true" => Value::Bool(true),
            "false" => Value::Bool(false),
            _ => return Err(bad("a bool (true or false)")),
        },
        Value::Number(n) if n.is_i64() || n.is_u64() => {
            Value::from(text.trim().parse::<i64>().map_err(|_| bad("an integer"))?)
        }
        Value::Number(_) => {
            let f: f64 = text.trim().parse().map_err(|_| bad("a number"))?;
            if !f.is_finite() {
                return Err(bad("a finite number"));
            }
            Value::from(f)
        }
        Value::String(_) => Value::String(text.to_string()),
        _ => return Err(bad("not overridable (only int, float, bool and string are)")),
    })
}

/// Write `bytes` to `path` via a temporary file and a rename.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, bytes).map_err(|e| Error::io(&tmp, e))?;
    std::fs::rename(&tmp, path).map_err(|e| Error::io(path, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overrides_follow_the_default_type() {
        assert_eq!(parse_like("lr", "0.01", &json!(3e-4)).unwrap(), json!(0.01));
        assert_eq!(parse_like("lr", "1", &json!(3e-4)).unwrap(), json!(1.0));
        assert_eq!(parse_like("epochs", "5", &json!(3)).unwrap(), json!(5));
        let e = parse_like("epochs", "2.5", &json!(3)).unwrap_err().to_string();
        assert!(e.contains("parameter 'epochs' is an integer"), "{e}");
        assert!(parse_like("lr", "fast", &json!(0.1)).is_err());
        assert!(parse_like("lr", "NaN", &json!(0.1)).is_err());
        assert_eq!(parse_like("bn", "false", &json!(true)).unwrap(), json!(false));
        assert!(parse_like("bn", "0", &json!(true)).is_err());
        assert_eq!(parse_like("name", "resnet18", &json!("mlp")).unwrap(), json!("resnet18"));
    }

    #[test]
    fn other_ranks_write_nothing_into_the_run_directory() {
        let run_dir =
            std::env::temp_dir().join(format!("graft-session-rank-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&run_dir);
        let options = SessionOptions {
            script: PathBuf::from("s.rhai"),
            run_dir: run_dir.clone(),
            overrides: BTreeMap::from([("lr".to_string(), "0.5".to_string())]),
            seed: 0,
            device: Device::Cpu,
            echo: false,
        };
        let s = Session::create_for_rank(options, 1).unwrap();
        assert!(!s.is_writer());
        assert_eq!(s.param("lr", json!(0.1)).unwrap(), json!(0.5));
        s.log_line("hello");
        s.with_metrics(|m| m.log(1, "x", 1.0)).unwrap();
        let scratch = s.write_dir();
        assert_ne!(scratch, run_dir);
        assert_eq!(s.output_path("m.st").unwrap(), scratch.join("m.st"));
        assert_eq!(s.shared_output_path("pre").unwrap(), run_dir.join("pre"));
        assert!(s.output_path("../x").is_err() && s.shared_output_path("/x").is_err());
        // A file this rank wrote is read back from its scratch folder first.
        std::fs::write(scratch.join("m.st"), b"x").unwrap();
        assert_eq!(s.input_path("m.st"), scratch.join("m.st"));
        s.flush().unwrap();
        assert!(!run_dir.exists(), "rank 1 created the run directory");
        drop(s);
        assert!(!scratch.exists(), "the scratch folder outlived the session");
    }
}
